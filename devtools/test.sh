#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The README's test command: set up the machine, build, run every suite that
# can run here (fast, stress, interop, vm; perf with --perf), then run the
# fast and interop suites again in a sanitizer build (ASan + UBSan) with the
# pool's debug checks on, and a short libFuzzer run of the data-path fuzz
# target (clang build in build-fuzz, suite fuzz-tests). Ends with one line
# "N passed, N failed, N skipped, N partly skipped"; exits non-zero when
# anything failed. A unit that passed but skipped some of its cases is
# "partly skipped" (listed with the cases and reasons), never counted as passed.
# Each meson run writes its own log, which is removed first: the summary
# reads only the run this script just made.
#
# Without --suite it also runs one mutation of devtools/mutations.txt as a
# smoke test of devtools/mutate.sh (a scratch clone of the committed HEAD,
# built once, then incrementally): it counts as one result, PASS when the
# mutation was caught.
#
# Options: --perf        also run the perf suite (benchmarks, minutes)
#          --long        long stress runs (PFRAG_STRESS_LONG=1)
#          --no-setup    skip devtools/setup.sh
#          --no-asan     skip the sanitizer build
#          --no-fuzz     skip the fuzz build and its smoke run
#          --suite NAME  run only this suite (repeatable)
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
suites=()
perf=0
setup=1
asan=1
fuzz=1
for ((i = 1; i <= $#; i++)); do
	a=${!i}
	case $a in
	--perf) perf=1 ;;
	--long) export PFRAG_STRESS_LONG=1 ;;
	--no-setup) setup=0 ;;
	--no-asan) asan=0 ;;
	--no-fuzz) fuzz=0 ;;
	--suite) i=$((i + 1)); suites+=("${!i}") ;;
	-h|--help) sed -n '2,24p' "$0"; exit 0 ;;
	*) echo "test.sh: unknown option $a" >&2; exit 2 ;;
	esac
done
# suites_of RUN: the suites devtools/test.sh runs in RUN (main, perf, asan,
# fuzz), from the one list of suites, app/test/test_suites.h.
suites_of() {
	python3 app/test/list_units.py --suites |
		awk -v run="$1" '{ for (i = 4; i <= NF; i++) if ($i == run) print $2 }'
}
smoke=0
if [ ${#suites[@]} -eq 0 ]; then
	smoke=1
	mapfile -t suites < <(suites_of main)
	[ $perf -eq 1 ] && mapfile -t -O ${#suites[@]} suites < <(suites_of perf)
fi

if [ $setup -eq 1 ]; then
	bash devtools/setup.sh || { echo "test.sh: set-up failed"; echo "0 passed, 1 failed"; exit 1; }
fi

# build DIR [meson options...]: configure once, then build.
build() {
	local dir=$1
	shift
	if [ ! -f "$dir/build.ninja" ]; then
		meson setup "$dir" "$@" >"$dir.setup.log" 2>&1 ||
			{ cat "$dir.setup.log"; return 1; }
		rm -f "$dir.setup.log"
	fi
	ninja -C "$dir" >/dev/null || ninja -C "$dir"
}

# run DIR LABEL SUITES...: meson test, then add its results to the tally.
results=$(mktemp)
trap 'rm -f "$results"' EXIT
run() {
	local dir=$1 label=$2
	shift 2
	local args=()
	for s in "$@"; do args+=(--suite "$s"); done
	local logbase=testsh-$label
	echo "== $label: ${*}"
	# A stale log of an earlier run must never be summarised as this one.
	rm -f "$dir/meson-logs/$logbase".*
	meson test -C "$dir" --no-rebuild --print-errorlogs --logbase "$logbase" "${args[@]}"
	if [ ! -f "$dir/meson-logs/$logbase.json" ]; then
		echo "test.sh: $label: no units in ${*}"
	fi
	python3 devtools/summary.py "$label" "$dir/meson-logs/$logbase.json" >>"$results"
}

failed_build=0
if build build; then
	run build main "${suites[@]}"
else
	echo "test.sh: build failed"
	failed_build=1
fi
if [ $asan -eq 1 ] && [ $failed_build -eq 0 ]; then
	if build build-asan -Dsanitizers=true -Ddebug_checks=true -Dbuildtype=debugoptimized; then
		mapfile -t asan_suites < <(suites_of asan)
		ASAN_OPTIONS=detect_leaks=0 run build-asan asan+debug "${asan_suites[@]}"
	else
		echo "test.sh: sanitizer build failed"
		failed_build=$((failed_build + 1))
	fi
fi
if [ $fuzz -eq 1 ] && [ $failed_build -eq 0 ]; then
	# libFuzzer comes with clang (devtools/setup.sh installs it).
	if CC=clang build build-fuzz -Dfuzz=true; then
		mapfile -t fuzz_suites < <(suites_of fuzz)
		run build-fuzz fuzz "${fuzz_suites[@]}"
	else
		echo "test.sh: fuzz build failed"
		failed_build=$((failed_build + 1))
	fi
fi

if [ $smoke -eq 1 ] && [ $failed_build -eq 0 ]; then
	# The mutation tool must keep working: one mutation, caught by its unit.
	echo "== mutation smoke: devtools/mutate.sh --only rx-len-check"
	if bash devtools/mutate.sh --only rx-len-check \
		--dir "${HOME:-/root}/.cache/pfrag-mutate/smoke-$(printf '%s' "$top" | cksum |
		cut -d' ' -f1)"; then
		echo "PASS mutate:smoke rx-len-check" >>"$results"
	else
		echo "FAIL mutate:smoke rx-len-check (devtools/mutate.sh)" >>"$results"
	fi
fi

echo
echo "== summary"
grep -E '^(FAIL|SKIP|PART) ' "$results" || true
pass=$(grep -c '^PASS ' "$results")
fail=$(grep -c '^FAIL ' "$results")
skip=$(grep -c '^SKIP ' "$results")
part=$(grep -c '^PART ' "$results")
fail=$((fail + failed_build))
echo "$pass passed, $fail failed, $skip skipped, $part partly skipped"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]

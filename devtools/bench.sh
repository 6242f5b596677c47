#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Run every pfrag-bench study with sane defaults (under 10 minutes on a
# 2-core machine), into one results folder, and print each goal of issue 11
# as met or NOT MET with its figure, with the machine and how loaded it was
# (the 1-minute load average, sampled every 5 s during the run).
#
# usage: devtools/bench.sh [--build DIR] [--out DIR] [--smoke] [STUDY...]
#   STUDY       alloc drain memory scale pmd (default: all, in that order)
#   --build DIR build directory (default: build; built first if needed)
#   --out DIR   results folder (default: <build>/bench-results/<time>)
#   --smoke     tiny sizes (seconds): checks that every study runs
# Every DPDK process passes --no-pci and its own --file-prefix. The results
# folder holds each study's table (<study>.txt), CSV, PNG and gnuplot script,
# goals.txt, load.txt and summary.txt.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=$top/build
out=
smoke=()
studies=()
while [ $# -gt 0 ]; do
	case $1 in
	--build) build=$(cd "$2" && pwd) || exit 2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	--smoke) smoke=(--smoke); shift ;;
	alloc|drain|memory|scale|pmd) studies+=("$1"); shift ;;
	-h|--help) sed -n '3,17p' "$0"; exit 0 ;;
	*) echo "bench.sh: unknown argument $1" >&2; exit 2 ;;
	esac
done
[ ${#studies[@]} -gt 0 ] || studies=(alloc drain memory scale pmd)
[ -n "$out" ] || out=$build/bench-results/$(date +%Y%m%d-%H%M%S)
mkdir -p "$out" || exit 1
out=$(cd "$out" && pwd)

if [ ! -f "$build/build.ninja" ]; then
	meson setup "$build" >/dev/null || exit 1
fi
ninja -C "$build" -j2 >/dev/null || { ninja -C "$build" -j2; exit 1; }
bench=$build/app/bench/pfrag-bench

# The load of the machine while we measure: the figures are only as good.
(while :; do echo "$(date +%s) $(cut -d' ' -f1-3 /proc/loadavg)"; sleep 5; done) \
	>"$out/load.txt" &
sampler=$!
trap 'kill $sampler 2>/dev/null; wait $sampler 2>/dev/null' EXIT

{
	echo "machine: $(nproc) CPUs, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)"
	echo "kernel: $(uname -r); DPDK $(pkg-config --modversion libdpdk)"
	echo "commit: $(git -C "$top" rev-parse --short HEAD 2>/dev/null)$(git -C "$top" diff --quiet 2>/dev/null || echo ' (modified)')"
	echo "started: $(date -u '+%Y-%m-%d %H:%M:%S UTC'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$out/machine.txt"

lcores=0-1
[ "$(nproc)" -ge 2 ] || lcores=0
failed=()
run_study() { # study lcores
	local study=$1 l=$2 rc t0
	t0=$(date +%s)
	echo
	echo "==== $study"
	"$bench" -l "$l" --no-pci --in-memory --single-file-segments \
		--file-prefix="pfrag-bench-$study-$$" --log-level=lib.eal:warning \
		--log-level='lib.vhost.*:warning' -- "$study" --out "$out" "${smoke[@]}" \
		2>&1 | tee "$out/$study.txt"
	rc=${PIPESTATUS[0]}
	echo "($study: $(($(date +%s) - t0)) s, exit $rc)"
	[ "$rc" -eq 0 ] || failed+=("$study")
}

for s in "${studies[@]}"; do
	case $s in
	# The pmd study polls its ports on lcore 0; its peers take the other core.
	pmd) run_study "$s" 0 ;;
	*) run_study "$s" "$lcores" ;;
	esac
done

kill $sampler 2>/dev/null
wait $sampler 2>/dev/null
{
	echo
	echo "==== issue 11 goals (results in $out)"
	if [ -s "$out/goals.txt" ]; then
		sed 's/^GOAL //' "$out/goals.txt"
	else
		echo "(no goal lines)"
	fi
	echo "met: $(grep -c ': met (' "$out/goals.txt" 2>/dev/null)," \
		"not met: $(grep -c ': NOT MET (' "$out/goals.txt" 2>/dev/null)"
	awk 'NR == 1 {min = $2; max = $2} {s += $2; if ($2 < min) min = $2; if ($2 > max) max = $2}
		END {if (NR) printf "load average (1 min) during the run: min %.2f, mean %.2f, max %.2f over %d samples (%d CPUs)\n", min, s / NR, max, NR, '"$(nproc)"'}' \
		"$out/load.txt"
	[ ${#failed[@]} -eq 0 ] || echo "studies that failed: ${failed[*]}"
} | tee "$out/summary.txt"
[ ${#failed[@]} -eq 0 ]

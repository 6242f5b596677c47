#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Mutation testing: does each test fail when the line it guards breaks?
# For every mutation of devtools/mutations.txt (file, the exact text of one
# line, its replacement, the meson tests that must catch it), in a scratch
# clone of this tree's committed HEAD: apply it, build, run those tests, and
# print CAUGHT (one of them failed) or SURVIVED. A mutation whose entry says
# why it cannot be seen ("equivalent: ...") and survives is EQUIVALENT.
# The tests first run once unmutated: a test that fails there proves nothing.
#
# usage: devtools/mutate.sh [--only NAME]... [--list FILE] [--dir DIR]
#   --only NAME  run this mutation only (repeatable); devtools/test.sh runs
#                one as a smoke test so that this tool cannot rot
#   --dir DIR    scratch directory (default ~/.cache/pfrag-mutate/<tree>):
#                not under /tmp, where EAL refuses to load plugins (-d)
# Exit status: 0 when every mutation was caught or is equivalent; 1 when
# one survived, no longer applies (STALE), or does not build (BUILD).
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
list=$top/devtools/mutations.txt
only=()
scratch=
while [ $# -gt 0 ]; do
	case $1 in
	--only) only+=("$2"); shift 2 ;;
	--list) list=$2; shift 2 ;;
	--dir) scratch=$2; shift 2 ;;
	-h|--help) sed -n '3,20p' "$0"; exit 0 ;;
	*) echo "mutate.sh: unknown option $1" >&2; exit 2 ;;
	esac
done
if [ -z "$scratch" ]; then
	scratch=${HOME:-/root}/.cache/pfrag-mutate/$(basename "$top")-$(printf '%s' "$top" |
		cksum | cut -d' ' -f1)
fi
case $scratch in
/tmp/*) echo "mutate.sh: $scratch is under /tmp (EAL refuses -d there)" >&2; exit 2 ;;
esac
src=$scratch/src
bld=$scratch/build
mkdir -p "$scratch"

# The mutations to run: "name@@file@@old@@new@@tests[@@equivalent: why]".
entries=$(/usr/bin/python3 - "$list" "${only[@]}" <<'EOF'
import sys
path, only = sys.argv[1], set(sys.argv[2:])
seen = set()
for n, line in enumerate(open(path, encoding='utf-8'), 1):
    line = line.rstrip('\n')
    if not line.strip() or line.lstrip().startswith('#'):
        continue
    f = [x.strip() for x in line.split('@@')]
    if len(f) not in (5, 6) or not all(f[:5]):
        sys.exit(f'{path}:{n}: expected name @@ file @@ old @@ new @@ tests [@@ equivalent: why]')
    if f[0] in seen:
        sys.exit(f'{path}:{n}: mutation {f[0]} listed twice')
    seen.add(f[0])
    if not only or f[0] in only:
        print('@@'.join(f))
missing = only - seen
if missing:
    sys.exit('no such mutation: ' + ' '.join(sorted(missing)))
EOF
) || exit 2
[ -n "$entries" ] || { echo "mutate.sh: no mutation to run" >&2; exit 2; }

# The scratch clone follows this tree's committed HEAD.
head=$(git -C "$top" rev-parse HEAD) || exit 2
if [ ! -d "$src/.git" ]; then
	git clone -q "$top" "$src" || exit 2
fi
git -C "$src" fetch -q "$top" "$head" && git -C "$src" checkout -q --detach "$head" &&
	git -C "$src" reset -q --hard "$head" || exit 2
if [ ! -f "$bld/build.ninja" ]; then
	meson setup "$bld" "$src" -Ddpdk_sdk="$top/.deps/dpdk-sdk" >"$scratch/setup.log" 2>&1 ||
		{ cat "$scratch/setup.log"; exit 2; }
fi
echo "mutate.sh: HEAD $(git -C "$src" log -1 --format='%h %s'), scratch $scratch"

build() {
	ninja -C "$bld" >"$scratch/build.log" 2>&1
}

# run_tests LOGBASE TESTS...: meson test, then "name RESULT" per test.
run_tests() {
	local logbase=$1
	shift
	rm -f "$bld/meson-logs/$logbase".*
	meson test -C "$bld" --no-rebuild --logbase "$logbase" "$@" >"$scratch/$logbase.out" 2>&1
	/usr/bin/python3 - "$bld/meson-logs/$logbase.json" <<'EOF'
import json, os, sys
p = sys.argv[1]
if os.path.exists(p):
    for line in open(p, encoding='utf-8'):
        t = json.loads(line)
        print(t['name'].split(' / ')[-1], t['result'])
EOF
}

if ! build; then
	tail -30 "$scratch/build.log"
	echo "mutate.sh: the unmutated tree does not build"
	exit 1
fi
# Every test named in the list must pass unmutated, else it catches nothing.
all_tests=$(printf '%s\n' "$entries" | awk -F'@@' '{print $5}' | tr ' ' '\n' | sort -u |
	grep -v '^$')
base=$(run_tests mut-baseline $all_tests)
bad_base=$(printf '%s\n' "$base" | awk '$2 != "OK"')
ran=$(printf '%s\n' "$base" | awk 'NF' | wc -l)
if [ -n "$bad_base" ] || [ "$ran" -ne "$(printf '%s\n' "$all_tests" | wc -l)" ]; then
	echo "mutate.sh: the unmutated tree does not pass every catching test:"
	printf '%s\n' "${bad_base:-(a test name in the list is not a meson test)}"
	tail -20 "$scratch/mut-baseline.out"
	exit 1
fi

caught=0 survived=0 equivalent=0 stale=0 broken=0 n=0
while IFS= read -r entry; do
	IFS=$'\x01' read -r name file old new tests why < <(printf '%s' "$entry" |
		sed 's/@@/\x01/g')
	n=$((n + 1))
	git -C "$src" checkout -q -- .
	# The text is in the file exactly once: else the list is stale.
	if ! /usr/bin/python3 - "$src/$file" "$old" "$new" <<'EOF'
import sys
path, old, new = sys.argv[1], sys.argv[2], sys.argv[3]
old, new = [x.replace('\\t', '\t').replace('\\n', '\n') for x in (old, new)]
s = open(path, encoding='utf-8').read()
if s.count(old) != 1:
    sys.exit(1)
open(path, 'w', encoding='utf-8').write(s.replace(old, new))
EOF
	then
		printf '%-10s %-26s %s: the text is not there exactly once\n' STALE "$name" "$file"
		stale=$((stale + 1))
		continue
	fi
	if ! build; then
		printf '%-10s %-26s does not compile\n' BUILD "$name"
		broken=$((broken + 1))
		continue
	fi
	# shellcheck disable=SC2086
	res=$(run_tests "mut-$name" $tests)
	failed=$(printf '%s\n' "$res" | awk '$2 != "OK" && $2 != "SKIP" && NF {print $1 " (" $2 ")"}' |
		paste -sd' ')
	skipped=$(printf '%s\n' "$res" | awk '$2 == "SKIP" {print $1}' | paste -sd' ')
	if [ -n "$failed" ]; then
		printf '%-10s %-26s by %s\n' CAUGHT "$name" "$failed"
		caught=$((caught + 1))
	elif [ -n "${why:-}" ]; then
		printf '%-10s %-26s %s\n' EQUIVALENT "$name" "$why"
		equivalent=$((equivalent + 1))
	else
		printf '%-10s %-26s passed: %s%s\n' SURVIVED "$name" "$tests" \
			"${skipped:+ (skipped: $skipped)}"
		survived=$((survived + 1))
	fi
done <<<"$entries"
git -C "$src" checkout -q -- .
build >/dev/null 2>&1

echo "$n mutations: $caught caught, $survived survived, $equivalent equivalent," \
	"$stale stale, $broken do not build"
[ $((survived + stale + broken)) -eq 0 ]

#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Smoke run of one pfrag-bench study with tiny sizes, so that the studies
# cannot rot: the meson tests bench_smoke_<study> run it. Nothing about
# speed is asserted (the machine is shared); what is checked:
#  - pfrag-bench exits 0 (no operation failed, nothing left out);
#  - it printed the study's table with at least MIN_ROWS rows;
#  - <study>.csv has those rows, every figure and ratio finite and > 0;
#  - <study>.png is a non-empty PNG, <study>.gp its gnuplot script;
#  - studies with goals printed a GOAL line for each goal.
#
# usage: app/bench/smoke.sh PFRAG_BENCH STUDY MIN_ROWS NB_GOALS [extra args]
# Exit: 0 pass, 1 fail, 77 skip (no free hugepages).
set -uo pipefail

bench=$1 study=$2 min_rows=$3 nb_goals=$4
shift 4
free_huge=$(awk '/HugePages_Free/ {print $2}' /proc/meminfo)
if [ "${free_huge:-0}" -lt 256 ]; then
	echo "SKIP: needs 256 free 2 MB hugepages, ${free_huge:-0} free"
	exit 77
fi
out=$(mktemp -d /tmp/pfrag-bench-smoke.XXXXXX) || exit 1
trap 'rm -rf "$out"' EXIT
lcores=0-1
[ "$(nproc)" -ge 2 ] || lcores=0
fail=0
bad() { echo "FAIL: $*"; fail=1; }

"$bench" -l "$lcores" --no-pci --in-memory --single-file-segments \
	--file-prefix="pfrag-bench-smoke-$study-$$" --log-level=lib.eal:warning \
	--log-level='lib.vhost.*:warning' -- "$study" --smoke --out "$out" "$@" \
	>"$out/stdout" 2>&1
rc=$?
cat "$out/stdout"
[ $rc -eq 0 ] || bad "pfrag-bench $study exited $rc"

# Table rows: a figure, the anchor's, the ratio ("0.87x").
grep -q "^== $study:" "$out/stdout" || bad "no table header '== $study:'"
rows=$(grep -cE '^.{34} +[0-9.]+ +[0-9.]+ +[0-9.]+x' "$out/stdout")
[ "$rows" -ge "$min_rows" ] || bad "table has $rows rows, expected >= $min_rows"

csv=$out/$study.csv
if [ -s "$csv" ]; then
	/usr/bin/python3 - "$csv" "$min_rows" <<'EOF' || fail=1
import csv, math, sys
path, want = sys.argv[1], int(sys.argv[2])
with open(path, newline='') as f:
    rows = list(csv.DictReader(f))
bad = 0
for r in rows:
    for k in ('ours', 'anchor_value', 'ratio'):
        v = float(r[k])
        if not math.isfinite(v) or v <= 0:
            print(f"FAIL: {path}: row '{r['name']}' ({r['anchor']}): {k} = {r[k]}")
            bad = 1
if len(rows) < want:
    print(f"FAIL: {path}: {len(rows)} rows, expected >= {want}")
    bad = 1
print(f"csv: {len(rows)} rows, every figure and ratio finite and positive" if not bad else "")
sys.exit(bad)
EOF
else
	bad "no $csv"
fi

png=$out/$study.png
if [ -s "$png" ] && [ "$(head -c 4 "$png" | od -An -c | tr -d ' ')" = '211PNG' ]; then
	echo "png: $(stat -c %s "$png") bytes"
else
	bad "$png missing, empty or not a PNG"
fi
[ -s "$out/$study.gp" ] || bad "no gnuplot script $out/$study.gp"

goals=$(grep -c "^GOAL $study: .*: \(met\|NOT MET\) (" "$out/stdout")
[ "$goals" -eq "$nb_goals" ] || bad "$goals GOAL lines, expected $nb_goals"

[ $fail -eq 0 ] && echo "bench smoke $study: PASS ($rows rows, $goals goals)"
exit $fail

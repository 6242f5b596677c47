#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# pfrag-l2fwd stops on SIGINT even when its ports never go idle. Two net_null
# ports deliver a packet on every RX burst, for ever: the exit drain must stop
# at its deadline instead of draining for ever. The test checks that
#  - pfrag-l2fwd exits by itself after SIGINT (this script waits a bounded
#    time, far above the drain's 2 s, and kills it past that: a hang fails),
#  - with status 0 and its final JSON, which counts the ports still receiving
#    when the drain stopped (> 0: net_null never stops),
#  - it said so on stderr (the warning names the ports),
#  - and every fragment and page came back after close.
# Exit status: 0 pass, 1 fail, 77 skip (no hugepages).
#
# usage: test/l2fwd_exit.sh PFRAG_L2FWD
set -uo pipefail

l2fwd=${1:?usage: $0 PFRAG_L2FWD}
say() { echo "l2fwd-exit: $*"; }
fail() { say "FAIL: $*"; status=1; }
# The wait after SIGINT: the drain's deadline is 2 s; this is a hang detector.
exit_bound=30

[ -x "$l2fwd" ] || { say "FAIL: $l2fwd not built"; exit 1; }
free_huge=$(awk '/HugePages_Free/ {print $2}' /proc/meminfo)
if [ "${free_huge:-0}" -lt 64 ]; then
	say "SKIP: needs 64 free 2 MB hugepages, $free_huge free"
	exit 77
fi

work=$(mktemp -d /tmp/pfrag-l2fwd-exit.XXXXXX)
pid=
status=0
cleanup() {
	[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

"$l2fwd" -l 0 --no-pci --in-memory --single-file-segments --file-prefix=pfrag-l2x-$$ \
	--log-level=lib.eal:warning --vdev net_null0 --vdev net_null1 \
	-- -p 3 -q 2 -T 0 --json >"$work/out" 2>"$work/err" &
pid=$!

# It prints its lcore's ports once it polls them.
for _ in $(seq 300); do
	grep -q 'lcore 0: RX port' "$work/out" && break
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
if ! grep -q 'lcore 0: RX port' "$work/out"; then
	cat "$work/out" "$work/err"
	say "FAIL: pfrag-l2fwd did not start forwarding"
	exit 1
fi
sleep 1
kill -INT "$pid"
if ! timeout "$exit_bound" tail --pid="$pid" -f /dev/null; then
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	pid=
	cat "$work/err"
	say "FAIL: pfrag-l2fwd still running ${exit_bound} s after SIGINT (killed)"
	exit 1
fi
wait "$pid"
rc=$?
pid=
say "pfrag-l2fwd exited with status $rc after SIGINT"
cat "$work/err"

json=$(grep '^{' "$work/out" | tail -1)
[ $rc -eq 0 ] || fail "exit status $rc"
[ -n "$json" ] || { fail "no final JSON"; exit 1; }
grep -q 'warning: port [01] still receiving when the exit drain stopped' "$work/err" ||
	fail "no warning naming the ports the drain left receiving"
/usr/bin/python3 - "$json" <<'PY' || status=1
import json, sys
res = json.loads(sys.argv[1])
ok = True
def check(cond, what):
    global ok
    print(('ok   ' if cond else 'FAIL ') + what)
    ok = ok and cond
busy = res['total'].get('ports_busy_at_exit')
check(busy is not None and busy > 0, 'ports still receiving when the drain stopped: %s' % busy)
check(res['frags_in_flight_after_close'] == 0,
      'fragments in flight after close: %d' % res['frags_in_flight_after_close'])
check(res['pages_in_use_after_close'] == 0,
      'pages in use after close: %d' % res['pages_in_use_after_close'])
sys.exit(0 if ok else 1)
PY
if [ $status -eq 0 ]; then say "PASS"; else say "FAIL"; fi
exit $status

#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The README's main command: pfrag-l2fwd forwarding between two vhost-user
# ports of the distro dpdk-testpmd, with live statistics and a summary.
#
#  1. devtools/setup.sh (packages, DPDK driver-SDK headers, hugepages);
#  2. meson + ninja build (default directory: build);
#  3. the peer: dpdk-testpmd with two net_vhost ports, io forwarding, each
#     port looped to itself, so what pfrag-l2fwd sends on port 1 comes back
#     to it on port 1 and what it sends on port 0 comes back on port 0;
#  4. pfrag-l2fwd over two ports of our PMD (net_virtio_frag_user; DPDK's
#     net_virtio_user with --pmd virtio_user), RX buffers from pfrag;
#  5. `start tx_first` on the peer, statistics every second for the run;
#  6. stop both (also on Ctrl-C), then a one-screen summary.
#
# Options: -t, --time SECONDS   how long to forward (default 10)
#          --pmd NAME           virtio_frag (default when built) or virtio_user
#          --build DIR          build directory (default build)
#          --no-setup           skip devtools/setup.sh
#          --no-build           use the build directory as it is
#          --bursts N           bursts of 32 packets the peer puts in the loop
#                               (default 64)
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
duration=10
pmd=auto
build=build
setup=1
do_build=1
bursts=64
usage() { sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
	case $1 in
	-t|--time) duration=${2:-}; shift 2 ;;
	--pmd) pmd=${2:-}; shift 2 ;;
	--build) build=${2:-}; shift 2 ;;
	--bursts) bursts=${2:-}; shift 2 ;;
	--no-setup) setup=0; shift ;;
	--no-build) do_build=0; shift ;;
	-h|--help) usage; exit 0 ;;
	*) echo "demo.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
	esac
done
case $duration in ''|*[!0-9]*|0) echo "demo.sh: --time wants seconds > 0" >&2; exit 2 ;; esac
case $bursts in ''|*[!0-9]*|0) echo "demo.sh: --bursts wants a count > 0" >&2; exit 2 ;; esac

say() { echo "demo: $*"; }
die() { echo "demo: error: $*" >&2; exit 1; }
# shellcheck source=test/peer.sh
. "$top/test/peer.sh"

# -- 1. set-up, 2. build --------------------------------------------------------
if [ $setup -eq 1 ]; then
	say "setting up the machine (devtools/setup.sh)"
	bash devtools/setup.sh || die "set-up failed"
fi
if [ $do_build -eq 1 ]; then
	if [ ! -f "$build/build.ninja" ]; then
		say "configuring $build"
		meson setup "$build" >"$build.setup.log" 2>&1 ||
			{ cat "$build.setup.log"; die "meson setup failed"; }
		rm -f "$build.setup.log"
	fi
	say "building in $build"
	ninja -C "$build" >/dev/null || { ninja -C "$build"; die "build failed"; }
fi
l2fwd=$top/$build/examples/l2fwd/pfrag-l2fwd
[ -x "$l2fwd" ] || die "$l2fwd not found: build first (or drop --no-build)"
testpmd=$(peer_testpmd) ||
	die "dpdk-testpmd not found: install the dpdk package (devtools/setup.sh)"
free_huge=$(awk '/HugePages_Free/ {print $2}' /proc/meminfo)
[ "${free_huge:-0}" -ge 256 ] ||
	die "needs 256 free 2 MB hugepages, $free_huge free (devtools/setup.sh reserves them)"
if [ "$pmd" = auto ]; then
	if grep -qa net_virtio_frag_user "$l2fwd"; then pmd=virtio_frag; else pmd=virtio_user; fi
fi
case $pmd in virtio_frag|virtio_user) ;; *) die "--pmd: virtio_frag or virtio_user" ;; esac

# -- everything started below is stopped by cleanup, whatever happens -----------
work=$(mktemp -d /tmp/pfrag-demo.XXXXXX)
logs=$top/$build/demo-logs
mkdir -p "$logs"
l2fwd_pid=
show_pid=
interrupted=0

cleanup() {
	[ -n "$show_pid" ] && kill "$show_pid" 2>/dev/null
	if [ -n "$l2fwd_pid" ]; then
		kill -INT "$l2fwd_pid" 2>/dev/null
		stop_pid "$l2fwd_pid"
	fi
	peer_stop
	rm -rf "$work"
}
trap cleanup EXIT
# Ctrl-C ends the run early; the summary still comes.
trap 'interrupted=1' INT TERM

# -- 3. the peer ------------------------------------------------------------------
# Interactive, so that its main lcore (0) sleeps on stdin and only its
# forwarding lcore (1) polls; pfrag-l2fwd runs on lcore 0. Both run in their
# own session: Ctrl-C reaches this script only, which stops them in order.
say "starting the peer: $testpmd, two net_vhost ports (io forwarding, each port looped)"
peer_start "$logs/peer.log" -i -l 0-1 --main-lcore 0 --no-pci --in-memory \
	--single-file-segments --file-prefix=pfrag-demo-peer-$$ --log-level=lib.eal:warning \
	--vdev "net_vhost0,iface=$work/vhost0.sock,queues=1" \
	--vdev "net_vhost1,iface=$work/vhost1.sock,queues=1" \
	-- -i --no-mlockall --total-num-mbufs=16384 --forward-mode=io --port-topology=loop
peer_wait_sockets "$PEER_PID" "$work/vhost0.sock" "$work/vhost1.sock" ||
	{ cat "$logs/peer.log"; die "the peer did not start"; }

# -- 4. pfrag-l2fwd ------------------------------------------------------------------
if [ $pmd = virtio_frag ]; then
	vdevs=(--vdev "net_virtio_frag_user0,path=$work/vhost0.sock"
	       --vdev "net_virtio_frag_user1,path=$work/vhost1.sock")
else
	vdevs=(--vdev "net_virtio_user0,path=$work/vhost0.sock,queues=1,queue_size=1024"
	       --vdev "net_virtio_user1,path=$work/vhost1.sock,queues=1,queue_size=1024")
fi
cmd=("$l2fwd" -l 0 --no-pci --in-memory --single-file-segments
     --file-prefix=pfrag-demo-$$ --log-level=lib.eal:warning "${vdevs[@]}"
     -- -p 0x3 -q 2 -T 1 --json)
say "running: ${cmd[*]}"
setsid "${cmd[@]}" >"$logs/l2fwd.log" 2>&1 &
l2fwd_pid=$!
for _ in $(seq 150); do
	grep -q 'lcore 0: RX port' "$logs/l2fwd.log" && break
	kill -0 $l2fwd_pid 2>/dev/null || break
	[ $interrupted -eq 1 ] && break
	sleep 0.1
done
if ! grep -q 'lcore 0: RX port' "$logs/l2fwd.log"; then
	cat "$logs/l2fwd.log"
	die "pfrag-l2fwd did not start forwarding"
fi
# The live statistics: everything but the final JSON line and EAL's notes
# about page sizes and telemetry sockets this demo does not use.
tail -n +1 -f "$logs/l2fwd.log" |
	grep --line-buffered -v -e '^{' -e '^EAL: No free .* hugepages' -e '^TELEMETRY: No legacy' &
show_pid=$!

# -- 5. traffic ------------------------------------------------------------------
peer_cmd "start tx_first $bursts"
say "forwarding for $duration s (Ctrl-C to stop early)"
sleep "$duration" &
wait $! 2>/dev/null
[ $interrupted -eq 1 ] && say "interrupted: stopping"

# -- 6. stop and summarise -------------------------------------------------------------
kill -INT $l2fwd_pid 2>/dev/null
stop_pid $l2fwd_pid
l2fwd_pid=
sleep 0.3
kill $show_pid 2>/dev/null
wait $show_pid 2>/dev/null
show_pid=
peer_cmd stop
peer_cmd show port stats all
peer_stop

json=$(grep '^{' "$logs/l2fwd.log" | tail -1)
[ -n "$json" ] || { tail -20 "$logs/l2fwd.log"; die "pfrag-l2fwd gave no final statistics"; }
/usr/bin/python3 - "$json" "$(testpmd_port_stats "$logs/peer.log")" "$pmd" "$logs" \
	"$(testpmd_fwd_stat "$logs/peer.log" TX-dropped)" <<'EOF'
import json, sys

res, pmd, logs = json.loads(sys.argv[1]), sys.argv[3], sys.argv[4]
# testpmd_port_stats: "port rx missed tx" per line
peer = {}
for line in sys.argv[2].splitlines():
    v = [int(x) for x in line.split()]
    peer[v[0]] = tuple(v[1:])
drops = int(sys.argv[5]) if sys.argv[5] else None
ports = {p['port']: p for p in res['ports']}
secs, tot, pool = res['duration_s'], res['total'], res['run_pool']
name = {'virtio_frag': 'net_virtio_frag_user (our PMD)',
        'virtio_user': "net_virtio_user (DPDK's PMD, pfrag mbuf pool)"}[pmd]
line = '=' * 72
print()
print(line)
print(' pfrag demo: pfrag-l2fwd over two %s ports' % name)
print(' peer: distro dpdk-testpmd, two net_vhost ports, io forwarding, each looped')
print(line)
print(' forwarded      %14d packets in %.1f s  = %7.2f Mpps' % (tot['tx'], secs, tot['mpps']))
for p in sorted(ports):
    q = ports[p]
    print('   port %d -> %d  %14d packets          %7.2f Mpps'
          % (p, q['dst_port'], ports[q['dst_port']]['tx'],
             ports[q['dst_port']]['tx'] / secs / 1e6 if secs else 0))
print(' drops          pfrag-l2fwd TX %d, RX no-buffer %d, RX missed %d;'
      ' %d received at exit and freed'
      % (tot['dropped'], sum(q['rx_nombuf'] for q in ports.values()),
         sum(q['imissed'] for q in ports.values()), tot['drained_at_exit']))
if peer:
    print(' peer counters  ' + ', '.join('port %d rx %d tx %d' % (p, v[0], v[2])
                                         for p, v in sorted(peer.items())))
    if drops is not None:
        print('                peer TX drops %d (its stop summary)' % drops)
print(' pfrag pools    %d pages in use (%.1f MiB), %d fragments in flight'
      % (pool['pages_in_use'], pool['pinned_bytes'] / 2**20, pool['frags_in_flight']))
print('                %.0f bytes pinned per packet in flight, reuse-in-place %.1f%%,'
      ' %d failed allocations' % (pool['bytes_pinned_per_pkt'], pool['reuse_in_place_pct'],
                                   pool['alloc_fail']))
print(' after close    %d fragments in flight' % res['frags_in_flight_after_close'])
print(' logs           %s/{l2fwd,peer}.log' % logs)
print(line)
sys.exit(0 if res['frags_in_flight_after_close'] == 0 else 1)
EOF
rc=$?
[ $interrupted -eq 1 ] && [ $rc -eq 0 ] && rc=130
exit $rc

#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# pfrag-l2fwd between two ports of the distro dpdk-testpmd (net_vhost, server
# mode). The peer sends a known number of packets on each of its ports once
# (start tx_first N in rxonly mode) and prints every packet it receives; the
# test checks that
#  - each peer port sent exactly N x 32 packets (it knows what it sent),
#  - every packet sent on peer port 0 arrived on peer port 1 and vice versa,
#  - each arrived with the rewritten MACs: dst 02:00:00:00:00:<our TX port>,
#    src = the MAC of our TX port,
#  - and with the rest of the frame as sent: 64 bytes, one segment, IPv4/UDP
#    headers that parse (type 0x0800, l2/l3/l4 lengths 14/20/8). That is all
#    of the payload the distro peer shows; the byte-exact payload checks are
#    the pfrag-test round trips (virtio_frag_interop_*: every byte, checksum),
#  - pfrag-l2fwd's final counters (--json) equal the peer's, with no drops,
#  - pfrag-l2fwd reports 0 fragments and 0 pages in use after close.
# Exit status: 0 pass, 1 fail, 77 skip (no testpmd, no hugepages).
#
# --pmd: our ports are virtio_frag (net_virtio_frag_user, the default when
# built in), virtio_user (DPDK's net_virtio_user on the pfrag mbuf pool) or
# vhost (net_vhost servers on the pfrag mbuf pool, the peer the frontend).
#
# usage: test/interop/l2fwd.sh [--build DIR] [--bursts N] [--pmd virtio_frag|virtio_user|vhost]
set -uo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
build=$top/build
bursts=4
pmd=auto
while [ $# -gt 0 ]; do
	case $1 in
	--build) build=$(cd "$2" && pwd); shift 2 ;;
	--bursts) bursts=$2; shift 2 ;;
	--pmd) pmd=$2; shift 2 ;;
	*) echo "usage: $0 [--build DIR] [--bursts N] [--pmd virtio_frag|virtio_user|vhost]" >&2
	   exit 2 ;;
	esac
done

# shellcheck source=test/peer.sh
. "$top/test/peer.sh"
l2fwd=$build/examples/l2fwd/pfrag-l2fwd
say() { echo "l2fwd-interop: $*"; }
skip() { say "SKIP: $*"; exit 77; }
fail() { say "FAIL: $*"; status=1; }

[ -x "$l2fwd" ] || { say "FAIL: $l2fwd not built"; exit 1; }
peer_testpmd >/dev/null || skip "dpdk-testpmd not installed"
free_huge=$(awk '/HugePages_Free/ {print $2}' /proc/meminfo)
[ "${free_huge:-0}" -ge 128 ] || skip "needs 128 free 2 MB hugepages, $free_huge free"
built_in=0
grep -qa net_virtio_frag_user "$l2fwd" && built_in=1
if [ "$pmd" = auto ]; then
	if [ $built_in -eq 1 ]; then pmd=virtio_frag; else pmd=virtio_user; fi
fi
[ "$pmd" = virtio_frag ] && [ $built_in -eq 0 ] && skip "net_virtio_frag_user is not built in"

work=$(mktemp -d /tmp/pfrag-l2fwd-test.XXXXXX)
l2fwd_pid=
status=0

cleanup() {
	# Stop what we started, newest first; then wait so nothing outlives us.
	[ -n "$l2fwd_pid" ] && kill -INT "$l2fwd_pid" 2>/dev/null
	stop_pid "$l2fwd_pid"
	peer_stop
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# The vhost-user sockets: the peer is the backend (net_vhost, server) and our
# ports the frontends, except in vhost mode where the roles swap so that
# pfrag-l2fwd's net_vhost ports take their mbufs from the pfrag mbuf pool.
case $pmd in
virtio_frag)
	ours=(--vdev "net_virtio_frag_user0,path=$work/s0.sock"
	      --vdev "net_virtio_frag_user1,path=$work/s1.sock")
	theirs=(--vdev "net_vhost0,iface=$work/s0.sock,queues=1"
		--vdev "net_vhost1,iface=$work/s1.sock,queues=1") ;;
virtio_user)
	ours=(--vdev "net_virtio_user0,path=$work/s0.sock,queues=1,queue_size=1024"
	      --vdev "net_virtio_user1,path=$work/s1.sock,queues=1,queue_size=1024")
	theirs=(--vdev "net_vhost0,iface=$work/s0.sock,queues=1"
		--vdev "net_vhost1,iface=$work/s1.sock,queues=1") ;;
vhost)
	ours=(--vdev "net_vhost0,iface=$work/s0.sock,queues=1"
	      --vdev "net_vhost1,iface=$work/s1.sock,queues=1")
	theirs=(--vdev "net_virtio_user0,path=$work/s0.sock,queues=1,queue_size=1024"
		--vdev "net_virtio_user1,path=$work/s1.sock,queues=1,queue_size=1024") ;;
*) say "unknown --pmd $pmd (virtio_frag, virtio_user, vhost)"; exit 2 ;;
esac

wait_sockets() { # pid: until both sockets exist or pid is gone
	peer_wait_sockets "$1" "$work/s0.sock" "$work/s1.sock"
}

# The peer: interactive, so its main lcore sleeps on stdin (lcore 0) and
# only its forwarding lcore (1) polls; pfrag-l2fwd runs on lcore 0.
start_peer() {
	peer_start "$work/peer.log" -i -l 0-1 --main-lcore 0 --no-pci --in-memory \
		--single-file-segments --file-prefix=pfrag-l2t-peer-$$ \
		--log-level=lib.eal:warning "${theirs[@]}" \
		-- -i --no-mlockall --total-num-mbufs=8192 --port-topology=paired \
		--forward-mode=rxonly
	peer_cmd "set verbose 1"
}

start_l2fwd() {
	"$l2fwd" -l 0 --no-pci --in-memory --single-file-segments \
		--file-prefix=pfrag-l2t-$$ --log-level=lib.eal:warning "${ours[@]}" \
		-- -p 3 -q 2 -T 0 --json >"$work/l2fwd.out" 2>"$work/l2fwd.err" &
	l2fwd_pid=$!
}

say "pfrag-l2fwd over two $pmd ports, peer sends $bursts bursts of 32 per port"
if [ "$pmd" = vhost ]; then
	start_l2fwd
	wait_sockets $l2fwd_pid || { cat "$work/l2fwd.err"; fail "no vhost-user sockets"; exit 1; }
	start_peer
else
	start_peer
	wait_sockets "$PEER_PID" || { cat "$work/peer.log"; fail "no vhost-user sockets"; exit 1; }
	start_l2fwd
fi

# pfrag-l2fwd prints its lcore's ports once the links are up and it polls.
for _ in $(seq 150); do
	grep -q 'lcore 0: RX port' "$work/l2fwd.out" && break
	kill -0 $l2fwd_pid 2>/dev/null || break
	sleep 0.1
done
if ! grep -q 'lcore 0: RX port' "$work/l2fwd.out"; then
	cat "$work/l2fwd.out" "$work/l2fwd.err"
	say "FAIL: pfrag-l2fwd did not start forwarding"
	exit 1
fi
# vhost mode: the peer's links come up when its ports start; let them.
sleep 1

peer_cmd "start tx_first $bursts"
# A few hundred packets take milliseconds; leave time for a loaded machine.
sleep 3
peer_cmd stop
peer_cmd show port stats all
sleep 1

kill -INT $l2fwd_pid
timeout 20 tail --pid=$l2fwd_pid -f /dev/null
wait $l2fwd_pid
l2fwd_rc=$?
l2fwd_pid=
peer_stop

cp "$work/peer.log" "${L2FWD_TEST_KEEP:-/dev/null}" 2>/dev/null
json=$(grep '^{' "$work/l2fwd.out" | tail -1)
if [ $l2fwd_rc -ne 0 ] || [ -z "$json" ]; then
	cat "$work/l2fwd.out" "$work/l2fwd.err"
	say "FAIL: pfrag-l2fwd exit status $l2fwd_rc, final JSON: ${json:-none}"
	exit 1
fi
echo "$json"

# The checks, in python for the JSON; the peer's packet lines are parsed here too.
/usr/bin/python3 - "$work/peer.log" "$json" "$bursts" "$(testpmd_port_stats "$work/peer.log")" <<'EOF'
import json, re, sys

log, res, bursts = open(sys.argv[1]).read(), json.loads(sys.argv[2]), int(sys.argv[3])
# The interactive prompt of the main lcore lands anywhere in the forwarding
# lcore's packet lines (both write to the same stdout): take it out.
log = log.replace('testpmd> ', '')
ok = True
def check(cond, what):
    global ok
    print(('ok   ' if cond else 'FAIL ') + what)
    ok = ok and cond

# Peer counters from 'show port stats all' (testpmd_port_stats: port rx missed tx).
peer = {}
for line in sys.argv[4].splitlines():
    port, rx, _, tx = (int(v) for v in line.split())
    peer[port] = {'rx': rx, 'tx': tx}
check(set(peer) == {0, 1}, 'peer stats for ports 0 and 1: %s' % peer)
ports = {p['port']: p for p in res['ports']}
check(set(ports) == {0, 1}, 'pfrag-l2fwd stats for ports 0 and 1')
if not ok:
    sys.exit(1)

sent = bursts * 32
for a, b in ((0, 1), (1, 0)):
    check(peer[a]['tx'] == sent,
          'peer port %d sent %d packets, exactly as asked (%d)' % (a, peer[a]['tx'], sent))
    check(ports[a]['rx'] == peer[a]['tx'],
          'our port %d received what peer port %d sent: %d == %d'
          % (a, a, ports[a]['rx'], peer[a]['tx']))
    check(ports[b]['tx'] == ports[a]['rx'],
          'our port %d forwarded all of port %d: %d == %d'
          % (b, a, ports[b]['tx'], ports[a]['rx']))
    check(peer[b]['rx'] == ports[b]['tx'],
          'peer port %d received what our port %d sent: %d == %d'
          % (b, b, peer[b]['rx'], ports[b]['tx']))
check(res['total']['dropped'] == 0, 'no drops in pfrag-l2fwd (%d)' % res['total']['dropped'])

# Every packet the peer printed: the MACs pfrag-l2fwd wrote.
seen = {0: 0, 1: 0}
bad = 0
bad_frame = 0
FRAME = ('type=0x0800 ', 'length=64 ', 'nb_segs=1 ', 'sw ptype: L2_ETHER L3_IPV4 L4_UDP ',
         'l2_len=14 ', 'l3_len=20 ', 'l4_len=8 ')
cur = None
for line in log.splitlines():
    m = re.search(r'port (\d+)/queue \d+: received \d+ packets', line)
    if m:
        cur = int(m.group(1))
        continue
    m = re.search(r'src=([0-9A-F:]{17}) - dst=([0-9A-F:]{17})', line, re.I)
    if m and cur is not None:
        src, dst = m.group(1).upper(), m.group(2).upper()
        want_dst = '02:00:00:00:00:%02X' % cur
        want_src = ports[cur]['mac'].upper()
        if src != want_src or dst != want_dst:
            if bad < 5:
                print('     port %d: src %s dst %s, want src %s dst %s'
                      % (cur, src, dst, want_src, want_dst))
            bad += 1
        # The frame past the MACs, as testpmd txonly built it.
        if not all(f in line for f in FRAME):
            if bad_frame < 5:
                print('     port %d: frame changed: %s' % (cur, line.strip()))
            bad_frame += 1
        seen[cur] += 1
for p in (0, 1):
    check(seen[p] == peer[p]['rx'],
          'peer printed %d packets on port %d, counted %d' % (seen[p], p, peer[p]['rx']))
check(bad == 0, '%d packets with MACs other than the rewritten ones' % bad)
check(bad_frame == 0, '%d packets whose length or IPv4/UDP headers changed' % bad_frame)
check(res['frags_in_flight_after_close'] == 0,
      'fragments in flight after close: %d' % res['frags_in_flight_after_close'])
check(res.get('pages_in_use_after_close') == 0,
      'pages in use after close: %s' % res.get('pages_in_use_after_close'))
sys.exit(0 if ok else 1)
EOF
[ $? -eq 0 ] || status=1
if [ $status -eq 0 ]; then say "PASS"; else say "FAIL"; fi
exit $status

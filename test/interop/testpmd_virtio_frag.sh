#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# The distro dpdk-testpmd drives our PMD, loaded as a plugin with -d, against
# a second distro dpdk-testpmd holding a net_vhost port (the vhost-user peer):
#   rxonly  - the peer sends (txonly), our port receives
#   txonly  - our port sends, the peer receives (rxonly)
#   io      - both forward (io), our port starts with a burst (--tx-first)
# First, dpdk-pmdinfo.py must list the driver and every devarg. Checks, per
# mode: both testpmd processes exit 0 (a crash while stopping or
# closing a port fails, although the statistics were printed before), and our
# counters against the peer's:
#   rxonly  peer TX - ring <= our RX <= peer TX: the peer counts only what it
#           put into our RX ring; what it put there after we stopped polling
#           is at most the ring's posted slots (--rxd, one 64 B packet each);
#           --no-flush-rx: testpmd must not drop uncounted packets at start.
#   txonly  peer RX <= our TX <= peer RX + ring, peer RX > 0: our TX counts
#           what entered our TX ring; what the peer had not taken from it
#           when we stopped is at most the ring (--txd, one descriptor each).
#   io      our RX <= peer TX <= peer RX <= our TX <= our RX + burst: nobody
#           forwards what it did not receive, and only the first burst (32)
#           circulates; our RX >= 1000 (every packet went round many times).
# Every process the script starts is stopped, also on failure or Ctrl-C.
#
# usage: test/interop/testpmd_virtio_frag.sh [-b BUILD_DIR] [-t SECONDS] [MODE...]
# Needs: 2 MB hugepages, the distro dpdk package (dpdk-testpmd), a build of
# this tree. Exit status 0 when every mode passed its checks, 1 otherwise,
# 77 when something it needs is missing.

set -u

build=build
secs=5
while getopts "b:t:h" opt; do
	case $opt in
	b) build=$OPTARG ;;
	t) secs=$OPTARG ;;
	*) sed -n '3,27p' "$0"; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
modes=${*:-rxonly txonly io}
ring=256        # our --rxd/--txd: the bound of what a ring can hold at stop
burst=32        # testpmd's burst: what --tx-first puts into the io loop

# shellcheck source=test/peer.sh
. "$(dirname "$0")/../peer.sh"
testpmd=$(peer_testpmd) || { echo "SKIP: dpdk-testpmd not installed"; exit 77; }
so=$build/drivers/net/virtio_frag/librte_net_virtio_frag.so
[ -f "$so" ] || { echo "SKIP: $so not built (ninja -C $build)"; exit 77; }
grep -q '^HugePages_Free: *[1-9]' /proc/meminfo || { echo "SKIP: no free hugepages"; exit 77; }

# Users see the PMD's name and devargs with the distro's dpdk-pmdinfo.py.
pmdinfo=/usr/bin/dpdk-pmdinfo.py
if [ -f "$pmdinfo" ]; then
	info=$(/usr/bin/python3 "$pmdinfo" "$so" 2>&1)
	for key in '"name": "net_virtio_frag_user"' path= server= queue_size= queues= \
		mrg_rxbuf= in_order= rx_buf_size= page_size= pool_pages= pool= mac=; do
		case $info in
		*"$key"*) ;;
		*) echo "dpdk-pmdinfo.py does not list $key:"; echo "$info"; exit 1 ;;
		esac
	done
	echo "== dpdk-pmdinfo.py lists net_virtio_frag_user and its 11 devargs"
fi

# EAL refuses -d for a file under a world-writable directory (such as /tmp):
# load a copy from a private directory.
priv=$(mktemp -d "${HOME:-/root}/.vfrag-interop.XXXXXX") || exit 1
chmod 700 "$priv"
cp "$so" "$priv/" || exit 1
plugin=$priv/$(basename "$so")
sockdir=$(mktemp -d /tmp/vfrag-interop.XXXXXX) || exit 1
sock=$sockdir/vhost.sock
fe_pid=

cleanup() {
	[ -n "$fe_pid" ] && kill -INT "$fe_pid" 2>/dev/null
	stop_pid "$fe_pid"
	peer_stop
	rm -rf "$priv" "$sockdir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail=0
for mode in $modes; do
	case $mode in
	rxonly) peer_mode=txonly; extra= ;;
	txonly) peer_mode=rxonly; extra= ;;
	io) peer_mode=io; extra=--tx-first ;;
	*) echo "unknown mode $mode"; exit 2 ;;
	esac
	rm -f "$sock"
	# Peer on lcore 1 (forwarding), our forwarding lcore is 0: no time-slicing.
	peer_start "$sockdir/peer-$mode.log" -a -l 0-1 --main-lcore 0 --no-pci --in-memory \
		--single-file-segments --file-prefix=vfi-peer-$$ --log-level=lib.eal:warning \
		--vdev "net_vhost0,iface=$sock,queues=1" -- \
		--no-mlockall --total-num-mbufs=16384 -a --forward-mode=$peer_mode \
		--stats-period 60
	peer_wait_sockets "$PEER_PID" "$sock" ||
		{ echo "$mode: peer did not create $sock"; cat "$sockdir/peer-$mode.log"; exit 1; }

	echo "== $mode: dpdk-testpmd -d $(basename "$plugin") --vdev" \
		"net_virtio_frag_user0,path=$sock -- --forward-mode=$mode $extra (${secs}s)"
	"$testpmd" -l 0-1 --main-lcore 1 --no-pci --in-memory --single-file-segments \
		--file-prefix=vfi-fe-$$ --log-level=lib.eal:warning -d "$plugin" \
		--vdev "net_virtio_frag_user0,path=$sock" -- \
		--no-mlockall -a --forward-mode=$mode $extra --stats-period 60 \
		--rxd=$ring --txd=$ring --burst=$burst --no-flush-rx \
		> "$sockdir/fe-$mode.log" 2>&1 </dev/null &
	fe_pid=$!
	sleep "$secs"
	# testpmd exits 0 after SIGINT: stop, close, EAL clean-up. Anything else
	# (a crash or abort at stop or close) fails the mode.
	kill -INT $fe_pid 2>/dev/null
	wait $fe_pid
	fe_rc=$?
	fe_pid=
	peer_stop
	peer_rc=$?

	rx=$(testpmd_fwd_stat "$sockdir/fe-$mode.log" RX-packets)
	tx=$(testpmd_fwd_stat "$sockdir/fe-$mode.log" TX-packets)
	txd=$(testpmd_fwd_stat "$sockdir/fe-$mode.log" TX-dropped)
	prx=$(testpmd_fwd_stat "$sockdir/peer-$mode.log" RX-packets)
	ptx=$(testpmd_fwd_stat "$sockdir/peer-$mode.log" TX-packets)
	# Rates are over the whole run, EAL start-up included: a floor, not a benchmark.
	echo "   ours: RX-packets ${rx:-?} TX-packets ${tx:-?} TX-dropped ${txd:-?}" \
		"(RX $(awk -v n="${rx:-0}" -v s="$secs" 'BEGIN{printf "%.2f", n/s/1e6}') Mpps," \
		"TX $(awk -v n="${tx:-0}" -v s="$secs" 'BEGIN{printf "%.2f", n/s/1e6}') Mpps)"
	echo "   peer: RX-packets ${prx:-?} TX-packets ${ptx:-?}"
	echo "   exit status: ours $fe_rc, peer $peer_rc"
	rx=${rx:-0} tx=${tx:-0} prx=${prx:-0} ptx=${ptx:-0}
	ok=1
	check() { # condition words...: evaluate, print, remember a failure
		if "$@"; then echo "   ok   $*"; else echo "   FAIL $*"; ok=0; fi
	}
	check [ "$fe_rc" -eq 0 ]
	check [ "$peer_rc" -eq 0 ]
	case $mode in
	rxonly)
		check [ "$rx" -gt 0 ]
		check [ "$rx" -le "$ptx" ]
		check [ "$((ptx - rx))" -le "$ring" ] ;;
	txonly)
		check [ "$prx" -gt 0 ]
		check [ "$prx" -le "$tx" ]
		check [ "$((tx - prx))" -le "$ring" ] ;;
	io)
		check [ "$rx" -ge 1000 ]
		check [ "$rx" -le "$ptx" ]
		check [ "$ptx" -le "$prx" ]
		check [ "$prx" -le "$tx" ]
		check [ "$tx" -le "$((rx + burst))" ] ;;
	esac
	if [ "$ok" = 1 ]; then
		echo "   $mode: OK"
	else
		echo "   $mode: FAILED"; tail -30 "$sockdir/fe-$mode.log"
		fail=1
	fi
done
exit $fail

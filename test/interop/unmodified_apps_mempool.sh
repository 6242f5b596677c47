#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Applications no one here wrote pick our mempool driver by name: the distro
# dpdk-testpmd, and DPDK's l2fwd example built from its source at test time,
# load librte_mempool_pfrag.so with -d and take --mbuf-pool-ops-name=pfrag.
# Each forwards (io) between two net_virtio_user ports (DPDK's own PMD)
# whose backends are two net_vhost ports of a peer dpdk-testpmd looping every
# packet back (--port-topology=loop); the peer starts the traffic with
# `start tx_first 64`. Checked for each application:
#  - its mbuf pool is a pfrag pool (the driver logs each pool it sets up),
#  - it forwarded packets both ways (its own counters and the peer's),
#  - at exit every mbuf is back in the pool: testpmd frees its pools, and
#    the driver logs "freed: all N objects in the pool"; l2fwd never frees
#    its pool, so the vdev pfrag_mempool_report (last on the command line)
#    logs the same at EAL cleanup, after l2fwd closed its ports.
# l2fwd's source: dpdk-doc's /usr/share/dpdk/examples/l2fwd/main.c when
# installed, else the distro DPDK source set-up fetched ($PFRAG_CACHE), else
# `apt-get download dpdk-doc`; built in the build directory, never kept in git.
#
# usage: test/interop/unmodified_apps_mempool.sh [--build DIR] [--secs N] [testpmd] [l2fwd]
# Exit status: 0 pass, 1 fail, 77 skip (no testpmd, no plugin, no hugepages).
set -uo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
build=$top/build
secs=3
apps=()
while [ $# -gt 0 ]; do
	case $1 in
	--build) build=$(cd "$2" && pwd); shift 2 ;;
	--secs) secs=$2; shift 2 ;;
	testpmd|l2fwd) apps+=("$1"); shift ;;
	*) sed -n '3,24p' "$0" >&2; exit 2 ;;
	esac
done
[ ${#apps[@]} -gt 0 ] || apps=(testpmd l2fwd)

say() { echo "unmodified-apps: $*"; }
skip() { say "SKIP: $*"; exit 77; }
testpmd=${DPDK_TESTPMD:-/usr/bin/dpdk-testpmd}
so=$build/drivers/mempool/pfrag/librte_mempool_pfrag.so
[ -x "$testpmd" ] || skip "$testpmd not installed (Debian package dpdk)"
[ -f "$so" ] || skip "$so not built"
free_huge=$(awk '/HugePages_Free/ {print $2}' /proc/meminfo)
[ "${free_huge:-0}" -ge 512 ] || skip "needs 512 free 2 MB hugepages, $free_huge free"

# EAL refuses -d for a file under a world-writable directory (such as /tmp).
priv=$(mktemp -d "${HOME:-/root}/.pfrag-apps.XXXXXX") || exit 1
chmod 700 "$priv"
cp "$so" "$priv/"
plugin=$priv/$(basename "$so")
work=$(mktemp -d /tmp/pfrag-apps.XXXXXX) || exit 1
peer_pid=
app_pid=
status=0

cleanup() {
	exec 3>&- 2>/dev/null
	for pid in $app_pid $peer_pid; do
		kill -INT "$pid" 2>/dev/null
	done
	for pid in $app_pid $peer_pid; do
		timeout 10 tail --pid="$pid" -f /dev/null 2>/dev/null
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	rm -rf "$priv"
	[ $status -eq 0 ] && rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# DPDK's l2fwd, built here from its source (test/interop/build_dpdk_l2fwd.sh).
build_l2fwd() {
	l2fwd=$("$top/test/interop/build_dpdk_l2fwd.sh" "$build")
}

wait_for() { # file pattern pid: until the pattern is in the file or pid is gone
	for _ in $(seq 200); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		kill -0 "$3" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# The peer: interactive (its main lcore 0 sleeps on stdin), two vhost-user
# servers, each port looped back; the application under test runs on lcore 0.
start_peer() {
	rm -f "$work/peer.in" "$work"/s*.sock
	mkfifo "$work/peer.in"
	"$testpmd" -l 0-1 --main-lcore 0 --no-pci --in-memory --single-file-segments \
		--file-prefix=pfrag-apps-peer-$$ --log-level=lib.eal:warning \
		--vdev "net_vhost0,iface=$work/s0.sock,queues=1" \
		--vdev "net_vhost1,iface=$work/s1.sock,queues=1" \
		-- -i --no-mlockall --total-num-mbufs=16384 --port-topology=loop \
		--forward-mode=io <"$work/peer.in" >"$work/peer-$1.log" 2>&1 &
	peer_pid=$!
	exec 3>"$work/peer.in"
	for _ in $(seq 100); do
		[ -S "$work/s0.sock" ] && [ -S "$work/s1.sock" ] && return 0
		sleep 0.1
	done
	return 1
}

stop_peer() {
	echo "stop" >&3
	echo "show port stats all" >&3
	sleep 1
	echo "quit" >&3
	exec 3>&-
	timeout 20 tail --pid=$peer_pid -f /dev/null
	wait $peer_pid 2>/dev/null
	peer_pid=
}

check() { # condition-status what
	if [ "$1" -eq 0 ]; then
		echo "ok   $2"
	else
		echo "FAIL $2"
		status=1
	fi
}

eal_ours=(--no-pci --in-memory --single-file-segments -d "$plugin"
	--mbuf-pool-ops-name=pfrag --log-level=lib.eal:warning
	--log-level=pfrag.mempool:info
	--vdev "net_virtio_user0,path=$work/s0.sock,queue_size=1024"
	--vdev "net_virtio_user1,path=$work/s1.sock,queue_size=1024")

run_app() { # name: start it, traffic for $secs, stop it; its log in $work/<name>.log
	local name=$1 log=$work/$1.log
	app_rc=1
	start_peer "$name" || { cat "$work/peer-$name.log"; say "FAIL: peer sockets"; exit 1; }
	case $name in
	testpmd)
		"$testpmd" -l 0-1 --main-lcore 1 --file-prefix=pfrag-apps-$$ "${eal_ours[@]}" \
			-- --no-mlockall --total-num-mbufs=16384 --forward-mode=io -a \
			--stats-period 60 >"$log" 2>&1 </dev/null &
		app_pid=$!
		wait_for "$log" "start packet forwarding" $app_pid ;;
	l2fwd)
		"$l2fwd" -l 0 --file-prefix=pfrag-apps-$$ "${eal_ours[@]}" \
			--vdev pfrag_mempool_report -- -p 0x3 -q 2 -T 1 >"$log" 2>&1 </dev/null &
		app_pid=$!
		wait_for "$log" "Port statistics" $app_pid ;;
	esac
	[ $? -eq 0 ] || { tail -30 "$log"; say "FAIL: $name did not start"; status=1; return; }
	sleep 1
	echo "start tx_first 64" >&3
	sleep "$secs"
	kill -INT $app_pid
	timeout 30 tail --pid=$app_pid -f /dev/null
	wait $app_pid
	app_rc=$?
	app_pid=
	stop_peer
}

# "RX-packets: N" of a testpmd log: the last 'show port stats' or the
# accumulated forward statistics.
stat_sum() { # log field
	sed -n "s/.*$2: *\([0-9]*\).*/\1/p" "$1" | tail -2 | awk '{s += $1} END {print s + 0}'
}

for app in "${apps[@]}"; do
	if [ "$app" = l2fwd ] && ! build_l2fwd; then
		say "l2fwd: no source (dpdk-doc not installed, no DPDK source, no download): skipped"
		continue
	fi
	say "$app with -d $(basename "$plugin") --mbuf-pool-ops-name=pfrag, ${secs}s of traffic"
	run_app "$app"
	log=$work/$app.log
	peer=$work/peer-$app.log
	pool=$(sed -n 's/.*pfrag_mempool: \([^:]*\): pages of.*/\1/p' "$log" | head -1)
	[ -n "$pool" ]; check $? "$app's mbuf pool is a pfrag pool (${pool:-none}): $(grep -m1 'pfrag_mempool: .*: pages of' "$log" | sed 's/.*: pages/pages/')"
	prx=$(stat_sum "$peer" RX-packets)
	ptx=$(stat_sum "$peer" TX-packets)
	case $app in
	testpmd)
		rx=$(sed -n '/Accumulated forward statistics/,/+++++/p' "$log" |
			sed -n 's/.*RX-packets: *\([0-9]*\).*/\1/p' | head -1)
		tx=$(sed -n '/Accumulated forward statistics/,/+++++/p' "$log" |
			sed -n 's/.*TX-packets: *\([0-9]*\).*/\1/p' | head -1)
		back=$(grep -c "pfrag_mempool: $pool freed: all" "$log") ;;
	l2fwd)
		rx=$(sed -n 's/.*Total packets received: *\([0-9]*\).*/\1/p' "$log" | tail -1)
		tx=$(sed -n 's/.*Total packets sent: *\([0-9]*\).*/\1/p' "$log" | tail -1)
		back=$(grep -c "pfrag_mempool: $pool at exit: all" "$log") ;;
	esac
	[ "$app_rc" -eq 0 ]; check $? "$app exit status $app_rc"
	[ "${rx:-0}" -gt 0 ] && [ "${tx:-0}" -gt 0 ]
	check $? "$app forwarded: RX ${rx:-?} TX ${tx:-?} packets ($(awk -v n="${rx:-0}" -v s="$secs" 'BEGIN{printf "%.2f", n/s/1e6}') Mpps over ${secs}s)"
	[ "${prx:-0}" -gt 0 ] && [ "${ptx:-0}" -gt 0 ]
	check $? "peer counted RX $prx TX $ptx"
	[ "$back" -ge 1 ] && ! grep -q "objects out (taken" "$log"
	check $? "every mbuf back at exit: $(grep -m1 "pfrag_mempool: $pool \(freed\|at exit\)" "$log" | sed 's/.*pfrag_mempool: //')"
	[ $status -eq 0 ] || { echo "--- $app log:"; tail -40 "$log"; }
done
[ $status -eq 0 ] && say PASS || say "FAIL (logs in $work)"
exit $status

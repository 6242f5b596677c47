#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The pmd study's application rows: DPDK applications forwarding between two
# ports with our PMD against the same applications with DPDK's own
# net_virtio_user, both against a distro dpdk-testpmd peer whose two
# net_vhost ports loop every packet back (io, --port-topology=loop; the peer
# starts the traffic with `start tx_first 64`). Configurations, run in turn
# (A B A B ...), RUNS times:
#   testpmd-ours   distro dpdk-testpmd -d librte_net_virtio_frag.so, io
#   testpmd-vu     distro dpdk-testpmd, net_virtio_user ports, io
#   l2fwd-ours     DPDK's l2fwd (built from its source) -d our PMD
#   l2fwd-vu       DPDK's l2fwd, net_virtio_user ports
#   pfrag-l2fwd    our pfrag-l2fwd, our PMD linked in
# Packets are counted at the peer in the same window for every run: the sum
# of its ports' RX-packets between two `show port stats all`, SECS apart,
# one second after the traffic started. testpmd runs with
# --record-core-cycles: its CPU cycles/packet at exit (bursts that returned
# packets only) are recorded too. The application runs on lcore 0, the
# peer's forwarding lcore is 1 (its main lcore sleeps on stdin). Every
# process passes --no-pci and its own --file-prefix, and is stopped on exit.
#
# usage: app/bench/pmd_apps.sh --build DIR --out DIR [--secs N] [--runs N] [--perf] [CONFIG...]
#   --perf  also record a CPU-clock profile of the application over each
#           window (Linux perf): DIR/pmd_apps-logs/<config>-<run>.perf.data, and
#           its top symbols in <config>-<run>.perf.txt. perf takes CPU time in
#           the window, so those runs go to DIR/pmd_apps-perf.csv instead.
# Writes DIR/pmd_apps.csv: config,run,packets,secs,cycles_per_packet
# (cycles -1 when the application does not report them) and the logs of the
# last run in DIR/pmd_apps-logs/. Exit: 0, 1 (a run failed), 77 (no testpmd,
# no plugin, no hugepages).
set -uo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
build=$top/build
out=
secs=5
runs=5
perf=0
configs=()
while [ $# -gt 0 ]; do
	case $1 in
	--build) build=$(cd "$2" && pwd) || exit 2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	--secs) secs=$2; shift 2 ;;
	--runs) runs=$2; shift 2 ;;
	testpmd-ours|testpmd-vu|l2fwd-ours|l2fwd-vu|pfrag-l2fwd) configs+=("$1"); shift ;;
	--perf) perf=1; shift ;;
	*) sed -n '3,30p' "$0" >&2; exit 2 ;;
	esac
done
[ -n "$out" ] || { echo "pmd_apps.sh: --out DIR is required" >&2; exit 2; }
[ ${#configs[@]} -gt 0 ] || configs=(testpmd-ours testpmd-vu l2fwd-ours l2fwd-vu pfrag-l2fwd)
mkdir -p "$out/pmd_apps-logs" || exit 1

say() { echo "pmd_apps: $*"; }
testpmd=${DPDK_TESTPMD:-/usr/bin/dpdk-testpmd}
so=$build/drivers/net/virtio_frag/librte_net_virtio_frag.so
pfrag_l2fwd=$build/examples/l2fwd/pfrag-l2fwd
[ -x "$testpmd" ] || { say "SKIP: $testpmd not installed (Debian package dpdk)"; exit 77; }
[ -f "$so" ] || { say "SKIP: $so not built"; exit 77; }
free_huge=$(awk '/HugePages_Free/ {print $2}' /proc/meminfo)
[ "${free_huge:-0}" -ge 512 ] || { say "SKIP: needs 512 free 2 MB hugepages"; exit 77; }
l2fwd=
for c in "${configs[@]}"; do
	case $c in
	l2fwd-*) l2fwd=$("$top/test/interop/build_dpdk_l2fwd.sh" "$build") ||
		{ say "FAIL: cannot build DPDK's l2fwd"; exit 1; } ;;
	esac
done

# EAL refuses -d for a file under a world-writable directory (such as /tmp).
priv=$(mktemp -d "${HOME:-/root}/.pfrag-bench.XXXXXX") || exit 1
chmod 700 "$priv"
cp "$so" "$priv/"
plugin=$priv/$(basename "$so")
work=$(mktemp -d /tmp/pfrag-bench-apps.XXXXXX) || exit 1
peer_pid=
app_pid=

stop_pid() { # pid: SIGINT, up to 10 s, then SIGKILL
	[ -n "$1" ] || return 0
	kill -INT "$1" 2>/dev/null
	timeout 10 tail --pid="$1" -f /dev/null 2>/dev/null
	kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}
cleanup() {
	exec 3>&- 2>/dev/null
	stop_pid "$app_pid"
	stop_pid "$peer_pid"
	rm -rf "$priv" "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start_peer() { # log
	rm -f "$work/peer.in" "$work"/s*.sock
	mkfifo "$work/peer.in"
	# Line-buffered: its answers to "show port stats all" are read as they come.
	stdbuf -oL "$testpmd" -l 0-1 --main-lcore 0 --no-pci --in-memory --single-file-segments \
		--file-prefix=pfrag-bench-peer-$$ --log-level=lib.eal:warning \
		--vdev "net_vhost0,iface=$work/s0.sock,queues=1" \
		--vdev "net_vhost1,iface=$work/s1.sock,queues=1" \
		-- -i --no-mlockall --total-num-mbufs=16384 --port-topology=loop \
		--forward-mode=io <"$work/peer.in" >"$1" 2>&1 &
	peer_pid=$!
	exec 3>"$work/peer.in"
	for _ in $(seq 100); do
		[ -S "$work/s0.sock" ] && [ -S "$work/s1.sock" ] && return 0
		sleep 0.1
	done
	return 1
}

stop_peer() {
	echo "quit" >&3 2>/dev/null
	exec 3>&-
	timeout 10 tail --pid="$peer_pid" -f /dev/null 2>/dev/null
	stop_pid "$peer_pid"
	peer_pid=
}

# Sum of the peer's RX-packets over its ports, asked now.
peer_rx() { # log
	local before
	before=$(wc -l <"$1")
	echo "show port stats all" >&3
	for _ in $(seq 50); do
		sleep 0.1
		[ "$(tail -n +"$((before + 1))" "$1" | grep -c 'RX-packets:')" -ge 2 ] && break
	done
	tail -n +"$((before + 1))" "$1" | sed -n 's/.*RX-packets: *\([0-9]*\).*/\1/p' |
		head -2 | awk '{s += $1} END {print s + 0}'
}

# The app's two ports are up when the peer saw both vhost devices ready.
wait_ready() { # peer-log app-pid
	for _ in $(seq 200); do
		[ "$(grep -c 'virtio is now ready for processing' "$1")" -ge 2 ] && return 0
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

eal_common=(--no-pci --in-memory --single-file-segments --log-level=lib.eal:warning)
ports_ours=(--vdev "net_virtio_frag_user0,path=$work/s0.sock,queue_size=1024"
	--vdev "net_virtio_frag_user1,path=$work/s1.sock,queue_size=1024")
ports_vu=(--vdev "net_virtio_user0,path=$work/s0.sock,queue_size=1024"
	--vdev "net_virtio_user1,path=$work/s1.sock,queue_size=1024")

start_app() { # config log
	local c=$1 log=$2 prefix=--file-prefix=pfrag-bench-app-$$
	case $c in
	testpmd-ours|testpmd-vu)
		local ports=("${ports_vu[@]}") d=()
		[ "$c" = testpmd-ours ] && { ports=("${ports_ours[@]}"); d=(-d "$plugin"); }
		"$testpmd" -l 0-1 --main-lcore 1 $prefix "${eal_common[@]}" "${d[@]}" "${ports[@]}" \
			-- --no-mlockall --total-num-mbufs=16384 --forward-mode=io -a \
			--record-core-cycles --stats-period 3600 >"$log" 2>&1 </dev/null & ;;
	l2fwd-ours)
		"$l2fwd" -l 0 $prefix "${eal_common[@]}" -d "$plugin" "${ports_ours[@]}" \
			-- -p 0x3 -q 2 -T 3600 >"$log" 2>&1 </dev/null & ;;
	l2fwd-vu)
		"$l2fwd" -l 0 $prefix "${eal_common[@]}" "${ports_vu[@]}" \
			-- -p 0x3 -q 2 -T 3600 >"$log" 2>&1 </dev/null & ;;
	pfrag-l2fwd)
		"$pfrag_l2fwd" -l 0 $prefix "${eal_common[@]}" "${ports_ours[@]}" \
			-- -p 0x3 -q 2 -T 3600 >"$log" 2>&1 </dev/null & ;;
	esac
	app_pid=$!
}

csv=$out/pmd_apps.csv
if [ "$perf" = 1 ]; then
	command -v perf >/dev/null || { say "FAIL: --perf needs Linux perf (package linux-perf)"; exit 1; }
	csv=$out/pmd_apps-perf.csv
fi
echo "config,run,packets,secs,cycles_per_packet" >"$csv"
status=0
for ((r = 1; r <= runs; r++)); do
	for c in "${configs[@]}"; do
		log=$out/pmd_apps-logs/$c.log
		peer_log=$out/pmd_apps-logs/$c-peer.log
		start_peer "$peer_log" || { say "FAIL: peer did not start"; status=1; stop_peer; continue; }
		start_app "$c" "$log"
		if ! wait_ready "$peer_log" "$app_pid"; then
			say "FAIL: $c run $r: ports did not come up (log $log)"
			tail -5 "$log"
			status=1
			stop_pid "$app_pid"; app_pid=
			stop_peer
			continue
		fi
		sleep 0.5
		echo "start tx_first 64" >&3
		sleep 1
		t0=$(date +%s.%N)
		p0=$(peer_rx "$peer_log")
		perf_pid=
		if [ "$perf" = 1 ]; then
			perf record -q -e cpu-clock -p "$app_pid" -o "$out/pmd_apps-logs/$c-$r.perf.data" \
				-- sleep "$secs" >/dev/null 2>&1 &
			perf_pid=$!
		fi
		sleep "$secs"
		t1=$(date +%s.%N)
		p1=$(peer_rx "$peer_log")
		if [ -n "$perf_pid" ]; then
			wait "$perf_pid" || say "perf record failed for $c run $r"
			perf report -i "$out/pmd_apps-logs/$c-$r.perf.data" --stdio --no-children --sort dso,symbol \
				2>/dev/null | grep -v '^#' | grep -v '^$' | head -40 \
				>"$out/pmd_apps-logs/$c-$r.perf.txt"
		fi
		stop_pid "$app_pid"
		app_pid=
		echo "stop" >&3
		stop_peer
		cyc=$(sed -n 's/.*CPU cycles\/packet=\([0-9.]*\).*/\1/p' "$log" | tail -1)
		n=$((p1 - p0))
		w=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", b - a}')
		echo "$c,$r,$n,$w,${cyc:--1}" >>"$csv"
		say "run $r $c: $n packets in ${w}s ($(awk -v n="$n" -v w="$w" \
			'BEGIN {printf "%.2f", n / w / 1e6}') Mpps), cycles/packet ${cyc:-n/a}"
		[ "$n" -gt 0 ] || { say "FAIL: $c run $r forwarded nothing"; status=1; }
	done
done
exit $status

# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=dash disable=SC2034  # PEER_PID is for the scripts that source it
# The distro dpdk-testpmd as the peer of the script tests and of the demo
# (sourced, not run; POSIX sh). The C units have their own
# (app/test/test_virtio_frag_peer.h).
#
#   peer_testpmd            path of dpdk-testpmd ($DPDK_TESTPMD, else the distro's)
#                           on stdout; status 1 when it is not installed
#   peer_start LOG -i|-a ARGS...
#                           start "dpdk-testpmd ARGS..." in the background, its
#                           output in LOG, in a session of its own (Ctrl-C reaches
#                           the script only). -i: interactive, its stdin a FIFO
#                           next to LOG, commands through peer_cmd; -a: stdin
#                           /dev/null, forwarding from the start. Sets PEER_PID.
#   peer_cmd LINE...        send one command line to an interactive peer
#   peer_wait_sockets PID SOCK...
#                           until every SOCK exists (10 s at most) or PID is gone:
#                           status 0 when they all exist
#   peer_stop               quit (interactive) or SIGINT, then stop_pid; its status
#   stop_pid PID            wait up to 10 s for PID (a child) to end, then SIGKILL
#                           it; the status wait gives (137 when killed)
#   testpmd_port_stats LOG  "PORT RX-packets RX-missed TX-packets" per port, from
#                           the last 'show port stats' block of each port in LOG
#   testpmd_fwd_stat LOG KEY
#                           KEY (RX-packets, TX-packets, TX-dropped, ...) of the
#                           accumulated forward statistics testpmd prints at stop

PEER_PID=
peer_fifo=

peer_testpmd() {
	local t="${DPDK_TESTPMD:-/usr/bin/dpdk-testpmd}"
	[ -x "$t" ] || return 1
	echo "$t"
}

peer_start() {
	local log="$1" mode="$2" testpmd
	shift 2
	testpmd=$(peer_testpmd) || { echo "dpdk-testpmd not installed" >>"$log"; return 1; }
	if [ "$mode" = -i ]; then
		peer_fifo=$log.in
		rm -f "$peer_fifo"
		mkfifo "$peer_fifo" || return 1
		setsid "$testpmd" "$@" <"$peer_fifo" >"$log" 2>&1 &
		PEER_PID=$!
		# Held open on fd 3 until peer_stop: the peer sleeps on its stdin.
		exec 3>"$peer_fifo"
	else
		peer_fifo=
		setsid "$testpmd" "$@" </dev/null >"$log" 2>&1 &
		PEER_PID=$!
	fi
}

peer_cmd() {
	echo "$*" >&3
}

peer_wait_sockets() {
	local pid=$1 s ok
	shift
	for _ in $(seq 100); do
		ok=1
		for s in "$@"; do
			[ -S "$s" ] || ok=0
		done
		[ $ok -eq 1 ] && return 0
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

stop_pid() {
	[ -n "$1" ] || return 0
	timeout 10 tail --pid="$1" -f /dev/null 2>/dev/null || kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}

peer_stop() {
	local rc
	[ -n "$PEER_PID" ] || return 0
	if [ -n "$peer_fifo" ]; then
		echo quit >&3 2>/dev/null
	else
		kill -INT "$PEER_PID" 2>/dev/null
	fi
	stop_pid "$PEER_PID"
	rc=$?
	PEER_PID=
	if [ -n "$peer_fifo" ]; then
		exec 3>&- 2>/dev/null
		rm -f "$peer_fifo"
		peer_fifo=
	fi
	return $rc
}

testpmd_port_stats() {
	/usr/bin/python3 - "$1" <<'EOF'
import re, sys

log = open(sys.argv[1], errors='replace').read().replace('testpmd> ', '')
last = {}
for m in re.finditer(r'NIC statistics for port (\d+)\s+#+\s+RX-packets:\s+(\d+)\s+'
                     r'RX-missed:\s+(\d+).*?TX-packets:\s+(\d+)', log, re.S):
    last[int(m.group(1))] = m.group(2, 3, 4)
for port in sorted(last):
    print(port, *last[port])
EOF
}

testpmd_fwd_stat() {
	sed -n '/Accumulated forward statistics/,/+++++/p' "$1" |
		sed -n "s/.*$2: *\([0-9]*\).*/\1/p" | head -1
}

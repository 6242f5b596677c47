#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The harness's own failure paths, each with one boot:
#   status  a guest command's exit status comes back (sh -c 'exit 7' -> 7)
#   hang    a command that never ends is reported as hung (status 4, the
#           ERROR line) once the deadline (-t 5) after boot is past
#   term    run.sh killed with SIGTERM while the guest boots
# After each: nothing run.sh started is left (its QEMU and testpmd, found by
# its file prefix and work directory) and its work directory (sockets, FIFO)
# is gone.
#
# usage: test/vm/harness.sh [-b BUILD_DIR] [status] [hang] [term]

. "$(dirname "$0")/lib.sh"
vm_setup "$@"
cases=${VM_ARGS[*]:-status hang term}
guest=$VM_BUILD/test/vm/guest/pfrag-vm-guest-anchor
[ -x "$guest" ] || vm_skip "$guest not built (ninja -C $VM_BUILD)"
vm_image plain "$guest"

# Nothing of run.sh's left: $1 = its output (work directory, file prefix).
check_clean() {
	local dir prefix
	dir=$(sed -n 's/^run.sh: work directory \([^,]*\),.*/\1/p' "$1" | head -1)
	prefix=$(sed -n 's/.*, file prefix \(.*\)$/\1/p' "$1" | head -1)
	check [ -n "$dir" ]
	check [ -n "$prefix" ]
	check [ ! -e "$dir" ]
	check [ -z "$(pgrep -f -- "--file-prefix=$prefix" 2>/dev/null)" ]
	check [ -z "$(pgrep -f -- "$dir/" 2>/dev/null)" ]
	check [ -z "$(find /dev/hugepages -maxdepth 1 -name "*$prefix*" 2>/dev/null)" ]
}

for c in $cases; do
	out=$VM_TMP/$c.out
	case $c in
	status)
		echo "== status: the guest command's exit status comes back"
		vm_run "$out" -i "$VM_TMP/plain.img" -m rxonly -- sh -c "'exit 7'"
		check [ $? -eq 7 ]
		check grep -q '^VM .*status=7' "$out"
		check_clean "$out"
		;;
	hang)
		echo "== hang: a command that never ends, deadline 5 s after boot"
		vm_run "$out" -i "$VM_TMP/plain.img" -m rxonly -t 5 -- sleep 3600
		check [ $? -eq 4 ]
		check grep -q '^run.sh: ERROR: the command did not finish within 5 s' "$out"
		check_clean "$out"
		;;
	term)
		echo "== term: SIGTERM to run.sh while the guest boots"
		"$VM_DIR/run.sh" -i "$VM_TMP/plain.img" -m rxonly -- sleep 3600 > "$out" 2>&1 &
		pid=$!
		for _ in $(seq 100); do
			grep -q '^run.sh: work directory' "$out" && break
			sleep 0.1
		done
		sleep 3
		kill -TERM $pid
		wait $pid
		rc=$?
		cat "$out"
		check [ $rc -eq 130 ]
		check_clean "$out"
		;;
	*)
		echo "unknown case $c"; exit 2 ;;
	esac
done
vm_done

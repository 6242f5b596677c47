# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash disable=SC2034  # variables for the scripts that source it
# Shared by the test/vm/ test scripts (sourced, not run).
#
#   vm_setup "$@"       parse -b BUILD_DIR, skip (exit 77, "SKIP: why") when
#                       QEMU, the guest kernel, busybox-static, cpio, testpmd
#                       or free hugepages are missing; make $VM_TMP (removed
#                       at exit)
#   vm_image NAME [-p PLUGIN]... PROGRAM...   build $VM_TMP/NAME.img
#   vm_run OUT RUN.SH-ARGS...   boot (test/vm/run.sh), output into OUT and on
#                       stdout; returns run.sh's status (77 exits the script)
#   rval OUT 'WORDS' KEY        KEY's value on the first "RESULT WORDS" line
#   pval OUT PORT KEY           KEY's value on the peer's line for PORT
#   check CONDITION...  run a test ([ ... ]); print ok/FAIL; remember failures
#   vm_done             exit 0 if every check passed, 1 otherwise

VM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# The guest's EAL: one lcore, physical addresses (uio_pci_generic), no files.
VM_EAL="-l 0 --iova-mode=pa --in-memory --log-level=lib.eal:notice"
VM_BDF0=0000:00:04.0
VM_BDF1=0000:00:05.0
vm_failed=0

vm_skip() { echo "SKIP: $*"; exit 77; }

vm_setup() {
	local OPTIND o
	VM_BUILD=build
	while getopts "b:" o; do
		case $o in
		b) VM_BUILD=$OPTARG ;;
		*) echo "usage: $0 [-b BUILD_DIR] [CASE...]"; exit 2 ;;
		esac
	done
	VM_ARGS=("${@:OPTIND}")
	command -v qemu-system-x86_64 >/dev/null ||
		vm_skip "qemu-system-x86_64 not installed (devtools/setup.sh installs qemu-system-x86)"
	command -v dpdk-testpmd >/dev/null || vm_skip "dpdk-testpmd not installed (dpdk)"
	command -v cpio >/dev/null || vm_skip "cpio not installed"
	command -v busybox >/dev/null || vm_skip "busybox not installed (busybox-static)"
	"$VM_DIR/kernel.sh" >/dev/null 2>&1 ||
		vm_skip "no guest kernel in the cache (devtools/setup.sh fetches it)"
	grep -qs ' /dev/hugepages hugetlbfs' /proc/mounts ||
		vm_skip "hugetlbfs not mounted at /dev/hugepages"
	local free
	free=$(awk '/HugePages_Free/ {print $2}' /proc/meminfo)
	[ "${free:-0}" -ge 600 ] ||
		vm_skip "a guest needs 600 free 2 MB hugepages (1 GB guest memory + peer), ${free:-0} free"
	VM_TMP=$(mktemp -d /tmp/pfrag-vmtest.XXXXXX) || exit 1
	trap 'rm -rf "$VM_TMP"' EXIT
}

vm_image() {
	local name=$1
	shift
	"$VM_DIR/mkinitrd.sh" -o "$VM_TMP/$name.img" "$@" || { echo "FAIL: image $name"; exit 1; }
}

vm_run() {
	local out=$1 rc
	shift
	"$VM_DIR/run.sh" "$@" > "$out" 2>&1
	rc=$?
	cat "$out"
	[ $rc -eq 77 ] && exit 77
	return $rc
}

rval() {
	grep "^guest: RESULT $2 " "$1" | head -1 | tr ' ' '\n' | sed -n "s/^$3=//p" | head -1
}

pval() {
	grep "^PEER port=$2 " "$1" | head -1 | tr ' ' '\n' | sed -n "s/^$3=//p" | head -1
}

check() {
	if "$@" 2>/dev/null; then
		echo "   ok   $*"
	else
		echo "   FAIL $*"
		vm_failed=1
	fi
}

# Every fragment back after close: the guest program's pool line.
check_pool() {
	local out=$1
	check [ "$(rval "$out" "pool" frags_out)" = 0 ]
	check [ "$(rval "$out" "pool" pages_in_use)" = "$(rval "$out" "pool" pages_start)" ]
	check [ "$(rval "$out" "pool" bad_free)" = 0 ]
}

vm_done() {
	if [ $vm_failed -eq 0 ]; then
		echo "== $(basename "$0") ${VM_ARGS[*]}: OK"
		exit 0
	fi
	echo "== $(basename "$0") ${VM_ARGS[*]}: FAILED"
	exit 1
}

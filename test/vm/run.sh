#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Boot one test/vm/ guest and run a command in it.
#
# The host peer is the distro dpdk-testpmd (--no-pci, its own file prefix,
# --in-memory: no hugepage file left) with one net_vhost port per NIC, in
# interactive mode on a FIFO so that the run can start traffic late and read
# its final statistics. QEMU (TCG by default) gets one virtio-net-pci NIC per
# --nic, backed by vhost-user to that peer, guest memory from /dev/hugepages
# (share=on: the backend maps it). QEMU and the peer run on different cores.
# The guest's /init (test/vm/init) binds the NICs to uio_pci_generic, runs
# the command and powers off; its lines and the command's output come back
# on the serial console.
#
# usage: test/vm/run.sh -i IMAGE [options] -- GUEST COMMAND...
#   -i IMAGE        initramfs from test/vm/mkinitrd.sh (programs in /opt/pfrag/)
#   -n NICOPTS      one NIC, with extra virtio-net-pci options, e.g.
#                   "disable-modern=on" (legacy), "disable-legacy=on" (modern),
#                   "" (transitional), "mrg_rxbuf=off,packed=on"; repeat for
#                   more NICs. NIC k is at PCI 0000:00:0(4+k).0 in the guest.
#                   Default: one transitional NIC.
#   -q N            queue pairs per NIC (N > 1: mq=on, vectors=2N+2)
#   -m MODE         peer forward mode: txonly, rxonly, io (default rxonly)
#   -P ARGS         more testpmd arguments (after --), e.g. "--txpkts=1500"
#   -T REGEX        start the peer only when a serial line matches REGEX, with
#                   "start tx_first 32" (default: start at once)
#   -t SECS         deadline for the command, from the guest's boot (default 120)
#   -B SECS         deadline for the boot, from QEMU's start (default 120: TCG
#                   on a loaded 2-core machine boots in 10 to 40 s)
#   -k              use KVM (default TCG; KVM guests hang at boot here)
#   -M MB           guest memory (default 1024; 2 MB hugepages on the host)
#   -l DIR          keep the logs in DIR (default: a temporary directory,
#                   removed at exit; printed when the run fails)
#
# Output: the guest's serial console lines (prefixed "guest: "), then
#   PEER port=P rx=N rx_missed=N rx_errors=N tx=N tx_errors=N   per vhost port
#   VM booted_s=S exit_s=S status=N                   QEMU start to init / to exit
# Exit status: the command's, 3 when the guest did not boot or set up, 4 when
# the command hung past the deadline, 5 for a host-side failure, 77 when
# something the run needs is missing (QEMU, hugepages, testpmd, the kernel).
# Everything the run starts (QEMU, testpmd, sockets, FIFO, temporary
# directory) is stopped and removed on exit, Ctrl-C included.

set -u

here=$(cd "$(dirname "$0")" && pwd)
image=
nics=()
queues=1
mode=rxonly
peer_args=
trigger=
deadline=120
boot_deadline=120
accel=tcg
mem=1024
logdir=

usage() { sed -n '3,45p' "$0"; exit 2; }
while getopts "i:n:q:m:P:T:t:B:kM:l:h" o; do
	case $o in
	i) image=$OPTARG ;;
	n) nics+=("$OPTARG") ;;
	q) queues=$OPTARG ;;
	m) mode=$OPTARG ;;
	P) peer_args=$OPTARG ;;
	T) trigger=$OPTARG ;;
	t) deadline=$OPTARG ;;
	B) boot_deadline=$OPTARG ;;
	k) accel=kvm ;;
	M) mem=$OPTARG ;;
	l) logdir=$OPTARG ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ -n "$image" ] && [ $# -gt 0 ] || usage
[ ${#nics[@]} -gt 0 ] || nics=("")
case $mode in txonly|rxonly|io) ;; *) echo "run.sh: bad mode $mode" >&2; exit 2 ;; esac
case $queues in [1-8]) ;; *) echo "run.sh: 1..8 queues" >&2; exit 2 ;; esac

skip() { echo "SKIP: $*"; exit 77; }
qemu=$(command -v qemu-system-x86_64) || skip "qemu-system-x86_64 not installed (qemu-system-x86)"
testpmd=$(command -v dpdk-testpmd) || skip "dpdk-testpmd not installed (dpdk)"
kdir=$("$here/kernel.sh" 2>/dev/null) || skip "no guest kernel (devtools/setup.sh fetches it)"
[ -f "$image" ] || { echo "run.sh: no image $image" >&2; exit 2; }
grep -qs ' /dev/hugepages hugetlbfs' /proc/mounts || skip "hugetlbfs not mounted at /dev/hugepages"
free_huge=$(awk '/HugePages_Free/ {print $2}' /proc/meminfo)
# guest memory + the peer's own (--total-num-mbufs=16384: ~40 MB), 2 MB pages
need=$((mem / 2 + 64))
[ "${free_huge:-0}" -ge $need ] ||
	skip "$need free 2 MB hugepages needed, ${free_huge:-0} free"
if [ $accel = kvm ] && [ ! -w /dev/kvm ]; then
	skip "no usable /dev/kvm for -k"
fi

# CPUs: the peer's forwarding lcore on one, QEMU on another when there are two.
ncpu=$(nproc)
peer_cpu=0
qemu_cpu=$((ncpu > 1 ? 1 : 0))

tmp=$(mktemp -d /tmp/pfrag-vm.XXXXXX) || exit 5
echo "run.sh: work directory $tmp, file prefix pfrag-vm-$$"
[ -n "$logdir" ] && mkdir -p "$logdir"
logs=${logdir:-$tmp}
serial=$logs/serial.log
peer_log=$logs/peer.log
qemu_log=$logs/qemu.log
: > "$serial"
peer_pid=
qemu_pid=
fifo=$tmp/peer.in
prefix=pfrag-vm-$$
status=

cleanup() {
	trap - EXIT INT TERM
	[ -n "$qemu_pid" ] && kill -KILL "$qemu_pid" 2>/dev/null
	if [ -n "$peer_pid" ] && kill -0 "$peer_pid" 2>/dev/null; then
		{ echo quit >&7; } 2>/dev/null
		for _ in $(seq 30); do kill -0 "$peer_pid" 2>/dev/null || break; sleep 0.1; done
		kill -INT "$peer_pid" 2>/dev/null
		sleep 0.5
		kill -KILL "$peer_pid" 2>/dev/null
	fi
	exec 7>&- 2>/dev/null
	[ -n "$qemu_pid" ] && wait "$qemu_pid" 2>/dev/null
	[ -n "$peer_pid" ] && wait "$peer_pid" 2>/dev/null
	# --in-memory leaves no hugepage file; clean our prefix all the same
	rm -f /dev/hugepages/"$prefix"map_* 2>/dev/null
	if [ "${status:-1}" != 0 ] && [ -z "$logdir" ]; then
		echo "== run.sh: logs of the failed run"
		for f in "$qemu_log" "$peer_log"; do
			[ -s "$f" ] && { echo "-- $(basename "$f") (last 30 lines)"; tail -30 "$f"; }
		done
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'echo "run.sh: interrupted"; status=130; exit 130' INT TERM

# --- host peer: dpdk-testpmd with one net_vhost port per NIC -------------
vdevs=()
for k in "${!nics[@]}"; do
	vdevs+=(--vdev "net_vhost$k,iface=$tmp/vhost$k.sock,queues=$queues")
done
mkfifo "$fifo" || exit 5
# shellcheck disable=SC2086  # peer_args is a list of words
taskset -c $peer_cpu "$testpmd" --lcores="0@$peer_cpu,1@$peer_cpu" --main-lcore 0 --no-pci \
	--in-memory --single-file-segments --file-prefix="$prefix" \
	--log-level=lib.eal:warning "${vdevs[@]}" -- -i --no-mlockall \
	--total-num-mbufs=16384 --nb-cores=1 --rxq="$queues" --txq="$queues" \
	--forward-mode="$mode" $peer_args < "$fifo" > "$peer_log" 2>&1 &
peer_pid=$!
exec 7> "$fifo"
for _ in $(seq 100); do
	ok=1
	for k in "${!nics[@]}"; do [ -S "$tmp/vhost$k.sock" ] || ok=0; done
	[ $ok = 1 ] && break
	kill -0 $peer_pid 2>/dev/null || break
	sleep 0.1
done
if [ $ok != 1 ]; then
	echo "run.sh: the peer did not create its vhost-user sockets"
	status=5
	exit 5
fi
[ -z "$trigger" ] && echo start >&7

# --- the guest -------------------------------------------------------------
netargs=()
for k in "${!nics[@]}"; do
	dev="virtio-net-pci,netdev=n$k,addr=0x$(printf %x $((4 + k))),romfile="
	nd="vhost-user,id=n$k,chardev=c$k"
	if [ "$queues" -gt 1 ]; then
		dev="$dev,mq=on,vectors=$((2 * queues + 2))"
		nd="$nd,queues=$queues"
	fi
	[ -n "${nics[$k]}" ] && dev="$dev,${nics[$k]}"
	netargs+=(-chardev "socket,id=c$k,path=$tmp/vhost$k.sock" -netdev "$nd" -device "$dev")
done
cmdline=$(printf '%s ' "$@" | base64 -w0)
t0=$(date +%s.%N)
taskset -c $qemu_cpu "$qemu" -accel $accel -cpu max -smp 1 -m "$mem" \
	-object "memory-backend-file,id=mem,size=${mem}M,mem-path=/dev/hugepages,share=on" \
	-numa node,memdev=mem -nodefaults -display none -no-reboot \
	-serial "file:$serial" -kernel "$kdir/vmlinuz" -initrd "$image" \
	-append "console=ttyS0 panic=-1 quiet loglevel=3 pfrag_run=$cmdline" \
	"${netargs[@]}" > "$qemu_log" 2>&1 < /dev/null &
qemu_pid=$!

# --- wait: for the boot, then for the command --------------------------------
elapsed() { echo "$(date +%s.%N) $t0" | awk '{printf "%.1f", $1 - $2}'; }
booted=
result=
started=0
while :; do
	if [ -z "$booted" ] && grep -q '^PFRAG_VM_BOOTED' "$serial"; then
		booted=$(elapsed)
	fi
	if [ -n "$trigger" ] && [ $started = 0 ] && grep -Eq "$trigger" "$serial"; then
		echo "start tx_first 32" >&7
		started=1
	fi
	if grep -q '^PFRAG_VM_EXIT' "$serial"; then
		result="exit"
		break
	fi
	if ! kill -0 $qemu_pid 2>/dev/null; then
		result="qemu-gone"
		break
	fi
	e=$(elapsed)
	if [ -z "$booted" ] && awk -v e="$e" -v d="$boot_deadline" 'BEGIN { exit !(e > d) }'
	then
		result="no-boot"
		break
	fi
	if [ -n "$booted" ] &&
		awk -v e="$e" -v b="$booted" -v d="$deadline" 'BEGIN { exit !(e - b > d) }'
	then
		result="hang"
		break
	fi
	sleep 0.2
done
exited=$(elapsed)
# Let QEMU power off by itself (the device reset reaches the peer), then stop it.
for _ in $(seq 50); do kill -0 $qemu_pid 2>/dev/null || break; sleep 0.1; done
kill -KILL $qemu_pid 2>/dev/null
wait $qemu_pid 2>/dev/null
qemu_pid=

# --- the peer's counters ---------------------------------------------------
echo stop >&7
echo "show port stats all" >&7
echo quit >&7
for _ in $(seq 100); do kill -0 $peer_pid 2>/dev/null || break; sleep 0.1; done
kill -0 $peer_pid 2>/dev/null && echo "run.sh: the peer did not quit; killed"
kill -KILL $peer_pid 2>/dev/null
wait $peer_pid 2>/dev/null
peer_pid=
exec 7>&-

sed 's/^/guest: /' "$serial" | tr -d '\r'
# "show port stats all": one "NIC statistics for port P" block per port
awk '
	/NIC statistics for port/ { p = $6 }
	/RX-packets:/ && p != "" { rx = $2; missed = $4 }
	/RX-errors:/ && p != "" { rxerr = $2 }
	/TX-packets:/ && p != "" { print "PEER port=" p " rx=" rx " rx_missed=" missed \
		" rx_errors=" rxerr " tx=" $2 " tx_errors=" $4; p = "" }
' "$peer_log"
code=$(sed -n 's/^PFRAG_VM_EXIT status=\([0-9]*\).*/\1/p' "$serial" | tr -d '\r' | head -1)
case $result in
exit)
	status=$code
	[ "$code" = 125 ] && status=3 ;;
no-boot)
	echo "run.sh: ERROR: the guest did not boot within $boot_deadline s" \
		"(no PFRAG_VM_BOOTED line on the serial console)"
	status=3 ;;
hang)
	echo "run.sh: ERROR: the command did not finish within ${deadline} s of the boot"
	status=4 ;;
qemu-gone)
	if [ -z "$booted" ]; then
		echo "run.sh: ERROR: QEMU exited before the guest booted"
	else
		echo "run.sh: ERROR: the guest stopped without an exit line (crash or panic)"
	fi
	status=3 ;;
esac
echo "VM booted_s=${booted:-none} exit_s=$exited status=$status accel=$accel"
exit "$status"

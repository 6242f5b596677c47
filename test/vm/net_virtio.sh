#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The harness on DPDK's own driver: a guest runs pfrag-vm-guest-anchor with
# the distro net_virtio plugin (the anchor our PMD is compared with) on a
# transitional virtio-net-pci NIC backed by the distro dpdk-testpmd.
#   rx    peer txonly -> guest rx for 3 s. The guest counts every packet it
#         received: guest rx <= peer tx <= guest rx + rxd. The peer counts a
#         packet when it put it into the guest's RX ring; the ones it put
#         there after the guest stopped polling (the guest still has the
#         device until it stops the port) are at most the ring's posted
#         buffers, one 64-byte packet each: rxd (from the guest's port line).
#         And the guest's ethdev ipackets equals what it counted.
#   tx    guest tx for 3 s -> peer rxonly: peer rx <= guest tx <= peer rx +
#         txd. The guest counts what its TX ring accepted; what the peer had
#         not taken from the ring when the device was reset is at most the
#         ring (txd, at least one descriptor each).
#   loop  mrg_rxbuf=on, peer io on its one port: the guest sends 64, 1500 and
#         9000-byte pattern frames, at most 32 out at a time, and checks every
#         frame that comes back: all back, length and payload intact, none
#         twice; the peer received exactly what the guest sent and sent back
#         exactly what the guest received.
# In each, after close the guest's pfrag pool (its TX frames) has 0 fragments
# out and its pages back.
#
# usage: test/vm/net_virtio.sh [-b BUILD_DIR] [rx] [tx] [loop]

. "$(dirname "$0")/lib.sh"
vm_setup "$@"
cases=${VM_ARGS[*]:-rx tx loop}

guest=$VM_BUILD/test/vm/guest/pfrag-vm-guest-anchor
[ -x "$guest" ] || vm_skip "$guest not built (ninja -C $VM_BUILD)"
plugin=$(readlink -f /usr/lib/x86_64-linux-gnu/librte_net_virtio.so.23)
[ -f "$plugin" ] || vm_skip "the distro net_virtio plugin is not installed"
vm_image anchor -p /usr/lib/x86_64-linux-gnu/librte_net_virtio.so.23 "$guest"
prog="/opt/pfrag/pfrag-vm-guest-anchor $VM_EAL -d /usr/lib/x86_64-linux-gnu/librte_net_virtio.so.23 --"

for c in $cases; do
	out=$VM_TMP/$c.out
	case $c in
	rx)
		echo "== rx: peer txonly -> net_virtio rx, 3 s"
		vm_run "$out" -i "$VM_TMP/anchor.img" -m txonly -- $prog --mode rx --secs 3 \
			--port $VM_BDF0
		check [ $? -eq 0 ]
		rx=$(rval "$out" "rx port=0" rx)
		rxd=$(rval "$out" "port=0" rxd)
		ptx=$(pval "$out" 0 tx)
		echo "   guest rx ${rx:-?} (pps $(rval "$out" "rx port=0" pps)), peer tx ${ptx:-?}," \
			"ring $rxd"
		check [ "$(rval "$out" "port=0" driver)" = net_virtio ]
		check [ "${rx:-0}" -gt 0 ]
		check [ "${rx:-0}" -le "${ptx:-0}" ]
		check [ "$((${ptx:-0} - ${rx:-0}))" -le "${rxd:-0}" ]
		check [ "$(rval "$out" "stats port=0" ipackets)" = "$rx" ]
		check_pool "$out"
		;;
	tx)
		echo "== tx: net_virtio tx 64 B, 3 s -> peer rxonly"
		vm_run "$out" -i "$VM_TMP/anchor.img" -m rxonly -- $prog --mode tx --secs 3 \
			--sizes 64 --port $VM_BDF0
		check [ $? -eq 0 ]
		tx=$(rval "$out" "tx port=0" tx)
		txd=$(rval "$out" "port=0" txd)
		prx=$(pval "$out" 0 rx)
		echo "   guest tx ${tx:-?} (pps $(rval "$out" "tx port=0" pps)), peer rx ${prx:-?}," \
			"ring $txd"
		check [ "${prx:-0}" -gt 0 ]
		check [ "${prx:-0}" -le "${tx:-0}" ]
		check [ "$((${tx:-0} - ${prx:-0}))" -le "${txd:-0}" ]
		check [ "$(rval "$out" "stats port=0" opackets)" = "$tx" ]
		check_pool "$out"
		;;
	loop)
		echo "== loop: mrg_rxbuf=on, 64/1500/9000 B frames through the peer (io)"
		vm_run "$out" -i "$VM_TMP/anchor.img" -n mrg_rxbuf=on -m io -- $prog --mode loop \
			--sizes 64,1500,9000 --count 5000 --port $VM_BDF0
		check [ $? -eq 0 ]
		sent=0
		recv=0
		for s in 64 1500 9000; do
			check [ "$(rval "$out" "loop port=0 size=$s" ok)" = 1 ]
			check [ "$(rval "$out" "loop port=0 size=$s" recv)" = 5000 ]
			sent=$((sent + $(rval "$out" "loop port=0 size=$s" sent)))
			recv=$((recv + $(rval "$out" "loop port=0 size=$s" recv)))
		done
		check [ "$(pval "$out" 0 rx)" = "$sent" ]
		check [ "$(pval "$out" 0 tx)" = "$recv" ]
		check_pool "$out"
		;;
	*)
		echo "unknown case $c"; exit 2 ;;
	esac
done
vm_done

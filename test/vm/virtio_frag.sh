#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Our PCI PMD, net_virtio_frag, in QEMU guests (pfrag-vm-guest: ports get
# pool=vmguest, so the guest can show every fragment back after close).
#   attach_rx  three NICs in one guest: legacy (disable-modern=on, 1af4:1000),
#              modern (disable-legacy=on, 1af4:1041), transitional (1af4:1000);
#              peer txonly, guest rx 3 s on all three. Per port: our driver
#              took it; guest rx <= peer tx <= guest rx + rxd (what the peer
#              put into the ring after the guest stopped polling is at most
#              its posted buffers, one 64-byte packet each); ipackets = rx.
#   attach_tx  the same three, guest tx 64 B 3 s, peer rxonly: peer rx <=
#              guest tx <= peer rx + txd (what the peer had not taken from the
#              TX ring at the device reset).
#   mrg        three NICs: mrg_rxbuf=on, mrg_rxbuf=off, packed=on offered
#              (the port negotiates the split ring it implements); peer io,
#              each port looped to itself; 64, 1500 and 9000-byte pattern
#              frames all come back intact on each, none twice; the peer
#              received what the guest sent and sent back what it received.
#   mq         one NIC, mq=on, 2 queue pairs; peer txonly on both queues,
#              guest rx 3 s on both: each queue received, and the sum agrees
#              with the peer within two rings.
#   l2fwd      pfrag-l2fwd in the guest between two NICs; the peer (io,
#              ports paired) starts 32 packets per port once l2fwd runs:
#              each port's traffic is received by the guest on one NIC and
#              counted by the peer on the other; l2fwd exits 0 with 0
#              fragments in flight and 0 pages in use after close.
#   compare    DPDK's net_virtio (anchor) and ours each receive 3 s from the
#              peer's txonly, alternating boots A B A B A B; prints both pps,
#              the medians and the ratio (TCG varies +-40% between boots: the
#              ratio of medians of alternating boots is the figure). Asserts
#              the counts of every boot, not the speed.
# In every case the guest program's pool has 0 fragments out and its pages
# back after close.
#
# usage: test/vm/virtio_frag.sh [-b BUILD_DIR] [-A] [CASE...]
#   -A  run the cases on DPDK's net_virtio instead (checks the script itself;
#       the pool and l2fwd pool checks still apply)
# Skipped (77) while the build's pfrag-vm-guest has no net_virtio_frag PCI
# driver (dpdk-pmdinfo.py lists none with PCI ids).

anchor_only=0
args=()
for a in "$@"; do
	if [ "$a" = -A ]; then anchor_only=1; else args+=("$a"); fi
done
. "$(dirname "$0")/lib.sh"
vm_setup "${args[@]}"
cases=${VM_ARGS[*]:-attach_rx attach_tx mrg mq l2fwd}

ours=$VM_BUILD/test/vm/guest/pfrag-vm-guest
anchor=$VM_BUILD/test/vm/guest/pfrag-vm-guest-anchor
l2fwd=$VM_BUILD/examples/l2fwd/pfrag-l2fwd
nv=/usr/lib/x86_64-linux-gnu/librte_net_virtio.so.23
lib=/usr/lib/x86_64-linux-gnu
for f in "$ours" "$anchor" "$l2fwd"; do
	[ -x "$f" ] || vm_skip "$f not built (ninja -C $VM_BUILD)"
done
[ -f "$nv" ] || vm_skip "the distro net_virtio plugin is not installed"
if [ $anchor_only -eq 0 ]; then
	/usr/bin/python3 /usr/bin/dpdk-pmdinfo.py "$ours" 2>/dev/null |
		tr -d ' \n' | grep -q '"name":"net_virtio_frag",[^{}]*"pci_ids"' ||
		vm_skip "pfrag-vm-guest has no net_virtio_frag PCI driver yet"
fi

# The images: ours never carries net_virtio (both claim the same PCI ids).
# pfrag-l2fwd makes its mbuf pools with the ring ops: carry that plugin.
if [ $anchor_only -eq 0 ]; then
	vm_image ours -p $lib/librte_mempool_ring.so.23 -p $lib/librte_bus_pci.so.23 \
		"$ours" "$l2fwd"
	img=$VM_TMP/ours.img
	prog="/opt/pfrag/pfrag-vm-guest $VM_EAL --"
	driver=net_virtio_frag
else
	img=$VM_TMP/anchor.img
	driver=net_virtio
fi
vm_image anchor -p "$nv" -p $lib/librte_mempool_ring.so.23 "$anchor" "$l2fwd"
anchor_prog="/opt/pfrag/pfrag-vm-guest-anchor $VM_EAL -d $nv --"
[ $anchor_only -eq 1 ] && prog=$anchor_prog

three=(-n disable-modern=on -n disable-legacy=on -n "")
three_ports="--port $VM_BDF0 --port $VM_BDF1 --port 0000:00:06.0"

# Per port k of OUT: rx and the peer's tx agree within the port's RX ring.
check_rx_port() {
	local out=$1 k=$2 rx rxd ptx
	rx=$(rval "$out" "rx port=$k" rx)
	rxd=$(rval "$out" "port=$k" rxd)
	ptx=$(pval "$out" "$k" tx)
	echo "   port $k: guest rx ${rx:-?} ($(rval "$out" "rx port=$k" pps) pps)," \
		"peer tx ${ptx:-?}, ring ${rxd:-?}"
	check [ "$(rval "$out" "port=$k" driver)" = $driver ]
	check [ "${rx:-0}" -gt 0 ]
	check [ "${rx:-0}" -le "${ptx:-0}" ]
	check [ "$((${ptx:-0} - ${rx:-0}))" -le "$((${rxd:-0} * ${3:-1}))" ]
	check [ "$(rval "$out" "stats port=$k" ipackets)" = "$rx" ]
}

median() { tr ' ' '\n' | grep . | sort -n | awk '{ v[NR] = $1 } END {
	if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

for c in $cases; do
	out=$VM_TMP/$c.out
	case $c in
	attach_rx)
		echo "== attach_rx: legacy, modern, transitional; peer txonly -> guest rx 3 s"
		vm_run "$out" -i "$img" "${three[@]}" -m txonly -- $prog --mode rx --secs 3 \
			$three_ports
		check [ $? -eq 0 ]
		check grep -q "PFRAG_VM_NIC bdf=$VM_BDF0 device=0x1000" "$out"
		check grep -q "PFRAG_VM_NIC bdf=$VM_BDF1 device=0x1041" "$out"
		check grep -q "PFRAG_VM_NIC bdf=0000:00:06.0 device=0x1000" "$out"
		for k in 0 1 2; do check_rx_port "$out" $k; done
		check_pool "$out"
		;;
	attach_tx)
		echo "== attach_tx: legacy, modern, transitional; guest tx 64 B 3 s -> peer rxonly"
		vm_run "$out" -i "$img" "${three[@]}" -m rxonly -- $prog --mode tx --secs 3 \
			--sizes 64 $three_ports
		check [ $? -eq 0 ]
		for k in 0 1 2; do
			tx=$(rval "$out" "tx port=$k" tx)
			txd=$(rval "$out" "port=$k" txd)
			prx=$(pval "$out" $k rx)
			echo "   port $k: guest tx ${tx:-?} ($(rval "$out" "tx port=$k" pps) pps)," \
				"peer rx ${prx:-?}, ring ${txd:-?}"
			check [ "$(rval "$out" "port=$k" driver)" = $driver ]
			check [ "${prx:-0}" -gt 0 ]
			check [ "${prx:-0}" -le "${tx:-0}" ]
			check [ "$((${tx:-0} - ${prx:-0}))" -le "${txd:-0}" ]
			check [ "$(rval "$out" "stats port=$k" opackets)" = "$tx" ]
		done
		check_pool "$out"
		;;
	mrg)
		echo "== mrg: mrg_rxbuf=on, mrg_rxbuf=off, packed=on; 64/1500/9000 B loops"
		# QEMU's rings have 256 entries. After the 64-byte frames the adaptive
		# buffers are ~192 bytes, so a 1500-byte frame takes 8 of them and 32
		# outstanding frames would need the whole ring: the peer would drop
		# what does not fit (load, not a fault). 8 outstanding always fit.
		vm_run "$out" -i "$img" -n mrg_rxbuf=on -n mrg_rxbuf=off -n packed=on -m io \
			-P --port-topology=loop -- $prog --mode loop --sizes 64,1500,9000 \
			--count 2000 --window 8 $three_ports
		check [ $? -eq 0 ]
		for k in 0 1 2; do
			sent=0
			recv=0
			for s in 64 1500 9000; do
				check [ "$(rval "$out" "loop port=$k size=$s" ok)" = 1 ]
				check [ "$(rval "$out" "loop port=$k size=$s" recv)" = 2000 ]
				sent=$((sent + $(rval "$out" "loop port=$k size=$s" sent)))
				recv=$((recv + $(rval "$out" "loop port=$k size=$s" recv)))
			done
			check [ "$(pval "$out" $k rx)" = "$sent" ]
			check [ "$(pval "$out" $k tx)" = "$recv" ]
		done
		check_pool "$out"
		;;
	mq)
		echo "== mq: mq=on, 2 queue pairs; peer txonly on both -> guest rx 3 s"
		vm_run "$out" -i "$img" -q 2 -m txonly -- $prog --mode rx --secs 3 --queues 2 \
			--port $VM_BDF0
		check [ $? -eq 0 ]
		check [ "$(rval "$out" "port=0" queues)" = 2 ]
		check [ "$(rval "$out" "rx port=0" rx_q0)" -gt 0 ]
		check [ "$(rval "$out" "rx port=0" rx_q1)" -gt 0 ]
		check_rx_port "$out" 0 2
		check_pool "$out"
		;;
	l2fwd)
		echo "== l2fwd: pfrag-l2fwd between two NICs, peer io paired, 5 s"
		if [ $anchor_only -eq 0 ]; then limg=$img; else limg=$VM_TMP/anchor.img; fi
		vm_run "$out" -i "$limg" -n "" -n "" -m io -T 'port 1 \(' -- \
			timeout -s INT 8 /opt/pfrag/pfrag-l2fwd $VM_EAL -a $VM_BDF0 -a $VM_BDF1 \
			-- -p 0x3 -q 2 -T 0
		check [ $? -eq 0 ]
		p0rx=$(pval "$out" 0 rx)
		p1rx=$(pval "$out" 1 rx)
		echo "   peer: port 0 rx ${p0rx:-?} tx $(pval "$out" 0 tx)," \
			"port 1 rx ${p1rx:-?} tx $(pval "$out" 1 tx)"
		grep '^guest: Final:\|^guest: after close:' "$out"
		check grep -q "port 0 ($driver)" "$out"
		check [ "${p0rx:-0}" -gt 1000 ]
		check [ "${p1rx:-0}" -gt 1000 ]
		# what one peer port received, the other sent into the guest first
		check [ "${p1rx:-0}" -le "$(pval "$out" 0 tx)" ]
		check [ "${p0rx:-0}" -le "$(pval "$out" 1 tx)" ]
		check grep -q '^guest: after close: 0 fragments in flight, 0 pages in use' "$out"
		;;
	compare)
		echo "== compare: net_virtio (A) and $driver (B) receive 3 s, A B A B A B"
		pa=
		pb=
		for i in 1 2 3; do
			for who in A B; do
				o=$VM_TMP/compare-$who$i.out
				if [ $who = A ]; then
					vm_run "$o" -i "$VM_TMP/anchor.img" -m txonly -- $anchor_prog \
						--mode rx --secs 3 --port $VM_BDF0 > /dev/null
				else
					vm_run "$o" -i "$img" -m txonly -- $prog --mode rx --secs 3 \
						--port $VM_BDF0 > /dev/null
				fi
				check [ $? -eq 0 ]
				save=$driver
				[ $who = A ] && driver=net_virtio
				check_rx_port "$o" 0
				driver=$save
				check_pool "$o"
				pps=$(rval "$o" "rx port=0" pps)
				echo "   boot $who$i: $(grep '^VM ' "$o")"
				if [ $who = A ]; then pa="$pa ${pps:-0}"; else pb="$pb ${pps:-0}"; fi
			done
		done
		ma=$(echo "$pa" | median)
		mb=$(echo "$pb" | median)
		echo "   net_virtio pps:$pa  median $ma"
		echo "   $driver pps:$pb  median $mb"
		echo "   ratio of medians ($driver / net_virtio):" \
			"$(awk -v a="$ma" -v b="$mb" 'BEGIN { printf "%.2f", (a > 0 ? b / a : 0) }')"
		;;
	*)
		echo "unknown case $c"; exit 2 ;;
	esac
done
vm_done

#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# DPDK's own test suite on our mempool driver: the distro dpdk-test loads
# librte_mempool_pfrag.so with -d and runs, with --mbuf-pool-ops-name=pfrag,
# every unit that builds its pools through the mbuf library's best ops
# (rte_pktmbuf_pool_create() and friends). A unit passes when dpdk-test says
# so and at least one of its pools was a pfrag pool (the driver logs each at
# INFO) and the driver refused no free (double or foreign: it logs each;
# dpdk-test cannot see them). A unit that fails or skips on pfrag is run again on DPDK's default
# ops: when it fails or skips there too, it says nothing about us and is
# listed as such (n/a), not as a pass.
#
# usage: test/interop/dpdk_test_mempool.sh [-b BUILD_DIR] [UNIT...]
# Exit status 0 when no unit failed because of pfrag, 1 otherwise, 77 when
# dpdk-test, the plugin or hugepages are missing.

set -u

build=build
while getopts "b:h" opt; do
	case $opt in
	b) build=$OPTARG ;;
	*) sed -n '3,17p' "$0"; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
# Every dpdk-test unit of DPDK 22.11 whose pools come from the mbuf library's
# best ops (found by their calls to rte_pktmbuf_pool_create*()), except those
# of devices this machine has not (cryptodev, compressdev, dmadev, kni,
# pmd_perf: real NICs) and the perf units.
units=${*:-mbuf_autotest cksum_autotest ipfrag_autotest reorder_autotest sched_autotest
	ring_pmd_autotest link_bonding_autotest link_bonding_mode4_autotest
	link_bonding_rssconf_autotest bitratestats_autotest latencystats_autotest
	pdump_autotest pcapng_autotest flow_classify_autotest ipsec_autotest
	event_eth_tx_adapter_autotest event_eth_rx_adapter_autotest table_autotest
	distributor_autotest}

dpdk_test=$(command -v dpdk-test) ||
	{ echo "SKIP: dpdk-test not installed (Debian package dpdk-dev)"; exit 77; }
so=$build/drivers/mempool/pfrag/librte_mempool_pfrag.so
[ -f "$so" ] || { echo "SKIP: $so not built (ninja -C $build)"; exit 77; }
grep -q '^HugePages_Free: *[1-9]' /proc/meminfo || { echo "SKIP: no free hugepages"; exit 77; }

# EAL refuses -d for a file under a world-writable directory (such as /tmp):
# load a copy from a private directory.
priv=$(mktemp -d "${HOME:-/root}/.pfrag-dpdk-test.XXXXXX") || exit 1
chmod 700 "$priv"
cp "$so" "$priv/" || exit 1
plugin=$priv/$(basename "$so")
logs=$(mktemp -d /tmp/pfrag-dpdk-test.XXXXXX) || exit 1
pid=
cleanup() {
	[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
	rm -rf "$priv"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# run UNIT LOG [EAL args...]: dpdk-test's exit status
run() {
	unit=$1 log=$2
	shift 2
	DPDK_TEST=$unit timeout 300 "$dpdk_test" -l 0-1 --no-pci --in-memory \
		--file-prefix=pfrag-dt-$$ "$@" > "$log" 2>&1 < /dev/null &
	pid=$!
	wait $pid
	rc=$?
	pid=
	return $rc
}

fail=0 passed=0 na=0
printf "%-32s %-8s %6s %s\n" unit result pools note
for unit in $units; do
	log=$logs/$unit-pfrag.log
	run "$unit" "$log" -d "$plugin" --mbuf-pool-ops-name=pfrag \
		--log-level=pfrag.mempool:info
	rc=$?
	pools=$(grep -c "pfrag_mempool: .*: pages of" "$log")
	out=$(grep -c "objects out (taken" "$log")
	note=
	[ "$out" -gt 0 ] && note="freed with objects out: $(grep -o '[^ ]* freed: [0-9]* of' "$log" |
		sed 's/ freed: / /; s/ of$//' | tr '\n' ' ')"
	# A refused free is a bug on one side or the other, whatever the exit
	# status: dpdk-test does not look at our log.
	bad=$(grep -c "freed twice?\|is not an object of this pool" "$log")
	if [ "$bad" -gt 0 ]; then
		result=FAIL note="$bad refused frees; $log"
		fail=1
		grep -m 3 "freed twice?\|is not an object of this pool" "$log"
	elif [ $rc -eq 0 ] && [ "$pools" -gt 0 ]; then
		result=PASS
		passed=$((passed + 1))
	else
		run "$unit" "$logs/$unit-ring.log"
		ref=$?
		if [ $rc -eq 0 ]; then
			result=FAIL note="no pool on pfrag; $log"
			fail=1
			tail -20 "$log"
		elif [ $ref -ne 0 ]; then
			result=n/a note="exit $rc; $ref on the default ops too"
			na=$((na + 1))
		else
			result=FAIL note="exit $rc, passes on the default ops; $log"
			fail=1
			tail -20 "$log"
		fi
	fi
	printf "%-32s %-8s %6s %s\n" "$unit" "$result" "$pools" "$note"
done
echo "dpdk-test on pfrag: $passed passed, $na not applicable here"
[ $fail -ne 0 ] && echo "logs in $logs"
[ $fail -eq 0 ] && rm -rf "$logs"
exit $fail

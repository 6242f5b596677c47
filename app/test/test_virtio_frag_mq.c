/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * virtio_frag_interop_mq_autotest (interop-tests): queues=2 on the data
 * path against the distro dpdk-testpmd holding a net_vhost port with
 * queues=2 (--rxq=2 --txq=2, macswap; testpmd forwards RX queue q of its
 * port to TX queue q). Checked round trips on each queue pair, every packet
 * back on the queue it left from, our per-queue counters equal to what each
 * queue sent and received, and the peer's per-stream counters (its log at
 * exit) showing traffic on both of its queues.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include <pfrag.h>

#include "test.h"
#include "test_virtio_frag_peer.h"

#define MQ_NAME "net_virtio_frag_user3"
#define MQ_QUEUES 2
#define MQ_RING 1024
#define MQ_PKTS 5000

/* The peer's "Forward Stats for RX Port= 0/Queue= q" RX and TX packets. */
static int
peer_stream_stats(const char *log, uint16_t q, uint64_t *rx, uint64_t *tx)
{
	char line[512], want[64];
	int found = 0;
	FILE *f;

	f = fopen(log, "r");
	if (f == NULL)
		return -1;
	snprintf(want, sizeof(want), "RX Port= 0/Queue=%2u", q);
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strstr(line, want) != NULL) {
			found = 1;
			continue;
		}
		if (found && sscanf(line, " RX-packets: %" SCNu64 " TX-packets: %" SCNu64,
				    rx, tx) == 2) {
			fclose(f);
			return 0;
		}
	}
	fclose(f);
	return -1;
}

static int
mq_traffic(uint16_t port, struct rte_mempool *mp, uint64_t sent[], uint64_t received[])
{
	static const uint32_t sizes[] = { 64, 1500, 64, 9000 };
	struct vf_rt_result r;
	unsigned int i;
	uint16_t q;
	int ret;

	/* Alternate the queues so that both carry traffic in every phase. */
	for (i = 0; i < RTE_DIM(sizes); i++) {
		for (q = 0; q < MQ_QUEUES; q++) {
			ret = vf_roundtrip_q(port, q, mp, sizes[i],
					     sizes[i] > 1500 ? MQ_PKTS / 5 : MQ_PKTS,
					     sizes[i] > 1500 ? 8 : 64, 5000, &r);
			printf("  queue %u, %4u bytes: sent %" PRIu64 ", back intact %" PRIu64
			       ", lost %" PRIu64 ", bad %" PRIu64 ", stale %" PRIu64 "\n", q,
			       sizes[i], r.sent, r.received, r.lost, r.bad, r.stale);
			TEST_ASSERT_SUCCESS(ret, "queue %u: %u-byte round trip", q, sizes[i]);
			TEST_ASSERT_EQUAL(r.foreign, 0, "queue %u: only our packets", q);
			sent[q] += r.sent;
			received[q] += r.received + r.stale;
		}
	}
	return TEST_SUCCESS;
}

static int
test_virtio_frag_interop_mq(void)
{
	uint64_t sent[MQ_QUEUES] = { 0 }, received[MQ_QUEUES] = { 0 };
	uint64_t peer_rx[MQ_QUEUES], peer_tx[MQ_QUEUES];
	char dir[64], sock[128], args[256];
	struct rte_eth_stats st;
	struct rte_mempool *mp;
	struct vf_peer peer;
	uint16_t port, q;
	int ret, port_up = 0;

	memset(&peer, 0, sizeof(peer));
	peer.pid = -1;
	peer.stdin_fd = -1;
	if (vf_testpmd_path() == NULL) {
		pfrag_test_skip_reason("dpdk-testpmd is not installed (apt-get install dpdk)");
		return TEST_SKIPPED;
	}
	TEST_ASSERT_SUCCESS(pfrag_test_tmpdir(dir, sizeof(dir)), "tmpdir");
	mp = rte_pktmbuf_pool_create("vf_mq_mp", 16383, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				     rte_socket_id());
	ret = mp == NULL ? TEST_FAILED : TEST_SUCCESS;
	snprintf(sock, sizeof(sock), "%s/vhost.sock", dir);
	if (ret == TEST_SUCCESS)
		ret = vf_peer_start_mq(&peer, dir, sock, 0, "macswap", MQ_QUEUES) == 0 &&
			pfrag_test_wait_file(sock, 20000) == 0 ? TEST_SUCCESS : TEST_FAILED;
	snprintf(args, sizeof(args), "path=%s,queues=%u", sock, MQ_QUEUES);
	if (ret == TEST_SUCCESS)
		ret = vf_port_create_mq(MQ_NAME, args, mp, MQ_RING, 9000, MQ_QUEUES, &port);
	if (ret == TEST_SUCCESS) {
		port_up = 1;
		ret = vf_wait_link(port, 1, 20000) == 0 &&
			vf_wait_traffic(port, mp, 20000) == 0 ? TEST_SUCCESS : TEST_FAILED;
		if (ret != TEST_SUCCESS)
			printf("link or first packet never came\n");
	}
	if (ret == TEST_SUCCESS) {
		rte_eth_stats_reset(port);
		ret = mq_traffic(port, mp, sent, received);
	}
	if (ret == TEST_SUCCESS) {
		rte_eth_stats_get(port, &st);
		for (q = 0; q < MQ_QUEUES; q++) {
			printf("  our queue %u: q_opackets %" PRIu64 " (sent %" PRIu64
			       "), q_ipackets %" PRIu64 " (received %" PRIu64 ")\n", q,
			       st.q_opackets[q], sent[q], st.q_ipackets[q], received[q]);
			if (st.q_opackets[q] != sent[q] || st.q_ipackets[q] != received[q])
				ret = TEST_FAILED;
		}
		if (ret != TEST_SUCCESS)
			printf("per-queue counters differ from the traffic of each queue\n");
	}
	if (port_up) {
		rte_eth_dev_stop(port);
		if (ret == TEST_SUCCESS) {
			ret = pfrag_test_pool_back(vf_port_pool(port), NULL, "after stop");
		}
		vf_port_destroy(MQ_NAME, port);
	}
	/* The peer prints its per-stream counters as it quits. */
	vf_peer_stop(&peer);
	for (q = 0; ret == TEST_SUCCESS && q < MQ_QUEUES; q++) {
		if (peer_stream_stats(peer.log, q, &peer_rx[q], &peer_tx[q]) != 0) {
			printf("no forward statistics for the peer's queue %u\n", q);
			ret = TEST_FAILED;
			break;
		}
		printf("  peer queue %u: RX %" PRIu64 ", TX %" PRIu64 "\n", q, peer_rx[q],
		       peer_tx[q]);
		/*
		 * Everything each of our queues sent went through the same peer
		 * queue; queue 0 also carried the pings that waited for the peer.
		 */
		if (peer_rx[q] < sent[q] || peer_tx[q] < received[q] ||
		    (q > 0 && (peer_rx[q] != sent[q] || peer_tx[q] != received[q]))) {
			printf("peer queue %u saw less than our queue %u moved\n", q, q);
			ret = TEST_FAILED;
		}
	}
	if (ret != TEST_SUCCESS)
		vf_peer_dump_log(&peer);
	rte_mempool_free(mp);
	pfrag_test_rmdir(dir);
	return ret;
}

PFRAG_TEST_REGISTER(virtio_frag_interop_mq_autotest, INTEROP, PFRAG_TEST_HUGE, test_virtio_frag_interop_mq);

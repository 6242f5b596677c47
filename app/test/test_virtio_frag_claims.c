/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The README claims of net_virtio_frag_user that need a device but no
 * network peer, each against the in-process vhost-user stub (test_vhost_stub.c)
 * where the test plays the device by hand:
 * - virtio_frag_claims_autotest: adaptive RX buffer size follows the traffic
 *   and a fixed rx_buf_size does not; mrg_rxbuf=0 posts frame-sized buffers
 *   and negotiates no MRG_RXBUF; queue_size is the ring when the application
 *   passes 0 descriptors; 129 buffers per packet pass, 130 are dropped whole.
 * - virtio_frag_reconnect_autotest: after the backend dies the rings resume
 *   at the used index; a client port retries once a second, not faster.
 * - virtio_frag_regions_autotest: EAL memory in more than 8 pieces fails to
 *   start with the error that names the limit and the fix.
 * - virtio_frag_claims_nohuge_autotest (no hugepages): bad devargs fail with
 *   a message naming the key; mac= reads back; close releases the pool
 *   quietly while the application holds a fragment, the next probe gets a
 *   fresh one;
 *   without hugepages (EAL backs --no-huge memory with a memfd) the port
 *   starts and receives.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <rte_bus_vdev.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_log.h>
#include <rte_mbuf.h>

#include <pfrag.h>

#include <virtio_frag.h>

#include "test.h"
#include "test_vhost_stub.h"
#include "test_virtio_frag_peer.h"

#define CL_NAME "net_virtio_frag_user5"
#define CL_FEATURES (VFRAG_BIT(VFRAG_F_VERSION_1) | VFRAG_BIT(VFRAG_NET_F_MRG_RXBUF))

static char dir[64];
static char sock[128];
static struct vstub stub;
static struct rte_mempool *mp;

/* ---- log capture: the messages a user would read ---- */

static char *log_buf;
static size_t log_len;
static FILE *log_stream;

static void
log_capture(void)
{
	log_stream = open_memstream(&log_buf, &log_len);
	if (log_stream != NULL)
		rte_openlog_stream(log_stream);
}

/* Stop capturing; the text stays in log_buf until the next capture. */
static void
log_release(void)
{
	rte_openlog_stream(NULL);
	if (log_stream != NULL)
		fclose(log_stream);
	log_stream = NULL;
}

static void
log_free(void)
{
	free(log_buf);
	log_buf = NULL;
	log_len = 0;
}

/* ---- ports against the stub ---- */

static int
stub_port(const char *extra, uint16_t ring, uint16_t mtu, uint16_t *port)
{
	char args[300];
	int ret;

	snprintf(sock, sizeof(sock), "%s/stub.sock", dir);
	TEST_ASSERT_SUCCESS(vstub_start(&stub, sock, CL_FEATURES), "stub backend on %s", sock);
	snprintf(args, sizeof(args), "path=%s%s%s", sock, extra[0] != '\0' ? "," : "", extra);
	ret = vf_port_create(CL_NAME, args, mp, ring, mtu, port);
	if (ret != 0)
		vstub_stop(&stub);
	TEST_ASSERT_SUCCESS(ret, "port with %s", args);
	if (vstub_wait_addr(&stub, 2, 5000) != 0) {
		vf_port_destroy(CL_NAME, *port);
		vstub_stop(&stub);
		TEST_ASSERT(0, "the rings never reached the backend");
	}
	return TEST_SUCCESS;
}

/* Stop: the pool must be idle by pages; then close and stop the stub. */
static int
stub_port_done(uint16_t port, int ret)
{
	int idle;

	rte_eth_dev_stop(port);
	idle = pfrag_test_pool_back(vf_port_pool(port), NULL, "after stop");
	vf_port_destroy(CL_NAME, port);
	vstub_stop(&stub);
	if (ret == TEST_SUCCESS && idle != TEST_SUCCESS)
		ret = TEST_FAILED;
	return ret;
}

/* Receive what is there; check each packet's bytes against the chain pattern. */
static int
rx_check(uint16_t port, uint16_t queue, uint32_t size, uint32_t chunk, uint8_t seed,
	 unsigned int *pkts, unsigned int *segs)
{
	struct rte_mbuf *m[32];
	static uint8_t buf[16384];
	const uint8_t *p;
	uint16_t nb, i;
	uint32_t k;
	int ret = TEST_SUCCESS;

	do {
		nb = rte_eth_rx_burst(port, queue, m, RTE_DIM(m));
		for (i = 0; i < nb; i++) {
			if (m[i]->pkt_len != size) {
				printf("packet of %u bytes, %u expected\n", m[i]->pkt_len, size);
				ret = TEST_FAILED;
			} else {
				p = rte_pktmbuf_read(m[i], 0, size, buf);
				for (k = 0; p != NULL && k < size; k++)
					if (p[k] != vstub_chain_byte(k, chunk, seed))
						break;
				if (p == NULL || k < size) {
					printf("packet byte %u differs\n", k);
					ret = TEST_FAILED;
				}
			}
			if (segs != NULL)
				*segs = m[i]->nb_segs;
			rte_pktmbuf_free(m[i]);
		}
		*pkts += nb;
	} while (nb > 0);
	return ret;
}

/* The descriptor length of the buffer the driver posted last on vring @p vr. */
static uint32_t
last_posted_len(unsigned int vr)
{
	const struct vring_avail *av = stub.avail[vr];
	uint16_t idx = __atomic_load_n(&av->idx, __ATOMIC_ACQUIRE) - 1;

	return stub.desc[vr][av->ring[idx & (stub.vring_num[vr] - 1)]].len;
}

/* @p n frames of @p size bytes, each received and checked. */
static int
rx_frames(uint16_t port, unsigned int n, uint32_t size)
{
	unsigned int i, pkts = 0;

	for (i = 0; i < n; i++) {
		TEST_ASSERT(vstub_rx_frame(&stub, 0, size, 1, (uint8_t)i) >= 0,
			    "frame %u: a posted buffer of %u bytes", i, size);
		TEST_ASSERT_SUCCESS(rx_check(port, 0, size, size, (uint8_t)i, &pkts, NULL),
				    "frame %u intact", i);
	}
	TEST_ASSERT_EQUAL(pkts, n, "every frame delivered");
	return TEST_SUCCESS;
}

/*
 * Mergeable and adaptive: buffers start frame-sized (1518 rounded up to
 * 1536), shrink to the 128-byte floor under 60-byte traffic (within two
 * windows of 256 packets) and grow again under 1400-byte frames (spread
 * over several small buffers meanwhile).
 */
static int
test_adaptive(void)
{
	unsigned int i, pkts = 0, segs = 0;
	uint16_t port;
	int ret = TEST_SUCCESS;

	TEST_ASSERT_SUCCESS(stub_port("queue_size=256", 256, RTE_ETHER_MTU, &port), "port");
	if (vf_xstat(port, "rx_buf_size") != 1536 || last_posted_len(0) != 1536 + 12) {
		printf("at start: rx_buf_size %" PRId64 ", posted %u; 1536 and 1548 expected\n",
		       vf_xstat(port, "rx_buf_size"), last_posted_len(0));
		ret = TEST_FAILED;
	}
	if (ret == TEST_SUCCESS)
		ret = rx_frames(port, 1200, 60);
	if (ret == TEST_SUCCESS && (vf_xstat(port, "rx_buf_size") != 128 ||
				    last_posted_len(0) != 128 + 12)) {
		printf("after 1200 x 60 B: rx_buf_size %" PRId64 ", posted %u; 128 and 140 "
		       "expected\n", vf_xstat(port, "rx_buf_size"), last_posted_len(0));
		ret = TEST_FAILED;
	}
	printf("  adaptive: 1536 at start, %" PRId64 " after 1200 x 60 B (%" PRId64 " bytes "
	       "pinned per posted slot)", vf_xstat(port, "rx_buf_size"),
	       vf_xstat(port, "rx_pinned_bytes_per_slot"));
	/*
	 * The README's figure: 64-byte traffic pins ~384 bytes per posted slot,
	 * the received packet's mbuf included (it is built in the fragment).
	 */
	if (ret == TEST_SUCCESS && vf_xstat(port, "rx_pinned_bytes_per_slot") > 384) {
		printf("\nsmall traffic pins %" PRId64 " bytes per slot, 384 at most expected\n",
		       vf_xstat(port, "rx_pinned_bytes_per_slot"));
		ret = TEST_FAILED;
	}
	/* 1400 bytes in 128-byte buffers (11 a packet), then in larger ones. */
	for (i = 0; ret == TEST_SUCCESS && i < 600; i++) {
		int nbufs = vstub_rx_packet(&stub, 0, 1400, (uint8_t)i);

		if (nbufs < 1 || rx_check(port, 0, 1400, 1400, (uint8_t)i, &pkts, &segs) !=
		    TEST_SUCCESS || segs != (unsigned int)nbufs) {
			printf("1400 B frame %u over %d buffers: not delivered intact\n", i,
			       nbufs);
			ret = TEST_FAILED;
		}
		if (i == 0)
			printf(" (the first 1400 B frame took %d buffers)", nbufs);
	}
	printf(", %" PRId64 " after 600 x 1400 B\n", vf_xstat(port, "rx_buf_size"));
	if (ret == TEST_SUCCESS && vf_xstat(port, "rx_buf_size") < 1344) {
		printf("rx_buf_size did not follow 1400-byte frames\n");
		ret = TEST_FAILED;
	}
	return stub_port_done(port, ret);
}

/*
 * Adaptive under a mix (IMIX: 7 x 64, 4 x 576, 1 x 1500 bytes, 354 on
 * average), after 600 small frames have shrunk the buffers to the floor:
 * the buffers grow to the largest recent frame, so once a window of the mix
 * and a ring turn have passed every frame takes one buffer, where the
 * average (384-byte buffers) would split every 1500-byte frame over four
 * and a maximum that decays between large frames would still split some
 * over two. Memory stays below what a 2 KB mbuf pins per slot.
 */
static int
test_adaptive_mix(void)
{
	static const uint32_t mix[12] = { 64, 576, 64, 64, 576, 64, 1500, 64, 576, 64, 576, 64 };
	static uint8_t buf[2048];
	unsigned int i, k, pkts = 0, most = 0;
	int nbufs[32], ret;
	struct rte_mbuf *m[32];
	const uint8_t *p;
	uint32_t len, b;
	uint16_t port, nb;

	TEST_ASSERT_SUCCESS(stub_port("queue_size=256", 256, RTE_ETHER_MTU, &port), "port");
	ret = rx_frames(port, 600, 60);
	if (ret == TEST_SUCCESS && vf_xstat(port, "rx_buf_size") != 128) {
		printf("after 600 x 60 B: rx_buf_size %" PRId64 ", 128 expected\n",
		       vf_xstat(port, "rx_buf_size"));
		ret = TEST_FAILED;
	}
	/*
	 * Bursts of 32, as a poll-mode application sees them: a refill then
	 * comes in the same burst as each turn of the window.
	 */
	for (i = 0; ret == TEST_SUCCESS && i < 1216; i += 32) {
		for (k = 0; k < 32; k++)
			nbufs[k] = vstub_rx_packet(&stub, 0, mix[(i + k) % 12], (uint8_t)(i + k));
		nb = rte_eth_rx_burst(port, 0, m, RTE_DIM(m));
		for (k = 0; k < nb; k++) {
			len = mix[(i + k) % 12];
			p = rte_pktmbuf_read(m[k], 0, len, buf);
			for (b = 0; p != NULL && b < len; b++)
				if (p[b] != vstub_chain_byte(b, len, (uint8_t)(i + k)))
					break;
			if (m[k]->pkt_len != len || p == NULL || b < len || nbufs[k] < 1 ||
			    m[k]->nb_segs != nbufs[k]) {
				printf("%u-byte frame %u over %d buffers: not delivered intact\n",
				       len, i + k, nbufs[k]);
				ret = TEST_FAILED;
			}
			/* Two windows of the mix and a ring turn: the buffers follow it. */
			if (i + k >= 2 * VFRAG_RX_WINDOW + 256 && m[k]->nb_segs > most)
				most = m[k]->nb_segs;
			rte_pktmbuf_free(m[k]);
		}
		pkts += nb;
		if (nb != 32) {
			printf("burst at frame %u: %u of 32 frames\n", i, nb);
			ret = TEST_FAILED;
		}
	}
	printf("  mix: rx_buf_size %" PRId64 ", at most %u buffers a frame, %" PRId64
	       " bytes pinned per posted slot\n", vf_xstat(port, "rx_buf_size"), most,
	       vf_xstat(port, "rx_pinned_bytes_per_slot"));
	if (ret == TEST_SUCCESS && pkts != 1216) {
		printf("%u of the mix's 1216 frames delivered\n", pkts);
		ret = TEST_FAILED;
	}
	if (ret == TEST_SUCCESS && most != 1) {
		printf("a frame of the mix took %u buffers, 1 expected\n", most);
		ret = TEST_FAILED;
	}
	if (ret == TEST_SUCCESS && vf_xstat(port, "rx_pinned_bytes_per_slot") >= 2368) {
		printf("the mix pins %" PRId64 " bytes per slot, what a 2 KB mbuf pins (2368) "
		       "or more\n", vf_xstat(port, "rx_pinned_bytes_per_slot"));
		ret = TEST_FAILED;
	}
	/*
	 * Stop reclaims the ring as traffic left it: its slots hold runs of
	 * a page's buffers (18 of these to a page), so far fewer drains than
	 * fragments; one drain per fragment would mean the runs were lost.
	 */
	rte_eth_dev_stop(port);
	printf("  stop: %" PRId64 " posted fragments went back in %" PRId64 " drains\n",
	       vf_xstat(port, "rx_drained_frags"), vf_xstat(port, "rx_drains"));
	if (ret == TEST_SUCCESS &&
	    4 * vf_xstat(port, "rx_drains") > vf_xstat(port, "rx_drained_frags")) {
		printf("the reclaim took more than one drain per 4 fragments\n");
		ret = TEST_FAILED;
	}
	return stub_port_done(port, ret);
}

/*
 * MTU 9000, adaptive: after small traffic the buffers shrink only as far as
 * a 9000-byte frame still fits in the 64 buffers a packet may span
 * (9022 / 64 rounded up to 192), so a jumbo frame is received at once.
 */
static int
test_adaptive_jumbo(void)
{
	unsigned int pkts = 0, segs = 0, i;
	uint16_t port;
	int ret, nbufs;

	TEST_ASSERT_SUCCESS(stub_port("queue_size=256", 256, 9000, &port), "port");
	ret = rx_frames(port, 600, 60);
	if (ret == TEST_SUCCESS && vf_xstat(port, "rx_buf_size") != 192) {
		printf("MTU 9000 after 600 x 60 B: rx_buf_size %" PRId64 ", 192 expected\n",
		       vf_xstat(port, "rx_buf_size"));
		ret = TEST_FAILED;
	}
	for (i = 0; ret == TEST_SUCCESS && i < 4; i++) {
		nbufs = vstub_rx_packet(&stub, 0, 9014, (uint8_t)i);
		if (nbufs < 1 || nbufs > 64 ||
		    rx_check(port, 0, 9014, 9014, (uint8_t)i, &pkts, &segs) != TEST_SUCCESS ||
		    pkts != i + 1) {
			printf("9014-byte frame %u over %d buffers not received\n", i, nbufs);
			ret = TEST_FAILED;
		}
	}
	return stub_port_done(port, ret);
}

/* rx_buf_size=512 pins the size: small traffic changes nothing. */
static int
test_fixed_size(void)
{
	uint16_t port;
	int ret;

	TEST_ASSERT_SUCCESS(stub_port("queue_size=256,rx_buf_size=512", 256, RTE_ETHER_MTU,
				      &port), "port");
	ret = rx_frames(port, 600, 60);
	if (ret == TEST_SUCCESS && (vf_xstat(port, "rx_buf_size") != 512 ||
				    last_posted_len(0) != 512 + 12)) {
		printf("rx_buf_size=512: xstat %" PRId64 ", posted %u after 600 x 60 B\n",
		       vf_xstat(port, "rx_buf_size"), last_posted_len(0));
		ret = TEST_FAILED;
	}
	return stub_port_done(port, ret);
}

/*
 * mrg_rxbuf=0: MRG_RXBUF is not negotiated although offered, every buffer
 * holds a whole frame of the MTU (1500 + 14 + 2 x 4 = 1522), and it stays so.
 */
static int
test_no_mrg_rxbuf(void)
{
	unsigned int i, pkts;
	uint16_t port;
	int ret;

	TEST_ASSERT_SUCCESS(stub_port("queue_size=256,mrg_rxbuf=0", 256, RTE_ETHER_MTU, &port),
			    "port");
	ret = rx_frames(port, 100, 1514);
	if (ret == TEST_SUCCESS)
		ret = rx_frames(port, 600, 60);
	/*
	 * Without MRG_RXBUF num_buffers means nothing and is not read (Linux
	 * neither): frames whose header says 0 or 7 are single frames all the same.
	 */
	for (i = 0; ret == TEST_SUCCESS && i < 8; i++) {
		pkts = 0;
		if (vstub_rx_frame(&stub, 0, 1000, i % 2 == 0 ? 0 : 7, (uint8_t)i) < 0 ||
		    rx_check(port, 0, 1000, 1000, (uint8_t)i, &pkts, NULL) != TEST_SUCCESS ||
		    pkts != 1) {
			printf("mrg_rxbuf=0: frame %u with num_buffers %u not delivered alone\n",
			       i, i % 2 == 0 ? 0 : 7);
			ret = TEST_FAILED;
		}
	}
	if (ret == TEST_SUCCESS &&
	    (__atomic_load_n(&stub.acked_features, __ATOMIC_ACQUIRE) &
	     VFRAG_BIT(VFRAG_NET_F_MRG_RXBUF)) != 0) {
		printf("mrg_rxbuf=0 negotiated MRG_RXBUF: %#" PRIx64 "\n", stub.acked_features);
		ret = TEST_FAILED;
	}
	if (ret == TEST_SUCCESS && (last_posted_len(0) != 1522 + 12 ||
				    vf_xstat(port, "rx_buf_size") != 1522)) {
		printf("mrg_rxbuf=0: posted %u, rx_buf_size %" PRId64 "; 1534 and 1522 "
		       "expected\n", last_posted_len(0), vf_xstat(port, "rx_buf_size"));
		ret = TEST_FAILED;
	}
	return stub_port_done(port, ret);
}

/* The application passes 0 descriptors: the rings get queue_size. */
static int
test_queue_size_default(void)
{
	uint16_t port;
	int ret = TEST_SUCCESS;

	TEST_ASSERT_SUCCESS(stub_port("queue_size=512", 0, RTE_ETHER_MTU, &port), "port");
	if (stub.vring_num[0] != 512 || stub.vring_num[1] != 512) {
		printf("queue_size=512, 0 descriptors asked: rings of %u (RX) and %u (TX)\n",
		       stub.vring_num[0], stub.vring_num[1]);
		ret = TEST_FAILED;
	}
	if (ret == TEST_SUCCESS && vf_xstat(port, "rx_posted_slots") != 512) {
		printf("512 RX slots expected posted, %" PRId64 "\n",
		       vf_xstat(port, "rx_posted_slots"));
		ret = TEST_FAILED;
	}
	return stub_port_done(port, ret);
}

/*
 * 1..129 buffers per packet (the largest frame of the largest MTU in the
 * smallest buffers): 129 make one packet of 129 segments; a packet that
 * announces 130 is dropped whole, its 129 other buffers consumed with it
 * (they look like one-buffer packets: parsing them would deliver them), and
 * the next packet comes through.
 */
#define CLAIM_MAX_CHAIN 129u

static int
test_chain_limit(void)
{
	const unsigned int max = CLAIM_MAX_CHAIN;
	unsigned int pkts = 0, segs = 0;
	int64_t bad0, multi0;
	uint16_t port;
	int ret = TEST_FAILED;

	TEST_ASSERT_SUCCESS(stub_port("queue_size=256,rx_buf_size=256", 256, RTE_ETHER_MTU,
				      &port), "port");
	bad0 = vf_xstat(port, "rx_bad_desc");
	multi0 = vf_xstat(port, "rx_multiseg_packets");
	/* 100 bytes a buffer: the whole packet fits rx_check()'s buffer. */
	if (vstub_rx_chain(&stub, 0, max, 100, max, 1) != (int)(max * 100) ||
	    rx_check(port, 0, max * 100, 100, 1, &pkts, &segs) != TEST_SUCCESS) {
		printf("%u-buffer packet not delivered intact\n", max);
		goto out;
	}
	if (pkts != 1 || segs != max ||
	    vf_xstat(port, "rx_multiseg_packets") != multi0 + 1 ||
	    vf_xstat(port, "rx_bad_desc") != bad0) {
		printf("%u buffers: %u packets of %u segments, bad %" PRId64 "\n", max, pkts,
		       segs, vf_xstat(port, "rx_bad_desc") - bad0);
		goto out;
	}
	pkts = 0;
	if (vstub_rx_chain(&stub, 0, max + 1, 100, max + 1, 2) < 0 ||
	    vstub_rx_frame(&stub, 0, 60, 1, 3) < 0) {
		printf("stub: not enough posted buffers\n");
		goto out;
	}
	if (rx_check(port, 0, 60, 60, 3, &pkts, &segs) != TEST_SUCCESS || pkts != 1) {
		printf("after a %u-buffer packet: %u packets delivered, only the next one "
		       "(60 bytes) expected\n", max + 1, pkts);
		goto out;
	}
	if (vf_xstat(port, "rx_bad_desc") <= bad0) {
		printf("the %u-buffer packet was not counted in rx_bad_desc\n", max + 1);
		goto out;
	}
	printf("  %u buffers: one packet of %u segments; %u: dropped (rx_bad_desc +%" PRId64
	       "), the next packet intact\n", max, max, max + 1,
	       vf_xstat(port, "rx_bad_desc") - bad0);
	ret = TEST_SUCCESS;
out:
	return stub_port_done(port, ret);
}

static int
claims_setup(void)
{
	TEST_ASSERT_SUCCESS(pfrag_test_tmpdir(dir, sizeof(dir)), "tmpdir");
	mp = rte_pktmbuf_pool_create("claims_mp", 4095, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				     rte_socket_id());
	TEST_ASSERT_NOT_NULL(mp, "mbuf pool");
	return TEST_SUCCESS;
}

static void
claims_teardown(void)
{
	rte_mempool_free(mp);
	mp = NULL;
	pfrag_test_rmdir(dir);
}

static const struct unit_test_suite claims_suite = {
	.name = "virtio_frag claims against a stub vhost-user backend",
	.setup = claims_setup,
	.teardown = claims_teardown,
	.cases = {
		TEST_CASE(test_adaptive),
		TEST_CASE(test_adaptive_mix),
		TEST_CASE(test_adaptive_jumbo),
		TEST_CASE(test_fixed_size),
		TEST_CASE(test_no_mrg_rxbuf),
		TEST_CASE(test_queue_size_default),
		TEST_CASE(test_chain_limit),
		TEST_CASES_END(),
	},
};

static int
virtio_frag_claims(void)
{
	return unit_test_suite_runner(&claims_suite);
}

/* ---- backend lost: resume and reconnect ---- */

/*
 * The backend dies with RX and TX entries used: the next backend is told to
 * resume at each ring's used index (SET_VRING_BASE), and a buffer posted
 * before the loss carries the first packet after it.
 */
static int
test_resume_used_index(void)
{
	struct rte_mbuf *tx[5];
	unsigned int pkts = 0, i;
	uint16_t port, id;
	uint8_t *buf;
	uint32_t len;
	int ret = TEST_FAILED;

	TEST_ASSERT_SUCCESS(stub_port("queue_size=256", 256, RTE_ETHER_MTU, &port), "port");
	if (rx_frames(port, 10, 100) != TEST_SUCCESS)
		goto out;
	if (rte_pktmbuf_alloc_bulk(mp, tx, RTE_DIM(tx)) != 0)
		goto out;
	for (i = 0; i < RTE_DIM(tx); i++)
		rte_pktmbuf_append(tx[i], 60);
	if (rte_eth_tx_burst(port, 0, tx, RTE_DIM(tx)) != RTE_DIM(tx)) {
		printf("TX burst refused\n");
		goto out;
	}
	/* The device completes three of the five. */
	for (i = 0; i < 3; i++) {
		if (vstub_take(&stub, 1, &id, &buf, &len) != 0)
			goto out;
		vstub_used(&stub, 1, id, 0);
	}
	vstub_drop(&stub);
	/* Client mode: the port reconnects by itself and replays the rings. */
	for (i = 0; i < 1000 && __atomic_load_n(&stub.base_msgs[0], __ATOMIC_ACQUIRE) < 2; i++)
		usleep(10000);
	if (stub.base_msgs[0] < 2 || stub.base_msgs[1] < 2) {
		printf("no second SET_VRING_BASE within 10 s: the port did not reconnect\n");
		goto out;
	}
	printf("  after the loss: SET_VRING_BASE RX %u (10 used), TX %u (3 used)\n",
	       stub.vring_base[0], stub.vring_base[1]);
	if (stub.vring_base[0] != 10 || stub.vring_base[1] != 3) {
		printf("rings must resume at the used index: RX 10, TX 3\n");
		goto out;
	}
	if (vf_wait_link(port, 1, 5000) != 0) {
		printf("link not up after the reconnect\n");
		goto out;
	}
	/* The next backend uses a buffer posted before the loss. */
	if (vstub_rx_frame(&stub, 0, 100, 1, 77) < 0 ||
	    rx_check(port, 0, 100, 100, 77, &pkts, NULL) != TEST_SUCCESS || pkts != 1) {
		printf("first packet after the reconnect not delivered\n");
		goto out;
	}
	ret = TEST_SUCCESS;
out:
	return stub_port_done(port, ret);
}

/*
 * A client port whose backend is gone tries again once a second (devarg
 * table: "reconnects every second after a loss"): attempts the stub refuses
 * are spaced by at least half a second (a lower bound load cannot break),
 * and the attempts keep coming; once the backend accepts, the link is up.
 */
static int
test_reconnect_interval(void)
{
	uint32_t first, n, i;
	uint64_t gap_min = UINT64_MAX, gap;
	uint16_t port;
	int ret = TEST_FAILED;

	TEST_ASSERT_SUCCESS(stub_port("queue_size=256", 256, RTE_ETHER_MTU, &port), "port");
	first = __atomic_load_n(&stub.accepts, __ATOMIC_ACQUIRE);
	stub.refuse = 1;
	vstub_drop(&stub);
	for (i = 0; i < 1500 && __atomic_load_n(&stub.accepts, __ATOMIC_ACQUIRE) < first + 4;
	     i++)
		usleep(10000);
	n = __atomic_load_n(&stub.accepts, __ATOMIC_ACQUIRE);
	if (n < first + 4) {
		printf("%u reconnect attempts in 15 s, 4 expected\n", n - first);
		goto out;
	}
	for (i = first + 1; i < n && i < VSTUB_MAX_ACCEPTS; i++) {
		gap = stub.accept_ns[i] - stub.accept_ns[i - 1];
		gap_min = RTE_MIN(gap_min, gap);
	}
	printf("  %u refused reconnect attempts, shortest gap %.3f s\n", n - first,
	       gap_min / 1e9);
	if (gap_min < 500000000ull) {
		printf("reconnect attempts closer than 0.5 s\n");
		goto out;
	}
	stub.refuse = 0;
	if (vf_wait_link(port, 1, 10000) != 0) {
		printf("link not up once the backend accepts again\n");
		goto out;
	}
	ret = TEST_SUCCESS;
out:
	stub.refuse = 0;
	return stub_port_done(port, ret);
}

static const struct unit_test_suite reconnect_suite = {
	.name = "virtio_frag: backend lost and back",
	.setup = claims_setup,
	.teardown = claims_teardown,
	.cases = {
		TEST_CASE(test_resume_used_index),
		TEST_CASE(test_reconnect_interval),
		TEST_CASES_END(),
	},
};

static int
virtio_frag_reconnect(void)
{
	return unit_test_suite_runner(&reconnect_suite);
}

/* ---- more than 8 memory regions ---- */

#define REGIONS_ENV "PFRAG_TEST_REGIONS_CHILD"

/*
 * In the child (no --single-file-segments: one file per 2 MB page, 32 pages):
 * the port probes, start fails, and the log says why and what to do.
 */
static int
regions_child(void)
{
	uint16_t port;
	char args[300];
	int ret;

	TEST_ASSERT_SUCCESS(claims_setup(), "setup");
	snprintf(sock, sizeof(sock), "%s/stub.sock", dir);
	TEST_ASSERT_SUCCESS(vstub_start(&stub, sock, CL_FEATURES), "stub");
	snprintf(args, sizeof(args), "path=%s", sock);
	TEST_ASSERT_SUCCESS(rte_vdev_init(CL_NAME, args), "probe");
	TEST_ASSERT_SUCCESS(rte_eth_dev_get_port_by_name(CL_NAME, &port), "port");
	{
		struct rte_eth_conf conf;

		memset(&conf, 0, sizeof(conf));
		TEST_ASSERT_SUCCESS(rte_eth_dev_configure(port, 1, 1, &conf), "configure");
		TEST_ASSERT_SUCCESS(rte_eth_rx_queue_setup(port, 0, 256, rte_socket_id(),
							   NULL, mp), "rxq");
		TEST_ASSERT_SUCCESS(rte_eth_tx_queue_setup(port, 0, 256, rte_socket_id(),
							   NULL), "txq");
	}
	log_capture();
	ret = rte_eth_dev_start(port);
	log_release();
	rte_eth_dev_close(port);
	rte_vdev_uninit(CL_NAME);
	vstub_stop(&stub);
	claims_teardown();
	printf("  start: %d; log: %s\n", ret, log_buf != NULL ? log_buf : "");
	TEST_ASSERT(ret != 0, "start must fail with memory in more than 8 regions");
	TEST_ASSERT(log_buf != NULL && strstr(log_buf, "more than 8 vhost-user memory regions")
		    != NULL && strstr(log_buf, "--single-file-segments") != NULL,
		    "the error names the limit and the fix");
	TEST_ASSERT_EQUAL(stub.mem_tables, 0, "no memory table was sent");
	log_free();
	return TEST_SUCCESS;
}

static int
virtio_frag_regions(void)
{
	char exe[4096], prefix[64], runtime[128];
	ssize_t n;
	pid_t pid;
	int status;

	if (getenv(REGIONS_ENV) != NULL)
		return regions_child();
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	TEST_ASSERT(n > 0, "/proc/self/exe");
	exe[n] = '\0';
	snprintf(prefix, sizeof(prefix), "--file-prefix=pfrag-regions-%d", getpid());
	fflush(stdout);
	pid = fork();
	TEST_ASSERT(pid >= 0, "fork");
	if (pid == 0) {
		setenv(REGIONS_ENV, "1", 1);
		/* No --single-file-segments: every 2 MB page is a file of its own. */
		execl(exe, exe, "virtio_frag_regions_autotest", "--no-pci", "--in-memory",
		      prefix, "-m", "64", "--log-level=lib.eal:warning", (char *)NULL);
		_exit(127);
	}
	TEST_ASSERT_EQUAL(waitpid(pid, &status, 0), pid, "wait for the child");
	snprintf(runtime, sizeof(runtime), "/var/run/dpdk/%s", prefix + strlen("--file-prefix="));
	rmdir(runtime);
	TEST_ASSERT(WIFEXITED(status), "child died");
	if (WEXITSTATUS(status) == TEST_SKIPPED) {
		pfrag_test_skip_reason("the child could not get 32 hugepages");
		return TEST_SKIPPED;
	}
	TEST_ASSERT_EQUAL(WEXITSTATUS(status), 0, "child: see its output above");
	return TEST_SUCCESS;
}

/* ---- without hugepages ---- */

/* Probe with @p devargs must fail, and the log must name @p key. */
static int
devarg_fails(const char *devargs, const char *key)
{
	uint16_t port;
	int ret;

	log_capture();
	ret = rte_vdev_init(CL_NAME, devargs);
	log_release();
	if (ret == 0) {
		rte_eth_dev_get_port_by_name(CL_NAME, &port);
		rte_eth_dev_close(port);
		rte_vdev_uninit(CL_NAME);
	}
	TEST_ASSERT(ret != 0, "probe with '%s' must fail", devargs);
	TEST_ASSERT(log_buf != NULL && strstr(log_buf, key) != NULL,
		    "'%s': the error must name '%s'; the log said: %s", devargs, key,
		    log_buf != NULL ? log_buf : "(nothing)");
	log_free();
	return TEST_SUCCESS;
}

static int
test_devargs_name_the_key(void)
{
	static const char *const bad[][2] = {
		{ "path=/x.sock,in_order=2", "in_order" },
		{ "path=/x.sock,pool_pages=abc", "pool_pages" },
		{ "path=/x.sock,pool_pages=99999999", "pool_pages" },
		{ "path=/x.sock,queue_size=32", "queue_size" },
		{ "path=/x.sock,queue_size=100", "queue_size" },
		{ "path=/x.sock,queues=9", "queues" },
		{ "path=/x.sock,server=2", "server" },
		{ "path=/x.sock,mrg_rxbuf=2", "mrg_rxbuf" },
		{ "path=/x.sock,rx_buf_size=10", "rx_buf_size" },
		{ "path=/x.sock,page_size=5000", "page_size" },
		{ "path=/x.sock,mac=01:00:00:00:00:01", "mac" },
		{ "path=/x.sock,mac=02:00:00:00:00:01,mac=02:00:00:00:00:02",
		  "mac given more than once" },
		{ "path=/x.sock,queue_size=256,queue_size=512", "queue_size given more than once" },
		{ "path=/x.sock,pool=a,pool=b", "pool given more than once" },
		{ "path=/x.sock,pool=nosuchpool", "nosuchpool" },
		{ "path=/x.sock,path=/y.sock", "path" },
		{ "server=1", "path" },
		{ "path=/x.sock,bogus=1", "bogus" },
	};
	unsigned int i;

	for (i = 0; i < RTE_DIM(bad); i++)
		TEST_ASSERT_SUCCESS(devarg_fails(bad[i][0], bad[i][1]), "devargs %u", i);
	return TEST_SUCCESS;
}

/* page_size= and pool_pages= shape the port's own pool. */
static int
test_pool_devargs(void)
{
	struct pfrag_pool_info info;
	char args[300];
	uint16_t port;

	snprintf(args, sizeof(args), "path=%s/pool.sock,server=1,page_size=16384,pool_pages=300",
		 dir);
	TEST_ASSERT_SUCCESS(rte_vdev_init(CL_NAME, args), "probe");
	TEST_ASSERT_SUCCESS(rte_eth_dev_get_port_by_name(CL_NAME, &port), "port");
	TEST_ASSERT_SUCCESS(pfrag_pool_info_get(vf_port_pool(port), &info), "port %u's pool", port);
	TEST_ASSERT_EQUAL(vf_xstat(port, "pool_page_size"), 16384, "page_size= in xstats");
	TEST_ASSERT_SUCCESS(rte_eth_dev_close(port), "close");
	TEST_ASSERT_SUCCESS(rte_vdev_uninit(CL_NAME), "uninit");
	TEST_ASSERT_EQUAL(info.page_size, 16384, "page_size=16384");
	TEST_ASSERT_EQUAL(info.nb_pages, 300, "pool_pages=300");
	return TEST_SUCCESS;
}

/* mac= is the port's address; a new one set by the application reads back too. */
static int
test_mac_read_back(void)
{
	struct rte_ether_addr want = { .addr_bytes = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 } };
	struct rte_ether_addr next = { .addr_bytes = { 0x02, 0x66, 0x77, 0x88, 0x99, 0xaa } };
	struct rte_ether_addr got;
	char args[300];
	uint16_t port;

	snprintf(args, sizeof(args), "path=%s/mac.sock,server=1,mac=02:11:22:33:44:55", dir);
	TEST_ASSERT_SUCCESS(rte_vdev_init(CL_NAME, args), "probe");
	TEST_ASSERT_SUCCESS(rte_eth_dev_get_port_by_name(CL_NAME, &port), "port");
	TEST_ASSERT_SUCCESS(rte_eth_macaddr_get(port, &got), "mac");
	TEST_ASSERT(rte_is_same_ether_addr(&got, &want), "mac= not read back: "
		    RTE_ETHER_ADDR_PRT_FMT, RTE_ETHER_ADDR_BYTES(&got));
	TEST_ASSERT_SUCCESS(rte_eth_dev_default_mac_addr_set(port, &next), "set mac");
	TEST_ASSERT_SUCCESS(rte_eth_macaddr_get(port, &got), "mac");
	TEST_ASSERT(rte_is_same_ether_addr(&got, &next), "new mac not read back");
	TEST_ASSERT_SUCCESS(rte_eth_dev_close(port), "close");
	TEST_ASSERT_SUCCESS(rte_vdev_uninit(CL_NAME), "uninit");
	return TEST_SUCCESS;
}

/*
 * The application still holds a fragment of the port's pool at close: close
 * releases the pool quietly (no warning: the name is free at once, the pool
 * goes when the fragment comes back), the fragment stays usable, and the
 * next probe of the port gets a fresh, idle pool.
 */
static int
test_pool_released_at_close(void)
{
	struct pfrag_pool *pool, *again;
	char args[300];
	uint16_t port;
	uint8_t *frag;

	snprintf(args, sizeof(args), "path=%s/kept.sock,server=1", dir);
	TEST_ASSERT_SUCCESS(rte_vdev_init(CL_NAME, args), "probe");
	TEST_ASSERT_SUCCESS(rte_eth_dev_get_port_by_name(CL_NAME, &port), "port");
	pool = vf_port_pool(port);
	TEST_ASSERT_NOT_NULL(pool, "port %u has its pool", port);
	frag = pfrag_alloc(pool, 100, 0);
	TEST_ASSERT_NOT_NULL(frag, "a fragment the application keeps");
	log_capture();
	rte_eth_dev_close(port);
	log_release();
	TEST_ASSERT_SUCCESS(rte_vdev_uninit(CL_NAME), "uninit");
	TEST_ASSERT(log_buf == NULL || strstr(log_buf, "pool") == NULL,
		    "close with a fragment held must not complain about the pool: %s", log_buf);
	log_free();
	TEST_ASSERT_NULL(vf_port_pool(port), "the pool's name is free after close");
	memset(frag, 0x5a, 100);

	TEST_ASSERT_SUCCESS(rte_vdev_init(CL_NAME, args), "probe again");
	TEST_ASSERT_SUCCESS(rte_eth_dev_get_port_by_name(CL_NAME, &port), "port");
	again = vf_port_pool(port);
	TEST_ASSERT(again != NULL && again != pool, "the next probe makes a fresh pool");
	TEST_ASSERT_EQUAL(vf_xstat(port, "pool_frags_out"), 0, "the fresh pool is idle");
	pfrag_free(frag);
	TEST_ASSERT_SUCCESS(rte_eth_dev_close(port), "close");
	TEST_ASSERT_SUCCESS(rte_vdev_uninit(CL_NAME), "uninit");
	TEST_ASSERT_NULL(vf_port_pool(port), "close gives the pool up");
	return TEST_SUCCESS;
}

/*
 * No hugepages: EAL 22.11 backs --no-huge memory with a memfd, so the port
 * probes, starts, shares that memory in one region and receives.
 */
static int
test_nohuge_memfd(void)
{
	unsigned int pkts = 0;
	char args[300];
	uint16_t port;
	int ret;

	TEST_ASSERT(!pfrag_test_have_hugepages(), "this case runs with --no-huge");
	snprintf(sock, sizeof(sock), "%s/nohuge.sock", dir);
	TEST_ASSERT_SUCCESS(vstub_start(&stub, sock, CL_FEATURES), "stub");
	snprintf(args, sizeof(args), "path=%s", sock);
	ret = vf_port_create(CL_NAME, args, mp, 256, RTE_ETHER_MTU, &port);
	if (ret != 0)
		vstub_stop(&stub);
	TEST_ASSERT_SUCCESS(ret, "a port without hugepages probes and starts");
	ret = vstub_wait_addr(&stub, 2, 5000);
	if (ret == 0 && (stub.mem_tables < 1 || stub.last_nregions != 1)) {
		printf("memory tables %u, regions %u: one table of one region expected\n",
		       stub.mem_tables, stub.last_nregions);
		ret = -1;
	}
	if (ret == 0 && (vstub_rx_frame(&stub, 0, 200, 1, 9) < 0 ||
			 rx_check(port, 0, 200, 200, 9, &pkts, NULL) != TEST_SUCCESS ||
			 pkts != 1)) {
		printf("a frame through memfd-backed memory was not received\n");
		ret = -1;
	}
	ret = stub_port_done(port, ret == 0 ? TEST_SUCCESS : TEST_FAILED);
	return ret;
}

static const struct unit_test_suite nohuge_suite = {
	.name = "virtio_frag claims without hugepages",
	.setup = claims_setup,
	.teardown = claims_teardown,
	.cases = {
		TEST_CASE(test_devargs_name_the_key),
		TEST_CASE(test_mac_read_back),
		TEST_CASE(test_pool_devargs),
		TEST_CASE(test_pool_released_at_close),
		TEST_CASE(test_nohuge_memfd),
		TEST_CASES_END(),
	},
};

static int
virtio_frag_claims_nohuge(void)
{
	return unit_test_suite_runner(&nohuge_suite);
}

PFRAG_TEST_REGISTER(virtio_frag_claims_nohuge_autotest, FAST, PFRAG_TEST_NOHUGE, virtio_frag_claims_nohuge);
PFRAG_TEST_REGISTER(virtio_frag_claims_autotest, FAST, PFRAG_TEST_HUGE, virtio_frag_claims);
PFRAG_TEST_REGISTER(virtio_frag_reconnect_autotest, FAST, PFRAG_TEST_HUGE, virtio_frag_reconnect);
PFRAG_TEST_REGISTER(virtio_frag_regions_autotest, FAST, PFRAG_TEST_HUGE, virtio_frag_regions);

/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * System tests of virtio_frag against the distro dpdk-testpmd net_vhost peer
 * (interop-tests), the faults a correct backend and ordinary traffic bring:
 * - a stream mixing 64..9000-byte frames across runtime MTU changes, with and
 *   without mergeable buffers, adaptive and fixed buffer sizes: every frame
 *   back intact, no bad descriptor, the pool back to its start after close;
 * - stop/start cycles with traffic in flight, queue count and ring sizes
 *   changed between cycles (300; PFRAG_STRESS_LONG=1: 1,000);
 * - a tiny fragment pool run dry under full-rate RX while the application
 *   holds what it received: drops are counted in rx_nombuf, traffic comes
 *   back once the application frees; the same with the application holding
 *   every mbuf of the mempool the queue was set up with, which gives RX none
 *   (received mbufs are built in their fragments).
 * Each unit starts its own peer and always stops it.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_bus_vdev.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_memzone.h>

#include <pfrag.h>

#include "test.h"
#include "test_virtio_frag_peer.h"

#define SYS_NAME "net_virtio_frag_user0"
#define SYS_RING 256
#define SYS_MTU_SMALL 1500
#define SYS_MTU_JUMBO 9000
#define SYS_JUMBO_FRAME 9000u   /* the largest frame of the stream, <= MTU + 14 */
#define SYS_POOL "vfsys"

struct sys_ctx {
	char dir[64];
	char sock[128];
	struct vf_peer peer;
	struct rte_mempool *mp;   /* TX packets and RX header mbufs */
	uint16_t port;
	int port_up;
};

static struct sys_ctx ctx;

/* Peer (vhost-user server, @p queues queue pairs, @p fwd) and mempool. */
static int
sys_setup(const char *fwd, uint16_t queues)
{
	int ret;

	memset(&ctx, 0, sizeof(ctx));
	ret = vf_peer_prepare(&ctx.peer, ctx.dir, sizeof(ctx.dir), ctx.sock, sizeof(ctx.sock));
	if (ret != TEST_SUCCESS)
		return ret;
	ctx.mp = rte_pktmbuf_pool_create("vf_sys_mp", 8191, 256, 0,
					 RTE_MBUF_DEFAULT_BUF_SIZE, rte_socket_id());
	TEST_ASSERT_NOT_NULL(ctx.mp, "mempool");
	ret = vf_peer_start_mq(&ctx.peer, ctx.dir, ctx.sock, 0, fwd, queues);
	TEST_ASSERT_SUCCESS(ret, "peer start");
	ret = pfrag_test_wait_file(ctx.sock, 20000);
	if (ret != 0)
		vf_peer_dump_log(&ctx.peer);
	TEST_ASSERT_SUCCESS(ret, "peer socket %s did not appear", ctx.sock);
	return TEST_SUCCESS;
}

static void sys_release_held(void);

static void
sys_teardown(void)
{
	/* Mbufs a failed unit still holds go back before their port and pools. */
	sys_release_held();
	if (ctx.port_up)
		vf_port_destroy(SYS_NAME, ctx.port);
	ctx.port_up = 0;
	vf_peer_stop(&ctx.peer);
	if (ctx.dir[0] != '\0')
		pfrag_test_rmdir(ctx.dir);
	ctx.dir[0] = '\0';
	rte_mempool_free(ctx.mp);
	ctx.mp = NULL;
}

/* Memzones of pfrag pools (pages and ring): a pool still alive keeps them. */
static void
sys_mz_count_one(const struct rte_memzone *mz, void *arg)
{
	if (strncmp(mz->name, "pfrag", 5) == 0 || strncmp(mz->name, "RG_pfrag", 8) == 0)
		(*(unsigned int *)arg)++;
}

static unsigned int
sys_pool_memzones(void)
{
	unsigned int n = 0;

	rte_memzone_walk(sys_mz_count_one, &n);
	return n;
}

/* Every mbuf back in its mempool (caches included): nothing leaked or held. */
static int
sys_check_mempool(const struct rte_mempool *mp, const char *when)
{
	TEST_ASSERT_EQUAL(rte_mempool_avail_count(mp), mp->size,
			  "%s: every mbuf of %s back (%u of %u)", when, mp->name,
			  rte_mempool_avail_count(mp), mp->size);
	return TEST_SUCCESS;
}

/*
 * Close of a port with its own pool: with nothing out the pool is destroyed
 * at once (no release left pending) and its memzones are back.
 */
static int
sys_check_closed(unsigned int mz_start)
{
	TEST_ASSERT_EQUAL(pfrag_pool_released_count(), 0,
			  "pool destroyed at close: no fragment out");
	TEST_ASSERT_EQUAL(sys_pool_memzones(), mz_start, "pool memzones back after close");
	return TEST_SUCCESS;
}

/* ---- 1. mixed stream across runtime MTU changes ---- */

enum mix_kind { MIX_UNIFORM, MIX_SMALL, MIX_LARGE, MIX_ALTERNATE };

#define MIX_BLOCK 768          /* frames per block of one kind */
#define MIX_MAX_BLOCKS 8

/*
 * A deterministic pseudo-random sequence of frame sizes, by blocks: all
 * small frames (the adaptive buffer size falls to its floor and the ring
 * fills with small buffers), then frames near the largest size (the first
 * ones exactly the largest), uniform sizes, or small and large alternating.
 */
struct mix {
	uint32_t max;                  /* largest frame */
	uint32_t seed;
	unsigned int nb_blocks;
	enum mix_kind kind[MIX_MAX_BLOCKS];
};

static uint32_t
mix_hash(uint32_t x)
{
	x ^= x >> 16;
	x *= 0x7feb352du;
	x ^= x >> 15;
	x *= 0x846ca68bu;
	x ^= x >> 16;
	return x;
}

static uint32_t
mix_size(uint32_t seq, void *arg)
{
	const struct mix *m = arg;
	uint32_t r = mix_hash(seq * 2654435761u ^ m->seed);
	uint32_t span = m->max - 64 + 1, large = m->max - r % RTE_MIN(span, 512u);

	switch (m->kind[(seq / MIX_BLOCK) % m->nb_blocks]) {
	case MIX_SMALL:
		return 64 + r % 65;
	case MIX_LARGE:
		/* The largest frame itself first: the ring still holds what came before. */
		return seq % MIX_BLOCK < 8 ? m->max : large;
	case MIX_ALTERNATE:
		return seq & 1 ? 64 + r % 64 : large;
	default:
		return 64 + r % span;
	}
}

struct mtu_case {
	int mrg;
	uint32_t rx_buf_size;
	const char *what;
};

/* Run one mixed stream of @p m's blocks; every frame must come back intact. */
static int
sys_mixed_stream(const struct mix *m, const char *phase)
{
	struct vf_stream s = {
		.port = ctx.port,
		.queue = 0,
		.mp = ctx.mp,
		.n = m->nb_blocks * MIX_BLOCK,
		.size = mix_size,
		.arg = (void *)(uintptr_t)m,
		/*
		 * The peer drops what finds no posted buffer, as a NIC would:
		 * keep what is in flight well under what the ring holds.
		 */
		.window = 64,
		.window_bytes = 16384,
		.timeout_ms = 3000,
	};
	struct vf_rt_result r;
	uint64_t bytes = 0, t0 = pfrag_test_now_ms();
	uint32_t i, lo = UINT32_MAX, hi = 0, sz;
	int ret;

	for (i = 0; i < s.n; i++) {
		sz = mix_size(i, s.arg);
		bytes += sz;
		lo = RTE_MIN(lo, sz);
		hi = RTE_MAX(hi, sz);
	}
	ret = vf_stream_run(&s, &r);
	printf("    %s: %u frames of %u..%u bytes (%" PRIu64 " KB) in %" PRIu64 " ms: "
	       "sent %" PRIu64 ", back intact %" PRIu64 ", bad %" PRIu64 ", lost or unsent %"
	       PRIu64 ", stale %" PRIu64 ", foreign %" PRIu64 "; rx_bad_desc %" PRId64
	       ", rx_buf_size %" PRId64 "\n", phase, s.n, lo, hi, bytes / 1024,
	       pfrag_test_now_ms() - t0, r.sent, r.received, r.bad, r.lost, r.stale, r.foreign,
	       vf_xstat(ctx.port, "rx_bad_desc"), vf_xstat(ctx.port, "rx_buf_size"));
	if (ret != 0) {
		vf_port_dump(ctx.port);
		vf_peer_dump_log(&ctx.peer);
	}
	TEST_ASSERT_EQUAL(r.foreign, 0, "%s: no frame that we did not send (payload "
			  "parsed as a frame)", phase);
	TEST_ASSERT_EQUAL(r.bad, 0, "%s: no frame damaged, duplicated or reordered", phase);
	TEST_ASSERT_EQUAL(r.stale, 0, "%s: no frame of an earlier stream", phase);
	TEST_ASSERT_EQUAL(r.received, s.n, "%s: every frame back (%" PRIu64 " lost)",
			  phase, r.lost);
	TEST_ASSERT_EQUAL(r.sent, s.n, "%s: every frame sent once", phase);
	TEST_ASSERT_EQUAL(vf_xstat(ctx.port, "rx_bad_desc"), 0,
			  "%s: no bad descriptor from a correct backend", phase);
	return TEST_SUCCESS;
}

/* Wait for the link and the first echo after a (re)start. */
static int
sys_wait_up(uint16_t nb_queues)
{
	uint16_t q;
	int ret;

	ret = vf_wait_link(ctx.port, 1, 10000);
	if (ret != 0)
		vf_peer_dump_log(&ctx.peer);
	TEST_ASSERT_SUCCESS(ret, "link up");
	for (q = 0; q < nb_queues; q++) {
		ret = vf_wait_traffic_q(ctx.port, q, ctx.mp, 10000);
		if (ret != 0) {
			vf_port_dump(ctx.port);
			vf_peer_dump_log(&ctx.peer);
		}
		TEST_ASSERT_SUCCESS(ret, "queue %u: the peer forwards", q);
	}
	return TEST_SUCCESS;
}

/*
 * Change the MTU. With mergeable buffers it changes at runtime. Without,
 * every posted buffer must hold a whole frame of the new MTU, and posted
 * buffers cannot be taken back from a running device: the driver refuses
 * (-EBUSY, MTU unchanged) and the application stops the port around it.
 */
static int
sys_set_mtu(const struct mtu_case *c, uint16_t mtu)
{
	uint16_t cur = 0;
	int ret;

	ret = rte_eth_dev_set_mtu(ctx.port, mtu);
	if (c->mrg) {
		TEST_ASSERT_SUCCESS(ret, "MTU %u at runtime with mergeable buffers", mtu);
	} else {
		TEST_ASSERT_EQUAL(ret, -EBUSY, "MTU %u refused while started without "
				  "mergeable buffers", mtu);
		TEST_ASSERT_SUCCESS(rte_eth_dev_get_mtu(ctx.port, &cur), "get MTU");
		TEST_ASSERT(cur != mtu, "a refused MTU change leaves the MTU as it was");
		TEST_ASSERT_SUCCESS(rte_eth_dev_stop(ctx.port), "stop");
		TEST_ASSERT_SUCCESS(rte_eth_dev_set_mtu(ctx.port, mtu), "MTU %u while stopped",
				    mtu);
		TEST_ASSERT_SUCCESS(rte_eth_dev_start(ctx.port), "start");
		TEST_ASSERT_SUCCESS(sys_wait_up(1), "up again after the MTU change");
		/* Buffers sized to the MTU: a whole frame fits one buffer. */
		TEST_ASSERT(vf_xstat(ctx.port, "rx_buf_size") >=
			    (int64_t)mtu + RTE_ETHER_HDR_LEN,
			    "RX buffers of %" PRId64 " bytes hold a frame of MTU %u",
			    vf_xstat(ctx.port, "rx_buf_size"), mtu);
	}
	TEST_ASSERT_SUCCESS(rte_eth_dev_get_mtu(ctx.port, &cur), "get MTU");
	TEST_ASSERT_EQUAL(cur, mtu, "MTU now %u", mtu);
	return TEST_SUCCESS;
}

/*
 * Without mergeable buffers a frame longer than the posted buffers cannot
 * be placed: the backend drops it (its own counter), the driver never sees
 * a truncated or partial frame, and the next frames arrive.
 */
static int
sys_oversized(void)
{
	struct vf_rt_result r;
	int ret;

	ret = vf_roundtrip(ctx.port, ctx.mp, SYS_JUMBO_FRAME, 8, 8, 500, &r);
	printf("    %u-byte frames at MTU %u: sent %" PRIu64 ", back %" PRIu64 ", bad %"
	       PRIu64 ", foreign %" PRIu64 " (dropped by the backend)\n", SYS_JUMBO_FRAME,
	       SYS_MTU_SMALL, r.sent, r.received, r.bad, r.foreign);
	TEST_ASSERT(ret != 0 && r.received == 0, "a frame larger than every posted "
		    "buffer is not delivered");
	TEST_ASSERT_EQUAL(r.bad + r.foreign, 0, "nothing truncated or partial delivered");
	TEST_ASSERT_EQUAL(vf_xstat(ctx.port, "rx_bad_desc"), 0, "no bad descriptor");
	ret = vf_roundtrip(ctx.port, ctx.mp, 1514, 1000, 16, 3000, &r);
	TEST_ASSERT_SUCCESS(ret, "MTU-sized frames after the oversized ones: %" PRIu64
			    "/1000 back", r.received);
	return TEST_SUCCESS;
}

static int
sys_mtu_case(const struct mtu_case *c, struct pfrag_pool *pool,
	     const struct pfrag_pool_info *start)
{
	/* At MTU 1500 the stream ends on small frames: the ring is full of them. */
	static const struct mix small_mtu = { SYS_MTU_SMALL + RTE_ETHER_HDR_LEN, 1, 5,
		{ MIX_UNIFORM, MIX_LARGE, MIX_SMALL, MIX_ALTERNATE, MIX_SMALL } };
	/* Jumbo frames first, right after the change; small runs then jumbo again. */
	static const struct mix jumbo_mtu = { SYS_JUMBO_FRAME, 2, 7,
		{ MIX_LARGE, MIX_UNIFORM, MIX_SMALL, MIX_LARGE, MIX_ALTERNATE, MIX_SMALL,
		  MIX_UNIFORM } };
	static const struct mix back_mtu = { SYS_MTU_SMALL + RTE_ETHER_HDR_LEN, 3, 4,
		{ MIX_SMALL, MIX_LARGE, MIX_UNIFORM, MIX_ALTERNATE } };
	struct rte_eth_stats st;
	char devargs[256];
	int ret;

	printf("  %s (mrg_rxbuf=%d rx_buf_size=%u)\n", c->what, c->mrg, c->rx_buf_size);
	snprintf(devargs, sizeof(devargs), "path=%s,mrg_rxbuf=%d,rx_buf_size=%u,pool=%s",
		 ctx.sock, c->mrg, c->rx_buf_size, SYS_POOL);
	ret = vf_port_create(SYS_NAME, devargs, ctx.mp, SYS_RING, SYS_MTU_SMALL, &ctx.port);
	TEST_ASSERT_SUCCESS(ret, "port create with %s", devargs);
	ctx.port_up = 1;
	TEST_ASSERT_SUCCESS(sys_wait_up(1), "port up");
	rte_eth_stats_reset(ctx.port);

	TEST_ASSERT_SUCCESS(sys_mixed_stream(&small_mtu, "MTU 1500"), "MTU 1500 stream");
	TEST_ASSERT_SUCCESS(sys_set_mtu(c, SYS_MTU_JUMBO), "MTU up");
	TEST_ASSERT_SUCCESS(sys_mixed_stream(&jumbo_mtu, "MTU 9000"), "MTU 9000 stream");
	TEST_ASSERT_SUCCESS(sys_set_mtu(c, SYS_MTU_SMALL), "MTU down");
	TEST_ASSERT_SUCCESS(sys_mixed_stream(&back_mtu, "MTU 1500 again"),
			    "MTU 1500 stream after 9000");
	if (!c->mrg)
		TEST_ASSERT_SUCCESS(sys_oversized(), "oversized frames");

	TEST_ASSERT_SUCCESS(rte_eth_stats_get(ctx.port, &st), "stats");
	printf("    stats: ipackets %" PRIu64 " opackets %" PRIu64 " ierrors %" PRIu64
	       " oerrors %" PRIu64 " rx_nombuf %" PRIu64 " rx_multiseg_packets %" PRId64
	       "\n", st.ipackets, st.opackets, st.ierrors, st.oerrors, st.rx_nombuf,
	       vf_xstat(ctx.port, "rx_multiseg_packets"));
	TEST_ASSERT_EQUAL(st.ierrors, 0, "no RX errors");
	TEST_ASSERT_EQUAL(st.oerrors, 0, "no TX errors");
	if (c->mrg)
		TEST_ASSERT(vf_xstat(ctx.port, "rx_multiseg_packets") > 0,
			    "jumbo frames came as mergeable chains");
	else
		TEST_ASSERT_EQUAL(vf_xstat(ctx.port, "rx_multiseg_packets"), 0,
				  "without mergeable buffers every frame is one buffer");

	TEST_ASSERT_SUCCESS(rte_eth_dev_stop(ctx.port), "stop");
	TEST_ASSERT_SUCCESS(pfrag_test_pool_back(pool, start, "after stop"), "stop");
	TEST_ASSERT_SUCCESS(sys_check_mempool(ctx.mp, "after stop"), "stop");
	vf_port_destroy(SYS_NAME, ctx.port);
	ctx.port_up = 0;
	TEST_ASSERT_SUCCESS(pfrag_test_pool_back(pool, start, "after close"), "close");
	printf("    after close: 0 fragments out, pages in use back to %u, %u pages free\n",
	       start->pages_in_use, start->pages_free);
	return TEST_SUCCESS;
}

static int
test_mtu(int mrg)
{
	static const struct mtu_case cases[] = {
		{ 1, 0, "mergeable, adaptive buffers" },
		{ 1, 128, "mergeable, fixed 128-byte buffers" },
		{ 1, 2048, "mergeable, fixed 2 KB buffers" },
		{ 0, 0, "one buffer per frame, sized to the MTU" },
		{ 0, 2048, "one buffer per frame, at least 2 KB" },
	};
	struct pfrag_pool_info info;
	struct pfrag_pool *pool;
	unsigned int i;
	int ret;

	ret = sys_setup("macswap", 1);
	if (ret != TEST_SUCCESS) {
		sys_teardown();
		return ret;
	}
	/* The application's pool: it outlives the ports, so close can be checked. */
	pool = pfrag_pool_create(SYS_POOL, (int)rte_socket_id(), 0, 512, 0);
	if (pool == NULL) {
		sys_teardown();
		printf("pool %s: %s\n", SYS_POOL, rte_strerror(rte_errno));
		return TEST_FAILED;
	}
	pfrag_pool_info_get(pool, &info);
	printf("mixed 64..%u-byte stream, MTU 1500 -> 9000 -> 1500 at runtime, peer: "
	       "testpmd net_vhost macswap, pool %s (%u pages in use at start)\n",
	       SYS_JUMBO_FRAME, SYS_POOL, info.pages_in_use);
	/* Every case runs, also after one failed: the log shows them all. */
	for (i = 0; i < RTE_DIM(cases); i++) {
		if (cases[i].mrg != mrg)
			continue;
		if (sys_mtu_case(&cases[i], pool, &info) != TEST_SUCCESS) {
			printf("  FAILED: %s\n", cases[i].what);
			ret = TEST_FAILED;
			if (ctx.port_up)
				vf_port_destroy(SYS_NAME, ctx.port);
			ctx.port_up = 0;
		}
	}
	sys_teardown();
	if (pfrag_pool_free(pool) != 0) {
		printf("pool %s still busy at the end\n", SYS_POOL);
		ret = TEST_FAILED;
	}
	return ret;
}

static int
test_virtio_frag_system_mtu_mrg(void)
{
	return test_mtu(1);
}

static int
test_virtio_frag_system_mtu_nomrg(void)
{
	return test_mtu(0);
}

/* ---- 2. stop/start cycles, queues and rings changed in between ---- */

#define SYS_CYCLE_PKTS 256     /* checked round trip per queue and cycle */

static uint32_t
cycle_size(uint32_t seq, void *arg)
{
	return 64 + mix_hash(seq ^ (uint32_t)(uintptr_t)arg) % (1514 - 64 + 1);
}

static int
sys_port_setup(uint16_t nq, uint16_t rx_ring, uint16_t tx_ring)
{
	struct rte_eth_conf conf;
	uint16_t q;
	int ret;

	memset(&conf, 0, sizeof(conf));
	conf.rxmode.mtu = SYS_MTU_SMALL;
	conf.intr_conf.lsc = 1;
	ret = rte_eth_dev_configure(ctx.port, nq, nq, &conf);
	TEST_ASSERT_SUCCESS(ret, "configure %u queue pairs", nq);
	for (q = 0; q < nq; q++) {
		ret = rte_eth_rx_queue_setup(ctx.port, q, rx_ring, rte_socket_id(), NULL,
					     ctx.mp);
		TEST_ASSERT_SUCCESS(ret, "RX queue %u of %u descriptors", q, rx_ring);
		ret = rte_eth_tx_queue_setup(ctx.port, q, tx_ring, rte_socket_id(), NULL);
		TEST_ASSERT_SUCCESS(ret, "TX queue %u of %u descriptors", q, tx_ring);
	}
	return TEST_SUCCESS;
}

/* Leave packets in both directions of every queue: stop finds them there. */
static void
sys_flood(uint16_t nq)
{
	struct rte_mbuf *pkts[32];
	uint16_t q, k, nb;

	for (q = 0; q < nq; q++) {
		if (rte_pktmbuf_alloc_bulk(ctx.mp, pkts, RTE_DIM(pkts)) != 0)
			continue;
		for (k = 0; k < RTE_DIM(pkts); k++)
			memset(rte_pktmbuf_append(pkts[k], 60 + 32 * k), 0xa5, 60 + 32 * k);
		nb = rte_eth_tx_burst(ctx.port, q, pkts, RTE_DIM(pkts));
		rte_pktmbuf_free_bulk(&pkts[nb], RTE_DIM(pkts) - nb);
	}
}

static int
sys_cycle(unsigned int i, uint16_t nq, uint16_t rx_ring, uint16_t tx_ring)
{
	struct vf_stream s = {
		.port = ctx.port,
		.mp = ctx.mp,
		.n = SYS_CYCLE_PKTS,
		.size = cycle_size,
		.arg = (void *)(uintptr_t)i,
		.window = 16,
		.timeout_ms = 3000,
	};
	struct vf_rt_result r;
	uint16_t q;
	int ret;

	TEST_ASSERT_SUCCESS(rte_eth_dev_stop(ctx.port), "cycle %u: stop", i);
	TEST_ASSERT_SUCCESS(pfrag_test_pool_back(vf_port_pool(ctx.port), NULL, "after stop"),
			    "cycle %u: stop with traffic in flight", i);
	TEST_ASSERT_SUCCESS(sys_check_mempool(ctx.mp, "after stop"), "cycle %u", i);
	TEST_ASSERT_SUCCESS(sys_port_setup(nq, rx_ring, tx_ring), "cycle %u", i);
	TEST_ASSERT_SUCCESS(rte_eth_dev_start(ctx.port), "cycle %u: start", i);
	TEST_ASSERT_SUCCESS(sys_wait_up(nq), "cycle %u: %u queue pairs, rings %u/%u", i,
			    nq, rx_ring, tx_ring);
	for (q = 0; q < nq; q++) {
		s.queue = q;
		ret = vf_stream_run(&s, &r);
		if (ret != 0)
			vf_port_dump(ctx.port);
		TEST_ASSERT_SUCCESS(ret, "cycle %u queue %u: %" PRIu64 "/%u back intact, bad %"
				    PRIu64 " foreign %" PRIu64, i, q, r.received, s.n, r.bad,
				    r.foreign);
	}
	TEST_ASSERT_EQUAL(vf_xstat(ctx.port, "rx_bad_desc"), 0, "cycle %u: bad descriptors",
			  i);
	sys_flood(nq);
	return TEST_SUCCESS;
}

/*
 * One port, @p nb_cycles cycles; then close: the pool must go (nothing
 * out). In order TX completion or the free-list path, per @p in_order.
 */
static int
sys_cycles_run(unsigned int first, unsigned int nb_cycles, int in_order)
{
	static const uint16_t rings[] = { 64, 128, 256, 512, 1024 };
	unsigned int i, per_nq[3] = { 0 }, mz_start;
	char devargs[256];
	uint64_t t0;
	uint32_t h;
	uint16_t nq;
	int ret;

	snprintf(devargs, sizeof(devargs), "path=%s,queues=2,in_order=%d", ctx.sock,
		 in_order);
	mz_start = sys_pool_memzones();
	ret = vf_port_create(SYS_NAME, devargs, ctx.mp, SYS_RING, SYS_MTU_SMALL, &ctx.port);
	TEST_ASSERT_SUCCESS(ret, "port create with %s", devargs);
	ctx.port_up = 1;
	TEST_ASSERT_SUCCESS(sys_wait_up(1), "port up");
	t0 = pfrag_test_now_ms();
	for (i = first; i < first + nb_cycles; i++) {
		h = mix_hash(i + 1);
		nq = 1 + (h & 1);
		ret = sys_cycle(i, nq, rings[(h >> 8) % RTE_DIM(rings)],
				rings[(h >> 16) % RTE_DIM(rings)]);
		if (ret != TEST_SUCCESS)
			return ret;
		per_nq[nq]++;
	}
	printf("  in_order=%d: %u cycles in %" PRIu64 " ms (%u with 1 queue pair, %u with "
	       "2): 0 fragments, 0 pages out and every mbuf back after each stop\n",
	       in_order, nb_cycles, pfrag_test_now_ms() - t0, per_nq[1], per_nq[2]);
	vf_port_destroy(SYS_NAME, ctx.port);
	ctx.port_up = 0;
	TEST_ASSERT_SUCCESS(sys_check_closed(mz_start), "close");
	TEST_ASSERT_SUCCESS(sys_check_mempool(ctx.mp, "after close"), "close");
	return TEST_SUCCESS;
}

static int
test_virtio_frag_system_cycles(void)
{
	unsigned int nb_cycles = getenv("PFRAG_STRESS_LONG") != NULL ? 1000 : 300;
	int ret;

	ret = sys_setup("macswap", 2);
	if (ret == TEST_SUCCESS) {
		printf("%u stop/start cycles with traffic in flight, 1 or 2 queue pairs and "
		       "RX/TX ring sizes 64..1024 changed between cycles; peer: testpmd "
		       "net_vhost queues=2 macswap\n", nb_cycles);
		/* Half with in-order TX completion, half through the free list. */
		ret = sys_cycles_run(0, nb_cycles / 2, 1);
	}
	if (ret == TEST_SUCCESS)
		ret = sys_cycles_run(nb_cycles / 2, nb_cycles - nb_cycles / 2, 0);
	sys_teardown();
	return ret;
}

/* ---- 3. pools run dry under full-rate RX ---- */

#define HOLD_MAX 65536

static struct rte_mbuf *held[HOLD_MAX];
static uint32_t nb_held;

static void
sys_release_held(void)
{
	rte_pktmbuf_free_bulk(held, nb_held);
	nb_held = 0;
}

/*
 * Receive and keep everything until nothing comes any more (the pool is
 * dry) or @p ms pass.
 */
static void
sys_hold(unsigned int ms)
{
	uint64_t end = pfrag_test_now_ms() + ms, idle_since = pfrag_test_now_ms();
	uint16_t nb;

	while (pfrag_test_now_ms() < end && nb_held < HOLD_MAX) {
		nb = rte_eth_rx_burst(ctx.port, 0, &held[nb_held],
				      RTE_MIN(32u, HOLD_MAX - nb_held));
		nb_held += nb;
		if (nb > 0)
			idle_since = pfrag_test_now_ms();
		else if (pfrag_test_now_ms() - idle_since > 300)
			break;
	}
}

/* Receive and free for up to @p ms or until @p want packets came; how many. */
static uint64_t
sys_drain(uint64_t want, unsigned int ms)
{
	uint64_t end = pfrag_test_now_ms() + ms, got = 0;
	struct rte_mbuf *pkts[32];
	uint16_t nb;

	while (pfrag_test_now_ms() < end && got < want) {
		nb = rte_eth_rx_burst(ctx.port, 0, pkts, RTE_DIM(pkts));
		rte_pktmbuf_free_bulk(pkts, nb);
		got += nb;
	}
	return got;
}

static int
sys_dry(struct rte_mempool *hdr_mp, const char *what, const char *devargs,
	int take_app_pool)
{
	struct rte_eth_stats st0, st1, st2;
	struct pfrag_pool_info info;
	struct pfrag_pool *pool;
	struct rte_mbuf **app = NULL;
	uint32_t i, bad_len = 0, nb, nb_app = 0;
	unsigned int mz_start;
	uint64_t got;
	int ret;

	printf("  %s\n", what);
	mz_start = sys_pool_memzones();
	ret = vf_port_create(SYS_NAME, devargs, hdr_mp, SYS_RING, SYS_MTU_SMALL, &ctx.port);
	TEST_ASSERT_SUCCESS(ret, "port create with %s", devargs);
	ctx.port_up = 1;
	TEST_ASSERT_SUCCESS(vf_wait_link(ctx.port, 1, 10000), "link up");
	pool = vf_port_pool(ctx.port);
	TEST_ASSERT_NOT_NULL(pool, "port pool");
	/* The peer floods from the start: let the traffic settle, then count. */
	sys_drain(UINT64_MAX, 300);
	rte_eth_stats_get(ctx.port, &st0);
	TEST_ASSERT(st0.ipackets > 0, "the peer's flood arrives");
	if (take_app_pool) {
		app = malloc(sizeof(*app) * hdr_mp->size);
		TEST_ASSERT_NOT_NULL(app, "memory");
		while (nb_app < hdr_mp->size && (app[nb_app] = rte_pktmbuf_alloc(hdr_mp)) != NULL)
			nb_app++;
	}

	sys_hold(10000);
	rte_eth_stats_get(ctx.port, &st1);
	pfrag_pool_info_get(pool, &info);
	for (i = 0; i < nb_held; i++)
		if (held[i]->pkt_len != 64)
			bad_len++;
	printf("    holding %u packets: rx_nombuf %" PRIu64 ", pool pages in use %u of %u, "
	       "fragments out %" PRIu64 ", queue's mempool %u of %u free\n", nb_held,
	       st1.rx_nombuf - st0.rx_nombuf, info.pages_in_use, info.nb_pages,
	       info.frags_out, rte_mempool_avail_count(hdr_mp), hdr_mp->size);
	TEST_ASSERT(nb_held < HOLD_MAX, "RX stopped: the pool ran dry before %u packets",
		    HOLD_MAX);
	TEST_ASSERT(st1.rx_nombuf > st0.rx_nombuf, "drops counted in rx_nombuf");
	TEST_ASSERT_EQUAL(bad_len, 0, "every held packet is a whole 64-byte frame");
	TEST_ASSERT_EQUAL(st1.ierrors, 0, "no RX errors");
	TEST_ASSERT_EQUAL(info.pages_free, 0, "every page of the pool in use");
	if (take_app_pool) {
		rte_pktmbuf_free_bulk(app, nb_app);
		free(app);
		TEST_ASSERT_EQUAL(nb_app, hdr_mp->size, "the application took the whole mempool");
		TEST_ASSERT(nb_held > nb_app, "%u packets held: RX stopped at the application's "
			    "mempool (%u mbufs), not at the fragment pool", nb_held, nb_app);
	}

	/* Keep polling a dry port a while: it stays sane. */
	sys_hold(200);
	nb = nb_held;
	sys_release_held();
	got = sys_drain(4 * (uint64_t)nb + 10000, 10000);
	rte_eth_stats_get(ctx.port, &st2);
	printf("    after the application freed them: %" PRIu64 " packets received again "
	       "(rx_nombuf now %" PRIu64 ")\n", got, st2.rx_nombuf - st0.rx_nombuf);
	TEST_ASSERT(got >= 4 * (uint64_t)nb + 10000, "traffic recovers: %" PRIu64
		    " packets after the frees", got);

	TEST_ASSERT_SUCCESS(rte_eth_dev_stop(ctx.port), "stop");
	TEST_ASSERT_SUCCESS(pfrag_test_pool_back(pool, NULL, "after stop"), "stop");
	TEST_ASSERT_SUCCESS(sys_check_mempool(hdr_mp, "after stop"), "stop");
	vf_port_destroy(SYS_NAME, ctx.port);
	ctx.port_up = 0;
	TEST_ASSERT_SUCCESS(sys_check_closed(mz_start), "close");
	return TEST_SUCCESS;
}

static int
test_virtio_frag_system_nombuf(void)
{
	struct rte_mempool *tiny_hdr = NULL;
	char devargs[256];
	int ret;

	ret = sys_setup("txonly", 1);
	if (ret != TEST_SUCCESS)
		goto out;
	printf("pools run dry under full-rate RX (peer: testpmd net_vhost txonly, 64 B)\n");
	snprintf(devargs, sizeof(devargs), "path=%s,pool_pages=8", ctx.sock);
	ret = sys_dry(ctx.mp, "fragment pool of 8 pages of 32 KB, ring of 256", devargs, 0);
	if (ret != TEST_SUCCESS)
		goto out;
	tiny_hdr = rte_pktmbuf_pool_create("vf_sys_hdr", 255, 0, 0,
					   RTE_MBUF_DEFAULT_BUF_SIZE, rte_socket_id());
	if (tiny_hdr == NULL) {
		ret = TEST_FAILED;
		goto out;
	}
	snprintf(devargs, sizeof(devargs), "path=%s,pool_pages=16", ctx.sock);
	ret = sys_dry(tiny_hdr, "the application holds all of the queue's 255-mbuf "
		      "mempool; fragment pool of 16 pages", devargs, 1);
out:
	sys_teardown();
	rte_mempool_free(tiny_hdr);
	return ret;
}

PFRAG_TEST_REGISTER(virtio_frag_system_mtu_mrg_autotest, INTEROP, PFRAG_TEST_HUGE, test_virtio_frag_system_mtu_mrg);
PFRAG_TEST_REGISTER(virtio_frag_system_mtu_nomrg_autotest, INTEROP, PFRAG_TEST_HUGE, test_virtio_frag_system_mtu_nomrg);
PFRAG_TEST_REGISTER(virtio_frag_system_cycles_autotest, INTEROP, PFRAG_TEST_HUGE, test_virtio_frag_system_cycles);
PFRAG_TEST_REGISTER(virtio_frag_system_nombuf_autotest, INTEROP, PFRAG_TEST_HUGE, test_virtio_frag_system_nombuf);

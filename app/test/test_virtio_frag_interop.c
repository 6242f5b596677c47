/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * virtio_frag against the distro dpdk-testpmd net_vhost peer (interop-tests):
 * macswap round trips as vhost-user client and server, stop/start and
 * close/re-probe cycles with the pool back to zero, and a backend killed
 * mid-traffic (we listen and a new backend connects, or we reconnect to a
 * new listening backend). Each unit starts its own peer and always stops it.
 */

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <rte_ethdev.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include <pfrag.h>
#include <virtio_frag.h>

#include "test.h"
#include "test_virtio_frag_peer.h"

#define VF_NAME "net_virtio_frag_user0"
#define VF_RING 1024
#define VF_MTU 9000

struct vf_ctx {
	char dir[64];
	char sock[128];
	char devargs[256];
	struct vf_peer peer;
	struct rte_mempool *mp;
	uint16_t port;
	int port_up;
};

static struct vf_ctx ctx;

static int
vf_setup(int server)
{
	int ret;

	memset(&ctx, 0, sizeof(ctx));
	ret = vf_peer_prepare(&ctx.peer, ctx.dir, sizeof(ctx.dir), ctx.sock, sizeof(ctx.sock));
	if (ret != TEST_SUCCESS)
		return ret;
	/* Server runs also take the free-list TX path (in_order=0). */
	snprintf(ctx.devargs, sizeof(ctx.devargs), "path=%s%s", ctx.sock,
		 server ? ",server=1,in_order=0" : "");
	ctx.mp = rte_mempool_lookup("vf_test_mp");
	if (ctx.mp == NULL)
		ctx.mp = rte_pktmbuf_pool_create("vf_test_mp", 8191, 256, 0,
						 RTE_MBUF_DEFAULT_BUF_SIZE, rte_socket_id());
	if (ctx.mp == NULL)
		return TEST_FAILED;
	return TEST_SUCCESS;
}

static void
vf_teardown(void)
{
	if (ctx.port_up)
		vf_port_destroy(VF_NAME, ctx.port);
	ctx.port_up = 0;
	vf_peer_stop(&ctx.peer);
	if (ctx.dir[0] != '\0')
		pfrag_test_rmdir(ctx.dir);
	ctx.dir[0] = '\0';
}

/* Peer first (server), then our port as client; or the other way round. */
static int
vf_connect(int server)
{
	int ret;

	if (!server) {
		ret = vf_peer_start(&ctx.peer, ctx.dir, ctx.sock, 0, "macswap");
		TEST_ASSERT_SUCCESS(ret, "peer start");
		ret = pfrag_test_wait_file(ctx.sock, 20000);
		if (ret != 0)
			vf_peer_dump_log(&ctx.peer);
		TEST_ASSERT_SUCCESS(ret, "peer socket %s did not appear", ctx.sock);
	}
	ret = vf_port_create(VF_NAME, ctx.devargs, ctx.mp, VF_RING, VF_MTU, &ctx.port);
	TEST_ASSERT_SUCCESS(ret, "port create with %s", ctx.devargs);
	ctx.port_up = 1;
	if (server) {
		ret = vf_peer_start(&ctx.peer, ctx.dir, ctx.sock, 1, "macswap");
		TEST_ASSERT_SUCCESS(ret, "peer start");
	}
	ret = vf_wait_link(ctx.port, 1, 20000);
	if (ret != 0)
		vf_peer_dump_log(&ctx.peer);
	TEST_ASSERT_SUCCESS(ret, "link did not come up");
	ret = vf_wait_traffic(ctx.port, ctx.mp, 20000);
	if (ret != 0)
		vf_peer_dump_log(&ctx.peer);
	TEST_ASSERT_SUCCESS(ret, "no packet came back from the peer");
	return TEST_SUCCESS;
}

static int
vf_sizes_roundtrip(void)
{
	static const uint32_t sizes[] = { 64, 128, 512, 1500, 9000 };
	static const uint32_t counts[] = { 20000, 20000, 10000, 10000, 2000 };
	struct rte_eth_stats st;
	struct vf_rt_result r;
	uint64_t tx_total = 0, rx_total = 0;
	unsigned int i;
	int ret;

	rte_eth_stats_reset(ctx.port);
	for (i = 0; i < RTE_DIM(sizes); i++) {
		/*
		 * The peer drops what does not fit our posted buffers, as a NIC
		 * would; keep the bytes in flight well under the ring even while
		 * the adaptive buffer size still follows the previous size.
		 */
		ret = vf_roundtrip(ctx.port, ctx.mp, sizes[i], counts[i],
				   RTE_MAX(4u, RTE_MIN(128u, 16384u / sizes[i])), 5000, &r);
		printf("  %5u bytes: sent %" PRIu64 ", back intact and in order %" PRIu64
		       ", bad %" PRIu64 ", lost %" PRIu64 ", stale %" PRIu64 ", foreign %"
		       PRIu64 "\n", sizes[i], r.sent, r.received, r.bad, r.lost, r.stale,
		       r.foreign);
		if (ret != 0)
			vf_peer_dump_log(&ctx.peer);
		TEST_ASSERT_SUCCESS(ret, "%u-byte round trip: %" PRIu64 "/%u back intact",
				    sizes[i], r.received, counts[i]);
		TEST_ASSERT_EQUAL(r.sent, counts[i], "every %u-byte packet sent once",
				  sizes[i]);
		TEST_ASSERT_EQUAL(r.foreign, 0, "only our packets came back");
		tx_total += r.sent;
		rx_total += r.received + r.stale;
	}
	TEST_ASSERT_SUCCESS(rte_eth_stats_get(ctx.port, &st), "stats");
	printf("  stats: ipackets %" PRIu64 " opackets %" PRIu64 " ierrors %" PRIu64
	       " rx_nombuf %" PRIu64 "; xstats rx_bad_desc %" PRId64
	       " rx_multiseg_packets %" PRId64 " tx_multiseg_packets %" PRId64
	       " rx_pinned_bytes_per_slot %" PRId64 "\n", st.ipackets, st.opackets,
	       st.ierrors, st.rx_nombuf, vf_xstat(ctx.port, "rx_bad_desc"),
	       vf_xstat(ctx.port, "rx_multiseg_packets"),
	       vf_xstat(ctx.port, "tx_multiseg_packets"),
	       vf_xstat(ctx.port, "rx_pinned_bytes_per_slot"));
	TEST_ASSERT_EQUAL(st.opackets, tx_total, "opackets match packets sent");
	TEST_ASSERT_EQUAL(st.ipackets, rx_total, "ipackets match packets received");
	TEST_ASSERT_EQUAL(vf_xstat(ctx.port, "rx_bad_desc"), 0, "no bad descriptors");
	TEST_ASSERT(vf_xstat(ctx.port, "rx_multiseg_packets") > 0,
		    "9000-byte frames came back as mergeable chains");
	TEST_ASSERT(vf_xstat(ctx.port, "tx_multiseg_packets") > 0,
		    "9000-byte frames left as chained mbufs");
	return TEST_SUCCESS;
}

/* Stop the port: every posted fragment is drained, nothing stays out. */
static int
vf_check_drained(uint16_t port)
{
	struct pfrag_pool *pool = vf_port_pool(port);
	int64_t drains, frags;

	TEST_ASSERT_NOT_NULL(pool, "port %u has its pool", port);
	TEST_ASSERT_SUCCESS(rte_eth_dev_stop(port), "stop");
	TEST_ASSERT_SUCCESS(pfrag_test_pool_back(pool, NULL, "after stop"),
			    "pool idle after stop: no fragment, no page, every page free");
	struct pfrag_pool_info info;
	uint32_t per_page;

	drains = vf_xstat(port, "rx_drains");
	frags = vf_xstat(port, "rx_drained_frags");
	printf("  stop: %" PRId64 " posted fragments went back in %" PRId64 " drains\n",
	       frags, drains);
	TEST_ASSERT(drains > 0, "stop drained pages");
	/*
	 * A refill posts a page's buffers on neighbouring slots: with 3 or
	 * more of the largest buffers (4096 bytes of room) to a page, a
	 * reclaim in runs takes at most half as many drains as fragments,
	 * one drain each would not.
	 */
	TEST_ASSERT_SUCCESS(pfrag_pool_info_get(pool, &info), "pool info");
	per_page = info.page_size / virtio_frag_frag_size(VFRAG_RX_BUF_MAX);
	if (per_page >= 3)
		TEST_ASSERT(2 * drains <= frags, "%" PRId64 " fragments took %" PRId64
			    " drains: the reclaim must drop a run of a page at once", frags,
			    drains);
	return TEST_SUCCESS;
}

/*
 * Memory the application maps after the port started: the backend must get
 * the new memory table before packets from it reach the TX ring.
 */
static int
vf_late_memory(void)
{
	struct rte_malloc_socket_stats before, after;
	struct rte_mempool *late;
	struct vf_rt_result r;
	int ret;

	rte_malloc_get_socket_stats(rte_socket_id(), &before);
	late = rte_pktmbuf_pool_create("vf_late_mp", 16383, 256, 0,
				       RTE_MBUF_DEFAULT_BUF_SIZE, rte_socket_id());
	TEST_ASSERT_NOT_NULL(late, "mempool created after start");
	rte_malloc_get_socket_stats(rte_socket_id(), &after);
	ret = vf_roundtrip(ctx.port, late, 1500, 5000, 8, 5000, &r);
	printf("  mempool created after start (EAL heap %zu -> %zu bytes): %" PRIu64
	       " of 5000 back intact\n", before.heap_totalsz_bytes,
	       after.heap_totalsz_bytes, r.received);
	/* Completed TX mbufs go back before their mempool goes away. */
	rte_eth_tx_done_cleanup(ctx.port, 0, 0);
	TEST_ASSERT(rte_mempool_full(late), "every TX mbuf back in its mempool "
		    "(%u of %u)", rte_mempool_avail_count(late), late->size);
	rte_mempool_free(late);
	TEST_ASSERT(after.heap_totalsz_bytes > before.heap_totalsz_bytes,
		    "the new mempool needed new EAL memory");
	TEST_ASSERT_SUCCESS(ret, "round trip with mbufs in memory mapped after start");
	return TEST_SUCCESS;
}

static int
test_roundtrip(int server)
{
	int ret;

	ret = vf_setup(server);
	if (ret != TEST_SUCCESS)
		return ret;
	printf("vhost-user %s mode, peer: testpmd net_vhost%s macswap\n",
	       server ? "server" : "client", server ? " client=1" : "");
	ret = vf_connect(server);
	if (ret == TEST_SUCCESS)
		ret = vf_sizes_roundtrip();
	if (ret == TEST_SUCCESS)
		ret = vf_late_memory();
	if (ret == TEST_SUCCESS)
		ret = vf_check_drained(ctx.port);
	vf_teardown();
	return ret;
}

static int
test_virtio_frag_interop_client(void)
{
	return test_roundtrip(0);
}

static int
test_virtio_frag_interop_server(void)
{
	return test_roundtrip(1);
}

static int
vf_cycles(void)
{
	struct rte_malloc_socket_stats ms0 = { 0 }, ms;
	struct vf_rt_result r;
	struct pfrag_pool *pool;
	unsigned int i;
	int ret;

	for (i = 0; i < 100; i++) {
		ret = vf_roundtrip(ctx.port, ctx.mp, 64 + (i % 4) * 400, 256, 16, 5000, &r);
		TEST_ASSERT_SUCCESS(ret, "cycle %u: round trip %" PRIu64 "/256", i, r.received);
		TEST_ASSERT_SUCCESS(rte_eth_dev_stop(ctx.port), "cycle %u: stop", i);
		pool = vf_port_pool(ctx.port);
		TEST_ASSERT_SUCCESS(pfrag_test_pool_back(pool, NULL, "after stop"),
				    "cycle %u: pool idle after stop", i);
		TEST_ASSERT_SUCCESS(rte_eth_dev_start(ctx.port), "cycle %u: start", i);
		TEST_ASSERT_SUCCESS(vf_wait_link(ctx.port, 1, 10000), "cycle %u: link", i);
		TEST_ASSERT_SUCCESS(vf_wait_traffic(ctx.port, ctx.mp, 10000),
				    "cycle %u: peer forwards again", i);
	}
	printf("  100 stop/start cycles: pool back to 0 fragments, 0 pages each time\n");

	for (i = 0; i < 20; i++) {
		ret = vf_roundtrip(ctx.port, ctx.mp, 1500, 512, 16, 5000, &r);
		TEST_ASSERT_SUCCESS(ret, "probe %u: round trip %" PRIu64 "/512", i, r.received);
		vf_port_destroy(VF_NAME, ctx.port);
		ctx.port_up = 0;
		TEST_ASSERT_NULL(vf_port_pool(ctx.port), "probe %u: pool freed at close", i);
		rte_malloc_get_socket_stats(rte_socket_id(), &ms);
		if (i == 1)
			ms0 = ms;
		if (i > 1)
			TEST_ASSERT(ms.heap_allocsz_bytes <= ms0.heap_allocsz_bytes,
				    "probe %u: EAL heap grew from %zu to %zu bytes", i,
				    ms0.heap_allocsz_bytes, ms.heap_allocsz_bytes);
		ret = vf_port_create(VF_NAME, ctx.devargs, ctx.mp, VF_RING, VF_MTU,
				     &ctx.port);
		TEST_ASSERT_SUCCESS(ret, "probe %u: port create", i);
		ctx.port_up = 1;
		TEST_ASSERT_SUCCESS(vf_wait_link(ctx.port, 1, 10000), "probe %u: link", i);
		TEST_ASSERT_SUCCESS(vf_wait_traffic(ctx.port, ctx.mp, 10000),
				    "probe %u: peer forwards again", i);
	}
	printf("  20 close/re-probe cycles: pool freed each time, EAL heap flat at %zu "
	       "bytes\n", ms0.heap_allocsz_bytes);
	return vf_check_drained(ctx.port);
}

static int
test_virtio_frag_interop_cycles(void)
{
	int ret;

	ret = vf_setup(0);
	if (ret != TEST_SUCCESS)
		return ret;
	ret = vf_connect(0);
	if (ret == TEST_SUCCESS)
		ret = vf_cycles();
	vf_teardown();
	return ret;
}

static uint32_t lsc_events;

static int
vf_lsc_cb(uint16_t port __rte_unused, enum rte_eth_event_type type __rte_unused,
	  void *arg __rte_unused, void *ret_param __rte_unused)
{
	__atomic_add_fetch(&lsc_events, 1, __ATOMIC_RELAXED);
	return 0;
}

static int
vf_kill_backend(int server)
{
	struct rte_mbuf *pkts[32];
	struct vf_rt_result r;
	uint64_t sent = 0, t_end;
	uint16_t nb, k;
	int ret;

	ret = vf_roundtrip(ctx.port, ctx.mp, 512, 5000, 32, 5000, &r);
	TEST_ASSERT_SUCCESS(ret, "round trip before the kill");
	TEST_ASSERT_SUCCESS(rte_eth_dev_callback_register(ctx.port, RTE_ETH_EVENT_INTR_LSC,
							  vf_lsc_cb, NULL), "LSC callback");

	/* Flood, kill the backend in the middle, keep polling. */
	t_end = rte_get_timer_cycles() + rte_get_timer_hz() * 3;
	while (rte_get_timer_cycles() < t_end) {
		if (rte_pktmbuf_alloc_bulk(ctx.mp, pkts, RTE_DIM(pkts)) == 0) {
			for (k = 0; k < RTE_DIM(pkts); k++)
				rte_pktmbuf_append(pkts[k], 64);
			nb = rte_eth_tx_burst(ctx.port, 0, pkts, RTE_DIM(pkts));
			sent += nb;
			rte_pktmbuf_free_bulk(&pkts[nb], RTE_DIM(pkts) - nb);
		}
		nb = rte_eth_rx_burst(ctx.port, 0, pkts, RTE_DIM(pkts));
		rte_pktmbuf_free_bulk(pkts, nb);
		if (ctx.peer.pid > 0 && sent > 20000) {
			printf("  killing the backend (pid %d) after %" PRIu64 " packets\n",
			       ctx.peer.pid, sent);
			vf_peer_kill(&ctx.peer);
		}
	}
	TEST_ASSERT(ctx.peer.pid < 0, "backend was killed mid-traffic");
	TEST_ASSERT_SUCCESS(vf_wait_link(ctx.port, 0, 5000), "link goes down");
	nb = 0;
	if (rte_pktmbuf_alloc_bulk(ctx.mp, pkts, RTE_DIM(pkts)) == 0) {
		for (k = 0; k < RTE_DIM(pkts); k++)
			rte_pktmbuf_append(pkts[k], 64);
		nb = rte_eth_tx_burst(ctx.port, 0, pkts, RTE_DIM(pkts));
		rte_pktmbuf_free_bulk(&pkts[nb], RTE_DIM(pkts) - nb);
	}
	printf("  link down after %" PRIu64 " packets; TX takes %u of 32 now (ring full: "
	       "the rest stay with the caller)\n", sent, nb);
	TEST_ASSERT(nb < RTE_DIM(pkts), "a TX ring nobody drains fills up");

	if (server) {
		/* A new backend connects to our socket: traffic resumes. */
		ret = vf_peer_start(&ctx.peer, ctx.dir, ctx.sock, 1, "macswap");
	} else {
		/* A new backend listens again; our port reconnects by itself. */
		unlink(ctx.sock);
		ret = vf_peer_start(&ctx.peer, ctx.dir, ctx.sock, 0, "macswap");
	}
	TEST_ASSERT_SUCCESS(ret, "second peer start");
	ret = vf_wait_link(ctx.port, 1, 20000);
	if (ret != 0)
		vf_peer_dump_log(&ctx.peer);
	TEST_ASSERT_SUCCESS(ret, "link up again with the new backend");
	TEST_ASSERT_SUCCESS(vf_wait_traffic(ctx.port, ctx.mp, 20000),
			    "the new backend forwards");
	ret = vf_roundtrip(ctx.port, ctx.mp, 512, 5000, 32, 5000, &r);
	printf("  after reconnect: %" PRIu64 " back intact, %" PRIu64 " bad, %" PRIu64
	       " flood packets from before the kill; vhost_connects %" PRId64
	       " disconnects %" PRId64 "\n", r.received, r.bad, r.stale + r.foreign,
	       vf_xstat(ctx.port, "vhost_connects"),
	       vf_xstat(ctx.port, "vhost_disconnects"));
	TEST_ASSERT_SUCCESS(ret, "round trip after reconnect");
	TEST_ASSERT(vf_xstat(ctx.port, "vhost_disconnects") >= 1, "disconnect counted");
	rte_eth_dev_callback_unregister(ctx.port, RTE_ETH_EVENT_INTR_LSC, vf_lsc_cb, NULL);
	printf("  link change events: %u\n", __atomic_load_n(&lsc_events, __ATOMIC_RELAXED));
	TEST_ASSERT_EQUAL(__atomic_load_n(&lsc_events, __ATOMIC_RELAXED), 2,
			  "one event down, one up");
	return vf_check_drained(ctx.port);
}

static int
test_kill(int server)
{
	int ret;

	ret = vf_setup(server);
	if (ret != TEST_SUCCESS)
		return ret;
	printf("vhost-user %s mode: backend killed, then a new one\n",
	       server ? "server" : "client");
	ret = vf_connect(server);
	if (ret == TEST_SUCCESS)
		ret = vf_kill_backend(server);
	vf_teardown();
	return ret;
}

static int
test_virtio_frag_interop_kill(void)
{
	return test_kill(1);
}

static int
test_virtio_frag_interop_kill_client(void)
{
	return test_kill(0);
}

PFRAG_TEST_REGISTER(virtio_frag_interop_client_autotest, INTEROP, PFRAG_TEST_HUGE, test_virtio_frag_interop_client);
PFRAG_TEST_REGISTER(virtio_frag_interop_server_autotest, INTEROP, PFRAG_TEST_HUGE, test_virtio_frag_interop_server);
PFRAG_TEST_REGISTER(virtio_frag_interop_cycles_autotest, INTEROP, PFRAG_TEST_HUGE, test_virtio_frag_interop_cycles);
PFRAG_TEST_REGISTER(virtio_frag_interop_kill_autotest, INTEROP, PFRAG_TEST_HUGE, test_virtio_frag_interop_kill);
PFRAG_TEST_REGISTER(virtio_frag_interop_kill_client_autotest, INTEROP, PFRAG_TEST_HUGE, test_virtio_frag_interop_kill_client);

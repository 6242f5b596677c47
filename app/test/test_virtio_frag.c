/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * virtio_frag without a peer (fast-tests): probe validates its devargs and
 * fails cleanly, leaving no port and no pool behind; a server-mode port
 * comes up with its link down until a backend connects and lists its xstats.
 * A port tells applications it wants header mbufs only
 * (pfrag_mbuf_port_rx_frags()).
 */

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <rte_bus_vdev.h>
#include <rte_ethdev.h>

#include <pfrag.h>
#include <pfrag_mbuf.h>

#include "test.h"
#include "test_virtio_frag_peer.h"

#define VF_NAME "net_virtio_frag_user9"

static char dir[64];

static int
probe_fails(const char *devargs)
{
	uint16_t before = rte_eth_dev_count_avail(), port;

	TEST_ASSERT_FAIL(rte_vdev_init(VF_NAME, devargs), "probe with '%s' must fail",
			 devargs == NULL ? "" : devargs);
	TEST_ASSERT(rte_eth_dev_get_port_by_name(VF_NAME, &port) != 0,
		    "no port left after '%s'", devargs == NULL ? "" : devargs);
	TEST_ASSERT_EQUAL(rte_eth_dev_count_avail(), before, "port count unchanged");
	TEST_ASSERT_NULL(vf_port_pool(0), "no pool left behind");
	return TEST_SUCCESS;
}

static int
test_bad_devargs(void)
{
	static const char *const bad[] = {
		NULL,                                   /* no path */
		"",
		"server=1",                             /* still no path */
		"path=/x.sock,path=/y.sock",
		"path=/x.sock,bogus=1",                 /* unknown key */
		"path=/x.sock,queue_size=100",          /* not a power of two */
		"path=/x.sock,queue_size=8192",         /* too large */
		"path=/x.sock,queue_size=abc",
		"path=/x.sock,queues=0",
		"path=/x.sock,queues=99",
		"path=/x.sock,server=2",
		"path=/x.sock,mrg_rxbuf=-1",
		"path=/x.sock,rx_buf_size=10",
		"path=/x.sock,page_size=5000",
		"path=/x.sock,mac=01:00:00:00:00:01",   /* multicast */
		"path=/x.sock,mac=zz",
		"path=/x.sock,pool=nosuchpool",
	};
	unsigned int i;
	int ret;

	for (i = 0; i < RTE_DIM(bad); i++) {
		ret = probe_fails(bad[i]);
		if (ret != TEST_SUCCESS)
			return ret;
	}
	return TEST_SUCCESS;
}

static int
test_client_no_backend(void)
{
	char args[160];

	snprintf(args, sizeof(args), "path=%s/nobody.sock", dir);
	return probe_fails(args);
}

static int
test_server_waits(void)
{
	struct rte_eth_dev_info info;
	struct rte_eth_link link;
	char args[320], sock[128];
	uint16_t port;

	snprintf(sock, sizeof(sock), "%s/srv.sock", dir);
	snprintf(args, sizeof(args), "path=%s,server=1,queues=2,queue_size=512,"
		 "mac=02:00:00:00:00:42", sock);
	TEST_ASSERT_SUCCESS(rte_vdev_init(VF_NAME, args), "server-mode probe");
	TEST_ASSERT_SUCCESS(rte_eth_dev_get_port_by_name(VF_NAME, &port), "port");
	TEST_ASSERT_SUCCESS(access(sock, F_OK), "socket %s listening", sock);
	TEST_ASSERT_SUCCESS(rte_eth_dev_info_get(port, &info), "infos");
	TEST_ASSERT_EQUAL(info.max_rx_queues, 2, "queues devarg");
	TEST_ASSERT_EQUAL(info.default_rxportconf.ring_size, 512, "queue_size devarg");
	TEST_ASSERT_SUCCESS(rte_eth_link_get_nowait(port, &link), "link");
	TEST_ASSERT_EQUAL(link.link_status, RTE_ETH_LINK_DOWN, "no backend: link down");
	TEST_ASSERT_SUCCESS(rte_eth_dev_close(port), "close");
	TEST_ASSERT_SUCCESS(rte_vdev_uninit(VF_NAME), "uninit");
	TEST_ASSERT(access(sock, F_OK) != 0, "socket removed at close");
	return TEST_SUCCESS;
}

/* pool=<name>: the port uses an application's pool and leaves it alone at close. */
static int
test_shared_pool(void)
{
	struct pfrag_pool *pool;
	char args[320], sock[128];
	uint16_t port;
	int64_t ps;

	pool = pfrag_pool_create("vf_shared", SOCKET_ID_ANY, 16384, 64, 0);
	TEST_ASSERT_NOT_NULL(pool, "shared pool");
	snprintf(sock, sizeof(sock), "%s/shared.sock", dir);
	snprintf(args, sizeof(args), "path=%s,server=1,pool=vf_shared", sock);
	TEST_ASSERT_SUCCESS(rte_vdev_init(VF_NAME, args), "probe with pool=");
	TEST_ASSERT_SUCCESS(rte_eth_dev_get_port_by_name(VF_NAME, &port), "port");
	ps = vf_xstat(port, "pool_page_size");
	TEST_ASSERT_SUCCESS(rte_eth_dev_close(port), "close");
	TEST_ASSERT_SUCCESS(rte_vdev_uninit(VF_NAME), "uninit");
	TEST_ASSERT_EQUAL(ps, 16384, "the port reports the shared pool");
	TEST_ASSERT(pfrag_pool_lookup("vf_shared") == pool, "close left the shared pool");
	TEST_ASSERT_SUCCESS(pfrag_pool_free(pool), "shared pool free");
	return TEST_SUCCESS;
}

/*
 * The xstats a port lists, in order: the common counters, then the
 * vhost-user transport's (through its ops table). Tools and scripts read
 * them by name and position; the split by role must not have moved one.
 */
static int
test_xstat_names(void)
{
	static const char *const want[] = {
		"rx_bad_desc", "rx_nombuf", "rx_multiseg_packets", "rx_kicks",
		"rx_posted_slots", "rx_posted_bytes", "rx_pinned_bytes_per_slot",
		"rx_buf_size", "rx_drains", "rx_drained_frags", "rx_chain_bufs_discarded",
		"rx_used_idx_jumps", "tx_multiseg_packets", "tx_ring_full", "tx_kicks",
		"tx_bad_used", "tx_dropped_too_many_segs", "tx_used_idx_jumps",
		"pool_pages_in_use", "pool_frags_out", "pool_page_size",
		"vhost_connects", "vhost_disconnects", "vhost_timeouts",
		"vhost_protocol_errors",
	};
	struct rte_eth_xstat_name names[64];
	struct rte_eth_xstat xs[64];
	char args[320], sock[128];
	unsigned int i, first;
	uint16_t port;
	int n, nv;

	snprintf(sock, sizeof(sock), "%s/xs.sock", dir);
	snprintf(args, sizeof(args), "path=%s,server=1,page_size=16384", sock);
	TEST_ASSERT_SUCCESS(rte_vdev_init(VF_NAME, args), "server-mode probe");
	TEST_ASSERT_SUCCESS(rte_eth_dev_get_port_by_name(VF_NAME, &port), "port");
	n = rte_eth_xstats_get_names(port, names, RTE_DIM(names));
	nv = rte_eth_xstats_get(port, xs, RTE_DIM(xs));
	TEST_ASSERT_SUCCESS(rte_eth_dev_close(port), "close");
	TEST_ASSERT_SUCCESS(rte_vdev_uninit(VF_NAME), "uninit");
	TEST_ASSERT(n >= (int)RTE_DIM(want) && n <= (int)RTE_DIM(names), "%d xstats", n);
	TEST_ASSERT_EQUAL(nv, n, "%d values for %d names", nv, n);
	/* ethdev's generic counters come first, the driver's last (no queue set up). */
	first = (unsigned int)n - RTE_DIM(want);
	for (i = 0; i < RTE_DIM(want); i++) {
		TEST_ASSERT(strcmp(names[first + i].name, want[i]) == 0,
			    "xstat %u is %s, expected %s", first + i, names[first + i].name,
			    want[i]);
		TEST_ASSERT_EQUAL(xs[first + i].id, first + i, "value %u has id %" PRIu64,
				  first + i, xs[first + i].id);
	}
	/* No backend ever connected: the transport's counters are all 0. */
	for (i = RTE_DIM(want) - 4; i < RTE_DIM(want); i++)
		TEST_ASSERT_EQUAL(xs[first + i].value, 0, "%s = %" PRIu64 " without a backend",
				  want[i], xs[first + i].value);
	TEST_ASSERT_EQUAL(xs[first + 20].value, 16384, "pool_page_size %" PRIu64,
			  xs[first + 20].value);
	return TEST_SUCCESS;
}

/*
 * Applications ask the library which RX mempool a port wants, not the driver
 * name: our port is a fragment-posting port until it is closed, a port of
 * another driver (DPDK's net_null) and an id out of range are not.
 */
static int
test_rx_pool_helper(void)
{
	char args[320], sock[128];
	uint16_t port, other;
	int ours;

	snprintf(sock, sizeof(sock), "%s/helper.sock", dir);
	snprintf(args, sizeof(args), "path=%s,server=1", sock);
	TEST_ASSERT_SUCCESS(rte_vdev_init(VF_NAME, args), "server-mode probe");
	TEST_ASSERT_SUCCESS(rte_eth_dev_get_port_by_name(VF_NAME, &port), "port");
	ours = pfrag_mbuf_port_rx_frags(port);
	TEST_ASSERT_SUCCESS(rte_eth_dev_close(port), "close");
	TEST_ASSERT_SUCCESS(rte_vdev_uninit(VF_NAME), "uninit");
	TEST_ASSERT(ours, "port %u of %s does not say it posts fragments", port, VF_NAME);
	TEST_ASSERT(!pfrag_mbuf_port_rx_frags(port), "port %u still posts fragments after close",
		    port);
	TEST_ASSERT(!pfrag_mbuf_port_rx_frags(RTE_MAX_ETHPORTS), "port id out of range");
	TEST_ASSERT_SUCCESS(rte_vdev_init("net_null_vf", NULL), "net_null probe");
	TEST_ASSERT_SUCCESS(rte_eth_dev_get_port_by_name("net_null_vf", &other), "null port");
	ours = pfrag_mbuf_port_rx_frags(other);
	TEST_ASSERT_SUCCESS(rte_eth_dev_close(other), "close null port");
	TEST_ASSERT_SUCCESS(rte_vdev_uninit("net_null_vf"), "uninit null port");
	TEST_ASSERT(!ours, "a net_null port says it posts fragments");
	return TEST_SUCCESS;
}

static int
suite_setup(void)
{
	return pfrag_test_tmpdir(dir, sizeof(dir)) == 0 ? TEST_SUCCESS : TEST_FAILED;
}

static void
suite_teardown(void)
{
	pfrag_test_rmdir(dir);
}

static const struct unit_test_suite virtio_frag_suite = {
	.name = "virtio_frag probe and devargs",
	.setup = suite_setup,
	.teardown = suite_teardown,
	.cases = {
		TEST_CASE(test_bad_devargs),
		TEST_CASE(test_client_no_backend),
		TEST_CASE(test_server_waits),
		TEST_CASE(test_shared_pool),
		TEST_CASE(test_xstat_names),
		TEST_CASE(test_rx_pool_helper),
		TEST_CASES_END(),
	},
};

static int
virtio_frag_autotest(void)
{
	return unit_test_suite_runner(&virtio_frag_suite);
}

PFRAG_TEST_REGISTER(virtio_frag_autotest, FAST, PFRAG_TEST_NOHUGE, virtio_frag_autotest);

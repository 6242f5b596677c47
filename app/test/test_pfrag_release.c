/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * pfrag_release_autotest: giving a pool up while its fragments are out.
 * - lib: pfrag_pool_release() of a busy pool defers, frees the name at
 *   once, and destroys the pool (memzones back) once the last fragment
 *   returns from another thread; an idle pool goes at once.
 * - PMD: a vswitch hot-unplugs a net_virtio_frag_user port (rte_dev_remove)
 *   while mbufs of the port's pool are still held elsewhere (another port's
 *   TX ring), then plugs it again: both quiet (no warning, no error), the
 *   re-plugged port gets a working pool, and once the held mbufs are freed
 *   the old pool is destroyed and every memzone is back.
 */

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <rte_bus_vdev.h>
#include <rte_dev.h>
#include <rte_ethdev.h>
#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_memzone.h>

#include <pfrag.h>
#include <pfrag_mbuf.h>
#include <virtio_frag.h>

#include "test.h"
#include "test_pfrag_logcap.h"
#include "test_virtio_frag_peer.h"

#define HELD 16
#define PORT_NAME "net_virtio_frag_user6"
#define PORT_NAME7 "net_virtio_frag_user7"

/* Memzones of pfrag pools: their pages and their rings. */
static void
mz_count_one(const struct rte_memzone *mz, void *arg)
{
	if (strncmp(mz->name, "pfrag", 5) == 0 || strncmp(mz->name, "RG_pfrag", 8) == 0)
		(*(unsigned int *)arg)++;
}

static unsigned int
memzones(void)
{
	unsigned int n = 0;

	rte_memzone_walk(mz_count_one, &n);
	return n;
}

/*
 * Wait for every released pool to be destroyed: the EAL alarm retries every
 * PFRAG_RELEASE_RETRY_MS; give up after 10 s (a hang guard, not a timing).
 */
static int
wait_released(void)
{
	unsigned int i;

	for (i = 0; i < 1000 && pfrag_pool_released_count() != 0; i++)
		usleep(10000);
	return pfrag_pool_released_count() == 0 ? 0 : -1;
}

static void *
free_from_thread(void *arg)
{
	struct rte_mbuf **m = arg;

	rte_pktmbuf_free_bulk(m, HELD);
	return NULL;
}

static int
test_release_lib(struct rte_mempool *hdrs)
{
	unsigned int mz0 = memzones();
	struct pfrag_pool *p, *again;
	static struct pfrag_cache stale;
	struct rte_mbuf *m[HELD];
	unsigned int i;
	pthread_t t;

	p = pfrag_pool_create("rel", SOCKET_ID_ANY, 0, 16, 0);
	TEST_ASSERT_NOT_NULL(p, "pool");
	TEST_ASSERT_EQUAL(memzones(), mz0 + 2, "a pool's memzones (pages, ring) not seen");
	for (i = 0; i < HELD; i++) {
		m[i] = pfrag_pktmbuf_alloc(hdrs, p, 1500);
		TEST_ASSERT_NOT_NULL(m[i], "mbuf %u", i);
	}
	TEST_ASSERT_EQUAL(pfrag_pool_release(p), 1, "busy pool: destruction deferred");
	TEST_ASSERT_EQUAL(pfrag_pool_release(p), -EINVAL, "released twice");
	TEST_ASSERT_EQUAL(pfrag_pool_free(p), -EINVAL, "pfrag_pool_free of a released pool");
	TEST_ASSERT_EQUAL(pfrag_pool_released_count(), 1, "one pool waits");
	TEST_ASSERT_NULL(pfrag_pool_lookup("rel"), "a released pool is not looked up");
	/* The name is free: a new pool takes it while the old one waits. */
	again = pfrag_pool_create("rel", SOCKET_ID_ANY, 0, 16, 0);
	TEST_ASSERT_NOT_NULL(again, "name of a released pool: %s", rte_strerror(rte_errno));
	TEST_ASSERT_EQUAL(pfrag_pool_release(again), 0, "idle pool: destroyed at once");
	/*
	 * A destroyed pool is no pool: not read, not attached to (a port that
	 * shared it with pool= still holds the pointer), not freed twice.
	 */
	TEST_ASSERT_EQUAL(pfrag_cache_init(&stale, again), -EINVAL,
			  "cache attached to a destroyed pool");
	TEST_ASSERT_EQUAL(pfrag_pool_free(again), -EINVAL, "destroyed pool freed again");
	TEST_ASSERT_EQUAL(pfrag_cache_init(&stale, p), -EINVAL,
			  "cache attached to a released pool");
	/* The packets come back on a thread of their own, as from a TX ring. */
	TEST_ASSERT_SUCCESS(pthread_create(&t, NULL, free_from_thread, m), "thread");
	pthread_join(t, NULL);
	TEST_ASSERT_SUCCESS(wait_released(), "released pool not destroyed after its last "
			    "fragment returned");
	TEST_ASSERT_EQUAL(memzones(), mz0, "memzones left behind");
	return TEST_SUCCESS;
}

static int
plug(const char *devargs, uint16_t *port, struct pfrag_pool **pool)
{
	TEST_ASSERT_SUCCESS(rte_dev_probe(devargs), "probe %s", devargs);
	TEST_ASSERT_SUCCESS(rte_eth_dev_get_port_by_name(PORT_NAME, port), "port");
	*pool = vf_port_pool(*port);
	TEST_ASSERT_NOT_NULL(*pool, "port %u's pool", *port);
	return TEST_SUCCESS;
}

static int
unplug(uint16_t port)
{
	struct rte_eth_dev_info info;

	TEST_ASSERT_SUCCESS(rte_eth_dev_info_get(port, &info), "info");
	TEST_ASSERT_SUCCESS(rte_dev_remove(info.device), "hot-unplug");
	return TEST_SUCCESS;
}

static int
test_replug(struct rte_mempool *hdrs)
{
	unsigned int mz0 = memzones(), i, loud;
	struct pfrag_pool *old, *fresh;
	struct pfrag_pool_info info;
	struct rte_mbuf *m[HELD];
	char dir[64], devargs[256];
	uint16_t port;
	int ret = TEST_FAILED;

	TEST_ASSERT_SUCCESS(pfrag_test_tmpdir(dir, sizeof(dir)), "tmpdir");
	snprintf(devargs, sizeof(devargs), "%s,path=%s/replug.sock,server=1", PORT_NAME, dir);
	TEST_ASSERT_SUCCESS(logcap_start(1), "log capture");
	if (plug(devargs, &port, &old) != TEST_SUCCESS)
		goto out;
	/* The port's packets, held by the application or another port's TX ring. */
	for (i = 0; i < HELD; i++) {
		m[i] = pfrag_pktmbuf_alloc(hdrs, old, 1500);
		if (m[i] == NULL) {
			printf("mbuf %u of the port's pool: %s\n", i, rte_strerror(rte_errno));
			goto out;
		}
	}
	if (unplug(port) != TEST_SUCCESS || plug(devargs, &port, &fresh) != TEST_SUCCESS)
		goto out_free;
	if (fresh == old || pfrag_pool_info_get(fresh, &info) != 0 || info.frags_out != 0) {
		printf("the re-plugged port did not get a fresh pool\n");
		goto out_free;
	}
	ret = TEST_SUCCESS;
out_free:
	rte_pktmbuf_free_bulk(m, HELD);
	if (ret == TEST_SUCCESS && wait_released() != 0) {
		printf("the unplugged port's pool is not destroyed after its packets "
		       "came back\n");
		ret = TEST_FAILED;
	}
	if (ret == TEST_SUCCESS && unplug(port) != TEST_SUCCESS)
		ret = TEST_FAILED;
out:
	logcap_stop();
	pfrag_test_rmdir(dir);
	/*
	 * About pools, that is: under --no-huge the transport warns at every
	 * probe that it cannot follow memory hotplug, which is another matter.
	 */
	loud = logcap_count_level_match(RTE_LOG_WARNING, "pool");
	if (loud != 0)
		logcap_dump(RTE_LOG_WARNING);
	TEST_ASSERT_EQUAL(ret, TEST_SUCCESS, "hot-unplug and re-plug");
	TEST_ASSERT_EQUAL(loud, 0, "hot-unplug and re-plug must be quiet about the pool");
	TEST_ASSERT_SUCCESS(wait_released(), "pools left pending");
	TEST_ASSERT_EQUAL(memzones(), mz0, "memzones left behind (pools leaked)");
	return TEST_SUCCESS;
}

/*
 * A pool named vfrag<port> that the application made is not the port's: the
 * probe must not adopt it (its close would release the application's pool,
 * which pfrag then destroys under the application).
 */
static int
test_name_taken(void)
{
	char dir[64], devargs[256], name[PFRAG_NAMESIZE];
	struct pfrag_pool *app, *found;
	uint16_t next, port;
	int ret;

	/* The port id the next probe gets: the first free one. */
	for (next = 0; next < RTE_MAX_ETHPORTS && rte_eth_dev_is_valid_port(next); next++)
		;
	TEST_ASSERT(next < RTE_MAX_ETHPORTS, "no free port id");
	snprintf(name, sizeof(name), VFRAG_POOL_NAME_FMT, next);
	app = pfrag_pool_create(name, SOCKET_ID_ANY, 0, 16, 0);
	TEST_ASSERT_NOT_NULL(app, "application pool %s: %s", name, rte_strerror(rte_errno));
	TEST_ASSERT_SUCCESS(pfrag_test_tmpdir(dir, sizeof(dir)), "tmpdir");
	snprintf(devargs, sizeof(devargs), "%s,path=%s/taken.sock,server=1", PORT_NAME7, dir);
	ret = rte_dev_probe(devargs);
	if (ret == 0) {
		/* The old behaviour: the port took the pool; unplug as a vswitch would. */
		if (rte_eth_dev_get_port_by_name(PORT_NAME7, &port) == 0) {
			if (port != next)
				printf("port %u, not %u as predicted\n", port, next);
			unplug(port);
		}
	}
	pfrag_test_rmdir(dir);
	found = pfrag_pool_lookup(name);
	if (found == app)
		TEST_ASSERT_SUCCESS(pfrag_pool_free(app), "application pool free");
	TEST_ASSERT(ret != 0, "a port adopted the application's pool %s", name);
	TEST_ASSERT(found == app, "the application's pool %s was taken away by a port's close",
		    name);
	return TEST_SUCCESS;
}

static int
pfrag_release_autotest(void)
{
	struct rte_mempool *hdrs;
	int ret;

	hdrs = pfrag_mbuf_hdr_pool_create("rel_hdrs", 256, SOCKET_ID_ANY);
	TEST_ASSERT_NOT_NULL(hdrs, "header pool");
	ret = test_release_lib(hdrs);
	if (ret == TEST_SUCCESS)
		ret = test_replug(hdrs);
	if (ret == TEST_SUCCESS)
		ret = test_name_taken();
	rte_mempool_free(hdrs);
	return ret;
}

PFRAG_TEST_REGISTER(pfrag_release_autotest, FAST, PFRAG_TEST_NOHUGE, pfrag_release_autotest);

/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * pfrag_mt_autotest: every lcore allocates fragments and hands them to the
 * next lcore through a ring; that lcore frees them. So every free is a
 * cross-lcore free, racing the owner's allocations on the same pages.
 * Afterwards nothing may be out and every page must be back in the pool.
 * PFRAG_STRESS_LONG=1 runs 20 times longer.
 */

#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_ring.h>

#include <pfrag.h>

#include "test.h"

#define RING_SIZE 1024
#define BURST 32
#define NB_PAGES 256

static struct pfrag_pool *pool;
static struct rte_ring *rings[RTE_MAX_LCORE];
static unsigned int next_lcore[RTE_MAX_LCORE];
static uint64_t ops_per_lcore;
static uint64_t corrupt;
static uint64_t done_lcores;

/* The first 8 bytes of a fragment carry its own address: a cheap integrity mark. */
static void
mark(void *va)
{
	uint64_t v = (uintptr_t)va;

	memcpy(va, &v, sizeof(v));
}

static int
marked(const void *va)
{
	uint64_t v;

	memcpy(&v, va, sizeof(v));
	return v == (uintptr_t)va;
}

static void
drain_ring(struct rte_ring *r)
{
	void *va[BURST];
	unsigned int n, i;

	while ((n = rte_ring_dequeue_burst(r, va, BURST, NULL)) > 0) {
		for (i = 0; i < n; i++)
			if (!marked(va[i]))
				__atomic_fetch_add(&corrupt, 1, __ATOMIC_RELAXED);
		pfrag_free_bulk(va, n);
	}
}

static int
worker(void *arg __rte_unused)
{
	unsigned int me = rte_lcore_id(), n, i, sent;
	struct rte_ring *out = rings[next_lcore[me]], *in = rings[me];
	uint64_t done = 0, seed = me + 1;
	void *va[BURST];

	while (done < ops_per_lcore) {
		for (n = 0; n < BURST; n++) {
			seed = seed * 6364136223846793005ull + 1442695040888963407ull;
			va[n] = pfrag_alloc(pool, 8 + (seed >> 33) % 2040, 8);
			if (va[n] == NULL)
				break;
			mark(va[n]);
		}
		sent = rte_ring_enqueue_burst(out, va, n, NULL);
		/* The neighbour is slow: free what did not fit ourselves. */
		for (i = sent; i < n; i++)
			pfrag_free(va[i]);
		done += n;
		drain_ring(in);
	}
	__atomic_fetch_add(&done_lcores, 1, __ATOMIC_RELEASE);
	/* Keep freeing for the others until everyone stopped sending. */
	while (__atomic_load_n(&done_lcores, __ATOMIC_ACQUIRE) < rte_lcore_count())
		drain_ring(in);
	drain_ring(in);
	pfrag_cache_drain(pfrag_lcore_cache(pool));
	return 0;
}

static int
pfrag_mt_autotest(void)
{
	unsigned int lcore, prev = RTE_MAX_LCORE, first = RTE_MAX_LCORE;
	struct pfrag_pool_info info;
	uint64_t t0, elapsed, total;
	char name[32];
	int ret = TEST_SUCCESS;

	if (rte_lcore_count() < 2) {
		pfrag_test_skip_reason("needs at least 2 lcores");
		return TEST_SKIPPED;
	}
	ops_per_lcore = getenv("PFRAG_STRESS_LONG") != NULL ? 100000000 : 5000000;
	pool = pfrag_pool_create("mt", SOCKET_ID_ANY, 0, NB_PAGES, 0);
	TEST_ASSERT_NOT_NULL(pool, "pool create: %s", rte_strerror(rte_errno));

	/* A ring per lcore; each lcore feeds the next one, round the circle. */
	RTE_LCORE_FOREACH(lcore) {
		snprintf(name, sizeof(name), "mt_%u", lcore);
		rings[lcore] = rte_ring_create(name, RING_SIZE, SOCKET_ID_ANY, 0);
		TEST_ASSERT_NOT_NULL(rings[lcore], "ring");
		if (prev != RTE_MAX_LCORE)
			next_lcore[prev] = lcore;
		else
			first = lcore;
		prev = lcore;
	}
	next_lcore[prev] = first;

	t0 = rte_rdtsc();
	rte_eal_mp_remote_launch(worker, NULL, CALL_MAIN);
	rte_eal_mp_wait_lcore();
	elapsed = rte_rdtsc() - t0;
	total = ops_per_lcore * rte_lcore_count();
	printf("%u lcores, %" PRIu64 " fragments passed on and freed in %.2f s "
	       "(%.1f M/s)\n", rte_lcore_count(), total,
	       (double)elapsed / rte_get_tsc_hz(),
	       total / ((double)elapsed / rte_get_tsc_hz()) / 1e6);

	pfrag_pool_info_get(pool, &info);
	pfrag_pool_dump(stdout, pool);
	if (corrupt != 0) {
		printf("%" PRIu64 " fragments arrived corrupted\n", corrupt);
		ret = TEST_FAILED;
	}
	if (info.frags_out != 0 || info.pages_free != NB_PAGES || info.stats.alloc < total) {
		printf("fragments out %" PRIu64 ", pages back %u of %u\n", info.frags_out,
		       info.pages_free, NB_PAGES);
		ret = TEST_FAILED;
	}
	RTE_LCORE_FOREACH(lcore)
		rte_ring_free(rings[lcore]);
	TEST_ASSERT_SUCCESS(pfrag_pool_free(pool), "pool free");
	return ret;
}

PFRAG_TEST_REGISTER(pfrag_mt_autotest, STRESS, PFRAG_TEST_NOHUGE, pfrag_mt_autotest);

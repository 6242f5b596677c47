/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * pfrag_perf_autotest: pfrag beside DPDK's own allocators, in one run.
 *
 * Each figure is ns per alloc+free pair, the best of REPEAT runs:
 * - single: W fragments in flight (a ring of W slots: alloc into the slot,
 *   free what was there), sizes 64/256/1500/2048, W = 32 and 512; anchors
 *   rte_mempool_get/put (with a per-lcore cache, elements of that size) and
 *   rte_pktmbuf_alloc/free (data room of that size);
 * - bulk: 32 at a time, pfrag_alloc_bulk + pfrag_free_bulk against
 *   rte_pktmbuf_alloc_bulk + rte_pktmbuf_free_bulk, per fragment;
 * - cross-lcore: one lcore allocates, another frees (through an rte_ring),
 *   against rte_mempool get on one lcore and put on the other.
 * The ratio is ours / anchor: below 1.0 means pfrag is faster. No figure is
 * asserted: the unit fails only if an allocator fails or leaks.
 */

#include <stdlib.h>

#include <rte_cycles.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include <pfrag.h>

#include "test.h"

#define ITER 2000000u
#define REPEAT 3
#define MAX_WINDOW 512
#define BULK 32
#define MP_SIZE 16383
#define MP_CACHE 256

static struct pfrag_pool *pool;
static void *slots[MAX_WINDOW];
static int failures;

static double
ns_per(uint64_t cycles, uint64_t n)
{
	return (double)cycles * 1e9 / rte_get_tsc_hz() / n;
}

static double
best(double a, double b)
{
	return a < b ? a : b;
}

/* The allocators under test, behind one shape. */
enum kind { PFRAG, MEMPOOL, PKTMBUF };

struct anchor {
	struct rte_mempool *mp;
	struct rte_mempool *mbufs;
	uint32_t size;
};

static inline void *
get_one(enum kind k, struct anchor *a)
{
	void *obj = NULL;

	switch (k) {
	case PFRAG:
		return pfrag_alloc(pool, a->size, 64);
	case MEMPOOL:
		if (rte_mempool_get(a->mp, &obj) != 0)
			return NULL;
		return obj;
	default:
		return rte_pktmbuf_alloc(a->mbufs);
	}
}

static inline void
put_one(enum kind k, struct anchor *a, void *obj)
{
	switch (k) {
	case PFRAG:
		pfrag_free(obj);
		break;
	case MEMPOOL:
		rte_mempool_put(a->mp, obj);
		break;
	default:
		rte_pktmbuf_free(obj);
	}
}

static double
run_window(enum kind k, struct anchor *a, unsigned int window)
{
	uint64_t t0, elapsed;
	unsigned int i, r;
	double ns = 1e9;

	for (r = 0; r < REPEAT; r++) {
		for (i = 0; i < window; i++)
			slots[i] = get_one(k, a);
		t0 = rte_rdtsc_precise();
		for (i = 0; i < ITER; i++) {
			unsigned int s = i & (window - 1);
			void *obj = get_one(k, a);

			if (unlikely(obj == NULL)) {
				failures++;
				break;
			}
			put_one(k, a, slots[s]);
			slots[s] = obj;
		}
		elapsed = rte_rdtsc_precise() - t0;
		for (i = 0; i < window; i++)
			put_one(k, a, slots[i]);
		ns = best(ns, ns_per(elapsed, ITER));
	}
	return ns;
}

static double
run_bulk(enum kind k, struct anchor *a)
{
	void *objs[BULK];
	uint64_t t0, elapsed;
	unsigned int i, r;
	double ns = 1e9;

	for (r = 0; r < REPEAT; r++) {
		t0 = rte_rdtsc_precise();
		for (i = 0; i < ITER / BULK; i++) {
			if (k == PFRAG) {
				if (unlikely(pfrag_alloc_bulk(pool, a->size, 64, objs, NULL,
							      BULK) != 0)) {
					failures++;
					break;
				}
				pfrag_free_bulk(objs, BULK);
			} else if (k == MEMPOOL) {
				if (unlikely(rte_mempool_get_bulk(a->mp, objs, BULK) != 0)) {
					failures++;
					break;
				}
				rte_mempool_put_bulk(a->mp, objs, BULK);
			} else {
				if (unlikely(rte_pktmbuf_alloc_bulk(a->mbufs,
						(struct rte_mbuf **)objs, BULK) != 0)) {
					failures++;
					break;
				}
				rte_pktmbuf_free_bulk((struct rte_mbuf **)objs, BULK);
			}
		}
		elapsed = rte_rdtsc_precise() - t0;
		ns = best(ns, ns_per(elapsed, ITER / BULK * BULK));
	}
	return ns;
}

/* Cross-lcore: the main lcore allocates, a worker frees. */
static struct rte_ring *xring;
static volatile int xstop;
static enum kind xkind;
static struct anchor *xanchor;

static int
cross_freer(void *arg __rte_unused)
{
	void *objs[BULK];
	unsigned int n, i;

	while (!xstop || rte_ring_count(xring) > 0) {
		n = rte_ring_dequeue_burst(xring, objs, BULK, NULL);
		for (i = 0; i < n; i++)
			put_one(xkind, xanchor, objs[i]);
	}
	return 0;
}

static double
run_cross(enum kind k, struct anchor *a, unsigned int worker)
{
	void *objs[BULK];
	uint64_t t0, elapsed, done = 0;
	unsigned int n, sent;

	xkind = k;
	xanchor = a;
	xstop = 0;
	rte_eal_remote_launch(cross_freer, NULL, worker);
	t0 = rte_rdtsc_precise();
	while (done < ITER) {
		for (n = 0; n < BULK; n++) {
			objs[n] = get_one(k, a);
			if (objs[n] == NULL)
				break;
		}
		sent = 0;
		while (sent < n)
			sent += rte_ring_enqueue_burst(xring, &objs[sent], n - sent, NULL);
		done += n;
	}
	xstop = 1;
	rte_eal_wait_lcore(worker);
	elapsed = rte_rdtsc_precise() - t0;
	return ns_per(elapsed, done);
}

static void
row(const char *what, double ours, double anchor, const char *anchor_name)
{
	printf("%-30s %9.2f %9.2f  %5.2fx  (%s)\n", what, ours, anchor, ours / anchor,
	       anchor_name);
}

static int
pfrag_perf_autotest(void)
{
	static const uint32_t sizes[] = { 64, 256, 1500, 2048 };
	static const unsigned int windows[] = { 32, 512 };
	struct anchor a;
	unsigned int s, w, worker;
	char what[64];
	int ret = TEST_SUCCESS;

	pool = pfrag_pool_create("perf", SOCKET_ID_ANY, 0, 2048, 0);
	TEST_ASSERT_NOT_NULL(pool, "pool: %s", rte_strerror(rte_errno));
	xring = rte_ring_create("perf_x", 4096, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
	TEST_ASSERT_NOT_NULL(xring, "ring");

	printf("\nns per alloc+free pair (best of %d x %u); ratio = pfrag / anchor\n",
	       REPEAT, ITER);
	printf("%-30s %9s %9s  %6s\n", "case", "pfrag", "anchor", "ratio");
	for (s = 0; s < RTE_DIM(sizes); s++) {
		a.size = sizes[s];
		a.mp = rte_mempool_create("perf_mp", MP_SIZE, sizes[s], MP_CACHE, 0, NULL, NULL,
					  NULL, NULL, SOCKET_ID_ANY, 0);
		a.mbufs = rte_pktmbuf_pool_create("perf_mb", MP_SIZE, MP_CACHE, 0,
						  RTE_PKTMBUF_HEADROOM + sizes[s], SOCKET_ID_ANY);
		TEST_ASSERT(a.mp != NULL && a.mbufs != NULL, "anchor pools: %s",
			    rte_strerror(rte_errno));
		for (w = 0; w < RTE_DIM(windows); w++) {
			double ours = run_window(PFRAG, &a, windows[w]);

			snprintf(what, sizeof(what), "%4u B, %3u in flight", sizes[s], windows[w]);
			row(what, ours, run_window(MEMPOOL, &a, windows[w]), "rte_mempool");
			row(what, ours, run_window(PKTMBUF, &a, windows[w]), "rte_pktmbuf");
		}
		snprintf(what, sizeof(what), "%4u B, bulk %u", sizes[s], BULK);
		row(what, run_bulk(PFRAG, &a), run_bulk(PKTMBUF, &a), "rte_pktmbuf bulk");
		worker = rte_get_next_lcore(rte_lcore_id(), 1, 0);
		if (worker < RTE_MAX_LCORE) {
			double ours = run_cross(PFRAG, &a, worker);

			snprintf(what, sizeof(what), "%4u B, cross-lcore free", sizes[s]);
			row(what, ours, run_cross(MEMPOOL, &a, worker), "rte_mempool");
		}
		rte_mempool_free(a.mp);
		rte_mempool_free(a.mbufs);
	}
	printf("\n");

	pfrag_pool_drain_caches(pool);
	pfrag_pool_dump(stdout, pool);
	if (failures != 0) {
		printf("%d allocations failed\n", failures);
		ret = TEST_FAILED;
	}
	if (pfrag_pool_frags_out(pool) != 0)
		ret = TEST_FAILED;
	rte_ring_free(xring);
	TEST_ASSERT_SUCCESS(pfrag_pool_free(pool), "pool free: fragments out");
	return ret;
}

PFRAG_TEST_REGISTER(pfrag_perf_autotest, PERF, PFRAG_TEST_HUGE, pfrag_perf_autotest);

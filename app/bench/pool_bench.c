/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Pool benchmarks, pfrag beside DPDK's own allocators in one run:
 * - single: W fragments in flight (a ring of W slots: allocate into a slot,
 *   free what was there), sizes 64/256/1500/2048, W = 32 and 512; anchors
 *   rte_mempool_get/put (per-lcore cache, elements of that size) and
 *   rte_pktmbuf_alloc/free (data room of that size);
 * - bulk: 32 at a time, pfrag_alloc_bulk + pfrag_free_bulk against
 *   rte_pktmbuf_alloc_bulk + rte_pktmbuf_free_bulk, per fragment;
 * - cross-lcore: one lcore allocates, another frees (through an rte_ring),
 *   against rte_mempool get on one lcore and put on the other;
 * - mempool ops: an mbuf pool on the "pfrag" mempool ops against the same
 *   pool on DPDK's default ops (ring_mp_mc), rte_pktmbuf_alloc_bulk() +
 *   rte_pktmbuf_free_bulk() of 32, with a 256-mbuf cache and with none.
 */

#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include <pfrag.h>

#include "pool_bench.h"

#define REPEAT 3
#define MAX_WINDOW 512
#define BULK 32
#define MP_SIZE 16383
#define MP_CACHE 256

static struct pfrag_pool *pool;
static void *slots[MAX_WINDOW];
static unsigned int failures;
static unsigned int iter;

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
		for (i = 0; i < iter; i++) {
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
		ns = best(ns, ns_per(elapsed, iter));
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
		for (i = 0; i < iter / BULK; i++) {
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
		ns = best(ns, ns_per(elapsed, iter / BULK * BULK));
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
	uint64_t t0, elapsed, done;
	unsigned int n, sent, r;
	double ns = 1e9;

	xkind = k;
	xanchor = a;
	for (r = 0; r < REPEAT; r++) {
		xstop = 0;
		done = 0;
		rte_eal_remote_launch(cross_freer, NULL, worker);
		t0 = rte_rdtsc_precise();
		while (done < iter) {
			for (n = 0; n < BULK; n++) {
				objs[n] = get_one(k, a);
				if (unlikely(objs[n] == NULL)) {
					failures++;
					break;
				}
			}
			sent = 0;
			while (sent < n)
				sent += rte_ring_enqueue_burst(xring, &objs[sent], n - sent,
							       NULL);
			done += n;
			if (unlikely(n < BULK))
				break;
		}
		xstop = 1;
		rte_eal_wait_lcore(worker);
		elapsed = rte_rdtsc_precise() - t0;
		ns = best(ns, ns_per(elapsed, RTE_MAX(done, (uint64_t)1)));
	}
	return ns;
}

static void
add_row(struct pool_bench_result *res, const char *name, const char *anchor, double ours,
	double theirs)
{
	struct bench_row *r;

	if (res->nb_rows == POOL_BENCH_MAX_ROWS)
		return;
	r = &res->rows[res->nb_rows++];
	snprintf(r->name, sizeof(r->name), "%s", name);
	snprintf(r->anchor, sizeof(r->anchor), "%s", anchor);
	r->ours = ours;
	r->theirs = theirs;
}

void
bench_print(const struct bench_row *rows, unsigned int n)
{
	unsigned int i;

	printf("%-30s %9s %9s  %6s  %s\n", "case (ns per op)", "pfrag", "anchor", "ratio",
	       "anchor");
	for (i = 0; i < n; i++)
		printf("%-30s %9.2f %9.2f  %5.2fx  %s\n", rows[i].name, rows[i].ours,
		       rows[i].theirs, rows[i].ours / rows[i].theirs, rows[i].anchor);
}

/* ns per mbuf of bulk alloc + bulk free on @p mp, best of REPEAT. */
static double
run_mbuf_bulk(struct rte_mempool *mp)
{
	struct anchor a = { .mbufs = mp };

	return run_bulk(PKTMBUF, &a);
}

/*
 * The mempool ops against ring_mp_mc: the same pool geometry, interleaved
 * so that a slow spell of the machine hits both.
 */
static void
ops_rows(struct pool_bench_result *res)
{
	static const unsigned int caches[] = { 256, 0 };
	struct rte_mempool *ring, *ours;
	double t_ring, t_ours;
	char what[64];
	unsigned int c, r;

	for (c = 0; c < RTE_DIM(caches); c++) {
		ring = rte_pktmbuf_pool_create_by_ops("bench_ring", MP_SIZE, caches[c], 0,
				RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY, "ring_mp_mc");
		ours = rte_pktmbuf_pool_create_by_ops("bench_pf", MP_SIZE, caches[c], 0,
				RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY, "pfrag");
		if (ring == NULL || ours == NULL) {
			printf("mempool ops rows: %s\n", rte_strerror(rte_errno));
			failures++;
		} else {
			/* More rounds than elsewhere: the two differ by little. */
			t_ring = t_ours = 1e9;
			for (r = 0; r < 9; r++) {
				t_ring = best(t_ring, run_mbuf_bulk(ring));
				t_ours = best(t_ours, run_mbuf_bulk(ours));
			}
			snprintf(what, sizeof(what), "mbuf ops, cache %3u, bulk %u", caches[c],
				 BULK);
			add_row(res, what, "ring_mp_mc ops", t_ours, t_ring);
		}
		rte_mempool_free(ring);
		rte_mempool_free(ours);
	}
}

int
pool_bench_run(struct pool_bench_result *res, unsigned int iterations)
{
	static const uint32_t sizes[] = { 64, 256, 1500, 2048 };
	static const unsigned int windows[] = { 32, 512 };
	unsigned int s, w, worker;
	struct anchor a;
	char what[64];
	int ret = 0;

	memset(res, 0, sizeof(*res));
	iter = iterations;
	failures = 0;
	pool = pfrag_pool_create("bench", SOCKET_ID_ANY, 0, 2048, 0);
	xring = rte_ring_create("bench_x", 4096, SOCKET_ID_ANY,
				RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (pool == NULL || xring == NULL) {
		ret = -rte_errno;
		goto out;
	}
	for (s = 0; s < RTE_DIM(sizes); s++) {
		a.size = sizes[s];
		a.mp = rte_mempool_create("bench_mp", MP_SIZE, sizes[s], MP_CACHE, 0, NULL,
					  NULL, NULL, NULL, SOCKET_ID_ANY, 0);
		a.mbufs = rte_pktmbuf_pool_create("bench_mb", MP_SIZE, MP_CACHE, 0,
						  RTE_PKTMBUF_HEADROOM + sizes[s], SOCKET_ID_ANY);
		if (a.mp == NULL || a.mbufs == NULL) {
			ret = -rte_errno;
			rte_mempool_free(a.mp);
			rte_mempool_free(a.mbufs);
			goto out;
		}
		for (w = 0; w < RTE_DIM(windows); w++) {
			double ours = run_window(PFRAG, &a, windows[w]);

			snprintf(what, sizeof(what), "%4u B, %3u in flight", sizes[s], windows[w]);
			add_row(res, what, "rte_mempool get/put", ours,
				run_window(MEMPOOL, &a, windows[w]));
			add_row(res, what, "rte_pktmbuf alloc/free", ours,
				run_window(PKTMBUF, &a, windows[w]));
		}
		snprintf(what, sizeof(what), "%4u B, bulk %u", sizes[s], BULK);
		add_row(res, what, "rte_pktmbuf bulk", run_bulk(PFRAG, &a),
			run_bulk(PKTMBUF, &a));
		worker = rte_get_next_lcore(rte_lcore_id(), 1, 0);
		if (worker < RTE_MAX_LCORE) {
			double ours = run_cross(PFRAG, &a, worker);

			snprintf(what, sizeof(what), "%4u B, cross-lcore free", sizes[s]);
			add_row(res, what, "rte_mempool get/put", ours,
				run_cross(MEMPOOL, &a, worker));
		}
		rte_mempool_free(a.mp);
		rte_mempool_free(a.mbufs);
	}
	ops_rows(res);
out:
	res->failures = failures;
	if (pool != NULL) {
		pfrag_pool_drain_caches(pool);
		res->frags_out = pfrag_pool_frags_out(pool);
		if (res->frags_out == 0)
			pfrag_pool_free(pool);
		else
			pfrag_pool_dump(stdout, pool);
		pool = NULL;
	}
	rte_ring_free(xring);
	xring = NULL;
	return ret;
}

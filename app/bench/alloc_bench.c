/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * alloc: the pool beside DPDK's own allocators and libc, in one run.
 * - pair: D objects in flight (a ring of D slots: allocate into a slot, free
 *   what was there), for each size and depth; anchors rte_mempool_get/put
 *   (per-lcore cache, elements of that size), rte_pktmbuf_alloc/free (data
 *   room of that size) and malloc/free;
 * - bulk: B at a time (pfrag_alloc_bulk + pfrag_free_bulk against the
 *   mempool's and the mbuf library's bulk calls, malloc in a loop), per
 *   object;
 * - cross-lcore: this lcore allocates, the next one frees (handed over
 *   through an SP/SC rte_ring), per object, the same three anchors;
 * - mempool ops: an mbuf pool on the "pfrag" mempool ops against the same
 *   pool on DPDK's default ops (ring_mp_mc), bulk alloc + free, with a
 *   256-mbuf cache and with none.
 * Each figure is the best of REPEAT runs (the least disturbed by other work
 * on a shared machine), the allocators taking turns, in ns and TSC cycles
 * per operation.
 */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include <pfrag.h>

#include "bench.h"

#define REPEAT 3
#define MAX_DEPTH 4096
#define MAX_BULK 64
#define MP_CACHE 256
#define XRING_SIZE 4096u
#define CROSS_MAX_ITER 200000u

enum kind { PFRAG, MEMPOOL, PKTMBUF, MALLOC, NB_KINDS };

static const char *const kind_name[NB_KINDS] = {
	"pfrag", "rte_mempool get/put", "rte_pktmbuf alloc/free", "malloc/free",
};

struct alloc_ctx {
	struct pfrag_pool *pool;
	struct rte_mempool *mp;
	struct rte_mempool *mbufs;
	uint32_t size;
	unsigned int iter;
	unsigned int bulk;
	unsigned int failures;
};

/* A figure: TSC cycles over n operations. */
struct fig {
	uint64_t cycles;
	uint64_t n;
};

static void *slots[MAX_DEPTH];

static inline void *
get_one(enum kind k, struct alloc_ctx *c)
{
	void *obj = NULL;

	switch (k) {
	case PFRAG:
		return pfrag_alloc(c->pool, c->size, 64);
	case MEMPOOL:
		if (rte_mempool_get(c->mp, &obj) != 0)
			return NULL;
		return obj;
	case PKTMBUF:
		return rte_pktmbuf_alloc(c->mbufs);
	default:
		return malloc(c->size);
	}
}

static inline void
put_one(enum kind k, struct alloc_ctx *c, void *obj)
{
	switch (k) {
	case PFRAG:
		pfrag_free(obj);
		break;
	case MEMPOOL:
		rte_mempool_put(c->mp, obj);
		break;
	case PKTMBUF:
		rte_pktmbuf_free(obj);
		break;
	default:
		free(obj);
	}
}

static void
keep_best(struct fig *best, uint64_t cycles, uint64_t n)
{
	if (n == 0)
		return;
	if (best->n == 0 || (double)cycles / n < (double)best->cycles / best->n) {
		best->cycles = cycles;
		best->n = n;
	}
}

/* @p depth objects in flight, one allocation and one free per step. */
static void
run_pair(enum kind k, struct alloc_ctx *c, unsigned int depth, struct fig *best)
{
	uint64_t t0, elapsed;
	unsigned int i, filled;

	for (filled = 0; filled < depth; filled++) {
		slots[filled] = get_one(k, c);
		if (slots[filled] == NULL) {
			c->failures++;
			break;
		}
	}
	t0 = rte_rdtsc_precise();
	for (i = 0; i < c->iter && filled == depth; i++) {
		unsigned int s = i & (depth - 1);
		void *obj = get_one(k, c);

		if (unlikely(obj == NULL)) {
			c->failures++;
			break;
		}
		put_one(k, c, slots[s]);
		slots[s] = obj;
	}
	elapsed = rte_rdtsc_precise() - t0;
	while (filled > 0)
		put_one(k, c, slots[--filled]);
	keep_best(best, elapsed, i);
}

static inline int
get_bulk(enum kind k, struct alloc_ctx *c, void **objs)
{
	unsigned int i;

	switch (k) {
	case PFRAG:
		return pfrag_alloc_bulk(c->pool, c->size, 64, objs, NULL, c->bulk);
	case MEMPOOL:
		return rte_mempool_get_bulk(c->mp, objs, c->bulk);
	case PKTMBUF:
		return rte_pktmbuf_alloc_bulk(c->mbufs, (struct rte_mbuf **)objs, c->bulk);
	default:
		for (i = 0; i < c->bulk; i++) {
			objs[i] = malloc(c->size);
			if (objs[i] == NULL) {
				while (i > 0)
					free(objs[--i]);
				return -ENOMEM;
			}
		}
		return 0;
	}
}

static inline void
put_bulk(enum kind k, struct alloc_ctx *c, void **objs)
{
	unsigned int i;

	switch (k) {
	case PFRAG:
		pfrag_free_bulk(objs, c->bulk);
		break;
	case MEMPOOL:
		rte_mempool_put_bulk(c->mp, objs, c->bulk);
		break;
	case PKTMBUF:
		rte_pktmbuf_free_bulk((struct rte_mbuf **)objs, c->bulk);
		break;
	default:
		for (i = 0; i < c->bulk; i++)
			free(objs[i]);
	}
}

static void
run_bulk(enum kind k, struct alloc_ctx *c, struct fig *best)
{
	void *objs[MAX_BULK];
	uint64_t t0, elapsed;
	unsigned int i;

	t0 = rte_rdtsc_precise();
	for (i = 0; i < c->iter / c->bulk; i++) {
		if (unlikely(get_bulk(k, c, objs) != 0)) {
			c->failures++;
			break;
		}
		put_bulk(k, c, objs);
	}
	elapsed = rte_rdtsc_precise() - t0;
	keep_best(best, elapsed, (uint64_t)i * c->bulk);
}

/* Cross-lcore: this lcore allocates, a worker frees what the ring brings. */
static struct rte_ring *xring;
static volatile int xstop;
static enum kind xkind;
static struct alloc_ctx *xctx;

static int
cross_freer(void *arg __rte_unused)
{
	void *objs[32];
	unsigned int n, i;

	while (!xstop || rte_ring_count(xring) > 0) {
		n = rte_ring_dequeue_burst(xring, objs, RTE_DIM(objs), NULL);
		for (i = 0; i < n; i++)
			put_one(xkind, xctx, objs[i]);
	}
	return 0;
}

static void
run_cross(enum kind k, struct alloc_ctx *c, unsigned int worker, struct fig *best)
{
	/* A ring transfer per object: fewer of them give a steady figure. */
	uint64_t iter = RTE_MIN(c->iter, CROSS_MAX_ITER);
	void *objs[32];
	uint64_t t0, elapsed, done;
	unsigned int n, sent;

	xkind = k;
	xctx = c;
	xstop = 0;
	done = 0;
	if (rte_eal_remote_launch(cross_freer, NULL, worker) != 0) {
		c->failures++;
		return;
	}
	t0 = rte_rdtsc_precise();
	while (done < iter) {
		for (n = 0; n < RTE_DIM(objs); n++) {
			objs[n] = get_one(k, c);
			if (unlikely(objs[n] == NULL)) {
				c->failures++;
				break;
			}
		}
		sent = 0;
		while (sent < n)
			sent += rte_ring_enqueue_burst(xring, &objs[sent], n - sent,
						       NULL);
		done += n;
		if (unlikely(n < RTE_DIM(objs)))
			break;
	}
	xstop = 1;
	rte_eal_wait_lcore(worker);
	elapsed = rte_rdtsc_precise() - t0;
	keep_best(best, elapsed, done);
}

/* One row, ns in the main column, cycles aside. */
static void
add_row(struct bench_table *t, const char *group, const char *name, const char *series,
	const char *anchor, double x, struct fig ours, struct fig theirs)
{
	struct bench_row *r;

	r = bench_add(t, group, name, series, anchor, x, bench_ns(ours.cycles, ours.n),
		      bench_ns(theirs.cycles, theirs.n));
	if (r == NULL)
		return;
	r->ours_aux = bench_cyc(ours.cycles, ours.n);
	r->theirs_aux = bench_cyc(theirs.cycles, theirs.n);
}

/* Ours against anchor @p k. */
static void
add_fig(struct bench_table *t, const char *group, const char *name, double x,
	struct fig ours, struct fig theirs, enum kind k)
{
	add_row(t, group, name, kind_name[PFRAG], kind_name[k], x, ours, theirs);
}

static int
anchors_create(struct alloc_ctx *c, unsigned int max_depth)
{
	/*
	 * In flight at most: the deepest window or the cross-lcore ring, the
	 * bulk, and what every lcore's cache holds.
	 */
	unsigned int n = rte_align32pow2(RTE_MAX(max_depth, XRING_SIZE) + c->bulk +
					 MP_CACHE * 3) - 1;

	c->mp = rte_mempool_create("bench_mp", n, c->size, MP_CACHE, 0, NULL, NULL, NULL,
				   NULL, SOCKET_ID_ANY, 0);
	c->mbufs = rte_pktmbuf_pool_create("bench_mb", n, MP_CACHE, 0,
					   RTE_PKTMBUF_HEADROOM + c->size, SOCKET_ID_ANY);
	if (c->mp == NULL || c->mbufs == NULL) {
		printf("alloc: anchor pools of %u x %u B: %s\n", n, c->size,
		       rte_strerror(rte_errno));
		rte_mempool_free(c->mp);
		rte_mempool_free(c->mbufs);
		return -ENOMEM;
	}
	return 0;
}

/*
 * The allocators take turns, REPEAT rounds, each keeping its best: a slow
 * spell of the shared machine hits all of them, not one.
 */
enum shape { PAIR, BULK, CROSS };

static void
measure_all(enum shape sh, struct alloc_ctx *c, unsigned int arg, struct fig best[NB_KINDS])
{
	unsigned int r, k;

	memset(best, 0, sizeof(best[0]) * NB_KINDS);
	for (r = 0; r < REPEAT; r++)
		for (k = 0; k < NB_KINDS; k++) {
			if (sh == PAIR)
				run_pair(k, c, arg, &best[k]);
			else if (sh == BULK)
				run_bulk(k, c, &best[k]);
			else
				run_cross(k, c, arg, &best[k]);
		}
}

static void
size_rows(struct bench_table *t, struct alloc_ctx *c, const struct bench_alloc_cfg *cfg)
{
	unsigned int d, k, worker;
	char group[48], name[64];
	struct fig f[NB_KINDS];

	for (d = 0; d < cfg->nb_depths; d++) {
		snprintf(group, sizeof(group), "alloc+free pair, %u in flight", cfg->depths[d]);
		snprintf(name, sizeof(name), "%4u B, %4u in flight", c->size, cfg->depths[d]);
		measure_all(PAIR, c, cfg->depths[d], f);
		for (k = MEMPOOL; k < NB_KINDS; k++)
			add_fig(t, group, name, c->size, f[PFRAG], f[k], k);
	}
	snprintf(group, sizeof(group), "bulk %u, per object", c->bulk);
	snprintf(name, sizeof(name), "%4u B, bulk %u", c->size, c->bulk);
	measure_all(BULK, c, 0, f);
	for (k = MEMPOOL; k < NB_KINDS; k++)
		add_fig(t, group, name, c->size, f[PFRAG], f[k], k);
	worker = rte_get_next_lcore(rte_lcore_id(), 1, 0);
	if (!cfg->cross)
		return;
	if (worker >= RTE_MAX_LCORE) {
		printf("alloc: one lcore only: no cross-lcore rows (run with -l 0-1)\n");
		return;
	}
	snprintf(group, sizeof(group), "freed on another lcore, per object");
	snprintf(name, sizeof(name), "%4u B, cross-lcore free", c->size);
	measure_all(CROSS, c, worker, f);
	for (k = MEMPOOL; k < NB_KINDS; k++)
		add_fig(t, group, name, c->size, f[PFRAG], f[k], k);
}

/*
 * The mempool ops against ring_mp_mc: the same pool geometry, interleaved
 * so that a slow spell of the machine hits both.
 */
static void
ops_rows(struct bench_table *t, struct alloc_ctx *c)
{
	static const unsigned int caches[] = { 256, 0 };
	struct rte_mempool *ring, *ours;
	struct fig f_ring, f_ours;
	char name[64], ours_name[40], ring_name[40];
	unsigned int i, r;

	for (i = 0; i < RTE_DIM(caches); i++) {
		ring = rte_pktmbuf_pool_create_by_ops("bench_ring", 8191, caches[i], 0,
				RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY, "ring_mp_mc");
		ours = rte_pktmbuf_pool_create_by_ops("bench_pf", 8191, caches[i], 0,
				RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY, "pfrag");
		if (ring == NULL || ours == NULL) {
			printf("alloc: mempool ops rows: %s\n", rte_strerror(rte_errno));
			c->failures++;
		} else {
			/* More rounds than elsewhere: the two differ by little. */
			memset(&f_ring, 0, sizeof(f_ring));
			memset(&f_ours, 0, sizeof(f_ours));
			for (r = 0; r < 3 * REPEAT; r++) {
				c->mbufs = ring;
				run_bulk(PKTMBUF, c, &f_ring);
				c->mbufs = ours;
				run_bulk(PKTMBUF, c, &f_ours);
			}
			snprintf(name, sizeof(name), "mbuf pool, cache %3u, bulk %u", caches[i],
				 c->bulk);
			snprintf(ours_name, sizeof(ours_name), "pfrag ops, cache %u", caches[i]);
			snprintf(ring_name, sizeof(ring_name), "ring_mp_mc ops, cache %u",
				 caches[i]);
			add_row(t, "mbuf pool (2 KB mbufs), bulk alloc + free", name, ours_name,
				ring_name, RTE_MBUF_DEFAULT_BUF_SIZE, f_ours, f_ring);
		}
		rte_mempool_free(ring);
		rte_mempool_free(ours);
	}
	c->mbufs = NULL;
}

int
bench_alloc(struct bench_table *t, const struct bench_alloc_cfg *cfg)
{
	struct alloc_ctx c;
	unsigned int s, d, max_depth = 1;
	uint64_t frags_out;
	int ret = 0;

	bench_table_init(t, "alloc", "pfrag alloc+free against rte_mempool, rte_pktmbuf, malloc",
			 "ns per operation", "cycles", "object size (bytes)");
	t->logx = 1;
	t->logy = 1;
	memset(&c, 0, sizeof(c));
	c.iter = cfg->iterations;
	c.bulk = RTE_MIN(RTE_MAX(cfg->bulk, 1u), (unsigned int)MAX_BULK);
	for (d = 0; d < cfg->nb_depths; d++) {
		if (!rte_is_power_of_2(cfg->depths[d]) || cfg->depths[d] > MAX_DEPTH)
			return -EINVAL;
		max_depth = RTE_MAX(max_depth, cfg->depths[d]);
	}
	c.pool = pfrag_pool_create("bench_alloc", SOCKET_ID_ANY, 0, 4096, 0);
	xring = rte_ring_create("bench_x", XRING_SIZE, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (c.pool == NULL || xring == NULL) {
		ret = -rte_errno;
		goto out;
	}
	for (s = 0; s < cfg->nb_sizes; s++) {
		c.size = cfg->sizes[s];
		ret = anchors_create(&c, max_depth);
		if (ret != 0)
			goto out;
		size_rows(t, &c, cfg);
		rte_mempool_free(c.mp);
		rte_mempool_free(c.mbufs);
		c.mp = NULL;
		c.mbufs = NULL;
	}
	ops_rows(t, &c);
out:
	t->failures += c.failures;
	if (c.pool != NULL) {
		pfrag_pool_drain_caches(c.pool);
		frags_out = pfrag_pool_frags_out(c.pool);
		if (frags_out == 0) {
			pfrag_pool_free(c.pool);
		} else {
			printf("alloc: %" PRIu64 " fragments left out\n", frags_out);
			pfrag_pool_dump(stdout, c.pool);
			t->failures++;
		}
	}
	rte_ring_free(xring);
	xring = NULL;
	return ret;
}

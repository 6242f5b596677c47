/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * drain: tearing down an RX ring of N posted fragments. The ring is filled as
 * an RX queue fills it (a user-owned cache, bulk refills of 32) and the
 * cache is drained, so that the teardown is what returns the pages. Then:
 * - bulk drain: pfrag_drain_bulk() over the ring in slot order, one atomic
 *   operation per run of fragments on one page;
 * - the driver's reclaim: the slots as an RX queue leaves them after traffic
 *   (its free ids are a stack, so each refill burst fills its slots in
 *   reverse), walked, cleared and handed to pfrag_drain_bulk() 64 fragments
 *   at a time, as vfrag_rx_reclaim() does;
 * - the anchor: one pfrag_free() per fragment, one atomic each.
 * Figures: time per teardown (median of the repeats) and atomic operations
 * on page counts per teardown (pfrag_drain_bulk()'s count of drains; for the
 * frees, the fragments whose page is not the lcore's current page, checked
 * before the teardown: those are the frees that take the atomic).
 */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_lcore.h>

#include <pfrag.h>

#include "bench.h"

#define REFILL 32u
#define MAX_RING 4096
#define MAX_REPEAT 64

/* Slots per pfrag_drain_bulk() call in the driver's reclaim (VFRAG_RECLAIM_CHUNK). */
#define RECLAIM_CHUNK 64u

enum method { BULK, RECLAIM, ONE_BY_ONE, NB_METHODS };

static const char *const method_name[NB_METHODS] = {
	"pfrag_drain_bulk", "PMD reclaim (ring order after traffic)", "one pfrag_free per fragment",
};

static void *ring[MAX_RING];

/* An RX queue's slot, as the driver keeps it (struct vfrag_rx_slot). */
struct slot {
	void *frag;
	rte_iova_t iova;
	uint32_t len;
	uint32_t fsize;
};

static struct slot slots[MAX_RING];

static int
fill_ring(struct pfrag_pool *pool, uint32_t buf, unsigned int n)
{
	struct pfrag_cache cache;
	unsigned int i;
	int ret;

	memset(&cache, 0, sizeof(cache));
	ret = pfrag_cache_init(&cache, pool);
	if (ret != 0)
		return ret;
	for (i = 0; i < n && ret == 0; i += REFILL)
		ret = pfrag_cache_alloc_bulk(&cache, buf, 64, &ring[i], NULL,
					     RTE_MIN(REFILL, n - i));
	pfrag_cache_fini(&cache);
	return ret;
}

/*
 * The slots an RX queue holds after traffic: used ids go onto a stack and
 * each refill burst pops them, so every burst's slots are filled last to
 * first.
 */
static void
slots_as_after_traffic(unsigned int n)
{
	unsigned int b, k, last;

	for (b = 0; b < n; b += REFILL) {
		last = RTE_MIN(b + REFILL, n) - 1;
		for (k = b; k <= last; k++)
			slots[k] = (struct slot){ .frag = ring[b + last - k], .len = 1,
						  .fsize = 1 };
	}
}

/*
 * The driver's reclaim (vfrag_rx_reclaim()): walk the slots, take each
 * posted fragment and clear the slot, hand them over 64 at a time.
 */
static unsigned int
reclaim_slots(unsigned int n)
{
	void *chunk[RECLAIM_CHUNK];
	unsigned int i, k = 0, drains = 0;

	for (i = 0; i < n; i++) {
		if (slots[i].frag == NULL)
			continue;
		chunk[k++] = slots[i].frag;
		slots[i].frag = NULL;
		if (k == RECLAIM_CHUNK) {
			drains += pfrag_drain_bulk(chunk, k);
			k = 0;
		}
	}
	if (k > 0)
		drains += pfrag_drain_bulk(chunk, k);
	return drains;
}

/* One teardown of @p n fragments; its atomic operations in @p atomics. */
static uint64_t
teardown(enum method m, struct pfrag_pool *pool, unsigned int n, unsigned int *atomics)
{
	struct pfrag_cache *mine = pfrag_lcore_cache(pool);
	uint64_t t0, t1;
	unsigned int i;

	*atomics = 0;
	if (m == ONE_BY_ONE)
		for (i = 0; i < n; i++)
			*atomics += mine == NULL || pfrag_virt2page(ring[i]) != mine->page;
	if (m == RECLAIM)
		slots_as_after_traffic(n);
	t0 = rte_rdtsc_precise();
	switch (m) {
	case BULK:
		*atomics = pfrag_drain_bulk(ring, n);
		break;
	case RECLAIM:
		*atomics = reclaim_slots(n);
		break;
	default:
		for (i = 0; i < n; i++)
			pfrag_free(ring[i]);
	}
	t1 = rte_rdtsc_precise();
	return t1 - t0;
}

/* Median time (us) and atomics of @p repeat teardowns of @p n fragments. */
static int
measure(enum method m, struct pfrag_pool *pool, uint32_t buf, unsigned int n,
	unsigned int repeat, double *us, double *atomics)
{
	double t[MAX_REPEAT], a[MAX_REPEAT];
	unsigned int r, at;
	int ret;

	for (r = 0; r < repeat; r++) {
		ret = fill_ring(pool, buf, n);
		if (ret != 0)
			return ret;
		t[r] = bench_ns(teardown(m, pool, n, &at), 1) / 1000;
		a[r] = at;
	}
	*us = bench_median(t, repeat);
	*atomics = bench_median(a, repeat);
	return 0;
}

int
bench_drain(struct bench_table *t, const struct bench_drain_cfg *cfg)
{
	double us[NB_METHODS], atomics[NB_METHODS];
	unsigned int b, i, repeat = RTE_MIN(RTE_MAX(cfg->repeat, 1u), (unsigned int)MAX_REPEAT);
	char group[48], name[64];
	struct pfrag_pool *pool;
	struct bench_row *row;
	int ret = 0, m;

	bench_table_init(t, "drain", "RX ring teardown: bulk drain against one free per fragment",
			 "us per teardown", "atomics", "posted fragments (ring size)");
	t->logx = 1;
	t->logy = 1;
	pool = pfrag_pool_create("bench_drain", SOCKET_ID_ANY, 0, 2048, 0);
	if (pool == NULL)
		return -rte_errno;
	for (b = 0; b < cfg->nb_buf_sizes && ret == 0; b++) {
		snprintf(group, sizeof(group), "%u-byte buffers, %u per %u-byte page",
			 cfg->buf_sizes[b], pool->page_size / RTE_ALIGN_CEIL(cfg->buf_sizes[b], 64),
			 pool->page_size);
		for (i = 0; i < cfg->nb_rings && ret == 0; i++) {
			if (cfg->rings[i] > MAX_RING) {
				ret = -EINVAL;
				break;
			}
			for (m = 0; m < NB_METHODS && ret == 0; m++)
				ret = measure(m, pool, cfg->buf_sizes[b], cfg->rings[i], repeat,
					      &us[m], &atomics[m]);
			if (ret != 0)
				break;
			for (m = BULK; m <= RECLAIM; m++) {
				snprintf(name, sizeof(name), "%4u x %4u B, %s", cfg->rings[i],
					 cfg->buf_sizes[b],
					 m == BULK ? "bulk drain" : "PMD reclaim");
				row = bench_add(t, group, name, method_name[m],
						method_name[ONE_BY_ONE], cfg->rings[i], us[m],
						us[ONE_BY_ONE]);
				if (row != NULL) {
					row->ours_aux = atomics[m];
					row->theirs_aux = atomics[ONE_BY_ONE];
				}
			}
		}
	}
	if (ret != 0) {
		printf("drain: filling a ring failed: %s\n", rte_strerror(-ret));
		t->failures++;
	}
	pfrag_pool_drain_caches(pool);
	if (pfrag_pool_free(pool) != 0) {
		printf("drain: fragments left out\n");
		t->failures++;
	}
	return ret;
}

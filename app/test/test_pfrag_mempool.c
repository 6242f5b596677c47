/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * pfrag_mempool_autotest: the pfrag-backed mbuf pool through every way DPDK
 * and PMDs take and give back mbufs (alloc, raw alloc, bulk, clone, chain,
 * attach of another external buffer), its limits, and no fragment left out.
 */

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "pfrag.h"
#include "pfrag_mempool.h"
#include "test.h"

#define PAGE_SIZE 32768u
#define NB_PAGES 64u
#define NB_MBUFS 512u
#define DATA_ROOM RTE_MBUF_DEFAULT_BUF_SIZE

static struct pfrag_pool *pool;
static struct rte_mempool *mp;

static int
setup(void)
{
	pool = pfrag_pool_create("t_mp", SOCKET_ID_ANY, PAGE_SIZE, NB_PAGES, 0);
	TEST_ASSERT_NOT_NULL(pool, "pfrag pool: %s", rte_strerror(rte_errno));
	mp = pfrag_pktmbuf_pool_create("t_mp_mbuf", NB_MBUFS, 0, 0, DATA_ROOM, pool);
	TEST_ASSERT_NOT_NULL(mp, "pfrag mbuf pool: %s", rte_strerror(rte_errno));
	return TEST_SUCCESS;
}

static void
teardown(void)
{
	if (mp != NULL && pfrag_pktmbuf_pool_free(mp) == 0)
		mp = NULL;
	if (pool != NULL && pfrag_pool_free(pool) == 0)
		pool = NULL;
}

/* The case left nothing out: every mbuf back, every fragment back. */
static int
check_all_back(void)
{
	/* Frees wait in per-lcore batches: hand them to pfrag first. */
	TEST_ASSERT_SUCCESS(pfrag_mempool_flush(mp), "flush");
	TEST_ASSERT_EQUAL(pfrag_mempool_in_use(mp), 0, "mbufs still out");
	TEST_ASSERT_EQUAL(rte_mempool_in_use_count(mp), 0, "mempool counts mbufs out");
	TEST_ASSERT_EQUAL(pfrag_pool_frags_out(pool), 0, "fragments still out");
	return TEST_SUCCESS;
}

static int
test_create_args(void)
{
	struct rte_mempool *bad;

	TEST_ASSERT(pfrag_mempool_is_pfrag(mp), "pool made by us is not recognised");
	TEST_ASSERT(pfrag_mempool_pool(mp) == pool, "wrong pfrag pool behind the mempool");
	TEST_ASSERT_EQUAL(rte_pktmbuf_data_room_size(mp), DATA_ROOM, "data room");
	TEST_ASSERT_EQUAL(rte_mempool_avail_count(mp), NB_MBUFS, "a new pool has all free");

	/* A fragment larger than a page is refused, never truncated. */
	bad = pfrag_pktmbuf_pool_create("t_mp_big", 8, 0, 0, UINT16_MAX, pool);
	TEST_ASSERT_NULL(bad, "data room larger than a page accepted");
	TEST_ASSERT_EQUAL(rte_errno, EINVAL, "rte_errno for a too large data room");
	bad = pfrag_pktmbuf_pool_create("t_mp_priv", 8, 0, 3, DATA_ROOM, pool);
	TEST_ASSERT_NULL(bad, "unaligned private size accepted");
	bad = pfrag_pktmbuf_pool_create("t_mp_null", 8, 0, 0, DATA_ROOM, NULL);
	TEST_ASSERT_NULL(bad, "NULL pfrag pool accepted");
	TEST_ASSERT_EQUAL(pfrag_pktmbuf_pool_free(NULL), -EINVAL, "free of NULL");
	TEST_ASSERT(!pfrag_mempool_is_pfrag(NULL), "NULL taken for a pfrag pool");
	return check_all_back();
}

static int
test_alloc_free(void)
{
	struct rte_mbuf *m;
	uint8_t *data, *frag;
	unsigned int i;

	m = rte_pktmbuf_alloc(mp);
	TEST_ASSERT_NOT_NULL(m, "alloc from a fresh pool");
	TEST_ASSERT_EQUAL(pfrag_pool_frags_out(pool), 1, "one mbuf, one fragment");
	TEST_ASSERT_EQUAL(rte_mempool_in_use_count(mp), 1, "mempool in-use count");

	/* A direct mbuf, laid out as rte_pktmbuf_init() lays one out. */
	frag = (uint8_t *)m - PFRAG_MEMPOOL_HDR_SIZE;
	TEST_ASSERT(pfrag_virt2pool(frag) == pool, "mbuf is not in a fragment of the pool");
	TEST_ASSERT(RTE_MBUF_DIRECT(m), "mbuf is not direct");
	TEST_ASSERT(m->pool == mp, "m->pool");
	TEST_ASSERT(rte_mempool_from_obj(m) == mp, "object header names another pool");
	TEST_ASSERT((uint8_t *)m->buf_addr == (uint8_t *)(m + 1), "data room follows header");
	TEST_ASSERT_EQUAL(m->buf_len, DATA_ROOM, "buf_len");
	TEST_ASSERT_EQUAL(m->data_off, RTE_PKTMBUF_HEADROOM, "headroom");
	TEST_ASSERT_EQUAL(rte_mbuf_refcnt_read(m), 1, "refcnt");
	TEST_ASSERT_EQUAL(m->nb_segs, 1, "nb_segs");
	TEST_ASSERT_NULL(m->next, "next");
	TEST_ASSERT_EQUAL(rte_pktmbuf_pkt_len(m), 0, "pkt_len");
	if (rte_eal_iova_mode() == RTE_IOVA_VA)
		TEST_ASSERT_EQUAL(rte_mbuf_data_iova_default(m),
				  (uintptr_t)rte_pktmbuf_mtod(m, uint8_t *), "IOVA as VA");
	TEST_ASSERT_EQUAL(rte_mempool_virt2iova(m), pfrag_iova(m),
			  "object header IOVA differs from pfrag's");
	TEST_ASSERT_EQUAL(rte_mbuf_data_iova_default(m),
			  pfrag_iova(rte_pktmbuf_mtod(m, uint8_t *)), "data IOVA");

	/* The whole data room is ours to write. */
	data = (uint8_t *)rte_pktmbuf_append(m, DATA_ROOM - RTE_PKTMBUF_HEADROOM);
	TEST_ASSERT_NOT_NULL(data, "append of the full data room");
	for (i = 0; i < DATA_ROOM - RTE_PKTMBUF_HEADROOM; i++)
		data[i] = (uint8_t)i;
	rte_mbuf_sanity_check(m, 1);
	rte_pktmbuf_free(m);
	return check_all_back();
}

static int
test_bulk_and_raw(void)
{
	struct rte_mbuf *m[128], *r[8];
	unsigned int i, j;

	TEST_ASSERT_SUCCESS(rte_pktmbuf_alloc_bulk(mp, m, RTE_DIM(m)), "bulk alloc");
	TEST_ASSERT_EQUAL(pfrag_pool_frags_out(pool), RTE_DIM(m), "fragments out");
	/* Every mbuf has its own data: write each full, check none overlaps. */
	for (i = 0; i < RTE_DIM(m); i++)
		memset(rte_pktmbuf_append(m[i], 1500), (int)i, 1500);
	for (i = 0; i < RTE_DIM(m); i++)
		for (j = 0; j < 1500; j += 100)
			TEST_ASSERT_EQUAL(rte_pktmbuf_mtod(m[i], uint8_t *)[j], (uint8_t)i,
					  "mbuf %u data overwritten", i);

	/* The raw path PMDs use on RX refill: no reset, must be ready as is. */
	for (i = 0; i < RTE_DIM(r); i++) {
		r[i] = rte_mbuf_raw_alloc(mp);
		TEST_ASSERT_NOT_NULL(r[i], "raw alloc %u", i);
		rte_mbuf_sanity_check(r[i], 1);
		TEST_ASSERT_EQUAL(r[i]->nb_segs, 1, "raw mbuf nb_segs");
		TEST_ASSERT_NULL(r[i]->next, "raw mbuf next");
		TEST_ASSERT_EQUAL(r[i]->ol_flags, 0, "raw mbuf flags");
	}
	for (i = 0; i < RTE_DIM(r); i++)
		rte_mbuf_raw_free(r[i]);
	rte_pktmbuf_free_bulk(m, RTE_DIM(m));
	return check_all_back();
}

static int
test_clone(void)
{
	struct rte_mempool *plain;
	struct rte_mbuf *m, *c1, *c2;
	int ret = TEST_FAILED;

	plain = rte_pktmbuf_pool_create("t_mp_plain", 63, 0, 0, 0, SOCKET_ID_ANY);
	TEST_ASSERT_NOT_NULL(plain, "plain clone pool: %s", rte_strerror(rte_errno));

	m = rte_pktmbuf_alloc(mp);
	if (m == NULL)
		goto out;
	memset(rte_pktmbuf_append(m, 64), 0xab, 64);
	/* A clone from our own pool: its own fragment must come back too. */
	c1 = rte_pktmbuf_clone(m, mp);
	c2 = rte_pktmbuf_clone(m, plain);
	if (c1 == NULL || c2 == NULL) {
		printf("clone failed\n");
		goto out;
	}
	if (rte_pktmbuf_mtod(c1, void *) != rte_pktmbuf_mtod(m, void *) ||
	    rte_pktmbuf_mtod(c2, void *) != rte_pktmbuf_mtod(m, void *) ||
	    rte_mbuf_refcnt_read(m) != 3) {
		printf("clones do not share the data (refcnt %u)\n", rte_mbuf_refcnt_read(m));
		goto out;
	}
	/* Free the original first: the data lives on while clones hold it. */
	rte_pktmbuf_free(m);
	pfrag_mempool_flush(mp);
	if (pfrag_pool_frags_out(pool) != 2 ||
	    rte_pktmbuf_mtod(c2, uint8_t *)[63] != 0xab) {
		printf("after freeing the original: %" PRIu64 " fragments out (want 2)\n",
		       pfrag_pool_frags_out(pool));
		goto out;
	}
	rte_pktmbuf_free(c1);
	pfrag_mempool_flush(mp);
	if (pfrag_pool_frags_out(pool) != 1) {
		printf("after freeing clone 1: %" PRIu64 " out\n", pfrag_pool_frags_out(pool));
		goto out;
	}
	rte_pktmbuf_free(c2);
	ret = check_all_back();
out:
	rte_mempool_free(plain);
	return ret;
}

static int
test_chain(void)
{
	struct rte_mbuf *h, *t;

	h = rte_pktmbuf_alloc(mp);
	t = rte_pktmbuf_alloc(mp);
	TEST_ASSERT(h != NULL && t != NULL, "alloc for a chain");
	rte_pktmbuf_append(h, 100);
	rte_pktmbuf_append(t, 200);
	TEST_ASSERT_SUCCESS(rte_pktmbuf_chain(h, t), "chain");
	TEST_ASSERT_EQUAL(rte_pktmbuf_pkt_len(h), 300, "chained length");
	TEST_ASSERT_EQUAL(pfrag_pool_frags_out(pool), 2, "two segments, two fragments");
	rte_pktmbuf_free(h);
	return check_all_back();
}

static unsigned int ext_freed;

static void
ext_free_cb(void *addr, void *opaque)
{
	RTE_SET_USED(opaque);
	ext_freed++;
	rte_free(addr);
}

/* An application attaching its own external buffer to one of our mbufs. */
static int
test_attach_extbuf(void)
{
	struct rte_mbuf_ext_shared_info *shinfo;
	uint16_t buf_len = 512;
	struct rte_mbuf *m;
	void *buf;

	buf = rte_malloc(NULL, buf_len, RTE_CACHE_LINE_SIZE);
	TEST_ASSERT_NOT_NULL(buf, "external buffer");
	shinfo = rte_pktmbuf_ext_shinfo_init_helper(buf, &buf_len, ext_free_cb, NULL);
	TEST_ASSERT_NOT_NULL(shinfo, "shinfo");
	m = rte_pktmbuf_alloc(mp);
	TEST_ASSERT_NOT_NULL(m, "alloc");
	ext_freed = 0;
	rte_pktmbuf_attach_extbuf(m, buf, rte_malloc_virt2iova(buf), buf_len, shinfo);
	rte_pktmbuf_reset_headroom(m);
	TEST_ASSERT_EQUAL(pfrag_pool_frags_out(pool), 1, "mbuf keeps its fragment");
	rte_pktmbuf_free(m);
	TEST_ASSERT_EQUAL(ext_freed, 1, "external buffer freed once");
	return check_all_back();
}

static int
test_limits(void)
{
	struct rte_mbuf *m[NB_MBUFS + 1];
	unsigned int i;

	/* The mempool size bounds the mbufs out, as with any mempool. */
	TEST_ASSERT_SUCCESS(rte_pktmbuf_alloc_bulk(mp, m, NB_MBUFS), "alloc all");
	TEST_ASSERT_EQUAL(rte_mempool_avail_count(mp), 0, "nothing left");
	TEST_ASSERT_NULL(rte_pktmbuf_alloc(mp), "alloc beyond the pool size");
	TEST_ASSERT_EQUAL(pfrag_pool_frags_out(pool), NB_MBUFS, "fragments out");
	TEST_ASSERT_EQUAL(pfrag_pktmbuf_pool_free(mp), -EBUSY, "free with mbufs out");
	/* Frees still batched on this lcore do not hold the pool full. */
	for (i = 0; i < 8; i++)
		rte_pktmbuf_free(m[i]);
	for (i = 0; i < 8; i++) {
		m[i] = rte_pktmbuf_alloc(mp);
		TEST_ASSERT_NOT_NULL(m[i], "alloc after %u single frees of a full pool", 8);
	}
	rte_pktmbuf_free_bulk(m, NB_MBUFS);
	TEST_ASSERT_SUCCESS(check_all_back(), "after freeing all");

	/* Reuse after a full cycle: pages came back and serve again. */
	for (i = 0; i < 4; i++) {
		TEST_ASSERT_SUCCESS(rte_pktmbuf_alloc_bulk(mp, m, NB_MBUFS), "cycle %u", i);
		rte_pktmbuf_free_bulk(m, NB_MBUFS);
	}
	return check_all_back();
}

/* The pfrag pool runs dry before the mempool does: all or nothing. */
static int
test_pfrag_exhausted(void)
{
	struct rte_mempool *big;
	struct pfrag_pool *small;
	struct rte_mbuf *m[256];
	unsigned int n = 0, per_page;
	int ret = TEST_FAILED;

	small = pfrag_pool_create("t_mp_small", SOCKET_ID_ANY, PAGE_SIZE, 4, 0);
	TEST_ASSERT_NOT_NULL(small, "small pool: %s", rte_strerror(rte_errno));
	big = pfrag_pktmbuf_pool_create("t_mp_bigmp", RTE_DIM(m), 0, 0, DATA_ROOM, small);
	if (big == NULL) {
		printf("mempool on the small pool: %s\n", rte_strerror(rte_errno));
		goto out_pool;
	}
	per_page = PAGE_SIZE / pfrag_pktmbuf_frag_size(0, DATA_ROOM);
	if (rte_pktmbuf_alloc_bulk(big, m, RTE_DIM(m)) == 0) {
		printf("%zu mbufs from 4 pages of %u\n", RTE_DIM(m), per_page);
		rte_pktmbuf_free_bulk(m, RTE_DIM(m));
		goto out;
	}
	if (pfrag_pool_frags_out(small) != 0 || rte_mempool_in_use_count(big) != 0) {
		printf("failed bulk alloc left %" PRIu64 " fragments out\n",
		       pfrag_pool_frags_out(small));
		goto out;
	}
	while (n < RTE_DIM(m) && (m[n] = rte_pktmbuf_alloc(big)) != NULL)
		n++;
	if (n < 4 * per_page - per_page || n > 4 * per_page) {
		printf("%u mbufs from 4 pages of %u each\n", n, per_page);
		rte_pktmbuf_free_bulk(m, n);
		goto out;
	}
	rte_pktmbuf_free_bulk(m, n);
	/* Recovery: the pages are back. */
	m[0] = rte_pktmbuf_alloc(big);
	if (m[0] == NULL) {
		printf("no recovery after frees\n");
		goto out;
	}
	rte_pktmbuf_free(m[0]);
	pfrag_mempool_flush(big);
	ret = pfrag_pool_frags_out(small) == 0 ? TEST_SUCCESS : TEST_FAILED;
out:
	if (pfrag_pktmbuf_pool_free(big) != 0)
		ret = TEST_FAILED;
out_pool:
	if (pfrag_pool_free(small) != 0)
		ret = TEST_FAILED;
	return ret;
}

/* Single frees (a PMD's TX completion) reach pfrag in batches. */
static int
test_free_batches(void)
{
	struct rte_mempool *other;
	struct rte_mbuf *m[64];
	unsigned int i;

	TEST_ASSERT_SUCCESS(rte_pktmbuf_alloc_bulk(mp, m, RTE_DIM(m)), "alloc");
	for (i = 0; i < 8; i++)
		rte_pktmbuf_free(m[i]);
	TEST_ASSERT_EQUAL(rte_mempool_in_use_count(mp), RTE_DIM(m) - 8,
			  "freed mbufs are back in the mempool's count at once");
	TEST_ASSERT(pfrag_pool_frags_out(pool) > RTE_DIM(m) - 8,
		    "a lone free went to pfrag without its batch");
	for (; i < RTE_DIM(m); i++)
		rte_pktmbuf_free(m[i]);
	TEST_ASSERT(pfrag_pool_frags_out(pool) < 32, "%" PRIu64 " fragments out after "
		    "%zu frees: batches were not handed over", pfrag_pool_frags_out(pool),
		    RTE_DIM(m));
	TEST_ASSERT_SUCCESS(check_all_back(), "after the batches");

	/* A plain rte_mempool_free() loses no batched free either. */
	other = pfrag_pktmbuf_pool_create("t_mp_other", 64, 0, 0, DATA_ROOM, pool);
	TEST_ASSERT_NOT_NULL(other, "second pool: %s", rte_strerror(rte_errno));
	TEST_ASSERT_SUCCESS(rte_pktmbuf_alloc_bulk(other, m, 4), "alloc");
	for (i = 0; i < 4; i++)
		rte_pktmbuf_free(m[i]);
	rte_mempool_free(other);
	TEST_ASSERT_EQUAL(pfrag_pool_frags_out(pool), 0, "batched frees lost at free");
	return TEST_SUCCESS;
}

/* With a mempool cache, mbufs rest in it with their fragments until the free. */
static int
test_with_cache(void)
{
	struct rte_mempool *cached;
	struct rte_mbuf *m[64];

	cached = pfrag_pktmbuf_pool_create("t_mp_cached", 256, 32, 0, DATA_ROOM, pool);
	TEST_ASSERT_NOT_NULL(cached, "cached pool: %s", rte_strerror(rte_errno));
	TEST_ASSERT_SUCCESS(rte_pktmbuf_alloc_bulk(cached, m, RTE_DIM(m)), "alloc");
	rte_pktmbuf_free_bulk(m, RTE_DIM(m));
	TEST_ASSERT(pfrag_pool_frags_out(pool) > 0, "cache kept no mbuf");
	TEST_ASSERT_SUCCESS(rte_pktmbuf_alloc_bulk(cached, m, RTE_DIM(m)), "alloc again");
	TEST_ASSERT_EQUAL(pfrag_pktmbuf_pool_free(cached), -EBUSY, "free with mbufs out");
	rte_pktmbuf_free_bulk(m, RTE_DIM(m));
	/* The free flushes the lcore caches back to pfrag. */
	TEST_ASSERT_SUCCESS(pfrag_pktmbuf_pool_free(cached), "free");
	return check_all_back();
}

#define XLCORE_N 256

static struct rte_mbuf *xlcore_mbufs[XLCORE_N];

static int
xlcore_alloc(void *arg)
{
	RTE_SET_USED(arg);
	return rte_pktmbuf_alloc_bulk(mp, xlcore_mbufs, XLCORE_N);
}

static int
xlcore_free(void *arg)
{
	RTE_SET_USED(arg);
	rte_pktmbuf_free_bulk(xlcore_mbufs, XLCORE_N);
	return 0;
}

/* Allocated on one lcore, freed on another: the forwarding case. */
static int
test_cross_lcore(void)
{
	unsigned int worker = rte_get_next_lcore(-1, 1, 0);
	int round;

	if (worker >= RTE_MAX_LCORE) {
		pfrag_test_skip_reason("needs a second lcore, EAL -l 0-1");
		return TEST_SKIPPED;
	}
	for (round = 0; round < 8; round++) {
		TEST_ASSERT_SUCCESS(rte_eal_remote_launch(xlcore_alloc, NULL, worker),
				    "launch on lcore %u", worker);
		TEST_ASSERT_SUCCESS(rte_eal_wait_lcore(worker), "alloc on lcore %u", worker);
		TEST_ASSERT_EQUAL(pfrag_pool_frags_out(pool), XLCORE_N, "round %d", round);
		xlcore_free(NULL);
		TEST_ASSERT_SUCCESS(check_all_back(), "round %d, freed on the main lcore",
				    round);
		TEST_ASSERT_SUCCESS(xlcore_alloc(NULL), "alloc on the main lcore");
		TEST_ASSERT_SUCCESS(rte_eal_remote_launch(xlcore_free, NULL, worker),
				    "launch on lcore %u", worker);
		rte_eal_wait_lcore(worker);
		TEST_ASSERT_SUCCESS(check_all_back(), "round %d, freed on lcore %u", round,
				    worker);
	}
	return TEST_SUCCESS;
}

static const struct unit_test_suite pfrag_mempool_suite = {
	.name = "pfrag mbuf pool",
	.setup = setup,
	.teardown = teardown,
	.cases = {
		TEST_CASE(test_create_args),
		TEST_CASE(test_alloc_free),
		TEST_CASE(test_bulk_and_raw),
		TEST_CASE(test_clone),
		TEST_CASE(test_chain),
		TEST_CASE(test_attach_extbuf),
		TEST_CASE(test_limits),
		TEST_CASE(test_pfrag_exhausted),
		TEST_CASE(test_free_batches),
		TEST_CASE(test_with_cache),
		TEST_CASE(test_cross_lcore),
		TEST_CASES_END(),
	},
};

static int
test_pfrag_mempool(void)
{
	int ret = unit_test_suite_runner(&pfrag_mempool_suite);

	/* The suite teardown frees both pools only when nothing is out. */
	TEST_ASSERT_NULL(mp, "mbuf pool not freed: mbufs still out");
	TEST_ASSERT_NULL(pool, "pfrag pool not freed: fragments still out");
	return ret;
}

PFRAG_TEST_REGISTER(pfrag_mempool_autotest, FAST, PFRAG_TEST_NOHUGE, test_pfrag_mempool);

/*
 * pfrag_mempool_perf_autotest: the mbuf cycle of a forwarding PMD, against a
 * plain rte_pktmbuf pool in the same run. Each step takes a burst with
 * rte_pktmbuf_alloc_bulk() (RX refill), writes a 64-byte frame into each
 * mbuf, and frees the oldest burst one mbuf at a time (TX completion), with
 * PERF_DEPTH mbufs in flight as in a PMD's rings.
 */
#define PERF_BURST 32
#define PERF_DEPTH 2048
#define PERF_MBUFS 4000000

static struct rte_mbuf *perf_ring[PERF_DEPTH];

/* Nanoseconds per mbuf of one pass; < 0 on allocation failure. */
static double
perf_cycle(struct rte_mempool *p)
{
	unsigned int slot = 0, filled = 0, i, done;
	uint64_t t0, t1;

	t0 = rte_rdtsc_precise();
	for (done = 0; done < PERF_MBUFS; done += PERF_BURST) {
		/* Full: the slot to fill holds the oldest burst; it completes. */
		if (filled == PERF_DEPTH) {
			for (i = 0; i < PERF_BURST; i++)
				rte_pktmbuf_free(perf_ring[slot + i]);
			filled -= PERF_BURST;
		}
		if (rte_pktmbuf_alloc_bulk(p, &perf_ring[slot], PERF_BURST) != 0)
			return -1;
		for (i = 0; i < PERF_BURST; i++)
			memset(rte_pktmbuf_append(perf_ring[slot + i], 64), (int)i, 64);
		filled += PERF_BURST;
		slot = (slot + PERF_BURST) % PERF_DEPTH;
	}
	t1 = rte_rdtsc_precise();
	for (i = 0; i < filled; i++)
		rte_pktmbuf_free(perf_ring[i]);
	return (double)(t1 - t0) * 1e9 / rte_get_tsc_hz() / done;
}

static int
test_pfrag_mempool_perf(void)
{
	static const char *const names[] = {
		"rte_pktmbuf_pool, cache 256",
		"pfrag_pktmbuf_pool, cache 0",
		"pfrag_pktmbuf_pool, cache 256",
	};
	struct rte_mempool *pools[RTE_DIM(names)] = { NULL };
	double best[RTE_DIM(names)], ns;
	unsigned int i, round;
	struct pfrag_pool *fp;
	int ret = TEST_FAILED;

	fp = pfrag_pool_create("t_mp_perf", SOCKET_ID_ANY, PAGE_SIZE, 1024, 0);
	TEST_ASSERT_NOT_NULL(fp, "pfrag pool: %s", rte_strerror(rte_errno));
	pools[0] = rte_pktmbuf_pool_create("t_mp_perf0", 8191, 256, 0, DATA_ROOM,
					   SOCKET_ID_ANY);
	pools[1] = pfrag_pktmbuf_pool_create("t_mp_perf1", 8191, 0, 0, DATA_ROOM, fp);
	pools[2] = pfrag_pktmbuf_pool_create("t_mp_perf2", 8191, 256, 0, DATA_ROOM, fp);
	for (i = 0; i < RTE_DIM(pools); i++) {
		if (pools[i] == NULL) {
			printf("%s: %s\n", names[i], rte_strerror(rte_errno));
			goto out;
		}
		best[i] = 1e9;
	}
	/* Interleaved rounds: a slow spell of the machine hits every pool. */
	for (round = 0; round < 5; round++) {
		for (i = 0; i < RTE_DIM(pools); i++) {
			ns = perf_cycle(pools[i]);
			if (ns < 0) {
				printf("%s: allocation failed\n", names[i]);
				goto out;
			}
			best[i] = RTE_MIN(best[i], ns);
		}
	}
	printf("%u mbufs, bursts of %u, %u in flight, freed one by one; best of 5\n",
	       PERF_MBUFS, PERF_BURST, PERF_DEPTH);
	printf("%-32s %10s %8s\n", "pool", "ns/mbuf", "ratio");
	for (i = 0; i < RTE_DIM(pools); i++)
		printf("%-32s %10.2f %8.2f\n", names[i], best[i], best[i] / best[0]);
	ret = TEST_SUCCESS;
out:
	rte_mempool_free(pools[0]);
	for (i = 1; i < RTE_DIM(pools); i++)
		if (pools[i] != NULL && pfrag_pktmbuf_pool_free(pools[i]) != 0)
			ret = TEST_FAILED;
	if (pfrag_pool_free(fp) != 0)
		ret = TEST_FAILED;
	return ret;
}

PFRAG_TEST_REGISTER(pfrag_mempool_perf_autotest, PERF, PFRAG_TEST_HUGE, test_pfrag_mempool_perf);

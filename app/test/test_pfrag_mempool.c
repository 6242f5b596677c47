/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * pfrag_mempool_autotest: the pfrag mbuf pool (pfrag_pktmbuf_pool_create(),
 * pages of a pfrag pool) through every way DPDK and PMDs take and give back
 * mbufs (alloc, raw alloc, bulk, clone, chain, attach of another external
 * buffer), its limits, the pool as an I/O pool that refuses foreign memory,
 * and no page left out.
 * pfrag_mempool_ops_autotest: the "pfrag" mempool ops through every standard
 * creation path (rte_pktmbuf_pool_create() with user ops, _by_ops(),
 * rte_mempool_create_empty() + set_ops_byname() + each populate call).
 */

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mbuf_pool_ops.h>
#include <rte_memzone.h>
#include <rte_mempool.h>

#include "pfrag.h"
#include "pfrag_mempool.h"
#include "test.h"

#define PAGE_SIZE 32768u
#define NB_PAGES 128u
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

/*
 * Every object of @p m back, every page of @p m in its ring with every slot
 * free (pages, not only counters).
 */
static int
check_pool_whole(struct rte_mempool *m)
{
	struct pfrag_mempool_info info;

	/* Pages the lcores own go back to the ring first. */
	TEST_ASSERT_SUCCESS(pfrag_mempool_flush(m), "flush");
	TEST_ASSERT_SUCCESS(pfrag_mempool_info_get(m, &info), "info");
	TEST_ASSERT_EQUAL(info.objs_out, 0, "%s: objects out", m->name);
	TEST_ASSERT_EQUAL(rte_mempool_in_use_count(m), 0, "%s: mempool counts objects out",
			  m->name);
	TEST_ASSERT_EQUAL(rte_mempool_avail_count(m), m->size, "%s: avail", m->name);
	TEST_ASSERT_EQUAL(info.pages_listed, info.nb_pages, "%s: %u of %u pages back",
			  m->name, info.pages_listed, info.nb_pages);
	TEST_ASSERT_EQUAL(info.pages_owned, 0, "%s: pages still owned", m->name);
	return TEST_SUCCESS;
}

/* Pages of the pfrag pool in use: those the mbuf pool holds, no more. */
static int
check_all_back(void)
{
	struct pfrag_mempool_info info;

	TEST_ASSERT_SUCCESS(check_pool_whole(mp), "mbuf pool");
	TEST_ASSERT_SUCCESS(pfrag_mempool_info_get(mp, &info), "info");
	TEST_ASSERT_EQUAL(pfrag_pool_frags_out(pool), info.nb_pages,
			  "pfrag pool: fragments out besides the mbuf pool's pages");
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

	/* An mbuf larger than a page is refused, never truncated. */
	bad = pfrag_pktmbuf_pool_create("t_mp_big", 8, 0, 0, UINT16_MAX, pool);
	TEST_ASSERT_NULL(bad, "data room larger than a page accepted");
	TEST_ASSERT_EQUAL(rte_errno, EINVAL, "rte_errno for a too large data room");
	TEST_ASSERT_NULL(rte_mempool_lookup("t_mp_big"), "refused pool left behind");
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
	TEST_ASSERT_EQUAL(pfrag_mempool_in_use(mp), 1, "one mbuf out");
	TEST_ASSERT_EQUAL(rte_mempool_in_use_count(mp), 1, "mempool in-use count");

	/* A direct mbuf, laid out as rte_pktmbuf_init() lays one out. */
	frag = (uint8_t *)m - mp->header_size;
	TEST_ASSERT(pfrag_virt2pool(frag) == pool, "mbuf is not in a page of the pool");
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
	TEST_ASSERT_EQUAL(pfrag_mempool_in_use(mp), RTE_DIM(m), "mbufs out");
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
	if (pfrag_mempool_in_use(mp) != 2 ||
	    rte_pktmbuf_mtod(c2, uint8_t *)[63] != 0xab) {
		printf("after freeing the original: %u mbufs out (want 2)\n",
		       pfrag_mempool_in_use(mp));
		goto out;
	}
	rte_pktmbuf_free(c1);
	if (pfrag_mempool_in_use(mp) != 1) {
		printf("after freeing clone 1: %u out\n", pfrag_mempool_in_use(mp));
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
	TEST_ASSERT_EQUAL(pfrag_mempool_in_use(mp), 2, "two segments, two mbufs");
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
	TEST_ASSERT_EQUAL(pfrag_mempool_in_use(mp), 1, "mbuf is out");
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
	TEST_ASSERT_EQUAL(pfrag_mempool_in_use(mp), NB_MBUFS, "mbufs out");
	TEST_ASSERT_EQUAL(pfrag_pktmbuf_pool_free(mp), -EBUSY, "free with mbufs out");
	/* Every object given back serves again, whatever its page holds out. */
	for (i = 0; i < NB_MBUFS; i += 5)
		rte_pktmbuf_free(m[i]);
	for (i = 0; i < NB_MBUFS; i += 5) {
		m[i] = rte_pktmbuf_alloc(mp);
		TEST_ASSERT_NOT_NULL(m[i], "alloc after scattered frees of a full pool (%u)", i);
	}
	TEST_ASSERT_NULL(rte_pktmbuf_alloc(mp), "more than the pool size");
	rte_pktmbuf_free_bulk(m, NB_MBUFS);
	TEST_ASSERT_SUCCESS(check_all_back(), "after freeing all");

	/* Reuse after a full cycle: pages came back and serve again. */
	for (i = 0; i < 4; i++) {
		TEST_ASSERT_SUCCESS(rte_pktmbuf_alloc_bulk(mp, m, NB_MBUFS), "cycle %u", i);
		rte_pktmbuf_free_bulk(m, NB_MBUFS);
	}
	return check_all_back();
}

/* A pfrag pool without pages enough: refused at create, nothing kept. */
static int
test_pfrag_exhausted(void)
{
	struct rte_mempool *big;
	struct pfrag_pool *small;
	int ret = TEST_FAILED;

	small = pfrag_pool_create("t_mp_small", SOCKET_ID_ANY, PAGE_SIZE, 4, 0);
	TEST_ASSERT_NOT_NULL(small, "small pool: %s", rte_strerror(rte_errno));
	big = pfrag_pktmbuf_pool_create("t_mp_bigmp", 256, 0, 0, DATA_ROOM, small);
	if (big != NULL || rte_errno != ENOBUFS) {
		printf("256 mbufs on 4 pages: %s (want ENOBUFS)\n",
		       big != NULL ? "created" : rte_strerror(rte_errno));
		goto out;
	}
	if (pfrag_pool_frags_out(small) != 0) {
		printf("failed create kept %" PRIu64 " pages\n", pfrag_pool_frags_out(small));
		goto out;
	}
	/* What fits does. */
	big = pfrag_pktmbuf_pool_create("t_mp_bigmp", 32, 0, 0, DATA_ROOM, small);
	if (big == NULL) {
		printf("32 mbufs on 4 pages: %s\n", rte_strerror(rte_errno));
		goto out;
	}
	ret = check_pool_whole(big);
out:
	if (big != NULL && pfrag_pktmbuf_pool_free(big) != 0)
		ret = TEST_FAILED;
	pfrag_pool_drain_caches(small);
	if (pfrag_pool_free(small) != 0)
		ret = TEST_FAILED;
	return ret;
}

/*
 * Single frees (a PMD's TX completion) on another lcore's page: each is one
 * atomic, and the object serves again at once; a plain rte_mempool_free()
 * gives every page back to the pfrag pool.
 */
static int
test_free_single(void)
{
	struct rte_mempool *other;
	struct rte_mbuf *m[64];
	uint64_t before = pfrag_pool_frags_out(pool);
	unsigned int i;

	TEST_ASSERT_SUCCESS(rte_pktmbuf_alloc_bulk(mp, m, RTE_DIM(m)), "alloc");
	for (i = 0; i < 8; i++)
		rte_pktmbuf_free(m[i]);
	TEST_ASSERT_EQUAL(rte_mempool_in_use_count(mp), RTE_DIM(m) - 8,
			  "freed mbufs are back in the mempool's count at once");
	for (; i < RTE_DIM(m); i++)
		rte_pktmbuf_free(m[i]);
	TEST_ASSERT_SUCCESS(check_all_back(), "after single frees");

	other = pfrag_pktmbuf_pool_create("t_mp_other", 64, 0, 0, DATA_ROOM, pool);
	TEST_ASSERT_NOT_NULL(other, "second pool: %s", rte_strerror(rte_errno));
	TEST_ASSERT(pfrag_pool_frags_out(pool) > before, "second pool took no page");
	TEST_ASSERT_SUCCESS(rte_pktmbuf_alloc_bulk(other, m, 4), "alloc");
	for (i = 0; i < 4; i++)
		rte_pktmbuf_free(m[i]);
	rte_mempool_free(other);
	TEST_ASSERT_EQUAL(pfrag_pool_frags_out(pool), before,
			  "rte_mempool_free() kept pages of the pfrag pool");
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
	TEST_ASSERT(pfrag_mempool_in_use(cached) > 0, "cache kept no mbuf");
	TEST_ASSERT_EQUAL(rte_mempool_avail_count(cached), 256, "cached mbufs count as free");
	TEST_ASSERT_SUCCESS(rte_pktmbuf_alloc_bulk(cached, m, RTE_DIM(m)), "alloc again");
	TEST_ASSERT_EQUAL(pfrag_pktmbuf_pool_free(cached), -EBUSY, "free with mbufs out");
	rte_pktmbuf_free_bulk(m, RTE_DIM(m));
	/* The free flushes the lcore caches back first. */
	TEST_ASSERT_SUCCESS(check_pool_whole(cached), "cached pool");
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
		TEST_ASSERT_EQUAL(pfrag_mempool_in_use(mp), XLCORE_N, "round %d", round);
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

static unsigned int ready_seen;
static const struct rte_mempool *ready_mp;

static void
ready_cb(enum rte_mempool_event event, struct rte_mempool *m, void *arg)
{
	RTE_SET_USED(arg);
	if (event == RTE_MEMPOOL_EVENT_READY) {
		ready_seen++;
		ready_mp = m;
	}
}

/*
 * A populated I/O pool (drivers such as mlx5 register DMA memory on
 * RTE_MEMPOOL_EVENT_READY and skip NON_IO pools), and a later populate call
 * adds no foreign memory.
 */
static int
test_io_pool(void)
{
	const size_t len = 4 * PAGE_SIZE;
	struct rte_mbuf *m[64];
	struct rte_mempool *io;
	uint64_t bad = pfrag_bad_free_count();
	unsigned int i, avail;
	uint8_t *buf;
	int ret;

	ready_seen = 0;
	TEST_ASSERT_SUCCESS(rte_mempool_event_callback_register(ready_cb, NULL), "callback");
	io = pfrag_pktmbuf_pool_create("t_mp_io", RTE_DIM(m), 0, 0, DATA_ROOM, pool);
	rte_mempool_event_callback_unregister(ready_cb, NULL);
	TEST_ASSERT_NOT_NULL(io, "pool: %s", rte_strerror(rte_errno));
	TEST_ASSERT(ready_seen == 1 && ready_mp == io, "RTE_MEMPOOL_EVENT_READY seen %u "
		    "times for this pool", ready_seen);
	TEST_ASSERT_EQUAL(io->populated_size, io->size, "populated");
	TEST_ASSERT(io->nb_mem_chunks > 0, "no memory chunk");
	if (pfrag_iova(STAILQ_FIRST(&io->mem_list)->addr) != RTE_BAD_IOVA)
		TEST_ASSERT(!(io->flags & RTE_MEMPOOL_F_NON_IO),
			    "pool with IOVAs flagged RTE_MEMPOOL_F_NON_IO (flags 0x%x)", io->flags);

	/* Memory that is not the pool's: every populate call refuses it. */
	buf = rte_malloc(NULL, len, PAGE_SIZE);
	TEST_ASSERT_NOT_NULL(buf, "buffer");
	avail = rte_mempool_avail_count(io);
	ret = rte_mempool_populate_iova(io, (char *)buf, rte_malloc_virt2iova(buf), len, NULL,
					NULL);
	TEST_ASSERT(ret < 0, "populate_iova of a full pool added %d objects", ret);
	ret = rte_mempool_populate_virt(io, (char *)buf, len, 4096, NULL, NULL);
	TEST_ASSERT(ret <= 0, "populate_virt of a full pool added %d objects", ret);
	TEST_ASSERT_EQUAL(rte_mempool_populate_anon(io), 0, "populate_anon of a full pool");
	TEST_ASSERT(rte_mempool_populate_default(io) < 0, "populate_default of a full pool");
	TEST_ASSERT_EQUAL(rte_mempool_avail_count(io), avail, "avail count changed");
	TEST_ASSERT_EQUAL(io->populated_size, io->size, "populated size changed");
	TEST_ASSERT_EQUAL(pfrag_bad_free_count(), bad, "foreign objects went to pfrag");

	/* Every object is the pool's, in pages of the pfrag pool. */
	TEST_ASSERT_SUCCESS(rte_pktmbuf_alloc_bulk(io, m, RTE_DIM(m)), "alloc all");
	for (i = 0; i < RTE_DIM(m); i++) {
		TEST_ASSERT(pfrag_virt2pool(m[i]) == pool, "mbuf %u not in the pfrag pool", i);
		TEST_ASSERT((uint8_t *)m[i] + m[i]->buf_len < buf ||
			    (uint8_t *)m[i] >= buf + len, "mbuf %u in foreign memory", i);
		TEST_ASSERT(rte_mempool_from_obj(m[i]) == io, "mbuf %u header", i);
		TEST_ASSERT_EQUAL(rte_mempool_virt2iova(m[i]), pfrag_iova(m[i]),
				  "mbuf %u IOVA", i);
	}
	TEST_ASSERT_NULL(rte_pktmbuf_alloc(io), "more mbufs than the pool has");
	rte_pktmbuf_free_bulk(m, RTE_DIM(m));
	rte_free(buf);
	TEST_ASSERT_SUCCESS(check_pool_whole(io), "io pool");
	TEST_ASSERT_SUCCESS(pfrag_pktmbuf_pool_free(io), "free");
	return check_all_back();
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
		TEST_CASE(test_free_single),
		TEST_CASE(test_io_pool),
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

/* pfrag_mempool_ops_autotest: the standard creation paths. */

static const char *
ops_name(const struct rte_mempool *m)
{
	return rte_mempool_get_ops(m->ops_index)->name;
}

/* Take every mbuf, check each as a DPDK PMD would use it, give all back. */
static int
check_mbufs(struct rte_mempool *m, uint16_t room)
{
	struct rte_mbuf **mb;
	unsigned int i, n = m->size;
	rte_iova_t iova;
	int ret = TEST_FAILED;

	TEST_ASSERT_EQUAL(strcmp(ops_name(m), PFRAG_MEMPOOL_OPS_NAME), 0, "%s: ops %s",
			  m->name, ops_name(m));
	TEST_ASSERT_EQUAL(m->populated_size, m->size, "%s: populated", m->name);
	TEST_ASSERT_EQUAL(rte_mempool_avail_count(m), n, "%s: avail", m->name);
	mb = calloc(n, sizeof(*mb));
	TEST_ASSERT_NOT_NULL(mb, "array");
	if (rte_pktmbuf_alloc_bulk(m, mb, n) != 0) {
		printf("%s: %u mbufs at once: %s\n", m->name, n, rte_strerror(rte_errno));
		goto out_free;
	}
	for (i = 0; i < n; i++) {
		iova = rte_mem_virt2iova(mb[i]);
		if (rte_mempool_from_obj(mb[i]) != m || mb[i]->pool != m ||
		    mb[i]->buf_len != room || mb[i]->buf_addr != (void *)(mb[i] + 1) ||
		    (iova != RTE_BAD_IOVA && (rte_mempool_virt2iova(mb[i]) != iova ||
		     rte_mbuf_iova_get(mb[i]) != iova + sizeof(struct rte_mbuf)))) {
			printf("%s: mbuf %u at %p: header or IOVA wrong\n", m->name, i,
			       (void *)mb[i]);
			goto out;
		}
		/* Distinct data rooms: write each whole. */
		memset(mb[i]->buf_addr, (int)i, room);
	}
	for (i = 0; i < n && room > 0; i++)
		if (((uint8_t *)mb[i]->buf_addr)[room - 1] != (uint8_t)i) {
			printf("%s: mbuf %u overwritten\n", m->name, i);
			goto out;
		}
	if (rte_pktmbuf_alloc(m) != NULL || rte_mempool_avail_count(m) != 0) {
		printf("%s: more than its %u mbufs\n", m->name, n);
		goto out;
	}
	ret = TEST_SUCCESS;
out:
	/* Half one by one, half in bulk. */
	for (i = 0; i < n / 2; i++)
		rte_pktmbuf_free(mb[i]);
	rte_pktmbuf_free_bulk(&mb[n / 2], n - n / 2);
out_free:
	free(mb);
	if (ret != TEST_SUCCESS)
		return ret;
	return check_pool_whole(m);
}

static int
test_ops_user_ops(void)
{
	const char *prev = rte_mbuf_user_mempool_ops();
	struct rte_mempool *m;
	int ret;

	TEST_ASSERT_SUCCESS(rte_mbuf_set_user_mempool_ops(PFRAG_MEMPOOL_OPS_NAME), "set");
	m = rte_pktmbuf_pool_create("t_ops_user", 1000, 32, 0, DATA_ROOM, SOCKET_ID_ANY);
	rte_mbuf_set_user_mempool_ops(prev != NULL ? prev : "ring_mp_mc");
	TEST_ASSERT_NOT_NULL(m, "rte_pktmbuf_pool_create: %s", rte_strerror(rte_errno));
	TEST_ASSERT_NULL(pfrag_mempool_pool(m), "no pfrag pool behind it");
	ret = check_mbufs(m, DATA_ROOM);
	rte_mempool_free(m);
	return ret;
}

static int
test_ops_by_ops(void)
{
	struct rte_mempool *m;
	int ret;

	m = rte_pktmbuf_pool_create_by_ops("t_ops_byops", 512, 0, 0, DATA_ROOM,
					   SOCKET_ID_ANY, PFRAG_MEMPOOL_OPS_NAME);
	TEST_ASSERT_NOT_NULL(m, "create_by_ops: %s", rte_strerror(rte_errno));
	ret = check_mbufs(m, DATA_ROOM);
	rte_mempool_free(m);
	/* A pool of mbufs without data room: more than 64 would fit a page. */
	m = rte_pktmbuf_pool_create_by_ops("t_ops_hdr", 300, 0, 0, 0, SOCKET_ID_ANY,
					   PFRAG_MEMPOOL_OPS_NAME);
	TEST_ASSERT_NOT_NULL(m, "header pool: %s", rte_strerror(rte_errno));
	if (ret == TEST_SUCCESS)
		ret = check_mbufs(m, 0);
	rte_mempool_free(m);
	return ret;
}

static unsigned int obj_inits;

static void
obj_init(struct rte_mempool *m, void *arg, void *obj, unsigned int idx)
{
	RTE_SET_USED(m);
	RTE_SET_USED(arg);
	memset(obj, 0, 8);
	*(unsigned int *)obj = idx;
	obj_inits++;
}

/* rte_mempool_dump() of @p m as a string, in @p out. */
static void
dump_to(struct rte_mempool *m, char *out, size_t size)
{
	FILE *f = fmemopen(out, size, "w");

	out[0] = '\0';
	if (f == NULL)
		return;
	rte_mempool_dump(f, m);
	fclose(f);
}

/* create_empty + set_ops_byname + populate_default; dump and counts. */
static int
test_ops_create_empty(void)
{
	struct rte_mempool *m;
	void *objs[300];
	char dump[4096], want[64];
	int ret = TEST_FAILED;
	unsigned int i;

	m = rte_mempool_create_empty("t_ops_empty", RTE_DIM(objs), 200, 0, 0,
				     SOCKET_ID_ANY, 0);
	TEST_ASSERT_NOT_NULL(m, "create_empty: %s", rte_strerror(rte_errno));
	if (rte_mempool_set_ops_byname(m, PFRAG_MEMPOOL_OPS_NAME, NULL) != 0)
		goto out;
	ready_seen = 0;
	rte_mempool_event_callback_register(ready_cb, NULL);
	ret = rte_mempool_populate_default(m);
	rte_mempool_event_callback_unregister(ready_cb, NULL);
	if (ret != (int)RTE_DIM(objs) || ready_seen != 1 || (m->flags & RTE_MEMPOOL_F_NON_IO)) {
		printf("populate_default: %d, READY seen %u times, flags 0x%x\n", ret,
		       ready_seen, m->flags);
		ret = TEST_FAILED;
		goto out;
	}
	ret = TEST_FAILED;
	obj_inits = 0;
	rte_mempool_obj_iter(m, obj_init, NULL);
	if (obj_inits != RTE_DIM(objs))
		goto out;
	dump_to(m, dump, sizeof(dump));
	snprintf(want, sizeof(want), "common_pool_count=%zu\n", RTE_DIM(objs));
	if (strstr(dump, "ops_name: <pfrag>") == NULL || strstr(dump, want) == NULL) {
		printf("dump of a full pool:\n%s", dump);
		goto out;
	}
	if (rte_mempool_get_bulk(m, objs, 7) != 0)
		goto out;
	dump_to(m, dump, sizeof(dump));
	snprintf(want, sizeof(want), "common_pool_count=%zu\n", RTE_DIM(objs) - 7);
	if (strstr(dump, want) == NULL || rte_mempool_avail_count(m) != RTE_DIM(objs) - 7 ||
	    rte_mempool_in_use_count(m) != 7) {
		printf("7 out, dump:\n%s", dump);
		rte_mempool_put_bulk(m, objs, 7);
		goto out;
	}
	pfrag_mempool_dump(stdout, m);
	/* The rest, then all back in any order. */
	if (rte_mempool_get_bulk(m, &objs[7], RTE_DIM(objs) - 7) != 0 ||
	    rte_mempool_get(m, &objs[0]) == 0) {
		printf("the rest of the pool, or one more\n");
		goto out;
	}
	rte_mempool_put_bulk(m, &objs[100], RTE_DIM(objs) - 100);
	for (i = 100; i-- > 0;)
		rte_mempool_put(m, objs[i]);
	ret = check_pool_whole(m);
out:
	rte_mempool_free(m);
	return ret;
}

static unsigned int chunk_frees;

static void
chunk_free(struct rte_mempool_memhdr *memhdr, void *opaque)
{
	RTE_SET_USED(memhdr);
	chunk_frees++;
	rte_memzone_free(opaque);
}

/*
 * populate_iova with three chunks, one misaligned: objects in the chunks
 * with their IOVAs, READY once full, a chunk with no room for a page refused,
 * and the chunks freed with the pool.
 */
static int
test_ops_populate_chunks(void)
{
	const struct rte_memzone *mz[4] = { NULL };
	struct pfrag_mempool_info info;
	struct rte_mempool *m;
	struct rte_mempool_objhdr *hdr;
	const struct rte_memzone *z;
	void *objs[200];
	unsigned int i, k, in;
	size_t ps;
	int ret = TEST_FAILED, n;
	char name[32];

	m = rte_mempool_create_empty("t_ops_chunks", RTE_DIM(objs), 200, 0, 0,
				     SOCKET_ID_ANY, 0);
	TEST_ASSERT_NOT_NULL(m, "create_empty: %s", rte_strerror(rte_errno));
	if (rte_mempool_set_ops_byname(m, PFRAG_MEMPOOL_OPS_NAME, NULL) != 0)
		goto out;
	/* 16 KiB pages of 51 objects each (320 bytes a slot, 64 at most a page). */
	ps = 16384;
	for (i = 0; i < RTE_DIM(mz); i++) {
		snprintf(name, sizeof(name), "t_ops_chunk%u", i);
		mz[i] = rte_memzone_reserve_aligned(name, 3 * ps, SOCKET_ID_ANY,
						    RTE_MEMZONE_IOVA_CONTIG, ps);
		if (mz[i] == NULL) {
			printf("memzone: %s\n", rte_strerror(rte_errno));
			goto out;
		}
	}
	ready_seen = 0;
	rte_mempool_event_callback_register(ready_cb, NULL);
	/* Too small for an aligned page: refused, nothing added. */
	n = rte_mempool_populate_iova(m, (char *)mz[3]->addr + 64, mz[3]->iova + 64, ps,
				      NULL, NULL);
	if (n != 0 || m->populated_size != 0) {
		printf("chunk without a page: %d objects\n", n);
		goto out_cb;
	}
	if (pfrag_mempool_info_get(m, &info) != 0 || info.page_size != ps ||
	    info.objs_per_page != 51) {
		printf("geometry: pages of %u, %u a page\n", info.page_size, info.objs_per_page);
		goto out_cb;
	}
	/* Misaligned: 2 whole pages inside 2.5. */
	n = rte_mempool_populate_iova(m, (char *)mz[0]->addr + ps / 2, mz[0]->iova + ps / 2,
				      5 * ps / 2, chunk_free, (void *)(uintptr_t)mz[0]);
	k = rte_mempool_populate_iova(m, mz[1]->addr, mz[1]->iova, ps, chunk_free,
				      (void *)(uintptr_t)mz[1]);
	if (n != 102 || k != 51 || ready_seen != 0) {
		printf("chunks gave %d and %u objects (want 102, 51), READY %u\n", n, k,
		       ready_seen);
		goto out_cb;
	}
	n = rte_mempool_populate_iova(m, mz[2]->addr, mz[2]->iova, 3 * ps, chunk_free,
				      (void *)(uintptr_t)mz[2]);
	if (n != 47 || ready_seen != 1 || m->nb_mem_chunks != 3) {
		printf("last chunk gave %d (want 47), READY %u, %u chunks\n", n, ready_seen,
		       m->nb_mem_chunks);
		goto out_cb;
	}
	/* Each object in its chunk, with the chunk's IOVA at its offset. */
	STAILQ_FOREACH(hdr, &m->elt_list, next) {
		uint8_t *obj = (uint8_t *)(hdr + 1);

		for (in = 0, i = 0; i < 3; i++) {
			z = mz[i];
			if (obj >= (uint8_t *)z->addr && obj + m->elt_size <=
			    (uint8_t *)z->addr + z->len) {
				in = 1;
				if (hdr->iova != z->iova + (obj - (uint8_t *)z->addr)) {
					printf("object %p: IOVA 0x%" PRIx64 "\n", (void *)obj,
					       hdr->iova);
					goto out_cb;
				}
			}
		}
		if (!in) {
			printf("object %p outside the chunks\n", (void *)obj);
			goto out_cb;
		}
	}
	if (rte_mempool_get_bulk(m, objs, RTE_DIM(objs)) != 0 ||
	    rte_mempool_get(m, &objs[0]) == 0) {
		printf("every object, and not one more\n");
		goto out_cb;
	}
	rte_mempool_put_bulk(m, objs, RTE_DIM(objs));
	if (pfrag_mempool_info_get(m, &info) != 0 || info.nb_pages != 4)
		goto out_cb;
	ret = check_pool_whole(m);
out_cb:
	rte_mempool_event_callback_unregister(ready_cb, NULL);
out:
	chunk_frees = 0;
	rte_mempool_free(m);
	if (ret == TEST_SUCCESS && chunk_frees != 3) {
		printf("%u chunks freed with the pool, want 3\n", chunk_frees);
		ret = TEST_FAILED;
	}
	for (i = 0; i < RTE_DIM(mz); i++)
		if (i == 3 || ret != TEST_SUCCESS)
			rte_memzone_free(mz[i]);
	return ret;
}

/* populate_virt and populate_anon. */
static int
test_ops_populate_virt_anon(void)
{
	const struct rte_memzone *mz;
	struct rte_mempool *m;
	int n, ret;

	m = rte_mempool_create_empty("t_ops_virt", 256, sizeof(struct rte_mbuf) + DATA_ROOM,
				     0, sizeof(struct rte_pktmbuf_pool_private), SOCKET_ID_ANY, 0);
	TEST_ASSERT_NOT_NULL(m, "create_empty: %s", rte_strerror(rte_errno));
	TEST_ASSERT_SUCCESS(rte_mempool_set_ops_byname(m, PFRAG_MEMPOOL_OPS_NAME, NULL), "ops");
	rte_pktmbuf_pool_init(m, NULL);
	mz = rte_memzone_reserve_aligned("t_ops_virt_mz", 24 * PAGE_SIZE, SOCKET_ID_ANY, 0,
					 PAGE_SIZE);
	TEST_ASSERT_NOT_NULL(mz, "memzone");
	n = rte_mempool_populate_virt(m, mz->addr, mz->len, mz->hugepage_sz, NULL, NULL);
	TEST_ASSERT_EQUAL(n, 256, "populate_virt gave %d", n);
	rte_mempool_obj_iter(m, rte_pktmbuf_init, NULL);
	ret = check_mbufs(m, DATA_ROOM);
	rte_mempool_free(m);
	rte_memzone_free(mz);
	if (ret != TEST_SUCCESS)
		return ret;

	m = rte_mempool_create_empty("t_ops_anon", 256, sizeof(struct rte_mbuf) + DATA_ROOM,
				     0, sizeof(struct rte_pktmbuf_pool_private), SOCKET_ID_ANY, 0);
	TEST_ASSERT_NOT_NULL(m, "create_empty: %s", rte_strerror(rte_errno));
	TEST_ASSERT_SUCCESS(rte_mempool_set_ops_byname(m, PFRAG_MEMPOOL_OPS_NAME, NULL), "ops");
	rte_pktmbuf_pool_init(m, NULL);
	n = rte_mempool_populate_anon(m);
	if (n == 0 && rte_eal_iova_mode() != RTE_IOVA_VA) {
		/* Anonymous memory in 4 KiB pieces of physical memory holds no page. */
		rte_mempool_free(m);
		printf("populate_anon: not with physical IOVAs (IOVA mode PA); skipped\n");
		return TEST_SUCCESS;
	}
	TEST_ASSERT_EQUAL(n, 256, "populate_anon gave %d", n);
	rte_mempool_obj_iter(m, rte_pktmbuf_init, NULL);
	ret = check_mbufs(m, DATA_ROOM);
	rte_mempool_free(m);
	return ret;
}

static char log_buf[8192];

/* Run @p fn with EAL's log going to log_buf. */
static void
capture_log(void (*fn)(void *), void *arg)
{
	FILE *f = fmemopen(log_buf, sizeof(log_buf), "w");
	FILE *prev = rte_log_get_stream();

	log_buf[0] = '\0';
	if (f == NULL)
		return;
	rte_openlog_stream(f);
	fn(arg);
	fflush(f);
	rte_openlog_stream(prev == stderr ? NULL : prev);
	fclose(f);
}

static void
free_pool_cb(void *arg)
{
	rte_mempool_free(arg);
}

/* Free with objects out: refused by the pfrag call, reported by the plain one. */
static int
test_ops_free_out(void)
{
	struct rte_mempool *m;
	void *objs[5];

	m = rte_pktmbuf_pool_create_by_ops("t_ops_out", 64, 0, 0, DATA_ROOM, SOCKET_ID_ANY,
					   PFRAG_MEMPOOL_OPS_NAME);
	TEST_ASSERT_NOT_NULL(m, "pool: %s", rte_strerror(rte_errno));
	TEST_ASSERT_SUCCESS(rte_mempool_get_bulk(m, objs, RTE_DIM(objs)), "get");
	TEST_ASSERT_EQUAL(pfrag_pktmbuf_pool_free(m), -EBUSY, "pfrag free with 5 out");
	TEST_ASSERT_EQUAL(pfrag_mempool_in_use(m), 5, "objects out");
	capture_log(free_pool_cb, m);
	TEST_ASSERT_NOT_NULL(strstr(log_buf, "t_ops_out freed: 5 of 64 objects out"),
			     "no clear error when freed with 5 objects out; log: %s", log_buf);
	return TEST_SUCCESS;
}

static void
too_large_cb(void *arg)
{
	*(int *)arg = rte_mempool_populate_default(rte_mempool_lookup("t_ops_big"));
}

/* What cannot work says so at create, with the sizes. */
static int
test_ops_too_large(void)
{
	struct pfrag_pool *small;
	struct rte_mempool *m;
	int ret = 1, not_a_pool = 0;

	small = pfrag_pool_create("t_ops_small", SOCKET_ID_ANY, 16384, 4, 0);
	TEST_ASSERT_NOT_NULL(small, "pfrag pool: %s", rte_strerror(rte_errno));
	m = rte_mempool_create_empty("t_ops_big", 8, 20000, 0, 0, SOCKET_ID_ANY, 0);
	TEST_ASSERT_NOT_NULL(m, "create_empty");
	TEST_ASSERT_SUCCESS(rte_mempool_set_ops_byname(m, PFRAG_MEMPOOL_OPS_NAME, small),
			    "ops");
	capture_log(too_large_cb, &ret);
	rte_mempool_free(m);
	pfrag_pool_free(small);
	TEST_ASSERT_EQUAL(ret, -EINVAL, "populate of an element larger than a page");
	TEST_ASSERT(strstr(log_buf, "an object takes 20160 bytes") != NULL &&
		    strstr(log_buf, "larger than a page") != NULL,
		    "no sizes in the error: %s", log_buf);

	m = rte_mempool_create_empty("t_ops_big", 8, 200, 0, 0, SOCKET_ID_ANY, 0);
	TEST_ASSERT_NOT_NULL(m, "create_empty");
	TEST_ASSERT_SUCCESS(rte_mempool_set_ops_byname(m, PFRAG_MEMPOOL_OPS_NAME,
						       &not_a_pool), "ops");
	capture_log(too_large_cb, &ret);
	rte_mempool_free(m);
	TEST_ASSERT_EQUAL(ret, -EINVAL, "pool_config that is not a pfrag pool");
	TEST_ASSERT(strstr(log_buf, "is not a pfrag pool") != NULL, "log: %s", log_buf);
	return TEST_SUCCESS;
}

/* Whole pages as blocks of contiguous objects. */
static int
test_ops_contig_blocks(void)
{
	struct rte_mempool_info info;
	struct rte_mempool *m;
	void *first[2];
	unsigned int b, i, stride;
	int ret;

	m = rte_pktmbuf_pool_create_by_ops("t_ops_blocks", 200, 0, 0, DATA_ROOM,
					   SOCKET_ID_ANY, PFRAG_MEMPOOL_OPS_NAME);
	TEST_ASSERT_NOT_NULL(m, "pool: %s", rte_strerror(rte_errno));
	TEST_ASSERT_SUCCESS(rte_mempool_ops_get_info(m, &info), "get_info");
	TEST_ASSERT(info.contig_block_size > 1, "block of %u", info.contig_block_size);
	ret = rte_mempool_get_contig_blocks(m, first, 2);
	TEST_ASSERT_SUCCESS(ret, "2 blocks: %d", ret);
	TEST_ASSERT_EQUAL(rte_mempool_in_use_count(m), 2 * info.contig_block_size, "in use");
	stride = m->header_size + m->elt_size + m->trailer_size;
	for (b = 0; b < 2; b++)
		for (i = 0; i < info.contig_block_size; i++) {
			void *obj = (uint8_t *)first[b] + i * stride;

			TEST_ASSERT(rte_mempool_from_obj(obj) == m, "block %u object %u", b, i);
			rte_mempool_put(m, obj);
		}
	ret = check_pool_whole(m);
	rte_mempool_free(m);
	return ret;
}

static struct rte_mempool *xmp;
static void *xobjs[512];

static int
x_get(void *arg)
{
	RTE_SET_USED(arg);
	return rte_mempool_get_bulk(xmp, xobjs, xmp->size);
}

static void *
non_eal_thread(void *arg)
{
	unsigned int i, n = xmp->size;

	RTE_SET_USED(arg);
	for (i = 0; i < n; i++)
		if (rte_mempool_get(xmp, &xobjs[i]) != 0)
			return (void *)(uintptr_t)i;
	for (i = 0; i < n; i += 2)
		rte_mempool_put(xmp, xobjs[i]);
	for (i = 1; i < n; i += 2)
		rte_mempool_put(xmp, xobjs[i]);
	return (void *)(uintptr_t)n;
}

/*
 * Taken on one lcore, given back one by one on another, taken again whole:
 * every object comes back within reach (DPDK's refcnt test does this);
 * and a non-EAL thread.
 */
static int
test_ops_cross_lcore(void)
{
	unsigned int worker = rte_get_next_lcore(-1, 1, 0), i, round;
	pthread_t t;
	void *res;
	int ret = TEST_SUCCESS;

	xmp = rte_pktmbuf_pool_create_by_ops("t_ops_x", RTE_DIM(xobjs), 0, 0, DATA_ROOM,
					     SOCKET_ID_ANY, PFRAG_MEMPOOL_OPS_NAME);
	TEST_ASSERT_NOT_NULL(xmp, "pool: %s", rte_strerror(rte_errno));
	for (round = 0; round < 4 && worker < RTE_MAX_LCORE && ret == TEST_SUCCESS; round++) {
		rte_eal_remote_launch(x_get, NULL, worker);
		if (rte_eal_wait_lcore(worker) != 0) {
			printf("round %u: the worker could not take every object\n", round);
			ret = TEST_FAILED;
			break;
		}
		/* Scattered over the worker's pages, one at a time. */
		for (i = 0; i < RTE_DIM(xobjs); i += 3)
			rte_mempool_put(xmp, xobjs[i]);
		for (i = 1; i < RTE_DIM(xobjs); i += 3)
			rte_mempool_put(xmp, xobjs[i]);
		for (i = 2; i < RTE_DIM(xobjs); i += 3)
			rte_mempool_put(xmp, xobjs[i]);
		if (rte_mempool_avail_count(xmp) != RTE_DIM(xobjs) ||
		    rte_mempool_get_bulk(xmp, xobjs, RTE_DIM(xobjs)) != 0) {
			printf("round %u: %u available, not all could be taken here\n", round,
			       rte_mempool_avail_count(xmp));
			ret = TEST_FAILED;
			break;
		}
		rte_mempool_put_bulk(xmp, xobjs, RTE_DIM(xobjs));
	}
	if (ret == TEST_SUCCESS && pthread_create(&t, NULL, non_eal_thread, NULL) == 0) {
		pthread_join(t, &res);
		if ((uintptr_t)res != RTE_DIM(xobjs)) {
			printf("non-EAL thread took %zu of %zu\n", (size_t)(uintptr_t)res,
			       RTE_DIM(xobjs));
			ret = TEST_FAILED;
		}
	}
	if (ret == TEST_SUCCESS)
		ret = check_pool_whole(xmp);
	rte_mempool_free(xmp);
	xmp = NULL;
	return ret;
}

/*
 * A get the pool cannot satisfy leaves the caller's table as it was: the
 * mempool library dequeues into its cache's own array and, on failure, keeps
 * the objects it had already taken from that array (rte_mempool.h of 22.11:
 * "objects in the cache are intact"). The default ring ops are the
 * reference; DPDK's mbuf_autotest does this in test_neg_pktmbuf_alloc_bulk.
 */
static int
failed_get_one(const char *ops)
{
	static void *objs[129];
	struct rte_mempool *m;
	unsigned int i, k;
	void *one;
	int ret = TEST_FAILED;

	m = rte_pktmbuf_pool_create_by_ops("t_ops_fail", 128, 32, 0, DATA_ROOM,
					   SOCKET_ID_ANY, ops);
	TEST_ASSERT_NOT_NULL(m, "%s pool: %s", ops, rte_strerror(rte_errno));
	/* 32 objects in this lcore's mempool cache, then a get of more than all. */
	if (rte_mempool_get(m, &one) != 0) {
		printf("%s: first get failed\n", ops);
		goto out;
	}
	rte_mempool_put(m, one);
	if (rte_mempool_get_bulk(m, objs, RTE_DIM(objs)) == 0) {
		printf("%s: %zu objects from a pool of 128\n", ops, RTE_DIM(objs));
		rte_mempool_put_bulk(m, objs, RTE_DIM(objs));
		goto out;
	}
	/* Every object once, no more. */
	for (i = 0; i < 128; i++) {
		if (rte_mempool_get(m, &objs[i]) != 0) {
			printf("%s: only %u of 128 objects after a failed get\n", ops, i);
			rte_mempool_put_bulk(m, objs, i);
			goto out;
		}
		for (k = 0; k < i; k++)
			if (objs[k] == objs[i]) {
				printf("%s: object %p handed out twice\n", ops, objs[i]);
				rte_mempool_put_bulk(m, objs, i);
				goto out;
			}
	}
	if (rte_mempool_get(m, &one) == 0) {
		printf("%s: a 129th object %p\n", ops, one);
		rte_mempool_put(m, one);
		rte_mempool_put_bulk(m, objs, 128);
		goto out;
	}
	rte_mempool_put_bulk(m, objs, 128);
	ret = TEST_SUCCESS;
	if (strcmp(ops, PFRAG_MEMPOOL_OPS_NAME) == 0)
		ret = check_pool_whole(m);
	else if (rte_mempool_avail_count(m) != 128)
		ret = TEST_FAILED;
out:
	rte_mempool_free(m);
	return ret;
}

static int
test_ops_failed_get(void)
{
	TEST_ASSERT_SUCCESS(failed_get_one("ring_mp_mc"), "the reference, ring_mp_mc");
	TEST_ASSERT_SUCCESS(failed_get_one(PFRAG_MEMPOOL_OPS_NAME), "pfrag");
	return TEST_SUCCESS;
}

static struct rte_mempool *bad_mp;
static void *bad_obj;

static void
double_put_cb(void *arg)
{
	RTE_SET_USED(arg);
	rte_mempool_put(bad_mp, bad_obj);
}

static void
inner_put_cb(void *arg)
{
	RTE_SET_USED(arg);
	rte_mempool_put(bad_mp, (uint8_t *)bad_obj + 8);
}

/*
 * Bad frees are refused with a clear error and change nothing: an object
 * given back twice, and an address inside an object still out (it would
 * free that object under its owner). The counts stay true afterwards.
 */
static int
test_ops_bad_put(void)
{
	struct rte_mempool *m;
	void *again[64];
	unsigned int i, n;
	int ret = TEST_FAILED;

	m = rte_pktmbuf_pool_create_by_ops("t_ops_badput", 64, 0, 0, DATA_ROOM,
					   SOCKET_ID_ANY, PFRAG_MEMPOOL_OPS_NAME);
	TEST_ASSERT_NOT_NULL(m, "pool: %s", rte_strerror(rte_errno));
	bad_mp = m;
	TEST_ASSERT_SUCCESS(rte_mempool_get(m, &bad_obj), "get");
	rte_mempool_put(m, bad_obj);
	capture_log(double_put_cb, NULL);
	if (strstr(log_buf, "freed twice?") == NULL) {
		printf("double free not reported; log: %s\n", log_buf);
		goto out;
	}
	if (rte_mempool_avail_count(m) != m->size) {
		printf("after a refused double free: %u of %u available\n",
		       rte_mempool_avail_count(m), m->size);
		goto out;
	}
	TEST_ASSERT_SUCCESS(rte_mempool_get(m, &bad_obj), "get");
	capture_log(inner_put_cb, NULL);
	if (strstr(log_buf, "not an object of this pool") == NULL) {
		printf("an address inside an object, not reported; log: %s\n", log_buf);
		rte_mempool_put(m, bad_obj);
		goto out;
	}
	/* The object is still ours: every other one can be taken, not it. */
	n = m->size - 1;
	if (rte_mempool_avail_count(m) != n || rte_mempool_get_bulk(m, again, n) != 0) {
		printf("after a refused inner free: %u available\n", rte_mempool_avail_count(m));
		rte_mempool_put(m, bad_obj);
		goto out;
	}
	for (i = 0; i < n; i++)
		if (again[i] == bad_obj) {
			printf("object %p handed out while still out\n", bad_obj);
			break;
		}
	rte_mempool_put_bulk(m, again, n);
	rte_mempool_put(m, bad_obj);
	if (i == n)
		ret = check_pool_whole(m);
out:
	rte_mempool_free(m);
	return ret;
}

static const struct unit_test_suite pfrag_mempool_ops_suite = {
	.name = "pfrag mempool ops",
	.cases = {
		TEST_CASE(test_ops_user_ops),
		TEST_CASE(test_ops_by_ops),
		TEST_CASE(test_ops_create_empty),
		TEST_CASE(test_ops_populate_chunks),
		TEST_CASE(test_ops_populate_virt_anon),
		TEST_CASE(test_ops_free_out),
		TEST_CASE(test_ops_too_large),
		TEST_CASE(test_ops_contig_blocks),
		TEST_CASE(test_ops_cross_lcore),
		TEST_CASE(test_ops_failed_get),
		TEST_CASE(test_ops_bad_put),
		TEST_CASES_END(),
	},
};

static int
test_pfrag_mempool_ops(void)
{
	return unit_test_suite_runner(&pfrag_mempool_ops_suite);
}

PFRAG_TEST_REGISTER(pfrag_mempool_ops_autotest, FAST, PFRAG_TEST_NOHUGE, test_pfrag_mempool_ops);

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

	fp = pfrag_pool_create("t_mp_perf", SOCKET_ID_ANY, PAGE_SIZE, 1400, 0);
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

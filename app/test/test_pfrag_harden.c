/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * pfrag_harden_autotest: what a careless or hostile caller can do to the
 * pool on one thread, and what the pool must do about it: pages without
 * IOVA, every name length, over-drops of a page's count (absorbed by a
 * cache's bias, exactly to zero under a cache, wrapped past the old
 * threshold, on a page back in the pool), NULL in bulk frees, a cache
 * initialised twice, mbuf rooms near 64 KiB and bridged mbufs on a non-EAL
 * thread. Each case says which line it guards.
 */

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include <pfrag.h>
#include <pfrag_mbuf.h>
#include <pfrag_mempool.h>

#include "test.h"
#include "test_pfrag_logcap.h"

#define PAGE_SIZE 32768u
#define NB_PAGES 64u

static struct pfrag_pool *pool;
static struct rte_mempool *hdrs;

static int
pool_setup(void)
{
	pool = pfrag_pool_create("harden", SOCKET_ID_ANY, PAGE_SIZE, NB_PAGES, 0);
	if (pool == NULL) {
		printf("pool create failed: %s\n", rte_strerror(rte_errno));
		return TEST_FAILED;
	}
	if (logcap_start(1) != 0) {
		printf("log capture failed\n");
		return TEST_FAILED;
	}
	return TEST_SUCCESS;
}

static void
pool_teardown(void)
{
	logcap_stop();
	if (pool != NULL && pfrag_pool_free(pool) != 0) {
		printf("teardown: pool not freed\n");
		pfrag_pool_dump(stdout, pool);
	}
	pool = NULL;
}

static uint64_t
pool_bad_free(void)
{
	struct pfrag_pool_info info;

	pfrag_pool_info_get(pool, &info);
	return info.stats.bad_free;
}

/* Nothing out, every page back, @p lost of them quarantined. */
static int
check_books(uint32_t lost)
{
	struct pfrag_pool_info info;

	pfrag_cache_drain(pfrag_lcore_cache(pool));
	TEST_ASSERT_SUCCESS(pfrag_pool_info_get(pool, &info), "info");
	TEST_ASSERT_EQUAL(info.frags_out, 0, "fragments out (wrapped books?)");
	/* Quarantined pages stay out of the pool; every other page is back. */
	TEST_ASSERT_EQUAL(info.pages_free + lost, NB_PAGES, "pages missing from the pool");
	if (lost == 0)
		TEST_ASSERT_EQUAL(info.pages_in_use, 0, "pages still in use");
	return TEST_SUCCESS;
}

/*
 * Item 10: a page without IOVA gives RTE_BAD_IOVA at every offset, never
 * RTE_BAD_IOVA + offset (a plausible low address a device would DMA to):
 * pfrag_iova(), the bulk IOVA array, the mbuf bridge and the mempool ops.
 * The pages are marked as having no IOVA by hand, as 32 KiB pages over
 * 4 KiB backing pages are when EAL runs with physical addresses.
 */
static int
test_no_iova(void)
{
	static void *va[400];
	static rte_iova_t iova[400];
	struct rte_mempool *mp;
	struct rte_mbuf *m[2];
	uint32_t i;
	void *a, *b;

	for (i = 0; i < pool->nb_pages; i++)
		pool->pages[i].iova = RTE_BAD_IOVA;
	a = pfrag_alloc(pool, 64, 64);
	b = pfrag_alloc(pool, 64, 64);
	TEST_ASSERT(a != NULL && b != NULL && b != pfrag_virt2page(b)->va, "alloc");
	TEST_ASSERT_EQUAL(pfrag_iova(a), RTE_BAD_IOVA, "IOVA at offset 0");
	TEST_ASSERT_EQUAL(pfrag_iova(b), RTE_BAD_IOVA, "IOVA at offset %u of a page without",
			  (unsigned int)((uint8_t *)b - pfrag_virt2page(b)->va));
	pfrag_free(a);
	pfrag_free(b);

	/* Across pages: the in-page stride loop and the refill path. */
	TEST_ASSERT_SUCCESS(pfrag_alloc_bulk(pool, 1000, 64, va, iova, 400), "bulk");
	for (i = 0; i < 400; i++)
		TEST_ASSERT_EQUAL(iova[i], RTE_BAD_IOVA, "bulk IOVA %u", i);
	pfrag_free_bulk(va, 400);

	m[0] = pfrag_pktmbuf_alloc(hdrs, pool, 1000);
	TEST_ASSERT_NOT_NULL(m[0], "bridged mbuf");
	TEST_ASSERT_EQUAL(rte_mbuf_iova_get(m[0]), RTE_BAD_IOVA, "bridge buf_iova");
	rte_pktmbuf_free(m[0]);

	mp = pfrag_pktmbuf_pool_create("harden_mp", 64, 0, 0, 2048, pool);
	TEST_ASSERT_NOT_NULL(mp, "pfrag mbuf pool");
	for (i = 0; i < 2; i++)
		m[i] = rte_pktmbuf_alloc(mp);
	TEST_ASSERT(m[0] != NULL && m[1] != NULL, "mbufs from the pfrag mempool");
	for (i = 0; i < 2; i++) {
		TEST_ASSERT_EQUAL(rte_mbuf_iova_get(m[i]), RTE_BAD_IOVA, "mempool buf_iova %u",
				  i);
		TEST_ASSERT_EQUAL(rte_mempool_virt2iova(m[i]), RTE_BAD_IOVA,
				  "mempool object IOVA %u", i);
	}
	rte_pktmbuf_free(m[0]);
	rte_pktmbuf_free(m[1]);
	TEST_ASSERT_SUCCESS(pfrag_pktmbuf_pool_free(mp), "mempool free");
	return check_books(0);
}

/* Item 13: every name up to PFRAG_NAMESIZE - 1 works; longer is EINVAL. */
static int
test_name_lengths(void)
{
	char name[PFRAG_NAMESIZE + 8], twin[PFRAG_NAMESIZE];
	struct pfrag_pool *p, *q;
	unsigned int len;

	for (len = 1; len < PFRAG_NAMESIZE; len++) {
		memset(name, 'n', len);
		name[len] = '\0';
		p = pfrag_pool_create(name, SOCKET_ID_ANY, 4096, 2, 0);
		TEST_ASSERT_NOT_NULL(p, "name of %u characters: %s", len,
				     rte_strerror(rte_errno));
		TEST_ASSERT(pfrag_pool_lookup(name) == p, "lookup of %u characters", len);
		TEST_ASSERT_SUCCESS(pfrag_pool_free(p), "free");
	}
	/* Two longest names that differ only in their last character. */
	memset(name, 'x', PFRAG_NAMESIZE - 1);
	name[PFRAG_NAMESIZE - 1] = '\0';
	memcpy(twin, name, sizeof(twin));
	twin[PFRAG_NAMESIZE - 2] = 'y';
	p = pfrag_pool_create(name, SOCKET_ID_ANY, 4096, 2, 0);
	q = pfrag_pool_create(twin, SOCKET_ID_ANY, 4096, 2, 0);
	TEST_ASSERT(p != NULL && q != NULL, "twins of the longest length: %s",
		    rte_strerror(rte_errno));
	TEST_ASSERT_SUCCESS(pfrag_pool_free(p), "free");
	TEST_ASSERT_SUCCESS(pfrag_pool_free(q), "free");
	memset(name, 'n', PFRAG_NAMESIZE);
	name[PFRAG_NAMESIZE] = '\0';
	TEST_ASSERT_NULL(pfrag_pool_create(name, SOCKET_ID_ANY, 4096, 2, 0), "too long");
	TEST_ASSERT_EQUAL(rte_errno, EINVAL, "errno for a name of PFRAG_NAMESIZE characters");
	return check_books(0);
}

/*
 * Item 15: an over-drop on a page a cache holds is absorbed by the cache's
 * bias; it shows when the cache gives its bias back. It must be reported and
 * counted, the books must not wrap, the page must not be forgotten silently.
 */
static int
test_overdrop_absorbed(void)
{
	uint64_t bad = pfrag_bad_free_count();
	struct pfrag_cache c;
	struct pfrag_page *page;
	unsigned int i;
	void *va[4];

	TEST_ASSERT_SUCCESS(pfrag_cache_init(&c, pool), "cache");
	for (i = 0; i < 4; i++)
		va[i] = pfrag_cache_alloc(&c, 256, 64);
	page = pfrag_virt2page(va[0]);
	TEST_ASSERT(page != NULL && page == pfrag_virt2page(va[3]), "one page");
	/* Four fragments out, seven references dropped. */
	pfrag_page_drain(page, 7);
	pfrag_cache_fini(&c);
	TEST_ASSERT_EQUAL(pool_bad_free(), 1, "over-drop not counted in the pool's bad_free");
	TEST_ASSERT_EQUAL(pfrag_bad_free_count() - bad, 1, "over-drop not counted");
	TEST_ASSERT_EQUAL(logcap_count("more than it had"), 1, "over-drop not logged");
	return check_books(1);
}

/*
 * Item 15: an over-drop to exactly bias + fragments out brings the count to
 * zero while a cache still carves the page: it must not go back to the pool
 * and to a second cache.
 */
static int
test_overdrop_exact(void)
{
	struct pfrag_cache c1, c2;
	struct pfrag_page *page;
	unsigned int i;
	void *va[4], *x, *y;

	TEST_ASSERT_SUCCESS(pfrag_cache_init(&c1, pool), "cache 1");
	TEST_ASSERT_SUCCESS(pfrag_cache_init(&c2, pool), "cache 2");
	for (i = 0; i < 4; i++)
		va[i] = pfrag_cache_alloc(&c1, 256, 64);
	page = pfrag_virt2page(va[0]);
	pfrag_page_drain(page, __atomic_load_n(&page->refcnt, __ATOMIC_RELAXED));
	x = pfrag_cache_alloc(&c1, 256, 64);
	y = pfrag_cache_alloc(&c2, 256, 64);
	TEST_ASSERT(x != NULL && y != NULL, "alloc");
	TEST_ASSERT(pfrag_virt2page(x) == page, "cache 1 still carves its page");
	TEST_ASSERT(pfrag_virt2page(y) != page, "one page handed to two caches");
	TEST_ASSERT_EQUAL(pool_bad_free(), 1, "over-drop not counted");
	TEST_ASSERT_EQUAL(logcap_count("while a cache still held it"), 1, "not logged");
	pfrag_free(x);
	pfrag_free(y);
	pfrag_cache_fini(&c1);
	pfrag_cache_fini(&c2);
	TEST_ASSERT_EQUAL(pool_bad_free(), 1, "one over-drop reported more than once");
	return check_books(1);
}

/*
 * Item 15: the old threshold was 2P+1 although a page never holds more than
 * P+1 references: a drain that leaves between the two (a negative count
 * passed by a driver) wrapped unseen.
 */
static int
test_overdrop_threshold(void)
{
	struct pfrag_cache c;
	struct pfrag_page *page;
	void *va;

	TEST_ASSERT_SUCCESS(pfrag_cache_init(&c, pool), "cache");
	va = pfrag_cache_alloc(&c, 256, 64);
	TEST_ASSERT_NOT_NULL(va, "alloc");
	page = pfrag_virt2page(va);
	pfrag_cache_fini(&c);
	TEST_ASSERT_EQUAL(__atomic_load_n(&page->refcnt, __ATOMIC_RELAXED), 1, "one out");
	/* Leaves P + 2: one more than any page can hold. */
	pfrag_page_drain(page, (uint32_t)0 - (PAGE_SIZE + 1));
	TEST_ASSERT_EQUAL(pool_bad_free(), 1, "wrapped count not caught");
	TEST_ASSERT_EQUAL(logcap_count("more than it had"), 1, "not logged");
	return check_books(1);
}

/*
 * Item 17: a free of a fragment whose page is back in the pool (a double
 * free without debug checks) is counted in the pool's bad_free, not only
 * with the debug bitmap; the page stays usable.
 */
static int
test_free_after_release(void)
{
	static void *va[NB_PAGES];
	struct pfrag_cache c;
	unsigned int i;
	void *a;

	TEST_ASSERT_SUCCESS(pfrag_cache_init(&c, pool), "cache");
	a = pfrag_cache_alloc(&c, PAGE_SIZE, 1);
	TEST_ASSERT_NOT_NULL(a, "alloc");
	pfrag_cache_fini(&c);
	pfrag_free(a);
	pfrag_free(a);
	TEST_ASSERT_EQUAL(pool_bad_free(), 1, "double free not counted in the pool");
	TEST_ASSERT_SUCCESS(check_books(0), "books after a double free");
	/* Every page, the one freed twice included, can be handed out again. */
	for (i = 0; i < NB_PAGES; i++) {
		va[i] = pfrag_alloc(pool, PAGE_SIZE, 1);
		TEST_ASSERT_NOT_NULL(va[i], "page %u", i);
	}
	pfrag_free_bulk(va, NB_PAGES);
	TEST_ASSERT_EQUAL(pool_bad_free(), 1, "the page came back damaged");
	return check_books(0);
}

/* Item 17: NULL in a bulk free is nothing to free, as with pfrag_free(NULL). */
static int
test_free_bulk_null(void)
{
	uint64_t bad = pfrag_bad_free_count();
	void *va[3] = { NULL, pfrag_alloc(pool, 100, 1), NULL };

	TEST_ASSERT_NOT_NULL(va[1], "alloc");
	pfrag_free_bulk(va, 3);
	pfrag_drain_bulk((void *[]){ NULL }, 1);
	TEST_ASSERT_EQUAL(pfrag_bad_free_count(), bad, "NULL counted as a bad free");
	TEST_ASSERT_EQUAL(logcap_count_level(RTE_LOG_WARNING), 0, "NULL logged");
	return check_books(0);
}

/*
 * Item 17: pfrag_cache_init() on an attached cache looped the pool's list
 * of user caches, and pfrag_pool_info_get() spun forever under the lock.
 */
static int
test_cache_init_twice(void)
{
	struct pfrag_pool_info info;
	struct pfrag_pool *other;
	struct pfrag_cache c;
	int ret;

	TEST_ASSERT_SUCCESS(pfrag_cache_init(&c, pool), "first init");
	ret = pfrag_cache_init(&c, pool);
	if (ret == 0) {
		/* The list is a loop now: leave the pool, do not free it. */
		pool = NULL;
		TEST_ASSERT(0, "second init of an attached cache accepted");
	}
	TEST_ASSERT_EQUAL(ret, -EBUSY, "second init");
	other = pfrag_pool_create("harden2", SOCKET_ID_ANY, PAGE_SIZE, 2, 0);
	TEST_ASSERT_NOT_NULL(other, "second pool");
	TEST_ASSERT_EQUAL(pfrag_cache_init(&c, other), -EBUSY, "init to another pool");
	TEST_ASSERT_SUCCESS(pfrag_pool_info_get(pool, &info), "info");
	TEST_ASSERT_EQUAL(info.user_caches, 1, "user caches");
	pfrag_cache_fini(&c);
	TEST_ASSERT_SUCCESS(pfrag_pool_free(other), "second pool free");
	/* Finished, it may be attached again. */
	TEST_ASSERT_SUCCESS(pfrag_cache_init(&c, pool), "init after fini");
	pfrag_cache_fini(&c);
	return check_books(0);
}

/*
 * Item 17: buf_len is 16 bits. A room whose aligned buffer is 64 KiB was
 * cast to 0; such rooms are refused, the largest that fits works, and a
 * larger fragment attached by hand is described as the largest length.
 */
static int
test_mbuf_room_limit(void)
{
	const uint32_t max_buf = 65528; /* UINT16_MAX aligned down to 8 */
	struct pfrag_pool *big;
	struct rte_mbuf *m;
	void *frag;

	big = pfrag_pool_create("harden_big", SOCKET_ID_ANY, 131072, 4, 0);
	TEST_ASSERT_NOT_NULL(big, "pool of 128 KiB pages: %s", rte_strerror(rte_errno));
	m = pfrag_pktmbuf_alloc(hdrs, big, UINT16_MAX - RTE_PKTMBUF_HEADROOM);
	if (m != NULL) {
		printf("room %u gave buf_len %u\n", UINT16_MAX - RTE_PKTMBUF_HEADROOM,
		       m->buf_len);
		rte_pktmbuf_free(m);
		pfrag_pool_free(big);
		TEST_ASSERT(0, "a room whose buffer does not fit 16 bits was accepted");
	}
	TEST_ASSERT_EQUAL(rte_errno, EINVAL, "errno for a room near 64 KiB");
	m = pfrag_pktmbuf_alloc(hdrs, big, max_buf - RTE_PKTMBUF_HEADROOM);
	TEST_ASSERT_NOT_NULL(m, "largest room");
	TEST_ASSERT_EQUAL(m->buf_len, max_buf, "buf_len of the largest room");
	TEST_ASSERT_EQUAL(rte_pktmbuf_tailroom(m), max_buf - RTE_PKTMBUF_HEADROOM, "room");
	rte_pktmbuf_free(m);

	m = rte_pktmbuf_alloc(hdrs);
	frag = pfrag_alloc(big, 100000, 64);
	TEST_ASSERT(m != NULL && frag != NULL, "alloc");
	pfrag_mbuf_attach(m, frag, 100000, RTE_PKTMBUF_HEADROOM);
	TEST_ASSERT_EQUAL(m->buf_len, max_buf, "buf_len of a fragment beyond 64 KiB");
	TEST_ASSERT((uint8_t *)m->shinfo + sizeof(*m->shinfo) <= (uint8_t *)frag + 100000,
		    "shared info outside the fragment");
	rte_pktmbuf_free(m);
	pfrag_cache_drain(pfrag_lcore_cache(big));
	TEST_ASSERT_SUCCESS(pfrag_pool_free(big), "pool free");
	return check_books(0);
}

static void *
non_eal_mbuf(void *arg)
{
	struct rte_mbuf **m = arg;

	m[0] = pfrag_pktmbuf_alloc(hdrs, pool, 1000);
	m[1] = (struct rte_mbuf *)(uintptr_t)rte_errno;
	if (m[0] != NULL) {
		memset(rte_pktmbuf_mtod(m[0], void *), 0x5a, 1000);
		rte_pktmbuf_free(m[0]);
	}
	return NULL;
}

/* Item 17: pfrag_pktmbuf_alloc() works on a non-EAL thread, as pfrag_alloc() does. */
static int
test_pktmbuf_non_eal(void)
{
	struct rte_mbuf *m[2] = { NULL, NULL };
	pthread_t t;

	TEST_ASSERT_SUCCESS(pthread_create(&t, NULL, non_eal_mbuf, m), "thread");
	pthread_join(t, NULL);
	TEST_ASSERT_NOT_NULL(m[0], "bridged mbuf on a non-EAL thread: %s",
			     rte_strerror((int)(uintptr_t)m[1]));
	pfrag_pool_drain_caches(pool);
	return check_books(0);
}

/*
 * Header pool empty: NULL with rte_errno ENOENT, as documented; not
 * whatever rte_errno held before (rte_pktmbuf_alloc() does not set it).
 */
static int
test_pktmbuf_hdr_empty(void)
{
	struct rte_mempool *one;
	struct rte_mbuf *m, *none;
	int err;

	one = rte_pktmbuf_pool_create("harden_hdr1", 1, 0, 0, RTE_PKTMBUF_HEADROOM,
				      SOCKET_ID_ANY);
	TEST_ASSERT_NOT_NULL(one, "one-mbuf header pool: %s", rte_strerror(rte_errno));
	m = pfrag_pktmbuf_alloc(one, pool, 1000);
	rte_errno = 0;
	none = pfrag_pktmbuf_alloc(one, pool, 1000);
	err = rte_errno;
	rte_pktmbuf_free(m);
	rte_pktmbuf_free(none);
	rte_mempool_free(one);
	TEST_ASSERT_NOT_NULL(m, "the one header mbuf");
	TEST_ASSERT_NULL(none, "no header mbuf left, yet an mbuf");
	TEST_ASSERT_EQUAL(err, ENOENT, "rte_errno %d (%s) for an empty header pool",
			  err, rte_strerror(err));
	pfrag_pool_drain_caches(pool);
	return check_books(0);
}

static int
suite_setup(void)
{
	hdrs = pfrag_mbuf_hdr_pool_create("harden_hdrs", 512, SOCKET_ID_ANY);
	return hdrs == NULL ? TEST_FAILED : TEST_SUCCESS;
}

static void
suite_teardown(void)
{
	rte_mempool_free(hdrs);
}

static struct unit_test_suite harden_suite = {
	.name = "pfrag hardening",
	.setup = suite_setup,
	.teardown = suite_teardown,
	.cases = {
		TEST_CASE_ST(pool_setup, pool_teardown, test_no_iova),
		TEST_CASE_ST(pool_setup, pool_teardown, test_name_lengths),
		TEST_CASE_ST(pool_setup, pool_teardown, test_overdrop_absorbed),
		TEST_CASE_ST(pool_setup, pool_teardown, test_overdrop_exact),
		TEST_CASE_ST(pool_setup, pool_teardown, test_overdrop_threshold),
		TEST_CASE_ST(pool_setup, pool_teardown, test_free_after_release),
		TEST_CASE_ST(pool_setup, pool_teardown, test_free_bulk_null),
		TEST_CASE_ST(pool_setup, pool_teardown, test_cache_init_twice),
		TEST_CASE_ST(pool_setup, pool_teardown, test_mbuf_room_limit),
		TEST_CASE_ST(pool_setup, pool_teardown, test_pktmbuf_non_eal),
		TEST_CASE_ST(pool_setup, pool_teardown, test_pktmbuf_hdr_empty),
		TEST_CASES_END(),
	},
};

static int
pfrag_harden_autotest(void)
{
	return unit_test_suite_runner(&harden_suite);
}

PFRAG_TEST_REGISTER(pfrag_harden_autotest, FAST, PFRAG_TEST_NOHUGE, pfrag_harden_autotest);

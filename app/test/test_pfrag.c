/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * pfrag_autotest: the pool on one lcore: arguments, sizes and alignments,
 * no overlap, exhaustion and recovery, reuse in place, drains, accounting.
 * pfrag_debug_autotest: what debug-checks builds catch.
 */

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_memory.h>
#include <rte_ring.h>

#include <pfrag.h>

#include "test.h"
#include "test_pfrag_logcap.h"

#define PAGE_SIZE 32768u
#define NB_PAGES 64u
#define MAX_FRAGS 4096

static struct pfrag_pool *pool;
static void *frags[MAX_FRAGS];
static uint32_t frag_len[MAX_FRAGS];

/* Small deterministic generator: failures replay the same way. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)rng_state;
}

static int
pool_setup(void)
{
	pool = pfrag_pool_create("autotest", SOCKET_ID_ANY, PAGE_SIZE, NB_PAGES, 0);
	if (pool == NULL) {
		printf("pool create failed: %s\n", rte_strerror(rte_errno));
		return TEST_FAILED;
	}
	return TEST_SUCCESS;
}

/* Every case must leave nothing out; the pool is freed and made anew. */
static void
pool_teardown(void)
{
	if (pool != NULL && pfrag_pool_free(pool) != 0) {
		printf("teardown: pool still busy\n");
		pfrag_pool_dump(stdout, pool);
	}
	pool = NULL;
}

static int
check_nothing_out(void)
{
	struct pfrag_pool_info info;

	pfrag_cache_drain(pfrag_lcore_cache(pool));
	TEST_ASSERT_SUCCESS(pfrag_pool_info_get(pool, &info), "info");
	TEST_ASSERT_EQUAL(info.frags_out, 0, "fragments still out");
	TEST_ASSERT_EQUAL(info.pages_in_use, 0, "pages still in use");
	TEST_ASSERT_EQUAL(info.pages_free, NB_PAGES, "pages missing from the pool");
	return TEST_SUCCESS;
}

static int
test_create_args(void)
{
	struct pfrag_pool *p;

	TEST_ASSERT_NULL(pfrag_pool_create(NULL, SOCKET_ID_ANY, 0, 4, 0), "NULL name");
	TEST_ASSERT_EQUAL(rte_errno, EINVAL, "errno for NULL name");
	TEST_ASSERT_NULL(pfrag_pool_create("a_name_that_is_much_too_long_for_it",
					   SOCKET_ID_ANY, 0, 4, 0), "long name");
	TEST_ASSERT_NULL(pfrag_pool_create("bad", SOCKET_ID_ANY, 3000, 4, 0),
			 "page size not a power of two");
	TEST_ASSERT_EQUAL(rte_errno, EINVAL, "errno for page size");
	TEST_ASSERT_NULL(pfrag_pool_create("bad", SOCKET_ID_ANY, 2048, 4, 0),
			 "page size below the minimum");
	TEST_ASSERT_NULL(pfrag_pool_create("bad", SOCKET_ID_ANY, 0, 0, 0), "no pages");
	TEST_ASSERT_NULL(pfrag_pool_create("bad", 77, 0, 4, 0), "socket that does not exist");
	TEST_ASSERT_EQUAL(rte_errno, EINVAL, "errno for socket");
	TEST_ASSERT_NULL(pfrag_pool_create("bad", SOCKET_ID_ANY, 0, 4, 0x80), "unknown flag");
	TEST_ASSERT_NULL(pfrag_pool_create("autotest", SOCKET_ID_ANY, 0, 4, 0),
			 "duplicate name");
	TEST_ASSERT_EQUAL(rte_errno, EEXIST, "errno for a duplicate");
	TEST_ASSERT(pfrag_pool_lookup("autotest") == pool, "lookup by name");
	TEST_ASSERT_NULL(pfrag_pool_lookup("nosuchpool"), "lookup of a missing pool");
	TEST_ASSERT_EQUAL(rte_errno, ENOENT, "errno for a missing pool");

	/* Page size 0 takes the build default. */
	p = pfrag_pool_create("default", SOCKET_ID_ANY, 0, 2, 0);
	TEST_ASSERT_NOT_NULL(p, "default page size: %s", rte_strerror(rte_errno));
	TEST_ASSERT_EQUAL(p->page_size, PFRAG_DEFAULT_PAGE_SIZE, "default page size");
	TEST_ASSERT_SUCCESS(pfrag_pool_free(p), "free");
	TEST_ASSERT_EQUAL(pfrag_pool_free(NULL), -EINVAL, "free NULL");
	return TEST_SUCCESS;
}

static int
test_bad_alloc_args(void)
{
	TEST_ASSERT_NULL(pfrag_alloc(pool, PAGE_SIZE + 1, 1), "larger than a page");
	TEST_ASSERT_EQUAL(rte_errno, EINVAL, "errno for size > page");
	TEST_ASSERT_NULL(pfrag_alloc(pool, 0, 1), "zero size");
	TEST_ASSERT_EQUAL(rte_errno, EINVAL, "errno for size 0");
	TEST_ASSERT_NULL(pfrag_alloc(pool, 64, 3), "alignment not a power of two");
	TEST_ASSERT_EQUAL(rte_errno, EINVAL, "errno for alignment 3");
	TEST_ASSERT_NULL(pfrag_alloc(pool, 64, 2 * PAGE_SIZE), "alignment beyond a page");
	TEST_ASSERT_EQUAL(rte_errno, EINVAL, "errno for a large alignment");
	/* A whole page is a valid fragment. */
	frags[0] = pfrag_alloc(pool, PAGE_SIZE, 0);
	TEST_ASSERT_NOT_NULL(frags[0], "whole-page fragment");
	pfrag_free(frags[0]);
	return check_nothing_out();
}

/* Every size from 1 to the page size, freed in turn. */
static int
test_all_sizes(void)
{
	uint32_t size;
	uint8_t *va;

	for (size = 1; size <= PAGE_SIZE; size++) {
		va = pfrag_alloc(pool, size, 1);
		TEST_ASSERT_NOT_NULL(va, "size %u: %s", size, rte_strerror(rte_errno));
		va[0] = 1;
		va[size - 1] = 2;
		TEST_ASSERT(pfrag_virt2page(va) == pfrag_virt2page(va + size - 1),
			    "size %u crosses a page", size);
		pfrag_free(va);
	}
	return check_nothing_out();
}

/*
 * Many fragments of random size and alignment out at once, each filled with
 * its own pattern; checked only after all were handed out, so any overlap
 * shows as a foreign byte.
 */
static int
test_no_overlap(void)
{
	unsigned int i, n = 0, j;
	uint32_t align, size;
	uint8_t *va;

	for (i = 0; i < MAX_FRAGS; i++) {
		size = 1 + rng() % 2048;
		align = 1u << (rng() % 13); /* 1 .. 4096 */
		va = pfrag_alloc(pool, size, align);
		if (va == NULL) {
			TEST_ASSERT_EQUAL(rte_errno, ENOBUFS, "only an empty pool may fail");
			break;
		}
		TEST_ASSERT(((uintptr_t)va & (align - 1)) == 0,
			    "fragment %p not aligned to %u", va, align);
		memset(va, (int)(i & 0xff), size);
		frags[n] = va;
		frag_len[n] = size;
		n++;
	}
	TEST_ASSERT(n > 1000, "only %u fragments fit", n);
	for (i = 0; i < n; i++) {
		va = frags[i];
		for (j = 0; j < frag_len[i]; j++)
			TEST_ASSERT_EQUAL(va[j], i & 0xff, "fragment %u byte %u overwritten",
					  i, j);
	}
	TEST_ASSERT_EQUAL(pfrag_pool_frags_out(pool), n, "fragments out");
	/* Free in random order. */
	for (i = n; i > 1; i--) {
		j = rng() % i;
		RTE_SWAP(frags[i - 1], frags[j]);
	}
	for (i = 0; i < n; i++)
		pfrag_free(frags[i]);
	return check_nothing_out();
}

static int
test_iova(void)
{
	rte_iova_t iova[32];
	void *va[32];
	unsigned int i;

	TEST_ASSERT_SUCCESS(pfrag_alloc_bulk(pool, 100, 64, va, iova, 32), "bulk");
	for (i = 0; i < 32; i++) {
		TEST_ASSERT_EQUAL(iova[i], pfrag_iova(va[i]), "bulk IOVA %u", i);
		if (iova[i] != RTE_BAD_IOVA)
			TEST_ASSERT_EQUAL(iova[i], rte_mem_virt2iova(va[i]),
					  "IOVA %u differs from EAL's", i);
	}
	TEST_ASSERT_EQUAL(pfrag_iova(&i), RTE_BAD_IOVA, "IOVA of a foreign pointer");
	pfrag_free_bulk(va, 32);
	return check_nothing_out();
}

/*
 * PFRAG_POOL_F_IOVA_CONTIG: pages no larger than the backing page are always
 * IOVA-contiguous, so the flag must be granted; every page has an IOVA.
 */
static int
test_iova_contig(void)
{
	const struct rte_memseg_list *msl = rte_mem_virt2memseg_list(pool->base);
	struct pfrag_pool *p;
	uint32_t i;

	TEST_ASSERT_NOT_NULL(msl, "no memseg list for the pool");
	p = pfrag_pool_create("contig", SOCKET_ID_ANY, (uint32_t)RTE_MIN(msl->page_sz, (uint64_t)65536), 8,
			      PFRAG_POOL_F_IOVA_CONTIG);
	TEST_ASSERT_NOT_NULL(p, "contiguous pages of the backing size: %s",
			     rte_strerror(rte_errno));
	for (i = 0; i < p->nb_pages; i++) {
		TEST_ASSERT(p->pages[i].iova != RTE_BAD_IOVA, "page %u has no IOVA", i);
		TEST_ASSERT_EQUAL(rte_mem_virt2iova(p->pages[i].va + p->page_size - 1),
				  p->pages[i].iova + p->page_size - 1,
				  "page %u is not IOVA-contiguous", i);
	}
	TEST_ASSERT_SUCCESS(pfrag_pool_free(p), "free");
	return check_nothing_out();
}

/* Exhaustion: ENOBUFS, nothing lost, and recovery once something is freed. */
static int
test_exhaustion(void)
{
	unsigned int i, n = 0;
	struct pfrag_pool_info info;

	/* Fragments of more than half a page: one per page. */
	for (i = 0; i < NB_PAGES + 8; i++) {
		frags[n] = pfrag_alloc(pool, PAGE_SIZE / 2 + 1, 1);
		if (frags[n] == NULL)
			break;
		n++;
	}
	TEST_ASSERT_EQUAL(n, NB_PAGES, "fragments before the pool ran dry");
	TEST_ASSERT_EQUAL(rte_errno, ENOBUFS, "errno of an empty pool");
	TEST_ASSERT_NULL(pfrag_alloc(pool, 1, 1), "a small fragment of an exhausted page");
	pfrag_pool_info_get(pool, &info);
	/* Event counters read 0 in a build that compiles them out. */
	TEST_ASSERT(PFRAG_EVENT_STATS ? info.stats.alloc_fail >= 2 : info.stats.alloc_fail == 0,
		    "failures counted: %" PRIu64, info.stats.alloc_fail);
	TEST_ASSERT(PFRAG_EVENT_STATS ? info.stats.empty >= 2 : info.stats.empty == 0,
		    "empty pool counted: %" PRIu64, info.stats.empty);
	TEST_ASSERT_EQUAL(info.pages_in_use, NB_PAGES, "pages in use");

	pfrag_free(frags[--n]);
	frags[n] = pfrag_alloc(pool, PAGE_SIZE / 2 + 1, 1);
	TEST_ASSERT_NOT_NULL(frags[n], "no recovery after a free");
	n++;
	for (i = 0; i < n; i++)
		pfrag_free(frags[i]);
	return check_nothing_out();
}

/* Fragments freed before the page is used up: the page is carved again. */
static int
test_reuse_in_place(void)
{
	struct pfrag_pool_info before, after;
	struct pfrag_page *first = NULL;
	uint64_t refills, reuses, want_refills = PFRAG_EVENT_STATS ? 1 : 0;
	unsigned int i;
	void *va;

	pfrag_pool_info_get(pool, &before);
	for (i = 0; i < 10 * (PAGE_SIZE / 1024); i++) {
		va = pfrag_alloc(pool, 1024, 64);
		TEST_ASSERT_NOT_NULL(va, "alloc %u", i);
		if (first == NULL)
			first = pfrag_virt2page(va);
		TEST_ASSERT(pfrag_virt2page(va) == first, "alloc %u left the first page", i);
		pfrag_free(va);
	}
	pfrag_pool_info_get(pool, &after);
	/* Event counters read 0 in a build that compiles them out. */
	refills = after.stats.refill - before.stats.refill;
	reuses = after.stats.reuse - before.stats.reuse;
	TEST_ASSERT_EQUAL(refills, want_refills, "one page should serve every allocation");
	TEST_ASSERT(PFRAG_EVENT_STATS ? reuses >= 9 : reuses == 0, "reuse in place: %" PRIu64,
		    reuses);
	return check_nothing_out();
}

static int
cmp_ptr(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t)*(void *const *)a, y = (uintptr_t)*(void *const *)b;

	return x < y ? -1 : x > y;
}

/*
 * A drain drops exactly `count` references: fragments carved by a user-owned
 * cache (a driver queue) are given back in one operation per page.
 */
static int
test_drain(void)
{
	struct pfrag_cache cache;
	struct pfrag_page *page;
	uint32_t refcnt, k = 17;
	unsigned int i;

	TEST_ASSERT_SUCCESS(pfrag_cache_init(&cache, pool), "cache init");
	for (i = 0; i < k; i++) {
		frags[i] = pfrag_cache_alloc(&cache, 256, 64);
		TEST_ASSERT_NOT_NULL(frags[i], "alloc %u", i);
	}
	page = pfrag_virt2page(frags[0]);
	TEST_ASSERT(page == pfrag_virt2page(frags[k - 1]), "one page");
	TEST_ASSERT_EQUAL(pfrag_pool_frags_out(pool), k, "out before the drain");
	refcnt = __atomic_load_n(&page->refcnt, __ATOMIC_RELAXED);
	TEST_ASSERT_EQUAL(refcnt, cache.bias + k, "count = bias + fragments out");

	pfrag_page_drain(page, k - 1);
	TEST_ASSERT_EQUAL(__atomic_load_n(&page->refcnt, __ATOMIC_RELAXED), refcnt - (k - 1),
			  "drain dropped a different number of references");
	TEST_ASSERT_EQUAL(pfrag_pool_frags_out(pool), 1, "out after the drain");
	pfrag_free(frags[k - 1]);

	/* Many fragments in address order: one drain per page. */
	for (i = 0; i < 100; i++) {
		frags[i] = pfrag_cache_alloc(&cache, 1000, 64);
		TEST_ASSERT_NOT_NULL(frags[i], "alloc %u", i);
	}
	qsort(frags, 100, sizeof(frags[0]), cmp_ptr);
	{
		struct pfrag_pool_info before, after;
		unsigned int pages = 1, drains;

		for (i = 1; i < 100; i++)
			pages += pfrag_virt2page(frags[i]) != pfrag_virt2page(frags[i - 1]);
		pfrag_pool_info_get(pool, &before);
		drains = pfrag_drain_bulk(frags, 100);
		pfrag_pool_info_get(pool, &after);
		TEST_ASSERT_EQUAL(drains, pages, "one drain per page");
		TEST_ASSERT(pages >= 3, "100 fragments of 1000 bytes span %u pages", pages);
		TEST_ASSERT_EQUAL(after.stats.drained - before.stats.drained, 100, "drained");
		TEST_ASSERT_EQUAL(pfrag_pool_frags_out(pool), 0, "out after the bulk drain");
	}

	/* Pool free refuses while a user cache is attached. */
	TEST_ASSERT_EQUAL(pfrag_pool_free(pool), -EBUSY, "free with a cache attached");
	pfrag_cache_fini(&cache);
	return check_nothing_out();
}

/*
 * A drain of more references than the page has is reported, not silent; the
 * page is quarantined and the books stay straight.
 */
static int
test_over_drain(void)
{
	uint64_t before = pfrag_bad_free_count();
	struct pfrag_pool_info info;
	struct pfrag_page *page;
	void *va = pfrag_alloc(pool, 64, 1);

	TEST_ASSERT_NOT_NULL(va, "alloc");
	page = pfrag_virt2page(va);
	pfrag_page_drain(page, __atomic_load_n(&page->refcnt, __ATOMIC_RELAXED) + 5);
	TEST_ASSERT_EQUAL(pfrag_bad_free_count() - before, 1, "over-drain not reported");
	pfrag_cache_drain(pfrag_lcore_cache(pool));
	pfrag_pool_info_get(pool, &info);
	TEST_ASSERT_EQUAL(info.frags_out, 0, "books after an over-drain");
	TEST_ASSERT_EQUAL(info.pages_free, NB_PAGES - 1, "the page is quarantined");
	return TEST_SUCCESS;
}

/* pfrag_pool_free() refuses while a fragment is out, and frees nothing. */
static int
test_busy(void)
{
	void *va = pfrag_alloc(pool, 100, 1);

	TEST_ASSERT_NOT_NULL(va, "alloc");
	TEST_ASSERT_EQUAL(pfrag_pool_free(pool), -EBUSY, "free with a fragment out");
	TEST_ASSERT(pfrag_pool_lookup("autotest") == pool, "pool gone after -EBUSY");
	memset(va, 0, 100);
	pfrag_free(va);
	return check_nothing_out();
}

static int
test_bulk(void)
{
	void *va[64];
	unsigned int i;

	TEST_ASSERT_SUCCESS(pfrag_alloc_bulk(pool, 2048, 64, va, NULL, 64), "bulk 64");
	TEST_ASSERT_EQUAL(pfrag_pool_frags_out(pool), 64, "out");
	for (i = 1; i < 64; i++)
		TEST_ASSERT(va[i] != va[i - 1], "distinct");
	pfrag_free_bulk(va, 64);
	TEST_ASSERT_EQUAL(pfrag_pool_frags_out(pool), 0, "out after bulk free");

	/* Across pages, aligned, not overlapping, with the right IOVAs. */
	{
		static rte_iova_t iova[300];
		unsigned int j;

		TEST_ASSERT_SUCCESS(pfrag_alloc_bulk(pool, 700, 128, frags, iova, 300),
				    "bulk 300 across pages");
		for (i = 0; i < 300; i++) {
			TEST_ASSERT(((uintptr_t)frags[i] & 127) == 0, "bulk alignment %u", i);
			TEST_ASSERT_EQUAL(iova[i], pfrag_iova(frags[i]), "bulk IOVA %u", i);
			TEST_ASSERT(pfrag_virt2page(frags[i]) ==
				    pfrag_virt2page((char *)frags[i] + 699), "%u crosses", i);
			memset(frags[i], (int)i, 700);
		}
		for (i = 0; i < 300; i++)
			for (j = 0; j < 700; j += 7)
				TEST_ASSERT_EQUAL(((uint8_t *)frags[i])[j], i & 0xff,
						  "bulk fragment %u overwritten", i);
		TEST_ASSERT_EQUAL(pfrag_pool_frags_out(pool), 300, "out");
		pfrag_free_bulk(frags, 300);
	}

	/* All or nothing: a bulk larger than the pool leaves nothing out. */
	TEST_ASSERT_EQUAL(pfrag_alloc_bulk(pool, PAGE_SIZE, 1, frags, NULL, NB_PAGES + 1),
			  -ENOBUFS, "bulk beyond the pool");
	TEST_ASSERT_EQUAL(pfrag_pool_frags_out(pool), 0, "out after a failed bulk");
	TEST_ASSERT_EQUAL(pfrag_alloc_bulk(pool, 0, 1, va, NULL, 4), -EINVAL, "bulk size 0");
	return check_nothing_out();
}

static void *
foreign_thread(void *arg)
{
	void **va = arg;
	unsigned int i;

	/* Not an EAL thread: allocations go through the shared cache. */
	for (i = 0; i < 8; i++)
		pfrag_free(va[i]);
	va[0] = pfrag_alloc(pool, 512, 64);
	return NULL;
}

/* Frees and allocations from a thread EAL does not know. */
static int
test_non_eal_thread(void)
{
	pthread_t t;
	void *va[8];
	unsigned int i;

	for (i = 0; i < 8; i++)
		va[i] = pfrag_alloc(pool, 512, 64);
	TEST_ASSERT_SUCCESS(pthread_create(&t, NULL, foreign_thread, va), "thread");
	pthread_join(t, NULL);
	TEST_ASSERT_NOT_NULL(va[0], "alloc from a non-EAL thread");
	TEST_ASSERT_EQUAL(pfrag_pool_frags_out(pool), 1, "out");
	pfrag_free(va[0]);
	pfrag_pool_drain_caches(pool);
	return check_nothing_out();
}

static int
alloc_on_worker(void *arg)
{
	void **va = arg;

	*va = pfrag_alloc(pool, 4000, 64);
	return *va == NULL ? -1 : 0;
}

/*
 * A fragment carved on another lcore and freed here; then the control path
 * drains every lcore's cache: every page must be back in the ring.
 */
static int
test_drain_other_lcore(void)
{
	unsigned int worker = rte_get_next_lcore(rte_lcore_id(), 1, 0);
	struct pfrag_pool_info info;
	void *va = NULL;

	if (worker >= RTE_MAX_LCORE) {
		pfrag_test_skip_reason("needs a second lcore");
		return TEST_SKIPPED;
	}
	TEST_ASSERT_SUCCESS(rte_eal_remote_launch(alloc_on_worker, &va, worker), "launch");
	TEST_ASSERT_SUCCESS(rte_eal_wait_lcore(worker), "alloc on the worker");
	pfrag_free(va);
	pfrag_pool_drain_caches(pool);
	pfrag_pool_info_get(pool, &info);
	TEST_ASSERT_EQUAL(info.frags_out, 0, "out");
	TEST_ASSERT_EQUAL(rte_ring_count(pool->ring), NB_PAGES, "pages in the ring");
	return check_nothing_out();
}

/* A pointer no pool owns is counted and ignored, never followed. */
static int
test_foreign_free(void)
{
	uint64_t before = pfrag_bad_free_count();
	static char not_ours[64];

	pfrag_free(NULL);
	TEST_ASSERT_EQUAL(pfrag_bad_free_count(), before, "NULL is not a bad free");
	pfrag_free(not_ours);
	pfrag_free_bulk((void *[]){ not_ours, not_ours + 1 }, 2);
	TEST_ASSERT_EQUAL(pfrag_bad_free_count() - before, 3, "bad frees counted");
	return check_nothing_out();
}

static struct unit_test_suite pfrag_suite = {
	.name = "pfrag pool",
	.cases = {
		TEST_CASE_ST(pool_setup, pool_teardown, test_create_args),
		TEST_CASE_ST(pool_setup, pool_teardown, test_bad_alloc_args),
		TEST_CASE_ST(pool_setup, pool_teardown, test_all_sizes),
		TEST_CASE_ST(pool_setup, pool_teardown, test_no_overlap),
		TEST_CASE_ST(pool_setup, pool_teardown, test_iova),
		TEST_CASE_ST(pool_setup, pool_teardown, test_iova_contig),
		TEST_CASE_ST(pool_setup, pool_teardown, test_exhaustion),
		TEST_CASE_ST(pool_setup, pool_teardown, test_reuse_in_place),
		TEST_CASE_ST(pool_setup, pool_teardown, test_drain),
		TEST_CASE_ST(pool_setup, pool_teardown, test_over_drain),
		TEST_CASE_ST(pool_setup, pool_teardown, test_busy),
		TEST_CASE_ST(pool_setup, pool_teardown, test_bulk),
		TEST_CASE_ST(pool_setup, pool_teardown, test_non_eal_thread),
		TEST_CASE_ST(pool_setup, pool_teardown, test_drain_other_lcore),
		TEST_CASE_ST(pool_setup, pool_teardown, test_foreign_free),
		TEST_CASES_END(),
	},
};

static int
pfrag_autotest(void)
{
	return unit_test_suite_runner(&pfrag_suite);
}

PFRAG_TEST_REGISTER(pfrag_autotest, FAST, PFRAG_TEST_NOHUGE, pfrag_autotest);

/* The same on hugepages, where pages have physical IOVAs. */
PFRAG_TEST_REGISTER(pfrag_huge_autotest, FAST, PFRAG_TEST_HUGE, pfrag_autotest);

#if PFRAG_DEBUG
static uint64_t
pool_bad_frees(void)
{
	struct pfrag_pool_info info;

	pfrag_pool_info_get(pool, &info);
	return info.stats.bad_free;
}

/* Double frees and pointers into a fragment are caught and ignored. */
static int
test_double_free(void)
{
	uint8_t *a = pfrag_alloc(pool, 100, 1), *b = pfrag_alloc(pool, 100, 1);

	TEST_ASSERT(a != NULL && b != NULL, "alloc");
	pfrag_free(a);
	pfrag_free(a);
	TEST_ASSERT_EQUAL(pool_bad_frees(), 1, "double free not caught");
	pfrag_free(b + 10);
	TEST_ASSERT_EQUAL(pool_bad_frees(), 2, "pointer inside a fragment not caught");
	TEST_ASSERT_EQUAL(pfrag_pool_frags_out(pool), 1, "the bad frees changed counts");
	pfrag_free(b);
	return check_nothing_out();
}

/* Pages in the pool are poisoned. */
static int
test_poison(void)
{
	uint8_t *a = pfrag_alloc(pool, PAGE_SIZE, 1);
	uint32_t i;

	TEST_ASSERT_NOT_NULL(a, "alloc");
	for (i = 0; i < PAGE_SIZE; i++)
		TEST_ASSERT_EQUAL(a[i], PFRAG_POISON, "fresh page not poisoned at %u", i);
	memset(a, 0, PAGE_SIZE);
	pfrag_free(a);
	pfrag_cache_drain(pfrag_lcore_cache(pool));
	for (i = 0; i < PAGE_SIZE; i++)
		TEST_ASSERT_EQUAL(a[i], PFRAG_POISON, "freed page not poisoned at %u", i);
	return check_nothing_out();
}

/*
 * The bitmap covers every byte of a page. A raw pfrag_page_drain() leaves
 * its fragments marked; when the page comes back the whole page's marks must
 * go, not the first eighth only: else a new fragment past the first eighth is
 * "handed out twice", and a pointer into the middle of one, where an old
 * fragment started, passes for a fragment.
 */
static int
test_dbg_whole_page(void)
{
	const uint32_t n1 = PAGE_SIZE / 512, n2 = PAGE_SIZE / 1000;
	static struct pfrag_cache c;
	struct pfrag_page *page;
	unsigned int twice, same = 0;
	uint64_t bad;
	uint8_t *va[64];
	uint32_t i;

	TEST_ASSERT_SUCCESS(logcap_start(1), "log capture");
	TEST_ASSERT_SUCCESS(pfrag_cache_init(&c, pool), "cache");
	/* 512-byte fragments, dropped by a raw drain, carved again by 1000. */
	for (i = 0; i < n1; i++)
		va[i] = pfrag_cache_alloc(&c, 512, 1);
	page = pfrag_virt2page(va[0]);
	pfrag_page_drain(page, n1);
	for (i = 0; i < n2; i++)
		va[i] = pfrag_cache_alloc(&c, 1000, 8);
	for (i = 0; i < n2; i++)
		same += pfrag_virt2page(va[i]) == page;
	/* 5120 = 10 * 512 lies inside the fragment at 5000. */
	bad = pool_bad_frees();
	pfrag_free(page->va + 5120);
	bad = pool_bad_frees() - bad;
	pfrag_free_bulk((void **)va, n2);
	/* 512-byte fragments again, dropped raw, carved again by 512. */
	pfrag_cache_drain(&c);
	for (i = 0; i < n1; i++)
		va[i] = pfrag_cache_alloc(&c, 512, 1);
	page = pfrag_virt2page(va[0]);
	pfrag_page_drain(page, n1);
	logcap_clear();
	for (i = 0; i < n1; i++)
		va[i] = pfrag_cache_alloc(&c, 512, 1);
	for (i = 0; i < n1; i++)
		same += pfrag_virt2page(va[i]) == page;
	twice = logcap_count("handed out twice");
	logcap_stop();
	pfrag_free_bulk((void **)va, n1);
	pfrag_cache_fini(&c);
	TEST_ASSERT_EQUAL(same, n1 + n2, "the page was not carved again in place");
	TEST_ASSERT_EQUAL(bad, 1, "a pointer inside a fragment, past the first eighth of "
			  "the page, passed for a fragment");
	TEST_ASSERT_EQUAL(twice, 0, "false 'handed out twice' reports past the first eighth");
	return check_nothing_out();
}

static struct unit_test_suite pfrag_debug_suite = {
	.name = "pfrag debug checks",
	.cases = {
		TEST_CASE_ST(pool_setup, pool_teardown, test_double_free),
		TEST_CASE_ST(pool_setup, pool_teardown, test_poison),
		TEST_CASE_ST(pool_setup, pool_teardown, test_dbg_whole_page),
		TEST_CASES_END(),
	},
};
#endif

static int
pfrag_debug_autotest(void)
{
#if PFRAG_DEBUG
	return unit_test_suite_runner(&pfrag_debug_suite);
#else
	pfrag_test_skip_reason("debug checks are compiled out; configure with "
			       "-Ddebug_checks=true (devtools/test.sh runs such a build)");
	return TEST_SKIPPED;
#endif
}

PFRAG_TEST_REGISTER(pfrag_debug_autotest, FAST, PFRAG_TEST_NOHUGE, pfrag_debug_autotest);

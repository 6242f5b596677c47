/* SPDX-License-Identifier: BSD-3-Clause */

#ifndef _PFRAG_H_
#define _PFRAG_H_

/**
 * @file
 * pfrag: a page-fragment packet buffer pool on DPDK hugepages.
 *
 * A pool splits hugepage memory into pages of a power-of-two size (32 KiB by
 * default); a cache carves fragments of any length and alignment out of its
 * current page. Every fragment of a page shares the reference count in the
 * page's descriptor. The cache took a large batch of references when it got
 * the page and hands them out by decrementing a local bias, so allocation
 * touches no atomic and does not dirty the descriptor's cache line.
 *
 * Concurrency contract:
 * - pfrag_alloc*() with a pool use the calling EAL lcore's own cache; a
 *   non-EAL thread (LCORE_ID_ANY) falls back to a shared, locked cache.
 * - pfrag_cache_alloc*() use a user-owned cache (a driver queue, a non-EAL
 *   thread): one thread at a time per cache, the owner's duty.
 * - pfrag_free*() and pfrag_page_drain() may be called from any thread, for
 *   fragments allocated on any thread.
 * - pfrag_pool_create/free/release/lookup/walk are control-path calls.
 * - Giving a pool up (pfrag_pool_free() or pfrag_pool_release()) requires
 *   that no thread allocates from it any more and that every user-owned
 *   cache is finished; fragments still out may be freed from any thread
 *   while and after it is called. pfrag_pool_free() then fails with -EBUSY
 *   and touches no cache; pfrag_pool_release() destroys the pool once the
 *   last fragment is back. A free counts itself last, after its page is
 *   back in the pool, so a pool that counts no fragment out has no free in
 *   progress either; only then are the per-lcore caches and stashes drained.
 * - pfrag_pool_drain_caches() rewrites every lcore's cache and stash: call
 *   it only while no other lcore allocates from or frees to the pool (the
 *   shared cache of non-EAL threads is drained under its lock).
 *
 * Accounting: a pool always knows how many fragments are out (allocated and
 * not yet freed or drained) and how many pages are in use; pfrag_pool_free()
 * refuses with -EBUSY while anything is out.
 *
 * Bad frees: a pointer no pool owns is counted and ignored. A page's count
 * cannot tell which fragment went, so an extra free or an over-drain is
 * seen when the page's count runs out below what its holders own: then it
 * is logged, counted in bad_free, and the page is quarantined (never handed
 * out again, pages_lost) instead of being given to two owners. An extra
 * free while other fragments of the page are out shows only once they are
 * back; debug-checks builds catch each double free at once.
 *
 * Free pages wait in a per-lcore stash (up to PFRAG_STASH_SIZE) in front of
 * the pool's ring, so an lcore may find the ring empty while another lcore's
 * stash holds pages, as with rte_mempool caches; pfrag_pool_drain_caches()
 * returns them. Pools live in the primary process: pointers are looked up
 * in a process-local table, so secondary processes cannot free fragments.
 */

#include <stdalign.h>
#include <stdint.h>
#include <stdio.h>

#include <rte_branch_prediction.h>
#include <rte_common.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_memory.h>
#include <rte_spinlock.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Longest pool name, with its terminating NUL. */
#define PFRAG_NAMESIZE 24
/** Pools that may exist at once in a process. */
#define PFRAG_MAX_POOLS 16
/** Pages a per-lcore stash holds before it spills half to the shared ring. */
#define PFRAG_STASH_SIZE 32
/** Smallest page size. */
#define PFRAG_MIN_PAGE_SIZE 4096u

/** Pool flag: fail creation unless every page is IOVA-contiguous. */
#define PFRAG_POOL_F_IOVA_CONTIG 0x1u

/** Retry period of a deferred pfrag_pool_release(). */
#define PFRAG_RELEASE_RETRY_MS 100
/** Period of the warning while a released pool still has fragments out. */
#define PFRAG_RELEASE_WARN_S 60

/** Byte debug-checks builds write over every page that is back in the pool. */
#define PFRAG_POISON 0x6b

/**
 * The pool's counters, listed once: the lists below make struct pfrag_stats,
 * pfrag_pool_dump(), the telemetry reply (/pfrag/stats) and any report an
 * application prints (X(name, description) each).
 *
 * PFRAG_STATS_BOOKS are the books, always kept: alloc - free - drained is
 * the in-flight figure (pfrag_pool_info.frags_out) that pfrag_pool_free()
 * relies on, and bad_free counts what the books refused.
 * PFRAG_STATS_EVENTS say what happened, for people and tuning; nothing
 * decides on them, and a build with -Devent_stats=false compiles them out
 * (they then read 0), as Linux's page_pool stats compile out.
 */
#define PFRAG_STATS_BOOKS(X) \
	X(alloc, "fragments handed out") \
	X(free, "fragments freed") \
	X(drained, "references dropped by drains") \
	X(bad_free, "rejected frees: double frees, over-drops")
#define PFRAG_STATS_EVENTS(X) \
	X(alloc_fail, "allocations that failed (pool empty)") \
	X(refill, "fresh pages taken into a cache") \
	X(reuse, "pages reused in place (all fragments back)") \
	X(page_get, "pages taken from the pool (stash or ring)") \
	X(page_put, "pages returned to the pool") \
	X(ring_get, "ring dequeues (bulk counts as one)") \
	X(ring_put, "ring enqueues (bulk counts as one)") \
	X(empty, "pool found empty")
/** Every counter: the books, then the events. */
#define PFRAG_STATS_LIST(X) PFRAG_STATS_BOOKS(X) PFRAG_STATS_EVENTS(X)

/** Counters of one lcore or one user-owned cache; only its owner writes them. */
struct pfrag_stats {
#define PFRAG_STATS_FIELD(name, desc) uint64_t name;
	PFRAG_STATS_LIST(PFRAG_STATS_FIELD)
#undef PFRAG_STATS_FIELD
};

/** Pool figures, summed over lcores and user caches. */
struct pfrag_pool_info {
	struct pfrag_stats stats;  /**< sums */
	uint64_t frags_out;        /**< fragments allocated, not freed or drained */
	uint32_t nb_pages;
	uint32_t pages_free;       /**< in the ring and stashes */
	uint32_t pages_in_use;     /**< held by caches or by fragments out, lost aside */
	uint32_t page_size;
	uint32_t user_caches;
	uint32_t pages_lost;       /**< quarantined after an over-drop */
};

/* The structure layouts the inline functions below need; not API. */
#include "pfrag_core.h"

/* ---- Pools and caches: control path ---- */

/**
 * Create a pool of @p nb_pages pages of @p page_size bytes on @p socket_id.
 *
 * @param name
 *   Unique name, shorter than PFRAG_NAMESIZE.
 * @param socket_id
 *   NUMA socket of the memory, or SOCKET_ID_ANY.
 * @param page_size
 *   Power of two from PFRAG_MIN_PAGE_SIZE to the hugepage size; 0 means the
 *   build default (PFRAG_DEFAULT_PAGE_SIZE).
 * @param nb_pages
 *   Pages in the pool.
 * @param flags
 *   PFRAG_POOL_F_*.
 * @return
 *   The pool, or NULL with rte_errno set: EINVAL (bad argument), EEXIST
 *   (name taken), ENOSPC (too many pools), ENOMEM (no memory).
 */
struct pfrag_pool *
pfrag_pool_create(const char *name, int socket_id, uint32_t page_size,
		  uint32_t nb_pages, uint32_t flags);

/**
 * Free a pool. Drains the per-lcore caches first.
 *
 * @return
 *   0; -EBUSY (logged with the count) while fragments are out or user caches
 *   are still attached, in which case nothing is freed or drained; -EINVAL
 *   for NULL, a pool given to pfrag_pool_release(), or a pointer that is no
 *   pool (one freed already: it is not read).
 */
int
pfrag_pool_free(struct pfrag_pool *pool);

/**
 * Give a pool up while fragments may still be out [page_pool_destroy]: a
 * driver's close while the application or another port still holds its
 * packets. The pool is destroyed now if idle, else once the last fragment
 * is back: an EAL alarm retries every PFRAG_RELEASE_RETRY_MS and warns every
 * PFRAG_RELEASE_WARN_S seconds while fragments stay out. The name is free at
 * once: a new pool may take it (a re-plugged port) while the old one waits.
 * The caller must not use @p pool afterwards; frees of its fragments work
 * until it is gone. Nothing is logged unless fragments stay out for long.
 *
 * @return
 *   0 destroyed now, 1 destruction deferred, -EINVAL (NULL, unknown or
 *   already released), or a negative errno if the retry cannot be armed
 *   (the pool then stays, released, and is not retried).
 */
int
pfrag_pool_release(struct pfrag_pool *pool);

/** Pools given to pfrag_pool_release() and not destroyed yet. */
unsigned int
pfrag_pool_released_count(void);

/**
 * Find a pool by name; NULL and rte_errno ENOENT when there is none.
 * Released pools (pfrag_pool_release()) are not found.
 */
struct pfrag_pool *
pfrag_pool_lookup(const char *name);

/**
 * Call @p fn for every pool (released ones aside), under the lock of the
 * pool table: a pool cannot be freed while @p fn looks at it, and @p fn must
 * not create, free or release pools.
 */
void
pfrag_pool_walk(void (*fn)(struct pfrag_pool *pool, void *arg), void *arg);

/**
 * Attach a user-owned cache to @p pool (a driver queue, a non-EAL thread).
 * pfrag_cache_fini() detaches it.
 * @return 0; -EINVAL (NULL; logged: a released pool, or a pointer that is
 *   no pool, e.g. one its creator released and pfrag destroyed since);
 *   -EBUSY (logged) when the cache is attached to a pool already.
 */
int
pfrag_cache_init(struct pfrag_cache *cache, struct pfrag_pool *pool);

/**
 * Drain and detach a user-owned cache; its counters are kept by the pool.
 * Fragments it handed out stay valid and are freed as usual.
 */
void
pfrag_cache_fini(struct pfrag_cache *cache);

/**
 * Give back a cache's current page and the references it still owns, in one
 * atomic operation [__page_frag_cache_drain]. The cache is left empty.
 */
void
pfrag_cache_drain(struct pfrag_cache *cache);

/** Drain every per-lcore cache and stash of @p pool (control path). */
void
pfrag_pool_drain_caches(struct pfrag_pool *pool);

/* ---- Fragments: the fast path ---- */

/**
 * Allocate a fragment from a user-owned cache.
 *
 * @param size
 *   Bytes, 1 .. page size.
 * @param align
 *   Power of two, 1 .. page size (0 is taken as 1).
 * @return
 *   The fragment, or NULL with rte_errno EINVAL (bad size or alignment) or
 *   ENOBUFS (pool empty).
 */
static __rte_always_inline void *
pfrag_cache_alloc(struct pfrag_cache *cache, uint32_t size, uint32_t align)
{
	uint32_t mask = align - (align != 0);
	uint32_t off = (cache->offset + mask) & ~mask;

	/*
	 * One branch covers an exhausted page, no page (offset is then the
	 * page size) and bad arguments; constant arguments fold away.
	 */
	if (unlikely((uint64_t)off + size > cache->page_size || size == 0 ||
		     (align & mask) != 0 || mask >= cache->page_size))
		return __pfrag_cache_alloc_slow(cache, size, align);

	cache->offset = off + size;
	/* The reference comes from the batch taken at refill: no atomic. */
	cache->bias--;
	cache->stats.alloc++;
	PFRAG_DBG_ALLOC(cache->page, cache->va + off);
	return cache->va + off;
}

/** The calling lcore's cache of @p pool; NULL for non-EAL threads. */
static inline struct pfrag_cache *
pfrag_lcore_cache(struct pfrag_pool *pool)
{
	unsigned int lcore = rte_lcore_id();

	if (unlikely(lcore >= RTE_MAX_LCORE))
		return NULL;
	return &pool->lcore[lcore].cache;
}

/** Allocate a fragment with the calling lcore's cache; see pfrag_cache_alloc(). */
static inline void *
pfrag_alloc(struct pfrag_pool *pool, uint32_t size, uint32_t align)
{
	struct pfrag_cache *cache = pfrag_lcore_cache(pool);

	if (unlikely(cache == NULL))
		return __pfrag_alloc_any(pool, size, align);
	return pfrag_cache_alloc(cache, size, align);
}

/**
 * Allocate @p n fragments of one size, all or none, returning their virtual
 * and (when @p iova is not NULL) IO addresses: an RX refill in one call.
 *
 * @return 0, or a negative errno (-EINVAL, -ENOBUFS) with nothing allocated.
 */
int
pfrag_cache_alloc_bulk(struct pfrag_cache *cache, uint32_t size, uint32_t align,
		       void **va, rte_iova_t *iova, unsigned int n);

/** pfrag_cache_alloc_bulk() with the calling lcore's cache. */
int
pfrag_alloc_bulk(struct pfrag_pool *pool, uint32_t size, uint32_t align,
		 void **va, rte_iova_t *iova, unsigned int n);

/** The pool owning @p va, or NULL. */
static __rte_always_inline struct pfrag_pool *
pfrag_virt2pool(const void *va)
{
	uintptr_t a = (uintptr_t)va;
	unsigned int i;

	/* Two compares, not one: an empty slot (base > end) never matches. */
	for (i = 0; i < pfrag_nb_ranges; i++)
		if (a >= pfrag_ranges[i].base && a < pfrag_ranges[i].end)
			return pfrag_ranges[i].pool;
	return NULL;
}

/** Descriptor of the page holding @p va in @p pool: O(1), no search. */
static __rte_always_inline struct pfrag_page *
pfrag_pool_virt2page(const struct pfrag_pool *pool, const void *va)
{
	return &pool->pages[((uintptr_t)va - (uintptr_t)pool->base) >> pool->page_shift];
}

/** Descriptor of the page holding fragment @p va, or NULL if no pool owns it. */
static inline struct pfrag_page *
pfrag_virt2page(const void *va)
{
	struct pfrag_pool *pool = pfrag_virt2pool(va);

	return pool == NULL ? NULL : pfrag_pool_virt2page(pool, va);
}

/** IO address of fragment @p va; RTE_BAD_IOVA if no pool owns it or its page has none. */
static inline rte_iova_t
pfrag_iova(const void *va)
{
	struct pfrag_page *page = pfrag_virt2page(va);

	rte_iova_t iova;

	if (unlikely(page == NULL))
		return RTE_BAD_IOVA;
	/* A page without IOVA has none at any offset: never a low address. */
	iova = page->iova;
	return iova == RTE_BAD_IOVA ? iova : iova + (uintptr_t)((const uint8_t *)va - page->va);
}

/**
 * Free a fragment, from any thread: one atomic decrement of its page's
 * count (none when the page is this lcore's current page). A pointer that
 * is not a fragment is logged and counted, never followed; NULL is ignored.
 */
static inline void
pfrag_free(void *va)
{
	struct pfrag_pool *pool = pfrag_virt2pool(va);
	struct pfrag_page *page;

	if (unlikely(pool == NULL)) {
		/* NULL is nothing to free, as with free(3). */
		if (va != NULL)
			__pfrag_bad_free(va, "not in any pfrag pool");
		return;
	}
	page = pfrag_pool_virt2page(pool, va);
	if (PFRAG_DBG_FREE_REFUSED(page, va))
		return;
	__pfrag_page_free(pool, page, 1);
}

/**
 * Free @p n fragments. Consecutive fragments of one page cost one atomic
 * operation together, so free in allocation order where you can.
 */
void
pfrag_free_bulk(void **va, unsigned int n);

/**
 * Drop @p count references of @p page in one atomic operation
 * [__page_frag_cache_drain]; the page goes back to its pool when none remain.
 * This is how a driver's ring teardown returns many posted fragments at once.
 * Debug-checks builds cannot tell which fragments went: prefer
 * pfrag_drain_bulk(), which drains the same way and tells them.
 */
static inline void
pfrag_page_drain(struct pfrag_page *page, uint32_t count)
{
	struct pfrag_stats *st;
	unsigned int lcore = rte_lcore_id();

	/*
	 * Release: our writes to the fragments happen before anyone who sees
	 * the count reach zero reuses the page; that thread acquires below.
	 */
	struct pfrag_pool *pool = page->pool;
	uint32_t left = __atomic_sub_fetch(&page->refcnt, count, __ATOMIC_RELEASE);

	if (left == 0) {
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		__pfrag_page_release(page);
	} else if (unlikely(left > pfrag_page_bias(pool))) {
		/* More than a cache's whole bias: the count went below zero. */
		__pfrag_bad_put(page, count, left);
	}
	/*
	 * Counted last, with release: a pool that sees this count sees the
	 * page back too, and this drain touches the pool no more.
	 */
	if (likely(lcore < RTE_MAX_LCORE)) {
		st = &pool->lcore[lcore].cache.stats;
		__atomic_store_n(&st->drained, st->drained + count, __ATOMIC_RELEASE);
	} else {
		__atomic_fetch_add(&pool->any.stats.drained, count, __ATOMIC_RELEASE);
	}
}

/**
 * Drop the references of @p n fragments with one pfrag_page_drain() per run
 * of fragments on the same page: a ring teardown hands its posted fragments
 * over in slot order, where a refill left each page's fragments in runs, so
 * that a page costs about one atomic operation. Pointers
 * that are not fragments are logged and counted, as with pfrag_free().
 *
 * @return the number of drains (atomic operations) it took.
 */
unsigned int
pfrag_drain_bulk(void **va, unsigned int n);

/* ---- Figures ---- */

/** Fill @p info; exact when the pool is quiescent, a snapshot otherwise. */
int
pfrag_pool_info_get(const struct pfrag_pool *pool, struct pfrag_pool_info *info);

/** Fragments out: allocated and not yet freed or drained. */
uint64_t
pfrag_pool_frags_out(const struct pfrag_pool *pool);

/** Print the pool's figures. */
void
pfrag_pool_dump(FILE *f, const struct pfrag_pool *pool);

/**
 * Rejected frees since start, of every pool: pointers no pool owns, debug
 * double frees, over-drops. Each pool's own are in its stats.bad_free.
 */
uint64_t
pfrag_bad_free_count(void);

#ifdef __cplusplus
}
#endif

#endif /* _PFRAG_H_ */

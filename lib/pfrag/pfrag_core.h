/* SPDX-License-Identifier: BSD-3-Clause */

#ifndef _PFRAG_CORE_H_
#define _PFRAG_CORE_H_

/**
 * @file
 * pfrag's structure layouts and internal helpers: what the inline fast path
 * of pfrag.h needs to see, as rte_ring_core.h is to rte_ring.h.
 *
 * Do not include this file directly: include pfrag.h. Nothing here is API:
 * an application may embed a struct pfrag_cache (a driver queue does) and
 * read the page descriptor pfrag_virt2page() returns, but it calls the
 * functions of pfrag.h rather than touching fields.
 */

#ifndef _PFRAG_H_
#error "do not include pfrag_core.h directly: include pfrag.h"
#endif

#include <stdint.h>

#include <rte_branch_prediction.h>
#include <rte_common.h>
#include <rte_lcore.h>
#include <rte_memory.h>
#include <rte_spinlock.h>

#ifdef __cplusplus
extern "C" {
#endif

struct pfrag_pool;
struct rte_mempool;

/**
 * Page descriptor [struct page], one per page, in an array apart from the
 * data so that data cache lines stay clean. Cache-line sized: frees from
 * different lcores on different pages never share a line.
 */
struct pfrag_page {
	uint32_t refcnt;          /**< references: cache bias + fragments out */
	uint32_t index;           /**< position in the pool */
	uint8_t *va;              /**< first byte of the page */
	rte_iova_t iova;          /**< IOVA of va, or RTE_BAD_IOVA */
	struct pfrag_pool *pool;  /**< owner */
	uint32_t deficit;         /**< lost page: references dropped beyond its count */
	uint8_t state;            /**< PFRAG_PAGE_*: its holder writes it on moves only */
	uint8_t lost;             /**< its count ran out wrong: quarantined for good */
} __rte_cache_aligned;

/** Page states: who holds the page (set when it moves, never per fragment). */
#define PFRAG_PAGE_FREE 0    /**< in the ring or a stash */
#define PFRAG_PAGE_CACHED 1  /**< a cache carves it and owns its bias */
#define PFRAG_PAGE_OUT 2     /**< only fragments hold it; the last returns it */

/**
 * A fragment cache [page_frag_cache]: current page, carve offset and the
 * references it still owns. Used by one thread at a time.
 */
struct pfrag_cache {
	uint8_t *va;              /**< current page, NULL when none */
	uint32_t offset;          /**< next free byte; page_size when no page */
	uint32_t bias;            /**< references of the page this cache owns */
	uint32_t page_size;       /**< copy of the pool's, for the fast path */
	uint32_t user;            /**< user-owned (not a per-lcore cache) */
	struct pfrag_page *page;  /**< descriptor of the current page */
	struct pfrag_pool *pool;
	struct pfrag_stats stats;
	struct pfrag_cache *next; /**< pool's list of user-owned caches */
} __rte_cache_aligned;

/** What an lcore owns in a pool: its cache, its page stash. */
struct pfrag_lcore {
	struct pfrag_cache cache;
	uint32_t stash_len;
	struct pfrag_page *stash[PFRAG_STASH_SIZE];
} __rte_cache_aligned;

/** A range of virtual addresses owned by a pool, for pointer to page lookup. */
struct pfrag_range {
	uintptr_t base;
	uintptr_t end;
	struct pfrag_pool *pool;
};

/** The pool. Read-mostly fields first; per-lcore parts on their own lines. */
struct pfrag_pool {
	char name[PFRAG_NAMESIZE];
	int socket_id;
	uint32_t page_size;
	uint32_t page_shift;
	uint32_t nb_pages;
	uint32_t flags;
	uint32_t released;        /**< given up: nameless, destroyed when idle */
	uint8_t *base;            /**< data of page 0; pages are contiguous in VA */
	struct pfrag_page *pages; /**< descriptor array */
	struct rte_ring *ring;    /**< free pages, MP/MC */
	const struct rte_memzone *mz;
	uint64_t *dbg_bitmap;     /**< debug builds: fragment starts out */
	rte_spinlock_t lock;      /**< user cache list, the shared cache */
	struct pfrag_cache *user_caches;
	struct pfrag_cache any;   /**< cache of non-EAL threads, under lock */
	struct pfrag_stats retired; /**< counters of finished user caches */
	uint64_t over_drop;       /**< references dropped beyond pages' counts */
	uint32_t pages_lost;      /**< pages quarantined after an over-drop */
	uint64_t release_tsc;     /**< when pfrag_pool_release() deferred */
	uint64_t release_warn_tsc; /**< next "fragments still out" warning */
	struct rte_mempool *mbuf_mp; /**< mbufs built in fragments (pfrag_mbuf.h), or NULL */
	struct pfrag_lcore lcore[RTE_MAX_LCORE];
};

/*
 * ---- Private block: the library's internals, used by the inline
 * functions of pfrag.h. Not for applications. ----
 */

/**
 * @internal Reference count a cache takes on a page at refill, and the bias
 * it starts with. Larger than the number of fragments a page can yield (each
 * at least one byte), so the bias never runs out before the space does.
 */
static inline uint32_t
pfrag_page_bias(const struct pfrag_pool *pool)
{
	return pool->page_size + 1;
}

/** @internal Pool address ranges, read on every free. */
extern struct pfrag_range pfrag_ranges[PFRAG_MAX_POOLS];
/** @internal Slots of pfrag_ranges in use. */
extern unsigned int pfrag_nb_ranges;

/** @internal Slow path of pfrag_cache_alloc: validate, refill, carve. */
void *
__pfrag_cache_alloc_slow(struct pfrag_cache *cache, uint32_t size, uint32_t align);

/** @internal Shared cache of non-EAL threads. */
void *
__pfrag_alloc_any(struct pfrag_pool *pool, uint32_t size, uint32_t align);

/** @internal A page whose count reached zero goes back to its pool. */
void
__pfrag_page_release(struct pfrag_page *page);

/** @internal Free of a pointer no pool owns: logged and counted. */
void
__pfrag_bad_free(const void *va, const char *why);

/**
 * @internal A free or drain of @p count references left @p left, more than
 * a page can hold: the count went below zero. Logged, counted, quarantined.
 */
void
__pfrag_bad_put(struct pfrag_page *page, uint32_t count, uint32_t left);

/**
 * @internal Debug hooks of the fast path: with debug checks (PFRAG_DEBUG) a
 * bitmap records each fragment handed out and a free must find it there;
 * otherwise they compile to nothing. PFRAG_DBG_FREE_REFUSED() is true when
 * the debug checks refused the free (a double free, or not a fragment's
 * start): it was logged and counted, and must go no further.
 */
#if PFRAG_DEBUG
void __pfrag_dbg_alloc(struct pfrag_page *page, const void *va);
int __pfrag_dbg_free(struct pfrag_page *page, const void *va);
#define PFRAG_DBG_ALLOC(page, va) __pfrag_dbg_alloc(page, va)
#define PFRAG_DBG_FREE_REFUSED(page, va) (__pfrag_dbg_free(page, va) != 0)
#else
#define PFRAG_DBG_ALLOC(page, va) ((void)0)
#define PFRAG_DBG_FREE_REFUSED(page, va) 0
#endif

/**
 * @internal Drop @p count references of @p page, all held by fragments
 * that went back: the worker of pfrag_free() and pfrag_free_bulk().
 */
static __rte_always_inline void
__pfrag_page_free(struct pfrag_pool *pool, struct pfrag_page *page, uint32_t count)
{
	unsigned int lcore = rte_lcore_id();
	struct pfrag_cache *cache = NULL;
	uint32_t left;

	if (likely(lcore < RTE_MAX_LCORE)) {
		cache = &pool->lcore[lcore].cache;
		/*
		 * A fragment of this lcore's current page: hand the reference
		 * back to the cache's bias instead of the shared count. The
		 * count is unchanged, so no atomic is needed.
		 */
		if (cache->page == page) {
			cache->bias += count;
			goto counted;
		}
	}
	left = __atomic_sub_fetch(&page->refcnt, count, __ATOMIC_RELEASE);
	if (left == 0) {
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		__pfrag_page_release(page);
	} else if (unlikely(left > pfrag_page_bias(pool))) {
		/* More than a cache's whole bias: the count went below zero. */
		__pfrag_bad_put(page, count, left);
	}
counted:
	/*
	 * Counted last, with release (a plain store on x86): a pool that sees
	 * this count sees the page back too, and this free touches the pool
	 * no more, so that pfrag_pool_free() may run against it.
	 */
	if (likely(cache != NULL))
		__atomic_store_n(&cache->stats.free, cache->stats.free + count,
				 __ATOMIC_RELEASE);
	else
		__atomic_fetch_add(&pool->any.stats.free, count, __ATOMIC_RELEASE);
}

#ifdef __cplusplus
}
#endif

#endif /* _PFRAG_CORE_H_ */

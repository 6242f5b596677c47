/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The slow path of the page-fragment pool. A pool is one memzone of
 * nb_pages pages plus an array of descriptors; free pages wait in an MP/MC
 * ring fronted by a small stash per lcore. Caches carve fragments from their
 * current page (pfrag.h); this file refills them, takes pages back when
 * their count reaches zero, and keeps the books.
 */

#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <numa.h>

#include <rte_alarm.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_mempool.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_memzone.h>
#include <rte_ring.h>
#include <rte_spinlock.h>
#include <rte_string_fns.h>

#include "pfrag.h"
#include "pfrag_private.h"

#if (PFRAG_DEFAULT_PAGE_SIZE & (PFRAG_DEFAULT_PAGE_SIZE - 1)) != 0
#error "default_page_size must be a power of two"
#endif

RTE_LOG_REGISTER_DEFAULT(pfrag_logtype, INFO);

/*
 * Address ranges of the pools, read without a lock by every free. A slot is
 * empty while base > end, so that a reader mixing an old and a new value of
 * one field during create or free never matches a wrong range: create
 * writes base then end, free writes end then base.
 */
struct pfrag_range pfrag_ranges[PFRAG_MAX_POOLS] = {
	[0 ... PFRAG_MAX_POOLS - 1] = { UINTPTR_MAX, 0, NULL },
};
unsigned int pfrag_nb_ranges;

static struct pfrag_pool *pools[PFRAG_MAX_POOLS];
static rte_spinlock_t pools_lock = RTE_SPINLOCK_INITIALIZER;
static uint64_t bad_frees;
/* Pools made so far: memzone and ring names, unique even for a reused name. */
static uint32_t pool_gen;

/* Sum of counters, field by field. */
static void
stats_add(struct pfrag_stats *sum, const struct pfrag_stats *s)
{
	const uint64_t *src = (const uint64_t *)s;
	uint64_t *dst = (uint64_t *)sum;
	unsigned int i;

	RTE_BUILD_BUG_ON(sizeof(*s) % sizeof(uint64_t) != 0);
	for (i = 0; i < sizeof(*s) / sizeof(uint64_t); i++)
		/* Acquire: pairs with the release of a free's count (pfrag.h). */
		dst[i] += __atomic_load_n(&src[i], __ATOMIC_ACQUIRE);
}

static int
socket_is_valid(int socket_id)
{
	unsigned int i;

	if (socket_id == SOCKET_ID_ANY)
		return 1;
	/* libnuma knows the machine's nodes; EAL knows the ones it can use. */
	if (numa_available() >= 0 && (socket_id > numa_max_node() ||
	    !numa_bitmask_isbitset(numa_all_nodes_ptr, socket_id)))
		return 0;
	for (i = 0; i < rte_socket_count(); i++)
		if (rte_socket_id_by_idx(i) == socket_id)
			return 1;
	return 0;
}

static struct pfrag_pool *
lookup_locked(const char *name)
{
	unsigned int i;

	/* A released pool has given its name up. */
	for (i = 0; i < PFRAG_MAX_POOLS; i++)
		if (pools[i] != NULL && !pools[i]->released &&
		    strcmp(pools[i]->name, name) == 0)
			return pools[i];
	return NULL;
}

/* Rejected free attributable to @p pool: its counters and the global one. */
static void
count_bad(struct pfrag_pool *pool)
{
	unsigned int lcore = rte_lcore_id();

	__atomic_fetch_add(&bad_frees, 1, __ATOMIC_RELAXED);
	if (lcore < RTE_MAX_LCORE)
		__atomic_store_n(&pool->lcore[lcore].cache.stats.bad_free,
				 pool->lcore[lcore].cache.stats.bad_free + 1, __ATOMIC_RELAXED);
	else
		__atomic_fetch_add(&pool->any.stats.bad_free, 1, __ATOMIC_RELAXED);
}

static void
range_publish(unsigned int slot, struct pfrag_pool *pool)
{
	struct pfrag_range *r = &pfrag_ranges[slot];

	r->pool = pool;
	__atomic_store_n(&r->base, (uintptr_t)pool->base, __ATOMIC_RELEASE);
	__atomic_store_n(&r->end, (uintptr_t)pool->base +
			 (uintptr_t)pool->nb_pages * pool->page_size, __ATOMIC_RELEASE);
	if (slot >= pfrag_nb_ranges)
		__atomic_store_n(&pfrag_nb_ranges, slot + 1, __ATOMIC_RELEASE);
}

static void
range_withdraw(unsigned int slot)
{
	struct pfrag_range *r = &pfrag_ranges[slot];

	__atomic_store_n(&r->end, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&r->base, UINTPTR_MAX, __ATOMIC_RELEASE);
	r->pool = NULL;
}

/*
 * IOVA of each page. A page never crosses a backing page when it is no
 * larger; a larger page (e.g. 32 KiB over --no-huge's 4 KiB) has a usable
 * IOVA only if its backing pages happen to be contiguous, as with IOVA=VA.
 */
static int
pages_init(struct pfrag_pool *pool, size_t backing_sz)
{
	uint32_t i, contiguous = 0;
	struct pfrag_page *p;
	size_t off;

	for (i = 0; i < pool->nb_pages; i++) {
		p = &pool->pages[i];
		p->index = i;
		p->pool = pool;
		p->va = pool->base + ((size_t)i << pool->page_shift);
		p->iova = rte_mem_virt2iova(p->va);
		for (off = backing_sz; p->iova != RTE_BAD_IOVA && off < pool->page_size;
		     off += backing_sz)
			if (rte_mem_virt2iova(p->va + off) != p->iova + off)
				p->iova = RTE_BAD_IOVA;
		contiguous += p->iova != RTE_BAD_IOVA;
	}
	if (contiguous < pool->nb_pages && (pool->flags & PFRAG_POOL_F_IOVA_CONTIG)) {
		PFRAG_LOG(ERR, "pool %s: %u of %u pages of %u bytes are not IOVA-contiguous "
			  "over %zu-byte backing pages; use hugepages or a smaller page size",
			  pool->name, pool->nb_pages - contiguous, pool->nb_pages,
			  pool->page_size, backing_sz);
		return -EINVAL;
	}
	return 0;
}

static int
pool_check_args(const char *name, int socket_id, uint32_t page_size, uint32_t nb_pages,
		uint32_t flags)
{
	if (name == NULL || name[0] == '\0' || strlen(name) >= PFRAG_NAMESIZE) {
		PFRAG_LOG(ERR, "pool name missing or longer than %d characters",
			  PFRAG_NAMESIZE - 1);
		return -EINVAL;
	}
	if (!rte_is_power_of_2(page_size) || page_size < PFRAG_MIN_PAGE_SIZE ||
	    page_size > RTE_PGSIZE_1G) {
		PFRAG_LOG(ERR, "pool %s: page size %u is not a power of two in [%u, %u]",
			  name, page_size, PFRAG_MIN_PAGE_SIZE, (unsigned int)RTE_PGSIZE_1G);
		return -EINVAL;
	}
	if (nb_pages == 0 || (uint64_t)nb_pages * page_size > (UINT64_C(1) << 40)) {
		PFRAG_LOG(ERR, "pool %s: %u pages of %u bytes is not a usable size",
			  name, nb_pages, page_size);
		return -EINVAL;
	}
	if (flags & ~PFRAG_POOL_F_IOVA_CONTIG) {
		PFRAG_LOG(ERR, "pool %s: unknown flags 0x%x", name, flags);
		return -EINVAL;
	}
	if (!socket_is_valid(socket_id)) {
		PFRAG_LOG(ERR, "pool %s: socket %d does not exist or has no memory",
			  name, socket_id);
		return -EINVAL;
	}
	return 0;
}

static void
cache_attach(struct pfrag_cache *cache, struct pfrag_pool *pool)
{
	cache->pool = pool;
	cache->page_size = pool->page_size;
	/* No page yet: looks full, so the first allocation refills. */
	cache->offset = pool->page_size;
}

static void
pool_destroy(struct pfrag_pool *pool)
{
	/* Its mbufs are fragments: with none out, none points at it any more. */
	rte_mempool_free(pool->mbuf_mp);
	rte_ring_free(pool->ring);
	rte_memzone_free(pool->mz);
	rte_free(pool->dbg_bitmap);
	rte_free(pool->pages);
	rte_free(pool);
}

struct pfrag_pool *
pfrag_pool_create(const char *name, int socket_id, uint32_t page_size, uint32_t nb_pages,
		  uint32_t flags)
{
	char zname[RTE_MEMZONE_NAMESIZE];
	const struct rte_memseg_list *msl;
	struct pfrag_pool *pool;
	unsigned int slot, i;
	uint32_t gen;
	int ret;

	if (page_size == 0)
		page_size = PFRAG_DEFAULT_PAGE_SIZE;
	ret = pool_check_args(name, socket_id, page_size, nb_pages, flags);
	if (ret != 0) {
		rte_errno = -ret;
		return NULL;
	}

	rte_spinlock_lock(&pools_lock);
	if (lookup_locked(name) != NULL) {
		rte_spinlock_unlock(&pools_lock);
		PFRAG_LOG(ERR, "pool %s exists already", name);
		rte_errno = EEXIST;
		return NULL;
	}
	for (slot = 0; slot < PFRAG_MAX_POOLS && pools[slot] != NULL; slot++)
		;
	if (slot == PFRAG_MAX_POOLS) {
		rte_spinlock_unlock(&pools_lock);
		PFRAG_LOG(ERR, "pool %s: %d pools exist already", name, PFRAG_MAX_POOLS);
		rte_errno = ENOSPC;
		return NULL;
	}

	pool = rte_zmalloc_socket("pfrag_pool", sizeof(*pool), RTE_CACHE_LINE_SIZE,
				  socket_id);
	if (pool == NULL) {
		PFRAG_LOG(ERR, "pool %s: no memory for the pool", name);
		goto nomem;
	}
	strlcpy(pool->name, name, sizeof(pool->name));
	pool->socket_id = socket_id;
	pool->page_size = page_size;
	pool->page_shift = rte_bsf32(page_size);
	pool->nb_pages = nb_pages;
	pool->flags = flags;
	rte_spinlock_init(&pool->lock);
	for (i = 0; i < RTE_MAX_LCORE; i++)
		cache_attach(&pool->lcore[i].cache, pool);
	cache_attach(&pool->any, pool);

	pool->pages = rte_zmalloc_socket("pfrag_pages", sizeof(*pool->pages) * nb_pages,
					 RTE_CACHE_LINE_SIZE, socket_id);
	if (pool->pages == NULL)
		goto nomem;

	/*
	 * Aligned to the page size, so no page straddles a hugepage. Named
	 * after the generation first: unique when a released pool of the same
	 * name still waits, and any pool name fits (the tail may be cut).
	 */
	gen = pool_gen++;
	snprintf(zname, sizeof(zname), "pfrag%u_%s", gen, name);
	pool->mz = rte_memzone_reserve_aligned(zname, (size_t)nb_pages * page_size,
					       socket_id, 0, page_size);
	if (pool->mz == NULL) {
		PFRAG_LOG(ERR, "pool %s: cannot reserve %" PRIu64 " bytes on socket %d: %s",
			  name, (uint64_t)nb_pages * page_size, socket_id,
			  rte_strerror(rte_errno));
		goto nomem;
	}
	pool->base = pool->mz->addr;
	/* SOCKET_ID_ANY: report where the memory really is. */
	pool->socket_id = pool->mz->socket_id;
	msl = rte_mem_virt2memseg_list(pool->base);
	if (pages_init(pool, msl != NULL ? msl->page_sz : RTE_PGSIZE_4K) != 0) {
		pool_destroy(pool);
		rte_spinlock_unlock(&pools_lock);
		rte_errno = EINVAL;
		return NULL;
	}

	snprintf(zname, sizeof(zname), "pfrag_r%u", gen);
	pool->ring = rte_ring_create(zname, nb_pages, socket_id, RING_F_EXACT_SZ);
	if (pool->ring == NULL) {
		PFRAG_LOG(ERR, "pool %s: cannot create ring %s: %s", name, zname,
			  rte_strerror(rte_errno));
		goto nomem;
	}
	for (i = 0; i < nb_pages; i++) {
		struct pfrag_page *p = &pool->pages[i];

		rte_ring_enqueue(pool->ring, p);
	}

#if PFRAG_DEBUG
	pool->dbg_bitmap = rte_zmalloc_socket("pfrag_dbg",
			(size_t)nb_pages * page_size / 8, RTE_CACHE_LINE_SIZE, socket_id);
	if (pool->dbg_bitmap == NULL)
		goto nomem;
	memset(pool->base, PFRAG_POISON, (size_t)nb_pages * page_size);
#endif

	pools[slot] = pool;
	range_publish(slot, pool);
	rte_spinlock_unlock(&pools_lock);
	PFRAG_LOG(DEBUG, "pool %s: %u pages of %u bytes on socket %d at %p", name,
		  nb_pages, page_size, socket_id, pool->base);
	return pool;

nomem:
	if (pool != NULL)
		pool_destroy(pool);
	rte_spinlock_unlock(&pools_lock);
	rte_errno = ENOMEM;
	return NULL;
}

struct pfrag_pool *
pfrag_pool_lookup(const char *name)
{
	struct pfrag_pool *pool;

	if (name == NULL) {
		rte_errno = EINVAL;
		return NULL;
	}
	rte_spinlock_lock(&pools_lock);
	pool = lookup_locked(name);
	rte_spinlock_unlock(&pools_lock);
	if (pool == NULL)
		rte_errno = ENOENT;
	return pool;
}

void
pfrag_pool_walk(void (*fn)(struct pfrag_pool *pool, void *arg), void *arg)
{
	unsigned int i;

	/* Under the table lock: no pool is freed while fn looks at it. */
	rte_spinlock_lock(&pools_lock);
	for (i = 0; i < PFRAG_MAX_POOLS; i++)
		if (pools[i] != NULL && !pools[i]->released)
			fn(pools[i], arg);
	rte_spinlock_unlock(&pools_lock);
}

/* Pages go back to the stash of the releasing lcore, else to the ring. */
static void
page_put(struct pfrag_pool *pool, struct pfrag_page *page)
{
	unsigned int lcore = rte_lcore_id();
	struct pfrag_lcore *lc;

	__atomic_store_n(&page->state, PFRAG_PAGE_FREE, __ATOMIC_RELAXED);
	/* Counters first: once in the ring, a page is visible to pool free. */
	if (unlikely(lcore >= RTE_MAX_LCORE)) {
		PFRAG_EVENT_ADD_SHARED(&pool->any.stats, page_put, 1);
		PFRAG_EVENT_ADD_SHARED(&pool->any.stats, ring_put, 1);
		rte_ring_enqueue(pool->ring, page);
		return;
	}
	lc = &pool->lcore[lcore];
	PFRAG_EVENT_ADD(&lc->cache.stats, page_put, 1);
	if (lc->stash_len == PFRAG_STASH_SIZE) {
		/* Spill the older half: the newer pages are the warmer ones. */
		PFRAG_EVENT_ADD(&lc->cache.stats, ring_put, 1);
		rte_ring_enqueue_bulk(pool->ring, (void **)lc->stash, PFRAG_STASH_SIZE / 2,
				      NULL);
		memmove(lc->stash, &lc->stash[PFRAG_STASH_SIZE / 2],
			sizeof(lc->stash[0]) * (PFRAG_STASH_SIZE / 2));
		__atomic_store_n(&lc->stash_len, PFRAG_STASH_SIZE / 2, __ATOMIC_RELAXED);
	}
	lc->stash[lc->stash_len] = page;
	__atomic_store_n(&lc->stash_len, lc->stash_len + 1, __ATOMIC_RELAXED);
}

/* A page for a cache: from this lcore's stash, refilled in bursts from the ring. */
static struct pfrag_page *
page_get(struct pfrag_pool *pool, struct pfrag_stats *st)
{
	unsigned int lcore = rte_lcore_id();
	struct pfrag_page *page;
	struct pfrag_lcore *lc;
	unsigned int n;

	if (unlikely(lcore >= RTE_MAX_LCORE)) {
		if (rte_ring_dequeue(pool->ring, (void **)&page) != 0)
			goto empty;
		PFRAG_EVENT_ADD(st, ring_get, 1);
		goto got;
	}
	lc = &pool->lcore[lcore];
	if (lc->stash_len == 0) {
		n = rte_ring_dequeue_burst(pool->ring, (void **)lc->stash,
					   PFRAG_STASH_SIZE / 2, NULL);
		if (n == 0)
			goto empty;
		PFRAG_EVENT_ADD(st, ring_get, 1);
		lc->stash_len = n;
	}
	page = lc->stash[--lc->stash_len];
got:
	PFRAG_EVENT_ADD(st, page_get, 1);
	PFRAG_DBG_CHECK_POISON(page);
	return page;
empty:
	PFRAG_EVENT_ADD(st, empty, 1);
	return NULL;
}

/*
 * Quarantine @p page: its count ran @p deficit references below what its
 * holders own. Reported once per page; the pool's books take the deficit
 * back (largest seen: later frees of the page's own fragments deepen it) so
 * that frags_out never wraps. The page is never handed out again.
 */
static void
page_lose(struct pfrag_page *page, uint32_t deficit, uint32_t count)
{
	struct pfrag_pool *pool = page->pool;
	uint32_t old = __atomic_load_n(&page->deficit, __ATOMIC_RELAXED);

	while (deficit > old && !__atomic_compare_exchange_n(&page->deficit, &old, deficit,
				0, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
	if (deficit > old)
		__atomic_fetch_add(&pool->over_drop, deficit - old, __ATOMIC_RELAXED);
	if (__atomic_exchange_n(&page->lost, 1, __ATOMIC_RELAXED) != 0)
		return;
	__atomic_fetch_add(&pool->pages_lost, 1, __ATOMIC_RELAXED);
	count_bad(pool);
	PFRAG_LOG(ERR, "pool %s: page %u: %u references dropped, %u more than it had%s "
		  "(a double free or an over-drain); page quarantined", pool->name,
		  page->index, count, deficit,
		  __atomic_load_n(&page->state, __ATOMIC_RELAXED) == PFRAG_PAGE_OUT ? "" :
		  " while a cache still held it");
}

void
__pfrag_bad_put(struct pfrag_page *page, uint32_t count, uint32_t left)
{
	struct pfrag_pool *pool = page->pool;

	if (__atomic_load_n(&page->state, __ATOMIC_RELAXED) == PFRAG_PAGE_FREE &&
	    !__atomic_load_n(&page->lost, __ATOMIC_RELAXED)) {
		/*
		 * Nobody holds the page: the whole drop is bogus and the next
		 * cache to take the page sets its count afresh.
		 */
		__atomic_fetch_add(&pool->over_drop, count, __ATOMIC_RELAXED);
		count_bad(pool);
		PFRAG_LOG(ERR, "pool %s: page %u: %u references dropped while it was back "
			  "in the pool (a double free); ignored", pool->name, page->index,
			  count);
		return;
	}
	page_lose(page, -left, count);
}

void
__pfrag_page_release(struct pfrag_page *page)
{
	/*
	 * Zero is the end only for a page that fragments alone hold: zero
	 * under a cache's bias means someone dropped the bias too, and the
	 * page would have two owners.
	 */
	if (unlikely(__atomic_load_n(&page->state, __ATOMIC_RELAXED) != PFRAG_PAGE_OUT ||
		     __atomic_load_n(&page->lost, __ATOMIC_RELAXED))) {
		page_lose(page, 0, 0);
		return;
	}
	PFRAG_DBG_POISON(page);
	page_put(page->pool, page);
}

/* Take a page into the cache with a full batch of references. */
static void
cache_take_page(struct pfrag_cache *cache, struct pfrag_page *page)
{
	uint32_t bias = pfrag_page_bias(cache->pool);

	/* We own the page alone here: plain stores are enough. */
	__atomic_store_n(&page->state, PFRAG_PAGE_CACHED, __ATOMIC_RELAXED);
	__atomic_store_n(&page->refcnt, bias, __ATOMIC_RELAXED);
	cache->page = page;
	cache->va = page->va;
	cache->offset = 0;
	cache->bias = bias;
}

/*
 * Give back the references the cache still owns. 1: that was the last, the
 * page is the cache's to reuse or return; 0: fragments still hold it; -1:
 * the count ran out below the bias (an over-drop), the page is quarantined.
 */
static int
cache_put_bias(struct pfrag_cache *cache)
{
	struct pfrag_page *page = cache->page;
	uint32_t left;

	/* Before the release below: a free that ends the count sees OUT. */
	__atomic_store_n(&page->state, PFRAG_PAGE_OUT, __ATOMIC_RELAXED);
	/*
	 * Acquire-release: the frees that brought the count down happened
	 * before we reuse or recycle the page.
	 */
	left = __atomic_sub_fetch(&page->refcnt, cache->bias, __ATOMIC_ACQ_REL);
	if (unlikely(left > pfrag_page_bias(cache->pool))) {
		page_lose(page, -left, cache->bias);
		return -1;
	}
	if (left != 0)
		return 0;
	return __atomic_load_n(&page->lost, __ATOMIC_RELAXED) ? -1 : 1;
}

static void
cache_forget_page(struct pfrag_cache *cache)
{
	cache->page = NULL;
	cache->va = NULL;
	cache->offset = cache->page_size;
	cache->bias = 0;
}

void *
__pfrag_cache_alloc_slow(struct pfrag_cache *cache, uint32_t size, uint32_t align)
{
	struct pfrag_page *page;

	if (align == 0)
		align = 1;
	if (unlikely(cache->pool == NULL || size == 0 || size > cache->page_size ||
		     !rte_is_power_of_2(align) || align > cache->page_size)) {
		rte_errno = EINVAL;
		return NULL;
	}

	if (cache->page != NULL) {
		if (cache_put_bias(cache) == 1) {
			/* Every fragment is back already: carve the page again. */
			PFRAG_DBG_POISON(cache->page);
			PFRAG_EVENT_ADD(&cache->stats, reuse, 1);
			cache_take_page(cache, cache->page);
			return pfrag_cache_alloc(cache, size, align);
		}
		/* Fragments still out: the last of them returns the page. */
		cache_forget_page(cache);
	}

	page = page_get(cache->pool, &cache->stats);
	if (unlikely(page == NULL)) {
		PFRAG_EVENT_ADD(&cache->stats, alloc_fail, 1);
		rte_errno = ENOBUFS;
		return NULL;
	}
	PFRAG_EVENT_ADD(&cache->stats, refill, 1);
	cache_take_page(cache, page);
	return pfrag_cache_alloc(cache, size, align);
}

void *
__pfrag_alloc_any(struct pfrag_pool *pool, uint32_t size, uint32_t align)
{
	void *va;

	rte_spinlock_lock(&pool->lock);
	va = pfrag_cache_alloc(&pool->any, size, align);
	rte_spinlock_unlock(&pool->lock);
	return va;
}

/*
 * Bulk: arguments are checked once, then each page yields as many fragments
 * as fit in one stride loop, with one update of the cache per page.
 */
int
pfrag_cache_alloc_bulk(struct pfrag_cache *cache, uint32_t size, uint32_t align,
		       void **va, rte_iova_t *iova, unsigned int n)
{
	uint32_t mask = align - (align != 0), stride, off, cnt, k;
	unsigned int i = 0;
	uint8_t *v;

	if (unlikely(size == 0 || size > cache->page_size || (align & mask) != 0 ||
		     mask >= cache->page_size)) {
		rte_errno = EINVAL;
		return -EINVAL;
	}
	/* Aligned starts stay aligned when the stride is a multiple of align. */
	stride = (size + mask) & ~mask;
	while (i < n) {
		off = (cache->offset + mask) & ~mask;
		if (off + size > cache->page_size) {
			/* Page used up (or none): the single path refills. */
			v = __pfrag_cache_alloc_slow(cache, size, align);
			if (unlikely(v == NULL))
				goto fail;
			va[i] = v;
			if (iova != NULL)
				iova[i] = pfrag_iova(v);
			i++;
			continue;
		}
		cnt = RTE_MIN((cache->page_size - off - size) / stride + 1, n - i);
		for (k = 0; k < cnt; k++)
			va[i + k] = cache->va + off + k * stride;
		if (iova != NULL && cache->page->iova == RTE_BAD_IOVA)
			for (k = 0; k < cnt; k++)
				iova[i + k] = RTE_BAD_IOVA;
		else if (iova != NULL)
			for (k = 0; k < cnt; k++)
				iova[i + k] = cache->page->iova + off + k * stride;
		for (k = 0; k < cnt; k++)
			PFRAG_DBG_ALLOC(cache->page, va[i + k]);
		cache->offset = off + (cnt - 1) * stride + size;
		cache->bias -= cnt;
		cache->stats.alloc += cnt;
		i += cnt;
	}
	return 0;
fail:
	{
		int err = rte_errno;

		pfrag_free_bulk(va, i);
		rte_errno = err;
		return -err;
	}
}

int
pfrag_alloc_bulk(struct pfrag_pool *pool, uint32_t size, uint32_t align, void **va,
		 rte_iova_t *iova, unsigned int n)
{
	struct pfrag_cache *cache = pfrag_lcore_cache(pool);
	int ret;

	if (cache != NULL)
		return pfrag_cache_alloc_bulk(cache, size, align, va, iova, n);
	rte_spinlock_lock(&pool->lock);
	ret = pfrag_cache_alloc_bulk(&pool->any, size, align, va, iova, n);
	rte_spinlock_unlock(&pool->lock);
	return ret;
}

static __rte_always_inline void
put_run(struct pfrag_page *page, uint32_t count, const bool drain)
{
	if (drain)
		pfrag_page_drain(page, count);
	else
		__pfrag_page_free(page->pool, page, count);
}

/*
 * Walk @p va in runs of fragments on one page and drop each run's
 * references with one atomic operation, as frees or as drains. Constant
 * @p drain: each caller gets its own copy. Returns the number of runs.
 * The run's page start and size live in locals: put_run() may write any
 * memory, so fields read through @p page would be loaded again for every
 * fragment, and the walk is most of a drain's time.
 */
static __rte_always_inline unsigned int
put_page_runs(void **va, unsigned int n, const bool drain)
{
	struct pfrag_page *page = NULL, *p;
	uintptr_t run_va = 0, run_size = 0;
	unsigned int i, runs = 0;
	uint32_t count = 0;

	for (i = 0; i < n; i++) {
		/* Still on the same page: no pool lookup. */
		if ((uintptr_t)va[i] - run_va < run_size) {
			p = page;
		} else {
			p = pfrag_virt2page(va[i]);
			if (unlikely(p == NULL)) {
				/* NULL is nothing to free, as with pfrag_free(). */
				if (va[i] != NULL)
					__pfrag_bad_free(va[i], "not in any pfrag pool");
				continue;
			}
		}
		if (PFRAG_DBG_FREE_REFUSED(p, va[i]))
			continue;
		if (p != page) {
			if (count > 0) {
				put_run(page, count, drain);
				runs++;
			}
			page = p;
			run_va = (uintptr_t)p->va;
			run_size = p->pool->page_size;
			count = 0;
		}
		count++;
	}
	if (count > 0) {
		put_run(page, count, drain);
		runs++;
	}
	return runs;
}

void
pfrag_free_bulk(void **va, unsigned int n)
{
	put_page_runs(va, n, false);
}

unsigned int
pfrag_drain_bulk(void **va, unsigned int n)
{
	return put_page_runs(va, n, true);
}

void
__pfrag_bad_free(const void *va, const char *why)
{
	__atomic_fetch_add(&bad_frees, 1, __ATOMIC_RELAXED);
	PFRAG_LOG(ERR, "bad free of %p: %s; ignored", va, why);
}

uint64_t
pfrag_bad_free_count(void)
{
	return __atomic_load_n(&bad_frees, __ATOMIC_RELAXED);
}

/* State of @p pool in the table: 1 live, 2 released, 0 not there. */
static int
pool_table_state_locked(const struct pfrag_pool *pool)
{
	unsigned int slot;

	for (slot = 0; slot < PFRAG_MAX_POOLS; slot++)
		if (pools[slot] == pool)
			return pool->released ? 2 : 1;
	return 0;
}

/* The pool @p cache is attached to as a user cache, or NULL; pools_lock held. */
static struct pfrag_pool *
cache_owner_locked(const struct pfrag_cache *cache)
{
	const struct pfrag_cache *c;
	struct pfrag_pool *owner = NULL;
	unsigned int i;

	for (i = 0; i < PFRAG_MAX_POOLS && owner == NULL; i++) {
		if (pools[i] == NULL)
			continue;
		rte_spinlock_lock(&pools[i]->lock);
		for (c = pools[i]->user_caches; c != NULL; c = c->next)
			if (c == cache)
				owner = pools[i];
		rte_spinlock_unlock(&pools[i]->lock);
	}
	return owner;
}

int
pfrag_cache_init(struct pfrag_cache *cache, struct pfrag_pool *pool)
{
	struct pfrag_pool *owner;

	if (cache == NULL || pool == NULL)
		return -EINVAL;
	/*
	 * The cache's own fields may be garbage (first init): ask the pools.
	 * Initialising an attached cache again would loop or cut their lists.
	 */
	rte_spinlock_lock(&pools_lock);
	/*
	 * The pool must be in the table and not released: a pool another
	 * user gave up may be destroyed by now, and is not read before this.
	 */
	if (pool_table_state_locked(pool) != 1) {
		rte_spinlock_unlock(&pools_lock);
		PFRAG_LOG(ERR, "cache %p: pool %p is released or does not exist", cache, pool);
		return -EINVAL;
	}
	owner = cache_owner_locked(cache);
	if (owner != NULL) {
		rte_spinlock_unlock(&pools_lock);
		PFRAG_LOG(ERR, "cache %p is attached to pool %s already; "
			  "pfrag_cache_fini() it first", cache, owner->name);
		return -EBUSY;
	}
	memset(cache, 0, sizeof(*cache));
	cache_attach(cache, pool);
	cache->user = 1;
	rte_spinlock_lock(&pool->lock);
	cache->next = pool->user_caches;
	pool->user_caches = cache;
	rte_spinlock_unlock(&pool->lock);
	rte_spinlock_unlock(&pools_lock);
	return 0;
}

void
pfrag_cache_drain(struct pfrag_cache *cache)
{
	if (cache == NULL || cache->page == NULL)
		return;
	if (cache_put_bias(cache) == 1)
		__pfrag_page_release(cache->page);
	cache_forget_page(cache);
}

void
pfrag_cache_fini(struct pfrag_cache *cache)
{
	struct pfrag_pool *pool;
	struct pfrag_cache **p;

	if (cache == NULL || cache->pool == NULL || !cache->user)
		return;
	pool = cache->pool;
	pfrag_cache_drain(cache);
	rte_spinlock_lock(&pool->lock);
	for (p = &pool->user_caches; *p != NULL; p = &(*p)->next) {
		if (*p == cache) {
			*p = cache->next;
			break;
		}
	}
	stats_add(&pool->retired, &cache->stats);
	rte_spinlock_unlock(&pool->lock);
	cache->pool = NULL;
	cache->page_size = 0;
}

void
pfrag_pool_drain_caches(struct pfrag_pool *pool)
{
	struct pfrag_lcore *lc;
	unsigned int i;

	/*
	 * Caches first: their pages land in the caller's stash, flushed below.
	 * Non-EAL threads may be using the shared cache: take its lock.
	 */
	rte_spinlock_lock(&pool->lock);
	pfrag_cache_drain(&pool->any);
	rte_spinlock_unlock(&pool->lock);
	for (i = 0; i < RTE_MAX_LCORE; i++)
		pfrag_cache_drain(&pool->lcore[i].cache);
	for (i = 0; i < RTE_MAX_LCORE; i++) {
		lc = &pool->lcore[i];
		if (lc->stash_len > 0) {
			rte_ring_enqueue_bulk(pool->ring, (void **)lc->stash, lc->stash_len,
					      NULL);
			__atomic_store_n(&lc->stash_len, 0, __ATOMIC_RELAXED);
		}
	}
}

int
pfrag_pool_info_get(const struct pfrag_pool *pool, struct pfrag_pool_info *info)
{
	struct pfrag_pool *p = (struct pfrag_pool *)(uintptr_t)pool;
	const struct pfrag_cache *c;
	uint32_t stashed = 0;
	unsigned int i;
	int64_t out;

	if (pool == NULL || info == NULL)
		return -EINVAL;
	memset(info, 0, sizeof(*info));
	/*
	 * Counters before pages: a free counts itself after its page is back,
	 * so pages read afterwards include every page those frees returned.
	 */
	for (i = 0; i < RTE_MAX_LCORE; i++)
		stats_add(&info->stats, &pool->lcore[i].cache.stats);
	rte_spinlock_lock(&p->lock);
	stats_add(&info->stats, &pool->any.stats);
	stats_add(&info->stats, &pool->retired);
	for (c = pool->user_caches; c != NULL; c = c->next) {
		stats_add(&info->stats, &c->stats);
		info->user_caches++;
	}
	rte_spinlock_unlock(&p->lock);
	/* Stashes before the ring: a spill moves pages from one to the other. */
	for (i = 0; i < RTE_MAX_LCORE; i++)
		stashed += __atomic_load_n(&pool->lcore[i].stash_len, __ATOMIC_RELAXED);

	/* Over-drops were counted as frees: take them back, never wrap. */
	out = (int64_t)(info->stats.alloc - info->stats.free - info->stats.drained +
			__atomic_load_n(&pool->over_drop, __ATOMIC_RELAXED));
	info->frags_out = out > 0 ? (uint64_t)out : 0;
	info->nb_pages = pool->nb_pages;
	info->page_size = pool->page_size;
	info->pages_lost = __atomic_load_n(&pool->pages_lost, __ATOMIC_RELAXED);
	info->pages_free = rte_ring_count(pool->ring) + stashed;
	info->pages_in_use = pool->nb_pages -
		RTE_MIN(info->pages_free + info->pages_lost, pool->nb_pages);
	return 0;
}

uint64_t
pfrag_pool_frags_out(const struct pfrag_pool *pool)
{
	struct pfrag_pool_info info;

	if (pfrag_pool_info_get(pool, &info) != 0)
		return 0;
	return info.frags_out;
}

/*
 * Destroy @p pool if nothing is out. A free counts itself last (pfrag.h), so
 * when no fragment counts as out no free is still touching the pool, and
 * only then are other lcores' caches and stashes drained (nobody allocates:
 * the caller's contract). -EBUSY leaves everything as it was.
 */
static int
pool_try_destroy(struct pfrag_pool *pool, int quiet)
{
	struct pfrag_pool_info info;
	unsigned int slot, back;

	pfrag_pool_info_get(pool, &info);
	if (info.frags_out != 0 || info.user_caches != 0) {
		if (!quiet)
			PFRAG_LOG(ERR, "pool %s busy: %" PRIu64 " fragments out, %u user "
				  "caches attached; not freed", pool->name, info.frags_out,
				  info.user_caches);
		return -EBUSY;
	}
	pfrag_pool_drain_caches(pool);
	back = rte_ring_count(pool->ring);
	if (back + info.pages_lost != pool->nb_pages) {
		PFRAG_LOG(ERR, "pool %s: only %u of %u pages came back (%u lost) although "
			  "no fragment is out; not freed", pool->name, back, pool->nb_pages,
			  info.pages_lost);
		return -EBUSY;
	}

	rte_spinlock_lock(&pools_lock);
	for (slot = 0; slot < PFRAG_MAX_POOLS && pools[slot] != pool; slot++)
		;
	if (slot == PFRAG_MAX_POOLS) {
		rte_spinlock_unlock(&pools_lock);
		return -EINVAL;
	}
	range_withdraw(slot);
	pools[slot] = NULL;
	rte_spinlock_unlock(&pools_lock);
	if (info.pages_lost != 0)
		PFRAG_LOG(WARNING, "pool %s freed with %u quarantined pages", pool->name,
			  info.pages_lost);
	pool_destroy(pool);
	return 0;
}

static int
pool_table_state(const struct pfrag_pool *pool)
{
	int st;

	rte_spinlock_lock(&pools_lock);
	st = pool_table_state_locked(pool);
	rte_spinlock_unlock(&pools_lock);
	return st;
}

int
pfrag_pool_free(struct pfrag_pool *pool)
{
	int st;

	if (pool == NULL)
		return -EINVAL;
	/* Nothing of a pool that is not in the table is read: it may be gone. */
	st = pool_table_state(pool);
	if (st != 1) {
		if (st == 2)
			PFRAG_LOG(ERR, "pool %s was released: pfrag destroys it", pool->name);
		else
			PFRAG_LOG(ERR, "free of pool %p: not a pfrag pool (freed already?)",
				  pool);
		return -EINVAL;
	}
	return pool_try_destroy(pool, 0);
}

static void pool_release_retry(void *arg);

static int
pool_release_arm(struct pfrag_pool *pool)
{
	int ret = rte_eal_alarm_set(PFRAG_RELEASE_RETRY_MS * 1000, pool_release_retry, pool);

	if (ret != 0)
		PFRAG_LOG(ERR, "pool %s: cannot arm the release retry (%s); the pool stays",
			  pool->name, rte_strerror(-ret));
	return ret;
}

/* EAL alarm: destroy a released pool once idle, warn while it is not. */
static void
pool_release_retry(void *arg)
{
	struct pfrag_pool *pool = arg;
	uint64_t now, hz = rte_get_timer_hz();

	/* Only this alarm destroys a released pool: it is still there. */
	if (pool_try_destroy(pool, 1) == 0)
		return;
	now = rte_get_timer_cycles();
	if (now >= pool->release_warn_tsc) {
		PFRAG_LOG(WARNING, "pool %s released %" PRIu64 " s ago still has %" PRIu64
			  " fragments out; destroyed when they return", pool->name,
			  (now - pool->release_tsc) / hz, pfrag_pool_frags_out(pool));
		pool->release_warn_tsc = now + PFRAG_RELEASE_WARN_S * hz;
	}
	pool_release_arm(pool);
}

int
pfrag_pool_release(struct pfrag_pool *pool)
{
	int ret;

	if (pool == NULL)
		return -EINVAL;
	rte_spinlock_lock(&pools_lock);
	ret = pool_table_state_locked(pool);
	if (ret == 1)
		/* Its name is free from here on: a re-plugged port may take it. */
		pool->released = 1;
	rte_spinlock_unlock(&pools_lock);
	if (ret != 1) {
		PFRAG_LOG(ERR, "release of %p: %s", pool,
			  ret == 2 ? "released already" : "not a pfrag pool");
		return -EINVAL;
	}
	if (pool_try_destroy(pool, 1) == 0)
		return 0;
	pool->release_tsc = rte_get_timer_cycles();
	pool->release_warn_tsc = pool->release_tsc + PFRAG_RELEASE_WARN_S * rte_get_timer_hz();
	PFRAG_LOG(DEBUG, "pool %s released with %" PRIu64 " fragments out: destroyed when "
		  "they return", pool->name, pfrag_pool_frags_out(pool));
	ret = pool_release_arm(pool);
	return ret != 0 ? ret : 1;
}

unsigned int
pfrag_pool_released_count(void)
{
	unsigned int slot, n = 0;

	rte_spinlock_lock(&pools_lock);
	for (slot = 0; slot < PFRAG_MAX_POOLS; slot++)
		n += pools[slot] != NULL && pools[slot]->released;
	rte_spinlock_unlock(&pools_lock);
	return n;
}

/* One " name=value" per counter: what pfrag_pool_dump() prints on a line. */
#define DUMP_COUNTER(name, desc) fprintf(f, " " #name "=%" PRIu64, s->name);

void
pfrag_pool_dump(FILE *f, const struct pfrag_pool *pool)
{
	struct pfrag_pool_info info;
	const struct pfrag_stats *s = &info.stats;

	if (pfrag_pool_info_get(pool, &info) != 0)
		return;
	fprintf(f, "pfrag pool <%s>@%p\n", pool->name, pool);
	fprintf(f, "  socket=%d page_size=%u nb_pages=%u base=%p\n", pool->socket_id,
		pool->page_size, pool->nb_pages, pool->base);
	fprintf(f, "  pages_in_use=%u pages_free=%u frags_out=%" PRIu64 " user_caches=%u\n",
		info.pages_in_use, info.pages_free, info.frags_out, info.user_caches);
	fprintf(f, " ");
	PFRAG_STATS_BOOKS(DUMP_COUNTER)
	fprintf(f, "\n ");
	PFRAG_STATS_EVENTS(DUMP_COUNTER)
	fprintf(f, "\n");
}

#if PFRAG_DEBUG
/*
 * Debug checks. A bitmap with one bit per byte of the pool marks the first
 * byte of every fragment out: a free must clear a set bit, so a second free
 * of one fragment, or a pointer into the middle of one, is caught. Pages in
 * the pool are poisoned; a page leaving the pool must still be.
 */
static uint64_t
dbg_bit(const struct pfrag_page *page, const void *va, uint64_t **word)
{
	uint64_t off = (uintptr_t)va - (uintptr_t)page->pool->base;

	*word = &page->pool->dbg_bitmap[off / 64];
	return UINT64_C(1) << (off % 64);
}

void
__pfrag_dbg_alloc(struct pfrag_page *page, const void *va)
{
	uint64_t *word;
	uint64_t bit = dbg_bit(page, va, &word);

	if (__atomic_fetch_or(word, bit, __ATOMIC_RELAXED) & bit)
		PFRAG_LOG(ERR, "pool %s: fragment %p handed out twice", page->pool->name, va);
}

int
__pfrag_dbg_free(struct pfrag_page *page, const void *va)
{
	struct pfrag_pool *pool = page->pool;
	uint64_t *word;
	uint64_t bit = dbg_bit(page, va, &word);

	if (__atomic_fetch_and(word, ~bit, __ATOMIC_RELAXED) & bit)
		return 0;
	PFRAG_LOG(ERR, "pool %s: double free, or not the start of a fragment: %p "
		  "(page %u, offset %u); ignored", pool->name, va, page->index,
		  (unsigned int)((const uint8_t *)va - page->va));
	count_bad(pool);
	return -1;
}

void
pfrag_dbg_poison(struct pfrag_page *page)
{
	/* One bit per byte of the page: page_size / 64 words. */
	uint32_t words = page->pool->page_size / 64, i;
	uint64_t *word, set = 0;

	dbg_bit(page, page->va, &word);
	for (i = 0; i < words; i++)
		set |= word[i];
	if (set != 0) {
		/* pfrag_page_drain() cannot say which fragments it dropped. */
		PFRAG_LOG(ERR, "pool %s: page %u back in the pool with fragments marked "
			  "out (a raw pfrag_page_drain? pfrag_drain_bulk() tells the debug "
			  "checks which fragments went)", page->pool->name, page->index);
		memset(word, 0, words * sizeof(*word));
	}
	memset(page->va, PFRAG_POISON, page->pool->page_size);
}

void
pfrag_dbg_check_poison(struct pfrag_page *page)
{
	uint32_t i;

	for (i = 0; i < page->pool->page_size; i++) {
		if (page->va[i] != PFRAG_POISON) {
			PFRAG_LOG(ERR, "pool %s: page %u offset %u written after free "
				  "(0x%02x)", page->pool->name, page->index, i, page->va[i]);
			return;
		}
	}
}
#endif /* PFRAG_DEBUG */

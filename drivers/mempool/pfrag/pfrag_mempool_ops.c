/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Mempool ops "pfrag": the memory the mempool library populates becomes
 * pages, each lcore takes the objects of the page it owns with one atomic
 * OR on the page's bitmap per get, a free gives a run of objects of one
 * page back with one atomic AND, and a page that was let go with every
 * object out is listed again by the first free into it. See
 * pfrag_mempool_private.h for the layout.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_mempool.h>
#include <rte_ring.h>
#include <rte_spinlock.h>

#include "pfrag.h"
#include "pfrag_mempool.h"
#include "pfrag_mempool_private.h"

RTE_LOG_REGISTER(pfrag_mempool_logtype, pfrag.mempool, NOTICE);

static inline struct pfrag_mp_page *
obj2page(const struct pfrag_mp *pm, const void *obj)
{
	return (struct pfrag_mp_page *)((uintptr_t)obj & pm->page_mask);
}

static inline void *
slot2obj(const struct pfrag_mp *pm, const struct pfrag_mp_page *page, uint32_t slot)
{
	return (uint8_t *)(uintptr_t)page + pm->obj_off + (size_t)slot * pm->stride;
}

/*
 * Slot of @p obj in @p page, or UINT32_MAX when @p obj is not where an
 * object of the page starts (the header, between objects, past the last).
 */
static inline uint32_t
obj2slot(const struct pfrag_mp *pm, const struct pfrag_mp_page *page, const void *obj)
{
	uintptr_t off = (uintptr_t)obj - (uintptr_t)page - pm->obj_off;
	uint32_t slot = (uint32_t)(off / pm->stride);

	/* off wraps to a large value below the first object. */
	if (unlikely(off % pm->stride != 0 || slot >= page->nb_objs))
		return UINT32_MAX;
	return slot;
}

/*
 * A listed page nobody owns: into this lcore's stash, else the ring (which
 * can hold every page). A page in a stash is still within every lcore's
 * reach: steal() claims from stashes too.
 */
static inline void
page_list(struct pfrag_mp *pm, struct pfrag_mp_cache *c, struct pfrag_mp_page *page)
{
	c->stats.page_list++;
	if (c != &pm->any && c->stash_len < PFRAG_MP_STASH) {
		/* Others read the stash (steal): atomic stores, no torn pointer. */
		__atomic_store_n(&c->stash[c->stash_len], page, __ATOMIC_RELAXED);
		/* Release: a thief reading the length sees the entry. */
		__atomic_store_n(&c->stash_len, c->stash_len + 1, __ATOMIC_RELEASE);
		return;
	}
	rte_ring_enqueue(pm->free_pages, page);
}

/* A listed page to own: the stash first (warm), then the ring. */
static inline struct pfrag_mp_page *
page_fetch(struct pfrag_mp *pm, struct pfrag_mp_cache *c)
{
	struct pfrag_mp_page *page;

	if (c->stash_len > 0) {
		__atomic_store_n(&c->stash_len, c->stash_len - 1, __ATOMIC_RELAXED);
		return c->stash[c->stash_len];
	}
	if (rte_ring_dequeue(pm->free_pages, (void **)&page) != 0)
		return NULL;
	c->stats.page_get++;
	return page;
}

static inline uint64_t
page_free_bits(const struct pfrag_mp_page *page)
{
	/* Acquire: the frees that cleared the bits happen before our reuse. */
	return page->all & ~__atomic_load_n(&page->out, __ATOMIC_ACQUIRE);
}

static inline void
cache_own(struct pfrag_mp_cache *c, struct pfrag_mp_page *page)
{
	__atomic_store_n(&c->page, page, __ATOMIC_RELAXED);
	c->free_bits = page_free_bits(page);
}

/*
 * Let go of our page. Slots we still hold free go back first. With none
 * free, the page is unlisted, and the next free into it lists it again;
 * the free that came between our look and the unlisting is caught by the
 * second look (sequentially consistent on both sides, as in page_run_put).
 */
static void
cache_release(struct pfrag_mp *pm, struct pfrag_mp_cache *c)
{
	struct pfrag_mp_page *page = c->page;
	uint32_t expect = 0;

	if (page == NULL)
		return;
	__atomic_store_n(&c->page, NULL, __ATOMIC_RELAXED);
	c->free_bits = 0;
	if (page_free_bits(page) != 0) {
		page_list(pm, c, page);
		return;
	}
	__atomic_store_n(&page->listed, 0, __ATOMIC_SEQ_CST);
	c->stats.page_drop++;
	if ((page->all & ~__atomic_load_n(&page->out, __ATOMIC_SEQ_CST)) != 0 &&
	    __atomic_compare_exchange_n(&page->listed, &expect, 1, false,
					__ATOMIC_SEQ_CST, __ATOMIC_RELAXED))
		page_list(pm, c, page);
}

static void put_runs(struct pfrag_mp *pm, struct pfrag_mp_cache *c, void * const *obj,
		     unsigned int n);
static inline void page_run_put(struct pfrag_mp *pm, struct pfrag_mp_cache *c,
				struct pfrag_mp_page *page, uint64_t bits);

/*
 * Claim up to @p n free slots of @p page, lowest first (address order),
 * starting from the hint @p *hint of slots believed free. A claim is one
 * atomic OR; slots someone else claimed first are skipped. Returns the
 * objects claimed; *hint is what remains believed free.
 */
static inline unsigned int
claim(const struct pfrag_mp *pm, struct pfrag_mp_page *page, uint64_t *hint, void **obj,
      unsigned int n)
{
	uint64_t bits, take, old, got;
	unsigned int k = 0, slot;

	while (k < n) {
		if (*hint == 0 && (*hint = page_free_bits(page)) == 0)
			break;
		/* The lowest n - k hinted slots. */
		take = 0;
		for (bits = *hint; bits != 0 && (unsigned int)__builtin_popcountll(take) < n - k;
		     bits &= bits - 1)
			take |= bits & -bits;
		*hint &= ~take;
		/* Acquire: the frees of these slots happen before our reuse. */
		old = __atomic_fetch_or(&page->out, take, __ATOMIC_ACQUIRE);
		got = take & ~old;
		for (; got != 0; got &= got - 1) {
			slot = (unsigned int)__builtin_ctzll(got);
			obj[k++] = slot2obj(pm, page, slot);
		}
	}
	return k;
}

/*
 * Slots other lcores hold in the pages they own: with the ring empty, the
 * only free objects left may be there (an lcore that took a page and then
 * stopped taking). Any lcore may claim them; claims are atomic.
 */
static unsigned int
steal(struct pfrag_mp *pm, struct pfrag_mp_cache *c, void **obj, unsigned int n)
{
	struct pfrag_mp_page *page;
	unsigned int i, k = 0;
	uint64_t hint;

	for (i = 0; i <= RTE_MAX_LCORE && k < n; i++) {
		const struct pfrag_mp_cache *o = i < RTE_MAX_LCORE ? &pm->lc[i] : &pm->any;
		unsigned int s, len;

		if (o == c)
			continue;
		/*
		 * What we read may be stale: any page of this pool will do, a
		 * claim is atomic whoever holds the page.
		 */
		page = __atomic_load_n(&o->page, __ATOMIC_RELAXED);
		hint = 0;
		if (page != NULL)
			k += claim(pm, page, &hint, &obj[k], n - k);
		len = RTE_MIN(__atomic_load_n(&o->stash_len, __ATOMIC_ACQUIRE),
			      (uint32_t)PFRAG_MP_STASH);
		for (s = 0; s < len && k < n; s++) {
			page = __atomic_load_n(&o->stash[s], __ATOMIC_RELAXED);
			hint = 0;
			if (page != NULL)
				k += claim(pm, page, &hint, &obj[k], n - k);
		}
	}
	c->stats.stolen += k;
	return k;
}

/*
 * Entries of the caller's table the slow path keeps on its stack: the
 * largest get the mempool library makes (a cache refill: cache size plus
 * the rest of a request, each at most RTE_MEMPOOL_CACHE_MAX_SIZE).
 */
#define PFRAG_MP_SAVE_MAX (2 * RTE_MEMPOOL_CACHE_MAX_SIZE)

/*
 * More than our page has free. Pages come from the ring, then from what
 * other lcores hold; all or nothing: what was claimed goes back on failure
 * (every object given back is within reach of every lcore, so nothing waits),
 * and the caller's table is left as it was. The mempool library relies on
 * that: it refills its cache by a get into the cache's own array and, when
 * the get fails, keeps the objects still there (a ring leaves them intact).
 */
static __rte_noinline int
cache_get_slow(struct pfrag_mp *pm, struct pfrag_mp_cache *c, void **obj, unsigned int n)
{
	void *save_stack[PFRAG_MP_SAVE_MAX], **save = save_stack;
	struct pfrag_mp_page *page;
	unsigned int got = 0;
	int ret = 0;

	if (unlikely(n > PFRAG_MP_SAVE_MAX)) {
		save = malloc(sizeof(*save) * n);
		if (save == NULL)
			return -ENOMEM;
	}
	memcpy(save, obj, sizeof(*obj) * n);
	if (c->page != NULL)
		got = claim(pm, c->page, &c->free_bits, obj, n);
	while (got < n) {
		cache_release(pm, c);
		page = page_fetch(pm, c);
		if (page == NULL) {
			got += steal(pm, c, &obj[got], n - got);
			if (got == n)
				break;
			/* Counted taken, so that giving them back balances. */
			c->stats.alloc += got;
			put_runs(pm, c, obj, got);
			memcpy(obj, save, sizeof(*obj) * n);
			ret = -ENOBUFS;
			break;
		}
		cache_own(c, page);
		got += claim(pm, page, &c->free_bits, &obj[got], n - got);
	}
	if (save != save_stack)
		free(save);
	return ret;
}

/* The lowest @p n bits set in @p bits (all of them when fewer). */
static inline uint64_t
lowest_bits(uint64_t bits, unsigned int n)
{
	uint64_t rest = bits;

	while (n-- > 0 && rest != 0)
		rest &= rest - 1;
	return bits & ~rest;
}

/*
 * Fast path: our page has the n objects, taken with one atomic OR. The
 * table is written only once all n are ours; when another lcore took some
 * of them first (steal), ours go back and the slow path starts over.
 */
static inline int
cache_get(struct pfrag_mp *pm, struct pfrag_mp_cache *c, void **obj, unsigned int n)
{
	struct pfrag_mp_page *page = c->page;
	uint64_t take, got;
	unsigned int k = 0;

	if (likely(page != NULL && n <= PFRAG_MP_MAX_SLOTS &&
		   (unsigned int)__builtin_popcountll(c->free_bits) >= n)) {
		take = lowest_bits(c->free_bits, n);
		c->free_bits &= ~take;
		/* Acquire: the frees of these slots happen before our reuse. */
		got = take & ~__atomic_fetch_or(&page->out, take, __ATOMIC_ACQUIRE);
		if (likely(got == take)) {
			for (; got != 0; got &= got - 1)
				obj[k++] = slot2obj(pm, page, (unsigned int)__builtin_ctzll(got));
			c->stats.alloc += n;
			return 0;
		}
		if (got != 0) {
			c->stats.alloc += (unsigned int)__builtin_popcountll(got);
			page_run_put(pm, c, page, got);
		}
	}
	if (cache_get_slow(pm, c, obj, n) != 0) {
		c->stats.empty++;
		return -ENOBUFS;
	}
	c->stats.alloc += n;
	return 0;
}

static __rte_noinline void
bad_put(struct pfrag_mp *pm, struct pfrag_mp_cache *c, struct pfrag_mp_page *page,
	uint64_t bits)
{
	c->stats.bad++;
	MP_LOG(ERR, "%s: objects of page %p given back while in the pool (slots "
	       "0x%" PRIx64 "): freed twice?", pm->mp->name, (void *)page, bits);
}

static __rte_noinline void
bad_obj(struct pfrag_mp *pm, struct pfrag_mp_cache *c, const void *obj)
{
	c->stats.bad++;
	MP_LOG(ERR, "%s: %p given back is not an object of this pool (not the start of "
	       "an object of one of its pages); ignored", pm->mp->name, obj);
}

/*
 * Slots @p bits of @p page come back. Only slots that were out count as
 * freed: a refused double free leaves the counts true.
 */
static inline void
page_run_put(struct pfrag_mp *pm, struct pfrag_mp_cache *c, struct pfrag_mp_page *page,
	     uint64_t bits)
{
	uint64_t old;
	uint32_t expect = 0;

	/* Release: our use of the objects happens before their reuse. */
	old = __atomic_fetch_and(&page->out, ~bits, __ATOMIC_SEQ_CST);
	c->stats.free += (unsigned int)__builtin_popcountll(old & bits);
	if (unlikely((old & bits) != bits))
		bad_put(pm, c, page, bits & ~old);
	/* Our own page: the slots are ours to hand out next. */
	if (page == c->page) {
		c->free_bits |= bits & old;
		return;
	}
	/* A page nobody lists (its owner let it go full): list it again. */
	if (__atomic_load_n(&page->listed, __ATOMIC_SEQ_CST) == 0 &&
	    __atomic_compare_exchange_n(&page->listed, &expect, 1, false,
					__ATOMIC_SEQ_CST, __ATOMIC_RELAXED))
		page_list(pm, c, page);
}

/*
 * Objects back to their pages, one atomic per run of one page. An address
 * that is not an object of a page of this pool is refused: a foreign page
 * (its descriptor names another pool), or a place in a page where no
 * object starts (it would free the object around it under its owner).
 */
static void
put_runs(struct pfrag_mp *pm, struct pfrag_mp_cache *c, void * const *obj, unsigned int n)
{
	struct pfrag_mp_page *page = NULL, *p;
	uint64_t bits = 0;
	uint32_t slot;
	unsigned int i;

	for (i = 0; i < n; i++) {
		p = obj2page(pm, obj[i]);
		if (p != page) {
			if (bits != 0)
				page_run_put(pm, c, page, bits);
			page = p;
			bits = 0;
		}
		slot = unlikely(p->pm != pm) ? UINT32_MAX : obj2slot(pm, p, obj[i]);
		if (unlikely(slot == UINT32_MAX)) {
			bad_obj(pm, c, obj[i]);
			continue;
		}
		bits |= UINT64_C(1) << slot;
	}
	if (bits != 0)
		page_run_put(pm, c, page, bits);
}

/*
 * No per-lcore batch of frees: an object an lcore kept would be out of reach
 * of every other lcore (without a mempool cache, DPDK's own tests allocate
 * on one lcore what others free). One atomic AND per run of objects of one
 * page: bursts given back in the order they were taken come in such runs.
 */
static inline void
cache_put(struct pfrag_mp *pm, struct pfrag_mp_cache *c, void * const *obj, unsigned int n)
{
	put_runs(pm, c, obj, n);
}

static int
pfrag_mp_dequeue(struct rte_mempool *mp, void **obj, unsigned int n)
{
	struct pfrag_mp *pm = mp->pool_data;
	unsigned int lcore = rte_lcore_id();
	int ret;

	if (likely(lcore < RTE_MAX_LCORE))
		return cache_get(pm, &pm->lc[lcore], obj, n);
	rte_spinlock_lock(&pm->any_lock);
	ret = cache_get(pm, &pm->any, obj, n);
	rte_spinlock_unlock(&pm->any_lock);
	return ret;
}

static int
pfrag_mp_enqueue(struct rte_mempool *mp, void * const *obj, unsigned int n)
{
	struct pfrag_mp *pm = mp->pool_data;
	unsigned int lcore = rte_lcore_id();

	if (likely(lcore < RTE_MAX_LCORE)) {
		cache_put(pm, &pm->lc[lcore], obj, n);
		return 0;
	}
	/* Non-EAL threads batch nothing: they may never come back. */
	rte_spinlock_lock(&pm->any_lock);
	put_runs(pm, &pm->any, obj, n);
	rte_spinlock_unlock(&pm->any_lock);
	return 0;
}

/*
 * Whole pages as contiguous blocks of per_page objects: pages of the ring
 * with every slot free are handed out with every slot taken, unlisted; the
 * objects' frees list them again as any other.
 */
static int
pfrag_mp_dequeue_contig_blocks(struct rte_mempool *mp, void **first, unsigned int n)
{
	struct pfrag_mp *pm = mp->pool_data;
	struct pfrag_mp_page *page, *list = NULL;
	unsigned int lcore = rte_lcore_id(), i = 0, tries = rte_ring_count(pm->free_pages);
	struct pfrag_mp_cache *c;
	uint64_t expect;
	int ret = 0;

	c = lcore < RTE_MAX_LCORE ? &pm->lc[lcore] : &pm->any;
	if (c == &pm->any)
		rte_spinlock_lock(&pm->any_lock);
	while (i < n) {
		if (tries-- == 0 || rte_ring_dequeue(pm->free_pages, (void **)&page) != 0) {
			ret = -ENOBUFS;
			break;
		}
		/*
		 * Every slot at once, only if none is out: a thief holding a stale
		 * pointer to this page (steal() reads other lcores' pages without a
		 * lock) may claim a slot between a look and a plain store.
		 */
		expect = 0;
		if (page->nb_objs != pm->per_page ||
		    !__atomic_compare_exchange_n(&page->out, &expect, page->all, false,
						 __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
			/* Not a whole free page: aside, back after the search. */
			page->next = list;
			list = page;
			continue;
		}
		__atomic_store_n(&page->listed, 0, __ATOMIC_SEQ_CST);
		first[i++] = slot2obj(pm, page, 0);
	}
	if (ret == 0) {
		c->stats.alloc += (uint64_t)n * pm->per_page;
	} else {
		/* All or nothing: the blocks taken go back whole. */
		while (i > 0) {
			page = obj2page(pm, first[--i]);
			__atomic_store_n(&page->out, 0, __ATOMIC_RELEASE);
			__atomic_store_n(&page->listed, 1, __ATOMIC_RELAXED);
			page_list(pm, c, page);
		}
		c->stats.empty++;
	}
	while (list != NULL) {
		page = list;
		list = page->next;
		page_list(pm, c, page);
	}
	if (c == &pm->any)
		rte_spinlock_unlock(&pm->any_lock);
	return ret;
}

static void
stats_sum(const struct pfrag_mp *pm, struct pfrag_mp_stats *sum)
{
	const uint64_t *src;
	uint64_t *dst = (uint64_t *)sum;
	unsigned int i, k;

	memset(sum, 0, sizeof(*sum));
	for (i = 0; i <= RTE_MAX_LCORE; i++) {
		src = (const uint64_t *)(i < RTE_MAX_LCORE ? &pm->lc[i].stats : &pm->any.stats);
		for (k = 0; k < sizeof(*sum) / sizeof(uint64_t); k++)
			dst[k] += __atomic_load_n(&src[k], __ATOMIC_RELAXED);
	}
}

/*
 * Objects out. The per-lcore counters are read one after another, so while
 * other lcores run, a free can be seen before the alloc it matches: the
 * difference may then be below zero, which means none out, not 2^64 - k.
 */
uint64_t
pfrag_mp_out(const struct pfrag_mp *pm)
{
	struct pfrag_mp_stats s;
	int64_t out;

	stats_sum(pm, &s);
	out = (int64_t)(s.alloc - s.free);
	return out > 0 ? (uint64_t)out : 0;
}

/*
 * Every object not out can be handed out: free slots of listed pages and of
 * the pages lcores own (a snapshot unless quiescent).
 */
unsigned int
pfrag_mp_get_count(const struct rte_mempool *mp)
{
	const struct pfrag_mp *pm = mp->pool_data;
	uint64_t out;

	if (pm == NULL)
		return 0;
	out = pfrag_mp_out(pm);
	return out >= pm->populated ? 0 : (unsigned int)(pm->populated - out);
}

/* Give back the page @p c owns and the pages of its stash. */
static void
cache_flush(struct pfrag_mp *pm, struct pfrag_mp_cache *c)
{
	cache_release(pm, c);
	if (c->stash_len > 0)
		rte_ring_enqueue_bulk(pm->free_pages, (void **)c->stash, c->stash_len, NULL);
	c->stash_len = 0;
}

void
pfrag_mp_flush(struct pfrag_mp *pm)
{
	unsigned int i;

	for (i = 0; i < RTE_MAX_LCORE; i++)
		cache_flush(pm, &pm->lc[i]);
	rte_spinlock_lock(&pm->any_lock);
	cache_flush(pm, &pm->any);
	rte_spinlock_unlock(&pm->any_lock);
}

int
pfrag_mp_owned(const struct rte_mempool *mp)
{
	const struct rte_mempool_ops *ops;

	if (mp == NULL || mp->pool_data == NULL)
		return 0;
	ops = rte_mempool_get_ops(mp->ops_index);
	return ops != NULL && strcmp(ops->name, PFRAG_MEMPOOL_OPS_NAME) == 0;
}

/*
 * Page geometry: the page size of the pfrag pool given as pool_config; else
 * the build's default page size, doubled until one object fits, halved
 * (down to PFRAG_MIN_PAGE_SIZE) while it would hold more than 64 objects.
 */
static int
pfrag_mp_geometry(const struct rte_mempool *mp, struct pfrag_pool *pool,
		  uint32_t *page_size)
{
	uint64_t stride = (uint64_t)mp->header_size + mp->elt_size + mp->trailer_size;
	uint64_t ps;

	if (pool != NULL) {
		ps = pool->page_size;
		if (stride + PFRAG_MP_PAGE_HDR > ps) {
			MP_LOG(ERR, "%s: an object takes %" PRIu64 " bytes (header %u + element "
			       "%u + trailer %u) and a page of pfrag pool %s has room for %" PRIu64
			       " after its %u-byte descriptor: the element is larger than a page",
			       mp->name, stride, mp->header_size, mp->elt_size, mp->trailer_size,
			       pool->name, ps - PFRAG_MP_PAGE_HDR, (unsigned int)PFRAG_MP_PAGE_HDR);
			return -EINVAL;
		}
	} else {
		for (ps = PFRAG_DEFAULT_PAGE_SIZE; stride + PFRAG_MP_PAGE_HDR > ps; ps <<= 1)
			;
		while (ps > PFRAG_MIN_PAGE_SIZE &&
		       (ps - PFRAG_MP_PAGE_HDR) / stride > PFRAG_MP_MAX_SLOTS)
			ps >>= 1;
		if (ps > RTE_PGSIZE_1G) {
			MP_LOG(ERR, "%s: an object takes %" PRIu64 " bytes, larger than the "
			       "largest page (%u bytes)", mp->name, stride,
			       (unsigned int)RTE_PGSIZE_1G);
			return -EINVAL;
		}
	}
	*page_size = (uint32_t)ps;
	return 0;
}

struct pool_find {
	const void *want;
	int found;
};

static void
pool_find_cb(struct pfrag_pool *pool, void *arg)
{
	struct pool_find *f = arg;

	f->found |= (const void *)pool == f->want;
}

static void pfrag_mp_event(enum rte_mempool_event event, struct rte_mempool *mp,
			   void *arg);

static int
pfrag_mp_alloc(struct rte_mempool *mp)
{
	struct pfrag_pool *pool = mp->pool_config;
	char rname[RTE_RING_NAMESIZE];
	struct pool_find find = { pool, 0 };
	struct pfrag_mp *pm;
	uint32_t page_size;
	int ret;

	if (pool != NULL) {
		pfrag_pool_walk(pool_find_cb, &find);
		if (!find.found) {
			MP_LOG(ERR, "%s: pool_config %p is not a pfrag pool (give a struct "
			       "pfrag_pool * or NULL)", mp->name, (void *)pool);
			return -EINVAL;
		}
	}
	ret = pfrag_mp_geometry(mp, pool, &page_size);
	if (ret != 0)
		return ret;

	/* The mempool library calls alloc once; alloc must not leave a half state. */
	ret = rte_mempool_event_callback_register(pfrag_mp_event, NULL);
	if (ret != 0 && rte_errno != EEXIST) {
		MP_LOG(ERR, "%s: cannot register the mempool event callback: %s", mp->name,
		       rte_strerror(rte_errno));
		return -rte_errno;
	}

	pm = rte_zmalloc_socket("pfrag_mempool", sizeof(*pm), RTE_CACHE_LINE_SIZE,
				mp->socket_id);
	if (pm == NULL)
		pm = rte_zmalloc("pfrag_mempool", sizeof(*pm), RTE_CACHE_LINE_SIZE);
	if (pm == NULL)
		return -ENOMEM;
	pm->mp = mp;
	pm->pool = pool;
	pm->page_size = page_size;
	pm->page_mask = ~((uintptr_t)page_size - 1);
	pm->stride = mp->header_size + mp->elt_size + mp->trailer_size;
	pm->per_page = RTE_MIN((page_size - PFRAG_MP_PAGE_HDR) / pm->stride,
			       (uint32_t)PFRAG_MP_MAX_SLOTS);
	pm->obj_off = PFRAG_MP_PAGE_HDR + mp->header_size;
	rte_spinlock_init(&pm->any_lock);

	/* Every page holds an object at least: mp->size pages at most. */
	snprintf(rname, sizeof(rname), "PF_%s", mp->name);
	pm->free_pages = rte_ring_create(rname, mp->size, mp->socket_id, RING_F_EXACT_SZ);
	if (pm->free_pages == NULL) {
		ret = -rte_errno;
		MP_LOG(ERR, "%s: ring of free pages: %s", mp->name, rte_strerror(rte_errno));
		rte_free(pm);
		return ret;
	}
	mp->pool_data = pm;
	MP_LOG(INFO, "%s: pages of %u bytes, %u objects of %u bytes each", mp->name,
	       page_size, pm->per_page, pm->stride);
	return 0;
}

static void
pfrag_mp_free(struct rte_mempool *mp)
{
	struct pfrag_mp *pm = mp->pool_data;

	/* The pages went with the memory chunks, before this call. */
	if (pm == NULL)
		return;
	rte_ring_free(pm->free_pages);
	rte_free(pm);
	mp->pool_data = NULL;
}

/*
 * The library reserves memory for @p obj_num objects in chunks of at least a
 * page aligned to the page size; one page more, so that memory the library
 * cannot align (an anonymous mapping) still holds every object.
 */
static ssize_t
pfrag_mp_calc_mem_size(const struct rte_mempool *mp, uint32_t obj_num, uint32_t pg_shift,
		       size_t *min_chunk_size, size_t *align)
{
	const struct pfrag_mp *pm = mp->pool_data;
	size_t pages;

	RTE_SET_USED(pg_shift);
	if (pm == NULL)
		return -EINVAL;
	pages = ((size_t)obj_num + pm->per_page - 1) / pm->per_page + 1;
	*min_chunk_size = pm->page_size;
	*align = pm->page_size;
	return pages * pm->page_size;
}

/*
 * Cut the chunk into aligned pages and lay the objects out; the pages join
 * the free pages. Only whole pages inside the chunk are used: the chunk is
 * IOVA-contiguous, so every page and every object is.
 */
static int
pfrag_mp_populate(struct rte_mempool *mp, unsigned int max_objs, void *vaddr, rte_iova_t iova,
		  size_t len, rte_mempool_populate_obj_cb_t *obj_cb, void *obj_cb_arg)
{
	struct pfrag_mp *pm = mp->pool_data;
	uint8_t *start, *end = (uint8_t *)vaddr + len, *p;
	struct pfrag_mp_page *page;
	unsigned int n = 0, nb, i;
	void *obj;

	if (pm == NULL)
		return 0;
	start = RTE_PTR_ALIGN_CEIL((uint8_t *)vaddr, pm->page_size);
	for (p = start; p < end && (size_t)(end - p) >= pm->page_size && n < max_objs;
	     p += pm->page_size) {
		page = (struct pfrag_mp_page *)p;
		nb = RTE_MIN(pm->per_page, max_objs - n);
		memset(page, 0, sizeof(*page));
		page->nb_objs = nb;
		page->all = nb == 64 ? UINT64_MAX : (UINT64_C(1) << nb) - 1;
		page->listed = 1;
		page->pm = pm;
		for (i = 0; i < nb; i++) {
			obj = slot2obj(pm, page, i);
			obj_cb(mp, obj_cb_arg, obj, iova == RTE_BAD_IOVA ? RTE_BAD_IOVA :
			       iova + (uintptr_t)((uint8_t *)obj - (uint8_t *)vaddr));
		}
		rte_ring_enqueue(pm->free_pages, page);
		pm->populated += nb;
		pm->nb_pages++;
		n += nb;
	}
	if (n == 0 && max_objs > 0)
		MP_LOG(WARNING, "%s: chunk of %zu bytes at %p holds no aligned page of %u "
		       "bytes; not used (physically scattered memory needs IOVA as VA or "
		       "hugepages)", mp->name, len, vaddr, pm->page_size);
	return n;
}

static int
pfrag_mp_get_info(const struct rte_mempool *mp, struct rte_mempool_info *info)
{
	const struct pfrag_mp *pm = mp->pool_data;

	if (pm == NULL)
		return -EINVAL;
	/* A whole page is a block of contiguous objects. */
	info->contig_block_size = pm->per_page;
	return 0;
}

int
pfrag_mp_report(struct rte_mempool *mp, const char *when)
{
	struct pfrag_mp *pm = mp->pool_data;
	unsigned int lcore, pages_free;
	uint64_t out;

	if (mp->cache_size != 0)
		for (lcore = 0; lcore < RTE_MAX_LCORE; lcore++)
			rte_mempool_cache_flush(&mp->local_cache[lcore], mp);
	pfrag_mp_flush(pm);
	out = pfrag_mp_out(pm);
	pages_free = rte_ring_count(pm->free_pages);
	if (out != 0) {
		MP_LOG(ERR, "%s %s: %" PRIu64 " of %" PRIu64 " objects out (taken, never "
		       "put back); %u of %u pages listed", mp->name, when, out, pm->populated,
		       pages_free, pm->nb_pages);
		return -EBUSY;
	}
	MP_LOG(INFO, "%s %s: all %" PRIu64 " objects in the pool (%u available), "
	       "%u of %u pages in the ring", mp->name, when, pm->populated,
	       pfrag_mp_get_count(mp), pages_free, pm->nb_pages);
	return 0;
}

/*
 * Before the mempool library takes the objects back and frees the memory:
 * what waits in caches is handed back, and objects still out are reported
 * (their memory goes with the pool).
 */
static void
pfrag_mp_event(enum rte_mempool_event event, struct rte_mempool *mp, void *arg)
{
	RTE_SET_USED(arg);
	if (event == RTE_MEMPOOL_EVENT_DESTROY && pfrag_mp_owned(mp))
		pfrag_mp_report(mp, "freed");
}

static const struct rte_mempool_ops pfrag_mp_ops = {
	.name = PFRAG_MEMPOOL_OPS_NAME,
	.alloc = pfrag_mp_alloc,
	.free = pfrag_mp_free,
	.enqueue = pfrag_mp_enqueue,
	.dequeue = pfrag_mp_dequeue,
	.get_count = pfrag_mp_get_count,
	.calc_mem_size = pfrag_mp_calc_mem_size,
	.populate = pfrag_mp_populate,
	.get_info = pfrag_mp_get_info,
	.dequeue_contig_blocks = pfrag_mp_dequeue_contig_blocks,
};

RTE_MEMPOOL_REGISTER_OPS(pfrag_mp_ops);

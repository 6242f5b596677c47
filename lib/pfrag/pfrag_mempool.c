/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Mempool ops "pfrag": a dequeue allocates one fragment per object and builds
 * a direct mbuf at its start; an enqueue frees the fragments. The pool keeps
 * no objects of its own, so there is nothing to populate and nothing a PMD
 * can take that pfrag does not account for.
 */

#include <errno.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "pfrag.h"
#include "pfrag_mempool.h"

RTE_LOG_REGISTER(pfrag_mempool_logtype, pfrag.mempool, NOTICE);

#define MP_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_ ## level, pfrag_mempool_logtype, \
		"pfrag_mempool: " fmt "\n", ##__VA_ARGS__)

/* Objects handled per pfrag bulk call: stack arrays stay small. */
#define PFRAG_MP_CHUNK 64
/*
 * Frees an lcore collects before it gives them to pfrag in one call. PMDs
 * free one mbuf at a time on TX completion; in a batch, consecutive
 * fragments of one page cost one atomic together instead of one each.
 */
#define PFRAG_MP_FREE_BATCH 32

/* Fragments an lcore has freed and not yet handed to pfrag; its own line. */
struct pfrag_mp_lcore {
	uint32_t len;
	void *frag[PFRAG_MP_FREE_BATCH];
} __rte_cache_aligned;

/* What the ops need per mempool, in mp->pool_data. */
struct pfrag_mp {
	struct pfrag_pool *pool;
	uint32_t frag_size;
	uint32_t mbuf_size;       /* header + private area */
	uint16_t buf_len;
	uint16_t priv_size;
	uint32_t size;            /* most objects out at once */
	/*
	 * Objects out, batched frees included until their batch goes;
	 * written once per burst: keep it off the read-mostly line.
	 */
	uint32_t out __rte_cache_aligned;
	struct pfrag_mp_lcore lcore[RTE_MAX_LCORE];
};

static inline struct rte_mbuf *
pfrag_mp_mbuf_init(struct rte_mempool *mp, const struct pfrag_mp *pm,
		   uint8_t *frag, rte_iova_t iova)
{
	struct rte_mempool_objhdr *hdr;
	struct rte_mbuf *m;
	rte_iova_t m_iova;

	m = (struct rte_mbuf *)(frag + PFRAG_MEMPOOL_HDR_SIZE);
	m_iova = iova == RTE_BAD_IOVA ? RTE_BAD_IOVA : iova + PFRAG_MEMPOOL_HDR_SIZE;

	/* What rte_mempool_from_obj() and rte_mempool_virt2iova() read. */
	hdr = (struct rte_mempool_objhdr *)((uint8_t *)m - sizeof(*hdr));
	hdr->mp = mp;
	hdr->iova = m_iova;

	/* The state rte_pktmbuf_init() gives a pool's mbufs at creation. */
	memset(m, 0, pm->mbuf_size);
	m->priv_size = pm->priv_size;
	m->buf_addr = (uint8_t *)m + pm->mbuf_size;
	rte_mbuf_iova_set(m, m_iova == RTE_BAD_IOVA ? RTE_BAD_IOVA :
			  m_iova + pm->mbuf_size);
	m->buf_len = pm->buf_len;
	m->data_off = RTE_MIN(RTE_PKTMBUF_HEADROOM, pm->buf_len);
	m->pool = mp;
	m->nb_segs = 1;
	m->port = RTE_MBUF_PORT_INVALID;
	rte_mbuf_refcnt_set(m, 1);
	return m;
}

/* Free the fragments of @p n objects (mbufs) of one of our pools. */
static void
pfrag_mp_free_objs(void * const *obj, unsigned int n)
{
	void *frag[PFRAG_MP_CHUNK];
	unsigned int done, k, i;

	for (done = 0; done < n; done += k) {
		k = RTE_MIN(n - done, (unsigned int)PFRAG_MP_CHUNK);
		for (i = 0; i < k; i++)
			frag[i] = (uint8_t *)obj[done + i] - PFRAG_MEMPOOL_HDR_SIZE;
		/* Objects of one burst are mostly neighbours in one page. */
		pfrag_free_bulk(frag, k);
	}
}

/* Hand an lcore's batch of freed fragments to pfrag. */
static void
pfrag_mp_flush_lcore(struct pfrag_mp *pm, struct pfrag_mp_lcore *lc)
{
	if (lc->len == 0)
		return;
	pfrag_free_bulk(lc->frag, lc->len);
	__atomic_sub_fetch(&pm->out, lc->len, __ATOMIC_RELAXED);
	lc->len = 0;
}

/*
 * Count @p n more objects out, within the pool size. Relaxed: the count only
 * bounds how many objects are out, it orders no other memory access.
 */
static inline int
pfrag_mp_take(struct pfrag_mp *pm, unsigned int n)
{
	if (likely(__atomic_add_fetch(&pm->out, n, __ATOMIC_RELAXED) <= pm->size))
		return 0;
	__atomic_sub_fetch(&pm->out, n, __ATOMIC_RELAXED);
	return -ENOBUFS;
}

static int
pfrag_mp_dequeue(struct rte_mempool *mp, void **obj_table, unsigned int n)
{
	struct pfrag_mp *pm = mp->pool_data;
	unsigned int lcore = rte_lcore_id();
	rte_iova_t iova[PFRAG_MP_CHUNK];
	void *va[PFRAG_MP_CHUNK];
	unsigned int done, k, i;

	if (unlikely(pfrag_mp_take(pm, n) != 0)) {
		/* Our own batched frees still count as out: hand them over. */
		if (lcore >= RTE_MAX_LCORE || pm->lcore[lcore].len == 0)
			return -ENOBUFS;
		pfrag_mp_flush_lcore(pm, &pm->lcore[lcore]);
		if (pfrag_mp_take(pm, n) != 0)
			return -ENOBUFS;
	}
	for (done = 0; done < n; done += k) {
		k = RTE_MIN(n - done, (unsigned int)PFRAG_MP_CHUNK);
		if (unlikely(pfrag_alloc_bulk(pm->pool, pm->frag_size,
					      RTE_CACHE_LINE_SIZE, va, iova, k) != 0))
			goto fail;
		for (i = 0; i < k; i++)
			obj_table[done + i] = pfrag_mp_mbuf_init(mp, pm, va[i], iova[i]);
	}
	return 0;

fail:
	/* A mempool dequeue gives all or nothing. */
	pfrag_mp_free_objs(obj_table, done);
	__atomic_sub_fetch(&pm->out, n, __ATOMIC_RELAXED);
	return -ENOBUFS;
}

static int
pfrag_mp_enqueue(struct rte_mempool *mp, void * const *obj_table, unsigned int n)
{
	struct pfrag_mp *pm = mp->pool_data;
	unsigned int lcore = rte_lcore_id();
	struct pfrag_mp_lcore *lc;
	unsigned int i;

	/* Non-EAL threads and whole bursts: straight to pfrag. */
	if (unlikely(lcore >= RTE_MAX_LCORE) || n >= PFRAG_MP_FREE_BATCH) {
		pfrag_mp_free_objs(obj_table, n);
		__atomic_sub_fetch(&pm->out, n, __ATOMIC_RELAXED);
		return 0;
	}
	lc = &pm->lcore[lcore];
	for (i = 0; i < n; i++) {
		lc->frag[lc->len++] = (uint8_t *)obj_table[i] - PFRAG_MEMPOOL_HDR_SIZE;
		if (lc->len == PFRAG_MP_FREE_BATCH)
			pfrag_mp_flush_lcore(pm, lc);
	}
	return 0;
}

/* Objects waiting in the lcores' free batches (control path: a snapshot). */
static uint32_t
pfrag_mp_batched(const struct pfrag_mp *pm)
{
	uint32_t n = 0;
	unsigned int i;

	for (i = 0; i < RTE_MAX_LCORE; i++)
		n += __atomic_load_n(&pm->lcore[i].len, __ATOMIC_RELAXED);
	return n;
}

static unsigned int
pfrag_mp_get_count(const struct rte_mempool *mp)
{
	const struct pfrag_mp *pm = mp->pool_data;
	uint32_t out = __atomic_load_n(&pm->out, __ATOMIC_RELAXED) - pfrag_mp_batched(pm);

	return out >= pm->size ? 0 : pm->size - out;
}

/* The state is made by pfrag_pktmbuf_pool_create(); populate never runs. */
static int
pfrag_mp_alloc(struct rte_mempool *mp)
{
	return mp->pool_data == NULL ? -EINVAL : 0;
}

/* Give pfrag what waits in mempool caches and free batches: control path. */
static int
pfrag_mp_flush_all(struct rte_mempool *mp)
{
	struct pfrag_mp *pm = mp->pool_data;
	unsigned int lcore;

	/* Mbufs resting in lcore caches still hold fragments: give them back. */
	if (mp->cache_size != 0)
		for (lcore = 0; lcore < RTE_MAX_LCORE; lcore++)
			rte_mempool_cache_flush(&mp->local_cache[lcore], mp);
	for (lcore = 0; lcore < RTE_MAX_LCORE; lcore++)
		pfrag_mp_flush_lcore(pm, &pm->lcore[lcore]);
	return 0;
}

/* Also reached by a plain rte_mempool_free(): nothing batched may be lost. */
static void
pfrag_mp_free(struct rte_mempool *mp)
{
	if (mp->pool_data == NULL)
		return;
	pfrag_mp_flush_all(mp);
	rte_free(mp->pool_data);
	mp->pool_data = NULL;
}

static const struct rte_mempool_ops pfrag_mp_ops = {
	.name = PFRAG_MEMPOOL_OPS_NAME,
	.alloc = pfrag_mp_alloc,
	.free = pfrag_mp_free,
	.enqueue = pfrag_mp_enqueue,
	.dequeue = pfrag_mp_dequeue,
	.get_count = pfrag_mp_get_count,
};

RTE_MEMPOOL_REGISTER_OPS(pfrag_mp_ops);

int
pfrag_mempool_is_pfrag(const struct rte_mempool *mp)
{
	return mp != NULL &&
		strcmp(rte_mempool_get_ops(mp->ops_index)->name, PFRAG_MEMPOOL_OPS_NAME) == 0;
}

struct pfrag_pool *
pfrag_mempool_pool(const struct rte_mempool *mp)
{
	const struct pfrag_mp *pm;

	if (!pfrag_mempool_is_pfrag(mp) || mp->pool_data == NULL)
		return NULL;
	pm = mp->pool_data;
	return pm->pool;
}

unsigned int
pfrag_mempool_in_use(const struct rte_mempool *mp)
{
	const struct pfrag_mp *pm;

	if (!pfrag_mempool_is_pfrag(mp) || mp->pool_data == NULL)
		return 0;
	pm = mp->pool_data;
	return __atomic_load_n(&pm->out, __ATOMIC_RELAXED) - pfrag_mp_batched(pm);
}

int
pfrag_mempool_flush(struct rte_mempool *mp)
{
	if (!pfrag_mempool_is_pfrag(mp) || mp->pool_data == NULL)
		return -EINVAL;
	return pfrag_mp_flush_all(mp);
}

struct rte_mempool *
pfrag_pktmbuf_pool_create(const char *name, unsigned int n, unsigned int cache_size,
			  uint16_t priv_size, uint16_t data_room_size,
			  struct pfrag_pool *pool)
{
	struct rte_pktmbuf_pool_private mbp_priv;
	struct rte_mempool *mp;
	struct pfrag_mp *pm;
	uint32_t frag_size;
	int ret;

	RTE_BUILD_BUG_ON(sizeof(struct rte_mempool_objhdr) > PFRAG_MEMPOOL_HDR_SIZE);

	frag_size = pfrag_pktmbuf_frag_size(priv_size, data_room_size);
	if (name == NULL || pool == NULL || n == 0 ||
	    RTE_ALIGN(priv_size, RTE_MBUF_PRIV_ALIGN) != priv_size ||
	    frag_size > pool->page_size) {
		MP_LOG(ERR, "%s: bad argument (n %u, priv %u, data room %u: fragment of "
		       "%u bytes, page of %u)", name != NULL ? name : "(null)", n,
		       priv_size, data_room_size, frag_size,
		       pool != NULL ? pool->page_size : 0);
		rte_errno = EINVAL;
		return NULL;
	}

	pm = rte_zmalloc_socket("pfrag_mempool", sizeof(*pm), RTE_CACHE_LINE_SIZE,
				pool->socket_id);
	if (pm == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	pm->pool = pool;
	pm->frag_size = frag_size;
	pm->mbuf_size = sizeof(struct rte_mbuf) + priv_size;
	pm->buf_len = data_room_size;
	pm->priv_size = priv_size;
	pm->size = n;

	/* elt_size is what the objects would take; nothing is populated. */
	mp = rte_mempool_create_empty(name, n, frag_size, cache_size,
				      sizeof(struct rte_pktmbuf_pool_private),
				      pool->socket_id, 0);
	if (mp == NULL)
		goto fail;
	ret = rte_mempool_set_ops_byname(mp, PFRAG_MEMPOOL_OPS_NAME, pool);
	if (ret != 0) {
		MP_LOG(ERR, "%s: mempool ops '%s' not registered (%d)", name,
		       PFRAG_MEMPOOL_OPS_NAME, ret);
		rte_errno = -ret;
		goto fail_mp;
	}
	memset(&mbp_priv, 0, sizeof(mbp_priv));
	mbp_priv.mbuf_data_room_size = data_room_size;
	mbp_priv.mbuf_priv_size = priv_size;
	rte_pktmbuf_pool_init(mp, &mbp_priv);

	/*
	 * Mark the ops state as made, so that a later populate neither calls
	 * alloc again nor adds objects pfrag does not own.
	 */
	mp->pool_data = pm;
	mp->flags |= RTE_MEMPOOL_F_POOL_CREATED;
	return mp;

fail_mp:
	rte_mempool_free(mp);
fail:
	rte_free(pm);
	return NULL;
}

int
pfrag_pktmbuf_pool_free(struct rte_mempool *mp)
{
	unsigned int out;

	if (pfrag_mempool_flush(mp) != 0)
		return -EINVAL;
	out = pfrag_mempool_in_use(mp);
	if (out != 0) {
		MP_LOG(ERR, "%s: %u mbufs still out, not freed", mp->name, out);
		return -EBUSY;
	}
	rte_mempool_free(mp);
	return 0;
}

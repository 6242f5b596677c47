/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The calls around the "pfrag" mempool ops: a packet mbuf pool whose pages
 * come from a pfrag pool (the standard creation calls, handed pfrag pages
 * as memory chunks), flush, figures.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "pfrag.h"
#include "pfrag_mempool.h"
#include "pfrag_mempool_private.h"

int
pfrag_mempool_is_pfrag(const struct rte_mempool *mp)
{
	return pfrag_mp_owned(mp);
}

struct pfrag_pool *
pfrag_mempool_pool(const struct rte_mempool *mp)
{
	const struct pfrag_mp *pm;

	if (!pfrag_mp_owned(mp))
		return NULL;
	pm = mp->pool_data;
	return pm->pool;
}

unsigned int
pfrag_mempool_in_use(const struct rte_mempool *mp)
{
	if (!pfrag_mp_owned(mp))
		return 0;
	return (unsigned int)pfrag_mp_out(mp->pool_data);
}

int
pfrag_mempool_flush(struct rte_mempool *mp)
{
	unsigned int lcore;

	if (!pfrag_mp_owned(mp))
		return -EINVAL;
	/* Objects resting in lcore caches are ours too: take them back first. */
	if (mp->cache_size != 0)
		for (lcore = 0; lcore < RTE_MAX_LCORE; lcore++)
			rte_mempool_cache_flush(&mp->local_cache[lcore], mp);
	pfrag_mp_flush(mp->pool_data);
	return 0;
}

int
pfrag_mempool_info_get(const struct rte_mempool *mp, struct pfrag_mempool_info *info)
{
	const struct pfrag_mp *pm;
	unsigned int i;

	if (!pfrag_mp_owned(mp) || info == NULL)
		return -EINVAL;
	pm = mp->pool_data;
	memset(info, 0, sizeof(*info));
	info->page_size = pm->page_size;
	info->objs_per_page = pm->per_page;
	info->nb_pages = pm->nb_pages;
	info->pages_listed = rte_ring_count(pm->free_pages);
	for (i = 0; i < RTE_MAX_LCORE; i++) {
		info->pages_owned += __atomic_load_n(&pm->lc[i].page, __ATOMIC_RELAXED) != NULL;
		info->pages_listed += __atomic_load_n(&pm->lc[i].stash_len, __ATOMIC_RELAXED);
	}
	info->pages_owned += __atomic_load_n(&pm->any.page, __ATOMIC_RELAXED) != NULL;
	info->nb_objs = (uint32_t)pm->populated;
	info->objs_out = pfrag_mp_out(pm);
	info->objs_avail = pfrag_mp_get_count(mp);
	return 0;
}

void
pfrag_mempool_dump(FILE *f, const struct rte_mempool *mp)
{
	struct pfrag_mempool_info info;

	if (pfrag_mempool_info_get(mp, &info) != 0)
		return;
	fprintf(f, "pfrag mempool <%s>: %u objects in %u pages of %u bytes (%u a page)\n",
		mp->name, info.nb_objs, info.nb_pages, info.page_size, info.objs_per_page);
	fprintf(f, "  objs_avail=%u objs_out=%" PRIu64 " pages_listed=%u pages_owned=%u\n",
		info.objs_avail, info.objs_out, info.pages_listed, info.pages_owned);
}

/* A memory chunk of a pfrag mbuf pool is one pfrag page. */
static void
page_chunk_free(struct rte_mempool_memhdr *memhdr, void *opaque)
{
	RTE_SET_USED(opaque);
	pfrag_free(memhdr->addr);
}

/* Populate @p mp with whole pages of @p pool, one chunk each. */
static int
populate_from_pool(struct rte_mempool *mp, struct pfrag_pool *pool)
{
	uint32_t ps = pool->page_size;
	void *page;
	int ret;

	while (mp->populated_size < mp->size) {
		page = pfrag_alloc(pool, ps, ps);
		if (page == NULL) {
			MP_LOG(ERR, "%s: pfrag pool %s has no free page of %u bytes (%u of %u "
			       "objects placed)", mp->name, pool->name, ps, mp->populated_size,
			       mp->size);
			return -ENOBUFS;
		}
		ret = rte_mempool_populate_iova(mp, page, pfrag_iova(page), ps,
						page_chunk_free, NULL);
		if (ret <= 0) {
			pfrag_free(page);
			return ret < 0 ? ret : -EINVAL;
		}
	}
	return 0;
}

/*
 * rte_pktmbuf_init(), and a page without an IOVA gives mbufs without one:
 * never RTE_BAD_IOVA + offset, a plausible address a device would DMA to.
 */
static void
mbuf_init(struct rte_mempool *mp, void *arg, void *obj, unsigned int idx)
{
	rte_pktmbuf_init(mp, arg, obj, idx);
	if (rte_mempool_virt2iova(obj) == RTE_BAD_IOVA)
		rte_mbuf_iova_set(obj, RTE_BAD_IOVA);
}

struct rte_mempool *
pfrag_pktmbuf_pool_create(const char *name, unsigned int n, unsigned int cache_size,
			  uint16_t priv_size, uint16_t data_room_size,
			  struct pfrag_pool *pool)
{
	struct rte_pktmbuf_pool_private mbp_priv;
	struct rte_mempool *mp;
	int ret;

	if (name == NULL || pool == NULL || n == 0 ||
	    RTE_ALIGN(priv_size, RTE_MBUF_PRIV_ALIGN) != priv_size) {
		MP_LOG(ERR, "%s: bad argument (n %u, priv %u%s)", name != NULL ? name : "(null)",
		       n, priv_size, pool == NULL ? ", no pfrag pool" : "");
		rte_errno = EINVAL;
		return NULL;
	}

	mp = rte_mempool_create_empty(name, n, sizeof(struct rte_mbuf) + priv_size +
				      data_room_size, cache_size,
				      sizeof(struct rte_pktmbuf_pool_private),
				      pool->socket_id, 0);
	if (mp == NULL)
		return NULL;
	ret = rte_mempool_set_ops_byname(mp, PFRAG_MEMPOOL_OPS_NAME, pool);
	if (ret != 0) {
		MP_LOG(ERR, "%s: mempool ops '%s' not registered: link librte_mempool_pfrag "
		       "or load it with -d", name, PFRAG_MEMPOOL_OPS_NAME);
		goto fail;
	}
	memset(&mbp_priv, 0, sizeof(mbp_priv));
	mbp_priv.mbuf_data_room_size = data_room_size;
	mbp_priv.mbuf_priv_size = priv_size;
	rte_pktmbuf_pool_init(mp, &mbp_priv);

	ret = populate_from_pool(mp, pool);
	if (ret != 0)
		goto fail;
	rte_mempool_obj_iter(mp, mbuf_init, NULL);
	return mp;

fail:
	rte_mempool_free(mp);
	rte_errno = -ret;
	return NULL;
}

int
pfrag_pktmbuf_pool_free(struct rte_mempool *mp)
{
	uint64_t out;

	if (pfrag_mempool_flush(mp) != 0)
		return -EINVAL;
	out = pfrag_mp_out(mp->pool_data);
	if (out != 0) {
		MP_LOG(ERR, "%s: %" PRIu64 " mbufs still out, not freed", mp->name, out);
		return -EBUSY;
	}
	rte_mempool_free(mp);
	return 0;
}

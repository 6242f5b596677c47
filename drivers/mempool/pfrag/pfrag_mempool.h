/* SPDX-License-Identifier: BSD-3-Clause */

#ifndef _PFRAG_MEMPOOL_H_
#define _PFRAG_MEMPOOL_H_

/**
 * @file
 * Mempool ops "pfrag" (application-facing): a DPDK mempool driver on the
 * idea of pfrag pages.
 *
 * Two ways from pfrag to rte_mbuf, by role; an application often uses both,
 * port by port, and pfrag_mbuf_port_rx_frags() says which a port wants:
 * - the external-buffer bridge (pfrag_mbuf.h), driver-facing: a fragment of
 *   any size becomes an mbuf's data as an external buffer, on a header mbuf
 *   from a small mempool (pfrag_mbuf_hdr_pool_create()). For code that
 *   carves its own buffers and sizes them to the traffic, as our PMD's RX
 *   rings do (a few hundred bytes a slot for 64-byte frames); such a driver
 *   declares its ports (pfrag_mbuf_port_set_rx_frags()), whose RX queues
 *   then take header mbufs only.
 * - the mempool ops "pfrag" (pfrag_mempool.h), application-facing: ordinary
 *   fixed-size mbufs, no external buffer, no header pool, on pfrag pages.
 *   For drivers and libraries that know nothing of pfrag (net_vhost,
 *   net_virtio_user, DPDK's own l2fwd and testpmd): any mempool takes the
 *   ops by name, pfrag_pktmbuf_pool_create() over a pfrag pool's pages.
 *
 * Any mempool may use them, by name, as DPDK's ring, stack and bucket
 * drivers: `--mbuf-pool-ops-name=pfrag` (EAL) or rte_mbuf_set_user_mempool_ops()
 * for rte_pktmbuf_pool_create(), rte_pktmbuf_pool_create_by_ops(), or
 * rte_mempool_create_empty() + rte_mempool_set_ops_byname() + any
 * rte_mempool_populate_*() call. Other applications load the driver as a
 * plugin: `-d librte_mempool_pfrag.so`; ours link it in.
 *
 * The memory the mempool library populates is cut into pages (aligned,
 * power-of-two sized, the first cache line the page's descriptor, at most
 * 64 objects a page) and the objects are laid out in them, headers and
 * IOVAs as the library lays them out: the pool is an ordinary populated I/O
 * pool (RTE_MEMPOOL_EVENT_READY fires, no RTE_MEMPOOL_F_NON_IO when the
 * memory has IOVAs). A page's word has a bit per object out: an lcore owns
 * a page at a time and claims its free objects in address order with one
 * atomic OR per page; a free gives a run of objects of one page back with
 * one atomic AND. A page that had every object out is listed again by the
 * first object that comes back, and with no listed page left a dequeue
 * claims from the pages other lcores hold, so every object given back can
 * be handed out again by any lcore: rte_mempool_avail_count() and
 * rte_mempool_in_use_count() are exact, as with DPDK's ring driver.
 *
 * Page size: with rte_mempool_set_ops_byname(mp, "pfrag", pool) the page
 * size of the pfrag pool @c pool (an element larger than its page is refused
 * at create, with the sizes in the log); with no pool_config (the standard
 * mbuf calls) PFRAG_DEFAULT_PAGE_SIZE, doubled until one object fits,
 * halved while it would hold more than 64.
 *
 * Frees: one atomic per run of objects of one page, so a burst given back
 * in the order it was taken costs one per page. There is no per-lcore batch
 * of single frees: an object one lcore kept would be out of reach of the
 * others (DPDK's own mbuf tests take on one lcore what others free). With a
 * mempool cache (256, as DPDK's examples use) the cache absorbs most of
 * both. pfrag_mempool_flush() hands back the pages the lcores hold.
 *
 * Concurrency: as any mempool: any lcore or non-EAL thread (those through
 * a locked shared state). The calls below are control-path calls. Pools
 * live in the primary process (the driver's state is process-local).
 *
 * pfrag_pktmbuf_pool_create() is the same ops over pages of a pfrag pool:
 * each page of the pfrag pool becomes one memory chunk of the mempool and
 * goes back to the pfrag pool when the mempool is freed.
 */

#include <stdint.h>
#include <stdio.h>

#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "pfrag.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Name of the mempool ops. */
#define PFRAG_MEMPOOL_OPS_NAME "pfrag"

/** Bytes at the start of each page for the page's descriptor. */
#define PFRAG_MEMPOOL_PAGE_HDR RTE_CACHE_LINE_SIZE

/**
 * Bytes one object of @p elt_size takes in a mempool made with no flags
 * (header, element and trailer, as rte_mempool_calc_obj_size() says).
 */
static inline uint32_t
pfrag_mempool_obj_size(uint32_t elt_size)
{
	return rte_mempool_calc_obj_size(elt_size, 0, NULL);
}

/** Most objects a page holds. */
#define PFRAG_MEMPOOL_MAX_PER_PAGE 64

/** Objects of @p obj_size bytes a page of @p page_size bytes holds (0: none). */
static inline uint32_t
pfrag_mempool_objs_per_page(uint32_t obj_size, uint32_t page_size)
{
	uint32_t n;

	if (obj_size == 0 || page_size <= PFRAG_MEMPOOL_PAGE_HDR)
		return 0;
	n = (page_size - PFRAG_MEMPOOL_PAGE_HDR) / obj_size;
	return n < PFRAG_MEMPOOL_MAX_PER_PAGE ? n : PFRAG_MEMPOOL_MAX_PER_PAGE;
}

/** Figures of a pfrag mempool (pfrag_mempool_info_get()). */
struct pfrag_mempool_info {
	uint32_t page_size;       /**< bytes per page */
	uint32_t objs_per_page;   /**< objects a whole page holds */
	uint32_t nb_pages;        /**< pages populated */
	uint32_t pages_listed;    /**< pages in the ring or stashes, nobody's own */
	uint32_t pages_owned;     /**< pages an lcore is handing out */
	uint32_t nb_objs;         /**< objects populated */
	uint32_t objs_avail;      /**< objects a dequeue can take */
	uint64_t objs_out;        /**< objects taken and not given back */
};

/**
 * Create a packet mbuf pool whose pages are pages of @p pool: the standard
 * rte_mempool_create_empty() with the "pfrag" ops, populated with whole
 * pages taken from @p pool, then rte_pktmbuf_init() on every mbuf.
 *
 * @param name
 *   Mempool name.
 * @param n
 *   Mbufs in the pool.
 * @param cache_size
 *   Per-lcore mempool cache, as for rte_pktmbuf_pool_create().
 * @param priv_size
 *   Application private bytes after each mbuf header, multiple of
 *   RTE_MBUF_PRIV_ALIGN.
 * @param data_room_size
 *   Data room, RTE_PKTMBUF_HEADROOM included; an mbuf must fit a page.
 * @param pool
 *   The pfrag pool giving the pages; it must outlive the mempool.
 * @return
 *   The mempool, or NULL with rte_errno set: EINVAL (bad argument, mbuf
 *   larger than a page, ops not registered), ENOBUFS (not enough free pages
 *   in @p pool), ENOSPC, ENOMEM, EEXIST (as rte_mempool_create_empty).
 */
struct rte_mempool *
pfrag_pktmbuf_pool_create(const char *name, unsigned int n, unsigned int cache_size,
			  uint16_t priv_size, uint16_t data_room_size,
			  struct pfrag_pool *pool);

/**
 * Free a pfrag mempool (made by pfrag_pktmbuf_pool_create() or any other
 * way) unless objects are out. The per-lcore mempool caches are flushed
 * first (no lcore may use the pool meanwhile). A plain rte_mempool_free()
 * frees it whatever is out, and logs an error naming the count.
 *
 * @return
 *   0; -EBUSY (logged, nothing freed) while objects are out; -EINVAL when
 *   @p mp is NULL or not a pfrag mempool.
 */
int
pfrag_pktmbuf_pool_free(struct rte_mempool *mp);

/**
 * Hand back to their pages the objects waiting in the lcores' mempool
 * caches, and the pages the lcores own and stash (control path:
 * no lcore may use the pool meanwhile). After it, with nothing out, every
 * page is in the ring (pfrag_mempool_info_get(): pages_listed == nb_pages).
 *
 * @return 0, or -EINVAL when @p mp is not a pfrag mempool.
 */
int
pfrag_mempool_flush(struct rte_mempool *mp);

/** True when @p mp uses the "pfrag" ops (and they are set up). */
int
pfrag_mempool_is_pfrag(const struct rte_mempool *mp);

/**
 * The pfrag pool giving @p mp its pages (pool_config), or NULL when @p mp is
 * not a pfrag mempool or its memory came from elsewhere (memzones).
 */
struct pfrag_pool *
pfrag_mempool_pool(const struct rte_mempool *mp);

/** Objects of @p mp out now: taken, or resting in a mempool cache. */
unsigned int
pfrag_mempool_in_use(const struct rte_mempool *mp);

/** Fill @p info; exact when the pool is quiescent. @return 0 or -EINVAL. */
int
pfrag_mempool_info_get(const struct rte_mempool *mp, struct pfrag_mempool_info *info);

/** Print the figures of pfrag_mempool_info_get(). */
void
pfrag_mempool_dump(FILE *f, const struct rte_mempool *mp);

#ifdef __cplusplus
}
#endif

#endif /* _PFRAG_MEMPOOL_H_ */

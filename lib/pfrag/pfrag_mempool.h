/* SPDX-License-Identifier: BSD-3-Clause */

#ifndef _PFRAG_MEMPOOL_H_
#define _PFRAG_MEMPOOL_H_

/**
 * @file
 * A packet mbuf pool whose mbufs are pfrag fragments, for any ethdev.
 *
 * Every mbuf of such a pool lives in a fragment of its own:
 *
 *   [ pad | rte_mempool_objhdr | rte_mbuf | priv | headroom + data room ]
 *
 * The mempool ops "pfrag" allocate a fragment and initialise the mbuf in it
 * on dequeue, and free the fragment on enqueue. The mbuf is an ordinary
 * direct mbuf: its data room follows its header as in rte_pktmbuf_pool_create()
 * pools, its object header tells rte_mempool_from_obj() and
 * rte_mempool_virt2iova() the truth. So a PMD may take mbufs with
 * rte_pktmbuf_alloc_bulk() or rte_mbuf_raw_alloc(), an application may clone,
 * attach external buffers or chain them, and every path back to the pool
 * (rte_pktmbuf_free, rte_mbuf_raw_free, the detach of a last clone) returns
 * the fragment to pfrag: nothing is attached behind DPDK's back, so nothing
 * can be overwritten and leaked.
 *
 * Why not a header mbuf with a fragment attached as an external buffer:
 * rte_pktmbuf_clone() and rte_pktmbuf_attach_extbuf() overwrite the buffer of
 * a freshly allocated mbuf without freeing it, and a mempool cache hands out
 * mbufs that were detached at free; both would lose fragments.
 *
 * Concurrency: the pool may be used from any lcore or non-EAL thread, like
 * any mempool. pfrag_pktmbuf_pool_create() and pfrag_pktmbuf_pool_free() are
 * control-path calls.
 *
 * Frees: each lcore collects the fragments of the mbufs it frees and gives
 * them to pfrag 32 at a time (bursts of 32 or more at once), so that
 * consecutive fragments of one page cost one atomic operation together;
 * pfrag_mempool_flush() hands over what waits.
 *
 * Mempool cache: with none (cache_size 0) pfrag recycles every mbuf, and a
 * new mbuf is carved from memory not touched lately; with one (256, as
 * DPDK's examples use) the mbufs an lcore just freed come back hot and pfrag
 * backs the cache. pfrag_mempool_perf_autotest measures both against a
 * plain rte_pktmbuf pool: here about 2.3x its time per mbuf without a cache,
 * the same time with one.
 */

#include <stdint.h>

#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "pfrag.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Name of the mempool ops. */
#define PFRAG_MEMPOOL_OPS_NAME "pfrag"

/** Bytes in front of each mbuf in its fragment (room for the object header). */
#define PFRAG_MEMPOOL_HDR_SIZE RTE_CACHE_LINE_SIZE

/**
 * Fragment bytes one mbuf takes in a pool of @p priv_size private bytes and
 * @p data_room_size bytes of data room (RTE_PKTMBUF_HEADROOM included).
 */
static inline uint32_t
pfrag_pktmbuf_frag_size(uint16_t priv_size, uint16_t data_room_size)
{
	return PFRAG_MEMPOOL_HDR_SIZE + sizeof(struct rte_mbuf) + priv_size +
		data_room_size;
}

/**
 * Create a packet mbuf pool backed by @p pool.
 *
 * @param name
 *   Mempool name.
 * @param n
 *   Most mbufs out at once (allocated and not freed, in caches included);
 *   a dequeue beyond fails as with any mempool.
 * @param cache_size
 *   Per-lcore mempool cache (see above), 0 to let pfrag recycle every mbuf.
 * @param priv_size
 *   Application private bytes after each mbuf header, multiple of
 *   RTE_MBUF_PRIV_ALIGN.
 * @param data_room_size
 *   Data room, RTE_PKTMBUF_HEADROOM included; the fragment must fit a page.
 * @param pool
 *   The pfrag pool; it must outlive the mempool.
 * @return
 *   The mempool, or NULL with rte_errno set: EINVAL (bad argument, fragment
 *   larger than a page), ENOSPC, ENOMEM, EEXIST (as rte_mempool_create_empty).
 */
struct rte_mempool *
pfrag_pktmbuf_pool_create(const char *name, unsigned int n, unsigned int cache_size,
			  uint16_t priv_size, uint16_t data_room_size,
			  struct pfrag_pool *pool);

/**
 * Free a pool made by pfrag_pktmbuf_pool_create(). The per-lcore mempool
 * caches are flushed first (no lcore may use the pool meanwhile).
 *
 * @return
 *   0; -EBUSY (logged, nothing freed) while mbufs are out; -EINVAL when
 *   @p mp is NULL or not such a pool.
 */
int
pfrag_pktmbuf_pool_free(struct rte_mempool *mp);

/**
 * Give pfrag the fragments of freed mbufs that wait in the lcores' free
 * batches and mempool caches (control path: no lcore may use the pool
 * meanwhile). After it, pfrag's count of fragments out is exact.
 *
 * @return 0, or -EINVAL when @p mp is not such a pool.
 */
int
pfrag_mempool_flush(struct rte_mempool *mp);

/** True when @p mp was made by pfrag_pktmbuf_pool_create(). */
int
pfrag_mempool_is_pfrag(const struct rte_mempool *mp);

/** The pfrag pool behind @p mp, or NULL when @p mp is not such a pool. */
struct pfrag_pool *
pfrag_mempool_pool(const struct rte_mempool *mp);

/** Mbufs of @p mp out now: allocated, or resting in a mempool cache. */
unsigned int
pfrag_mempool_in_use(const struct rte_mempool *mp);

#ifdef __cplusplus
}
#endif

#endif /* _PFRAG_MEMPOOL_H_ */

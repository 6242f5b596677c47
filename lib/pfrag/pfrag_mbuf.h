/* SPDX-License-Identifier: BSD-3-Clause */

#ifndef _PFRAG_MBUF_H_
#define _PFRAG_MBUF_H_

/**
 * @file
 * The external-buffer bridge (driver-facing): a fragment becomes an mbuf's
 * packet data through DPDK's external buffers, as build_skb() wraps a page
 * fragment in Linux.
 *
 * Fragment layout: [ headroom | data room | rte_mbuf_ext_shared_info ].
 * The header mbuf comes from a small mempool of data-less mbufs; the shared
 * info in the fragment's tail carries the reference count of the data, and
 * its free callback calls pfrag_free(). So rte_pktmbuf_free(), clones and
 * refcounts work unchanged in any DPDK application, on any lcore.
 *
 * Three ways from pfrag to rte_mbuf, by role; an application often uses two,
 * port by port, and pfrag_mbuf_port_rx_frags() says which a port wants:
 * - the external-buffer bridge (pfrag_mbuf.h), driver-facing: a fragment of
 *   any size becomes an mbuf's data as an external buffer, on a header mbuf
 *   from a small mempool (pfrag_mbuf_hdr_pool_create()). For code that
 *   carves its own buffers and sizes them to the traffic; such a driver
 *   declares its ports (pfrag_mbuf_port_set_rx_frags()), whose RX queues
 *   then take header mbufs at most.
 * - the mempool ops "pfrag" (pfrag_mempool.h), application-facing: ordinary
 *   fixed-size mbufs, no external buffer, no header pool, on pfrag pages.
 *   For drivers and libraries that know nothing of pfrag (net_vhost,
 *   net_virtio_user, DPDK's own l2fwd and testpmd): any mempool takes the
 *   ops by name, pfrag_pktmbuf_pool_create() over a pfrag pool's pages.
 * - mbufs built in the fragment (below, pfrag_mbuf_build()), driver-facing:
 *   the fragment's first bytes are the mbuf itself [build_skb], a direct
 *   mbuf of the pool's pfrag_mbuf_pool(); no header mbuf at all. Our PMD's
 *   RX rings post these (a few hundred bytes a slot for 64-byte frames).
 *
 * Built in the fragment: pfrag_mbuf_build() makes the rte_mbuf
 * itself the fragment's first bytes,
 *
 *   [ struct rte_mbuf | headroom | data room ],
 *
 * a direct mbuf of the pool's mempool pfrag_mbuf_pool(). That mempool has
 * no objects of its own and no per-lcore cache: its "pfrag_mbuf" ops give
 * each freed mbuf's fragment back with pfrag_free_bulk(), so a burst freed
 * with rte_pktmbuf_free_bulk() costs one atomic per page, and no header
 * mbuf, shared info or free callback is involved. A driver carving its RX
 * buffers this way posts one fragment per packet and nothing else. These
 * mbufs have no mempool object header: a DPDK built with
 * RTE_LIBRTE_MEMPOOL_DEBUG, whose puts check object cookies, cannot free them.
 */

#include <stddef.h>
#include <string.h>

#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "pfrag.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Largest buffer an mbuf can describe (buf_len is 16 bits), 8-byte aligned. */
#define PFRAG_MBUF_MAX_BUF_LEN RTE_ALIGN_FLOOR(UINT16_MAX, sizeof(uint64_t))

/** Bytes a fragment needs for @p room bytes of buffer (headroom + data). */
static inline uint32_t
pfrag_mbuf_frag_size(uint32_t room)
{
	return RTE_ALIGN_CEIL(room, sizeof(uint64_t)) +
		sizeof(struct rte_mbuf_ext_shared_info);
}

/**
 * Free callback of every bridged mbuf: the data's last reference is gone.
 * Out of line so that its address identifies bridged mbufs in every module.
 */
void
pfrag_mbuf_free_cb(void *addr, void *opaque);

/**
 * Attach fragment @p frag of @p frag_size bytes (from pfrag_mbuf_frag_size(),
 * 8-byte aligned) to header mbuf @p m as its data buffer, with @p headroom
 * bytes before the data. The mbuf owns the fragment's reference from then on.
 * A buffer beyond PFRAG_MBUF_MAX_BUF_LEN is described as that long (the rest
 * of the fragment goes unused), never as a length cut to 16 bits.
 */
static inline void
pfrag_mbuf_attach(struct rte_mbuf *m, void *frag, uint32_t frag_size,
		  uint16_t headroom)
{
	uint32_t buf_len = RTE_MIN(RTE_ALIGN_FLOOR(frag_size -
			sizeof(struct rte_mbuf_ext_shared_info), sizeof(uint64_t)),
			(uint32_t)PFRAG_MBUF_MAX_BUF_LEN);
	struct rte_mbuf_ext_shared_info *shinfo =
		(struct rte_mbuf_ext_shared_info *)((uint8_t *)frag + buf_len);

	shinfo->free_cb = pfrag_mbuf_free_cb;
	shinfo->fcb_opaque = NULL;
	rte_mbuf_ext_refcnt_set(shinfo, 1);
	/* No IOVA for the page: RTE_BAD_IOVA, never RTE_BAD_IOVA + offset. */
	rte_pktmbuf_attach_extbuf(m, frag, pfrag_iova(frag), (uint16_t)buf_len, shinfo);
	m->data_off = RTE_MIN(headroom, (uint16_t)buf_len);
}

/**
 * @internal Header from @p hdr_pool, fragment from @p cache, or from
 * @p pool's cache for the calling thread when @p cache is NULL.
 */
static __rte_always_inline struct rte_mbuf *
__pfrag_pktmbuf_alloc(struct rte_mempool *hdr_pool, struct pfrag_pool *pool,
		      struct pfrag_cache *cache, uint32_t data_room)
{
	uint32_t size = pfrag_mbuf_frag_size(RTE_PKTMBUF_HEADROOM + data_room);
	struct rte_mbuf *m;
	void *frag;

	/* The aligned buffer must fit buf_len: rooms up to 64 KiB - 8. */
	if (unlikely(data_room > PFRAG_MBUF_MAX_BUF_LEN - RTE_PKTMBUF_HEADROOM)) {
		rte_errno = EINVAL;
		return NULL;
	}
	m = rte_pktmbuf_alloc(hdr_pool);
	if (unlikely(m == NULL)) {
		/* rte_pktmbuf_alloc() leaves rte_errno as it was. */
		rte_errno = ENOENT;
		return NULL;
	}
	frag = cache != NULL ? pfrag_cache_alloc(cache, size, RTE_CACHE_LINE_SIZE) :
		pfrag_alloc(pool, size, RTE_CACHE_LINE_SIZE);
	if (unlikely(frag == NULL)) {
		int err = rte_errno;

		rte_pktmbuf_free(m);
		rte_errno = err;
		return NULL;
	}
	pfrag_mbuf_attach(m, frag, size, RTE_PKTMBUF_HEADROOM);
	return m;
}

/**
 * An mbuf with @p data_room bytes of data room after RTE_PKTMBUF_HEADROOM,
 * its buffer a fragment from @p cache, its header from @p hdr_pool.
 * NULL with rte_errno set: EINVAL when the room exceeds what an mbuf can
 * describe (PFRAG_MBUF_MAX_BUF_LEN with the headroom) or a page, ENOBUFS
 * when the pool is empty, ENOENT when the header pool is.
 */
static inline struct rte_mbuf *
pfrag_cache_pktmbuf_alloc(struct rte_mempool *hdr_pool, struct pfrag_cache *cache,
			  uint32_t data_room)
{
	return __pfrag_pktmbuf_alloc(hdr_pool, NULL, cache, data_room);
}

/**
 * pfrag_cache_pktmbuf_alloc() with the calling lcore's cache of @p pool; on
 * a non-EAL thread, the pool's shared cache, as pfrag_alloc() does.
 */
static inline struct rte_mbuf *
pfrag_pktmbuf_alloc(struct rte_mempool *hdr_pool, struct pfrag_pool *pool,
		    uint32_t data_room)
{
	return __pfrag_pktmbuf_alloc(hdr_pool, pool, NULL, data_room);
}

/** Name of the mempool ops of pfrag_mbuf_pool(). */
#define PFRAG_MBUF_OPS_NAME "pfrag_mbuf"

/** Bytes a fragment needs to hold an mbuf built in it with @p room bytes of buffer. */
static inline uint32_t
pfrag_mbuf_build_size(uint32_t room)
{
	return RTE_ALIGN_CEIL((uint32_t)sizeof(struct rte_mbuf) + room, RTE_CACHE_LINE_SIZE);
}

/**
 * The mempool of the mbufs built in @p pool's fragments (pfrag_mbuf_build()),
 * made on the first call; control path. It lives as long as @p pool: it is
 * freed with it, once the last fragment, and so the last mbuf, is back.
 * rte_pktmbuf_alloc() from it carves an mbuf with @p data_room bytes of
 * data room after RTE_PKTMBUF_HEADROOM from the calling lcore's cache of
 * @p pool (the room of the first call stays; rte_pktmbuf_data_room_size()
 * reports it).
 *
 * @return The mempool, or NULL with rte_errno set (EINVAL: no pool or a room
 *   that does not fit a page or an mbuf; ENOMEM, ENOSPC: as
 *   rte_mempool_create_empty()).
 */
struct rte_mempool *
pfrag_mbuf_pool(struct pfrag_pool *pool, uint16_t data_room);

/**
 * Make fragment @p frag of @p frag_size bytes (64-byte aligned, at least
 * pfrag_mbuf_build_size() of a room) a direct mbuf of @p mp (its
 * pfrag_mbuf_pool()) whose buffer is the rest of the fragment: data_off
 * RTE_PKTMBUF_HEADROOM, no data yet, refcnt 1, one segment, no port. The
 * mbuf owns the fragment's reference: freeing the mbuf frees the fragment.
 * @p iova is the fragment's IO address (RTE_BAD_IOVA when it has none).
 * Nothing is read from the fragment: its bytes may be anything before.
 */
static __rte_always_inline struct rte_mbuf *
pfrag_mbuf_build(struct rte_mempool *mp, void *frag, rte_iova_t iova, uint32_t frag_size)
{
	struct rte_mbuf *m = (struct rte_mbuf *)frag;
	uint32_t buf_len = RTE_MIN(frag_size - (uint32_t)sizeof(*m),
				   (uint32_t)PFRAG_MBUF_MAX_BUF_LEN);

	m->buf_addr = m + 1;
	rte_mbuf_iova_set(m, iova == RTE_BAD_IOVA ? RTE_BAD_IOVA : iova + sizeof(*m));
	m->data_off = RTE_MIN((uint16_t)RTE_PKTMBUF_HEADROOM, (uint16_t)buf_len);
	rte_mbuf_refcnt_set(m, 1);
	m->nb_segs = 1;
	m->port = RTE_MBUF_PORT_INVALID;
	m->ol_flags = 0;
	m->packet_type = 0;
	m->pkt_len = 0;
	m->data_len = 0;
	m->vlan_tci = 0;
	m->vlan_tci_outer = 0;
	m->buf_len = (uint16_t)buf_len;
	m->pool = mp;
	m->next = NULL;
	m->tx_offload = 0;
	m->priv_size = 0;
	return m;
}

/** Bytes of an mbuf that pfrag_mbuf_build_from() copies from its template. */
#define PFRAG_MBUF_TMPL_LEN offsetof(struct rte_mbuf, dynfield1)

/**
 * Make @p tmpl the template of the mbufs pfrag_mbuf_build() would build in
 * fragments of @p frag_size bytes for @p mp: everything but the addresses
 * is the same for all of them. For a refill of many fragments of one size.
 */
static inline void
pfrag_mbuf_template(struct rte_mbuf *tmpl, struct rte_mempool *mp, uint32_t frag_size)
{
	memset(tmpl, 0, sizeof(*tmpl));
	pfrag_mbuf_build(mp, tmpl, RTE_BAD_IOVA, frag_size);
}

/**
 * pfrag_mbuf_build() from a template of pfrag_mbuf_template(): the same
 * mbuf, written as a copy of the template's first PFRAG_MBUF_TMPL_LEN bytes
 * (wide stores: with the addresses, 8 stores where field by field takes 12).
 * The fragments' mbuf lines are usually out of the cache when a driver
 * refills its ring, so fewer stores wait for them.
 */
static __rte_always_inline struct rte_mbuf *
pfrag_mbuf_build_from(const struct rte_mbuf *tmpl, void *frag, rte_iova_t iova)
{
	struct rte_mbuf *m = (struct rte_mbuf *)frag;

	memcpy(m, tmpl, PFRAG_MBUF_TMPL_LEN);
	m->buf_addr = m + 1;
	rte_mbuf_iova_set(m, iova == RTE_BAD_IOVA ? RTE_BAD_IOVA : iova + sizeof(*m));
	return m;
}

/**
 * Free @p n mbufs (NULL entries are skipped), as rte_pktmbuf_free_bulk()
 * does. Mbufs built in fragments of this module's pools that nobody else
 * holds (refcnt 1, one segment, direct) go straight back to their pages with
 * pfrag_free_bulk(): one atomic per page, no mempool layer; the others are
 * freed with rte_pktmbuf_free_bulk(). For a driver's TX completions.
 */
void
pfrag_pktmbuf_free_bulk(struct rte_mbuf **pkts, unsigned int n);

/**
 * True when @p m's data is a pfrag fragment: an external buffer of the
 * bridge, or an mbuf built in its fragment.
 */
static inline int
pfrag_mbuf_is_frag(const struct rte_mbuf *m)
{
	/* A clone's data is its direct mbuf's. */
	if (RTE_MBUF_CLONED(m))
		m = rte_mbuf_from_indirect((struct rte_mbuf *)(uintptr_t)m);
	if (RTE_MBUF_HAS_EXTBUF(m))
		return m->shinfo->free_cb == pfrag_mbuf_free_cb;
	/* Not an mbuf of a "pfrag" mempool, whose pages a pool may give too. */
	return m->pool != NULL && m->buf_addr == (const void *)(m + 1) &&
		strcmp(rte_mempool_get_ops(m->pool->ops_index)->name,
		       PFRAG_MBUF_OPS_NAME) == 0 &&
		pfrag_virt2pool(m) == m->pool->pool_config;
}

/**
 * Declare whether ethdev port @p port_id posts pfrag fragments in its RX
 * rings (@p on non-zero) or no longer does (0). Such a port takes at most
 * header mbufs from the mempool given to rte_eth_rx_queue_setup() (virtio_frag
 * takes none: it builds its mbufs in the fragments): a
 * driver of this kind calls this when it sets a port up and when it closes
 * it, so that applications need not know drivers by name. Ports out of
 * range are ignored.
 */
void
pfrag_mbuf_port_set_rx_frags(uint16_t port_id, int on);

/**
 * Which RX mempool port @p port_id wants: true when its driver posts pfrag
 * fragments (pfrag_mbuf_port_set_rx_frags()), so that a mempool of header
 * mbufs (pfrag_mbuf_hdr_pool_create()) is enough; false for every other
 * port, which needs mbufs with data room (a pfrag mempool, see
 * pfrag_mempool.h, or any pktmbuf pool). The driver and the application
 * must share one libpfrag (linked in, or both loaded with it).
 */
int
pfrag_mbuf_port_rx_frags(uint16_t port_id);

/**
 * Create a mempool of header mbufs for the bridge (data room: just
 * RTE_PKTMBUF_HEADROOM, so that rte_eth_rx_queue_setup() of a fragment-posting
 * driver accepts it), with a per-lcore cache. NULL with rte_errno set.
 */
struct rte_mempool *
pfrag_mbuf_hdr_pool_create(const char *name, unsigned int n, int socket_id);

#ifdef __cplusplus
}
#endif

#endif /* _PFRAG_MBUF_H_ */

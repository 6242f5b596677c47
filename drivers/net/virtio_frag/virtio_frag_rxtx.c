/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Data path: RX queues post pfrag fragments as device-writable descriptors,
 * TX queues chain any mbuf behind a virtio-net header. Both rings are split
 * virtqueues; every used entry the device writes back is checked before the
 * driver trusts it.
 */

#include <stdlib.h>
#include <string.h>

#include <rte_atomic.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>

#include <pfrag_mbuf.h>

#include "virtio_frag.h"

/*
 * An RX fragment is [ struct rte_mbuf | headroom | data room ]: the mbuf is
 * built in it at refill [build_skb], and the device writes the virtio-net
 * header at the end of the headroom, the frame after it.
 */
#define VFRAG_RX_HDR_OFF(hdr_len) ((uint32_t)sizeof(struct rte_mbuf) + \
				   RTE_PKTMBUF_HEADROOM - (hdr_len))

uint32_t
virtio_frag_frag_size(uint32_t room)
{
	return pfrag_mbuf_build_size(RTE_PKTMBUF_HEADROOM + room);
}

/*
 * A chain holds (header + room) bytes per buffer, the virtio-net header once.
 * Below this room the largest frame of the MTU would span more than
 * VFRAG_RX_FLOOR_CHAIN buffers or more than the ring holds
 * [Linux: mergeable_min_buf_len()]. Buffers posted before an MTU is raised
 * keep their size until the ring has turned over; they are never smaller
 * than VFRAG_RX_ROOM_MIN, so a frame of the new MTU spans at most
 * VFRAG_MAX_CHAIN of them and is still accepted.
 */
uint32_t
virtio_frag_rx_room_floor(uint16_t mtu, uint16_t nb_desc)
{
	uint32_t nbuf = RTE_MIN((uint32_t)nb_desc, VFRAG_RX_FLOOR_CHAIN);
	uint32_t need = VFRAG_HDR_LEN + VFRAG_MAX_FRAME(mtu);
	uint32_t per_buf = (need + nbuf - 1) / nbuf;

	if (per_buf <= VFRAG_HDR_LEN)
		return 0;
	return RTE_ALIGN_CEIL(per_buf - VFRAG_HDR_LEN, VFRAG_RX_BUF_STEP);
}

/*
 * Buffer size of the next refill. Mergeable buffers let a packet span
 * several buffers, so they can follow the traffic and keep 64-byte traffic
 * on small fragments instead of pinning 2 KB per slot. They follow the
 * largest frame of the last 256 to 512 packets (this window and the one
 * before), not the average as Linux virtio_net does: a frame split over
 * two buffers cost a vhost-user peer more than a microsecond, so the
 * average's buffers (IMIX: 384 bytes, every 1500-byte frame in four) and
 * even a decaying maximum that now and then fell under the largest frame
 * (a 1500-byte frame in two for 1 packet of 12) ran IMIX at about half the
 * rate of 2 KB mbufs, where buffers that hold every frame of the mix run
 * it at par. Small traffic still shrinks the buffers within 512 packets.
 * The floor keeps the largest frame of the current MTU deliverable
 * whatever the traffic says.
 */
uint32_t
virtio_frag_rx_room(const struct virtio_frag_vq *vq)
{
	const struct virtio_frag_hw *hw = vq->hw;
	/* mtu_set writes it from the control thread. */
	uint16_t mtu = __atomic_load_n(&hw->mtu, __ATOMIC_RELAXED);
	uint32_t room, floor;

	if (!vfrag_with_feature(hw, VFRAG_NET_F_MRG_RXBUF))
		return RTE_MAX(vq->rx_buf_size, VFRAG_MAX_FRAME(mtu));
	floor = virtio_frag_rx_room_floor(mtu, vq->nb_desc);
	if (vq->rx_buf_size != 0)
		return RTE_MAX(vq->rx_buf_size, floor);
	room = RTE_ALIGN_CEIL(RTE_MAX(vq->rx_win_max, vq->rx_prev_max), VFRAG_RX_BUF_STEP);
	return RTE_MIN(RTE_MAX(room, RTE_MAX(floor, VFRAG_RX_BUF_MIN)), VFRAG_RX_BUF_MAX);
}

uint32_t
virtio_frag_rx_room_max(const struct virtio_frag_vq *vq, int mergeable)
{
	const struct virtio_frag_hw *hw = vq->hw;
	uint16_t mtu = __atomic_load_n(&hw->mtu, __ATOMIC_RELAXED);

	if (!mergeable)
		return RTE_MAX(vq->rx_buf_size, VFRAG_MAX_FRAME(mtu));
	if (vq->rx_buf_size != 0)
		return RTE_MAX(vq->rx_buf_size, virtio_frag_rx_room_floor(mtu, vq->nb_desc));
	return VFRAG_RX_BUF_MAX;
}

static __rte_always_inline void
vfrag_kick(struct virtio_frag_vq *vq)
{
	/* The avail index must be visible before we read whether to kick. */
	rte_atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!(__atomic_load_n(&vq->vr.used->flags, __ATOMIC_RELAXED) &
	      VRING_USED_F_NO_NOTIFY)) {
		vq->hw->ops->notify_queue(vq->hw, vq);
		vq->stats.kicks++;
	}
}

/*
 * Post fragments into every free RX slot the pool can fill, each with its
 * mbuf built in front: receiving then only fills in lengths. The mbufs are
 * copies of one template: their lines have been out of the cache for a
 * ring's turn, and wide stores keep fewer of them waiting (DPDK's l2fwd
 * with -d forwarded 11% more than field by field). The pool hands
 * out a bulk all or nothing: when it runs low, smaller bulks take what is
 * left, so a nearly empty pool still keeps the ring partly filled.
 */
static int
vfrag_rx_refill(struct virtio_frag_vq *vq)
{
	uint32_t room = virtio_frag_rx_room(vq);
	uint32_t fsize = virtio_frag_frag_size(room);
	uint32_t post_len = vq->hdr_len + room;
	struct vring_desc *desc = vq->vr.desc;
	uint16_t avail_idx = vq->avail_idx;
	void *va[VFRAG_MAX_BURST];
	rte_iova_t iova[VFRAG_MAX_BURST];
	unsigned int n, i, want = VFRAG_MAX_BURST;
	struct rte_mbuf tmpl;
	uint16_t id;
	int posted = 0;

	pfrag_mbuf_template(&tmpl, vq->mbuf_mp, fsize);
	while (vq->rx_nb_free > 0) {
		n = RTE_MIN(vq->rx_nb_free, want);
		if (pfrag_cache_alloc_bulk(&vq->cache, fsize, RTE_CACHE_LINE_SIZE, va,
					   iova, n) != 0) {
			if (n > 1) {
				want = n / 2;
				continue;
			}
			vq->stats.nombuf++;
			break;
		}
		for (i = 0; i < n; i++) {
			id = vq->rx_free_ids[--vq->rx_nb_free];
			vq->rx_slots[id].frag = va[i];
			vq->rx_slots[id].len = post_len;
			vq->rx_slots[id].fsize = fsize;
			pfrag_mbuf_build_from(&tmpl, va[i], iova[i]);
			desc[id].addr = (vq->use_va ? (uint64_t)(uintptr_t)va[i] : iova[i]) +
				VFRAG_RX_HDR_OFF(vq->hdr_len);
			desc[id].len = post_len;
			desc[id].flags = VRING_DESC_F_WRITE;
			vq->vr.avail->ring[avail_idx++ & vq->mask] = id;
		}
		vq->rx_posted += n;
		vq->rx_posted_bytes += (uint64_t)n * fsize;
		posted += n;
	}
	if (posted == 0)
		return 0;
	vq->avail_idx = avail_idx;
	/* Descriptors are written before the device can see the new index. */
	__atomic_store_n(&vq->vr.avail->idx, avail_idx, __ATOMIC_RELEASE);
	vfrag_kick(vq);
	return posted;
}

/* Take the fragment of used descriptor @p id back from the ring. */
static __rte_always_inline void *
vfrag_rx_take(struct virtio_frag_vq *vq, uint16_t id, uint32_t *fsize)
{
	void *frag = vq->rx_slots[id].frag;

	vq->rx_slots[id].frag = NULL;
	vq->rx_free_ids[vq->rx_nb_free++] = id;
	vq->rx_posted--;
	*fsize = vq->rx_slots[id].fsize;
	vq->rx_posted_bytes -= *fsize;
	return frag;
}

/* Posted and ours: the device may complete this id. */
static __rte_always_inline int
vfrag_rx_id_ok(const struct virtio_frag_vq *vq, uint32_t id)
{
	return id < vq->nb_desc && vq->rx_slots[id].frag != NULL;
}

/*
 * Drop the chain being assembled and consume its @p rest buffers still to
 * come, so that none of them is parsed as a packet of its own: their bytes
 * are a sender's payload, not a header. The rest cannot exceed what the
 * device holds, so a lying num_buffers costs at most one ring.
 */
static void
vfrag_rx_drop_chain(struct virtio_frag_vq *vq, uint32_t rest)
{
	if (vq->rx_partial != NULL) {
		rte_pktmbuf_free(vq->rx_partial);
		vq->rx_partial = NULL;
		vq->rx_last = NULL;
	}
	vq->rx_seg_left = 0;
	vq->rx_discard = (uint16_t)RTE_MIN(rest, (uint32_t)vq->rx_posted);
}

/* A buffer of a dropped chain: give it back if it is ours. */
static __rte_always_inline void
vfrag_rx_discard_one(struct virtio_frag_vq *vq, uint32_t eid)
{
	uint32_t fsize;

	vq->rx_discard--;
	vq->stats.discarded++;
	if (likely(vfrag_rx_id_ok(vq, eid)))
		pfrag_free(vfrag_rx_take(vq, (uint16_t)eid, &fsize));
	else
		vq->stats.bad_desc++;   /* not ours: nothing to free */
}

/*
 * The device's num_buffers, read once: the buffer is device-writable. Only
 * with mergeable buffers, whose header is always 12 bytes.
 */
static __rte_always_inline uint16_t
vfrag_rx_num_buffers(const void *frag)
{
	const uint16_t *p = (const uint16_t *)((const uint8_t *)frag +
		VFRAG_RX_HDR_OFF(VFRAG_HDR_LEN) + offsetof(struct virtio_net_hdr_mrg, num_buffers));

	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

/*
 * The device moved its used index more than a ring past ours (forwards or
 * backwards): the entries in between cannot be read. Follow its index, so
 * that a device that behaves again is served again; the buffers it may have
 * completed in the gap stay posted (it may still own them) until it returns
 * them or the queue is reset at stop.
 */
static void
vfrag_resync(struct virtio_frag_vq *vq, uint16_t used_idx)
{
	vq->stats.idx_jumps++;
	vq->used_cons = used_idx;
	if (!vq->is_tx)
		vfrag_rx_drop_chain(vq, 0);
}

uint16_t
virtio_frag_recv_pkts(void *rx_queue, struct rte_mbuf **pkts, uint16_t nb_pkts)
{
	struct virtio_frag_vq *vq = rx_queue;
	struct vring_used *used = vq->vr.used;
	uint16_t nb_used, nb_rx = 0, used_idx, nbuf;
	int mergeable = vfrag_with_feature(vq->hw, VFRAG_NET_F_MRG_RXBUF);
	uint32_t len, fsize, eid, win_max = vq->rx_win_max;
	uint64_t bytes = 0;
	struct rte_mbuf *m;
	void *frag;

	if (unlikely(!vq->hw->started))
		return 0;
	/* Entries are read only after the index that covers them. */
	used_idx = __atomic_load_n(&used->idx, __ATOMIC_ACQUIRE);
	nb_used = used_idx - vq->used_cons;
	if (nb_used == 0)
		goto refill;
	if (unlikely(nb_used > vq->nb_desc)) {
		vq->stats.bad_desc++;
		vfrag_resync(vq, used_idx);
		goto refill;
	}
	nb_pkts = RTE_MIN(nb_pkts, VFRAG_MAX_BURST);

	while (nb_used > 0 && nb_rx < nb_pkts) {
		const struct vring_used_elem *e = &used->ring[vq->used_cons & vq->mask];

		/* Read the device's entry once: it must not change under the checks. */
		eid = __atomic_load_n(&e->id, __ATOMIC_RELAXED);
		len = __atomic_load_n(&e->len, __ATOMIC_RELAXED);
		vq->used_cons++;
		nb_used--;
		if (nb_used > 0) {
			/* The next packet's mbuf and header lines, while this one is built. */
			uint32_t nid = __atomic_load_n(&used->ring[vq->used_cons & vq->mask].id,
						       __ATOMIC_RELAXED);

			if (likely(vfrag_rx_id_ok(vq, nid))) {
				rte_prefetch0(vq->rx_slots[nid].frag);
				rte_prefetch0((uint8_t *)vq->rx_slots[nid].frag +
					      VFRAG_RX_HDR_OFF(vq->hdr_len));
			}
		}
		if (unlikely(vq->rx_discard > 0)) {
			vfrag_rx_discard_one(vq, eid);
			continue;
		}
		if (unlikely(!vfrag_rx_id_ok(vq, eid))) {
			VFRAG_DP_LOG(DEBUG, "used id %u not posted", eid);
			vq->stats.bad_desc++;
			/* Not ours, but it stands for one buffer of the chain. */
			if (vq->rx_seg_left > 0)
				vfrag_rx_drop_chain(vq, vq->rx_seg_left - 1u);
			continue;
		}
		if (unlikely(len > vq->rx_slots[eid].len || len == 0 ||
			     (vq->rx_seg_left == 0 && len <= vq->hdr_len))) {
			VFRAG_DP_LOG(DEBUG, "used id %u len %u posted %u", eid, len,
				     vq->rx_slots[eid].len);
			vq->stats.bad_desc++;
			pfrag_free(vfrag_rx_take(vq, (uint16_t)eid, &fsize));
			/*
			 * Mid-chain, the rest is known from the head; a head too
			 * short for its header says nothing about a rest.
			 */
			if (vq->rx_seg_left > 0)
				vfrag_rx_drop_chain(vq, vq->rx_seg_left - 1u);
			continue;
		}
		frag = vfrag_rx_take(vq, (uint16_t)eid, &fsize);
		nbuf = 1;
		if (vq->rx_seg_left == 0 && mergeable) {
			nbuf = vfrag_rx_num_buffers(frag);
			if (unlikely(nbuf == 0 || nbuf > VFRAG_MAX_CHAIN)) {
				vq->stats.bad_desc++;
				pfrag_free(frag);
				if (nbuf > 1)
					vfrag_rx_drop_chain(vq, nbuf - 1u);
				continue;
			}
		}
		/* The mbuf was built in the fragment when it was posted. */
		m = frag;
		m->port = vq->port_id;

		if (vq->rx_seg_left == 0) {
			m->data_len = (uint16_t)(len - vq->hdr_len);
			m->pkt_len = m->data_len;
			if (nbuf > 1) {
				vq->rx_partial = m;
				vq->rx_last = m;
				vq->rx_seg_left = nbuf - 1;
				continue;
			}
		} else {
			/* Later buffers of a chain carry no header: data from the start. */
			m->data_off = RTE_PKTMBUF_HEADROOM - VFRAG_HDR_LEN;
			m->data_len = (uint16_t)len;
			vq->rx_last->next = m;
			vq->rx_last = m;
			vq->rx_partial->nb_segs++;
			vq->rx_partial->pkt_len += len;
			if (--vq->rx_seg_left > 0)
				continue;
			m = vq->rx_partial;
			vq->rx_partial = NULL;
			vq->rx_last = NULL;
			vq->stats.multiseg++;
		}
		win_max = RTE_MAX(win_max, m->pkt_len);
		bytes += m->pkt_len;
		pkts[nb_rx++] = m;
	}
	vq->stats.packets += nb_rx;
	vq->stats.bytes += bytes;
	vq->rx_win_max = win_max;
	vq->rx_win_pkts += nb_rx;
	if (vq->rx_win_pkts >= VFRAG_RX_WINDOW) {
		vq->rx_prev_max = win_max;
		vq->rx_win_max = 0;
		vq->rx_win_pkts = 0;
	}
refill:
	if (vq->rx_nb_free >= VFRAG_RX_FREE_THRESH ||
	    unlikely(vq->rx_nb_free == vq->nb_desc))
		vfrag_rx_refill(vq);
	return nb_rx;
}

/* Fragments handed to one pfrag_drain_bulk() call by the RX reclaim. */
#define VFRAG_RECLAIM_CHUNK 64

/*
 * RX teardown: the device no longer owns the ring, so every posted fragment
 * is ours again. A refill posts a page's fragments on neighbouring slots
 * (a burst of them, in the order the free ids come back), so slot order is
 * mostly runs of one page, and pfrag_drain_bulk() drops each run with one
 * pfrag_page_drain() [__page_frag_cache_drain]. Sorting by address would
 * merge the few runs that a wrap splits, but costs more than it saves; a
 * ring in no order at all costs one atomic a fragment, as frees would.
 */
static void
vfrag_rx_reclaim(struct virtio_frag_vq *vq)
{
	void *frags[VFRAG_RECLAIM_CHUNK];
	uint32_t n = 0, i;

	vfrag_rx_drop_chain(vq, 0);
	if (vq->rx_slots == NULL)
		return;
	for (i = 0; i < vq->nb_desc; i++) {
		if (vq->rx_slots[i].frag == NULL)
			continue;
		frags[n++] = vq->rx_slots[i].frag;
		vq->rx_slots[i].frag = NULL;
		if (n == VFRAG_RECLAIM_CHUNK) {
			vq->stats.drains += pfrag_drain_bulk(frags, n);
			vq->stats.drained_frags += n;
			n = 0;
		}
	}
	if (n > 0) {
		vq->stats.drains += pfrag_drain_bulk(frags, n);
		vq->stats.drained_frags += n;
	}
	vq->rx_nb_free = 0;
	for (i = 0; i < vq->nb_desc; i++)
		vq->rx_free_ids[vq->rx_nb_free++] = (uint16_t)i;
	vq->rx_posted = 0;
	vq->rx_posted_bytes = 0;
	/* The cache's current page and unused bias go back too. */
	if (vq->cache_ready)
		pfrag_cache_drain(&vq->cache);
}

/*
 * In order, chains finish in the order they were posted: a used entry for a
 * chain means every older chain is done too (a device may write only the
 * last entry of a batch). So only the newest entry is read: the others say
 * nothing more, and each line of the used ring read is a line the device
 * is writing. Chains go back oldest first, and their descriptors stay
 * linked in the reset circle, so no next pointer is written.
 */
static uint16_t
vfrag_tx_cleanup_inorder(struct virtio_frag_vq *vq, uint16_t nb_used)
{
	struct vring_used *used = vq->vr.used;
	struct rte_mbuf *done[VFRAG_MAX_BURST];
	uint16_t nb_done = 0, freed = 0, head;
	struct vfrag_tx_slot *slot;
	uint32_t eid;

	if (nb_used == 0)
		return 0;
	vq->used_cons += nb_used;
	eid = __atomic_load_n(&used->ring[(uint16_t)(vq->used_cons - 1) & vq->mask].id,
			      __ATOMIC_RELAXED);
	if (unlikely(eid >= vq->nb_desc || vq->tx_slots[eid].m == NULL)) {
		vq->stats.errors++;
		return 0;
	}
	do {
		head = vq->tx_done;
		slot = &vq->tx_slots[head];
		if (unlikely(slot->m == NULL)) {
			/* Not posted: our books and the ring disagree. */
			vq->stats.errors++;
			break;
		}
		vq->tx_done = (head + slot->ndesc) & vq->mask;
		vq->nb_free += slot->ndesc;
		done[nb_done++] = slot->m;
		slot->m = NULL;
		freed++;
		if (nb_done == VFRAG_MAX_BURST) {
			pfrag_pktmbuf_free_bulk(done, nb_done);
			nb_done = 0;
		}
	} while (head != eid);
	if (nb_done > 0)
		pfrag_pktmbuf_free_bulk(done, nb_done);
	return freed;
}

/*
 * Give back the descriptors of finished TX chains and free their mbufs. The
 * chain is walked through the private tx_next[]: desc[].next is the device's
 * to scribble on.
 */
uint16_t
virtio_frag_tx_cleanup(struct virtio_frag_vq *vq)
{
	struct vring_used *used = vq->vr.used;
	struct rte_mbuf *done[VFRAG_MAX_BURST];
	uint16_t nb_used, nb_done = 0, freed = 0, id, last, k, n, used_idx;

	used_idx = __atomic_load_n(&used->idx, __ATOMIC_ACQUIRE);
	nb_used = used_idx - vq->used_cons;
	if (unlikely(nb_used > vq->nb_desc)) {
		vq->stats.errors++;
		vfrag_resync(vq, used_idx);
		return 0;
	}
	if (vq->in_order)
		return vfrag_tx_cleanup_inorder(vq, nb_used);
	while (nb_used-- > 0) {
		uint32_t eid = __atomic_load_n(&used->ring[vq->used_cons & vq->mask].id,
					       __ATOMIC_RELAXED);

		vq->used_cons++;
		id = (uint16_t)eid;
		if (unlikely(eid >= vq->nb_desc || vq->tx_slots[id].m == NULL)) {
			vq->stats.errors++;
			continue;
		}
		n = vq->tx_slots[id].ndesc;
		last = id;
		for (k = 1; k < n; k++)
			last = vq->tx_next[last];
		vq->tx_next[last] = vq->free_head;
		vq->free_head = id;
		vq->nb_free += n;
		done[nb_done++] = vq->tx_slots[id].m;
		vq->tx_slots[id].m = NULL;
		freed++;
		if (nb_done == VFRAG_MAX_BURST) {
			pfrag_pktmbuf_free_bulk(done, nb_done);
			nb_done = 0;
		}
	}
	if (nb_done > 0)
		pfrag_pktmbuf_free_bulk(done, nb_done);
	return freed;
}

/* IOVA transports: a segment without an IO address must not reach a descriptor. */
static __rte_always_inline int
vfrag_tx_no_iova(const struct rte_mbuf *m)
{
	for (; m != NULL; m = m->next)
		if (unlikely(m->buf_iova == RTE_BAD_IOVA))
			return 1;
	return 0;
}

static __rte_always_inline uint64_t
vfrag_seg_addr(const int iova, const struct rte_mbuf *m)
{
	return !iova ? (uint64_t)rte_pktmbuf_mtod(m, uintptr_t) : rte_pktmbuf_iova(m);
}

/*
 * The header can go in the mbuf's own headroom (one descriptor, VERSION_1
 * allows any layout) only when nobody else sees those bytes.
 */
static __rte_always_inline int
vfrag_tx_can_push(const struct rte_mbuf *m, uint16_t hdr_len)
{
	if (m->nb_segs != 1 || rte_mbuf_refcnt_read(m) != 1 ||
	    rte_pktmbuf_headroom(m) < hdr_len)
		return 0;
	if (RTE_MBUF_DIRECT(m))
		return 1;
	return RTE_MBUF_HAS_EXTBUF(m) && rte_mbuf_ext_refcnt_read(m->shinfo) == 1;
}

/*
 * Zero the virtio-net header in a packet's headroom, writing only what is
 * not zero already: a buffer sent before keeps its zeroed header, and
 * leaving its line clean spares the device a miss on our cache when it
 * reads the header back.
 */
static __rte_always_inline void
vfrag_tx_hdr_clear(void *p, uint16_t hdr_len)
{
	uint64_t lo;
	uint32_t hi;
	uint16_t hi16;

	memcpy(&lo, p, sizeof(lo));
	if (likely(hdr_len == VFRAG_HDR_LEN)) {
		memcpy(&hi, (uint8_t *)p + sizeof(lo), sizeof(hi));
		if (unlikely((lo | hi) != 0))
			memset(p, 0, VFRAG_HDR_LEN);
		return;
	}
	/* A legacy 10-byte header ends 2 bytes on: the frame follows, untouched. */
	memcpy(&hi16, (uint8_t *)p + sizeof(lo), sizeof(hi16));
	if ((lo | hi16) != 0)
		memset(p, 0, VFRAG_HDR_LEN_LEGACY);
}

/*
 * The TX burst, for a queue whose descriptors carry VAs (@p iova 0:
 * vhost-user, VERSION_1 always, 12-byte header) or IOVAs (1: PCI, the
 * header the negotiation gave, segments without IOVA refused). Constant
 * per caller, so the VA burst pays nothing for the IOVA one.
 */
static __rte_always_inline uint16_t
vfrag_xmit(void *tx_queue, struct rte_mbuf **pkts, uint16_t nb_pkts, const int iova)
{
	struct virtio_frag_vq *vq = tx_queue;
	struct vring_desc *desc = vq->vr.desc;
	const uint16_t *next = vq->tx_next;
	uint16_t avail_idx = vq->avail_idx;
	uint16_t nb_tx, head, idx, last, queued = 0;
	const uint16_t hdr_len = iova ? vq->hdr_len : VFRAG_HDR_LEN;
	struct rte_mbuf *m, *seg;
	uint32_t need;
	uint64_t bytes = 0;

	if (unlikely(!vq->hw->started))
		return 0;
	if (vq->nb_free < VFRAG_TX_FREE_THRESH)
		virtio_frag_tx_cleanup(vq);

	for (nb_tx = 0; nb_tx < nb_pkts; nb_tx++) {
		m = pkts[nb_tx];
		/* 32 bits: 65535 segments and the header do not wrap to 0. */
		if (vfrag_tx_can_push(m, hdr_len))
			need = 1;
		else
			need = (uint32_t)m->nb_segs + 1;
		if (iova && unlikely(vfrag_tx_no_iova(m))) {
			vq->stats.no_iova++;
			rte_pktmbuf_free(m);
			continue;
		}
		if (unlikely(need > vq->nb_desc)) {
			/* More segments than the ring has descriptors: never fits. */
			vq->stats.dropped++;
			rte_pktmbuf_free(m);
			continue;
		}
		if (unlikely(need > vq->nb_free)) {
			virtio_frag_tx_cleanup(vq);
			if (need > vq->nb_free) {
				vq->stats.ring_full += nb_pkts - nb_tx;
				break;
			}
		}
		head = vq->free_head;
		if (need == 1) {
			vfrag_tx_hdr_clear(rte_pktmbuf_mtod_offset(m, void *, -(int)hdr_len),
					   hdr_len);
			desc[head].addr = vfrag_seg_addr(iova, m) - hdr_len;
			desc[head].len = m->data_len + hdr_len;
			desc[head].flags = 0;
			last = head;
		} else {
			desc[head].addr = !iova ?
				(uint64_t)(uintptr_t)&vq->tx_hdrs[head] :
				rte_malloc_virt2iova(&vq->tx_hdrs[head]);
			desc[head].len = hdr_len;
			desc[head].flags = VRING_DESC_F_NEXT;
			/* The chain follows the private free list; the ring gets a copy. */
			idx = next[head];
			desc[head].next = idx;
			last = head;
			for (seg = m; seg != NULL; seg = seg->next) {
				desc[idx].addr = vfrag_seg_addr(iova, seg);
				desc[idx].len = seg->data_len;
				desc[idx].flags = VRING_DESC_F_NEXT;
				desc[idx].next = next[idx];
				last = idx;
				idx = next[idx];
			}
			desc[last].flags = 0;
			if (m->nb_segs > 1)
				vq->stats.multiseg++;
		}
		vq->free_head = next[last];
		vq->nb_free -= need;
		vq->tx_slots[head].m = m;
		vq->tx_slots[head].ndesc = (uint16_t)need;
		vq->vr.avail->ring[avail_idx++ & vq->mask] = head;
		bytes += m->pkt_len;
		queued++;
	}
	if (queued > 0) {
		vq->avail_idx = avail_idx;
		__atomic_store_n(&vq->vr.avail->idx, avail_idx, __ATOMIC_RELEASE);
		vfrag_kick(vq);
		vq->stats.packets += queued;
		vq->stats.bytes += bytes;
	}
	/* Dropped packets were consumed too: the caller must not resend them. */
	return nb_tx;
}

uint16_t
virtio_frag_xmit_pkts(void *tx_queue, struct rte_mbuf **pkts, uint16_t nb_pkts)
{
	return vfrag_xmit(tx_queue, pkts, nb_pkts, 0);
}

uint16_t
virtio_frag_xmit_pkts_iova(void *tx_queue, struct rte_mbuf **pkts, uint16_t nb_pkts)
{
	return vfrag_xmit(tx_queue, pkts, nb_pkts, 1);
}

static void
vfrag_tx_reclaim(struct virtio_frag_vq *vq)
{
	uint16_t i;

	if (vq->tx_slots == NULL)
		return;
	for (i = 0; i < vq->nb_desc; i++) {
		if (vq->tx_slots[i].m != NULL) {
			rte_pktmbuf_free(vq->tx_slots[i].m);
			vq->tx_slots[i].m = NULL;
		}
	}
}

void
virtio_frag_vq_reclaim(struct virtio_frag_vq *vq)
{
	if (vq->is_tx)
		vfrag_tx_reclaim(vq);
	else
		vfrag_rx_reclaim(vq);
}

int
virtio_frag_vq_reset(struct virtio_frag_vq *vq)
{
	uint16_t i;

	virtio_frag_vq_reclaim(vq);
	vq->hdr_len = virtio_frag_hdr_len(vq->hw->features);
	memset(vq->ring_mem, 0, vring_size(vq->nb_desc));
	vring_init(&vq->vr, vq->nb_desc, vq->ring_mem);
	/* We poll: ask the device not to interrupt. */
	vq->vr.avail->flags = VRING_AVAIL_F_NO_INTERRUPT;
	vq->avail_idx = 0;
	vq->used_cons = 0;
	if (vq->is_tx) {
		/* A circle: in order, chains are taken from it consecutively. */
		for (i = 0; i < vq->nb_desc; i++) {
			vq->tx_next[i] = (i + 1) & vq->mask;
			vq->vr.desc[i].next = vq->tx_next[i];
		}
		vq->free_head = 0;
		vq->nb_free = vq->nb_desc;
		vq->tx_done = 0;
		vq->in_order = vfrag_with_feature(vq->hw, VFRAG_F_IN_ORDER);
		return 0;
	}
	vfrag_rx_refill(vq);
	if (vq->rx_posted == 0) {
		VFRAG_LOG(ERR, "port %u rxq %u: pool %s has no fragments to post",
			  vq->port_id, vq->queue_id, vq->hw->pool->name);
		return -ENOBUFS;
	}
	return 0;
}

uint16_t
virtio_frag_vq_resume_idx(const struct virtio_frag_vq *vq)
{
	uint16_t avail = __atomic_load_n(&vq->vr.avail->idx, __ATOMIC_ACQUIRE);
	uint16_t used = __atomic_load_n(&vq->vr.used->idx, __ATOMIC_ACQUIRE);

	/*
	 * A device never completes more than was made available, nor falls a
	 * ring behind. Past that its index is garbage: resuming there would
	 * offer the next backend entries that no longer hold posted buffers.
	 * Resuming at the avail index offers it nothing stale; what the old
	 * device kept comes back when the queue is reset.
	 */
	if ((uint16_t)(avail - used) > vq->nb_desc)
		return avail;
	return used;
}

/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Virtqueue lifecycle: a queue's rings live in EAL memory (the transport
 * shares it with the device; for a device that reads them by DMA, in one
 * IOVA-contiguous memzone), its private state next to them; RX queues own
 * a pfrag cache on the port's pool. Set-up replaces a queue, release and
 * close reclaim every posted fragment and pending mbuf before the memory
 * goes. Transport-neutral: the device learns about a queue at start
 * (ops->setup_queue) and forgets it here (ops->del_queue).
 */

#include <errno.h>

#include <ethdev_driver.h>
#include <rte_malloc.h>
#include <rte_memzone.h>

#include <pfrag_mbuf.h>

#include "virtio_frag.h"

static void
vfrag_vq_free(struct virtio_frag_hw *hw, struct virtio_frag_vq *vq)
{
	if (vq == NULL)
		return;
	virtio_frag_vq_reclaim(vq);
	hw->ops->del_queue(hw, vq);
	hw->drains_total += vq->stats.drains;
	hw->drained_frags_total += vq->stats.drained_frags;
	if (vq->cache_ready)
		pfrag_cache_fini(&vq->cache);
	if (vq->ring_mz != NULL) {
		rte_memzone_free(vq->ring_mz);
	} else {
		rte_free(vq->ring_mem);
		rte_free(vq->tx_hdrs);
	}
	rte_free(vq->tx_slots);
	rte_free(vq->tx_next);
	rte_free(vq->rx_slots);
	rte_free(vq->rx_free_ids);
	rte_free(vq);
}

/*
 * Ring memory, and the TX headers behind it. VA transports: EAL memory the
 * backend maps. IOVA transports: one IOVA-contiguous memzone, since the
 * device finds each part from one base address by DMA.
 */
static int
vfrag_vq_ring_alloc(struct virtio_frag_hw *hw, struct virtio_frag_vq *vq, int socket_id)
{
	size_t ring_len = RTE_ALIGN_CEIL(vring_size(vq->nb_desc), RTE_CACHE_LINE_SIZE);
	size_t hdrs_len = vq->is_tx ? (size_t)VFRAG_HDR_LEN * vq->nb_desc : 0;
	char name[RTE_MEMZONE_NAMESIZE];

	if (hw->use_va) {
		/* Rings live in EAL memory: the memory table shares it with the backend. */
		vq->ring_mem = rte_zmalloc_socket("vfrag_ring", vring_size(vq->nb_desc),
						  VFRAG_RING_ALIGN, socket_id);
		if (vq->is_tx)
			vq->tx_hdrs = rte_zmalloc_socket(NULL, hdrs_len, RTE_CACHE_LINE_SIZE,
							 socket_id);
		vq->ring_iova = (rte_iova_t)(uintptr_t)vq->ring_mem;
		return vq->ring_mem == NULL || (vq->is_tx && vq->tx_hdrs == NULL) ?
			-ENOMEM : 0;
	}
	snprintf(name, sizeof(name), "vfrag%u_vq%u", vq->port_id, vq->vq_index);
	vq->ring_mz = rte_memzone_reserve_aligned(name, ring_len + hdrs_len, socket_id,
						  RTE_MEMZONE_IOVA_CONTIG, VFRAG_RING_ALIGN);
	if (vq->ring_mz == NULL) {
		VFRAG_LOG(ERR, "port %u: no IOVA-contiguous memory for virtqueue %u (%zu "
			  "bytes): %s", vq->port_id, vq->vq_index, ring_len + hdrs_len,
			  rte_strerror(rte_errno));
		return -ENOMEM;
	}
	if (vq->ring_mz->iova == RTE_BAD_IOVA) {
		VFRAG_LOG(ERR, "port %u: virtqueue %u memory has no IOVA: the device "
			  "cannot reach it", vq->port_id, vq->vq_index);
		return -EINVAL;
	}
	memset(vq->ring_mz->addr, 0, ring_len + hdrs_len);
	vq->ring_mem = vq->ring_mz->addr;
	vq->ring_iova = vq->ring_mz->iova;
	if (vq->is_tx)
		vq->tx_hdrs = (void *)((uint8_t *)vq->ring_mz->addr + ring_len);
	return 0;
}

/*
 * The ring size of virtqueue @p index: the application's, within what the
 * device takes (a legacy device takes only its own size).
 */
static int
vfrag_vq_size(struct virtio_frag_hw *hw, uint16_t index, uint16_t *nb_desc)
{
	uint16_t dev_size;
	int fixed = 0, size;

	if (hw->ops->get_queue_size == NULL)
		return 0;
	/*
	 * Queues past the first pair exist only once MQ is negotiated (QEMU
	 * adds them then; before, number 2 is the control queue): size them as
	 * the first pair's queue of the same direction. Setting the queue up
	 * at start checks the size the device then reports.
	 */
	dev_size = hw->ops->get_queue_size(hw, index & 1, &fixed);
	size = virtio_frag_ring_size(*nb_desc, dev_size, fixed);
	if (size < 0) {
		VFRAG_LOG(ERR, "port %u: virtqueue %u: device size %u (%s) cannot be used: "
			  "a power of two in [%u, %u] is needed", hw->eth_dev->data->port_id,
			  index, dev_size, fixed ? "fixed" : "maximum", VFRAG_MIN_RING_SIZE,
			  VFRAG_MAX_RING_SIZE);
		return size;
	}
	if (size != *nb_desc)
		VFRAG_LOG(NOTICE, "port %u: virtqueue %u: %u entries asked, the device "
			  "takes %s%u: using %d", hw->eth_dev->data->port_id, index, *nb_desc,
			  fixed ? "" : "at most ", dev_size, size);
	*nb_desc = (uint16_t)size;
	return 0;
}

static struct virtio_frag_vq *
vfrag_vq_alloc(struct rte_eth_dev *dev, uint16_t qid, uint16_t nb_desc,
	       unsigned int socket_id, int is_tx)
{
	struct virtio_frag_hw *hw = dev->data->dev_private;
	struct virtio_frag_vq *vq;

	if (nb_desc == 0)
		nb_desc = hw->args.queue_size;
	nb_desc = (uint16_t)rte_align32pow2(RTE_MAX(nb_desc, VFRAG_MIN_RING_SIZE));
	if (nb_desc > VFRAG_MAX_RING_SIZE) {
		VFRAG_LOG(ERR, "port %u: ring size %u above %u", dev->data->port_id,
			  nb_desc, VFRAG_MAX_RING_SIZE);
		return NULL;
	}
	if (vfrag_vq_size(hw, 2 * qid + (is_tx ? 1 : 0), &nb_desc) < 0)
		return NULL;
	vq = rte_zmalloc_socket("vfrag_vq", sizeof(*vq), RTE_CACHE_LINE_SIZE, socket_id);
	if (vq == NULL)
		return NULL;
	vq->hw = hw;
	vq->nb_desc = nb_desc;
	vq->mask = nb_desc - 1;
	vq->queue_id = qid;
	vq->port_id = dev->data->port_id;
	vq->vq_index = 2 * qid + (is_tx ? 1 : 0);
	vq->is_tx = (uint8_t)is_tx;
	vq->use_va = hw->use_va;
	vq->kickfd = -1;
	vq->callfd = -1;
	if (vfrag_vq_ring_alloc(hw, vq, (int)socket_id) < 0)
		goto fail;
	vring_init(&vq->vr, nb_desc, vq->ring_mem);
	if (is_tx) {
		vq->tx_slots = rte_zmalloc_socket(NULL, sizeof(*vq->tx_slots) * nb_desc,
						  RTE_CACHE_LINE_SIZE, socket_id);
		vq->tx_next = rte_zmalloc_socket(NULL, sizeof(*vq->tx_next) * nb_desc, 0,
						 socket_id);
		if (vq->tx_slots == NULL || vq->tx_next == NULL)
			goto fail;
	} else {
		vq->rx_slots = rte_zmalloc_socket(NULL, sizeof(*vq->rx_slots) * nb_desc,
						  RTE_CACHE_LINE_SIZE, socket_id);
		vq->rx_free_ids = rte_zmalloc_socket(NULL, sizeof(uint16_t) * nb_desc, 0,
						     socket_id);
		if (vq->rx_slots == NULL || vq->rx_free_ids == NULL)
			goto fail;
		for (vq->rx_nb_free = 0; vq->rx_nb_free < nb_desc; vq->rx_nb_free++)
			vq->rx_free_ids[vq->rx_nb_free] = vq->rx_nb_free;
		if (pfrag_cache_init(&vq->cache, hw->pool) != 0)
			goto fail;
		vq->cache_ready = 1;
	}
	return vq;
fail:
	VFRAG_LOG(ERR, "port %u: no memory for %s queue %u", dev->data->port_id,
		  is_tx ? "TX" : "RX", qid);
	vfrag_vq_free(hw, vq);
	return NULL;
}

/* The largest RX buffer this queue may post must fit a pool page. */
int
virtio_frag_rx_room_check(struct virtio_frag_vq *vq, int mergeable)
{
	struct virtio_frag_hw *hw = vq->hw;
	uint32_t room = virtio_frag_rx_room_max(vq, mergeable);

	if (virtio_frag_frag_size(room) <= hw->pool->page_size)
		return 0;
	VFRAG_LOG(ERR, "port %u rxq %u: RX buffers of %u bytes (%s, MTU %u) do not fit "
		  "pool pages of %u bytes", vq->port_id, vq->queue_id, room,
		  mergeable ? "mergeable" : "no mergeable buffers", hw->mtu,
		  hw->pool->page_size);
	return -EINVAL;
}

int
virtio_frag_rx_queue_setup(struct rte_eth_dev *dev, uint16_t qid, uint16_t nb_desc,
			   unsigned int socket_id,
			   const struct rte_eth_rxconf *rx_conf __rte_unused,
			   struct rte_mempool *mp)
{
	struct virtio_frag_hw *hw = dev->data->dev_private;
	struct virtio_frag_vq *vq;

	if (mp == NULL)
		return -EINVAL;
	vfrag_vq_free(hw, dev->data->rx_queues[qid]);
	dev->data->rx_queues[qid] = NULL;
	hw->rxq[qid] = NULL;
	vq = vfrag_vq_alloc(dev, qid, nb_desc, socket_id, 0);
	if (vq == NULL)
		return -ENOMEM;
	/* Received mbufs are built in their fragments: mp gives none of them. */
	vq->mbuf_mp = pfrag_mbuf_pool(hw->pool, RTE_MBUF_DEFAULT_DATAROOM);
	if (vq->mbuf_mp == NULL) {
		VFRAG_LOG(ERR, "port %u rxq %u: no mbuf pool on pfrag pool %s: %s",
			  dev->data->port_id, qid, hw->pool->name, rte_strerror(rte_errno));
		vfrag_vq_free(hw, vq);
		return -ENOMEM;
	}
	vq->rx_buf_size = hw->args.rx_buf_size;
	virtio_frag_rx_room_reset(vq);
	/* Features are not negotiated yet: start checks again with them. */
	if (virtio_frag_rx_room_check(vq, hw->args.mrg_rxbuf) < 0) {
		vfrag_vq_free(hw, vq);
		return -EINVAL;
	}
	dev->data->rx_queues[qid] = vq;
	hw->rxq[qid] = vq;
	return 0;
}

int
virtio_frag_tx_queue_setup(struct rte_eth_dev *dev, uint16_t qid, uint16_t nb_desc,
			   unsigned int socket_id,
			   const struct rte_eth_txconf *tx_conf __rte_unused)
{
	struct virtio_frag_hw *hw = dev->data->dev_private;
	struct virtio_frag_vq *vq;

	vfrag_vq_free(hw, dev->data->tx_queues[qid]);
	dev->data->tx_queues[qid] = NULL;
	hw->txq[qid] = NULL;
	vq = vfrag_vq_alloc(dev, qid, nb_desc, socket_id, 1);
	if (vq == NULL)
		return -ENOMEM;
	dev->data->tx_queues[qid] = vq;
	hw->txq[qid] = vq;
	return 0;
}

int
virtio_frag_tx_done_cleanup(void *txq, uint32_t free_cnt)
{
	struct virtio_frag_vq *vq = txq;
	uint32_t n = 0, k;

	/* free_cnt 0 means everything the device has completed. */
	do {
		k = virtio_frag_tx_cleanup(vq);
		n += k;
	} while (k > 0 && (free_cnt == 0 || n < free_cnt));
	return (int)n;
}

void
virtio_frag_rx_queue_release(struct rte_eth_dev *dev, uint16_t qid)
{
	struct virtio_frag_hw *hw = dev->data->dev_private;

	vfrag_vq_free(hw, dev->data->rx_queues[qid]);
	dev->data->rx_queues[qid] = NULL;
	hw->rxq[qid] = NULL;
}

void
virtio_frag_tx_queue_release(struct rte_eth_dev *dev, uint16_t qid)
{
	struct virtio_frag_hw *hw = dev->data->dev_private;

	vfrag_vq_free(hw, dev->data->tx_queues[qid]);
	dev->data->tx_queues[qid] = NULL;
	hw->txq[qid] = NULL;
}

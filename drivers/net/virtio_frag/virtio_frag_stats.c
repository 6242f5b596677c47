/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Basic stats and xstats of a port. Queue counters are written by each
 * queue's lcore and read here without a lock (a snapshot, as every PMD
 * does); counters of released queues live on in the port. The transport's
 * own counters follow the common ones, named and filled through its ops.
 */

#include <string.h>

#include <ethdev_driver.h>

#include "virtio_frag.h"

int
virtio_frag_stats_get(struct rte_eth_dev *dev, struct rte_eth_stats *st)
{
	struct virtio_frag_hw *hw = dev->data->dev_private;
	struct virtio_frag_vq *vq;
	uint16_t i;

	st->rx_nombuf = 0;
	for (i = 0; i < dev->data->nb_rx_queues; i++) {
		vq = hw->rxq[i];
		if (vq == NULL)
			continue;
		st->ipackets += vq->stats.packets;
		st->ibytes += vq->stats.bytes;
		st->ierrors += vq->stats.bad_desc;
		st->rx_nombuf += vq->stats.nombuf;
		if (i < RTE_ETHDEV_QUEUE_STAT_CNTRS) {
			st->q_ipackets[i] = vq->stats.packets;
			st->q_ibytes[i] = vq->stats.bytes;
			st->q_errors[i] = vq->stats.bad_desc;
		}
	}
	for (i = 0; i < dev->data->nb_tx_queues; i++) {
		vq = hw->txq[i];
		if (vq == NULL)
			continue;
		st->opackets += vq->stats.packets;
		st->obytes += vq->stats.bytes;
		st->oerrors += vq->stats.errors + vq->stats.dropped + vq->stats.no_iova;
		if (i < RTE_ETHDEV_QUEUE_STAT_CNTRS) {
			st->q_opackets[i] = vq->stats.packets;
			st->q_obytes[i] = vq->stats.bytes;
		}
	}
	return 0;
}

int
virtio_frag_stats_reset(struct rte_eth_dev *dev)
{
	struct virtio_frag_hw *hw = dev->data->dev_private;
	uint16_t i;

	for (i = 0; i < dev->data->nb_rx_queues; i++)
		if (hw->rxq[i] != NULL)
			memset(&hw->rxq[i]->stats, 0, sizeof(hw->rxq[i]->stats));
	for (i = 0; i < dev->data->nb_tx_queues; i++)
		if (hw->txq[i] != NULL)
			memset(&hw->txq[i]->stats, 0, sizeof(hw->txq[i]->stats));
	hw->drains_total = 0;
	hw->drained_frags_total = 0;
	return 0;
}

enum vfrag_xstat {
	XS_RX_BAD_DESC,
	XS_RX_NOMBUF,
	XS_RX_MULTISEG,
	XS_RX_KICKS,
	XS_RX_POSTED_SLOTS,
	XS_RX_POSTED_BYTES,
	XS_RX_PINNED_PER_SLOT,
	XS_RX_BUF_SIZE,
	XS_RX_DRAINS,
	XS_RX_DRAINED_FRAGS,
	XS_RX_DISCARDED,
	XS_RX_IDX_JUMPS,
	XS_TX_MULTISEG,
	XS_TX_RING_FULL,
	XS_TX_KICKS,
	XS_TX_BAD_USED,
	XS_TX_TOO_MANY_SEGS,
	XS_TX_IDX_JUMPS,
	XS_POOL_PAGES_IN_USE,
	XS_POOL_FRAGS_OUT,
	XS_POOL_PAGE_SIZE,
	XS_NUM    /* the transport's counters follow */
};

static const char *const xstat_names[XS_NUM] = {
	[XS_RX_BAD_DESC] = "rx_bad_desc",
	[XS_RX_NOMBUF] = "rx_nombuf",
	[XS_RX_MULTISEG] = "rx_multiseg_packets",
	[XS_RX_KICKS] = "rx_kicks",
	[XS_RX_POSTED_SLOTS] = "rx_posted_slots",
	[XS_RX_POSTED_BYTES] = "rx_posted_bytes",
	[XS_RX_PINNED_PER_SLOT] = "rx_pinned_bytes_per_slot",
	[XS_RX_BUF_SIZE] = "rx_buf_size",
	[XS_RX_DRAINS] = "rx_drains",
	[XS_RX_DRAINED_FRAGS] = "rx_drained_frags",
	[XS_RX_DISCARDED] = "rx_chain_bufs_discarded",
	[XS_RX_IDX_JUMPS] = "rx_used_idx_jumps",
	[XS_TX_MULTISEG] = "tx_multiseg_packets",
	[XS_TX_RING_FULL] = "tx_ring_full",
	[XS_TX_KICKS] = "tx_kicks",
	[XS_TX_BAD_USED] = "tx_bad_used",
	[XS_TX_TOO_MANY_SEGS] = "tx_dropped_too_many_segs",
	[XS_TX_IDX_JUMPS] = "tx_used_idx_jumps",
	[XS_POOL_PAGES_IN_USE] = "pool_pages_in_use",
	[XS_POOL_FRAGS_OUT] = "pool_frags_out",
	[XS_POOL_PAGE_SIZE] = "pool_page_size",
};

/* Common counters, then the transport's. */
static unsigned int
vfrag_xstats_count(const struct virtio_frag_hw *hw)
{
	return XS_NUM + RTE_MIN(hw->ops->nb_xstats, VFRAG_MAX_TRANSPORT_XSTATS);
}

int
virtio_frag_xstats_get_names(struct rte_eth_dev *dev, struct rte_eth_xstat_name *names,
			     unsigned int size)
{
	const struct virtio_frag_hw *hw = dev->data->dev_private;
	unsigned int i, total = vfrag_xstats_count(hw);

	if (names == NULL || size < total)
		return total;
	for (i = 0; i < XS_NUM; i++)
		strlcpy(names[i].name, xstat_names[i], sizeof(names[i].name));
	for (i = XS_NUM; i < total; i++)
		strlcpy(names[i].name, hw->ops->xstat_names[i - XS_NUM],
			sizeof(names[i].name));
	return total;
}

int
virtio_frag_xstats_get(struct rte_eth_dev *dev, struct rte_eth_xstat *xs, unsigned int n)
{
	struct virtio_frag_hw *hw = dev->data->dev_private;
	uint64_t v[XS_NUM + VFRAG_MAX_TRANSPORT_XSTATS] = { 0 };
	unsigned int i, total = vfrag_xstats_count(hw);
	struct pfrag_pool_info info;
	struct virtio_frag_vq *vq;

	if (xs == NULL || n < total)
		return total;
	v[XS_RX_DRAINS] = hw->drains_total;
	v[XS_RX_DRAINED_FRAGS] = hw->drained_frags_total;
	for (i = 0; i < dev->data->nb_rx_queues; i++) {
		vq = hw->rxq[i];
		if (vq == NULL)
			continue;
		v[XS_RX_BAD_DESC] += vq->stats.bad_desc;
		v[XS_RX_NOMBUF] += vq->stats.nombuf;
		v[XS_RX_MULTISEG] += vq->stats.multiseg;
		v[XS_RX_KICKS] += vq->stats.kicks;
		v[XS_RX_POSTED_SLOTS] += vq->rx_posted;
		v[XS_RX_POSTED_BYTES] += vq->rx_posted_bytes;
		v[XS_RX_DRAINS] += vq->stats.drains;
		v[XS_RX_DRAINED_FRAGS] += vq->stats.drained_frags;
		v[XS_RX_DISCARDED] += vq->stats.discarded;
		v[XS_RX_IDX_JUMPS] += vq->stats.idx_jumps;
		if (i == 0)
			v[XS_RX_BUF_SIZE] = virtio_frag_rx_room(vq);
	}
	if (v[XS_RX_POSTED_SLOTS] != 0)
		v[XS_RX_PINNED_PER_SLOT] = v[XS_RX_POSTED_BYTES] / v[XS_RX_POSTED_SLOTS];
	for (i = 0; i < dev->data->nb_tx_queues; i++) {
		vq = hw->txq[i];
		if (vq == NULL)
			continue;
		v[XS_TX_MULTISEG] += vq->stats.multiseg;
		v[XS_TX_RING_FULL] += vq->stats.ring_full;
		v[XS_TX_KICKS] += vq->stats.kicks;
		v[XS_TX_BAD_USED] += vq->stats.errors;
		v[XS_TX_TOO_MANY_SEGS] += vq->stats.dropped;
		v[XS_TX_IDX_JUMPS] += vq->stats.idx_jumps;
	}
	if (hw->pool != NULL && pfrag_pool_info_get(hw->pool, &info) == 0) {
		v[XS_POOL_PAGES_IN_USE] = info.pages_in_use;
		v[XS_POOL_FRAGS_OUT] = info.frags_out;
		v[XS_POOL_PAGE_SIZE] = info.page_size;
	}
	if (total > XS_NUM)
		hw->ops->xstats_get(hw, &v[XS_NUM]);
	for (i = 0; i < total; i++) {
		xs[i].id = i;
		xs[i].value = v[i];
	}
	return total;
}

int
virtio_frag_xstats_reset(struct rte_eth_dev *dev)
{
	return virtio_frag_stats_reset(dev);
}

/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * ethdev operations and device lifecycle of the virtio_frag PMD, and the
 * common part of every transport's probe and remove (virtio_frag_dev_init(),
 * virtio_frag_dev_uninit()). Transport-neutral: the device is reached
 * through hw->ops only, and reports link changes through hw->on_link_change.
 *
 * Pool: each port creates its own pfrag pool ("vfrag<port>", page_size and
 * pool_pages devargs) unless pool=<name> names an existing pool to share.
 * Queues own pfrag caches on it; close releases the pool, which pfrag
 * destroys once no fragment is out (pfrag_pool_release()). Each port is
 * declared a fragment-posting port (pfrag_mbuf_port_set_rx_frags()), so that
 * applications know that its RX queues need no data room from their
 * mempool: received mbufs are built in the fragments.
 */

#include <errno.h>

#include <ethdev_driver.h>
#include <rte_malloc.h>

#include <pfrag_mbuf.h>

#include "virtio_frag.h"

static int
virtio_frag_configure(struct rte_eth_dev *dev)
{
	struct virtio_frag_hw *hw = dev->data->dev_private;
	uint16_t max = RTE_MIN(hw->args.queues, hw->ops->get_queue_num(hw));

	if (dev->data->nb_rx_queues > max || dev->data->nb_tx_queues > max) {
		VFRAG_LOG(ERR, "port %u: %u RX / %u TX queues asked, %u queue pairs "
			  "available (devarg queues=%u)", dev->data->port_id,
			  dev->data->nb_rx_queues, dev->data->nb_tx_queues, max,
			  hw->args.queues);
		return -EINVAL;
	}
	if (dev->data->dev_conf.rxmode.mq_mode != RTE_ETH_MQ_RX_NONE) {
		VFRAG_LOG(ERR, "port %u: RX multi-queue modes (RSS) are not supported",
			  dev->data->port_id);
		return -ENOTSUP;
	}
	hw->nb_rx_queues = dev->data->nb_rx_queues;
	hw->nb_tx_queues = dev->data->nb_tx_queues;
	if (dev->data->mtu != 0)
		hw->mtu = dev->data->mtu;
	return 0;
}

/*
 * Ring sizes the port takes: ours, within what the device takes for the
 * first pair's queue @p index (a legacy device: its own size only), so that
 * rte_eth_dev_adjust_nb_rx_tx_desc() gives applications the real size.
 */
static void
vfrag_desc_lim(struct virtio_frag_hw *hw, uint16_t index, struct rte_eth_desc_lim *lim)
{
	int fixed = 0, size;

	lim->nb_max = VFRAG_MAX_RING_SIZE;
	lim->nb_min = VFRAG_MIN_RING_SIZE;
	lim->nb_align = 1;
	if (hw->ops->get_queue_size == NULL)
		return;
	size = virtio_frag_ring_size(VFRAG_MAX_RING_SIZE,
				     hw->ops->get_queue_size(hw, index, &fixed), fixed);
	if (size < 0)
		return;     /* queue set-up says why */
	lim->nb_max = (uint16_t)size;
	if (fixed)
		lim->nb_min = (uint16_t)size;
}

static int
virtio_frag_infos_get(struct rte_eth_dev *dev, struct rte_eth_dev_info *info)
{
	struct virtio_frag_hw *hw = dev->data->dev_private;
	uint16_t max = RTE_MIN(hw->args.queues, hw->ops->get_queue_num(hw));

	info->max_rx_queues = max;
	info->max_tx_queues = max;
	info->max_mac_addrs = 1;
	/* RX mbufs are built in fragments: the mempool gives none. */
	info->min_rx_bufsize = 0;
	info->max_rx_pktlen = VFRAG_MAX_RX_PKTLEN;
	info->min_mtu = RTE_ETHER_MIN_MTU;
	info->max_mtu = VFRAG_MAX_MTU;
	/* Mergeable buffers deliver large frames as chained mbufs. */
	info->rx_offload_capa = hw->args.mrg_rxbuf ? RTE_ETH_RX_OFFLOAD_SCATTER : 0;
	info->tx_offload_capa = RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
	vfrag_desc_lim(hw, 0, &info->rx_desc_lim);
	vfrag_desc_lim(hw, 1, &info->tx_desc_lim);
	info->default_rxportconf.ring_size = RTE_MIN(hw->args.queue_size,
						     info->rx_desc_lim.nb_max);
	info->default_txportconf.ring_size = RTE_MIN(hw->args.queue_size,
						     info->tx_desc_lim.nb_max);
	info->default_rxportconf.nb_queues = 1;
	info->default_txportconf.nb_queues = 1;
	info->default_rxportconf.burst_size = 32;
	info->default_txportconf.burst_size = 32;
	info->speed_capa = RTE_ETH_LINK_SPEED_10G;
	return 0;
}

static int
virtio_frag_link_update(struct rte_eth_dev *dev, int wait_to_complete __rte_unused)
{
	struct virtio_frag_hw *hw = dev->data->dev_private;
	struct rte_eth_link link = {
		.link_speed = RTE_ETH_SPEED_NUM_10G,
		.link_duplex = RTE_ETH_LINK_FULL_DUPLEX,
		.link_autoneg = RTE_ETH_LINK_FIXED,
	};

	link.link_status = hw->started && hw->ops->link_ok(hw) ? RTE_ETH_LINK_UP :
		RTE_ETH_LINK_DOWN;
	return rte_eth_linkstatus_set(dev, &link);
}

/* hw->on_link_change: the transport saw the link change. */
static void
virtio_frag_link_changed(struct virtio_frag_hw *hw)
{
	struct rte_eth_dev *dev = hw->eth_dev;

	/* rte_eth_linkstatus_set() returns 0 when the status changed. */
	if (virtio_frag_link_update(dev, 0) == 0 && dev->data->dev_conf.intr_conf.lsc)
		rte_eth_dev_callback_process(dev, RTE_ETH_EVENT_INTR_LSC, NULL);
}

static int
virtio_frag_start(struct rte_eth_dev *dev)
{
	struct virtio_frag_hw *hw = dev->data->dev_private;
	struct virtio_frag_want want_in;
	uint64_t dev_features, want;
	uint16_t i, pairs;
	uint8_t status;
	char why[128];
	int ret;

	for (i = 0; i < dev->data->nb_rx_queues; i++)
		if (hw->rxq[i] == NULL)
			return -EINVAL;
	for (i = 0; i < dev->data->nb_tx_queues; i++)
		if (hw->txq[i] == NULL)
			return -EINVAL;

	hw->ops->set_status(hw, 0);
	status = VFRAG_STATUS_ACK | VFRAG_STATUS_DRIVER;
	hw->ops->set_status(hw, status);
	dev_features = hw->ops->get_features(hw);
	/*
	 * Only what the driver implements (virtio_frag_features.c). MQ needs
	 * the control queue: without one (vhost-user) more queue pairs are
	 * the transport's business, get_queue_num() says how many.
	 */
	want_in.modern = !hw->legacy;
	want_in.mrg_rxbuf = (uint8_t)hw->args.mrg_rxbuf;
	want_in.in_order = (uint8_t)hw->args.in_order;
	want_in.ctrl_vq = hw->ctrl_vq_ok;
	want_in.iova = !hw->use_va;
	ret = virtio_frag_negotiate(dev_features, &want_in, &want, why, sizeof(why));
	if (ret < 0) {
		VFRAG_LOG(ERR, "port %u: device refused: %s", dev->data->port_id, why);
		hw->ops->set_status(hw, 0);
		return ret;
	}
	if (hw->args.mrg_rxbuf && !(want & VFRAG_BIT(VFRAG_NET_F_MRG_RXBUF)))
		VFRAG_LOG(NOTICE, "port %u: device has no mergeable RX buffers: "
			  "posting full-frame buffers", dev->data->port_id);
	pairs = RTE_MAX(hw->nb_rx_queues, hw->nb_tx_queues);
	if (hw->ctrl_vq_ok && pairs > 1 && !(want & VFRAG_BIT(VFRAG_NET_F_MQ))) {
		VFRAG_LOG(ERR, "port %u: %u queue pairs configured, the device did not "
			  "offer VIRTIO_NET_F_MQ with a control queue", dev->data->port_id, pairs);
		hw->ops->set_status(hw, 0);
		return -ENOTSUP;
	}
	hw->features = want;
	hw->guest_features = want;
	VFRAG_LOG(INFO, "port %u: device features 0x%" PRIx64 ", negotiated 0x%" PRIx64,
		  dev->data->port_id, dev_features, hw->features);
	/* Without mergeable buffers each buffer holds a whole frame. */
	for (i = 0; i < hw->nb_rx_queues; i++)
		if (virtio_frag_rx_room_check(hw->rxq[i],
				vfrag_with_feature(hw, VFRAG_NET_F_MRG_RXBUF)) < 0)
			return -EINVAL;
	ret = hw->ops->set_features(hw, hw->features);
	if (ret < 0)
		goto fail;
	status |= VFRAG_STATUS_FEATURES_OK;
	hw->ops->set_status(hw, status);
	/* virtio 1.0: the device says whether it can work with what we took. */
	if (!hw->legacy && hw->ops->get_status != NULL &&
	    !(hw->ops->get_status(hw) & VFRAG_STATUS_FEATURES_OK)) {
		VFRAG_LOG(ERR, "port %u: device refused features %#" PRIx64 " (FEATURES_OK "
			  "not set): it needs something this driver does not implement",
			  dev->data->port_id, hw->features);
		ret = -ENOTSUP;
		goto fail;
	}

	for (i = 0; i < hw->nb_rx_queues; i++) {
		ret = virtio_frag_vq_reset(hw->rxq[i]);
		if (ret == 0)
			ret = hw->ops->setup_queue(hw, hw->rxq[i]);
		if (ret < 0)
			goto fail;
	}
	for (i = 0; i < hw->nb_tx_queues; i++) {
		ret = virtio_frag_vq_reset(hw->txq[i]);
		if (ret == 0)
			ret = hw->ops->setup_queue(hw, hw->txq[i]);
		if (ret < 0)
			goto fail;
	}
	ret = virtio_frag_cvq_setup(hw);
	if (ret < 0)
		goto fail;
	hw->started = 1;
	ret = hw->ops->set_status(hw, status | VFRAG_STATUS_DRIVER_OK);
	if (ret < 0)
		goto fail;
	/*
	 * The device starts with one pair: the others are switched on by
	 * command (vhost-user enables them itself: no MQ negotiated there).
	 */
	if (pairs > 1 && vfrag_with_feature(hw, VFRAG_NET_F_MQ)) {
		ret = virtio_frag_cvq_set_pairs(hw, pairs);
		if (ret < 0) {
			VFRAG_LOG(ERR, "port %u: the device did not take %u queue pairs",
				  dev->data->port_id, pairs);
			goto fail;
		}
	}
	for (i = 0; i < hw->nb_rx_queues; i++)
		dev->data->rx_queue_state[i] = RTE_ETH_QUEUE_STATE_STARTED;
	for (i = 0; i < hw->nb_tx_queues; i++)
		dev->data->tx_queue_state[i] = RTE_ETH_QUEUE_STATE_STARTED;
	virtio_frag_link_update(dev, 0);
	return 0;
fail:
	hw->started = 0;
	hw->ops->set_status(hw, 0);
	for (i = 0; i < hw->nb_rx_queues; i++)
		virtio_frag_vq_reclaim(hw->rxq[i]);
	for (i = 0; i < hw->nb_tx_queues; i++)
		virtio_frag_vq_reclaim(hw->txq[i]);
	return ret;
}

static int
virtio_frag_stop(struct rte_eth_dev *dev)
{
	struct virtio_frag_hw *hw = dev->data->dev_private;
	uint16_t i;

	if (!hw->started)
		return 0;
	hw->started = 0;
	/* Reset first: once the device has let go of the rings they are ours. */
	hw->ops->set_status(hw, 0);
	for (i = 0; i < hw->nb_rx_queues; i++) {
		if (hw->rxq[i] != NULL)
			virtio_frag_vq_reclaim(hw->rxq[i]);
		dev->data->rx_queue_state[i] = RTE_ETH_QUEUE_STATE_STOPPED;
	}
	for (i = 0; i < hw->nb_tx_queues; i++) {
		if (hw->txq[i] != NULL)
			virtio_frag_vq_reclaim(hw->txq[i]);
		dev->data->tx_queue_state[i] = RTE_ETH_QUEUE_STATE_STOPPED;
	}
	virtio_frag_link_update(dev, 0);
	return 0;
}

static int
virtio_frag_close(struct rte_eth_dev *dev)
{
	struct virtio_frag_hw *hw = dev->data->dev_private;
	uint16_t i;
	int ret;

	if (rte_eal_process_type() != RTE_PROC_PRIMARY)
		return 0;
	virtio_frag_stop(dev);
	/*
	 * The transport goes before the queues: once its control thread and
	 * connection are gone, no backend can be handed the rings again while
	 * they are released.
	 */
	if (hw->ops != NULL)
		hw->ops->dev_close(hw);
	virtio_frag_cvq_free(hw);
	for (i = 0; i < dev->data->nb_rx_queues; i++)
		virtio_frag_rx_queue_release(dev, i);
	for (i = 0; i < dev->data->nb_tx_queues; i++)
		virtio_frag_tx_queue_release(dev, i);
	/*
	 * The application or another port may still hold our packets: give
	 * the pool up, pfrag destroys it when the last fragment is back. Its
	 * name is free at once, so a re-probed port makes a fresh pool.
	 */
	if (hw->pool != NULL && hw->own_pool) {
		ret = pfrag_pool_release(hw->pool);
		if (ret < 0)
			VFRAG_LOG(ERR, "port %u: pool %s not released: %s", dev->data->port_id,
				  hw->pool->name, rte_strerror(-ret));
	}
	hw->pool = NULL;
	pfrag_mbuf_port_set_rx_frags(dev->data->port_id, 0);
	return 0;
}

static int
virtio_frag_mtu_set(struct rte_eth_dev *dev, uint16_t mtu)
{
	struct virtio_frag_hw *hw = dev->data->dev_private;
	/* Running: what was negotiated; stopped: what start will ask for. */
	int mergeable = hw->started ? vfrag_with_feature(hw, VFRAG_NET_F_MRG_RXBUF) :
		hw->args.mrg_rxbuf;

	if (mtu < RTE_ETHER_MIN_MTU || mtu > VFRAG_MAX_MTU)
		return -EINVAL;
	if (!mergeable && hw->started) {
		VFRAG_LOG(ERR, "port %u: without mergeable buffers, stop the port to change "
			  "the MTU", dev->data->port_id);
		return -EBUSY;
	}
	if (!mergeable && virtio_frag_frag_size(VFRAG_MAX_FRAME(mtu)) > hw->pool->page_size)
		return -EINVAL;
	/*
	 * Read by the RX lcores at refill: the room floor follows the new MTU
	 * from the next refill on.
	 */
	__atomic_store_n(&hw->mtu, mtu, __ATOMIC_RELAXED);
	return 0;
}

static int
virtio_frag_mac_addr_set(struct rte_eth_dev *dev, struct rte_ether_addr *mac)
{
	struct virtio_frag_hw *hw = dev->data->dev_private;
	int ret;

	ret = hw->ops->write_dev_cfg(hw, 0, mac->addr_bytes, RTE_ETHER_ADDR_LEN);
	if (ret == 0)
		rte_ether_addr_copy(mac, &hw->mac);
	return ret;
}

/*
 * RX modes are control queue commands (VIRTIO_NET_F_CTRL_RX). Without it
 * the device delivers every frame: the modes are accepted as they are. A
 * stopped port has no control queue running: ethdev applies the modes
 * again at start.
 */
static int
vfrag_rx_mode(struct rte_eth_dev *dev, uint8_t cmd, int on)
{
	struct virtio_frag_hw *hw = dev->data->dev_private;

	if (!hw->started || !vfrag_with_feature(hw, VFRAG_NET_F_CTRL_RX))
		return 0;
	return virtio_frag_cvq_rx_mode(hw, cmd, on);
}

static int
virtio_frag_promisc_enable(struct rte_eth_dev *dev)
{
	return vfrag_rx_mode(dev, VFRAG_NET_CTRL_RX_PROMISC, 1);
}

static int
virtio_frag_promisc_disable(struct rte_eth_dev *dev)
{
	return vfrag_rx_mode(dev, VFRAG_NET_CTRL_RX_PROMISC, 0);
}

static int
virtio_frag_allmulti_enable(struct rte_eth_dev *dev)
{
	return vfrag_rx_mode(dev, VFRAG_NET_CTRL_RX_ALLMULTI, 1);
}

static int
virtio_frag_allmulti_disable(struct rte_eth_dev *dev)
{
	return vfrag_rx_mode(dev, VFRAG_NET_CTRL_RX_ALLMULTI, 0);
}

static const struct eth_dev_ops virtio_frag_eth_ops = {
	.dev_configure = virtio_frag_configure,
	.dev_infos_get = virtio_frag_infos_get,
	.dev_start = virtio_frag_start,
	.dev_stop = virtio_frag_stop,
	.dev_close = virtio_frag_close,
	.link_update = virtio_frag_link_update,
	.rx_queue_setup = virtio_frag_rx_queue_setup,
	.tx_queue_setup = virtio_frag_tx_queue_setup,
	.rx_queue_release = virtio_frag_rx_queue_release,
	.tx_queue_release = virtio_frag_tx_queue_release,
	.tx_done_cleanup = virtio_frag_tx_done_cleanup,
	.stats_get = virtio_frag_stats_get,
	.stats_reset = virtio_frag_stats_reset,
	.xstats_get = virtio_frag_xstats_get,
	.xstats_get_names = virtio_frag_xstats_get_names,
	.xstats_reset = virtio_frag_xstats_reset,
	.mtu_set = virtio_frag_mtu_set,
	.mac_addr_set = virtio_frag_mac_addr_set,
	.promiscuous_enable = virtio_frag_promisc_enable,
	.promiscuous_disable = virtio_frag_promisc_disable,
	.allmulticast_enable = virtio_frag_allmulti_enable,
	.allmulticast_disable = virtio_frag_allmulti_disable,
};

/* ---- probe and remove, called by the transports ---- */

/* Pages without an IOVA would put RTE_BAD_IOVA into descriptors: refuse them. */
static int
vfrag_pool_iova_check(const struct pfrag_pool *pool)
{
	uint32_t i, bad = 0;

	for (i = 0; i < pool->nb_pages; i++)
		bad += pool->pages[i].iova == RTE_BAD_IOVA;
	if (bad == 0)
		return 0;
	VFRAG_LOG(ERR, "pool %s: %u of %u pages have no IOVA: the device cannot reach "
		  "them (create the pool with PFRAG_POOL_F_IOVA_CONTIG)", pool->name, bad,
		  pool->nb_pages);
	return -EINVAL;
}

static int
vfrag_pool_get(struct virtio_frag_hw *hw, uint16_t port_id)
{
	struct virtio_frag_args *a = &hw->args;
	char name[PFRAG_NAMESIZE];
	uint32_t page_size, nb_pages;

	if (a->pool[0] != '\0') {
		hw->pool = pfrag_pool_lookup(a->pool);
		if (hw->pool == NULL) {
			VFRAG_LOG(ERR, "devarg pool=%s: no such pfrag pool", a->pool);
			return -ENOENT;
		}
		if (!hw->use_va && vfrag_pool_iova_check(hw->pool) < 0) {
			hw->pool = NULL;
			return -EINVAL;
		}
		return 0;
	}
	page_size = a->page_size != 0 ? a->page_size : PFRAG_DEFAULT_PAGE_SIZE;
	nb_pages = a->pool_pages;
	if (nb_pages == 0)
		/* Four 2 KB buffers per ring slot: posted, in flight, in the app. */
		nb_pages = RTE_MAX(256u, (uint32_t)((uint64_t)a->queues * a->queue_size *
						    4 * 2048 / page_size));
	snprintf(name, sizeof(name), VFRAG_POOL_NAME_FMT, port_id);
	/*
	 * A pool of that name is never an earlier port's (close releases the
	 * pool and its name at once): it is someone else's, and adopting it
	 * would make our close release a pool its owner still uses.
	 */
	/* A device that reads fragments by DMA needs an IOVA for every page. */
	hw->pool = pfrag_pool_create(name, (int)rte_socket_id(), page_size, nb_pages,
				     hw->use_va ? 0 : PFRAG_POOL_F_IOVA_CONTIG);
	if (hw->pool == NULL && rte_errno == EEXIST) {
		VFRAG_LOG(ERR, "port %u: a pfrag pool named %s exists and is not this "
			  "port's: pass pool=%s to share it", port_id, name, name);
		/* Not -EEXIST: rte_dev_probe() takes that for "already probed", 0. */
		return -EBUSY;
	}
	if (hw->pool == NULL) {
		VFRAG_LOG(ERR, "cannot create pfrag pool %s (%u pages of %u bytes): %s",
			  name, nb_pages, page_size, rte_strerror(rte_errno));
		return -rte_errno;
	}
	hw->own_pool = 1;
	return 0;
}

int
virtio_frag_dev_init(struct rte_eth_dev *dev)
{
	struct virtio_frag_hw *hw = dev->data->dev_private;
	int ret;

	if (hw->ops->nb_xstats > VFRAG_MAX_TRANSPORT_XSTATS) {
		VFRAG_LOG(ERR, "port %u: transport %s lists %u counters, at most %u",
			  dev->data->port_id, hw->ops->name, hw->ops->nb_xstats,
			  VFRAG_MAX_TRANSPORT_XSTATS);
		return -EINVAL;
	}
	hw->eth_dev = dev;
	hw->mtu = RTE_ETHER_MTU;
	if (hw->args.mac_set)
		rte_ether_addr_copy(&hw->args.mac, &hw->mac);
	else
		rte_eth_random_addr(hw->mac.addr_bytes);
	dev->data->mac_addrs = rte_zmalloc(NULL, sizeof(struct rte_ether_addr), 0);
	if (dev->data->mac_addrs == NULL)
		return -ENOMEM;
	rte_ether_addr_copy(&hw->mac, dev->data->mac_addrs);
	ret = vfrag_pool_get(hw, dev->data->port_id);
	if (ret < 0)
		return ret;
	/* Before the transport starts: its control thread reports link changes. */
	hw->on_link_change = virtio_frag_link_changed;
	dev->dev_ops = &virtio_frag_eth_ops;
	dev->rx_pkt_burst = virtio_frag_recv_pkts;
	dev->tx_pkt_burst = hw->use_va ? virtio_frag_xmit_pkts : virtio_frag_xmit_pkts_iova;
	/* Link changes are reported from the transport (hw->on_link_change). */
	dev->data->dev_flags |= RTE_ETH_DEV_AUTOFILL_QUEUE_XSTATS | RTE_ETH_DEV_INTR_LSC;
	/* RX rings hold our fragments: the queues' mempools need no data room. */
	pfrag_mbuf_port_set_rx_frags(dev->data->port_id, 1);
	return 0;
}

int
virtio_frag_dev_uninit(struct rte_eth_dev *dev)
{
	return virtio_frag_close(dev);
}

RTE_LOG_REGISTER_DEFAULT(virtio_frag_logtype, NOTICE);

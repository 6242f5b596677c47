/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * ethdev operations of the virtio_frag PMD and the net_virtio_frag_user vdev.
 * Transport-neutral: the device is reached through hw->ops only.
 *
 * Pool: each port creates its own pfrag pool ("vfrag<port>", page_size and
 * pool_pages devargs) unless pool=<name> names an existing pool to share.
 * Queues own pfrag caches on it; close releases the pool, which pfrag
 * destroys once no fragment is out (pfrag_pool_release()).
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bus_vdev_driver.h>
#include <ethdev_driver.h>
#include <ethdev_vdev.h>
#include <rte_kvargs.h>
#include <rte_malloc.h>

#include "virtio_frag.h"

#define VFRAG_ARG_PATH         "path"
#define VFRAG_ARG_SERVER       "server"
#define VFRAG_ARG_QUEUE_SIZE   "queue_size"
#define VFRAG_ARG_QUEUES       "queues"
#define VFRAG_ARG_MRG_RXBUF    "mrg_rxbuf"
#define VFRAG_ARG_IN_ORDER     "in_order"
#define VFRAG_ARG_RX_BUF_SIZE  "rx_buf_size"
#define VFRAG_ARG_PAGE_SIZE    "page_size"
#define VFRAG_ARG_POOL_PAGES   "pool_pages"
#define VFRAG_ARG_POOL         "pool"
#define VFRAG_ARG_MAC          "mac"

static const char *const valid_args[] = {
	VFRAG_ARG_PATH,
	VFRAG_ARG_SERVER,
	VFRAG_ARG_QUEUE_SIZE,
	VFRAG_ARG_QUEUES,
	VFRAG_ARG_MRG_RXBUF,
	VFRAG_ARG_IN_ORDER,
	VFRAG_ARG_RX_BUF_SIZE,
	VFRAG_ARG_PAGE_SIZE,
	VFRAG_ARG_POOL_PAGES,
	VFRAG_ARG_POOL,
	VFRAG_ARG_MAC,
	NULL
};

/* ---- devargs ---- */

struct uint_arg {
	uint64_t min;
	uint64_t max;
	uint64_t *out;
};

static int
parse_uint(const char *key, const char *value, void *opaque)
{
	struct uint_arg *a = opaque;
	unsigned long long v;
	char *end;

	if (value == NULL || *value == '\0' || *value == '-')
		goto bad;
	errno = 0;
	v = strtoull(value, &end, 0);
	if (errno != 0 || *end != '\0' || v < a->min || v > a->max)
		goto bad;
	*a->out = v;
	return 0;
bad:
	VFRAG_LOG(ERR, "devarg %s=%s: expected an integer in [%" PRIu64 ", %" PRIu64 "]",
		  key, value == NULL ? "" : value, a->min, a->max);
	return -EINVAL;
}

static int
get_uint(struct rte_kvargs *kv, const char *key, uint64_t min, uint64_t max,
	 uint64_t *out)
{
	struct uint_arg a = { .min = min, .max = max, .out = out };

	if (rte_kvargs_count(kv, key) > 1) {
		VFRAG_LOG(ERR, "devarg %s given more than once", key);
		return -EINVAL;
	}
	return rte_kvargs_process(kv, key, parse_uint, &a);
}

static int
parse_string(const char *key, const char *value, void *opaque)
{
	struct { char *buf; size_t len; } *s = opaque;

	if (value == NULL || *value == '\0' || strlen(value) >= s->len) {
		VFRAG_LOG(ERR, "devarg %s: empty or longer than %zu characters", key,
			  s->len - 1);
		return -EINVAL;
	}
	strlcpy(s->buf, value, s->len);
	return 0;
}

static int
parse_mac(const char *key, const char *value, void *opaque)
{
	struct rte_ether_addr *mac = opaque;

	if (value == NULL || rte_ether_unformat_addr(value, mac) != 0 ||
	    !rte_is_unicast_ether_addr(mac)) {
		VFRAG_LOG(ERR, "devarg %s=%s: expected a unicast MAC like "
			  "02:00:00:00:00:01", key, value == NULL ? "" : value);
		return -EINVAL;
	}
	return 0;
}

static int
virtio_frag_parse_args(const char *params, struct virtio_frag_args *args)
{
	struct { char *buf; size_t len; } str;
	struct rte_kvargs *kv;
	uint64_t v;
	int ret = -EINVAL;

	memset(args, 0, sizeof(*args));
	args->queue_size = VFRAG_DEFAULT_RING_SIZE;
	args->queues = 1;
	args->mrg_rxbuf = 1;
	args->in_order = 1;
	if (params == NULL || *params == '\0') {
		VFRAG_LOG(ERR, "missing devarg path=<vhost-user socket>");
		return -EINVAL;
	}
	kv = rte_kvargs_parse(params, valid_args);
	if (kv == NULL) {
		VFRAG_LOG(ERR, "bad devargs '%s': keys are path, server, queue_size, queues, "
			  "mrg_rxbuf, in_order, rx_buf_size, page_size, pool_pages, pool, mac", params);
		return -EINVAL;
	}
	if (rte_kvargs_count(kv, VFRAG_ARG_PATH) != 1) {
		VFRAG_LOG(ERR, "devarg path=<vhost-user socket> is required, once");
		goto out;
	}
	str.buf = args->path;
	str.len = sizeof(args->path);
	if (rte_kvargs_process(kv, VFRAG_ARG_PATH, parse_string, &str) < 0)
		goto out;
	v = 0;
	if (get_uint(kv, VFRAG_ARG_SERVER, 0, 1, &v) < 0)
		goto out;
	args->server = (int)v;
	v = args->queue_size;
	if (get_uint(kv, VFRAG_ARG_QUEUE_SIZE, VFRAG_MIN_RING_SIZE, VFRAG_MAX_RING_SIZE,
		     &v) < 0)
		goto out;
	if (!rte_is_power_of_2(v)) {
		VFRAG_LOG(ERR, "devarg queue_size=%" PRIu64 ": must be a power of two", v);
		goto out;
	}
	args->queue_size = (uint16_t)v;
	v = args->queues;
	if (get_uint(kv, VFRAG_ARG_QUEUES, 1, VFRAG_MAX_QUEUE_PAIRS, &v) < 0)
		goto out;
	args->queues = (uint16_t)v;
	v = args->mrg_rxbuf;
	if (get_uint(kv, VFRAG_ARG_MRG_RXBUF, 0, 1, &v) < 0)
		goto out;
	args->mrg_rxbuf = (int)v;
	v = args->in_order;
	if (get_uint(kv, VFRAG_ARG_IN_ORDER, 0, 1, &v) < 0)
		goto out;
	args->in_order = (int)v;
	v = 0;
	if (get_uint(kv, VFRAG_ARG_RX_BUF_SIZE, 0, VFRAG_MAX_RX_PKTLEN, &v) < 0)
		goto out;
	if (v != 0 && v < VFRAG_RX_ROOM_MIN) {
		VFRAG_LOG(ERR, "devarg rx_buf_size=%" PRIu64 ": 0 (adaptive) or >= %u", v,
			  VFRAG_RX_ROOM_MIN);
		goto out;
	}
	args->rx_buf_size = (uint32_t)v;
	v = 0;
	if (get_uint(kv, VFRAG_ARG_PAGE_SIZE, 0, RTE_PGSIZE_1G, &v) < 0)
		goto out;
	if (v != 0 && (!rte_is_power_of_2(v) || v < PFRAG_MIN_PAGE_SIZE)) {
		VFRAG_LOG(ERR, "devarg page_size=%" PRIu64 ": a power of two >= %u", v,
			  PFRAG_MIN_PAGE_SIZE);
		goto out;
	}
	args->page_size = (uint32_t)v;
	v = 0;
	if (get_uint(kv, VFRAG_ARG_POOL_PAGES, 0, 1u << 24, &v) < 0)
		goto out;
	args->pool_pages = (uint32_t)v;
	/* A key given twice would silently take its last value: refuse it. */
	if (rte_kvargs_count(kv, VFRAG_ARG_POOL) > 1 || rte_kvargs_count(kv, VFRAG_ARG_MAC) > 1) {
		VFRAG_LOG(ERR, "devarg %s given more than once",
			  rte_kvargs_count(kv, VFRAG_ARG_POOL) > 1 ? VFRAG_ARG_POOL : VFRAG_ARG_MAC);
		goto out;
	}
	str.buf = args->pool;
	str.len = sizeof(args->pool);
	if (rte_kvargs_process(kv, VFRAG_ARG_POOL, parse_string, &str) < 0)
		goto out;
	if (rte_kvargs_count(kv, VFRAG_ARG_MAC) > 0) {
		if (rte_kvargs_process(kv, VFRAG_ARG_MAC, parse_mac, &args->mac) < 0)
			goto out;
		args->mac_set = 1;
	}
	ret = 0;
out:
	rte_kvargs_free(kv);
	return ret;
}

/* ---- queues ---- */

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
	rte_free(vq->ring_mem);
	rte_free(vq->tx_slots);
	rte_free(vq->tx_next);
	rte_free(vq->tx_hdrs);
	rte_free(vq->rx_slots);
	rte_free(vq->rx_free_ids);
	rte_free(vq);
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
	/* Rings live in EAL memory: the memory table shares it with the backend. */
	vq->ring_mem = rte_zmalloc_socket("vfrag_ring", vring_size(nb_desc),
					  VFRAG_RING_ALIGN, socket_id);
	if (vq->ring_mem == NULL)
		goto fail;
	vring_init(&vq->vr, nb_desc, vq->ring_mem);
	if (is_tx) {
		vq->tx_slots = rte_zmalloc_socket(NULL, sizeof(*vq->tx_slots) * nb_desc,
						  RTE_CACHE_LINE_SIZE, socket_id);
		vq->tx_next = rte_zmalloc_socket(NULL, sizeof(*vq->tx_next) * nb_desc, 0,
						 socket_id);
		vq->tx_hdrs = rte_zmalloc_socket(NULL, VFRAG_HDR_LEN * nb_desc,
						 RTE_CACHE_LINE_SIZE, socket_id);
		if (vq->tx_slots == NULL || vq->tx_next == NULL || vq->tx_hdrs == NULL)
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
static int
vfrag_rx_room_check(struct virtio_frag_vq *vq, int mergeable)
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

static int
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
	vq->mp = mp;
	vq->rx_buf_size = hw->args.rx_buf_size;
	/* Start from a full-size frame, as Linux does, and adapt from there. */
	vq->rx_ewma = (uint32_t)(RTE_ETHER_MAX_LEN) << VFRAG_EWMA_SHIFT;
	/* Features are not negotiated yet: start checks again with them. */
	if (vfrag_rx_room_check(vq, hw->args.mrg_rxbuf) < 0) {
		vfrag_vq_free(hw, vq);
		return -EINVAL;
	}
	/*
	 * Each packet takes a header mbuf until the application frees it: a
	 * pool smaller than the ring drops packets (rx_nombuf) on full rings.
	 */
	if (mp->size < vq->nb_desc)
		VFRAG_LOG(WARNING, "port %u rxq %u: header pool %s has %u mbufs for %u ring "
			  "slots: packets beyond that are dropped (rx_nombuf)",
			  dev->data->port_id, qid, mp->name, mp->size, vq->nb_desc);
	dev->data->rx_queues[qid] = vq;
	hw->rxq[qid] = vq;
	return 0;
}

static int
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

static int
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

static void
virtio_frag_rx_queue_release(struct rte_eth_dev *dev, uint16_t qid)
{
	struct virtio_frag_hw *hw = dev->data->dev_private;

	vfrag_vq_free(hw, dev->data->rx_queues[qid]);
	dev->data->rx_queues[qid] = NULL;
	hw->rxq[qid] = NULL;
}

static void
virtio_frag_tx_queue_release(struct rte_eth_dev *dev, uint16_t qid)
{
	struct virtio_frag_hw *hw = dev->data->dev_private;

	vfrag_vq_free(hw, dev->data->tx_queues[qid]);
	dev->data->tx_queues[qid] = NULL;
	hw->txq[qid] = NULL;
}

/* ---- device ---- */

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

static int
virtio_frag_infos_get(struct rte_eth_dev *dev, struct rte_eth_dev_info *info)
{
	struct virtio_frag_hw *hw = dev->data->dev_private;
	uint16_t max = RTE_MIN(hw->args.queues, hw->ops->get_queue_num(hw));

	info->max_rx_queues = max;
	info->max_tx_queues = max;
	info->max_mac_addrs = 1;
	/* RX data lands in fragments: the mempool only gives header mbufs. */
	info->min_rx_bufsize = 0;
	info->max_rx_pktlen = VFRAG_MAX_RX_PKTLEN;
	info->min_mtu = RTE_ETHER_MIN_MTU;
	info->max_mtu = VFRAG_MAX_MTU;
	/* Mergeable buffers deliver large frames as chained mbufs. */
	info->rx_offload_capa = hw->args.mrg_rxbuf ? RTE_ETH_RX_OFFLOAD_SCATTER : 0;
	info->tx_offload_capa = RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
	info->rx_desc_lim.nb_max = VFRAG_MAX_RING_SIZE;
	info->rx_desc_lim.nb_min = VFRAG_MIN_RING_SIZE;
	info->rx_desc_lim.nb_align = 1;
	info->tx_desc_lim = info->rx_desc_lim;
	info->default_rxportconf.ring_size = hw->args.queue_size;
	info->default_txportconf.ring_size = hw->args.queue_size;
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
	uint64_t dev_features, want;
	uint8_t status;
	uint16_t i;
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
	want = VFRAG_BIT(VFRAG_F_VERSION_1) | VFRAG_BIT(VFRAG_NET_F_MAC) |
		VFRAG_BIT(VFRAG_NET_F_STATUS);
	if (hw->args.mrg_rxbuf)
		want |= VFRAG_BIT(VFRAG_NET_F_MRG_RXBUF);
	/* In order: TX completion needs no free list, the device reads ahead. */
	if (hw->args.in_order)
		want |= VFRAG_BIT(VFRAG_F_IN_ORDER);
	/*
	 * Never VIRTIO_NET_F_MQ: virtio makes it depend on a control queue,
	 * which this driver has not. More queue pairs are the transport's:
	 * get_queue_num() says how many (vhost-user enables each vring).
	 */
	if (!(dev_features & VFRAG_BIT(VFRAG_F_VERSION_1))) {
		VFRAG_LOG(ERR, "port %u: device does not offer VERSION_1", dev->data->port_id);
		return -ENOTSUP;
	}
	if ((want & VFRAG_BIT(VFRAG_NET_F_MRG_RXBUF)) &&
	    !(dev_features & VFRAG_BIT(VFRAG_NET_F_MRG_RXBUF)))
		VFRAG_LOG(NOTICE, "port %u: device has no mergeable RX buffers: "
			  "posting full-frame buffers", dev->data->port_id);
	hw->features = dev_features & want;
	hw->guest_features = want;
	VFRAG_LOG(INFO, "port %u: device features 0x%" PRIx64 ", negotiated 0x%" PRIx64,
		  dev->data->port_id, dev_features, hw->features);
	/* Without mergeable buffers each buffer holds a whole frame. */
	for (i = 0; i < hw->nb_rx_queues; i++)
		if (vfrag_rx_room_check(hw->rxq[i],
				vfrag_with_feature(hw, VFRAG_NET_F_MRG_RXBUF)) < 0)
			return -EINVAL;
	hw->ops->set_features(hw, hw->features);
	status |= VFRAG_STATUS_FEATURES_OK;
	hw->ops->set_status(hw, status);

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
	hw->started = 1;
	ret = hw->ops->set_status(hw, status | VFRAG_STATUS_DRIVER_OK);
	if (ret < 0)
		goto fail;
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

/* The backend delivers every frame: filtering modes are accepted as they are. */
static int
virtio_frag_filter_mode(struct rte_eth_dev *dev __rte_unused)
{
	return 0;
}

/* ---- stats ---- */

static int
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
		st->oerrors += vq->stats.errors + vq->stats.dropped;
		if (i < RTE_ETHDEV_QUEUE_STAT_CNTRS) {
			st->q_opackets[i] = vq->stats.packets;
			st->q_obytes[i] = vq->stats.bytes;
		}
	}
	return 0;
}

static int
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

static int
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

static int
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

static int
virtio_frag_xstats_reset(struct rte_eth_dev *dev)
{
	return virtio_frag_stats_reset(dev);
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
	.promiscuous_enable = virtio_frag_filter_mode,
	.promiscuous_disable = virtio_frag_filter_mode,
	.allmulticast_enable = virtio_frag_filter_mode,
	.allmulticast_disable = virtio_frag_filter_mode,
};

/* ---- vdev ---- */

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
		return 0;
	}
	page_size = a->page_size != 0 ? a->page_size : PFRAG_DEFAULT_PAGE_SIZE;
	nb_pages = a->pool_pages;
	if (nb_pages == 0)
		/* Four 2 KB buffers per ring slot: posted, in flight, in the app. */
		nb_pages = RTE_MAX(256u, (uint32_t)((uint64_t)a->queues * a->queue_size *
						    4 * 2048 / page_size));
	snprintf(name, sizeof(name), "vfrag%u", port_id);
	/*
	 * A pool of that name is never an earlier port's (close releases the
	 * pool and its name at once): it is someone else's, and adopting it
	 * would make our close release a pool its owner still uses.
	 */
	hw->pool = pfrag_pool_create(name, (int)rte_socket_id(), page_size, nb_pages, 0);
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

static int
virtio_frag_user_probe(struct rte_vdev_device *vdev)
{
	const char *name = rte_vdev_device_name(vdev);
	struct virtio_frag_args args;
	struct virtio_frag_hw *hw;
	struct rte_eth_dev *eth_dev;
	int ret;

	VFRAG_LOG(INFO, "probing %s", name);
	if (rte_eal_process_type() != RTE_PROC_PRIMARY) {
		VFRAG_LOG(ERR, "%s: secondary processes are not supported", name);
		return -ENOTSUP;
	}
	ret = virtio_frag_parse_args(rte_vdev_device_args(vdev), &args);
	if (ret < 0) {
		VFRAG_LOG(ERR, "%s: invalid devargs, device not created", name);
		return ret;
	}
	eth_dev = rte_eth_vdev_allocate(vdev, sizeof(*hw));
	if (eth_dev == NULL)
		return -ENOMEM;
	hw = eth_dev->data->dev_private;
	hw->args = args;
	hw->eth_dev = eth_dev;
	hw->mtu = RTE_ETHER_MTU;
	if (args.mac_set)
		rte_ether_addr_copy(&args.mac, &hw->mac);
	else
		rte_eth_random_addr(hw->mac.addr_bytes);
	eth_dev->data->mac_addrs = rte_zmalloc(NULL, sizeof(struct rte_ether_addr), 0);
	if (eth_dev->data->mac_addrs == NULL) {
		ret = -ENOMEM;
		goto fail;
	}
	rte_ether_addr_copy(&hw->mac, eth_dev->data->mac_addrs);
	ret = vfrag_pool_get(hw, eth_dev->data->port_id);
	if (ret < 0)
		goto fail;
	/* Before the transport starts: its control thread reports link changes. */
	hw->on_link_change = virtio_frag_link_changed;
	ret = virtio_user_frag_init(hw);
	if (ret < 0)
		goto fail;
	eth_dev->dev_ops = &virtio_frag_eth_ops;
	eth_dev->rx_pkt_burst = virtio_frag_recv_pkts;
	eth_dev->tx_pkt_burst = virtio_frag_xmit_pkts;
	/* Link changes are reported from the transport's control thread. */
	eth_dev->data->dev_flags |= RTE_ETH_DEV_AUTOFILL_QUEUE_XSTATS | RTE_ETH_DEV_INTR_LSC;
	rte_eth_dev_probing_finish(eth_dev);
	VFRAG_LOG(INFO, "%s: port %u, %s mode on %s, pool %s", name,
		  eth_dev->data->port_id, args.server ? "server" : "client", args.path,
		  hw->pool->name);
	return 0;
fail:
	if (hw->pool != NULL && hw->own_pool)
		pfrag_pool_free(hw->pool);
	hw->pool = NULL;
	rte_eth_dev_release_port(eth_dev);
	return ret;
}

static int
virtio_frag_user_remove(struct rte_vdev_device *vdev)
{
	struct rte_eth_dev *eth_dev;

	eth_dev = rte_eth_dev_allocated(rte_vdev_device_name(vdev));
	if (eth_dev == NULL)
		return 0;
	if (rte_eal_process_type() == RTE_PROC_PRIMARY)
		virtio_frag_close(eth_dev);
	return rte_eth_dev_release_port(eth_dev);
}

static struct rte_vdev_driver virtio_frag_user_driver = {
	.probe = virtio_frag_user_probe,
	.remove = virtio_frag_user_remove,
};

RTE_PMD_REGISTER_VDEV(net_virtio_frag_user, virtio_frag_user_driver);
RTE_PMD_REGISTER_PARAM_STRING(net_virtio_frag_user,
	"path=<vhost-user socket> "
	"server=<0|1> "
	"queue_size=<64..4096, power of 2> "
	"queues=<1..8> "
	"mrg_rxbuf=<0|1> "
	"in_order=<0|1> "
	"rx_buf_size=<0 (adaptive)|64..9728> "
	"page_size=<bytes, power of 2> "
	"pool_pages=<int> "
	"pool=<name of an existing pfrag pool> "
	"mac=<xx:xx:xx:xx:xx:xx>");
RTE_LOG_REGISTER_DEFAULT(virtio_frag_logtype, NOTICE);

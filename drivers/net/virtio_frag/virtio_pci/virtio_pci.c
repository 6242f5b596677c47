/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * virtio-pci transport: struct virtio_frag_ops over a PCI function, legacy
 * (virtio 0.95: registers in I/O BAR 0, reached with port I/O) or modern
 * (virtio 1.0: common, notify, ISR and device structures in memory BARs,
 * found through vendor capabilities). A function that offers the modern
 * capabilities is driven as modern; a transitional one (1af4:1000) without
 * them as legacy.
 *
 * The rings carry IOVAs (hw->use_va = 0): the device reads and writes them
 * by DMA. Every register access is on the control path except the notify,
 * which any lcore does for its own queue: a port-I/O write (legacy) or an
 * MMIO write (modern) of the queue's index, both stateless.
 */

#include <errno.h>
#include <string.h>

#include <bus_pci_driver.h>
#include <rte_bus_pci.h>
#include <rte_cycles.h>
#include <rte_io.h>
#include <rte_malloc.h>

#include "../virtio_frag.h"
#include "virtio_pci.h"

/* How long a reset may take to read back 0 (QEMU: at once). */
#define VPCI_RESET_WAIT_MS      1000u
/* Config generation retries: a device that changes its config forever. */
#define VPCI_CFG_GEN_TRIES      16

struct virtio_pci_frag {
	struct rte_pci_device *pci;
	int modern;
	/* Legacy. */
	struct rte_pci_ioport io;
	int io_mapped;
	uint16_t cfg_off;            /* device config in the I/O BAR */
	/* Modern: the structures, bounded against their BARs at init. */
	uint8_t *common;
	uint8_t *notify;
	uint8_t *device;
	uint32_t notify_len;
	uint32_t notify_mul;
	uint32_t device_len;         /* mapped bytes of the device structure */
	/* Bytes of device config the driver reads: what the offer says exists. */
	uint32_t cfg_len;
	/* Read once at init. */
	uint64_t offered;
	/*
	 * DRIVER_OK written: notifications are allowed only from then on
	 * (spec 3.1.1), and the RX refill at queue reset comes before it.
	 */
	uint8_t driver_ok;
};

static inline struct virtio_pci_frag *
vp(struct virtio_frag_hw *hw)
{
	return hw->transport;
}

/* ---- register access ---- */

static uint8_t
leg_read8(struct virtio_pci_frag *d, off_t off)
{
	uint8_t v;

	rte_pci_ioport_read(&d->io, &v, 1, off);
	return v;
}

static uint16_t
leg_read16(struct virtio_pci_frag *d, off_t off)
{
	uint16_t v;

	rte_pci_ioport_read(&d->io, &v, 2, off);
	return v;
}

static uint32_t
leg_read32(struct virtio_pci_frag *d, off_t off)
{
	uint32_t v;

	rte_pci_ioport_read(&d->io, &v, 4, off);
	return v;
}

static void
leg_write8(struct virtio_pci_frag *d, uint8_t v, off_t off)
{
	rte_pci_ioport_write(&d->io, &v, 1, off);
}

static void
leg_write16(struct virtio_pci_frag *d, uint16_t v, off_t off)
{
	rte_pci_ioport_write(&d->io, &v, 2, off);
}

static void
leg_write32(struct virtio_pci_frag *d, uint32_t v, off_t off)
{
	rte_pci_ioport_write(&d->io, &v, 4, off);
}

static uint8_t
com_read8(struct virtio_pci_frag *d, unsigned int off)
{
	return rte_read8(d->common + off);
}

static uint16_t
com_read16(struct virtio_pci_frag *d, unsigned int off)
{
	return rte_le_to_cpu_16(rte_read16(d->common + off));
}

static uint32_t
com_read32(struct virtio_pci_frag *d, unsigned int off)
{
	return rte_le_to_cpu_32(rte_read32(d->common + off));
}

static void
com_write8(struct virtio_pci_frag *d, uint8_t v, unsigned int off)
{
	rte_write8(v, d->common + off);
}

static void
com_write16(struct virtio_pci_frag *d, uint16_t v, unsigned int off)
{
	rte_write16(rte_cpu_to_le_16(v), d->common + off);
}

static void
com_write32(struct virtio_pci_frag *d, uint32_t v, unsigned int off)
{
	rte_write32(rte_cpu_to_le_32(v), d->common + off);
}

/* 64-bit fields are written as two halves, low first (spec 4.1.3.1). */
static void
com_write64(struct virtio_pci_frag *d, uint64_t v, unsigned int lo, unsigned int hi)
{
	com_write32(d, (uint32_t)v, lo);
	com_write32(d, (uint32_t)(v >> 32), hi);
}

/* ---- status ---- */

static uint8_t
vpci_get_status(struct virtio_frag_hw *hw)
{
	struct virtio_pci_frag *d = vp(hw);

	return d->modern ? com_read8(d, VPCI_COMMON_STATUS) : leg_read8(d, VPCI_LEG_STATUS);
}

static void
vpci_write_status(struct virtio_pci_frag *d, uint8_t status)
{
	if (d->modern)
		com_write8(d, status, VPCI_COMMON_STATUS);
	else
		leg_write8(d, status, VPCI_LEG_STATUS);
}

/*
 * Reset: write 0, then wait for the device to read back 0 (spec 4.1.4.3.2:
 * only then has it let go of the rings). Bounded: a device that never
 * finishes is reported, and the caller does not reuse the rings as if it had.
 */
static int
vpci_reset(struct virtio_pci_frag *d)
{
	uint64_t end = rte_get_timer_cycles() + rte_get_timer_hz() * VPCI_RESET_WAIT_MS / 1000;
	uint8_t st;

	__atomic_store_n(&d->driver_ok, 0, __ATOMIC_RELAXED);
	vpci_write_status(d, 0);
	while ((st = d->modern ? com_read8(d, VPCI_COMMON_STATUS) :
		leg_read8(d, VPCI_LEG_STATUS)) != 0) {
		if (rte_get_timer_cycles() > end) {
			VFRAG_LOG(ERR, "%s: device status %#x, not 0, %u ms after reset",
				  d->pci->name, st, VPCI_RESET_WAIT_MS);
			return -ETIMEDOUT;
		}
		rte_delay_us_sleep(1000);
	}
	return 0;
}

static int
vpci_set_status(struct virtio_frag_hw *hw, uint8_t status)
{
	struct virtio_pci_frag *d = vp(hw);
	uint16_t i;

	if (status == 0)
		return vpci_reset(d);
	/* FEATURES_OK is a virtio 1.0 step: legacy devices know no such bit. */
	if (!d->modern)
		status &= ~VFRAG_STATUS_FEATURES_OK;
	vpci_write_status(d, status);
	if ((status & VFRAG_STATUS_DRIVER_OK) && !d->driver_ok) {
		__atomic_store_n(&d->driver_ok, 1, __ATOMIC_RELEASE);
		/* RX buffers were posted before: tell the device now that it may look. */
		for (i = 0; i < hw->nb_rx_queues; i++)
			if (hw->rxq[i] != NULL)
				hw->ops->notify_queue(hw, hw->rxq[i]);
	}
	return 0;
}

/* ---- features ---- */

static uint64_t
vpci_read_features(struct virtio_pci_frag *d)
{
	uint64_t lo, hi;

	if (!d->modern)
		return leg_read32(d, VPCI_LEG_HOST_FEATURES);
	com_write32(d, 0, VPCI_COMMON_DFSELECT);
	lo = com_read32(d, VPCI_COMMON_DF);
	com_write32(d, 1, VPCI_COMMON_DFSELECT);
	hi = com_read32(d, VPCI_COMMON_DF);
	return lo | hi << 32;
}

static uint64_t
vpci_get_features(struct virtio_frag_hw *hw)
{
	return vp(hw)->offered;
}

static int
vpci_set_features(struct virtio_frag_hw *hw, uint64_t features)
{
	struct virtio_pci_frag *d = vp(hw);

	if (!d->modern) {
		/* The legacy register has 32 bits: negotiation never asks for more. */
		if (features >> 32) {
			VFRAG_LOG(ERR, "%s: legacy device: features %#" PRIx64 " above bit 31",
				  d->pci->name, features);
			return -EINVAL;
		}
		leg_write32(d, (uint32_t)features, VPCI_LEG_GUEST_FEATURES);
		return 0;
	}
	com_write32(d, 0, VPCI_COMMON_GFSELECT);
	com_write32(d, (uint32_t)features, VPCI_COMMON_GF);
	com_write32(d, 1, VPCI_COMMON_GFSELECT);
	com_write32(d, (uint32_t)(features >> 32), VPCI_COMMON_GF);
	return 0;
}

/* ---- device config ---- */

static int
vpci_read_dev_cfg(struct virtio_frag_hw *hw, size_t offset, void *dst, int len)
{
	struct virtio_pci_frag *d = vp(hw);
	uint8_t gen, gen2, *p = dst;
	int tries, i;

	if (len < 0 || offset + (size_t)len > d->cfg_len)
		return -EINVAL;
	if (!d->modern) {
		for (i = 0; i < len; i++)
			p[i] = leg_read8(d, d->cfg_off + offset + i);
		return 0;
	}
	/* A field read while the device changes its config is read again. */
	for (tries = 0; tries < VPCI_CFG_GEN_TRIES; tries++) {
		gen = com_read8(d, VPCI_COMMON_CFGGEN);
		for (i = 0; i < len; i++)
			p[i] = rte_read8(d->device + offset + i);
		gen2 = com_read8(d, VPCI_COMMON_CFGGEN);
		if (gen == gen2)
			return 0;
	}
	VFRAG_LOG(ERR, "%s: device config keeps changing (generation %u -> %u)",
		  d->pci->name, gen, gen2);
	return -EAGAIN;
}

/* The driver writes nothing there: the MAC of a virtio 1.0 device is read-only. */
static int
vpci_write_dev_cfg(struct virtio_frag_hw *hw __rte_unused, size_t offset __rte_unused,
		   const void *src __rte_unused, int len __rte_unused)
{
	return -ENOTSUP;
}

/* ---- queues ---- */

static uint16_t
vpci_get_queue_size(struct virtio_frag_hw *hw, uint16_t vq_index, int *fixed)
{
	struct virtio_pci_frag *d = vp(hw);

	*fixed = !d->modern;
	if (!d->modern) {
		leg_write16(d, vq_index, VPCI_LEG_QUEUE_SEL);
		return leg_read16(d, VPCI_LEG_QUEUE_NUM);
	}
	com_write16(d, vq_index, VPCI_COMMON_Q_SELECT);
	return com_read16(d, VPCI_COMMON_Q_SIZE);
}

static int
vpci_setup_legacy(struct virtio_pci_frag *d, struct virtio_frag_vq *vq)
{
	uint64_t pfn = vq->ring_iova >> VPCI_LEG_PFN_SHIFT;
	uint16_t num;

	leg_write16(d, vq->vq_index, VPCI_LEG_QUEUE_SEL);
	num = leg_read16(d, VPCI_LEG_QUEUE_NUM);
	/* Legacy rings have the device's size, and one 32-bit page number. */
	if (num != vq->nb_desc) {
		VFRAG_LOG(ERR, "%s: legacy queue %u has %u entries, the ring %u",
			  d->pci->name, vq->vq_index, num, vq->nb_desc);
		return -EINVAL;
	}
	if ((vq->ring_iova & (VPCI_LEG_RING_ALIGN - 1)) != 0 || pfn > UINT32_MAX) {
		VFRAG_LOG(ERR, "%s: queue %u ring at IOVA %#" PRIx64 ": a legacy device "
			  "needs it 4 KiB aligned below 16 TiB", d->pci->name, vq->vq_index,
			  vq->ring_iova);
		return -EINVAL;
	}
	leg_write32(d, (uint32_t)pfn, VPCI_LEG_QUEUE_PFN);
	return 0;
}

static int
vpci_setup_modern(struct virtio_pci_frag *d, struct virtio_frag_vq *vq)
{
	rte_iova_t base = vq->ring_iova;
	uint16_t size, noff;
	int64_t at;

	com_write16(d, vq->vq_index, VPCI_COMMON_Q_SELECT);
	size = com_read16(d, VPCI_COMMON_Q_SIZE);
	if (size == 0 || vq->nb_desc > size) {
		VFRAG_LOG(ERR, "%s: queue %u: device takes %u entries at most, the ring has %u",
			  d->pci->name, vq->vq_index, size, vq->nb_desc);
		return -EINVAL;
	}
	noff = com_read16(d, VPCI_COMMON_Q_NOFF);
	at = vpci_notify_offset(noff, d->notify_mul, d->notify_len);
	if (at < 0) {
		VFRAG_LOG(ERR, "%s: queue %u: notify offset %u x %u outside the notify "
			  "structure (%u bytes)", d->pci->name, vq->vq_index, noff,
			  d->notify_mul, d->notify_len);
		return -EINVAL;
	}
	com_write16(d, vq->nb_desc, VPCI_COMMON_Q_SIZE);
	com_write64(d, base + ((uint8_t *)vq->vr.desc - (uint8_t *)vq->ring_mem),
		    VPCI_COMMON_Q_DESCLO, VPCI_COMMON_Q_DESCHI);
	com_write64(d, base + ((uint8_t *)vq->vr.avail - (uint8_t *)vq->ring_mem),
		    VPCI_COMMON_Q_AVAILLO, VPCI_COMMON_Q_AVAILHI);
	com_write64(d, base + ((uint8_t *)vq->vr.used - (uint8_t *)vq->ring_mem),
		    VPCI_COMMON_Q_USEDLO, VPCI_COMMON_Q_USEDHI);
	/* We poll: no interrupt vector for the queue. */
	com_write16(d, VPCI_MSI_NO_VECTOR, VPCI_COMMON_Q_MSIX);
	vq->notify_addr = d->notify + at;
	com_write16(d, 1, VPCI_COMMON_Q_ENABLE);
	return 0;
}

static int
vpci_setup_queue(struct virtio_frag_hw *hw, struct virtio_frag_vq *vq)
{
	struct virtio_pci_frag *d = vp(hw);

	if (vq->ring_iova == RTE_BAD_IOVA) {
		VFRAG_LOG(ERR, "%s: queue %u ring has no IOVA", d->pci->name, vq->vq_index);
		return -EINVAL;
	}
	return d->modern ? vpci_setup_modern(d, vq) : vpci_setup_legacy(d, vq);
}

/*
 * After a reset the device has forgotten every queue (modern: queue_enable
 * cannot be written 0). A legacy queue is also cleared by PFN 0.
 */
static void
vpci_del_queue(struct virtio_frag_hw *hw, struct virtio_frag_vq *vq)
{
	struct virtio_pci_frag *d = vp(hw);

	vq->notify_addr = NULL;
	if (d == NULL || d->modern)
		return;
	leg_write16(d, vq->vq_index, VPCI_LEG_QUEUE_SEL);
	leg_write32(d, 0, VPCI_LEG_QUEUE_PFN);
}

static void
vpci_notify_legacy(struct virtio_frag_hw *hw, struct virtio_frag_vq *vq)
{
	struct virtio_pci_frag *d = vp(hw);

	if (likely(__atomic_load_n(&d->driver_ok, __ATOMIC_RELAXED)))
		leg_write16(d, vq->vq_index, VPCI_LEG_QUEUE_NOTIFY);
}

static void
vpci_notify_modern(struct virtio_frag_hw *hw, struct virtio_frag_vq *vq)
{
	/* The caller's fence orders the ring writes before this store. */
	if (likely(__atomic_load_n(&vp(hw)->driver_ok, __ATOMIC_RELAXED)))
		rte_write16_relaxed(rte_cpu_to_le_16(vq->vq_index), vq->notify_addr);
}

/* ---- link, close ---- */

static int
vpci_link_ok(struct virtio_frag_hw *hw)
{
	uint16_t st;

	/* Without VIRTIO_NET_F_STATUS the link is always up (spec 5.1.4). */
	if (!vfrag_with_feature(hw, VFRAG_NET_F_STATUS))
		return 1;
	if (vpci_read_dev_cfg(hw, VPCI_NET_CFG_STATUS, &st, sizeof(st)) < 0)
		return 0;
	return (rte_le_to_cpu_16(st) & VFRAG_NET_S_LINK_UP) != 0;
}

static void
vpci_free(struct virtio_pci_frag *d)
{
	if (d->io_mapped)
		rte_pci_ioport_unmap(&d->io);
	rte_free(d);
}

/* Close: the device is reset (it lets go of the rings), then forgotten. */
static void
vpci_dev_close(struct virtio_frag_hw *hw)
{
	struct virtio_pci_frag *d = vp(hw);

	if (d == NULL)
		return;
	vpci_reset(d);
	hw->transport = NULL;
	vpci_free(d);
}

static uint16_t
vpci_get_queue_num(struct virtio_frag_hw *hw)
{
	return RTE_MIN(hw->dev_max_pairs, (uint16_t)VFRAG_MAX_QUEUE_PAIRS);
}

/*
 * The PCI port's own counters, after the common ones (whose list and order
 * the vhost-user port keeps): what only an IOVA device or a control queue
 * gives rise to.
 */
static const char *const vpci_xstat_names[] = {
	"tx_dropped_no_iova",
	"ctrl_commands",
	"ctrl_failures",
};

static void
vpci_xstats_get(struct virtio_frag_hw *hw, uint64_t *v)
{
	uint16_t i;

	v[0] = 0;
	for (i = 0; i < hw->nb_tx_queues; i++)
		if (hw->txq[i] != NULL)
			v[0] += hw->txq[i]->stats.no_iova;
	virtio_frag_cvq_counters(hw, &v[1], &v[2]);
}

static const struct virtio_frag_ops virtio_pci_legacy_ops = {
	.name = "virtio-pci-legacy",
	.write_dev_cfg = vpci_write_dev_cfg,
	.set_status = vpci_set_status,
	.get_status = vpci_get_status,
	.get_features = vpci_get_features,
	.set_features = vpci_set_features,
	.get_queue_num = vpci_get_queue_num,
	.get_queue_size = vpci_get_queue_size,
	.setup_queue = vpci_setup_queue,
	.del_queue = vpci_del_queue,
	.notify_queue = vpci_notify_legacy,
	.link_ok = vpci_link_ok,
	.dev_close = vpci_dev_close,
	.nb_xstats = RTE_DIM(vpci_xstat_names),
	.xstat_names = vpci_xstat_names,
	.xstats_get = vpci_xstats_get,
};

static const struct virtio_frag_ops virtio_pci_modern_ops = {
	.name = "virtio-pci-modern",
	.write_dev_cfg = vpci_write_dev_cfg,
	.set_status = vpci_set_status,
	.get_status = vpci_get_status,
	.get_features = vpci_get_features,
	.set_features = vpci_set_features,
	.get_queue_num = vpci_get_queue_num,
	.get_queue_size = vpci_get_queue_size,
	.setup_queue = vpci_setup_queue,
	.del_queue = vpci_del_queue,
	.notify_queue = vpci_notify_modern,
	.link_ok = vpci_link_ok,
	.dev_close = vpci_dev_close,
	.nb_xstats = RTE_DIM(vpci_xstat_names),
	.xstat_names = vpci_xstat_names,
	.xstats_get = vpci_xstats_get,
};

/* ---- init ---- */

static int
vpci_cfg_read(void *ctx, off_t off, void *buf, size_t len)
{
	int ret = rte_pci_read_config(ctx, buf, len, off);

	if (ret < 0)
		return ret;
	return (size_t)ret == len ? 0 : -EIO;
}

/* Map the four modern structures; each bounded by its mapped BAR. */
static int
vpci_map_modern(struct virtio_pci_frag *d, const struct vpci_caps *caps)
{
	const struct rte_mem_resource *res = d->pci->mem_resource;
	const struct vpci_cap_loc *loc[] = { &caps->common, &caps->notify, &caps->device };
	static const char *const what[] = { "common", "notify", "device" };
	static const uint32_t min_len[] = { VPCI_COMMON_LEN, sizeof(uint16_t),
		VPCI_NET_CFG_MIN_LEN };
	uint8_t *base[RTE_DIM(loc)];
	unsigned int i;

	for (i = 0; i < RTE_DIM(loc); i++) {
		if (!loc[i]->present || res[loc[i]->bar].addr == NULL) {
			VFRAG_LOG(ERR, "%s: virtio %s structure %s", d->pci->name, what[i],
				  loc[i]->present ? "in a BAR that is not mapped" : "missing");
			return -EINVAL;
		}
		if (vpci_cap_check(loc[i], res[loc[i]->bar].len, min_len[i], what[i]) < 0)
			return -EINVAL;
		base[i] = (uint8_t *)res[loc[i]->bar].addr + loc[i]->offset;
	}
	d->common = base[0];
	d->notify = base[1];
	d->device = base[2];
	d->notify_len = caps->notify.length;
	d->notify_mul = caps->notify_off_multiplier;
	d->device_len = caps->device.length;
	return 0;
}

/* The device's config fields the driver uses, each bounded. */
static int
vpci_read_net_cfg(struct virtio_frag_hw *hw)
{
	struct virtio_pci_frag *d = vp(hw);
	struct rte_ether_addr mac;
	uint16_t pairs = 1;
	int ret;

	/*
	 * The device's MAC is the port's unless the devarg chose one (which
	 * then lives in the port only: without VIRTIO_NET_F_CTRL_MAC_ADDR the
	 * device cannot be told). A MAC that is no unicast address is ignored,
	 * and the ethdev layer draws a random one.
	 */
	if ((d->offered & VFRAG_BIT(VFRAG_NET_F_MAC)) && !hw->args.mac_set) {
		ret = vpci_read_dev_cfg(hw, VPCI_NET_CFG_MAC, mac.addr_bytes,
					RTE_ETHER_ADDR_LEN);
		if (ret < 0)
			return ret;
		if (rte_is_unicast_ether_addr(&mac) && !rte_is_zero_ether_addr(&mac)) {
			rte_ether_addr_copy(&mac, &hw->args.mac);
			hw->args.mac_set = 1;
		} else {
			VFRAG_LOG(WARNING, "%s: device MAC is not a unicast address: using "
				  "a random one", d->pci->name);
		}
	}
	/* max_virtqueue_pairs counts only with MQ (and the control queue it needs). */
	if ((d->offered & VFRAG_BIT(VFRAG_NET_F_MQ)) &&
	    (d->offered & VFRAG_BIT(VFRAG_NET_F_CTRL_VQ))) {
		ret = vpci_read_dev_cfg(hw, VPCI_NET_CFG_MAX_PAIRS, &pairs, sizeof(pairs));
		if (ret < 0)
			return ret;
		pairs = rte_le_to_cpu_16(pairs);
		if (pairs < VPCI_NET_MQ_PAIRS_MIN || pairs > VPCI_NET_MQ_PAIRS_MAX) {
			VFRAG_LOG(WARNING, "%s: device reports %u queue pairs, outside "
				  "[%u, %u]: using 1", d->pci->name, pairs,
				  VPCI_NET_MQ_PAIRS_MIN, VPCI_NET_MQ_PAIRS_MAX);
			pairs = 1;
			/* A device that lies about it cannot have MQ negotiated. */
			d->offered &= ~VFRAG_BIT(VFRAG_NET_F_MQ);
		}
	}
	hw->dev_max_pairs = pairs;
	return 0;
}

int
virtio_pci_frag_init(struct virtio_frag_hw *hw, struct rte_pci_device *pci)
{
	struct vpci_cfg_reader rd = { .ctx = pci, .read = vpci_cfg_read };
	struct virtio_pci_frag *d;
	struct vpci_caps caps;
	int ret;

	d = rte_zmalloc("virtio_pci_frag", sizeof(*d), 0);
	if (d == NULL)
		return -ENOMEM;
	d->pci = pci;
	hw->transport = d;
	hw->use_va = 0;
	/* The control queue is virtio's, run by the ethdev layer over our ops. */
	hw->ctrl_vq_ok = 1;
	ret = vpci_parse_caps(&rd, &caps);
	if (ret < 0)
		goto fail;
	if (caps.common.present) {
		ret = vpci_map_modern(d, &caps);
		if (ret < 0)
			goto fail;
		d->modern = 1;
		hw->ops = &virtio_pci_modern_ops;
		hw->legacy = 0;
	} else if (pci->id.device_id == VPCI_DEV_ID_NET_TRANS) {
		ret = rte_pci_ioport_map(pci, 0, &d->io);
		if (ret < 0) {
			VFRAG_LOG(ERR, "%s: cannot map the legacy I/O BAR 0 (%d): is the "
				  "device bound to uio_pci_generic, igb_uio or vfio-pci?",
				  pci->name, ret);
			goto fail;
		}
		d->io_mapped = 1;
		d->cfg_off = VPCI_LEG_CONFIG(caps.msix_enabled);
		hw->ops = &virtio_pci_legacy_ops;
		hw->legacy = 1;
	} else {
		VFRAG_LOG(ERR, "%s: modern device %04x:%04x without the virtio "
			  "capabilities: cannot drive it", pci->name, pci->id.vendor_id,
			  pci->id.device_id);
		ret = -ENODEV;
		goto fail;
	}
	/* Spec 3.1.1: reset, acknowledge, then read what the device offers. */
	ret = vpci_reset(d);
	if (ret < 0)
		goto fail;
	vpci_write_status(d, VFRAG_STATUS_ACK);
	vpci_write_status(d, VFRAG_STATUS_ACK | VFRAG_STATUS_DRIVER);
	d->offered = vpci_read_features(d);
	d->cfg_len = vpci_net_cfg_len(d->offered);
	if (d->modern && d->cfg_len > d->device_len) {
		VFRAG_LOG(ERR, "%s: device config structure of %u bytes, its features "
			  "need %u", pci->name, d->device_len, d->cfg_len);
		ret = -EINVAL;
		goto fail;
	}
	ret = vpci_read_net_cfg(hw);
	if (ret < 0)
		goto fail;
	VFRAG_LOG(INFO, "%s: %s virtio-net, features offered %#" PRIx64 ", %u queue "
		  "pair(s)%s", pci->name, d->modern ? "modern" : "legacy", d->offered,
		  hw->dev_max_pairs, caps.msix_enabled ? ", MSI-X on" : "");
	return 0;
fail:
	/* A device we gave up on is left reset, not half set up. */
	if (hw->ops != NULL)
		vpci_reset(d);
	hw->transport = NULL;
	hw->ops = NULL;
	vpci_free(d);
	return ret;
}

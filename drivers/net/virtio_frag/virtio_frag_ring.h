/* SPDX-License-Identifier: BSD-3-Clause */

#ifndef _VIRTIO_FRAG_RING_H_
#define _VIRTIO_FRAG_RING_H_

/**
 * @file
 * Split virtqueue layout and virtio-net constants, from the virtio 1.x
 * specification (sections 2.7 and 5.1). Little-endian only: the PMD refuses
 * to build for big-endian hosts rather than byte-swap on the data path.
 */

#include <stddef.h>
#include <stdint.h>

#include <rte_byteorder.h>
#include <rte_common.h>

#if RTE_BYTE_ORDER != RTE_LITTLE_ENDIAN
#error "virtio_frag supports little-endian hosts only"
#endif

/* Feature bits (device and transport). */
#define VFRAG_NET_F_CSUM            0
#define VFRAG_NET_F_MTU             3
#define VFRAG_NET_F_MAC             5
#define VFRAG_NET_F_MRG_RXBUF       15
#define VFRAG_NET_F_STATUS          16
#define VFRAG_NET_F_CTRL_VQ         17
#define VFRAG_NET_F_CTRL_RX         18
#define VFRAG_NET_F_MQ              22
#define VFRAG_F_NOTIFY_ON_EMPTY     24
#define VFRAG_F_ANY_LAYOUT          27
#define VFRAG_F_PROTOCOL_FEATURES   30  /* vhost-user: protocol features offered */
#define VFRAG_F_INDIRECT_DESC       28  /* declined */
#define VFRAG_F_EVENT_IDX           29  /* declined */
#define VFRAG_F_VERSION_1           32
#define VFRAG_F_ACCESS_PLATFORM     33  /* device DMA goes through the platform */
#define VFRAG_F_RING_PACKED         34  /* declined: split rings only */
#define VFRAG_F_IN_ORDER            35  /* buffers are used in the order made available */

#define VFRAG_BIT(b) (1ULL << (b))

/* Device status bits. */
#define VFRAG_STATUS_ACK            0x01
#define VFRAG_STATUS_DRIVER         0x02
#define VFRAG_STATUS_DRIVER_OK      0x04
#define VFRAG_STATUS_FEATURES_OK    0x08
#define VFRAG_STATUS_NEEDS_RESET    0x40
#define VFRAG_STATUS_FAILED         0x80

/* virtio-net config space: link status bit. */
#define VFRAG_NET_S_LINK_UP         1

/* Descriptor flags. */
#define VRING_DESC_F_NEXT           1
#define VRING_DESC_F_WRITE          2

/* The device sets this in used->flags when it polls and needs no kick. */
#define VRING_USED_F_NO_NOTIFY      1
/* The driver sets this in avail->flags: it polls, no interrupt wanted. */
#define VRING_AVAIL_F_NO_INTERRUPT  1

/** Longest split ring the PMD accepts (spec maximum is 32768). */
#define VFRAG_MAX_RING_SIZE         4096
/** Alignment of the used ring (spec: 4 for split rings; a page is kinder). */
#define VFRAG_RING_ALIGN            4096

struct vring_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct vring_avail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[];
};

struct vring_used_elem {
	uint32_t id;
	uint32_t len;
};

struct vring_used {
	uint16_t flags;
	uint16_t idx;
	struct vring_used_elem ring[];
};

/** virtio-net header with VERSION_1 or MRG_RXBUF: always 12 bytes. */
struct virtio_net_hdr_mrg {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
	uint16_t num_buffers;
} __rte_packed;

#define VFRAG_HDR_LEN ((uint16_t)sizeof(struct virtio_net_hdr_mrg))
/** A legacy device without mergeable buffers: no num_buffers, 10 bytes. */
#define VFRAG_HDR_LEN_LEGACY ((uint16_t)offsetof(struct virtio_net_hdr_mrg, num_buffers))

/* Control queue (spec 5.1.6.5): classes, commands, acks. */
#define VFRAG_NET_CTRL_RX                0
#define VFRAG_NET_CTRL_RX_PROMISC        0
#define VFRAG_NET_CTRL_RX_ALLMULTI       1
#define VFRAG_NET_CTRL_MQ                4
#define VFRAG_NET_CTRL_MQ_VQ_PAIRS_SET   0
#define VFRAG_NET_OK                     0
#define VFRAG_NET_ERR                    1

/** The three parts of a split ring of @p num entries, laid out in one block. */
struct vring {
	uint32_t num;
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
};

/** Bytes of a split ring of @p num entries, used ring page-aligned. */
static inline size_t
vring_size(uint32_t num)
{
	size_t sz = sizeof(struct vring_desc) * num +
		sizeof(uint16_t) * (3 + num);

	sz = RTE_ALIGN_CEIL(sz, VFRAG_RING_ALIGN);
	return sz + sizeof(uint16_t) * 3 + sizeof(struct vring_used_elem) * num;
}

static inline void
vring_init(struct vring *vr, uint32_t num, void *mem)
{
	size_t off = sizeof(struct vring_desc) * num + sizeof(uint16_t) * (3 + num);

	vr->num = num;
	vr->desc = mem;
	vr->avail = (struct vring_avail *)((uint8_t *)mem +
					    sizeof(struct vring_desc) * num);
	vr->used = (struct vring_used *)((uint8_t *)mem +
					  RTE_ALIGN_CEIL(off, VFRAG_RING_ALIGN));
}

#endif /* _VIRTIO_FRAG_RING_H_ */

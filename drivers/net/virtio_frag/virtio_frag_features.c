/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Feature negotiation: the driver accepts what it implements and nothing
 * else, whatever the device offers. A device may offer packed rings, event
 * index, indirect descriptors, offloads, ...: they are declined, and the
 * device then works without them (spec 2.2). A device whose offer lacks
 * what the driver cannot do without is refused with the reason.
 */

#include <errno.h>
#include <stdio.h>

#include "virtio_frag.h"

/* What the driver implements whatever the transport. */
#define VFRAG_ALWAYS (VFRAG_BIT(VFRAG_F_VERSION_1) | VFRAG_BIT(VFRAG_NET_F_MAC) | \
		      VFRAG_BIT(VFRAG_NET_F_STATUS))

int
virtio_frag_negotiate(uint64_t offered, const struct virtio_frag_want *w,
		      uint64_t *accepted, char *why, size_t why_len)
{
	uint64_t want = VFRAG_ALWAYS;

	*accepted = 0;
	if (w->modern && !(offered & VFRAG_BIT(VFRAG_F_VERSION_1))) {
		snprintf(why, why_len, "device does not offer VIRTIO_F_VERSION_1");
		return -ENOTSUP;
	}
	if (!w->modern) {
		/*
		 * The header shares a buffer with the frame (RX, and TX when it
		 * fits in the headroom): a legacy device must take any layout.
		 */
		if (!(offered & VFRAG_BIT(VFRAG_F_ANY_LAYOUT))) {
			snprintf(why, why_len, "legacy device without VIRTIO_F_ANY_LAYOUT: "
				 "the driver puts the header and the frame in one buffer");
			return -ENOTSUP;
		}
		want = (want & ~VFRAG_BIT(VFRAG_F_VERSION_1)) | VFRAG_BIT(VFRAG_F_ANY_LAYOUT);
	}
	if (w->mrg_rxbuf)
		want |= VFRAG_BIT(VFRAG_NET_F_MRG_RXBUF);
	/* In order: TX completion needs no free list, the device reads ahead. */
	if (w->in_order && w->modern)
		want |= VFRAG_BIT(VFRAG_F_IN_ORDER);
	/* MQ and RX modes are commands on the control queue: only with one. */
	if (w->ctrl_vq && (offered & VFRAG_BIT(VFRAG_NET_F_CTRL_VQ)))
		want |= VFRAG_BIT(VFRAG_NET_F_CTRL_VQ) | VFRAG_BIT(VFRAG_NET_F_CTRL_RX) |
			VFRAG_BIT(VFRAG_NET_F_MQ);
	/*
	 * Descriptors carrying IOVAs are what a device behind the platform's
	 * DMA translation expects: such a device may be told so.
	 */
	if (w->iova && w->modern)
		want |= VFRAG_BIT(VFRAG_F_ACCESS_PLATFORM);
	*accepted = offered & want;
	if (!w->modern)
		*accepted &= UINT32_MAX;
	return 0;
}

uint16_t
virtio_frag_hdr_len(uint64_t features)
{
	/* virtio 1.0 always has num_buffers; legacy only with mergeable buffers. */
	if (features & (VFRAG_BIT(VFRAG_F_VERSION_1) | VFRAG_BIT(VFRAG_NET_F_MRG_RXBUF)))
		return VFRAG_HDR_LEN;
	return VFRAG_HDR_LEN_LEGACY;
}

int
virtio_frag_ring_size(uint16_t asked, uint16_t dev_size, int fixed)
{
	uint32_t size;

	if (fixed) {
		/* A legacy device: its size or nothing. */
		if (dev_size < VFRAG_MIN_RING_SIZE || dev_size > VFRAG_MAX_RING_SIZE ||
		    !rte_is_power_of_2(dev_size))
			return -EINVAL;
		return dev_size;
	}
	/* The largest power of two the device takes (split rings need one). */
	size = dev_size == 0 ? 0 : rte_align32prevpow2(dev_size);
	if (size < VFRAG_MIN_RING_SIZE)
		return -EINVAL;
	return (int)RTE_MIN((uint32_t)asked, size);
}

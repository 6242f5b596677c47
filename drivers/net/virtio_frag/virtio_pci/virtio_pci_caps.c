/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The capability list of a virtio-pci function, read through a reader so
 * that it can be checked over a fake configuration space. The list is
 * written by the device: every pointer and length is bounded here, before
 * anything is mapped through it.
 */

#include <errno.h>
#include <string.h>

#include <rte_common.h>

#include "../virtio_frag.h"
#include "virtio_pci.h"

static int
cfg_read(const struct vpci_cfg_reader *rd, off_t off, void *buf, size_t len)
{
	int ret = rd->read(rd->ctx, off, buf, len);

	if (ret < 0)
		VFRAG_LOG(ERR, "PCI config read of %zu bytes at %#lx failed: %s", len,
			  (unsigned long)off, strerror(-ret));
	return ret;
}

/* A vendor capability: keep the first of each virtio type we use. */
static int
parse_vndr(const struct vpci_cfg_reader *rd, uint8_t pos, struct vpci_caps *caps)
{
	struct vpci_notify_cap_raw raw;
	struct vpci_cap_loc *loc;
	uint8_t cap_len;
	size_t want;
	int ret;

	ret = cfg_read(rd, pos + offsetof(struct vpci_cap_raw, cap_len), &cap_len, 1);
	if (ret < 0)
		return ret;
	if (cap_len < sizeof(struct vpci_cap_raw) || pos + cap_len > VPCI_CFG_SPACE_SIZE) {
		VFRAG_LOG(ERR, "virtio capability at %#x: length %u out of bounds", pos,
			  cap_len);
		return -EINVAL;
	}
	memset(&raw, 0, sizeof(raw));
	want = RTE_MIN((size_t)cap_len, sizeof(raw));
	ret = cfg_read(rd, pos, &raw, want);
	if (ret < 0)
		return ret;
	/* Reserved BAR numbers: the spec says such a structure is ignored. */
	if (raw.cap.bar > 5)
		return 0;
	switch (raw.cap.cfg_type) {
	case VPCI_CAP_COMMON:
		loc = &caps->common;
		break;
	case VPCI_CAP_NOTIFY:
		loc = &caps->notify;
		if (!loc->present && cap_len < sizeof(struct vpci_notify_cap_raw)) {
			VFRAG_LOG(ERR, "virtio notify capability at %#x: %u bytes, no "
				  "room for its multiplier", pos, cap_len);
			return -EINVAL;
		}
		break;
	case VPCI_CAP_ISR:
		loc = &caps->isr;
		break;
	case VPCI_CAP_DEVICE:
		loc = &caps->device;
		break;
	default:
		return 0;   /* PCI config access, shared memory, ...: not used */
	}
	if (loc->present)
		return 0;
	loc->present = 1;
	loc->bar = raw.cap.bar;
	loc->offset = rte_le_to_cpu_32(raw.cap.offset);
	loc->length = rte_le_to_cpu_32(raw.cap.length);
	if (raw.cap.cfg_type == VPCI_CAP_NOTIFY)
		caps->notify_off_multiplier = rte_le_to_cpu_32(raw.notify_off_multiplier);
	return 0;
}

int
vpci_parse_caps(const struct vpci_cfg_reader *rd, struct vpci_caps *caps)
{
	uint16_t status, flags;
	uint8_t pos, hdr[2];
	int ret;

	memset(caps, 0, sizeof(*caps));
	ret = cfg_read(rd, VPCI_CFG_STATUS, &status, sizeof(status));
	if (ret < 0)
		return ret;
	if (!(rte_le_to_cpu_16(status) & VPCI_CFG_STATUS_CAP_LIST))
		return 0;   /* no list: a legacy-only function */
	ret = cfg_read(rd, VPCI_CFG_CAP_PTR, &pos, 1);
	if (ret < 0)
		return ret;
	/* The low two bits of every pointer are reserved. */
	pos &= 0xfc;
	while (pos != 0) {
		if (pos < 0x40 || pos > VPCI_CFG_SPACE_SIZE - sizeof(hdr)) {
			VFRAG_LOG(ERR, "PCI capability pointer %#x outside the capability area",
				  pos);
			return -EINVAL;
		}
		if (++caps->nb_caps > VPCI_MAX_CAPS) {
			VFRAG_LOG(ERR, "PCI capability list longer than %u entries: a loop",
				  VPCI_MAX_CAPS);
			return -EINVAL;
		}
		ret = cfg_read(rd, pos, hdr, sizeof(hdr));
		if (ret < 0)
			return ret;
		if (hdr[0] == VPCI_CAP_ID_MSIX) {
			ret = cfg_read(rd, pos + 2, &flags, sizeof(flags));
			if (ret < 0)
				return ret;
			/* Legacy device config moves when MSI-X is on. */
			caps->msix_enabled = !!(rte_le_to_cpu_16(flags) & VPCI_MSIX_FLAGS_ENABLE);
		} else if (hdr[0] == VPCI_CAP_ID_VNDR) {
			ret = parse_vndr(rd, pos, caps);
			if (ret < 0)
				return ret;
		}
		pos = hdr[1] & 0xfc;
	}
	return 0;
}

int
vpci_cap_check(const struct vpci_cap_loc *loc, uint64_t bar_len, uint32_t min_len,
	       const char *what)
{
	if (!loc->present) {
		VFRAG_LOG(ERR, "virtio %s structure missing", what);
		return -EINVAL;
	}
	/* 64-bit sums: offset + length cannot wrap. */
	if ((uint64_t)loc->offset + loc->length > bar_len || loc->length < min_len) {
		VFRAG_LOG(ERR, "virtio %s structure (BAR %u, offset %#x, %u bytes) does not "
			  "fit BAR of %" PRIu64 " bytes or is shorter than %u", what, loc->bar,
			  loc->offset, loc->length, bar_len, min_len);
		return -EINVAL;
	}
	return 0;
}

int64_t
vpci_notify_offset(uint16_t off, uint32_t multiplier, uint32_t length)
{
	uint64_t at = (uint64_t)off * multiplier;

	if (at + sizeof(uint16_t) > length)
		return -1;
	return (int64_t)at;
}

int
vpci_ring_size_ok(uint32_t size, uint32_t min, uint32_t max)
{
	return size >= min && size <= max && rte_is_power_of_2(size) ? 0 : -EINVAL;
}

uint32_t
vpci_net_cfg_len(uint64_t offered)
{
	if (offered & VFRAG_BIT(VFRAG_NET_F_MTU))
		return VPCI_NET_CFG_MTU + sizeof(uint16_t);
	if (offered & VFRAG_BIT(VFRAG_NET_F_MQ))
		return VPCI_NET_CFG_MAX_PAIRS + sizeof(uint16_t);
	if (offered & VFRAG_BIT(VFRAG_NET_F_STATUS))
		return VPCI_NET_CFG_STATUS + sizeof(uint16_t);
	return VPCI_NET_CFG_MIN_LEN;
}

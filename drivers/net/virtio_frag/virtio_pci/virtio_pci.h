/* SPDX-License-Identifier: BSD-3-Clause */

#ifndef _VIRTIO_PCI_H_
#define _VIRTIO_PCI_H_

/**
 * @file
 * virtio-pci transport of virtio_frag (virtio 1.x spec, section 4.1): the
 * legacy interface (virtio 0.95, registers in I/O BAR 0) and the modern one
 * (virtio 1.0, structures a vendor capability each points into a memory BAR).
 *
 * The device is untrusted like any other: its capabilities are bounded
 * against the BARs the bus mapped before anything is read through them, and
 * every configuration field it reports (queue sizes, queue pairs, notify
 * offsets, MTU) is bounded before use.
 *
 * Capability parsing and register layouts are kept apart from the bus so
 * that the parsing can be tested over a fake configuration space.
 */

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* PCI ids: the transitional (legacy-capable) and the modern-only network device. */
#define VPCI_VENDOR_ID              0x1af4
#define VPCI_DEV_ID_NET_TRANS       0x1000
#define VPCI_DEV_ID_NET_MODERN      0x1041

/* PCI configuration space. */
#define VPCI_CFG_STATUS             0x06
#define VPCI_CFG_STATUS_CAP_LIST    0x10
#define VPCI_CFG_CAP_PTR            0x34
#define VPCI_CFG_SPACE_SIZE         256
#define VPCI_CAP_ID_VNDR            0x09
#define VPCI_CAP_ID_MSIX            0x11
#define VPCI_MSIX_FLAGS_ENABLE      0x8000
/* Standard header ends at 0x40; 4-byte aligned entries of >= 2 bytes fit 48 times. */
#define VPCI_MAX_CAPS               48

/* Legacy registers, offsets in I/O BAR 0. */
#define VPCI_LEG_HOST_FEATURES      0   /* 32 bits, read */
#define VPCI_LEG_GUEST_FEATURES     4   /* 32 bits, write */
#define VPCI_LEG_QUEUE_PFN          8   /* 32 bits: ring address >> 12 */
#define VPCI_LEG_QUEUE_NUM          12  /* 16 bits, read: the ring size */
#define VPCI_LEG_QUEUE_SEL          14  /* 16 bits */
#define VPCI_LEG_QUEUE_NOTIFY       16  /* 16 bits */
#define VPCI_LEG_STATUS             18  /* 8 bits */
#define VPCI_LEG_ISR                19  /* 8 bits */
/* Device config follows, after two MSI-X vector registers when MSI-X is on. */
#define VPCI_LEG_CONFIG(msix)       ((msix) ? 24 : 20)
#define VPCI_LEG_PFN_SHIFT          12
#define VPCI_LEG_RING_ALIGN         4096

/* Modern: vendor capability cfg_type values. */
#define VPCI_CAP_COMMON             1
#define VPCI_CAP_NOTIFY             2
#define VPCI_CAP_ISR                3
#define VPCI_CAP_DEVICE             4

/** struct virtio_pci_cap (spec 4.1.4), as it sits in config space. */
struct vpci_cap_raw {
	uint8_t cap_vndr;
	uint8_t cap_next;
	uint8_t cap_len;
	uint8_t cfg_type;
	uint8_t bar;
	uint8_t id;
	uint8_t padding[2];
	uint32_t offset;
	uint32_t length;
};

/** The notify capability adds its multiplier. */
struct vpci_notify_cap_raw {
	struct vpci_cap_raw cap;
	uint32_t notify_off_multiplier;
};

/* Modern common configuration structure (spec 4.1.4.3), byte offsets. */
#define VPCI_COMMON_DFSELECT        0   /* le32 device_feature_select */
#define VPCI_COMMON_DF              4   /* le32 device_feature */
#define VPCI_COMMON_GFSELECT        8   /* le32 driver_feature_select */
#define VPCI_COMMON_GF              12  /* le32 driver_feature */
#define VPCI_COMMON_MSIX            16  /* le16 msix_config */
#define VPCI_COMMON_NUMQ            18  /* le16 num_queues */
#define VPCI_COMMON_STATUS          20  /* u8 device_status */
#define VPCI_COMMON_CFGGEN          21  /* u8 config_generation */
#define VPCI_COMMON_Q_SELECT        22  /* le16 queue_select */
#define VPCI_COMMON_Q_SIZE          24  /* le16 queue_size */
#define VPCI_COMMON_Q_MSIX          26  /* le16 queue_msix_vector */
#define VPCI_COMMON_Q_ENABLE        28  /* le16 queue_enable */
#define VPCI_COMMON_Q_NOFF          30  /* le16 queue_notify_off */
#define VPCI_COMMON_Q_DESCLO        32  /* le64 queue_desc */
#define VPCI_COMMON_Q_DESCHI        36
#define VPCI_COMMON_Q_AVAILLO       40  /* le64 queue_driver */
#define VPCI_COMMON_Q_AVAILHI       44
#define VPCI_COMMON_Q_USEDLO        48  /* le64 queue_device */
#define VPCI_COMMON_Q_USEDHI        52
#define VPCI_COMMON_LEN             56
#define VPCI_MSI_NO_VECTOR          0xffff

/*
 * virtio-net device config (spec 5.1.4): a field exists when the feature
 * that introduces it is offered.
 */
#define VPCI_NET_CFG_MAC            0   /* u8[6], VIRTIO_NET_F_MAC */
#define VPCI_NET_CFG_STATUS         6   /* le16, VIRTIO_NET_F_STATUS */
#define VPCI_NET_CFG_MAX_PAIRS      8   /* le16, VIRTIO_NET_F_MQ */
#define VPCI_NET_CFG_MTU            10  /* le16, VIRTIO_NET_F_MTU */
#define VPCI_NET_CFG_LEN            12
#define VPCI_NET_CFG_MIN_LEN        6
#define VPCI_NET_MQ_PAIRS_MIN       1
#define VPCI_NET_MQ_PAIRS_MAX       0x8000

/** Where one modern structure lives: a BAR and a window in it. */
struct vpci_cap_loc {
	uint8_t present;
	uint8_t bar;
	uint32_t offset;
	uint32_t length;
};

/** What the capability list of a function says. */
struct vpci_caps {
	struct vpci_cap_loc common;
	struct vpci_cap_loc notify;
	struct vpci_cap_loc isr;
	struct vpci_cap_loc device;
	uint32_t notify_off_multiplier;
	uint8_t msix_enabled;
	uint8_t nb_caps;             /* entries walked */
};

/** Reads of PCI configuration space: the bus, or a test's fake. */
struct vpci_cfg_reader {
	void *ctx;
	/** Read @p len bytes at @p off; 0, or a negative errno. */
	int (*read)(void *ctx, off_t off, void *buf, size_t len);
};

/**
 * Walk the capability list: MSI-X state and the four virtio structures.
 * The list is the device's: pointers outside the capability area, loops,
 * entries too short for their type and duplicates are refused (first of
 * each type wins, as the spec lets the driver pick). 0 (caps->common tells
 * whether the function is modern), or -EINVAL with a log naming the fault.
 */
int vpci_parse_caps(const struct vpci_cfg_reader *rd, struct vpci_caps *caps);

/**
 * Check that @p loc lies inside a BAR of @p bar_len bytes and is at least
 * @p min_len long. 0 or -EINVAL (logged with @p what).
 */
int vpci_cap_check(const struct vpci_cap_loc *loc, uint64_t bar_len, uint32_t min_len,
		   const char *what);

/**
 * Byte offset in the notify structure of a queue whose queue_notify_off is
 * @p off; -1 when the 2-byte notify register would lie outside the
 * structure's @p length bytes.
 */
int64_t vpci_notify_offset(uint16_t off, uint32_t multiplier, uint32_t length);

/**
 * Bound a ring size the device reports: a power of two in
 * [@p min, @p max]. 0, or -EINVAL.
 */
int vpci_ring_size_ok(uint32_t size, uint32_t min, uint32_t max);

/**
 * Bytes of virtio-net device config that exist for the features
 * @p offered: the MAC always, each later field with its feature.
 */
uint32_t vpci_net_cfg_len(uint64_t offered);

struct rte_pci_device;
struct virtio_frag_hw;

/**
 * Bring the transport up on @p pci: modern when the function has the
 * virtio capabilities, else legacy (1af4:1000 only). Sets hw->ops,
 * hw->transport, hw->use_va (0), hw->legacy, hw->ctrl_vq_ok, the MAC
 * (hw->args.mac, unless the devarg gave one) and hw->dev_max_pairs, and
 * leaves the device reset with ACKNOWLEDGE and DRIVER set. On failure the
 * device is left reset and nothing is kept; -errno, logged.
 */
int virtio_pci_frag_init(struct virtio_frag_hw *hw, struct rte_pci_device *pci);

#endif /* _VIRTIO_PCI_H_ */

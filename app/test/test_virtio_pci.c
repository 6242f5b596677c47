/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * virtio_pci_autotest: what the PCI transport decides without a device.
 * - Negotiation: offers seen from QEMU's virtio-net-pci (legacy, modern,
 *   MQ, packed ring and mergeable buffers off) and crafted ones, and what
 *   the driver takes from each; nothing outside what it implements, ever.
 * - Ring sizes a device reports, bounded.
 * - The capability list of a fake configuration space: good, looping,
 *   pointing out of bounds, truncated, duplicated; structures bounded by
 *   their BAR, notify offsets by the notify structure.
 * - The control queue against a fake device that answers in the notify (as
 *   QEMU does), refuses, stays silent or answers twice.
 * The guest runs with real devices are in test/vm/virtio_frag.sh.
 */

#include <errno.h>
#include <string.h>

#include <ethdev_driver.h>
#include <rte_memzone.h>

#include "test.h"
#include "virtio_frag.h"
#include "virtio_pci/virtio_pci.h"

/* What the driver may ever take: a bit outside is a mis-negotiation. */
#define IMPLEMENTED (VFRAG_BIT(VFRAG_F_VERSION_1) | VFRAG_BIT(VFRAG_NET_F_MAC) | \
		     VFRAG_BIT(VFRAG_NET_F_STATUS) | VFRAG_BIT(VFRAG_NET_F_MRG_RXBUF) | \
		     VFRAG_BIT(VFRAG_F_IN_ORDER) | VFRAG_BIT(VFRAG_NET_F_CTRL_VQ) | \
		     VFRAG_BIT(VFRAG_NET_F_CTRL_RX) | VFRAG_BIT(VFRAG_NET_F_MQ) | \
		     VFRAG_BIT(VFRAG_F_ANY_LAYOUT) | VFRAG_BIT(VFRAG_F_ACCESS_PLATFORM))

/* Offers read from QEMU 7.2's virtio-net-pci in guests (test/vm). */
#define QEMU_MODERN        0x130bfe7a7ULL  /* disable-legacy=on */
#define QEMU_MODERN_MQ     0x130ffe7a7ULL  /* mq=on */
#define QEMU_MODERN_PACKED 0x530bf67a7ULL  /* packed=on, mrg_rxbuf=off */
#define QEMU_LEGACY        0x78bfe7e7ULL   /* disable-modern=on */
#define QEMU_LEGACY_MQ     0x78ffe7e7ULL
#define QEMU_LEGACY_NOMRG  0x78bf67e7ULL   /* disable-modern=on, mrg_rxbuf=off */

struct nego_row {
	const char *what;
	uint64_t offer;
	struct virtio_frag_want want;
	int ret;
	uint64_t accepted;
};

#define PCI_MODERN { .modern = 1, .mrg_rxbuf = 1, .in_order = 1, .ctrl_vq = 1, .iova = 1 }
#define PCI_LEGACY { .modern = 0, .mrg_rxbuf = 1, .in_order = 1, .ctrl_vq = 1, .iova = 1 }
#define VHOST_USER { .modern = 1, .mrg_rxbuf = 1, .in_order = 1, .ctrl_vq = 0, .iova = 0 }

static const struct nego_row nego_rows[] = {
	{ "QEMU modern", QEMU_MODERN, PCI_MODERN, 0, 0x100078020ULL },
	{ "QEMU modern, mq=on", QEMU_MODERN_MQ, PCI_MODERN, 0, 0x100478020ULL },
	{ "QEMU modern, packed=on mrg_rxbuf=off: split ring, no mergeable buffers",
	  QEMU_MODERN_PACKED, PCI_MODERN, 0, 0x100070020ULL },
	{ "QEMU legacy", QEMU_LEGACY, PCI_LEGACY, 0, 0x8078020ULL },
	{ "QEMU legacy, mq=on", QEMU_LEGACY_MQ, PCI_LEGACY, 0, 0x8478020ULL },
	{ "QEMU legacy, mrg_rxbuf=off", QEMU_LEGACY_NOMRG, PCI_LEGACY, 0, 0x8070020ULL },
	{ "devarg mrg_rxbuf=0 declines an offered MRG_RXBUF", QEMU_MODERN,
	  { .modern = 1, .mrg_rxbuf = 0, .ctrl_vq = 1, .iova = 1 }, 0, 0x100070020ULL },
	{ "modern device without VERSION_1", QEMU_MODERN & ~VFRAG_BIT(VFRAG_F_VERSION_1),
	  PCI_MODERN, -ENOTSUP, 0 },
	{ "legacy device without ANY_LAYOUT", QEMU_LEGACY & ~VFRAG_BIT(VFRAG_F_ANY_LAYOUT),
	  PCI_LEGACY, -ENOTSUP, 0 },
	{ "MQ and CTRL_RX without CTRL_VQ are declined",
	  VFRAG_BIT(VFRAG_F_VERSION_1) | VFRAG_BIT(VFRAG_NET_F_MQ) |
	  VFRAG_BIT(VFRAG_NET_F_CTRL_RX), PCI_MODERN, 0, VFRAG_BIT(VFRAG_F_VERSION_1) },
	{ "ACCESS_PLATFORM and IN_ORDER taken on a modern IOVA device",
	  VFRAG_BIT(VFRAG_F_VERSION_1) | VFRAG_BIT(VFRAG_F_ACCESS_PLATFORM) |
	  VFRAG_BIT(VFRAG_F_IN_ORDER), PCI_MODERN, 0,
	  VFRAG_BIT(VFRAG_F_VERSION_1) | VFRAG_BIT(VFRAG_F_ACCESS_PLATFORM) |
	  VFRAG_BIT(VFRAG_F_IN_ORDER) },
	/* The vhost-user port: the features it always took, no control queue. */
	{ "vhost-user: as before the PCI transport", QEMU_MODERN_MQ |
	  VFRAG_BIT(VFRAG_F_IN_ORDER) | VFRAG_BIT(VFRAG_F_ACCESS_PLATFORM), VHOST_USER, 0,
	  VFRAG_BIT(VFRAG_F_VERSION_1) | VFRAG_BIT(VFRAG_NET_F_MAC) |
	  VFRAG_BIT(VFRAG_NET_F_STATUS) | VFRAG_BIT(VFRAG_NET_F_MRG_RXBUF) |
	  VFRAG_BIT(VFRAG_F_IN_ORDER) },
};

static int
test_negotiation_table(void)
{
	const struct nego_row *r;
	uint64_t acc;
	char why[128];
	unsigned int i;
	int ret;

	for (i = 0; i < RTE_DIM(nego_rows); i++) {
		r = &nego_rows[i];
		why[0] = '\0';
		ret = virtio_frag_negotiate(r->offer, &r->want, &acc, why, sizeof(why));
		printf("  %-66s offer %#12" PRIx64 " -> %s %#" PRIx64 "%s%s\n", r->what,
		       r->offer, ret == 0 ? "accepted" : "refused", acc,
		       ret == 0 ? "" : ": ", why);
		TEST_ASSERT_EQUAL(ret, r->ret, "%s: returned %d, expected %d", r->what, ret,
				  r->ret);
		TEST_ASSERT_EQUAL(acc, r->accepted, "%s: accepted %#" PRIx64 ", expected %#"
				  PRIx64, r->what, acc, r->accepted);
		if (ret < 0)
			TEST_ASSERT(why[0] != '\0', "%s: refused without a reason", r->what);
	}
	return TEST_SUCCESS;
}

/* Every offer, whatever it holds: the driver takes only what it implements. */
static int
test_negotiation_never_more(void)
{
	static const struct virtio_frag_want wants[] = { PCI_MODERN, PCI_LEGACY, VHOST_USER };
	uint64_t offer, acc, x = 0x9e3779b97f4a7c15ULL;
	unsigned int i, w, taken = 0;
	char why[128];

	for (i = 0; i < 200000; i++) {
		/* xorshift64: every bit pattern family, all 64 bits. */
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		offer = i < 64 ? ~VFRAG_BIT(i) : (i < 128 ? VFRAG_BIT(i - 64) : x);
		for (w = 0; w < RTE_DIM(wants); w++) {
			if (virtio_frag_negotiate(offer, &wants[w], &acc, why, sizeof(why)) != 0) {
				TEST_ASSERT_EQUAL(acc, 0, "refused offer %#" PRIx64 " left %#"
						  PRIx64, offer, acc);
				continue;
			}
			taken++;
			TEST_ASSERT((acc & ~offer) == 0, "offer %#" PRIx64 ": took %#" PRIx64
				    ", not offered", offer, acc & ~offer);
			TEST_ASSERT((acc & ~IMPLEMENTED) == 0, "offer %#" PRIx64 ": took %#"
				    PRIx64 ", not implemented", offer, (uint64_t)(acc & ~IMPLEMENTED));
			TEST_ASSERT(!(acc & (VFRAG_BIT(VFRAG_F_RING_PACKED) |
					     VFRAG_BIT(VFRAG_F_EVENT_IDX) |
					     VFRAG_BIT(VFRAG_F_INDIRECT_DESC))),
				    "packed, event index or indirect descriptors taken");
			if (!wants[w].modern)
				TEST_ASSERT((acc >> 32) == 0, "legacy: bits above 31 taken: %#"
					    PRIx64, acc);
			if (!wants[w].ctrl_vq)
				TEST_ASSERT(!(acc & (VFRAG_BIT(VFRAG_NET_F_CTRL_VQ) |
						     VFRAG_BIT(VFRAG_NET_F_MQ))),
					    "control queue features without a control queue");
			if (acc & (VFRAG_BIT(VFRAG_NET_F_MQ) | VFRAG_BIT(VFRAG_NET_F_CTRL_RX)))
				TEST_ASSERT(acc & VFRAG_BIT(VFRAG_NET_F_CTRL_VQ),
					    "MQ/CTRL_RX without CTRL_VQ: %#" PRIx64, acc);
		}
	}
	printf("  %u offers x %zu driver configurations, %u accepted, none beyond what "
	       "the driver implements\n", i, RTE_DIM(wants), taken);
	return TEST_SUCCESS;
}

static int
test_header_len(void)
{
	TEST_ASSERT_EQUAL(virtio_frag_hdr_len(0x8070020ULL), 10,
			  "legacy without mergeable buffers: 10-byte header");
	TEST_ASSERT_EQUAL(virtio_frag_hdr_len(0x8078020ULL), 12,
			  "legacy with mergeable buffers: 12-byte header");
	TEST_ASSERT_EQUAL(virtio_frag_hdr_len(0x100070020ULL), 12,
			  "VERSION_1: always 12 bytes");
	return TEST_SUCCESS;
}

static int
test_ring_sizes(void)
{
	static const struct { uint16_t asked, dev; int fixed, want; } rows[] = {
		{ 512, 256, 1, 256 },     /* legacy: the device's size, whatever was asked */
		{ 64, 1024, 1, 1024 },
		{ 256, 100, 1, -EINVAL }, /* not a power of two */
		{ 256, 32768, 1, -EINVAL },  /* valid for the spec, above what we run */
		{ 256, 32, 1, -EINVAL },
		{ 256, 0, 1, -EINVAL },
		{ 256, 1024, 0, 256 },    /* modern: the application's, within the max */
		{ 512, 256, 0, 256 },
		{ 256, 300, 0, 256 },     /* a max that is no power of two: the one below */
		{ 256, 48, 0, -EINVAL },  /* below our smallest ring */
		{ 256, 0, 0, -EINVAL },   /* no such queue */
	};
	unsigned int i;
	int got;

	for (i = 0; i < RTE_DIM(rows); i++) {
		got = virtio_frag_ring_size(rows[i].asked, rows[i].dev, rows[i].fixed);
		TEST_ASSERT_EQUAL(got, rows[i].want, "asked %u, device %s%u: got %d, "
				  "expected %d", rows[i].asked, rows[i].fixed ? "fixed " : "max ",
				  rows[i].dev, got, rows[i].want);
	}
	return TEST_SUCCESS;
}

/* ---- capabilities over a fake configuration space ---- */

static uint8_t fake_cfg[VPCI_CFG_SPACE_SIZE];

static int
fake_cfg_read(void *ctx __rte_unused, off_t off, void *buf, size_t len)
{
	if (off < 0 || (size_t)off + len > sizeof(fake_cfg))
		return -EIO;
	memcpy(buf, fake_cfg + off, len);
	return 0;
}

static void
put_cap(uint8_t pos, uint8_t next, uint8_t len, uint8_t type, uint8_t bar, uint32_t offset,
	uint32_t length, uint32_t mult)
{
	struct vpci_notify_cap_raw c = {
		.cap = { .cap_vndr = VPCI_CAP_ID_VNDR, .cap_next = next, .cap_len = len,
			 .cfg_type = type, .bar = bar, .offset = offset, .length = length },
		.notify_off_multiplier = mult,
	};

	memcpy(fake_cfg + pos, &c, RTE_MIN((size_t)len, sizeof(c)));
}

/* QEMU's layout: MSI-X, then common, notify, ISR, device in BAR 4. */
static void
fake_modern(int msix_on)
{
	memset(fake_cfg, 0, sizeof(fake_cfg));
	fake_cfg[VPCI_CFG_STATUS] = VPCI_CFG_STATUS_CAP_LIST;
	fake_cfg[VPCI_CFG_CAP_PTR] = 0x40;
	fake_cfg[0x40] = VPCI_CAP_ID_MSIX;
	fake_cfg[0x41] = 0x50;
	fake_cfg[0x43] = msix_on ? 0x80 : 0;   /* message control, high byte */
	put_cap(0x50, 0x64, 16, VPCI_CAP_COMMON, 4, 0x0000, 0x1000, 0);
	put_cap(0x64, 0x78, 20, VPCI_CAP_NOTIFY, 4, 0x3000, 0x1000, 4);
	put_cap(0x78, 0x88, 16, VPCI_CAP_ISR, 4, 0x1000, 0x1000, 0);
	put_cap(0x88, 0x00, 16, VPCI_CAP_DEVICE, 4, 0x2000, 0x1000, 0);
}

static const struct vpci_cfg_reader fake_reader = { .ctx = NULL, .read = fake_cfg_read };

static int
test_caps_good(void)
{
	struct vpci_caps caps;

	fake_modern(1);
	TEST_ASSERT_SUCCESS(vpci_parse_caps(&fake_reader, &caps), "QEMU-like list");
	TEST_ASSERT(caps.common.present && caps.notify.present && caps.isr.present &&
		    caps.device.present, "all four structures found");
	TEST_ASSERT_EQUAL(caps.msix_enabled, 1, "MSI-X enabled");
	TEST_ASSERT_EQUAL(caps.common.bar, 4, "common in BAR 4");
	TEST_ASSERT_EQUAL(caps.notify.offset, 0x3000, "notify offset");
	TEST_ASSERT_EQUAL(caps.notify_off_multiplier, 4, "multiplier");
	TEST_ASSERT_EQUAL(caps.device.offset, 0x2000, "device offset");
	TEST_ASSERT_EQUAL(caps.nb_caps, 5, "five entries walked");
	fake_modern(0);
	TEST_ASSERT_SUCCESS(vpci_parse_caps(&fake_reader, &caps), "MSI-X off");
	TEST_ASSERT_EQUAL(caps.msix_enabled, 0, "MSI-X disabled: legacy config at 20");
	TEST_ASSERT_EQUAL(VPCI_LEG_CONFIG(caps.msix_enabled), 20, "legacy config offset");
	TEST_ASSERT_EQUAL(VPCI_LEG_CONFIG(1), 24, "legacy config offset with MSI-X");

	/* A legacy-only function: no list at all. */
	fake_cfg[VPCI_CFG_STATUS] = 0;
	TEST_ASSERT_SUCCESS(vpci_parse_caps(&fake_reader, &caps), "no list");
	TEST_ASSERT(!caps.common.present && caps.nb_caps == 0, "nothing found");

	/* A reserved BAR number: ignored; a duplicate: the first wins. */
	fake_modern(0);
	put_cap(0x50, 0x64, 16, VPCI_CAP_COMMON, 7, 0x0000, 0x1000, 0);
	put_cap(0x88, 0x98, 16, VPCI_CAP_DEVICE, 4, 0x2000, 0x1000, 0);
	put_cap(0x98, 0x00, 16, VPCI_CAP_DEVICE, 2, 0x9000, 0x10, 0);
	TEST_ASSERT_SUCCESS(vpci_parse_caps(&fake_reader, &caps), "reserved BAR, duplicate");
	TEST_ASSERT(!caps.common.present, "common with BAR 7 ignored");
	TEST_ASSERT(caps.device.bar == 4 && caps.device.offset == 0x2000,
		    "the first device structure kept (BAR %u offset %#x)", caps.device.bar,
		    caps.device.offset);
	return TEST_SUCCESS;
}

static int
test_caps_bad(void)
{
	struct vpci_caps caps;

	/* The list loops back on itself. */
	fake_modern(0);
	fake_cfg[0x89] = 0x50;
	TEST_ASSERT_EQUAL(vpci_parse_caps(&fake_reader, &caps), -EINVAL, "loop refused");
	/* A pointer into the standard header. */
	fake_modern(0);
	fake_cfg[0x41] = 0x20;
	TEST_ASSERT_EQUAL(vpci_parse_caps(&fake_reader, &caps), -EINVAL,
			  "pointer below 0x40 refused");
	/* A capability running past the space, one too short, a short notify. */
	fake_modern(0);
	fake_cfg[0xf8] = VPCI_CAP_ID_VNDR;
	fake_cfg[0xfa] = 16;
	fake_cfg[0xfb] = VPCI_CAP_ISR;
	fake_cfg[0x89] = 0xf8;
	TEST_ASSERT_EQUAL(vpci_parse_caps(&fake_reader, &caps), -EINVAL,
			  "capability past the config space refused");
	fake_modern(0);
	fake_cfg[0x52] = 8;
	TEST_ASSERT_EQUAL(vpci_parse_caps(&fake_reader, &caps), -EINVAL,
			  "8-byte virtio capability refused");
	fake_modern(0);
	fake_cfg[0x66] = 16;
	TEST_ASSERT_EQUAL(vpci_parse_caps(&fake_reader, &caps), -EINVAL,
			  "notify capability without its multiplier refused");
	return TEST_SUCCESS;
}

static int
test_caps_bounds(void)
{
	struct vpci_cap_loc loc = { .present = 1, .bar = 4, .offset = 0x3000, .length = 0x1000 };

	TEST_ASSERT_SUCCESS(vpci_cap_check(&loc, 0x4000, 2, "notify"), "fits its BAR");
	TEST_ASSERT_EQUAL(vpci_cap_check(&loc, 0x3fff, 2, "notify"), -EINVAL,
			  "one byte past the BAR");
	loc.offset = 0xfffff000;
	loc.length = 0x2000;
	TEST_ASSERT_EQUAL(vpci_cap_check(&loc, 0x100000000ULL, 2, "notify"), -EINVAL,
			  "offset + length past 4 GiB, no 32-bit wrap");
	loc.offset = 0;
	loc.length = 20;
	TEST_ASSERT_EQUAL(vpci_cap_check(&loc, 0x4000, VPCI_COMMON_LEN, "common"), -EINVAL,
			  "common structure shorter than its fields");
	loc.present = 0;
	TEST_ASSERT_EQUAL(vpci_cap_check(&loc, 0x4000, 2, "device"), -EINVAL, "missing");

	TEST_ASSERT_EQUAL(vpci_notify_offset(3, 4, 0x1000), 12, "queue 3, multiplier 4");
	TEST_ASSERT_EQUAL(vpci_notify_offset(0x3ff, 4, 0x1000), 0xffc, "last register");
	TEST_ASSERT_EQUAL(vpci_notify_offset(0x400, 4, 0x1000), -1, "past the structure");
	TEST_ASSERT_EQUAL(vpci_notify_offset(0x10, 0x10000000, 0x1000), -1,
			  "offset x multiplier = 4 GiB, no 32-bit wrap to 0");
	TEST_ASSERT_EQUAL(vpci_notify_offset(7, 0, 2), 0, "multiplier 0: one register");

	/* Only the device config fields the offer says exist are read. */
	TEST_ASSERT_EQUAL(vpci_net_cfg_len(VFRAG_BIT(VFRAG_NET_F_MAC)), 6, "MAC only");
	TEST_ASSERT_EQUAL(vpci_net_cfg_len(VFRAG_BIT(VFRAG_NET_F_STATUS)), 8, "+ status");
	TEST_ASSERT_EQUAL(vpci_net_cfg_len(VFRAG_BIT(VFRAG_NET_F_MQ)), 10, "+ max pairs");
	TEST_ASSERT_EQUAL(vpci_net_cfg_len(VFRAG_BIT(VFRAG_NET_F_MTU)), 12, "+ MTU");
	TEST_ASSERT_SUCCESS(vpci_ring_size_ok(256, 64, 4096), "256");
	TEST_ASSERT_FAIL(vpci_ring_size_ok(257, 64, 4096), "257");
	return TEST_SUCCESS;
}

/* ---- control queue against a fake device ---- */

enum fake_mode { ANSWER_OK, ANSWER_ERR, SILENT, TWO_ENTRIES };

static struct {
	enum fake_mode mode;
	uint16_t last_avail;
	unsigned int notifies;
	unsigned int commands;
	uint16_t vq_index;
	uint8_t cls, cmd;
	uint8_t data[8];
	uint32_t data_len;
} fk;

/* The device side, run in the notify as QEMU runs its control queue. */
static void
fake_notify(struct virtio_frag_hw *hw __rte_unused, struct virtio_frag_vq *vq)
{
	struct vring *vr = &vq->vr;
	struct vring_desc *d;
	uint16_t head, avail, n = 0;
	uint8_t *hdr, *ack;

	fk.notifies++;
	fk.vq_index = vq->vq_index;
	avail = __atomic_load_n(&vr->avail->idx, __ATOMIC_ACQUIRE);
	while (fk.last_avail != avail) {
		head = vr->avail->ring[fk.last_avail++ & (vr->num - 1)];
		d = &vr->desc[head];
		hdr = (uint8_t *)(uintptr_t)d[0].addr;
		fk.cls = hdr[0];
		fk.cmd = hdr[1];
		fk.data_len = RTE_MIN(d[1].len, (uint32_t)sizeof(fk.data));
		memcpy(fk.data, (void *)(uintptr_t)d[1].addr, fk.data_len);
		ack = (uint8_t *)(uintptr_t)d[2].addr;
		fk.commands++;
		if (fk.mode == SILENT)
			continue;
		*ack = fk.mode == ANSWER_ERR ? VFRAG_NET_ERR : VFRAG_NET_OK;
		vr->used->ring[vr->used->idx & (vr->num - 1)].id = head;
		vr->used->ring[vr->used->idx & (vr->num - 1)].len = 1;
		n = fk.mode == TWO_ENTRIES ? 2 : 1;
		__atomic_store_n(&vr->used->idx, vr->used->idx + n, __ATOMIC_RELEASE);
	}
}

static int
fake_setup_queue(struct virtio_frag_hw *hw __rte_unused, struct virtio_frag_vq *vq __rte_unused)
{
	fk.last_avail = 0;
	return 0;
}

static void
fake_del_queue(struct virtio_frag_hw *hw __rte_unused, struct virtio_frag_vq *vq __rte_unused)
{
}

static uint16_t
fake_queue_size(struct virtio_frag_hw *hw __rte_unused, uint16_t index __rte_unused,
		int *fixed)
{
	*fixed = 0;
	return 64;
}

static const struct virtio_frag_ops fake_ops = {
	.name = "fake-cvq",
	.setup_queue = fake_setup_queue,
	.del_queue = fake_del_queue,
	.notify_queue = fake_notify,
	.get_queue_size = fake_queue_size,
};

static struct rte_eth_dev_data fake_data = { .port_id = 250 };
static struct rte_eth_dev fake_eth = { .data = &fake_data };

static void
fake_hw(struct virtio_frag_hw *hw, uint64_t features, uint16_t pairs)
{
	memset(hw, 0, sizeof(*hw));
	memset(&fk, 0, sizeof(fk));
	hw->ops = &fake_ops;
	hw->eth_dev = &fake_eth;
	hw->use_va = 1;        /* the fake reads the descriptors' addresses as pointers */
	hw->features = features;
	hw->dev_max_pairs = pairs;
}

#define CVQ_ALL (VFRAG_BIT(VFRAG_F_VERSION_1) | VFRAG_BIT(VFRAG_NET_F_CTRL_VQ) | \
		 VFRAG_BIT(VFRAG_NET_F_CTRL_RX) | VFRAG_BIT(VFRAG_NET_F_MQ))

static int
test_cvq_commands(void)
{
	struct virtio_frag_hw hw;
	uint64_t commands, failures;
	int ret;

	fake_hw(&hw, CVQ_ALL, 2);
	TEST_ASSERT_SUCCESS(virtio_frag_cvq_setup(&hw), "control queue set up");
	TEST_ASSERT_SUCCESS(virtio_frag_cvq_set_pairs(&hw, 2), "VQ_PAIRS_SET 2 answered OK");
	TEST_ASSERT_EQUAL(fk.vq_index, 4, "with MQ the control queue is number 2 x pairs");
	TEST_ASSERT(fk.cls == VFRAG_NET_CTRL_MQ && fk.cmd == VFRAG_NET_CTRL_MQ_VQ_PAIRS_SET &&
		    fk.data_len == 2 && fk.data[0] == 2 && fk.data[1] == 0,
		    "the device got class %u cmd %u with %u bytes", fk.cls, fk.cmd,
		    fk.data_len);
	TEST_ASSERT_SUCCESS(virtio_frag_cvq_rx_mode(&hw, VFRAG_NET_CTRL_RX_PROMISC, 1),
			    "promiscuous on");
	TEST_ASSERT(fk.cls == VFRAG_NET_CTRL_RX && fk.cmd == VFRAG_NET_CTRL_RX_PROMISC &&
		    fk.data_len == 1 && fk.data[0] == 1, "promiscuous command as sent");
	TEST_ASSERT_SUCCESS(virtio_frag_cvq_rx_mode(&hw, VFRAG_NET_CTRL_RX_ALLMULTI, 0),
			    "all-multicast off");
	TEST_ASSERT(fk.cmd == VFRAG_NET_CTRL_RX_ALLMULTI && fk.data[0] == 0, "allmulti off");
	/* Out of the device's range: refused before anything is sent. */
	TEST_ASSERT_EQUAL(virtio_frag_cvq_set_pairs(&hw, 3), -EINVAL, "3 of 2 pairs");
	TEST_ASSERT_EQUAL(virtio_frag_cvq_set_pairs(&hw, 0), -EINVAL, "0 pairs");
	TEST_ASSERT_EQUAL(fk.commands, 3, "%u commands reached the device", fk.commands);

	/* The device refuses: -EIO, counted. */
	fk.mode = ANSWER_ERR;
	TEST_ASSERT_EQUAL(virtio_frag_cvq_rx_mode(&hw, VFRAG_NET_CTRL_RX_PROMISC, 0), -EIO,
			  "a refused command fails");
	virtio_frag_cvq_counters(&hw, &commands, &failures);
	TEST_ASSERT(commands == 4 && failures == 1, "counters %" PRIu64 "/%" PRIu64,
		    commands, failures);
	fk.mode = ANSWER_OK;
	TEST_ASSERT_SUCCESS(virtio_frag_cvq_rx_mode(&hw, VFRAG_NET_CTRL_RX_PROMISC, 0),
			    "after a refusal the queue still works");
	virtio_frag_cvq_free(&hw);
	TEST_ASSERT_NULL(hw.cvq, "freed");

	/* Without MQ: queue number 2, one pair needs no command, more are refused. */
	fake_hw(&hw, CVQ_ALL & ~VFRAG_BIT(VFRAG_NET_F_MQ), 1);
	TEST_ASSERT_SUCCESS(virtio_frag_cvq_setup(&hw), "set up without MQ");
	TEST_ASSERT_SUCCESS(virtio_frag_cvq_rx_mode(&hw, VFRAG_NET_CTRL_RX_PROMISC, 1), "RX");
	TEST_ASSERT_EQUAL(fk.vq_index, 2, "without MQ the control queue is number 2");
	TEST_ASSERT_SUCCESS(virtio_frag_cvq_set_pairs(&hw, 1), "one pair: nothing to ask");
	TEST_ASSERT_EQUAL(virtio_frag_cvq_set_pairs(&hw, 2), -ENOTSUP, "two pairs without MQ");
	virtio_frag_cvq_free(&hw);

	/* Without CTRL_RX the RX mode commands are not the device's. */
	fake_hw(&hw, CVQ_ALL & ~VFRAG_BIT(VFRAG_NET_F_CTRL_RX), 2);
	TEST_ASSERT_SUCCESS(virtio_frag_cvq_setup(&hw), "set up without CTRL_RX");
	ret = virtio_frag_cvq_rx_mode(&hw, VFRAG_NET_CTRL_RX_PROMISC, 1);
	TEST_ASSERT_EQUAL(ret, -ENOTSUP, "promiscuous without CTRL_RX: %d", ret);
	TEST_ASSERT_EQUAL(fk.commands, 0, "nothing sent");
	virtio_frag_cvq_free(&hw);

	/* No CTRL_VQ: no queue at all. */
	fake_hw(&hw, VFRAG_BIT(VFRAG_F_VERSION_1), 1);
	TEST_ASSERT_SUCCESS(virtio_frag_cvq_setup(&hw), "nothing to set up");
	TEST_ASSERT_NULL(hw.cvq, "no control queue without CTRL_VQ");
	TEST_ASSERT_EQUAL(virtio_frag_cvq_command(&hw, 0, 0, NULL, 0), -ENOTSUP, "command");
	return TEST_SUCCESS;
}

static int
test_cvq_bad_device(void)
{
	struct virtio_frag_hw hw;
	unsigned int notifies;
	int ret;

	/* Never answers: the deadline ends the wait, the queue is then off. */
	fake_hw(&hw, CVQ_ALL, 2);
	TEST_ASSERT_SUCCESS(virtio_frag_cvq_setup(&hw), "set up");
	fk.mode = SILENT;
	ret = virtio_frag_cvq_set_pairs(&hw, 2);
	TEST_ASSERT_EQUAL(ret, -ETIMEDOUT, "unanswered command: %d", ret);
	/* It may still write the buffer it holds: no further command uses it. */
	fk.mode = ANSWER_OK;
	notifies = fk.notifies;
	TEST_ASSERT_EQUAL(virtio_frag_cvq_set_pairs(&hw, 2), -EIO, "queue unusable");
	TEST_ASSERT_EQUAL(fk.notifies, notifies, "nothing sent to the device");
	/* The next start resets the device and sets the queue up again. */
	TEST_ASSERT_SUCCESS(virtio_frag_cvq_setup(&hw), "set up again");
	TEST_ASSERT_SUCCESS(virtio_frag_cvq_set_pairs(&hw, 2), "works after set-up");
	virtio_frag_cvq_free(&hw);

	/* Two used entries for one command: refused, queue off. */
	fake_hw(&hw, CVQ_ALL, 2);
	TEST_ASSERT_SUCCESS(virtio_frag_cvq_setup(&hw), "set up");
	fk.mode = TWO_ENTRIES;
	TEST_ASSERT_EQUAL(virtio_frag_cvq_set_pairs(&hw, 2), -EIO, "two used entries");
	fk.mode = ANSWER_OK;
	TEST_ASSERT_EQUAL(virtio_frag_cvq_set_pairs(&hw, 2), -EIO, "queue off after that");
	virtio_frag_cvq_free(&hw);
	TEST_ASSERT_NULL(rte_memzone_lookup("vfrag250_cvq"), "control queue memory freed");
	return TEST_SUCCESS;
}

static const struct unit_test_suite virtio_pci_suite = {
	.name = "virtio-pci transport without a device",
	.cases = {
		TEST_CASE(test_negotiation_table),
		TEST_CASE(test_negotiation_never_more),
		TEST_CASE(test_header_len),
		TEST_CASE(test_ring_sizes),
		TEST_CASE(test_caps_good),
		TEST_CASE(test_caps_bad),
		TEST_CASE(test_caps_bounds),
		TEST_CASE(test_cvq_commands),
		TEST_CASE(test_cvq_bad_device),
		TEST_CASES_END(),
	},
};

static int
virtio_pci_autotest(void)
{
	return unit_test_suite_runner(&virtio_pci_suite);
}

PFRAG_TEST_REGISTER(virtio_pci_autotest, FAST, PFRAG_TEST_NOHUGE, virtio_pci_autotest);

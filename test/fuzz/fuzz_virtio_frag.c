/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * libFuzzer target over the virtio_frag data path: the RX and TX burst and
 * completion code of drivers/net/virtio_frag/virtio_frag_rxtx.c against an
 * in-process split ring whose device side this file plays.
 *
 * The input drives the device: packet lengths (so chain lengths and
 * num_buffers), faults in the used ring (ids out of range or not posted,
 * lengths of 0 or past the buffer, broken chains, a used->idx that jumps
 * past the ring), fragment pool shortages, MTU changes, TX completions in any
 * order, bogus TX completions, and scribbles over every descriptor field
 * (desc[].next above all).
 *
 * Oracle (a finding aborts):
 *  - RX: every packet delivered is, byte for byte, a frame the device sent
 *    whole and untampered, in the order sent; a frame a sender could forge
 *    (the payload of a chain's later buffer, laid out as a header and a
 *    frame) is never delivered; a device-corrupted chain is never
 *    delivered; with no fault and no shortage nothing is lost silently;
 *  - TX: every chain the driver posts is well formed (ids in range, no
 *    descriptor shared with a chain the device still holds, header then
 *    the mbuf's segments, addresses and lengths right);
 *  - at the end of each input, after the queues are reclaimed: no fragment
 *    out and no page in use in the pfrag pool (received mbufs are built in
 *    their fragments), every TX mbuf back in its mempool;
 *  - and ASan/UBSan on everything (rings and private arrays come from
 *    malloc here, so an index the device wrote cannot walk off unseen).
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include <pfrag.h>
#include <pfrag_mbuf.h>

#include "virtio_frag.h"

/* The driver's log type lives in its ethdev file, not linked here. */
int virtio_frag_logtype;

#define FZ_MAX_RING     128
#define FZ_MAX_PKTS     512            /* RX frames per input */
#define FZ_MAX_FRAME    10000u
#define FZ_MAX_OPS      256
#define MAGIC_GOOD      0x600d600du
#define MAGIC_STALE     0x57a1e000u
#define MAGIC_INJECT    0x1badf00du

#define FZ_ASSERT(c, ...) do { \
	if (!(c)) { \
		fprintf(stderr, "fuzz_virtio_frag: %s:%d: %s: ", __FILE__, __LINE__, #c); \
		fprintf(stderr, __VA_ARGS__); \
		fprintf(stderr, "\n"); \
		abort(); \
	} \
} while (0)

struct fz_in {
	const uint8_t *p;
	size_t n;
};

static uint8_t
in8(struct fz_in *in)
{
	if (in->n == 0)
		return 0;
	in->n--;
	return *in->p++;
}

static uint16_t
in16(struct fz_in *in)
{
	return (uint16_t)(in8(in) | in8(in) << 8);
}

/* FUZZ_TRACE=1: print each operation (to read a finding). */
static int fz_trace;

#define TRACE(...) do { if (fz_trace) fprintf(stderr, __VA_ARGS__); } while (0)

/* A frame the device sent, as a correct device would deliver it. */
struct fz_pkt {
	uint32_t len;
	uint8_t *bytes;
	uint8_t corrupt;     /* the device broke its chain: never deliverable */
	uint8_t delivered;
};

static struct {
	struct rte_mempool *tx_mp;
	struct pfrag_pool *pool;
	unsigned int tx_avail0;
	struct virtio_frag_vq *rxq[2], *txq[2];   /* rings of 64 and 128 */
} g;

/* State of one input. */
struct fz {
	struct virtio_frag_hw hw;
	struct virtio_frag_vq *rxq, *txq;
	/* RX device side */
	uint16_t rx_avail_seen;   /* next posted buffer the device takes */
	uint16_t rx_prefilled;    /* posted buffers given stale content */
	uint16_t rx_used;         /* the device's used index */
	struct fz_pkt pkts[FZ_MAX_PKTS];
	uint32_t nb_pkts;
	uint32_t next_expect;     /* delivered frames come in order */
	int faults;               /* anything that may legitimately drop a frame */
	/* TX device side */
	uint16_t tx_seen;
	uint16_t tx_used;
	struct rte_mbuf *tx_out[FZ_MAX_RING];   /* per head: chain the device holds */
	uint16_t tx_fifo[FZ_MAX_RING];          /* heads, oldest first */
	uint16_t tx_fifo_n;
	uint16_t desc_owner[FZ_MAX_RING];       /* 1 + head of the chain, 0 free */
	struct rte_mbuf *extra_refs[2048];      /* our own references, dropped at the end */
	unsigned int nb_extra;
	size_t arena_used;
};

static struct fz fz_state;   /* big: reset, not allocated, per input */
static uint8_t fz_arena[4 << 20];   /* the bytes of an input's frames */
static uint8_t fz_pattern[512];

static void
fz_notify(struct virtio_frag_hw *hw __rte_unused, struct virtio_frag_vq *vq __rte_unused)
{
}

static const struct virtio_frag_ops fz_ops = {
	.name = "fuzz",
	.notify_queue = fz_notify,
};

static struct virtio_frag_vq *fz_vq_new(struct fz *f, uint16_t nb_desc, int is_tx);
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc __rte_unused, char ***argv __rte_unused)
{
	char prefix[64];
	char *eal[] = {
		(char *)"fuzz_virtio_frag", (char *)"--no-huge", (char *)"-m", (char *)"256",
		(char *)"--no-pci", (char *)"--no-shconf", (char *)"--no-telemetry",
		(char *)"--log-level=lib.eal:error", prefix, NULL,
	};

	snprintf(prefix, sizeof(prefix), "--file-prefix=pfrag-fuzz-%d", getpid());
	if (rte_eal_init(RTE_DIM(eal) - 1, eal) < 0) {
		fprintf(stderr, "EAL init failed: %s\n", rte_strerror(rte_errno));
		exit(1);
	}
	g.pool = pfrag_pool_create("fz", (int)rte_socket_id(), 32768, 192, 0);
	g.tx_mp = rte_pktmbuf_pool_create("fz_tx", 2048, 0, 0, 256, (int)rte_socket_id());
	if (g.pool == NULL || g.tx_mp == NULL ||
	    pfrag_mbuf_pool(g.pool, RTE_MBUF_DEFAULT_DATAROOM) == NULL) {
		fprintf(stderr, "pools: %s\n", rte_strerror(rte_errno));
		exit(1);
	}
	for (int i = 0; i < (int)sizeof(fz_pattern); i++)
		fz_pattern[i] = (uint8_t)(i * 7 + 3);
	for (int i = 0; i < 2; i++) {
		g.rxq[i] = fz_vq_new(&fz_state, 64 << i, 0);
		g.txq[i] = fz_vq_new(&fz_state, 64 << i, 1);
	}
	fz_trace = getenv("FUZZ_TRACE") != NULL;
	g.tx_avail0 = rte_mempool_avail_count(g.tx_mp);
	return 0;
}

/* A queue as virtio_frag_vq.c makes one, its memory from malloc. */
static struct virtio_frag_vq *
fz_vq_new(struct fz *f, uint16_t nb_desc, int is_tx)
{
	struct virtio_frag_vq *vq = aligned_alloc(RTE_CACHE_LINE_SIZE,
		RTE_ALIGN_CEIL(sizeof(*vq), RTE_CACHE_LINE_SIZE));
	uint16_t i;

	FZ_ASSERT(vq != NULL, "memory");
	memset(vq, 0, sizeof(*vq));
	vq->hw = &f->hw;   /* rebound to each input's state by fz_vq_start() */
	vq->nb_desc = nb_desc;
	vq->mask = nb_desc - 1;
	vq->is_tx = (uint8_t)is_tx;
	vq->use_va = 1;
	vq->kickfd = -1;
	vq->callfd = -1;
	vq->ring_mem = aligned_alloc(VFRAG_RING_ALIGN,
				     RTE_ALIGN_CEIL(vring_size(nb_desc), VFRAG_RING_ALIGN));
	FZ_ASSERT(vq->ring_mem != NULL, "memory");
	if (is_tx) {
		vq->tx_slots = calloc(nb_desc, sizeof(*vq->tx_slots));
		vq->tx_next = calloc(nb_desc, sizeof(*vq->tx_next));
		vq->tx_hdrs = calloc(nb_desc, sizeof(*vq->tx_hdrs));
		FZ_ASSERT(vq->tx_slots && vq->tx_next && vq->tx_hdrs, "memory");
	} else {
		vq->rx_slots = calloc(nb_desc, sizeof(*vq->rx_slots));
		vq->rx_free_ids = calloc(nb_desc, sizeof(*vq->rx_free_ids));
		FZ_ASSERT(vq->rx_slots && vq->rx_free_ids, "memory");
		for (i = 0; i < nb_desc; i++)
			vq->rx_free_ids[vq->rx_nb_free++] = i;
		FZ_ASSERT(pfrag_cache_init(&vq->cache, g.pool) == 0, "cache");
		vq->cache_ready = 1;
		vq->mbuf_mp = pfrag_mbuf_pool(g.pool, RTE_MBUF_DEFAULT_DATAROOM);
	}
	return vq;
}

/*
 * Queues live across inputs (allocating them is most of an input's cost):
 * each input starts them afresh, as a port start does, and reclaims them.
 */
static struct virtio_frag_vq *
fz_vq_start(struct fz *f, struct virtio_frag_vq *vq)
{
	vq->hw = &f->hw;
	memset(&vq->stats, 0, sizeof(vq->stats));
	if (!vq->is_tx) {
		vq->rx_buf_size = f->hw.args.rx_buf_size;
		virtio_frag_rx_room_reset(vq);
	}
	FZ_ASSERT(virtio_frag_vq_reset(vq) == 0, "queue reset");
	return vq;
}

/* ---- RX device ---- */

/*
 * Buffers posted since the last look get stale content: a header for one
 * buffer and a frame marked stale. A used entry that points at a posted
 * buffer the device never filled delivers exactly that, nothing forged.
 */
static void
fz_rx_prefill(struct fz *f)
{
	struct virtio_frag_vq *vq = f->rxq;
	uint16_t avail = vq->vr.avail->idx, id;
	struct virtio_net_hdr_mrg *h;
	uint8_t *buf;
	uint32_t m = MAGIC_STALE;

	while (f->rx_prefilled != avail) {
		id = vq->vr.avail->ring[f->rx_prefilled++ & vq->mask];
		FZ_ASSERT(id < vq->nb_desc, "posted id %u", id);
		buf = (uint8_t *)(uintptr_t)vq->vr.desc[id].addr;
		FZ_ASSERT(vq->vr.desc[id].len >= VFRAG_HDR_LEN + 4, "posted len %u",
			  vq->vr.desc[id].len);
		h = (struct virtio_net_hdr_mrg *)buf;
		memset(h, 0, sizeof(*h));
		h->num_buffers = 1;
		memcpy(buf + VFRAG_HDR_LEN, &m, 4);
	}
}

/* Posted buffers the device has not taken yet, and the bytes they hold. */
static uint32_t
fz_rx_room_ahead(struct fz *f, uint32_t max_bufs, uint32_t need)
{
	struct virtio_frag_vq *vq = f->rxq;
	uint16_t avail = vq->vr.avail->idx, pos = f->rx_avail_seen;
	uint32_t cap = 0, n = 0;

	while (pos != avail && n < max_bufs && cap < need) {
		cap += vq->vr.desc[vq->vr.avail->ring[pos++ & vq->mask]].len;
		n++;
	}
	return cap >= need ? n : 0;
}

static uint16_t
fz_rx_take(struct fz *f, uint8_t **buf, uint32_t *len)
{
	struct virtio_frag_vq *vq = f->rxq;
	uint16_t id = vq->vr.avail->ring[f->rx_avail_seen++ & vq->mask];

	TRACE("take pos %u id %u posted %d\n", (uint16_t)(f->rx_avail_seen - 1), id,
	      vq->rx_slots[id].frag != NULL);

	*buf = (uint8_t *)(uintptr_t)vq->vr.desc[id].addr;
	*len = vq->vr.desc[id].len;
	return id;
}

static void
fz_rx_entry(struct fz *f, uint32_t id, uint32_t len)
{
	struct vring_used *u = f->rxq->vr.used;

	TRACE("entry %u: id %u len %u\n", f->rx_used, id, len);
	u->ring[f->rx_used & f->rxq->mask].id = id;
	u->ring[f->rx_used & f->rxq->mask].len = len;
	f->rx_used++;
}

static void
fz_rx_publish(struct fz *f)
{
	__atomic_store_n(&f->rxq->vr.used->idx, f->rx_used, __ATOMIC_RELEASE);
}

/* An in-range id the driver does not have posted now, or nb_desc if none. */
static uint32_t
fz_rx_unposted_id(struct fz *f, uint8_t pick)
{
	struct virtio_frag_vq *vq = f->rxq;
	uint32_t i, id;

	for (i = 0; i < vq->nb_desc; i++) {
		id = (pick + i) & vq->mask;
		if (vq->rx_slots[id].frag == NULL)
			return id;
	}
	return vq->nb_desc;
}

/*
 * Send a frame of @p len bytes as a correct device would: as many buffers
 * as it needs, num_buffers in the first. The sender fills every later
 * buffer's start with a header and a frame of its own (MAGIC_INJECT): a
 * driver that parses a chain's later buffer as a packet delivers it.
 * @p fault_at (1..n-1) breaks the chain there (@p fault_kind: an id out of
 * range, length 0, length past the buffer). (An in-range id that is not
 * posted is left to strays: it may be posted again before the driver reads
 * it, and then no driver can tell it from a good buffer.)
 */
static void
fz_rx_send(struct fz *f, uint32_t len, uint32_t fault_at, uint8_t fault_kind, uint8_t pick)
{
	struct virtio_frag_vq *vq = f->rxq;
	int mrg = vfrag_with_feature(&f->hw, VFRAG_NET_F_MRG_RXBUF);
	uint32_t n, k, off = 0, blen, chunk, hdr, i, seq = f->nb_pkts;
	struct virtio_net_hdr_mrg *h;
	struct fz_pkt *p;
	uint8_t *buf;
	uint16_t id;

	if (f->nb_pkts == FZ_MAX_PKTS)
		return;
	n = fz_rx_room_ahead(f, mrg ? vq->nb_desc : 1, VFRAG_HDR_LEN + len);
	if (n == 0)
		return;   /* the ring cannot hold it: a device waits */
	if (f->arena_used + len > sizeof(fz_arena))
		return;
	p = &f->pkts[f->nb_pkts++];
	p->len = len;
	p->corrupt = 0;
	p->delivered = 0;
	p->bytes = fz_arena + f->arena_used;
	f->arena_used += len;
	/* A pattern that differs from frame to frame at every offset. */
	for (i = 0; i < len; i += 256)
		memcpy(p->bytes + i, fz_pattern + (seq * 37u) % 256, RTE_MIN(256u, len - i));
	memcpy(p->bytes, &(uint32_t){ MAGIC_GOOD }, 4);
	memcpy(p->bytes + 4, &seq, 4);
	TRACE("send seq %u len %u in %u bufs fault_at %u kind %u\n", seq, len, n, fault_at,
	      fault_kind % 3);
	if (n > VFRAG_MAX_CHAIN)
		f->faults++;   /* a chain longer than the driver takes: dropped, counted */
	if (fault_at >= n)
		fault_at = 0;
	for (k = 0; k < n; k++) {
		id = fz_rx_take(f, &buf, &blen);
		hdr = k == 0 ? VFRAG_HDR_LEN : 0;
		chunk = RTE_MIN(blen - hdr, len - off);
		if (k > 0 && chunk >= VFRAG_HDR_LEN + 4) {
			/* What a sender chooses to put where a header would be read. */
			struct virtio_net_hdr_mrg fake = { .num_buffers = 1 };

			memcpy(p->bytes + off, &fake, VFRAG_HDR_LEN);
			memcpy(p->bytes + off + VFRAG_HDR_LEN, &(uint32_t){ MAGIC_INJECT }, 4);
		}
		if (k == 0) {
			h = (struct virtio_net_hdr_mrg *)buf;
			memset(h, 0, sizeof(*h));
			h->num_buffers = (uint16_t)n;
		}
		memcpy(buf + hdr, p->bytes + off, chunk);
		off += chunk;
		if (fault_at != 0 && k == fault_at) {
			p->corrupt = 1;
			f->faults++;
			switch (fault_kind % 3) {
			case 0:
				/* The taken buffer stays with the device: freed at reclaim. */
				fz_rx_entry(f, vq->nb_desc + pick, hdr + chunk);
				break;
			case 1:
				fz_rx_entry(f, id, 0);
				break;
			default:
				fz_rx_entry(f, id, blen + 1 + pick);
				break;
			}
			continue;
		}
		fz_rx_entry(f, id, hdr + chunk);
	}
	fz_rx_publish(f);
}

static void fz_rx_drain(struct fz *f, uint16_t burst, int short_pool, uint8_t pages_left);
static void fz_rx_check(struct fz *f, struct rte_mbuf *m);

/* A used entry that belongs to no frame. */
static void
fz_rx_stray(struct fz *f, uint8_t kind, uint8_t pick)
{
	struct virtio_frag_vq *vq = f->rxq;
	uint32_t blen;
	uint8_t *buf;
	uint16_t id;

	f->faults++;
	switch (kind & 3) {
	case 0:
		fz_rx_entry(f, vq->nb_desc + pick * 257u, 64);
		break;
	case 1: {
		/*
		 * An in-range id the driver has not posted. Read at once: posted
		 * again by a refill first, it would be a buffer the device never
		 * took coming back, which no driver can tell from a good one.
		 */
		struct rte_mbuf *pk[VFRAG_MAX_BURST];
		uint16_t nb, i;

		fz_rx_drain(f, VFRAG_MAX_BURST, 0, 0);
		fz_rx_entry(f, fz_rx_unposted_id(f, pick), 64);
		fz_rx_publish(f);
		nb = virtio_frag_recv_pkts(vq, pk, VFRAG_MAX_BURST);
		for (i = 0; i < nb; i++) {
			fz_rx_check(f, pk[i]);
			rte_pktmbuf_free(pk[i]);
		}
		fz_rx_prefill(f);
		return;
	}
	default:
		/* A buffer taken and returned with a length no frame has. */
		if (f->rx_avail_seen == vq->vr.avail->idx)
			return;
		id = fz_rx_take(f, &buf, &blen);
		fz_rx_entry(f, id, (kind & 1) ? blen + 1 : pick % (VFRAG_HDR_LEN + 1));
		break;
	}
	fz_rx_publish(f);
}

/* The device moves its used index past the ring, forwards or backwards. */
static void
fz_rx_jump(struct fz *f, uint16_t r)
{
	uint16_t span = 65536 - 2 * (f->rxq->nb_desc + 1);

	struct rte_mbuf *pk[VFRAG_MAX_BURST];
	uint16_t nb;

	f->faults++;
	f->rx_used += f->rxq->nb_desc + 1 + r % span;
	fz_rx_publish(f);
	/*
	 * Seen at once: two jumps that cancel out before the driver looks are
	 * a few garbage entries, which no driver can tell from good ones.
	 */
	nb = virtio_frag_recv_pkts(f->rxq, pk, VFRAG_MAX_BURST);
	FZ_ASSERT(nb == 0, "%u packets read across a jump", nb);
	FZ_ASSERT(f->rxq->used_cons == f->rx_used, "driver did not follow the jump");
	fz_rx_prefill(f);
}

static void
fz_rx_check(struct fz *f, struct rte_mbuf *m)
{
	uint32_t magic, seq, off = 0;
	const struct rte_mbuf *s;
	struct fz_pkt *p;

	if (m->pkt_len < 4) {
		/* Only a stale buffer returned with a short length is this short. */
		FZ_ASSERT(f->faults > 0, "a %u-byte packet from a correct device", m->pkt_len);
		return;
	}
	memcpy(&magic, rte_pktmbuf_read(m, 0, 4, &magic), 4);
	FZ_ASSERT(magic != MAGIC_INJECT, "a sender's payload delivered as a frame");
	if (magic == MAGIC_STALE) {
		FZ_ASSERT(f->faults > 0, "stale buffer delivered without a device fault");
		return;
	}
	FZ_ASSERT(magic == MAGIC_GOOD, "unknown frame %#x, %u bytes", magic, m->pkt_len);
	FZ_ASSERT(m->pkt_len >= 8, "frame of %u bytes", m->pkt_len);
	memcpy(&seq, rte_pktmbuf_read(m, 4, 4, &seq), 4);
	FZ_ASSERT(seq < f->nb_pkts, "frame %u never sent", seq);
	p = &f->pkts[seq];
	FZ_ASSERT(!p->corrupt, "frame %u delivered although its chain was broken", seq);
	FZ_ASSERT(!p->delivered, "frame %u delivered twice", seq);
	FZ_ASSERT(seq >= f->next_expect, "frame %u after %u", seq, f->next_expect - 1);
	FZ_ASSERT(m->pkt_len == p->len, "frame %u: %u bytes, sent %u", seq, m->pkt_len, p->len);
	FZ_ASSERT(m->nb_segs <= VFRAG_MAX_CHAIN, "%u segments", m->nb_segs);
	for (s = m; s != NULL; s = s->next) {
		FZ_ASSERT(off + s->data_len <= p->len, "segments longer than the packet");
		FZ_ASSERT(memcmp(rte_pktmbuf_mtod(s, const uint8_t *), p->bytes + off,
				 s->data_len) == 0, "frame %u: bytes %u..%u differ", seq, off,
			  off + s->data_len);
		off += s->data_len;
	}
	FZ_ASSERT(off == p->len, "frame %u: segments hold %u of %u bytes", seq, off, p->len);
	p->delivered = 1;
	f->next_expect = seq + 1;
}

/* Give back pages the application held, with the lcore cache that carved them. */
static void
fz_release_pages(void **held, unsigned int n)
{
	if (n == 0)
		return;
	pfrag_free_bulk(held, n);
	pfrag_cache_drain(pfrag_lcore_cache(g.pool));
}

/*
 * Receive until the driver has read every entry the device published, in
 * bursts of @p burst, optionally with only @p pages_left free pages in the
 * pfrag pool (the application holds the rest): refills run short.
 */
static void
fz_rx_drain(struct fz *f, uint16_t burst, int short_pool, uint8_t pages_left)
{
	struct rte_mbuf *pk[VFRAG_MAX_BURST];
	void *held[256];
	unsigned int nb_held = 0, rounds = 0;
	uint16_t nb, i;

	if (short_pool) {
		struct pfrag_pool_info info;
		unsigned int want;

		f->faults++;
		pfrag_pool_info_get(g.pool, &info);
		want = info.pages_free > pages_left ?
			RTE_MIN(info.pages_free - pages_left, (unsigned int)RTE_DIM(held)) : 0;
		/* Whole pages, from this lcore's cache: not the queue's. */
		while (nb_held < want &&
		       (held[nb_held] = pfrag_alloc(g.pool, g.pool->page_size, 1)) != NULL)
			nb_held++;
	}
	do {
		fz_rx_prefill(f);
		nb = virtio_frag_recv_pkts(f->rxq, pk, burst);
		TRACE("  burst %u: %u pkts, cons %u/%u discard %u seg_left %u posted %u bad %"
		      PRIu64 " disc %" PRIu64 " nombuf %" PRIu64 "\n", burst, nb,
		      f->rxq->used_cons, f->rx_used, f->rxq->rx_discard, f->rxq->rx_seg_left,
		      f->rxq->rx_posted, f->rxq->stats.bad_desc, f->rxq->stats.discarded,
		      f->rxq->stats.nombuf);
		FZ_ASSERT(nb <= burst, "%u packets for a burst of %u", nb, burst);
		for (i = 0; i < nb; i++) {
			fz_rx_check(f, pk[i]);
			rte_pktmbuf_free(pk[i]);
		}
		FZ_ASSERT(++rounds <= 4u * FZ_MAX_RING + 8, "RX never catches up with the device");
		if (nb_held > 0 && rounds > 2 * FZ_MAX_RING) {
			fz_release_pages(held, nb_held);
			nb_held = 0;
		}
	} while (f->rxq->used_cons != f->rx_used || nb > 0);
	fz_rx_prefill(f);
	fz_release_pages(held, nb_held);
}

/* ---- TX device ---- */

/* Predicts what the driver does with @p m: 0 dropped, else descriptors. */
static unsigned int
fz_tx_need(const struct virtio_frag_vq *vq, const struct rte_mbuf *m)
{
	unsigned int need = (m->nb_segs == 1 && rte_mbuf_refcnt_read(m) == 1) ? 1 :
		m->nb_segs + 1u;

	return need > vq->nb_desc ? 0 : need;
}

static struct rte_mbuf *
fz_tx_pkt(struct fz *f, struct fz_in *in)
{
	uint8_t shape = in8(in);
	unsigned int segs = 1 + (shape & 3), i;
	struct rte_mbuf *m, *s;

	/* Now and then more segments than the ring has descriptors. */
	if ((shape & 0xf0) == 0xf0)
		segs = f->txq->nb_desc;
	m = rte_pktmbuf_alloc(g.tx_mp);
	if (m == NULL)
		return NULL;
	rte_pktmbuf_append(m, 14 + (shape >> 2));
	for (i = 1; i < segs; i++) {
		s = rte_pktmbuf_alloc(g.tx_mp);
		if (s == NULL)
			break;
		rte_pktmbuf_append(s, 1 + i * 3);
		if (rte_pktmbuf_chain(m, s) != 0) {
			rte_pktmbuf_free(s);
			break;
		}
	}
	/* Bit 3: a packet someone else still references (no header push). */
	if ((shape & 8) && f->nb_extra < RTE_DIM(f->extra_refs)) {
		rte_pktmbuf_refcnt_update(m, 1);   /* every segment, as a clone would */
		f->extra_refs[f->nb_extra++] = m;
	}
	return m;
}

static int
fz_in_order(const struct fz *f)
{
	return f->txq->in_order;
}

/*
 * Read the chains posted since the last look, as a device would, and check
 * each against the packet it should carry: the header, then every segment.
 */
static void
fz_tx_read(struct fz *f, struct rte_mbuf **posted, unsigned int nb_posted)
{
	struct virtio_frag_vq *vq = f->txq;
	uint16_t avail = __atomic_load_n(&vq->vr.avail->idx, __ATOMIC_ACQUIRE);
	const struct rte_mbuf *seg;
	const struct vring_desc *d;
	unsigned int k = 0, n;
	uint16_t head, id;

	while (f->tx_seen != avail) {
		head = vq->vr.avail->ring[f->tx_seen++ & vq->mask];
		FZ_ASSERT(head < vq->nb_desc, "head %u", head);
		FZ_ASSERT(k < nb_posted, "more chains than packets taken");
		FZ_ASSERT(f->tx_out[head] == NULL && f->desc_owner[head] == 0,
			  "head %u is still the device's", head);
		d = &vq->vr.desc[head];
		seg = posted[k];
		f->desc_owner[head] = 1 + head;
		if (fz_tx_need(vq, seg) == 1) {
			/* Header pushed into the headroom: one descriptor. */
			FZ_ASSERT(!(d->flags & VRING_DESC_F_NEXT) &&
				  d->len == seg->data_len + VFRAG_HDR_LEN &&
				  d->addr == rte_pktmbuf_mtod(seg, uintptr_t) - VFRAG_HDR_LEN,
				  "single descriptor of packet %u", k);
		} else {
			FZ_ASSERT(d->len == VFRAG_HDR_LEN, "header descriptor length %u", d->len);
			id = head;
			for (n = 0; seg != NULL; seg = seg->next, n++) {
				FZ_ASSERT(vq->vr.desc[id].flags & VRING_DESC_F_NEXT, "chain short");
				id = vq->vr.desc[id].next;
				FZ_ASSERT(id < vq->nb_desc, "next %u", id);
				FZ_ASSERT(f->desc_owner[id] == 0,
					  "descriptor %u in two chains the device holds", id);
				f->desc_owner[id] = 1 + head;
				d = &vq->vr.desc[id];
				FZ_ASSERT(d->addr == rte_pktmbuf_mtod(seg, uintptr_t) &&
					  d->len == seg->data_len, "segment %u of packet %u", n, k);
				FZ_ASSERT(!fz_in_order(f) || id == ((head + n + 1) & vq->mask),
					  "in order: chain of packet %u not consecutive", k);
			}
			FZ_ASSERT(!(vq->vr.desc[id].flags & VRING_DESC_F_NEXT), "chain long");
		}
		f->tx_out[head] = posted[k++];
		f->tx_fifo[f->tx_fifo_n++] = head;
	}
	FZ_ASSERT(k == nb_posted, "%u packets to post, %u chains posted", nb_posted, k);
}

static void
fz_tx_xmit(struct fz *f, struct fz_in *in)
{
	struct rte_mbuf *pk[8], *posted[8];
	unsigned int n = 1 + in8(in) % 8, i, nb_posted = 0, need[8];
	uint16_t nb;

	for (i = 0; i < n; i++) {
		pk[i] = fz_tx_pkt(f, in);
		if (pk[i] == NULL)
			break;
		/* Now: a dropped packet is freed (and reset) inside the burst. */
		need[i] = fz_tx_need(f->txq, pk[i]);
	}
	n = i;
	nb = virtio_frag_xmit_pkts(f->txq, pk, (uint16_t)n);
	FZ_ASSERT(nb <= n, "%u of %u taken", nb, n);
	for (i = 0; i < nb; i++)
		if (need[i] != 0)
			posted[nb_posted++] = pk[i];
	fz_tx_read(f, posted, nb_posted);
	rte_pktmbuf_free_bulk(&pk[nb], n - nb);
}

static void
fz_tx_release(struct fz *f, uint16_t head)
{
	unsigned int i;

	for (i = 0; i < f->txq->nb_desc; i++)
		if (f->desc_owner[i] == 1 + head)
			f->desc_owner[i] = 0;
	f->tx_out[head] = NULL;
}

static void
fz_tx_used(struct fz *f, uint32_t id)
{
	struct vring_used *u = f->txq->vr.used;

	u->ring[f->tx_used & f->txq->mask].id = id;
	u->ring[f->tx_used & f->txq->mask].len = 0;
	f->tx_used++;
	__atomic_store_n(&u->idx, f->tx_used, __ATOMIC_RELEASE);
}

/* The device is done with some chains: oldest first in order, any else. */
static void
fz_tx_complete(struct fz *f, struct fz_in *in)
{
	unsigned int k, j, i;

	if (f->tx_fifo_n == 0)
		return;
	if (fz_in_order(f)) {
		k = 1 + in8(in) % f->tx_fifo_n;
		/* One entry for the last of a batch, or one each. */
		for (j = 0; j < k; j++) {
			if ((in8(in) & 1) || j == k - 1)
				fz_tx_used(f, f->tx_fifo[j]);
			fz_tx_release(f, f->tx_fifo[j]);
		}
		memmove(f->tx_fifo, f->tx_fifo + k, (f->tx_fifo_n - k) * sizeof(f->tx_fifo[0]));
		f->tx_fifo_n -= k;
		return;
	}
	j = in8(in) % f->tx_fifo_n;
	fz_tx_used(f, f->tx_fifo[j]);
	fz_tx_release(f, f->tx_fifo[j]);
	for (i = j; i + 1 < f->tx_fifo_n; i++)
		f->tx_fifo[i] = f->tx_fifo[i + 1];
	f->tx_fifo_n--;
}

/* A completion for no chain the device holds. */
static void
fz_tx_bogus(struct fz *f, uint8_t pick)
{
	uint32_t id = pick, i;

	if (pick & 0x80) {
		id = f->txq->nb_desc + pick;
	} else {
		for (i = 0; i < f->txq->nb_desc; i++, id++)
			if (f->tx_out[id & f->txq->mask] == NULL)
				break;
		if (i == f->txq->nb_desc)
			return;
		id &= f->txq->mask;
	}
	fz_tx_used(f, id);
	/*
	 * Read before the id can be posted again: an entry for a chain posted
	 * after it was written is a completion no driver could tell apart.
	 */
	if (id < f->txq->nb_desc)
		virtio_frag_tx_cleanup(f->txq);
}

static void
fz_tx_jump(struct fz *f, uint16_t r)
{
	uint16_t span = 65536 - 2 * (f->txq->nb_desc + 1);

	f->tx_used += f->txq->nb_desc + 1 + r % span;
	__atomic_store_n(&f->txq->vr.used->idx, f->tx_used, __ATOMIC_RELEASE);
	/* Seen at once, as on RX. */
	virtio_frag_tx_cleanup(f->txq);
	FZ_ASSERT(f->txq->used_cons == f->tx_used, "driver did not follow the TX jump");
}

/* The device writes whatever it likes into descriptors. */
static void
fz_scribble(struct fz *f, struct fz_in *in)
{
	uint8_t what = in8(in);
	uint16_t v = in16(in);
	struct virtio_frag_vq *vq = (what & 0x80) ? f->rxq : f->txq;
	struct vring_desc *d = &vq->vr.desc[in8(in) & vq->mask];

	/* RX addr and len are what this device writes through: not those. */
	switch (what & 3) {
	case 0:
		d->next = v;
		break;
	case 1:
		d->flags = v;
		break;
	case 2:
		if (vq->is_tx)
			d->len = (uint32_t)v << (what & 4 ? 16 : 0);
		else
			d->next = v;
		break;
	default:
		if (vq->is_tx)
			d->addr = (uint64_t)v << 40;
		else
			d->flags = v;
		break;
	}
}

/* Mostly frames up to 1518 bytes, one in eight up to FZ_MAX_FRAME. */
static uint32_t
fz_len(struct fz_in *in)
{
	uint16_t v = in16(in);

	return 60 + ((v & 0xe000) == 0xe000 ? v % (FZ_MAX_FRAME - 59) : v % 1459);
}

static const uint16_t fz_mtus[] = { RTE_ETHER_MTU, 9000, RTE_ETHER_MIN_MTU, VFRAG_MAX_MTU };

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { .p = data, .n = size };
	struct pfrag_pool_info info;
	struct fz *f = &fz_state;
	uint8_t cfg = in8(&in), op;
	unsigned int ops = 0, i, lost = 0;
	uint16_t ring = (cfg & 1) ? 128 : 64;

	memset(f, 0, offsetof(struct fz, pkts));
	f->nb_pkts = 0;
	f->next_expect = 0;
	f->faults = 0;
	f->tx_seen = 0;
	f->tx_used = 0;
	f->tx_fifo_n = 0;
	f->nb_extra = 0;
	f->arena_used = 0;
	memset(f->tx_out, 0, sizeof(f->tx_out));
	memset(f->desc_owner, 0, sizeof(f->desc_owner));
	f->hw.ops = &fz_ops;
	f->hw.pool = g.pool;
	f->hw.started = 1;
	f->hw.use_va = 1;
	f->hw.mtu = fz_mtus[(cfg >> 4) & 3];
	f->hw.args.mrg_rxbuf = !(cfg & 2);
	f->hw.args.rx_buf_size = (cfg & 8) ? 64 + (in8(&in) % 32) * 64u : 0;
	f->hw.features = VFRAG_BIT(VFRAG_F_VERSION_1) |
		((cfg & 2) ? 0 : VFRAG_BIT(VFRAG_NET_F_MRG_RXBUF)) |
		((cfg & 4) ? 0 : VFRAG_BIT(VFRAG_F_IN_ORDER));
	f->rxq = fz_vq_start(f, g.rxq[ring == 128]);
	f->txq = fz_vq_start(f, g.txq[ring == 128]);
	fz_rx_prefill(f);

	TRACE("cfg ring %u mrg %d in_order %d mtu %u rx_buf_size %u\n", ring, !(cfg & 2),
	      !(cfg & 4), f->hw.mtu, f->hw.args.rx_buf_size);
	while (in.n > 0 && ops++ < FZ_MAX_OPS) {
		op = in8(&in);
		TRACE("op %u: rx used %u cons %u discard %u seg_left %u posted %u | ", op % 13,
		      f->rx_used, f->rxq->used_cons, f->rxq->rx_discard, f->rxq->rx_seg_left,
		      f->rxq->rx_posted);
		switch (op % 13) {
		case 0:
		case 1:
			fz_rx_send(f, fz_len(&in), 0, 0, 0);
			break;
		case 2: {
			uint32_t len = fz_len(&in);
			uint8_t at = in8(&in), kind = in8(&in);

			fz_rx_send(f, len, 1 + at, kind, in8(&in));
			break;
		}
		case 3: {
			uint8_t kind = in8(&in);

			fz_rx_stray(f, kind, in8(&in));
			break;
		}
		case 4:
			fz_rx_jump(f, in16(&in));
			break;
		case 5: {
			uint8_t burst = in8(&in), sh = in8(&in);

			fz_rx_drain(f, 1 + burst % VFRAG_MAX_BURST, sh & 1, sh >> 5);
			break;
		}
		case 6:
			f->hw.mtu = fz_mtus[in8(&in) & 3];
			break;
		case 7:
			fz_tx_xmit(f, &in);
			break;
		case 8:
			fz_tx_complete(f, &in);
			break;
		case 9:
			fz_tx_bogus(f, in8(&in));
			break;
		case 10:
			fz_tx_jump(f, in16(&in));
			break;
		case 11:
			fz_scribble(f, &in);
			break;
		default:
			virtio_frag_tx_cleanup(f->txq);
			break;
		}
	}
	fz_rx_drain(f, VFRAG_MAX_BURST, 0, 0);
	for (i = 0; i < f->nb_pkts; i++)
		if (!f->pkts[i].delivered && !f->pkts[i].corrupt)
			lost++;
	FZ_ASSERT(f->faults > 0 || lost == 0, "%u of %u frames lost without a fault", lost,
		  f->nb_pkts);

	/* Teardown: everything back where it came from. */
	virtio_frag_vq_reclaim(f->rxq);
	virtio_frag_vq_reclaim(f->txq);
	rte_pktmbuf_free_bulk(f->extra_refs, f->nb_extra);
	FZ_ASSERT(pfrag_pool_info_get(g.pool, &info) == 0, "pool info");
	FZ_ASSERT(info.frags_out == 0, "%" PRIu64 " fragments out after reclaim",
		  info.frags_out);
	FZ_ASSERT(info.pages_in_use == 0, "%u pages in use after reclaim", info.pages_in_use);
	FZ_ASSERT(rte_mempool_avail_count(g.tx_mp) == g.tx_avail0, "TX mbufs: %u of %u",
		  rte_mempool_avail_count(g.tx_mp), g.tx_avail0);
	return 0;
}

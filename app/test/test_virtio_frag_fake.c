/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * virtio_frag against a misbehaving device (fast-tests, hugepages): a
 * minimal vhost-user backend in a thread of this process accepts our port,
 * then the test writes used-ring entries by hand — ids out of range or not
 * posted, lengths past the buffer or shorter than the header, impossible
 * buffer counts, broken mergeable chains, an index that jumps past the
 * ring. Each must be counted and dropped, the rest of a dropped chain must
 * be consumed (its payload is a sender's, never a packet of its own), good
 * packets must still come through intact, and stopping the port must leave
 * no fragment out. On TX the device scribbles on desc[].next and jumps its
 * used index; chains must stay well formed and completions must go on.
 * Backend and port share the process, so ring addresses are plain pointers.
 */

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <rte_bus_vdev.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_log.h>
#include <rte_mbuf.h>

#include <pfrag.h>
#include <pfrag_mbuf.h>
#include <virtio_frag.h>
#include <virtio_frag_ring.h>

#include "test.h"
#include "test_vhost_stub.h"
#include "test_virtio_frag_peer.h"

#define FAKE_NAME "net_virtio_frag_user7"
#define FAKE_RING 64
#define FAKE_MASK (FAKE_RING - 1)

#define FEAT_DEFAULT ((1ULL << VFRAG_F_VERSION_1) | (1ULL << VFRAG_NET_F_MRG_RXBUF) | \
		      (1ULL << VFRAG_F_IN_ORDER))

/* Byte @p i of a test frame; a frame injected through a payload starts with 0xee. */
#define PAT(seed, i) ((uint8_t)((seed) + (i) * 7u))
#define INJECT_BYTE 0xee

struct fake_dev {
	int listenfd;
	int connfd;
	volatile int quit;
	volatile int nb_addr;
	volatile int nb_conn;
	uint64_t features;
	volatile uint32_t vring_base[2];   /* last SET_VRING_BASE per vring */
	struct vring_desc *desc[2];
	struct vring_avail *avail[2];
	struct vring_used *used[2];
	uint16_t used_idx;       /* RX ring: next used entry we write */
	uint16_t avail_seen;     /* RX ring: next posted buffer we take */
	uint16_t tx_seen;        /* TX ring: next chain we read */
	uint16_t tx_used;        /* TX ring: next used entry we write */
	char dir[64];
	char path[108];
	pthread_t thread;
};

static struct fake_dev fake;

/* Serve one connection until it closes. */
static void
fake_serve(int fd)
{
	struct vhost_user_msg msg;
	struct vhost_user_vring_addr a;
	uint32_t st[2];

	while (!fake.quit) {
		if (vstub_recv_msg(fd, &msg) < 0)
			break;
		switch (msg.request) {
		case VHOST_USER_GET_FEATURES:
			if (vstub_reply(fd, &msg, &fake.features, sizeof(fake.features)) < 0)
				return;
			break;
		case VHOST_USER_GET_VRING_BASE:
			/* Echo the index, resume at 0. */
			memcpy(st, &msg.payload, sizeof(st[0]));
			st[1] = 0;
			if (vstub_reply(fd, &msg, st, sizeof(st)) < 0)
				return;
			break;
		case VHOST_USER_SET_VRING_BASE:
			memcpy(st, &msg.payload, sizeof(st));
			if (st[0] < 2)
				fake.vring_base[st[0]] = st[1];
			break;
		case VHOST_USER_SET_VRING_ADDR:
			memcpy(&a, &msg.payload, sizeof(a));
			if (a.index < 2) {
				fake.desc[a.index] = (struct vring_desc *)(uintptr_t)a.desc;
				fake.avail[a.index] = (struct vring_avail *)(uintptr_t)a.avail;
				fake.used[a.index] = (struct vring_used *)(uintptr_t)a.used;
				__atomic_add_fetch(&fake.nb_addr, 1, __ATOMIC_RELEASE);
			}
			break;
		default:
			break;
		}
	}
}

static void *
fake_thread(void *arg __rte_unused)
{
	int fd;

	/* Accept again after a disconnect: the port reconnects and replays. */
	while (!fake.quit) {
		fd = accept(fake.listenfd, NULL, NULL);
		if (fd < 0)
			break;
		__atomic_store_n(&fake.connfd, fd, __ATOMIC_RELEASE);
		__atomic_add_fetch(&fake.nb_conn, 1, __ATOMIC_RELEASE);
		fake_serve(fd);
		__atomic_store_n(&fake.connfd, -1, __ATOMIC_RELEASE);
		close(fd);
	}
	return NULL;
}

static int
wait_counter(volatile int *c, int at_least, unsigned int ms)
{
	unsigned int i;

	for (i = 0; i < ms / 10 && __atomic_load_n(c, __ATOMIC_ACQUIRE) < at_least; i++)
		usleep(10000);
	return __atomic_load_n(c, __ATOMIC_ACQUIRE) >= at_least ? 0 : -1;
}

/* A fake backend offering @p features and our port on it (started). */
static int
fake_open(uint64_t features, const char *extra, struct rte_mempool *mp, uint16_t mtu,
	  uint16_t *port)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	char args[256];
	int ret;

	memset(&fake, 0, sizeof(fake));
	fake.connfd = -1;
	fake.features = features;
	if (pfrag_test_tmpdir(fake.dir, sizeof(fake.dir)) != 0)
		return -1;
	snprintf(un.sun_path, sizeof(un.sun_path), "%s/fake.sock", fake.dir);
	fake.listenfd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fake.listenfd < 0 || bind(fake.listenfd, (struct sockaddr *)&un, sizeof(un)) != 0 ||
	    listen(fake.listenfd, 1) != 0 ||
	    pthread_create(&fake.thread, NULL, fake_thread, NULL) != 0) {
		printf("fake backend set-up failed: %s\n", strerror(errno));
		return -1;
	}
	snprintf(args, sizeof(args), "path=%s,queue_size=%u%s", un.sun_path, FAKE_RING, extra);
	ret = vf_port_create(FAKE_NAME, args, mp, FAKE_RING, mtu, port);
	if (ret == 0 && wait_counter(&fake.nb_addr, 2, 5000) != 0) {
		printf("the port never handed its rings to the fake backend\n");
		vf_port_destroy(FAKE_NAME, *port);
		return -1;
	}
	return ret;
}

static void
fake_close(void)
{
	int fd;

	fake.quit = 1;
	shutdown(fake.listenfd, SHUT_RDWR);
	fd = __atomic_load_n(&fake.connfd, __ATOMIC_ACQUIRE);
	if (fd >= 0)
		shutdown(fd, SHUT_RDWR);
	pthread_join(fake.thread, NULL);
	close(fake.listenfd);
	pfrag_test_rmdir(fake.dir);
}

/* Stop and start the port: rings start over at index 0. */
static int
fake_restart(uint16_t port)
{
	int addr = fake.nb_addr;

	if (rte_eth_dev_stop(port) != 0 || rte_eth_dev_start(port) != 0)
		return -1;
	fake.used_idx = 0;
	fake.avail_seen = 0;
	fake.tx_seen = 0;
	fake.tx_used = 0;
	return wait_counter(&fake.nb_addr, addr + 2, 5000);
}

/* Take the next posted RX buffer: its descriptor id and address. */
static int
fake_take(uint16_t *id, uint8_t **buf, uint32_t *len)
{
	struct vring_avail *av = fake.avail[0];

	if (fake.avail_seen == __atomic_load_n(&av->idx, __ATOMIC_ACQUIRE))
		return -1;
	*id = av->ring[fake.avail_seen++ & FAKE_MASK];
	*buf = (uint8_t *)(uintptr_t)fake.desc[0][*id].addr;
	*len = fake.desc[0][*id].len;
	return 0;
}

/* Write a used entry; published with the index now (@p publish) or later. */
static void
fake_used_entry(uint32_t id, uint32_t len, int publish)
{
	struct vring_used *u = fake.used[0];

	u->ring[fake.used_idx & FAKE_MASK].id = id;
	u->ring[fake.used_idx & FAKE_MASK].len = len;
	fake.used_idx++;
	if (publish)
		__atomic_store_n(&u->idx, fake.used_idx, __ATOMIC_RELEASE);
}

static void
fake_used(uint32_t id, uint32_t len)
{
	fake_used_entry(id, len, 1);
}

static void
fake_publish(void)
{
	__atomic_store_n(&fake.used[0]->idx, fake.used_idx, __ATOMIC_RELEASE);
}

static void
fake_hdr(uint8_t *buf, uint16_t num_buffers)
{
	struct virtio_net_hdr_mrg *h = (struct virtio_net_hdr_mrg *)buf;

	memset(h, 0, sizeof(*h));
	h->num_buffers = num_buffers;
}

/* A good packet of @p size bytes in one posted buffer (num_buffers as given). */
static int
fake_good(uint32_t size, uint16_t num_buffers)
{
	uint8_t *buf;
	uint32_t len, i;
	uint16_t id;

	if (fake_take(&id, &buf, &len) != 0 || size + VFRAG_HDR_LEN > len)
		return -1;
	fake_hdr(buf, num_buffers);
	for (i = 0; i < size; i++)
		buf[VFRAG_HDR_LEN + i] = PAT(size, i);
	fake_used(id, size + VFRAG_HDR_LEN);
	return id;
}

/*
 * A buffer whose payload is what a hostile sender would choose: a
 * virtio-net header announcing one buffer, then a frame of INJECT_BYTE.
 * Only a driver that parses a chain's later buffer as a packet sees it.
 */
static int
fake_inject(int publish)
{
	uint8_t *buf;
	uint32_t len;
	uint16_t id;

	if (fake_take(&id, &buf, &len) != 0 || len < VFRAG_HDR_LEN + 60)
		return -1;
	fake_hdr(buf, 1);
	memset(buf + VFRAG_HDR_LEN, INJECT_BYTE, 60);
	fake_used_entry(id, VFRAG_HDR_LEN + 60, publish);
	return id;
}

/*
 * A correct device delivering a frame of @p size bytes over as many posted
 * buffers as it needs (mergeable). How many, or -1 when the posted buffers
 * cannot hold it.
 */
static int
fake_deliver(uint32_t size)
{
	uint8_t *bufs[FAKE_RING];
	uint32_t lens[FAKE_RING], cap = 0, off = 0, n, k, i;
	uint16_t ids[FAKE_RING];

	for (n = 0; cap < VFRAG_HDR_LEN + size; n++) {
		if (n == FAKE_RING || fake_take(&ids[n], &bufs[n], &lens[n]) != 0)
			return -1;
		cap += lens[n];
	}
	fake_hdr(bufs[0], (uint16_t)n);
	for (k = 0; k < n; k++) {
		uint32_t hdr = k == 0 ? VFRAG_HDR_LEN : 0;
		uint32_t chunk = RTE_MIN(lens[k] - hdr, size - off);

		for (i = 0; i < chunk; i++)
			bufs[k][hdr + i] = PAT(size, off + i);
		off += chunk;
		fake_used_entry(ids[k], hdr + chunk, 0);
	}
	fake_publish();
	return (int)n;
}

/* A received frame is the one fake_good()/fake_deliver() sent: every byte. */
static int
frame_ok(const struct rte_mbuf *m, uint32_t size)
{
	const struct rte_mbuf *seg;
	uint32_t off = 0, i;

	if (m->pkt_len != size)
		return 0;
	for (seg = m; seg != NULL; seg = seg->next) {
		const uint8_t *d = rte_pktmbuf_mtod(seg, const uint8_t *);

		for (i = 0; i < seg->data_len; i++)
			if (d[i] != PAT(size, off + i))
				return 0;
		off += seg->data_len;
	}
	return off == size;
}

struct rx_tally {
	unsigned int pkts;
	unsigned int injected;   /* frames made of a sender's payload */
	unsigned int bad;        /* not an expected frame */
	uint32_t bytes;
};

/* Receive everything; check each frame against the expected sizes in order. */
static void
drain_check(uint16_t port, uint16_t burst, const uint32_t *sizes, unsigned int nb_sizes,
	    struct rx_tally *t)
{
	struct rte_mbuf *m[32];
	uint16_t nb, i;

	memset(t, 0, sizeof(*t));
	do {
		nb = rte_eth_rx_burst(port, 0, m, RTE_MIN(burst, (uint16_t)RTE_DIM(m)));
		for (i = 0; i < nb; i++) {
			if (*rte_pktmbuf_mtod(m[i], uint8_t *) == INJECT_BYTE)
				t->injected++;
			else if (t->pkts >= nb_sizes || !frame_ok(m[i], sizes[t->pkts]))
				t->bad++;
			t->bytes += m[i]->pkt_len;
			t->pkts++;
			rte_pktmbuf_free(m[i]);
		}
	} while (nb > 0);
}

static uint16_t
drain(uint16_t port, unsigned int *pkts, uint32_t *bytes)
{
	struct rx_tally t;

	drain_check(port, 32, NULL, 0, &t);
	*pkts += t.pkts;
	*bytes += t.bytes;
	return t.pkts;
}

static int
test_bad_used_entries(uint16_t port)
{
	const uint32_t sizes[] = { 60, 100 };
	int64_t bad0 = vf_xstat(port, "rx_bad_desc");
	int64_t disc0 = vf_xstat(port, "rx_chain_bufs_discarded");
	unsigned int pkts = 0;
	uint32_t bytes = 0, len;
	struct rx_tally t;
	uint8_t *buf;
	uint16_t id;
	int good;

	/* 1: a good packet comes through. */
	TEST_ASSERT(fake_good(60, 1) >= 0, "posted buffer for a good packet");
	drain(port, &pkts, &bytes);
	TEST_ASSERT_EQUAL(pkts, 1, "good packet delivered");
	TEST_ASSERT_EQUAL(bytes, 60, "good packet length");

	/* 2: id out of range. */
	fake_used(9999, 64);
	/* 3: the id of the packet just delivered, not posted again yet. */
	good = fake_good(60, 1);
	TEST_ASSERT(good >= 0, "second good packet");
	fake_used(good, 64);
	/*
	 * 4: length past the posted buffer. A valid header (num_buffers 1), so
	 * that only the length check can reject it.
	 */
	TEST_ASSERT_SUCCESS(fake_take(&id, &buf, &len), "buffer");
	fake_hdr(buf, 1);
	fake_used(id, len + 1);
	/* 5: length not even a header (a valid one is in the buffer). */
	TEST_ASSERT_SUCCESS(fake_take(&id, &buf, &len), "buffer");
	fake_hdr(buf, 1);
	fake_used(id, VFRAG_HDR_LEN);
	/* 6: num_buffers 0: no chain to speak of, the buffer alone goes. */
	TEST_ASSERT(fake_good(60, 0) >= 0, "buffer");
	/*
	 * 7: a chain of 3 announced, its second entry bogus: the bogus entry
	 * stands for one buffer of the chain, the third is the chain's too.
	 */
	TEST_ASSERT(fake_good(60, 3) >= 0, "buffer");
	fake_used(FAKE_RING + 1, 10);
	TEST_ASSERT(fake_inject(1) >= 0, "buffer");
	/* 8: and a good packet after all that. */
	TEST_ASSERT(fake_good(100, 1) >= 0, "buffer");

	drain_check(port, 32, sizes, RTE_DIM(sizes), &t);
	TEST_ASSERT_EQUAL(t.injected, 0, "the rest of a dropped chain parsed as a packet");
	TEST_ASSERT_EQUAL(t.pkts, 2, "only the two good packets delivered");
	TEST_ASSERT_EQUAL(t.bad, 0, "good packets intact");
	TEST_ASSERT_EQUAL(vf_xstat(port, "rx_bad_desc") - bad0, 6,
			  "every malformed entry counted once");
	TEST_ASSERT_EQUAL(vf_xstat(port, "rx_chain_bufs_discarded") - disc0, 1,
			  "the chain's third buffer consumed");

	/* 9: the device moves its index past the whole ring, then behaves. */
	fake.used_idx += FAKE_RING * 3;
	__atomic_store_n(&fake.used[0]->idx, fake.used_idx, __ATOMIC_RELEASE);
	drain(port, &pkts, &bytes);
	TEST_ASSERT_EQUAL(vf_xstat(port, "rx_bad_desc") - bad0, 7,
			  "runaway used index counted");
	TEST_ASSERT_EQUAL(vf_xstat(port, "rx_used_idx_jumps"), 1, "jump counted");
	TEST_ASSERT(fake_good(80, 1) >= 0, "buffer");
	pkts = 0;
	TEST_ASSERT_EQUAL(drain(port, &pkts, &bytes), 1, "packets after the jump");
	printf("  rx_bad_desc %" PRId64 ", rx packets %" PRId64 " (the good ones), no crash\n",
	       vf_xstat(port, "rx_bad_desc"), vf_xstat(port, "rx_good_packets"));
	TEST_ASSERT_EQUAL(vf_xstat(port, "rx_good_packets"), 4, "4 good packets in stats");
	return TEST_SUCCESS;
}

/*
 * Issue 8 item 1: whenever a chain is dropped — a count above the chain
 * limit, a bad length or an id not posted midway — its remaining buffers
 * are consumed, never parsed as packets of their own.
 */
static int
test_rx_dropped_chains(uint16_t port, struct rte_mempool *mp)
{
	const uint32_t good[] = { 90 };
	int64_t disc0 = vf_xstat(port, "rx_chain_bufs_discarded");
	int64_t bad0 = vf_xstat(port, "rx_bad_desc");
	int64_t nombuf0 = vf_xstat(port, "rx_nombuf");
	unsigned int nb_inj;
	struct rx_tally t;
	uint32_t len;
	uint8_t *buf;
	uint16_t id;

	/* (a) num_buffers above the chain limit: the rest is the ring's worth. */
	drain_check(port, 32, NULL, 0, &t);
	TEST_ASSERT(fake_good(60, 200) >= 0, "head");
	drain_check(port, 32, NULL, 0, &t);
	TEST_ASSERT_EQUAL(t.pkts, 0, "a head announcing 200 buffers is dropped");
	for (nb_inj = 0; fake_inject(0) >= 0; nb_inj++)
		;
	fake_publish();
	drain_check(port, 32, NULL, 0, &t);
	TEST_ASSERT_EQUAL(t.injected, 0, "%u of %u payload buffers delivered as packets",
			  t.injected, nb_inj);
	TEST_ASSERT_EQUAL(vf_xstat(port, "rx_chain_bufs_discarded") - disc0, nb_inj,
			  "every later buffer of the chain consumed");
	TEST_ASSERT(fake_good(90, 1) >= 0, "buffer");
	drain_check(port, 32, good, 1, &t);
	TEST_ASSERT(t.pkts == 1 && t.bad == 0, "a good packet after the dropped chain");

	/* (b) a length past the buffer in the middle of a chain of three. */
	TEST_ASSERT(fake_good(60, 3) >= 0, "head");
	TEST_ASSERT_SUCCESS(fake_take(&id, &buf, &len), "buffer");
	fake_used(id, len + 1);
	TEST_ASSERT(fake_inject(1) >= 0, "third buffer");
	TEST_ASSERT(fake_good(90, 1) >= 0, "buffer");
	drain_check(port, 32, good, 1, &t);
	TEST_ASSERT_EQUAL(t.injected, 0, "buffer after a bad length delivered as a packet");
	TEST_ASSERT(t.pkts == 1 && t.bad == 0, "only the good packet delivered");

	/* (c) an id that was never posted for the second buffer of a chain of three. */
	TEST_ASSERT(fake_good(60, 3) >= 0, "head");
	fake_used(FAKE_RING + 7, 60);
	TEST_ASSERT(fake_inject(1) >= 0, "third buffer");
	TEST_ASSERT(fake_good(90, 1) >= 0, "buffer");
	drain_check(port, 32, good, 1, &t);
	TEST_ASSERT_EQUAL(t.injected, 0, "buffer after a foreign id delivered as a packet");
	TEST_ASSERT(t.pkts == 1 && t.bad == 0, "only the good packet delivered");
	TEST_ASSERT_EQUAL(vf_xstat(port, "rx_nombuf") - nombuf0, 0, "no packet lost for want "
			  "of mbufs: they are built in the fragments");
	printf("  dropped chains: %u + 2 later buffers consumed, %" PRId64 " bad entries\n",
	       nb_inj, vf_xstat(port, "rx_bad_desc") - bad0);
	return TEST_SUCCESS;
}

/*
 * Issue 8 item 1, the floor: after small traffic has shrunk the adaptive
 * buffers, a full ring must still hold the largest frame of the MTU, in no
 * more buffers than a chain may span.
 */
static int
test_rx_room_floor(uint16_t port)
{
	const uint32_t jumbo = 9000 + RTE_ETHER_HDR_LEN + 2 * 4;
	uint32_t small[FAKE_RING], sent = 0, i;
	struct rx_tally t;
	int nbuf;

	TEST_ASSERT_SUCCESS(rte_eth_dev_set_mtu(port, 9000), "MTU 9000 at run time");
	for (i = 0; i < RTE_DIM(small); i++)
		small[i] = 64;
	/* Small frames pull the average down; the ring turns over several times. */
	while (sent < 600) {
		for (i = 0; i < 48 && fake_good(64, 1) >= 0; i++)
			sent++;
		drain_check(port, 32, small, RTE_DIM(small), &t);
		TEST_ASSERT(t.pkts == i && t.bad == 0, "small frames delivered");
	}
	printf("  MTU 9000 after 64-byte traffic: rx_buf_size %" PRId64 "\n",
	       vf_xstat(port, "rx_buf_size"));
	nbuf = fake_deliver(jumbo);
	TEST_ASSERT(nbuf > 0, "the posted ring (buffers of %" PRId64 " bytes) cannot hold a "
		    "%u-byte frame", vf_xstat(port, "rx_buf_size"), jumbo);
	/* Posted buffers never shrink below what spans a frame in that many. */
	TEST_ASSERT(nbuf <= (int)VFRAG_RX_FLOOR_CHAIN, "%d buffers for one frame", nbuf);
	drain_check(port, 32, &jumbo, 1, &t);
	TEST_ASSERT(t.pkts == 1 && t.bad == 0, "the jumbo frame intact (%u packets, %u bad)",
		    t.pkts, t.bad);
	printf("  a %u-byte frame in %d buffers\n", jumbo, nbuf);
	TEST_ASSERT_SUCCESS(rte_eth_dev_set_mtu(port, RTE_ETHER_MTU), "MTU back");
	return TEST_SUCCESS;
}

/*
 * Issue 8 item 6, since mbufs are built in the RX fragments: the mempool
 * given to rte_eth_rx_queue_setup() gives none of them, so the application
 * holding every mbuf of it does not stop RX. Each received mbuf is its own
 * fragment (a direct mbuf of the pfrag pool's mbuf mempool), and freeing it
 * gives the fragment back.
 */
static int
test_rx_app_pool_dry(uint16_t port, struct rte_mempool *mp)
{
	uint32_t sizes[20];
	int64_t nombuf0 = vf_xstat(port, "rx_nombuf");
	struct pfrag_pool *pool = vf_port_pool(port);
	struct pfrag_pool_info info;
	struct rte_mbuf **held, *m[32];
	unsigned int nb_held = 0, i;
	uint16_t n;

	TEST_ASSERT_NOT_NULL(pool, "port pool");
	for (i = 0; i < RTE_DIM(sizes); i++)
		sizes[i] = 70 + i;
	held = malloc(sizeof(*held) * (mp->size + 1));
	TEST_ASSERT_NOT_NULL(held, "memory");
	while ((held[nb_held] = rte_pktmbuf_alloc(mp)) != NULL)
		nb_held++;
	for (i = 0; i < RTE_DIM(sizes); i++)
		TEST_ASSERT(fake_good(sizes[i], 1) >= 0, "buffer");
	n = rte_eth_rx_burst(port, 0, m, RTE_DIM(m));
	for (i = 0; i < n; i++)
		if (!frame_ok(m[i], sizes[i]) || !pfrag_mbuf_is_frag(m[i]) ||
		    !RTE_MBUF_DIRECT(m[i]) || m[i]->pool != pfrag_mbuf_pool(pool, 0) ||
		    m[i]->buf_addr != (void *)(m[i] + 1))
			break;
	pfrag_pool_info_get(pool, &info);
	rte_pktmbuf_free_bulk(m, n);
	rte_pktmbuf_free_bulk(held, nb_held);
	free(held);
	TEST_ASSERT_EQUAL(n, RTE_DIM(sizes), "packets received with the application's "
			  "pool empty");
	TEST_ASSERT_EQUAL(i, n, "packet %u not intact or not built in its fragment", i);
	TEST_ASSERT_EQUAL(vf_xstat(port, "rx_nombuf") - nombuf0, 0, "rx_nombuf");
	TEST_ASSERT_EQUAL(info.frags_out, (uint64_t)vf_xstat(port, "rx_posted_slots") + n,
			  "a received packet holds its fragment, nothing more");
	TEST_ASSERT_EQUAL(pfrag_pool_frags_out(pool),
			  (uint64_t)vf_xstat(port, "rx_posted_slots"),
			  "freed packets' fragments back in the pool");
	return TEST_SUCCESS;
}

/*
 * TX against a device that never completes anything: a chain longer than the
 * ring is dropped (freed, counted), the ring fills and the burst returns
 * fewer; nothing is lost: stop frees what the ring held.
 */
static int
test_tx_limits(uint16_t port, struct rte_mempool *mp)
{
	unsigned int before = rte_mempool_avail_count(mp), sent = 0, i;
	struct rte_mbuf *chain = NULL, *m, *pkts[32];
	uint16_t nb;

	for (i = 0; i < FAKE_RING + 6; i++) {
		m = rte_pktmbuf_alloc(mp);
		TEST_ASSERT_NOT_NULL(m, "mbuf");
		rte_pktmbuf_append(m, 16);
		if (chain == NULL)
			chain = m;
		else
			TEST_ASSERT_SUCCESS(rte_pktmbuf_chain(chain, m), "chain");
	}
	TEST_ASSERT_EQUAL(rte_eth_tx_burst(port, 0, &chain, 1), 1,
			  "an impossible chain is consumed (dropped), not retried forever");
	TEST_ASSERT_EQUAL(vf_xstat(port, "tx_dropped_too_many_segs"), 1, "drop counted");
	TEST_ASSERT_EQUAL(vf_xstat(port, "tx_good_packets"), 0, "a dropped packet is not sent");
	TEST_ASSERT_EQUAL(rte_mempool_avail_count(mp), before, "dropped chain freed");

	for (i = 0; i < 4; i++) {
		TEST_ASSERT_SUCCESS(rte_pktmbuf_alloc_bulk(mp, pkts, RTE_DIM(pkts)), "mbufs");
		for (nb = 0; nb < RTE_DIM(pkts); nb++)
			rte_pktmbuf_append(pkts[nb], 60);
		nb = rte_eth_tx_burst(port, 0, pkts, RTE_DIM(pkts));
		sent += nb;
		rte_pktmbuf_free_bulk(&pkts[nb], RTE_DIM(pkts) - nb);
	}
	TEST_ASSERT_EQUAL(sent, FAKE_RING, "one descriptor per packet until the ring is full");
	TEST_ASSERT(vf_xstat(port, "tx_ring_full") > 0, "ring full counted");
	TEST_ASSERT_EQUAL(rte_mempool_avail_count(mp), before - FAKE_RING,
			  "the ring holds exactly the packets it took");
	TEST_ASSERT_SUCCESS(rte_eth_dev_stop(port), "stop");
	TEST_ASSERT_EQUAL(rte_mempool_avail_count(mp), before,
			  "stop freed every packet the device never completed");
	return TEST_SUCCESS;
}

/*
 * Issue 8 item 9: a packet of 65535 segments needs 65536 descriptors, a
 * count that wraps to 0 in 16 bits. It must be dropped like any packet
 * longer than the ring, not posted.
 */
static int
test_tx_max_segs(uint16_t port)
{
	const unsigned int nseg = UINT16_MAX;
	int64_t dropped0 = vf_xstat(port, "tx_dropped_too_many_segs");
	int64_t sent0 = vf_xstat(port, "tx_good_packets");
	uint16_t avail0 = __atomic_load_n(&fake.avail[1]->idx, __ATOMIC_ACQUIRE);
	struct rte_mempool *big;
	struct rte_mbuf **segs;
	unsigned int i, before;
	int ret = TEST_FAILED;

	big = rte_pktmbuf_pool_create("vf_fake_segs", nseg + 1, 0, 0, 64, rte_socket_id());
	TEST_ASSERT_NOT_NULL(big, "pool of %u mbufs", nseg + 1);
	before = rte_mempool_avail_count(big);
	segs = malloc(sizeof(*segs) * nseg);
	if (segs == NULL || rte_pktmbuf_alloc_bulk(big, segs, nseg) != 0) {
		printf("no %u mbufs\n", nseg);
		goto out;
	}
	for (i = 0; i < nseg; i++) {
		rte_pktmbuf_append(segs[i], 1);
		segs[i]->next = i + 1 < nseg ? segs[i + 1] : NULL;
	}
	segs[0]->nb_segs = nseg;
	segs[0]->pkt_len = nseg;
	if (rte_eth_tx_burst(port, 0, segs, 1) != 1) {
		printf("a packet that never fits must be consumed\n");
		rte_pktmbuf_free(segs[0]);
		goto out;
	}
	if (vf_xstat(port, "tx_dropped_too_many_segs") - dropped0 != 1 ||
	    vf_xstat(port, "tx_good_packets") != sent0 ||
	    __atomic_load_n(&fake.avail[1]->idx, __ATOMIC_ACQUIRE) != avail0) {
		printf("65535 segments: dropped %" PRId64 ", sent %" PRId64 ", avail %u -> %u: "
		       "posted instead of dropped\n",
		       vf_xstat(port, "tx_dropped_too_many_segs") - dropped0,
		       vf_xstat(port, "tx_good_packets") - sent0, avail0,
		       fake.avail[1]->idx);
		/* The ring holds the chain: stop frees it before its pool goes. */
		fake_restart(port);
		goto out;
	}
	/* Stop frees whatever was posted: then every segment must be back. */
	if (fake_restart(port) != 0 || rte_mempool_avail_count(big) != before) {
		printf("segments not all freed: %u of %u\n", rte_mempool_avail_count(big),
		       before);
		goto out;
	}
	ret = TEST_SUCCESS;
out:
	free(segs);
	rte_mempool_free(big);
	return ret;
}

/*
 * In order (the fake device offers VIRTIO_F_IN_ORDER): chains take
 * consecutive descriptors, and one used entry for the last chain of a batch
 * completes every chain before it, as the spec lets a device do.
 */
static int
test_tx_inorder(uint16_t port, struct rte_mempool *mp)
{
	unsigned int before, i;
	struct rte_mbuf *pkts[9], *m;
	uint16_t head, next = 0, last_head = 0, k;

	TEST_ASSERT_SUCCESS(rte_eth_dev_start(port), "restart");
	fake.tx_seen = 0;
	fake.tx_used = 0;
	before = rte_mempool_avail_count(mp);
	TEST_ASSERT_SUCCESS(rte_pktmbuf_alloc_bulk(mp, pkts, RTE_DIM(pkts)), "mbufs");
	for (i = 0; i < RTE_DIM(pkts); i++)
		rte_pktmbuf_append(pkts[i], 60);
	/* The last packet is a chain of three segments: four descriptors. */
	for (i = 0; i < 2; i++) {
		m = rte_pktmbuf_alloc(mp);
		TEST_ASSERT_NOT_NULL(m, "segment");
		rte_pktmbuf_append(m, 100);
		TEST_ASSERT_SUCCESS(rte_pktmbuf_chain(pkts[8], m), "chain");
	}
	TEST_ASSERT_EQUAL(rte_eth_tx_burst(port, 0, pkts, RTE_DIM(pkts)), RTE_DIM(pkts),
			  "burst");
	TEST_ASSERT_EQUAL(__atomic_load_n(&fake.avail[1]->idx, __ATOMIC_ACQUIRE),
			  RTE_DIM(pkts), "chains made available");
	for (i = 0; i < RTE_DIM(pkts); i++) {
		head = fake.avail[1]->ring[i & FAKE_MASK];
		TEST_ASSERT_EQUAL(head, next, "chain %u does not start after chain %u", i,
				  i - 1);
		for (k = head; fake.desc[1][k].flags & VRING_DESC_F_NEXT;
		     k = fake.desc[1][k].next)
			TEST_ASSERT_EQUAL(fake.desc[1][k].next, (k + 1) & FAKE_MASK,
					  "chain %u: descriptors not consecutive", i);
		next = (k + 1) & FAKE_MASK;
		last_head = head;
	}
	TEST_ASSERT_EQUAL(next, RTE_DIM(pkts) - 1 + 4, "descriptors used");

	/* One used entry, for the last chain: all nine are done. */
	fake.used[1]->ring[0].id = last_head;
	fake.used[1]->ring[0].len = 0;
	__atomic_store_n(&fake.used[1]->idx, 1, __ATOMIC_RELEASE);
	TEST_ASSERT_EQUAL(rte_eth_tx_done_cleanup(port, 0, 0), RTE_DIM(pkts),
			  "one used entry completes the whole batch");
	TEST_ASSERT_EQUAL(rte_mempool_avail_count(mp), before, "every mbuf freed once");

	/* A used id that was never posted is counted, not followed. */
	fake.used[1]->ring[1].id = 5;
	__atomic_store_n(&fake.used[1]->idx, 2, __ATOMIC_RELEASE);
	TEST_ASSERT_EQUAL(rte_eth_tx_done_cleanup(port, 0, 0), 0, "bogus completion");
	TEST_ASSERT_EQUAL(vf_xstat(port, "tx_bad_used"), 1, "bogus completion counted");
	TEST_ASSERT_EQUAL(rte_mempool_avail_count(mp), before, "nothing freed twice");
	return TEST_SUCCESS;
}

/* Write a TX used entry for chain @p head and publish it. */
static void
fake_tx_used(uint16_t head)
{
	struct vring_used *u = fake.used[1];

	u->ring[fake.tx_used & FAKE_MASK].id = head;
	u->ring[fake.tx_used & FAKE_MASK].len = 0;
	fake.tx_used++;
	__atomic_store_n(&u->idx, fake.tx_used, __ATOMIC_RELEASE);
}

/*
 * Read the chains made available since the last call as a device would,
 * following desc[].next, and check each against the packet it carries:
 * a 12-byte header, then every segment's data; no descriptor in two places.
 */
static int
fake_tx_check(struct rte_mbuf **pkts, unsigned int n, uint16_t *heads, int in_order,
	      uint8_t *owner)
{
	const struct rte_mbuf *seg;
	unsigned int i, k;
	uint16_t d, head;

	if (__atomic_load_n(&fake.avail[1]->idx, __ATOMIC_ACQUIRE) != (uint16_t)(fake.tx_seen + n))
		return -1;
	for (i = 0; i < n; i++) {
		head = fake.avail[1]->ring[fake.tx_seen++ & FAKE_MASK];
		if (head >= FAKE_RING)
			return -2;
		heads[i] = head;
		d = head;
		for (k = 0, seg = NULL; ; k++) {
			const struct vring_desc *ds = &fake.desc[1][d];

			if (owner[d] != 0)
				return -3;   /* a descriptor of another chain */
			owner[d] = 1;
			if (k == 0 && ds->len != VFRAG_HDR_LEN)
				return -4;
			if (k > 0) {
				seg = seg == NULL ? pkts[i] : seg->next;
				if (seg == NULL || ds->len != seg->data_len ||
				    ds->addr != rte_pktmbuf_mtod(seg, uintptr_t))
					return -5;
			}
			if (!(ds->flags & VRING_DESC_F_NEXT))
				break;
			if (ds->next >= FAKE_RING)
				return -6;
			if (in_order && ds->next != ((d + 1) & FAKE_MASK))
				return -7;
			d = ds->next;
		}
		if (seg == NULL || seg->next != NULL)
			return -8;
	}
	return 0;
}

/*
 * Issue 8 item 2: the device writes desc[].next at will (here: every next
 * field says 5). The driver's free list must not follow it: chains stay
 * well formed, no descriptor is handed out twice, completions free every
 * packet once, round after round around the ring.
 */
static int
test_tx_scribbled_next(uint16_t port, struct rte_mempool *mp, int in_order)
{
	unsigned int before, round, i, k;
	struct rte_mbuf *pkts[6], *m;
	uint8_t owner[FAKE_RING];
	uint16_t heads[RTE_DIM(pkts)];
	int ret;

	TEST_ASSERT_SUCCESS(fake_restart(port), "restart");
	before = rte_mempool_avail_count(mp);
	for (round = 0; round < 4; round++) {
		for (i = 0; i < FAKE_RING; i++)
			fake.desc[1][i].next = 5;
		TEST_ASSERT_SUCCESS(rte_pktmbuf_alloc_bulk(mp, pkts, RTE_DIM(pkts)), "mbufs");
		for (i = 0; i < RTE_DIM(pkts); i++) {
			rte_pktmbuf_append(pkts[i], 60);
			for (k = 0; k < 2; k++) {
				m = rte_pktmbuf_alloc(mp);
				TEST_ASSERT_NOT_NULL(m, "segment");
				rte_pktmbuf_append(m, 70 + 10 * k);
				TEST_ASSERT_SUCCESS(rte_pktmbuf_chain(pkts[i], m), "chain");
			}
		}
		TEST_ASSERT_EQUAL(rte_eth_tx_burst(port, 0, pkts, RTE_DIM(pkts)),
				  RTE_DIM(pkts), "round %u: burst", round);
		memset(owner, 0, sizeof(owner));
		ret = fake_tx_check(pkts, RTE_DIM(pkts), heads, in_order, owner);
		TEST_ASSERT_SUCCESS(ret, "round %u: chains as the device reads them are broken "
				    "(%d) after it wrote desc[].next", round, ret);
		/* Complete them: in order one entry, else each, newest first. */
		if (in_order) {
			fake_tx_used(heads[RTE_DIM(pkts) - 1]);
		} else {
			for (i = RTE_DIM(pkts); i > 0; i--)
				fake_tx_used(heads[i - 1]);
		}
		TEST_ASSERT_EQUAL(rte_eth_tx_done_cleanup(port, 0, 0), RTE_DIM(pkts),
				  "round %u: completions", round);
		TEST_ASSERT_EQUAL(rte_mempool_avail_count(mp), before,
				  "round %u: every packet freed once", round);
	}
	return TEST_SUCCESS;
}

/*
 * Issue 8 item 8: the device moves the TX used index far past the ring,
 * then behaves again. Completions written after the jump must still free
 * the packets; and the bogus index must not be handed to the next backend
 * when the port reconnects.
 */
static int
test_tx_used_idx_jump(uint16_t port, struct rte_mempool *mp)
{
	unsigned int before, i, conns;
	struct rte_mbuf *pkts[4];
	uint16_t heads[RTE_DIM(pkts)], avail, bogus;
	uint8_t owner[FAKE_RING];
	uint32_t base;
	int fd;

	TEST_ASSERT_SUCCESS(fake_restart(port), "restart");
	before = rte_mempool_avail_count(mp);
	TEST_ASSERT_SUCCESS(rte_pktmbuf_alloc_bulk(mp, pkts, RTE_DIM(pkts)), "mbufs");
	for (i = 0; i < RTE_DIM(pkts); i++)
		rte_pktmbuf_append(pkts[i], 60);
	TEST_ASSERT_EQUAL(rte_eth_tx_burst(port, 0, pkts, RTE_DIM(pkts)), RTE_DIM(pkts),
			  "burst");
	for (i = 0; i < RTE_DIM(pkts); i++)
		heads[i] = fake.avail[1]->ring[fake.tx_seen++ & FAKE_MASK];
	(void)owner;

	fake.tx_used += 200;
	bogus = fake.tx_used;
	__atomic_store_n(&fake.used[1]->idx, fake.tx_used, __ATOMIC_RELEASE);
	TEST_ASSERT_EQUAL(rte_eth_tx_done_cleanup(port, 0, 0), 0, "nothing to read in a jump");
	TEST_ASSERT_EQUAL(vf_xstat(port, "tx_used_idx_jumps"), 1, "jump counted");
	/* The device behaves again: completions after its new index. */
	for (i = 0; i < RTE_DIM(pkts); i++)
		fake_tx_used(heads[i]);
	TEST_ASSERT_EQUAL(rte_eth_tx_done_cleanup(port, 0, 0), RTE_DIM(pkts),
			  "completions after the jump are read (TX not wedged)");
	TEST_ASSERT_EQUAL(rte_mempool_avail_count(mp), before, "every packet freed");

	/* The device jumps again and the connection drops: what is replayed? */
	fake.tx_used += 300;
	bogus = fake.tx_used;
	__atomic_store_n(&fake.used[1]->idx, fake.tx_used, __ATOMIC_RELEASE);
	avail = __atomic_load_n(&fake.avail[1]->idx, __ATOMIC_ACQUIRE);
	conns = fake.nb_conn;
	fake.vring_base[1] = UINT32_MAX;
	fd = __atomic_load_n(&fake.connfd, __ATOMIC_ACQUIRE);
	TEST_ASSERT(fd >= 0, "connection");
	shutdown(fd, SHUT_RDWR);
	TEST_ASSERT_SUCCESS(wait_counter(&fake.nb_conn, conns + 1, 10000),
			    "the port reconnects");
	for (i = 0; i < 500 && fake.vring_base[1] == UINT32_MAX; i++)
		usleep(10000);
	base = fake.vring_base[1];
	TEST_ASSERT(base != UINT32_MAX, "vring base replayed");
	printf("  TX vring: avail %u, device's used %u, replayed base %u\n", avail, bogus,
	       base);
	TEST_ASSERT((uint16_t)(avail - base) <= FAKE_RING,
		    "bogus used index %u replayed to the next backend (avail %u)", base, avail);
	return TEST_SUCCESS;
}

/*
 * A packet with room before its data takes one descriptor: the virtio-net
 * header goes into its headroom, zeroed whatever those bytes held (the
 * header of a packet received before, garbage), num_buffers included. The
 * driver skips writing what is zero already; every byte must still be.
 */
static int
test_tx_pushed_hdr(uint16_t port, struct rte_mempool *mp)
{
	static const uint8_t junk[] = { 0xff, 0x01, 0x80 };
	struct rte_mbuf *pkts[RTE_DIM(junk) + 1];
	const struct vring_desc *d;
	unsigned int before, i, k;
	const uint8_t *h;
	uint16_t head;

	TEST_ASSERT_SUCCESS(fake_restart(port), "restart");
	before = rte_mempool_avail_count(mp);
	TEST_ASSERT_SUCCESS(rte_pktmbuf_alloc_bulk(mp, pkts, RTE_DIM(pkts)), "mbufs");
	for (i = 0; i < RTE_DIM(pkts); i++) {
		TEST_ASSERT_NOT_NULL(rte_pktmbuf_append(pkts[i], 60), "append");
		h = rte_pktmbuf_mtod_offset(pkts[i], uint8_t *, -VFRAG_HDR_LEN);
		/* One byte set in each packet but the last, which is all zero. */
		memset((uint8_t *)(uintptr_t)h, 0, VFRAG_HDR_LEN);
		if (i < RTE_DIM(junk))
			((uint8_t *)(uintptr_t)h)[i * 5 % VFRAG_HDR_LEN] = junk[i];
	}
	/* The last header byte (num_buffers' high half) in one more packet. */
	((uint8_t *)rte_pktmbuf_mtod_offset(pkts[1], uint8_t *, -1))[0] = 0x42;
	TEST_ASSERT_EQUAL(rte_eth_tx_burst(port, 0, pkts, RTE_DIM(pkts)), RTE_DIM(pkts),
			  "burst");
	for (i = 0; i < RTE_DIM(pkts); i++) {
		head = fake.avail[1]->ring[fake.tx_seen++ & FAKE_MASK];
		TEST_ASSERT(head < FAKE_RING, "head %u", head);
		d = &fake.desc[1][head];
		TEST_ASSERT(!(d->flags & VRING_DESC_F_NEXT), "packet %u: one descriptor", i);
		TEST_ASSERT_EQUAL(d->len, 60u + VFRAG_HDR_LEN, "packet %u: length", i);
		TEST_ASSERT_EQUAL(d->addr, rte_pktmbuf_mtod(pkts[i], uintptr_t) - VFRAG_HDR_LEN,
				  "packet %u: header in the headroom", i);
		h = (const uint8_t *)(uintptr_t)d->addr;
		for (k = 0; k < VFRAG_HDR_LEN; k++)
			TEST_ASSERT_EQUAL(h[k], 0, "packet %u: header byte %u is %#x", i, k,
					  h[k]);
		fake_tx_used(head);
	}
	TEST_ASSERT_EQUAL(rte_eth_tx_done_cleanup(port, 0, 0), RTE_DIM(pkts), "completions");
	TEST_ASSERT_EQUAL(rte_mempool_avail_count(mp), before, "every packet freed");
	return TEST_SUCCESS;
}

/*
 * Issue 8 item 6: a queue set up with a mempool far smaller than its ring
 * still holds a full ring of received packets: the mempool gives none.
 */
static int
test_rx_tiny_app_pool(uint16_t port, struct rte_mempool *mp)
{
	struct rte_mbuf *m[FAKE_RING];
	struct rte_mempool *tiny;
	unsigned int n = 0, i;
	uint16_t k;
	int ret;

	TEST_ASSERT_SUCCESS(rte_eth_dev_stop(port), "stop");
	tiny = rte_pktmbuf_pool_create("vf_fake_tiny", 16, 0, 0, RTE_PKTMBUF_HEADROOM,
				       rte_socket_id());
	TEST_ASSERT_NOT_NULL(tiny, "tiny pool");
	ret = rte_eth_rx_queue_setup(port, 0, FAKE_RING, rte_socket_id(), NULL, tiny);
	if (ret == 0)
		ret = fake_restart(port);
	for (i = 0; ret == 0 && i < FAKE_RING && fake_good(64, 1) >= 0; i++)
		;
	for (k = 1; ret == 0 && k > 0 && n < RTE_DIM(m); n += k)
		k = rte_eth_rx_burst(port, 0, &m[n], RTE_MIN(32u, RTE_DIM(m) - n));
	rte_pktmbuf_free_bulk(m, n);
	TEST_ASSERT_EQUAL(rte_mempool_in_use_count(tiny), 0, "an mbuf taken from the pool");
	if (ret == 0)
		ret = rte_eth_dev_stop(port);
	if (ret == 0)
		ret = rte_eth_rx_queue_setup(port, 0, FAKE_RING, rte_socket_id(), NULL, mp);
	rte_mempool_free(tiny);
	TEST_ASSERT_SUCCESS(ret, "queue set-up and restart");
	TEST_ASSERT_EQUAL(n, i, "%u of %u packets received and held with a 16-mbuf pool",
			  n, i);
	TEST_ASSERT(n > 16, "only %u packets", n);
	return TEST_SUCCESS;
}

/* After stop the port's pool is idle by pages, not only by fragments out. */
static int
port_pool_back(uint16_t port)
{
	return pfrag_test_pool_back(vf_port_pool(port), NULL, "after stop");
}

/*
 * End of a run over one port: the port's state on failure, then stop, the
 * pool idle by pages, and the port and the fake backend gone.
 */
static int
run_finish(uint16_t port, int ret)
{
	if (ret != TEST_SUCCESS)
		vf_port_dump(port);
	rte_eth_dev_stop(port);
	if (ret == TEST_SUCCESS)
		ret = port_pool_back(port);
	vf_port_destroy(FAKE_NAME, port);
	fake_close();
	return ret;
}

/* The default device: mergeable buffers, in order. */
static int
run_default(struct rte_mempool *mp)
{
	uint16_t port;
	int ret;

	if (fake_open(FEAT_DEFAULT, "", mp, RTE_ETHER_MTU, &port) != 0) {
		fake_close();
		return TEST_FAILED;
	}
	ret = test_bad_used_entries(port);
	if (ret == TEST_SUCCESS)
		ret = test_rx_dropped_chains(port, mp);
	if (ret == TEST_SUCCESS)
		ret = test_rx_app_pool_dry(port, mp);
	if (ret == TEST_SUCCESS)
		ret = test_rx_room_floor(port);
	if (ret == TEST_SUCCESS)
		ret = test_tx_limits(port, mp);
	if (ret == TEST_SUCCESS)
		ret = test_tx_inorder(port, mp);
	if (ret == TEST_SUCCESS)
		ret = test_tx_max_segs(port);
	if (ret == TEST_SUCCESS)
		ret = test_tx_scribbled_next(port, mp, 1);
	if (ret == TEST_SUCCESS)
		ret = test_tx_used_idx_jump(port, mp);
	if (ret == TEST_SUCCESS)
		ret = test_tx_pushed_hdr(port, mp);
	if (ret == TEST_SUCCESS)
		ret = test_rx_tiny_app_pool(port, mp);
	return run_finish(port, ret);
}

/* Issue 8 item 2 without VIRTIO_F_IN_ORDER: the free list is re-linked. */
static int
run_no_in_order(struct rte_mempool *mp)
{
	uint16_t port;
	int ret;

	if (fake_open(FEAT_DEFAULT, ",in_order=0", mp, RTE_ETHER_MTU, &port) != 0) {
		fake_close();
		return TEST_FAILED;
	}
	ret = test_tx_scribbled_next(port, mp, 0);
	return run_finish(port, ret);
}

/*
 * Issue 8 item 9: a device without mergeable buffers gets whole frames per
 * buffer. MTU 9000 frames do not fit 8 KB pages: start must refuse with
 * EINVAL (negotiated features), not find out from an empty ring.
 */
static int
run_no_mrg(struct rte_mempool *mp)
{
	uint16_t port;
	int ret;

	ret = fake_open(FEAT_DEFAULT & ~(1ULL << VFRAG_NET_F_MRG_RXBUF), ",page_size=8192", mp,
			9000, &port);
	if (ret == 0)
		vf_port_destroy(FAKE_NAME, port);
	fake_close();
	TEST_ASSERT_EQUAL(ret, -EINVAL, "start with 9 KB frames on 8 KB pages, no mergeable "
			  "buffers negotiated");
	return TEST_SUCCESS;
}

static int
test_virtio_frag_fake(void)
{
	struct rte_mempool *mp;
	int ret;

	mp = rte_pktmbuf_pool_create("vf_fake_mp", 1023, 32, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				     rte_socket_id());
	TEST_ASSERT_NOT_NULL(mp, "mempool");
	ret = run_default(mp);
	if (ret == TEST_SUCCESS)
		ret = run_no_in_order(mp);
	if (ret == TEST_SUCCESS)
		ret = run_no_mrg(mp);
	rte_mempool_free(mp);
	return ret == TEST_SUCCESS ? TEST_SUCCESS : TEST_FAILED;
}

PFRAG_TEST_REGISTER(virtio_frag_fake_autotest, FAST, PFRAG_TEST_HUGE, test_virtio_frag_fake);

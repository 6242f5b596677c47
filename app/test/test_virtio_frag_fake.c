/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * virtio_frag against a misbehaving device (fast-tests, hugepages): a
 * minimal vhost-user backend in a thread of this process accepts our port,
 * then the test writes used-ring entries by hand — ids out of range or not
 * posted, lengths past the buffer or shorter than the header, impossible
 * buffer counts, broken mergeable chains, an index that jumps past the
 * ring. Each must be counted in rx_bad_desc and dropped, good packets must
 * still come through, and stopping the port must leave no fragment out.
 * The same device never completes TX: ring full and oversized chains; then,
 * in order, it completes a batch of chains with one used entry.
 * Backend and port share the process, so ring addresses are plain pointers.
 */

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <rte_bus_vdev.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include <pfrag.h>
#include <virtio_frag_ring.h>

#include "test.h"
#include "test_virtio_frag_peer.h"

#define FAKE_NAME "net_virtio_frag_user7"
#define FAKE_RING 64

/* vhost-user requests the fake backend answers. */
#define VU_GET_FEATURES 1
#define VU_SET_VRING_ADDR 9
#define VU_GET_VRING_BASE 11
#define VU_REPLY 0x4

struct fake_dev {
	int listenfd;
	int connfd;
	volatile int quit;
	volatile int nb_addr;
	struct vring_desc *desc[2];
	struct vring_avail *avail[2];
	struct vring_used *used[2];
	uint16_t used_idx;       /* RX ring: next used entry we write */
	uint16_t avail_seen;     /* RX ring: next posted buffer we take */
	pthread_t thread;
};

static struct fake_dev fake;

static int
fake_read(int fd, void *buf, size_t len)
{
	char control[CMSG_SPACE(8 * sizeof(int))];
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = control, .msg_controllen = sizeof(control),
	};
	struct cmsghdr *c;
	ssize_t r;
	int *fds, n, i;

	r = recvmsg(fd, &mh, MSG_WAITALL);
	if (r <= 0)
		return -1;
	/* Same process: the shared memory is ours already, drop the fds. */
	for (c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		fds = (int *)CMSG_DATA(c);
		n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < n; i++)
			close(fds[i]);
	}
	return (size_t)r == len ? 0 : -1;
}

static void *
fake_thread(void *arg __rte_unused)
{
	struct {
		uint32_t request, flags, size;
		uint8_t payload[512];
	} __rte_packed msg;
	struct vhost_user_vring_addr_fake {
		uint32_t index, flags;
		uint64_t desc, used, avail, log;
	} a;
	uint64_t feat = (1ULL << VFRAG_F_VERSION_1) | (1ULL << VFRAG_NET_F_MRG_RXBUF) |
		(1ULL << VFRAG_F_IN_ORDER);
	uint32_t idx;

	fake.connfd = accept(fake.listenfd, NULL, NULL);
	while (!fake.quit && fake.connfd >= 0) {
		if (fake_read(fake.connfd, &msg, 12) < 0)
			break;
		if (msg.size > sizeof(msg.payload) ||
		    (msg.size > 0 && fake_read(fake.connfd, msg.payload, msg.size) < 0))
			break;
		switch (msg.request) {
		case VU_GET_FEATURES:
			msg.flags = 0x1 | VU_REPLY;
			msg.size = sizeof(feat);
			memcpy(msg.payload, &feat, sizeof(feat));
			if (write(fake.connfd, &msg, 12 + msg.size) < 0)
				goto out;
			break;
		case VU_GET_VRING_BASE:
			memcpy(&idx, msg.payload, sizeof(idx));
			msg.flags = 0x1 | VU_REPLY;
			msg.size = 8;
			memset(msg.payload + 4, 0, 4);
			if (write(fake.connfd, &msg, 12 + msg.size) < 0)
				goto out;
			break;
		case VU_SET_VRING_ADDR:
			memcpy(&a, msg.payload, sizeof(a));
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
out:
	return NULL;
}

/* Take the next posted RX buffer: its descriptor id and address. */
static int
fake_take(uint16_t *id, uint8_t **buf, uint32_t *len)
{
	struct vring_avail *av = fake.avail[0];

	if (fake.avail_seen == __atomic_load_n(&av->idx, __ATOMIC_ACQUIRE))
		return -1;
	*id = av->ring[fake.avail_seen++ & (FAKE_RING - 1)];
	*buf = (uint8_t *)(uintptr_t)fake.desc[0][*id].addr;
	*len = fake.desc[0][*id].len;
	return 0;
}

static void
fake_used(uint32_t id, uint32_t len)
{
	struct vring_used *u = fake.used[0];

	u->ring[fake.used_idx & (FAKE_RING - 1)].id = id;
	u->ring[fake.used_idx & (FAKE_RING - 1)].len = len;
	fake.used_idx++;
	__atomic_store_n(&u->idx, fake.used_idx, __ATOMIC_RELEASE);
}

/* A virtio-net header announcing @p num_buffers at the start of @p buf. */
static void
fake_hdr(uint8_t *buf, uint16_t num_buffers)
{
	struct virtio_net_hdr_mrg *h = (struct virtio_net_hdr_mrg *)buf;

	memset(h, 0, sizeof(*h));
	h->num_buffers = num_buffers;
}

/* A good packet of @p size bytes in one posted buffer (num_buffers 1). */
static int
fake_good(uint32_t size, uint16_t num_buffers)
{
	struct virtio_net_hdr_mrg *h;
	uint8_t *buf;
	uint32_t len;
	uint16_t id;

	if (fake_take(&id, &buf, &len) != 0 || size + VFRAG_HDR_LEN > len)
		return -1;
	h = (struct virtio_net_hdr_mrg *)buf;
	memset(h, 0, sizeof(*h));
	h->num_buffers = num_buffers;
	memset(buf + VFRAG_HDR_LEN, 0xab, size);
	fake_used(id, size + VFRAG_HDR_LEN);
	return id;
}

static uint16_t
drain(uint16_t port, unsigned int *pkts, uint32_t *bytes)
{
	struct rte_mbuf *m[32];
	uint16_t nb, i, total = 0;

	do {
		nb = rte_eth_rx_burst(port, 0, m, RTE_DIM(m));
		for (i = 0; i < nb; i++) {
			*bytes += m[i]->pkt_len;
			rte_pktmbuf_free(m[i]);
		}
		*pkts += nb;
		total += nb;
	} while (nb > 0);
	return total;
}

static int
test_bad_used_entries(uint16_t port)
{
	unsigned int pkts = 0;
	uint32_t bytes = 0, len;
	int64_t bad0 = vf_xstat(port, "rx_bad_desc");
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
	/* 6: num_buffers 0, and num_buffers far past any chain. */
	TEST_ASSERT(fake_good(60, 0) >= 0, "buffer");
	TEST_ASSERT(fake_good(60, 5000) >= 0, "buffer");
	/* 7: a chain of 3 announced, its second entry bogus. */
	TEST_ASSERT(fake_good(60, 3) >= 0, "buffer");
	fake_used(FAKE_RING + 1, 10);
	/* 8: and a good packet after all that. */
	TEST_ASSERT(fake_good(100, 1) >= 0, "buffer");

	pkts = 0;
	bytes = 0;
	drain(port, &pkts, &bytes);
	TEST_ASSERT_EQUAL(pkts, 2, "only the two good packets delivered");
	TEST_ASSERT_EQUAL(bytes, 160, "good packets intact");
	TEST_ASSERT_EQUAL(vf_xstat(port, "rx_bad_desc") - bad0, 7,
			  "every malformed entry counted once");

	/* 9: the device moves its index past the whole ring. */
	fake.used_idx += FAKE_RING * 3;
	__atomic_store_n(&fake.used[0]->idx, fake.used_idx, __ATOMIC_RELEASE);
	drain(port, &pkts, &bytes);
	TEST_ASSERT_EQUAL(vf_xstat(port, "rx_bad_desc") - bad0, 8,
			  "runaway used index counted");
	printf("  rx_bad_desc %" PRId64 ", rx packets %" PRId64 " (the good ones), no crash\n",
	       vf_xstat(port, "rx_bad_desc"), vf_xstat(port, "rx_good_packets"));
	TEST_ASSERT_EQUAL(vf_xstat(port, "rx_good_packets"), 3, "3 good packets in stats");
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
 * In order (the fake device offers VIRTIO_F_IN_ORDER): chains take
 * consecutive descriptors, and one used entry for the last chain of a batch
 * completes every chain before it, as the spec lets a device do.
 */
static int
test_tx_inorder(uint16_t port, struct rte_mempool *mp)
{
	const uint16_t mask = FAKE_RING - 1;
	unsigned int before, i;
	struct rte_mbuf *pkts[9], *m;
	uint16_t head, next = 0, last_head = 0, k;

	TEST_ASSERT_SUCCESS(rte_eth_dev_start(port), "restart");
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
		head = fake.avail[1]->ring[i & mask];
		TEST_ASSERT_EQUAL(head, next, "chain %u does not start after chain %u", i,
				  i - 1);
		for (k = head; fake.desc[1][k].flags & VRING_DESC_F_NEXT;
		     k = fake.desc[1][k].next)
			TEST_ASSERT_EQUAL(fake.desc[1][k].next, (k + 1) & mask,
					  "chain %u: descriptors not consecutive", i);
		next = (k + 1) & mask;
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

static int
test_virtio_frag_fake(void)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	struct rte_mempool *mp;
	char dir[64], args[200];
	struct pfrag_pool *pool;
	uint16_t port;
	int ret, i;

	memset(&fake, 0, sizeof(fake));
	fake.connfd = -1;
	TEST_ASSERT_SUCCESS(vf_tmpdir(dir, sizeof(dir)), "tmpdir");
	snprintf(un.sun_path, sizeof(un.sun_path), "%s/fake.sock", dir);
	fake.listenfd = socket(AF_UNIX, SOCK_STREAM, 0);
	TEST_ASSERT(fake.listenfd >= 0, "socket");
	TEST_ASSERT_SUCCESS(bind(fake.listenfd, (struct sockaddr *)&un, sizeof(un)), "bind");
	TEST_ASSERT_SUCCESS(listen(fake.listenfd, 1), "listen");
	TEST_ASSERT_SUCCESS(pthread_create(&fake.thread, NULL, fake_thread, NULL),
			    "backend thread");

	mp = rte_pktmbuf_pool_create("vf_fake_mp", 1023, 32, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				     rte_socket_id());
	snprintf(args, sizeof(args), "path=%s,queue_size=%u", un.sun_path, FAKE_RING);
	ret = mp == NULL ? -ENOMEM :
		vf_port_create(FAKE_NAME, args, mp, FAKE_RING, RTE_ETHER_MTU, &port);
	if (ret == 0) {
		for (i = 0; i < 500 && __atomic_load_n(&fake.nb_addr, __ATOMIC_ACQUIRE) < 2;
		     i++)
			usleep(10000);
		ret = fake.nb_addr >= 2 ? test_bad_used_entries(port) : TEST_FAILED;
		if (ret == TEST_SUCCESS)
			ret = test_tx_limits(port, mp);
		if (ret == TEST_SUCCESS)
			ret = test_tx_inorder(port, mp);
		if (ret != TEST_SUCCESS)
			vf_port_dump(port);
		snprintf(args, sizeof(args), "vfrag%u", port);
		pool = pfrag_pool_lookup(args);
		rte_eth_dev_stop(port);
		/* Pages, not only fragments: a leaked page reference shows only there. */
		if (ret == TEST_SUCCESS)
			ret = pfrag_test_pool_back(pool, NULL, "after stop");
		vf_port_destroy(FAKE_NAME, port);
	}
	fake.quit = 1;
	shutdown(fake.listenfd, SHUT_RDWR);
	if (fake.connfd >= 0)
		shutdown(fake.connfd, SHUT_RDWR);
	pthread_join(fake.thread, NULL);
	if (fake.connfd >= 0)
		close(fake.connfd);
	close(fake.listenfd);
	rte_mempool_free(mp);
	vf_tmpdir_remove(dir);
	return ret == 0 ? TEST_SUCCESS : TEST_FAILED;
}

PFRAG_TEST_REGISTER(virtio_frag_fake_autotest, FAST, PFRAG_TEST_HUGE, test_virtio_frag_fake);

/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * virtio_frag's control path against bad vhost-user backends (fast-tests,
 * hugepages). A vhost-user backend in a thread of this process serves our
 * port and then misbehaves: it never answers, answers one byte at a time,
 * answers with the wrong request code, sends bytes nobody asked for, or is
 * replaced by a listener that never accepts (backlog full). For each:
 * rte_eth_dev_stop() and rte_eth_dev_close() return within the bound the
 * driver states (VFRAG_CTRL_BOUND_MS), an rte_malloc() that maps new memory
 * on another thread meanwhile is not held up past that bound, the control
 * thread does not spin, no fragment is left out, and the port works again
 * with a good backend. Then: queue count and features on (re)connect, and
 * rte_eth_dev_close() from the link-state callback (the control thread's own
 * callback).
 *
 * A watchdog turns "never returns" into a failure with a message instead of
 * a hung test.
 */

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <rte_bus_vdev.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_memory.h>

#include <pfrag.h>
#include <virtio_user/virtio_user.h>

#include "test.h"
#include "test_vhost_stub.h"
#include "test_virtio_frag_peer.h"

#define CTRL_NAME "net_virtio_frag_user5"
#define CTRL_RING 64
#define CTRL_NB_VRING 4
#define CTRL_MALLOC_SIZE (64u << 20)   /* more than the heap holds: EAL maps pages */
#define CTRL_SLOW_BYTE_MS 250          /* SLOW backend: one reply byte this often */
#define CTRL_CPU_MAX_PCT 20            /* control thread CPU share that counts as a spin */

/* virtio-net feature bit: control virtqueue (virtio spec 5.1.3). */
#define FK_NET_F_CTRL_VQ 17

enum fake_mode {
	FK_GOOD,       /* answers every request */
	FK_SILENT,     /* reads everything, answers nothing */
	FK_SLOW,       /* answers one byte every CTRL_SLOW_BYTE_MS */
	FK_MISMATCH,   /* answers with another request's code */
};

/* A vhost-user backend in a thread: one connection at a time. */
struct cfake {
	int listenfd;            /* listening (client-mode port), or -1 */
	int connfd;
	pthread_t thread;
	int running;
	volatile int quit;
	volatile int mode;
	volatile int drop;       /* close the connection (backend gone) */
	volatile int send_junk;  /* write bytes nobody asked for */
	/* offered */
	uint64_t features;
	uint64_t pfeatures;
	uint64_t queue_num;
	/* seen */
	int conns;
	int eofs;                /* connections the port closed */
	int stalled;             /* a reply is withheld, trickled or wrong */
	uint64_t set_features;
	uint32_t addr_mask;      /* vrings given an address on this connection */
	uint32_t enabled_mask;
	uint16_t num[CTRL_NB_VRING];
	uint16_t used_idx[CTRL_NB_VRING];
	uint16_t avail_seen[CTRL_NB_VRING];
	struct vring_desc *desc[CTRL_NB_VRING];
	struct vring_avail *avail[CTRL_NB_VRING];
	struct vring_used *used[CTRL_NB_VRING];
};

static struct cfake fk;
static struct rte_mempool *ctrl_mp;
static char ctrl_dir[64];
static char ctrl_sock[128];
static uint64_t mem_events;

#define LOAD(x) __atomic_load_n(&(x), __ATOMIC_ACQUIRE)
#define STORE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELEASE)

/* ---- watchdog: a call that never returns fails the unit ---- */

static struct {
	pthread_t thread;
	volatile int armed;
	const char *what;
	unsigned int ms;
	uint64_t deadline;
} wd;

static void *
watchdog_main(void *arg __rte_unused)
{
	while (LOAD(wd.armed)) {
		if (pfrag_test_now_ms() > wd.deadline) {
			printf("FAILED: %s did not return within %u ms (hung)\n",
			       wd.what, wd.ms);
			fflush(stdout);
			_exit(1);
		}
		usleep(20000);
	}
	return NULL;
}

static void
watch_arm(const char *what, unsigned int ms)
{
	wd.what = what;
	wd.ms = ms;
	wd.deadline = pfrag_test_now_ms() + ms;
	STORE(wd.armed, 1);
	if (pthread_create(&wd.thread, NULL, watchdog_main, NULL) != 0)
		STORE(wd.armed, 0);
}

static void
watch_disarm(void)
{
	if (!LOAD(wd.armed))
		return;
	STORE(wd.armed, 0);
	pthread_join(wd.thread, NULL);
}

/* ---- the fake backend ---- */

static void
fake_sleep_ms(unsigned int ms)
{
	uint64_t end = pfrag_test_now_ms() + ms;

	while (!fk.quit && pfrag_test_now_ms() < end)
		usleep(10000);
}

/* Answer @p req the way the current mode says. */
static int
fake_reply(uint32_t req, const void *payload, uint32_t size)
{
	struct vhost_user_msg m = {
		.request = req, .flags = VHOST_USER_VERSION | VHOST_USER_REPLY, .size = size,
	};
	size_t len = VHOST_USER_HDR_SIZE + size, i;
	int mode = LOAD(fk.mode);

	memcpy(&m.payload, payload, size);
	switch (mode) {
	case FK_SILENT:
		STORE(fk.stalled, 1);
		return 0;
	case FK_SLOW:
		STORE(fk.stalled, 1);
		for (i = 0; i < len && !fk.quit; i++) {
			if (send(fk.connfd, (uint8_t *)&m + i, 1, MSG_NOSIGNAL) != 1)
				return -1;
			fake_sleep_ms(CTRL_SLOW_BYTE_MS);
		}
		return 0;
	case FK_MISMATCH:
		m.request = req == VHOST_USER_GET_FEATURES ? VHOST_USER_GET_PROTOCOL_FEATURES :
			VHOST_USER_GET_FEATURES;
		STORE(fk.stalled, 1);
		break;
	default:
		break;
	}
	return send(fk.connfd, &m, len, MSG_NOSIGNAL) == (ssize_t)len ? 0 : -1;
}

static int
fake_reply_u64(uint32_t req, uint64_t v)
{
	return fake_reply(req, &v, sizeof(v));
}

static void
fake_new_connection(int fd)
{
	STORE(fk.addr_mask, 0);
	STORE(fk.enabled_mask, 0);
	STORE(fk.set_features, 0);
	fk.connfd = fd;
	STORE(fk.conns, fk.conns + 1);
}

/* One message from the port; -1 when the connection is over. */
static int
fake_serve_one(void)
{
	struct vhost_user_msg m;
	struct vhost_user_vring_addr a;
	uint32_t idx = 0, num = 0, bit;
	uint64_t u64 = 0;

	if (vstub_recv_msg(fk.connfd, &m) < 0)
		return -1;
	memcpy(&u64, (uint8_t *)&m.payload, RTE_MIN(m.size, (uint32_t)sizeof(u64)));
	memcpy(&idx, (uint8_t *)&m.payload, sizeof(idx));
	memcpy(&num, (uint8_t *)&m.payload + 4, sizeof(num));
	bit = idx < CTRL_NB_VRING ? 1u << idx : 0;
	switch (m.request) {
	case VHOST_USER_GET_FEATURES:
		return fake_reply_u64(m.request, fk.features);
	case VHOST_USER_GET_PROTOCOL_FEATURES:
		return fake_reply_u64(m.request, fk.pfeatures);
	case VHOST_USER_GET_QUEUE_NUM:
		return fake_reply_u64(m.request, fk.queue_num);
	case VHOST_USER_GET_VRING_BASE:
		if (bit != 0) {
			__atomic_fetch_and(&fk.enabled_mask, ~bit, __ATOMIC_RELEASE);
			num = fk.used_idx[idx];
		}
		u64 = idx | (uint64_t)num << 32;
		return fake_reply_u64(m.request, u64);
	case VHOST_USER_SET_FEATURES:
		STORE(fk.set_features, u64);
		break;
	case VHOST_USER_SET_VRING_NUM:
		if (bit != 0)
			fk.num[idx] = (uint16_t)num;
		break;
	case VHOST_USER_SET_VRING_BASE:
		/* Resume where the port says: posted entries are processed again. */
		if (bit != 0)
			fk.used_idx[idx] = fk.avail_seen[idx] = (uint16_t)num;
		break;
	case VHOST_USER_SET_VRING_ADDR:
		memcpy(&a, &m.payload, sizeof(a));
		if (a.index < CTRL_NB_VRING) {
			fk.desc[a.index] = (struct vring_desc *)(uintptr_t)a.desc;
			fk.avail[a.index] = (struct vring_avail *)(uintptr_t)a.avail;
			fk.used[a.index] = (struct vring_used *)(uintptr_t)a.used;
			__atomic_fetch_or(&fk.addr_mask, 1u << a.index, __ATOMIC_RELEASE);
		}
		break;
	case VHOST_USER_SET_VRING_ENABLE:
		if (bit != 0 && num != 0)
			__atomic_fetch_or(&fk.enabled_mask, bit, __ATOMIC_RELEASE);
		else if (bit != 0)
			__atomic_fetch_and(&fk.enabled_mask, ~bit, __ATOMIC_RELEASE);
		break;
	default:
		break;
	}
	if (m.flags & VHOST_USER_NEED_REPLY)
		return fake_reply_u64(m.request, 0);
	return 0;
}

static void
fake_close_conn(int counted)
{
	close(fk.connfd);
	fk.connfd = -1;
	if (counted)
		STORE(fk.eofs, fk.eofs + 1);
}

static void *
fake_main(void *arg __rte_unused)
{
	static const uint8_t junk[64] = { 0xee, 0xee, 0xee, 0xee };
	struct pollfd pfd;
	int fd;

	while (!fk.quit) {
		if (LOAD(fk.connfd) < 0) {
			if (fk.listenfd < 0) {
				usleep(10000);
				continue;
			}
			pfd = (struct pollfd){ .fd = fk.listenfd, .events = POLLIN };
			if (poll(&pfd, 1, 50) <= 0)
				continue;
			fd = accept(fk.listenfd, NULL, NULL);
			if (fd >= 0)
				fake_new_connection(fd);
			continue;
		}
		if (LOAD(fk.drop)) {
			STORE(fk.drop, 0);
			fake_close_conn(0);
			continue;
		}
		if (LOAD(fk.send_junk)) {
			STORE(fk.send_junk, 0);
			if (send(fk.connfd, junk, sizeof(junk), MSG_NOSIGNAL) < 0)
				fake_close_conn(1);
			continue;
		}
		pfd = (struct pollfd){ .fd = fk.connfd, .events = POLLIN };
		if (poll(&pfd, 1, 50) <= 0)
			continue;
		if (fake_serve_one() < 0)
			fake_close_conn(1);
	}
	return NULL;
}

static uint64_t
fake_good_features(void)
{
	return VFRAG_BIT(VFRAG_F_VERSION_1) | VFRAG_BIT(VFRAG_NET_F_MRG_RXBUF) |
		VFRAG_BIT(VFRAG_F_IN_ORDER) | VFRAG_BIT(VFRAG_F_PROTOCOL_FEATURES) |
		VFRAG_BIT(VFRAG_NET_F_MQ);
}

/* A backend that listens on @p path (for a client-mode port), or -1: connects later. */
static int
fake_start(const char *path)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };

	memset(&fk, 0, sizeof(fk));
	fk.listenfd = -1;
	fk.connfd = -1;
	fk.mode = FK_GOOD;
	fk.features = fake_good_features();
	fk.pfeatures = (1ULL << VHOST_USER_PROTOCOL_F_MQ) |
		(1ULL << VHOST_USER_PROTOCOL_F_REPLY_ACK);
	fk.queue_num = 2;
	if (path != NULL) {
		strlcpy(un.sun_path, path, sizeof(un.sun_path));
		unlink(path);
		fk.listenfd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (fk.listenfd < 0 || bind(fk.listenfd, (struct sockaddr *)&un,
					    sizeof(un)) < 0 || listen(fk.listenfd, 4) < 0)
			return -errno;
	}
	if (pthread_create(&fk.thread, NULL, fake_main, NULL) != 0)
		return -1;
	fk.running = 1;
	return 0;
}

/* Connect to a server-mode port listening on @p path. */
static int
fake_connect(const char *path)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	int fd;

	strlcpy(un.sun_path, path, sizeof(un.sun_path));
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&un, sizeof(un)) < 0) {
		close(fd);
		return -errno;
	}
	fake_new_connection(fd);
	return 0;
}

static void
fake_stop(void)
{
	if (!fk.running)
		return;
	fk.quit = 1;
	if (fk.connfd >= 0)
		shutdown(fk.connfd, SHUT_RDWR);
	pthread_join(fk.thread, NULL);
	if (fk.connfd >= 0)
		close(fk.connfd);
	if (fk.listenfd >= 0) {
		close(fk.listenfd);
		unlink(ctrl_sock);
	}
	fk.connfd = -1;
	fk.listenfd = -1;
	fk.running = 0;
}

static int
wait_until(const int *v, int want, unsigned int ms)
{
	uint64_t end = pfrag_test_now_ms() + ms;

	while (LOAD(*v) < want) {
		if (pfrag_test_now_ms() > end)
			return -ETIMEDOUT;
		usleep(5000);
	}
	return 0;
}

static int
wait_mask(const uint32_t *v, uint32_t want, unsigned int ms)
{
	uint64_t end = pfrag_test_now_ms() + ms;

	while ((LOAD(*v) & want) != want) {
		if (pfrag_test_now_ms() > end)
			return -ETIMEDOUT;
		usleep(5000);
	}
	return 0;
}

/* The device side of RX: one @p size-byte frame into the next posted buffer. */
static int
fake_rx(unsigned int vring, uint32_t size)
{
	struct vring_avail *av = fk.avail[vring];
	struct vring_used *u = fk.used[vring];
	uint16_t mask = fk.num[vring] - 1, id;
	struct virtio_net_hdr_mrg *h;
	uint8_t *buf;

	if (fk.avail_seen[vring] == __atomic_load_n(&av->idx, __ATOMIC_ACQUIRE))
		return -1;
	id = av->ring[fk.avail_seen[vring]++ & mask];
	if (id > mask || fk.desc[vring][id].len < size + VFRAG_HDR_LEN)
		return -1;
	buf = (uint8_t *)(uintptr_t)fk.desc[vring][id].addr;
	h = (struct virtio_net_hdr_mrg *)buf;
	memset(h, 0, sizeof(*h));
	h->num_buffers = 1;
	memset(buf + VFRAG_HDR_LEN, 0x5a, size);
	u->ring[fk.used_idx[vring] & mask].id = id;
	u->ring[fk.used_idx[vring] & mask].len = size + VFRAG_HDR_LEN;
	fk.used_idx[vring]++;
	__atomic_store_n(&u->idx, fk.used_idx[vring], __ATOMIC_RELEASE);
	return 0;
}

/* The device side of TX: bytes of the next chain made available, and complete it. */
static int64_t
fake_tx(unsigned int vring)
{
	struct vring_avail *av = fk.avail[vring];
	struct vring_used *u = fk.used[vring];
	uint16_t mask = fk.num[vring] - 1, id, k, n = 0;
	int64_t len = 0;

	if (fk.avail_seen[vring] == __atomic_load_n(&av->idx, __ATOMIC_ACQUIRE))
		return -1;
	id = av->ring[fk.avail_seen[vring]++ & mask];
	for (k = id; k <= mask && n <= mask; k = fk.desc[vring][k].next, n++) {
		len += fk.desc[vring][k].len;
		if (!(fk.desc[vring][k].flags & VRING_DESC_F_NEXT))
			break;
	}
	u->ring[fk.used_idx[vring] & mask].id = id;
	u->ring[fk.used_idx[vring] & mask].len = 0;
	fk.used_idx[vring]++;
	__atomic_store_n(&u->idx, fk.used_idx[vring], __ATOMIC_RELEASE);
	return len;
}

/* ---- port, threads, measures ---- */

static int
port_setup(uint16_t port, uint16_t nq)
{
	struct rte_eth_conf conf;
	uint16_t q;
	int ret;

	memset(&conf, 0, sizeof(conf));
	conf.intr_conf.lsc = 1;
	ret = rte_eth_dev_configure(port, nq, nq, &conf);
	for (q = 0; ret == 0 && q < nq; q++) {
		ret = rte_eth_rx_queue_setup(port, q, CTRL_RING, rte_socket_id(), NULL, ctrl_mp);
		if (ret == 0)
			ret = rte_eth_tx_queue_setup(port, q, CTRL_RING, rte_socket_id(), NULL);
	}
	return ret;
}

static int
port_up(const char *devargs, uint16_t nq, uint16_t *port)
{
	int ret;

	ret = rte_vdev_init(CTRL_NAME, devargs);
	if (ret != 0) {
		printf("rte_vdev_init(%s, %s): %d\n", CTRL_NAME, devargs, ret);
		return ret;
	}
	ret = rte_eth_dev_get_port_by_name(CTRL_NAME, port);
	if (ret == 0)
		ret = port_setup(*port, nq);
	if (ret == 0)
		ret = rte_eth_dev_start(*port);
	if (ret != 0) {
		printf("port set-up with %s failed: %d\n", devargs, ret);
		rte_eth_dev_close(*port);
		rte_vdev_uninit(CTRL_NAME);
	}
	return ret;
}

static void
client_args(char *buf, size_t len, const char *extra)
{
	snprintf(buf, len, "path=%s,queue_size=%u%s", ctrl_sock, CTRL_RING, extra);
}

/* Thread id of the port's control thread (named vfrag-ctl-<port>), or -1. */
static int
ctl_tid(uint16_t port)
{
	char name[32], path[300], comm[64];
	struct dirent *e;
	int tid = -1;
	FILE *f;
	DIR *d;

	snprintf(name, sizeof(name), "vfrag-ctl-%u\n", port);
	d = opendir("/proc/self/task");
	if (d == NULL)
		return -1;
	while (tid < 0 && (e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/comm", e->d_name);
		f = fopen(path, "r");
		if (f == NULL)
			continue;
		if (fgets(comm, sizeof(comm), f) != NULL && strcmp(comm, name) == 0)
			tid = atoi(e->d_name);
		fclose(f);
	}
	closedir(d);
	return tid;
}

/* utime + stime of thread @p tid in ms, or -1 when it is gone. */
static int64_t
thread_cpu_ms(int tid)
{
	unsigned long long ut, st;
	char path[64], buf[1024], *p;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
	if (pfrag_test_read_file(path, buf, sizeof(buf)) < 0)
		return -1;
	p = strrchr(buf, ')');
	/* After "pid (comm)": state is field 3, utime 14, stime 15. */
	if (p == NULL || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
				&ut, &st) != 2)
		return -1;
	return (int64_t)((ut + st) * 1000 / sysconf(_SC_CLK_TCK));
}

static int
thread_gone(int tid, unsigned int ms)
{
	uint64_t end = pfrag_test_now_ms() + ms;

	do {
		if (thread_cpu_ms(tid) < 0)
			return 1;
		usleep(10000);
	} while (pfrag_test_now_ms() < end);
	return 0;
}

static void
count_mem_event(enum rte_mem_event type, const void *addr __rte_unused,
		size_t len __rte_unused, void *arg __rte_unused)
{
	if (type == RTE_MEM_EVENT_ALLOC)
		__atomic_fetch_add(&mem_events, 1, __ATOMIC_RELAXED);
}

/* rte_malloc() that needs new hugepages, on another thread, once *trigger is set. */
struct mprobe {
	pthread_t thread;
	const int *trigger;
	uint64_t ms;
	uint64_t events;
	int ok;
};

static void *
mprobe_main(void *arg)
{
	struct mprobe *mp = arg;
	uint64_t end = pfrag_test_now_ms() + 3000, t0, ev0;
	void *p;

	while (mp->trigger != NULL && !LOAD(*mp->trigger) && pfrag_test_now_ms() < end)
		usleep(2000);
	ev0 = __atomic_load_n(&mem_events, __ATOMIC_RELAXED);
	t0 = pfrag_test_now_ms();
	p = rte_malloc("vf_ctrl_probe", CTRL_MALLOC_SIZE, 0);
	rte_free(p);
	mp->ms = pfrag_test_now_ms() - t0;
	mp->events = __atomic_load_n(&mem_events, __ATOMIC_RELAXED) - ev0;
	mp->ok = p != NULL;
	return NULL;
}

static int
mprobe_start(struct mprobe *mp, const int *trigger)
{
	memset(mp, 0, sizeof(*mp));
	mp->trigger = trigger;
	return pthread_create(&mp->thread, NULL, mprobe_main, mp);
}

static int
port_frags_out(uint16_t port)
{
	struct pfrag_pool_info info;
	struct pfrag_pool *pool;

	pool = vf_port_pool(port);
	if (pool == NULL || pfrag_pool_info_get(pool, &info) != 0)
		return -1;
	return (int)(info.frags_out + info.pages_in_use);
}

/* One frame each way on queue pair @p q: the port carries traffic. */
static int
traffic(uint16_t port, uint16_t q)
{
	struct rte_mbuf *m = NULL;
	uint64_t end = pfrag_test_now_ms() + 2000;
	unsigned int i;
	int64_t len = -1;
	uint16_t nb = 0;

	TEST_ASSERT_SUCCESS(wait_mask(&fk.enabled_mask, 3u << (2 * q), 3000),
			    "vrings of pair %u enabled on the backend", q);
	TEST_ASSERT_SUCCESS(vf_wait_link(port, 1, 3000), "link up");
	/* The port posts RX buffers at start; allow it a moment after the hand-over. */
	for (i = 0; i < 200 && fake_rx(2 * q, 60) != 0; i++)
		usleep(5000);
	TEST_ASSERT(i < 200, "a posted RX buffer on vring %u", 2 * q);
	while (nb == 0 && pfrag_test_now_ms() < end)
		nb = rte_eth_rx_burst(port, q, &m, 1);
	TEST_ASSERT_EQUAL(nb, 1, "frame from the backend received on queue %u", q);
	TEST_ASSERT_EQUAL(m->pkt_len, 60, "received length");
	rte_pktmbuf_free(m);
	m = rte_pktmbuf_alloc(ctrl_mp);
	TEST_ASSERT_NOT_NULL(m, "mbuf");
	memset(rte_pktmbuf_append(m, 60), 0x11, 60);
	TEST_ASSERT_EQUAL(rte_eth_tx_burst(port, q, &m, 1), 1, "frame sent");
	for (i = 0; i < 200 && (len = fake_tx(2 * q + 1)) < 0; i++)
		usleep(5000);
	TEST_ASSERT_EQUAL(len, 60 + VFRAG_HDR_LEN, "backend got the frame on vring %u",
			  2 * q + 1);
	return TEST_SUCCESS;
}

/* A fresh port against the good backend: probe, start, traffic, stop, close. */
static int
works_again(void)
{
	char args[256];
	uint16_t port;
	int ret;

	STORE(fk.mode, FK_GOOD);
	client_args(args, sizeof(args), "");
	TEST_ASSERT_SUCCESS(port_up(args, 1, &port), "re-probe against a good backend");
	ret = traffic(port, 0);
	if (ret == TEST_SUCCESS && rte_eth_dev_stop(port) != 0)
		ret = TEST_FAILED;
	if (ret == TEST_SUCCESS && port_frags_out(port) != 0) {
		printf("fragments or pages still out after stop\n");
		ret = TEST_FAILED;
	}
	rte_eth_dev_close(port);
	rte_vdev_uninit(CTRL_NAME);
	return ret;
}

/* ---- bad backends ---- */

struct timing {
	uint64_t stop_ms;
	uint64_t close_ms;
	int64_t cpu_ms;
	uint64_t wall_ms;
};

/* Stop and close @p port, each under the watchdog; the control thread's CPU meanwhile. */
static int
stop_close_measured(uint16_t port, int tid, int64_t cpu0, uint64_t t_start,
		    struct timing *t, int64_t *frags_after_stop, int64_t xs[3])
{
	uint64_t t0;
	int ret;

	watch_arm("rte_eth_dev_stop", 3 * VFRAG_CTRL_BOUND_MS);
	t0 = pfrag_test_now_ms();
	ret = rte_eth_dev_stop(port);
	t->stop_ms = pfrag_test_now_ms() - t0;
	watch_disarm();
	*frags_after_stop = port_frags_out(port);
	xs[0] = vf_xstat(port, "vhost_disconnects");
	xs[1] = vf_xstat(port, "vhost_timeouts");
	xs[2] = vf_xstat(port, "vhost_protocol_errors");
	t->cpu_ms = thread_cpu_ms(tid) - cpu0;
	t->wall_ms = pfrag_test_now_ms() - t_start;
	watch_arm("rte_eth_dev_close", 3 * VFRAG_CTRL_BOUND_MS);
	t0 = pfrag_test_now_ms();
	rte_eth_dev_close(port);
	rte_vdev_uninit(CTRL_NAME);
	t->close_ms = pfrag_test_now_ms() - t0;
	watch_disarm();
	return ret;
}

static const char *const mode_names[] = {
	[FK_GOOD] = "good",
	[FK_SILENT] = "never answers",
	[FK_SLOW] = "answers one byte at a time",
	[FK_MISMATCH] = "answers with the wrong request code",
};

static int
check_timing(const char *what, const struct timing *t, const struct mprobe *mp)
{
	printf("  %s: stop %" PRIu64 " ms, close %" PRIu64 " ms, rte_malloc(%u MB) on another "
	       "thread %" PRIu64 " ms (%" PRIu64 " page maps); bound %u ms each; control "
	       "thread CPU %" PRId64 " ms over %" PRIu64 " ms\n", what, t->stop_ms, t->close_ms,
	       CTRL_MALLOC_SIZE >> 20, mp->ms, mp->events, VFRAG_CTRL_BOUND_MS, t->cpu_ms,
	       t->wall_ms);
	TEST_ASSERT(t->stop_ms <= VFRAG_CTRL_BOUND_MS, "%s: stop took %" PRIu64 " ms, bound %u",
		    what, t->stop_ms, VFRAG_CTRL_BOUND_MS);
	TEST_ASSERT(t->close_ms <= VFRAG_CTRL_BOUND_MS, "%s: close took %" PRIu64
		    " ms, bound %u", what, t->close_ms, VFRAG_CTRL_BOUND_MS);
	TEST_ASSERT(mp->ok, "%s: rte_malloc on the other thread failed", what);
	TEST_ASSERT(mp->events > 0, "%s: the probe allocation mapped no new memory: it did "
		    "not exercise the hotplug lock", what);
	TEST_ASSERT(mp->ms <= VFRAG_CTRL_BOUND_MS, "%s: rte_malloc held up %" PRIu64
		    " ms, bound %u", what, mp->ms, VFRAG_CTRL_BOUND_MS);
	TEST_ASSERT(t->cpu_ms >= 0 && (uint64_t)t->cpu_ms * 100 <=
		    t->wall_ms * CTRL_CPU_MAX_PCT, "%s: control thread used %" PRId64
		    " ms CPU in %" PRIu64 " ms: it spins", what, t->cpu_ms, t->wall_ms);
	return TEST_SUCCESS;
}

/*
 * A good backend, a client port on it carrying traffic, and the port's
 * control thread: where the cases that turn the backend bad start from.
 */
static int
port_running(uint16_t *port, int *tid)
{
	char args[256];
	int ret;

	TEST_ASSERT_SUCCESS(fake_start(ctrl_sock), "fake backend");
	client_args(args, sizeof(args), "");
	ret = port_up(args, 1, port);
	if (ret == 0)
		ret = traffic(*port, 0);
	if (ret != 0) {
		fake_stop();
		return TEST_FAILED;
	}
	*tid = ctl_tid(*port);
	TEST_ASSERT(*tid > 0, "control thread found");
	return TEST_SUCCESS;
}

/*
 * The backend turns bad once the port runs; it shows at stop, which asks
 * each vring back (GET_VRING_BASE). Stop must give up in time, cut the
 * connection before it reclaims the buffers, and leave nothing out.
 */
static int
bad_at_stop(int mode)
{
	struct timing t = { 0 };
	struct mprobe mp;
	int64_t cpu0, frags, xs[3], disc0, tmo0, perr0;
	uint64_t t_start;
	uint16_t port;
	int tid, ret;

	if (port_running(&port, &tid) != TEST_SUCCESS)
		return TEST_FAILED;
	disc0 = vf_xstat(port, "vhost_disconnects");
	tmo0 = vf_xstat(port, "vhost_timeouts");
	perr0 = vf_xstat(port, "vhost_protocol_errors");
	cpu0 = thread_cpu_ms(tid);
	t_start = pfrag_test_now_ms();
	STORE(fk.mode, mode);
	TEST_ASSERT_SUCCESS(mprobe_start(&mp, &fk.stalled), "malloc thread");
	ret = stop_close_measured(port, tid, cpu0, t_start, &t, &frags, xs);
	pthread_join(mp.thread, NULL);
	TEST_ASSERT_SUCCESS(ret, "stop returns 0 whatever the backend does");
	TEST_ASSERT(LOAD(fk.stalled), "the backend misbehaved (%s)", mode_names[mode]);
	ret = check_timing(mode_names[mode], &t, &mp);
	if (ret != TEST_SUCCESS)
		goto out;
	printf("  %s: vhost_disconnects +%" PRId64 ", vhost_timeouts +%" PRId64
	       ", vhost_protocol_errors +%" PRId64 ", fragments+pages out after stop %" PRId64
	       "\n", mode_names[mode], xs[0] - disc0, xs[1] - tmo0, xs[2] - perr0, frags);
	TEST_ASSERT(xs[0] > disc0, "%s: stop reclaimed the rings without cutting the "
		    "connection of a backend that never gave them back", mode_names[mode]);
	if (mode == FK_MISMATCH)
		TEST_ASSERT(xs[2] > perr0, "mismatched reply counted as a protocol error");
	else
		TEST_ASSERT(xs[1] > tmo0, "missed deadline counted as a timeout");
	TEST_ASSERT_EQUAL(frags, 0, "no fragment or page out after stop");
	ret = works_again();
out:
	fake_stop();
	return ret;
}

static int
test_never_answers(void)
{
	return bad_at_stop(FK_SILENT);
}

static int
test_slow_bytes(void)
{
	return bad_at_stop(FK_SLOW);
}

static int
test_mismatched_reply(void)
{
	return bad_at_stop(FK_MISMATCH);
}

/*
 * Bytes nobody asked for, once the port runs: a protocol error, the
 * connection is cut (counted) and the control thread stays idle; the port
 * reconnects to the (now good) backend and carries traffic again.
 */
static int
test_junk(void)
{
	struct timing t = { 0 };
	struct mprobe mp;
	int64_t cpu0, cpu1, frags, xs[3], disc0, perr0;
	uint64_t t_start, t1;
	uint16_t port;
	int tid, ret, conns;

	if (port_running(&port, &tid) != TEST_SUCCESS)
		return TEST_FAILED;
	disc0 = vf_xstat(port, "vhost_disconnects");
	perr0 = vf_xstat(port, "vhost_protocol_errors");
	conns = LOAD(fk.conns);
	cpu0 = thread_cpu_ms(tid);
	t_start = pfrag_test_now_ms();
	STORE(fk.send_junk, 1);
	usleep(1000 * 1000);
	cpu1 = thread_cpu_ms(tid);
	t1 = pfrag_test_now_ms();
	printf("  junk after the handshake: control thread CPU %" PRId64 " ms over %" PRIu64
	       " ms; vhost_disconnects +%" PRId64 ", vhost_protocol_errors +%" PRId64 "\n",
	       cpu1 - cpu0, t1 - t_start, vf_xstat(port, "vhost_disconnects") - disc0,
	       vf_xstat(port, "vhost_protocol_errors") - perr0);
	if ((uint64_t)(cpu1 - cpu0) * 100 > (t1 - t_start) * CTRL_CPU_MAX_PCT) {
		printf("junk: the control thread spins\n");
		ret = TEST_FAILED;
	} else if (vf_xstat(port, "vhost_protocol_errors") <= perr0 ||
		   vf_xstat(port, "vhost_disconnects") <= disc0) {
		printf("junk: not counted as a protocol error with a disconnect\n");
		ret = TEST_FAILED;
	} else if (wait_until(&fk.conns, conns + 1, 3000) != 0) {
		printf("junk: the port did not reconnect\n");
		ret = TEST_FAILED;
	} else {
		/* Same port, new connection: traffic flows again. */
		ret = traffic(port, 0);
	}
	if (ret != TEST_SUCCESS) {
		vf_port_dump(port);
		rte_eth_dev_close(port);
		rte_vdev_uninit(CTRL_NAME);
		fake_stop();
		return TEST_FAILED;
	}
	TEST_ASSERT_SUCCESS(mprobe_start(&mp, NULL), "malloc thread");
	cpu0 = thread_cpu_ms(tid);
	ret = stop_close_measured(port, tid, cpu0, pfrag_test_now_ms(), &t, &frags, xs);
	pthread_join(mp.thread, NULL);
	ret = ret == 0 ? check_timing("junk after the handshake", &t, &mp) : TEST_FAILED;
	if (ret == TEST_SUCCESS && frags != 0) {
		printf("fragments or pages out after stop: %" PRId64 "\n", frags);
		ret = TEST_FAILED;
	}
	if (ret == TEST_SUCCESS)
		ret = works_again();
	fake_stop();
	return ret;
}

/*
 * The backend goes away and a listener that never accepts, its backlog
 * full, takes its socket: the port's reconnect must not block in connect().
 */
static int
test_never_accepts(void)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	int lfd, fill[8], nfill = 0, tid, ret;
	struct timing t = { 0 };
	int64_t cpu0, frags, xs[3];
	struct mprobe mp;
	uint64_t t_start;
	char args[256];
	uint16_t port;

	TEST_ASSERT_SUCCESS(fake_start(ctrl_sock), "fake backend");
	client_args(args, sizeof(args), "");
	ret = port_up(args, 1, &port);
	if (ret != 0) {
		fake_stop();
		return TEST_FAILED;
	}
	tid = ctl_tid(port);
	fake_stop();
	/* Backlog 0: one pending connection fits, the next one would wait. */
	strlcpy(un.sun_path, ctrl_sock, sizeof(un.sun_path));
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	TEST_ASSERT(lfd >= 0 && bind(lfd, (struct sockaddr *)&un, sizeof(un)) == 0 &&
		    listen(lfd, 0) == 0, "listener that never accepts");
	while (nfill < (int)RTE_DIM(fill)) {
		fill[nfill] = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
		if (connect(fill[nfill], (struct sockaddr *)&un, sizeof(un)) < 0) {
			close(fill[nfill]);
			break;
		}
		nfill++;
	}
	printf("  listener with a full backlog (%d pending connections)\n", nfill);
	TEST_ASSERT(nfill > 0 && nfill < (int)RTE_DIM(fill), "backlog filled");
	TEST_ASSERT_SUCCESS(vf_wait_link(port, 0, 3000), "link down after the backend left");
	cpu0 = thread_cpu_ms(tid);
	t_start = pfrag_test_now_ms();
	/* The control thread retries every second: let it try at least once. */
	usleep(1500 * 1000);
	TEST_ASSERT_SUCCESS(mprobe_start(&mp, NULL), "malloc thread");
	ret = stop_close_measured(port, tid, cpu0, t_start, &t, &frags, xs);
	pthread_join(mp.thread, NULL);
	while (nfill > 0)
		close(fill[--nfill]);
	close(lfd);
	unlink(ctrl_sock);
	TEST_ASSERT_SUCCESS(ret, "stop");
	ret = check_timing("never accepts (backlog full)", &t, &mp);
	if (ret != TEST_SUCCESS)
		return ret;
	TEST_ASSERT_EQUAL(frags, 0, "no fragment or page out after stop");
	TEST_ASSERT_SUCCESS(fake_start(ctrl_sock), "fake backend");
	ret = works_again();
	fake_stop();
	return ret;
}

/*
 * Queues and features on (re)connect, server mode, two queue pairs:
 * a rejected backend leaves nothing behind; the backend learns
 * VIRTIO_NET_F_MQ (vhost-user) but the driver, without a control queue,
 * never negotiates it; a backend with fewer queue pairs than the port runs is
 * refused, and a good one carries both pairs.
 */
static int
test_queues_features(void)
{
	struct rte_eth_dev_info info;
	struct virtio_frag_hw *hw;
	char args[256];
	uint16_t port;
	int ret, eofs;

	snprintf(args, sizeof(args), "path=%s,server=1,queues=2,queue_size=%u", ctrl_sock,
		 CTRL_RING);
	TEST_ASSERT_SUCCESS(rte_vdev_init(CTRL_NAME, args), "server-mode port");
	TEST_ASSERT_SUCCESS(rte_eth_dev_get_port_by_name(CTRL_NAME, &port), "port");
	TEST_ASSERT_SUCCESS(fake_start(NULL), "fake backend");
	ret = TEST_FAILED;

	/* 1: a backend without VERSION_1, offering one queue pair: refused. */
	fk.features = fake_good_features() & ~VFRAG_BIT(VFRAG_F_VERSION_1);
	fk.queue_num = 1;
	eofs = LOAD(fk.eofs);
	if (fake_connect(ctrl_sock) != 0 || wait_until(&fk.eofs, eofs + 1, 3000) != 0) {
		printf("a backend without VERSION_1 was not refused\n");
		goto out;
	}
	if (rte_eth_dev_info_get(port, &info) != 0 || info.max_rx_queues != 2) {
		printf("max_rx_queues %u after a refused 1-queue backend: its queue count "
		       "was kept\n", info.max_rx_queues);
		goto out;
	}
	if (port_setup(port, 2) != 0 || rte_eth_dev_start(port) != 0) {
		printf("start without a backend failed: the refused backend's features "
		       "were kept\n");
		goto out;
	}

	/* 2: a good backend with two queue pairs. */
	fk.features = fake_good_features();
	fk.queue_num = 2;
	if (fake_connect(ctrl_sock) != 0 || traffic(port, 0) != 0 || traffic(port, 1) != 0)
		goto out;
	hw = rte_eth_devices[port].data->dev_private;
	printf("  backend got features %#" PRIx64 ", driver negotiated %#" PRIx64 "\n",
	       LOAD(fk.set_features), hw->features);
	if (!(LOAD(fk.set_features) & VFRAG_BIT(VFRAG_NET_F_MQ)) ||
	    (LOAD(fk.set_features) & VFRAG_BIT(FK_NET_F_CTRL_VQ))) {
		printf("the vhost-user backend must get VIRTIO_NET_F_MQ (else it drops the "
		       "second pair), never CTRL_VQ\n");
		goto out;
	}
	if ((hw->features & VFRAG_BIT(VFRAG_NET_F_MQ)) &&
	    !(hw->features & VFRAG_BIT(FK_NET_F_CTRL_VQ))) {
		printf("driver negotiated VIRTIO_NET_F_MQ without VIRTIO_NET_F_CTRL_VQ\n");
		goto out;
	}

	/* 3: it goes; a backend with one queue pair comes: refused, rings kept. */
	STORE(fk.drop, 1);
	if (vf_wait_link(port, 0, 3000) != 0)
		goto out;
	fk.queue_num = 1;
	eofs = LOAD(fk.eofs);
	if (fake_connect(ctrl_sock) != 0 || wait_until(&fk.eofs, eofs + 1, 3000) != 0 ||
	    (LOAD(fk.addr_mask) & 0xc) != 0) {
		printf("a backend with 1 queue pair was given the port's 2 pairs (vrings "
		       "%#x)\n", LOAD(fk.addr_mask));
		goto out;
	}
	if (vf_xstat(port, "vhost_disconnects") < 1)
		goto out;

	/* 4: a good one again: both pairs carry traffic. */
	fk.queue_num = 2;
	if (fake_connect(ctrl_sock) != 0 || traffic(port, 0) != 0 || traffic(port, 1) != 0)
		goto out;
	ret = rte_eth_dev_stop(port) == 0 && port_frags_out(port) == 0 ?
		TEST_SUCCESS : TEST_FAILED;
out:
	if (ret != TEST_SUCCESS)
		vf_port_dump(port);
	rte_eth_dev_close(port);
	rte_vdev_uninit(CTRL_NAME);
	fake_stop();
	unlink(ctrl_sock);
	return ret;
}

/* ---- close from the link-state callback ---- */

static struct {
	volatile int armed;
	volatile int closed;
	int ret;
} lsc;

static int
lsc_close_cb(uint16_t port, enum rte_eth_event_type type __rte_unused,
	     void *arg __rte_unused, void *ret_param __rte_unused)
{
	struct rte_eth_link link;

	if (!lsc.armed || rte_eth_link_get_nowait(port, &link) != 0 || link.link_status)
		return 0;
	lsc.armed = 0;
	/* What an application does when its backend goes: drop the port. */
	lsc.ret = rte_eth_dev_stop(port);
	if (lsc.ret == 0)
		lsc.ret = rte_eth_dev_close(port);
	STORE(lsc.closed, 1);
	return 0;
}

static int
test_close_from_lsc_callback(void)
{
	char args[256];
	uint16_t port;
	int tid, ret;

	TEST_ASSERT_SUCCESS(fake_start(ctrl_sock), "fake backend");
	client_args(args, sizeof(args), "");
	ret = port_up(args, 1, &port);
	if (ret != 0) {
		fake_stop();
		return TEST_FAILED;
	}
	tid = ctl_tid(port);
	TEST_ASSERT(tid > 0, "control thread found");
	memset(&lsc, 0, sizeof(lsc));
	TEST_ASSERT_SUCCESS(rte_eth_dev_callback_register(port, RTE_ETH_EVENT_INTR_LSC,
							  lsc_close_cb, NULL), "callback");
	lsc.armed = 1;
	STORE(fk.drop, 1);
	ret = wait_until((const int *)&lsc.closed, 1, VFRAG_CTRL_BOUND_MS);
	printf("  rte_eth_dev_stop() + rte_eth_dev_close() from the link-down callback: %s, "
	       "returned %d\n",
	       ret == 0 ? "done" : "not done", lsc.ret);
	TEST_ASSERT_SUCCESS(ret, "close from the callback returned");
	TEST_ASSERT_SUCCESS(lsc.ret, "close from the callback succeeded");
	TEST_ASSERT(thread_gone(tid, VFRAG_CTRL_BOUND_MS),
		    "the control thread still runs after its port was closed");
	TEST_ASSERT(!rte_eth_dev_is_valid_port(port), "port released");
	rte_vdev_uninit(CTRL_NAME);
	ret = works_again();
	fake_stop();
	return ret;
}

static int
ctrl_setup(void)
{
	if (!pfrag_test_have_hugepages()) {
		pfrag_test_skip_reason("vhost-user shares hugepage memory: needs hugepages");
		return TEST_SKIPPED;
	}
	TEST_ASSERT_SUCCESS(pfrag_test_tmpdir(ctrl_dir, sizeof(ctrl_dir)), "tmpdir");
	snprintf(ctrl_sock, sizeof(ctrl_sock), "%s/ctrl.sock", ctrl_dir);
	ctrl_mp = rte_pktmbuf_pool_create("vf_ctrl_mp", 2047, 32, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					  rte_socket_id());
	TEST_ASSERT_NOT_NULL(ctrl_mp, "mbuf pool");
	TEST_ASSERT_SUCCESS(rte_mem_event_callback_register("vf_ctrl_test", count_mem_event,
							    NULL), "memory event callback");
	return TEST_SUCCESS;
}

static void
ctrl_teardown(void)
{
	rte_mem_event_callback_unregister("vf_ctrl_test", NULL);
	rte_mempool_free(ctrl_mp);
	pfrag_test_rmdir(ctrl_dir);
}

static const struct unit_test_suite ctrl_suite = {
	.name = "virtio_frag control path under bad backends",
	.setup = ctrl_setup,
	.teardown = ctrl_teardown,
	.cases = {
		TEST_CASE(test_never_answers),
		TEST_CASE(test_slow_bytes),
		TEST_CASE(test_mismatched_reply),
		TEST_CASE(test_junk),
		TEST_CASE(test_never_accepts),
		TEST_CASE(test_queues_features),
		TEST_CASE(test_close_from_lsc_callback),
		TEST_CASES_END(),
	},
};

static int
test_virtio_frag_ctrl(void)
{
	printf("bounds: a reply within %u ms, an operation within %u ms; stop and close "
	       "within %u ms each\n", VFRAG_CTRL_REPLY_MS, VFRAG_CTRL_OP_MS,
	       VFRAG_CTRL_BOUND_MS);
	return unit_test_suite_runner(&ctrl_suite);
}

PFRAG_TEST_REGISTER(virtio_frag_ctrl_autotest, FAST, PFRAG_TEST_HUGE, test_virtio_frag_ctrl);

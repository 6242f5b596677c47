/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * virtio-user transport: the device is a vhost-user backend behind a unix
 * socket. Config space, status and MAC are emulated here; features, rings
 * and memory are handed to the backend. The transport remembers what the
 * driver asked for (features, rings, DRIVER_OK) and replays it whenever a
 * backend connects, so a restarted backend picks up where the rings are.
 *
 * A control thread per port watches the connection: in server mode it
 * accepts backends, in client mode it reconnects after a loss.
 *
 * The backend is untrusted, so nothing waits on it without a deadline: a
 * reply must be complete VFRAG_CTRL_REPLY_MS after its request and an
 * operation (connect + handshake + ring set-up, or stop) ends
 * VFRAG_CTRL_OP_MS after it began; sends never wait. A backend that misses a
 * deadline, answers something else or sends bytes nobody asked for loses its
 * connection (counted: vhost_timeouts, vhost_protocol_errors).
 *
 * Locks:
 * - dev->lock, the port's lock, serialises exchanges with the backend (send
 *   a request, read its reply) from any thread. It may be held while a reply
 *   is awaited, never past the operation's deadline.
 * - dev->conn_lock guards the socket (connfd, which vrings are live, whether
 *   a memory table went out) and is held only around calls that do not wait.
 * - EAL's memory hotplug lock is held only to build and send a memory table,
 *   never while waiting for a reply: rte_malloc() on any thread needs it (for
 *   writing) whenever the heap grows or shrinks. The memory event callback
 *   runs under it and so takes conn_lock only, never dev->lock.
 * Order: dev->lock, then the hotplug lock, then conn_lock. Only holders of
 * dev->lock close the socket; others shut it down and let them see the end.
 */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <rte_eal_memconfig.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "vhost_user.h"
#include "virtio_user.h"

#define VU_POLL_MS        100
#define VU_RECONNECT_MS   1000

/* Features the frontend emulates itself; never sent to the backend. */
#define VU_EMULATED (VFRAG_BIT(VFRAG_NET_F_MAC) | VFRAG_BIT(VFRAG_NET_F_STATUS))

#define VU_NB_VRINGS (VFRAG_MAX_QUEUE_PAIRS * 2)

struct virtio_user_frag {
	struct virtio_frag_hw *hw;
	struct virtio_user_frag_args args;
	pthread_mutex_t lock;         /* the port's lock: one exchange at a time */
	pthread_mutex_t conn_lock;    /* connfd, conn_gen, live, table_sent */
	pthread_t thread;
	int thread_ok;
	volatile int quit;
	int self_close;               /* closed from this thread's own callback */
	int listenfd;
	int connfd;
	uint32_t conn_gen;            /* changes whenever connfd does */
	uint32_t live;                /* vrings enabled on the backend, a bit each */
	int table_sent;               /* the backend has a memory table */
	uint64_t op_end;              /* deadline of the operation under dev->lock */
	uint64_t backend_features;    /* offer of the last backend accepted */
	uint64_t protocol_features;   /* negotiated with it */
	uint16_t backend_queues;      /* queue pairs it offers */
	uint64_t features;            /* negotiated with the driver */
	uint8_t status;
	int running;                  /* rings live on the backend */
	int mem_cb;                   /* memory event callback registered */
	char mem_cb_name[32];
	uint64_t connects;
	uint64_t disconnects;
	uint64_t timeouts;
	uint64_t protocol_errors;
	struct virtio_frag_vq *vqs[VU_NB_VRINGS];
};

static inline struct virtio_user_frag *
vu(struct virtio_frag_hw *hw)
{
	return hw->transport;
}

static const char *
vu_path(const struct virtio_user_frag *dev)
{
	return dev->hw != NULL ? dev->args.path : "(closed)";
}

/* Take the port's lock for one operation: it ends VFRAG_CTRL_OP_MS from now. */
static void
vu_lock(struct virtio_user_frag *dev)
{
	pthread_mutex_lock(&dev->lock);
	dev->op_end = vhost_user_now_ms() + VFRAG_CTRL_OP_MS;
}

static void
vu_unlock(struct virtio_user_frag *dev)
{
	pthread_mutex_unlock(&dev->lock);
}

static int
vu_uses_protocol(const struct virtio_user_frag *dev)
{
	return (dev->backend_features & VFRAG_BIT(VFRAG_F_PROTOCOL_FEATURES)) != 0;
}

static int
vu_ack(const struct virtio_user_frag *dev)
{
	return (dev->protocol_features & (1ULL << VHOST_USER_PROTOCOL_F_REPLY_ACK)) != 0;
}

static void
vu_vring_state_msg(struct vhost_user_msg *msg, uint32_t req, uint32_t index, uint32_t num)
{
	memset(msg, 0, VHOST_USER_HDR_SIZE + sizeof(msg->payload.state));
	msg->request = req;
	msg->size = sizeof(struct vhost_user_vring_state);
	msg->payload.state.index = index;
	msg->payload.state.num = num;
}

/* Close the connection. Port lock held. */
static void
vu_disconnect(struct virtio_user_frag *dev)
{
	pthread_mutex_lock(&dev->conn_lock);
	if (dev->connfd >= 0) {
		close(dev->connfd);
		dev->connfd = -1;
		dev->conn_gen++;
		dev->disconnects++;
	}
	dev->live = 0;
	dev->table_sent = 0;
	pthread_mutex_unlock(&dev->conn_lock);
	dev->running = 0;
}

/* Use @p fd as the connection. Port lock held. */
static void
vu_install(struct virtio_user_frag *dev, int fd)
{
	pthread_mutex_lock(&dev->conn_lock);
	dev->connfd = fd;
	dev->conn_gen++;
	dev->live = 0;
	dev->table_sent = 0;
	pthread_mutex_unlock(&dev->conn_lock);
}

/*
 * An exchange failed: the stream is no longer in step with our requests, so
 * the connection goes (the backend then stops using our rings and memory, if
 * it behaves). Counted and logged. Port lock held; returns @p err.
 */
static int
vu_fail(struct virtio_user_frag *dev, uint32_t req, int err)
{
	if (dev->connfd < 0 || err == -ENOTCONN)
		return err;
	if (err == -ETIMEDOUT) {
		dev->timeouts++;
		VFRAG_LOG(ERR, "%s: no complete answer to vhost-user request %u in time: "
			  "closing the connection", vu_path(dev), req);
	} else if (err == -EPROTO) {
		dev->protocol_errors++;
		VFRAG_LOG(ERR, "%s: bad answer to vhost-user request %u: closing the "
			  "connection", vu_path(dev), req);
	} else if (err != -ECANCELED) {
		VFRAG_LOG(ERR, "%s: vhost-user request %u: %s: closing the connection",
			  vu_path(dev), req, strerror(-err));
	}
	vu_disconnect(dev);
	return err;
}

/* Send without waiting. Port lock held. */
static int
vu_send(struct virtio_user_frag *dev, struct vhost_user_msg *msg, const int *fds, int nfds)
{
	int ret;

	pthread_mutex_lock(&dev->conn_lock);
	ret = dev->connfd < 0 ? -ENOTCONN : vhost_user_send(dev->connfd, msg, fds, nfds);
	pthread_mutex_unlock(&dev->conn_lock);
	return ret < 0 ? vu_fail(dev, msg->request, ret) : 0;
}

/* Read the reply to @p req (@p size bytes) by the reply and operation deadlines. */
static int
vu_reply(struct virtio_user_frag *dev, uint32_t req, uint32_t size, struct vhost_user_msg *msg)
{
	uint64_t deadline = RTE_MIN(vhost_user_now_ms() + VFRAG_CTRL_REPLY_MS, dev->op_end);
	int ret;

	if (dev->connfd < 0)
		return -ENOTCONN;
	ret = vhost_user_recv_reply(dev->connfd, req, size, msg, deadline, &dev->quit);
	return ret < 0 ? vu_fail(dev, req, ret) : 0;
}

/* REPLY_ACK: 0 from the backend means done. */
static int
vu_wait_ack(struct virtio_user_frag *dev, uint32_t req)
{
	struct vhost_user_msg msg;
	int ret;

	ret = vu_reply(dev, req, sizeof(uint64_t), &msg);
	if (ret == 0 && msg.payload.u64 != 0) {
		VFRAG_LOG(ERR, "%s: backend refused vhost-user request %u", vu_path(dev), req);
		ret = -EIO;
	}
	return ret;
}

/* Request carrying a u64 (or nothing), optionally acknowledged. */
static int
vu_request(struct virtio_user_frag *dev, uint32_t req, uint64_t v, int with_payload, int ack)
{
	struct vhost_user_msg msg = { .request = req };
	int ret;

	if (with_payload) {
		msg.size = sizeof(uint64_t);
		msg.payload.u64 = v;
	}
	if (ack)
		msg.flags = VHOST_USER_NEED_REPLY;
	ret = vu_send(dev, &msg, NULL, 0);
	if (ret < 0 || !ack)
		return ret;
	return vu_wait_ack(dev, req);
}

/* GET_* request answered by a u64. */
static int
vu_get_u64(struct virtio_user_frag *dev, uint32_t req, uint64_t *v)
{
	struct vhost_user_msg msg = { .request = req };
	int ret;

	ret = vu_send(dev, &msg, NULL, 0);
	if (ret == 0)
		ret = vu_reply(dev, req, sizeof(uint64_t), &msg);
	if (ret == 0)
		*v = msg.payload.u64;
	return ret;
}

static int
vu_vring_state(struct virtio_user_frag *dev, uint32_t req, uint32_t index, uint32_t num)
{
	struct vhost_user_msg msg;

	vu_vring_state_msg(&msg, req, index, num);
	return vu_send(dev, &msg, NULL, 0);
}

static int
vu_vring_fd(struct virtio_user_frag *dev, uint32_t req, uint32_t index, int efd)
{
	struct vhost_user_msg msg = {
		.request = req,
		.size = sizeof(uint64_t),
		.payload.u64 = index,
	};

	return vu_send(dev, &msg, &efd, 1);
}

/*
 * The memory table. Built and sent under the hotplug lock (read), so no
 * memory event can slip between the walk and the send: tables reach the
 * backend in the order memory changed. The ack is awaited after the lock is
 * released. Port lock held.
 */
static int
vu_send_mem_table(struct virtio_user_frag *dev)
{
	int fds[VHOST_USER_MAX_REGIONS], n, ret;
	struct vhost_user_msg msg;

	rte_mcfg_mem_read_lock();
	n = vhost_user_mem_table(&msg, fds);
	if (n < 0) {
		rte_mcfg_mem_read_unlock();
		VFRAG_LOG(ERR, "%s: no memory table for the backend: %s", vu_path(dev),
			  strerror(-n));
		return n;
	}
	if (vu_ack(dev))
		msg.flags = VHOST_USER_NEED_REPLY;
	pthread_mutex_lock(&dev->conn_lock);
	ret = dev->connfd < 0 ? -ENOTCONN : vhost_user_send(dev->connfd, &msg, fds, n);
	if (ret == 0)
		dev->table_sent = 1;
	pthread_mutex_unlock(&dev->conn_lock);
	rte_mcfg_mem_read_unlock();
	if (ret < 0)
		return vu_fail(dev, VHOST_USER_SET_MEM_TABLE, ret);
	return vu_ack(dev) ? vu_wait_ack(dev, VHOST_USER_SET_MEM_TABLE) : 0;
}

/* Queue pairs the port's rings span. */
static unsigned int
vu_pairs_used(const struct virtio_user_frag *dev)
{
	unsigned int i, pairs = 0;

	for (i = 0; i < RTE_DIM(dev->vqs); i++)
		if (dev->vqs[i] != NULL)
			pairs = i / 2 + 1;
	return pairs;
}

/* Enable every ring on the backend (protocol features: rings start disabled). */
static int
vu_enable_rings(struct virtio_user_frag *dev)
{
	struct vhost_user_msg msg;
	unsigned int i;
	int ret = 0;

	/* Under conn_lock with the sends: a memory event sees all of them live or none. */
	pthread_mutex_lock(&dev->conn_lock);
	for (i = 0; i < RTE_DIM(dev->vqs) && ret == 0; i++) {
		if (dev->vqs[i] == NULL)
			continue;
		vu_vring_state_msg(&msg, VHOST_USER_SET_VRING_ENABLE, i, 1);
		ret = dev->connfd < 0 ? -ENOTCONN : vhost_user_send(dev->connfd, &msg, NULL, 0);
		if (ret == 0)
			dev->live |= 1u << i;
	}
	pthread_mutex_unlock(&dev->conn_lock);
	return ret < 0 ? vu_fail(dev, VHOST_USER_SET_VRING_ENABLE, ret) : 0;
}

/* Hand every ring to the backend and let it run. Port lock held, connected. */
static int
vu_start_backend(struct virtio_user_frag *dev)
{
	uint64_t want = dev->features & ~VU_EMULATED;
	unsigned int pairs = vu_pairs_used(dev), i;
	struct vhost_user_msg msg;
	struct virtio_frag_vq *vq;
	int ret;

	if (pairs > dev->backend_queues) {
		VFRAG_LOG(ERR, "%s: backend offers %u queue pairs, the port runs %u",
			  vu_path(dev), dev->backend_queues, pairs);
		return -ENOTSUP;
	}
	/*
	 * More than one pair: vhost-user backends need VIRTIO_NET_F_MQ to keep
	 * them (DPDK's vhost library drops the others without it) and turn
	 * pairs on and off with SET_VRING_ENABLE, as for QEMU and DPDK's
	 * virtio-user. The control queue that MQ needs in virtio stays ours:
	 * the driver has none and never negotiates MQ with the transport.
	 */
	if (pairs > 1)
		want |= VFRAG_BIT(VFRAG_NET_F_MQ);
	if ((want & dev->backend_features) != want) {
		VFRAG_LOG(ERR, "%s: backend lacks negotiated features %#" PRIx64,
			  vu_path(dev), want & ~dev->backend_features);
		return -ENOTSUP;
	}
	if (vu_uses_protocol(dev))
		want |= VFRAG_BIT(VFRAG_F_PROTOCOL_FEATURES);
	ret = vu_request(dev, VHOST_USER_SET_FEATURES, want, 1, 0);
	if (ret == 0)
		ret = vu_send_mem_table(dev);
	for (i = 0; i < RTE_DIM(dev->vqs) && ret == 0; i++) {
		vq = dev->vqs[i];
		if (vq != NULL)
			ret = vu_vring_fd(dev, VHOST_USER_SET_VRING_CALL, i, vq->callfd);
	}
	for (i = 0; i < RTE_DIM(dev->vqs) && ret == 0; i++) {
		vq = dev->vqs[i];
		if (vq == NULL)
			continue;
		ret = vu_vring_state(dev, VHOST_USER_SET_VRING_NUM, i, vq->nb_desc);
		/*
		 * Resume where the previous backend stopped: entries it never
		 * completed are still posted and will be processed again. Its
		 * used index is checked first: a bogus one is not replayed.
		 */
		if (ret == 0)
			ret = vu_vring_state(dev, VHOST_USER_SET_VRING_BASE, i,
					     virtio_frag_vq_resume_idx(vq));
		if (ret < 0)
			break;
		memset(&msg, 0, sizeof(msg));
		msg.request = VHOST_USER_SET_VRING_ADDR;
		msg.size = sizeof(struct vhost_user_vring_addr);
		msg.payload.addr.index = i;
		msg.payload.addr.desc = (uint64_t)(uintptr_t)vq->vr.desc;
		msg.payload.addr.avail = (uint64_t)(uintptr_t)vq->vr.avail;
		msg.payload.addr.used = (uint64_t)(uintptr_t)vq->vr.used;
		ret = vu_send(dev, &msg, NULL, 0);
		if (ret == 0)
			ret = vu_vring_fd(dev, VHOST_USER_SET_VRING_KICK, i, vq->kickfd);
	}
	if (ret == 0 && vu_uses_protocol(dev))
		ret = vu_enable_rings(dev);
	if (ret < 0) {
		VFRAG_LOG(ERR, "%s: starting the backend failed: %s", vu_path(dev),
			  strerror(-ret));
		return ret;
	}
	dev->running = 1;
	for (i = 0; i < RTE_DIM(dev->vqs); i++)
		if (dev->vqs[i] != NULL && dev->vqs[i]->kickfd >= 0)
			eventfd_write(dev->vqs[i]->kickfd, 1);
	VFRAG_LOG(INFO, "%s: backend running, features %#" PRIx64 ", %u queue pair(s)",
		  vu_path(dev), want, pairs);
	return 0;
}

/*
 * Take the rings back: after GET_VRING_BASE the backend no longer touches
 * them. A backend that does not give a ring back in time, or answers
 * something else, loses its connection here, before the caller reclaims the
 * buffers. What that buys: a vhost-user backend stops its rings and unmaps
 * our memory when the socket closes (DPDK's vhost library, QEMU's backends),
 * so it no longer writes into fragments once its teardown is done. A hostile
 * backend keeps its mappings of the shared memory whatever we do: vhost-user
 * has no way to revoke them. Port lock held; bounded by the operation.
 */
static void
vu_stop_backend(struct virtio_user_frag *dev)
{
	struct vhost_user_msg msg;
	unsigned int i;
	int ret;

	if (!dev->running || dev->connfd < 0) {
		dev->running = 0;
		return;
	}
	dev->running = 0;
	/* A memory event from now on must not enable these rings again. */
	pthread_mutex_lock(&dev->conn_lock);
	dev->live = 0;
	pthread_mutex_unlock(&dev->conn_lock);
	for (i = 0; i < RTE_DIM(dev->vqs); i++) {
		if (dev->vqs[i] == NULL)
			continue;
		ret = 0;
		if (vu_uses_protocol(dev))
			ret = vu_vring_state(dev, VHOST_USER_SET_VRING_ENABLE, i, 0);
		if (ret == 0)
			ret = vu_vring_state(dev, VHOST_USER_GET_VRING_BASE, i, 0);
		if (ret == 0)
			ret = vu_reply(dev, VHOST_USER_GET_VRING_BASE,
				       sizeof(struct vhost_user_vring_state), &msg);
		if (ret == 0 && msg.payload.state.index != i)
			ret = vu_fail(dev, VHOST_USER_GET_VRING_BASE, -EPROTO);
		if (ret < 0) {
			VFRAG_LOG(WARNING, "%s: vring %u not given back (%s): connection "
				  "closed before its buffers are reclaimed", vu_path(dev), i,
				  strerror(-ret));
			return;
		}
	}
}

/*
 * A backend is on the line: learn what it offers, then replay the driver.
 * Its offer replaces the previous backend's only once it is accepted; a
 * refused backend leaves nothing behind. Port lock held.
 */
static int
vu_handshake(struct virtio_user_frag *dev)
{
	uint64_t old_features = dev->backend_features, old_pf = dev->protocol_features;
	uint16_t old_queues = dev->backend_queues;
	uint64_t feat = 0, pf = 0, qn = 1;
	int ret;

	ret = vu_request(dev, VHOST_USER_SET_OWNER, 0, 0, 0);
	if (ret == 0)
		ret = vu_get_u64(dev, VHOST_USER_GET_FEATURES, &feat);
	if (ret == 0 && (feat & VFRAG_BIT(VFRAG_F_PROTOCOL_FEATURES))) {
		ret = vu_get_u64(dev, VHOST_USER_GET_PROTOCOL_FEATURES, &pf);
		pf &= (1ULL << VHOST_USER_PROTOCOL_F_MQ) |
			(1ULL << VHOST_USER_PROTOCOL_F_REPLY_ACK);
		if (ret == 0)
			ret = vu_request(dev, VHOST_USER_SET_PROTOCOL_FEATURES, pf, 1, 0);
		/* Queue pairs beyond the first need both the protocol and the net feature. */
		if (ret == 0 && (pf & (1ULL << VHOST_USER_PROTOCOL_F_MQ)) &&
		    (feat & VFRAG_BIT(VFRAG_NET_F_MQ)))
			ret = vu_get_u64(dev, VHOST_USER_GET_QUEUE_NUM, &qn);
	}
	if (ret == 0 && !(feat & VFRAG_BIT(VFRAG_F_VERSION_1))) {
		VFRAG_LOG(ERR, "%s: backend does not offer VERSION_1", vu_path(dev));
		ret = -ENOTSUP;
	}
	if (ret == 0 && qn == 0) {
		VFRAG_LOG(ERR, "%s: backend offers 0 queue pairs", vu_path(dev));
		dev->protocol_errors++;
		ret = -EPROTO;
	}
	if (ret == 0) {
		dev->backend_features = feat;
		dev->protocol_features = pf;
		dev->backend_queues = (uint16_t)RTE_MIN(qn, (uint64_t)VFRAG_MAX_QUEUE_PAIRS);
		if (dev->status & VFRAG_STATUS_DRIVER_OK)
			ret = vu_start_backend(dev);
	}
	if (ret < 0) {
		VFRAG_LOG(ERR, "%s: vhost-user backend refused: %s", vu_path(dev),
			  strerror(-ret));
		dev->backend_features = old_features;
		dev->protocol_features = old_pf;
		dev->backend_queues = old_queues;
		vu_disconnect(dev);
		return ret;
	}
	dev->connects++;
	return 0;
}

/*
 * Connect without blocking: a listener whose backlog is full makes connect()
 * wait forever otherwise. A socket fd, or -EAGAIN (backlog full), -errno.
 */
static int
vu_connect_fd(const char *path)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	struct pollfd pfd;
	socklen_t len = sizeof(int);
	int fd, err = 0;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	strlcpy(un.sun_path, path, sizeof(un.sun_path));
	if (connect(fd, (struct sockaddr *)&un, sizeof(un)) == 0)
		return fd;
	err = errno;
	if (err == EINPROGRESS) {
		pfd = (struct pollfd){ .fd = fd, .events = POLLOUT };
		if (poll(&pfd, 1, VFRAG_CTRL_REPLY_MS) == 1 &&
		    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0)
			return fd;
		if (err == EINPROGRESS)
			err = ETIMEDOUT;
	}
	close(fd);
	return -err;
}

/* Client mode at probe: a busy listener gets until the reply deadline. */
static int
vu_connect_probe(const char *path)
{
	uint64_t end = vhost_user_now_ms() + VFRAG_CTRL_REPLY_MS;
	int fd;

	while ((fd = vu_connect_fd(path)) == -EAGAIN && vhost_user_now_ms() < end)
		usleep(10000);
	return fd;
}

static int
vu_listen(struct virtio_user_frag *dev)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, probe;

	strlcpy(un.sun_path, dev->args.path, sizeof(un.sun_path));
	/* A socket file left by a process that is gone: take its place. */
	if (stat(un.sun_path, &st) == 0 && S_ISSOCK(st.st_mode)) {
		probe = vu_connect_fd(un.sun_path);
		if (probe >= 0 || probe == -EAGAIN) {
			if (probe >= 0)
				close(probe);
			VFRAG_LOG(ERR, "%s: another process is listening on this socket",
				  un.sun_path);
			return -EADDRINUSE;
		}
		unlink(un.sun_path);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&un, sizeof(un)) < 0 || listen(fd, 1) < 0) {
		int err = -errno;

		VFRAG_LOG(ERR, "%s: cannot listen: %s", un.sun_path, strerror(errno));
		close(fd);
		return err;
	}
	dev->listenfd = fd;
	return 0;
}

/* No backend: accept one (server) or reconnect (client). 1 when one was tried. */
static int
vu_try_connect(struct virtio_user_frag *dev, uint64_t *next_try)
{
	struct pollfd pfd;
	int fd;

	if (dev->listenfd >= 0) {
		pfd = (struct pollfd){ .fd = dev->listenfd, .events = POLLIN };
		if (poll(&pfd, 1, VU_POLL_MS) <= 0)
			return 0;
		fd = accept4(dev->listenfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0) {
			/* Out of fds or such: do not spin on a listener that stays readable. */
			usleep(VU_POLL_MS * 1000);
			return 0;
		}
	} else {
		usleep(VU_POLL_MS * 1000);
		if (vhost_user_now_ms() < *next_try)
			return 0;
		*next_try = vhost_user_now_ms() + VU_RECONNECT_MS;
		fd = vu_connect_fd(dev->args.path);
		if (fd < 0)
			return 0;
	}
	vu_lock(dev);
	if (dev->quit) {
		vu_unlock(dev);
		close(fd);
		return 0;
	}
	vu_install(dev, fd);
	VFRAG_LOG(INFO, "%s: backend connected", vu_path(dev));
	vu_handshake(dev);
	vu_unlock(dev);
	return 1;
}

/*
 * Between exchanges the backend has nothing to say: readable bytes are a
 * protocol error, end of stream is a loss. Either way the connection goes.
 * Port lock held; 1 when it went.
 */
static int
vu_check_idle(struct virtio_user_frag *dev, uint32_t gen, short revents)
{
	ssize_t r;
	char c;

	if (dev->connfd < 0 || dev->conn_gen != gen)
		return 0;
	r = recv(dev->connfd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
	if (r > 0) {
		dev->protocol_errors++;
		VFRAG_LOG(ERR, "%s: backend sent bytes nobody asked for: closing the "
			  "connection, link down", vu_path(dev));
	} else if (r == 0 || (revents & (POLLHUP | POLLERR | POLLRDHUP)) ||
		   (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
		VFRAG_LOG(WARNING, "%s: backend disconnected, link down", vu_path(dev));
	} else {
		return 0;
	}
	vu_disconnect(dev);
	return 1;
}

static void
vu_free(struct virtio_user_frag *dev)
{
	pthread_mutex_destroy(&dev->conn_lock);
	pthread_mutex_destroy(&dev->lock);
	rte_free(dev);
}

static void *
vu_ctrl_thread(void *arg)
{
	struct virtio_user_frag *dev = arg;
	uint64_t next_try = 0;
	struct pollfd pfd;
	uint32_t gen;
	int lost;

	/*
	 * dev->hw is not touched once quit is set: a link callback may close
	 * the port from this thread, and the ethdev is gone when it returns.
	 */
	while (!dev->quit) {
		pthread_mutex_lock(&dev->conn_lock);
		pfd = (struct pollfd){ .fd = dev->connfd, .events = POLLIN | POLLRDHUP };
		gen = dev->conn_gen;
		pthread_mutex_unlock(&dev->conn_lock);
		if (pfd.fd < 0) {
			if (vu_try_connect(dev, &next_try) && !dev->quit)
				dev->hw->on_link_change(dev->hw);
			continue;
		}
		/* The fd may be closed meanwhile: the generation tells under the lock. */
		if (poll(&pfd, 1, VU_POLL_MS) <= 0)
			continue;
		vu_lock(dev);
		lost = vu_check_idle(dev, gen, pfd.revents);
		vu_unlock(dev);
		if (lost && !dev->quit)
			dev->hw->on_link_change(dev->hw);
	}
	if (dev->self_close)
		vu_free(dev);
	return NULL;
}

/*
 * EAL memory grew or shrank: the backend must see the new table before any
 * buffer in new memory reaches a ring. EAL calls this with the hotplug lock
 * held for writing (and a heap lock): every rte_malloc() that needs memory
 * waits for it to return, so it never waits on the backend. Sends do not
 * wait, no ack is asked for, and the port's lock is not taken (its holder
 * may be waiting for a reply). A table that cannot be sent shuts the
 * connection down; the control thread then closes it.
 */
static void
vu_mem_event(enum rte_mem_event type __rte_unused, const void *addr, size_t len __rte_unused,
	     void *arg)
{
	struct virtio_user_frag *dev = arg;
	int fds[VHOST_USER_MAX_REGIONS], n, ret = 0;
	const struct rte_memseg_list *msl;
	struct vhost_user_msg msg;
	unsigned int i;

	msl = rte_mem_virt2memseg_list(addr);
	if (msl != NULL && msl->external)
		return;
	pthread_mutex_lock(&dev->conn_lock);
	if (dev->connfd < 0 || !dev->table_sent)
		goto out;
	/* Pause the rings so that no copy runs against the old table. */
	for (i = 0; i < VU_NB_VRINGS && ret == 0; i++) {
		if (!(dev->live & (1u << i)))
			continue;
		vu_vring_state_msg(&msg, VHOST_USER_SET_VRING_ENABLE, i, 0);
		ret = vhost_user_send(dev->connfd, &msg, NULL, 0);
	}
	if (ret == 0) {
		n = vhost_user_mem_table(&msg, fds);
		ret = n < 0 ? n : vhost_user_send(dev->connfd, &msg, fds, n);
	}
	for (i = 0; i < VU_NB_VRINGS && ret == 0; i++) {
		if (!(dev->live & (1u << i)))
			continue;
		vu_vring_state_msg(&msg, VHOST_USER_SET_VRING_ENABLE, i, 1);
		ret = vhost_user_send(dev->connfd, &msg, NULL, 0);
	}
	if (ret < 0) {
		VFRAG_LOG(ERR, "%s: memory table update not sent (%s): link down",
			  vu_path(dev), strerror(-ret));
		shutdown(dev->connfd, SHUT_RDWR);
	}
out:
	pthread_mutex_unlock(&dev->conn_lock);
}

static int
vu_link_ok(struct virtio_frag_hw *hw)
{
	struct virtio_user_frag *dev = vu(hw);

	return __atomic_load_n(&dev->connfd, __ATOMIC_RELAXED) >= 0 &&
		__atomic_load_n(&dev->running, __ATOMIC_RELAXED);
}

static int
vu_write_dev_cfg(struct virtio_frag_hw *hw, size_t offset, const void *src, int len)
{
	/* The MAC is ours to choose: vhost-user has no config space for it. */
	if (offset == 0 && len == RTE_ETHER_ADDR_LEN) {
		memcpy(hw->mac.addr_bytes, src, len);
		return 0;
	}
	return -ENOTSUP;
}

static int
vu_set_status(struct virtio_frag_hw *hw, uint8_t status)
{
	struct virtio_user_frag *dev = vu(hw);
	int ret = 0;

	vu_lock(dev);
	if (status == 0) {
		vu_stop_backend(dev);
		memset(dev->vqs, 0, sizeof(dev->vqs));
	} else if ((status & VFRAG_STATUS_DRIVER_OK) &&
		   !(dev->status & VFRAG_STATUS_DRIVER_OK) && dev->connfd >= 0) {
		ret = vu_start_backend(dev);
		if (ret < 0)
			vu_disconnect(dev);
	}
	dev->status = status;
	vu_unlock(dev);
	/* No backend yet is not an error: the set-up replays when one connects. */
	return ret;
}

static uint64_t
vu_get_features(struct virtio_frag_hw *hw)
{
	struct virtio_user_frag *dev = vu(hw);

	/*
	 * Without a backend (server mode, none connected yet), offer what any
	 * vhost-user net backend does; the connect check refuses a poorer one.
	 */
	if (dev->backend_features == 0)
		return VFRAG_BIT(VFRAG_F_VERSION_1) | VFRAG_BIT(VFRAG_NET_F_MRG_RXBUF) |
			VU_EMULATED;
	/*
	 * MQ is the transport's business (vu_start_backend): the driver has no
	 * control queue, and virtio makes VIRTIO_NET_F_MQ depend on one.
	 */
	return (dev->backend_features & ~(VFRAG_BIT(VFRAG_F_PROTOCOL_FEATURES) |
					  VFRAG_BIT(VFRAG_NET_F_MQ))) | VU_EMULATED;
}

static int
vu_set_features(struct virtio_frag_hw *hw, uint64_t features)
{
	vu(hw)->features = features;
	return 0;
}

static uint16_t
vu_get_queue_num(struct virtio_frag_hw *hw)
{
	struct virtio_user_frag *dev = vu(hw);

	return dev->backend_features != 0 ? dev->backend_queues : VFRAG_MAX_QUEUE_PAIRS;
}

static int
vu_setup_queue(struct virtio_frag_hw *hw, struct virtio_frag_vq *vq)
{
	struct virtio_user_frag *dev = vu(hw);

	if (vq->kickfd < 0)
		vq->kickfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vq->callfd < 0)
		vq->callfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vq->kickfd < 0 || vq->callfd < 0)
		return -errno;
	pthread_mutex_lock(&dev->lock);
	dev->vqs[vq->vq_index] = vq;
	pthread_mutex_unlock(&dev->lock);
	return 0;
}

static void
vu_del_queue(struct virtio_frag_hw *hw, struct virtio_frag_vq *vq)
{
	struct virtio_user_frag *dev = vu(hw);

	/* After close the transport is gone: only the eventfds are left. */
	if (dev != NULL) {
		pthread_mutex_lock(&dev->lock);
		if (dev->vqs[vq->vq_index] == vq)
			dev->vqs[vq->vq_index] = NULL;
		pthread_mutex_unlock(&dev->lock);
	}
	if (vq->kickfd >= 0)
		close(vq->kickfd);
	if (vq->callfd >= 0)
		close(vq->callfd);
	vq->kickfd = -1;
	vq->callfd = -1;
}

static void
vu_notify_queue(struct virtio_frag_hw *hw __rte_unused, struct virtio_frag_vq *vq)
{
	if (vq->kickfd >= 0)
		eventfd_write(vq->kickfd, 1);
}

/*
 * Ends the control thread and the connection. Bounded: the socket is shut
 * down first, so an exchange in progress on the control thread ends at once.
 * Called from that thread itself (the application closed the port in a
 * link-state callback), it cannot join itself: it is detached and frees the
 * transport when the callback has returned.
 */
static void
vu_dev_close(struct virtio_frag_hw *hw)
{
	struct virtio_user_frag *dev = vu(hw);
	int self;

	if (dev == NULL)
		return;
	dev->quit = 1;
	pthread_mutex_lock(&dev->conn_lock);
	if (dev->connfd >= 0)
		shutdown(dev->connfd, SHUT_RDWR);
	pthread_mutex_unlock(&dev->conn_lock);
	if (dev->mem_cb)
		rte_mem_event_callback_unregister(dev->mem_cb_name, dev);
	self = dev->thread_ok && pthread_equal(pthread_self(), dev->thread);
	if (dev->thread_ok && !self)
		pthread_join(dev->thread, NULL);
	pthread_mutex_lock(&dev->lock);
	vu_disconnect(dev);
	pthread_mutex_unlock(&dev->lock);
	if (dev->listenfd >= 0) {
		close(dev->listenfd);
		unlink(dev->args.path);
	}
	hw->transport = NULL;
	dev->hw = NULL;
	if (self) {
		VFRAG_LOG(DEBUG, "%s: closed from its control thread: it exits after the "
			  "callback", dev->args.path);
		pthread_detach(dev->thread);
		dev->self_close = 1;
		return;
	}
	vu_free(dev);
}

/* Connection counters, in xstats after the common ones. */
static const char *const vu_xstat_names[] = {
	"vhost_connects",
	"vhost_disconnects",
	"vhost_timeouts",
	"vhost_protocol_errors",
};

static void
vu_xstats_get(struct virtio_frag_hw *hw, uint64_t *values)
{
	struct virtio_user_frag *dev = vu(hw);

	RTE_BUILD_BUG_ON(RTE_DIM(vu_xstat_names) > VFRAG_MAX_TRANSPORT_XSTATS);
	memset(values, 0, sizeof(*values) * RTE_DIM(vu_xstat_names));
	if (dev == NULL)
		return;
	values[0] = dev->connects;
	values[1] = dev->disconnects;
	values[2] = dev->timeouts;
	values[3] = dev->protocol_errors;
}

const struct virtio_frag_ops virtio_user_frag_ops = {
	.name = "virtio-user",
	.write_dev_cfg = vu_write_dev_cfg,
	.set_status = vu_set_status,
	.get_features = vu_get_features,
	.set_features = vu_set_features,
	.get_queue_num = vu_get_queue_num,
	.setup_queue = vu_setup_queue,
	.del_queue = vu_del_queue,
	.notify_queue = vu_notify_queue,
	.link_ok = vu_link_ok,
	.dev_close = vu_dev_close,
	.nb_xstats = RTE_DIM(vu_xstat_names),
	.xstat_names = vu_xstat_names,
	.xstats_get = vu_xstats_get,
};

int
virtio_user_frag_init(struct virtio_frag_hw *hw, const struct virtio_user_frag_args *ua)
{
	struct virtio_user_frag *dev;
	char name[RTE_MAX_THREAD_NAME_LEN];
	int ret;

	dev = rte_zmalloc("virtio_user_frag", sizeof(*dev), 0);
	if (dev == NULL)
		return -ENOMEM;
	dev->hw = hw;
	dev->args = *ua;
	dev->listenfd = -1;
	dev->connfd = -1;
	pthread_mutex_init(&dev->lock, NULL);
	pthread_mutex_init(&dev->conn_lock, NULL);
	hw->transport = dev;

	if (dev->args.server) {
		ret = vu_listen(dev);
		if (ret < 0)
			goto fail;
		VFRAG_LOG(INFO, "%s: waiting for a vhost-user backend (server mode)",
			  dev->args.path);
	} else {
		ret = vu_connect_probe(dev->args.path);
		if (ret < 0) {
			VFRAG_LOG(ERR, "%s: cannot connect to a vhost-user backend: %s "
				  "(start the backend first, or use server=1)",
				  dev->args.path, strerror(-ret));
			goto fail;
		}
		vu_lock(dev);
		vu_install(dev, ret);
		ret = vu_handshake(dev);
		vu_unlock(dev);
		if (ret < 0)
			goto fail;
	}
	snprintf(dev->mem_cb_name, sizeof(dev->mem_cb_name), "vfrag_mem_%u",
		 hw->eth_dev->data->port_id);
	if (rte_mem_event_callback_register(dev->mem_cb_name, vu_mem_event, dev) == 0)
		dev->mem_cb = 1;
	else
		VFRAG_LOG(WARNING, "%s: no memory event callback (%s): memory allocated "
			  "after start is not shared with the backend", dev->args.path,
			  rte_strerror(rte_errno));
	snprintf(name, sizeof(name), "vfrag-ctl-%u", hw->eth_dev->data->port_id);
	ret = rte_ctrl_thread_create(&dev->thread, name, NULL, vu_ctrl_thread, dev);
	if (ret != 0) {
		ret = -ret;
		goto fail;
	}
	dev->thread_ok = 1;
	return 0;
fail:
	vu_dev_close(hw);
	return ret;
}

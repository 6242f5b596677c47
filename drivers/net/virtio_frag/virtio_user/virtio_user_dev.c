/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * virtio-user transport: the device is a vhost-user backend behind a unix
 * socket. Config space, status and MAC are emulated here; features, rings
 * and memory are handed to the backend. The transport remembers what the
 * driver asked for (features, rings, DRIVER_OK) and replays it whenever a
 * backend connects, so a restarted backend picks up where the rings are.
 *
 * A control thread per port watches the connection: in server mode it
 * accepts backends, in client mode it reconnects after a loss. Every message
 * exchange runs under the port's lock, from either thread.
 *
 * Lock order: EAL's memory hotplug lock, then the port's lock. A memory event
 * callback runs with the hotplug lock held and sends a new memory table, so
 * whoever may send one (start, reconnect) takes the hotplug lock first.
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

#include <rte_cycles.h>
#include <rte_eal_memconfig.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "../virtio_frag.h"
#include "vhost_user.h"

#define VU_POLL_MS        100
#define VU_RECONNECT_MS   1000
#define VU_REPLY_TIMEOUT  5      /* seconds a backend may take to answer */

/* Features the frontend emulates itself; never sent to the backend. */
#define VU_EMULATED (VFRAG_BIT(VFRAG_NET_F_MAC) | VFRAG_BIT(VFRAG_NET_F_STATUS))

struct virtio_user_frag {
	struct virtio_frag_hw *hw;
	pthread_mutex_t lock;
	pthread_t thread;
	int thread_ok;
	volatile int quit;
	int listenfd;
	int connfd;
	uint64_t backend_features;
	uint64_t protocol_features;   /* negotiated */
	uint16_t backend_queues;
	uint64_t features;            /* negotiated with the driver */
	uint8_t status;
	int running;                  /* rings live on the backend */
	int mem_cb;                   /* memory event callback registered */
	char mem_cb_name[32];
	uint64_t connects;
	uint64_t disconnects;
	struct virtio_frag_vq *vqs[VFRAG_MAX_QUEUE_PAIRS * 2];
};

static inline struct virtio_user_frag *
vu(struct virtio_frag_hw *hw)
{
	return hw->transport;
}

static void
vu_lock(struct virtio_user_frag *dev)
{
	rte_mcfg_mem_read_lock();
	pthread_mutex_lock(&dev->lock);
}

static void
vu_unlock(struct virtio_user_frag *dev)
{
	pthread_mutex_unlock(&dev->lock);
	rte_mcfg_mem_read_unlock();
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

static int
vu_vring_state(int fd, uint32_t req, uint32_t index, uint32_t num)
{
	struct vhost_user_msg msg = {
		.request = req,
		.size = sizeof(struct vhost_user_vring_state),
		.payload.state = { .index = index, .num = num },
	};

	return vhost_user_send(fd, &msg, NULL, 0);
}

static int
vu_vring_fd(int fd, uint32_t req, uint32_t index, int efd)
{
	struct vhost_user_msg msg = {
		.request = req,
		.size = sizeof(uint64_t),
		.payload.u64 = index,
	};

	return vhost_user_send(fd, &msg, &efd, 1);
}

/* Hand every ring to the backend and let it run. Lock held, connected. */
static int
vu_start_backend(struct virtio_user_frag *dev)
{
	uint64_t want = dev->features & ~VU_EMULATED;
	struct vhost_user_msg msg;
	struct virtio_frag_vq *vq;
	unsigned int i;
	int fd = dev->connfd, ret;

	if ((want & dev->backend_features) != want) {
		VFRAG_LOG(ERR, "%s: backend lacks negotiated features %#" PRIx64,
			  dev->hw->args.path, want & ~dev->backend_features);
		return -ENOTSUP;
	}
	if (vu_uses_protocol(dev))
		want |= VFRAG_BIT(VFRAG_F_PROTOCOL_FEATURES);
	ret = vhost_user_u64(fd, VHOST_USER_SET_FEATURES, want, 1, 0);
	if (ret < 0)
		goto fail;
	ret = vhost_user_set_mem_table(fd, vu_ack(dev));
	if (ret < 0)
		goto fail;
	for (i = 0; i < RTE_DIM(dev->vqs); i++) {
		vq = dev->vqs[i];
		if (vq == NULL)
			continue;
		ret = vu_vring_fd(fd, VHOST_USER_SET_VRING_CALL, i, vq->callfd);
		if (ret < 0)
			goto fail;
	}
	for (i = 0; i < RTE_DIM(dev->vqs); i++) {
		vq = dev->vqs[i];
		if (vq == NULL)
			continue;
		ret = vu_vring_state(fd, VHOST_USER_SET_VRING_NUM, i, vq->nb_desc);
		if (ret < 0)
			goto fail;
		/*
		 * Resume where the previous backend stopped: entries it never
		 * completed are still posted and will be processed again.
		 */
		ret = vu_vring_state(fd, VHOST_USER_SET_VRING_BASE, i,
				     __atomic_load_n(&vq->vr.used->idx, __ATOMIC_ACQUIRE));
		if (ret < 0)
			goto fail;
		memset(&msg, 0, sizeof(msg));
		msg.request = VHOST_USER_SET_VRING_ADDR;
		msg.size = sizeof(struct vhost_user_vring_addr);
		msg.payload.addr.index = i;
		msg.payload.addr.desc = (uint64_t)(uintptr_t)vq->vr.desc;
		msg.payload.addr.avail = (uint64_t)(uintptr_t)vq->vr.avail;
		msg.payload.addr.used = (uint64_t)(uintptr_t)vq->vr.used;
		ret = vhost_user_send(fd, &msg, NULL, 0);
		if (ret < 0)
			goto fail;
		ret = vu_vring_fd(fd, VHOST_USER_SET_VRING_KICK, i, vq->kickfd);
		if (ret < 0)
			goto fail;
	}
	/* With protocol features, rings start disabled until enabled. */
	if (vu_uses_protocol(dev)) {
		for (i = 0; i < RTE_DIM(dev->vqs); i++) {
			if (dev->vqs[i] == NULL)
				continue;
			ret = vu_vring_state(fd, VHOST_USER_SET_VRING_ENABLE, i, 1);
			if (ret < 0)
				goto fail;
		}
	}
	dev->running = 1;
	for (i = 0; i < RTE_DIM(dev->vqs); i++)
		if (dev->vqs[i] != NULL && dev->vqs[i]->kickfd >= 0)
			eventfd_write(dev->vqs[i]->kickfd, 1);
	VFRAG_LOG(INFO, "%s: backend running, features %#" PRIx64,
		  dev->hw->args.path, want);
	return 0;
fail:
	VFRAG_LOG(ERR, "%s: starting the backend failed: %s", dev->hw->args.path,
		  strerror(-ret));
	return ret;
}

/* Take the rings back: after GET_VRING_BASE the backend no longer touches them. */
static void
vu_stop_backend(struct virtio_user_frag *dev)
{
	struct vhost_user_msg msg;
	unsigned int i;
	int fd = dev->connfd;

	if (!dev->running || fd < 0) {
		dev->running = 0;
		return;
	}
	for (i = 0; i < RTE_DIM(dev->vqs); i++) {
		if (dev->vqs[i] == NULL)
			continue;
		if (vu_uses_protocol(dev))
			vu_vring_state(fd, VHOST_USER_SET_VRING_ENABLE, i, 0);
		if (vu_vring_state(fd, VHOST_USER_GET_VRING_BASE, i, 0) < 0 ||
		    vhost_user_recv_reply(fd, VHOST_USER_GET_VRING_BASE, &msg) < 0)
			VFRAG_LOG(WARNING, "%s: vring %u: no answer to GET_VRING_BASE",
				  dev->hw->args.path, i);
	}
	dev->running = 0;
}

static void
vu_disconnect(struct virtio_user_frag *dev)
{
	if (dev->connfd >= 0) {
		close(dev->connfd);
		dev->connfd = -1;
		dev->disconnects++;
	}
	dev->running = 0;
}

/* A backend is on the line: learn what it offers, then replay the driver. */
static int
vu_handshake(struct virtio_user_frag *dev)
{
	struct timeval tv = { .tv_sec = VU_REPLY_TIMEOUT };
	uint64_t pf = 0, qn = 1;
	int fd = dev->connfd, ret;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	dev->protocol_features = 0;
	ret = vhost_user_u64(fd, VHOST_USER_SET_OWNER, 0, 0, 0);
	if (ret == 0)
		ret = vhost_user_get_u64(fd, VHOST_USER_GET_FEATURES, &dev->backend_features);
	if (ret == 0 && vu_uses_protocol(dev)) {
		ret = vhost_user_get_u64(fd, VHOST_USER_GET_PROTOCOL_FEATURES, &pf);
		pf &= (1ULL << VHOST_USER_PROTOCOL_F_MQ) |
			(1ULL << VHOST_USER_PROTOCOL_F_REPLY_ACK);
		if (ret == 0)
			ret = vhost_user_u64(fd, VHOST_USER_SET_PROTOCOL_FEATURES, pf, 1, 0);
		dev->protocol_features = pf;
		if (ret == 0 && (pf & (1ULL << VHOST_USER_PROTOCOL_F_MQ)))
			ret = vhost_user_get_u64(fd, VHOST_USER_GET_QUEUE_NUM, &qn);
	}
	if (ret < 0) {
		VFRAG_LOG(ERR, "%s: vhost-user handshake failed: %s", dev->hw->args.path,
			  strerror(-ret));
		return ret;
	}
	dev->backend_queues = (uint16_t)RTE_MIN(qn, (uint64_t)VFRAG_MAX_QUEUE_PAIRS);
	dev->connects++;
	if (!(dev->backend_features & VFRAG_BIT(VFRAG_F_VERSION_1))) {
		VFRAG_LOG(ERR, "%s: backend does not offer VERSION_1", dev->hw->args.path);
		return -ENOTSUP;
	}
	if (dev->status & VFRAG_STATUS_DRIVER_OK)
		return vu_start_backend(dev);
	return 0;
}

static int
vu_connect(struct virtio_user_frag *dev)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	int fd;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	strlcpy(un.sun_path, dev->hw->args.path, sizeof(un.sun_path));
	if (connect(fd, (struct sockaddr *)&un, sizeof(un)) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	dev->connfd = fd;
	return 0;
}

static int
vu_listen(struct virtio_user_frag *dev)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	struct stat st;
	int fd;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	strlcpy(un.sun_path, dev->hw->args.path, sizeof(un.sun_path));
	/* A socket file left by a process that is gone: take its place. */
	if (stat(un.sun_path, &st) == 0 && S_ISSOCK(st.st_mode) && vu_connect(dev) < 0)
		unlink(un.sun_path);
	if (dev->connfd >= 0) {
		close(dev->connfd);
		dev->connfd = -1;
		close(fd);
		VFRAG_LOG(ERR, "%s: another process is listening on this socket",
			  un.sun_path);
		return -EADDRINUSE;
	}
	if (bind(fd, (struct sockaddr *)&un, sizeof(un)) < 0 || listen(fd, 1) < 0) {
		int err = -errno;

		VFRAG_LOG(ERR, "%s: cannot listen: %s", un.sun_path, strerror(errno));
		close(fd);
		return err;
	}
	dev->listenfd = fd;
	return 0;
}

static void *
vu_ctrl_thread(void *arg)
{
	struct virtio_user_frag *dev = arg;
	uint64_t next_try = 0;
	struct pollfd pfd;
	int fd, lost = 0;
	char c;

	while (!dev->quit) {
		if (dev->connfd < 0) {
			if (dev->listenfd >= 0) {
				pfd = (struct pollfd){ .fd = dev->listenfd, .events = POLLIN };
				if (poll(&pfd, 1, VU_POLL_MS) <= 0)
					continue;
				fd = accept4(dev->listenfd, NULL, NULL, SOCK_CLOEXEC);
				if (fd < 0)
					continue;
				vu_lock(dev);
				dev->connfd = fd;
			} else {
				usleep(VU_POLL_MS * 1000);
				if (rte_get_timer_cycles() < next_try)
					continue;
				next_try = rte_get_timer_cycles() +
					rte_get_timer_hz() * VU_RECONNECT_MS / 1000;
				vu_lock(dev);
				if (vu_connect(dev) < 0) {
					vu_unlock(dev);
					continue;
				}
			}
			VFRAG_LOG(INFO, "%s: backend connected", dev->hw->args.path);
			if (vu_handshake(dev) < 0)
				vu_disconnect(dev);
			vu_unlock(dev);
			virtio_frag_link_changed(dev->hw);
			continue;
		}
		pfd = (struct pollfd){ .fd = dev->connfd, .events = POLLIN | POLLRDHUP };
		if (poll(&pfd, 1, VU_POLL_MS) <= 0)
			continue;
		pthread_mutex_lock(&dev->lock);
		/* Replies are read under the lock; what is left here is EOF or junk. */
		if (dev->connfd >= 0 &&
		    (recv(dev->connfd, &c, 1, MSG_PEEK | MSG_DONTWAIT) == 0 ||
		     (pfd.revents & (POLLHUP | POLLERR | POLLRDHUP)))) {
			VFRAG_LOG(WARNING, "%s: backend disconnected, link down",
				  dev->hw->args.path);
			vu_disconnect(dev);
			lost = 1;
		}
		pthread_mutex_unlock(&dev->lock);
		if (lost)
			virtio_frag_link_changed(dev->hw);
		lost = 0;
	}
	return NULL;
}

/*
 * EAL memory grew or shrank: the backend must see the new table before any
 * buffer in new memory reaches a ring. Called by EAL with the hotplug lock
 * held for writing, so the unlocked memseg walk is safe here.
 */
static void
vu_mem_event(enum rte_mem_event type __rte_unused, const void *addr __rte_unused,
	     size_t len __rte_unused, void *arg)
{
	struct virtio_user_frag *dev = arg;
	unsigned int i;
	int ret;

	pthread_mutex_lock(&dev->lock);
	if (dev->connfd < 0 || !dev->running)
		goto out;
	/* Pause the rings so that no copy runs against the old table. */
	if (vu_uses_protocol(dev))
		for (i = 0; i < RTE_DIM(dev->vqs); i++)
			if (dev->vqs[i] != NULL)
				vu_vring_state(dev->connfd, VHOST_USER_SET_VRING_ENABLE, i, 0);
	ret = vhost_user_set_mem_table(dev->connfd, vu_ack(dev));
	if (vu_uses_protocol(dev))
		for (i = 0; i < RTE_DIM(dev->vqs); i++)
			if (dev->vqs[i] != NULL)
				vu_vring_state(dev->connfd, VHOST_USER_SET_VRING_ENABLE, i, 1);
	if (ret < 0) {
		VFRAG_LOG(ERR, "%s: memory table update failed (%s): link down",
			  dev->hw->args.path, strerror(-ret));
		vu_disconnect(dev);
	}
out:
	pthread_mutex_unlock(&dev->lock);
}

static int
vu_read_dev_cfg(struct virtio_frag_hw *hw, size_t offset, void *dst, int len)
{
	struct virtio_user_frag *dev = vu(hw);
	uint8_t cfg[12];
	uint16_t v;

	/* virtio-net config: mac[6], status, max_virtqueue_pairs, mtu. */
	memcpy(cfg, hw->mac.addr_bytes, RTE_ETHER_ADDR_LEN);
	v = dev->connfd >= 0 && dev->running ? VFRAG_NET_S_LINK_UP : 0;
	memcpy(cfg + 6, &v, sizeof(v));
	v = dev->connfd >= 0 ? dev->backend_queues : VFRAG_MAX_QUEUE_PAIRS;
	memcpy(cfg + 8, &v, sizeof(v));
	memcpy(cfg + 10, &hw->mtu, sizeof(hw->mtu));
	if (len < 0 || offset + len > sizeof(cfg))
		return -EINVAL;
	memcpy(dst, cfg + offset, len);
	return 0;
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

static uint8_t
vu_get_status(struct virtio_frag_hw *hw)
{
	return vu(hw)->status;
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
	if (dev->connfd < 0 && dev->backend_features == 0)
		return VFRAG_BIT(VFRAG_F_VERSION_1) | VFRAG_BIT(VFRAG_NET_F_MRG_RXBUF) |
			VFRAG_BIT(VFRAG_NET_F_MQ) | VU_EMULATED;
	return (dev->backend_features & ~VFRAG_BIT(VFRAG_F_PROTOCOL_FEATURES)) |
		VU_EMULATED;
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

	pthread_mutex_lock(&dev->lock);
	if (dev->vqs[vq->vq_index] == vq)
		dev->vqs[vq->vq_index] = NULL;
	pthread_mutex_unlock(&dev->lock);
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

static int
vu_link_ok(struct virtio_frag_hw *hw)
{
	struct virtio_user_frag *dev = vu(hw);

	return dev->connfd >= 0 && dev->running;
}

static void
vu_dev_close(struct virtio_frag_hw *hw)
{
	struct virtio_user_frag *dev = vu(hw);

	if (dev == NULL)
		return;
	dev->quit = 1;
	if (dev->thread_ok)
		pthread_join(dev->thread, NULL);
	if (dev->mem_cb)
		rte_mem_event_callback_unregister(dev->mem_cb_name, dev);
	pthread_mutex_lock(&dev->lock);
	vu_stop_backend(dev);
	vu_disconnect(dev);
	pthread_mutex_unlock(&dev->lock);
	if (dev->listenfd >= 0) {
		close(dev->listenfd);
		unlink(hw->args.path);
	}
	pthread_mutex_destroy(&dev->lock);
	rte_free(dev);
	hw->transport = NULL;
}

const struct virtio_frag_ops virtio_user_frag_ops = {
	.name = "virtio-user",
	.read_dev_cfg = vu_read_dev_cfg,
	.write_dev_cfg = vu_write_dev_cfg,
	.get_status = vu_get_status,
	.set_status = vu_set_status,
	.get_features = vu_get_features,
	.set_features = vu_set_features,
	.get_queue_num = vu_get_queue_num,
	.setup_queue = vu_setup_queue,
	.del_queue = vu_del_queue,
	.notify_queue = vu_notify_queue,
	.link_ok = vu_link_ok,
	.dev_close = vu_dev_close,
};

/* Transport counters for xstats. */
void
virtio_user_frag_counters(struct virtio_frag_hw *hw, uint64_t *connects,
			  uint64_t *disconnects)
{
	struct virtio_user_frag *dev = vu(hw);

	*connects = dev != NULL ? dev->connects : 0;
	*disconnects = dev != NULL ? dev->disconnects : 0;
}

int
virtio_user_frag_init(struct virtio_frag_hw *hw)
{
	struct virtio_user_frag *dev;
	char name[RTE_MAX_THREAD_NAME_LEN];
	int ret;

	dev = rte_zmalloc("virtio_user_frag", sizeof(*dev), 0);
	if (dev == NULL)
		return -ENOMEM;
	dev->hw = hw;
	dev->listenfd = -1;
	dev->connfd = -1;
	pthread_mutex_init(&dev->lock, NULL);
	hw->transport = dev;
	hw->ops = &virtio_user_frag_ops;
	hw->use_va = 1;

	if (hw->args.server) {
		ret = vu_listen(dev);
		if (ret < 0)
			goto fail;
		VFRAG_LOG(INFO, "%s: waiting for a vhost-user backend (server mode)",
			  hw->args.path);
	} else {
		ret = vu_connect(dev);
		if (ret < 0) {
			VFRAG_LOG(ERR, "%s: cannot connect to a vhost-user backend: %s "
				  "(start the backend first, or use server=1)",
				  hw->args.path, strerror(-ret));
			goto fail;
		}
		ret = vu_handshake(dev);
		if (ret < 0)
			goto fail;
	}
	snprintf(dev->mem_cb_name, sizeof(dev->mem_cb_name), "vfrag_mem_%u",
		 hw->eth_dev->data->port_id);
	if (rte_mem_event_callback_register(dev->mem_cb_name, vu_mem_event, dev) == 0)
		dev->mem_cb = 1;
	else
		VFRAG_LOG(WARNING, "%s: no memory event callback (%s): memory allocated "
			  "after start is not shared with the backend", hw->args.path,
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

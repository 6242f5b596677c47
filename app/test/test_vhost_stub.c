/* SPDX-License-Identifier: BSD-3-Clause */

/* The in-process vhost-user backend of the virtio_frag claim tests. */

#include <errno.h>
#include <stddef.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <rte_common.h>

#include "test_vhost_stub.h"

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

int
vstub_recv(int fd, void *buf, size_t len)
{
	char control[CMSG_SPACE(VHOST_USER_MAX_FDS * sizeof(int))];
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

int
vstub_recv_msg(int fd, struct vhost_user_msg *m)
{
	if (vstub_recv(fd, m, VHOST_USER_HDR_SIZE) < 0)
		return -1;
	if (m->size > sizeof(m->payload))
		return -1;
	if (m->size > 0 && vstub_recv(fd, &m->payload, m->size) < 0)
		return -1;
	return 0;
}

int
vstub_reply(int fd, struct vhost_user_msg *m, const void *payload, uint32_t size)
{
	ssize_t len = VHOST_USER_HDR_SIZE + size;

	m->flags = VHOST_USER_VERSION | VHOST_USER_REPLY;
	m->size = size;
	memcpy(&m->payload, payload, size);
	return write(fd, m, len) == len ? 0 : -1;
}

/* One request from the frontend; -1 when the connection is gone. */
static int
stub_serve_one(struct vstub *s, int fd)
{
	struct vhost_user_msg m;
	struct vhost_user_vring_state st;
	struct vhost_user_vring_addr a;
	uint32_t u32;

	if (vstub_recv_msg(fd, &m) < 0)
		return -1;
	switch (m.request) {
	case VHOST_USER_GET_FEATURES:
		return vstub_reply(fd, &m, &s->features, sizeof(s->features));
	case VHOST_USER_SET_FEATURES:
		__atomic_store_n(&s->acked_features, m.payload.u64, __ATOMIC_RELEASE);
		break;
	case VHOST_USER_SET_MEM_TABLE:
		memcpy(&u32, &m.payload, sizeof(u32));
		__atomic_store_n(&s->last_nregions, u32, __ATOMIC_RELAXED);
		__atomic_add_fetch(&s->mem_tables, 1, __ATOMIC_RELEASE);
		break;
	case VHOST_USER_SET_VRING_NUM:
		memcpy(&st, &m.payload, sizeof(st));
		if (st.index < VSTUB_VRINGS)
			__atomic_store_n(&s->vring_num[st.index], st.num, __ATOMIC_RELEASE);
		break;
	case VHOST_USER_SET_VRING_BASE:
		memcpy(&st, &m.payload, sizeof(st));
		if (st.index < VSTUB_VRINGS) {
			/* Where the device resumes: its next avail and used index. */
			s->avail_seen[st.index] = (uint16_t)st.num;
			s->used_idx[st.index] = (uint16_t)st.num;
			__atomic_store_n(&s->vring_base[st.index], st.num, __ATOMIC_RELAXED);
			__atomic_add_fetch(&s->base_msgs[st.index], 1, __ATOMIC_RELEASE);
		}
		break;
	case VHOST_USER_SET_VRING_ADDR:
		memcpy(&a, &m.payload, sizeof(a));
		if (a.index < VSTUB_VRINGS) {
			s->desc[a.index] = (struct vring_desc *)(uintptr_t)a.desc;
			s->avail[a.index] = (struct vring_avail *)(uintptr_t)a.avail;
			s->used[a.index] = (struct vring_used *)(uintptr_t)a.used;
			__atomic_add_fetch(&s->nb_addr, 1, __ATOMIC_RELEASE);
		}
		break;
	case VHOST_USER_GET_VRING_BASE:
		memcpy(&st, &m.payload, sizeof(st));
		st.num = st.index < VSTUB_VRINGS ? s->used_idx[st.index] : 0;
		return vstub_reply(fd, &m, &st, sizeof(st));
	default:
		/* SET_OWNER, SET_VRING_KICK/CALL, ...: nothing to answer. */
		break;
	}
	return 0;
}

static void *
stub_thread(void *arg)
{
	struct vstub *s = arg;
	struct pollfd pfd;
	uint32_t n;
	int fd;

	while (!s->quit) {
		pfd = (struct pollfd){ .fd = s->listenfd, .events = POLLIN };
		if (poll(&pfd, 1, 50) <= 0)
			continue;
		fd = accept(s->listenfd, NULL, NULL);
		if (fd < 0)
			continue;
		n = __atomic_load_n(&s->accepts, __ATOMIC_RELAXED);
		if (n < VSTUB_MAX_ACCEPTS)
			s->accept_ns[n] = now_ns();
		__atomic_store_n(&s->accepts, n + 1, __ATOMIC_RELEASE);
		if (s->refuse) {
			close(fd);
			continue;
		}
		__atomic_store_n(&s->connfd, fd, __ATOMIC_RELEASE);
		while (!s->quit && stub_serve_one(s, fd) == 0)
			;
		__atomic_store_n(&s->connfd, -1, __ATOMIC_RELEASE);
		close(fd);
	}
	return NULL;
}

int
vstub_start(struct vstub *s, const char *path, uint64_t features)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };

	memset(s, 0, sizeof(*s));
	s->connfd = -1;
	s->features = features;
	snprintf(s->path, sizeof(s->path), "%s", path);
	snprintf(un.sun_path, sizeof(un.sun_path), "%s", path);
	s->listenfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s->listenfd < 0)
		return -errno;
	if (bind(s->listenfd, (struct sockaddr *)&un, sizeof(un)) < 0 ||
	    listen(s->listenfd, 4) < 0 ||
	    pthread_create(&s->thread, NULL, stub_thread, s) != 0) {
		close(s->listenfd);
		s->listenfd = -1;
		return -EIO;
	}
	s->thread_ok = 1;
	return 0;
}

void
vstub_drop(struct vstub *s)
{
	int fd = __atomic_load_n(&s->connfd, __ATOMIC_ACQUIRE);

	/* The stub thread sees EOF, closes its end and listens again. */
	if (fd >= 0)
		shutdown(fd, SHUT_RDWR);
}

void
vstub_stop(struct vstub *s)
{
	s->quit = 1;
	vstub_drop(s);
	if (s->thread_ok)
		pthread_join(s->thread, NULL);
	s->thread_ok = 0;
	if (s->listenfd >= 0) {
		close(s->listenfd);
		unlink(s->path);
	}
	s->listenfd = -1;
}

int
vstub_wait_addr(struct vstub *s, uint32_t n, unsigned int ms)
{
	unsigned int i;

	for (i = 0; i < ms / 10; i++) {
		if (__atomic_load_n(&s->nb_addr, __ATOMIC_ACQUIRE) >= n)
			return 0;
		usleep(10000);
	}
	return -ETIMEDOUT;
}

int
vstub_take(struct vstub *s, unsigned int vr, uint16_t *id, uint8_t **buf, uint32_t *len)
{
	struct vring_avail *av = s->avail[vr];
	uint32_t num = s->vring_num[vr];

	if (av == NULL || num == 0 ||
	    s->avail_seen[vr] == __atomic_load_n(&av->idx, __ATOMIC_ACQUIRE))
		return -1;
	*id = av->ring[s->avail_seen[vr]++ & (num - 1)];
	if (*id >= num)
		return -1;
	*buf = (uint8_t *)(uintptr_t)s->desc[vr][*id].addr;
	*len = s->desc[vr][*id].len;
	return 0;
}

void
vstub_used(struct vstub *s, unsigned int vr, uint32_t id, uint32_t len)
{
	struct vring_used *u = s->used[vr];
	uint32_t num = s->vring_num[vr];

	u->ring[s->used_idx[vr] & (num - 1)].id = id;
	u->ring[s->used_idx[vr] & (num - 1)].len = len;
	s->used_idx[vr]++;
	/* The entry is written before the index that hands it over. */
	__atomic_store_n(&u->idx, s->used_idx[vr], __ATOMIC_RELEASE);
}

int
vstub_rx_frame(struct vstub *s, unsigned int vr, uint32_t size, uint16_t num_buffers,
	       uint8_t seed)
{
	struct virtio_net_hdr_mrg *h;
	uint8_t *buf;
	uint32_t len, i;
	uint16_t id;

	if (vstub_take(s, vr, &id, &buf, &len) != 0 || size + VFRAG_HDR_LEN > len)
		return -1;
	h = (struct virtio_net_hdr_mrg *)buf;
	memset(h, 0, sizeof(*h));
	h->num_buffers = num_buffers;
	for (i = 0; i < size; i++)
		buf[VFRAG_HDR_LEN + i] = (uint8_t)(seed + i);
	vstub_used(s, vr, id, size + VFRAG_HDR_LEN);
	return id;
}

uint8_t
vstub_chain_byte(uint32_t pos, uint32_t chunk, uint8_t seed)
{
	uint32_t k = pos % chunk;

	/* Bytes 0..11 of every later buffer: zeros, num_buffers (offset 10) 1. */
	if (pos >= chunk && k < VFRAG_HDR_LEN)
		return k == offsetof(struct virtio_net_hdr_mrg, num_buffers) ? 1 : 0;
	return (uint8_t)(seed + pos);
}

int
vstub_rx_chain(struct vstub *s, unsigned int vr, unsigned int nbufs, uint32_t chunk,
	       uint16_t num_buffers, uint8_t seed)
{
	struct virtio_net_hdr_mrg *h;
	uint16_t ids[256];
	uint32_t lens[256], i, k;
	uint8_t *bufs[256], *data;

	if (nbufs == 0 || nbufs > RTE_DIM(ids) || chunk < VFRAG_HDR_LEN)
		return -1;
	for (i = 0; i < nbufs; i++)
		if (vstub_take(s, vr, &ids[i], &bufs[i], &lens[i]) != 0 ||
		    chunk + VFRAG_HDR_LEN > lens[i])
			return -1;
	for (i = 0; i < nbufs; i++) {
		/* The header is in the first buffer only; later ones are all data. */
		data = bufs[i];
		if (i == 0) {
			h = (struct virtio_net_hdr_mrg *)bufs[0];
			memset(h, 0, sizeof(*h));
			h->num_buffers = num_buffers;
			data += VFRAG_HDR_LEN;
		}
		for (k = 0; k < chunk; k++)
			data[k] = vstub_chain_byte(i * chunk + k, chunk, seed);
	}
	for (i = 0; i < nbufs; i++)
		vstub_used(s, vr, ids[i], chunk + (i == 0 ? VFRAG_HDR_LEN : 0));
	return (int)(nbufs * chunk);
}

int
vstub_rx_packet(struct vstub *s, unsigned int vr, uint32_t size, uint8_t seed)
{
	struct virtio_net_hdr_mrg *h;
	uint32_t lens[128], fill[128], off = 0, k, room, n = 0;
	uint16_t ids[128];
	uint8_t *bufs[128], *data;

	if (size == 0)
		return -1;
	bufs[0] = NULL;
	while (off < size) {
		if (n == RTE_DIM(ids) || vstub_take(s, vr, &ids[n], &bufs[n], &lens[n]) != 0)
			return -1;
		room = lens[n] - (n == 0 ? VFRAG_HDR_LEN : 0);
		fill[n] = RTE_MIN(room, size - off);
		data = bufs[n] + (n == 0 ? VFRAG_HDR_LEN : 0);
		for (k = 0; k < fill[n]; k++)
			data[k] = (uint8_t)(seed + off + k);
		off += fill[n];
		n++;
	}
	h = (struct virtio_net_hdr_mrg *)bufs[0];
	memset(h, 0, sizeof(*h));
	h->num_buffers = (uint16_t)n;
	for (k = 0; k < n; k++)
		vstub_used(s, vr, ids[k], fill[k] + (k == 0 ? VFRAG_HDR_LEN : 0));
	return (int)n;
}

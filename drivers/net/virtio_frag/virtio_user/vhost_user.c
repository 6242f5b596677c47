/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * vhost-user messages of the frontend. Each exchange is synchronous: send a
 * request, and for GET_* requests (or with REPLY_ACK) read the one reply.
 * The caller serialises exchanges on a connection. Nothing here waits past
 * a deadline: sends never wait, replies are read against a deadline for the
 * whole reply, not for each recv().
 */

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_memory.h>

#include "../virtio_frag.h"
#include "vhost_user.h"

/* A reply wait wakes this often to notice a cancel (port closing). */
#define VHOST_USER_POLL_SLICE_MS 100

uint64_t
vhost_user_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int
vhost_user_send(int fd, struct vhost_user_msg *msg, const int *fds, int nfds)
{
	char control[CMSG_SPACE(VHOST_USER_MAX_FDS * sizeof(int))];
	struct iovec iov = {
		.iov_base = msg,
		.iov_len = VHOST_USER_HDR_SIZE + msg->size,
	};
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cmsg;
	ssize_t r;

	if (nfds > VHOST_USER_MAX_FDS)
		return -EINVAL;
	msg->flags |= VHOST_USER_VERSION;
	if (nfds > 0) {
		memset(control, 0, sizeof(control));
		mh.msg_control = control;
		mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		cmsg = CMSG_FIRSTHDR(&mh);
		cmsg->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		memcpy(CMSG_DATA(cmsg), fds, nfds * sizeof(int));
	}
	do {
		r = sendmsg(fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	if ((size_t)r != iov.iov_len)
		return -EIO;
	return 0;
}

static int
read_deadline(int fd, void *buf, size_t len, uint64_t deadline, const volatile int *cancel)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	uint8_t *p = buf;
	uint64_t now;
	ssize_t r;

	while (len > 0) {
		r = recv(fd, p, len, MSG_DONTWAIT);
		if (r > 0) {
			p += r;
			len -= r;
			continue;
		}
		if (r == 0)
			return -ECONNRESET;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -errno;
		if (cancel != NULL && *cancel)
			return -ECANCELED;
		now = vhost_user_now_ms();
		if (now >= deadline)
			return -ETIMEDOUT;
		if (poll(&pfd, 1, (int)RTE_MIN(deadline - now,
					      (uint64_t)VHOST_USER_POLL_SLICE_MS)) < 0 &&
		    errno != EINTR)
			return -errno;
	}
	return 0;
}

int
vhost_user_recv_reply(int fd, uint32_t req, uint32_t size, struct vhost_user_msg *msg,
		      uint64_t deadline, const volatile int *cancel)
{
	int ret;

	if (size > sizeof(msg->payload))
		return -EINVAL;
	ret = read_deadline(fd, msg, VHOST_USER_HDR_SIZE, deadline, cancel);
	if (ret < 0)
		return ret;
	/* Anything but the reply asked for: the payload that follows is unknown. */
	if (msg->request != req || !(msg->flags & VHOST_USER_REPLY) ||
	    (msg->flags & VHOST_USER_VERSION_MASK) != VHOST_USER_VERSION ||
	    msg->size != size) {
		VFRAG_LOG(ERR, "vhost-user reply does not match: request %u flags %#x size %u "
			  "(expected the reply to %u, %u bytes)", msg->request, msg->flags,
			  msg->size, req, size);
		return -EPROTO;
	}
	return read_deadline(fd, &msg->payload, size, deadline, cancel);
}

struct mem_walk {
	struct vhost_user_mem *mem;
	int fds[VHOST_USER_MAX_REGIONS];
	int err;
};

/*
 * One region per run of segments that are contiguous both in VA and in the
 * same backing file. With --single-file-segments a memseg list is one file,
 * so the whole EAL heap usually takes a region or two.
 */
static int
mem_walk_cb(const struct rte_memseg_list *msl, const struct rte_memseg *ms, void *arg)
{
	struct mem_walk *w = arg;
	struct vhost_user_mem *mem = w->mem;
	struct vhost_user_region *r;
	size_t offset;
	int fd;

	if (msl->external)
		return 0;
	fd = rte_memseg_get_fd_thread_unsafe(ms);
	if (fd < 0) {
		VFRAG_LOG(ERR, "EAL memory at %p has no file descriptor to share with the "
			  "vhost-user backend (hugepages are needed; not --no-huge)", ms->addr);
		w->err = -ENOTSUP;
		return -1;
	}
	if (rte_memseg_get_fd_offset_thread_unsafe(ms, &offset) < 0) {
		w->err = -ENOTSUP;
		return -1;
	}
	if (mem->nregions > 0) {
		r = &mem->regions[mem->nregions - 1];
		if (w->fds[mem->nregions - 1] == fd &&
		    r->user_addr + r->size == (uint64_t)(uintptr_t)ms->addr &&
		    r->mmap_offset + r->size == offset) {
			r->size += ms->len;
			return 0;
		}
	}
	if (mem->nregions == VHOST_USER_MAX_REGIONS) {
		VFRAG_LOG(ERR, "EAL memory needs more than %d vhost-user memory regions: "
			  "run the application with --single-file-segments",
			  VHOST_USER_MAX_REGIONS);
		w->err = -E2BIG;
		return -1;
	}
	r = &mem->regions[mem->nregions];
	/* virtio-user: the "guest physical" address is our virtual address. */
	r->guest_addr = (uint64_t)(uintptr_t)ms->addr;
	r->user_addr = r->guest_addr;
	r->size = ms->len;
	r->mmap_offset = offset;
	w->fds[mem->nregions++] = fd;
	return 0;
}

int
vhost_user_mem_table(struct vhost_user_msg *msg, int *fds)
{
	struct vhost_user_mem mem = { .nregions = 0 };
	struct mem_walk w = { .mem = &mem };

	/* Walk into an aligned copy: the message is packed. */
	if (rte_memseg_walk_thread_unsafe(mem_walk_cb, &w) < 0 || w.err != 0)
		return w.err != 0 ? w.err : -EINVAL;
	if (mem.nregions == 0)
		return -ENOMEM;
	memset(msg, 0, VHOST_USER_HDR_SIZE);
	msg->request = VHOST_USER_SET_MEM_TABLE;
	memcpy(&msg->payload.mem, &mem, sizeof(mem));
	memcpy(fds, w.fds, sizeof(int) * mem.nregions);
	msg->size = sizeof(uint32_t) * 2 + sizeof(struct vhost_user_region) * mem.nregions;
	return (int)mem.nregions;
}

/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * vhost-user messages of the frontend. Each exchange is synchronous: send a
 * request, and for GET_* requests (or with REPLY_ACK) read the one reply.
 * The caller serialises exchanges on a connection.
 */

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_memory.h>

#include "../virtio_frag.h"
#include "vhost_user.h"

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
		r = sendmsg(fd, &mh, MSG_NOSIGNAL);
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	if ((size_t)r != iov.iov_len)
		return -EIO;
	return 0;
}

static int
read_full(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;
	ssize_t r;

	while (len > 0) {
		r = recv(fd, p, len, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -ECONNRESET;
		p += r;
		len -= r;
	}
	return 0;
}

int
vhost_user_recv_reply(int fd, uint32_t req, struct vhost_user_msg *msg)
{
	int ret;

	ret = read_full(fd, msg, VHOST_USER_HDR_SIZE);
	if (ret < 0)
		return ret;
	if (msg->request != req || !(msg->flags & VHOST_USER_REPLY) ||
	    msg->size > sizeof(msg->payload)) {
		VFRAG_LOG(ERR, "unexpected vhost-user reply: request %u flags %#x size %u "
			  "(wanted reply to %u)", msg->request, msg->flags, msg->size, req);
		return -EPROTO;
	}
	return read_full(fd, &msg->payload, msg->size);
}

int
vhost_user_u64(int fd, uint32_t req, uint64_t v, int with_payload, int ack)
{
	struct vhost_user_msg msg = { .request = req };
	int ret;

	if (with_payload) {
		msg.size = sizeof(uint64_t);
		msg.payload.u64 = v;
	}
	if (ack)
		msg.flags = VHOST_USER_NEED_REPLY;
	ret = vhost_user_send(fd, &msg, NULL, 0);
	if (ret < 0 || !ack)
		return ret;
	ret = vhost_user_recv_reply(fd, req, &msg);
	if (ret < 0)
		return ret;
	return msg.payload.u64 == 0 ? 0 : -EIO;
}

int
vhost_user_get_u64(int fd, uint32_t req, uint64_t *v)
{
	struct vhost_user_msg msg = { .request = req };
	int ret;

	ret = vhost_user_send(fd, &msg, NULL, 0);
	if (ret < 0)
		return ret;
	ret = vhost_user_recv_reply(fd, req, &msg);
	if (ret < 0)
		return ret;
	if (msg.size != sizeof(uint64_t))
		return -EPROTO;
	*v = msg.payload.u64;
	return 0;
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
vhost_user_set_mem_table(int fd, int ack)
{
	/* The caller holds the memory hotplug lock (see vhost_user.h). */
	struct vhost_user_msg msg = { .request = VHOST_USER_SET_MEM_TABLE };
	struct vhost_user_mem mem = { .nregions = 0 };
	struct mem_walk w = { .mem = &mem };
	int ret;

	if (rte_memseg_walk_thread_unsafe(mem_walk_cb, &w) < 0 || w.err != 0)
		return w.err != 0 ? w.err : -EINVAL;
	if (mem.nregions == 0)
		return -ENOMEM;
	memcpy(&msg.payload.mem, &mem, sizeof(mem));
	msg.size = sizeof(uint32_t) * 2 +
		sizeof(struct vhost_user_region) * msg.payload.mem.nregions;
	if (ack)
		msg.flags = VHOST_USER_NEED_REPLY;
	ret = vhost_user_send(fd, &msg, w.fds, msg.payload.mem.nregions);
	if (ret < 0 || !ack)
		return ret;
	ret = vhost_user_recv_reply(fd, VHOST_USER_SET_MEM_TABLE, &msg);
	if (ret < 0)
		return ret;
	return msg.payload.u64 == 0 ? 0 : -EIO;
}

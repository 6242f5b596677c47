/* SPDX-License-Identifier: BSD-3-Clause */

#ifndef _VFRAG_VHOST_USER_H_
#define _VFRAG_VHOST_USER_H_

/**
 * @file
 * Frontend side of the vhost-user protocol (QEMU docs/interop/vhost-user):
 * messages over a unix socket, file descriptors passed as SCM_RIGHTS.
 * Only what a virtio-net frontend with split rings needs.
 */

#include <stdint.h>

#define VHOST_USER_MAX_REGIONS 8
#define VHOST_USER_MAX_FDS     8

enum vhost_user_req {
	VHOST_USER_GET_FEATURES = 1,
	VHOST_USER_SET_FEATURES = 2,
	VHOST_USER_SET_OWNER = 3,
	VHOST_USER_RESET_OWNER = 4,
	VHOST_USER_SET_MEM_TABLE = 5,
	VHOST_USER_SET_VRING_NUM = 8,
	VHOST_USER_SET_VRING_ADDR = 9,
	VHOST_USER_SET_VRING_BASE = 10,
	VHOST_USER_GET_VRING_BASE = 11,
	VHOST_USER_SET_VRING_KICK = 12,
	VHOST_USER_SET_VRING_CALL = 13,
	VHOST_USER_GET_PROTOCOL_FEATURES = 15,
	VHOST_USER_SET_PROTOCOL_FEATURES = 16,
	VHOST_USER_GET_QUEUE_NUM = 17,
	VHOST_USER_SET_VRING_ENABLE = 18,
};

/* Protocol feature bits we use. */
#define VHOST_USER_PROTOCOL_F_MQ        0
#define VHOST_USER_PROTOCOL_F_REPLY_ACK 3

/* Header flags. */
#define VHOST_USER_VERSION    0x1
#define VHOST_USER_REPLY      0x4
#define VHOST_USER_NEED_REPLY 0x8

/* SET_VRING_KICK/CALL payload: no fd attached. */
#define VHOST_USER_VRING_NOFD (1ULL << 8)

struct vhost_user_vring_state {
	uint32_t index;
	uint32_t num;
};

struct vhost_user_vring_addr {
	uint32_t index;
	uint32_t flags;
	uint64_t desc;
	uint64_t used;
	uint64_t avail;
	uint64_t log;
};

struct vhost_user_region {
	uint64_t guest_addr;
	uint64_t size;
	uint64_t user_addr;
	uint64_t mmap_offset;
};

struct vhost_user_mem {
	uint32_t nregions;
	uint32_t padding;
	struct vhost_user_region regions[VHOST_USER_MAX_REGIONS];
};

struct vhost_user_msg {
	uint32_t request;
	uint32_t flags;
	uint32_t size;   /* payload bytes that follow the 12-byte header */
	union {
		uint64_t u64;
		struct vhost_user_vring_state state;
		struct vhost_user_vring_addr addr;
		struct vhost_user_mem mem;
	} payload;
} __attribute__((packed));

#define VHOST_USER_HDR_SIZE 12u

/* Flag bits of the header: the low two carry the version. */
#define VHOST_USER_VERSION_MASK 0x3

/** Milliseconds on CLOCK_MONOTONIC: the time base of every deadline here. */
uint64_t vhost_user_now_ms(void);

/**
 * Send @p msg with @p nfds descriptors, never waiting: the socket is
 * non-blocking, and a message that does not fit at once means the backend
 * stopped reading its socket (-EAGAIN, or -EIO when only part went out).
 * Either way the stream is broken: the caller drops the connection.
 */
int vhost_user_send(int fd, struct vhost_user_msg *msg, const int *fds, int nfds);

/**
 * Receive the reply to request @p req carrying @p size payload bytes,
 * complete by @p deadline (vhost_user_now_ms() time): -ETIMEDOUT past it,
 * however the bytes trickle in; -EPROTO when the header is not that reply
 * (the stream is then out of step); -ECONNRESET at end of stream;
 * -ECANCELED as soon as *@p cancel is set. The caller drops the connection
 * on any error.
 */
int vhost_user_recv_reply(int fd, uint32_t req, uint32_t size, struct vhost_user_msg *msg,
			  uint64_t deadline, const volatile int *cancel);

/**
 * Build SET_MEM_TABLE from every EAL segment backed by a file into @p msg and
 * its descriptors into @p fds (VHOST_USER_MAX_REGIONS); the number of fds, or
 * -E2BIG (too many regions), -ENOTSUP (memory without a file). The caller
 * holds the memory hotplug lock until the message is sent: the descriptors
 * belong to EAL.
 */
int vhost_user_mem_table(struct vhost_user_msg *msg, int *fds);

#endif /* _VFRAG_VHOST_USER_H_ */

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

/** Send @p msg with @p nfds descriptors; 0 or a negative errno. */
int vhost_user_send(int fd, struct vhost_user_msg *msg, const int *fds, int nfds);
/** Receive the reply to request @p req; 0 or a negative errno. */
int vhost_user_recv_reply(int fd, uint32_t req, struct vhost_user_msg *msg);
/** Request carrying a u64 (or nothing), optionally waiting for the ack. */
int vhost_user_u64(int fd, uint32_t req, uint64_t v, int with_payload, int ack);
/** GET_* request returning a u64. */
int vhost_user_get_u64(int fd, uint32_t req, uint64_t *v);
/**
 * Memory table of every EAL segment backed by a file; -E2BIG when too many.
 * Caller holds the memory hotplug lock (read, or write inside a memory event
 * callback), taken before any lock of its own.
 */
int vhost_user_set_mem_table(int fd, int ack);

#endif /* _VFRAG_VHOST_USER_H_ */

/* SPDX-License-Identifier: BSD-3-Clause */

#ifndef _TEST_VHOST_STUB_H_
#define _TEST_VHOST_STUB_H_

/*
 * A vhost-user backend in a thread of the test process, written from the
 * vhost-user specification (not from the driver): it listens on a unix
 * socket, answers the requests a net frontend sends, and records what it was
 * told (features, ring sizes and bases, memory regions, connection times).
 * Port and stub share the process, so ring addresses are plain pointers and
 * the test plays the device by hand: take posted RX buffers, write used
 * entries. It offers no protocol features, so no request needs a reply
 * except GET_FEATURES and GET_VRING_BASE.
 */

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <virtio_frag_ring.h>
#include <virtio_user/vhost_user.h>

#define VSTUB_VRINGS 16
#define VSTUB_MAX_ACCEPTS 16

struct vstub {
	char path[108];
	int listenfd;
	int connfd;                 /* atomic: the test may shut it down */
	pthread_t thread;
	int thread_ok;
	volatile int quit;
	int refuse;                 /* accept, then close at once (a dead backend) */
	uint64_t features;          /* offered in GET_FEATURES */

	/* Recorded from the frontend's requests (atomic reads from the test). */
	uint64_t acked_features;
	uint32_t accepts;
	uint64_t accept_ns[VSTUB_MAX_ACCEPTS];
	uint32_t mem_tables;
	uint32_t last_nregions;
	uint32_t vring_num[VSTUB_VRINGS];
	uint32_t vring_base[VSTUB_VRINGS];
	uint32_t base_msgs[VSTUB_VRINGS];
	uint32_t nb_addr;           /* SET_VRING_ADDR received, all connections */

	/* Device side of each ring, driven by the test thread. */
	struct vring_desc *desc[VSTUB_VRINGS];
	struct vring_avail *avail[VSTUB_VRINGS];
	struct vring_used *used[VSTUB_VRINGS];
	uint16_t avail_seen[VSTUB_VRINGS];
	uint16_t used_idx[VSTUB_VRINGS];
};

/*
 * Message I/O for any backend in this process (the stub here and the fake
 * backends of the control-path and bad-device tests): the frontend shares
 * the process, so the memory and eventfds that come with a message are ours
 * already and their descriptors are closed on arrival.
 */
/** Read exactly @p len bytes from @p fd: 0, or -1 at end of stream or short. */
int vstub_recv(int fd, void *buf, size_t len);
/** Read one message (header, then its payload): 0, or -1 when gone or too long. */
int vstub_recv_msg(int fd, struct vhost_user_msg *m);
/** Answer @p m in place with @p size bytes of @p payload: 0, or -1. */
int vstub_reply(int fd, struct vhost_user_msg *m, const void *payload, uint32_t size);

/** Listen on @p path and serve frontends in a thread; @p features offered. */
int vstub_start(struct vstub *s, const char *path, uint64_t features);
/** Stop the thread, close every socket, remove the socket file. */
void vstub_stop(struct vstub *s);
/** The backend dies: close the current connection (the stub keeps listening). */
void vstub_drop(struct vstub *s);
/** Wait up to @p ms until @p n SET_VRING_ADDR have arrived in all. */
int vstub_wait_addr(struct vstub *s, uint32_t n, unsigned int ms);

/** Device: take the next posted buffer of vring @p vr (id, address, length). */
int vstub_take(struct vstub *s, unsigned int vr, uint16_t *id, uint8_t **buf,
	       uint32_t *len);
/** Device: mark descriptor @p id used with @p len bytes written. */
void vstub_used(struct vstub *s, unsigned int vr, uint32_t id, uint32_t len);
/**
 * Device: deliver a frame of @p size bytes (pattern from @p seed) in one RX
 * buffer of vring @p vr with a virtio-net header announcing @p num_buffers.
 * Returns the descriptor id or -1 when no buffer is posted or it is too small.
 */
int vstub_rx_frame(struct vstub *s, unsigned int vr, uint32_t size, uint16_t num_buffers,
		   uint8_t seed);
/**
 * Device: a mergeable packet over exactly @p nbufs posted buffers, @p chunk
 * data bytes in each (byte at packet offset p: vstub_chain_byte(p, ...));
 * the header in the first announces @p num_buffers. Every later buffer starts
 * with bytes that would pass for the header of a one-buffer packet, so a
 * driver that parses them as packets shows it. Returns the data bytes
 * written, or -1 when fewer buffers are posted or one is too small.
 */
int vstub_rx_chain(struct vstub *s, unsigned int vr, unsigned int nbufs, uint32_t chunk,
		   uint16_t num_buffers, uint8_t seed);
/**
 * Device: a mergeable packet of @p size bytes (byte p: @p seed + p) over as
 * many posted buffers as it takes, each filled to its posted length. Returns
 * the number of buffers, or -1 when too few are posted.
 */
int vstub_rx_packet(struct vstub *s, unsigned int vr, uint32_t size, uint8_t seed);
/** Byte @p pos of a packet vstub_rx_chain() wrote with @p chunk and @p seed. */
uint8_t vstub_chain_byte(uint32_t pos, uint32_t chunk, uint8_t seed);

#endif /* _TEST_VHOST_STUB_H_ */

/* SPDX-License-Identifier: BSD-3-Clause */

#ifndef _TEST_VIRTIO_FRAG_PEER_H_
#define _TEST_VIRTIO_FRAG_PEER_H_

/*
 * Helpers of the virtio_frag system tests: a distro dpdk-testpmd as the
 * vhost-user peer (started and always stopped by the test), our port on a
 * net_virtio_frag_user vdev, and a checked round trip of numbered packets.
 */

#include <stdint.h>
#include <sys/types.h>

#include <rte_mempool.h>

struct pfrag_pool;

struct vf_peer {
	pid_t pid;
	int stdin_fd;
	char log[256];
};

/** Path of dpdk-testpmd, or NULL when it is not installed. */
const char *vf_testpmd_path(void);

/**
 * Start testpmd with one net_vhost port on @p sock: vhost-user server, or
 * client (client=1) when @p client. Forwarding @p fwd_mode on lcore 1, its
 * main lcore 0 asleep on stdin. The log goes to @p dir.
 */
int vf_peer_start(struct vf_peer *p, const char *dir, const char *sock, int client,
		  const char *fwd_mode);
/** vf_peer_start() with @p queues queue pairs on the peer's port (--rxq/--txq). */
int vf_peer_start_mq(struct vf_peer *p, const char *dir, const char *sock, int client,
		     const char *fwd_mode, uint16_t queues);
/**
 * Before a unit starts a peer: @p p holds no process yet, dpdk-testpmd is
 * installed (else the skip reason is printed and TEST_SKIPPED returned), a
 * private directory is made in @p dir and "<dir>/vhost.sock" written to
 * @p sock. TEST_SUCCESS, TEST_SKIPPED or TEST_FAILED (no directory).
 */
int vf_peer_prepare(struct vf_peer *p, char *dir, size_t dir_len, char *sock, size_t sock_len);
/** Ask the peer to quit; kill it if it does not within a few seconds. */
void vf_peer_stop(struct vf_peer *p);
/** SIGKILL the peer (a backend crash). */
void vf_peer_kill(struct vf_peer *p);
/** Print the tail of the peer's log (on failure). */
void vf_peer_dump_log(const struct vf_peer *p);

/**
 * Create and start port @p name with @p devargs: 1 RX + 1 TX queue of
 * @p ring descriptors, header mbufs and TX packets from @p mp, MTU @p mtu.
 */
int vf_port_create(const char *name, const char *devargs, struct rte_mempool *mp,
		   uint16_t ring, uint16_t mtu, uint16_t *port);
/** vf_port_create() with @p queues RX and TX queues. */
int vf_port_create_mq(const char *name, const char *devargs, struct rte_mempool *mp,
		      uint16_t ring, uint16_t mtu, uint16_t queues, uint16_t *port);
/** Stop, close and remove the vdev. */
void vf_port_destroy(const char *name, uint16_t port);
/** The pfrag pool port @p port made at probe ("vfrag<port>"), or NULL. */
struct pfrag_pool *vf_port_pool(uint16_t port);
/** Wait up to @p ms for the link to be @p up. */
int vf_wait_link(uint16_t port, int up, unsigned int ms);

struct vf_rt_result {
	uint64_t sent;
	uint64_t received;   /* of this run, intact, in order */
	uint64_t bad;        /* wrong length, checksum, MACs, or out of order */
	uint64_t lost;       /* sequence numbers that never came back */
	uint64_t stale;      /* ours, from an earlier run (left in a ring) */
	uint64_t foreign;    /* not built by these tests */
};

/**
 * Send @p n packets of @p size bytes (sequence number and payload checksum
 * inside; chained 2 KB mbufs above that) and receive them back from a
 * macswap peer; at most @p window in flight; gives up after @p timeout_ms
 * without progress.
 */
int vf_roundtrip(uint16_t port, struct rte_mempool *mp, uint32_t size, uint32_t n,
		 uint32_t window, unsigned int timeout_ms, struct vf_rt_result *res);

/** vf_roundtrip() on queue pair @p queue (the peer forwards each queue to itself). */
int vf_roundtrip_q(uint16_t port, uint16_t queue, struct rte_mempool *mp, uint32_t size,
		   uint32_t n, uint32_t window, unsigned int timeout_ms,
		   struct vf_rt_result *res);

/**
 * A checked stream of numbered packets on one queue pair: packet seq has
 * size(seq) bytes (deterministic: called again to check what comes back).
 */
struct vf_stream {
	uint16_t port;
	uint16_t queue;
	struct rte_mempool *mp;          /* TX mbufs, 2 KB segments */
	uint32_t n;                      /* packets */
	uint32_t (*size)(uint32_t seq, void *arg);
	void *arg;
	uint32_t window;                 /* packets in flight at most */
	uint32_t window_bytes;           /* bytes in flight at most (0: any); one always */
	unsigned int timeout_ms;         /* give up after this long without progress */
};

/** Run stream @p s against a macswap peer; 0 when every packet came back intact. */
int vf_stream_run(const struct vf_stream *s, struct vf_rt_result *res);

/**
 * Link up means the rings are handed over, not that the peer forwards yet:
 * ping single packets until one comes back (up to @p ms).
 */
int vf_wait_traffic(uint16_t port, struct rte_mempool *mp, unsigned int ms);

/** vf_wait_traffic() on queue pair @p queue. */
int vf_wait_traffic_q(uint16_t port, uint16_t queue, struct rte_mempool *mp,
		      unsigned int ms);

/** Print the port's non-zero xstats (on failure). */
void vf_port_dump(uint16_t port);

/** Value of xstat @p name of @p port, or -1. */
int64_t vf_xstat(uint16_t port, const char *name);

#endif /* _TEST_VIRTIO_FRAG_PEER_H_ */

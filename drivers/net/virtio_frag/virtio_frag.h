/* SPDX-License-Identifier: BSD-3-Clause */

#ifndef _VIRTIO_FRAG_H_
#define _VIRTIO_FRAG_H_

/**
 * @file
 * virtio_frag: a virtio-net PMD whose RX buffers are pfrag page fragments.
 *
 * The ethdev layer (virtio_frag_ethdev.c) and the data path
 * (virtio_frag_rxtx.c) are transport-neutral: every access to the device
 * goes through struct virtio_frag_ops, the way a virtio driver talks to a
 * PCI function or, here, to a vhost-user backend (virtio_user/).
 *
 * Threads: the burst functions run on the application's lcores, one thread
 * per queue. The control path (ethdev ops) runs on the application's main
 * thread; the vhost-user transport adds one control thread per port that
 * watches the socket, accepts or reconnects, and replays the device set-up.
 */

#include <stdint.h>

#include <ethdev_driver.h>
#include <rte_ether.h>
#include <rte_log.h>
#include <rte_mbuf.h>
#include <rte_spinlock.h>

#include <pfrag.h>

#include "virtio_frag_ring.h"

extern int virtio_frag_logtype;
#define RTE_LOGTYPE_VIRTIO_FRAG virtio_frag_logtype

#define VFRAG_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_ ## level, virtio_frag_logtype, "%s(): " fmt "\n", \
		__func__, ##__VA_ARGS__)

/* Data-path logs compile away unless RTE_LIBRTE_VIRTIO_FRAG_DEBUG is set. */
#ifdef RTE_LIBRTE_VIRTIO_FRAG_DEBUG
#define VFRAG_DP_LOG(level, fmt, ...) VFRAG_LOG(level, fmt, ##__VA_ARGS__)
#else
#define VFRAG_DP_LOG(level, fmt, ...) do { } while (0)
#endif

#define VFRAG_MAX_QUEUE_PAIRS   8
#define VFRAG_DEFAULT_RING_SIZE 256
#define VFRAG_MIN_RING_SIZE     64
#define VFRAG_RX_FREE_THRESH    32   /* refill when this many slots are free */
#define VFRAG_TX_FREE_THRESH    64   /* reclaim when fewer descriptors are free */
#define VFRAG_MAX_BURST         64
/* Adaptive RX buffers: data room between these bounds, in 64-byte steps. */
#define VFRAG_RX_BUF_MIN        128u
#define VFRAG_RX_BUF_MAX        4096u
#define VFRAG_RX_BUF_STEP       64u
#define VFRAG_EWMA_SHIFT        6    /* weight 1/64 per packet, as Linux */
#define VFRAG_MAX_MTU           9710u
#define VFRAG_MAX_RX_PKTLEN     (VFRAG_MAX_MTU + RTE_ETHER_HDR_LEN + RTE_ETHER_CRC_LEN)
/* Largest frame a port of @p mtu accepts: Ethernet header and two VLAN tags. */
#define VFRAG_MAX_FRAME(mtu)    ((uint32_t)(mtu) + RTE_ETHER_HDR_LEN + RTE_VLAN_HLEN * 2)
#define VFRAG_RX_ROOM_MIN       64u  /* smallest rx_buf_size devarg */
/*
 * Buffers are posted so that the largest frame of the current MTU spans at
 * most VFRAG_RX_FLOOR_CHAIN of them. A packet is accepted over up to
 * VFRAG_MAX_CHAIN buffers: the largest frame of the largest MTU in buffers
 * of the smallest room, so buffers posted before the MTU was raised at run
 * time still take every frame of the new MTU.
 */
#define VFRAG_RX_FLOOR_CHAIN    64u
#define VFRAG_MAX_CHAIN \
	(RTE_ALIGN_MUL_CEIL(VFRAG_HDR_LEN + VFRAG_MAX_FRAME(VFRAG_MAX_MTU), \
			    VFRAG_HDR_LEN + VFRAG_RX_ROOM_MIN) / (VFRAG_HDR_LEN + VFRAG_RX_ROOM_MIN))

/*
 * Control path deadlines (virtio-user). A backend's reply must be complete
 * VFRAG_CTRL_REPLY_MS after its request; one operation (connect, handshake
 * and ring set-up, or stop) ends VFRAG_CTRL_OP_MS after it began, whatever
 * the backend does. Stop may wait for one operation of the control thread
 * before its own, so rte_eth_dev_stop() and rte_eth_dev_close() each return
 * within VFRAG_CTRL_BOUND_MS.
 */
#define VFRAG_CTRL_REPLY_MS     1000u
#define VFRAG_CTRL_OP_MS        2000u
#define VFRAG_CTRL_BOUND_MS     (2 * VFRAG_CTRL_OP_MS + 500u)

/* Transport counters a port lists in its xstats, at most. */
#define VFRAG_MAX_TRANSPORT_XSTATS 8u

struct virtio_frag_hw;
struct virtio_frag_vq;

/**
 * Transport operations: how the device is reached. The virtio-user transport
 * drives a vhost-user backend; a PCI transport would map the same calls onto
 * the common configuration structure.
 */
struct virtio_frag_ops {
	const char *name;
	/** Write @p len bytes of device config space at @p offset (the MAC at 0). */
	int (*write_dev_cfg)(struct virtio_frag_hw *hw, size_t offset, const void *src,
			     int len);
	/** Writing DRIVER_OK starts the device, 0 resets it. */
	int (*set_status)(struct virtio_frag_hw *hw, uint8_t status);
	uint64_t (*get_features)(struct virtio_frag_hw *hw);
	int (*set_features)(struct virtio_frag_hw *hw, uint64_t features);
	/** Queue pairs the device offers. */
	uint16_t (*get_queue_num)(struct virtio_frag_hw *hw);
	/** Tell the device where the rings of @p vq are (before DRIVER_OK). */
	int (*setup_queue)(struct virtio_frag_hw *hw, struct virtio_frag_vq *vq);
	/** Stop the device using @p vq; it no longer reads or writes the ring. */
	void (*del_queue)(struct virtio_frag_hw *hw, struct virtio_frag_vq *vq);
	/** Kick: new buffers are available in @p vq. Data path, any lcore. */
	void (*notify_queue)(struct virtio_frag_hw *hw, struct virtio_frag_vq *vq);
	/** Device reachable (vhost-user: socket connected and set up). */
	int (*link_ok)(struct virtio_frag_hw *hw);
	/** Release transport resources at close. */
	void (*dev_close)(struct virtio_frag_hw *hw);
	/**
	 * The transport's own counters, listed in the xstats after the common
	 * ones: nb_xstats names (at most VFRAG_MAX_TRANSPORT_XSTATS), and
	 * xstats_get() fills their values in that order (zeros once the
	 * transport is closed). nb_xstats 0: xstats_get may be NULL.
	 */
	unsigned int nb_xstats;
	const char *const *xstat_names;
	void (*xstats_get)(struct virtio_frag_hw *hw, uint64_t *values);
};

/** Per-queue counters; written only by the queue's lcore. */
struct vfrag_q_stats {
	uint64_t packets;
	uint64_t bytes;
	uint64_t errors;
	uint64_t nombuf;       /* RX: header mbuf or fragment not available */
	uint64_t bad_desc;     /* RX: malformed used entries dropped */
	uint64_t ring_full;    /* TX: packets left to the caller */
	uint64_t dropped;      /* TX: more segments than the ring holds, freed */
	uint64_t kicks;
	uint64_t multiseg;     /* RX: mergeable chains; TX: chained mbufs */
	uint64_t drains;       /* RX: pages drained at teardown */
	uint64_t drained_frags;/* RX: fragments reclaimed at teardown */
	uint64_t idx_jumps;    /* used->idx moved past the ring: resynchronised */
	uint64_t discarded;    /* RX: buffers of dropped chains consumed */
};

/** What the driver keeps per RX descriptor: one line holds four. */
struct vfrag_rx_slot {
	void *frag;        /* posted fragment, NULL when the slot is free */
	uint32_t len;      /* bytes posted (header included) */
	uint32_t fsize;    /* fragment size, for the bridge */
};

/** Per TX chain head: the mbuf and how many descriptors it holds. */
struct vfrag_tx_slot {
	struct rte_mbuf *m;
	uint16_t ndesc;
};

/** One split virtqueue and the driver's view of it. */
struct virtio_frag_vq {
	struct vring vr;
	void *ring_mem;
	uint16_t nb_desc;
	uint16_t mask;
	uint16_t avail_idx;     /* next avail->idx to publish (shadow) */
	uint16_t used_cons;     /* used entries consumed */
	uint16_t vq_index;      /* virtqueue number: 2 * pair (+1 for TX) */
	uint16_t queue_id;      /* ethdev queue number */
	uint16_t port_id;
	uint8_t is_tx;
	uint8_t use_va;         /* descriptors carry VAs (virtio-user) */
	struct virtio_frag_hw *hw;
	int kickfd;             /* transport: eventfd written to notify */
	int callfd;
	struct vfrag_q_stats stats;
	/*
	 * TX: free descriptors through the private tx_next[] (a circle at
	 * reset; desc[].next is written from it, never read: the device can
	 * write the ring), mbuf per chain head. In order, chains go back oldest
	 * first from tx_done, so the circle is never re-linked and chains stay
	 * consecutive.
	 */
	uint16_t free_head;
	uint16_t nb_free;
	uint16_t tx_done;
	uint8_t in_order;
	uint16_t *tx_next;
	struct vfrag_tx_slot *tx_slots;
	struct virtio_net_hdr_mrg *tx_hdrs;   /* one zeroed header per slot */
	/* RX: fragment and posted length per descriptor, free slot stack. */
	struct rte_mempool *mp;               /* header mbufs */
	struct pfrag_cache cache;
	int cache_ready;
	struct vfrag_rx_slot *rx_slots;
	uint16_t *rx_free_ids;
	uint16_t rx_nb_free;
	uint32_t rx_buf_size;                 /* fixed data room, 0 = adaptive */
	uint32_t rx_ewma;                     /* received length average << shift */
	uint64_t rx_posted_bytes;             /* fragment bytes now posted */
	uint16_t rx_posted;                   /* slots now posted */
	struct rte_mbuf *rx_partial;          /* mergeable chain being assembled */
	struct rte_mbuf *rx_last;             /* its last segment */
	uint16_t rx_seg_left;                 /* buffers the chain still needs */
	uint16_t rx_discard;                  /* buffers of a dropped chain still to come */
} __rte_cache_aligned;

/** Parsed devargs. */
struct virtio_frag_args {
	char path[108];
	int server;
	uint16_t queue_size;
	uint16_t queues;
	int mrg_rxbuf;
	int in_order;
	uint32_t rx_buf_size;
	uint32_t page_size;
	uint32_t pool_pages;
	char pool[PFRAG_NAMESIZE];
	struct rte_ether_addr mac;
	int mac_set;
};

/** A port. */
struct virtio_frag_hw {
	const struct virtio_frag_ops *ops;
	void *transport;                 /* the transport's private state */
	struct rte_eth_dev *eth_dev;
	struct virtio_frag_args args;
	uint64_t guest_features;         /* what the driver wants */
	uint64_t features;               /* negotiated */
	uint16_t max_queue_pairs;
	uint16_t nb_rx_queues;
	uint16_t nb_tx_queues;
	uint16_t mtu;
	uint8_t use_va;
	uint8_t started;
	struct rte_ether_addr mac;
	struct pfrag_pool *pool;
	int own_pool;
	struct virtio_frag_vq *rxq[VFRAG_MAX_QUEUE_PAIRS];
	struct virtio_frag_vq *txq[VFRAG_MAX_QUEUE_PAIRS];
	/* Counters of queues already released, so stats survive re-setup. */
	uint64_t drains_total;
	uint64_t drained_frags_total;
	/**
	 * Installed by the ethdev layer before the transport starts: the
	 * transport calls it when the link may have changed (from its control
	 * thread, no lock held). The application's callback may close the
	 * port from there.
	 */
	void (*on_link_change)(struct virtio_frag_hw *hw);
};

static inline int
vfrag_with_feature(const struct virtio_frag_hw *hw, unsigned int bit)
{
	return (hw->features & VFRAG_BIT(bit)) != 0;
}

/* virtio_frag_rxtx.c */
uint16_t virtio_frag_recv_pkts(void *rxq, struct rte_mbuf **pkts, uint16_t nb_pkts);
uint16_t virtio_frag_xmit_pkts(void *txq, struct rte_mbuf **pkts, uint16_t nb_pkts);
/** Free the mbufs of TX chains the device has completed; how many. */
uint16_t virtio_frag_tx_cleanup(struct virtio_frag_vq *vq);
/** Reset the rings of a queue to empty and post RX buffers. */
int virtio_frag_vq_reset(struct virtio_frag_vq *vq);
/** Reclaim every posted fragment (RX) or pending mbuf (TX). */
void virtio_frag_vq_reclaim(struct virtio_frag_vq *vq);
/** Data room of the next RX buffers. */
uint32_t virtio_frag_rx_room(const struct virtio_frag_vq *vq);
/**
 * Smallest data room with which the largest frame of @p mtu fits in
 * VFRAG_RX_FLOOR_CHAIN buffers and in a ring of @p nb_desc buffers.
 */
uint32_t virtio_frag_rx_room_floor(uint16_t mtu, uint16_t nb_desc);
/** Largest data room the RX queue may post with features @p mergeable. */
uint32_t virtio_frag_rx_room_max(const struct virtio_frag_vq *vq, int mergeable);
/**
 * Index a new backend resumes the ring at (SET_VRING_BASE): the device's
 * used index when it is consistent with what the driver made available,
 * else the avail index, so that no stale entry is offered again.
 */
uint16_t virtio_frag_vq_resume_idx(const struct virtio_frag_vq *vq);
/** Fragment size for a data room: headroom + room + bridge tail, cache-aligned. */
uint32_t virtio_frag_frag_size(uint32_t room);

/* virtio_user/virtio_user_dev.c */
extern const struct virtio_frag_ops virtio_user_frag_ops;
int virtio_user_frag_init(struct virtio_frag_hw *hw);

#endif /* _VIRTIO_FRAG_H_ */

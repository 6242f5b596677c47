/* SPDX-License-Identifier: BSD-3-Clause */

#ifndef _VIRTIO_FRAG_H_
#define _VIRTIO_FRAG_H_

/**
 * @file
 * virtio_frag: a virtio-net PMD whose RX buffers are pfrag page fragments.
 *
 * The files at the top of the driver are transport-neutral: ethdev ops and
 * device lifecycle (virtio_frag_ethdev.c), virtqueue lifecycle
 * (virtio_frag_vq.c), data path (virtio_frag_rxtx.c), stats and xstats
 * (virtio_frag_stats.c) and the devargs every transport shares
 * (virtio_frag_devargs.c). Every access to the device goes through struct
 * virtio_frag_ops; events come back up through hw->on_link_change. A
 * transport is one folder that fills the ops (virtio_user/: a vhost-user
 * backend), probes its devices and calls virtio_frag_dev_init(); nothing
 * here includes a transport's header.
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

/* Name of the pfrag pool a port makes unless pool= names one: "vfrag<port id>". */
#define VFRAG_POOL_NAME_FMT "vfrag%u"
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
#define VFRAG_RX_WINDOW         256  /* packets per window of the largest length */
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

/* Transport counters a port lists in its xstats, at most. */
#define VFRAG_MAX_TRANSPORT_XSTATS 8u

struct virtio_frag_hw;
struct virtio_frag_vq;

/**
 * Transport operations: the only way down to the device. The virtio-user
 * transport drives a vhost-user backend; a PCI transport maps the same calls
 * onto the common configuration structure.
 */
struct virtio_frag_ops {
	const char *name;
	/** Write @p len bytes of device config space at @p offset (the MAC at 0). */
	int (*write_dev_cfg)(struct virtio_frag_hw *hw, size_t offset, const void *src,
			     int len);
	/** Writing DRIVER_OK starts the device, 0 resets it. */
	int (*set_status)(struct virtio_frag_hw *hw, uint8_t status);
	/**
	 * The status as the device reports it: a virtio 1.0 device clears
	 * FEATURES_OK when it cannot work with the features the driver took.
	 * NULL: the transport keeps no status apart from what was written.
	 */
	uint8_t (*get_status)(struct virtio_frag_hw *hw);
	uint64_t (*get_features)(struct virtio_frag_hw *hw);
	int (*set_features)(struct virtio_frag_hw *hw, uint64_t features);
	/** Queue pairs the device offers. */
	uint16_t (*get_queue_num)(struct virtio_frag_hw *hw);
	/**
	 * Entries of virtqueue @p vq_index: the most the device takes or, when
	 * *@p fixed is set, the only size it takes; 0 when it has no such
	 * queue. NULL: any size up to VFRAG_MAX_RING_SIZE.
	 */
	uint16_t (*get_queue_size)(struct virtio_frag_hw *hw, uint16_t vq_index, int *fixed);
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
	uint64_t nombuf;       /* RX: no fragment to post */
	uint64_t bad_desc;     /* RX: malformed used entries dropped */
	uint64_t ring_full;    /* TX: packets left to the caller */
	uint64_t dropped;      /* TX: more segments than the ring holds, freed */
	uint64_t kicks;
	uint64_t multiseg;     /* RX: mergeable chains; TX: chained mbufs */
	uint64_t drains;       /* RX: pages drained at teardown */
	uint64_t drained_frags;/* RX: fragments reclaimed at teardown */
	uint64_t idx_jumps;    /* used->idx moved past the ring: resynchronised */
	uint64_t discarded;    /* RX: buffers of dropped chains consumed */
	uint64_t no_iova;      /* TX: packets with a segment without IOVA, freed */
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
	uint16_t hdr_len;       /* virtio-net header: 12, or 10 (legacy, no mergeable) */
	struct virtio_frag_hw *hw;
	rte_iova_t ring_iova;   /* where the device finds the ring (IOVA transports) */
	const struct rte_memzone *ring_mz; /* IOVA-contiguous ring memory, or NULL */
	void *notify_addr;      /* transport: where a kick is written (modern PCI) */
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
	struct rte_mempool *mbuf_mp;          /* of mbufs built in RX fragments */
	struct pfrag_cache cache;
	int cache_ready;
	struct vfrag_rx_slot *rx_slots;
	uint16_t *rx_free_ids;
	uint16_t rx_nb_free;
	uint32_t rx_buf_size;                 /* fixed data room, 0 = adaptive */
	uint32_t rx_win_max;                  /* largest length of this window */
	uint32_t rx_prev_max;                 /* largest length of the window before */
	uint32_t rx_win_pkts;                 /* packets of this window so far */
	uint64_t rx_posted_bytes;             /* fragment bytes now posted */
	uint16_t rx_posted;                   /* slots now posted */
	struct rte_mbuf *rx_partial;          /* mergeable chain being assembled */
	struct rte_mbuf *rx_last;             /* its last segment */
	uint16_t rx_seg_left;                 /* buffers the chain still needs */
	uint16_t rx_discard;                  /* buffers of a dropped chain still to come */
} __rte_cache_aligned;

/** Devargs every transport shares (virtio_frag_devargs.c). */
struct virtio_frag_args {
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
	uint8_t legacy;                  /* transport: virtio 0.95 interface, no VERSION_1 */
	uint8_t ctrl_vq_ok;              /* transport: runs a control queue */
	uint8_t started;
	uint16_t dev_max_pairs;          /* device's max_virtqueue_pairs, bounded */
	struct virtio_frag_cvq *cvq;     /* control queue, with VIRTIO_NET_F_CTRL_VQ */
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
/** TX burst of queues whose descriptors carry VAs (vhost-user). */
uint16_t virtio_frag_xmit_pkts(void *txq, struct rte_mbuf **pkts, uint16_t nb_pkts);
/** TX burst of queues whose descriptors carry IOVAs (PCI): hw->use_va 0. */
uint16_t virtio_frag_xmit_pkts_iova(void *txq, struct rte_mbuf **pkts, uint16_t nb_pkts);
/** Free the mbufs of TX chains the device has completed; how many. */
uint16_t virtio_frag_tx_cleanup(struct virtio_frag_vq *vq);
/** Reset the rings of a queue to empty and post RX buffers. */
int virtio_frag_vq_reset(struct virtio_frag_vq *vq);
/** Reclaim every posted fragment (RX) or pending mbuf (TX). */
void virtio_frag_vq_reclaim(struct virtio_frag_vq *vq);
/** Data room of the next RX buffers. */
uint32_t virtio_frag_rx_room(const struct virtio_frag_vq *vq);
/** Forget the lengths seen: adaptive buffers start again from a full-size frame. */
static inline void
virtio_frag_rx_room_reset(struct virtio_frag_vq *vq)
{
	vq->rx_win_max = RTE_ETHER_MAX_LEN;
	vq->rx_prev_max = RTE_ETHER_MAX_LEN;
	vq->rx_win_pkts = 0;
}
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
/** RX fragment size for a data room: mbuf + headroom + room, cache-aligned. */
uint32_t virtio_frag_frag_size(uint32_t room);

/* virtio_frag_ethdev.c: the entry points of a transport's probe and remove. */
/**
 * Common part of a port's probe. The transport has allocated the ethdev
 * (dev_private: a zeroed struct virtio_frag_hw) and filled hw->ops,
 * hw->use_va and hw->args. This sets hw->eth_dev, the MAC (devarg mac, else
 * random), the pfrag pool (devargs pool, page_size, pool_pages),
 * hw->on_link_change, the ethdev ops and burst functions. On failure
 * (logged, -errno) only the ethdev is left for the caller to release.
 * Then the transport brings its device up (hw->transport; it may call
 * hw->on_link_change from then on) and calls rte_eth_dev_probing_finish();
 * if that fails, virtio_frag_dev_uninit().
 */
int virtio_frag_dev_init(struct rte_eth_dev *dev);
/**
 * Close the port as rte_eth_dev_close() does: stop, ops->dev_close, queues,
 * pool. For the transport's remove, and for a probe that fails after
 * virtio_frag_dev_init(); the caller then releases the ethdev.
 */
int virtio_frag_dev_uninit(struct rte_eth_dev *dev);

/* virtio_frag_vq.c: virtqueue lifecycle (ethdev queue ops). */
int virtio_frag_rx_queue_setup(struct rte_eth_dev *dev, uint16_t qid, uint16_t nb_desc,
			       unsigned int socket_id, const struct rte_eth_rxconf *rx_conf,
			       struct rte_mempool *mp);
int virtio_frag_tx_queue_setup(struct rte_eth_dev *dev, uint16_t qid, uint16_t nb_desc,
			       unsigned int socket_id, const struct rte_eth_txconf *tx_conf);
void virtio_frag_rx_queue_release(struct rte_eth_dev *dev, uint16_t qid);
void virtio_frag_tx_queue_release(struct rte_eth_dev *dev, uint16_t qid);
int virtio_frag_tx_done_cleanup(void *txq, uint32_t free_cnt);
/** 0 when the largest RX buffer @p vq may post fits a pool page, else -EINVAL (logged). */
int virtio_frag_rx_room_check(struct virtio_frag_vq *vq, int mergeable);

/* virtio_frag_stats.c: ethdev stats and xstats. */
int virtio_frag_stats_get(struct rte_eth_dev *dev, struct rte_eth_stats *st);
int virtio_frag_stats_reset(struct rte_eth_dev *dev);
int virtio_frag_xstats_get_names(struct rte_eth_dev *dev, struct rte_eth_xstat_name *names,
				 unsigned int size);
int virtio_frag_xstats_get(struct rte_eth_dev *dev, struct rte_eth_xstat *xs, unsigned int n);
int virtio_frag_xstats_reset(struct rte_eth_dev *dev);

/* virtio_frag_features.c: what the driver takes from what the device offers. */
/** What the driver can do with a device: the input of negotiation. */
struct virtio_frag_want {
	uint8_t modern;     /* virtio 1.0 interface: VERSION_1 required */
	uint8_t mrg_rxbuf;  /* devarg mrg_rxbuf */
	uint8_t in_order;   /* devarg in_order */
	uint8_t ctrl_vq;    /* the transport runs a control queue */
	uint8_t iova;       /* descriptors carry IOVAs */
};
/**
 * Features to accept from @p offered: what the driver implements, nothing
 * else. 0, or -ENOTSUP with the reason in @p why when the device lacks what
 * the driver needs.
 */
int virtio_frag_negotiate(uint64_t offered, const struct virtio_frag_want *w,
			  uint64_t *accepted, char *why, size_t why_len);
/**
 * Ring size for a virtqueue: @p asked within the device's @p dev_size, which
 * is the only size (@p fixed, legacy) or the largest. -EINVAL when a fixed
 * size is not a power of two in [VFRAG_MIN_RING_SIZE, VFRAG_MAX_RING_SIZE],
 * or a largest size is below VFRAG_MIN_RING_SIZE.
 */
int virtio_frag_ring_size(uint16_t asked, uint16_t dev_size, int fixed);
/** virtio-net header bytes with negotiated @p features: 12, or 10 (legacy). */
uint16_t virtio_frag_hdr_len(uint64_t features);

/* virtio_frag_cvq.c: the control virtqueue (VIRTIO_NET_F_CTRL_VQ). */
/** A command's deadline: the device's ack must be back by then. */
#define VFRAG_CVQ_TIMEOUT_MS    1000u
struct virtio_frag_cvq;
/** Set up (allocating at first) the control queue, before DRIVER_OK. */
int virtio_frag_cvq_setup(struct virtio_frag_hw *hw);
/** Release the control queue; the device is reset or gone. */
void virtio_frag_cvq_free(struct virtio_frag_hw *hw);
/** One command and its ack: 0, -ETIMEDOUT, -EIO (refused, or queue unusable), -ENOTSUP. */
int virtio_frag_cvq_command(struct virtio_frag_hw *hw, uint8_t cls, uint8_t cmd,
			    const void *data, uint16_t len);
/** VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET. */
int virtio_frag_cvq_set_pairs(struct virtio_frag_hw *hw, uint16_t pairs);
/** VIRTIO_NET_CTRL_RX: @p cmd PROMISC or ALLMULTI, on or off. */
int virtio_frag_cvq_rx_mode(struct virtio_frag_hw *hw, uint8_t cmd, int on);
/** Commands sent and commands that failed (timed out, refused). */
void virtio_frag_cvq_counters(const struct virtio_frag_hw *hw, uint64_t *commands,
			      uint64_t *failures);

/* virtio_frag_devargs.c: the devargs every transport shares. */
struct rte_kvargs;
/**
 * Keys of the shared devargs, NULL-terminated: queue_size, queues,
 * mrg_rxbuf, in_order, rx_buf_size, page_size, pool_pages, pool, mac.
 */
extern const char *const virtio_frag_common_keys[];
/** Defaults of the shared devargs: what a port without devargs runs with. */
void virtio_frag_args_defaults(struct virtio_frag_args *args);
/**
 * Split @p params ("key=value,...", NULL or empty for none) accepting the
 * transport's @p keys (NULL-terminated, NULL for none) and the common keys.
 * NULL on bad syntax or an unknown key, logged with every accepted key.
 * The caller frees the list with rte_kvargs_free().
 */
struct rte_kvargs *virtio_frag_kvargs_parse(const char *params, const char *const *keys);
/**
 * Parse the common keys found in @p kv into @p args, which holds the
 * defaults (virtio_frag_args_defaults()). A bad value or a key given twice
 * is logged with its name: -EINVAL.
 */
int virtio_frag_parse_common_args(struct rte_kvargs *kv, struct virtio_frag_args *args);
/** Integer devarg @p key in [min, max], at most once; *@p out kept when absent. */
int virtio_frag_arg_uint(struct rte_kvargs *kv, const char *key, uint64_t min, uint64_t max,
			 uint64_t *out);
/**
 * String devarg @p key: not empty, shorter than @p len; @p buf kept when
 * absent. The caller refuses a repeated key (rte_kvargs_count()).
 */
int virtio_frag_arg_string(struct rte_kvargs *kv, const char *key, char *buf, size_t len);

#endif /* _VIRTIO_FRAG_H_ */

/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The out-of-line half of the mbuf bridge: the free callback of external
 * buffers, and the "pfrag_mbuf" mempool ops of mbufs built in fragments.
 * Such a mempool owns no memory: its objects are fragments of a pfrag pool,
 * carved when an mbuf is built and freed when the mbuf is.
 */

#include <inttypes.h>
#include <stdio.h>

#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>
#include <rte_spinlock.h>

#include "pfrag_mbuf.h"
#include "pfrag_private.h"

void
pfrag_mbuf_free_cb(void *addr, void *opaque __rte_unused)
{
	pfrag_free(addr);
}

struct rte_mempool *
pfrag_mbuf_hdr_pool_create(const char *name, unsigned int n, int socket_id)
{
	/*
	 * The data lives in fragments; the header's own data room is only the
	 * headroom, the least rte_eth_rx_queue_setup() accepts from a driver
	 * whose min_rx_bufsize is 0.
	 */
	return rte_pktmbuf_pool_create(name, n, RTE_MIN(256u, n / 2), 0,
				       RTE_PKTMBUF_HEADROOM, socket_id);
}

/* Ports whose driver declared that they post fragments; read on the control path. */
static uint8_t port_rx_frags[RTE_MAX_ETHPORTS];

void
pfrag_mbuf_port_set_rx_frags(uint16_t port_id, int on)
{
	if (port_id < RTE_MAX_ETHPORTS)
		__atomic_store_n(&port_rx_frags[port_id], on != 0, __ATOMIC_RELAXED);
}

int
pfrag_mbuf_port_rx_frags(uint16_t port_id)
{
	return port_id < RTE_MAX_ETHPORTS &&
		__atomic_load_n(&port_rx_frags[port_id], __ATOMIC_RELAXED) != 0;
}

/* No state of its own: the pfrag pool is the mempool's pool_config. */
static int
pfrag_mbuf_ops_alloc(struct rte_mempool *mp __rte_unused)
{
	return 0;
}

static void
pfrag_mbuf_ops_free(struct rte_mempool *mp __rte_unused)
{
}

/*
 * Every mbuf coming back is its own fragment. A burst freed in the order it
 * was received runs along pages: one atomic per page.
 */
static int
pfrag_mbuf_ops_enqueue(struct rte_mempool *mp __rte_unused, void * const *objs,
		       unsigned int n)
{
	pfrag_free_bulk((void **)(uintptr_t)objs, n);
	return 0;
}

/* rte_pktmbuf_alloc() from this mempool: carve and build, all or none. */
static int
pfrag_mbuf_ops_dequeue(struct rte_mempool *mp, void **objs, unsigned int n)
{
	struct pfrag_pool *pool = mp->pool_config;
	uint32_t size = pfrag_mbuf_build_size(rte_pktmbuf_data_room_size(mp));
	struct rte_mbuf tmpl;
	unsigned int i;

	pfrag_mbuf_template(&tmpl, mp, size);
	for (i = 0; i < n; i++) {
		objs[i] = pfrag_alloc(pool, size, RTE_CACHE_LINE_SIZE);
		if (objs[i] == NULL) {
			pfrag_free_bulk(objs, i);
			return -ENOBUFS;
		}
		pfrag_mbuf_build_from(&tmpl, objs[i], pfrag_iova(objs[i]));
	}
	return 0;
}

/* What a dequeue could take: whole free pages' worth (a floor). */
static unsigned int
pfrag_mbuf_ops_get_count(const struct rte_mempool *mp)
{
	const struct pfrag_pool *pool = mp->pool_config;
	uint32_t size = pfrag_mbuf_build_size(rte_pktmbuf_data_room_size(
		(struct rte_mempool *)(uintptr_t)mp));

	return rte_ring_count(pool->ring) * (pool->page_size / size);
}

static const struct rte_mempool_ops pfrag_mbuf_ops = {
	.name = PFRAG_MBUF_OPS_NAME,
	.alloc = pfrag_mbuf_ops_alloc,
	.free = pfrag_mbuf_ops_free,
	.enqueue = pfrag_mbuf_ops_enqueue,
	.dequeue = pfrag_mbuf_ops_dequeue,
	.get_count = pfrag_mbuf_ops_get_count,
};

/* Where this module's ops are in the table: pfrag_pktmbuf_free_bulk() knows its mbufs by it. */
static int32_t pfrag_mbuf_ops_index = -1;

RTE_INIT(pfrag_mbuf_ops_register)
{
	pfrag_mbuf_ops_index = rte_mempool_register_ops(&pfrag_mbuf_ops);
}

/*
 * One of ours that nobody else holds: its fragment goes back as the mempool
 * ops would give it back, without the mempool layer.
 */
static __rte_always_inline int
pfrag_mbuf_plain(const struct rte_mbuf *m)
{
	return m->pool->ops_index == pfrag_mbuf_ops_index && m->nb_segs == 1 &&
		RTE_MBUF_DIRECT(m) && rte_mbuf_refcnt_read(m) == 1;
}

void
pfrag_pktmbuf_free_bulk(struct rte_mbuf **pkts, unsigned int n)
{
	struct rte_mbuf *rest[64];
	void *frags[64];
	unsigned int nb_frags = 0, nb_rest = 0, i;
	struct rte_mbuf *m;

	/* A burst is usually of one kind: judge it by its first. */
	if (n == 0 || pkts[0] == NULL || !pfrag_mbuf_plain(pkts[0])) {
		rte_pktmbuf_free_bulk(pkts, n);
		return;
	}
	for (i = 0; i < n; i++) {
		m = pkts[i];
		if (m == NULL)
			continue;
		if (pfrag_mbuf_plain(m)) {
			frags[nb_frags++] = m;
			if (nb_frags == RTE_DIM(frags)) {
				pfrag_free_bulk(frags, nb_frags);
				nb_frags = 0;
			}
		} else {
			rest[nb_rest++] = m;
			if (nb_rest == RTE_DIM(rest)) {
				rte_pktmbuf_free_bulk(rest, nb_rest);
				nb_rest = 0;
			}
		}
	}
	pfrag_free_bulk(frags, nb_frags);
	rte_pktmbuf_free_bulk(rest, nb_rest);
}

/*
 * Two modules that each link this library register the ops twice, under
 * one name; a mempool must use this module's, whose frees know this
 * module's pools.
 */
static int
pfrag_mbuf_own_ops(struct rte_mempool *mp)
{
	unsigned int i;

	for (i = 0; i < rte_mempool_ops_table.num_ops; i++) {
		if (rte_mempool_ops_table.ops[i].enqueue == pfrag_mbuf_ops_enqueue) {
			mp->ops_index = (int32_t)i;
			return 0;
		}
	}
	return -ENOENT;
}

static rte_spinlock_t mbuf_pool_lock = RTE_SPINLOCK_INITIALIZER;

struct rte_mempool *
pfrag_mbuf_pool(struct pfrag_pool *pool, uint16_t data_room)
{
	struct rte_pktmbuf_pool_private priv = { .mbuf_data_room_size = 0 };
	uint32_t size = pfrag_mbuf_build_size((uint32_t)data_room + RTE_PKTMBUF_HEADROOM);
	char name[RTE_MEMPOOL_NAMESIZE];
	struct rte_mempool *mp;
	int ret;

	if (pool == NULL || size > pool->page_size ||
	    (uint32_t)data_room + RTE_PKTMBUF_HEADROOM > PFRAG_MBUF_MAX_BUF_LEN) {
		rte_errno = EINVAL;
		return NULL;
	}
	rte_spinlock_lock(&mbuf_pool_lock);
	mp = pool->mbuf_mp;
	if (mp != NULL)
		goto out;
	/* The pool's name may be taken by a later pool: the address is not. */
	snprintf(name, sizeof(name), "pfmb_%" PRIxPTR, (uintptr_t)pool);
	mp = rte_mempool_create_empty(name, pool->nb_pages * (pool->page_size / size), size,
				      0, sizeof(priv), pool->socket_id, 0);
	if (mp == NULL)
		goto out;
	ret = rte_mempool_set_ops_byname(mp, PFRAG_MBUF_OPS_NAME, pool);
	if (ret == 0)
		ret = pfrag_mbuf_own_ops(mp);
	if (ret != 0) {
		PFRAG_LOG(ERR, "pool %s: no %s mempool ops: %s", pool->name,
			  PFRAG_MBUF_OPS_NAME, rte_strerror(-ret));
		rte_mempool_free(mp);
		mp = NULL;
		rte_errno = -ret;
		goto out;
	}
	priv.mbuf_data_room_size = (uint16_t)(data_room + RTE_PKTMBUF_HEADROOM);
	rte_pktmbuf_pool_init(mp, &priv);
	pool->mbuf_mp = mp;
out:
	rte_spinlock_unlock(&mbuf_pool_lock);
	return mp;
}

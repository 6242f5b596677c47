/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * pfrag-l2fwd's mempools: which RX mempool each port gets, and at exit the
 * drain of the ports and the check that every mbuf, fragment and page came
 * back.
 *
 * A port whose driver posts pfrag fragments of its own (our PMD; the library
 * says so: pfrag_mbuf_port_rx_frags()) takes header mbufs only; every other
 * port takes mbufs with data room: from the pfrag mempool ops over pages of
 * a pfrag pool (pfrag_mempool.h), or with --plain-mbufs from DPDK's own
 * rte_pktmbuf_pool_create(), the anchor to compare against.
 */

#include <inttypes.h>
#include <stdio.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "pfrag.h"
#include "pfrag_mbuf.h"
#include "pfrag_mempool.h"

#include "l2fwd.h"

static struct pfrag_pool *frag_pool;     /* behind the pfrag mbuf pool */
static struct rte_mempool *pktmbuf_pool; /* ports of any other driver */
static struct rte_mempool *hdr_pool;     /* header mbufs for our PMD */

/* Mbufs a port set needs, as l2fwd sizes its pool. */
static unsigned int
nb_mbufs_needed(unsigned int nb_ports)
{
	unsigned int cache = RTE_MAX(mbuf_cache, (unsigned int)MBUF_CACHE_DEFAULT);
	/* A mempool cache may hold up to 1.5 times its size. */
	unsigned int n = nb_ports * (RX_DESC_DEFAULT + TX_DESC_DEFAULT + 2 * MAX_PKT_BURST) +
		rte_lcore_count() * (MAX_PKT_BURST + cache * 3 / 2);

	return RTE_MAX(n, NB_MBUF_MIN);
}

/*
 * The RX mempools: header mbufs for ports that post pfrag fragments of their
 * own (pfrag_mbuf_port_rx_frags()), mbufs with data room for the others.
 */
int
l2fwd_pools_create(void)
{
	unsigned int nb_ports = 0, nb_ours = 0, n, pages, per_page;
	uint32_t psz = page_size != 0 ? page_size : PFRAG_DEFAULT_PAGE_SIZE;
	uint32_t obj_size = pfrag_mempool_obj_size(sizeof(struct rte_mbuf) +
						   RTE_MBUF_DEFAULT_BUF_SIZE);
	uint16_t portid;

	FOREACH_ENABLED_PORT(portid) {
		nb_ports++;
		nb_ours += pfrag_mbuf_port_rx_frags(portid) != 0;
	}
	n = nb_mbufs_needed(nb_ports);
	per_page = pfrag_mempool_objs_per_page(obj_size, psz);
	if (per_page == 0) {
		fprintf(stderr, "page size %u is smaller than one mbuf (%u bytes)\n", psz,
			obj_size);
		return -1;
	}
	if (nb_ports > nb_ours && plain_mbufs) {
		/* DPDK l2fwd's pool: the same mbufs, with a per-lcore cache. */
		pktmbuf_pool = rte_pktmbuf_pool_create("l2fwd_mbuf", n, MBUF_CACHE_DEFAULT, 0,
				RTE_MBUF_DEFAULT_BUF_SIZE, rte_socket_id());
		if (pktmbuf_pool == NULL) {
			fprintf(stderr, "mbuf pool: %s\n", rte_strerror(rte_errno));
			return -1;
		}
		printf("plain mbuf pool: %u mbufs of %u bytes\n", n,
		       pktmbuf_pool->elt_size + pktmbuf_pool->header_size +
		       pktmbuf_pool->trailer_size);
	} else if (nb_ports > nb_ours) {
		/* The mbuf pool takes its pages at create and keeps them. */
		pages = nb_pages != 0 ? nb_pages : (n + per_page - 1) / per_page;
		frag_pool = pfrag_pool_create("l2fwd", rte_socket_id(), psz, pages, 0);
		if (frag_pool == NULL) {
			fprintf(stderr, "pfrag pool of %u x %u bytes: %s\n", pages, psz,
				rte_strerror(rte_errno));
			return -1;
		}
		pktmbuf_pool = pfrag_pktmbuf_pool_create("l2fwd_mbuf", n, mbuf_cache, 0,
							 RTE_MBUF_DEFAULT_BUF_SIZE, frag_pool);
		if (pktmbuf_pool == NULL) {
			fprintf(stderr, "pfrag mbuf pool: %s\n", rte_strerror(rte_errno));
			return -1;
		}
		printf("pfrag pool l2fwd: %u pages of %u bytes, %u mbufs of %u bytes each"
		       " (%u per page)\n", pages, psz, n, obj_size, per_page);
	}
	if (nb_ours > 0) {
		/* Header mbufs: the PMD attaches its fragments to them. */
		hdr_pool = pfrag_mbuf_hdr_pool_create("l2fwd_hdr", n, rte_socket_id());
		if (hdr_pool == NULL) {
			fprintf(stderr, "header mbuf pool: %s\n", rte_strerror(rte_errno));
			return -1;
		}
	}
	return 0;
}

struct rte_mempool *
l2fwd_rx_pool(uint16_t portid, const char **what)
{
	if (pfrag_mbuf_port_rx_frags(portid)) {
		*what = "the PMD's pfrag caches";
		return hdr_pool;
	}
	*what = plain_mbufs ? "a plain mbuf pool" : "the pfrag mbuf pool";
	return pktmbuf_pool;
}

/* Free what port @p portid's RX ring holds, until empty or @p deadline; how many. */
static uint64_t
drain_port(uint16_t portid, uint64_t deadline)
{
	struct rte_mbuf *pkts[MAX_PKT_BURST];
	uint64_t got = 0;
	uint16_t n;

	do {
		n = rte_eth_rx_burst(portid, 0, pkts, MAX_PKT_BURST);
		rte_pktmbuf_free_bulk(pkts, n);
		port_stats[portid].rx += n;
		drained_at_exit += n;
		got += n;
	} while (n > 0 && rte_get_timer_cycles() < deadline);
	return got;
}

/*
 * After the workers stopped: send what waits in the TX buffers and take in
 * what the peer already put in our RX rings, so that the counters are final
 * and no mbuf sits in a ring of a PMD (net_ring) that does not free at close.
 * A peer that never stops sending (net_null, a traffic generator) would keep
 * the drain busy forever: it stops at L2FWD_DRAIN_MS and says which ports
 * were still receiving. Returns how many were (0: the rings went idle).
 */
unsigned int
l2fwd_drain_ports(void)
{
	uint64_t busy[RTE_MAX_ETHPORTS] = { 0 };
	const uint64_t deadline = rte_get_timer_cycles() +
		rte_get_timer_hz() * L2FWD_DRAIN_MS / MS_PER_S;
	unsigned int pass, nb_busy = 0;
	uint16_t portid;
	bool idle = false;

	RTE_ETH_FOREACH_DEV(portid) {
		if (tx_buffer[portid] != NULL)
			port_stats[portid].tx +=
				rte_eth_tx_buffer_flush(portid, 0, tx_buffer[portid]);
	}
	/* Until a pass past the first (a millisecond for late packets) finds nothing. */
	for (pass = 0; !idle && rte_get_timer_cycles() < deadline; pass++) {
		idle = pass > 0;
		FOREACH_ENABLED_PORT(portid) {
			busy[portid] = drain_port(portid, deadline);
			if (busy[portid] != 0)
				idle = false;
		}
		if (!idle)
			rte_delay_us_sleep(1000);
	}
	if (idle)
		return 0;
	FOREACH_ENABLED_PORT(portid) {
		if (busy[portid] == 0)
			continue;
		fprintf(stderr, "warning: port %u still receiving when the exit drain stopped "
			"after %u ms (%" PRIu64 " packets in its last pass): its counters are "
			"not final\n", portid, L2FWD_DRAIN_MS, busy[portid]);
		nb_busy++;
	}
	return nb_busy;
}

static void
drain_pool_caches(struct pfrag_pool *pool, void *arg __rte_unused)
{
	pfrag_pool_drain_caches(pool);
}

/*
 * After close every mbuf and fragment must be back: the pfrag mbuf pool
 * refuses to go while mbufs are out, and gives its pages back to the pfrag
 * pool when it goes. Then pages, not only fragments: once the lcore caches
 * gave back their current pages, a page still in use is a leaked reference.
 * @p after gets the pools' figures. 0 when everything came back.
 */
int
l2fwd_pools_check_back(struct pool_sum *after)
{
	int ret = 0;

	if (pfrag_mempool_is_pfrag(pktmbuf_pool)) {
		if (pfrag_pktmbuf_pool_free(pktmbuf_pool) == 0)
			pktmbuf_pool = NULL;
		else
			ret = -1;
	}
	pfrag_pool_walk(drain_pool_caches, NULL);
	l2fwd_pools_sum(after);
	return ret;
}

int
l2fwd_pools_free(void)
{
	int ret = 0;

	if (pfrag_mempool_is_pfrag(pktmbuf_pool)) {
		if (pfrag_pktmbuf_pool_free(pktmbuf_pool) != 0)
			ret = -1;
	} else {
		rte_mempool_free(pktmbuf_pool);
	}
	if (frag_pool != NULL && pfrag_pool_free(frag_pool) != 0)
		ret = -1;
	rte_mempool_free(hdr_pool);
	return ret;
}

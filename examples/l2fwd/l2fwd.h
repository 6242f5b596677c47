/* SPDX-License-Identifier: BSD-3-Clause */

#ifndef _L2FWD_H_
#define _L2FWD_H_

/*
 * What pfrag-l2fwd's forwarding (main.c) and its reporting (l2fwd_report.c)
 * share: the options the report prints by, the port pairs and the counters.
 */

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_ethdev.h>
#include <rte_ether.h>

#define MAX_PKT_BURST 32
#define RX_DESC_DEFAULT 1024
#define TX_DESC_DEFAULT 1024
#define NB_MBUF_MIN 8192u
#define MBUF_CACHE_DEFAULT 256
/* The exit drain stops after this long even if a peer keeps sending. */
#define L2FWD_DRAIN_MS 2000u

/* Options. */
extern uint32_t enabled_port_mask;
extern int mac_updating;
extern int json_output;
extern uint32_t page_size;       /* pfrag page size; 0: the build default */
extern uint32_t nb_pages;        /* pages of the pfrag pool; 0: sized from the mbufs */
extern int plain_mbufs;          /* other drivers: rte_pktmbuf_pool_create(), the anchor */
extern unsigned int mbuf_cache;  /* per-lcore cache of the mbuf pool */

/* Every port of the portmask, also after close released it. */
#define FOREACH_ENABLED_PORT(p) \
	for ((p) = 0; (p) < RTE_MIN(32, RTE_MAX_ETHPORTS); (p)++) \
		if (enabled_port_mask & (1u << (p)))

extern uint16_t dst_port[RTE_MAX_ETHPORTS];
extern struct rte_ether_addr port_mac[RTE_MAX_ETHPORTS];

/*
 * One writer per field: rx by the lcore polling the port, tx and dropped by
 * the lcore polling its pair (the TX buffer callback counts drops).
 */
struct port_stats {
	uint64_t rx;
	uint64_t tx;
	uint64_t dropped;
} __rte_cache_aligned;
extern struct port_stats port_stats[RTE_MAX_ETHPORTS];
/* TX buffers of the ports, flushed at exit too. */
extern struct rte_eth_dev_tx_buffer *tx_buffer[RTE_MAX_ETHPORTS];
/* Device counters read before close, for the final report. */
extern struct rte_eth_stats hw_stats[RTE_MAX_ETHPORTS];

extern uint64_t start_tsc;       /* when the workers were launched */
extern uint64_t drained_at_exit; /* received after the workers stopped, freed */
/* Ports still receiving when the exit drain gave up: their counters are not final. */
extern unsigned int ports_busy_at_exit;

/* Sums over every pfrag pool of the process (ours and the PMD's). */
struct pool_sum {
	uint64_t pages_in_use;
	uint64_t pinned_bytes;    /* pages in use x page size */
	uint64_t frags_out;
	uint64_t refill;
	uint64_t reuse;
	uint64_t alloc_fail;
	unsigned int nb_pools;
};

/*
 * Mempools (l2fwd_pools.c). Create what the enabled ports need; the RX
 * mempool of a port, and in @p what where its RX buffers come from; after
 * close, 0 when every mbuf, fragment and page came back (figures in
 * @p after); free them, 0 when all went.
 */
int l2fwd_pools_create(void);
struct rte_mempool *l2fwd_rx_pool(uint16_t portid, const char **what);
int l2fwd_pools_check_back(struct pool_sum *after);
/*
 * Once the workers stopped: send what waits in the TX buffers, free what the
 * RX rings hold, for at most L2FWD_DRAIN_MS; how many ports still received then.
 */
unsigned int l2fwd_drain_ports(void);
int l2fwd_pools_free(void);

/* Add up every pfrag pool of the process into @p sum. */
void l2fwd_pools_sum(struct pool_sum *sum);

/* The periodic statistics: ports since the last call, then each pool. */
void l2fwd_print_stats(void);

/*
 * The final report, as text or (--json) one JSON object: @p secs of
 * forwarding, pools as the run left them (@p run) and after close (@p after).
 */
void l2fwd_print_final(double secs, const struct pool_sum *run, const struct pool_sum *after);

#endif /* _L2FWD_H_ */

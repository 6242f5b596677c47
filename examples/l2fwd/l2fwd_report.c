/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * pfrag-l2fwd's reporting: the statistics every -T seconds and the final
 * report (text, or one JSON object with --json). Port counters come from
 * the forwarding lcores (l2fwd.h); pool figures from pfrag_pool_walk().
 */

#include <inttypes.h>
#include <stdio.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>

#include "pfrag.h"

#include "l2fwd.h"

static void
pool_add(struct pfrag_pool *pool, void *arg)
{
	struct pool_sum *sum = arg;
	struct pfrag_pool_info info;

	if (pfrag_pool_info_get(pool, &info) != 0)
		return;
	sum->pages_in_use += info.pages_in_use;
	sum->pinned_bytes += (uint64_t)info.pages_in_use * info.page_size;
	sum->frags_out += info.frags_out;
	sum->refill += info.stats.refill;
	sum->reuse += info.stats.reuse;
	sum->alloc_fail += info.stats.alloc_fail;
	sum->nb_pools++;
}

/* Bytes of pages held per fragment out: what one packet in flight costs. */
static double
pinned_per_pkt(uint64_t pinned_bytes, uint64_t frags_out)
{
	return frags_out != 0 ? (double)pinned_bytes / frags_out : 0.0;
}

/* Pages refilled by reusing them in place, out of all refills. */
static double
reuse_pct(uint64_t reuse, uint64_t refill)
{
	return reuse + refill != 0 ? 100.0 * reuse / (reuse + refill) : 0.0;
}

/* Counters of each pool at the previous statistics line. */
static struct {
	const struct pfrag_pool *pool;
	struct pfrag_stats stats;
} pool_prev[PFRAG_MAX_POOLS];

static void
print_pool(struct pfrag_pool *pool, void *arg)
{
	struct pfrag_pool_info info;
	struct pfrag_stats *prev = NULL;
	unsigned int i;

	RTE_SET_USED(arg);
	if (pfrag_pool_info_get(pool, &info) != 0)
		return;
	for (i = 0; i < RTE_DIM(pool_prev) && prev == NULL; i++) {
		if (pool_prev[i].pool == NULL)
			pool_prev[i].pool = pool;
		if (pool_prev[i].pool == pool)
			prev = &pool_prev[i].stats;
	}
	/* The reuse rate is over the last period, where the pool is now. */
	printf("pool %-14s pages in use %6u/%-6u fragments in flight %7" PRIu64
	       "  bytes pinned/pkt %5.0f  reuse-in-place %5.1f%%\n",
	       pool->name, info.pages_in_use, info.nb_pages, info.frags_out,
	       pinned_per_pkt((uint64_t)info.pages_in_use * info.page_size, info.frags_out),
	       prev == NULL ? 0.0 : reuse_pct(info.stats.reuse - prev->reuse,
					      info.stats.refill - prev->refill));
	if (prev != NULL)
		*prev = info.stats;
}

void
l2fwd_print_stats(void)
{
	static struct port_stats last[RTE_MAX_ETHPORTS];
	static uint64_t last_tsc;
	uint64_t now = rte_rdtsc(), tot_rx = 0, tot_tx = 0, tot_drop = 0, d_tx = 0;
	double secs;
	uint16_t portid;

	if (last_tsc == 0)
		last_tsc = start_tsc;
	secs = (double)(now - last_tsc) / rte_get_tsc_hz();
	last_tsc = now;

	printf("\nPort statistics ====================================\n");
	RTE_ETH_FOREACH_DEV(portid) {
		struct port_stats s = port_stats[portid];

		if (!(enabled_port_mask & (1u << portid)))
			continue;
		printf("port %2u  rx %14" PRIu64 "  tx %14" PRIu64 "  dropped %10" PRIu64
		       "  tx %7.3f Mpps\n", portid, s.rx, s.tx, s.dropped,
		       secs > 0 ? (s.tx - last[portid].tx) / secs / 1e6 : 0.0);
		tot_rx += s.rx;
		tot_tx += s.tx;
		tot_drop += s.dropped;
		d_tx += s.tx - last[portid].tx;
		last[portid] = s;
	}
	printf("total    rx %14" PRIu64 "  tx %14" PRIu64 "  dropped %10" PRIu64
	       "  tx %7.3f Mpps\n", tot_rx, tot_tx, tot_drop,
	       secs > 0 ? d_tx / secs / 1e6 : 0.0);
	pfrag_pool_walk(print_pool, NULL);
	printf("====================================================\n");
	fflush(stdout);
}

void
l2fwd_pools_sum(struct pool_sum *sum)
{
	pfrag_pool_walk(pool_add, sum);
}

#define JSON_COUNTER(name, desc) printf(",\"" #name "\":%" PRIu64, info.stats.name);

static void
json_pool(struct pfrag_pool *pool, void *arg)
{
	int *first = arg;
	struct pfrag_pool_info info;

	if (pfrag_pool_info_get(pool, &info) != 0)
		return;
	printf("%s{\"name\":\"%s\",\"page_size\":%u,\"nb_pages\":%u,\"pages_in_use\":%u,"
	       "\"frags_in_flight\":%" PRIu64, *first ? "" : ",", pool->name, info.page_size,
	       info.nb_pages, info.pages_in_use, info.frags_out);
	PFRAG_STATS_LIST(JSON_COUNTER)
	printf("}");
	*first = 0;
}

void
l2fwd_print_final(double secs, const struct pool_sum *run, const struct pool_sum *after)
{
	uint64_t frags_left = after->frags_out;
	uint64_t tot_rx = 0, tot_tx = 0, tot_drop = 0;
	const struct rte_eth_stats *hw;
	uint16_t portid;
	double pinned = pinned_per_pkt(run->pinned_bytes, run->frags_out);
	double reuse_rate = reuse_pct(run->reuse, run->refill);
	int first = 1;

	FOREACH_ENABLED_PORT(portid) {
		tot_rx += port_stats[portid].rx;
		tot_tx += port_stats[portid].tx;
		tot_drop += port_stats[portid].dropped;
	}

	if (!json_output) {
		printf("\nFinal: %.2f s, rx %" PRIu64 " tx %" PRIu64 " dropped %" PRIu64
		       " (+ %" PRIu64 " received at exit and freed), %.3f Mpps forwarded\n",
		       secs, tot_rx, tot_tx, tot_drop, drained_at_exit,
		       secs > 0 ? tot_tx / secs / 1e6 : 0.0);
		printf("pools at end of run: %" PRIu64 " pages in use, %" PRIu64
		       " fragments in flight, %.0f bytes pinned/pkt, reuse-in-place"
		       " %.1f%%, %" PRIu64 " failed allocations\n", run->pages_in_use,
		       run->frags_out, pinned, reuse_rate, run->alloc_fail);
		printf("after close: %" PRIu64 " fragments in flight, %" PRIu64 " pages in use\n",
		       frags_left, after->pages_in_use);
		if (ports_busy_at_exit != 0)
			printf("%u ports still receiving when the exit drain stopped: their "
			       "counters are not final\n", ports_busy_at_exit);
		return;
	}
	printf("{\"duration_s\":%.3f,\"mac_updating\":%s,\"ports\":[", secs,
	       mac_updating ? "true" : "false");
	FOREACH_ENABLED_PORT(portid) {
		hw = &hw_stats[portid];
		printf("%s{\"port\":%u,\"dst_port\":%u,\"mac\":\"" RTE_ETHER_ADDR_PRT_FMT
		       "\",\"rx\":%" PRIu64 ",\"tx\":%" PRIu64 ",\"dropped\":%" PRIu64
		       ",\"ipackets\":%" PRIu64 ",\"opackets\":%" PRIu64 ",\"imissed\":%" PRIu64
		       ",\"ierrors\":%" PRIu64 ",\"oerrors\":%" PRIu64 ",\"rx_nombuf\":%" PRIu64
		       "}", first ? "" : ",", portid, dst_port[portid],
		       RTE_ETHER_ADDR_BYTES(&port_mac[portid]), port_stats[portid].rx,
		       port_stats[portid].tx, port_stats[portid].dropped, hw->ipackets,
		       hw->opackets, hw->imissed, hw->ierrors, hw->oerrors, hw->rx_nombuf);
		first = 0;
	}
	printf("],\"total\":{\"rx\":%" PRIu64 ",\"tx\":%" PRIu64 ",\"dropped\":%" PRIu64
	       ",\"drained_at_exit\":%" PRIu64 ",\"ports_busy_at_exit\":%u,\"mpps\":%.3f},",
	       tot_rx, tot_tx, tot_drop, drained_at_exit, ports_busy_at_exit,
	       secs > 0 ? tot_tx / secs / 1e6 : 0.0);
	printf("\"run_pool\":{\"pools\":%u,\"pages_in_use\":%" PRIu64 ",\"pinned_bytes\":%"
	       PRIu64 ",\"frags_in_flight\":%" PRIu64 ",\"bytes_pinned_per_pkt\":%.0f,"
	       "\"reuse_in_place_pct\":%.1f,\"alloc_fail\":%" PRIu64 "},", run->nb_pools,
	       run->pages_in_use, run->pinned_bytes, run->frags_out, pinned, reuse_rate,
	       run->alloc_fail);
	printf("\"pools\":[");
	first = 1;
	pfrag_pool_walk(json_pool, &first);
	printf("],\"frags_in_flight_after_close\":%" PRIu64 ",\"pages_in_use_after_close\":%"
	       PRIu64 "}\n", frags_left, after->pages_in_use);
}

/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * pfrag-l2fwd: forward every packet received on a port to its paired port,
 * rewriting the MAC addresses, with RX buffers from pfrag. DPDK l2fwd's
 * command line; periodic per-port and pool statistics; a clean shutdown
 * that checks every fragment came back.
 *
 * RX buffers: a port of our PMD (net_virtio_frag*) posts fragments from its
 * queues' own pfrag caches and takes only header mbufs from its mempool;
 * any other ethdev gets a pfrag-backed mbuf pool (pfrag_mempool.h).
 */

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "pfrag.h"
#include "pfrag_mbuf.h"
#include "pfrag_mempool.h"

#define MAX_PKT_BURST 32
#define BURST_TX_DRAIN_US 100
#define MAX_RX_PORT_PER_LCORE 16
#define MAX_TIMER_PERIOD 86400 /* seconds */
#define RX_DESC_DEFAULT 1024
#define TX_DESC_DEFAULT 1024
#define NB_MBUF_MIN 8192u
/* Drivers whose RX queues own pfrag caches: they want header mbufs only. */
#define PFRAG_PMD_PREFIX "net_virtio_frag"

#define EXIT_USAGE 2

static volatile bool force_quit;

/* Options. */
static uint32_t enabled_port_mask;
static int promiscuous_on;
static unsigned int rx_port_per_lcore = 1;
static uint64_t timer_period = 10; /* seconds; 0 disables */
static int mac_updating = 1;
static int json_output;
static uint32_t page_size;  /* 0: the build default */
static uint32_t nb_pages;   /* 0: sized from the mbuf count */
static int plain_mbufs;     /* other drivers: rte_pktmbuf_pool_create(), the anchor */
#define MBUF_CACHE_DEFAULT 256
/* Per-lcore mempool cache of the mbuf pool: hot mbufs come back at once. */
static unsigned int mbuf_cache = MBUF_CACHE_DEFAULT;

static uint16_t dst_port[RTE_MAX_ETHPORTS];
static struct rte_ether_addr port_mac[RTE_MAX_ETHPORTS];
static int port_is_pfrag_pmd[RTE_MAX_ETHPORTS];

struct portmap {
	uint16_t a;
	uint16_t b;
};
static struct portmap portmaps[RTE_MAX_ETHPORTS];
static unsigned int nb_portmaps;

/* What one lcore polls; written before launch, read-only afterwards. */
struct lcore_conf {
	unsigned int n_rx_port;
	uint16_t rx_port[MAX_RX_PORT_PER_LCORE];
	uint64_t first_rx_tsc;  /* first packet seen by this lcore */
} __rte_cache_aligned;
static struct lcore_conf lcore_conf[RTE_MAX_LCORE];

static struct rte_eth_dev_tx_buffer *tx_buffer[RTE_MAX_ETHPORTS];

/*
 * One writer per field: rx by the lcore polling the port, tx and dropped by
 * the lcore polling its pair (the TX buffer callback counts drops).
 */
struct port_stats {
	uint64_t rx;
	uint64_t tx;
	uint64_t dropped;
} __rte_cache_aligned;
static struct port_stats port_stats[RTE_MAX_ETHPORTS];
/* Device counters read before close, for the final report. */
static struct rte_eth_stats hw_stats[RTE_MAX_ETHPORTS];
static bool port_started[RTE_MAX_ETHPORTS];

/* Every port of the portmask, also after close released it. */
#define FOREACH_ENABLED_PORT(p) \
	for ((p) = 0; (p) < RTE_MIN(32, RTE_MAX_ETHPORTS); (p)++) \
		if (enabled_port_mask & (1u << (p)))

static struct pfrag_pool *frag_pool;   /* behind the pfrag mbuf pool */
static struct rte_mempool *pktmbuf_pool; /* ports of any other driver */
static struct rte_mempool *hdr_pool;   /* header mbufs for our PMD */

static uint64_t start_tsc;
static uint64_t drained_at_exit; /* received after the workers stopped, freed */

static void
usage(const char *prgname)
{
	fprintf(stderr,
		"usage: %s [EAL options] -- -p PORTMASK [-P] [-q NQ] [-T PERIOD]\n"
		"       [--no-mac-updating | --mac-updating] [--portmap=\"(0,1)(2,3)\"]\n"
		"       [--json] [--page-size BYTES] [--pages N] [--mbuf-cache N]\n"
		"       [--plain-mbufs]\n"
		"  -p PORTMASK: hexadecimal bitmask of the ports to use\n"
		"  -P: put the ports in promiscuous mode\n"
		"  -q NQ: ports (RX queues) polled per lcore, 1..%d (default 1)\n"
		"  -T PERIOD: statistics every PERIOD seconds, 0 to disable, at most %d"
		" (default 10)\n"
		"  --no-mac-updating: forward packets unchanged\n"
		"  --mac-updating: rewrite dst to 02:00:00:00:00:<TX port> and src to the"
		" TX port's MAC (default)\n"
		"  --portmap: explicit port pairs; unlisted ports are paired in order\n"
		"  --json: print the final statistics as one JSON object on stdout\n"
		"  --page-size BYTES: pfrag page size (power of two, default %u)\n"
		"  --pages N: pages in the pfrag pool (default: sized from the mbuf count)\n"
		"  --mbuf-cache N: per-lcore cache of the pfrag mbuf pool, 0 to let pfrag\n"
		"    recycle every mbuf (default %u)\n"
		"  --plain-mbufs: ports of other drivers get a plain rte_pktmbuf pool\n"
		"    instead of the pfrag mbuf pool (to compare against)\n",
		prgname, MAX_RX_PORT_PER_LCORE, MAX_TIMER_PERIOD,
		(unsigned int)PFRAG_DEFAULT_PAGE_SIZE, MBUF_CACHE_DEFAULT);
}

/* Parse an unsigned number of @p base in [min, max]; -1 when it is not one. */
static int
parse_uint(const char *s, int base, uint64_t min, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (s == NULL || *s == '\0' || *s == '-')
		return -1;
	errno = 0;
	v = strtoull(s, &end, base);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* "(0,1)(2,3)": pairs of port ids, each port at most once. */
static int
parse_portmap(const char *s)
{
	uint64_t seen = 0;
	unsigned int a, b;
	int n;

	nb_portmaps = 0;
	while (*s != '\0') {
		if (sscanf(s, " ( %u , %u ) %n", &a, &b, &n) != 2 || n == 0)
			return -1;
		if (a >= RTE_MAX_ETHPORTS || b >= RTE_MAX_ETHPORTS || a >= 64 || b >= 64)
			return -1;
		if ((seen & (UINT64_C(1) << a)) || (seen & (UINT64_C(1) << b)))
			return -1;
		seen |= (UINT64_C(1) << a) | (UINT64_C(1) << b);
		portmaps[nb_portmaps].a = a;
		portmaps[nb_portmaps].b = b;
		nb_portmaps++;
		s += n;
	}
	return nb_portmaps > 0 ? 0 : -1;
}

enum {
	OPT_NO_MAC_UPDATING = 256,
	OPT_MAC_UPDATING,
	OPT_PORTMAP,
	OPT_JSON,
	OPT_PAGE_SIZE,
	OPT_PAGES,
	OPT_PLAIN_MBUFS,
	OPT_MBUF_CACHE,
};

static const struct option long_options[] = {
	{ "no-mac-updating", no_argument, NULL, OPT_NO_MAC_UPDATING },
	{ "mac-updating", no_argument, NULL, OPT_MAC_UPDATING },
	{ "portmap", required_argument, NULL, OPT_PORTMAP },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "page-size", required_argument, NULL, OPT_PAGE_SIZE },
	{ "pages", required_argument, NULL, OPT_PAGES },
	{ "plain-mbufs", no_argument, NULL, OPT_PLAIN_MBUFS },
	{ "mbuf-cache", required_argument, NULL, OPT_MBUF_CACHE },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* 0 when the options are good, 1 for help, -1 otherwise (the caller prints the usage). */
static int
parse_args(int argc, char **argv)
{
	uint64_t v;
	int opt;

	optind = 1;
	opterr = 1;
	while ((opt = getopt_long(argc, argv, "p:Pq:T:h", long_options, NULL)) != -1) {
		switch (opt) {
		case 'p':
			if (parse_uint(optarg, 16, 1, UINT32_MAX, &v) != 0) {
				fprintf(stderr, "invalid portmask '%s'\n", optarg);
				return -1;
			}
			enabled_port_mask = v;
			break;
		case 'P':
			promiscuous_on = 1;
			break;
		case 'q':
			if (parse_uint(optarg, 10, 1, MAX_RX_PORT_PER_LCORE, &v) != 0) {
				fprintf(stderr, "invalid queue number '%s'\n", optarg);
				return -1;
			}
			rx_port_per_lcore = v;
			break;
		case 'T':
			if (parse_uint(optarg, 10, 0, MAX_TIMER_PERIOD, &v) != 0) {
				fprintf(stderr, "invalid timer period '%s'\n", optarg);
				return -1;
			}
			timer_period = v;
			break;
		case OPT_NO_MAC_UPDATING:
			mac_updating = 0;
			break;
		case OPT_MAC_UPDATING:
			mac_updating = 1;
			break;
		case OPT_PORTMAP:
			if (parse_portmap(optarg) != 0) {
				fprintf(stderr, "invalid portmap '%s'\n", optarg);
				return -1;
			}
			break;
		case OPT_JSON:
			json_output = 1;
			break;
		case OPT_PAGE_SIZE:
			if (parse_uint(optarg, 0, PFRAG_MIN_PAGE_SIZE, 1u << 30, &v) != 0 ||
			    !rte_is_power_of_2(v)) {
				fprintf(stderr, "invalid page size '%s'\n", optarg);
				return -1;
			}
			page_size = v;
			break;
		case OPT_PAGES:
			if (parse_uint(optarg, 0, 1, UINT32_MAX, &v) != 0) {
				fprintf(stderr, "invalid page count '%s'\n", optarg);
				return -1;
			}
			nb_pages = v;
			break;
		case OPT_PLAIN_MBUFS:
			plain_mbufs = 1;
			break;
		case OPT_MBUF_CACHE:
			if (parse_uint(optarg, 10, 0, RTE_MEMPOOL_CACHE_MAX_SIZE, &v) != 0) {
				fprintf(stderr, "invalid mbuf cache size '%s'\n", optarg);
				return -1;
			}
			mbuf_cache = v;
			break;
		case 'h':
			return 1;
		default:
			return -1;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	if (enabled_port_mask == 0) {
		fprintf(stderr, "a portmask (-p) is required\n");
		return -1;
	}
	return 0;
}

static void
signal_handler(int signum)
{
	if (signum == SIGINT || signum == SIGTERM) {
		/* Async-signal-safe: write(2), not printf. */
		static const char msg[] = "\nsignal received, stopping\n";
		ssize_t unused;

		force_quit = true;
		unused = write(STDERR_FILENO, msg, sizeof(msg) - 1);
		RTE_SET_USED(unused);
	}
}

/* Pair the enabled ports: the portmap first, then the rest in order. */
static int
pair_ports(void)
{
	uint16_t last = RTE_MAX_ETHPORTS, portid;
	bool mapped[RTE_MAX_ETHPORTS] = { false };
	unsigned int i;

	for (i = 0; i < nb_portmaps; i++) {
		uint16_t a = portmaps[i].a, b = portmaps[i].b;

		if (!(enabled_port_mask & (1u << a)) || !(enabled_port_mask & (1u << b)) ||
		    !rte_eth_dev_is_valid_port(a) || !rte_eth_dev_is_valid_port(b)) {
			fprintf(stderr, "portmap (%u,%u): both ports must exist and be in the"
				" portmask\n", a, b);
			return -1;
		}
		dst_port[a] = b;
		dst_port[b] = a;
		mapped[a] = mapped[b] = true;
	}
	RTE_ETH_FOREACH_DEV(portid) {
		if (!(enabled_port_mask & (1u << portid)) || mapped[portid])
			continue;
		if (last == RTE_MAX_ETHPORTS) {
			last = portid;
		} else {
			dst_port[portid] = last;
			dst_port[last] = portid;
			last = RTE_MAX_ETHPORTS;
		}
	}
	if (last != RTE_MAX_ETHPORTS) {
		printf("Notice: odd number of ports in portmask: port %u forwards to itself\n",
		       last);
		dst_port[last] = last;
	}
	return 0;
}

static inline void
mac_update(struct rte_mbuf *m, uint16_t dest)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);

	/* dst 02:00:00:00:00:<TX port>, a locally administered unicast. */
	memset(&eth->dst_addr, 0, sizeof(eth->dst_addr));
	eth->dst_addr.addr_bytes[0] = 0x02;
	eth->dst_addr.addr_bytes[5] = (uint8_t)dest;
	rte_ether_addr_copy(&port_mac[dest], &eth->src_addr);
}

static inline void
forward(struct rte_mbuf *m, uint16_t portid)
{
	uint16_t dest = dst_port[portid];
	uint16_t sent;

	if (mac_updating)
		mac_update(m, dest);
	sent = rte_eth_tx_buffer(dest, 0, tx_buffer[dest], m);
	if (sent != 0)
		port_stats[dest].tx += sent;
}

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

static void
print_stats(void)
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

static int
l2fwd_main_loop(__rte_unused void *arg)
{
	const uint64_t drain_tsc = (rte_get_tsc_hz() + US_PER_S - 1) / US_PER_S *
		BURST_TX_DRAIN_US;
	const uint64_t stats_tsc = timer_period * rte_get_tsc_hz();
	unsigned int lcore_id = rte_lcore_id();
	struct lcore_conf *qconf = &lcore_conf[lcore_id];
	bool is_main = lcore_id == rte_get_main_lcore();
	struct rte_mbuf *pkts[MAX_PKT_BURST];
	uint64_t prev_tsc = 0, timer_tsc = 0, cur_tsc, diff;
	unsigned int i, j;
	uint16_t portid, nb_rx;

	if (qconf->n_rx_port == 0 && !is_main) {
		printf("lcore %u has nothing to do\n", lcore_id);
		return 0;
	}
	for (i = 0; i < qconf->n_rx_port; i++)
		printf("lcore %u: RX port %u -> TX port %u\n", lcore_id, qconf->rx_port[i],
		       dst_port[qconf->rx_port[i]]);

	while (!force_quit) {
		cur_tsc = rte_rdtsc();
		diff = cur_tsc - prev_tsc;
		if (unlikely(diff > drain_tsc)) {
			/* TX whatever waited a whole drain period for a full burst. */
			for (i = 0; i < qconf->n_rx_port; i++) {
				portid = dst_port[qconf->rx_port[i]];
				port_stats[portid].tx +=
					rte_eth_tx_buffer_flush(portid, 0, tx_buffer[portid]);
			}
			if (is_main && stats_tsc != 0) {
				timer_tsc += diff;
				if (unlikely(timer_tsc >= stats_tsc)) {
					print_stats();
					timer_tsc = 0;
				}
			}
			prev_tsc = cur_tsc;
		}
		if (qconf->n_rx_port == 0) {
			rte_delay_us_sleep(BURST_TX_DRAIN_US);
			continue;
		}
		for (i = 0; i < qconf->n_rx_port; i++) {
			portid = qconf->rx_port[i];
			nb_rx = rte_eth_rx_burst(portid, 0, pkts, MAX_PKT_BURST);
			if (nb_rx == 0)
				continue;
			if (unlikely(qconf->first_rx_tsc == 0))
				qconf->first_rx_tsc = cur_tsc;
			port_stats[portid].rx += nb_rx;
			for (j = 0; j < nb_rx; j++) {
				rte_prefetch0(rte_pktmbuf_mtod(pkts[j], void *));
				forward(pkts[j], portid);
			}
		}
	}
	return 0;
}

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

static int
create_pools(unsigned int nb_ports, unsigned int nb_ours)
{
	unsigned int n = nb_mbufs_needed(nb_ports), pages, per_page;
	uint32_t psz = page_size != 0 ? page_size : PFRAG_DEFAULT_PAGE_SIZE;
	uint32_t obj_size = pfrag_mempool_obj_size(sizeof(struct rte_mbuf) +
						   RTE_MBUF_DEFAULT_BUF_SIZE);

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

static int
port_init(uint16_t portid)
{
	uint16_t nb_rxd = RX_DESC_DEFAULT, nb_txd = TX_DESC_DEFAULT;
	struct rte_eth_conf conf;
	struct rte_eth_dev_info info;
	struct rte_eth_rxconf rxq_conf;
	struct rte_eth_txconf txq_conf;
	struct rte_mempool *mp;
	int ret;

	memset(&conf, 0, sizeof(conf));
	ret = rte_eth_dev_info_get(portid, &info);
	if (ret != 0)
		return ret;
	/*
	 * No RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE: a port sends mbufs of its
	 * pair's pool, and our PMD's mbufs carry fragments as external
	 * buffers that only rte_pktmbuf_free() detaches.
	 */
	ret = rte_eth_dev_configure(portid, 1, 1, &conf);
	if (ret < 0)
		return ret;
	ret = rte_eth_dev_adjust_nb_rx_tx_desc(portid, &nb_rxd, &nb_txd);
	if (ret < 0)
		return ret;
	ret = rte_eth_macaddr_get(portid, &port_mac[portid]);
	if (ret < 0)
		return ret;

	mp = port_is_pfrag_pmd[portid] ? hdr_pool : pktmbuf_pool;
	rxq_conf = info.default_rxconf;
	rxq_conf.offloads = conf.rxmode.offloads;
	ret = rte_eth_rx_queue_setup(portid, 0, nb_rxd, rte_eth_dev_socket_id(portid),
				     &rxq_conf, mp);
	if (ret < 0)
		return ret;
	txq_conf = info.default_txconf;
	txq_conf.offloads = conf.txmode.offloads;
	ret = rte_eth_tx_queue_setup(portid, 0, nb_txd, rte_eth_dev_socket_id(portid),
				     &txq_conf);
	if (ret < 0)
		return ret;

	tx_buffer[portid] = rte_zmalloc_socket("tx_buffer",
			RTE_ETH_TX_BUFFER_SIZE(MAX_PKT_BURST), 0,
			rte_eth_dev_socket_id(portid));
	if (tx_buffer[portid] == NULL)
		return -ENOMEM;
	rte_eth_tx_buffer_init(tx_buffer[portid], MAX_PKT_BURST);
	/* Packets the TX ring refused are freed and counted, never lost. */
	ret = rte_eth_tx_buffer_set_err_callback(tx_buffer[portid],
			rte_eth_tx_buffer_count_callback, &port_stats[portid].dropped);
	if (ret < 0)
		return ret;

	ret = rte_eth_dev_start(portid);
	if (ret < 0)
		return ret;
	port_started[portid] = true;
	if (promiscuous_on) {
		ret = rte_eth_promiscuous_enable(portid);
		if (ret != 0)
			printf("port %u: promiscuous mode: %s\n", portid, rte_strerror(-ret));
	}
	printf("port %u (%s): MAC " RTE_ETHER_ADDR_PRT_FMT ", %u RX / %u TX descriptors,"
	       " RX buffers from %s\n", portid, info.driver_name,
	       RTE_ETHER_ADDR_BYTES(&port_mac[portid]), nb_rxd, nb_txd,
	       port_is_pfrag_pmd[portid] ? "the PMD's pfrag caches" :
	       plain_mbufs ? "a plain mbuf pool" : "the pfrag mbuf pool");
	return 0;
}

/* Wait up to @p ms for the links to come up, as l2fwd does; report them. */
static void
check_links(unsigned int ms)
{
	struct rte_eth_link link;
	bool all_up = false;
	unsigned int waited;
	uint16_t portid;

	for (waited = 0; waited <= ms && !force_quit && !all_up; waited += 100) {
		all_up = true;
		RTE_ETH_FOREACH_DEV(portid) {
			if (!(enabled_port_mask & (1u << portid)))
				continue;
			memset(&link, 0, sizeof(link));
			if (rte_eth_link_get_nowait(portid, &link) < 0 || !link.link_status)
				all_up = false;
		}
		if (!all_up)
			rte_delay_ms(100);
	}
	RTE_ETH_FOREACH_DEV(portid) {
		char text[RTE_ETH_LINK_MAX_STR_LEN];

		if (!(enabled_port_mask & (1u << portid)))
			continue;
		memset(&link, 0, sizeof(link));
		rte_eth_link_get_nowait(portid, &link);
		rte_eth_link_to_str(text, sizeof(text), &link);
		printf("port %u: %s\n", portid, text);
	}
}

/*
 * After the workers stopped: send what waits in the TX buffers and take in
 * what the peer already put in our RX rings, so that the counters are final
 * and no mbuf sits in a ring of a PMD (net_ring) that does not free at close.
 */
static void
drain_ports(void)
{
	struct rte_mbuf *pkts[MAX_PKT_BURST];
	uint16_t portid, n;
	unsigned int pass, got;

	RTE_ETH_FOREACH_DEV(portid) {
		if (tx_buffer[portid] != NULL)
			port_stats[portid].tx +=
				rte_eth_tx_buffer_flush(portid, 0, tx_buffer[portid]);
	}
	for (pass = 0; pass < 100; pass++) {
		got = 0;
		RTE_ETH_FOREACH_DEV(portid) {
			if (!(enabled_port_mask & (1u << portid)))
				continue;
			while ((n = rte_eth_rx_burst(portid, 0, pkts, MAX_PKT_BURST)) > 0) {
				rte_pktmbuf_free_bulk(pkts, n);
				port_stats[portid].rx += n;
				drained_at_exit += n;
				got += n;
			}
		}
		if (got == 0 && pass > 0)
			break;
		rte_delay_us_sleep(1000);
	}
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

static void
drain_pool_caches(struct pfrag_pool *pool, void *arg __rte_unused)
{
	pfrag_pool_drain_caches(pool);
}

static void
print_final(double secs, const struct pool_sum *run, const struct pool_sum *after)
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
	       ",\"drained_at_exit\":%" PRIu64 ",\"mpps\":%.3f},", tot_rx, tot_tx, tot_drop,
	       drained_at_exit, secs > 0 ? tot_tx / secs / 1e6 : 0.0);
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

int
main(int argc, char **argv)
{
	unsigned int nb_ports = 0, nb_ours = 0, rx_lcore_id, lcore_id;
	struct pool_sum run = { 0 }, after = { 0 };
	uint64_t end_tsc = 0, first_tsc = 0;
	struct rte_eth_dev_info info;
	struct lcore_conf *qconf;
	uint16_t portid;
	int ret, status = EXIT_SUCCESS;

	ret = rte_eal_init(argc, argv);
	if (ret < 0) {
		fprintf(stderr, "EAL init failed: %s\n", rte_strerror(rte_errno));
		if (rte_errno != EINVAL)
			return EXIT_FAILURE;
		usage(argv[0]);
		return EXIT_USAGE;
	}
	argc -= ret;
	argv += ret;
	argv[0] = argv[-ret];

	/* Line by line even into a pipe or file: scripts follow the output. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	force_quit = false;
	signal(SIGINT, signal_handler);
	signal(SIGTERM, signal_handler);

	ret = parse_args(argc, argv);
	if (ret != 0) {
		usage(argv[0]);
		rte_eal_cleanup();
		return ret > 0 ? EXIT_SUCCESS : EXIT_USAGE;
	}
	if (rte_eth_dev_count_avail() == 0) {
		fprintf(stderr, "no Ethernet ports: give some with --vdev or -a\n");
		rte_eal_cleanup();
		return EXIT_FAILURE;
	}
	if (enabled_port_mask & ~((1u << rte_eth_dev_count_avail()) - 1)) {
		fprintf(stderr, "portmask 0x%x names ports that do not exist (%u available)\n",
			enabled_port_mask, rte_eth_dev_count_avail());
		rte_eal_cleanup();
		return EXIT_USAGE;
	}
	if (pair_ports() != 0) {
		rte_eal_cleanup();
		return EXIT_USAGE;
	}

	/* Spread the RX ports over the lcores, rx_port_per_lcore each. */
	rx_lcore_id = rte_get_next_lcore(-1, 0, 0);
	RTE_ETH_FOREACH_DEV(portid) {
		if (!(enabled_port_mask & (1u << portid)))
			continue;
		while (lcore_conf[rx_lcore_id].n_rx_port == rx_port_per_lcore) {
			rx_lcore_id = rte_get_next_lcore(rx_lcore_id, 0, 0);
			if (rx_lcore_id >= RTE_MAX_LCORE) {
				fprintf(stderr, "not enough lcores for %u ports per lcore\n",
					rx_port_per_lcore);
				rte_eal_cleanup();
				return EXIT_USAGE;
			}
		}
		qconf = &lcore_conf[rx_lcore_id];
		qconf->rx_port[qconf->n_rx_port++] = portid;
		if (rte_eth_dev_info_get(portid, &info) == 0 &&
		    strncmp(info.driver_name, PFRAG_PMD_PREFIX,
			    strlen(PFRAG_PMD_PREFIX)) == 0) {
			port_is_pfrag_pmd[portid] = 1;
			nb_ours++;
		}
		nb_ports++;
	}

	if (create_pools(nb_ports, nb_ours) != 0) {
		status = EXIT_FAILURE;
		goto out;
	}
	RTE_ETH_FOREACH_DEV(portid) {
		if (!(enabled_port_mask & (1u << portid)))
			continue;
		ret = port_init(portid);
		if (ret < 0) {
			fprintf(stderr, "port %u: init failed: %s\n", portid, rte_strerror(-ret));
			status = EXIT_FAILURE;
			goto stop;
		}
	}
	check_links(9000);

	start_tsc = rte_rdtsc();
	rte_eal_mp_remote_launch(l2fwd_main_loop, NULL, CALL_MAIN);
	RTE_LCORE_FOREACH_WORKER(lcore_id) {
		if (rte_eal_wait_lcore(lcore_id) < 0)
			status = EXIT_FAILURE;
	}
	end_tsc = rte_rdtsc();
	RTE_LCORE_FOREACH(lcore_id) {
		uint64_t t = lcore_conf[lcore_id].first_rx_tsc;

		if (t != 0 && (first_tsc == 0 || t < first_tsc))
			first_tsc = t;
	}
	/* The run's pool figures, while the rings are still full. */
	pfrag_pool_walk(pool_add, &run);
	drain_ports();

stop:
	/*
	 * Stop every port before closing any: a packet received on one port
	 * may sit in another port's TX ring, and stop gives those back.
	 */
	FOREACH_ENABLED_PORT(portid) {
		if (!port_started[portid])
			continue;
		rte_eth_stats_get(portid, &hw_stats[portid]);
		ret = rte_eth_dev_stop(portid);
		if (ret != 0)
			printf("port %u: stop: %s\n", portid, rte_strerror(-ret));
	}
	FOREACH_ENABLED_PORT(portid) {
		if (!rte_eth_dev_is_valid_port(portid))
			continue;
		/* Close gives back what the queues still hold. */
		rte_eth_dev_close(portid);
		if (!json_output)
			printf("port %u closed\n", portid);
	}
	FOREACH_ENABLED_PORT(portid)
		rte_free(tx_buffer[portid]);

	/*
	 * Every mbuf and fragment must be back now: the ports gave back what
	 * they held. The pfrag mbuf pool refuses to go while mbufs are out, and
	 * gives its pages back to the pfrag pool when it goes.
	 */
	if (pfrag_mempool_is_pfrag(pktmbuf_pool)) {
		if (pfrag_pktmbuf_pool_free(pktmbuf_pool) == 0)
			pktmbuf_pool = NULL;
		else
			status = EXIT_FAILURE;
	}
	/*
	 * Pages, not only fragments: once the lcore caches gave back their
	 * current pages, a page still in use is a leaked reference.
	 */
	pfrag_pool_walk(drain_pool_caches, NULL);
	pfrag_pool_walk(pool_add, &after);
	if (status == EXIT_SUCCESS)
		print_final(first_tsc != 0 ? (double)(end_tsc - first_tsc) / rte_get_tsc_hz() :
			    0.0, &run, &after);
	if (after.frags_out != 0 || after.pages_in_use != 0) {
		fprintf(stderr, "error: %" PRIu64 " fragments, %" PRIu64 " pages still in use "
			"after close\n", after.frags_out, after.pages_in_use);
		status = EXIT_FAILURE;
	}
out:
	if (pfrag_mempool_is_pfrag(pktmbuf_pool)) {
		if (pfrag_pktmbuf_pool_free(pktmbuf_pool) != 0)
			status = EXIT_FAILURE;
	} else {
		rte_mempool_free(pktmbuf_pool);
	}
	if (frag_pool != NULL && pfrag_pool_free(frag_pool) != 0)
		status = EXIT_FAILURE;
	rte_mempool_free(hdr_pool);
	rte_eal_cleanup();
	if (!json_output)
		printf("Bye...\n");
	return status;
}

/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * pfrag-l2fwd: forward every packet received on a port to its paired port,
 * rewriting the MAC addresses, with RX buffers from pfrag. DPDK l2fwd's
 * command line; periodic per-port and pool statistics (l2fwd_report.c); a
 * clean shutdown that checks every fragment came back.
 *
 * RX buffers: a port whose driver posts pfrag fragments from its queues' own
 * caches (our PMD; pfrag_mbuf_port_rx_frags() says so) takes only header
 * mbufs from its mempool; any other ethdev gets a pfrag-backed mbuf pool
 * (pfrag_mempool.h), or with --plain-mbufs DPDK's own, to compare against.
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

#include "l2fwd.h"

#define BURST_TX_DRAIN_US 100
#define MAX_RX_PORT_PER_LCORE 16
#define MAX_TIMER_PERIOD 86400 /* seconds */

#define EXIT_USAGE 2

static volatile bool force_quit;

/* Options. */
uint32_t enabled_port_mask;
int mac_updating = 1;
int json_output;
static int promiscuous_on;
static unsigned int rx_port_per_lcore = 1;
static uint64_t timer_period = 10; /* seconds; 0 disables */
uint32_t page_size;
uint32_t nb_pages;
int plain_mbufs;
unsigned int mbuf_cache = MBUF_CACHE_DEFAULT;

uint16_t dst_port[RTE_MAX_ETHPORTS];
struct rte_ether_addr port_mac[RTE_MAX_ETHPORTS];

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

struct rte_eth_dev_tx_buffer *tx_buffer[RTE_MAX_ETHPORTS];

struct port_stats port_stats[RTE_MAX_ETHPORTS];
struct rte_eth_stats hw_stats[RTE_MAX_ETHPORTS];
static bool port_started[RTE_MAX_ETHPORTS];

uint64_t start_tsc;
uint64_t drained_at_exit;
unsigned int ports_busy_at_exit;

/* ---- Forwarding ---- */

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
					l2fwd_print_stats();
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

/* ---- Command line ---- */

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

/*
 * Parse an unsigned number of @p base in [min, max] (a power of two if
 * @p pow2); when it is not one, say so naming @p what and return -1.
 */
static int
parse_uint(const char *s, int base, uint64_t min, uint64_t max, bool pow2, const char *what,
	   uint64_t *out)
{
	unsigned long long v = 0;
	char *end = NULL;

	if (s != NULL && *s != '\0' && *s != '-') {
		errno = 0;
		v = strtoull(s, &end, base);
	}
	if (end == NULL || errno != 0 || *end != '\0' || v < min || v > max ||
	    (pow2 && !rte_is_power_of_2(v))) {
		fprintf(stderr, "invalid %s '%s'\n", what, s);
		return -1;
	}
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
	OPT_PORTMAP = 256,
	OPT_PAGE_SIZE,
	OPT_PAGES,
	OPT_MBUF_CACHE,
};

/* Switches set their flag themselves (getopt_long() then returns 0). */
static const struct option long_options[] = {
	{ "no-mac-updating", no_argument, &mac_updating, 0 },
	{ "mac-updating", no_argument, &mac_updating, 1 },
	{ "json", no_argument, &json_output, 1 },
	{ "plain-mbufs", no_argument, &plain_mbufs, 1 },
	{ "portmap", required_argument, NULL, OPT_PORTMAP },
	{ "page-size", required_argument, NULL, OPT_PAGE_SIZE },
	{ "pages", required_argument, NULL, OPT_PAGES },
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
			if (parse_uint(optarg, 16, 1, UINT32_MAX, false, "portmask", &v) != 0)
				return -1;
			enabled_port_mask = v;
			break;
		case 'P':
			promiscuous_on = 1;
			break;
		case 'q':
			if (parse_uint(optarg, 10, 1, MAX_RX_PORT_PER_LCORE, false, "queue number",
				       &v) != 0)
				return -1;
			rx_port_per_lcore = v;
			break;
		case 'T':
			if (parse_uint(optarg, 10, 0, MAX_TIMER_PERIOD, false, "timer period",
				       &v) != 0)
				return -1;
			timer_period = v;
			break;
		case OPT_PORTMAP:
			if (parse_portmap(optarg) != 0) {
				fprintf(stderr, "invalid portmap '%s'\n", optarg);
				return -1;
			}
			break;
		case OPT_PAGE_SIZE:
			if (parse_uint(optarg, 0, PFRAG_MIN_PAGE_SIZE, 1u << 30, true, "page size",
				       &v) != 0)
				return -1;
			page_size = v;
			break;
		case OPT_PAGES:
			if (parse_uint(optarg, 0, 1, UINT32_MAX, false, "page count", &v) != 0)
				return -1;
			nb_pages = v;
			break;
		case OPT_MBUF_CACHE:
			if (parse_uint(optarg, 10, 0, RTE_MEMPOOL_CACHE_MAX_SIZE, false,
				       "mbuf cache size", &v) != 0)
				return -1;
			mbuf_cache = v;
			break;
		case 0:
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

/* ---- Set-up: port pairs, lcores, mempools, ports ---- */

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
	FOREACH_ENABLED_PORT(portid) {
		if (mapped[portid])
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

/* Spread the RX ports over the lcores, rx_port_per_lcore each. */
static int
assign_lcores(void)
{
	unsigned int rx_lcore_id = rte_get_next_lcore(-1, 0, 0);
	struct lcore_conf *qconf;
	uint16_t portid;

	FOREACH_ENABLED_PORT(portid) {
		while (lcore_conf[rx_lcore_id].n_rx_port == rx_port_per_lcore) {
			rx_lcore_id = rte_get_next_lcore(rx_lcore_id, 0, 0);
			if (rx_lcore_id >= RTE_MAX_LCORE) {
				fprintf(stderr, "not enough lcores for %u ports per lcore\n",
					rx_port_per_lcore);
				return -1;
			}
		}
		qconf = &lcore_conf[rx_lcore_id];
		qconf->rx_port[qconf->n_rx_port++] = portid;
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
	const char *rx_bufs;
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

	mp = l2fwd_rx_pool(portid, &rx_bufs);
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
	       RTE_ETHER_ADDR_BYTES(&port_mac[portid]), nb_rxd, nb_txd, rx_bufs);
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
		FOREACH_ENABLED_PORT(portid) {
			memset(&link, 0, sizeof(link));
			if (rte_eth_link_get_nowait(portid, &link) < 0 || !link.link_status)
				all_up = false;
		}
		if (!all_up)
			rte_delay_ms(100);
	}
	FOREACH_ENABLED_PORT(portid) {
		char text[RTE_ETH_LINK_MAX_STR_LEN];

		memset(&link, 0, sizeof(link));
		rte_eth_link_get_nowait(portid, &link);
		rte_eth_link_to_str(text, sizeof(text), &link);
		printf("port %u: %s\n", portid, text);
	}
}

/* ---- Shutdown ---- */

/* Seconds from the first packet any lcore received to @p end_tsc; 0 if none came. */
static double
run_seconds(uint64_t end_tsc)
{
	uint64_t first_tsc = 0, t;
	unsigned int lcore_id;

	RTE_LCORE_FOREACH(lcore_id) {
		t = lcore_conf[lcore_id].first_rx_tsc;
		if (t != 0 && (first_tsc == 0 || t < first_tsc))
			first_tsc = t;
	}
	return first_tsc != 0 ? (double)(end_tsc - first_tsc) / rte_get_tsc_hz() : 0.0;
}

/*
 * Stop every port before closing any: a packet received on one port may sit
 * in another port's TX ring, and stop gives those back. Close gives back
 * what the queues still hold.
 */
static void
close_ports(void)
{
	uint16_t portid;
	int ret;

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
		rte_eth_dev_close(portid);
		if (!json_output)
			printf("port %u closed\n", portid);
	}
	FOREACH_ENABLED_PORT(portid)
		rte_free(tx_buffer[portid]);
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

int
main(int argc, char **argv)
{
	struct pool_sum run = { 0 }, after = { 0 };
	int ret, status = EXIT_SUCCESS;
	unsigned int lcore_id;
	double secs = 0.0;
	uint16_t portid;

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
	if (pair_ports() != 0 || assign_lcores() != 0) {
		rte_eal_cleanup();
		return EXIT_USAGE;
	}

	if (l2fwd_pools_create() != 0) {
		status = EXIT_FAILURE;
		goto out;
	}
	FOREACH_ENABLED_PORT(portid) {
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
	secs = run_seconds(rte_rdtsc());
	/* The run's pool figures, while the rings are still full. */
	l2fwd_pools_sum(&run);
	ports_busy_at_exit = l2fwd_drain_ports();

stop:
	close_ports();
	if (l2fwd_pools_check_back(&after) != 0)
		status = EXIT_FAILURE;
	if (status == EXIT_SUCCESS)
		l2fwd_print_final(secs, &run, &after);
	if (after.frags_out != 0 || after.pages_in_use != 0) {
		fprintf(stderr, "error: %" PRIu64 " fragments, %" PRIu64 " pages still in use "
			"after close\n", after.frags_out, after.pages_in_use);
		status = EXIT_FAILURE;
	}
out:
	if (l2fwd_pools_free() != 0)
		status = EXIT_FAILURE;
	rte_eal_cleanup();
	if (!json_output)
		printf("Bye...\n");
	return status;
}

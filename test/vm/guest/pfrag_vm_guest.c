/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * pfrag-vm-guest: the program test/vm/ runs inside a QEMU guest, on the
 * virtio-net NICs the guest's /init bound to uio_pci_generic.
 *
 *   rx    receive for --secs seconds on every queue; count per queue, pps
 *   tx    send --size-byte pattern frames for --secs seconds on every queue
 *   loop  send pattern frames of each --sizes length, at most --window out
 *         at a time, and check every frame that comes back (the host peer
 *         forwards them unchanged): length and payload intact, no duplicate,
 *         none missing
 *
 * The ports are probed by the program, not by EAL: it blocks each --port at
 * rte_eal_init(), makes its pfrag pool, then hot-plugs the device. A port of
 * our PMD (this binary, linked with it) gets `pool=<name>` in its devargs, so
 * that after rte_eth_dev_close() the pool can show that every fragment came
 * back; the anchor build (PFRAG_VM_GUEST_ANCHOR, DPDK's net_virtio loaded
 * with -d) probes the same way without it. TX frames are pfrag mbufs in both
 * builds, so the pool also accounts for what the driver's TX path frees.
 *
 * Output: "RESULT key=value ..." lines the harness parses. Exit status 0 when
 * the run and its own checks passed, 1 when they failed, 2 for bad usage.
 */

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_dev.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "pfrag.h"
#include "pfrag_mbuf.h"

#define MAX_PORTS 4
#define MAX_QUEUES 8
#define MAX_SIZES 8
#define BURST 32
#define NB_DESC 512
#define NB_MBUF 8191
#define POOL_NAME "vmguest"
#define POOL_PAGES 1024
#define MAX_FRAME 9216
#define MIN_FRAME 64           /* what the harness calls a 64-byte frame */
#define HDR_LEN 26             /* Ethernet + magic, seq, len */
#define FRAME_MAGIC 0x70667667u
#define ETHER_TYPE_LOCAL 0x88b5 /* IEEE local experimental */
#define LOOP_DRAIN_S 10        /* a loop gives up this long after its last progress */

#ifdef PFRAG_VM_GUEST_ANCHOR
#define BUILD_NAME "anchor"
#else
#define BUILD_NAME "pfrag"
#endif

enum mode { MODE_RX, MODE_TX, MODE_LOOP };

static struct {
	enum mode mode;
	unsigned int secs;
	unsigned int queues;
	unsigned int sizes[MAX_SIZES];
	unsigned int nb_sizes;
	unsigned int count;
	unsigned int window;
	const char *ports[MAX_PORTS];
	unsigned int nb_ports;
	const char *devargs;
} opt = {
	.mode = MODE_RX,
	.secs = 5,
	.queues = 1,
	.sizes = { MIN_FRAME },
	.nb_sizes = 1,
	.count = 2000,
	.window = 32,
};

static struct pfrag_pool *pool;
static struct rte_mempool *rx_mp;
static struct rte_mempool *hdr_mp;
static uint16_t port_ids[MAX_PORTS];
static struct rte_ether_addr port_mac[MAX_PORTS];
static char port_driver[MAX_PORTS][64];

struct q_counts {
	uint64_t rx;
	uint64_t tx;
	uint64_t tx_full;
	uint64_t bad;
};
static struct q_counts counts[MAX_PORTS][MAX_QUEUES];

static void
usage(const char *prog)
{
	fprintf(stderr, "usage: %s [EAL args] -- --port BDF [--port BDF]... "
		"[--mode rx|tx|loop] [--secs N] [--queues N] [--sizes L[,L...]]\n"
		"       [--count N] [--window N] [--devargs k=v[,k=v]]\n", prog);
}

static int
parse_sizes(const char *s)
{
	unsigned long v;
	char *end;

	for (opt.nb_sizes = 0; opt.nb_sizes < MAX_SIZES; s = end + 1) {
		v = strtoul(s, &end, 10);
		if (end == s || v < MIN_FRAME || v > MAX_FRAME)
			return -1;
		opt.sizes[opt.nb_sizes++] = (unsigned int)v;
		if (*end == '\0')
			return 0;
		if (*end != ',')
			return -1;
	}
	return -1;
}

static int
parse_uint(const char *s, unsigned int min, unsigned int max, unsigned int *v)
{
	char *end;
	unsigned long x = strtoul(s, &end, 10);

	if (end == s || *end != '\0' || x < min || x > max)
		return -1;
	*v = (unsigned int)x;
	return 0;
}

static int
parse_args(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "mode", required_argument, NULL, 'm' },
		{ "secs", required_argument, NULL, 's' },
		{ "queues", required_argument, NULL, 'q' },
		{ "sizes", required_argument, NULL, 'z' },
		{ "count", required_argument, NULL, 'c' },
		{ "window", required_argument, NULL, 'w' },
		{ "port", required_argument, NULL, 'p' },
		{ "devargs", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'm':
			if (strcmp(optarg, "rx") == 0)
				opt.mode = MODE_RX;
			else if (strcmp(optarg, "tx") == 0)
				opt.mode = MODE_TX;
			else if (strcmp(optarg, "loop") == 0)
				opt.mode = MODE_LOOP;
			else
				return -1;
			break;
		case 's':
			if (parse_uint(optarg, 1, 3600, &opt.secs) < 0)
				return -1;
			break;
		case 'q':
			if (parse_uint(optarg, 1, MAX_QUEUES, &opt.queues) < 0)
				return -1;
			break;
		case 'z':
			if (parse_sizes(optarg) < 0)
				return -1;
			break;
		case 'c':
			if (parse_uint(optarg, 1, 10000000, &opt.count) < 0)
				return -1;
			break;
		case 'w':
			if (parse_uint(optarg, 1, NB_DESC / 8, &opt.window) < 0)
				return -1;
			break;
		case 'p':
			if (opt.nb_ports == MAX_PORTS)
				return -1;
			opt.ports[opt.nb_ports++] = optarg;
			break;
		case 'd':
			opt.devargs = optarg;
			break;
		default:
			return -1;
		}
	}
	return opt.nb_ports > 0 && optind == argc ? 0 : -1;
}

/* Byte @p i of frame @p seq: differs between neighbouring frames and offsets. */
static inline uint8_t
pattern_byte(uint32_t seq, uint32_t i)
{
	return (uint8_t)(seq * 7u + i * 13u + (i >> 8));
}

static struct rte_mbuf *
make_frame(unsigned int p, uint32_t seq, uint32_t len)
{
	struct rte_ether_hdr *eth;
	struct rte_mbuf *m;
	uint8_t *d;
	uint32_t i, v;

	m = pfrag_pktmbuf_alloc(hdr_mp, pool, len);
	if (m == NULL)
		return NULL;
	d = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)len);
	if (d == NULL) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	eth = (struct rte_ether_hdr *)d;
	memset(&eth->dst_addr, 0xff, sizeof(eth->dst_addr));
	rte_ether_addr_copy(&port_mac[p], &eth->src_addr);
	eth->ether_type = rte_cpu_to_be_16(ETHER_TYPE_LOCAL);
	v = rte_cpu_to_be_32(FRAME_MAGIC);
	memcpy(d + 14, &v, 4);
	v = rte_cpu_to_be_32(seq);
	memcpy(d + 18, &v, 4);
	v = rte_cpu_to_be_32(len);
	memcpy(d + 22, &v, 4);
	for (i = HDR_LEN; i < len; i++)
		d[i] = pattern_byte(seq, i);
	return m;
}

/*
 * Check one frame that came back (any number of segments): 0 when it is a
 * frame of ours of length @p len with its payload intact, its sequence number
 * in @p seq; -1 for a wrong length, -2 for a damaged or foreign frame.
 */
static int
check_frame(const struct rte_mbuf *m, uint32_t len, uint32_t *seq)
{
	uint8_t hdr[HDR_LEN];
	const struct rte_mbuf *s;
	const uint8_t *h;
	uint32_t v, off, i;

	if (m->pkt_len != len)
		return -1;
	h = rte_pktmbuf_read(m, 0, HDR_LEN, hdr);
	if (h == NULL)
		return -2;
	memcpy(&v, h + 14, 4);
	if (rte_be_to_cpu_32(v) != FRAME_MAGIC)
		return -2;
	memcpy(&v, h + 22, 4);
	if (rte_be_to_cpu_32(v) != len)
		return -2;
	memcpy(&v, h + 18, 4);
	*seq = rte_be_to_cpu_32(v);
	off = 0;
	for (s = m; s != NULL; s = s->next) {
		const uint8_t *d = rte_pktmbuf_mtod(s, const uint8_t *);

		for (i = 0; i < s->data_len; i++, off++)
			if (off >= HDR_LEN && d[i] != pattern_byte(*seq, off))
				return -2;
	}
	return off == len ? 0 : -2;
}

static unsigned int
max_size(void)
{
	unsigned int i, m = MIN_FRAME;

	for (i = 0; i < opt.nb_sizes; i++)
		m = RTE_MAX(m, opt.sizes[i]);
	return m;
}

static int
is_ours(unsigned int p)
{
	return strncmp(port_driver[p], "net_virtio_frag", 15) == 0;
}

/* Hot-plug @p bdf, with our pool for our PMD; its port id in @p port_id. */
static int
probe_port(const char *bdf, uint16_t *port_id)
{
	char args[256];
	uint16_t pid;
	int ret, n;

	n = snprintf(args, sizeof(args), "%s", bdf);
#ifndef PFRAG_VM_GUEST_ANCHOR
	n += snprintf(args + n, sizeof(args) - n, ",pool=%s", POOL_NAME);
#endif
	if (opt.devargs != NULL)
		n += snprintf(args + n, sizeof(args) - n, ",%s", opt.devargs);
	if (n >= (int)sizeof(args)) {
		fprintf(stderr, "devargs too long\n");
		return -1;
	}
	ret = rte_dev_probe(args);
	if (ret < 0) {
		fprintf(stderr, "probe %s: %s\n", args, rte_strerror(-ret));
		return -1;
	}
	RTE_ETH_FOREACH_DEV(pid) {
		struct rte_eth_dev_info info;

		if (rte_eth_dev_info_get(pid, &info) == 0 &&
		    strcmp(rte_dev_name(info.device), bdf) == 0) {
			*port_id = pid;
			printf("probed %s as port %u\n", args, pid);
			return 0;
		}
	}
	fprintf(stderr, "%s probed but no ethdev port is on it\n", bdf);
	return -1;
}

static int
port_setup(unsigned int p)
{
	uint16_t pid = port_ids[p], nb_rxd = NB_DESC, nb_txd = NB_DESC;
	struct rte_eth_dev_info info;
	struct rte_eth_conf conf;
	struct rte_eth_rxconf rxc;
	struct rte_eth_txconf txc;
	unsigned int q, frame = max_size();
	int ret;

	memset(&conf, 0, sizeof(conf));
	ret = rte_eth_dev_info_get(pid, &info);
	if (ret != 0)
		return ret;
	snprintf(port_driver[p], sizeof(port_driver[p]), "%s", info.driver_name);
	if (opt.queues > info.max_rx_queues || opt.queues > info.max_tx_queues) {
		fprintf(stderr, "port %u (%s): %u queues asked, %u RX / %u TX offered\n",
			pid, info.driver_name, opt.queues, info.max_rx_queues,
			info.max_tx_queues);
		return -EINVAL;
	}
	if (frame > RTE_ETHER_MAX_LEN)
		conf.rxmode.mtu = frame - RTE_ETHER_HDR_LEN;
	if (frame > RTE_MBUF_DEFAULT_DATAROOM)
		conf.rxmode.offloads |= info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_SCATTER;
	conf.txmode.offloads |= info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
	if (opt.queues > 1)
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_NONE;
	ret = rte_eth_dev_configure(pid, opt.queues, opt.queues, &conf);
	if (ret < 0)
		return ret;
	ret = rte_eth_dev_adjust_nb_rx_tx_desc(pid, &nb_rxd, &nb_txd);
	if (ret < 0)
		return ret;
	rte_eth_macaddr_get(pid, &port_mac[p]);
	rxc = info.default_rxconf;
	rxc.offloads = conf.rxmode.offloads;
	txc = info.default_txconf;
	txc.offloads = conf.txmode.offloads;
	for (q = 0; q < opt.queues; q++) {
		ret = rte_eth_rx_queue_setup(pid, q, nb_rxd, rte_eth_dev_socket_id(pid),
					     &rxc, is_ours(p) ? hdr_mp : rx_mp);
		if (ret < 0)
			return ret;
		ret = rte_eth_tx_queue_setup(pid, q, nb_txd, rte_eth_dev_socket_id(pid), &txc);
		if (ret < 0)
			return ret;
	}
	ret = rte_eth_dev_start(pid);
	if (ret < 0)
		return ret;
	printf("RESULT port=%u bdf=%s driver=%s build=%s queues=%u rxd=%u txd=%u mtu=%u\n",
	       pid, opt.ports[p], info.driver_name, BUILD_NAME, opt.queues, nb_rxd, nb_txd,
	       conf.rxmode.mtu ? conf.rxmode.mtu : RTE_ETHER_MTU);
	return 0;
}

static double
secs_since(uint64_t t0)
{
	return (double)(rte_get_timer_cycles() - t0) / (double)rte_get_timer_hz();
}

static void
run_rx(void)
{
	uint64_t t0 = rte_get_timer_cycles(), end = t0 + opt.secs * rte_get_timer_hz();
	uint64_t first = 0, last = 0;
	struct rte_mbuf *pkts[BURST];
	unsigned int p, q;
	uint16_t i, n;

	while (rte_get_timer_cycles() < end) {
		for (p = 0; p < opt.nb_ports; p++) {
			for (q = 0; q < opt.queues; q++) {
				n = rte_eth_rx_burst(port_ids[p], q, pkts, BURST);
				if (n == 0)
					continue;
				last = rte_get_timer_cycles();
				if (first == 0)
					first = last;
				counts[p][q].rx += n;
				for (i = 0; i < n; i++) {
					if (pkts[i]->pkt_len < RTE_ETHER_MIN_LEN - 4)
						counts[p][q].bad++;
				}
				rte_pktmbuf_free_bulk(pkts, n);
			}
		}
	}
	for (p = 0; p < opt.nb_ports; p++) {
		uint64_t rx = 0, bad = 0;
		double secs = last > first ? (double)(last - first) / rte_get_timer_hz() : 0;

		printf("RESULT rx port=%u", port_ids[p]);
		for (q = 0; q < opt.queues; q++) {
			printf(" rx_q%u=%" PRIu64, q, counts[p][q].rx);
			rx += counts[p][q].rx;
			bad += counts[p][q].bad;
		}
		/* pps over the window packets flowed in, not the boot's slow start */
		printf(" rx=%" PRIu64 " runt=%" PRIu64 " secs=%.3f pps=%.0f\n", rx, bad, secs,
		       secs > 0 ? (double)rx / secs : 0.0);
	}
}

static void
run_tx(void)
{
	uint64_t t0 = rte_get_timer_cycles(), end = t0 + opt.secs * rte_get_timer_hz();
	struct rte_mbuf *pkts[BURST];
	uint32_t seq = 0, len = opt.sizes[0];
	unsigned int p, q, k;
	uint16_t n, sent;

	while (rte_get_timer_cycles() < end) {
		for (p = 0; p < opt.nb_ports; p++) {
			for (q = 0; q < opt.queues; q++) {
				for (n = 0; n < BURST; n++) {
					pkts[n] = make_frame(p, seq + n, len);
					if (pkts[n] == NULL)
						break;
				}
				sent = rte_eth_tx_burst(port_ids[p], q, pkts, n);
				seq += sent;
				counts[p][q].tx += sent;
				if (sent < n) {
					counts[p][q].tx_full += n - sent;
					for (k = sent; k < n; k++)
						rte_pktmbuf_free(pkts[k]);
				}
			}
		}
	}
	for (p = 0; p < opt.nb_ports; p++) {
		uint64_t tx = 0, full = 0;
		double secs = secs_since(t0);

		printf("RESULT tx port=%u size=%u", port_ids[p], len);
		for (q = 0; q < opt.queues; q++) {
			printf(" tx_q%u=%" PRIu64, q, counts[p][q].tx);
			tx += counts[p][q].tx;
			full += counts[p][q].tx_full;
		}
		printf(" tx=%" PRIu64 " tx_full=%" PRIu64 " secs=%.3f pps=%.0f\n", tx, full,
		       secs, (double)tx / secs);
	}
}

struct loop_state {
	uint8_t *seen;         /* per sequence number: how often it came back */
	uint32_t sent;
	uint32_t recv;
	uint32_t bad_len;
	uint32_t bad_data;
	uint32_t dup;
};

static void
loop_receive(unsigned int p, uint32_t len, struct loop_state *st)
{
	struct rte_mbuf *pkts[BURST];
	unsigned int q;
	uint32_t seq;
	uint16_t i, n;
	int ret;

	for (q = 0; q < opt.queues; q++) {
		n = rte_eth_rx_burst(port_ids[p], q, pkts, BURST);
		for (i = 0; i < n; i++) {
			ret = check_frame(pkts[i], len, &seq);
			if (ret == -1)
				st->bad_len++;
			else if (ret < 0 || seq >= st->sent)
				st->bad_data++;
			else if (st->seen[seq]++ != 0)
				st->dup++;
			else
				st->recv++;
			rte_pktmbuf_free(pkts[i]);
		}
		counts[p][q].rx += n;
	}
}

/*
 * One size: send opt.count frames, at most opt.window not back yet, so that
 * the RX ring never overflows and a lost frame is a fault, not load. Ends
 * when every frame is back, or LOOP_DRAIN_S after the last progress.
 */
static int
run_loop_size(unsigned int p, uint32_t len)
{
	struct loop_state st = { 0 };
	uint64_t t0 = rte_get_timer_cycles(), now, progress = t0;
	uint64_t patience = LOOP_DRAIN_S * rte_get_timer_hz();
	uint32_t before, q = 0;
	struct rte_mbuf *m;
	int ok;

	st.seen = calloc(opt.count, 1);
	if (st.seen == NULL)
		return -1;
	while (st.recv + st.bad_len + st.bad_data < opt.count) {
		before = st.sent + st.recv + st.bad_len + st.bad_data + st.dup;
		if (st.sent < opt.count && st.sent - st.recv < opt.window) {
			m = make_frame(p, st.sent, len);
			if (m != NULL && rte_eth_tx_burst(port_ids[p], q, &m, 1) == 1) {
				counts[p][q].tx++;
				st.sent++;
				q = (q + 1) % opt.queues;
			} else if (m != NULL) {
				rte_pktmbuf_free(m);
			}
		}
		loop_receive(p, len, &st);
		now = rte_get_timer_cycles();
		if (st.sent + st.recv + st.bad_len + st.bad_data + st.dup != before)
			progress = now;
		else if (now - progress > patience)
			break;
	}
	ok = st.sent == opt.count && st.recv == opt.count && st.bad_len == 0 &&
	     st.bad_data == 0 && st.dup == 0;
	printf("RESULT loop port=%u size=%u sent=%u recv=%u bad_len=%u bad_data=%u dup=%u "
	       "missing=%u secs=%.3f ok=%d\n", port_ids[p], len, st.sent, st.recv,
	       st.bad_len, st.bad_data, st.dup, st.sent - st.recv, secs_since(t0), ok);
	free(st.seen);
	return ok ? 0 : -1;
}

static int
run_loop(void)
{
	unsigned int p, i;
	int fail = 0;

	for (p = 0; p < opt.nb_ports; p++) {
		unsigned int q;

		for (i = 0; i < opt.nb_sizes; i++)
			if (run_loop_size(p, opt.sizes[i]) < 0)
				fail = 1;
		/* Frames go out round-robin over the queues: each must have carried some. */
		printf("RESULT loopq port=%u", port_ids[p]);
		for (q = 0; q < opt.queues; q++)
			printf(" tx_q%u=%" PRIu64 " rx_q%u=%" PRIu64, q, counts[p][q].tx, q,
			       counts[p][q].rx);
		printf("\n");
	}
	return fail ? -1 : 0;
}

static void
print_port_stats(unsigned int p)
{
	struct rte_eth_stats s;

	if (rte_eth_stats_get(port_ids[p], &s) != 0)
		return;
	printf("RESULT stats port=%u ipackets=%" PRIu64 " opackets=%" PRIu64 " ierrors=%"
	       PRIu64 " oerrors=%" PRIu64 " imissed=%" PRIu64 " rx_nombuf=%" PRIu64 "\n",
	       port_ids[p], s.ipackets, s.opackets, s.ierrors, s.oerrors, s.imissed,
	       s.rx_nombuf);
}

/* Stop and close every port, then show what the pool holds. */
static int
teardown(const struct pfrag_pool_info *start)
{
	struct pfrag_pool_info info;
	unsigned int p;
	int fail = 0, ret;

	for (p = 0; p < opt.nb_ports; p++) {
		print_port_stats(p);
		ret = rte_eth_dev_stop(port_ids[p]);
		if (ret != 0) {
			fprintf(stderr, "port %u stop: %s\n", port_ids[p], rte_strerror(-ret));
			fail = 1;
		}
		ret = rte_eth_dev_close(port_ids[p]);
		if (ret != 0) {
			fprintf(stderr, "port %u close: %s\n", port_ids[p], rte_strerror(-ret));
			fail = 1;
		}
	}
	/* Pages the lcore's cache holds are not in flight: give them back first. */
	pfrag_pool_drain_caches(pool);
	pfrag_pool_info_get(pool, &info);
	printf("RESULT pool name=%s frags_out=%" PRIu64 " pages_in_use=%u pages_start=%u "
	       "pages_free=%u nb_pages=%u user_caches=%u bad_free=%" PRIu64 "\n",
	       POOL_NAME, info.frags_out, info.pages_in_use, start->pages_in_use,
	       info.pages_free, info.nb_pages, info.user_caches, pfrag_bad_free_count());
	if (info.frags_out != 0 || info.pages_in_use != start->pages_in_use)
		fail = 1;
	ret = pfrag_pool_free(pool);
	printf("RESULT pool_free=%d\n", ret);
	return fail || ret != 0 ? -1 : 0;
}

/*
 * rte_eal_init() with "-b BDF" added for every --port: EAL must not probe
 * them before the pool exists. Returns what rte_eal_init() returns.
 */
static int
eal_init_blocking_ports(int argc, char **argv)
{
	char **eargv;
	int i, eargc = 0, ret, dashes = argc;
	unsigned int p;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			dashes = i;
			break;
		}
	}
	optind = dashes + 1;
	if (dashes == argc || parse_args(argc, argv) < 0)
		return -EINVAL;
	optind = 1;
	eargv = calloc(dashes + 2 * MAX_PORTS + 1, sizeof(*eargv));
	if (eargv == NULL)
		return -ENOMEM;
	for (i = 0; i < dashes; i++)
		eargv[eargc++] = argv[i];
	for (p = 0; p < opt.nb_ports; p++) {
		eargv[eargc++] = (char *)(uintptr_t)"-b";
		eargv[eargc++] = (char *)(uintptr_t)opt.ports[p];
	}
	ret = rte_eal_init(eargc, eargv);
	/* EAL keeps pointers into argv: eargv stays allocated. */
	return ret;
}

int
main(int argc, char **argv)
{
	struct pfrag_pool_info start;
	unsigned int p;
	int ret, fail = 0;

	ret = eal_init_blocking_ports(argc, argv);
	if (ret == -EINVAL) {
		usage(argv[0]);
		return 2;
	}
	if (ret < 0) {
		fprintf(stderr, "EAL init failed: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	printf("RESULT guest build=%s iova=%s lcore=%u\n", BUILD_NAME,
	       rte_eal_iova_mode() == RTE_IOVA_PA ? "pa" : "va", rte_lcore_id());
	pool = pfrag_pool_create(POOL_NAME, (int)rte_socket_id(), 0, POOL_PAGES, 0);
	rx_mp = rte_pktmbuf_pool_create("vmg_rx", NB_MBUF, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					(int)rte_socket_id());
	hdr_mp = pfrag_mbuf_hdr_pool_create("vmg_hdr", NB_MBUF, (int)rte_socket_id());
	if (pool == NULL || rx_mp == NULL || hdr_mp == NULL) {
		fprintf(stderr, "pools: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	pfrag_pool_info_get(pool, &start);
	for (p = 0; p < opt.nb_ports; p++) {
		if (probe_port(opt.ports[p], &port_ids[p]) < 0)
			return 1;
		ret = port_setup(p);
		if (ret < 0) {
			fprintf(stderr, "port %s setup: %s\n", opt.ports[p], rte_strerror(-ret));
			return 1;
		}
	}
	switch (opt.mode) {
	case MODE_RX:
		run_rx();
		break;
	case MODE_TX:
		run_tx();
		break;
	case MODE_LOOP:
		fail = run_loop() < 0;
		break;
	}
	if (teardown(&start) < 0)
		fail = 1;
	rte_eal_cleanup();
	printf("RESULT done ok=%d\n", !fail);
	return fail;
}

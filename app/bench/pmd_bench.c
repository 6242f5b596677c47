/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * pmd: our PMD (net_virtio_frag_user) against DPDK's net_virtio_user (the
 * distro plugin), both against the same distro dpdk-testpmd net_vhost peer,
 * the two alternating round by round (A B A B ...), the median of the
 * rounds shown:
 * - RX only: the peer generates (txonly), this lcore receives and frees;
 * - TX only: the peer sinks (rxonly), this lcore sends;
 * - io forward: two ports, this lcore forwards port 0 <-> port 1, the peer
 *   loops both back (io, --port-topology=loop) after `start tx_first 64`;
 * each at 64 B and IMIX (7:4:1 of 64/576/1500 bytes: the peer's txonly
 * draws 1..12 segments of 64,0,0,0,0,0,0,512,0,0,0,924 bytes, this lcore
 * sends the pattern). Both drivers use one standard 2 KB mbuf pool (our
 * header mbufs, their buffers, TX mbufs) and the same ring size.
 * Then the application rows of pmd_apps.sh: the distro testpmd and DPDK's
 * l2fwd loading our PMD with -d against the same applications with
 * net_virtio_user, and pfrag-l2fwd, packets counted at the peer in the same
 * window. The table's cycles are TSC cycles per packet of the forwarding
 * lcore: for our loops the whole window over the packets; for testpmd its
 * --record-core-cycles figure (bursts that returned packets only).
 */

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "bench.h"

#define BURST 32u
#define MAX_ROUNDS 32
#define IMIX_X ((7 * 64 + 4 * 576 + 1500) / 12.0)

/*
 * Share of the last RX or forward loop's time spent in polls that returned
 * packets (their receive, forwarding and freeing): well below 1, the loop
 * waited for the peer, which set the rate; near 1, the loop's own work did.
 */
static double last_busy_share = -1;

static const uint16_t len64[] = { 64 };
static const uint16_t imix[] = { 64, 576, 64, 64, 576, 64, 1500, 64, 576, 64, 64, 576 };

double
bench_pmd_rx(uint16_t port, double secs, double *mean_len)
{
	return bench_pmd_rx_mq(port, 1, secs, mean_len);
}

double
bench_pmd_rx_mq(uint16_t port, uint16_t nb_queues, double secs, double *mean_len)
{
	uint64_t hz = rte_get_timer_hz(), n = 0, bytes = 0, t0, t1, end, busy = 0;
	struct rte_mbuf *pkts[BURST];
	uint16_t nb, i, q = 0;

	end = rte_get_timer_cycles() + 10 * hz;
	do {
		nb = rte_eth_rx_burst(port, 0, pkts, BURST);
		rte_pktmbuf_free_bulk(pkts, nb);
	} while (nb == 0 && rte_get_timer_cycles() < end);
	if (nb == 0)
		return 0;
	t0 = rte_get_timer_cycles();
	end = t0 + (uint64_t)(secs * hz);
	while ((t1 = rte_get_timer_cycles()) < end) {
		q = q + 1 == nb_queues ? 0 : q + 1;
		nb = rte_eth_rx_burst(port, q, pkts, BURST);
		if (nb == 0)
			continue;
		n += nb;
		for (i = 0; i < nb; i++)
			bytes += pkts[i]->pkt_len;
		rte_pktmbuf_free_bulk(pkts, nb);
		busy += rte_get_timer_cycles() - t1;
	}
	last_busy_share = t1 > t0 ? (double)busy / (t1 - t0) : -1;
	if (mean_len != NULL)
		*mean_len = n > 0 ? (double)bytes / n : 0;
	return n / ((double)(t1 - t0) / hz) / 1e6;
}

double
bench_pmd_tx(uint16_t port, struct rte_mempool *mp, const uint16_t *lens,
	     unsigned int nb_lens, double secs)
{
	uint64_t hz = rte_get_timer_hz(), n = 0, t0, t1, end;
	struct rte_mbuf *pkts[BURST];
	unsigned int i, k = 0;
	uint16_t nb;

	t0 = rte_get_timer_cycles();
	end = t0 + (uint64_t)(secs * hz);
	while ((t1 = rte_get_timer_cycles()) < end) {
		if (rte_pktmbuf_alloc_bulk(mp, pkts, BURST) != 0)
			continue;
		for (i = 0; i < BURST; i++) {
			pkts[i]->data_len = lens[k];
			pkts[i]->pkt_len = lens[k];
			k = k + 1 == nb_lens ? 0 : k + 1;
		}
		nb = rte_eth_tx_burst(port, 0, pkts, BURST);
		n += nb;
		if (nb < BURST)
			rte_pktmbuf_free_bulk(&pkts[nb], BURST - nb);
	}
	return n / ((double)(t1 - t0) / hz) / 1e6;
}

/* One direction: what came in on @p in goes out on @p out; packets sent on. */
static inline uint16_t
fwd_one(uint16_t in, uint16_t out)
{
	struct rte_mbuf *pkts[BURST];
	uint16_t nb = rte_eth_rx_burst(in, 0, pkts, BURST), tx;

	if (nb == 0)
		return 0;
	tx = rte_eth_tx_burst(out, 0, pkts, nb);
	if (unlikely(tx < nb))
		rte_pktmbuf_free_bulk(&pkts[tx], nb - tx);
	return tx;
}

double
bench_pmd_fwd(const uint16_t ports[2], double secs)
{
	uint64_t hz = rte_get_timer_hz(), n = 0, t0, t1, end, busy = 0;
	unsigned int got = 0;

	/* The traffic the peer injects takes a moment to come round. */
	end = rte_get_timer_cycles() + 10 * hz;
	while (got == 0 && rte_get_timer_cycles() < end)
		got = fwd_one(ports[0], ports[1]) + fwd_one(ports[1], ports[0]);
	if (got == 0)
		return 0;
	t0 = rte_get_timer_cycles();
	end = t0 + (uint64_t)(secs * hz);
	/* Busy: the rounds over both ports that moved packets. */
	while ((t1 = rte_get_timer_cycles()) < end) {
		got = fwd_one(ports[0], ports[1]) + fwd_one(ports[1], ports[0]);
		if (got == 0)
			continue;
		n += got;
		busy += rte_get_timer_cycles() - t1;
	}
	last_busy_share = t1 > t0 ? (double)busy / (t1 - t0) : -1;
	return n / ((double)(t1 - t0) / hz) / 1e6;
}

enum kind { RX, TX, FWD };
enum { OURS, THEIRS };

static const char *const drv_name[] = { "net_virtio_frag_user", "net_virtio_user" };
static const char *const drv_label[] = { "virtio_frag", "net_virtio_user" };

struct workload {
	const char *name;
	const char *group;
	enum kind kind;
	int imix;
};

static const struct workload workloads[] = {
	{ "RX only, 64 B", "RX only (peer txonly)", RX, 0 },
	{ "RX only, IMIX", "RX only (peer txonly)", RX, 1 },
	{ "TX only, 64 B", "TX only (peer rxonly)", TX, 0 },
	{ "TX only, IMIX", "TX only (peer rxonly)", TX, 1 },
	{ "io forward, 64 B", "io forward, 2 ports (peer io loop)", FWD, 0 },
	{ "io forward, IMIX", "io forward, 2 ports (peer io loop)", FWD, 1 },
};

/*
 * Our port's counters that say a figure cost more than packets: drops,
 * errors, packets over several buffers (multi-buffer chains). Printed
 * beside the round, so that a slow round says why.
 */
static void
print_port_events(const char *name, uint16_t port)
{
	static const char *const keys[] = { "bad", "discard", "error", "nombuf", "multiseg",
					    "dropped" };
	struct rte_eth_xstat_name names[128];
	struct rte_eth_xstat xs[128];
	int n = rte_eth_xstats_get_names(port, names, RTE_DIM(names)), i;
	unsigned int k, shown = 0;

	if (n <= 0 || n > (int)RTE_DIM(names) || rte_eth_xstats_get(port, xs, n) != n)
		return;
	for (i = 0; i < n; i++) {
		for (k = 0; k < RTE_DIM(keys); k++)
			if (strstr(names[xs[i].id].name, keys[k]) != NULL)
				break;
		if (k == RTE_DIM(keys) || xs[i].value == 0)
			continue;
		if (shown++ == 0)
			printf("    %s:", name);
		printf(" %s %" PRIu64, names[xs[i].id].name, xs[i].value);
	}
	if (shown > 0)
		printf("\n");
}

/* One measurement of driver @p which: create its port(s), run, remove. */
static double
measure(const struct bench_pmd_cfg *cfg, const struct workload *w, struct bench_peer *peer,
	struct rte_mempool *mp, int which)
{
	unsigned int nb_ports = w->kind == FWD ? 2 : 1, i;
	char name[2][40], args[320], sock[240];
	const char *extra;
	uint16_t ports[2];
	double mpps = -1, mean = 0;

	for (i = 0; i < nb_ports; i++) {
		snprintf(name[i], sizeof(name[i]), "%s%u", drv_name[which], 7 + i);
		bench_peer_sock(peer, i, sock, sizeof(sock));
		extra = which == OURS && cfg->ours_devargs != NULL ? cfg->ours_devargs : "";
		if (snprintf(args, sizeof(args), "path=%s,queue_size=%u%s%s", sock, cfg->ring,
			     extra[0] != '\0' ? "," : "", extra) >= (int)sizeof(args)) {
			printf("pmd: devargs too long: %s\n", extra);
			nb_ports = i;
			goto out;
		}
		if (bench_port_create(name[i], args, mp, cfg->ring, 1, &ports[i]) != 0 ||
		    bench_wait_link(ports[i], 20000) != 0) {
			printf("pmd: %s: no link against the peer (log %s)\n", name[i], peer->log);
			nb_ports = i + 1;
			goto out;
		}
	}
	switch (w->kind) {
	case RX:
		mpps = bench_pmd_rx(ports[0], cfg->secs, &mean);
		/* The peer's mix arrived as asked: a wrong mix is no figure. */
		if (mpps > 0 && fabs(mean - (w->imix ? IMIX_X : 64)) > (w->imix ? 40 : 0.5)) {
			printf("pmd: %s: frames of %.1f bytes on average, not %s\n",
			       w->name, mean, w->imix ? "IMIX" : "64");
			mpps = -1;
		}
		break;
	case TX:
		/* The peer starts dequeuing once the rings are handed over. */
		rte_delay_us_sleep(300 * 1000);
		mpps = bench_pmd_tx(ports[0], mp, w->imix ? imix : len64,
				    w->imix ? RTE_DIM(imix) : RTE_DIM(len64), cfg->secs);
		break;
	case FWD:
		rte_delay_us_sleep(300 * 1000);
		bench_peer_cmd(peer, "start tx_first 64");
		mpps = bench_pmd_fwd(ports, cfg->secs);
		bench_peer_cmd(peer, "stop");
		break;
	}
out:
	for (i = 0; i < nb_ports; i++) {
		if (which == OURS && mpps >= 0)
			print_port_events(name[i], ports[i]);
		bench_port_remove(name[i]);
	}
	return mpps;
}

/* IMIX from testpmd's txonly: 1..12 segments drawn at random, 7:4:1. */
static void
peer_imix(struct bench_peer *peer)
{
	bench_peer_cmd(peer, "set txpkts 64,0,0,0,0,0,0,512,0,0,0,924");
	bench_peer_cmd(peer, "set txsplit rand");
}

static int
run_workload(struct bench_table *t, const struct bench_pmd_cfg *cfg, const struct workload *w,
	     struct rte_mempool *mp)
{
	static const char *const modes[] = { [RX] = "txonly", [TX] = "rxonly", [FWD] = "io" };
	double v[2][MAX_ROUNDS];
	unsigned int r, rounds = RTE_MIN(RTE_MAX(cfg->rounds, 1u), (unsigned int)MAX_ROUNDS);
	struct bench_peer peer;
	struct bench_row *row;
	double med[2];
	int which, ret = 0;

	if (bench_peer_start(&peer, cfg->testpmd, cfg->dir, w->kind == FWD ? 2 : 1, 1,
			     modes[w->kind]) != 0) {
		printf("pmd: the peer did not start\n");
		return -1;
	}
	if (w->imix)
		peer_imix(&peer);
	if (w->kind != FWD)
		bench_peer_cmd(&peer, "start");
	for (r = 0; r < rounds && ret == 0; r++) {
		for (which = OURS; which <= THEIRS; which++) {
			last_busy_share = -1;
			v[which][r] = measure(cfg, w, &peer, mp, which);
			printf("  round %u %-18s %-16s %6.2f Mpps", r + 1, w->name,
			       drv_label[which], v[which][r]);
			if (last_busy_share >= 0)
				printf(", busy %4.1f%% of the time", 100 * last_busy_share);
			printf("\n");
			if (v[which][r] <= 0)
				ret = -1;
		}
	}
	bench_peer_stop(&peer);
	if (ret != 0) {
		printf("pmd: %s: no figure (peer log %s)\n", w->name, peer.log);
		return ret;
	}
	med[OURS] = bench_median(v[OURS], rounds);
	med[THEIRS] = bench_median(v[THEIRS], rounds);
	row = bench_add(t, w->group, w->name, "virtio_frag", "net_virtio_user",
			w->imix ? IMIX_X : 64, med[OURS], med[THEIRS]);
	if (row != NULL) {
		row->ours_aux = rte_get_tsc_hz() / (med[OURS] * 1e6);
		row->theirs_aux = rte_get_tsc_hz() / (med[THEIRS] * 1e6);
	}
	return 0;
}

/* Medians of one configuration of pmd_apps.csv: packets per s, cycles/packet. */
static int
app_median(const char *csv, const char *config, double *mpps, double *cycles)
{
	double rate[MAX_ROUNDS], cyc[MAX_ROUNDS];
	unsigned int n = 0, nc = 0, run;
	char line[256], name[64];
	double pkts, secs, c;
	FILE *f = fopen(csv, "r");

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL && n < MAX_ROUNDS) {
		if (sscanf(line, "%63[^,],%u,%lf,%lf,%lf", name, &run, &pkts, &secs, &c) != 5 ||
		    strcmp(name, config) != 0 || secs <= 0)
			continue;
		rate[n++] = pkts / secs / 1e6;
		if (c > 0)
			cyc[nc++] = c;
	}
	fclose(f);
	if (n == 0)
		return -1;
	*mpps = bench_median(rate, n);
	*cycles = nc > 0 ? bench_median(cyc, nc) : NAN;
	return 0;
}

static int
app_rows(struct bench_table *t, const struct bench_pmd_cfg *cfg)
{
	static const struct {
		const char *group, *name, *ours, *theirs, *ours_label, *theirs_label;
	} pairs[] = {
		{ "testpmd io forward with -d (peer io loop)", "testpmd io, 64 B",
		  "testpmd-ours", "testpmd-vu", "testpmd + virtio_frag (-d)",
		  "testpmd + net_virtio_user" },
		{ "DPDK l2fwd with -d (peer io loop)", "DPDK l2fwd, 64 B", "l2fwd-ours",
		  "l2fwd-vu", "DPDK l2fwd + virtio_frag (-d)", "DPDK l2fwd + net_virtio_user" },
		{ "pfrag-l2fwd vs DPDK l2fwd (peer io loop)", "pfrag-l2fwd, 64 B", "pfrag-l2fwd",
		  "l2fwd-vu", "pfrag-l2fwd + virtio_frag", "DPDK l2fwd + net_virtio_user" },
	};
	char cmd[1200], csv[600];
	double m[2], c[2];
	struct bench_row *row;
	unsigned int i;
	int ret;

	snprintf(cmd, sizeof(cmd), "'%s' --build '%s' --out '%s' --secs %u --runs %u",
		 cfg->apps_script, cfg->build_dir, cfg->out_dir, cfg->app_secs, cfg->app_runs);
	printf("pmd: %s\n", cmd);
	fflush(stdout);
	ret = system(cmd);
	if (!WIFEXITED(ret) || WEXITSTATUS(ret) != 0) {
		printf("pmd: the application runs failed (exit %d)\n",
		       WIFEXITED(ret) ? WEXITSTATUS(ret) : -1);
		return -1;
	}
	snprintf(csv, sizeof(csv), "%s/pmd_apps.csv", cfg->out_dir);
	for (i = 0; i < RTE_DIM(pairs); i++) {
		if (app_median(csv, pairs[i].ours, &m[0], &c[0]) != 0 ||
		    app_median(csv, pairs[i].theirs, &m[1], &c[1]) != 0) {
			printf("pmd: no figures for %s in %s\n", pairs[i].name, csv);
			return -1;
		}
		row = bench_add(t, pairs[i].group, pairs[i].name, pairs[i].ours_label,
				pairs[i].theirs_label, 64, m[0], m[1]);
		if (row != NULL) {
			row->ours_aux = c[0];
			row->theirs_aux = c[1];
		}
	}
	return 0;
}

int
bench_pmd(struct bench_table *t, const struct bench_pmd_cfg *cfg)
{
	struct rte_mempool *mp;
	unsigned int i;
	int ret = 0;

	bench_table_init(t, "pmd", "virtio_frag against net_virtio_user, distro testpmd "
			 "net_vhost peer, median of alternating runs", "Mpps", "cycles/pkt",
			 "traffic (mean frame bytes)");
	if (cfg->ours_devargs != NULL && cfg->ours_devargs[0] != '\0')
		snprintf(t->title, sizeof(t->title), "virtio_frag (%s) against net_virtio_user, "
			 "distro testpmd net_vhost peer", cfg->ours_devargs);
	t->higher_better = 1;
	t->logx = 1;
	snprintf(t->xtics, sizeof(t->xtics), "'64 B' 64, 'IMIX' %.1f", IMIX_X);
	if (access(cfg->testpmd, X_OK) != 0) {
		printf("pmd: %s not installed (Debian package dpdk)\n", cfg->testpmd);
		return -ENOENT;
	}
	mp = rte_pktmbuf_pool_create("bench_pmd_mp", 16383, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				     rte_socket_id());
	if (mp == NULL)
		return -ENOMEM;
	for (i = 0; i < RTE_DIM(workloads) && ret == 0; i++)
		ret = run_workload(t, cfg, &workloads[i], mp);
	rte_mempool_free(mp);
	if (ret == 0 && cfg->apps_script != NULL)
		ret = app_rows(t, cfg);
	if (ret != 0)
		t->failures++;
	return ret == 0 ? 0 : -EIO;
}

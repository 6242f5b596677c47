/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * memory: hugepage bytes pinned per posted RX slot and per packet held by the
 * application, measured, for 64-byte, IMIX (7:4:1 of 64/576/1500 bytes) and
 * 1500-byte traffic: our PMD (adaptive and fixed buffer size) against DPDK's
 * net_virtio_user on a standard 2 KB mbuf pool.
 *
 * The peer is DPDK's own vhost PMD (net_vhost, the distro plugin) in this
 * process: this lcore sends through it into the port's RX ring and receives
 * on the port, so frame sizes are exact and no second core is needed.
 * Measured, not computed from constants:
 * - ours: pages of the port's pfrag pool in use x page size, and header
 *   mbufs out of their mempool x their object size;
 * - net_virtio_user: mbufs out of its mempool x their object size.
 * Per posted slot: after a warm-up of the traffic (the adaptive size has
 * converged), everything received freed, the ring refilled: bytes / posted
 * slots. Per held packet: hold K packets (the ring refills behind them):
 * the growth of the bytes / K.
 */

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <rte_bus_vdev.h>
#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_log.h>
#include <rte_mbuf.h>

#include <pfrag.h>
#include <pfrag_mbuf.h>

#include "bench.h"

#define MAX_HELD 4096
#define BURST 32u
#define WAIT_MS 5000

struct traffic {
	const char *name;
	double mean;                 /* bytes, the plot's abscissa */
	unsigned int n;              /* pattern length */
	const uint16_t *len;         /* frame lengths, repeated */
};

static const uint16_t len64[] = { 64 };
static const uint16_t len1500[] = { 1500 };
/* IMIX 7:4:1, interleaved so that every burst sees the mix. */
static const uint16_t imix[] = { 64, 576, 64, 64, 576, 64, 1500, 64, 576, 64, 64, 576 };

static const struct traffic traffics[] = {
	{ "64 B", 64, RTE_DIM(len64), len64 },
	{ "IMIX", (7 * 64 + 4 * 576 + 1500) / 12.0, RTE_DIM(imix), imix },
	{ "1500 B", 1500, RTE_DIM(len1500), len1500 },
};

enum variant { ADAPTIVE, FIXED, ANCHOR, NB_VARIANTS };

struct mem_fig {
	double per_slot;      /* bytes pinned per posted RX slot */
	double per_held;      /* bytes pinned per packet held */
	double buf;           /* buffer bytes posted per slot (the driver's room) */
};

struct mem_ctx {
	const struct bench_memory_cfg *cfg;
	struct rte_mempool *gen;     /* the peer's TX mbufs */
	struct rte_mempool *hdr;     /* our header mbufs */
	struct rte_mempool *std;     /* net_virtio_user's 2 KB mbufs */
	uint16_t vh;                 /* peer port */
	uint16_t port;               /* port under test */
	struct pfrag_pool *pool;     /* ours: the port's pool */
	struct rte_mbuf *held[MAX_HELD];
	unsigned int nb_held;
	uint64_t seq;
};

static size_t
obj_size(const struct rte_mempool *mp)
{
	return mp->header_size + mp->elt_size + mp->trailer_size;
}

/* Bytes the port under test pins now. */
static double
pinned_bytes(const struct mem_ctx *c, enum variant v)
{
	struct pfrag_pool_info info;

	if (v == ANCHOR)
		return (double)rte_mempool_in_use_count(c->std) * obj_size(c->std);
	if (pfrag_pool_info_get(c->pool, &info) != 0)
		return NAN;
	return (double)info.pages_in_use * info.page_size +
	       (double)rte_mempool_in_use_count(c->hdr) * obj_size(c->hdr);
}

static int64_t
xstat(uint16_t port, const char *name)
{
	uint64_t id, value;

	if (rte_eth_xstats_get_id_by_name(port, name, &id) != 0 ||
	    rte_eth_xstats_get_by_id(port, &id, &value, 1) != 1)
		return -1;
	return (int64_t)value;
}

/*
 * The peer sends @p n frames of traffic @p tr into the port's ring; this
 * lcore receives them, holding up to @p hold of them, freeing the rest.
 */
static int
pump(struct mem_ctx *c, const struct traffic *tr, unsigned int n, unsigned int hold)
{
	uint64_t end = rte_get_timer_cycles() + rte_get_timer_hz() * WAIT_MS / 1000;
	struct rte_mbuf *pkts[BURST];
	unsigned int sent = 0, got = 0, i, want;
	uint16_t nb, tx;

	while (got < n) {
		if (rte_get_timer_cycles() > end) {
			printf("memory: %u of %u frames arrived in %u ms\n", got, n, WAIT_MS);
			return -1;
		}
		want = RTE_MIN(BURST, n - sent);
		if (want > 0 && rte_pktmbuf_alloc_bulk(c->gen, pkts, want) == 0) {
			for (i = 0; i < want; i++) {
				uint16_t len = tr->len[c->seq++ % tr->n];

				memset(rte_pktmbuf_mtod(pkts[i], void *), 0xab, 14);
				pkts[i]->data_len = len;
				pkts[i]->pkt_len = len;
			}
			tx = rte_eth_tx_burst(c->vh, 0, pkts, want);
			if (tx < want) {
				c->seq -= want - tx;
				rte_pktmbuf_free_bulk(&pkts[tx], want - tx);
			}
			sent += tx;
		}
		nb = rte_eth_rx_burst(c->port, 0, pkts, BURST);
		for (i = 0; i < nb; i++) {
			if (c->nb_held < hold)
				c->held[c->nb_held++] = pkts[i];
			else
				rte_pktmbuf_free(pkts[i]);
		}
		got += nb;
	}
	/* A few empty polls: the driver refills the slots it just gave up. */
	for (i = 0; i < 8; i++) {
		nb = rte_eth_rx_burst(c->port, 0, pkts, BURST);
		rte_pktmbuf_free_bulk(pkts, nb);
	}
	return 0;
}

static int
measure(struct mem_ctx *c, enum variant v, const struct traffic *tr, struct mem_fig *f)
{
	const struct bench_memory_cfg *cfg = c->cfg;
	char vname[32], pname[40], args[256], sock[160];
	unsigned int held = RTE_MIN(cfg->held, (unsigned int)MAX_HELD);
	double before, posted;
	int ret = -1;

	snprintf(sock, sizeof(sock), "%s/mem.sock", cfg->sock_dir);
	unlink(sock);
	snprintf(vname, sizeof(vname), "net_vhost_bench");
	snprintf(args, sizeof(args), "iface=%s,queues=1", sock);
	if (rte_vdev_init(vname, args) != 0 ||
	    rte_eth_dev_get_port_by_name(vname, &c->vh) != 0 ||
	    bench_port_start(c->vh, c->gen, 1024, 1) != 0) {
		printf("memory: peer %s (%s) did not start; is DPDK's net_vhost installed?\n",
		       vname, args);
		goto out_peer;
	}
	if (v == ANCHOR) {
		snprintf(pname, sizeof(pname), "net_virtio_user_bench");
		snprintf(args, sizeof(args), "path=%s,queue_size=%u", sock, cfg->ring);
	} else {
		snprintf(pname, sizeof(pname), "net_virtio_frag_user_bench");
		snprintf(args, sizeof(args), "path=%s,queue_size=%u,rx_buf_size=%u", sock,
			 cfg->ring, v == FIXED ? cfg->fixed_buf : 0);
	}
	if (rte_vdev_init(pname, args) != 0 ||
	    rte_eth_dev_get_port_by_name(pname, &c->port) != 0 ||
	    bench_port_start(c->port, v == ANCHOR ? c->std : c->hdr, cfg->ring, 1) != 0 ||
	    bench_wait_link(c->vh, WAIT_MS) != 0) {
		printf("memory: %s (%s) did not come up against the peer\n", pname, args);
		goto out;
	}
	if (v != ANCHOR) {
		snprintf(sock, sizeof(sock), "vfrag%u", c->port);
		c->pool = pfrag_pool_lookup(sock);
		if (c->pool == NULL) {
			printf("memory: no pool %s\n", sock);
			goto out;
		}
	}
	/* Warm-up: the adaptive size follows the traffic; nothing held. */
	if (pump(c, tr, 4 * cfg->ring, 0) != 0)
		goto out;
	posted = v == ANCHOR ? cfg->ring : (double)xstat(c->port, "rx_posted_slots");
	before = pinned_bytes(c, v);
	f->per_slot = before / posted;
	if (v == ANCHOR) {
		f->buf = rte_pktmbuf_data_room_size(c->std) - RTE_PKTMBUF_HEADROOM;
	} else {
		f->buf = (double)xstat(c->port, "rx_buf_size");
	}
	c->nb_held = 0;
	if (pump(c, tr, held, held) != 0)
		goto out;
	f->per_held = (pinned_bytes(c, v) - before) / c->nb_held;
	ret = 0;
out:
	if (c->nb_held > 0)
		rte_pktmbuf_free_bulk(c->held, c->nb_held);
	c->nb_held = 0;
	bench_port_remove(pname);
	c->pool = NULL;
out_peer:
	bench_port_remove(vname);
	return ret;
}

static void
add(struct bench_table *t, const char *group, const char *name, const char *series,
    double x, double ours, double theirs, double ours_buf, double theirs_buf)
{
	struct bench_row *r = bench_add(t, group, name, series,
					"net_virtio_user, 2 KB mbuf pool", x, ours, theirs);

	if (r != NULL) {
		r->ours_aux = ours_buf;
		r->theirs_aux = theirs_buf;
	}
}

int
bench_memory(struct bench_table *t, const struct bench_memory_cfg *cfg)
{
	struct mem_fig f[NB_VARIANTS];
	struct mem_ctx *c;
	char name[64], series[2][40];
	unsigned int i, v;
	int ret = 0;

	bench_table_init(t, "memory", "hugepage bytes pinned: virtio_frag against net_virtio_user "
			 "(2 KB mbufs)", "bytes", "buf bytes", "traffic (mean frame bytes)");
	t->logx = 1;
	snprintf(t->xtics, sizeof(t->xtics), "'64 B' 64, 'IMIX' %.1f, '1500 B' 1500",
		 traffics[1].mean);
	snprintf(series[0], sizeof(series[0]), "virtio_frag, adaptive");
	snprintf(series[1], sizeof(series[1]), "virtio_frag, fixed %u B", cfg->fixed_buf);
	/* The vhost library logs every message of each handshake at info. */
	rte_log_set_level_pattern("lib.vhost.*", RTE_LOG_WARNING);
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return -ENOMEM;
	c->cfg = cfg;
	c->gen = rte_pktmbuf_pool_create("bench_gen", 4095, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					 SOCKET_ID_ANY);
	c->hdr = pfrag_mbuf_hdr_pool_create("bench_hdr", 8191, SOCKET_ID_ANY);
	c->std = rte_pktmbuf_pool_create("bench_std", 8191, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					 SOCKET_ID_ANY);
	if (c->gen == NULL || c->hdr == NULL || c->std == NULL) {
		ret = -ENOMEM;
		goto out;
	}
	for (i = 0; i < RTE_DIM(traffics); i++) {
		if (cfg->nb_traffics != 0 && i >= cfg->nb_traffics)
			break;
		for (v = 0; v < NB_VARIANTS; v++) {
			/*
			 * The driver gives a backend 1 s a reply; on a loaded
			 * shared machine the vhost thread may miss it once.
			 */
			if (measure(c, v, &traffics[i], &f[v]) != 0 &&
			    (printf("memory: set-up failed, once more\n") < 0 ||
			     measure(c, v, &traffics[i], &f[v]) != 0)) {
				t->failures++;
				ret = -EIO;
				goto out;
			}
		}
		for (v = ADAPTIVE; v <= FIXED; v++) {
			snprintf(name, sizeof(name), "%-6s per posted slot, %s", traffics[i].name,
				 v == ADAPTIVE ? "adaptive" : "fixed");
			add(t, "per posted RX slot", name, series[v], traffics[i].mean,
			    f[v].per_slot, f[ANCHOR].per_slot, f[v].buf, f[ANCHOR].buf);
		}
		for (v = ADAPTIVE; v <= FIXED; v++) {
			snprintf(name, sizeof(name), "%-6s per held packet, %s", traffics[i].name,
				 v == ADAPTIVE ? "adaptive" : "fixed");
			add(t, "per packet held by the application", name, series[v],
			    traffics[i].mean, f[v].per_held, f[ANCHOR].per_held, f[v].buf,
			    f[ANCHOR].buf);
		}
	}
out:
	rte_mempool_free(c->gen);
	rte_mempool_free(c->hdr);
	rte_mempool_free(c->std);
	free(c);
	return ret;
}

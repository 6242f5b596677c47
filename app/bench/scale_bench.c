/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * scale: the alloc+free pair (D objects in flight, each lcore on its own
 * cache) run on 1, then 2, ... lcores at once, pfrag beside rte_mempool
 * get/put. Per-op cost per lcore and the total rate. What the lcores share
 * decides the shape beyond this machine's two cores:
 * - pfrag: an lcore's cache, stash and counters sit on lines only it writes;
 *   a page's count is touched when its cache takes or returns the page (one
 *   atomic per page, not per fragment) and the shared ring of free pages only
 *   when a stash over- or underflows (PFRAG_STASH_SIZE pages at a time);
 * - rte_mempool: the per-lcore cache absorbs get/put; its ring is shared
 *   when a cache flushes or refills.
 * With frees on the lcore that allocated, neither shares a line in the
 * steady state, so the per-op cost should stay flat and the rate grow with
 * the lcores; a cross-lcore free (alloc study) is where a page's count line
 * moves between cores.
 *
 * Queues: one lcore receives from 1..Q queue pairs of one port (our PMD
 * against net_virtio_user, the distro testpmd peer generating on as many
 * queues, rounds alternating, median), ns per received packet. Each of our
 * RX queues owns its pfrag cache and stats (nothing shared between queues
 * but the pool's ring of free pages, touched once per page); more cores
 * each with their queue scale as the pool rows do.
 */

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <pfrag.h>

#include "bench.h"

#define MAX_DEPTH 4096
#define REPEAT 3

struct scale_ctx {
	struct pfrag_pool *pool;
	struct rte_mempool *mp;
	const struct bench_scale_cfg *cfg;
	int use_pfrag;
	volatile int go;
	uint64_t cycles[RTE_MAX_LCORE];
	uint64_t ops[RTE_MAX_LCORE];
};

static struct scale_ctx ctx;

static int
pair_loop(void *arg __rte_unused)
{
	static __thread void *slots[MAX_DEPTH];
	unsigned int lcore = rte_lcore_id(), depth = ctx.cfg->depth, i, filled;
	uint32_t size = ctx.cfg->size;
	uint64_t t0;
	void *obj;

	for (filled = 0; filled < depth; filled++) {
		if (ctx.use_pfrag)
			slots[filled] = pfrag_alloc(ctx.pool, size, 64);
		else if (rte_mempool_get(ctx.mp, &slots[filled]) != 0)
			slots[filled] = NULL;
		if (slots[filled] == NULL)
			break;
	}
	while (!ctx.go)
		rte_pause();
	t0 = rte_rdtsc_precise();
	for (i = 0; i < ctx.cfg->iterations && filled == depth; i++) {
		unsigned int s = i & (depth - 1);

		if (ctx.use_pfrag) {
			obj = pfrag_alloc(ctx.pool, size, 64);
			if (unlikely(obj == NULL))
				break;
			pfrag_free(slots[s]);
		} else {
			if (unlikely(rte_mempool_get(ctx.mp, &obj) != 0))
				break;
			rte_mempool_put(ctx.mp, slots[s]);
		}
		slots[s] = obj;
	}
	ctx.cycles[lcore] = rte_rdtsc_precise() - t0;
	ctx.ops[lcore] = i;
	while (filled > 0) {
		if (ctx.use_pfrag)
			pfrag_free(slots[--filled]);
		else
			rte_mempool_put(ctx.mp, slots[--filled]);
	}
	return i == ctx.cfg->iterations ? 0 : -1;
}

/* Run on @p n lcores at once: mean ns per op per lcore and total Mops. */
static int
run_on(unsigned int n, int use_pfrag, double *ns, double *mops)
{
	unsigned int lcores[RTE_MAX_LCORE], k = 0, l, r;
	double best_ns = 0, best_mops = 0, sum_ns, rate;
	int failed = 0;

	RTE_LCORE_FOREACH_WORKER(l) {
		if (k + 1 < n)
			lcores[k++] = l;
	}
	if (k + 1 < n)
		return -ENODEV;
	ctx.use_pfrag = use_pfrag;
	for (r = 0; r < REPEAT; r++) {
		ctx.go = 0;
		memset(ctx.cycles, 0, sizeof(ctx.cycles));
		for (l = 0; l < k; l++)
			rte_eal_remote_launch(pair_loop, NULL, lcores[l]);
		ctx.go = 1;
		failed |= pair_loop(NULL);
		for (l = 0; l < k; l++)
			failed |= rte_eal_wait_lcore(lcores[l]);
		sum_ns = 0;
		rate = 0;
		RTE_LCORE_FOREACH(l) {
			if (ctx.ops[l] == 0 || ctx.cycles[l] == 0)
				continue;
			sum_ns += bench_ns(ctx.cycles[l], ctx.ops[l]);
			rate += 1e3 / bench_ns(ctx.cycles[l], ctx.ops[l]);
		}
		memset(ctx.ops, 0, sizeof(ctx.ops));
		if (r == 0 || sum_ns / n < best_ns) {
			best_ns = sum_ns / n;
			best_mops = rate;
		}
	}
	*ns = best_ns;
	*mops = best_mops;
	return failed ? -ENOBUFS : 0;
}

#define MAX_ROUNDS 31

/* RX on one lcore from @p queues queues of driver @p drv; Mpps, 0 on failure. */
static double
rx_queues(const struct bench_scale_cfg *cfg, struct bench_peer *peer, struct rte_mempool *mp,
	  const char *drv, uint16_t queues)
{
	char name[40], args[320], sock[240];
	double mpps = 0;
	uint16_t port;

	snprintf(name, sizeof(name), "%s5", drv);
	bench_peer_sock(peer, 0, sock, sizeof(sock));
	snprintf(args, sizeof(args), "path=%s,queue_size=%u,queues=%u", sock, cfg->ring,
		 queues);
	if (bench_port_create(name, args, mp, cfg->ring, queues, &port) != 0)
		return 0;
	if (bench_wait_link(port, 20000) == 0)
		mpps = bench_pmd_rx_mq(port, queues, cfg->secs, NULL);
	else
		printf("scale: %s: no link (peer log %s)\n", name, peer->log);
	bench_port_remove(name);
	return mpps;
}

static int
queue_rows(struct bench_table *t, const struct bench_scale_cfg *cfg)
{
	static const char *const drv[] = { "net_virtio_frag_user", "net_virtio_user" };
	double v[2][MAX_ROUNDS], m[2];
	unsigned int r, rounds = RTE_MIN(RTE_MAX(cfg->rounds, 1u), (unsigned int)MAX_ROUNDS);
	struct bench_peer peer;
	struct rte_mempool *mp;
	struct bench_row *row;
	char name[64];
	uint16_t q;
	int d, ret = 0;

	if (access(cfg->testpmd, X_OK) != 0) {
		printf("scale: %s not installed: no queue rows\n", cfg->testpmd);
		return -ENOENT;
	}
	mp = rte_pktmbuf_pool_create("bench_scale_mb", 16383, 256, 0,
				     RTE_MBUF_DEFAULT_BUF_SIZE, rte_socket_id());
	if (mp == NULL)
		return -ENOMEM;
	for (q = 1; q <= cfg->max_queues && ret == 0; q++) {
		if (bench_peer_start(&peer, cfg->testpmd, cfg->dir, 1, q, "txonly") != 0) {
			ret = -EIO;
			break;
		}
		bench_peer_cmd(&peer, "start");
		for (r = 0; r < rounds && ret == 0; r++)
			for (d = 0; d < 2 && ret == 0; d++) {
				v[d][r] = rx_queues(cfg, &peer, mp, drv[d], q);
				if (v[d][r] <= 0)
					ret = -EIO;
			}
		bench_peer_stop(&peer);
		if (ret != 0)
			break;
		m[0] = bench_median(v[0], rounds);
		m[1] = bench_median(v[1], rounds);
		snprintf(name, sizeof(name), "RX 64 B, 1 lcore, %u queue%s", q, q > 1 ? "s" : "");
		row = bench_add(t, "RX only, 64 B, one lcore polling 1..N queues", name,
				"virtio_frag", "net_virtio_user", q, 1e3 / m[0], 1e3 / m[1]);
		if (row != NULL) {
			row->ours_aux = m[0];
			row->theirs_aux = m[1];
		}
	}
	rte_mempool_free(mp);
	return ret;
}

int
bench_scale(struct bench_table *t, const struct bench_scale_cfg *cfg)
{
	unsigned int n, max = rte_lcore_count();
	double ns[2], mops[2];
	struct bench_row *row;
	char name[64];
	int ret = 0;

	bench_table_init(t, "scale", "per-op cost as lcores and queues grow",
			 "ns per op, per lcore", "Mops total", "lcores or queues");
	if (!rte_is_power_of_2(cfg->depth) || cfg->depth > MAX_DEPTH)
		return -EINVAL;
	memset(&ctx, 0, sizeof(ctx));
	ctx.cfg = cfg;
	ctx.pool = pfrag_pool_create("bench_scale", SOCKET_ID_ANY, 0, 4096, 0);
	ctx.mp = rte_mempool_create("bench_scale_mp", 16383, cfg->size, 256, 0, NULL, NULL,
				    NULL, NULL, SOCKET_ID_ANY, 0);
	if (ctx.pool == NULL || ctx.mp == NULL) {
		ret = -ENOMEM;
		goto out;
	}
	if (max < 2)
		printf("scale: one lcore only (run with -l 0-1 for two)\n");
	for (n = 1; n <= max && ret == 0; n++) {
		ret = run_on(n, 1, &ns[0], &mops[0]);
		if (ret == 0)
			ret = run_on(n, 0, &ns[1], &mops[1]);
		if (ret != 0)
			break;
		snprintf(name, sizeof(name), "%u B, %u in flight, %u lcore%s", cfg->size,
			 cfg->depth, n, n > 1 ? "s" : "");
		row = bench_add(t, "alloc+free pair, each lcore on its own cache", name, "pfrag",
				"rte_mempool get/put", n, ns[0], ns[1]);
		/* Ops per lcore per s: the pair counts once. */
		if (row != NULL) {
			row->ours_aux = mops[0];
			row->theirs_aux = mops[1];
		}
	}
	if (ret == 0 && cfg->testpmd != NULL)
		ret = queue_rows(t, cfg);
	if (ret != 0) {
		printf("scale: a run failed: %s\n", rte_strerror(-ret));
		t->failures++;
	}
out:
	if (ctx.pool != NULL) {
		pfrag_pool_drain_caches(ctx.pool);
		if (pfrag_pool_free(ctx.pool) != 0)
			t->failures++;
	}
	rte_mempool_free(ctx.mp);
	return ret;
}

/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * pfrag-bench: the studies of issue 11, one sub-command each. Every figure is
 * printed beside its anchor, measured in the same run, with the ratio; then
 * written as CSV and as a PNG plot (gnuplot) into a results folder, with the
 * goals the figures meet or miss.
 *
 *   pfrag-bench [EAL args] -- STUDY [--out DIR] [--smoke] [--iter N]
 *
 * STUDY: alloc, drain, memory, scale, pmd. --smoke: tiny sizes, seconds in
 * all (the test suite runs it so that the studies cannot rot).
 */

#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_eal.h>
#include <rte_errno.h>

#include "bench.h"

static const char *study;
static char out_dir[PATH_MAX];
static unsigned int iterations;
static int smoke;
static double pmd_secs;
static unsigned int pmd_rounds;
static int no_apps;
static const char *pmd_devargs = "";

static void
usage(const char *prog)
{
	printf("usage: %s [EAL args] -- STUDY [--out DIR] [--smoke] [--iter N]\n"
	       "          [--secs S] [--rounds N] [--no-apps] [--devargs KV]\n"
	       "  STUDY       alloc | drain | memory | scale | pmd\n"
	       "  --out DIR   results folder (default <build>/bench-results/<time>)\n"
	       "  --smoke     tiny sizes: a check that the study runs, not a figure\n"
	       "  --iter N    operations per figure (alloc, scale)\n"
	       "  --secs S    pmd: seconds per measurement (default 1; applications 4)\n"
	       "  --rounds N  pmd: alternating rounds, median shown (default 5)\n"
	       "  --no-apps   pmd: no application rows (testpmd, l2fwd with -d);\n"
	       "              scale: no PMD rows (no testpmd peer)\n"
	       "  --devargs KV pmd: more devargs for our ports' own rows, e.g.\n"
	       "              rx_buf_size=2048 (key=value[,key=value])\n", prog);
}

static int
parse_args(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "smoke", no_argument, NULL, 's' },
		{ "iter", required_argument, NULL, 'i' },
		{ "secs", required_argument, NULL, 'S' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "no-apps", no_argument, NULL, 'n' },
		{ "devargs", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	int c;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			snprintf(out_dir, sizeof(out_dir), "%s", optarg);
			break;
		case 's':
			smoke = 1;
			break;
		case 'i':
			iterations = strtoul(optarg, &end, 10);
			if (*end != '\0' || iterations < 1000) {
				fprintf(stderr, "--iter wants a number >= 1000\n");
				return -1;
			}
			break;
		case 'S':
			pmd_secs = strtod(optarg, &end);
			if (*end != '\0' || pmd_secs < 0.1 || pmd_secs > 60) {
				fprintf(stderr, "--secs wants 0.1 .. 60\n");
				return -1;
			}
			break;
		case 'r':
			pmd_rounds = strtoul(optarg, &end, 10);
			if (*end != '\0' || pmd_rounds < 1 || pmd_rounds > 31) {
				fprintf(stderr, "--rounds wants 1 .. 31\n");
				return -1;
			}
			break;
		case 'n':
			no_apps = 1;
			break;
		case 'd':
			pmd_devargs = optarg;
			break;
		default:
			return -1;
		}
	}
	if (optind != argc - 1)
		return -1;
	study = argv[optind];
	return 0;
}

/* <build>/bench-results/<time>: the build directory holds the binary in app/bench. */
static int
default_out_dir(void)
{
	char exe[PATH_MAX], stamp[32];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	time_t now = time(NULL);
	char *build;

	if (n <= 0)
		return -1;
	exe[n] = '\0';
	build = dirname(dirname(dirname(exe)));
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", localtime(&now));
	snprintf(out_dir, sizeof(out_dir), "%s/bench-results/%s", build, stamp);
	return 0;
}

static int
mkdir_p(const char *dir)
{
	char path[PATH_MAX];
	char *p;

	snprintf(path, sizeof(path), "%s", dir);
	for (p = path + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0755) != 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(path, 0755) != 0 && errno != EEXIST)
		return -1;
	return 0;
}

/* Worst (largest) ratio and aux figure of the rows whose anchor is @p anchor in groups with @p prefix. */
static void
worst(const struct bench_table *t, const char *prefix, const char *anchor, double *ratio,
      double *aux, const char **where)
{
	unsigned int i;

	*ratio = -INFINITY;
	*aux = -INFINITY;
	*where = "no row";
	for (i = 0; i < t->nb_rows; i++) {
		const struct bench_row *r = &t->rows[i];

		if (strncmp(r->group, prefix, strlen(prefix)) != 0 ||
		    strcmp(r->anchor, anchor) != 0)
			continue;
		if (bench_ratio(r) > *ratio) {
			*ratio = bench_ratio(r);
			*where = r->name;
		}
		*aux = RTE_MAX(*aux, r->ours_aux);
	}
}

static void
alloc_goals(const struct bench_table *t)
{
	double ratio, cyc, dummy;
	const char *where, *w2;

	worst(t, "alloc+free pair", "rte_mempool get/put", &ratio, &cyc, &where);
	bench_goal(out_dir, "alloc", "alloc+free pair <= 10 cycles at every size and depth",
		   cyc <= 10, "worst %.1f cycles", cyc);
	bench_goal(out_dir, "alloc", "alloc+free pair <= 0.55x rte_mempool get/put",
		   ratio <= 0.55, "worst %.2fx at %s", ratio, where);
	worst(t, "freed on another lcore", "rte_mempool get/put", &ratio, &dummy, &w2);
	bench_goal(out_dir, "alloc", "cross-lcore free <= 1.0x rte_mempool", ratio <= 1.0,
		   "worst %.2fx at %s", ratio, w2);
	worst(t, "bulk", "rte_pktmbuf alloc/free", &ratio, &dummy, &where);
	bench_goal(out_dir, "alloc", "bulk <= 0.25x rte_pktmbuf bulk at every size",
		   ratio <= 0.25, "worst %.2fx at %s", ratio, where);
}

static void
drain_goals(const struct bench_table *t)
{
	double speedup = INFINITY;
	const char *where = "no row";
	unsigned int i;

	for (i = 0; i < t->nb_rows; i++) {
		const struct bench_row *r = &t->rows[i];

		/* Both the bulk drain and the driver's reclaim that uses it. */
		if (strstr(r->name, "bulk drain") == NULL && strstr(r->name, "PMD reclaim") == NULL)
			continue;
		if (1 / bench_ratio(r) < speedup) {
			speedup = 1 / bench_ratio(r);
			where = r->name;
		}
	}
	bench_goal(out_dir, "drain",
		   "bulk drain (and the PMD reclaim) >= 10x faster than one free per fragment",
		   speedup >= 10, "least %.1fx at %s", speedup, where);
}

static void
memory_goals(const struct bench_table *t)
{
	unsigned int i;

	for (i = 0; i < t->nb_rows; i++) {
		const struct bench_row *r = &t->rows[i];

		if (strcmp(r->group, "per posted RX slot") == 0 && r->x == 64 &&
		    strstr(r->series, "adaptive") != NULL)
			bench_goal(out_dir, "memory",
				   "bytes pinned per posted RX slot <= 0.25x (64 B, adaptive)",
				   bench_ratio(r) <= 0.25, "%.0f vs %.0f bytes, %.3fx",
				   r->ours, r->theirs, bench_ratio(r));
	}
}

static int
run_alloc(struct bench_table *t)
{
	static const uint32_t sizes[] = { 64, 256, 1500, 2048, 4096, 9000 };
	static const uint32_t smoke_sizes[] = { 64, 9000 };
	static const unsigned int depths[] = { 32, 256, 4096 };
	struct bench_alloc_cfg cfg = {
		.iterations = iterations != 0 ? iterations : smoke ? 4000 : 1000000,
		.sizes = smoke ? smoke_sizes : sizes,
		.nb_sizes = smoke ? RTE_DIM(smoke_sizes) : RTE_DIM(sizes),
		.depths = depths,
		.nb_depths = smoke ? 2 : RTE_DIM(depths),
		.bulk = 32,
		.cross = 1,
	};

	return bench_alloc(t, &cfg);
}

static int
run_drain(struct bench_table *t)
{
	static const unsigned int rings[] = { 256, 512, 1024, 2048, 4096 };
	static const uint32_t bufs[] = { 256, 2048 };
	struct bench_drain_cfg cfg = {
		.rings = rings,
		.nb_rings = smoke ? 2 : RTE_DIM(rings),
		.buf_sizes = bufs,
		.nb_buf_sizes = RTE_DIM(bufs),
		.repeat = smoke ? 3 : 31,
	};

	return bench_drain(t, &cfg);
}

static int
run_memory(struct bench_table *t)
{
	struct bench_memory_cfg cfg = {
		.ring = smoke ? 256 : 1024,
		.held = smoke ? 256 : 2048,
		.fixed_buf = 2048,
		.nb_traffics = smoke ? 2 : 0,
		.sock_dir = out_dir,
	};

	return bench_memory(t, &cfg);
}

static const char *
testpmd_path(void)
{
	const char *env = getenv("DPDK_TESTPMD");

	return env != NULL ? env : "/usr/bin/dpdk-testpmd";
}

static int
run_scale(struct bench_table *t)
{
	struct bench_scale_cfg cfg = {
		.iterations = iterations != 0 ? iterations : smoke ? 4000 : 2000000,
		.size = 2048,
		.depth = 256,
		.testpmd = no_apps ? NULL : testpmd_path(),
		.dir = out_dir,
		.secs = pmd_secs > 0 ? pmd_secs : smoke ? 0.2 : 1.0,
		.rounds = pmd_rounds > 0 ? pmd_rounds : smoke ? 1 : 5,
		.ring = 1024,
		.max_queues = 2,
	};

	return bench_scale(t, &cfg);
}

/* The row of @p t named @p name, or NULL. */
static const struct bench_row *
row_named(const struct bench_table *t, const char *name)
{
	unsigned int i;

	for (i = 0; i < t->nb_rows; i++)
		if (strcmp(t->rows[i].name, name) == 0)
			return &t->rows[i];
	return NULL;
}

/* Goal: ours / anchor of row @p name at least @p min. */
static void
ratio_goal(const struct bench_table *t, const char *name, const char *what, double min)
{
	const struct bench_row *r = row_named(t, name);

	if (r == NULL) {
		bench_goal(out_dir, "pmd", what, 0, "not measured");
		return;
	}
	bench_goal(out_dir, "pmd", what, bench_ratio(r) >= min, "%.2f vs %.2f Mpps, %.2fx",
		   r->ours, r->theirs, bench_ratio(r));
}

static void
pmd_goals(const struct bench_table *t)
{
	const struct bench_row *r;

	if (pmd_devargs[0] != '\0') {
		/* A tuned driver is not the one the goals are about. */
		printf("pmd: goals not judged: our ports ran with --devargs %s\n", pmd_devargs);
		return;
	}
	ratio_goal(t, "RX only, 64 B", "RX only >= 1.15x net_virtio_user (64 B)", 1.15);
	ratio_goal(t, "TX only, 64 B", "TX only >= 1.0x net_virtio_user (64 B)", 1.0);
	if (no_apps)
		return;
	ratio_goal(t, "testpmd io, 64 B",
		   "testpmd io-forward (-d) >= 1.15x net_virtio_user's packets", 1.15);
	r = row_named(t, "testpmd io, 64 B");
	if (r != NULL)
		bench_goal(out_dir, "pmd", "testpmd cycles per forwarded packet <= 0.85x",
			   r->ours_aux / r->theirs_aux <= 0.85,
			   "%.1f vs %.1f cycles/pkt (--record-core-cycles), %.2fx",
			   r->ours_aux, r->theirs_aux, r->ours_aux / r->theirs_aux);
	ratio_goal(t, "testpmd io, 64 B", "any DPDK app with -d >= 1.0x: testpmd io", 1.0);
	ratio_goal(t, "DPDK l2fwd, 64 B", "any DPDK app with -d >= 1.0x: DPDK's l2fwd", 1.0);
	ratio_goal(t, "pfrag-l2fwd, 64 B",
		   "pfrag-l2fwd + our PMD >= 1.15x DPDK l2fwd + net_virtio_user", 1.15);
}

static int
run_pmd(struct bench_table *t)
{
	struct bench_pmd_cfg cfg = {
		.testpmd = testpmd_path(),
		.dir = out_dir,
		.secs = pmd_secs > 0 ? pmd_secs : smoke ? 0.2 : 1.0,
		.rounds = pmd_rounds > 0 ? pmd_rounds : smoke ? 1 : 5,
		.ring = 1024,
		.ours_devargs = pmd_devargs,
		.apps_script = no_apps ? NULL : BENCH_APPS_SCRIPT,
		.build_dir = BENCH_BUILD_DIR,
		.out_dir = out_dir,
		.app_secs = smoke ? 1 : 4,
		.app_runs = pmd_rounds > 0 ? pmd_rounds : smoke ? 1 : 5,
	};

	return bench_pmd(t, &cfg);
}

static const struct {
	const char *name;
	int (*run)(struct bench_table *t);
	void (*goals)(const struct bench_table *t);
} studies[] = {
	{ "alloc", run_alloc, alloc_goals },
	{ "drain", run_drain, drain_goals },
	{ "memory", run_memory, memory_goals },
	{ "scale", run_scale, NULL },
	{ "pmd", run_pmd, pmd_goals },
};

int
main(int argc, char **argv)
{
	static struct bench_table table;
	unsigned int i;
	int ret;

	ret = rte_eal_init(argc, argv);
	if (ret < 0) {
		fprintf(stderr, "EAL init failed: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	argc -= ret;
	argv += ret;
	if (parse_args(argc, argv) != 0) {
		usage(argv[0]);
		rte_eal_cleanup();
		return 2;
	}
	for (i = 0; i < RTE_DIM(studies); i++)
		if (strcmp(study, studies[i].name) == 0)
			break;
	if (i == RTE_DIM(studies)) {
		fprintf(stderr, "unknown study %s\n", study);
		usage(argv[0]);
		rte_eal_cleanup();
		return 2;
	}
	if ((out_dir[0] == '\0' && default_out_dir() != 0) || mkdir_p(out_dir) != 0) {
		fprintf(stderr, "cannot make the results folder %s\n", out_dir);
		rte_eal_cleanup();
		return 1;
	}
	printf("pfrag-bench %s%s: results in %s\n", study, smoke ? " (smoke: tiny sizes)" : "",
	       out_dir);
	ret = studies[i].run(&table);
	if (ret != 0)
		fprintf(stderr, "%s: set-up failed: %s\n", study, rte_strerror(-ret));
	if (table.nb_rows > 0) {
		bench_print(stdout, &table);
		if (bench_write_csv(&table, out_dir) != 0 || bench_plot(&table, out_dir) < 0)
			ret = ret != 0 ? ret : -EIO;
	}
	if (ret == 0 && studies[i].goals != NULL)
		studies[i].goals(&table);
	rte_eal_cleanup();
	return ret == 0 && table.failures == 0 && table.nb_rows > 0 ? 0 : 1;
}

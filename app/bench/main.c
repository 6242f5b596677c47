/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * pfrag-bench: benchmarks printed beside their anchors, measured in the same
 * run, then written as CSV and, when gnuplot is installed, a PNG bar chart
 * of the ratios.
 *
 *   pfrag-bench [EAL args] -- [--iter N] [--csv FILE] [--png FILE]
 */

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_errno.h>

#include "pool_bench.h"

static unsigned int iterations = 2000000;
static const char *csv_path = "pfrag-bench.csv";
static const char *png_path = "pfrag-bench.png";

static void
usage(const char *prog)
{
	printf("usage: %s [EAL args] -- [--iter N] [--csv FILE] [--png FILE]\n"
	       "  --iter N    operations per figure (default %u)\n"
	       "  --csv FILE  results as CSV (default %s)\n"
	       "  --png FILE  ratio chart, needs gnuplot (default %s; '' for none)\n",
	       prog, iterations, csv_path, png_path);
}

static int
parse_args(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "iter", required_argument, NULL, 'i' },
		{ "csv", required_argument, NULL, 'c' },
		{ "png", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	int c;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			iterations = strtoul(optarg, &end, 10);
			if (*end != '\0' || iterations < 1000) {
				fprintf(stderr, "--iter wants a number >= 1000\n");
				return -1;
			}
			break;
		case 'c':
			csv_path = optarg;
			break;
		case 'p':
			png_path = optarg;
			break;
		default:
			return -1;
		}
	}
	return 0;
}

static int
write_csv(const struct pool_bench_result *res)
{
	unsigned int i;
	FILE *f = fopen(csv_path, "w");

	if (f == NULL) {
		perror(csv_path);
		return -1;
	}
	fprintf(f, "case,anchor,pfrag_ns,anchor_ns,ratio\n");
	for (i = 0; i < res->nb_rows; i++)
		fprintf(f, "\"%s\",\"%s\",%.3f,%.3f,%.3f\n", res->rows[i].name,
			res->rows[i].anchor, res->rows[i].ours, res->rows[i].theirs,
			res->rows[i].ours / res->rows[i].theirs);
	fclose(f);
	printf("wrote %s\n", csv_path);
	return 0;
}

/* A bar chart of the ratios; the dashed line at 1.0 is parity with the anchor. */
static void
write_png(const struct pool_bench_result *res)
{
	unsigned int i;
	FILE *gp;

	if (png_path[0] == '\0')
		return;
	if (system("command -v gnuplot >/dev/null 2>&1") != 0) {
		printf("gnuplot not installed: no %s (apt-get install gnuplot-nox)\n", png_path);
		return;
	}
	gp = popen("gnuplot", "w");
	if (gp == NULL)
		return;
	fprintf(gp, "$data << EOD\n");
	for (i = 0; i < res->nb_rows; i++)
		fprintf(gp, "\"%s vs %s\"\t%.3f\n", res->rows[i].name, res->rows[i].anchor,
			res->rows[i].ours / res->rows[i].theirs);
	fprintf(gp, "EOD\n"
		"set terminal pngcairo noenhanced size 1400,800\nset output '%s'\n"
		"set datafile separator '\\t'\nset key off\nset style fill solid 0.6\n"
		"set boxwidth 0.7\nset xtics rotate by -50 font ',8'\nset bmargin 16\n"
		"set ylabel 'ns per op, pfrag / anchor (below 1 is faster)'\n"
		"set title 'pfrag-bench: pfrag against its anchors, same run'\n"
		"set arrow from graph 0, first 1 to graph 1, first 1 nohead dt 2\n"
		"plot $data using 0:2:xticlabels(1) with boxes\n", png_path);
	if (pclose(gp) == 0)
		printf("wrote %s\n", png_path);
}

int
main(int argc, char **argv)
{
	static struct pool_bench_result res;
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

	printf("pool: ns per alloc+free pair, %u per figure, best of 3\n", iterations);
	ret = pool_bench_run(&res, iterations);
	if (ret != 0) {
		fprintf(stderr, "pool benchmark set-up failed: %s\n", rte_strerror(-ret));
		rte_eal_cleanup();
		return 1;
	}
	bench_print(res.rows, res.nb_rows);
	if (res.failures != 0 || res.frags_out != 0)
		fprintf(stderr, "WARNING: %u allocations failed, %" PRIu64 " fragments out\n",
			res.failures, res.frags_out);
	if (write_csv(&res) == 0)
		write_png(&res);
	rte_eal_cleanup();
	return res.failures == 0 && res.frags_out == 0 ? 0 : 1;
}

/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * pfrag_perf_autotest: the alloc study of pfrag-bench (app/bench,
 * alloc_bench.c), run as a unit: pfrag beside rte_mempool, rte_pktmbuf and
 * malloc in the same run, with ratios (ours / anchor, below 1.0 is faster).
 * No timing is asserted; the unit fails when an allocator fails, fragments
 * are left out, or a figure is not a positive finite number.
 */

#include <math.h>
#include <stdlib.h>

#include <bench.h>

#include "test.h"

static int
pfrag_perf_autotest(void)
{
	static const uint32_t sizes[] = { 64, 256, 1500, 2048, 4096, 9000 };
	static const unsigned int depths[] = { 32, 512 };
	static struct bench_table t;
	const char *env = getenv("PFRAG_BENCH_ITER");
	struct bench_alloc_cfg cfg = {
		.iterations = env != NULL ? (unsigned int)atoi(env) : 2000000,
		.sizes = sizes,
		.nb_sizes = RTE_DIM(sizes),
		.depths = depths,
		.nb_depths = RTE_DIM(depths),
		.bulk = 32,
		.cross = 1,
	};
	unsigned int i;

	TEST_ASSERT_SUCCESS(bench_alloc(&t, &cfg), "benchmark set-up failed");
	printf("\n%u operations per figure, best of 3\n", cfg.iterations);
	bench_print(stdout, &t);
	TEST_ASSERT_EQUAL(t.failures, 0, "operations failed or fragments left out");
	TEST_ASSERT(t.nb_rows > 0, "no figures");
	for (i = 0; i < t.nb_rows; i++)
		TEST_ASSERT(isfinite(bench_ratio(&t.rows[i])) && bench_ratio(&t.rows[i]) > 0,
			    "row %s: ratio %f", t.rows[i].name, bench_ratio(&t.rows[i]));
	return TEST_SUCCESS;
}

PFRAG_TEST_REGISTER(pfrag_perf_autotest, PERF, PFRAG_TEST_HUGE, pfrag_perf_autotest);

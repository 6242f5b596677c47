/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * pfrag_perf_autotest: the pool benchmarks of app/bench (pool_bench.c), run
 * as a unit: pfrag beside rte_mempool and rte_pktmbuf in the same run, with
 * ratios (ours / anchor, below 1.0 is faster). No timing is asserted; the
 * unit fails only when an allocator fails or fragments are left out.
 */

#include <stdlib.h>

#include <pool_bench.h>

#include "test.h"

static int
pfrag_perf_autotest(void)
{
	static struct pool_bench_result res;
	const char *env = getenv("PFRAG_BENCH_ITER");
	unsigned int iter = env != NULL ? (unsigned int)atoi(env) : 2000000;

	TEST_ASSERT_SUCCESS(pool_bench_run(&res, iter), "benchmark set-up failed");
	printf("\n%u operations per figure, best of 3\n", iter);
	bench_print(res.rows, res.nb_rows);
	TEST_ASSERT_EQUAL(res.failures, 0, "allocations failed during the benchmark");
	TEST_ASSERT_EQUAL(res.frags_out, 0, "fragments left out after the benchmark");
	return TEST_SUCCESS;
}

PFRAG_TEST_REGISTER(pfrag_perf_autotest, PERF, PFRAG_TEST_HUGE, pfrag_perf_autotest);

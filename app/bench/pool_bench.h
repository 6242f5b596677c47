/* SPDX-License-Identifier: BSD-3-Clause */

#ifndef _POOL_BENCH_H_
#define _POOL_BENCH_H_

/**
 * @file
 * Pool benchmarks: pfrag and its anchor measured in the same run, each
 * figure in ns per alloc+free pair (per fragment for bulk cases), the best
 * of a few repetitions. Shared by pfrag-bench and pfrag_perf_autotest.
 */

#include <stdint.h>

#define POOL_BENCH_MAX_ROWS 64

struct bench_row {
	char name[64];            /**< e.g. "1500 B, 512 in flight" */
	char anchor[32];          /**< what pfrag is compared with */
	double ours;              /**< ns */
	double theirs;            /**< ns */
};

struct pool_bench_result {
	unsigned int nb_rows;
	struct bench_row rows[POOL_BENCH_MAX_ROWS];
	unsigned int failures;    /**< allocations that failed */
	uint64_t frags_out;       /**< fragments left out at the end: must be 0 */
};

/**
 * Run every pool case on the calling lcore (and the next lcore for the
 * cross-lcore cases, when there is one). @p iterations per measurement.
 * @return 0, or a negative errno when a pool could not be created.
 */
int pool_bench_run(struct pool_bench_result *res, unsigned int iterations);

/** Print the rows as a table with ratios. */
void bench_print(const struct bench_row *rows, unsigned int n);

#endif /* _POOL_BENCH_H_ */

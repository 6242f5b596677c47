/* SPDX-License-Identifier: BSD-3-Clause */

#ifndef _BENCH_H_
#define _BENCH_H_

/**
 * @file
 * pfrag-bench studies: pfrag (or our PMD) beside its anchor, measured in the
 * same run. A study fills a table of rows; each row holds our figure and the
 * anchor's in the table's unit, optionally a second figure (cycles, atomic
 * operations, buffer bytes), and where it sits on a plot: a panel (group)
 * and an abscissa (size, depth, ring). The table prints itself with the
 * ratio ours / anchor, and writes <study>.csv and <study>.png (gnuplot, one
 * panel per group) into a results folder.
 *
 * The studies run on the calling lcore (and the next one for cross-lcore
 * cases); pfrag-bench's sub-commands and the perf units of pfrag-test call
 * the same functions, so the loops live here only.
 */

#include <stdint.h>
#include <stdio.h>

#define BENCH_MAX_ROWS 256

struct bench_row {
	char group[48];       /**< plot panel, e.g. "alloc+free pair, 32 in flight" */
	char name[64];        /**< table label */
	char series[40];      /**< our line on the plot, e.g. "pfrag" */
	char anchor[40];      /**< what we are compared with: its line */
	double x;             /**< abscissa on the plot */
	double ours;          /**< table unit */
	double theirs;
	double ours_aux;      /**< aux unit, NAN when none */
	double theirs_aux;
};

struct bench_table {
	char study[16];       /**< sub-command, names the files */
	char title[128];
	char unit[32];        /**< e.g. "ns per pair" */
	char aux_unit[32];    /**< e.g. "cycles"; "" when rows carry none */
	char xlabel[64];      /**< with its unit */
	char xtics[128];      /**< gnuplot xtics list, "" for automatic */
	int logx;
	int logy;
	int higher_better;    /**< throughput: a ratio above 1 is a win */
	unsigned int nb_rows;
	unsigned int failures; /**< operations that failed during the study */
	struct bench_row rows[BENCH_MAX_ROWS];
};

/** Start an empty table. */
void bench_table_init(struct bench_table *t, const char *study, const char *title,
		      const char *unit, const char *aux_unit, const char *xlabel);

/** Add a row (NULL when the table is full, counted as a failure). */
struct bench_row *bench_add(struct bench_table *t, const char *group, const char *name,
			    const char *series, const char *anchor, double x, double ours,
			    double theirs);

/** Ratio ours / anchor of @p r. */
double bench_ratio(const struct bench_row *r);

/** Print @p t to @p f: one line a row, ratio and the aux figures. */
void bench_print(FILE *f, const struct bench_table *t);

/** Write @p dir/<study>.csv; 0 or -1 (reason printed). */
int bench_write_csv(const struct bench_table *t, const char *dir);

/**
 * Write @p dir/<study>.png with gnuplot: a panel per group, our series and
 * each anchor as a line over x. 0, 1 when gnuplot is missing (said so), -1
 * on error.
 */
int bench_plot(const struct bench_table *t, const char *dir);

/**
 * Report a goal of issue 11: prints "GOAL <study>: <what>: met|NOT MET
 * (<figure>)" and appends the line to @p dir/goals.txt when @p dir is set.
 */
void bench_goal(const char *dir, const char *study, const char *what, int met,
		const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/** TSC cycles to ns. */
double bench_ns(uint64_t cycles, uint64_t n);
/** TSC cycles per operation. */
double bench_cyc(uint64_t cycles, uint64_t n);

/** Median of @p n values (sorts them). */
double bench_median(double *v, unsigned int n);

/* The studies. Each fills @p t; 0, or a negative errno on set-up failure. */

struct bench_alloc_cfg {
	unsigned int iterations;       /**< operations per figure */
	const uint32_t *sizes;         /**< bytes, 64..9000 */
	unsigned int nb_sizes;
	const unsigned int *depths;    /**< fragments in flight, powers of 2 */
	unsigned int nb_depths;
	unsigned int bulk;             /**< objects per bulk call */
	int cross;                     /**< also free on the next lcore */
};
int bench_alloc(struct bench_table *t, const struct bench_alloc_cfg *cfg);

struct bench_drain_cfg {
	const unsigned int *rings;     /**< posted fragments per teardown */
	unsigned int nb_rings;
	const uint32_t *buf_sizes;     /**< posted buffer bytes */
	unsigned int nb_buf_sizes;
	unsigned int repeat;           /**< teardowns per figure (median) */
};
int bench_drain(struct bench_table *t, const struct bench_drain_cfg *cfg);

struct bench_memory_cfg {
	unsigned int ring;             /**< RX ring size */
	unsigned int held;             /**< packets held for the in-flight figure */
	uint32_t fixed_buf;            /**< rx_buf_size of our fixed variant */
	unsigned int nb_traffics;      /**< 64 B, IMIX, 1500 B: the first n (0: all) */
	const char *sock_dir;          /**< private directory for the socket */
};
int bench_memory(struct bench_table *t, const struct bench_memory_cfg *cfg);

struct bench_scale_cfg {
	unsigned int iterations;       /**< per lcore per figure */
	uint32_t size;
	unsigned int depth;
};
int bench_scale(struct bench_table *t, const struct bench_scale_cfg *cfg);

#endif /* _BENCH_H_ */

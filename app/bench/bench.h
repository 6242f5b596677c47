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
#include <sys/types.h>

struct rte_mempool;

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
	/* The PMD rows: RX on one lcore polling 1..max_queues queues. */
	const char *testpmd;           /**< NULL: no PMD rows */
	const char *dir;               /**< sockets, peer logs */
	double secs;
	unsigned int rounds;
	uint16_t ring;
	uint16_t max_queues;
};
int bench_scale(struct bench_table *t, const struct bench_scale_cfg *cfg);

struct bench_pmd_cfg {
	const char *testpmd;           /**< the distro dpdk-testpmd */
	const char *dir;               /**< private directory: sockets, peer logs */
	double secs;                   /**< per measurement */
	unsigned int rounds;           /**< A B alternations; the median is shown */
	uint16_t ring;                 /**< descriptors per queue */
	const char *ours_devargs;      /**< more devargs for our ports ("" or NULL: none) */
	const char *apps_script;       /**< pmd_apps.sh, NULL: no application rows */
	const char *build_dir;         /**< where the PMD .so and pfrag-l2fwd are */
	const char *out_dir;           /**< pmd_apps.csv goes there */
	unsigned int app_secs;         /**< window of an application run */
	unsigned int app_runs;
};
int bench_pmd(struct bench_table *t, const struct bench_pmd_cfg *cfg);

/*
 * The PMD loops, also run by virtio_frag_perf_autotest. Each returns Mpps
 * over @p secs (0 when nothing flowed) on queue 0.
 */
/**
 * Receive and free; counting starts at the first packet (waited up to 10 s).
 * The mean frame length goes to @p mean_len (may be NULL).
 */
double bench_pmd_rx(uint16_t port, double secs, double *mean_len);
/** bench_pmd_rx() polling queues 0 .. @p nb_queues - 1 in turn. */
double bench_pmd_rx_mq(uint16_t port, uint16_t nb_queues, double secs, double *mean_len);
/** Send frames of @p lens (repeated) built in @p mp; counts what the driver took. */
double bench_pmd_tx(uint16_t port, struct rte_mempool *mp, const uint16_t *lens,
		    unsigned int nb_lens, double secs);
/** io forward port 0 <-> port 1 on this lcore; counts packets sent on. */
double bench_pmd_fwd(const uint16_t ports[2], double secs);

/* Ports and peers (bench_port.c). */
/** Configure @p queues queue pairs of @p ring descriptors with @p mp, start. */
int bench_port_start(uint16_t port, struct rte_mempool *mp, uint16_t ring, uint16_t queues);
/** rte_vdev_init + bench_port_start; 0 or -1 (said why, nothing left). */
int bench_port_create(const char *name, const char *args, struct rte_mempool *mp,
		      uint16_t ring, uint16_t queues, uint16_t *port);
/** Stop, close, remove the vdev. */
void bench_port_remove(const char *name);
/** Wait up to @p ms for the link; sleeps between looks. */
int bench_wait_link(uint16_t port, unsigned int ms);

#define BENCH_PEER_MAX_PORTS 2

/** A distro dpdk-testpmd with net_vhost ports, driven through its prompt. */
struct bench_peer {
	pid_t pid;
	int in_fd;
	unsigned int nb_ports;
	char dir[200];
	char log[256];
};
/**
 * Start it: vhost-user servers <dir>/peer<i>.sock with @p queues queue
 * pairs each, forwarding mode @p fwd_mode (--port-topology=loop),
 * interactive, not started; lcore 1 forwards, its main lcore 0 sleeps on
 * stdin.
 */
int bench_peer_start(struct bench_peer *p, const char *testpmd, const char *dir,
		     unsigned int nb_ports, unsigned int queues, const char *fwd_mode);
/** Socket path of peer port @p i. */
void bench_peer_sock(const struct bench_peer *p, unsigned int i, char *buf, size_t len);
/** Send one command line ("start", "stop", "start tx_first 64", ...). */
int bench_peer_cmd(struct bench_peer *p, const char *cmd);
/** quit, then SIGKILL after 10 s. */
void bench_peer_stop(struct bench_peer *p);

#endif /* _BENCH_H_ */

/* SPDX-License-Identifier: BSD-3-Clause */

#ifndef _PFRAG_TEST_H_
#define _PFRAG_TEST_H_

/**
 * @file
 * pfrag-test: units registered by name, dpdk-test style.
 *
 * A unit is a function run after EAL init, usually a suite of small cases.
 * PFRAG_TEST_REGISTER() records its name, its meson suite and its needs; the
 * build reads those macros (list_units.py) to declare one meson test per unit.
 * A unit returns TEST_SUCCESS, TEST_FAILED or TEST_SKIPPED (exit 77, which
 * meson reports as skipped, never as passed). A case that skips says why
 * with pfrag_test_skip_reason(); the suite runner lists skipped cases and
 * their reasons, and a unit whose other cases passed prints
 * "PARTIAL SKIP: K of N cases skipped: ..." so that devtools/test.sh reports
 * it as partly skipped, not as passed.
 */

#include <inttypes.h>
#include <stdio.h>

#include <rte_common.h>

#include "test_suites.h"

#define TEST_SUCCESS 0
#define TEST_FAILED -1
#define TEST_SKIPPED 77

/** Meson suites: FAST, PERF, ... as listed in test_suites.h. */
#define PFRAG_TEST_SUITE_KIND(kind, name, timeout, runs) kind,
enum pfrag_test_suite_kind {
	PFRAG_TEST_SUITES(PFRAG_TEST_SUITE_KIND)
};
#undef PFRAG_TEST_SUITE_KIND

/** Unit needs. */
#define PFRAG_TEST_NOHUGE 0x1u   /* runs with --no-huge */
#define PFRAG_TEST_HUGE 0x2u     /* needs hugepages: skipped without them */

struct pfrag_test_unit {
	const char *name;
	enum pfrag_test_suite_kind suite;
	unsigned int flags;
	int (*fn)(void);
	struct pfrag_test_unit *next;
};

void pfrag_test_register(struct pfrag_test_unit *unit);

/** Register @p fn as unit @p name in @p suite. Keep it on one line: the build parses it. */
#define PFRAG_TEST_REGISTER(name, suite, flags, fn) \
	static struct pfrag_test_unit pfrag_test_unit_##name = { \
		#name, suite, flags, fn, NULL }; \
	RTE_INIT(pfrag_test_reg_##name) \
	{ \
		pfrag_test_register(&pfrag_test_unit_##name); \
	}

/** A case: returns TEST_SUCCESS, TEST_FAILED or TEST_SKIPPED. */
struct unit_test_case {
	const char *name;
	int (*setup)(void);
	void (*teardown)(void);
	int (*fn)(void);
};

#define TEST_CASE(fn) { #fn, NULL, NULL, fn }
#define TEST_CASE_ST(setup, teardown, fn) { #fn, setup, teardown, fn }
#define TEST_CASES_END() { NULL, NULL, NULL, NULL }

struct unit_test_suite {
	const char *name;
	int (*setup)(void);
	void (*teardown)(void);
	struct unit_test_case cases[];
};

/** Run every case; TEST_SUCCESS when none failed (skips are reported). */
int unit_test_suite_runner(const struct unit_test_suite *suite);

/** Print why the unit or case skips ("SKIP: ..."); then return TEST_SKIPPED. */
void pfrag_test_skip_reason(const char *fmt, ...) __rte_format_printf(1, 2);

/** True when the process runs with hugepages. */
int pfrag_test_have_hugepages(void);

/**
 * Read the start of a small file (a /proc entry, a meson record) into @p buf,
 * at most @p len - 1 bytes, NUL-terminated: the bytes read, or -1 when it
 * does not open.
 */
int pfrag_test_read_file(const char *path, char *buf, size_t len);

/**
 * A private directory (mode 700) for sockets and logs, its path written to
 * @p buf: 0, or a negative errno. pfrag_test_rmdir() removes it.
 */
int pfrag_test_tmpdir(char *buf, size_t len);

/** Remove directory @p dir and the files in it (not subdirectories). */
void pfrag_test_rmdir(const char *dir);

/** Milliseconds of CLOCK_MONOTONIC: deadlines of waits (never asserted on). */
uint64_t pfrag_test_now_ms(void);

/** Wait up to @p ms for @p path to exist: 0, or -ETIMEDOUT. */
int pfrag_test_wait_file(const char *path, unsigned int ms);

struct pfrag_pool;
struct pfrag_pool_info;

/**
 * Leak check by pages, not by bookkeeping: @p pool must be back where
 * @p start found it: fragments out, pages in use, and pages free (ring +
 * stashes: a page put back twice shows there) all equal. With @p start NULL,
 * the pool must be idle: nothing out, every page free. Prints the figures and
 * returns TEST_FAILED on a difference; @p when names the moment in the message.
 */
int pfrag_test_pool_back(const struct pfrag_pool *pool, const struct pfrag_pool_info *start,
			 const char *when);

#define TEST_ASSERT(cond, msg, ...) do { \
	if (!(cond)) { \
		printf("%s:%d: assertion failed: %s: " msg "\n", \
		       __FILE__, __LINE__, #cond, ##__VA_ARGS__); \
		return TEST_FAILED; \
	} \
} while (0)

#define TEST_ASSERT_EQUAL(a, b, msg, ...) do { \
	long long a_ = (long long)(a), b_ = (long long)(b); \
	if (a_ != b_) { \
		printf("%s:%d: %s == %s failed (%lld != %lld): " msg "\n", \
		       __FILE__, __LINE__, #a, #b, a_, b_, ##__VA_ARGS__); \
		return TEST_FAILED; \
	} \
} while (0)

#define TEST_ASSERT_NOT_NULL(p, msg, ...) TEST_ASSERT((p) != NULL, msg, ##__VA_ARGS__)
#define TEST_ASSERT_NULL(p, msg, ...) TEST_ASSERT((p) == NULL, msg, ##__VA_ARGS__)
#define TEST_ASSERT_SUCCESS(v, msg, ...) TEST_ASSERT_EQUAL(v, 0, msg, ##__VA_ARGS__)
#define TEST_ASSERT_FAIL(v, msg, ...) TEST_ASSERT((v) != 0, msg, ##__VA_ARGS__)

#endif /* _PFRAG_TEST_H_ */

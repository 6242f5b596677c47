/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * pfrag-test: with no argument, list the units and their suites; with a unit
 * name (and optional EAL arguments), initialise EAL and run that unit.
 * Exit status: 0 passed, 1 failed, 2 usage error, 77 skipped.
 */

#include <dirent.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>

#include <pfrag.h>

#include "test.h"

#define EXIT_SKIP 77
#define EXIT_USAGE 2
#define MAX_ARGS 64

static struct pfrag_test_unit *units;
static int with_hugepages;

/* Why the running case skipped, as its last pfrag_test_skip_reason() said. */
static char skip_reason[256];
/* Cases of this unit that skipped while others ran: reported, never a plain pass. */
static unsigned int cases_run, cases_skipped;
static char skipped_list[1024];

#define SUITE_NAME(kind, name, timeout, runs) [kind] = name,
static const char *const suite_names[] = {
	PFRAG_TEST_SUITES(SUITE_NAME)
};
#undef SUITE_NAME

void
pfrag_test_register(struct pfrag_test_unit *unit)
{
	struct pfrag_test_unit **p = &units;

	/* Keep the list sorted by name, for a stable listing. */
	while (*p != NULL && strcmp((*p)->name, unit->name) < 0)
		p = &(*p)->next;
	unit->next = *p;
	*p = unit;
}

void
pfrag_test_skip_reason(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(skip_reason, sizeof(skip_reason), fmt, ap);
	va_end(ap);
	printf("SKIP: %s\n", skip_reason);
}

int
pfrag_test_pool_back(const struct pfrag_pool *pool, const struct pfrag_pool_info *start,
		     const char *when)
{
	struct pfrag_pool_info now, idle;

	TEST_ASSERT_NOT_NULL(pool, "%s: no pool", when);
	TEST_ASSERT_SUCCESS(pfrag_pool_info_get(pool, &now), "%s: pool info", when);
	if (start == NULL) {
		memset(&idle, 0, sizeof(idle));
		idle.nb_pages = now.nb_pages;
		idle.pages_free = now.nb_pages;
		start = &idle;
	}
	if (now.frags_out != start->frags_out || now.pages_in_use != start->pages_in_use ||
	    now.pages_free != start->pages_free)
		printf("%s: pool %s: fragments out %" PRIu64 " (was %" PRIu64 "), pages in use "
		       "%u (was %u), pages free %u (was %u) of %u\n", when, pool->name,
		       now.frags_out, start->frags_out, now.pages_in_use, start->pages_in_use,
		       now.pages_free, start->pages_free, now.nb_pages);
	TEST_ASSERT_EQUAL(now.frags_out, start->frags_out, "%s: fragments out", when);
	TEST_ASSERT_EQUAL(now.pages_in_use, start->pages_in_use, "%s: pages in use", when);
	TEST_ASSERT_EQUAL(now.pages_free, start->pages_free,
			  "%s: pages free in the ring and stashes", when);
	return TEST_SUCCESS;
}

int
pfrag_test_have_hugepages(void)
{
	return with_hugepages;
}

int
pfrag_test_read_file(const char *path, char *buf, size_t len)
{
	size_t n;
	FILE *f;

	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	n = fread(buf, 1, len - 1, f);
	fclose(f);
	buf[n] = '\0';
	return (int)n;
}

int
pfrag_test_tmpdir(char *buf, size_t len)
{
	snprintf(buf, len, "/tmp/vfrag-test-XXXXXX");
	return mkdtemp(buf) == NULL ? -errno : 0;
}

void
pfrag_test_rmdir(const char *dir)
{
	char file[PATH_MAX + 256];
	struct dirent *e;
	DIR *d = opendir(dir);

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(file, sizeof(file), "%s/%s", dir, e->d_name);
		unlink(file);
	}
	closedir(d);
	rmdir(dir);
}

uint64_t
pfrag_test_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
pfrag_test_wait_file(const char *path, unsigned int ms)
{
	uint64_t end = pfrag_test_now_ms() + ms;

	while (access(path, F_OK) != 0) {
		if (pfrag_test_now_ms() > end)
			return -ETIMEDOUT;
		usleep(20000);
	}
	return 0;
}

/* Add "name (reason)" of a skipped case to the unit's list. */
static void
note_skipped_case(const char *name)
{
	size_t len = strlen(skipped_list);

	if (skip_reason[0] == '\0') {
		/* A skip must say why; this one did not: say so, visibly. */
		snprintf(skip_reason, sizeof(skip_reason), "no reason given by the case");
		printf("SKIP: %s\n", skip_reason);
	}
	snprintf(skipped_list + len, sizeof(skipped_list) - len, "%s%s (%s)",
		 len > 0 ? ", " : "", name, skip_reason);
}

int
unit_test_suite_runner(const struct unit_test_suite *suite)
{
	const struct unit_test_case *tc;
	unsigned int passed = 0, failed = 0, skipped = 0;
	int ret;

	printf(" + ------------------------------------------------------- +\n");
	printf(" + Test Suite : %s\n", suite->name);
	skip_reason[0] = '\0';
	if (suite->setup != NULL && (ret = suite->setup()) != TEST_SUCCESS) {
		printf(" + Suite setup %s\n", ret == TEST_SKIPPED ? "skipped" : "failed");
		if (ret == TEST_SKIPPED && skip_reason[0] == '\0')
			printf("SKIP: suite setup of '%s' gave no reason\n", suite->name);
		return ret == TEST_SKIPPED ? TEST_SKIPPED : TEST_FAILED;
	}
	for (tc = suite->cases; tc->fn != NULL; tc++) {
		skip_reason[0] = '\0';
		ret = tc->setup != NULL ? tc->setup() : TEST_SUCCESS;
		if (ret == TEST_SUCCESS) {
			ret = tc->fn();
			if (tc->teardown != NULL)
				tc->teardown();
		}
		if (ret == TEST_SUCCESS) {
			passed++;
		} else if (ret == TEST_SKIPPED) {
			skipped++;
			note_skipped_case(tc->name);
		} else {
			failed++;
		}
		printf(" + TestCase [%2u] : %s %s\n", passed + failed + skipped, tc->name,
		       ret == TEST_SUCCESS ? "succeeded" :
		       ret == TEST_SKIPPED ? "skipped" : "failed");
	}
	if (suite->teardown != NULL)
		suite->teardown();
	printf(" + Tests Total : %2u, Passed : %2u, Failed : %2u, Skipped : %2u\n",
	       passed + failed + skipped, passed, failed, skipped);
	cases_run += passed + failed + skipped;
	cases_skipped += skipped;
	printf("%u cases passed, %u failed, %u skipped%s%s\n", passed, failed, skipped,
	       skipped > 0 ? ": " : "", skipped > 0 ? skipped_list : "");
	if (failed > 0)
		return TEST_FAILED;
	/* A suite whose every case skipped did not test anything. */
	return passed == 0 && skipped > 0 ? TEST_SKIPPED : TEST_SUCCESS;
}

static void
list_units(void)
{
	const struct pfrag_test_unit *u;

	printf("%-42s %-14s %s\n", "unit", "suite", "needs");
	for (u = units; u != NULL; u = u->next)
		printf("%-42s %-14s %s\n", u->name, suite_names[u->suite],
		       u->flags & PFRAG_TEST_NOHUGE ? "runs without hugepages" :
		       "hugepages");
	printf("\nrun one: pfrag-test <unit> [EAL arguments]\n");
}

/* Reserved 2 MB pages free and a hugetlbfs mounted: EAL can use hugepages. */
static int
hugepages_usable(void)
{
	char line[256];
	long free_pages = 0;
	int mounted = 0;
	FILE *f;

	f = fopen("/proc/meminfo", "r");
	if (f != NULL) {
		while (fgets(line, sizeof(line), f) != NULL)
			sscanf(line, "HugePages_Free: %ld", &free_pages);
		fclose(f);
	}
	f = fopen("/proc/mounts", "r");
	if (f != NULL) {
		while (fgets(line, sizeof(line), f) != NULL)
			if (strstr(line, " hugetlbfs ") != NULL)
				mounted = 1;
		fclose(f);
	}
	return free_pages > 0 && mounted;
}


static const struct pfrag_test_unit *
find_unit(const char *name)
{
	const struct pfrag_test_unit *u;

	for (u = units; u != NULL; u = u->next)
		if (strcmp(u->name, name) == 0)
			return u;
	return NULL;
}

int
main(int argc, char **argv)
{
	static char prefix[64], runtime_dir[PATH_MAX];
	const struct pfrag_test_unit *unit;
	char *eal_argv[MAX_ARGS];
	int eal_argc = 0, i, ret;
	struct timespec t0, t1;

	if (argc < 2) {
		list_units();
		return 0;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		printf("usage: %s [<unit> [EAL arguments]]\n", argv[0]);
		return 0;
	}
	unit = find_unit(argv[1]);
	if (unit == NULL) {
		fprintf(stderr, "pfrag-test: unknown unit '%s' (run pfrag-test with no "
			"arguments for the list)\n", argv[1]);
		return EXIT_USAGE;
	}
	if (argc + 6 > MAX_ARGS) {
		fprintf(stderr, "pfrag-test: too many arguments\n");
		return EXIT_USAGE;
	}

	eal_argv[eal_argc++] = argv[0];
	if (argc > 2) {
		/* The caller's EAL arguments replace the defaults. */
		for (i = 2; i < argc; i++)
			eal_argv[eal_argc++] = argv[i];
		with_hugepages = 1;
		for (i = 2; i < argc; i++)
			if (strcmp(argv[i], "--no-huge") == 0)
				with_hugepages = 0;
	} else {
		/* One prefix per process: units may run in parallel. */
		snprintf(prefix, sizeof(prefix), "--file-prefix=pfrag-test-%d", getpid());
		eal_argv[eal_argc++] = prefix;
		eal_argv[eal_argc++] = (char *)"--log-level=lib.eal:warning";
		if (unit->flags & PFRAG_TEST_NOHUGE) {
			eal_argv[eal_argc++] = (char *)"--no-huge";
			eal_argv[eal_argc++] = (char *)"-m";
			eal_argv[eal_argc++] = (char *)"512";
			eal_argv[eal_argc++] = (char *)"--no-pci";
		} else if (!hugepages_usable()) {
			pfrag_test_skip_reason("%s needs 2 MB hugepages and none are free or "
				"hugetlbfs is not mounted (run devtools/setup.sh as root)",
				unit->name);
			return EXIT_SKIP;
		} else {
			with_hugepages = 1;
			eal_argv[eal_argc++] = (char *)"--no-pci";
			eal_argv[eal_argc++] = (char *)"--in-memory";
			/* vhost-user shares memory by fd: 8 regions at most. */
			eal_argv[eal_argc++] = (char *)"--single-file-segments";
		}
	}
	eal_argv[eal_argc] = NULL;

	if (rte_eal_init(eal_argc, eal_argv) < 0) {
		fprintf(stderr, "pfrag-test: EAL init failed: %s\n", rte_strerror(rte_errno));
		return EXIT_FAILURE;
	}

	printf("unit %s (%s)\n", unit->name, suite_names[unit->suite]);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ret = unit->fn();
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("unit %s: %s in %.2f s\n", unit->name,
	       ret == TEST_SUCCESS ? (cases_skipped > 0 ? "passed in part" : "passed") :
	       ret == TEST_SKIPPED ? "skipped" : "FAILED",
	       (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	/*
	 * Some cases ran and passed, others skipped: not a plain pass. The
	 * exit status stays 0 (meson has no such state); devtools/summary.py
	 * reads this line and reports the unit as partly skipped.
	 */
	if (ret == TEST_SUCCESS && cases_skipped > 0)
		printf("PARTIAL SKIP: %u of %u cases skipped: %s\n", cases_skipped,
		       cases_run, skipped_list);
	fflush(stdout);
	snprintf(runtime_dir, sizeof(runtime_dir), "%s", rte_eal_get_runtime_dir());
	rte_eal_cleanup();
	/* EAL leaves its runtime directory behind: remove the one we named. */
	if (argc == 2)
		pfrag_test_rmdir(runtime_dir);
	if (ret == TEST_SKIPPED)
		return EXIT_SKIP;
	return ret == TEST_SUCCESS ? EXIT_SUCCESS : EXIT_FAILURE;
}

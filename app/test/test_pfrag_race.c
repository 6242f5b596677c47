/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Races of the control path against the pool, with threads:
 * pfrag_telemetry_race_autotest: a thread creates and frees pools while
 *   telemetry, asked through its socket as a monitoring tool would, lists
 *   them and reads their figures. Every reply must name a pool that was
 *   asked for with the figures it was created with; the telemetry thread
 *   must never look at a pool being freed (it crashed on a zeroed pool).
 * pfrag_free_race_autotest: a worker lcore frees fragments, one per page,
 *   while the main lcore reads the pool's books: a fragment counted as
 *   freed must have its page back (pages in use <= fragments out); then
 *   pfrag_pool_free() is tried against the frees until it succeeds; then a
 *   non-EAL thread uses the shared cache while the main lcore drains caches.
 */

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>

#include <pfrag.h>

#include "test.h"
#include "test_pfrag_logcap.h"

#define TEL_POOLS 3
#define TEL_PAGES 5u
/* Debug-checks builds (the sanitizer build) are slower per request. */
#if PFRAG_DEBUG
#define TEL_REQUESTS 20000
#else
#define TEL_REQUESTS 100000
#endif
/* And at most this long, to stay a fast test on a loaded machine. */
#define TEL_SECONDS 5

static volatile int tel_stop;
static uint64_t tel_cycles;

static void *
pool_churn(void *arg __rte_unused)
{
	struct pfrag_pool *p[TEL_POOLS];
	char name[16];
	unsigned int i;

	while (!__atomic_load_n(&tel_stop, __ATOMIC_RELAXED)) {
		for (i = 0; i < TEL_POOLS; i++) {
			snprintf(name, sizeof(name), "tel%u", i);
			p[i] = pfrag_pool_create(name, SOCKET_ID_ANY, 4096, TEL_PAGES + i, 0);
		}
		for (i = 0; i < TEL_POOLS; i++)
			if (p[i] != NULL)
				pfrag_pool_free(p[i]);
		__atomic_fetch_add(&tel_cycles, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static int
tel_connect(void)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	char buf[1024];
	int fd;

	snprintf(un.sun_path, sizeof(un.sun_path), "%s/dpdk_telemetry.v2",
		 rte_eal_get_runtime_dir());
	fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&un, sizeof(un)) != 0 ||
	    read(fd, buf, sizeof(buf)) <= 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int
tel_ask(int fd, const char *cmd, char *reply, size_t len)
{
	ssize_t n;

	if (write(fd, cmd, strlen(cmd)) < 0)
		return -1;
	n = read(fd, reply, len - 1);
	if (n <= 0)
		return -1;
	reply[n] = '\0';
	return 0;
}

/* A stats reply is null (no such pool) or that pool with its own figures. */
static int
check_stats(const char *reply, unsigned int i)
{
	char want[64];

	if (strcmp(reply, "{\"/pfrag/stats\":null}") == 0)
		return 0;
	snprintf(want, sizeof(want), "\"name\":\"tel%u\"", i);
	if (strstr(reply, want) == NULL)
		return -1;
	snprintf(want, sizeof(want), "\"nb_pages\":%u,", TEL_PAGES + i);
	if (strstr(reply, want) == NULL)
		return -1;
	return strstr(reply, "\"page_size\":4096,") == NULL ? -1 : 0;
}

/* A list reply names only pools of this test. */
static int
check_list(const char *reply)
{
	const char *s = strchr(reply, '[');

	if (s == NULL)
		return -1;
	for (s++; *s != ']' && *s != '\0'; s++) {
		if (*s != '"')
			continue;
		if (strncmp(s, "\"tel0\"", 6) != 0 && strncmp(s, "\"tel1\"", 6) != 0 &&
		    strncmp(s, "\"tel2\"", 6) != 0)
			return -1;
		s += 5;
	}
	return 0;
}

static int
pfrag_telemetry_race_autotest(void)
{
	unsigned int req, i, bad = 0, found = 0;
	char reply[4096], cmd[64];
	uint64_t end;
	pthread_t t;
	int fd;

	fd = tel_connect();
	if (fd < 0) {
		pfrag_test_skip_reason("no telemetry socket in %s (EAL run with "
				       "--no-telemetry?)", rte_eal_get_runtime_dir());
		return TEST_SKIPPED;
	}
	TEST_ASSERT_SUCCESS(pthread_create(&t, NULL, pool_churn, NULL), "thread");
	end = rte_get_timer_cycles() + TEL_SECONDS * rte_get_timer_hz();
	for (req = 0; req < TEL_REQUESTS && bad == 0; req++) {
		if ((req & 1023) == 0 && rte_get_timer_cycles() > end)
			break;
		i = req % (TEL_POOLS + 1);
		if (i == TEL_POOLS)
			snprintf(cmd, sizeof(cmd), "/pfrag/list");
		else
			snprintf(cmd, sizeof(cmd), "/pfrag/stats,tel%u", i);
		if (tel_ask(fd, cmd, reply, sizeof(reply)) != 0) {
			printf("telemetry stopped answering after %u requests\n", req);
			bad++;
			break;
		}
		if (i == TEL_POOLS ? check_list(reply) != 0 : check_stats(reply, i) != 0) {
			printf("request %u '%s': reply of a pool being freed: %s\n", req, cmd,
			       reply);
			bad++;
		}
		found += i < TEL_POOLS && strstr(reply, ":null}") == NULL;
	}
	__atomic_store_n(&tel_stop, 1, __ATOMIC_RELAXED);
	pthread_join(t, NULL);
	close(fd);
	printf("%u requests, %u answered with a pool's figures, %" PRIu64 " pool "
	       "create/free cycles meanwhile\n", req, found, tel_cycles);
	TEST_ASSERT_EQUAL(bad, 0, "telemetry looked at freed pools");
	TEST_ASSERT(found > 0 && tel_cycles > 0, "the race never happened");
	TEST_ASSERT_NULL(pfrag_pool_lookup("tel0"), "pool left behind");
	return TEST_SUCCESS;
}

PFRAG_TEST_REGISTER(pfrag_telemetry_race_autotest, FAST, PFRAG_TEST_NOHUGE, pfrag_telemetry_race_autotest);

/* ---- frees against the books and pfrag_pool_free() ---- */

#define FR_PAGES 8192u
#define FR_PROBE_PAGES 2048u
/* Debug builds poison every page that moves: fewer rounds, wider windows. */
#if PFRAG_DEBUG
#define FR_ROUNDS 4
#define FR_PROBE_ROUNDS 10
#define FR_DRAINS 100000
#else
#define FR_ROUNDS 20
#define FR_PROBE_ROUNDS 50
#define FR_DRAINS 500000
#endif

static void *fr_frag[FR_PAGES];
static unsigned int fr_n;

static int
free_all(void *arg __rte_unused)
{
	unsigned int i;

	for (i = 0; i < fr_n; i++)
		pfrag_free(fr_frag[i]);
	return 0;
}

/* One whole-page fragment per page, no cache holding any page. */
static int
hand_out(struct pfrag_pool *p, unsigned int n)
{
	struct pfrag_cache c;
	unsigned int i;

	if (pfrag_cache_init(&c, p) != 0)
		return -1;
	for (i = 0; i < n; i++) {
		fr_frag[i] = pfrag_cache_alloc(&c, p->page_size, 1);
		if (fr_frag[i] == NULL)
			break;
	}
	pfrag_cache_fini(&c);
	fr_n = i;
	return i == n ? 0 : -1;
}

/*
 * Pages in use never exceed fragments out, whatever the moment: each page
 * holds one fragment and no cache holds any.
 */
static int
race_books(struct pfrag_pool *p, unsigned int worker)
{
	uint64_t reads = 0, seen_wrong = 0, example_out = 0;
	uint32_t example_in_use = 0;
	struct pfrag_pool_info info;
	unsigned int round;

	for (round = 0; round < FR_ROUNDS; round++) {
		TEST_ASSERT_SUCCESS(hand_out(p, FR_PAGES), "hand out");
		TEST_ASSERT_SUCCESS(rte_eal_remote_launch(free_all, NULL, worker), "launch");
		do {
			pfrag_pool_info_get(p, &info);
			reads++;
			if (info.pages_in_use > info.frags_out) {
				if (seen_wrong++ == 0) {
					example_out = info.frags_out;
					example_in_use = info.pages_in_use;
				}
			}
		} while (info.frags_out > 0);
		rte_eal_wait_lcore(worker);
		/* Quiescent now: the worker's stash may be flushed. */
		pfrag_pool_drain_caches(p);
	}
	printf("books: %" PRIu64 " reads during %u rounds of %u frees; %" PRIu64
	       " showed more pages in use than fragments out\n", reads, FR_ROUNDS, FR_PAGES,
	       seen_wrong);
	TEST_ASSERT_EQUAL(seen_wrong, 0, "a free was counted before its page was back "
			  "(e.g. %" PRIu64 " out, %u pages in use)", example_out, example_in_use);
	return TEST_SUCCESS;
}

/*
 * pfrag_pool_free() tried again and again while a worker frees the last
 * fragments: it may refuse, but it must never find the pages short (a free
 * still on its way) and never free the pool under a free.
 */
static int
race_pool_free(unsigned int worker)
{
	struct pfrag_pool_info info;
	unsigned int round, short_pages = 0;
	uint64_t tries = 0, busy;
	struct pfrag_pool *p;
	int ret;

	TEST_ASSERT_SUCCESS(logcap_start(0), "log capture");
	for (round = 0; round < FR_PROBE_ROUNDS; round++) {
		p = pfrag_pool_create("fr_probe", SOCKET_ID_ANY, 4096, FR_PROBE_PAGES, 0);
		TEST_ASSERT_NOT_NULL(p, "pool");
		pfrag_pool_info_get(p, &info);
		TEST_ASSERT(info.stats.free == 0 && info.stats.page_put == 0,
			    "a new pool starts with counters written after a free");
		TEST_ASSERT_SUCCESS(hand_out(p, FR_PROBE_PAGES), "hand out");
		TEST_ASSERT_SUCCESS(rte_eal_remote_launch(free_all, NULL, worker), "launch");
		for (busy = 0; (ret = pfrag_pool_free(p)) == -EBUSY; busy++) {
			if (busy == 100000000) {
				logcap_stop();
				rte_eal_wait_lcore(worker);
				TEST_ASSERT(0, "pool never became free: pages lost");
			}
		}
		tries += busy + 1;
		rte_eal_wait_lcore(worker);
		TEST_ASSERT_SUCCESS(ret, "pool free");
	}
	short_pages = logcap_count("came back");
	logcap_stop();
	printf("pool free: %" PRIu64 " tries in %u rounds, %u found pages short\n", tries,
	       FR_PROBE_ROUNDS, short_pages);
	TEST_ASSERT_EQUAL(short_pages, 0, "pfrag_pool_free() ran into a free in progress");
	return TEST_SUCCESS;
}

static volatile int any_stop;

static void *
shared_cache_user(void *arg)
{
	struct pfrag_pool *p = arg;
	void *va[3];
	unsigned int i;

	/* Not an EAL thread: every allocation goes through the shared cache. */
	while (!__atomic_load_n(&any_stop, __ATOMIC_RELAXED)) {
		for (i = 0; i < 3; i++)
			va[i] = pfrag_alloc(p, 1000, 64);
		for (i = 0; i < 3; i++)
			pfrag_free(va[i]);
	}
	return NULL;
}

/* The shared cache of non-EAL threads is drained under its lock. */
static int
race_shared_cache(struct pfrag_pool *p)
{
	struct pfrag_pool_info info;
	unsigned int i;
	pthread_t t;

	TEST_ASSERT_SUCCESS(logcap_start(0), "log capture");
	any_stop = 0;
	TEST_ASSERT_SUCCESS(pthread_create(&t, NULL, shared_cache_user, p), "thread");
	for (i = 0; i < FR_DRAINS; i++)
		pfrag_pool_drain_caches(p);
	__atomic_store_n(&any_stop, 1, __ATOMIC_RELAXED);
	pthread_join(t, NULL);
	pfrag_pool_drain_caches(p);
	pfrag_pool_info_get(p, &info);
	logcap_stop();
	printf("shared cache: %" PRIu64 " allocations against %u drains\n",
	       info.stats.alloc, FR_DRAINS);
	TEST_ASSERT_EQUAL(logcap_count_level(RTE_LOG_WARNING), 0, "errors logged");
	TEST_ASSERT_EQUAL(info.frags_out, 0, "fragments out");
	TEST_ASSERT_EQUAL(info.pages_free, p->nb_pages, "pages lost by the drains");
	return TEST_SUCCESS;
}

static int
pfrag_free_race_autotest(void)
{
	unsigned int worker = rte_get_next_lcore(rte_lcore_id(), 1, 0);
	struct pfrag_pool *p;
	int ret;

	if (worker >= RTE_MAX_LCORE) {
		pfrag_test_skip_reason("needs a second lcore");
		return TEST_SKIPPED;
	}
	p = pfrag_pool_create("fr_books", SOCKET_ID_ANY, 4096, FR_PAGES, 0);
	TEST_ASSERT_NOT_NULL(p, "pool: %s", rte_strerror(rte_errno));
	ret = race_books(p, worker);
	if (ret == TEST_SUCCESS)
		ret = race_shared_cache(p);
	if (pfrag_pool_free(p) != 0 && ret == TEST_SUCCESS)
		ret = TEST_FAILED;
	if (ret == TEST_SUCCESS)
		ret = race_pool_free(worker);
	return ret;
}

PFRAG_TEST_REGISTER(pfrag_free_race_autotest, FAST, PFRAG_TEST_NOHUGE, pfrag_free_race_autotest);

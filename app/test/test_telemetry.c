/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * pfrag_telemetry_autotest: /pfrag/list and /pfrag/stats,<name> through the
 * real telemetry socket of this process (what dpdk-telemetry.py talks to),
 * their figures checked against pfrag_pool_info_get() of a quiescent pool.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <rte_eal.h>

#include <pfrag.h>

#include "test.h"

#define TEL_SOCKET "dpdk_telemetry.v2"
#define TEL_BUF 16384

static int tel_fd = -1;
static char reply[TEL_BUF];

/* Connect as dpdk-telemetry.py does and read the greeting. */
static int
tel_connect(void)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = 5 };
	ssize_t n;

	snprintf(un.sun_path, sizeof(un.sun_path), "%s/%s", rte_eal_get_runtime_dir(),
		 TEL_SOCKET);
	tel_fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	TEST_ASSERT(tel_fd >= 0, "socket: %s", strerror(errno));
	/* Deadline on every read: a silent telemetry thread fails, never hangs. */
	setsockopt(tel_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	TEST_ASSERT_SUCCESS(connect(tel_fd, (struct sockaddr *)&un, sizeof(un)),
			    "connect to %s: %s", un.sun_path, strerror(errno));
	n = read(tel_fd, reply, sizeof(reply) - 1);
	TEST_ASSERT(n > 0, "telemetry greeting: %s", strerror(errno));
	reply[n] = '\0';
	TEST_ASSERT_NOT_NULL(strstr(reply, "\"version\""), "greeting: %s", reply);
	return TEST_SUCCESS;
}

/* Send @p cmd, leave the JSON answer in reply[]. */
static int
tel_query(const char *cmd)
{
	ssize_t n;

	TEST_ASSERT_EQUAL(write(tel_fd, cmd, strlen(cmd)), (ssize_t)strlen(cmd), "send %s", cmd);
	n = read(tel_fd, reply, sizeof(reply) - 1);
	TEST_ASSERT(n > 0, "no answer to %s: %s", cmd, strerror(errno));
	reply[n] = '\0';
	return TEST_SUCCESS;
}

/* The unsigned value of "key": N in reply[], or -1 when absent. */
static int64_t
tel_u64(const char *key)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	p = strstr(reply, pat);
	if (p == NULL)
		return -1;
	p += strlen(pat);
	while (*p == ' ')
		p++;
	return (int64_t)strtoull(p, NULL, 10);
}

static int
check_stats(const char *name, const struct pfrag_pool *pool)
{
	struct pfrag_pool_info info;
	char cmd[64], want[64];

	snprintf(cmd, sizeof(cmd), "/pfrag/stats,%s", name);
	TEST_ASSERT_SUCCESS(tel_query(cmd), "query");
	TEST_ASSERT_SUCCESS(pfrag_pool_info_get(pool, &info), "info");
	snprintf(want, sizeof(want), "\"name\":\"%s\"", name);
	TEST_ASSERT_NOT_NULL(strstr(reply, want), "%s: %s", cmd, reply);
	TEST_ASSERT_EQUAL(tel_u64("page_size"), info.page_size, "page_size: %s", reply);
	TEST_ASSERT_EQUAL(tel_u64("nb_pages"), info.nb_pages, "nb_pages: %s", reply);
	TEST_ASSERT_EQUAL(tel_u64("pages_in_use"), info.pages_in_use, "pages_in_use: %s",
			  reply);
	TEST_ASSERT_EQUAL(tel_u64("pages_free"), info.pages_free, "pages_free: %s", reply);
	TEST_ASSERT_EQUAL(tel_u64("frags_out"), info.frags_out, "frags_out: %s", reply);
	TEST_ASSERT_EQUAL(tel_u64("alloc"), info.stats.alloc, "alloc: %s", reply);
	TEST_ASSERT_EQUAL(tel_u64("free"), info.stats.free, "free: %s", reply);
	TEST_ASSERT_EQUAL(tel_u64("drained"), info.stats.drained, "drained: %s", reply);
	TEST_ASSERT_EQUAL(tel_u64("refill"), info.stats.refill, "refill: %s", reply);
	TEST_ASSERT_EQUAL(tel_u64("user_caches"), info.user_caches, "user_caches: %s", reply);
	return TEST_SUCCESS;
}

/*
 * The README's command: the distro's dpdk-telemetry.py with this process's
 * file prefix, a query on its stdin. Without the script, say so and go on
 * (the socket checks above and below do not need it).
 */
static int
readme_command(void)
{
	static const char script[] = "/usr/bin/dpdk-telemetry.py";
	char cmd[512], out[4096];
	const char *prefix = strrchr(rte_eal_get_runtime_dir(), '/');
	size_t n;
	FILE *p;

	if (access(script, R_OK) != 0 || access("/usr/bin/python3", X_OK) != 0) {
		printf("  %s not installed: the README command is not tried\n", script);
		return TEST_SKIPPED;
	}
	TEST_ASSERT_NOT_NULL(prefix, "runtime dir %s", rte_eal_get_runtime_dir());
	snprintf(cmd, sizeof(cmd), "echo /pfrag/list | /usr/bin/python3 %s -f %s 2>&1",
		 script, prefix + 1);
	p = popen(cmd, "r");
	TEST_ASSERT_NOT_NULL(p, "popen %s", cmd);
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	pclose(p);
	printf("  %s -> %s", cmd, out);
	TEST_ASSERT(strstr(out, "\"/pfrag/list\"") != NULL && strstr(out, "\"tel_a\"") != NULL &&
		    strstr(out, "\"tel_b\"") != NULL, "dpdk-telemetry.py: %s", out);
	return TEST_SUCCESS;
}

static int
test_telemetry(void)
{
	struct pfrag_pool *a, *b;
	void *frags[40];
	unsigned int i;
	int ret = TEST_FAILED, readme;

	a = pfrag_pool_create("tel_a", SOCKET_ID_ANY, 4096, 64, 0);
	b = pfrag_pool_create("tel_b", SOCKET_ID_ANY, 0, 8, 0);
	TEST_ASSERT(a != NULL && b != NULL, "pools: %s", rte_strerror(rte_errno));
	/* 40 fragments of 1000 bytes on 4 KiB pages: 10 pages in use, 30 freed. */
	for (i = 0; i < RTE_DIM(frags); i++) {
		frags[i] = pfrag_alloc(a, 1000, 0);
		TEST_ASSERT_NOT_NULL(frags[i], "alloc %u", i);
	}
	for (i = 0; i < 30; i++)
		pfrag_free(frags[i]);
	if (tel_connect() != TEST_SUCCESS)
		goto out;

	if (tel_query("/pfrag/list") != TEST_SUCCESS)
		goto out;
	printf("  /pfrag/list -> %s\n", reply);
	if (strstr(reply, "\"/pfrag/list\":[") == NULL || strstr(reply, "\"tel_a\"") == NULL ||
	    strstr(reply, "\"tel_b\"") == NULL) {
		printf("/pfrag/list does not name both pools: %s\n", reply);
		goto out;
	}
	/* Without the script the unit still runs its socket checks, then skips. */
	readme = readme_command();
	if (readme == TEST_FAILED)
		goto out;
	if (check_stats("tel_a", a) != TEST_SUCCESS || check_stats("tel_b", b) != TEST_SUCCESS)
		goto out;
	printf("  /pfrag/stats,tel_b -> %s\n", reply);
	if (tel_u64("frags_out") != 0 || tel_u64("pages_in_use") != 0)
		goto out;
	/* The figures move with the pool: 10 fragments out on tel_a. */
	if (tel_query("/pfrag/stats,tel_a") != TEST_SUCCESS || tel_u64("frags_out") != 10) {
		printf("tel_a: 10 fragments out, telemetry says %s\n", reply);
		goto out;
	}
	/* No such pool, and no name while two pools exist: an error, not a guess. */
	if (tel_query("/pfrag/stats,nosuchpool") != TEST_SUCCESS ||
	    strstr(reply, "\"/pfrag/stats\":null") == NULL) {
		printf("unknown pool answered: %s\n", reply);
		goto out;
	}
	if (tel_query("/pfrag/stats") != TEST_SUCCESS ||
	    strstr(reply, "\"/pfrag/stats\":null") == NULL) {
		printf("ambiguous query answered: %s\n", reply);
		goto out;
	}
	for (i = 30; i < RTE_DIM(frags); i++)
		pfrag_free(frags[i]);
	pfrag_cache_drain(pfrag_lcore_cache(a));
	if (check_stats("tel_a", a) != TEST_SUCCESS || tel_u64("pages_in_use") != 0)
		goto out;
	TEST_ASSERT_SUCCESS(pfrag_pool_free(b), "free tel_b");
	b = NULL;
	if (tel_query("/pfrag/list") != TEST_SUCCESS || strstr(reply, "\"tel_b\"") != NULL) {
		printf("a freed pool is still listed: %s\n", reply);
		goto out;
	}
	ret = TEST_SUCCESS;
	if (readme == TEST_SKIPPED) {
		pfrag_test_skip_reason("dpdk-telemetry.py is not installed (package dpdk): "
				       "the README's command was not tried");
		ret = TEST_SKIPPED;
	}
out:
	if (tel_fd >= 0)
		close(tel_fd);
	tel_fd = -1;
	pfrag_cache_drain(pfrag_lcore_cache(a));
	if (pfrag_pool_free(a) != 0 && ret == TEST_SUCCESS) {
		printf("tel_a: pool not freed\n");
		ret = TEST_FAILED;
	}
	if (b != NULL)
		pfrag_pool_free(b);
	return ret;
}

PFRAG_TEST_REGISTER(pfrag_telemetry_autotest, FAST, PFRAG_TEST_NOHUGE, test_telemetry);

/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * l2fwd_interop_autotest: pfrag-l2fwd between two ports of the distro
 * dpdk-testpmd. The system test itself is test/interop/l2fwd.sh (it starts
 * and stops both processes and checks MACs and counters); this unit finds
 * the script and the pfrag-l2fwd of this build tree and runs it for each
 * kind of port pfrag-l2fwd takes RX buffers for differently: our PMD, and
 * DPDK's virtio-user and vhost-user PMDs on the pfrag mbuf pool.
 */

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test.h"

/* The source tree of this build, from meson's own record of it. */
static int
source_dir(const char *build, char *out, size_t len)
{
	static const char key[] = "\"source\": \"";
	char path[PATH_MAX + 32], buf[4096];
	char *p, *end;

	snprintf(path, sizeof(path), "%s/meson-info/meson-info.json", build);
	if (pfrag_test_read_file(path, buf, sizeof(buf)) < 0)
		return -1;
	p = strstr(buf, key);
	if (p == NULL)
		return -1;
	p += sizeof(key) - 1;
	end = strchr(p, '"');
	if (end == NULL || (size_t)(end - p) >= len)
		return -1;
	memcpy(out, p, end - p);
	out[end - p] = '\0';
	return 0;
}

static char build_dir[PATH_MAX];
static char script[PATH_MAX + 32];

/* Find this build tree and the script of its source tree. */
static int
l2fwd_setup(void)
{
	char exe[PATH_MAX], src[PATH_MAX];
	ssize_t n;

	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	TEST_ASSERT(n > 0, "cannot read /proc/self/exe: %s", strerror(errno));
	exe[n] = '\0';
	/* <build>/app/test/pfrag-test */
	snprintf(build_dir, sizeof(build_dir), "%s", dirname(dirname(dirname(exe))));
	TEST_ASSERT_SUCCESS(source_dir(build_dir, src, sizeof(src)),
			    "no meson-info in %s: run from a meson build tree", build_dir);
	snprintf(script, sizeof(script), "%s/test/interop/l2fwd.sh", src);
	TEST_ASSERT(access(script, R_OK) == 0, "%s: %s", script, strerror(errno));
	return TEST_SUCCESS;
}

/* Run the system test with our ports of kind @p pmd. */
static int
run_script(const char *pmd)
{
	char cmd[3 * PATH_MAX], line[1024], reason[512] = "no reason printed";
	const char *why;
	int status;
	FILE *out;

	snprintf(cmd, sizeof(cmd), "bash '%s' --build '%s' --pmd %s 2>&1", script, build_dir,
		 pmd);
	printf("running %s\n", cmd);
	fflush(stdout);
	out = popen(cmd, "r");
	TEST_ASSERT_NOT_NULL(out, "cannot run %s", script);
	/* Pass the script's output on; keep the reason it gives for a skip. */
	while (fgets(line, sizeof(line), out) != NULL) {
		fputs(line, stdout);
		why = strstr(line, "SKIP: ");
		if (why != NULL) {
			snprintf(reason, sizeof(reason), "%s", why + strlen("SKIP: "));
			reason[strcspn(reason, "\n")] = '\0';
		}
	}
	status = pclose(out);
	TEST_ASSERT(status != -1 && WIFEXITED(status), "%s did not run to its end", script);
	if (WEXITSTATUS(status) == TEST_SKIPPED) {
		pfrag_test_skip_reason("l2fwd over %s: %s", pmd, reason);
		return TEST_SKIPPED;
	}
	TEST_ASSERT_EQUAL(WEXITSTATUS(status), 0, "l2fwd over %s ports failed", pmd);
	return TEST_SUCCESS;
}

/* Our PMD: RX buffers from its queues' pfrag caches. */
static int
test_l2fwd_virtio_frag(void)
{
	return run_script("virtio_frag");
}

/* DPDK's virtio-user frontend on the pfrag mbuf pool. */
static int
test_l2fwd_virtio_user(void)
{
	return run_script("virtio_user");
}

/* DPDK's vhost-user backend on the pfrag mbuf pool. */
static int
test_l2fwd_vhost(void)
{
	return run_script("vhost");
}

static const struct unit_test_suite l2fwd_interop_suite = {
	.name = "pfrag-l2fwd between two testpmd ports",
	.setup = l2fwd_setup,
	.cases = {
		TEST_CASE(test_l2fwd_virtio_frag),
		TEST_CASE(test_l2fwd_virtio_user),
		TEST_CASE(test_l2fwd_vhost),
		TEST_CASES_END(),
	},
};

static int
test_l2fwd_interop(void)
{
	return unit_test_suite_runner(&l2fwd_interop_suite);
}

PFRAG_TEST_REGISTER(l2fwd_interop_autotest, INTEROP, PFRAG_TEST_HUGE, test_l2fwd_interop);

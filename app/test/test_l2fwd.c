/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * l2fwd_interop_autotest: pfrag-l2fwd between two ports of the distro
 * dpdk-testpmd. The system test itself is test/interop/l2fwd.sh (it starts
 * and stops both processes and checks MACs and counters); this unit finds
 * the script and the pfrag-l2fwd of this build tree and runs it, so the
 * test is part of the interop-tests suite.
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
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/meson-info/meson-info.json", build);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
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

static int
test_l2fwd_interop(void)
{
	char exe[PATH_MAX], build[PATH_MAX], src[PATH_MAX], script[PATH_MAX + 32];
	char cmd[3 * PATH_MAX];
	ssize_t n;
	int status;

	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	TEST_ASSERT(n > 0, "cannot read /proc/self/exe: %s", strerror(errno));
	exe[n] = '\0';
	/* <build>/app/test/pfrag-test */
	snprintf(build, sizeof(build), "%s", dirname(dirname(dirname(exe))));
	TEST_ASSERT_SUCCESS(source_dir(build, src, sizeof(src)),
			    "no meson-info in %s: run from a meson build tree", build);
	snprintf(script, sizeof(script), "%s/test/interop/l2fwd.sh", src);
	TEST_ASSERT(access(script, R_OK) == 0, "%s: %s", script, strerror(errno));

	snprintf(cmd, sizeof(cmd), "bash '%s' --build '%s'", script, build);
	printf("running %s\n", cmd);
	fflush(stdout);
	status = system(cmd);
	TEST_ASSERT(status != -1 && WIFEXITED(status), "%s did not run to its end", script);
	if (WEXITSTATUS(status) == TEST_SKIPPED) {
		pfrag_test_skip_reason("%s skipped (see its output)", script);
		return TEST_SKIPPED;
	}
	TEST_ASSERT_EQUAL(WEXITSTATUS(status), 0, "the l2fwd system test failed");
	return TEST_SUCCESS;
}

PFRAG_TEST_REGISTER(l2fwd_interop_autotest, INTEROP, PFRAG_TEST_HUGE, test_l2fwd_interop);

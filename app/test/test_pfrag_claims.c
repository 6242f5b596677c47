/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * pfrag_claims_autotest: README claims of the pool that the pool units do
 * not pin down: pfrag_pool_free() refuses (-EBUSY) while fragments are out
 * *with the count in the log*, and frees the pool once they are back.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_log.h>

#include <pfrag.h>

#include "test.h"

static int
test_busy_names_the_count(void)
{
	struct pfrag_pool *pool;
	char *log_buf = NULL;
	size_t log_len = 0;
	void *frags[3];
	unsigned int i;
	FILE *log;
	int ret;

	pool = pfrag_pool_create("claims_busy", SOCKET_ID_ANY, 4096, 16, 0);
	TEST_ASSERT_NOT_NULL(pool, "pool: %s", rte_strerror(rte_errno));
	/* Three fragments on three pages: each page holds only one of them. */
	for (i = 0; i < RTE_DIM(frags); i++) {
		frags[i] = pfrag_alloc(pool, 3000, 0);
		TEST_ASSERT_NOT_NULL(frags[i], "alloc %u", i);
	}
	log = open_memstream(&log_buf, &log_len);
	TEST_ASSERT_NOT_NULL(log, "memstream");
	rte_openlog_stream(log);
	ret = pfrag_pool_free(pool);
	rte_openlog_stream(NULL);
	fclose(log);
	printf("  pfrag_pool_free with 3 fragments out: %d, log: %s", ret, log_buf);
	if (ret != -EBUSY || log_buf == NULL || strstr(log_buf, "3 fragments out") == NULL) {
		printf("-EBUSY and '3 fragments out' in the log expected\n");
		free(log_buf);
		return TEST_FAILED;
	}
	free(log_buf);
	for (i = 0; i < RTE_DIM(frags); i++)
		pfrag_free(frags[i]);
	TEST_ASSERT_SUCCESS(pfrag_pool_free(pool), "every fragment back: the pool goes");
	TEST_ASSERT_NULL(pfrag_pool_lookup("claims_busy"), "freed pool still found");
	return TEST_SUCCESS;
}

static const struct unit_test_suite pfrag_claims_suite = {
	.name = "pfrag README claims",
	.cases = {
		TEST_CASE(test_busy_names_the_count),
		TEST_CASES_END(),
	},
};

static int
pfrag_claims(void)
{
	return unit_test_suite_runner(&pfrag_claims_suite);
}

PFRAG_TEST_REGISTER(pfrag_claims_autotest, FAST, PFRAG_TEST_NOHUGE, pfrag_claims);

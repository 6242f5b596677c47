/* SPDX-License-Identifier: BSD-3-Clause */

/* eal_autotest: EAL came up; a memzone is reserved with a usable IOVA. */

#include <string.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_memory.h>
#include <rte_memzone.h>

#include "test.h"

#define MZ_SIZE (64 * 1024)

static int
test_memzone_iova(void)
{
	const struct rte_memzone *mz;
	rte_iova_t iova;

	mz = rte_memzone_reserve_aligned("eal_autotest", MZ_SIZE, SOCKET_ID_ANY,
					 RTE_MEMZONE_IOVA_CONTIG, 4096);
	TEST_ASSERT_NOT_NULL(mz, "memzone reserve failed: %s", rte_strerror(rte_errno));
	TEST_ASSERT_EQUAL(mz->len, MZ_SIZE, "memzone length");
	TEST_ASSERT(((uintptr_t)mz->addr & 4095) == 0, "memzone not aligned");
	memset(mz->addr, 0xa5, MZ_SIZE);

	iova = rte_mem_virt2iova(mz->addr);
	TEST_ASSERT(iova != RTE_BAD_IOVA, "no IOVA for the memzone");
	TEST_ASSERT_EQUAL(iova, mz->iova, "memzone IOVA differs from its lookup");
	/* IOVA-contiguous: the last byte maps at the same distance. */
	TEST_ASSERT_EQUAL(rte_mem_virt2iova((char *)mz->addr + MZ_SIZE - 1),
			  iova + MZ_SIZE - 1, "memzone is not IOVA-contiguous");
	TEST_ASSERT_NOT_NULL(rte_memzone_lookup("eal_autotest"), "lookup by name");
	TEST_ASSERT_SUCCESS(rte_memzone_free(mz), "memzone free");
	TEST_ASSERT_NULL(rte_memzone_lookup("eal_autotest"), "memzone still there");
	return TEST_SUCCESS;
}

static int
test_lcores(void)
{
	TEST_ASSERT(rte_lcore_count() >= 1, "no lcore");
	TEST_ASSERT_EQUAL(rte_lcore_id(), rte_get_main_lcore(), "main lcore id");
	return TEST_SUCCESS;
}

static struct unit_test_suite eal_suite = {
	.name = "EAL smoke",
	.cases = {
		TEST_CASE(test_lcores),
		TEST_CASE(test_memzone_iova),
		TEST_CASES_END(),
	},
};

static int
eal_autotest(void)
{
	return unit_test_suite_runner(&eal_suite);
}

PFRAG_TEST_REGISTER(eal_autotest, FAST, PFRAG_TEST_NOHUGE, eal_autotest);

/* The same with hugepages: pages of 2 MB and a physical IOVA or VA mode. */
PFRAG_TEST_REGISTER(eal_huge_autotest, FAST, PFRAG_TEST_HUGE, eal_autotest);

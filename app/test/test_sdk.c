/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * sdk_autotest: the driver-SDK headers of the installed DPDK work: an ethdev
 * is allocated and released through the driver interface, as a PMD does.
 */

#include <ethdev_driver.h>
#include <rte_ethdev.h>

#include "test.h"

static int
test_ethdev_allocate(void)
{
	struct rte_eth_dev *dev;
	uint16_t port;

	dev = rte_eth_dev_allocate("sdk_autotest_port");
	TEST_ASSERT_NOT_NULL(dev, "rte_eth_dev_allocate failed");
	port = dev->data->port_id;
	TEST_ASSERT(rte_eth_dev_is_valid_port(port) == 0,
		    "a port is valid before probing finished");
	rte_eth_dev_probing_finish(dev);
	TEST_ASSERT(rte_eth_dev_is_valid_port(port) == 1, "port not valid after probing");
	TEST_ASSERT(rte_eth_dev_allocated("sdk_autotest_port") == dev, "lookup by name");
	TEST_ASSERT_SUCCESS(rte_eth_dev_release_port(dev), "release");
	TEST_ASSERT(rte_eth_dev_is_valid_port(port) == 0, "port valid after release");
	return TEST_SUCCESS;
}

static struct unit_test_suite sdk_suite = {
	.name = "driver SDK",
	.cases = {
		TEST_CASE(test_ethdev_allocate),
		TEST_CASES_END(),
	},
};

static int
sdk_autotest(void)
{
	return unit_test_suite_runner(&sdk_suite);
}

PFRAG_TEST_REGISTER(sdk_autotest, FAST, PFRAG_TEST_NOHUGE, sdk_autotest);

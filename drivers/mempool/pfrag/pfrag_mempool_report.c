/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * vdev "pfrag_mempool_report": a device with no function but its removal,
 * which EAL's cleanup (rte_eal_cleanup) runs after the application has
 * closed its ports and before the memory goes. It then hands back what the
 * pfrag mempools' caches hold and logs, for each, whether every object is
 * back in the pool. This is how an application that never frees its mbuf
 * pool (DPDK's l2fwd) shows that nothing stayed out:
 *
 *   dpdk-l2fwd -d librte_mempool_pfrag.so --mbuf-pool-ops-name=pfrag \
 *       --vdev ...ports... --vdev pfrag_mempool_report \
 *       --log-level=pfrag.mempool:info -- ...
 *
 * List it after the ports: vdevs are removed in the order given.
 */

#include <errno.h>

#include <bus_vdev_driver.h>
#include <rte_mempool.h>

#include "pfrag_mempool.h"
#include "pfrag_mempool_private.h"

static void
report_one(struct rte_mempool *mp, void *arg)
{
	int *busy = arg;

	if (pfrag_mp_owned(mp) && pfrag_mp_report(mp, "at exit") != 0)
		(*busy)++;
}

static int
report_probe(struct rte_vdev_device *dev)
{
	MP_LOG(INFO, "%s: the pfrag mempools are reported at EAL cleanup",
	       rte_vdev_device_name(dev));
	return 0;
}

static int
report_remove(struct rte_vdev_device *dev)
{
	int busy = 0;

	RTE_SET_USED(dev);
	rte_mempool_walk(report_one, &busy);
	return busy == 0 ? 0 : -EBUSY;
}

static struct rte_vdev_driver pfrag_mempool_report_drv = {
	.probe = report_probe,
	.remove = report_remove,
};

RTE_PMD_REGISTER_VDEV(pfrag_mempool_report, pfrag_mempool_report_drv);

/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * net_virtio_frag: the PCI driver. Probes virtio-net functions (1af4:1000
 * transitional or legacy, 1af4:1041 modern) bound to uio_pci_generic,
 * igb_uio or vfio-pci, brings the transport up and hands the port to the
 * transport-neutral layer.
 */

#include <errno.h>

#include <bus_pci_driver.h>
#include <ethdev_driver.h>
#include <ethdev_pci.h>
#include <rte_kvargs.h>

#include "../virtio_frag.h"
#include "virtio_pci.h"

/*
 * The shared devargs (virtio_frag_devargs.c) are all the PCI driver takes:
 * queue_size, queues, mrg_rxbuf, in_order, rx_buf_size, page_size,
 * pool_pages, pool, mac. queues defaults to what the device offers.
 */
static int
vpci_parse_args(const struct rte_devargs *da, struct virtio_frag_args *args,
		int *queues_set)
{
	struct rte_kvargs *kv;
	int ret;

	virtio_frag_args_defaults(args);
	*queues_set = 0;
	kv = virtio_frag_kvargs_parse(da != NULL ? da->args : NULL, NULL);
	if (kv == NULL)
		return -EINVAL;
	*queues_set = rte_kvargs_count(kv, "queues") > 0;
	ret = virtio_frag_parse_common_args(kv, args);
	rte_kvargs_free(kv);
	return ret;
}

static int
virtio_pci_frag_probe(struct rte_pci_driver *drv __rte_unused, struct rte_pci_device *pci)
{
	struct virtio_frag_args args;
	struct virtio_frag_hw *hw;
	struct rte_eth_dev *eth_dev;
	int ret, queues_set;

	if (rte_eal_process_type() != RTE_PROC_PRIMARY) {
		VFRAG_LOG(ERR, "%s: secondary processes are not supported", pci->name);
		return -ENOTSUP;
	}
	ret = vpci_parse_args(pci->device.devargs, &args, &queues_set);
	if (ret < 0) {
		VFRAG_LOG(ERR, "%s: invalid devargs, device not created", pci->name);
		return ret;
	}
	eth_dev = rte_eth_dev_pci_allocate(pci, sizeof(*hw));
	if (eth_dev == NULL)
		return -ENOMEM;
	hw = eth_dev->data->dev_private;
	hw->args = args;
	/* First the device: the MAC and the queue pairs come from it. */
	ret = virtio_pci_frag_init(hw, pci);
	if (ret < 0) {
		rte_eth_dev_release_port(eth_dev);
		return ret;
	}
	if (!queues_set)
		hw->args.queues = RTE_MIN(hw->dev_max_pairs, (uint16_t)VFRAG_MAX_QUEUE_PAIRS);
	ret = virtio_frag_dev_init(eth_dev);
	if (ret < 0) {
		hw->ops->dev_close(hw);
		rte_eth_dev_release_port(eth_dev);
		return ret;
	}
	/* Polled: the link is read when asked, no interrupt reports it. */
	eth_dev->data->dev_flags &= ~RTE_ETH_DEV_INTR_LSC;
	rte_eth_dev_probing_finish(eth_dev);
	VFRAG_LOG(INFO, "%s: port %u, %s, %u queue pair(s), pool %s", pci->name,
		  eth_dev->data->port_id, hw->ops->name, hw->args.queues, hw->pool->name);
	return 0;
}

static int
virtio_pci_frag_remove(struct rte_pci_device *pci)
{
	struct rte_eth_dev *eth_dev;

	eth_dev = rte_eth_dev_allocated(pci->device.name);
	if (eth_dev == NULL)
		return 0;
	virtio_frag_dev_uninit(eth_dev);
	return rte_eth_dev_release_port(eth_dev);
}

static const struct rte_pci_id virtio_pci_frag_ids[] = {
	{ RTE_PCI_DEVICE(VPCI_VENDOR_ID, VPCI_DEV_ID_NET_TRANS) },
	{ RTE_PCI_DEVICE(VPCI_VENDOR_ID, VPCI_DEV_ID_NET_MODERN) },
	{ .vendor_id = 0 },
};

static struct rte_pci_driver virtio_pci_frag_driver = {
	.id_table = virtio_pci_frag_ids,
	.drv_flags = RTE_PCI_DRV_NEED_MAPPING,
	.probe = virtio_pci_frag_probe,
	.remove = virtio_pci_frag_remove,
};

RTE_PMD_REGISTER_PCI(net_virtio_frag, virtio_pci_frag_driver);
RTE_PMD_REGISTER_PCI_TABLE(net_virtio_frag, virtio_pci_frag_ids);
RTE_PMD_REGISTER_KMOD_DEP(net_virtio_frag, "* igb_uio | uio_pci_generic | vfio-pci");
RTE_PMD_REGISTER_PARAM_STRING(net_virtio_frag,
	"queue_size=<64..4096, power of 2> "
	"queues=<1..8> "
	"mrg_rxbuf=<0|1> "
	"in_order=<0|1> "
	"rx_buf_size=<0 (adaptive)|64..9728> "
	"page_size=<bytes, power of 2> "
	"pool_pages=<int> "
	"pool=<name of an existing pfrag pool> "
	"mac=<xx:xx:xx:xx:xx:xx>");

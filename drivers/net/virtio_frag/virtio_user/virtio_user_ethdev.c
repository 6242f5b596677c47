/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * net_virtio_frag_user: the vdev whose device is a vhost-user backend.
 * Probe parses the devargs (path and server here, the shared ones through
 * virtio_frag_devargs.c), lets the ethdev layer set the port up
 * (virtio_frag_dev_init()), then connects to the backend or listens for one.
 */

#include <errno.h>
#include <string.h>

#include <bus_vdev_driver.h>
#include <ethdev_driver.h>
#include <ethdev_vdev.h>
#include <rte_kvargs.h>

#include "virtio_user.h"

#define VU_ARG_PATH   "path"
#define VU_ARG_SERVER "server"

/* The transport's own keys; the shared ones follow them. */
static const char *const vu_keys[] = {
	VU_ARG_PATH,
	VU_ARG_SERVER,
	NULL
};

static int
vu_parse_args(const char *params, struct virtio_frag_args *args,
	      struct virtio_user_frag_args *ua)
{
	struct rte_kvargs *kv;
	uint64_t v;
	int ret = -EINVAL;

	virtio_frag_args_defaults(args);
	memset(ua, 0, sizeof(*ua));
	if (params == NULL || *params == '\0') {
		VFRAG_LOG(ERR, "missing devarg path=<vhost-user socket>");
		return -EINVAL;
	}
	kv = virtio_frag_kvargs_parse(params, vu_keys);
	if (kv == NULL)
		return -EINVAL;
	if (rte_kvargs_count(kv, VU_ARG_PATH) != 1) {
		VFRAG_LOG(ERR, "devarg path=<vhost-user socket> is required, once");
		goto out;
	}
	if (virtio_frag_arg_string(kv, VU_ARG_PATH, ua->path, sizeof(ua->path)) < 0)
		goto out;
	v = 0;
	if (virtio_frag_arg_uint(kv, VU_ARG_SERVER, 0, 1, &v) < 0)
		goto out;
	ua->server = (int)v;
	ret = virtio_frag_parse_common_args(kv, args);
out:
	rte_kvargs_free(kv);
	return ret;
}

static int
virtio_frag_user_probe(struct rte_vdev_device *vdev)
{
	const char *name = rte_vdev_device_name(vdev);
	struct virtio_user_frag_args ua;
	struct virtio_frag_args args;
	struct virtio_frag_hw *hw;
	struct rte_eth_dev *eth_dev;
	int ret;

	VFRAG_LOG(INFO, "probing %s", name);
	if (rte_eal_process_type() != RTE_PROC_PRIMARY) {
		VFRAG_LOG(ERR, "%s: secondary processes are not supported", name);
		return -ENOTSUP;
	}
	ret = vu_parse_args(rte_vdev_device_args(vdev), &args, &ua);
	if (ret < 0) {
		VFRAG_LOG(ERR, "%s: invalid devargs, device not created", name);
		return ret;
	}
	eth_dev = rte_eth_vdev_allocate(vdev, sizeof(*hw));
	if (eth_dev == NULL)
		return -ENOMEM;
	hw = eth_dev->data->dev_private;
	hw->args = args;
	hw->ops = &virtio_user_frag_ops;
	/* The backend maps our memory: descriptors carry virtual addresses. */
	hw->use_va = 1;
	ret = virtio_frag_dev_init(eth_dev);
	if (ret < 0)
		goto fail;
	ret = virtio_user_frag_init(hw, &ua);
	if (ret < 0) {
		virtio_frag_dev_uninit(eth_dev);
		goto fail;
	}
	rte_eth_dev_probing_finish(eth_dev);
	VFRAG_LOG(INFO, "%s: port %u, %s mode on %s, pool %s", name,
		  eth_dev->data->port_id, ua.server ? "server" : "client", ua.path,
		  hw->pool->name);
	return 0;
fail:
	rte_eth_dev_release_port(eth_dev);
	return ret;
}

static int
virtio_frag_user_remove(struct rte_vdev_device *vdev)
{
	struct rte_eth_dev *eth_dev;

	eth_dev = rte_eth_dev_allocated(rte_vdev_device_name(vdev));
	if (eth_dev == NULL)
		return 0;
	if (rte_eal_process_type() == RTE_PROC_PRIMARY)
		virtio_frag_dev_uninit(eth_dev);
	return rte_eth_dev_release_port(eth_dev);
}

static struct rte_vdev_driver virtio_frag_user_driver = {
	.probe = virtio_frag_user_probe,
	.remove = virtio_frag_user_remove,
};

RTE_PMD_REGISTER_VDEV(net_virtio_frag_user, virtio_frag_user_driver);
RTE_PMD_REGISTER_PARAM_STRING(net_virtio_frag_user,
	"path=<vhost-user socket> "
	"server=<0|1> "
	"queue_size=<64..4096, power of 2> "
	"queues=<1..8> "
	"mrg_rxbuf=<0|1> "
	"in_order=<0|1> "
	"rx_buf_size=<0 (adaptive)|64..9728> "
	"page_size=<bytes, power of 2> "
	"pool_pages=<int> "
	"pool=<name of an existing pfrag pool> "
	"mac=<xx:xx:xx:xx:xx:xx>");

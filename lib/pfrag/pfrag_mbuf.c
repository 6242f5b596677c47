/* SPDX-License-Identifier: BSD-3-Clause */

/* The out-of-line half of the mbuf bridge. */

#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "pfrag_mbuf.h"

void
pfrag_mbuf_free_cb(void *addr, void *opaque __rte_unused)
{
	pfrag_free(addr);
}

struct rte_mempool *
pfrag_mbuf_hdr_pool_create(const char *name, unsigned int n, int socket_id)
{
	/*
	 * The data lives in fragments; the header's own data room is only the
	 * headroom, the least rte_eth_rx_queue_setup() accepts from a driver
	 * whose min_rx_bufsize is 0.
	 */
	return rte_pktmbuf_pool_create(name, n, RTE_MIN(256u, n / 2), 0,
				       RTE_PKTMBUF_HEADROOM, socket_id);
}

/* Ports whose driver declared that they post fragments; read on the control path. */
static uint8_t port_rx_frags[RTE_MAX_ETHPORTS];

void
pfrag_mbuf_port_set_rx_frags(uint16_t port_id, int on)
{
	if (port_id < RTE_MAX_ETHPORTS)
		__atomic_store_n(&port_rx_frags[port_id], on != 0, __ATOMIC_RELAXED);
}

int
pfrag_mbuf_port_rx_frags(uint16_t port_id)
{
	return port_id < RTE_MAX_ETHPORTS &&
		__atomic_load_n(&port_rx_frags[port_id], __ATOMIC_RELAXED) != 0;
}

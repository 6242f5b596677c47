/* SPDX-License-Identifier: BSD-3-Clause */

/* The out-of-line half of the mbuf bridge. */

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

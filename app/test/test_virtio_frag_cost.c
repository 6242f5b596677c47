/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * What a packet costs the driver (perf-tests): virtio_frag and DPDK's
 * net_virtio_user against the same in-thread vhost-user device, so that one
 * thread runs application, driver and device in turn and no second core,
 * nor the load another process puts on it, enters the figure. Per mode
 * (64-byte RX only, TX only, RX then TX of the same mbufs as an io
 * forwarder does), rounds alternate between the two drivers and the median
 * cycles per packet are printed with the ratio. Under
 * `valgrind --tool=callgrind` (VF_COST_PKTS to shorten, VF_COST_ONLY=ours or
 * theirs for one driver) the same loops give instruction counts per
 * function that no other process disturbs.
 *
 * The device does what a vhost-user backend must: it reads every TX
 * header and frame byte it would copy, and writes a header and a frame into
 * every RX buffer it completes.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "test.h"
#include "test_vhost_stub.h"
#include "test_virtio_frag_peer.h"

#define COST_RING 256
#define COST_BURST 32
#define COST_FRAME 64
#define COST_ROUNDS 5
#define COST_PKTS 400000u
#define VR_RX 0
#define VR_TX 1

enum { OURS, THEIRS, NB_DRV };
enum { M_RX, M_TX, M_IO, NB_MODE };

static const char *const drv_name[] = { "net_virtio_frag_user5", "net_virtio_user5" };
static const char *const drv_label[] = { "virtio_frag", "net_virtio_user" };
static const char *const mode_label[] = { "RX only", "TX only", "io forward" };

/* Device side: fill up to @p n posted RX buffers with a frame each. */
static unsigned int
dev_rx(struct vstub *s, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (vstub_rx_frame(s, VR_RX, COST_FRAME, 1, (uint8_t)i) < 0)
			break;
	return i;
}

/* Device side: consume every TX chain made available, reading what it would copy. */
static unsigned int
dev_tx(struct vstub *s, volatile uint64_t *sink)
{
	struct vring_desc *d = s->desc[VR_TX];
	uint32_t len, num = s->vring_num[VR_TX], k;
	unsigned int n = 0;
	uint64_t sum = 0;
	uint8_t *buf;
	uint16_t id, i;

	while (vstub_take(s, VR_TX, &id, &buf, &len) == 0) {
		i = id;
		for (k = 0; k < num; k++) {
			uint64_t w;

			/* Header and frame, first and last word of each buffer. */
			memcpy(&w, (uint8_t *)(uintptr_t)d[i].addr, sizeof(w));
			sum += w;
			memcpy(&w, (uint8_t *)(uintptr_t)d[i].addr + d[i].len - sizeof(w),
			       sizeof(w));
			sum += w;
			if (!(d[i].flags & VRING_DESC_F_NEXT))
				break;
			i = d[i].next & (num - 1);
		}
		vstub_used(s, VR_TX, id, 0);
		n++;
	}
	*sink += sum;
	return n;
}

/* One mode for @p pkts packets; cycles per packet, 0 when packets stopped flowing. */
static __rte_noinline double
run_mode(int mode, uint16_t port, struct vstub *s, struct rte_mempool *mp, uint32_t pkts)
{
	struct rte_mbuf *m[COST_BURST];
	volatile uint64_t sink = 0;
	uint64_t t0, done = 0, idle = 0;
	uint16_t nb, sent, i;

	t0 = rte_rdtsc();
	while (done < pkts && idle < 1000) {
		if (mode == M_TX) {
			if (rte_pktmbuf_alloc_bulk(mp, m, COST_BURST) != 0)
				return 0;
			for (i = 0; i < COST_BURST; i++) {
				m[i]->data_len = COST_FRAME;
				m[i]->pkt_len = COST_FRAME;
			}
			nb = COST_BURST;
		} else {
			dev_rx(s, COST_BURST);
			nb = rte_eth_rx_burst(port, 0, m, COST_BURST);
		}
		if (mode == M_RX) {
			rte_pktmbuf_free_bulk(m, nb);
			sent = nb;
		} else {
			sent = rte_eth_tx_burst(port, 0, m, nb);
			if (sent < nb)
				rte_pktmbuf_free_bulk(&m[sent], nb - sent);
			dev_tx(s, &sink);
		}
		idle = sent == 0 ? idle + 1 : 0;
		done += sent;
	}
	if (done < pkts)
		return 0;
	return (double)(rte_rdtsc() - t0) / done;
}

/* One function per mode: callgrind --toggle-collect=cost_<mode> counts one of them. */
static __rte_noinline double
cost_rx(uint16_t port, struct vstub *s, struct rte_mempool *mp, uint32_t pkts)
{
	return run_mode(M_RX, port, s, mp, pkts);
}

static __rte_noinline double
cost_tx(uint16_t port, struct vstub *s, struct rte_mempool *mp, uint32_t pkts)
{
	return run_mode(M_TX, port, s, mp, pkts);
}

static __rte_noinline double
cost_io(uint16_t port, struct vstub *s, struct rte_mempool *mp, uint32_t pkts)
{
	return run_mode(M_IO, port, s, mp, pkts);
}

static double (*const cost_fn[])(uint16_t, struct vstub *, struct rte_mempool *,
				 uint32_t) = { cost_rx, cost_tx, cost_io };

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int
test_virtio_frag_cost(void)
{
	uint64_t feat = VFRAG_BIT(VFRAG_F_VERSION_1) | VFRAG_BIT(VFRAG_NET_F_MRG_RXBUF) |
		VFRAG_BIT(VFRAG_F_IN_ORDER) | VFRAG_BIT(VFRAG_NET_F_MAC);
	double cyc[NB_MODE][NB_DRV][COST_ROUNDS];
	const char *only = getenv("VF_COST_ONLY");
	const char *npk = getenv("VF_COST_PKTS");
	uint32_t pkts = npk != NULL ? (uint32_t)atoi(npk) : COST_PKTS;
	char dir[64], sock[128], args[192];
	struct rte_mempool *mp;
	struct vstub stub;
	unsigned int r, mode, drv, rounds = COST_ROUNDS;
	uint16_t port;
	int ret = TEST_SUCCESS;

	if (only != NULL)
		rounds = 1;
	if (pfrag_test_tmpdir(dir, sizeof(dir)) != 0)
		return TEST_FAILED;
	mp = rte_pktmbuf_pool_create("vf_cost_mp", 8191, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				     rte_socket_id());
	TEST_ASSERT_NOT_NULL(mp, "mempool");
	memset(cyc, 0, sizeof(cyc));
	for (r = 0; r < rounds && ret == TEST_SUCCESS; r++) {
		for (drv = 0; drv < NB_DRV && ret == TEST_SUCCESS; drv++) {
			if (only != NULL && strcmp(only, drv == OURS ? "ours" : "theirs") != 0)
				continue;
			snprintf(sock, sizeof(sock), "%s/cost%u%u.sock", dir, r, drv);
			if (vstub_start(&stub, sock, feat) != 0) {
				ret = TEST_FAILED;
				break;
			}
			snprintf(args, sizeof(args), "path=%s,queue_size=%u", sock, COST_RING);
			if (vf_port_create(drv_name[drv], args, mp, COST_RING, RTE_ETHER_MTU,
					   &port) != 0) {
				vstub_stop(&stub);
				ret = TEST_FAILED;
				break;
			}
			if (vstub_wait_addr(&stub, 2, 10000) != 0 ||
			    vf_wait_link(port, 1, 10000) != 0) {
				printf("%s: rings not handed over\n", drv_label[drv]);
				ret = TEST_FAILED;
			}
			for (mode = 0; mode < NB_MODE && ret == TEST_SUCCESS; mode++) {
				cyc[mode][drv][r] = cost_fn[mode](port, &stub, mp, pkts);
				printf("  round %u %-10s %-15s %7.1f cycles/packet\n", r,
				       mode_label[mode], drv_label[drv], cyc[mode][drv][r]);
				if (cyc[mode][drv][r] <= 0) {
					printf("%s %s: packets stopped flowing\n",
					       drv_label[drv], mode_label[mode]);
					ret = TEST_FAILED;
				}
			}
			vf_port_destroy(drv_name[drv], port);
			vstub_stop(&stub);
		}
	}
	pfrag_test_rmdir(dir);
	rte_mempool_free(mp);
	if (ret != TEST_SUCCESS || only != NULL)
		return ret;
	printf("\n64-byte packets, in-thread device, ring %u, burst %u, median of %u rounds\n",
	       COST_RING, COST_BURST, COST_ROUNDS);
	printf("%-12s %12s %16s %8s\n", "cycles/pkt", "virtio_frag", "net_virtio_user",
	       "ratio");
	for (mode = 0; mode < NB_MODE; mode++) {
		for (drv = 0; drv < NB_DRV; drv++)
			qsort(cyc[mode][drv], COST_ROUNDS, sizeof(double), cmp_double);
		printf("%-12s %12.1f %16.1f %8.2f\n", mode_label[mode],
		       cyc[mode][OURS][COST_ROUNDS / 2], cyc[mode][THEIRS][COST_ROUNDS / 2],
		       cyc[mode][OURS][COST_ROUNDS / 2] / cyc[mode][THEIRS][COST_ROUNDS / 2]);
	}
	return TEST_SUCCESS;
}

PFRAG_TEST_REGISTER(virtio_frag_cost_autotest, PERF, PFRAG_TEST_HUGE, test_virtio_frag_cost);

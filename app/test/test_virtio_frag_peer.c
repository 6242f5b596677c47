/* SPDX-License-Identifier: BSD-3-Clause */

/* Peer process, port and round-trip helpers of the virtio_frag system tests. */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <rte_bus_vdev.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_mbuf.h>

#include <pfrag.h>
#include <virtio_frag.h>

#include "test.h"
#include "test_virtio_frag_peer.h"

#define VF_MAGIC 0x76667267u    /* "vfrg" */
#define VF_ETHERTYPE 0x88b5     /* local experimental */
#define VF_SEG 2048u
#define VF_MAX_FRAME 16384u

struct vf_hdr {
	uint32_t magic;
	uint32_t run;
	uint32_t seq;
	uint32_t len;
	uint32_t csum;
} __rte_packed;

static uint32_t vf_run_id;

const char *
vf_testpmd_path(void)
{
	static const char *const paths[] = {
		"/usr/bin/dpdk-testpmd",
		"/usr/local/bin/dpdk-testpmd",
	};
	unsigned int i;

	for (i = 0; i < RTE_DIM(paths); i++)
		if (access(paths[i], X_OK) == 0)
			return paths[i];
	return NULL;
}

int
vf_peer_prepare(struct vf_peer *p, char *dir, size_t dir_len, char *sock, size_t sock_len)
{
	p->pid = -1;
	p->stdin_fd = -1;
	if (vf_testpmd_path() == NULL) {
		pfrag_test_skip_reason("dpdk-testpmd is not installed (apt-get install dpdk)");
		return TEST_SKIPPED;
	}
	if (pfrag_test_tmpdir(dir, dir_len) != 0)
		return TEST_FAILED;
	snprintf(sock, sock_len, "%s/vhost.sock", dir);
	return TEST_SUCCESS;
}

int
vf_peer_start(struct vf_peer *p, const char *dir, const char *sock, int client,
	      const char *fwd_mode)
{
	return vf_peer_start_mq(p, dir, sock, client, fwd_mode, 1);
}

int
vf_peer_start_mq(struct vf_peer *p, const char *dir, const char *sock, int client,
		 const char *fwd_mode, uint16_t queues)
{
	static unsigned int nb_peers;
	char vdev[300], prefix[64], fwd[64], rxq[32], txq[32];
	const char *testpmd = vf_testpmd_path();
	int pipefd[2], logfd;
	pid_t pid;

	memset(p, 0, sizeof(*p));
	p->pid = -1;
	p->stdin_fd = -1;
	if (testpmd == NULL)
		return -ENOENT;
	snprintf(p->log, sizeof(p->log), "%s/peer%u.log", dir, nb_peers);
	snprintf(prefix, sizeof(prefix), "--file-prefix=vfpeer-%d-%u", getpid(), nb_peers++);
	snprintf(vdev, sizeof(vdev), "net_vhost0,iface=%s,queues=%u%s", sock, queues,
		 client ? ",client=1" : "");
	snprintf(rxq, sizeof(rxq), "--rxq=%u", queues);
	snprintf(txq, sizeof(txq), "--txq=%u", queues);
	snprintf(fwd, sizeof(fwd), "--forward-mode=%s", fwd_mode);
	if (pipe(pipefd) < 0)
		return -errno;
	logfd = open(p->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (logfd < 0) {
		close(pipefd[0]);
		close(pipefd[1]);
		return -errno;
	}
	pid = fork();
	if (pid < 0) {
		close(pipefd[0]);
		close(pipefd[1]);
		close(logfd);
		return -errno;
	}
	if (pid == 0) {
		/* The peer must not outlive the test, whatever happens to it. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(pipefd[0], STDIN_FILENO);
		dup2(logfd, STDOUT_FILENO);
		dup2(logfd, STDERR_FILENO);
		close(pipefd[1]);
		execl(testpmd, testpmd, "-l", "0-1", "--main-lcore", "0", "--no-pci",
		      "--in-memory", "--single-file-segments", prefix,
		      "--log-level=lib.eal:warning", "--vdev", vdev, "--",
		      "--no-mlockall", "--total-num-mbufs=16384", "--max-pkt-len=9728",
		      rxq, txq, "-a", fwd, (char *)NULL);
		_exit(127);
	}
	close(pipefd[0]);
	close(logfd);
	p->pid = pid;
	p->stdin_fd = pipefd[1];
	return 0;
}

static int
peer_wait(struct vf_peer *p, unsigned int ms)
{
	uint64_t end = pfrag_test_now_ms() + ms;
	int status;

	while (pfrag_test_now_ms() < end) {
		if (waitpid(p->pid, &status, WNOHANG) == p->pid) {
			p->pid = -1;
			return 0;
		}
		usleep(20000);
	}
	return -ETIMEDOUT;
}

void
vf_peer_kill(struct vf_peer *p)
{
	if (p->pid > 0) {
		kill(p->pid, SIGKILL);
		waitpid(p->pid, NULL, 0);
		p->pid = -1;
	}
	if (p->stdin_fd >= 0) {
		close(p->stdin_fd);
		p->stdin_fd = -1;
	}
}

void
vf_peer_stop(struct vf_peer *p)
{
	if (p->pid > 0) {
		/* testpmd without a prompt quits on Enter. */
		if (p->stdin_fd >= 0 && write(p->stdin_fd, "\n", 1) < 0)
			kill(p->pid, SIGTERM);
		if (peer_wait(p, 5000) < 0) {
			kill(p->pid, SIGTERM);
			if (peer_wait(p, 2000) < 0)
				vf_peer_kill(p);
		}
	}
	vf_peer_kill(p);
}

void
vf_peer_dump_log(const struct vf_peer *p)
{
	char line[512];
	long pos;
	FILE *f;

	f = fopen(p->log, "r");
	if (f == NULL)
		return;
	fseek(f, 0, SEEK_END);
	pos = ftell(f);
	fseek(f, pos > 4000 ? pos - 4000 : 0, SEEK_SET);
	printf("---- tail of %s ----\n", p->log);
	while (fgets(line, sizeof(line), f) != NULL)
		fputs(line, stdout);
	printf("----\n");
	fclose(f);
}

int
vf_port_create(const char *name, const char *devargs, struct rte_mempool *mp,
	       uint16_t ring, uint16_t mtu, uint16_t *port)
{
	return vf_port_create_mq(name, devargs, mp, ring, mtu, 1, port);
}

int
vf_port_create_mq(const char *name, const char *devargs, struct rte_mempool *mp,
		  uint16_t ring, uint16_t mtu, uint16_t queues, uint16_t *port)
{
	struct rte_eth_dev_info info;
	struct rte_eth_conf conf;
	int ret = -1, i;
	uint16_t q;

	/* The peer may be between bind() and listen(): try again a few times. */
	for (i = 0; i < 10; i++) {
		ret = rte_vdev_init(name, devargs);
		if (ret == 0)
			break;
		usleep(200000);
	}
	if (ret != 0) {
		printf("rte_vdev_init(%s, %s) failed: %d\n", name, devargs, ret);
		return ret;
	}
	ret = rte_eth_dev_get_port_by_name(name, port);
	if (ret != 0)
		goto fail;
	memset(&conf, 0, sizeof(conf));
	conf.rxmode.mtu = mtu;
	/* Link change events when the driver has them. */
	if (rte_eth_dev_info_get(*port, &info) == 0 && info.dev_flags != NULL &&
	    (*info.dev_flags & RTE_ETH_DEV_INTR_LSC))
		conf.intr_conf.lsc = 1;
	ret = rte_eth_dev_configure(*port, queues, queues, &conf);
	for (q = 0; ret == 0 && q < queues; q++) {
		ret = rte_eth_rx_queue_setup(*port, q, ring, rte_socket_id(), NULL, mp);
		if (ret == 0)
			ret = rte_eth_tx_queue_setup(*port, q, ring, rte_socket_id(), NULL);
	}
	if (ret == 0)
		ret = rte_eth_dev_start(*port);
	if (ret == 0)
		return 0;
fail:
	printf("port %s set-up failed: %d\n", name, ret);
	rte_eth_dev_close(*port);
	rte_vdev_uninit(name);
	return ret;
}

void
vf_port_destroy(const char *name, uint16_t port)
{
	rte_eth_dev_stop(port);
	rte_eth_dev_close(port);
	rte_vdev_uninit(name);
}

struct pfrag_pool *
vf_port_pool(uint16_t port)
{
	char name[PFRAG_NAMESIZE];

	snprintf(name, sizeof(name), VFRAG_POOL_NAME_FMT, port);
	return pfrag_pool_lookup(name);
}

int
vf_wait_link(uint16_t port, int up, unsigned int ms)
{
	uint64_t end = pfrag_test_now_ms() + ms;
	struct rte_eth_link link;

	do {
		if (rte_eth_link_get_nowait(port, &link) == 0 && link.link_status == up)
			return 0;
		usleep(10000);
	} while (pfrag_test_now_ms() < end);
	return -ETIMEDOUT;
}

void
vf_port_dump(uint16_t port)
{
	struct rte_eth_xstat_name *names = NULL;
	struct rte_eth_xstat *xs = NULL;
	int n, i;

	n = rte_eth_xstats_get(port, NULL, 0);
	if (n <= 0)
		return;
	names = calloc(n, sizeof(*names));
	xs = calloc(n, sizeof(*xs));
	if (names != NULL && xs != NULL &&
	    rte_eth_xstats_get_names(port, names, n) == n &&
	    rte_eth_xstats_get(port, xs, n) == n) {
		printf("port %u xstats:", port);
		for (i = 0; i < n; i++)
			if (xs[i].value != 0)
				printf(" %s=%" PRIu64, names[xs[i].id].name, xs[i].value);
		printf("\n");
	}
	free(names);
	free(xs);
}

static uint32_t
payload_byte(uint32_t seq, uint32_t i)
{
	return (seq * 31u + i * 7u) & 0xff;
}

static struct rte_mbuf *
build_packet(struct rte_mempool *mp, const struct rte_ether_addr *src, uint32_t size,
	     uint32_t seq)
{
	struct rte_mbuf *head = NULL, *m, *last = NULL;
	uint8_t frame[RTE_ETHER_HDR_LEN + sizeof(struct vf_hdr)];
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)frame;
	struct vf_hdr *h = (struct vf_hdr *)(frame + RTE_ETHER_HDR_LEN);
	uint32_t off = 0, i, csum = 0, seg_len;
	uint8_t *d;

	memset(&eth->dst_addr, 0, sizeof(eth->dst_addr));
	eth->dst_addr.addr_bytes[0] = 0x02;
	eth->dst_addr.addr_bytes[5] = 0xfe;
	rte_ether_addr_copy(src, &eth->src_addr);
	eth->ether_type = rte_cpu_to_be_16(VF_ETHERTYPE);
	for (i = sizeof(frame); i < size; i++)
		csum = csum * 31u + payload_byte(seq, i);
	h->magic = VF_MAGIC;
	h->run = vf_run_id;
	h->seq = seq;
	h->len = size;
	h->csum = csum;

	while (off < size) {
		m = rte_pktmbuf_alloc(mp);
		if (m == NULL) {
			rte_pktmbuf_free(head);
			return NULL;
		}
		seg_len = RTE_MIN(size - off, VF_SEG);
		d = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)seg_len);
		for (i = 0; i < seg_len; i++)
			d[i] = off + i < sizeof(frame) ? frame[off + i] :
				(uint8_t)payload_byte(seq, off + i);
		if (head == NULL) {
			head = m;
		} else {
			last->next = m;
			head->nb_segs++;
			head->pkt_len += seg_len;
		}
		last = m;
		off += seg_len;
	}
	return head;
}

enum { PKT_OK, PKT_STALE, PKT_FOREIGN, PKT_BAD };

/* Classify a returned packet; *seq gets its sequence number when ours. */
static int
check_packet(struct rte_mbuf *m, const struct rte_ether_addr *mac,
	     const struct vf_stream *s, uint32_t *seq, uint8_t *buf)
{
	const struct rte_ether_hdr *eth;
	uint32_t i, csum = 0, size;
	const uint8_t *p;
	struct vf_hdr h;

	if (m->pkt_len < RTE_ETHER_HDR_LEN + sizeof(h) || m->pkt_len > VF_MAX_FRAME)
		return PKT_FOREIGN;
	p = rte_pktmbuf_read(m, 0, m->pkt_len, buf);
	if (p == NULL)
		return PKT_FOREIGN;
	eth = (const struct rte_ether_hdr *)p;
	memcpy(&h, p + RTE_ETHER_HDR_LEN, sizeof(h));
	if (h.magic != VF_MAGIC || eth->ether_type != rte_cpu_to_be_16(VF_ETHERTYPE))
		return PKT_FOREIGN;
	if (h.run != vf_run_id)
		return PKT_STALE;
	if (h.seq >= s->n)
		return PKT_FOREIGN;
	*seq = h.seq;
	size = s->size(h.seq, s->arg);
	if (m->pkt_len != size || h.len != size ||
	    !rte_is_same_ether_addr(&eth->dst_addr, mac))
		return PKT_BAD;
	for (i = RTE_ETHER_HDR_LEN + sizeof(h); i < size; i++) {
		if (p[i] != payload_byte(h.seq, i))
			return PKT_BAD;
		csum = csum * 31u + p[i];
	}
	return csum == h.csum ? PKT_OK : PKT_BAD;
}

/*
 * A packet that has not come back after this long, with nothing else coming
 * either, is counted lost so that the rest of the stream still runs (a lost
 * packet would otherwise hold the window shut until the timeout). Should it
 * come after all, still in order, it counts as received: no verdict depends
 * on this time.
 */
#define VF_STALL_MS 1000

struct stream_state {
	const struct vf_stream *s;
	struct rte_ether_addr mac;
	uint32_t next_seq;       /* next to send */
	uint32_t expect;         /* next expected back */
	int64_t last_ok;         /* sequence number of the last packet back intact */
	uint64_t inflight_bytes; /* of the packets in [expect, next_seq) */
	uint8_t *given_up;       /* per packet: counted lost after a stall */
	struct vf_rt_result *res;
};

/* Packets up to @p seq are accounted for: they leave the window. */
static void
stream_advance(struct stream_state *st, uint32_t seq)
{
	while (st->expect <= seq)
		st->inflight_bytes -= st->s->size(st->expect++, st->s->arg);
}

static int
stream_may_send(const struct stream_state *st)
{
	const struct vf_stream *s = st->s;

	if (st->next_seq >= s->n || st->next_seq - st->expect >= s->window)
		return 0;
	/* One packet is always allowed, however large. */
	return s->window_bytes == 0 || st->next_seq == st->expect ||
		st->inflight_bytes + s->size(st->next_seq, s->arg) <= s->window_bytes;
}

static void
stream_send(struct stream_state *st)
{
	const struct vf_stream *s = st->s;
	struct rte_mbuf *tx[32];
	uint32_t nb = 0, k, size;

	while (nb < RTE_DIM(tx) && stream_may_send(st)) {
		size = s->size(st->next_seq, s->arg);
		tx[nb] = build_packet(s->mp, &st->mac, size, st->next_seq);
		if (tx[nb] == NULL)
			break;
		st->inflight_bytes += size;
		st->next_seq++;
		nb++;
	}
	if (nb == 0)
		return;
	k = rte_eth_tx_burst(s->port, s->queue, tx, (uint16_t)nb);
	st->res->sent += k;
	/* Ring full: take the rest back and send them again later. */
	while (nb > k) {
		rte_pktmbuf_free(tx[--nb]);
		st->inflight_bytes -= s->size(--st->next_seq, s->arg);
	}
}

static uint16_t
stream_recv(struct stream_state *st)
{
	static uint8_t buf[VF_MAX_FRAME];
	const struct vf_stream *s = st->s;
	struct vf_rt_result *res = st->res;
	struct rte_mbuf *rx[32];
	uint16_t nb, i;
	uint32_t seq = 0;

	nb = rte_eth_rx_burst(s->port, s->queue, rx, RTE_DIM(rx));
	for (i = 0; i < nb; i++) {
		switch (check_packet(rx[i], &st->mac, s, &seq, buf)) {
		case PKT_STALE:
			res->stale++;
			break;
		case PKT_FOREIGN:
			res->foreign++;
			break;
		case PKT_OK:
			/* One queue, one forwarding core: order is kept. */
			if (seq < st->expect) {
				if (st->given_up != NULL && st->given_up[seq] &&
				    (int64_t)seq > st->last_ok) {
					/* Slow, not lost: in order after all. */
					st->given_up[seq] = 0;
					res->lost--;
					res->received++;
					st->last_ok = seq;
				} else {
					res->bad++;
				}
				break;
			}
			res->lost += seq - st->expect;
			res->received++;
			st->last_ok = seq;
			stream_advance(st, seq);
			break;
		default:
			res->bad++;
			if (seq >= st->expect)
				stream_advance(st, seq);
			break;
		}
		rte_pktmbuf_free(rx[i]);
	}
	return nb;
}

/* The oldest packet in flight has not come back: count it lost, go on. */
static void
stream_give_up_oldest(struct stream_state *st)
{
	st->given_up[st->expect] = 1;
	st->res->lost++;
	stream_advance(st, st->expect);
}

int
vf_stream_run(const struct vf_stream *s, struct vf_rt_result *res)
{
	struct stream_state st = { .s = s, .res = res, .last_ok = -1 };
	uint64_t last_progress = pfrag_test_now_ms(), stalled_since = last_progress, now;

	memset(res, 0, sizeof(*res));
	rte_eth_macaddr_get(s->port, &st.mac);
	vf_run_id++;
	st.given_up = calloc(s->n, 1);
	while (st.expect < s->n) {
		now = pfrag_test_now_ms();
		if (now - last_progress > s->timeout_ms)
			break;
		stream_send(&st);
		if (stream_recv(&st) > 0) {
			last_progress = pfrag_test_now_ms();
			stalled_since = last_progress;
		} else if (now - stalled_since > VF_STALL_MS && st.expect < st.next_seq &&
			   st.given_up != NULL) {
			stream_give_up_oldest(&st);
			stalled_since = now;
		}
	}
	res->lost += s->n - st.expect;
	free(st.given_up);
	return res->received == s->n && res->bad == 0 ? 0 : -1;
}

static uint32_t
fixed_size(uint32_t seq __rte_unused, void *arg)
{
	return (uint32_t)(uintptr_t)arg;
}

static int
vf_roundtrip_quiet(uint16_t port, uint16_t queue, struct rte_mempool *mp, uint32_t size,
		   uint32_t n, uint32_t window, unsigned int timeout_ms,
		   struct vf_rt_result *res)
{
	struct vf_stream s = {
		.port = port,
		.queue = queue,
		.mp = mp,
		.n = n,
		.size = fixed_size,
		.arg = (void *)(uintptr_t)size,
		.window = window,
		.timeout_ms = timeout_ms,
	};

	return vf_stream_run(&s, res);
}

int
vf_roundtrip_q(uint16_t port, uint16_t queue, struct rte_mempool *mp, uint32_t size,
	       uint32_t n, uint32_t window, unsigned int timeout_ms, struct vf_rt_result *res)
{
	if (vf_roundtrip_quiet(port, queue, mp, size, n, window, timeout_ms, res) == 0)
		return 0;
	vf_port_dump(port);
	return -1;
}

int
vf_roundtrip(uint16_t port, struct rte_mempool *mp, uint32_t size, uint32_t n,
	     uint32_t window, unsigned int timeout_ms, struct vf_rt_result *res)
{
	return vf_roundtrip_q(port, 0, mp, size, n, window, timeout_ms, res);
}

int
vf_wait_traffic_q(uint16_t port, uint16_t queue, struct rte_mempool *mp, unsigned int ms)
{
	uint64_t end = pfrag_test_now_ms() + ms;
	struct vf_rt_result r;

	/* Quiet: vf_roundtrip() dumps the port on every miss otherwise. */
	do {
		if (vf_roundtrip_quiet(port, queue, mp, 64, 1, 1, 100, &r) == 0)
			return 0;
	} while (pfrag_test_now_ms() < end);
	return -ETIMEDOUT;
}

int
vf_wait_traffic(uint16_t port, struct rte_mempool *mp, unsigned int ms)
{
	return vf_wait_traffic_q(port, 0, mp, ms);
}

int64_t
vf_xstat(uint16_t port, const char *name)
{
	uint64_t id, value;

	if (rte_eth_xstats_get_id_by_name(port, name, &id) != 0)
		return -1;
	if (rte_eth_xstats_get_by_id(port, &id, &value, 1) != 1)
		return -1;
	return (int64_t)value;
}

/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Ports and peers of the PMD studies: a vdev port started with one mempool,
 * and a distro dpdk-testpmd with net_vhost ports as the peer, driven through
 * its interactive prompt. Every wait has a deadline; the peer is always
 * stopped (quit, then SIGKILL).
 */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <rte_bus_vdev.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>

#include "bench.h"

int
bench_port_start(uint16_t port, struct rte_mempool *mp, uint16_t ring, uint16_t queues)
{
	struct rte_eth_conf conf;
	uint16_t q;

	memset(&conf, 0, sizeof(conf));
	if (rte_eth_dev_configure(port, queues, queues, &conf) != 0)
		return -1;
	for (q = 0; q < queues; q++)
		if (rte_eth_rx_queue_setup(port, q, ring, rte_eth_dev_socket_id(port), NULL,
					   mp) != 0 ||
		    rte_eth_tx_queue_setup(port, q, ring, rte_eth_dev_socket_id(port),
					   NULL) != 0)
			return -1;
	return rte_eth_dev_start(port) == 0 ? 0 : -1;
}

int
bench_port_create(const char *name, const char *args, struct rte_mempool *mp, uint16_t ring,
		  uint16_t queues, uint16_t *port)
{
	if (rte_vdev_init(name, args) != 0 || rte_eth_dev_get_port_by_name(name, port) != 0) {
		printf("cannot create %s (%s)\n", name, args);
		return -1;
	}
	if (bench_port_start(*port, mp, ring, queues) != 0) {
		printf("cannot start %s (%s)\n", name, args);
		bench_port_remove(name);
		return -1;
	}
	return 0;
}

void
bench_port_remove(const char *name)
{
	uint16_t port;

	if (rte_eth_dev_get_port_by_name(name, &port) == 0) {
		rte_eth_dev_stop(port);
		rte_eth_dev_close(port);
	}
	rte_vdev_uninit(name);
}

int
bench_wait_link(uint16_t port, unsigned int ms)
{
	uint64_t end = rte_get_timer_cycles() + rte_get_timer_hz() * ms / 1000;
	struct rte_eth_link link;

	do {
		if (rte_eth_link_get_nowait(port, &link) == 0 && link.link_status)
			return 0;
		/* Sleep, not spin: the backend's thread may share this core. */
		rte_delay_us_sleep(10 * 1000);
	} while (rte_get_timer_cycles() < end);
	return -1;
}

static int
wait_file(const char *path, unsigned int ms)
{
	struct stat st;
	unsigned int i;

	for (i = 0; i < ms / 10; i++) {
		if (stat(path, &st) == 0)
			return 0;
		usleep(10 * 1000);
	}
	return -1;
}

int
bench_peer_start(struct bench_peer *p, const char *testpmd, const char *dir,
		 unsigned int nb_ports, unsigned int queues, const char *fwd_mode)
{
	char prefix[64], vdev[BENCH_PEER_MAX_PORTS][300], mode[64], sock[240], rxq[32], txq[32];
	const char *argv[32];
	unsigned int i, argc = 0;
	int in[2], log;

	memset(p, 0, sizeof(*p));
	p->pid = -1;
	p->in_fd = -1;
	if (nb_ports == 0 || nb_ports > BENCH_PEER_MAX_PORTS || queues == 0 || queues > 8)
		return -1;
	snprintf(p->dir, sizeof(p->dir), "%s", dir);
	p->nb_ports = nb_ports;
	snprintf(p->log, sizeof(p->log), "%s/peer-%s.log", dir, fwd_mode);
	snprintf(prefix, sizeof(prefix), "--file-prefix=pfrag-bench-peer-%d", getpid());
	snprintf(mode, sizeof(mode), "--forward-mode=%s", fwd_mode);
	argv[argc++] = testpmd;
	argv[argc++] = "-l";
	argv[argc++] = "0-1";
	argv[argc++] = "--main-lcore";
	argv[argc++] = "0";
	argv[argc++] = "--no-pci";
	argv[argc++] = "--in-memory";
	argv[argc++] = "--single-file-segments";
	argv[argc++] = prefix;
	argv[argc++] = "--log-level=lib.eal:warning";
	for (i = 0; i < nb_ports; i++) {
		bench_peer_sock(p, i, sock, sizeof(sock));
		unlink(sock);
		snprintf(vdev[i], sizeof(vdev[i]), "net_vhost%u,iface=%s,queues=%u", i, sock,
			 queues);
		argv[argc++] = "--vdev";
		argv[argc++] = vdev[i];
	}
	argv[argc++] = "--";
	argv[argc++] = "-i";
	argv[argc++] = "--no-mlockall";
	argv[argc++] = "--total-num-mbufs=16384";
	argv[argc++] = "--port-topology=loop";
	argv[argc++] = mode;
	snprintf(rxq, sizeof(rxq), "--rxq=%u", queues);
	snprintf(txq, sizeof(txq), "--txq=%u", queues);
	argv[argc++] = rxq;
	argv[argc++] = txq;
	argv[argc] = NULL;

	if (pipe(in) != 0)
		return -1;
	log = open(p->log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (log < 0) {
		close(in[0]);
		close(in[1]);
		return -1;
	}
	p->pid = fork();
	if (p->pid == 0) {
		dup2(in[0], 0);
		dup2(log, 1);
		dup2(log, 2);
		close(in[1]);
		execv(testpmd, (char *const *)(uintptr_t)argv);
		_exit(127);
	}
	close(in[0]);
	close(log);
	if (p->pid < 0) {
		close(in[1]);
		return -1;
	}
	p->in_fd = in[1];
	/* The peer's commands must not block this process if it dies. */
	fcntl(p->in_fd, F_SETFL, O_NONBLOCK);
	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < nb_ports; i++) {
		bench_peer_sock(p, i, sock, sizeof(sock));
		if (wait_file(sock, 20000) != 0) {
			printf("peer: no socket %s after 20 s (log %s)\n", sock, p->log);
			bench_peer_stop(p);
			return -1;
		}
	}
	return 0;
}

void
bench_peer_sock(const struct bench_peer *p, unsigned int i, char *buf, size_t len)
{
	snprintf(buf, len, "%s/peer%u.sock", p->dir, i);
}

int
bench_peer_cmd(struct bench_peer *p, const char *cmd)
{
	size_t n = strlen(cmd);

	if (p->in_fd < 0 || write(p->in_fd, cmd, n) != (ssize_t)n ||
	    write(p->in_fd, "\n", 1) != 1)
		return -1;
	return 0;
}

void
bench_peer_stop(struct bench_peer *p)
{
	unsigned int i;
	int status;

	if (p->pid <= 0)
		return;
	bench_peer_cmd(p, "quit");
	for (i = 0; i < 1000; i++) {
		if (waitpid(p->pid, &status, WNOHANG) == p->pid)
			break;
		usleep(10 * 1000);
	}
	if (i == 1000) {
		kill(p->pid, SIGKILL);
		waitpid(p->pid, &status, 0);
	}
	if (p->in_fd >= 0)
		close(p->in_fd);
	p->in_fd = -1;
	p->pid = -1;
}

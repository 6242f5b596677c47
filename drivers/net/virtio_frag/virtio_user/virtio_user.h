/* SPDX-License-Identifier: BSD-3-Clause */

#ifndef _VFRAG_VIRTIO_USER_H_
#define _VFRAG_VIRTIO_USER_H_

/**
 * @file
 * The vhost-user transport of virtio_frag: net_virtio_frag_user ports
 * (virtio_user_ethdev.c) whose device is a vhost-user backend behind a unix
 * socket (virtio_user_dev.c, vhost_user.c).
 */

#include <sys/un.h>

#include "../virtio_frag.h"

/*
 * Control path deadlines. A backend's reply must be complete
 * VFRAG_CTRL_REPLY_MS after its request; one operation (connect, handshake
 * and ring set-up, or stop) ends VFRAG_CTRL_OP_MS after it began, whatever
 * the backend does. Stop may wait for one operation of the control thread
 * before its own, so rte_eth_dev_stop() and rte_eth_dev_close() each return
 * within VFRAG_CTRL_BOUND_MS.
 */
#define VFRAG_CTRL_REPLY_MS     1000u
#define VFRAG_CTRL_OP_MS        2000u
#define VFRAG_CTRL_BOUND_MS     (2 * VFRAG_CTRL_OP_MS + 500u)

/** Devargs of the vhost-user transport (the shared ones are in hw->args). */
struct virtio_user_frag_args {
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int server;
};

extern const struct virtio_frag_ops virtio_user_frag_ops;

/**
 * Bring the transport of a port up, after virtio_frag_dev_init(): listen
 * (server) or connect and handshake (client), then start the port's control
 * thread. Sets hw->transport; on failure leaves nothing behind (logged, -errno).
 */
int virtio_user_frag_init(struct virtio_frag_hw *hw, const struct virtio_user_frag_args *ua);

#endif /* _VFRAG_VIRTIO_USER_H_ */

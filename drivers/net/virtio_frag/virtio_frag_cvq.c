/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The control virtqueue (VIRTIO_NET_F_CTRL_VQ, spec 5.1.6.5): one command at
 * a time, each a header, its data and the device's ack byte, in a buffer
 * beside the ring. The driver waits for the ack with a deadline and checks
 * it; a device that does not answer in time keeps the buffer, so the queue
 * is not used again until the next reset gives it back.
 *
 * Commands are control path: the ethdev operations, under the queue's lock.
 */

#include <errno.h>
#include <pthread.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_malloc.h>
#include <rte_memzone.h>

#include "virtio_frag.h"

/* The command buffer: header, data, ack, each in its own line. */
#define CVQ_HDR_OFF     0
#define CVQ_DATA_OFF    64
#define CVQ_ACK_OFF     128
#define CVQ_BUF_LEN     192
#define CVQ_DATA_MAX    64
#define CVQ_RING_MAX    64      /* three descriptors a command: plenty */
#define CVQ_RING_MIN    4

struct virtio_frag_cvq {
	struct virtio_frag_vq vq;
	const struct rte_memzone *mz;   /* ring, then the command buffer */
	uint8_t *buf;
	uint64_t buf_addr;              /* what descriptors carry: IOVA or VA */
	pthread_mutex_t lock;           /* one command at a time */
	int broken;                     /* a command timed out: the device holds the buffer */
	uint64_t commands;
	uint64_t failures;
};

/* Virtqueue number of the control queue: after every data queue pair. */
static uint16_t
cvq_index(const struct virtio_frag_hw *hw)
{
	return vfrag_with_feature(hw, VFRAG_NET_F_MQ) ? 2 * hw->dev_max_pairs : 2;
}

static int
cvq_alloc(struct virtio_frag_hw *hw, uint16_t index)
{
	struct virtio_frag_cvq *cvq;
	char name[RTE_MEMZONE_NAMESIZE];
	uint16_t size = CVQ_RING_MAX;
	size_t ring_len;
	int fixed = 0;

	if (hw->ops->get_queue_size != NULL) {
		size = hw->ops->get_queue_size(hw, index, &fixed);
		if (!fixed)
			size = RTE_MIN(size, (uint16_t)CVQ_RING_MAX);
	}
	if (size < CVQ_RING_MIN || size > VFRAG_MAX_RING_SIZE || !rte_is_power_of_2(size)) {
		VFRAG_LOG(ERR, "port %u: control queue %u of %u entries: a power of two in "
			  "[%u, %u] is needed", hw->eth_dev->data->port_id, index, size,
			  CVQ_RING_MIN, VFRAG_MAX_RING_SIZE);
		return -EINVAL;
	}
	cvq = rte_zmalloc("vfrag_cvq", sizeof(*cvq), RTE_CACHE_LINE_SIZE);
	if (cvq == NULL)
		return -ENOMEM;
	ring_len = RTE_ALIGN_CEIL(vring_size(size), RTE_CACHE_LINE_SIZE);
	snprintf(name, sizeof(name), "vfrag%u_cvq", hw->eth_dev->data->port_id);
	/* One IOVA-contiguous block: the device reads it by DMA. */
	cvq->mz = rte_memzone_reserve_aligned(name, ring_len + CVQ_BUF_LEN, SOCKET_ID_ANY,
					      RTE_MEMZONE_IOVA_CONTIG, VFRAG_RING_ALIGN);
	if (cvq->mz == NULL) {
		VFRAG_LOG(ERR, "port %u: no memory for the control queue: %s",
			  hw->eth_dev->data->port_id, rte_strerror(rte_errno));
		rte_free(cvq);
		return -ENOMEM;
	}
	if (!hw->use_va && cvq->mz->iova == RTE_BAD_IOVA) {
		VFRAG_LOG(ERR, "port %u: control queue memory has no IOVA",
			  hw->eth_dev->data->port_id);
		rte_memzone_free(cvq->mz);
		rte_free(cvq);
		return -EINVAL;
	}
	cvq->vq.hw = hw;
	cvq->vq.nb_desc = size;
	cvq->vq.mask = size - 1;
	cvq->vq.vq_index = index;
	cvq->vq.port_id = hw->eth_dev->data->port_id;
	cvq->vq.use_va = hw->use_va;
	cvq->vq.kickfd = -1;
	cvq->vq.callfd = -1;
	cvq->vq.ring_mem = cvq->mz->addr;
	cvq->vq.ring_iova = hw->use_va ? (rte_iova_t)(uintptr_t)cvq->mz->addr : cvq->mz->iova;
	cvq->buf = (uint8_t *)cvq->mz->addr + ring_len;
	cvq->buf_addr = hw->use_va ? (uint64_t)(uintptr_t)cvq->buf : cvq->mz->iova + ring_len;
	pthread_mutex_init(&cvq->lock, NULL);
	hw->cvq = cvq;
	return 0;
}

int
virtio_frag_cvq_setup(struct virtio_frag_hw *hw)
{
	struct virtio_frag_cvq *cvq;
	uint16_t index = cvq_index(hw);
	int ret;

	if (!vfrag_with_feature(hw, VFRAG_NET_F_CTRL_VQ))
		return 0;
	/* The queue's number moves with MQ: a new negotiation may need a new one. */
	if (hw->cvq != NULL && hw->cvq->vq.vq_index != index)
		virtio_frag_cvq_free(hw);
	if (hw->cvq == NULL) {
		ret = cvq_alloc(hw, index);
		if (ret < 0)
			return ret;
	}
	cvq = hw->cvq;
	memset(cvq->vq.ring_mem, 0, vring_size(cvq->vq.nb_desc));
	vring_init(&cvq->vq.vr, cvq->vq.nb_desc, cvq->vq.ring_mem);
	cvq->vq.vr.avail->flags = VRING_AVAIL_F_NO_INTERRUPT;
	cvq->vq.avail_idx = 0;
	cvq->vq.used_cons = 0;
	cvq->broken = 0;
	ret = hw->ops->setup_queue(hw, &cvq->vq);
	if (ret < 0)
		VFRAG_LOG(ERR, "port %u: control queue %u not set up: %s",
			  hw->eth_dev->data->port_id, index, strerror(-ret));
	return ret;
}

void
virtio_frag_cvq_free(struct virtio_frag_hw *hw)
{
	struct virtio_frag_cvq *cvq = hw->cvq;

	if (cvq == NULL)
		return;
	/* The device is reset (stop or close): the ring is no longer its. */
	if (hw->ops != NULL && hw->transport != NULL)
		hw->ops->del_queue(hw, &cvq->vq);
	rte_memzone_free(cvq->mz);
	pthread_mutex_destroy(&cvq->lock);
	rte_free(cvq);
	hw->cvq = NULL;
}

/* Wait for the device to use the command: deadline, then the used entry. */
static int
cvq_wait(struct virtio_frag_cvq *cvq, uint8_t cls, uint8_t cmd)
{
	struct virtio_frag_vq *vq = &cvq->vq;
	uint64_t end = rte_get_timer_cycles() +
		rte_get_timer_hz() * VFRAG_CVQ_TIMEOUT_MS / 1000;
	uint16_t used_idx;
	uint32_t id;

	for (;;) {
		used_idx = __atomic_load_n(&vq->vr.used->idx, __ATOMIC_ACQUIRE);
		if (used_idx != vq->used_cons)
			break;
		if (rte_get_timer_cycles() > end) {
			cvq->broken = 1;
			VFRAG_LOG(ERR, "port %u: control command %u.%u not answered in %u ms: "
				  "control queue unusable until the port is restarted",
				  vq->port_id, cls, cmd, VFRAG_CVQ_TIMEOUT_MS);
			return -ETIMEDOUT;
		}
		rte_delay_us_sleep(50);
	}
	id = __atomic_load_n(&vq->vr.used->ring[vq->used_cons & vq->mask].id,
			     __ATOMIC_RELAXED);
	/* One command was out: exactly one entry, for its head. */
	if ((uint16_t)(used_idx - vq->used_cons) != 1 || id != 0) {
		cvq->broken = 1;
		VFRAG_LOG(ERR, "port %u: control queue: device used %u entries (id %u) for "
			  "one command: control queue unusable until the port is restarted",
			  vq->port_id, (uint16_t)(used_idx - vq->used_cons), id);
		return -EIO;
	}
	vq->used_cons = used_idx;
	return 0;
}

int
virtio_frag_cvq_command(struct virtio_frag_hw *hw, uint8_t cls, uint8_t cmd,
			const void *data, uint16_t len)
{
	struct virtio_frag_cvq *cvq = hw->cvq;
	struct virtio_frag_vq *vq;
	struct vring_desc *desc;
	uint8_t ack;
	int ret;

	if (cvq == NULL || !vfrag_with_feature(hw, VFRAG_NET_F_CTRL_VQ))
		return -ENOTSUP;
	if (len > CVQ_DATA_MAX)
		return -EINVAL;
	vq = &cvq->vq;
	desc = vq->vr.desc;
	pthread_mutex_lock(&cvq->lock);
	if (cvq->broken) {
		pthread_mutex_unlock(&cvq->lock);
		VFRAG_LOG(ERR, "port %u: control queue unusable since a command went "
			  "unanswered: restart the port", vq->port_id);
		return -EIO;
	}
	cvq->buf[CVQ_HDR_OFF] = cls;
	cvq->buf[CVQ_HDR_OFF + 1] = cmd;
	/* Anything but VIRTIO_NET_OK until the device writes its answer. */
	cvq->buf[CVQ_ACK_OFF] = VFRAG_NET_ERR;
	/* Header, data (when there is any), ack: the layout every device takes. */
	desc[0].addr = cvq->buf_addr + CVQ_HDR_OFF;
	desc[0].len = 2;
	desc[0].flags = VRING_DESC_F_NEXT;
	desc[0].next = len > 0 ? 1 : 2;
	if (len > 0) {
		memcpy(cvq->buf + CVQ_DATA_OFF, data, len);
		desc[1].addr = cvq->buf_addr + CVQ_DATA_OFF;
		desc[1].len = len;
		desc[1].flags = VRING_DESC_F_NEXT;
		desc[1].next = 2;
	}
	desc[2].addr = cvq->buf_addr + CVQ_ACK_OFF;
	desc[2].len = 1;
	desc[2].flags = VRING_DESC_F_WRITE;
	desc[2].next = 0;
	vq->vr.avail->ring[vq->avail_idx & vq->mask] = 0;
	vq->avail_idx++;
	/* Descriptors before the index, the index before the notify. */
	__atomic_store_n(&vq->vr.avail->idx, vq->avail_idx, __ATOMIC_RELEASE);
	rte_atomic_thread_fence(__ATOMIC_SEQ_CST);
	hw->ops->notify_queue(hw, vq);
	cvq->commands++;
	ret = cvq_wait(cvq, cls, cmd);
	if (ret == 0) {
		ack = __atomic_load_n(&cvq->buf[CVQ_ACK_OFF], __ATOMIC_RELAXED);
		if (ack != VFRAG_NET_OK) {
			VFRAG_LOG(ERR, "port %u: device refused control command %u.%u "
				  "(ack %u)", vq->port_id, cls, cmd, ack);
			ret = -EIO;
		}
	}
	if (ret < 0)
		cvq->failures++;
	pthread_mutex_unlock(&cvq->lock);
	return ret;
}

int
virtio_frag_cvq_set_pairs(struct virtio_frag_hw *hw, uint16_t pairs)
{
	uint16_t v = rte_cpu_to_le_16(pairs);

	if (!vfrag_with_feature(hw, VFRAG_NET_F_MQ))
		return pairs <= 1 ? 0 : -ENOTSUP;
	if (pairs < 1 || pairs > hw->dev_max_pairs)
		return -EINVAL;
	return virtio_frag_cvq_command(hw, VFRAG_NET_CTRL_MQ, VFRAG_NET_CTRL_MQ_VQ_PAIRS_SET,
				       &v, sizeof(v));
}

int
virtio_frag_cvq_rx_mode(struct virtio_frag_hw *hw, uint8_t cmd, int on)
{
	uint8_t v = on ? 1 : 0;

	if (!vfrag_with_feature(hw, VFRAG_NET_F_CTRL_RX))
		return -ENOTSUP;
	return virtio_frag_cvq_command(hw, VFRAG_NET_CTRL_RX, cmd, &v, sizeof(v));
}

void
virtio_frag_cvq_counters(const struct virtio_frag_hw *hw, uint64_t *commands,
			 uint64_t *failures)
{
	/* The control queue lives from the first start to close. */
	*commands = hw->cvq != NULL ? hw->cvq->commands : 0;
	*failures = hw->cvq != NULL ? hw->cvq->failures : 0;
}

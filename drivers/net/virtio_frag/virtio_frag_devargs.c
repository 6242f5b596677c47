/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Devargs every transport shares: ring and queue counts, RX buffers, the
 * pfrag pool and the MAC. A transport's probe splits its devargs with
 * virtio_frag_kvargs_parse() (its own keys and these), reads its own keys
 * with virtio_frag_arg_uint() / virtio_frag_arg_string(), then these with
 * virtio_frag_parse_common_args(). Every bad value fails the probe with a
 * message naming the key; a key given twice is refused rather than let the
 * last one silently win.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_kvargs.h>

#include "virtio_frag.h"

#define VFRAG_ARG_QUEUE_SIZE   "queue_size"
#define VFRAG_ARG_QUEUES       "queues"
#define VFRAG_ARG_MRG_RXBUF    "mrg_rxbuf"
#define VFRAG_ARG_IN_ORDER     "in_order"
#define VFRAG_ARG_RX_BUF_SIZE  "rx_buf_size"
#define VFRAG_ARG_PAGE_SIZE    "page_size"
#define VFRAG_ARG_POOL_PAGES   "pool_pages"
#define VFRAG_ARG_POOL         "pool"
#define VFRAG_ARG_MAC          "mac"

/* Transport keys and these, at most (with the terminating NULL). */
#define VFRAG_MAX_KEYS 32

const char *const virtio_frag_common_keys[] = {
	VFRAG_ARG_QUEUE_SIZE,
	VFRAG_ARG_QUEUES,
	VFRAG_ARG_MRG_RXBUF,
	VFRAG_ARG_IN_ORDER,
	VFRAG_ARG_RX_BUF_SIZE,
	VFRAG_ARG_PAGE_SIZE,
	VFRAG_ARG_POOL_PAGES,
	VFRAG_ARG_POOL,
	VFRAG_ARG_MAC,
	NULL
};

struct uint_arg {
	uint64_t min;
	uint64_t max;
	uint64_t *out;
};

static int
parse_uint(const char *key, const char *value, void *opaque)
{
	struct uint_arg *a = opaque;
	unsigned long long v;
	char *end;

	if (value == NULL || *value == '\0' || *value == '-')
		goto bad;
	errno = 0;
	v = strtoull(value, &end, 0);
	if (errno != 0 || *end != '\0' || v < a->min || v > a->max)
		goto bad;
	*a->out = v;
	return 0;
bad:
	VFRAG_LOG(ERR, "devarg %s=%s: expected an integer in [%" PRIu64 ", %" PRIu64 "]",
		  key, value == NULL ? "" : value, a->min, a->max);
	return -EINVAL;
}

int
virtio_frag_arg_uint(struct rte_kvargs *kv, const char *key, uint64_t min, uint64_t max,
		     uint64_t *out)
{
	struct uint_arg a = { .min = min, .max = max, .out = out };

	if (rte_kvargs_count(kv, key) > 1) {
		VFRAG_LOG(ERR, "devarg %s given more than once", key);
		return -EINVAL;
	}
	return rte_kvargs_process(kv, key, parse_uint, &a);
}

struct string_arg {
	char *buf;
	size_t len;
};

static int
parse_string(const char *key, const char *value, void *opaque)
{
	struct string_arg *s = opaque;

	if (value == NULL || *value == '\0' || strlen(value) >= s->len) {
		VFRAG_LOG(ERR, "devarg %s: empty or longer than %zu characters", key,
			  s->len - 1);
		return -EINVAL;
	}
	strlcpy(s->buf, value, s->len);
	return 0;
}

int
virtio_frag_arg_string(struct rte_kvargs *kv, const char *key, char *buf, size_t len)
{
	struct string_arg s = { .buf = buf, .len = len };

	return rte_kvargs_process(kv, key, parse_string, &s);
}

static int
parse_mac(const char *key, const char *value, void *opaque)
{
	struct rte_ether_addr *mac = opaque;

	if (value == NULL || rte_ether_unformat_addr(value, mac) != 0 ||
	    !rte_is_unicast_ether_addr(mac)) {
		VFRAG_LOG(ERR, "devarg %s=%s: expected a unicast MAC like "
			  "02:00:00:00:00:01", key, value == NULL ? "" : value);
		return -EINVAL;
	}
	return 0;
}

void
virtio_frag_args_defaults(struct virtio_frag_args *args)
{
	memset(args, 0, sizeof(*args));
	args->queue_size = VFRAG_DEFAULT_RING_SIZE;
	args->queues = 1;
	args->mrg_rxbuf = 1;
	args->in_order = 1;
}

/* Append @p keys to @p all (n used); the new count, -1 when they do not fit. */
static int
keys_add(const char **all, int n, const char *const *keys)
{
	for (; keys != NULL && *keys != NULL; keys++) {
		if (n >= VFRAG_MAX_KEYS - 1)
			return -1;
		all[n++] = *keys;
	}
	return n;
}

struct rte_kvargs *
virtio_frag_kvargs_parse(const char *params, const char *const *keys)
{
	const char *all[VFRAG_MAX_KEYS];
	char list[VFRAG_MAX_KEYS * 16];
	struct rte_kvargs *kv;
	size_t len = 0;
	int n, i;

	n = keys_add(all, 0, keys);
	if (n >= 0)
		n = keys_add(all, n, virtio_frag_common_keys);
	if (n < 0) {
		VFRAG_LOG(ERR, "more than %d devargs keys", VFRAG_MAX_KEYS - 1);
		return NULL;
	}
	all[n] = NULL;
	kv = rte_kvargs_parse(params == NULL ? "" : params, all);
	if (kv != NULL)
		return kv;
	list[0] = '\0';
	for (i = 0; i < n && len < sizeof(list); i++)
		len += snprintf(list + len, sizeof(list) - len, "%s%s", i ? ", " : "", all[i]);
	VFRAG_LOG(ERR, "bad devargs '%s': keys are %s", params == NULL ? "" : params, list);
	return NULL;
}

int
virtio_frag_parse_common_args(struct rte_kvargs *kv, struct virtio_frag_args *args)
{
	uint64_t v;

	v = args->queue_size;
	if (virtio_frag_arg_uint(kv, VFRAG_ARG_QUEUE_SIZE, VFRAG_MIN_RING_SIZE,
				 VFRAG_MAX_RING_SIZE, &v) < 0)
		return -EINVAL;
	if (!rte_is_power_of_2(v)) {
		VFRAG_LOG(ERR, "devarg queue_size=%" PRIu64 ": must be a power of two", v);
		return -EINVAL;
	}
	args->queue_size = (uint16_t)v;
	v = args->queues;
	if (virtio_frag_arg_uint(kv, VFRAG_ARG_QUEUES, 1, VFRAG_MAX_QUEUE_PAIRS, &v) < 0)
		return -EINVAL;
	args->queues = (uint16_t)v;
	v = args->mrg_rxbuf;
	if (virtio_frag_arg_uint(kv, VFRAG_ARG_MRG_RXBUF, 0, 1, &v) < 0)
		return -EINVAL;
	args->mrg_rxbuf = (int)v;
	v = args->in_order;
	if (virtio_frag_arg_uint(kv, VFRAG_ARG_IN_ORDER, 0, 1, &v) < 0)
		return -EINVAL;
	args->in_order = (int)v;
	v = args->rx_buf_size;
	if (virtio_frag_arg_uint(kv, VFRAG_ARG_RX_BUF_SIZE, 0, VFRAG_MAX_RX_PKTLEN, &v) < 0)
		return -EINVAL;
	if (v != 0 && v < VFRAG_RX_ROOM_MIN) {
		VFRAG_LOG(ERR, "devarg rx_buf_size=%" PRIu64 ": 0 (adaptive) or >= %u", v,
			  VFRAG_RX_ROOM_MIN);
		return -EINVAL;
	}
	args->rx_buf_size = (uint32_t)v;
	v = args->page_size;
	if (virtio_frag_arg_uint(kv, VFRAG_ARG_PAGE_SIZE, 0, RTE_PGSIZE_1G, &v) < 0)
		return -EINVAL;
	if (v != 0 && (!rte_is_power_of_2(v) || v < PFRAG_MIN_PAGE_SIZE)) {
		VFRAG_LOG(ERR, "devarg page_size=%" PRIu64 ": a power of two >= %u", v,
			  PFRAG_MIN_PAGE_SIZE);
		return -EINVAL;
	}
	args->page_size = (uint32_t)v;
	v = args->pool_pages;
	if (virtio_frag_arg_uint(kv, VFRAG_ARG_POOL_PAGES, 0, 1u << 24, &v) < 0)
		return -EINVAL;
	args->pool_pages = (uint32_t)v;
	/* A key given twice would silently take its last value: refuse it. */
	if (rte_kvargs_count(kv, VFRAG_ARG_POOL) > 1 || rte_kvargs_count(kv, VFRAG_ARG_MAC) > 1) {
		VFRAG_LOG(ERR, "devarg %s given more than once",
			  rte_kvargs_count(kv, VFRAG_ARG_POOL) > 1 ? VFRAG_ARG_POOL : VFRAG_ARG_MAC);
		return -EINVAL;
	}
	if (virtio_frag_arg_string(kv, VFRAG_ARG_POOL, args->pool, sizeof(args->pool)) < 0)
		return -EINVAL;
	if (rte_kvargs_count(kv, VFRAG_ARG_MAC) > 0) {
		if (rte_kvargs_process(kv, VFRAG_ARG_MAC, parse_mac, &args->mac) < 0)
			return -EINVAL;
		args->mac_set = 1;
	}
	return 0;
}

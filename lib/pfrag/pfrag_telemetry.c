/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Telemetry: /pfrag/list names the pools, /pfrag/stats,<name> gives one
 * pool's figures (the only pool when the name is left out).
 */

#include <string.h>

#include <rte_common.h>
#include <rte_telemetry.h>

#include "pfrag.h"

static void
list_one(struct pfrag_pool *pool, void *arg)
{
	rte_tel_data_add_array_string(arg, pool->name);
}

static int
telemetry_list(const char *cmd __rte_unused, const char *params __rte_unused,
	       struct rte_tel_data *d)
{
	rte_tel_data_start_array(d, RTE_TEL_STRING_VAL);
	pfrag_pool_walk(list_one, d);
	return 0;
}

struct find_arg {
	const char *name;
	struct pfrag_pool *pool;
	unsigned int count;
};

static void
find_one(struct pfrag_pool *pool, void *arg)
{
	struct find_arg *f = arg;

	f->count++;
	if (f->name == NULL ? f->count == 1 : strcmp(pool->name, f->name) == 0)
		f->pool = pool;
}

#define ADD_U64(d, s, field) rte_tel_data_add_dict_u64(d, #field, (s)->field)

static int
telemetry_stats(const char *cmd __rte_unused, const char *params, struct rte_tel_data *d)
{
	struct find_arg f = { .name = params != NULL && params[0] != '\0' ? params : NULL };
	struct pfrag_pool_info info;

	pfrag_pool_walk(find_one, &f);
	/* Without a name, only an unambiguous single pool will do. */
	if (f.pool == NULL || (f.name == NULL && f.count != 1))
		return -EINVAL;
	pfrag_pool_info_get(f.pool, &info);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "name", f.pool->name);
	rte_tel_data_add_dict_int(d, "socket_id", f.pool->socket_id);
	ADD_U64(d, &info, page_size);
	ADD_U64(d, &info, nb_pages);
	ADD_U64(d, &info, pages_in_use);
	ADD_U64(d, &info, pages_free);
	ADD_U64(d, &info, frags_out);
	ADD_U64(d, &info, user_caches);
	ADD_U64(d, &info.stats, alloc);
	ADD_U64(d, &info.stats, alloc_fail);
	ADD_U64(d, &info.stats, free);
	ADD_U64(d, &info.stats, drained);
	ADD_U64(d, &info.stats, refill);
	ADD_U64(d, &info.stats, reuse);
	ADD_U64(d, &info.stats, page_get);
	ADD_U64(d, &info.stats, page_put);
	ADD_U64(d, &info.stats, ring_get);
	ADD_U64(d, &info.stats, ring_put);
	ADD_U64(d, &info.stats, empty);
	ADD_U64(d, &info.stats, bad_free);
	return 0;
}

RTE_INIT(pfrag_telemetry_init)
{
	rte_telemetry_register_cmd("/pfrag/list", telemetry_list,
				   "Returns the names of the pfrag pools. Takes no parameters");
	rte_telemetry_register_cmd("/pfrag/stats", telemetry_stats,
				   "Returns a pfrag pool's figures. Parameters: pool name");
}

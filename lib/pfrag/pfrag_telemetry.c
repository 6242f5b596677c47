/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Telemetry: /pfrag/list names the pools, /pfrag/stats,<name> gives one
 * pool's figures (the only pool when the name is left out). Telemetry runs
 * on its own thread: every look at a pool happens inside pfrag_pool_walk(),
 * under the pool table's lock, so that no pool is freed meanwhile; what is
 * replied is a copy.
 */

#include <string.h>

#include <rte_common.h>
#include <rte_string_fns.h>
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
	const char *want;        /* NULL: the only pool */
	unsigned int count;
	int found;
	char name[PFRAG_NAMESIZE];
	int socket_id;
	struct pfrag_pool_info info;
};

static void
find_one(struct pfrag_pool *pool, void *arg)
{
	struct find_arg *f = arg;

	f->count++;
	if (f->want == NULL ? f->count != 1 : strcmp(pool->name, f->want) != 0)
		return;
	/* Copy what the reply needs while the table lock keeps the pool. */
	f->found = pfrag_pool_info_get(pool, &f->info) == 0;
	strlcpy(f->name, pool->name, sizeof(f->name));
	f->socket_id = pool->socket_id;
}

#define ADD_U64(d, s, field) rte_tel_data_add_dict_u64(d, #field, (s)->field)

static int
telemetry_stats(const char *cmd __rte_unused, const char *params, struct rte_tel_data *d)
{
	struct find_arg f = { .want = params != NULL && params[0] != '\0' ? params : NULL };
	const struct pfrag_pool_info *info = &f.info;

	pfrag_pool_walk(find_one, &f);
	/* Without a name, only an unambiguous single pool will do. */
	if (!f.found || (f.want == NULL && f.count != 1))
		return -EINVAL;
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "name", f.name);
	rte_tel_data_add_dict_int(d, "socket_id", f.socket_id);
	ADD_U64(d, info, page_size);
	ADD_U64(d, info, nb_pages);
	ADD_U64(d, info, pages_in_use);
	ADD_U64(d, info, pages_free);
	ADD_U64(d, info, pages_lost);
	ADD_U64(d, info, frags_out);
	ADD_U64(d, info, user_caches);
#define ADD_COUNTER(name, desc) ADD_U64(d, &info->stats, name);
	PFRAG_STATS_LIST(ADD_COUNTER)
#undef ADD_COUNTER
	return 0;
}

RTE_INIT(pfrag_telemetry_init)
{
	rte_telemetry_register_cmd("/pfrag/list", telemetry_list,
				   "Returns the names of the pfrag pools. Takes no parameters");
	rte_telemetry_register_cmd("/pfrag/stats", telemetry_stats,
				   "Returns a pfrag pool's figures. Parameters: pool name");
}

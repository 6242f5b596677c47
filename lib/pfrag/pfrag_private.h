/* SPDX-License-Identifier: BSD-3-Clause */

#ifndef _PFRAG_PRIVATE_H_
#define _PFRAG_PRIVATE_H_

#include <rte_log.h>

#include "pfrag.h"

extern int pfrag_logtype;

#define PFRAG_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_ ## level, pfrag_logtype, "pfrag: " fmt "\n", ##__VA_ARGS__)

/*
 * Event counters (PFRAG_STATS_EVENTS in pfrag.h) are counted through these,
 * so that a build with -Devent_stats=false compiles them out; the books
 * (PFRAG_STATS_BOOKS) are written directly, always. _SHARED: a counter more
 * than one thread writes (the cache of non-EAL threads).
 */
#if PFRAG_EVENT_STATS
#define PFRAG_EVENT_ADD(st, name, n) ((void)((st)->name += (n)))
#define PFRAG_EVENT_ADD_SHARED(st, name, n) \
	((void)__atomic_fetch_add(&(st)->name, (n), __ATOMIC_RELAXED))
#else
#define PFRAG_EVENT_ADD(st, name, n) ((void)(st))
#define PFRAG_EVENT_ADD_SHARED(st, name, n) ((void)(st))
#endif

/*
 * Debug checks of pages moving in and out of the pool (PFRAG_DEBUG): free
 * pages are poisoned with PFRAG_POISON, a page leaving must still be. They
 * compile to nothing otherwise, as the fast path's hooks in pfrag_core.h.
 */
#if PFRAG_DEBUG
void pfrag_dbg_poison(struct pfrag_page *page);
void pfrag_dbg_check_poison(struct pfrag_page *page);
#define PFRAG_DBG_POISON(page) pfrag_dbg_poison(page)
#define PFRAG_DBG_CHECK_POISON(page) pfrag_dbg_check_poison(page)
#else
#define PFRAG_DBG_POISON(page) ((void)0)
#define PFRAG_DBG_CHECK_POISON(page) ((void)0)
#endif

#endif /* _PFRAG_PRIVATE_H_ */

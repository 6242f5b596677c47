/* SPDX-License-Identifier: BSD-3-Clause */

#ifndef _PFRAG_MEMPOOL_PRIVATE_H_
#define _PFRAG_MEMPOOL_PRIVATE_H_

/*
 * State of the "pfrag" mempool ops, shared by the ops and the convenience
 * calls. Each populated memory chunk is cut into pages of page_size bytes,
 * aligned to page_size, so that an object finds its page by masking its
 * address (as DPDK's bucket driver finds its buckets). A page is
 *
 *   [ struct pfrag_mp_page | object slot 0 | slot 1 | ... | unused tail ]
 *
 * and an object slot is what the mempool library lays out: header, object,
 * trailer; at most 64 slots a page. The page's word `out` has a bit per slot
 * taken: a dequeue claims slots with one atomic OR per page, a free gives a
 * run of slots of one page back with one atomic AND. An lcore owns one page
 * at a time and claims from it first, in address order. A page is `listed`
 * while an lcore owns it or it waits in the ring of free pages; the first
 * free into a page nobody lists lists it again; with the ring empty, a
 * dequeue claims the free slots of pages other lcores own. So every object
 * given back can be handed out again, by any lcore, and a pool of n objects
 * always gives n (what a mempool promises, and DPDK's own tests check).
 */

#include <stdint.h>

#include <rte_common.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_mempool.h>
#include <rte_ring.h>
#include <rte_spinlock.h>

#include "pfrag.h"
#include "pfrag_mempool.h"

extern int pfrag_mempool_logtype;

#define MP_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_ ## level, pfrag_mempool_logtype, \
		"pfrag_mempool: " fmt "\n", ##__VA_ARGS__)

#define PFRAG_MP_PAGE_HDR PFRAG_MEMPOOL_PAGE_HDR

struct pfrag_mp;

/* Page descriptor, in the page's first cache line. */
struct pfrag_mp_page {
	uint64_t out;             /* bit i: slot i taken (or held by the owner) */
	uint64_t all;             /* bits of the slots this page has */
	uint32_t listed;          /* owned by an lcore, or in the ring */
	uint32_t nb_objs;         /* slots of this page */
	struct pfrag_mp *pm;      /* owner: foreign objects are refused */
	struct pfrag_mp_page *next; /* a free page in a dequeue's list */
} __rte_cache_aligned;

/* Listed pages an lcore keeps in front of the ring of free pages. */
#define PFRAG_MP_STASH 8

/* Most slots a page has: one bit each in a 64-bit word. */
#define PFRAG_MP_MAX_SLOTS 64

/* Counters of one lcore; only that lcore writes them. */
struct pfrag_mp_stats {
	uint64_t alloc;           /* objects handed out */
	uint64_t free;            /* objects given back */
	uint64_t page_get;        /* pages taken from the ring */
	uint64_t page_drop;       /* pages let go with every slot out */
	uint64_t page_list;       /* pages put (back) in the ring */
	uint64_t empty;           /* dequeues refused */
	uint64_t stolen;          /* objects claimed from other lcores' pages */
	uint64_t bad;             /* foreign objects, double frees: refused */
};

/* What one lcore (or, under the lock, every non-EAL thread) owns. */
struct pfrag_mp_cache {
	struct pfrag_mp_page *page;   /* page owned, NULL when none */
	uint64_t free_bits;           /* slots of that page believed free (a hint) */
	uint32_t stash_len;
	struct pfrag_mp_stats stats;
	/* Listed pages kept in front of the ring; others may claim from them. */
	struct pfrag_mp_page *stash[PFRAG_MP_STASH];
} __rte_cache_aligned;

/* What the ops keep per mempool, in mp->pool_data. */
struct pfrag_mp {
	struct rte_mempool *mp;
	uint32_t page_size;
	uintptr_t page_mask;
	uint32_t stride;              /* header + object + trailer */
	uint32_t per_page;            /* slots a whole page holds */
	uint32_t obj_off;             /* first object from the page start */
	uint32_t nb_pages;            /* pages populated */
	uint64_t populated;           /* objects populated */
	struct pfrag_pool *pool;      /* pfrag pool given as pool_config, or NULL */
	struct rte_ring *free_pages;  /* listed pages nobody owns, MP/MC */
	rte_spinlock_t any_lock;
	struct pfrag_mp_cache any;    /* non-EAL threads, under any_lock */
	struct pfrag_mp_cache lc[RTE_MAX_LCORE];
};

/** Name check, shared by the ops and the convenience calls. */
int pfrag_mp_owned(const struct rte_mempool *mp);

/** Hand back the pages the lcores own (control path). */
void pfrag_mp_flush(struct pfrag_mp *pm);

/**
 * Flush everything back (control path) and log whether every object is in
 * the pool: INFO when so, ERR with the count otherwise. @p when goes into
 * the line ("freed", "at exit"). @return 0, or -EBUSY when objects are out.
 */
int pfrag_mp_report(struct rte_mempool *mp, const char *when);

/** The ops' get_count: objects a dequeue can take now. */
unsigned int pfrag_mp_get_count(const struct rte_mempool *mp);

/** Objects handed out and not given back (exact when quiescent). */
uint64_t pfrag_mp_out(const struct pfrag_mp *pm);

#endif /* _PFRAG_MEMPOOL_PRIVATE_H_ */

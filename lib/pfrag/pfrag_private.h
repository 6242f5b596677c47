/* SPDX-License-Identifier: BSD-3-Clause */

#ifndef _PFRAG_PRIVATE_H_
#define _PFRAG_PRIVATE_H_

#include <rte_log.h>

#include "pfrag.h"

extern int pfrag_logtype;

#define PFRAG_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_ ## level, pfrag_logtype, "pfrag: " fmt "\n", ##__VA_ARGS__)

/** Byte written over pages that are back in the pool (debug builds). */
#define PFRAG_POISON 0x6b

#if PFRAG_DEBUG
void pfrag_dbg_poison(struct pfrag_page *page);
void pfrag_dbg_check_poison(struct pfrag_page *page);
#endif

#endif /* _PFRAG_PRIVATE_H_ */

/* SPDX-License-Identifier: BSD-3-Clause */

#ifndef _TEST_PFRAG_LOGCAP_H_
#define _TEST_PFRAG_LOGCAP_H_

/*
 * Log capture for units that assert what is logged (or that nothing is):
 * while started, every rte_log message goes into a buffer with its level,
 * from any thread, and is echoed to stdout unless capture is quiet.
 */

/** Start capturing; @p echo: also print each message. */
int logcap_start(int echo);
/** Stop and go back to the previous log stream. */
void logcap_stop(void);
/** Messages at @p level or more severe (RTE_LOG_WARNING: warnings and errors). */
unsigned int logcap_count_level(unsigned int level);
/** Messages at @p level or more severe whose text contains @p needle. */
unsigned int logcap_count_level_match(unsigned int level, const char *needle);
/** Messages whose text contains @p needle. */
unsigned int logcap_count(const char *needle);
/** Forget what was captured so far. */
void logcap_clear(void);
/** Print the severe (<= @p level) messages captured, for a failure report. */
void logcap_dump(unsigned int level);

#endif /* _TEST_PFRAG_LOGCAP_H_ */

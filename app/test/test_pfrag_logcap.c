/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Log capture for pfrag-test units: a fopencookie stream given to
 * rte_openlog_stream(). rte_log formats a whole message per call; the stream
 * is line-buffered, so each write is one message of the calling thread, and
 * rte_log_cur_msg_loglevel() still gives its level.
 */

#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_log.h>
#include <rte_spinlock.h>

#include "test_pfrag_logcap.h"

#define LOGCAP_MAX 4096
#define LOGCAP_LEN 200

struct logcap_msg {
	unsigned int level;
	char text[LOGCAP_LEN];
};

static struct logcap_msg msgs[LOGCAP_MAX];
static unsigned int nb_msgs;
static unsigned int dropped;
static rte_spinlock_t lock = RTE_SPINLOCK_INITIALIZER;
static FILE *stream;
static FILE *previous;
static int echo_msgs;

static ssize_t
logcap_write(void *cookie __rte_unused, const char *buf, size_t size)
{
	unsigned int level = (unsigned int)rte_log_cur_msg_loglevel();
	size_t len = RTE_MIN(size, (size_t)LOGCAP_LEN - 1);

	rte_spinlock_lock(&lock);
	if (nb_msgs < LOGCAP_MAX) {
		msgs[nb_msgs].level = level;
		memcpy(msgs[nb_msgs].text, buf, len);
		msgs[nb_msgs].text[len] = '\0';
		nb_msgs++;
	} else {
		dropped++;
	}
	rte_spinlock_unlock(&lock);
	if (echo_msgs)
		printf("[log %u] %.*s", level, (int)size, buf);
	return size;
}

int
logcap_start(int echo)
{
	static cookie_io_functions_t io = { .write = logcap_write };

	logcap_clear();
	echo_msgs = echo;
	stream = fopencookie(NULL, "w", io);
	if (stream == NULL)
		return -1;
	setvbuf(stream, NULL, _IOLBF, 1024);
	previous = rte_log_get_stream();
	return rte_openlog_stream(stream);
}

void
logcap_stop(void)
{
	if (stream == NULL)
		return;
	rte_openlog_stream(previous);
	fclose(stream);
	stream = NULL;
}

void
logcap_clear(void)
{
	rte_spinlock_lock(&lock);
	nb_msgs = 0;
	dropped = 0;
	rte_spinlock_unlock(&lock);
}

unsigned int
logcap_count_level(unsigned int level)
{
	unsigned int i, n = 0;

	rte_spinlock_lock(&lock);
	for (i = 0; i < nb_msgs; i++)
		n += msgs[i].level <= level;
	rte_spinlock_unlock(&lock);
	return n;
}

unsigned int
logcap_count_level_match(unsigned int level, const char *needle)
{
	unsigned int i, n = 0;

	rte_spinlock_lock(&lock);
	for (i = 0; i < nb_msgs; i++)
		n += msgs[i].level <= level && strstr(msgs[i].text, needle) != NULL;
	rte_spinlock_unlock(&lock);
	return n;
}

unsigned int
logcap_count(const char *needle)
{
	unsigned int i, n = 0;

	rte_spinlock_lock(&lock);
	for (i = 0; i < nb_msgs; i++)
		n += strstr(msgs[i].text, needle) != NULL;
	rte_spinlock_unlock(&lock);
	return n;
}

void
logcap_dump(unsigned int level)
{
	unsigned int i;

	rte_spinlock_lock(&lock);
	for (i = 0; i < nb_msgs; i++)
		if (msgs[i].level <= level)
			printf("  logged (level %u): %s", msgs[i].level, msgs[i].text);
	if (dropped > 0)
		printf("  (%u more messages not kept)\n", dropped);
	rte_spinlock_unlock(&lock);
}

/* SPDX-License-Identifier: MIT */
/*
 * The log module: formats a line and writes it to stderr or syslog. Called by
 * every part; calls only libc.
 */
#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

static enum log_level log_max = LOG_LVL_INFO;
static bool log_syslog;
static const char *log_prog;

void log_set_level(enum log_level lvl)
{
	log_max = lvl;
}

void log_use_syslog(const char *ident)
{
	openlog(ident, LOG_PID, LOG_DAEMON);
	log_syslog = true;
}

void log_set_prog(const char *prog)
{
	log_prog = prog;
}

bool log_enabled(enum log_level lvl)
{
	return lvl <= log_max;
}

__attribute__((format(printf, 3, 0))) static void log_vemit(enum log_level lvl, int err,
							    const char *fmt, va_list ap)
{
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	static const char *const tag[] = { "error: ", "warning: ", "", "debug: " };
	char line[1024];
	size_t n;

	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	if (err > 0 && n < sizeof(line))
		snprintf(line + n, sizeof(line) - n, ": %s", strerror(err));
	if (log_syslog) {
		syslog(prio[lvl], "%s", line);
		return;
	}
	fprintf(stderr, "%s%s%s%s\n", log_prog ? log_prog : "", log_prog ? ": " : "", tag[lvl],
		line);
}

void log_emit(enum log_level lvl, int err, const char *fmt, ...)
{
	va_list ap;

	if (!log_enabled(lvl))
		return;
	va_start(ap, fmt);
	log_vemit(lvl, err, fmt, ap);
	va_end(ap);
}

int log_errno(enum log_level lvl, int r, const char *fmt, ...)
{
	va_list ap;

	if (!log_enabled(lvl))
		return r;
	va_start(ap, fmt);
	log_vemit(lvl, r < 0 ? -r : r, fmt, ap);
	va_end(ap);
	return r;
}

bool log_ratelimit(uint64_t *state, uint64_t now_ms)
{
	if (*state && now_ms - *state < 1000)
		return false;
	*state = now_ms ? now_ms : 1;
	return true;
}

/* SPDX-License-Identifier: MIT */
/*
 * Logging for every part: one line per event on stderr (or syslog for a
 * daemon), "subject: problem, consequence". The _errno forms append
 * strerror(-r) and return 'r' so a caller can log and return in one step.
 * The level and sink are the only mutable globals outside main() files.
 */
#ifndef VSWITCH_COMMON_LOG_H
#define VSWITCH_COMMON_LOG_H

#include <stdbool.h>
#include <stdint.h>

enum log_level {
	LOG_LVL_ERROR,
	LOG_LVL_WARN,
	LOG_LVL_INFO,
	LOG_LVL_DEBUG,
};

/* Sets the most verbose level printed (default LOG_LVL_INFO). */
void log_set_level(enum log_level lvl);

/* Sends lines to syslog under 'ident' (kept) instead of stderr. */
void log_use_syslog(const char *ident);

/* Prefixes stderr lines with 'prog: ' ('prog' kept; NULL for none). */
void log_set_prog(const char *prog);

/* Prints one line at 'lvl'; 'err' > 0 appends ": strerror(err)". */
void log_emit(enum log_level lvl, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* log_emit() with strerror(-r) appended; returns 'r' (a negative errno). */
int log_errno(enum log_level lvl, int r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Whether a message at 'lvl' would be printed (to skip costly formatting). */
bool log_enabled(enum log_level lvl);

/*
 * Rate limiter for per-packet messages: at most one line per second per
 * 'state' (STYLE.md §6). Returns true when the caller may log; 'now_ms' is
 * a monotonic clock in milliseconds.
 */
bool log_ratelimit(uint64_t *state, uint64_t now_ms);

#define log_error(...) log_emit(LOG_LVL_ERROR, 0, __VA_ARGS__)
#define log_warn(...)  log_emit(LOG_LVL_WARN, 0, __VA_ARGS__)
#define log_info(...)  log_emit(LOG_LVL_INFO, 0, __VA_ARGS__)
#define log_debug(...)                                                                             \
	do {                                                                                       \
		if (log_enabled(LOG_LVL_DEBUG))                                                    \
			log_emit(LOG_LVL_DEBUG, 0, __VA_ARGS__);                                   \
	} while (0)

/* Log with strerror(-r) appended; evaluate to 'r' (a negative errno). */
#define log_error_errno(r, ...) log_errno(LOG_LVL_ERROR, (r), __VA_ARGS__)
#define log_warn_errno(r, ...)	log_errno(LOG_LVL_WARN, (r), __VA_ARGS__)
#define log_info_errno(r, ...)	log_errno(LOG_LVL_INFO, (r), __VA_ARGS__)
#define log_debug_errno(r, ...) log_errno(LOG_LVL_DEBUG, (r), __VA_ARGS__)

#endif

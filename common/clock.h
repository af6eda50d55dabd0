/* SPDX-License-Identifier: MIT */
/*
 * The monotonic clock in the units the event loop, the rate limits and the
 * timers use. One definition for every part; CLOCK_MONOTONIC never jumps
 * with the wall clock.
 */
#ifndef VSWITCH_COMMON_CLOCK_H
#define VSWITCH_COMMON_CLOCK_H

#include <errno.h>
#include <stdint.h>
#include <time.h>

/* Milliseconds of CLOCK_MONOTONIC. */
static inline uint64_t clock_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Microseconds of CLOCK_MONOTONIC. */
static inline uint64_t clock_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Sleeps 'us' microseconds, the whole of them even when a signal interrupts. */
static inline void clock_sleep_us(uint64_t us)
{
	struct timespec ts = { .tv_sec = (time_t)(us / 1000000u),
			       .tv_nsec = (long)(us % 1000000u) * 1000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

#endif

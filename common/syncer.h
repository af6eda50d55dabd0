/* SPDX-License-Identifier: MIT */
/*
 * Background fdatasync() for group commit. The owner appends records to a
 * file from its event loop, numbers them, and asks the syncer to make
 * everything up to record N durable; a helper thread runs fdatasync() while
 * the loop goes on, so every record appended during one sync rides on the
 * next. Completion is signalled on an eventfd the loop watches. Used by the
 * DHCP lease journal; depends on libc only.
 */
#ifndef VSWITCH_COMMON_SYNCER_H
#define VSWITCH_COMMON_SYNCER_H

#include <stdint.h>

struct syncer;

/*
 * Starts a syncer for 'fd' (borrowed: must stay open until syncer_free()).
 * Returns 0, -ENOMEM, or -errno from eventfd()/pthread_create().
 */
int syncer_new(struct syncer **ret, int fd);

/* Stops the thread after its current sync, closes the eventfd. Accepts NULL. */
void syncer_free(struct syncer *s);

/*
 * Asks that records up to 'seq' (a count that only grows) become durable.
 * Never blocks on I/O. A later call with a higher 'seq' supersedes.
 */
void syncer_request(struct syncer *s, uint64_t seq);

/* The eventfd that becomes readable when a sync has completed. */
int syncer_fd(const struct syncer *s);

/*
 * Clears the eventfd and returns the highest durable 'seq' so far. If a sync
 * failed, returns -errno once (the failing records stay not durable; a later
 * request retries).
 */
int64_t syncer_collect(struct syncer *s);

/*
 * Points the syncer at another fd (borrowed), e.g. after the file was
 * rewritten and renamed. Only while no request is outstanding.
 */
void syncer_set_fd(struct syncer *s, int fd);

/* Highest durable 'seq' without touching the eventfd. */
uint64_t syncer_durable(struct syncer *s);

#endif

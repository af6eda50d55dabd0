/* SPDX-License-Identifier: MIT */
/*
 * The DHCP server's lease file: an append-only journal of lease records with
 * group commit and periodic compaction. The endpoint glue opens it, restores
 * its records into the server, passes dhcp_lease_file_put() as the server's
 * store, and calls dhcp_lease_file_sync() once per event-loop iteration
 * before releasing the ACKs that waited for it. Calls libc file I/O and the
 * log module; knows nothing of the server or the switch.
 *
 * Format (docs/dhcp.md): UTF-8 text, one record per line, later lines for an
 * address replacing earlier ones:
 *   L <addr> <mac> <state> <expires-unix-secs> <client-id hex|-> <hostname|-> <crc32 hex>
 * where the CRC-32 (IEEE) covers the line up to the space before it. Lines
 * starting with '#' are comments. A line that is incomplete (no newline: the
 * tail torn by a crash) or fails its CRC is skipped with a warning; every
 * complete line before and after it counts.
 *
 * Durability: put() only queues a line in memory; sync() writes the queue
 * and fsyncs once for all the clients queued since the last sync (group
 * commit). Compaction writes every live record to "<path>.tmp", fsyncs it,
 * renames it over the journal and fsyncs the directory, so a crash at any
 * point leaves either the old journal or the new one.
 */
#ifndef VSWITCH_DHCPD_DHCP_LEASE_FILE_H
#define VSWITCH_DHCPD_DHCP_LEASE_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dhcpd/dhcp_pool.h"

#define DHCP_LEASE_FILE_RECORDS_MAX DHCP_POOL_ADDRS_MAX /* addresses recorded; more is -E2BIG */
#define DHCP_LEASE_FILE_BYTES_MAX   (64u << 20)		/* journal size read at open */
#define DHCP_LEASE_FILE_QUEUE_LEN   (64u << 10)		/* queued bytes before an early write */

struct dhcp_lease_file_stats {
	uint64_t n_puts;   /* records queued */
	uint64_t n_fsyncs; /* fsync() calls on the journal (group commits) */
	uint64_t n_compactions;
	uint64_t n_bad_lines; /* complete lines skipped at open (CRC or syntax) */
	bool torn_tail;	      /* the journal ended in an incomplete line at open */
};

struct dhcp_lease_file;

/*
 * Opens (creating if needed) the journal at 'path' (copied), reads every
 * record, and compacts it so that a torn tail is gone before anything is
 * appended. Room for 'n_hint' addresses (the pool size) is allocated now, so
 * that put() allocates nothing on the packet path. Corrupt lines are skipped with one warning.
 * Returns 0; -E2BIG if the file is larger than DHCP_LEASE_FILE_BYTES_MAX or holds more than
 * DHCP_LEASE_FILE_RECORDS_MAX addresses; -ENOMEM; or the -errno of a
 * failing open/read/write/fsync/rename (logged).
 */
int dhcp_lease_file_open(struct dhcp_lease_file **ret, const char *path, size_t n_hint,
			 uint64_t now_us);

/* Closes the journal without syncing (a crash loses only what was not synced). Accepts NULL. */
void dhcp_lease_file_free(struct dhcp_lease_file *lf);

/*
 * Queues record 'l' (borrowed; copied). Usable as a dhcp_store put() with
 * the file as ctx. Returns 0, -E2BIG past DHCP_LEASE_FILE_RECORDS_MAX
 * addresses, -ENOMEM, or the -errno of an early write when the queue is full.
 */
int dhcp_lease_file_put(void *lf, const struct dhcp_lease *l);

/* Whether records are queued that a sync would make durable. */
bool dhcp_lease_file_pending(const struct dhcp_lease_file *lf);

/*
 * Makes every queued record durable with one fsync (or a compaction when the
 * journal has grown past twice the live records, or after a failed write).
 * A no-op when nothing is queued. Returns 0 or -errno (logged); on failure
 * the records stay queued and the next sync compacts.
 */
int dhcp_lease_file_sync(struct dhcp_lease_file *lf, uint64_t now_us);

/*
 * The first half of a sync, for syncing elsewhere (common/syncer.h): writes
 * the queued records to the journal without fsync. When 'may_compact' and
 * the journal has grown past twice the live records or a write failed, it
 * compacts instead (durable on return) and returns 1. Returns 0 otherwise,
 * -EIO while a compaction is due but not allowed, or -errno (logged).
 */
int dhcp_lease_file_write(struct dhcp_lease_file *lf, uint64_t now_us, bool may_compact);

/*
 * Whether a compaction is due (the journal holds more than twice the live
 * records and 1,024 lines, or a write failed), or with 'urgent_only' whether
 * it can wait no longer (eight times). Callers compact early only when quiet.
 */
bool dhcp_lease_file_compact_due(const struct dhcp_lease_file *lf, bool urgent_only);

/* The journal's fd, to sync after dhcp_lease_file_write(); changes on compaction. */
int dhcp_lease_file_fd(const struct dhcp_lease_file *lf);

/* Records that syncing the journal failed: the next write compacts. */
void dhcp_lease_file_sync_failed(struct dhcp_lease_file *lf);

/*
 * Rewrites the journal with one line per live record (withheld addresses
 * whose time ran out at 'now_us' are dropped): write-temp + fsync + rename +
 * directory fsync. Queued records are included, so it also syncs them.
 * Returns 0 or -errno (logged).
 */
int dhcp_lease_file_compact(struct dhcp_lease_file *lf, uint64_t now_us);

/* Calls 'fn' for every record, in no particular order. */
void dhcp_lease_file_foreach(const struct dhcp_lease_file *lf,
			     void (*fn)(const struct dhcp_lease *l, void *arg), void *arg);

/* Records held (one per address). */
size_t dhcp_lease_file_count(const struct dhcp_lease_file *lf);

const struct dhcp_lease_file_stats *dhcp_lease_file_stats(const struct dhcp_lease_file *lf);

/*
 * Formats 'l' as one journal line with its newline into 'buf' ('cap' >= 512).
 * Returns the length, or 0 when 'cap' is smaller. Exposed for tests and tools.
 */
size_t dhcp_lease_file_format(const struct dhcp_lease *l, char *buf, size_t cap);

/* Parses one line ('len' bytes, no newline) into 'ret'. 0 or -EBADMSG. */
int dhcp_lease_file_parse_line(const char *line, size_t len, struct dhcp_lease *ret);

#endif

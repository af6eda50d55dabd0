/* SPDX-License-Identifier: MIT */
/*
 * The MAC table (forwarding database) of one network: MAC+VLAN -> port, with
 * aging, a hard cap for the network and a per-port share of it, so a port
 * flooding random source MACs can neither grow memory nor push out the other
 * ports' entries. Pure: time comes in as arguments, memory is allocated once
 * in fdb_new(). Used only by the switch core.
 */
#ifndef VSWITCH_FDB_H
#define VSWITCH_FDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fdb;
struct port;

/*
 * Creates a table of at most 'max' entries (1..FDB_MAX_ENTRIES) of which one
 * port may hold at most 'port_max' (1..max). 'seed' keys the hash so that
 * remote hosts cannot aim collisions at one bucket. Returns 0, -EINVAL, -ENOMEM.
 */
#define FDB_MAX_ENTRIES (1u << 20)
int fdb_new(struct fdb **ret, unsigned max, unsigned port_max, uint64_t seed);

/* Frees the table. Accepts NULL. */
void fdb_free(struct fdb *fdb);

enum {
	FDB_LEARNED = 0,   /* new entry */
	FDB_REFRESHED = 1, /* known on this port; age reset */
	FDB_MOVED = 2,	   /* known on another port; now on 'p' */
};

/* What one port may do to the table (port security); all zero: no more than the table allows. */
struct fdb_limits {
	unsigned port_max; /* entries the port may hold (max-macs); 0 = its share of the table */
	bool no_takeover;  /* a MAC known on another port stays there */
};

/*
 * Records that 'mac' on 'vlan' was seen on 'p' (kept: the caller flushes the
 * port's entries before the port goes away) at 'now_ms', within 'lim'
 * (borrowed; NULL = no limits). Updates p->n_fdb. Returns FDB_LEARNED,
 * FDB_REFRESHED, FDB_MOVED; -E2BIG when the table or the port's share is
 * full (a moving MAC is then forgotten, so its frames flood rather than go
 * to the old port); and, leaving the table as it was, -EDQUOT when 'mac' is
 * new to 'p' and 'p' holds lim->port_max entries, or -EPERM when 'mac' is
 * known on another port and lim->no_takeover is set.
 */
int fdb_learn(struct fdb *fdb, const uint8_t mac[6], uint16_t vlan, struct port *p, uint64_t now_ms,
	      const struct fdb_limits *lim);

/* The port 'mac' on 'vlan' was learned on, or NULL. */
struct port *fdb_lookup(const struct fdb *fdb, const uint8_t mac[6], uint16_t vlan);

/* Forgets every entry of 'p'. */
void fdb_flush_port(struct fdb *fdb, const struct port *p);

/* Forgets entries not seen for more than 'max_idle_ms'; returns how many. */
unsigned fdb_age(struct fdb *fdb, uint64_t now_ms, uint64_t max_idle_ms);

/* Number of entries. */
size_t fdb_count(const struct fdb *fdb);

/* Calls 'fn' for each entry (no changes to the table from inside 'fn'). */
void fdb_foreach(const struct fdb *fdb,
		 void (*fn)(const uint8_t mac[6], uint16_t vlan, struct port *p,
			    uint64_t last_seen_ms, void *arg),
		 void *arg);

#endif

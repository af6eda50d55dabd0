/* SPDX-License-Identifier: MIT */
/*
 * MAC table: a chained hash over a fixed array of entries allocated once.
 * Free entries form a list threaded through 'next', so learning and
 * forgetting never allocate. Buckets are a power of two at least twice the
 * entry count, keeping chains short; the key is hashed with a per-table seed.
 */
#include "vswitch/fdb.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "vswitch/port.h"

#define FDB_NIL UINT32_MAX

struct fdb_entry {
	uint8_t mac[6];
	uint16_t vlan;
	struct port *port;     /* NULL when free */
	uint64_t last_seen_ms; /* monotonic */
	uint32_t next;	       /* next in bucket chain or free list, FDB_NIL ends */
};

struct fdb {
	struct fdb_entry *entries; /* 'max' of them */
	uint32_t *buckets;	   /* head index per bucket */
	uint32_t bucket_mask;	   /* n_buckets - 1 */
	uint32_t free_head;
	unsigned max, port_max;
	size_t count;
	uint64_t seed;
};

static uint32_t fdb_hash(const struct fdb *fdb, const uint8_t mac[6], uint16_t vlan)
{
	uint64_t k = 0;

	memcpy(&k, mac, 6);
	k ^= (uint64_t)vlan << 48;
	k ^= fdb->seed;
	/* splitmix64 finaliser: cheap and mixes every input bit into the low bits */
	k = (k ^ (k >> 30)) * 0xbf58476d1ce4e5b9ull;
	k = (k ^ (k >> 27)) * 0x94d049bb133111ebull;
	k ^= k >> 31;
	return (uint32_t)k & fdb->bucket_mask;
}

int fdb_new(struct fdb **ret, unsigned max, unsigned port_max, uint64_t seed)
{
	struct fdb *fdb;
	uint32_t n_buckets = 16;

	if (max < 1 || max > FDB_MAX_ENTRIES || port_max < 1 || port_max > max)
		return -EINVAL;
	while (n_buckets < 2 * max)
		n_buckets <<= 1;
	fdb = calloc(1, sizeof(*fdb));
	if (!fdb)
		return -ENOMEM;
	fdb->entries = calloc(max, sizeof(*fdb->entries));
	fdb->buckets = malloc(n_buckets * sizeof(*fdb->buckets));
	if (!fdb->entries || !fdb->buckets) {
		fdb_free(fdb);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < n_buckets; i++)
		fdb->buckets[i] = FDB_NIL;
	for (uint32_t i = 0; i < max; i++)
		fdb->entries[i].next = i + 1 < max ? i + 1 : FDB_NIL;
	fdb->free_head = 0;
	fdb->bucket_mask = n_buckets - 1;
	fdb->max = max;
	fdb->port_max = port_max;
	fdb->seed = seed;
	*ret = fdb;
	return 0;
}

void fdb_free(struct fdb *fdb)
{
	if (!fdb)
		return;
	free(fdb->entries);
	free(fdb->buckets);
	free(fdb);
}

/* Index of the entry for the key, with the link that points at it, or FDB_NIL. */
static uint32_t fdb_find(const struct fdb *fdb, const uint8_t mac[6], uint16_t vlan,
			 uint32_t **ret_link)
{
	uint32_t *link = &fdb->buckets[fdb_hash(fdb, mac, vlan)];

	while (*link != FDB_NIL) {
		struct fdb_entry *e = &fdb->entries[*link];

		if (e->vlan == vlan && !memcmp(e->mac, mac, 6)) {
			if (ret_link)
				*ret_link = link;
			return *link;
		}
		link = &e->next;
	}
	return FDB_NIL;
}

/* Unlinks entry 'i' (pointed at by 'link') and returns it to the free list. */
static void fdb_remove(struct fdb *fdb, uint32_t *link, uint32_t i)
{
	struct fdb_entry *e = &fdb->entries[i];

	*link = e->next;
	e->port->n_fdb--;
	e->port = NULL;
	e->next = fdb->free_head;
	fdb->free_head = i;
	fdb->count--;
}

int fdb_learn(struct fdb *fdb, const uint8_t mac[6], uint16_t vlan, struct port *p, uint64_t now_ms,
	      const struct fdb_limits *lim)
{
	uint32_t *link, *head;
	uint32_t i = fdb_find(fdb, mac, vlan, &link);
	struct fdb_entry *e;

	if (i != FDB_NIL) {
		e = &fdb->entries[i];
		if (e->port == p) {
			e->last_seen_ms = now_ms;
			return FDB_REFRESHED;
		}
		if (lim && lim->no_takeover)
			return -EPERM;
		if (lim && lim->port_max && p->n_fdb >= lim->port_max)
			return -EDQUOT;
		if (p->n_fdb >= fdb->port_max) {
			/* Keeping the old port would misdeliver; flooding is safe. */
			fdb_remove(fdb, link, i);
			return -E2BIG;
		}
		e->port->n_fdb--;
		e->port = p;
		p->n_fdb++;
		e->last_seen_ms = now_ms;
		return FDB_MOVED;
	}
	if (lim && lim->port_max && p->n_fdb >= lim->port_max)
		return -EDQUOT;
	if (fdb->free_head == FDB_NIL || p->n_fdb >= fdb->port_max)
		return -E2BIG;
	i = fdb->free_head;
	e = &fdb->entries[i];
	fdb->free_head = e->next;
	memcpy(e->mac, mac, 6);
	e->vlan = vlan;
	e->port = p;
	e->last_seen_ms = now_ms;
	head = &fdb->buckets[fdb_hash(fdb, mac, vlan)];
	e->next = *head;
	*head = i;
	p->n_fdb++;
	fdb->count++;
	return FDB_LEARNED;
}

struct port *fdb_lookup(const struct fdb *fdb, const uint8_t mac[6], uint16_t vlan)
{
	uint32_t i = fdb_find(fdb, mac, vlan, NULL);

	return i == FDB_NIL ? NULL : fdb->entries[i].port;
}

/* Removes every entry for which 'drop' says so; returns how many. */
static unsigned fdb_sweep(struct fdb *fdb, bool (*drop)(const struct fdb_entry *e, const void *arg),
			  const void *arg)
{
	unsigned n = 0;

	for (uint32_t b = 0; b <= fdb->bucket_mask; b++) {
		uint32_t *link = &fdb->buckets[b];

		while (*link != FDB_NIL) {
			uint32_t i = *link;

			if (drop(&fdb->entries[i], arg)) {
				fdb_remove(fdb, link, i);
				n++;
			} else {
				link = &fdb->entries[i].next;
			}
		}
	}
	return n;
}

static bool fdb_is_port(const struct fdb_entry *e, const void *arg)
{
	return e->port == arg;
}

void fdb_flush_port(struct fdb *fdb, const struct port *p)
{
	if (p->n_fdb)
		(void)fdb_sweep(fdb, fdb_is_port, p);
}

struct fdb_age_arg {
	uint64_t now_ms, max_idle_ms;
};

static bool fdb_is_old(const struct fdb_entry *e, const void *arg)
{
	const struct fdb_age_arg *a = arg;

	return a->now_ms > e->last_seen_ms && a->now_ms - e->last_seen_ms > a->max_idle_ms;
}

unsigned fdb_age(struct fdb *fdb, uint64_t now_ms, uint64_t max_idle_ms)
{
	struct fdb_age_arg a = { now_ms, max_idle_ms };

	return fdb->count ? fdb_sweep(fdb, fdb_is_old, &a) : 0;
}

size_t fdb_count(const struct fdb *fdb)
{
	return fdb->count;
}

void fdb_foreach(const struct fdb *fdb,
		 void (*fn)(const uint8_t mac[6], uint16_t vlan, struct port *p,
			    uint64_t last_seen_ms, void *arg),
		 void *arg)
{
	for (uint32_t i = 0; i < fdb->max; i++) {
		const struct fdb_entry *e = &fdb->entries[i];

		if (e->port)
			fn(e->mac, e->vlan, e->port, e->last_seen_ms, arg);
	}
}

/* SPDX-License-Identifier: MIT */
/*
 * The address pool: lease records in one array indexed by address offset, a
 * hash table from client key to record, a cursor over never-used addresses
 * and a short list of withheld addresses. Called by the server only; calls
 * nothing but libc memory functions. See dhcp_pool.h.
 */
#include "dhcpd/dhcp_pool.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define NONE UINT32_MAX

struct dhcp_pool {
	uint32_t first;			      /* host order: first leasable address */
	uint32_t n;			      /* leasable addresses */
	struct dhcp_lease *v;		      /* n records; owned */
	uint32_t *bucket;		      /* n_bucket chain heads; owned */
	uint32_t n_bucket;		      /* power of two */
	uint32_t next_fresh;		      /* below it no address is never-used (see pick()) */
	uint32_t withheld[DHCP_WITHHELD_MAX]; /* record indexes */
	uint32_t n_withheld;
	uint32_t withheld_cap; /* min(DHCP_WITHHELD_MAX, n / 4), at least 1 */
};

static const char *const state_names[DHCP_LEASE_STATE_N] = {
	"free", "offered", "bound", "released", "expired", "declined",
};

const char *dhcp_lease_state_name(unsigned state)
{
	return state < DHCP_LEASE_STATE_N ? state_names[state] : "unknown";
}

int dhcp_pool_new(struct dhcp_pool **ret, uint32_t first_be, uint32_t last_be)
{
	uint32_t first = __builtin_bswap32(first_be), last = __builtin_bswap32(last_be);
	struct dhcp_pool *p;
	uint64_t n;

	if (last < first || last - first < DHCP_POOL_RESERVED)
		return -EINVAL;
	n = (uint64_t)last - first + 1 - DHCP_POOL_RESERVED;
	if (n > DHCP_POOL_ADDRS_MAX)
		return -E2BIG;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->first = first + DHCP_POOL_RESERVED;
	p->n = (uint32_t)n;
	p->n_bucket = 1;
	while (p->n_bucket < p->n)
		p->n_bucket <<= 1;
	p->v = calloc(p->n, sizeof(*p->v));
	p->bucket = malloc(p->n_bucket * sizeof(*p->bucket));
	if (!p->v || !p->bucket) {
		dhcp_pool_free(p);
		return -ENOMEM;
	}
	memset(p->bucket, 0xff, p->n_bucket * sizeof(*p->bucket));
	for (uint32_t i = 0; i < p->n; i++) {
		p->v[i].addr_be = __builtin_bswap32(p->first + i);
		p->v[i].next = NONE;
	}
	p->withheld_cap = p->n / 4 < DHCP_WITHHELD_MAX ? p->n / 4 : DHCP_WITHHELD_MAX;
	if (!p->withheld_cap)
		p->withheld_cap = 1;
	*ret = p;
	return 0;
}

void dhcp_pool_free(struct dhcp_pool *p)
{
	if (!p)
		return;
	free(p->v);
	free(p->bucket);
	free(p);
}

size_t dhcp_pool_size(const struct dhcp_pool *p)
{
	return p->n;
}

struct dhcp_lease *dhcp_pool_lease(struct dhcp_pool *p, uint32_t addr_be)
{
	uint32_t a = __builtin_bswap32(addr_be);

	if (a < p->first || a - p->first >= p->n)
		return NULL;
	return &p->v[a - p->first];
}

void dhcp_pool_exclude(struct dhcp_pool *p, uint32_t addr_be)
{
	struct dhcp_lease *l = dhcp_pool_lease(p, addr_be);

	if (l)
		l->is_excluded = true;
}

int dhcp_pool_set_static(struct dhcp_pool *p, uint32_t addr_be)
{
	struct dhcp_lease *l = dhcp_pool_lease(p, addr_be);

	if (!l)
		return -ENOENT;
	l->is_static = true;
	return 0;
}

/* FNV-1a over a tag byte (client-id or MAC) and the key bytes. */
static uint32_t key_hash(const struct dhcp_key *key)
{
	const uint8_t *b = key->cid_len ? key->cid : key->mac;
	size_t len = key->cid_len ? key->cid_len : 6;
	uint32_t h = 2166136261u;

	h = (h ^ (key->cid_len ? 1u : 0u)) * 16777619u;
	for (size_t i = 0; i < len; i++)
		h = (h ^ b[i]) * 16777619u;
	return h;
}

bool dhcp_pool_is_client(const struct dhcp_lease *l, const struct dhcp_key *key)
{
	if (!l->has_client || l->cid_len != key->cid_len)
		return false;
	if (key->cid_len)
		return !memcmp(l->cid, key->cid, key->cid_len);
	return !memcmp(l->mac, key->mac, 6);
}

struct dhcp_lease *dhcp_pool_find(struct dhcp_pool *p, const struct dhcp_key *key)
{
	uint32_t h = key_hash(key);

	for (uint32_t i = p->bucket[h & (p->n_bucket - 1)]; i != NONE; i = p->v[i].next)
		if (p->v[i].key_hash == h && dhcp_pool_is_client(&p->v[i], key))
			return &p->v[i];
	return NULL;
}

static void unlink_client(struct dhcp_pool *p, struct dhcp_lease *l)
{
	uint32_t idx = (uint32_t)(l - p->v);
	uint32_t *pp = &p->bucket[l->key_hash & (p->n_bucket - 1)];

	if (!l->has_client)
		return;
	while (*pp != NONE && *pp != idx)
		pp = &p->v[*pp].next;
	if (*pp == idx)
		*pp = l->next;
	l->next = NONE;
	l->has_client = false;
	l->cid_len = 0;
	memset(l->mac, 0, sizeof(l->mac));
	l->hostname[0] = '\0';
}

enum dhcp_lease_state dhcp_pool_state(const struct dhcp_lease *l, uint64_t now_us)
{
	switch (l->state) {
	case DHCP_LEASE_OFFERED:
	case DHCP_LEASE_BOUND:
		return now_us >= l->expires_us ? DHCP_LEASE_EXPIRED : l->state;
	case DHCP_LEASE_DECLINED:
		return now_us >= l->expires_us ? DHCP_LEASE_FREE : DHCP_LEASE_DECLINED;
	default:
		return l->state;
	}
}

bool dhcp_pool_is_available(const struct dhcp_lease *l, uint64_t now_us)
{
	enum dhcp_lease_state st = dhcp_pool_state(l, now_us);

	if (l->is_excluded || l->is_static)
		return false;
	return st == DHCP_LEASE_FREE || st == DHCP_LEASE_EXPIRED || st == DHCP_LEASE_RELEASED;
}

void dhcp_pool_assign(struct dhcp_pool *p, struct dhcp_lease *l, const struct dhcp_key *key,
		      enum dhcp_lease_state state, uint64_t expires_us)
{
	struct dhcp_lease *old = dhcp_pool_find(p, key);

	if (old && old != l) {
		unlink_client(p, old);
		if (old->state != DHCP_LEASE_DECLINED) {
			old->state = DHCP_LEASE_FREE;
			old->expires_us = 0;
		}
	}
	if (l->has_client && !dhcp_pool_is_client(l, key))
		unlink_client(p, l);
	if (!l->has_client) {
		l->key_hash = key_hash(key);
		l->next = p->bucket[l->key_hash & (p->n_bucket - 1)];
		p->bucket[l->key_hash & (p->n_bucket - 1)] = (uint32_t)(l - p->v);
		l->has_client = true;
		l->cid_len = (uint8_t)key->cid_len;
		if (key->cid_len)
			memcpy(l->cid, key->cid, key->cid_len);
		l->hostname[0] = '\0';
	}
	/* The MAC may change under one client-id (a NIC swapped in a VM). */
	memcpy(l->mac, key->mac, 6);
	l->state = (uint8_t)state;
	l->expires_us = expires_us;
	l->decliner_hash = 0;
}

/* Drops list entries no longer withheld at 'now_us'. */
static void prune_withheld(struct dhcp_pool *p, uint64_t now_us)
{
	uint32_t k = 0;

	for (uint32_t i = 0; i < p->n_withheld; i++) {
		struct dhcp_lease *l = &p->v[p->withheld[i]];

		if (dhcp_pool_state(l, now_us) == DHCP_LEASE_DECLINED)
			p->withheld[k++] = p->withheld[i];
	}
	p->n_withheld = k;
}

/* Frees early the entry withheld longest, among those of 'hash' unless 0. */
static int release_oldest(struct dhcp_pool *p, uint32_t hash)
{
	uint32_t best = NONE;

	for (uint32_t i = 0; i < p->n_withheld; i++) {
		const struct dhcp_lease *l = &p->v[p->withheld[i]];

		if (hash && l->decliner_hash != hash)
			continue;
		if (best == NONE || l->expires_us < p->v[p->withheld[best]].expires_us)
			best = i;
	}
	if (best == NONE)
		return 0;
	p->v[p->withheld[best]].state = DHCP_LEASE_FREE;
	p->v[p->withheld[best]].expires_us = 0;
	p->withheld[best] = p->withheld[--p->n_withheld];
	return 1;
}

int dhcp_pool_withhold(struct dhcp_pool *p, struct dhcp_lease *l, const struct dhcp_key *decliner,
		       uint64_t now_us, uint64_t until_us)
{
	uint32_t idx = (uint32_t)(l - p->v);
	uint32_t hash = decliner ? (key_hash(decliner) | 1u) : 0;
	int freed = 0;
	bool listed = false;

	prune_withheld(p, now_us);
	for (uint32_t i = 0; i < p->n_withheld; i++)
		listed |= p->withheld[i] == idx;
	if (!listed) {
		uint32_t n_mine = 0;

		/* One broken client must not empty the pool (notes/dhcp.md §5.6). */
		for (uint32_t i = 0; hash && i < p->n_withheld; i++)
			n_mine += p->v[p->withheld[i]].decliner_hash == hash;
		if (n_mine >= DHCP_WITHHELD_CLIENT_MAX)
			freed += release_oldest(p, hash);
		if (p->n_withheld >= p->withheld_cap)
			freed += release_oldest(p, 0);
		p->withheld[p->n_withheld++] = idx;
	}
	unlink_client(p, l);
	l->state = DHCP_LEASE_DECLINED;
	l->expires_us = until_us;
	l->decliner_hash = hash;
	return freed;
}

size_t dhcp_pool_n_withheld(struct dhcp_pool *p, uint64_t now_us)
{
	prune_withheld(p, now_us);
	return p->n_withheld;
}

/*
 * The next candidate: a never-used address at or after the cursor, else the
 * available record free the longest (a record without a client counts as
 * free forever). The cursor makes the common case O(1); the scan runs only
 * once every address has been used.
 */
static struct dhcp_lease *pick(struct dhcp_pool *p, uint64_t now_us)
{
	struct dhcp_lease *best = NULL;

	for (; p->next_fresh < p->n; p->next_fresh++) {
		struct dhcp_lease *l = &p->v[p->next_fresh];

		if (l->state == DHCP_LEASE_FREE && !l->has_client && !l->is_excluded &&
		    !l->is_static)
			return l;
	}
	for (uint32_t i = 0; i < p->n; i++) {
		struct dhcp_lease *l = &p->v[i];
		uint64_t since;

		if (!dhcp_pool_is_available(l, now_us))
			continue;
		since = l->has_client ? l->expires_us : 0;
		if (!best || since < (best->has_client ? best->expires_us : 0))
			best = l;
		if (!since)
			break;
	}
	return best;
}

struct dhcp_lease *dhcp_pool_alloc(struct dhcp_pool *p, uint64_t now_us,
				   bool (*in_use)(void *ctx, uint32_t addr_be), void *ctx,
				   uint64_t withhold_until_us)
{
	for (unsigned i = 0; i < DHCP_POOL_PROBES_MAX; i++) {
		struct dhcp_lease *l = pick(p, now_us);

		if (!l)
			return NULL;
		/* RFC 2131 §2.2: probe an address before allocating it. */
		if (in_use && in_use(ctx, l->addr_be)) {
			(void)dhcp_pool_withhold(p, l, NULL, now_us, withhold_until_us);
			continue;
		}
		return l;
	}
	return NULL;
}

void dhcp_pool_foreach(struct dhcp_pool *p, void (*fn)(const struct dhcp_lease *l, void *arg),
		       void *arg)
{
	for (uint32_t i = 0; i < p->n; i++)
		if (p->v[i].has_client || p->v[i].state == DHCP_LEASE_DECLINED)
			fn(&p->v[i], arg);
}

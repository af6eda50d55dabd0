/* SPDX-License-Identifier: MIT */
/*
 * The address pool of one DHCP server: one lease record per leasable address
 * of the range, found by address (array index) or by client key (hash chain).
 * Pure: no system calls, no logging; time is passed in. The server
 * (dhcp_server.c) decides what to do; this module keeps records consistent:
 * a client key owns at most one record, the first 16 addresses of the range
 * never appear, excluded and withheld addresses are never handed out.
 *
 * A record keeps its client after the lease ends (state EXPIRED or RELEASED)
 * until the address is given to someone else, so a returning client gets its
 * previous address back (RFC 2131 §4.3.1). New addresses come from never-used
 * ones first, then from the record that has been free the longest.
 */
#ifndef VSWITCH_DHCPD_DHCP_POOL_H
#define VSWITCH_DHCPD_DHCP_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DHCP_POOL_RESERVED	 16u	/* first addresses of the range never leased */
#define DHCP_POOL_ADDRS_MAX	 65536u /* leasable addresses per pool; more is -E2BIG */
#define DHCP_CLIENT_ID_MAX	 128u	/* bytes of option 61 kept; longer is -E2BIG */
#define DHCP_HOSTNAME_MAX	 64u	/* bytes of a hostname with its NUL */
#define DHCP_WITHHELD_MAX	 64u	/* addresses withheld (declined, conflicts) at once */
#define DHCP_WITHHELD_CLIENT_MAX 4u	/* of which declined by one client */
#define DHCP_POOL_PROBES_MAX	 8u	/* addresses probed for one allocation */

enum dhcp_lease_state {
	DHCP_LEASE_FREE,     /* never leased, or its client was forgotten */
	DHCP_LEASE_OFFERED,  /* held for an OFFER until expires_us */
	DHCP_LEASE_BOUND,    /* leased until expires_us */
	DHCP_LEASE_RELEASED, /* client released it at expires_us; client kept */
	DHCP_LEASE_EXPIRED,  /* lease or offer ran out at expires_us; client kept (derived) */
	DHCP_LEASE_DECLINED, /* withheld until expires_us (DECLINE or probe conflict) */
	DHCP_LEASE_STATE_N,
};

/* Who a client is (RFC 2131 §4.2): option 61 when present, else chaddr. */
struct dhcp_key {
	const uint8_t *cid; /* option 61 value, borrowed; NULL if absent */
	size_t cid_len;	    /* 0 if absent */
	const uint8_t *mac; /* chaddr, 6 bytes, borrowed */
};

struct dhcp_lease {
	uint32_t addr_be;		  /* network order */
	uint8_t state;			  /* enum dhcp_lease_state as stored (EXPIRED is derived) */
	bool has_client;		  /* mac/cid name the owner or previous owner */
	bool is_static;			  /* address of a reservation */
	bool is_excluded;		  /* never handed out (server, broadcast, ...) */
	uint64_t expires_us;		  /* wall clock, microseconds since the epoch */
	uint8_t mac[6];			  /* client hardware address */
	uint8_t cid_len;		  /* 0: keyed by mac */
	uint8_t cid[DHCP_CLIENT_ID_MAX];  /* option 61 value */
	char hostname[DHCP_HOSTNAME_MAX]; /* option 12 as sent, sanitised; "" if none */
	uint32_t next;			  /* pool private: hash chain */
	uint32_t key_hash;		  /* pool private */
	uint32_t decliner_hash;		  /* pool private: key hash of the decliner, 0 = conflict */
};

struct dhcp_pool;

/*
 * Creates a pool for the range 'first_be'..'last_be' (network order,
 * inclusive); its first DHCP_POOL_RESERVED addresses are left out. Returns 0,
 * -EINVAL if the range holds no leasable address, -E2BIG if it holds more
 * than DHCP_POOL_ADDRS_MAX, -ENOMEM.
 */
int dhcp_pool_new(struct dhcp_pool **ret, uint32_t first_be, uint32_t last_be);

/* Frees the pool; accepts NULL. */
void dhcp_pool_free(struct dhcp_pool *p);

/* Leasable addresses (the range less the reserved first 16). */
size_t dhcp_pool_size(const struct dhcp_pool *p);

/* The record of 'addr_be', or NULL if the address is not leasable here. */
struct dhcp_lease *dhcp_pool_lease(struct dhcp_pool *p, uint32_t addr_be);

/* Marks 'addr_be' never to be handed out; no-op outside the pool. */
void dhcp_pool_exclude(struct dhcp_pool *p, uint32_t addr_be);

/* Marks 'addr_be' as a static reservation; 0 or -ENOENT outside the pool. */
int dhcp_pool_set_static(struct dhcp_pool *p, uint32_t addr_be);

/* The record owned (now or last) by 'key', or NULL. */
struct dhcp_lease *dhcp_pool_find(struct dhcp_pool *p, const struct dhcp_key *key);

/* Whether 'l' names 'key' as its client. */
bool dhcp_pool_is_client(const struct dhcp_lease *l, const struct dhcp_key *key);

/* The state of 'l' at 'now_us', with ends of offers, leases and withholding applied. */
enum dhcp_lease_state dhcp_pool_state(const struct dhcp_lease *l, uint64_t now_us);

/* Whether 'l' may go to a client other than its own at 'now_us'. */
bool dhcp_pool_is_available(const struct dhcp_lease *l, uint64_t now_us);

/*
 * Gives 'l' to 'key' ('mac' 6 bytes, both borrowed) in 'state' until
 * 'expires_us'; another record of the same key forgets its client. 'key'
 * must have cid_len <= DHCP_CLIENT_ID_MAX.
 */
void dhcp_pool_assign(struct dhcp_pool *p, struct dhcp_lease *l, const struct dhcp_key *key,
		      enum dhcp_lease_state state, uint64_t expires_us);

/*
 * Picks a new address at 'now_us': never-used first, then the one free the
 * longest. Before returning one it asks 'in_use' (may be NULL; 'ctx' passed
 * through); an address in use is withheld until 'withhold_until_us' and the
 * next one tried, at most DHCP_POOL_PROBES_MAX in all. Returns the record
 * (state unchanged) or NULL when nothing is available.
 */
struct dhcp_lease *dhcp_pool_alloc(struct dhcp_pool *p, uint64_t now_us,
				   bool (*in_use)(void *ctx, uint32_t addr_be), void *ctx,
				   uint64_t withhold_until_us);

/*
 * Withholds 'l' until 'until_us' and forgets its client (RFC 2131 §4.3.3).
 * 'decliner' is the declining client, or NULL for a probe conflict. At most
 * DHCP_WITHHELD_CLIENT_MAX addresses per decliner and DHCP_WITHHELD_MAX (or a
 * quarter of the pool, if smaller) overall stay withheld: past a cap the one
 * withheld longest is freed early. Returns the number freed early (0 or 1).
 */
int dhcp_pool_withhold(struct dhcp_pool *p, struct dhcp_lease *l, const struct dhcp_key *decliner,
		       uint64_t now_us, uint64_t until_us);

/* Addresses withheld at 'now_us'. */
size_t dhcp_pool_n_withheld(struct dhcp_pool *p, uint64_t now_us);

/* Calls 'fn' for each record that has a client or is withheld, in address order. */
void dhcp_pool_foreach(struct dhcp_pool *p, void (*fn)(const struct dhcp_lease *l, void *arg),
		       void *arg);

/* Name of a state ("free", "offered", "bound", ...). */
const char *dhcp_lease_state_name(unsigned state);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * Internet Connection Sharing for one network: the nftables table (built by
 * nat_rules.c, sent by nat_nl.c), IPv4 forwarding on the interfaces
 * involved, and the report of other firewalls' chains that would defeat it.
 * vswitchd creates one per network with a [nat] section once the host
 * adapter is up, and frees it at shutdown; a crash leaves nothing behind
 * because the table is owned by this object's netlink socket.
 */
#ifndef VSWITCH_NAT_H
#define VSWITCH_NAT_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nat/nat_rules.h"

#define NAT_CONFLICTS_MAX 8   /* conflicts kept per network; more are counted */
#define NAT_CONFLICT_LEN  240 /* bytes of one conflict line */

struct nat;
struct nat_nl_chain;

struct nat_conf {
	const char *network;		    /* borrowed; the network's name */
	uint32_t subnet_be;		    /* network address */
	uint8_t prefix_len;		    /* 1..32 */
	const char *host_ifname;	    /* borrowed; the host adapter, already up */
	const char *uplink;		    /* borrowed; an interface, or "auto" */
	const struct nat_forward *forwards; /* borrowed for the call */
	size_t n_forwards;
};

/*
 * Resolves the uplink ("auto": the interface of the IPv4 default route),
 * installs the table in one transaction (owned by the new object's socket;
 * on kernels without table owners a named table replaced at each start),
 * turns IPv4 forwarding on for the host adapter and the uplink, and looks
 * for conflicting chains. Logs what it did and each conflict in one line.
 * Returns 0, -ENODEV (no default route, or no such uplink), -EPERM (the
 * table belongs to another live process, or no CAP_NET_ADMIN), -EINVAL, or
 * another -errno; each failure is logged here.
 */
int nat_new(struct nat **ret, const struct nat_conf *conf);

/* Removes the table, puts the forwarding settings back as they were, frees 'n' (NULL is fine). */
void nat_free(struct nat *n);

/* The uplink in use, the table's name, and whether the kernel owns it for us. */
const char *nat_uplink(const struct nat *n);
const char *nat_table(const struct nat *n);
bool nat_table_owned(const struct nat *n);

/* Lists the chains again and refreshes the conflicts. Returns their number or -errno. */
int nat_refresh_conflicts(struct nat *n);

/* Conflict 'i' (< nat_n_conflicts()) as one line of text. */
size_t nat_n_conflicts(const struct nat *n);
const char *nat_conflict(const struct nat *n, size_t i);

/*
 * Pure helpers, exposed for tests. nat_route_default_ifname() reads the
 * text of /proc/net/route and copies the interface of the IPv4 default
 * route with the lowest metric into 'out' (IFNAMSIZ bytes): 0 or -ENOENT.
 * nat_conflict_describe() writes a line into 'buf' and returns true when
 * chain 'c' of another table would stop NAT traffic ('own_table' is ours).
 */
int nat_route_default_ifname(const char *text, char out[IFNAMSIZ]);
bool nat_conflict_describe(const struct nat_nl_chain *c, const char *own_table, char *buf,
			   size_t cap);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * The nftables ruleset of one NAT network, built as a netlink batch with
 * libnftnl into a caller buffer. Pure: no socket, no system call; nat_nl.c
 * sends what this writes. The batch replaces the network's table in one
 * transaction (create-if-missing, delete, create), so a ruleset is never
 * half there.
 *
 * Table "ip vswitch-NET":
 *   postrouting (nat, prio 100)  masquerade SUBNET leaving through the uplink,
 *                                except 224.0.0.0/24 and 255.255.255.255;
 *                                TCP/UDP source ports mapped into 1024-65535
 *   prerouting  (nat, prio -100) port mappings: DNAT to a local address on
 *   output      (nat, prio -100) HOSTPORT, from outside and from the host
 *   forward     (filter, prio 0) accepts the subnet's outgoing traffic and
 *                                established/related or mapped traffic to
 *                                it; rejects anything else towards the
 *                                guests and drops spoofed guest sources
 */
#ifndef VSWITCH_NAT_RULES_H
#define VSWITCH_NAT_RULES_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NAT_RULES_TABLE_MAX    32	  /* bytes of a table name with its NUL */
#define NAT_RULES_BUF_MIN      (8 * 1024) /* a batch with no port mapping fits */
#define NAT_RULES_FORWARDS_MAX 64	  /* = PROFILE_FORWARDS_MAX */

struct nat_forward {
	uint8_t proto;	     /* IPPROTO_TCP or IPPROTO_UDP */
	uint16_t host_port;  /* host order */
	uint32_t guest_be;   /* the guest's address */
	uint16_t guest_port; /* host order */
};

struct nat_rules_conf {
	const char *table;		    /* borrowed; see nat_rules_table_name() */
	uint32_t subnet_be;		    /* network address, host bits zero */
	uint8_t prefix_len;		    /* 1..32 */
	const char *host_ifname;	    /* borrowed; the network's host adapter */
	const char *uplink;		    /* borrowed; interface towards the internet */
	const struct nat_forward *forwards; /* borrowed; 'n_forwards' items */
	size_t n_forwards;		    /* <= NAT_RULES_FORWARDS_MAX */
	bool owner; /* NFT_TABLE_F_OWNER: the table dies with the socket (Linux >= 5.12) */
};

/* Writes "vswitch-NETWORK" into 'buf' ('cap' >= NAT_RULES_TABLE_MAX); returns 0 or -E2BIG. */
int nat_rules_table_name(const char *network, char *buf, size_t cap);

/*
 * Writes the batch that (re)creates the table of 'c' into 'buf' ('cap'
 * bytes), numbering messages from 'seq'. Sets '*ret_len' to the bytes written
 * and '*ret_next_seq' to the first sequence number not used; every message
 * between the batch markers asks for an ACK (seq+1 .. next_seq-2). Returns 0,
 * -EINVAL for a bad 'c', -EMSGSIZE when 'cap' is too small (at least
 * NAT_RULES_BUF_MIN plus 1 KiB per port mapping is enough), or -ENOMEM.
 */
int nat_rules_build(const struct nat_rules_conf *c, uint32_t seq, void *buf, size_t cap,
		    size_t *ret_len, uint32_t *ret_next_seq);

/* Writes the batch that deletes table 'table' (family ip); same contract as nat_rules_build(). */
int nat_rules_build_delete(const char *table, uint32_t seq, void *buf, size_t cap, size_t *ret_len,
			   uint32_t *ret_next_seq);

#endif

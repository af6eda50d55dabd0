/* SPDX-License-Identifier: MIT */
/*
 * The netfilter netlink socket of the NAT part (libmnl). It sends batches
 * that nat_rules.c built and waits for every ACK, and lists the base chains
 * of all tables so that conflicts with other firewalls can be found. The
 * socket is the owner of the tables it creates with NFT_TABLE_F_OWNER: keep
 * it open for as long as the rules must stay, close it and they vanish.
 */
#ifndef VSWITCH_NAT_NL_H
#define VSWITCH_NAT_NL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nat_nl;

/* One base chain of some table, as listed by the kernel. */
struct nat_nl_chain {
	const char *family; /* "ip", "ip6", "inet", "arp", "bridge", "netdev" or "?" */
	const char *table;  /* borrowed for the callback only */
	const char *name;   /* borrowed for the callback only */
	uint32_t hooknum;   /* NF_INET_* */
	int32_t prio;
	uint32_t policy; /* NF_ACCEPT or NF_DROP */
};

/* Opens and binds a netfilter netlink socket (close-on-exec). Returns 0 or -errno. */
int nat_nl_open(struct nat_nl **ret);

/* Closes 'nl' (NULL is fine): owned tables it created disappear with it. */
void nat_nl_close(struct nat_nl *nl);

/* The next sequence number to build a batch with; advanced by nat_nl_send(). */
uint32_t nat_nl_seq(const struct nat_nl *nl);

/*
 * Sends the batch 'buf' ('len' bytes, messages numbered nat_nl_seq() ..
 * 'next_seq' - 1 with the first and last the batch markers) and reads until
 * every message in between has been answered. Returns 0 when the kernel
 * committed the batch, or the first error it reported (-EPERM for a table
 * another process owns, -EOPNOTSUPP for a kernel without table owners,
 * ...), -ETIMEDOUT if answers stop coming, or another -errno.
 */
int nat_nl_send(struct nat_nl *nl, const void *buf, size_t len, uint32_t next_seq);

/*
 * Calls 'cb' for every base chain (one with a hook) of every table in the
 * namespace. Returns 0 or -errno.
 */
int nat_nl_list_chains(struct nat_nl *nl, void (*cb)(const struct nat_nl_chain *c, void *arg),
		       void *arg);

#endif

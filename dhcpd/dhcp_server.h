/* SPDX-License-Identifier: MIT */
/*
 * The embedded DHCPv4 server's state machine (RFC 2131), authoritative on one
 * virtual network. Pure (STYLE.md §4): it takes whole Ethernet frames and the
 * time, writes whole Ethernet reply frames into caller buffers, and reaches
 * the outside only through the two hooks in its conf: a conflict probe and a
 * lease store. The endpoint glue (dhcp_endpoint.c) feeds it frames from the
 * switch and persists leases through dhcp_lease_file.c; unit tests use an
 * in-memory store.
 */
#ifndef VSWITCH_DHCPD_DHCP_SERVER_H
#define VSWITCH_DHCPD_DHCP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dhcpd/dhcp_msg.h"
#include "dhcpd/dhcp_pool.h"

#define DHCP_CONF_ADDRS_MAX    8    /* dns / wins list items */
#define DHCP_CONF_ROUTES_MAX   32   /* option 121 routes */
#define DHCP_CONF_RESERVES_MAX 1024 /* static reservations */
#define DHCP_DOMAIN_MAX	       254  /* bytes of the domain name, without NUL */

/* dhcp_server_handle() result for an ARP reply (above every DHCP message type). */
#define DHCP_SERVER_ARP_REPLY 256

struct dhcp_reservation {
	uint8_t mac[6];			  /* chaddr the address is kept for */
	uint32_t addr_be;		  /* inside the range, outside its reserved first 16 */
	char hostname[DHCP_HOSTNAME_MAX]; /* sent as option 12; "" for none */
};

struct dhcp_route {
	uint32_t dest_be;    /* destination network, host bits zero */
	uint8_t prefix_len;  /* 0..32 */
	uint32_t gateway_be; /* next hop */
};

/*
 * Where the server sends lease changes. put() is called with every binding
 * (ACK), release and decline before the reply is written; it queues the
 * record and returns 0 or a negative errno (then the server sends no ACK).
 * The record is durable only once the owner has synced the store: until
 * then dhcp_server_reply_deferred() tells the caller to hold the reply.
 */
struct dhcp_store {
	int (*put)(void *ctx, const struct dhcp_lease *l); /* 'l' borrowed for the call */
	void *ctx;					   /* kept */
};

/* Everything the server needs; pointers are borrowed for dhcp_server_new() unless noted. */
struct dhcp_server_conf {
	uint32_t first_be, last_be; /* range (network order, inclusive); first 16 never leased */
	uint32_t server_be;	    /* the server's own address: option 54, ARP, IP source */
	uint32_t netmask_be;	    /* option 1; also defines "our network" for NAKs */
	uint32_t gateway_be;	    /* option 3 and the default route in 121; 0 = none */
	uint32_t dns_be[DHCP_CONF_ADDRS_MAX]; /* option 6 */
	size_t n_dns;
	uint32_t wins_be[DHCP_CONF_ADDRS_MAX]; /* option 44 (+ 46 = H-node) */
	size_t n_wins;
	const char *domain;			 /* option 15; NULL or "" = none; copied */
	uint32_t lease_secs;			 /* option 51; 0 = 3600; >= 60 */
	uint32_t renew_secs;			 /* option 58; 0 = lease/2 */
	uint32_t rebind_secs;			 /* option 59; 0 = lease*7/8 */
	const struct dhcp_reservation *reserves; /* copied */
	size_t n_reserves;
	const struct dhcp_route *routes; /* option 121 (and 249) when non-empty; copied */
	size_t n_routes;
	uint8_t server_mac[6];	  /* source MAC of every frame the server sends */
	unsigned mtu;		  /* L3 MTU of the network; 0 = 1500; replies never exceed it */
	uint32_t offer_hold_secs; /* how long an offered address is held; 0 = 60 */
	uint32_t decline_secs;	  /* how long a declined/conflicting address is withheld; 0 = 600 */
	bool no_rapid_commit;	  /* ignore option 80 (RFC 4039) */
	/*
	 * Conflict probe before an address is offered (RFC 2131 §2.2): true if
	 * a host other than 'client_mac' (the chaddr the offer is for) already
	 * uses 'addr_be'. NULL = no probe. Called synchronously from
	 * dhcp_server_handle(); must not call back.
	 */
	bool (*addr_in_use)(void *ctx, uint32_t addr_be, const uint8_t client_mac[6]);
	void *addr_in_use_ctx;	 /* kept */
	struct dhcp_store store; /* put may be NULL: nothing persisted, no reply deferred */
};

/* Why a frame was ignored; one counter each. */
enum dhcp_drop {
	DHCP_DROP_NOT_FOR_US,	/* not DHCP to us / not ARP for us (flooded traffic) */
	DHCP_DROP_BAD_FRAME,	/* truncated or invalid Ethernet/ARP/IPv4/UDP header */
	DHCP_DROP_BAD_CSUM,	/* IPv4 header or non-zero UDP checksum wrong */
	DHCP_DROP_FRAGMENT,	/* IPv4 fragment (DHCP needs none) */
	DHCP_DROP_BAD_MSG,	/* codec rejected the message */
	DHCP_DROP_NOT_REQUEST,	/* BOOTREPLY, non-Ethernet chaddr, no or server-only type */
	DHCP_DROP_OTHER_SERVER, /* server identifier not ours */
	DHCP_DROP_NO_BINDING,	/* RELEASE/DECLINE of no lease of that client; bad REQUEST */
	DHCP_DROP_CLIENT_ID,	/* option 61 longer than DHCP_CLIENT_ID_MAX */
	DHCP_DROP_EXHAUSTED,	/* DISCOVER with no address to offer */
	DHCP_DROP_STORE,	/* the store refused the record */
	DHCP_DROP_NO_ROOM,	/* reply buffer too small */
	DHCP_DROP_N,
};

struct dhcp_server_stats {
	uint64_t rx[DHCP_MSG_TYPE_N]; /* requests by option 53 type, [0] = other */
	uint64_t tx[DHCP_MSG_TYPE_N]; /* replies by type */
	uint64_t arp_replies;
	uint64_t declines;  /* addresses withheld after DECLINE */
	uint64_t conflicts; /* addresses withheld after a positive probe */
	uint64_t drops[DHCP_DROP_N];
};

struct dhcp_server;

/*
 * Creates a server from 'conf'. Returns 0; -EINVAL if the conf is
 * inconsistent (range empty or outside the server's network, lease shorter
 * than 60 s, T1 >= T2 or T2 >= lease, a reservation outside the leasable
 * range, a domain longer than DHCP_DOMAIN_MAX); -E2BIG if a list exceeds
 * its cap or the range holds more than DHCP_POOL_ADDRS_MAX addresses;
 * -ENOMEM.
 */
int dhcp_server_new(struct dhcp_server **ret, const struct dhcp_server_conf *conf);

/* Frees the server; accepts NULL. */
void dhcp_server_free(struct dhcp_server *s);

/*
 * Handles one Ethernet frame ('frame', 'len' borrowed) received at 'now_us'
 * (wall clock in microseconds since the epoch: leases outlive the process).
 * Answers DHCP requests (UDP to port 67 at our address or broadcast) and ARP
 * requests for the server address. A reply, if any, is written as a whole
 * Ethernet frame into 'reply' ('cap' bytes) with its length in '*ret_len'.
 * Returns the DHCP message type sent (DHCP_OFFER, DHCP_ACK, DHCP_NAK),
 * DHCP_SERVER_ARP_REPLY for an ARP reply, 0 if nothing is sent (ignored
 * frames are counted by reason; RELEASE and DECLINE have no reply), or
 * -EMSGSIZE if 'cap' cannot hold the reply. Never fails on input bytes.
 */
int dhcp_server_handle(struct dhcp_server *s, const uint8_t *frame, size_t len, uint64_t now_us,
		       uint8_t *reply, size_t cap, size_t *ret_len);

/*
 * Whether the reply of the last dhcp_server_handle() call confirms a record
 * handed to the store's put() (an ACK of a binding): the caller must sync
 * the store before sending it (group commit).
 */
bool dhcp_server_reply_deferred(const struct dhcp_server *s);

/*
 * After dhcp_server_handle() sent an OFFER of an address the client did not
 * hold: that address, which the caller should ARP-probe (RFC 5227 form,
 * sender 0.0.0.0) so that a host already using it answers before the
 * client's REQUEST, which is then NAKed. 0 otherwise.
 */
uint32_t dhcp_server_arp_probe(const struct dhcp_server *s);

/*
 * Loads one record from the store at startup ('l' borrowed). Records of
 * addresses outside the pool, excluded ones, reserved ones held by another
 * MAC, and clients already loaded with a later expiry are skipped. Returns
 * 0, or -ENOENT if skipped.
 */
int dhcp_server_restore(struct dhcp_server *s, const struct dhcp_lease *l, uint64_t now_us);

/*
 * Calls 'fn' for every record that has a client or is withheld, with its
 * state at 'now_us' (offers, leases and withholding that ran out applied).
 */
void dhcp_server_foreach_lease(struct dhcp_server *s, uint64_t now_us,
			       void (*fn)(const struct dhcp_lease *l, enum dhcp_lease_state state,
					  void *arg),
			       void *arg);

/* The counters (borrowed from 's'). */
const struct dhcp_server_stats *dhcp_server_stats(const struct dhcp_server *s);

/* Addresses the pool can lease (the range less its reserved first 16). */
size_t dhcp_server_pool_size(const struct dhcp_server *s);

/* Name of a drop reason ("not-for-us", "bad-frame", ...). */
const char *dhcp_drop_name(unsigned d);

#endif

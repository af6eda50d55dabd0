/* SPDX-License-Identifier: MIT */
/*
 * Port security checks (see portsec.h for the rules). Called by the switch
 * core for every frame; the common case (a trusted port, or a guest's plain
 * IPv4 packet from its own MAC) costs one binary search in the pin table
 * and a few comparisons.
 */
#include "vswitch/portsec.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "common/pkt.h"
#include "vswitch/port.h"

#define PORTSEC_DHCP_SERVER_PORT 67u
#define PORTSEC_DHCP_CLIENT_PORT 68u
#define PORTSEC_BOOTP_CHADDR	 28u /* chaddr's offset in a BOOTP message */

struct portsec_pin {
	uint64_t key; /* the MAC as a 48-bit number: the table is sorted by it */
	const struct port *owner;
};

struct portsec_ip {
	uint32_t addr_be;
	const struct port *owner;
};

struct portsec {
	struct portsec_pin pins[PORTSEC_PINS_MAX]; /* sorted by key */
	size_t n_pins;
	struct portsec_ip ips[PORTSEC_IPS_MAX];
	size_t n_ips;
	portsec_bound_fn *bound;
	void *bound_ctx; /* kept */
};

int portsec_new(struct portsec **ret)
{
	struct portsec *ps = calloc(1, sizeof(*ps));

	if (!ps)
		return -ENOMEM;
	*ret = ps;
	return 0;
}

void portsec_free(struct portsec *ps)
{
	free(ps);
}

static uint64_t mac_key(const uint8_t mac[6])
{
	return (uint64_t)get_be16(mac) << 32 | get_be32(mac + 2);
}

/* Index of the first pin whose key is >= 'key'. */
static size_t pin_lower_bound(const struct portsec *ps, uint64_t key)
{
	size_t lo = 0, hi = ps->n_pins;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ps->pins[mid].key < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static const struct port *pin_owner(const struct portsec *ps, const uint8_t mac[6])
{
	uint64_t key = mac_key(mac);
	size_t i = pin_lower_bound(ps, key);

	return i < ps->n_pins && ps->pins[i].key == key ? ps->pins[i].owner : NULL;
}

static int pin_ip(struct portsec *ps, const struct port *owner, uint32_t addr_be)
{
	for (size_t i = 0; i < ps->n_ips; i++)
		if (ps->ips[i].addr_be == addr_be)
			return ps->ips[i].owner == owner ? 0 : -EEXIST;
	if (ps->n_ips == PORTSEC_IPS_MAX)
		return -E2BIG;
	ps->ips[ps->n_ips++] = (struct portsec_ip){ addr_be, owner };
	return 0;
}

int portsec_pin(struct portsec *ps, const struct port *owner, const uint8_t mac[6],
		uint32_t addr_be)
{
	static const uint8_t zero[6];
	uint64_t key = mac_key(mac);
	size_t i = pin_lower_bound(ps, key);

	if ((mac[0] & 1) || !memcmp(mac, zero, 6))
		return -EINVAL;
	if (i < ps->n_pins && ps->pins[i].key == key) {
		if (ps->pins[i].owner != owner)
			return -EEXIST;
	} else {
		if (ps->n_pins == PORTSEC_PINS_MAX)
			return -E2BIG;
		memmove(&ps->pins[i + 1], &ps->pins[i], (ps->n_pins - i) * sizeof(ps->pins[0]));
		ps->pins[i] = (struct portsec_pin){ key, owner };
		ps->n_pins++;
	}
	return addr_be ? pin_ip(ps, owner, addr_be) : 0;
}

void portsec_unpin_port(struct portsec *ps, const struct port *owner)
{
	size_t n = 0;

	for (size_t i = 0; i < ps->n_pins; i++)
		if (ps->pins[i].owner != owner)
			ps->pins[n++] = ps->pins[i];
	ps->n_pins = n;
	n = 0;
	for (size_t i = 0; i < ps->n_ips; i++)
		if (ps->ips[i].owner != owner)
			ps->ips[n++] = ps->ips[i];
	ps->n_ips = n;
}

void portsec_set_bound(struct portsec *ps, portsec_bound_fn *fn, void *ctx)
{
	ps->bound = fn;
	ps->bound_ctx = ctx;
}

/* Whether ARP from 'in' claims an address pinned to another port. */
static bool claims_pinned_ip(const struct portsec *ps, const struct port *in, uint32_t addr_be)
{
	for (size_t i = 0; i < ps->n_ips; i++)
		if (ps->ips[i].addr_be == addr_be)
			return ps->ips[i].owner != in;
	return false;
}

static bool mac_listed(const struct port_security *sec, const uint8_t mac[6])
{
	for (unsigned i = 0; i < sec->n_macs; i++)
		if (!memcmp(sec->macs[i], mac, 6))
			return true;
	return false;
}

/*
 * Whether 'addr_be' used by 'mac' is bound to port 'p': a static address of
 * the port, a binding the DHCP server confirmed lately, or one it confirms now.
 */
static bool is_bound(struct portsec *ps, struct port *p, const uint8_t mac[6], uint32_t addr_be,
		     uint64_t now_ms)
{
	struct port_sec_state *st = &p->sec_state;
	uint64_t secs = 0;

	for (unsigned i = 0; i < p->sec.n_addrs; i++)
		if (p->sec.addrs_be[i] == addr_be)
			return true;
	for (unsigned i = 0; i < PORT_SEC_CACHE; i++)
		if (st->cache[i].until_ms > now_ms && st->cache[i].addr_be == addr_be &&
		    !memcmp(st->cache[i].mac, mac, 6))
			return true;
	if (!ps->bound || !ps->bound(ps->bound_ctx, mac, addr_be, &secs))
		return false;
	/* Ask again before the lease could have gone to someone else. */
	if (secs > PORTSEC_CACHE_MS / 1000)
		secs = PORTSEC_CACHE_MS / 1000;
	if (secs) {
		unsigned i = st->cache_next++ % PORT_SEC_CACHE;

		memcpy(st->cache[i].mac, mac, 6);
		st->cache[i].addr_be = addr_be;
		st->cache[i].until_ms = now_ms + secs * 1000;
	}
	return true;
}

/* Takes one token from the port's DHCP bucket: 'rate' per second, burst twice that. */
static bool dhcp_token(struct port *p, uint64_t now_ms)
{
	struct port_sec_state *st = &p->sec_state;
	uint64_t cap = (uint64_t)p->sec.dhcp_rate * 2000u;

	if (!st->dhcp_ms) {
		st->dhcp_milli = cap;
	} else if (now_ms > st->dhcp_ms) {
		uint64_t add = (now_ms - st->dhcp_ms) * p->sec.dhcp_rate;

		st->dhcp_milli = st->dhcp_milli + add > cap ? cap : st->dhcp_milli + add;
	}
	st->dhcp_ms = now_ms ? now_ms : 1;
	if (st->dhcp_milli < 1000)
		return false;
	st->dhcp_milli -= 1000;
	return true;
}

/* DHCP through an untrusted port: client messages only, for the sender's own MAC, at a rate. */
static int check_dhcp(struct port *in, const uint8_t *data, const struct pkt *h, uint64_t now_ms)
{
	if (h->sport == PORTSEC_DHCP_SERVER_PORT)
		return PORT_DROP_DHCP_GUARD; /* an OFFER, ACK or NAK, or a relay: not a guest's to
						send */
	if (h->sport != PORTSEC_DHCP_CLIENT_PORT || h->dport != PORTSEC_DHCP_SERVER_PORT)
		return -1;
	/* UDP header, then BOOTP up to and including chaddr's first 6 bytes. */
	if (h->l4_len < 8u + PORTSEC_BOOTP_CHADDR + 6u ||
	    memcmp(data + h->l4_off + 8 + PORTSEC_BOOTP_CHADDR, data + 6, 6))
		return PORT_DROP_DHCP_GUARD;
	if (in->sec.dhcp_rate && !dhcp_token(in, now_ms))
		return PORT_DROP_DHCP_RATE;
	return -1;
}

static int check_ipv4(struct portsec *ps, struct port *in, const uint8_t *data, const struct pkt *h,
		      uint64_t now_ms)
{
	int r;

	if (h->flags & PKT_F_BAD_L3)
		return in->sec.source_guard ? PORT_DROP_SOURCE : -1;
	if (h->l4_off && h->ip_proto == PKT_IPPROTO_UDP) {
		r = check_dhcp(in, data, h, now_ms);
		if (r >= 0)
			return r;
	}
	if (!in->sec.source_guard)
		return -1;
	if (!h->ip4.src_be) /* a client without an address may only ask for one */
		return pkt_is_udp(h, PORTSEC_DHCP_CLIENT_PORT, PORTSEC_DHCP_SERVER_PORT)
			       ? -1
			       : PORT_DROP_SOURCE;
	return is_bound(ps, in, data + 6, h->ip4.src_be, now_ms) ? -1 : PORT_DROP_SOURCE;
}

static int check_arp(struct portsec *ps, struct port *in, const uint8_t *data, const struct pkt *h,
		     uint64_t now_ms)
{
	if (h->flags & PKT_F_BAD_L3)
		return in->sec.source_guard ? PORT_DROP_ARP : -1;
	if (memcmp(h->arp.sha, data + 6, 6))
		return PORT_DROP_ARP;
	if (!in->sec.source_guard || !h->arp.spa_be) /* RFC 5227 probes carry no sender address */
		return -1;
	return is_bound(ps, in, h->arp.sha, h->arp.spa_be, now_ms) ? -1 : PORT_DROP_ARP;
}

int portsec_check(struct portsec *ps, struct port *in, const uint8_t *data, size_t len,
		  const struct pkt *h, uint64_t now_ms)
{
	const struct port *owner;

	if (len < PKT_ETH_HLEN)
		return -1; /* the core counts runts before it asks */
	owner = ps->n_pins ? pin_owner(ps, data + 6) : NULL;
	if (owner && owner != in)
		return PORT_DROP_SPOOFED_MAC;
	if (in->sec.trusted)
		return -1;
	if (h->l3 == PKT_L3_ARP && !(h->flags & PKT_F_BAD_L3) &&
	    claims_pinned_ip(ps, in, h->arp.spa_be))
		return PORT_DROP_ARP;
	if (!in->sec.enabled)
		return -1;
	if (in->sec.n_macs && !mac_listed(&in->sec, data + 6))
		return PORT_DROP_MAC_LIMIT;
	switch (h->l3) {
	case PKT_L3_IPV4:
		return check_ipv4(ps, in, data, h, now_ms);
	case PKT_L3_ARP:
		return check_arp(ps, in, data, h, now_ms);
	case PKT_L3_IPV6:
		return -1;
	default:
		return in->sec.ip_only ? PORT_DROP_SOURCE : -1;
	}
}

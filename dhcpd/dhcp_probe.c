/* SPDX-License-Identifier: MIT */
/*
 * Address-use table for the DHCP endpoint (dhcp_probe.h). Frames are read
 * through the byte cursor only; a frame too short for what it claims to be
 * teaches nothing.
 */
#include "dhcpd/dhcp_probe.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/cur.h"

struct probe_slot {
	uint32_t addr_be;      /* 0 = empty */
	uint8_t mac[6];	       /* who used it */
	uint64_t last_seen_ms; /* monotonic */
};

struct dhcp_probe {
	struct probe_slot *slots;
	unsigned mask; /* slots - 1 */
};

int dhcp_probe_new(struct dhcp_probe **ret, unsigned slots)
{
	struct dhcp_probe *p;

	if (slots < 16 || slots > DHCP_PROBE_SLOTS_MAX || (slots & (slots - 1)))
		return -EINVAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->slots = calloc(slots, sizeof(*p->slots));
	if (!p->slots) {
		free(p);
		return -ENOMEM;
	}
	p->mask = slots - 1;
	*ret = p;
	return 0;
}

void dhcp_probe_free(struct dhcp_probe *p)
{
	if (!p)
		return;
	free(p->slots);
	free(p);
}

static struct probe_slot *slot_of(const struct dhcp_probe *p, uint32_t addr_be)
{
	uint32_t h = addr_be * 0x9e3779b1u; /* Fibonacci hashing spreads neighbouring addresses */

	return &p->slots[(h ^ (h >> 16)) & p->mask];
}

static void note(struct dhcp_probe *p, uint32_t addr_be, const uint8_t *mac, uint64_t now_ms)
{
	struct probe_slot *s;

	if (!addr_be || addr_be == 0xffffffffu || (mac[0] & 1))
		return; /* no address, broadcast, or a group MAC: nobody's */
	s = slot_of(p, addr_be);
	s->addr_be = addr_be;
	memcpy(s->mac, mac, 6);
	s->last_seen_ms = now_ms;
}

void dhcp_probe_observe(struct dhcp_probe *p, const uint8_t *frame, size_t len, uint64_t now_ms)
{
	struct cur c = cur_make(frame, len);
	const uint8_t *src_mac, *arp;
	uint16_t type;

	if (!cur_pull(&c, 6) || !(src_mac = cur_pull(&c, 6)) || cur_be16(&c, &type))
		return;
	if (type == 0x8100 && (!cur_pull(&c, 2) || cur_be16(&c, &type)))
		return;
	if (type == 0x0806) {
		uint32_t spa, tpa;

		/* Ethernet/IPv4 ARP: htype 1, ptype 0x0800, hlen 6, plen 4 */
		arp = cur_pull(&c, 28);
		if (!arp || get_be16(arp) != 1 || get_be16(arp + 2) != 0x0800 || arp[4] != 6 ||
		    arp[5] != 4)
			return;
		memcpy(&spa, arp + 14, 4);
		memcpy(&tpa, arp + 24, 4);
		/* RFC 5227: a probe (sender 0.0.0.0) announces the intent to use the target. */
		note(p, spa ? spa : tpa, arp + 8, now_ms);
	} else if (type == 0x0800) {
		const uint8_t *ip = cur_pull(&c, 20);
		uint32_t src;

		if (!ip || ip[0] >> 4 != 4)
			return;
		memcpy(&src, ip + 12, 4);
		note(p, src, src_mac, now_ms);
	}
}

bool dhcp_probe_in_use(const struct dhcp_probe *p, uint32_t addr_be, const uint8_t client_mac[6],
		       uint64_t now_ms, uint64_t window_ms)
{
	const struct probe_slot *s = slot_of(p, addr_be);

	if (!addr_be || s->addr_be != addr_be || !memcmp(s->mac, client_mac, 6))
		return false; /* 0 marks an empty slot: never "in use" */
	return now_ms >= s->last_seen_ms && now_ms - s->last_seen_ms <= window_ms;
}

/* SPDX-License-Identifier: MIT */
/*
 * Header parse of one frame (see pkt.h). Called by the switch core for every
 * frame, so it reads only what a reader needs and stops at the first header
 * it cannot use; the fuzz target fuzz_pkt drives it with any bytes.
 */
#include "common/pkt.h"

#include <string.h>

#include "common/bytes.h"
#include "common/cur.h"

#define PKT_IP4_MF	 0x2000u /* more fragments */
#define PKT_IP4_OFFSET	 0x1fffu
#define PKT_IP6_HLEN	 40u
#define PKT_IP6_HOPS_MAX 8u /* extension headers walked before giving up (RFC 7112 §5 spirit) */

/* Reads the ports of a TCP or UDP header at 'c', or flags it as not fitting. */
static void pkt_ports(struct pkt *p, struct cur c)
{
	const uint8_t *l4;

	if (p->ip_proto != PKT_IPPROTO_TCP && p->ip_proto != PKT_IPPROTO_UDP)
		return;
	l4 = cur_pull(&c, p->ip_proto == PKT_IPPROTO_UDP ? 8 : 20);
	if (!l4) {
		p->flags |= PKT_F_BAD_L4;
		return;
	}
	p->sport = get_be16(l4);
	p->dport = get_be16(l4 + 2);
}

static void pkt_arp(struct pkt *p, struct cur c)
{
	const uint8_t *a = cur_pull(&c, 28);

	/* Ethernet/IPv4 ARP only: htype 1, ptype 0x0800, hlen 6, plen 4. */
	if (!a || get_be16(a) != 1 || get_be16(a + 2) != PKT_ETH_P_IPV4 || a[4] != 6 || a[5] != 4) {
		p->flags |= PKT_F_BAD_L3;
		return;
	}
	p->arp.op = get_be16(a + 6);
	memcpy(p->arp.sha, a + 8, 6);
	memcpy(&p->arp.spa_be, a + 14, 4);
	memcpy(p->arp.tha, a + 18, 6);
	memcpy(&p->arp.tpa_be, a + 24, 4);
}

static void pkt_ip4(struct pkt *p, const uint8_t *frame, struct cur c)
{
	const uint8_t *ip = c.len >= 20 ? c.p : NULL;
	unsigned ihl, total;
	uint16_t frag;
	struct cur payload;

	if (!ip || ip[0] >> 4 != 4 || (ihl = (ip[0] & 0xfu) * 4u) < 20) {
		p->flags |= PKT_F_BAD_L3;
		return;
	}
	total = get_be16(ip + 2);
	/* The datagram must hold its header and fit the frame; Ethernet padding may follow. */
	if (total < ihl || cur_sub(&c, total, &payload) < 0 || !cur_pull(&payload, ihl)) {
		p->flags |= PKT_F_BAD_L3;
		return;
	}
	p->ip4.ihl = (uint8_t)ihl;
	p->ip_proto = ip[9];
	memcpy(&p->ip4.src_be, ip + 12, 4);
	memcpy(&p->ip4.dst_be, ip + 16, 4);
	frag = get_be16(ip + 6);
	if (frag & (PKT_IP4_MF | PKT_IP4_OFFSET)) {
		p->flags |= PKT_F_FRAGMENT;
		if (frag & PKT_IP4_OFFSET) {
			p->flags |= PKT_F_LATER;
			return;
		}
	}
	p->l4_off = (uint16_t)(payload.p - frame);
	p->l4_len = (uint32_t)payload.len;
	pkt_ports(p, payload);
}

/* Whether 'nh' is an IPv6 extension header this parser walks over. */
static int pkt_ip6_is_ext(uint8_t nh)
{
	return nh == 0 || nh == 43 || nh == 44 || nh == 60 || nh == 51;
}

static void pkt_ip6(struct pkt *p, const uint8_t *frame, struct cur c)
{
	const uint8_t *ip = c.len >= PKT_IP6_HLEN ? c.p : NULL;
	struct cur payload;
	uint8_t nh;

	if (!ip || ip[0] >> 4 != 6 || cur_sub(&c, PKT_IP6_HLEN + get_be16(ip + 4), &payload) < 0) {
		p->flags |= PKT_F_BAD_L3;
		return;
	}
	(void)cur_pull(&payload, PKT_IP6_HLEN);
	memcpy(p->ip6.src, ip + 8, 16);
	memcpy(p->ip6.dst, ip + 24, 16);
	p->ip6.hop_limit = ip[7];
	nh = ip[6];
	for (unsigned hops = 0; pkt_ip6_is_ext(nh); hops++) {
		const uint8_t *ext = payload.len >= 8 ? payload.p : NULL;
		size_t ext_len;

		if (!ext || hops == PKT_IP6_HOPS_MAX) {
			p->flags |= PKT_F_CHAIN;
			p->ip_proto = nh;
			return;
		}
		if (nh == 44) { /* fragment header: fixed 8 bytes */
			p->flags |= PKT_F_FRAGMENT;
			if (get_be16(ext + 2) & 0xfff8u) {
				p->flags |= PKT_F_LATER;
				p->ip_proto = ext[0];
				return;
			}
			ext_len = 8;
		} else if (nh == 51) { /* AH counts 4-byte words, less 2 (RFC 4302) */
			ext_len = ((size_t)ext[1] + 2) * 4;
		} else {
			ext_len = ((size_t)ext[1] + 1) * 8;
		}
		if (!cur_pull(&payload, ext_len)) {
			p->flags |= PKT_F_CHAIN;
			p->ip_proto = nh;
			return;
		}
		nh = ext[0];
	}
	p->ip_proto = nh;
	p->l4_off = (uint16_t)(payload.p - frame);
	p->l4_len = (uint32_t)payload.len;
	pkt_ports(p, payload);
}

void pkt_parse(struct pkt *ret, const uint8_t *frame, size_t len)
{
	struct cur c = cur_make(frame, len);

	memset(ret, 0, sizeof(*ret));
	if (!cur_pull(&c, 12) || cur_be16(&c, &ret->ethertype)) {
		ret->ethertype = 0;
		return;
	}
	/* Offsets are 16 bits: a GSO super-frame's headers always sit in its first bytes. */
	ret->l3_off = (uint16_t)PKT_ETH_HLEN;
	switch (ret->ethertype) {
	case PKT_ETH_P_ARP:
		ret->l3 = PKT_L3_ARP;
		pkt_arp(ret, c);
		break;
	case PKT_ETH_P_IPV4:
		ret->l3 = PKT_L3_IPV4;
		pkt_ip4(ret, frame, c);
		break;
	case PKT_ETH_P_IPV6:
		ret->l3 = PKT_L3_IPV6;
		pkt_ip6(ret, frame, c);
		break;
	default:
		ret->l3_off = 0;
		break;
	}
}

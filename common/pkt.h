/* SPDX-License-Identifier: MIT */
/*
 * One parse of a frame's headers, shared by every reader on the data path.
 * The switch core parses each frame once at ingress (after taking its 802.1Q
 * tag out) and hands the result along with the frame: port security, the
 * DHCP endpoint's conflict probe and server, and later the RA and DHCPv6
 * endpoints read these fields instead of walking the bytes again.
 *
 * Pure and cheap: no checksums are verified (a reader that answers a
 * packet, like the DHCP server, checks the ones it needs), nothing is
 * allocated, and the result holds offsets and values, never pointers, so it
 * stays valid for a copy of the frame with the same layout (an edge
 * checksum fix-up). Any bytes are accepted: what cannot be parsed is left
 * out and flagged, never guessed.
 */
#ifndef VSWITCH_COMMON_PKT_H
#define VSWITCH_COMMON_PKT_H

#include <stddef.h>
#include <stdint.h>

#define PKT_ETH_HLEN	  14u
#define PKT_ETH_P_IPV4	  0x0800u
#define PKT_ETH_P_ARP	  0x0806u
#define PKT_ETH_P_8021Q	  0x8100u
#define PKT_ETH_P_IPV6	  0x86ddu
#define PKT_IPPROTO_ICMP  1u
#define PKT_IPPROTO_TCP	  6u
#define PKT_IPPROTO_UDP	  17u
#define PKT_IPPROTO_ICMP6 58u

enum pkt_l3 {
	PKT_L3_NONE, /* no header this module knows, or the frame is shorter than Ethernet */
	PKT_L3_ARP,  /* Ethernet/IPv4 ARP: the 'arp' fields are set */
	PKT_L3_IPV4, /* the 'ip4' fields are set */
	PKT_L3_IPV6, /* the 'ip6' fields are set */
};

/* pkt.flags */
#define PKT_F_BAD_L3   0x01u /* the L3 header is truncated or malformed: its fields are unset */
#define PKT_F_FRAGMENT 0x02u /* an IP fragment (first or later) */
#define PKT_F_LATER    0x04u /* a fragment other than the first: it has no L4 header */
#define PKT_F_BAD_L4   0x08u /* 'ip_proto' is TCP or UDP but its header does not fit */
#define PKT_F_CHAIN    0x10u /* IPv6: the extension header chain could not be walked to its end */

struct pkt {
	uint16_t ethertype; /* host order: the type after the MAC addresses (untagged frames) */
	uint8_t l3;	    /* enum pkt_l3 */
	uint8_t flags;	    /* PKT_F_* */
	uint16_t l3_off;    /* offset of the ARP or IP header; 0 when l3 is PKT_L3_NONE */
	uint16_t l4_off;    /* offset of the upper-layer header; 0 = none (fragment, bad, none) */
	uint32_t l4_len;    /* bytes from l4_off to the end of the IP payload (not the frame) */
	uint8_t ip_proto;   /* IPv4 protocol; IPv6: the upper-layer header, or with
			     * PKT_F_CHAIN the header that could not be walked */
	uint16_t sport;	    /* UDP/TCP source port, host order; 0 without an L4 header */
	uint16_t dport;	    /* UDP/TCP destination port, host order */
	union {
		struct {
			uint32_t src_be, dst_be; /* network order */
			uint8_t ihl;		 /* header bytes (20..60) */
		} ip4;
		struct {
			uint8_t src[16], dst[16];
			uint8_t hop_limit;
		} ip6;
		struct {
			uint16_t op; /* 1 request, 2 reply */
			uint8_t sha[6];
			uint32_t spa_be;
			uint8_t tha[6];
			uint32_t tpa_be;
		} arp;
	};
};

/*
 * Parses the untagged Ethernet frame 'frame' ('len' bytes, borrowed) into
 * '*ret', which is always fully written. A frame shorter than an Ethernet
 * header gives PKT_L3_NONE with ethertype 0. An IPv4 header that claims
 * more than the frame holds, has a bad version or IHL, or an ARP packet
 * that is not Ethernet/IPv4, gives the l3 kind with PKT_F_BAD_L3. IPv6
 * extension headers (hop-by-hop, routing, fragment, destination options,
 * AH) are walked to the upper-layer header; a chain that runs past the
 * packet sets PKT_F_CHAIN (RFC 7112: such a first fragment must be
 * treated as suspect). Trailing Ethernet padding is not counted in l4_len.
 */
void pkt_parse(struct pkt *ret, const uint8_t *frame, size_t len);

/* Whether 'p' is UDP with an intact header from port 'sport' to port 'dport'. */
static inline int pkt_is_udp(const struct pkt *p, uint16_t sport, uint16_t dport)
{
	return p->l4_off && p->ip_proto == PKT_IPPROTO_UDP && p->sport == sport &&
	       p->dport == dport;
}

#endif

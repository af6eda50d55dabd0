/* SPDX-License-Identifier: MIT */
/* Unit tests of the one-parse header reader (common/pkt.c): exact fields for each kind of frame. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/bytes.h"
#include "common/pkt.h"

static const uint8_t mac_a[6] = { 0x52, 0x54, 0x00, 0x00, 0x00, 0x0a };

/* Ethernet header to broadcast from mac_a with 'type'; returns the next offset. */
static size_t eth(uint8_t *f, uint16_t type)
{
	memset(f, 0xff, 6);
	memcpy(f + 6, mac_a, 6);
	put_be16(f + 12, type);
	return 14;
}

/* IPv4 header at 'o' with 'payload' bytes after it; returns the L4 offset. */
static size_t ip4(uint8_t *f, size_t o, uint8_t proto, uint16_t payload, uint16_t frag)
{
	f[o] = 0x45;
	put_be16(f + o + 2, (uint16_t)(20 + payload));
	put_be16(f + o + 6, frag);
	f[o + 8] = 64;
	f[o + 9] = proto;
	put_be32(f + o + 12, 0x0a000005);
	put_be32(f + o + 16, 0xffffffff);
	return o + 20;
}

static void test_short_frame(void **state)
{
	uint8_t f[13] = { 0 };
	struct pkt p;

	(void)state;
	memset(&p, 0xaa, sizeof(p));
	pkt_parse(&p, f, sizeof(f));
	assert_int_equal(p.l3, PKT_L3_NONE);
	assert_int_equal(p.ethertype, 0);
	assert_int_equal(p.l3_off, 0);
	assert_int_equal(p.flags, 0);
}

static void test_unknown_ethertype(void **state)
{
	uint8_t f[60] = { 0 };
	struct pkt p;

	(void)state;
	eth(f, 0x88cc); /* LLDP */
	pkt_parse(&p, f, sizeof(f));
	assert_int_equal(p.l3, PKT_L3_NONE);
	assert_int_equal(p.ethertype, 0x88cc);
	assert_int_equal(p.l3_off, 0);
}

static void test_arp(void **state)
{
	uint8_t f[60] = { 0 };
	size_t o = eth(f, PKT_ETH_P_ARP);
	struct pkt p;

	(void)state;
	put_be16(f + o, 1);
	put_be16(f + o + 2, 0x0800);
	f[o + 4] = 6;
	f[o + 5] = 4;
	put_be16(f + o + 6, 2);
	memcpy(f + o + 8, mac_a, 6);
	put_be32(f + o + 14, 0x0a000005);
	put_be32(f + o + 24, 0x0a000001);
	pkt_parse(&p, f, sizeof(f));
	assert_int_equal(p.l3, PKT_L3_ARP);
	assert_int_equal(p.flags, 0);
	assert_int_equal(p.l3_off, 14);
	assert_int_equal(p.arp.op, 2);
	assert_memory_equal(p.arp.sha, mac_a, 6);
	assert_int_equal(get_be32(&p.arp.spa_be), 0x0a000005);
	assert_int_equal(get_be32(&p.arp.tpa_be), 0x0a000001);

	f[o + 5] = 16; /* not IPv4 ARP */
	pkt_parse(&p, f, sizeof(f));
	assert_int_equal(p.l3, PKT_L3_ARP);
	assert_int_equal(p.flags, PKT_F_BAD_L3);
	pkt_parse(&p, f, o + 27); /* one byte short */
	assert_int_equal(p.flags, PKT_F_BAD_L3);
}

static void test_ipv4_udp_with_padding(void **state)
{
	uint8_t f[64] = { 0 };
	size_t l4 = ip4(f, eth(f, PKT_ETH_P_IPV4), PKT_IPPROTO_UDP, 8 + 4, 0);
	struct pkt p;

	(void)state;
	put_be16(f + l4, 68);
	put_be16(f + l4 + 2, 67);
	pkt_parse(&p, f, sizeof(f)); /* 64 bytes: 46 of datagram, the rest Ethernet padding */
	assert_int_equal(p.l3, PKT_L3_IPV4);
	assert_int_equal(p.flags, 0);
	assert_int_equal(p.ip_proto, PKT_IPPROTO_UDP);
	assert_int_equal(p.ip4.ihl, 20);
	assert_int_equal(p.l4_off, 34);
	assert_int_equal(p.l4_len, 12);
	assert_int_equal(get_be32(&p.ip4.src_be), 0x0a000005);
	assert_int_equal(p.ip4.dst_be, 0xffffffffu);
	assert_true(pkt_is_udp(&p, 68, 67));
	assert_false(pkt_is_udp(&p, 67, 68));
}

static void test_ipv4_bad(void **state)
{
	uint8_t f[60] = { 0 };
	size_t o = eth(f, PKT_ETH_P_IPV4);
	struct pkt p;

	(void)state;
	ip4(f, o, PKT_IPPROTO_UDP, 26, 0);
	f[o] = 0x44; /* IHL 16 bytes */
	pkt_parse(&p, f, sizeof(f));
	assert_int_equal(p.flags, PKT_F_BAD_L3);
	assert_int_equal(p.l4_off, 0);
	f[o] = 0x45;
	put_be16(f + o + 2, 200); /* longer than the frame */
	pkt_parse(&p, f, sizeof(f));
	assert_int_equal(p.flags, PKT_F_BAD_L3);
	put_be16(f + o + 2, 24); /* UDP header cut short */
	pkt_parse(&p, f, sizeof(f));
	assert_int_equal(p.flags, PKT_F_BAD_L4);
	assert_int_equal(p.sport, 0);
}

static void test_ipv4_fragments(void **state)
{
	uint8_t f[60] = { 0 };
	size_t o = eth(f, PKT_ETH_P_IPV4), l4;
	struct pkt p;

	(void)state;
	l4 = ip4(f, o, PKT_IPPROTO_UDP, 26, 0x2000); /* first fragment */
	put_be16(f + l4, 1000);
	put_be16(f + l4 + 2, 53);
	pkt_parse(&p, f, sizeof(f));
	assert_int_equal(p.flags, PKT_F_FRAGMENT);
	assert_int_equal(p.dport, 53);
	ip4(f, o, PKT_IPPROTO_UDP, 26, 0x0003); /* last fragment, offset 24 */
	pkt_parse(&p, f, sizeof(f));
	assert_int_equal(p.flags, PKT_F_FRAGMENT | PKT_F_LATER);
	assert_int_equal(p.l4_off, 0);
	assert_int_equal(p.dport, 0);
	assert_int_equal(get_be32(&p.ip4.src_be), 0x0a000005);
}

/* IPv6 to ff02::1 with the given chain at offset 54; returns that offset. */
static size_t ip6(uint8_t *f, uint8_t nh, uint16_t payload)
{
	size_t o = eth(f, PKT_ETH_P_IPV6);

	f[o] = 0x60;
	put_be16(f + o + 4, payload);
	f[o + 6] = nh;
	f[o + 7] = 255;
	f[o + 8] = 0xfe;
	f[o + 9] = 0x80;
	f[o + 23] = 1;
	f[o + 24] = 0xff;
	f[o + 25] = 0x02;
	f[o + 39] = 1;
	return o + 40;
}

static void test_ipv6_chain(void **state)
{
	uint8_t f[128] = { 0 };
	size_t o = ip6(f, 0, 8 + 16 + 16); /* hop-by-hop, destination options, ICMPv6 */
	struct pkt p;

	(void)state;
	f[o] = 60;
	f[o + 1] = 0;
	f[o + 8] = PKT_IPPROTO_ICMP6;
	f[o + 9] = 1; /* 16 bytes */
	f[o + 24] = 134;
	pkt_parse(&p, f, o + 40);
	assert_int_equal(p.l3, PKT_L3_IPV6);
	assert_int_equal(p.flags, 0);
	assert_int_equal(p.ip_proto, PKT_IPPROTO_ICMP6);
	assert_int_equal(p.l4_off, o + 24);
	assert_int_equal(p.l4_len, 16);
	assert_int_equal(p.ip6.hop_limit, 255);
	assert_int_equal(p.ip6.dst[0], 0xff);

	/* The payload length says the destination options run past the packet. */
	ip6(f, 0, 8 + 8);
	pkt_parse(&p, f, o + 16);
	assert_int_equal(p.flags, PKT_F_CHAIN);
	assert_int_equal(p.ip_proto, 60);
	assert_int_equal(p.l4_off, 0);
}

static void test_ipv6_fragment(void **state)
{
	uint8_t f[128] = { 0 };
	size_t o = ip6(f, 44, 8 + 8);
	struct pkt p;

	(void)state;
	f[o] = PKT_IPPROTO_UDP;
	put_be16(f + o + 2, 0x0001); /* offset 0, more fragments */
	put_be16(f + o + 8, 546);
	put_be16(f + o + 10, 547);
	pkt_parse(&p, f, o + 16);
	assert_int_equal(p.flags, PKT_F_FRAGMENT);
	assert_true(pkt_is_udp(&p, 546, 547));
	put_be16(f + o + 2, 0x0010); /* offset 16 */
	pkt_parse(&p, f, o + 16);
	assert_int_equal(p.flags, PKT_F_FRAGMENT | PKT_F_LATER);
	assert_int_equal(p.ip_proto, PKT_IPPROTO_UDP);
	assert_int_equal(p.l4_off, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_short_frame), cmocka_unit_test(test_unknown_ethertype),
		cmocka_unit_test(test_arp),	    cmocka_unit_test(test_ipv4_udp_with_padding),
		cmocka_unit_test(test_ipv4_bad),    cmocka_unit_test(test_ipv4_fragments),
		cmocka_unit_test(test_ipv6_chain),  cmocka_unit_test(test_ipv6_fragment),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

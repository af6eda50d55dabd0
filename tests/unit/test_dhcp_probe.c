/* SPDX-License-Identifier: MIT */
/* Unit tests of the DHCP server's passive conflict detection. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/bytes.h"
#include "dhcpd/dhcp_probe.h"

#define IP(d) __builtin_bswap32(0x0a520000u | (d)) /* 10.82.0.d in network order */

static const uint8_t mac_a[6] = { 0x52, 0x54, 0, 0, 0, 0xa };
static const uint8_t mac_b[6] = { 0x52, 0x54, 0, 0, 0, 0xb };

/* An ARP packet from 'sha'/'spa' asking for 'tpa'. */
static size_t arp(uint8_t *f, const uint8_t *sha, uint32_t spa, uint32_t tpa)
{
	memset(f, 0, 60);
	memset(f, 0xff, 6);
	memcpy(f + 6, sha, 6);
	put_be16(f + 12, 0x0806);
	put_be16(f + 14, 1);
	put_be16(f + 16, 0x0800);
	f[18] = 6;
	f[19] = 4;
	put_be16(f + 20, 1);
	memcpy(f + 22, sha, 6);
	memcpy(f + 28, &spa, 4);
	memcpy(f + 38, &tpa, 4);
	return 60;
}

static void test_arp_sender_and_probe(void **state)
{
	struct dhcp_probe *p;
	uint8_t f[64];

	(void)state;
	assert_int_equal(dhcp_probe_new(&p, 64), 0);
	assert_false(dhcp_probe_in_use(p, IP(16), mac_b, 1000, 600000));
	dhcp_probe_observe(p, f, arp(f, mac_a, IP(16), IP(1)), 1000);
	assert_true(dhcp_probe_in_use(p, IP(16), mac_b, 1000, 600000));
	/* the host itself asking for its own address back is no conflict */
	assert_false(dhcp_probe_in_use(p, IP(16), mac_a, 1000, 600000));
	/* forgotten after the window */
	assert_true(dhcp_probe_in_use(p, IP(16), mac_b, 601000, 600000));
	assert_false(dhcp_probe_in_use(p, IP(16), mac_b, 601001, 600000));
	/* RFC 5227 probe: sender 0.0.0.0 claims the target */
	dhcp_probe_observe(p, f, arp(f, mac_a, 0, IP(20)), 2000);
	assert_true(dhcp_probe_in_use(p, IP(20), mac_b, 2000, 600000));
	assert_false(dhcp_probe_in_use(p, 0, mac_b, 2000, 600000));
	dhcp_probe_free(p);
	dhcp_probe_free(NULL);
}

static void test_ipv4_source(void **state)
{
	struct dhcp_probe *p;
	uint8_t f[64] = { 0 };
	uint32_t src = IP(30);

	(void)state;
	assert_int_equal(dhcp_probe_new(&p, 16), 0);
	memcpy(f + 6, mac_a, 6);
	put_be16(f + 12, 0x0800);
	f[14] = 0x45;
	memcpy(f + 26, &src, 4);
	dhcp_probe_observe(p, f, 34, 5);
	assert_true(dhcp_probe_in_use(p, IP(30), mac_b, 5, 10));
	/* a DHCP client's own 0.0.0.0 source teaches nothing */
	memset(f + 26, 0, 4);
	dhcp_probe_observe(p, f, 34, 5);
	assert_false(dhcp_probe_in_use(p, 0, mac_b, 5, 10));
	dhcp_probe_free(p);
}

static void test_bad_input(void **state)
{
	struct dhcp_probe *p;
	uint8_t f[64];
	size_t n;

	(void)state;
	assert_int_equal(dhcp_probe_new(&p, 15), -EINVAL);
	assert_int_equal(dhcp_probe_new(&p, 8), -EINVAL);
	assert_int_equal(dhcp_probe_new(&p, DHCP_PROBE_SLOTS_MAX * 2), -EINVAL);
	assert_int_equal(dhcp_probe_new(&p, 16), 0);
	n = arp(f, mac_a, IP(40), IP(1));
	for (size_t len = 0; len < 42; len++) /* every truncation of the ARP packet */
		dhcp_probe_observe(p, f, len, 1);
	assert_false(dhcp_probe_in_use(p, IP(40), mac_b, 1, 10));
	f[19] = 16; /* plen 16: not IPv4 ARP */
	dhcp_probe_observe(p, f, n, 1);
	assert_false(dhcp_probe_in_use(p, IP(40), mac_b, 1, 10));
	n = arp(f, (const uint8_t[]){ 0x01, 0, 0x5e, 0, 0, 1 }, IP(41), IP(1)); /* group sender */
	dhcp_probe_observe(p, f, n, 1);
	assert_false(dhcp_probe_in_use(p, IP(41), mac_b, 1, 10));
	/* more addresses than slots: the table forgets, never grows or breaks */
	for (uint32_t i = 0; i < 1000; i++)
		dhcp_probe_observe(p, f, arp(f, mac_a, IP(100 + i), IP(1)), 2);
	assert_true(dhcp_probe_in_use(p, IP(1099), mac_b, 2, 10));
	dhcp_probe_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_arp_sender_and_probe),
		cmocka_unit_test(test_ipv4_source),
		cmocka_unit_test(test_bad_input),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

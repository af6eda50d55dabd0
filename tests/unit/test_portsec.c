/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the port security rules (vswitch/portsec.c): pinned
 * addresses, the DHCP guard and rate, ARP inspection, the source guard with
 * its binding oracle and cache, locked MACs and ip-only ports.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/bytes.h"
#include "common/pkt.h"
#include "vswitch/port.h"
#include "vswitch/portsec.h"

static const uint8_t gw_mac[6] = { 0x52, 0x54, 0x00, 0xaa, 0x00, 0x01 };
static const uint8_t vm_mac[6] = { 0x52, 0x54, 0x00, 0x00, 0x00, 0x05 };
static const uint8_t other_mac[6] = { 0x52, 0x54, 0x00, 0x00, 0x00, 0x06 };
#define GW_IP  __builtin_bswap32(0x0a3f0001u)
#define VM_IP  __builtin_bswap32(0x0a3f0011u)
#define ANY_IP __builtin_bswap32(0x08080808u)

struct fixture {
	struct portsec *ps;
	struct port host, guest, uplink;
	uint8_t f[128];
	size_t len;
	unsigned oracle_calls;
	bool oracle_says;
};

static int setup(void **state)
{
	struct fixture *fx = test_calloc(1, sizeof(*fx));

	assert_int_equal(portsec_new(&fx->ps), 0);
	fx->host.sec.trusted = true;
	fx->uplink.sec.trusted = true;
	fx->guest.sec.enabled = true;
	assert_int_equal(portsec_pin(fx->ps, &fx->host, gw_mac, GW_IP), 0);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	portsec_free(fx->ps);
	test_free(fx);
	return 0;
}

static void eth(struct fixture *fx, const uint8_t src[6], uint16_t type)
{
	memset(fx->f, 0, sizeof(fx->f));
	memset(fx->f, 0xff, 6);
	memcpy(fx->f + 6, src, 6);
	put_be16(fx->f + 12, type);
	fx->len = 60;
}

static void arp(struct fixture *fx, const uint8_t src[6], const uint8_t sha[6], uint32_t spa_be)
{
	uint8_t *a = fx->f + 14;

	eth(fx, src, PKT_ETH_P_ARP);
	put_be16(a, 1);
	put_be16(a + 2, 0x0800);
	a[4] = 6;
	a[5] = 4;
	put_be16(a + 6, 1);
	memcpy(a + 8, sha, 6);
	memcpy(a + 14, &spa_be, 4);
	memcpy(a + 24, &spa_be, 4); /* gratuitous: target = sender */
}

/* IPv4 UDP from 'src_be':'sport' to port 'dport' with a BOOTP chaddr. */
static void udp(struct fixture *fx, const uint8_t src[6], uint32_t src_be, uint16_t sport,
		uint16_t dport, const uint8_t chaddr[6])
{
	uint8_t *ip = fx->f + 14, *u = ip + 20;

	eth(fx, src, PKT_ETH_P_IPV4);
	ip[0] = 0x45;
	put_be16(ip + 2, 20 + 8 + 40);
	ip[9] = PKT_IPPROTO_UDP;
	memcpy(ip + 12, &src_be, 4);
	memset(ip + 16, 0xff, 4);
	put_be16(u, sport);
	put_be16(u + 2, dport);
	put_be16(u + 4, 8 + 40);
	memcpy(u + 8 + 28, chaddr, 6);
	fx->len = 14 + 20 + 8 + 40;
}

static int check(struct fixture *fx, struct port *in, uint64_t now_ms)
{
	struct pkt h;

	pkt_parse(&h, fx->f, fx->len);
	return portsec_check(fx->ps, in, fx->f, fx->len, &h, now_ms);
}

static bool oracle(void *ctx, const uint8_t mac[6], uint32_t addr_be, uint64_t *ret_secs)
{
	struct fixture *fx = ctx;

	fx->oracle_calls++;
	if (!fx->oracle_says || memcmp(mac, vm_mac, 6) || addr_be != VM_IP)
		return false;
	*ret_secs = 3600;
	return true;
}

static void test_pins(void **state)
{
	struct fixture *fx = *state;
	static const uint8_t group[6] = { 0x01, 0, 0x5e, 0, 0, 1 };

	assert_int_equal(portsec_pin(fx->ps, &fx->host, gw_mac, 0), 0);
	assert_int_equal(portsec_pin(fx->ps, &fx->guest, gw_mac, 0), -EEXIST);
	assert_int_equal(portsec_pin(fx->ps, &fx->guest, other_mac, GW_IP), -EEXIST);
	assert_int_equal(portsec_pin(fx->ps, &fx->guest, group, 0), -EINVAL);

	/* The gateway's MAC from anywhere else: a guest, an uplink, a port with security off. */
	eth(fx, gw_mac, PKT_ETH_P_IPV4);
	assert_int_equal(check(fx, &fx->host, 0), -1);
	assert_int_equal(check(fx, &fx->guest, 0), PORT_DROP_SPOOFED_MAC);
	assert_int_equal(check(fx, &fx->uplink, 0), PORT_DROP_SPOOFED_MAC);
	fx->guest.sec.enabled = false;
	assert_int_equal(check(fx, &fx->guest, 0), PORT_DROP_SPOOFED_MAC);

	portsec_unpin_port(fx->ps, &fx->host);
	assert_int_equal(check(fx, &fx->guest, 0), -1);
}

static void test_arp_claiming_gateway(void **state)
{
	struct fixture *fx = *state;

	/* A gratuitous ARP for the gateway's address, from the guest's own MAC. */
	arp(fx, vm_mac, vm_mac, GW_IP);
	assert_int_equal(check(fx, &fx->guest, 0), PORT_DROP_ARP);
	fx->guest.sec.enabled = false; /* 'off' still keeps the switch's own addresses */
	assert_int_equal(check(fx, &fx->guest, 0), PORT_DROP_ARP);
	assert_int_equal(check(fx, &fx->uplink, 0), -1);
	assert_int_equal(check(fx, &fx->host, 0), -1);
	arp(fx, vm_mac, vm_mac, VM_IP);
	assert_int_equal(check(fx, &fx->guest, 0), -1);
}

static void test_dhcp_guard(void **state)
{
	struct fixture *fx = *state;

	udp(fx, other_mac, ANY_IP, 67, 68, vm_mac); /* a rogue OFFER */
	assert_int_equal(check(fx, &fx->guest, 0), PORT_DROP_DHCP_GUARD);
	assert_int_equal(check(fx, &fx->uplink, 0), -1);
	udp(fx, vm_mac, 0, 68, 67, other_mac); /* starvation: chaddr is not the sender */
	assert_int_equal(check(fx, &fx->guest, 0), PORT_DROP_DHCP_GUARD);
	udp(fx, vm_mac, 0, 68, 67, vm_mac);
	assert_int_equal(check(fx, &fx->guest, 0), -1);
	fx->len = 14 + 20 + 8 + 30; /* cut before chaddr ends */
	put_be16(fx->f + 14 + 2, 20 + 8 + 30);
	assert_int_equal(check(fx, &fx->guest, 0), PORT_DROP_DHCP_GUARD);
	fx->guest.sec.enabled = false;
	udp(fx, other_mac, ANY_IP, 67, 68, vm_mac);
	assert_int_equal(check(fx, &fx->guest, 0), -1);
}

static void test_dhcp_rate(void **state)
{
	struct fixture *fx = *state;
	unsigned passed = 0;

	fx->guest.sec.dhcp_rate = 10; /* burst 20 */
	udp(fx, vm_mac, 0, 68, 67, vm_mac);
	for (int i = 0; i < 100; i++)
		passed += check(fx, &fx->guest, 5000) == -1;
	assert_int_equal(passed, 20);
	assert_int_equal(check(fx, &fx->guest, 5099), PORT_DROP_DHCP_RATE);
	assert_int_equal(check(fx, &fx->guest, 5100), -1); /* 100 ms: one token at 10/s */
	assert_int_equal(check(fx, &fx->guest, 5100), PORT_DROP_DHCP_RATE);
	passed = 0;
	for (int i = 0; i < 100; i++)
		passed += check(fx, &fx->guest, 65000) == -1;
	assert_int_equal(passed, 20); /* a minute idle refills only the burst */
	/* Other UDP is not counted against DHCP. */
	udp(fx, vm_mac, VM_IP, 5000, 53, vm_mac);
	assert_int_equal(check(fx, &fx->guest, 65000), -1);
}

static void test_arp_inspection(void **state)
{
	struct fixture *fx = *state;

	arp(fx, vm_mac, other_mac, VM_IP); /* sender MAC is not the frame's */
	assert_int_equal(check(fx, &fx->guest, 0), PORT_DROP_ARP);
	fx->guest.sec.source_guard = true;
	portsec_set_bound(fx->ps, oracle, fx);
	arp(fx, vm_mac, vm_mac, VM_IP);
	assert_int_equal(check(fx, &fx->guest, 0), PORT_DROP_ARP);
	arp(fx, vm_mac, vm_mac, 0); /* RFC 5227 probe */
	assert_int_equal(check(fx, &fx->guest, 0), -1);
	fx->oracle_says = true;
	arp(fx, vm_mac, vm_mac, VM_IP);
	assert_int_equal(check(fx, &fx->guest, 0), -1);
}

static void test_source_guard(void **state)
{
	struct fixture *fx = *state;

	fx->guest.sec.source_guard = true;
	portsec_set_bound(fx->ps, oracle, fx);
	udp(fx, vm_mac, VM_IP, 5000, 53, vm_mac);
	assert_int_equal(check(fx, &fx->guest, 0), PORT_DROP_SOURCE);
	assert_int_equal(fx->oracle_calls, 1);
	udp(fx, vm_mac, 0, 68, 67, vm_mac); /* a client without an address asks for one */
	assert_int_equal(check(fx, &fx->guest, 0), -1);
	udp(fx, vm_mac, 0, 5000, 53, vm_mac);
	assert_int_equal(check(fx, &fx->guest, 0), PORT_DROP_SOURCE);

	/* Leased: asked once, then remembered for PORTSEC_CACHE_MS, then asked again. */
	fx->oracle_says = true;
	fx->oracle_calls = 0;
	udp(fx, vm_mac, VM_IP, 5000, 53, vm_mac);
	assert_int_equal(check(fx, &fx->guest, 1000), -1);
	assert_int_equal(check(fx, &fx->guest, 2000), -1);
	assert_int_equal(fx->oracle_calls, 1);
	fx->oracle_says = false; /* the lease ended */
	assert_int_equal(check(fx, &fx->guest, 1000 + PORTSEC_CACHE_MS - 1), -1);
	assert_int_equal(check(fx, &fx->guest, 1000 + PORTSEC_CACHE_MS), PORT_DROP_SOURCE);
	/* The same address from another MAC is not bound to it. */
	fx->oracle_says = true;
	udp(fx, other_mac, VM_IP, 5000, 53, other_mac);
	assert_int_equal(check(fx, &fx->guest, 99000), PORT_DROP_SOURCE);

	/* A static guest's listed address needs no lease. */
	fx->guest.sec.addrs_be[fx->guest.sec.n_addrs++] = ANY_IP;
	udp(fx, other_mac, ANY_IP, 5000, 53, other_mac);
	assert_int_equal(check(fx, &fx->guest, 99000), -1);
	/* A malformed IPv4 header cannot prove its source. */
	fx->f[14] = 0x43;
	assert_int_equal(check(fx, &fx->guest, 99000), PORT_DROP_SOURCE);
}

static void test_locked_and_ip_only(void **state)
{
	struct fixture *fx = *state;

	memcpy(fx->guest.sec.macs[0], vm_mac, 6);
	fx->guest.sec.n_macs = 1;
	eth(fx, other_mac, PKT_ETH_P_IPV4);
	assert_int_equal(check(fx, &fx->guest, 0), PORT_DROP_MAC_LIMIT);
	eth(fx, vm_mac, 0x88cc);
	assert_int_equal(check(fx, &fx->guest, 0), -1);
	fx->guest.sec.ip_only = true;
	assert_int_equal(check(fx, &fx->guest, 0), PORT_DROP_SOURCE);
	eth(fx, vm_mac, PKT_ETH_P_IPV6);
	assert_int_equal(check(fx, &fx->guest, 0), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pins, setup, teardown),
		cmocka_unit_test_setup_teardown(test_arp_claiming_gateway, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dhcp_guard, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dhcp_rate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_arp_inspection, setup, teardown),
		cmocka_unit_test_setup_teardown(test_source_guard, setup, teardown),
		cmocka_unit_test_setup_teardown(test_locked_and_ip_only, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

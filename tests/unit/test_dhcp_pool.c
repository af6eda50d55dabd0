/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the DHCP address pool (dhcpd/dhcp_pool.c): the reserved first
 * 16 addresses, allocation order (never-used, then free the longest), one
 * record per client key, probing, and the caps on withheld addresses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <endian.h>
#include <errno.h>
#include <cmocka.h>

#include "dhcpd/dhcp_pool.h"

#define A(x) htobe32(0xc0a80000u | (x)) /* 192.168.0.x */
#define SEC  1000000ull

static uint8_t macs[64][6];

static struct dhcp_key key_of(unsigned i)
{
	return (struct dhcp_key){ .mac = macs[i] };
}

static int setup(void **state)
{
	(void)state;
	for (unsigned i = 0; i < 64; i++) {
		macs[i][0] = 0x52;
		macs[i][5] = (uint8_t)i;
	}
	return 0;
}

static void test_new_limits(void **state)
{
	struct dhcp_pool *p = NULL;

	(void)state;
	assert_int_equal(dhcp_pool_new(&p, A(0), A(15)), -EINVAL);
	assert_int_equal(dhcp_pool_new(&p, A(10), A(5)), -EINVAL);
	assert_int_equal(dhcp_pool_new(&p, htobe32(0x0a000000), htobe32(0x0a010010)), -E2BIG);
	assert_null(p);
	assert_int_equal(dhcp_pool_new(&p, A(0), A(16)), 0);
	assert_int_equal(dhcp_pool_size(p), 1);
	dhcp_pool_free(p);
	assert_int_equal(dhcp_pool_new(&p, htobe32(0x0a000000), htobe32(0x0a01000f)), 0);
	assert_int_equal(dhcp_pool_size(p), DHCP_POOL_ADDRS_MAX);
	dhcp_pool_free(p);
	dhcp_pool_free(NULL);
}

static void test_reserved_never_leased(void **state)
{
	struct dhcp_pool *p;
	struct dhcp_lease *l;
	unsigned n = 0;

	(void)state;
	assert_int_equal(dhcp_pool_new(&p, A(0), A(255)), 0);
	assert_int_equal(dhcp_pool_size(p), 240);
	for (unsigned i = 0; i < 16; i++)
		assert_null(dhcp_pool_lease(p, A(i)));
	assert_non_null(dhcp_pool_lease(p, A(16)));
	assert_int_equal(dhcp_pool_set_static(p, A(3)), -ENOENT);
	dhcp_pool_exclude(p, A(255));
	while ((l = dhcp_pool_alloc(p, 0, NULL, NULL, 0))) {
		struct dhcp_key k = { .mac = macs[0] };
		uint8_t cid[2] = { (uint8_t)n, (uint8_t)(n >> 8) };

		k.cid = cid;
		k.cid_len = 2;
		assert_true(be32toh(l->addr_be) - 0xc0a80000u >= 16);
		assert_true(be32toh(l->addr_be) - 0xc0a80000u < 255);
		dhcp_pool_assign(p, l, &k, DHCP_LEASE_BOUND, 100 * SEC);
		n++;
	}
	assert_int_equal(n, 239);
	dhcp_pool_free(p);
}

static void test_alloc_order_and_reuse(void **state)
{
	struct dhcp_pool *p;
	struct dhcp_lease *l;
	struct dhcp_key k;

	(void)state;
	assert_int_equal(dhcp_pool_new(&p, A(0), A(19)), 0); /* .16-.19 */
	for (unsigned i = 0; i < 4; i++) {
		k = key_of(i);
		l = dhcp_pool_alloc(p, 0, NULL, NULL, 0);
		assert_non_null(l);
		assert_int_equal(l->addr_be, A(16 + i));
		/* Leases end at 10, 40, 30, 20 s. */
		dhcp_pool_assign(p, l, &k, DHCP_LEASE_BOUND,
				 (uint64_t)((4 - i) % 4 + 1) * 10 * SEC);
	}
	assert_null(dhcp_pool_alloc(p, 5 * SEC, NULL, NULL, 0));
	/* At 35 s three have expired: the one free the longest (.16, at 10 s) comes first. */
	l = dhcp_pool_alloc(p, 35 * SEC, NULL, NULL, 0);
	assert_int_equal(l->addr_be, A(16));
	assert_int_equal(dhcp_pool_state(l, 35 * SEC), DHCP_LEASE_EXPIRED);
	/* Its previous client is still known until someone else takes it. */
	k = key_of(0);
	assert_ptr_equal(dhcp_pool_find(p, &k), l);
	k = key_of(9);
	dhcp_pool_assign(p, l, &k, DHCP_LEASE_OFFERED, 95 * SEC);
	k = key_of(0);
	assert_null(dhcp_pool_find(p, &k));
	l = dhcp_pool_alloc(p, 35 * SEC, NULL, NULL, 0);
	assert_int_equal(l->addr_be, A(19));
	dhcp_pool_free(p);
}

static void test_one_record_per_key(void **state)
{
	struct dhcp_pool *p;
	struct dhcp_lease *a, *b;
	struct dhcp_key k = key_of(1), kc = key_of(1);
	static const uint8_t cid[] = { 0xff, 1, 2, 3, 4 };

	(void)state;
	kc.cid = cid;
	kc.cid_len = sizeof(cid);
	assert_int_equal(dhcp_pool_new(&p, A(0), A(255)), 0);
	a = dhcp_pool_lease(p, A(20));
	b = dhcp_pool_lease(p, A(21));
	dhcp_pool_assign(p, a, &k, DHCP_LEASE_BOUND, 10 * SEC);
	assert_ptr_equal(dhcp_pool_find(p, &k), a);
	assert_null(dhcp_pool_find(p, &kc)); /* same MAC, but keyed by client-id */
	dhcp_pool_assign(p, b, &kc, DHCP_LEASE_BOUND, 10 * SEC);
	assert_ptr_equal(dhcp_pool_find(p, &kc), b);
	assert_true(dhcp_pool_is_client(b, &kc));
	assert_false(dhcp_pool_is_client(b, &k));
	/* Moving a key frees its old record. */
	dhcp_pool_assign(p, a, &kc, DHCP_LEASE_BOUND, 10 * SEC);
	assert_ptr_equal(dhcp_pool_find(p, &kc), a);
	assert_false(b->has_client);
	assert_int_equal(dhcp_pool_state(b, 0), DHCP_LEASE_FREE);
	assert_null(dhcp_pool_find(p, &k));
	dhcp_pool_free(p);
}

static bool in_use_17(void *ctx, uint32_t addr_be)
{
	(*(unsigned *)ctx)++;
	return addr_be == A(16) || addr_be == A(17);
}

static bool in_use_all(void *ctx, uint32_t addr_be)
{
	(void)addr_be;
	(*(unsigned *)ctx)++;
	return true;
}

static void test_probe(void **state)
{
	struct dhcp_pool *p;
	struct dhcp_lease *l;
	unsigned n = 0;

	(void)state;
	assert_int_equal(dhcp_pool_new(&p, A(0), A(255)), 0);
	l = dhcp_pool_alloc(p, 0, in_use_17, &n, 60 * SEC);
	assert_int_equal(l->addr_be, A(18));
	assert_int_equal(n, 3);
	assert_int_equal(dhcp_pool_state(dhcp_pool_lease(p, A(16)), 1), DHCP_LEASE_DECLINED);
	assert_int_equal(dhcp_pool_n_withheld(p, 1), 2);
	assert_int_equal(dhcp_pool_n_withheld(p, 60 * SEC), 0);
	/* Bounded work when everything answers. */
	n = 0;
	assert_null(dhcp_pool_alloc(p, 0, in_use_all, &n, 60 * SEC));
	assert_int_equal(n, DHCP_POOL_PROBES_MAX);
	dhcp_pool_free(p);
}

static void test_withhold_caps(void **state)
{
	struct dhcp_pool *p;
	struct dhcp_key k = key_of(1);

	(void)state;
	assert_int_equal(dhcp_pool_new(&p, A(0), A(255)), 0);
	/* One client: at most DHCP_WITHHELD_CLIENT_MAX withheld; the oldest goes first. */
	for (unsigned i = 0; i < DHCP_WITHHELD_CLIENT_MAX + 2; i++) {
		struct dhcp_lease *l = dhcp_pool_lease(p, A(20 + i));
		int freed;

		dhcp_pool_assign(p, l, &k, DHCP_LEASE_BOUND, 100 * SEC);
		freed = dhcp_pool_withhold(p, l, &k, i * SEC, (600 + i) * SEC);
		assert_int_equal(freed, i >= DHCP_WITHHELD_CLIENT_MAX ? 1 : 0);
		assert_false(l->has_client);
	}
	assert_int_equal(dhcp_pool_n_withheld(p, 10 * SEC), DHCP_WITHHELD_CLIENT_MAX);
	assert_int_equal(dhcp_pool_state(dhcp_pool_lease(p, A(20)), 10 * SEC), DHCP_LEASE_FREE);
	assert_int_equal(dhcp_pool_state(dhcp_pool_lease(p, A(21)), 10 * SEC), DHCP_LEASE_FREE);
	assert_int_equal(dhcp_pool_state(dhcp_pool_lease(p, A(22)), 10 * SEC), DHCP_LEASE_DECLINED);
	/* Overall: a quarter of the pool (60 here) at most, whoever declines. */
	for (unsigned i = 0; i < 100; i++) {
		struct dhcp_key ki = key_of(i % 60);
		uint8_t cid[2] = { 7, (uint8_t)i };

		ki.cid = cid;
		ki.cid_len = 2;
		(void)dhcp_pool_withhold(p, dhcp_pool_lease(p, A(100 + i)), &ki, 20 * SEC,
					 (700 + i) * SEC);
	}
	assert_int_equal(dhcp_pool_n_withheld(p, 30 * SEC), 60);
	dhcp_pool_free(p);
}

static void test_states(void **state)
{
	struct dhcp_lease l = { .state = DHCP_LEASE_BOUND, .expires_us = 10 };

	(void)state;
	assert_int_equal(dhcp_pool_state(&l, 9), DHCP_LEASE_BOUND);
	assert_int_equal(dhcp_pool_state(&l, 10), DHCP_LEASE_EXPIRED);
	assert_false(dhcp_pool_is_available(&l, 9));
	assert_true(dhcp_pool_is_available(&l, 10));
	l.is_static = true;
	assert_false(dhcp_pool_is_available(&l, 10));
	l.is_static = false;
	l.state = DHCP_LEASE_OFFERED;
	assert_int_equal(dhcp_pool_state(&l, 11), DHCP_LEASE_EXPIRED);
	l.state = DHCP_LEASE_DECLINED;
	assert_int_equal(dhcp_pool_state(&l, 9), DHCP_LEASE_DECLINED);
	assert_int_equal(dhcp_pool_state(&l, 10), DHCP_LEASE_FREE);
	assert_string_equal(dhcp_lease_state_name(DHCP_LEASE_BOUND), "bound");
	assert_string_equal(dhcp_lease_state_name(77), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_limits),
		cmocka_unit_test(test_reserved_never_leased),
		cmocka_unit_test(test_alloc_order_and_reuse),
		cmocka_unit_test(test_one_record_per_key),
		cmocka_unit_test(test_probe),
		cmocka_unit_test(test_withhold_caps),
		cmocka_unit_test(test_states),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}

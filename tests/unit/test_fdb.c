/* SPDX-License-Identifier: MIT */
/* Unit tests of the MAC table: learn, refresh, move, aging, caps, flush. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vswitch/fdb.h"
#include "vswitch/port.h"

static void mac_n(uint8_t mac[6], unsigned n)
{
	mac[0] = 0x52;
	mac[1] = 0x54;
	mac[2] = (uint8_t)(n >> 24);
	mac[3] = (uint8_t)(n >> 16);
	mac[4] = (uint8_t)(n >> 8);
	mac[5] = (uint8_t)n;
}

static void test_learn_lookup_refresh(void **state)
{
	struct port a = { .name = "a" }, b = { .name = "b" };
	struct fdb *fdb;
	uint8_t m1[6], m2[6];

	(void)state;
	mac_n(m1, 1);
	mac_n(m2, 2);
	assert_int_equal(fdb_new(&fdb, 16, 16, 42), 0);
	assert_null(fdb_lookup(fdb, m1, 0));
	assert_int_equal(fdb_learn(fdb, m1, 0, &a, 1000, NULL), FDB_LEARNED);
	assert_int_equal(fdb_learn(fdb, m2, 0, &b, 1000, NULL), FDB_LEARNED);
	assert_ptr_equal(fdb_lookup(fdb, m1, 0), &a);
	assert_ptr_equal(fdb_lookup(fdb, m2, 0), &b);
	assert_null(fdb_lookup(fdb, m1, 5)); /* VLAN is part of the key */
	assert_int_equal(fdb_learn(fdb, m1, 0, &a, 2000, NULL), FDB_REFRESHED);
	assert_int_equal(fdb_count(fdb), 2);
	assert_int_equal(a.n_fdb, 1);
	assert_int_equal(b.n_fdb, 1);
	fdb_free(fdb);
}

static void test_move(void **state)
{
	struct port a = { .name = "a" }, b = { .name = "b" };
	struct fdb *fdb;
	uint8_t m[6];

	(void)state;
	mac_n(m, 7);
	assert_int_equal(fdb_new(&fdb, 16, 16, 1), 0);
	assert_int_equal(fdb_learn(fdb, m, 0, &a, 0, NULL), FDB_LEARNED);
	assert_int_equal(fdb_learn(fdb, m, 0, &b, 10, NULL), FDB_MOVED);
	assert_ptr_equal(fdb_lookup(fdb, m, 0), &b);
	assert_int_equal(a.n_fdb, 0);
	assert_int_equal(b.n_fdb, 1);
	assert_int_equal(fdb_count(fdb), 1);
	fdb_free(fdb);
}

static void test_aging(void **state)
{
	struct port a = { .name = "a" };
	struct fdb *fdb;
	uint8_t m1[6], m2[6];

	(void)state;
	mac_n(m1, 1);
	mac_n(m2, 2);
	assert_int_equal(fdb_new(&fdb, 16, 16, 1), 0);
	assert_int_equal(fdb_learn(fdb, m1, 0, &a, 1000, NULL), FDB_LEARNED);
	assert_int_equal(fdb_learn(fdb, m2, 0, &a, 5000, NULL), FDB_LEARNED);
	assert_int_equal(fdb_age(fdb, 300000 + 1000, 300000), 0); /* exactly the aging time: kept */
	assert_int_equal(fdb_age(fdb, 300000 + 1001, 300000), 1);
	assert_null(fdb_lookup(fdb, m1, 0));
	assert_ptr_equal(fdb_lookup(fdb, m2, 0), &a);
	assert_int_equal(a.n_fdb, 1);
	/* refreshing keeps an entry alive */
	assert_int_equal(fdb_learn(fdb, m2, 0, &a, 400000, NULL), FDB_REFRESHED);
	assert_int_equal(fdb_age(fdb, 600000, 300000), 0);
	assert_int_equal(fdb_age(fdb, 700001, 300000), 1);
	assert_int_equal(fdb_count(fdb), 0);
	fdb_free(fdb);
}

static void test_limits(void **state)
{
	struct port a = { .name = "a" }, b = { .name = "b" };
	struct fdb *fdb;
	uint8_t m[6];

	(void)state;
	assert_int_equal(fdb_new(&fdb, 8, 4, 3), 0);
	/* a flood on port a fills only its share */
	for (unsigned i = 0; i < 4; i++) {
		mac_n(m, i);
		assert_int_equal(fdb_learn(fdb, m, 0, &a, 0, NULL), FDB_LEARNED);
	}
	mac_n(m, 100);
	assert_int_equal(fdb_learn(fdb, m, 0, &a, 0, NULL), -E2BIG);
	assert_null(fdb_lookup(fdb, m, 0));
	/* the rest of the table is still there for port b */
	for (unsigned i = 200; i < 204; i++) {
		mac_n(m, i);
		assert_int_equal(fdb_learn(fdb, m, 0, &b, 0, NULL), FDB_LEARNED);
	}
	assert_int_equal(fdb_count(fdb), 8);
	/* the table is full: b cannot learn either */
	mac_n(m, 300);
	assert_int_equal(fdb_learn(fdb, m, 0, &b, 0, NULL), -E2BIG);
	/* a move into a full share forgets the MAC so frames flood */
	mac_n(m, 0);
	assert_int_equal(fdb_learn(fdb, m, 0, &b, 0, NULL), -E2BIG);
	assert_null(fdb_lookup(fdb, m, 0));
	assert_int_equal(a.n_fdb, 3);
	assert_int_equal(fdb_count(fdb), 7);
	fdb_free(fdb);
}

/* Port security's limits: max-macs refuses a new MAC, no_takeover keeps a MAC where it is. */
static void test_port_limits(void **state)
{
	struct port a = { .name = "a" }, b = { .name = "b" };
	const struct fdb_limits two = { .port_max = 2 }, stay = { .no_takeover = true };
	struct fdb *fdb;
	uint8_t m[6];

	(void)state;
	assert_int_equal(fdb_new(&fdb, 64, 32, 3), 0);
	mac_n(m, 1);
	assert_int_equal(fdb_learn(fdb, m, 0, &a, 0, &two), FDB_LEARNED);
	mac_n(m, 2);
	assert_int_equal(fdb_learn(fdb, m, 0, &a, 0, &two), FDB_LEARNED);
	mac_n(m, 3);
	assert_int_equal(fdb_learn(fdb, m, 0, &a, 0, &two), -EDQUOT);
	assert_null(fdb_lookup(fdb, m, 0));
	mac_n(m, 2);
	assert_int_equal(fdb_learn(fdb, m, 0, &a, 5, &two), FDB_REFRESHED);
	/* b may not take a's MAC; a moving MAC into a full port is refused too */
	assert_int_equal(fdb_learn(fdb, m, 0, &b, 5, &stay), -EPERM);
	assert_ptr_equal(fdb_lookup(fdb, m, 0), &a);
	mac_n(m, 9);
	assert_int_equal(fdb_learn(fdb, m, 0, &b, 5, NULL), FDB_LEARNED);
	assert_int_equal(fdb_learn(fdb, m, 0, &a, 5, &two), -EDQUOT);
	assert_ptr_equal(fdb_lookup(fdb, m, 0), &b);
	assert_int_equal(a.n_fdb, 2);
	assert_int_equal(b.n_fdb, 1);
	fdb_free(fdb);
}

static void test_flush_and_bad_args(void **state)
{
	struct port a = { .name = "a" }, b = { .name = "b" };
	struct fdb *fdb;
	uint8_t m[6];

	(void)state;
	assert_int_equal(fdb_new(&fdb, 0, 0, 0), -EINVAL);
	assert_int_equal(fdb_new(&fdb, 4, 5, 0), -EINVAL);
	assert_int_equal(fdb_new(&fdb, FDB_MAX_ENTRIES + 1, 1, 0), -EINVAL);
	assert_int_equal(fdb_new(&fdb, 1024, 1024, 9), 0);
	for (unsigned i = 0; i < 1000; i++) {
		mac_n(m, i);
		assert_int_equal(fdb_learn(fdb, m, 0, i % 2 ? &a : &b, 0, NULL), FDB_LEARNED);
	}
	fdb_flush_port(fdb, &a);
	assert_int_equal(a.n_fdb, 0);
	assert_int_equal(b.n_fdb, 500);
	assert_int_equal(fdb_count(fdb), 500);
	for (unsigned i = 0; i < 1000; i++) {
		mac_n(m, i);
		assert_ptr_equal(fdb_lookup(fdb, m, 0), i % 2 ? NULL : &b);
	}
	fdb_free(fdb);
	fdb_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_learn_lookup_refresh),
		cmocka_unit_test(test_move),
		cmocka_unit_test(test_aging),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_port_limits),
		cmocka_unit_test(test_flush_and_bad_args),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

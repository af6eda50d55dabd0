/* SPDX-License-Identifier: MIT */
/*
 * Unit test of tap/ifconf.c's pure parts: the libnl -NLE_* to -errno map
 * (STYLE.md §5) and the argument checks of ifconf_netns_open(). No
 * privileges, no netlink.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <netlink/errno.h>

#include "tap/ifconf.h"

static void test_errno_passthrough(void **state)
{
	(void)state;
	assert_int_equal(ifconf_errno(0), 0);
	assert_int_equal(ifconf_errno(5), 5);
}

static void test_errno_map(void **state)
{
	(void)state;
	/* NLE_INVAL is 7, which as an errno would read E2BIG: the reason for the map. */
	assert_int_equal(ifconf_errno(-NLE_INVAL), -EINVAL);
	assert_int_equal(ifconf_errno(-NLE_EXIST), -EEXIST);
	assert_int_equal(ifconf_errno(-NLE_NODEV), -ENODEV);
	assert_int_equal(ifconf_errno(-NLE_OBJ_NOTFOUND), -ENOENT);
	assert_int_equal(ifconf_errno(-NLE_PERM), -EPERM);
	assert_int_equal(ifconf_errno(-NLE_NOACCESS), -EACCES);
	assert_int_equal(ifconf_errno(-NLE_NOMEM), -ENOMEM);
	assert_int_equal(ifconf_errno(-NLE_AGAIN), -EAGAIN);
	assert_int_equal(ifconf_errno(-NLE_BUSY), -EBUSY);
	assert_int_equal(ifconf_errno(-NLE_NOADDR), -EADDRNOTAVAIL);
	assert_int_equal(ifconf_errno(-NLE_OPNOTSUPP), -EOPNOTSUPP);
	assert_int_equal(ifconf_errno(-NLE_RANGE), -ERANGE);
	assert_int_equal(ifconf_errno(-NLE_MSGSIZE), -EMSGSIZE);
	assert_int_equal(ifconf_errno(-NLE_MSG_TRUNC), -EBADMSG);
	assert_int_equal(ifconf_errno(-NLE_AF_NOSUPPORT), -EAFNOSUPPORT);
	assert_int_equal(ifconf_errno(-NLE_INTR), -EINTR);
	assert_int_equal(ifconf_errno(-NLE_FAILURE), -EIO);
	assert_int_equal(ifconf_errno(-(NLE_MAX + 100)), -EIO);
}

static void test_errno_total(void **state)
{
	(void)state;
	/* Every libnl code maps to a negative errno. */
	for (int e = 1; e <= NLE_MAX; e++)
		assert_true(ifconf_errno(-e) < 0);
}

static void test_netns_open_bad_names(void **state)
{
	(void)state;
	assert_int_equal(ifconf_netns_open(NULL), -EINVAL);
	assert_int_equal(ifconf_netns_open(""), -EINVAL);
	assert_int_equal(ifconf_netns_open("a/b"), -EINVAL);
	assert_int_equal(ifconf_netns_open("."), -EINVAL);
	assert_int_equal(ifconf_netns_open(".."), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_errno_passthrough),
		cmocka_unit_test(test_errno_map),
		cmocka_unit_test(test_errno_total),
		cmocka_unit_test(test_netns_open_bad_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */
/* Unit tests of the background syncer: completion, ordering, errors. */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/syncer.h"

static int64_t wait_collect(struct syncer *s, uint64_t want)
{
	int64_t got = 0;

	for (int i = 0; i < 100; i++) {
		struct pollfd p = { .fd = syncer_fd(s), .events = POLLIN };

		assert_true(poll(&p, 1, 5000) == 1);
		got = syncer_collect(s);
		if (got < 0 || (uint64_t)got >= want)
			return got;
	}
	return got;
}

static void test_sync_file(void **state)
{
	char path[] = "/tmp/test_syncer.XXXXXX";
	int fd = mkstemp(path);
	struct syncer *s;

	(void)state;
	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(syncer_new(&s, fd), 0);
	assert_int_equal(syncer_durable(s), 0);
	assert_int_equal(write(fd, "abc", 3), 3);
	syncer_request(s, 1);
	assert_int_equal(wait_collect(s, 1), 1);
	assert_int_equal(syncer_durable(s), 1);
	/* a lower request never moves durability backwards */
	syncer_request(s, 7);
	syncer_request(s, 3);
	assert_int_equal(wait_collect(s, 7), 7);
	/* nothing new requested: the eventfd stays quiet */
	{
		struct pollfd p = { .fd = syncer_fd(s), .events = POLLIN };

		assert_int_equal(poll(&p, 1, 50), 0);
	}
	syncer_free(s);
	syncer_free(NULL);
	close(fd);
}

static void test_sync_error_reported_once(void **state)
{
	int pfd[2];
	struct syncer *s;

	(void)state;
	assert_int_equal(pipe(pfd), 0);
	assert_int_equal(syncer_new(&s, pfd[1]), 0);
	syncer_request(s, 2);
	assert_int_equal(wait_collect(s, 2), -EINVAL); /* fdatasync() on a pipe */
	assert_int_equal(syncer_durable(s), 0);
	syncer_free(s);
	close(pfd[0]);
	close(pfd[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sync_file),
		cmocka_unit_test(test_sync_error_reported_once),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

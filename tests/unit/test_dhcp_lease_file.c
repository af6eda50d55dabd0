/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the lease journal (dhcpd/dhcp_lease_file.c) in a temporary
 * directory: line format, replay, last record wins, torn and corrupt lines,
 * group commit (one fsync for many clients), crash safety with kill -9 in a
 * child, and compaction.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/log.h"
#include "dhcpd/dhcp_lease_file.h"

#define A(x) htobe32(0xc0a88300u | (x))
#define SEC  1000000ull
#define T0   (1764000000ull * SEC)

static char dir[64];
static char path[128];

static int setup(void **state)
{
	(void)state;
	log_set_level(LOG_LVL_ERROR); /* the corrupt-file cases warn on purpose */
	strcpy(dir, "/tmp/test_dhcp_lease_file.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/leases", dir);
	return 0;
}

static int teardown(void **state)
{
	char tmp[160];

	(void)state;
	unlink(path);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	unlink(tmp);
	rmdir(dir);
	return 0;
}

static struct dhcp_lease rec(uint8_t last, uint8_t state, uint64_t expires_us)
{
	struct dhcp_lease l = { .addr_be = A(last),
				.state = state,
				.expires_us = expires_us,
				.has_client = state != DHCP_LEASE_DECLINED,
				.mac = { 0x52, 0x54, 0, 0, 0, last } };

	return l;
}

static void append_raw(const char *text)
{
	int fd = open(path, O_WRONLY | O_APPEND);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static size_t file_lines(void)
{
	FILE *f = fopen(path, "r");
	size_t n = 0;
	int ch;

	assert_non_null(f);
	while ((ch = fgetc(f)) != EOF)
		n += ch == '\n';
	fclose(f);
	return n;
}

struct find_ctx {
	uint32_t addr_be;
	const struct dhcp_lease *found;
};

static void find_one(const struct dhcp_lease *l, void *arg)
{
	struct find_ctx *fc = arg;

	if (l->addr_be == fc->addr_be)
		fc->found = l;
}

static const struct dhcp_lease *find(struct dhcp_lease_file *lf, uint32_t addr_be)
{
	struct find_ctx fc = { addr_be, NULL };

	dhcp_lease_file_foreach(lf, find_one, &fc);
	return fc.found;
}

static void test_format_parse(void **state)
{
	struct dhcp_lease l = rec(16, DHCP_LEASE_BOUND, T0), back;
	char line[512];
	size_t n;

	(void)state;
	l.cid_len = 3;
	memcpy(l.cid, "\x01\xab\xff", 3);
	strcpy(l.hostname, "web 1");
	n = dhcp_lease_file_format(&l, line, sizeof(line));
	assert_int_equal(n, strlen(line));
	assert_int_equal(strncmp(line,
				 "L 192.168.131.16 52:54:00:00:00:10 bound 1764000000 01abff "
				 "web-1 ",
				 65),
			 0);
	/* The CRC-32 of the line up to its last space, as Python's zlib.crc32 computes it. */
	assert_string_equal(line + 65, "a232503f\n");
	assert_int_equal(dhcp_lease_file_parse_line(line, n - 1, &back), 0);
	assert_int_equal(back.addr_be, l.addr_be);
	assert_int_equal(back.state, DHCP_LEASE_BOUND);
	assert_int_equal(back.expires_us, T0);
	assert_int_equal(back.cid_len, 3);
	assert_memory_equal(back.cid, l.cid, 3);
	assert_memory_equal(back.mac, l.mac, 6);
	assert_string_equal(back.hostname, "web-1");
	assert_true(back.has_client);
	/* Any flipped byte fails the CRC or the syntax. */
	for (size_t i = 0; i < n - 1; i++) {
		line[i] ^= 0x01;
		assert_int_equal(dhcp_lease_file_parse_line(line, n - 1, &back), -EBADMSG);
		line[i] ^= 0x01;
	}
	assert_int_equal(dhcp_lease_file_parse_line(line, 5, &back), -EBADMSG);
	/* No client-id, no hostname, declined. */
	l = rec(17, DHCP_LEASE_DECLINED, T0);
	n = dhcp_lease_file_format(&l, line, sizeof(line));
	assert_int_equal(
		strncmp(line, "L 192.168.131.17 52:54:00:00:00:11 declined 1764000000 - - ", 59),
		0);
	assert_string_equal(line + 59, "52ca9ec8\n");
	assert_int_equal(dhcp_lease_file_parse_line(line, n - 1, &back), 0);
	assert_int_equal(back.cid_len, 0);
	assert_false(back.has_client);
	assert_string_equal(back.hostname, "");
}

static void test_replay_and_last_wins(void **state)
{
	struct dhcp_lease_file *lf;
	struct dhcp_lease l;

	(void)state;
	assert_int_equal(dhcp_lease_file_open(&lf, path, 256, T0), 0);
	assert_int_equal(dhcp_lease_file_count(lf), 0);
	for (uint8_t i = 16; i < 20; i++) {
		l = rec(i, DHCP_LEASE_BOUND, T0 + i * SEC);
		assert_int_equal(dhcp_lease_file_put(lf, &l), 0);
	}
	l = rec(17, DHCP_LEASE_RELEASED, T0 + 99 * SEC);
	assert_int_equal(dhcp_lease_file_put(lf, &l), 0);
	assert_true(dhcp_lease_file_pending(lf));
	assert_int_equal(dhcp_lease_file_sync(lf, T0), 0);
	assert_false(dhcp_lease_file_pending(lf));
	dhcp_lease_file_free(lf);
	assert_int_equal(file_lines(), 1 + 5);

	assert_int_equal(dhcp_lease_file_open(&lf, path, 256, T0), 0);
	assert_int_equal(dhcp_lease_file_count(lf), 4);
	assert_int_equal(find(lf, A(17))->state, DHCP_LEASE_RELEASED);
	assert_int_equal(find(lf, A(17))->expires_us, T0 + 99 * SEC);
	assert_int_equal(find(lf, A(19))->expires_us, T0 + 19 * SEC);
	assert_int_equal(dhcp_lease_file_stats(lf)->n_bad_lines, 0);
	assert_false(dhcp_lease_file_stats(lf)->torn_tail);
	dhcp_lease_file_free(lf);
	/* Opening compacted the journal to one line per address. */
	assert_int_equal(file_lines(), 1 + 4);
}

static void test_torn_and_corrupt(void **state)
{
	struct dhcp_lease_file *lf;
	struct dhcp_lease l;
	char line[512];

	(void)state;
	assert_int_equal(dhcp_lease_file_open(&lf, path, 256, T0), 0);
	l = rec(20, DHCP_LEASE_BOUND, T0);
	assert_int_equal(dhcp_lease_file_put(lf, &l), 0);
	assert_int_equal(dhcp_lease_file_sync(lf, T0), 0);
	dhcp_lease_file_free(lf);
	/* A corrupt complete line, a good one after it, then a torn tail. */
	append_raw("L 192.168.131.21 52:54:00:00:00:15 bound 1764000000 - - deadbeef\n");
	append_raw("garbage\n\n");
	l = rec(22, DHCP_LEASE_BOUND, T0);
	dhcp_lease_file_format(&l, line, sizeof(line));
	append_raw(line);
	l = rec(23, DHCP_LEASE_BOUND, T0);
	dhcp_lease_file_format(&l, line, sizeof(line));
	line[20] = '\0';
	append_raw(line);

	assert_int_equal(dhcp_lease_file_open(&lf, path, 256, T0), 0);
	assert_int_equal(dhcp_lease_file_stats(lf)->n_bad_lines, 2);
	assert_true(dhcp_lease_file_stats(lf)->torn_tail);
	assert_non_null(find(lf, A(20)));
	assert_null(find(lf, A(21)));
	assert_non_null(find(lf, A(22)));
	assert_null(find(lf, A(23)));
	/* Appending now must not glue onto the torn line. */
	l = rec(24, DHCP_LEASE_BOUND, T0);
	assert_int_equal(dhcp_lease_file_put(lf, &l), 0);
	assert_int_equal(dhcp_lease_file_sync(lf, T0), 0);
	dhcp_lease_file_free(lf);
	assert_int_equal(dhcp_lease_file_open(&lf, path, 256, T0), 0);
	assert_int_equal(dhcp_lease_file_stats(lf)->n_bad_lines, 0);
	assert_false(dhcp_lease_file_stats(lf)->torn_tail);
	assert_int_equal(dhcp_lease_file_count(lf), 3);
	assert_non_null(find(lf, A(24)));
	dhcp_lease_file_free(lf);
}

static void test_group_commit(void **state)
{
	struct dhcp_lease_file *lf;
	struct dhcp_lease l;

	(void)state;
	assert_int_equal(dhcp_lease_file_open(&lf, path, 256, T0), 0);
	assert_int_equal(dhcp_lease_file_sync(lf, T0), 0); /* nothing queued: no fsync */
	assert_int_equal(dhcp_lease_file_stats(lf)->n_fsyncs, 0);
	for (uint8_t i = 0; i < 50; i++) {
		l = rec((uint8_t)(100 + i), DHCP_LEASE_BOUND, T0);
		assert_int_equal(dhcp_lease_file_put(lf, &l), 0);
	}
	assert_int_equal(dhcp_lease_file_sync(lf, T0), 0);
	assert_int_equal(dhcp_lease_file_stats(lf)->n_fsyncs, 1);
	assert_int_equal(dhcp_lease_file_stats(lf)->n_puts, 50);
	assert_int_equal(dhcp_lease_file_sync(lf, T0), 0);
	assert_int_equal(dhcp_lease_file_stats(lf)->n_fsyncs, 1);
	dhcp_lease_file_free(lf);
}

/* What was synced survives kill -9; what was only queued does not appear half-written. */
static void test_kill9(void **state)
{
	struct dhcp_lease_file *lf;
	pid_t pid;
	int status;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct dhcp_lease l;

		if (dhcp_lease_file_open(&lf, path, 256, T0))
			_exit(1);
		for (uint8_t i = 0; i < 10; i++) {
			l = rec((uint8_t)(30 + i), DHCP_LEASE_BOUND, T0);
			if (dhcp_lease_file_put(lf, &l))
				_exit(1);
		}
		if (dhcp_lease_file_sync(lf, T0))
			_exit(1);
		l = rec(50, DHCP_LEASE_BOUND, T0);
		(void)dhcp_lease_file_put(lf, &l);
		raise(SIGKILL);
		_exit(2);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGKILL);
	assert_int_equal(dhcp_lease_file_open(&lf, path, 256, T0), 0);
	for (uint8_t i = 0; i < 10; i++)
		assert_non_null(find(lf, A(30 + i)));
	assert_null(find(lf, A(50)));
	assert_int_equal(dhcp_lease_file_stats(lf)->n_bad_lines, 0);
	dhcp_lease_file_free(lf);
}

static void test_compaction(void **state)
{
	struct dhcp_lease_file *lf;
	struct dhcp_lease l;
	struct stat st;

	(void)state;
	assert_int_equal(dhcp_lease_file_open(&lf, path, 256, T0), 0);
	l = rec(60, DHCP_LEASE_DECLINED, T0 + 10 * SEC);
	assert_int_equal(dhcp_lease_file_put(lf, &l), 0);
	/* One address renewed 3000 times: the journal compacts itself along the way. */
	for (unsigned i = 0; i < 3000; i++) {
		l = rec(61, DHCP_LEASE_BOUND, T0 + i * SEC);
		assert_int_equal(dhcp_lease_file_put(lf, &l), 0);
		if (i % 10 == 9)
			assert_int_equal(dhcp_lease_file_sync(lf, T0), 0);
	}
	assert_true(dhcp_lease_file_stats(lf)->n_compactions >= 3);
	assert_true(file_lines() <= 1 + 2 + 1024);
	/* An explicit compaction after the withholding ended drops the declined record. */
	assert_int_equal(dhcp_lease_file_compact(lf, T0 + 11 * SEC), 0);
	assert_int_equal(file_lines(), 1 + 1);
	assert_int_equal(stat(path, &st), 0);
	assert_true(st.st_size < 200);
	dhcp_lease_file_free(lf);
	assert_int_equal(dhcp_lease_file_open(&lf, path, 256, T0), 0);
	assert_int_equal(find(lf, A(61))->expires_us, T0 + 2999 * SEC);
	dhcp_lease_file_free(lf);
}

/* A rewrite is due at twice the live records (1,024 lines at least), urgent at eight times. */
static void test_compact_due(void **state)
{
	struct dhcp_lease_file *lf;
	struct dhcp_lease l;
	uint64_t opened;
	unsigned i;

	(void)state;
	assert_int_equal(dhcp_lease_file_open(&lf, path, 256, T0), 0);
	opened = dhcp_lease_file_stats(lf)->n_compactions; /* opening rewrites the journal */
	for (i = 0; i < 8 * 1024 + 1; i++) {
		l = rec(70, DHCP_LEASE_BOUND, T0 + i * SEC);
		assert_int_equal(dhcp_lease_file_put(lf, &l), 0);
		/* write without compacting: what the endpoint does under load */
		assert_int_equal(dhcp_lease_file_write(lf, T0, false), 0);
		if (i + 1 == 1024) {
			assert_false(dhcp_lease_file_compact_due(lf, false));
		} else if (i + 1 == 1025) {
			assert_true(dhcp_lease_file_compact_due(lf, false));
			assert_false(dhcp_lease_file_compact_due(lf, true));
		}
	}
	assert_true(dhcp_lease_file_compact_due(lf, true));
	assert_int_equal(dhcp_lease_file_stats(lf)->n_compactions, opened);
	l = rec(70, DHCP_LEASE_BOUND, T0 + i * SEC);
	assert_int_equal(dhcp_lease_file_put(lf, &l), 0);
	assert_int_equal(dhcp_lease_file_write(lf, T0, true), 1); /* compacted, durable */
	assert_false(dhcp_lease_file_compact_due(lf, false));
	assert_int_equal(file_lines(), 1 + 1);
	dhcp_lease_file_free(lf);
}

static void test_records_cap(void **state)
{
	struct dhcp_lease_file *lf;
	struct dhcp_lease l = rec(1, DHCP_LEASE_BOUND, T0);

	(void)state;
	assert_int_equal(dhcp_lease_file_open(&lf, path, 0, T0), 0);
	for (uint32_t i = 0; i < DHCP_LEASE_FILE_RECORDS_MAX; i++) {
		l.addr_be = htobe32(0x0a000000u + i);
		assert_int_equal(dhcp_lease_file_put(lf, &l), 0);
	}
	l.addr_be = htobe32(0x0b000000u);
	assert_int_equal(dhcp_lease_file_put(lf, &l), -E2BIG);
	l.addr_be = htobe32(0x0a000000u); /* a known address still updates */
	assert_int_equal(dhcp_lease_file_put(lf, &l), 0);
	assert_int_equal(dhcp_lease_file_count(lf), DHCP_LEASE_FILE_RECORDS_MAX);
	dhcp_lease_file_free(lf);
}

static void test_open_errors(void **state)
{
	struct dhcp_lease_file *lf = NULL;
	char bad[160];

	(void)state;
	snprintf(bad, sizeof(bad), "%s/missing/leases", dir);
	assert_int_equal(dhcp_lease_file_open(&lf, bad, 256, T0), -ENOENT);
	assert_null(lf);
	dhcp_lease_file_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_parse),
		cmocka_unit_test_setup_teardown(test_replay_and_last_wins, setup, teardown),
		cmocka_unit_test_setup_teardown(test_torn_and_corrupt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_group_commit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kill9, setup, teardown),
		cmocka_unit_test_setup_teardown(test_compaction, setup, teardown),
		cmocka_unit_test_setup_teardown(test_compact_due, setup, teardown),
		cmocka_unit_test_setup_teardown(test_records_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_errors, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the pcap capture (tap/capture.c): frames written are read
 * back with libpcap's offline reader (bytes, lengths, time stamps, link type),
 * while the capture runs and after; the count limit; rotation into FILE,
 * FILE.1, ...; and the errors of bad paths. Files live in a mkdtemp folder
 * removed at the end; no privileges needed.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <pcap.h>

#include "tap/capture.h"

static char dir[] = "/tmp/test_capture.XXXXXX";

static void fill(uint8_t *buf, uint32_t len, uint32_t tag)
{
	for (uint32_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(tag * 31 + i);
}

static void path_of(char *out, size_t cap, const char *name)
{
	int n = snprintf(out, cap, "%s/%s", dir, name);

	assert_true(n > 0 && (size_t)n < cap);
}

static struct timespec ts_of(uint32_t tag)
{
	return (struct timespec){ .tv_sec = 1700000000 + tag, .tv_nsec = 123456789 + tag * 1000 };
}

/*
 * Reads 'file' expecting frames tagged first_tag, first_tag + 1, ... of
 * 'len' bytes (kept: caplen), as written by write_frames(). Returns the count.
 */
static unsigned read_back(const char *file, uint32_t first_tag, uint32_t len, uint32_t caplen)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *data;
	uint8_t want[2048];
	unsigned n = 0;
	pcap_t *p;
	int r;

	p = pcap_open_offline(file, errbuf);
	if (!p)
		fail_msg("%s: %s", file, errbuf);
	assert_int_equal(pcap_datalink(p), DLT_EN10MB);
	assert_int_equal(pcap_major_version(p), 2);
	assert_int_equal(pcap_minor_version(p), 4);
	while ((r = pcap_next_ex(p, &h, &data)) == 1) {
		struct timespec ts = ts_of(first_tag + n);

		assert_true(caplen <= sizeof(want));
		fill(want, caplen, first_tag + n);
		assert_int_equal(h->len, len);
		assert_int_equal(h->caplen, caplen);
		assert_int_equal(h->ts.tv_sec, ts.tv_sec);
		assert_int_equal(h->ts.tv_usec, ts.tv_nsec / 1000);
		assert_memory_equal(data, want, caplen);
		n++;
	}
	assert_int_equal(r, PCAP_ERROR_BREAK); /* end of file, not a damaged record */
	pcap_close(p);
	return n;
}

/* Writes frames tagged first_tag .. first_tag + n - 1; returns the last result. */
static int write_frames(struct capture *cap, uint32_t first_tag, unsigned n, uint32_t len)
{
	uint8_t buf[2048];
	int r = 0;

	assert_true(len <= sizeof(buf));
	for (unsigned i = 0; i < n; i++) {
		struct timespec ts = ts_of(first_tag + i);

		fill(buf, len, first_tag + i);
		r = capture_write(cap, buf, len, &ts);
		if (r)
			return r;
	}
	return r;
}

static void test_roundtrip(void **state)
{
	struct capture_conf c = { 0 };
	struct capture *cap = NULL;
	struct capture_stats st;
	char file[512];

	(void)state;
	path_of(file, sizeof(file), "rt.pcap");
	c.path = file;
	assert_int_equal(capture_open(&cap, &c), 0);
	/* Readable at once, and each frame visible before the capture ends. */
	assert_int_equal(read_back(file, 0, 60, 60), 0);
	assert_int_equal(write_frames(cap, 0, 1, 60), 0);
	assert_int_equal(read_back(file, 0, 60, 60), 1);
	assert_int_equal(write_frames(cap, 1, 4, 60), 0);
	assert_int_equal(read_back(file, 0, 60, 60), 5);
	capture_get_stats(cap, &st);
	assert_int_equal(st.frames, 5);
	assert_int_equal(st.bytes, 300);
	assert_int_equal(st.files, 1);
	assert_false(st.is_done);
	assert_string_equal(st.path, file);
	capture_close(cap);
	assert_int_equal(read_back(file, 0, 60, 60), 5);

	/* Full-size frames, snaplen 0 meaning 65535. */
	assert_int_equal(capture_open(&cap, &c), 0);
	assert_int_equal(write_frames(cap, 7, 3, 1514), 0);
	capture_close(cap);
	assert_int_equal(read_back(file, 7, 1514, 1514), 3);
	{
		char errbuf[PCAP_ERRBUF_SIZE];
		pcap_t *p = pcap_open_offline(file, errbuf);

		assert_non_null(p);
		assert_int_equal(pcap_snapshot(p), 65535);
		pcap_close(p);
	}
	capture_close(NULL);
}

static void test_snaplen(void **state)
{
	struct capture_conf c = { .snaplen = 64 };
	struct capture *cap = NULL;
	char file[512];

	(void)state;
	path_of(file, sizeof(file), "snap.pcap");
	c.path = file;
	assert_int_equal(capture_open(&cap, &c), 0);
	assert_int_equal(write_frames(cap, 0, 4, 100), 0);
	capture_close(cap);
	/* caplen 64 < len 100: the file keeps the head of each frame and its real length. */
	assert_int_equal(read_back(file, 0, 100, 64), 4);
}

static void test_count(void **state)
{
	struct capture_conf c = { .max_frames = 3 };
	struct capture *cap = NULL;
	struct capture_stats st;
	uint8_t buf[60] = { 0 };
	struct timespec ts = ts_of(0);
	char file[512];

	(void)state;
	path_of(file, sizeof(file), "count.pcap");
	c.path = file;
	assert_int_equal(capture_open(&cap, &c), 0);
	assert_int_equal(write_frames(cap, 0, 2, 60), 0);
	assert_int_equal(write_frames(cap, 2, 1, 60), 1);
	assert_int_equal(capture_write(cap, buf, sizeof(buf), &ts), 1);
	assert_int_equal(capture_write(cap, buf, sizeof(buf), &ts), 1);
	capture_get_stats(cap, &st);
	assert_int_equal(st.frames, 3);
	assert_int_equal(st.bytes, 180);
	assert_true(st.is_done);
	/* Complete (closed) before capture_close(). */
	assert_int_equal(read_back(file, 0, 60, 60), 3);
	capture_close(cap);
	assert_int_equal(read_back(file, 0, 60, 60), 3);
}

static void test_rotate(void **state)
{
	/* Header plus three records of 100 bytes: three frames per file. */
	struct capture_conf c = { .rotate_bytes = 24 + 3 * (16 + 100) };
	struct capture *cap = NULL;
	struct capture_stats st;
	char file[512], name[600];
	struct stat sb;
	unsigned total = 0;

	(void)state;
	path_of(file, sizeof(file), "rot.pcap");
	c.path = file;
	assert_int_equal(capture_open(&cap, &c), 0);
	assert_int_equal(write_frames(cap, 0, 10, 100), 0);
	capture_get_stats(cap, &st);
	assert_int_equal(st.frames, 10);
	assert_int_equal(st.files, 4);
	snprintf(name, sizeof(name), "%s.3", file);
	assert_string_equal(st.path, name);
	capture_close(cap);

	assert_int_equal(stat(file, &sb), 0);
	assert_int_equal(sb.st_size, c.rotate_bytes);
	total += read_back(file, 0, 100, 100);
	for (unsigned i = 1; i <= 3; i++) {
		snprintf(name, sizeof(name), "%s.%u", file, i);
		assert_int_equal(stat(name, &sb), 0);
		assert_int_equal(sb.st_size, i < 3 ? c.rotate_bytes : 24 + 116);
		assert_int_equal(read_back(name, 3 * i, 100, 100), i < 3 ? 3 : 1);
		total += i < 3 ? 3 : 1;
	}
	assert_int_equal(total, 10);
	snprintf(name, sizeof(name), "%s.4", file);
	assert_int_equal(stat(name, &sb), -1);
	assert_int_equal(errno, ENOENT);
	snprintf(name, sizeof(name), "%s1", file);
	assert_int_equal(stat(name, &sb), -1);
}

/* A frame larger than the limit still gets written, alone in its file. */
static void test_rotate_big_frame(void **state)
{
	struct capture_conf c = { .rotate_bytes = 100, .max_frames = 3 };
	struct capture *cap = NULL;
	char file[512], name[600];

	(void)state;
	path_of(file, sizeof(file), "big.pcap");
	c.path = file;
	assert_int_equal(capture_open(&cap, &c), 0);
	assert_int_equal(write_frames(cap, 0, 3, 200), 1);
	capture_close(cap);
	assert_int_equal(read_back(file, 0, 200, 200), 1);
	snprintf(name, sizeof(name), "%s.1", file);
	assert_int_equal(read_back(name, 1, 200, 200), 1);
	snprintf(name, sizeof(name), "%s.2", file);
	assert_int_equal(read_back(name, 2, 200, 200), 1);
}

/* The folder vanishes mid-capture: rotation fails, the error sticks, written files stay whole. */
static void test_rotate_fails(void **state)
{
	struct capture_conf c = { .rotate_bytes = 24 + 16 + 60 };
	struct capture *cap = NULL;
	char sub[512], moved[512], file[600];

	(void)state;
	path_of(sub, sizeof(sub), "sub");
	path_of(moved, sizeof(moved), "sub.moved");
	assert_int_equal(mkdir(sub, 0700), 0);
	snprintf(file, sizeof(file), "%s/x.pcap", sub);
	c.path = file;
	assert_int_equal(capture_open(&cap, &c), 0);
	assert_int_equal(write_frames(cap, 0, 1, 60), 0);
	assert_int_equal(rename(sub, moved), 0);
	assert_int_equal(write_frames(cap, 1, 1, 60), -ENOENT);
	assert_int_equal(write_frames(cap, 2, 1, 60), -ENOENT);
	capture_close(cap);
	snprintf(file, sizeof(file), "%s/x.pcap", moved);
	assert_int_equal(read_back(file, 0, 60, 60), 1);
}

static void test_bad_path(void **state)
{
	struct capture_conf c = { 0 };
	struct capture *cap = (struct capture *)&c; /* must stay untouched */
	char file[512];

	(void)state;
	path_of(file, sizeof(file), "no/such/dir.pcap");
	c.path = file;
	assert_int_equal(capture_open(&cap, &c), -ENOENT);
	c.path = dir;
	assert_int_equal(capture_open(&cap, &c), -EISDIR);
	c.path = "-";
	assert_int_equal(capture_open(&cap, &c), -EINVAL);
	c.path = "";
	assert_int_equal(capture_open(&cap, &c), -EINVAL);
	c.path = NULL;
	assert_int_equal(capture_open(&cap, &c), -EINVAL);
	path_of(file, sizeof(file), "snap.pcap");
	c.path = file;
	c.snaplen = CAPTURE_MAX_SNAPLEN + 1;
	assert_int_equal(capture_open(&cap, &c), -EINVAL);
	assert_ptr_equal(cap, (struct capture *)&c);

	/* Root ignores file modes, so -EACCES is only observable without privileges. */
	if (geteuid() != 0) {
		char ro[512];

		path_of(ro, sizeof(ro), "ro");
		assert_int_equal(mkdir(ro, 0500), 0);
		path_of(file, sizeof(file), "ro/x.pcap");
		c.path = file;
		c.snaplen = 0;
		assert_int_equal(capture_open(&cap, &c), -EACCES);
		assert_ptr_equal(cap, (struct capture *)&c);
	}
}

static int setup(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[600];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_snaplen),
		cmocka_unit_test(test_count),
		cmocka_unit_test(test_rotate),
		cmocka_unit_test(test_rotate_big_frame),
		cmocka_unit_test(test_rotate_fails),
		cmocka_unit_test(test_bad_path),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

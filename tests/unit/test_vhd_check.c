/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of vhd_check.c on in-memory images: a clean image reports
 * nothing; a damaged footer copy, BAT entries past the end of the file and
 * data under clear bitmap bits are found with exact messages; --repair fixes
 * the first two and a second check is clean.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/bytes.h"
#include "vhd-attach/vhd.h"
#include "vhd-attach/vhd_check.h"
#include "vhd-attach/vhd_io.h"

#define MIB (1u << 20)

struct fx {
	struct vhd_memfs *fs;
	char err[VHD_ERR_LEN];
	char last[512]; /* last check message */
	unsigned n_msgs;
};

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	assert_int_equal(vhd_memfs_new(&fx->fs), 0);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;

	vhd_memfs_free(fx->fs);
	free(fx);
	return 0;
}

static void create(struct fx *fx, const char *path, enum vhd_type type, uint64_t size)
{
	struct vhd_create_opts o = {
		.io = &vhd_io_mem, .fs = fx->fs, .type = type, .size = size, .err = fx->err
	};

	assert_int_equal(vhd_create(NULL, path, &o), 0);
}

static void write_at(struct fx *fx, const char *path, uint64_t off, const void *buf, size_t len)
{
	struct vhd_open_opts o = { .io = &vhd_io_mem, .fs = fx->fs, .flags = VHD_OPEN_RDWR };
	struct vhd *v;

	assert_int_equal(vhd_open(&v, path, &o), 0);
	assert_int_equal(vhd_pwrite(v, buf, len, off), 0);
	vhd_free(v);
}

static void report(void *ctx, enum vhd_check_level lvl, const char *msg)
{
	struct fx *fx = ctx;

	(void)lvl;
	snprintf(fx->last, sizeof(fx->last), "%s", msg);
	fx->n_msgs++;
}

static struct vhd_check_result check(struct fx *fx, const char *path, bool repair)
{
	struct vhd_check_opts o = {
		.io = &vhd_io_mem, .fs = fx->fs, .repair = repair, .report = report, .ctx = fx
	};
	struct vhd_check_result res;

	fx->n_msgs = 0;
	fx->last[0] = '\0';
	assert_int_equal(vhd_check(path, &o, &res), 0);
	return res;
}

/* Changes the file in place through 'edit' ('len' bytes). */
static void edit(struct fx *fx, const char *path, void (*fn)(uint8_t *img, size_t len))
{
	size_t len;
	const uint8_t *img = vhd_memfs_get(fx->fs, path, &len);
	uint8_t *copy = malloc(len);

	memcpy(copy, img, len);
	fn(copy, len);
	assert_int_equal(vhd_memfs_put(fx->fs, path, copy, len), 0);
	free(copy);
}

static void break_copy(uint8_t *img, size_t len)
{
	(void)len;
	img[100] ^= 1;
}

static void bat_past_eof(uint8_t *img, size_t len)
{
	(void)len;
	put_be32(img + 1536 + 4, 0x00FFFF00);
}

static void test_check_and_repair(void **state)
{
	struct fx *fx = *state;
	uint8_t data[4096];
	struct vhd_check_result res;

	memset(data, 0x5A, sizeof(data));
	create(fx, "/a.vhd", VHD_TYPE_DYNAMIC, 4 * MIB);
	write_at(fx, "/a.vhd", 0, data, sizeof(data));
	res = check(fx, "/a.vhd", false);
	assert_int_equal(res.n_errors, 0);
	assert_int_equal(res.n_warnings, 0);
	assert_int_equal(res.n_blocks, 1);

	edit(fx, "/a.vhd", break_copy);
	res = check(fx, "/a.vhd", false);
	assert_int_equal(res.n_errors, 1);
	assert_non_null(strstr(fx->last, "footer copy at offset 0: checksum mismatch"));
	res = check(fx, "/a.vhd", true);
	assert_int_equal(res.n_errors, 0);
	assert_int_equal(res.n_repaired, 1);
	assert_string_equal(fx->last, "footer copy at offset 0 rewritten");
	res = check(fx, "/a.vhd", false);
	assert_int_equal(res.n_errors, 0);
	assert_int_equal(fx->n_msgs, 0);

	edit(fx, "/a.vhd", bat_past_eof);
	res = check(fx, "/a.vhd", false);
	assert_int_equal(res.n_errors, 1);
	assert_string_equal(fx->last,
			    "BAT entry 1 points past the end of the file (sector 16776960)");
	res = check(fx, "/a.vhd", true);
	assert_int_equal(res.n_errors, 0);
	assert_int_equal(res.n_repaired, 1);
	res = check(fx, "/a.vhd", false);
	assert_int_equal(res.n_errors, 0);
	assert_int_equal(res.n_blocks, 1);
}

static void test_check_stale_bits(void **state)
{
	struct fx *fx = *state;
	uint8_t data[512];
	struct vhd_check_result res;
	size_t len;
	const uint8_t *img;
	uint8_t *copy;

	memset(data, 0x11, sizeof(data));
	create(fx, "/s.vhd", VHD_TYPE_DYNAMIC, 2 * MIB);
	write_at(fx, "/s.vhd", 0, data, sizeof(data));
	/* Data under a clear bit: sector 1 of block 0 (bitmap at 3584, data at 4096). */
	img = vhd_memfs_get(fx->fs, "/s.vhd", &len);
	copy = malloc(len);
	memcpy(copy, img, len);
	copy[4096 + 512] = 0xEE;
	assert_int_equal(vhd_memfs_put(fx->fs, "/s.vhd", copy, len), 0);
	free(copy);
	res = check(fx, "/s.vhd", false);
	assert_int_equal(res.n_errors, 0);
	assert_int_equal(res.n_warnings, 1);
	assert_string_equal(fx->last,
			    "block 0: sector 1 has data but a clear bitmap bit (reads as zero)");
}

static void test_check_missing(void **state)
{
	struct fx *fx = *state;
	struct vhd_check_opts o = { .io = &vhd_io_mem, .fs = fx->fs };
	struct vhd_check_result res;

	assert_int_equal(vhd_check("/nope.vhd", &o, &res), -ENOENT);
	assert_int_equal(vhd_memfs_put(fx->fs, "/short.vhd", "x", 1), 0);
	res = check(fx, "/short.vhd", true);
	assert_int_equal(res.n_errors, 1);
	assert_string_equal(fx->last, "file too short for a VHD (1 bytes)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_check_and_repair, setup, teardown),
		cmocka_unit_test_setup_teardown(test_check_stale_bits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_check_missing, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

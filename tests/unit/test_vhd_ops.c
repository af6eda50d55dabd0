/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of vhd_ops.c on in-memory images: conversion skipping zero
 * blocks, merge (and its refusal
 * when siblings are known), compaction (content and identity kept, the
 * free-space check leaving the original untouched) and undo disks.
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
#include "vhd-attach/vhd_io.h"
#include "vhd-attach/vhd_ops.h"

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

static struct vhd_ops_opts ops(struct fx *fx)
{
	return (struct vhd_ops_opts){ .io = &vhd_io_mem, .fs = fx->fs, .err = fx->err };
}

static void create(struct fx *fx, const char *path, enum vhd_type type, uint64_t size,
		   const char *parent)
{
	struct vhd_create_opts o = { .io = &vhd_io_mem,
				     .fs = fx->fs,
				     .type = type,
				     .size = size,
				     .parent = parent,
				     .err = fx->err };

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

/* Reads the whole virtual disk of 'path' into a new buffer. */
static uint8_t *read_all(struct fx *fx, const char *path, uint64_t *ret_size)
{
	struct vhd_open_opts o = { .io = &vhd_io_mem, .fs = fx->fs };
	struct vhd *v;
	uint8_t *buf;

	assert_int_equal(vhd_open(&v, path, &o), 0);
	*ret_size = vhd_size(v);
	buf = malloc(*ret_size);
	assert_int_equal(vhd_pread(v, buf, *ret_size, 0), 0);
	vhd_free(v);
	return buf;
}

static uint32_t n_blocks(struct fx *fx, const char *path)
{
	struct vhd_open_opts o = { .io = &vhd_io_mem, .fs = fx->fs, .flags = VHD_OPEN_NO_PARENT };
	struct vhd *v;
	uint32_t n = 0;

	assert_int_equal(vhd_open(&v, path, &o), 0);
	for (uint32_t i = 0; i < vhd_bat_len(v); i++)
		n += vhd_bat_get(v, i) != VHD_BAT_UNUSED;
	vhd_free(v);
	return n;
}

static void test_convert(void **state)
{
	struct fx *fx = *state;
	struct vhd_ops_opts o = ops(fx);
	uint64_t size = 6 * MIB + 512, n;
	uint8_t *raw = calloc(1, size), *back;

	memset(raw + 3 * MIB, 0x42, 1000);
	memset(raw + size - 10, 0x43, 10);
	assert_int_equal(vhd_memfs_put(fx->fs, "/disk.raw", raw, size), 0);
	assert_int_equal(vhd_convert("/disk.raw", VHD_IN_AUTO, "/d.vhd", VHD_OUT_DYNAMIC, &o), 0);
	assert_int_equal(n_blocks(fx, "/d.vhd"), 2); /* blocks 1 and 3; 0 and 2 are zero */
	back = read_all(fx, "/d.vhd", &n);
	assert_int_equal(n, size);
	assert_memory_equal(back, raw, size);
	free(back);
	assert_int_equal(vhd_convert("/d.vhd", VHD_IN_AUTO, "/f.vhd", VHD_OUT_FIXED, &o), 0);
	assert_int_equal(vhd_convert("/f.vhd", VHD_IN_AUTO, "/out.raw", VHD_OUT_RAW, &o), 0);
	back = (uint8_t *)vhd_memfs_get(fx->fs, "/out.raw", &n);
	assert_int_equal(n, size);
	assert_memory_equal(back, raw, size);
	/* Nothing is overwritten, and a failed conversion leaves no output. */
	assert_int_equal(vhd_convert("/d.vhd", VHD_IN_AUTO, "/f.vhd", VHD_OUT_FIXED, &o), -EEXIST);
	assert_int_equal(vhd_convert("/missing", VHD_IN_VHD, "/g.vhd", VHD_OUT_FIXED, &o), -ENOENT);
	assert_int_equal(vhd_io_mem.exists(fx->fs, "/g.vhd"), 0);
	free(raw);
}

static void test_merge(void **state)
{
	struct fx *fx = *state;
	struct vhd_ops_opts o = ops(fx);
	uint8_t a[3000], b[700], *want, *got;
	uint64_t n, m;

	memset(a, 0xAA, sizeof(a));
	memset(b, 0xBB, sizeof(b));
	create(fx, "/p.vhd", VHD_TYPE_DYNAMIC, 4 * MIB, NULL);
	write_at(fx, "/p.vhd", 1000, a, sizeof(a));
	create(fx, "/c.vhd", VHD_TYPE_DIFF, 0, "/p.vhd");
	write_at(fx, "/c.vhd", 1500, b, sizeof(b));
	write_at(fx, "/c.vhd", 3 * MIB, b, sizeof(b));
	create(fx, "/sibling.vhd", VHD_TYPE_DIFF, 0, "/p.vhd");
	want = read_all(fx, "/c.vhd", &n);

	assert_int_equal(vhd_merge("/c.vhd", &o), -EBUSY);
	assert_non_null(strstr(fx->err, "'/sibling.vhd'"));
	assert_int_equal(n_blocks(fx, "/p.vhd"), 1);
	o.force = true;
	o.delete_child = true;
	assert_int_equal(vhd_merge("/c.vhd", &o), 0);
	assert_int_equal(vhd_io_mem.exists(fx->fs, "/c.vhd"), 0);
	got = read_all(fx, "/p.vhd", &m);
	assert_int_equal(m, n);
	assert_memory_equal(got, want, n);
	assert_int_equal(n_blocks(fx, "/p.vhd"), 2);
	free(want);
	free(got);
	o = ops(fx);
	assert_int_equal(vhd_merge("/p.vhd", &o), -EINVAL);
	assert_string_equal(fx->err, "not a differencing image: nothing to merge");
}

static void test_compact(void **state)
{
	struct fx *fx = *state;
	struct vhd_ops_opts o = ops(fx);
	uint8_t *zero = calloc(1, 2 * MIB), data[512], *want, *got;
	uint64_t n, m;
	uint32_t dropped = 99;
	size_t len_before, len_after;

	memset(data, 0x77, sizeof(data));
	create(fx, "/c.vhd", VHD_TYPE_DYNAMIC, 8 * MIB, NULL);
	write_at(fx, "/c.vhd", 0, data, sizeof(data));
	write_at(fx, "/c.vhd", 2 * MIB, zero, 2 * MIB); /* allocated, all zero */
	write_at(fx, "/c.vhd", 4 * MIB, data, sizeof(data));
	write_at(fx, "/c.vhd", 4 * MIB, zero, 512); /* zeroed again */
	write_at(fx, "/c.vhd", 6 * MIB + 512, data, sizeof(data));
	assert_int_equal(n_blocks(fx, "/c.vhd"), 4);
	want = read_all(fx, "/c.vhd", &n);
	(void)vhd_memfs_get(fx->fs, "/c.vhd", &len_before);

	/* Not enough room: refused before anything is written. */
	vhd_memfs_set_free(fx->fs, 1000);
	assert_int_equal(vhd_compact("/c.vhd", &o, &dropped), -ENOSPC);
	assert_non_null(strstr(fx->err, "not enough free space"));
	assert_int_equal(vhd_io_mem.exists(fx->fs, "/c.vhd.compact-tmp"), 0);
	assert_int_equal(n_blocks(fx, "/c.vhd"), 4);
	vhd_memfs_set_free(fx->fs, UINT64_MAX);

	assert_int_equal(vhd_compact("/c.vhd", &o, &dropped), 0);
	assert_int_equal(dropped, 2);
	assert_int_equal(n_blocks(fx, "/c.vhd"), 2);
	(void)vhd_memfs_get(fx->fs, "/c.vhd", &len_after);
	assert_int_equal(len_after, len_before - 2 * (2 * MIB + 4096));
	got = read_all(fx, "/c.vhd", &m);
	assert_int_equal(m, n);
	assert_memory_equal(got, want, n);
	free(got);

	/* Child: zeros over parent data stay, zeros over parent zeros go. */
	create(fx, "/k.vhd", VHD_TYPE_DIFF, 0, "/c.vhd");
	write_at(fx, "/k.vhd", 0, zero, 2 * MIB);
	write_at(fx, "/k.vhd", 2 * MIB, zero, 2 * MIB);
	assert_int_equal(vhd_compact("/k.vhd", &o, &dropped), 0);
	assert_int_equal(dropped, 1);
	assert_int_equal(n_blocks(fx, "/k.vhd"), 1);
	memset(want, 0, 2 * MIB);
	got = read_all(fx, "/k.vhd", &m);
	assert_memory_equal(got, want, n);
	free(got);
	free(want);
	free(zero);
}

static void test_undo(void **state)
{
	struct fx *fx = *state;
	struct vhd_ops_opts o = ops(fx);
	uint8_t data[1000], *got;
	uint64_t n;

	memset(data, 0x31, sizeof(data));
	create(fx, "/vm.vhd", VHD_TYPE_DYNAMIC, 2 * MIB, NULL);
	assert_int_equal(vhd_undo("/vm.vhd", VHD_UNDO_COMMIT, &o), -ENOENT);
	assert_int_equal(vhd_undo("/vm.vhd", VHD_UNDO_ENABLE, &o), 0);
	assert_int_equal(vhd_io_mem.exists(fx->fs, "/vm.vhd.vud"), 1);
	assert_int_equal(vhd_undo("/vm.vhd", VHD_UNDO_ENABLE, &o), -EEXIST);
	write_at(fx, "/vm.vhd.vud", 10, data, sizeof(data));
	assert_int_equal(vhd_undo("/vm.vhd", VHD_UNDO_KEEP, &o), 0);
	assert_int_equal(vhd_undo("/vm.vhd", VHD_UNDO_DISABLE, &o), -ENOTEMPTY);
	assert_int_equal(vhd_undo("/vm.vhd", VHD_UNDO_DISCARD, &o), 0);
	assert_int_equal(n_blocks(fx, "/vm.vhd.vud"), 0);
	assert_int_equal(n_blocks(fx, "/vm.vhd"), 0);
	write_at(fx, "/vm.vhd.vud", 10, data, sizeof(data));
	assert_int_equal(vhd_undo("/vm.vhd", VHD_UNDO_COMMIT, &o), 0);
	assert_int_equal(n_blocks(fx, "/vm.vhd.vud"), 0);
	got = read_all(fx, "/vm.vhd", &n);
	assert_memory_equal(got + 10, data, sizeof(data));
	assert_int_equal(got[9], 0);
	free(got);
	assert_int_equal(vhd_undo("/vm.vhd", VHD_UNDO_DISABLE, &o), 0);
	assert_int_equal(vhd_io_mem.exists(fx->fs, "/vm.vhd.vud"), 0);
	/* A .vud of another image is refused. */
	create(fx, "/other.vhd", VHD_TYPE_DYNAMIC, 2 * MIB, NULL);
	create(fx, "/vm.vhd.vud", VHD_TYPE_DIFF, 0, "/other.vhd");
	assert_int_equal(vhd_undo("/vm.vhd", VHD_UNDO_COMMIT, &o), -EXDEV);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_convert, setup, teardown),
		cmocka_unit_test_setup_teardown(test_merge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_compact, setup, teardown),
		cmocka_unit_test_setup_teardown(test_undo, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

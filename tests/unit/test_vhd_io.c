/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of vhd_io.c: the in-memory provider's file semantics (create
 * exclusive, short reads at the end, growth, rename over, busy unlink,
 * directory listing) and the POSIX provider on a scratch folder in /tmp.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "vhd-attach/vhd_io.h"

struct names {
	char all[256];
};

static int collect(void *ctx, const char *name)
{
	struct names *n = ctx;

	strcat(n->all, name);
	strcat(n->all, ";");
	return 0;
}

static void test_mem(void **state)
{
	const struct vhd_io_ops *io = &vhd_io_mem;
	struct vhd_memfs *fs;
	struct vhd_io_stat st;
	struct names names = { "" };
	uint8_t buf[16];
	char path[64];
	void *f, *g;

	(void)state;
	assert_int_equal(vhd_memfs_new(&fs), 0);
	assert_int_equal(io->open(fs, "/d/a", 0, &f), -ENOENT);
	assert_int_equal(io->open(fs, "/d/a", VHD_IO_CREATE, &f), 0);
	assert_int_equal(io->open(fs, "d/./a", VHD_IO_CREATE, &g), -EEXIST);
	assert_int_equal(io->pwrite(f, "hello", 5, 10), 0);
	assert_int_equal(io->stat(f, &st), 0);
	assert_int_equal(st.size, 15);
	assert_int_equal(io->pread(f, buf, sizeof(buf), 8), 7);
	assert_memory_equal(buf, "\0\0hello", 7);
	assert_int_equal(io->pread(f, buf, sizeof(buf), 40), 0);
	assert_int_equal(io->truncate(f, 12), 0);
	assert_int_equal(io->pread(f, buf, sizeof(buf), 8), 4);
	assert_int_equal(io->punch(f, 10, 1), 0);
	assert_int_equal(io->pread(f, buf, 2, 10), 2);
	assert_memory_equal(buf, "\0e", 2);
	assert_int_equal(io->unlink(fs, "/d/a"), -EBUSY);
	io->close(f);

	/* Read-only handles cannot write. */
	assert_int_equal(io->open(fs, "/d/a", 0, &f), 0);
	assert_int_equal(io->pwrite(f, "x", 1, 0), -EBADF);
	io->close(f);

	assert_int_equal(vhd_memfs_put(fs, "/d/b", "bb", 2), 0);
	assert_int_equal(vhd_memfs_put(fs, "/d/sub/c", "c", 1), 0);
	assert_int_equal(io->list_dir(fs, "/d", collect, &names), 0);
	assert_string_equal(names.all, "a;b;");
	assert_int_equal(io->rename(fs, "/d/b", "/d/a"), 0);
	assert_int_equal(io->exists(fs, "/d/b"), 0);
	assert_int_equal(io->exists(fs, "/d/a"), 1);
	assert_int_equal(io->abspath(fs, "x/../d/a", path, sizeof(path)), 4);
	assert_string_equal(path, "/d/a");
	assert_int_equal(io->unlink(fs, "/d/a"), 0);
	assert_int_equal(io->exists(fs, "/d/a"), 0);
	vhd_memfs_free(fs);
}

static void test_posix(void **state)
{
	const struct vhd_io_ops *io = &vhd_io_posix;
	char dir[] = "/tmp/test_vhd_io.XXXXXX", path[128], path2[128], abs[256];
	struct names names = { "" };
	struct vhd_io_stat st, st2;
	uint8_t buf[8];
	uint64_t free_bytes = 0;
	void *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/img", dir);
	snprintf(path2, sizeof(path2), "%s/img2", dir);
	assert_int_equal(io->open(NULL, path, 0, &f), -ENOENT);
	assert_int_equal(io->open(NULL, path, VHD_IO_CREATE | VHD_IO_RDWR, &f), 0);
	assert_int_equal(io->pwrite(f, "abcdefgh", 8, 4096), 0);
	assert_int_equal(io->stat(f, &st), 0);
	assert_int_equal(st.size, 4104);
	assert_int_equal(st.is_blockdev, 0);
	assert_int_equal(io->pread(f, buf, 8, 4100), 4);
	assert_memory_equal(buf, "efgh", 4);
	assert_int_equal(io->truncate(f, 4098), 0);
	assert_int_equal(io->sync(f), 0);
	assert_int_equal(io->stat(f, &st), 0);
	assert_int_equal(st.size, 4098);
	io->close(f);
	assert_int_equal(io->open(NULL, path, VHD_IO_CREATE, &f), -EEXIST);
	assert_int_equal(io->free_space(NULL, path, &free_bytes), 0);
	assert_true(free_bytes > 0);
	assert_int_equal(io->list_dir(NULL, dir, collect, &names), 0);
	assert_string_equal(names.all, "img;");
	assert_int_equal(io->rename(NULL, path, path2), 0);
	assert_int_equal(io->exists(NULL, path), 0);
	assert_int_equal(io->open(NULL, path2, 0, &f), 0);
	assert_int_equal(io->stat(f, &st2), 0);
	assert_int_equal(st2.ino, st.ino);
	io->close(f);
	assert_int_equal(chdir(dir), 0);
	assert_true(io->abspath(NULL, "./x/../img2", abs, sizeof(abs)) > 0);
	assert_string_equal(abs, path2);
	assert_int_equal(io->unlink(NULL, path2), 0);
	assert_int_equal(chdir("/"), 0);
	assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mem),
		cmocka_unit_test(test_posix),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

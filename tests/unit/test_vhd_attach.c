/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the pure parts of vhd_attach.c: the state file codec
 * (round trip, golden text, malformed and oversized input) and the choice
 * of the partition `vhd mount` mounts.
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

#include "vhd-attach/vhd_attach.h"

static const char golden[] = "id=3\n"
			     "image=/vm/disk one.vhd\n"
			     "mode=undo\n"
			     "undo=/var/tmp/vhd-undo.abc/disk one.vhd.vud\n"
			     "fuse_dir=/run/vswitch/vhd/3/fuse\n"
			     "file=/run/vswitch/vhd/3/fuse/disk\n"
			     "mountpoint=/mnt/x\n"
			     "mountpoint_owned=0\n"
			     "fstype=ext4\n"
			     "partno=1\n"
			     "pid=4242\n"
			     "pid_start=987654321\n"
			     "loop=/dev/loop7 1048576 133169152 1\n";

static void fill(struct vhd_attach_rec *r)
{
	memset(r, 0, sizeof(*r));
	strcpy(r->id, "3");
	strcpy(r->image, "/vm/disk one.vhd");
	strcpy(r->undo, "/var/tmp/vhd-undo.abc/disk one.vhd.vud");
	strcpy(r->fuse_dir, "/run/vswitch/vhd/3/fuse");
	strcpy(r->file, "/run/vswitch/vhd/3/fuse/disk");
	strcpy(r->mountpoint, "/mnt/x");
	strcpy(r->fstype, "ext4");
	r->mode = VHD_ATTACH_UNDO;
	r->partno = 1;
	r->pid = 4242;
	r->pid_start = 987654321;
	r->n_loops = 1;
	strcpy(r->loops[0].dev, "/dev/loop7");
	r->loops[0].offset = 1048576;
	r->loops[0].size = 133169152;
	r->loops[0].partno = 1;
}

static void test_format_golden(void **state)
{
	struct vhd_attach_rec r;
	char buf[4096];

	(void)state;
	fill(&r);
	assert_int_equal(vhd_attach_rec_format(&r, buf, sizeof(buf)), (int)strlen(golden));
	assert_string_equal(buf, golden);
}

static void test_round_trip(void **state)
{
	struct vhd_attach_rec a, *b = malloc(sizeof(*b));
	char buf[8192];
	int n;

	(void)state;
	fill(&a);
	a.mode = VHD_ATTACH_READ_ONLY;
	a.mountpoint_owned = true;
	a.partno = -1;
	a.n_loops = 3;
	for (int i = 0; i < 3; i++) {
		sprintf(a.loops[i].dev, "/dev/loop%d", 10 + i);
		a.loops[i].offset = (uint64_t)i << 40;
		a.loops[i].size = UINT64_MAX - (uint64_t)i;
		a.loops[i].partno = i;
	}
	n = vhd_attach_rec_format(&a, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(vhd_attach_rec_parse(b, buf, (size_t)n), 0);
	assert_string_equal(b->image, a.image);
	assert_string_equal(b->undo, a.undo);
	assert_string_equal(b->mountpoint, a.mountpoint);
	assert_int_equal(b->mode, VHD_ATTACH_READ_ONLY);
	assert_true(b->mountpoint_owned);
	assert_int_equal(b->partno, -1);
	assert_int_equal(b->pid, 4242);
	assert_int_equal(b->n_loops, 3);
	assert_string_equal(b->loops[2].dev, "/dev/loop12");
	assert_true(b->loops[2].offset == (uint64_t)2 << 40);
	assert_true(b->loops[1].size == UINT64_MAX - 1);
	assert_int_equal(b->loops[2].partno, 2);
	free(b);
}

static void test_parse_minimal_and_unknown(void **state)
{
	static const char text[] = "id=0\nimage=/a.vhd\nmode=direct\nfuture_key=1\n\n";
	struct vhd_attach_rec r;

	(void)state;
	memset(&r, 0x5A, sizeof(r));
	assert_int_equal(vhd_attach_rec_parse(&r, text, sizeof(text) - 1), 0);
	assert_string_equal(r.image, "/a.vhd");
	assert_int_equal(r.mode, VHD_ATTACH_DIRECT);
	assert_int_equal(r.partno, -1);
	assert_int_equal(r.n_loops, 0);
	assert_string_equal(r.undo, "");
	/* No final newline: the last line still counts. */
	assert_int_equal(vhd_attach_rec_parse(&r, "id=1\nimage=/b", 13), 0);
	assert_string_equal(r.image, "/b");
}

static void test_parse_bad(void **state)
{
	static const char *const bad[] = {
		"image=/a\n",				 /* no id */
		"id=0\n",				 /* no image */
		"id=0\nimage=/a\nmode=sideways\n",	 /* unknown mode */
		"id=0\nimage=/a\nnoequals\n",		 /* not key=value */
		"id=0\nimage=/a\n=x\n",			 /* empty key */
		"id=0\nimage=/a\npid=-3\n",		 /* negative pid */
		"id=0\nimage=/a\npid=12x\n",		 /* trailing junk */
		"id=0\nimage=/a\npartno=-2\n",		 /* below -1 */
		"id=0\nimage=/a\nloop=/dev/loop0 1 2\n", /* missing field */
		"id=0\nimage=/a\nloop=/dev/loop0 1 2 3 4\n",
		"id=0\nimage=/a\nloop=/dev/loop0 -1 2 3\n",
		"id=0\nimage=/a\nmountpoint_owned=2\n",
		"id=01234567890123456789\nimage=/a\n", /* id too long */
	};
	struct vhd_attach_rec r;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(vhd_attach_rec_parse(&r, bad[i], strlen(bad[i])), -EBADMSG);
	/* A NUL inside a line. */
	assert_int_equal(vhd_attach_rec_parse(&r, "id=0\nimage=/a\0b\n", 16), -EBADMSG);
}

static void test_parse_limits(void **state)
{
	size_t cap = 64 * (VHD_ATTACH_MAX_LOOPS + 2) + 2 * VHD_ATTACH_PATH_LEN;
	char *buf = malloc(cap);
	struct vhd_attach_rec r;
	size_t len;

	(void)state;
	/* A path of VHD_ATTACH_PATH_LEN bytes leaves no room for the NUL. */
	len = (size_t)sprintf(buf, "id=0\nimage=");
	memset(buf + len, 'a', VHD_ATTACH_PATH_LEN);
	len += VHD_ATTACH_PATH_LEN;
	buf[len++] = '\n';
	assert_int_equal(vhd_attach_rec_parse(&r, buf, len), -ENAMETOOLONG);
	/* One loop device more than a record holds. */
	len = (size_t)sprintf(buf, "id=0\nimage=/a\n");
	for (int i = 0; i <= VHD_ATTACH_MAX_LOOPS; i++)
		len += (size_t)sprintf(buf + len, "loop=/dev/loop%d 0 512 %d\n", i, i);
	assert_int_equal(vhd_attach_rec_parse(&r, buf, len), -E2BIG);
	free(buf);
}

static void test_format_errors(void **state)
{
	struct vhd_attach_rec r;
	char buf[4096];

	(void)state;
	fill(&r);
	assert_int_equal(vhd_attach_rec_format(&r, buf, 40), -EMSGSIZE);
	assert_int_equal(vhd_attach_rec_format(&r, buf, 0), -EMSGSIZE);
	strcpy(r.mountpoint, "/mnt/a\nid=9");
	assert_int_equal(vhd_attach_rec_format(&r, buf, sizeof(buf)), -EINVAL);
}

static void test_mode_names(void **state)
{
	(void)state;
	assert_string_equal(vhd_attach_mode_name(VHD_ATTACH_UNDO), "undo");
	assert_string_equal(vhd_attach_mode_name(VHD_ATTACH_DIRECT), "direct");
	assert_string_equal(vhd_attach_mode_name(VHD_ATTACH_READ_ONLY), "read-only");
}

static struct vhd_attach_part part(int partno, const char *type, bool is_fs, bool is_container)
{
	struct vhd_attach_part p = { .partno = partno,
				     .is_fs = is_fs,
				     .is_container = is_container };

	strcpy(p.fstype, type);
	return p;
}

static void test_choose(void **state)
{
	/* MBR: swap, extended, a logical ext4, then a vfat. */
	struct vhd_attach_part mbr[] = { part(0, "", false, false), part(1, "swap", false, false),
					 part(2, "", false, true), part(5, "ext4", true, false),
					 part(3, "vfat", true, false) };
	struct vhd_attach_part whole[] = { part(0, "ext4", true, false) };
	struct vhd_attach_part empty[] = { part(0, "", false, false) };
	struct vhd_attach_part none[] = { part(0, "", false, false),
					  part(1, "swap", false, false) };

	(void)state;
	assert_int_equal(vhd_attach_choose(mbr, 5, -1),
			 3); /* first with a filesystem, table order */
	assert_int_equal(vhd_attach_choose(mbr, 5, 3), 4);
	assert_int_equal(vhd_attach_choose(mbr, 5, 5), 3);
	assert_int_equal(vhd_attach_choose(mbr, 5, 1), -EMEDIUMTYPE);
	assert_int_equal(vhd_attach_choose(mbr, 5, 2), -EMEDIUMTYPE); /* a container */
	assert_int_equal(vhd_attach_choose(mbr, 5, 0), -EMEDIUMTYPE);
	assert_int_equal(vhd_attach_choose(mbr, 5, 4), -ENOENT);
	assert_int_equal(vhd_attach_choose(mbr, 5, 9), -ENOENT);
	assert_int_equal(vhd_attach_choose(whole, 1, -1), 0);
	assert_int_equal(vhd_attach_choose(whole, 1, 0), 0);
	assert_int_equal(vhd_attach_choose(whole, 1, 1), -ENOENT);
	assert_int_equal(vhd_attach_choose(empty, 1, -1), -ENODATA);
	assert_int_equal(vhd_attach_choose(none, 2, -1), -ENODATA);
	assert_int_equal(vhd_attach_choose(none, 0, -1), -ENODATA);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_golden),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_parse_minimal_and_unknown),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_parse_limits),
		cmocka_unit_test(test_format_errors),
		cmocka_unit_test(test_mode_names),
		cmocka_unit_test(test_choose),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

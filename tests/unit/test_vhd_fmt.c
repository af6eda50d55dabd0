/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of vhd_fmt.c (footer, header, BAT, geometry, locator text) and
 * the pure path helpers of vhd_io.c. Golden bytes come from the sample image
 * dfvfs/ext2.vhd (its footer, as stored).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/bytes.h"
#include "vhd-attach/vhd_fmt.h"
#include "vhd-attach/vhd_io.h"

/* The first 85 bytes of ext2.vhd's footer; the other 427 are zero. */
static const uint8_t ext2_footer[85] = {
	0x63, 0x6f, 0x6e, 0x65, 0x63, 0x74, 0x69, 0x78, 0x00, 0x00, 0x00, 0x02, 0x00, 0x01, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x28, 0x8c, 0x38, 0x27, 0x71, 0x65,
	0x6d, 0x75, 0x00, 0x05, 0x00, 0x03, 0x57, 0x69, 0x32, 0x6b, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x40, 0x48, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x48, 0x00, 0x00, 0x79, 0x04, 0x11,
	0x00, 0x00, 0x00, 0x03, 0xff, 0xff, 0xef, 0xc4, 0xb6, 0x1f, 0x53, 0xca, 0xa7, 0x86, 0x45,
	0x28, 0x90, 0xe2, 0x55, 0xba, 0x79, 0x1a, 0x1c, 0x4c, 0x00,
};

static void golden_footer(uint8_t *buf)
{
	memset(buf, 0, VHD_FOOTER_LEN);
	memcpy(buf, ext2_footer, sizeof(ext2_footer));
}

static void test_footer_parse_golden(void **state)
{
	uint8_t buf[VHD_FOOTER_LEN];
	struct vhd_footer f;
	bool ok = false;

	(void)state;
	golden_footer(buf);
	assert_int_equal(vhd_fmt_footer_parse(buf, sizeof(buf), &f, &ok), 0);
	assert_true(ok);
	assert_int_equal(f.features, 2);
	assert_int_equal(f.version, 0x00010000);
	assert_int_equal(f.data_offset, 512);
	assert_int_equal(f.timestamp, 0x288c3827);
	assert_memory_equal(f.creator_app, "qemu", 4);
	assert_int_equal(f.creator_ver, 0x00050003);
	assert_int_equal(f.creator_os, 0x5769326B);
	assert_int_equal(f.orig_size, 4212736);
	assert_int_equal(f.cur_size, 4212736);
	assert_int_equal(f.cylinders, 121);
	assert_int_equal(f.heads, 4);
	assert_int_equal(f.spt, 17);
	assert_int_equal(f.type, VHD_TYPE_DYNAMIC);
	assert_int_equal(f.checksum, 0xFFFFEFC4);
	assert_int_equal(f.uuid[0], 0xb6);
	assert_int_equal(f.uuid[15], 0x4c);
	assert_int_equal(f.saved_state, 0);
	assert_int_equal(vhd_fmt_checksum(buf, sizeof(buf), 64), 0xFFFFEFC4);
}

static void test_footer_build_golden(void **state)
{
	uint8_t want[VHD_FOOTER_LEN], got[VHD_FOOTER_LEN];
	struct vhd_footer f;
	bool ok;

	(void)state;
	golden_footer(want);
	assert_int_equal(vhd_fmt_footer_parse(want, sizeof(want), &f, &ok), 0);
	f.checksum = 0; /* rebuilt */
	vhd_fmt_footer_build(&f, got);
	assert_memory_equal(got, want, sizeof(want));
}

static void test_footer_invalid(void **state)
{
	uint8_t buf[VHD_FOOTER_LEN];
	struct vhd_footer f;
	bool ok = true;

	(void)state;
	golden_footer(buf);
	buf[70] ^= 1; /* inside the unique id: only the checksum notices */
	assert_int_equal(vhd_fmt_footer_parse(buf, sizeof(buf), &f, &ok), 0);
	assert_false(ok);

	golden_footer(buf);
	buf[0] = 'C';
	assert_int_equal(vhd_fmt_footer_parse(buf, sizeof(buf), &f, &ok), -ENOTTY);
	golden_footer(buf);
	put_be32(buf + 60, 5);
	assert_int_equal(vhd_fmt_footer_parse(buf, sizeof(buf), &f, &ok), -EBADMSG);
	golden_footer(buf);
	put_be32(buf + 12, 0x00020000);
	assert_int_equal(vhd_fmt_footer_parse(buf, sizeof(buf), &f, &ok), -EBADMSG);
	golden_footer(buf);
	buf[84] = 2;
	assert_int_equal(vhd_fmt_footer_parse(buf, sizeof(buf), &f, &ok), -EBADMSG);
	golden_footer(buf);
	put_be64(buf + 16, VHD_NO_OFFSET); /* dynamic without a header */
	assert_int_equal(vhd_fmt_footer_parse(buf, sizeof(buf), &f, &ok), -EBADMSG);
	golden_footer(buf);
	put_be64(buf + 48, VHD_MAX_SIZE + 512);
	assert_int_equal(vhd_fmt_footer_parse(buf, sizeof(buf), &f, &ok), -E2BIG);
	golden_footer(buf);
	put_be64(buf + 48, VHD_MAX_SIZE);
	assert_int_equal(vhd_fmt_footer_parse(buf, sizeof(buf), &f, &ok), 0);
	assert_int_equal(vhd_fmt_footer_parse(buf, 511, &f, &ok), -EBADMSG);
}

static void make_header(struct vhd_header *h)
{
	memset(h, 0, sizeof(*h));
	h->data_offset = VHD_NO_OFFSET;
	h->table_offset = 1536;
	h->version = VHD_VERSION;
	h->max_entries = 3;
	h->block_size = 2u << 20;
}

static void test_header_roundtrip(void **state)
{
	uint8_t buf[VHD_HEADER_LEN];
	struct vhd_header h, g;
	bool ok = false;

	(void)state;
	make_header(&h);
	h.parent_ts = 0x12345678;
	h.parent_uuid[0] = 0xd4;
	h.parent_name[1] = 'p';
	h.loc[1] = (struct vhd_locator){ VHD_PLAT_W2RU, 512, 26, 4096 };
	vhd_fmt_header_build(&h, buf);
	assert_memory_equal(buf, "cxsparse", 8);
	assert_int_equal(get_be64(buf + 16), 1536);
	assert_int_equal(get_be32(buf + 576 + 24), VHD_PLAT_W2RU);
	assert_int_equal(get_be64(buf + 576 + 24 + 16), 4096);
	assert_int_equal(vhd_fmt_header_parse(buf, sizeof(buf), &g, &ok), 0);
	assert_true(ok);
	assert_int_equal(g.max_entries, 3);
	assert_int_equal(g.block_size, 2u << 20);
	assert_int_equal(g.parent_ts, 0x12345678);
	assert_int_equal(g.parent_uuid[0], 0xd4);
	assert_int_equal(g.parent_name[1], 'p');
	assert_int_equal(g.loc[1].code, VHD_PLAT_W2RU);
	assert_int_equal(g.loc[1].len, 26);
	assert_int_equal(g.checksum, get_be32(buf + 36));
	buf[700] ^= 1;
	assert_int_equal(vhd_fmt_header_parse(buf, sizeof(buf), &g, &ok), 0);
	assert_false(ok);
}

static int parse_with(void (*mod)(struct vhd_header *h))
{
	uint8_t buf[VHD_HEADER_LEN];
	struct vhd_header h, g;
	bool ok;

	make_header(&h);
	mod(&h);
	vhd_fmt_header_build(&h, buf);
	return vhd_fmt_header_parse(buf, sizeof(buf), &g, &ok);
}

static void bs_3m(struct vhd_header *h)
{
	h->block_size = 3u << 20;
}
static void bs_256(struct vhd_header *h)
{
	h->block_size = 256;
}
static void bs_1g(struct vhd_header *h)
{
	h->block_size = 1u << 30;
}
static void bs_256m(struct vhd_header *h)
{
	h->block_size = 256u << 20;
}
static void bs_512(struct vhd_header *h)
{
	h->block_size = 512;
}
static void no_entries(struct vhd_header *h)
{
	h->max_entries = 0;
}
static void many_entries(struct vhd_header *h)
{
	h->max_entries = VHD_MAX_BAT + 1;
}
static void odd_table(struct vhd_header *h)
{
	h->table_offset = 1537;
}

static void test_header_invalid(void **state)
{
	(void)state;
	assert_int_equal(parse_with(bs_3m), -EBADMSG);
	assert_int_equal(parse_with(bs_256), -EBADMSG);
	assert_int_equal(parse_with(bs_1g), -EBADMSG);
	assert_int_equal(parse_with(bs_256m), 0);
	assert_int_equal(parse_with(bs_512), 0);
	assert_int_equal(parse_with(no_entries), -EBADMSG);
	assert_int_equal(parse_with(many_entries), -E2BIG);
	assert_int_equal(parse_with(odd_table), -EBADMSG);
}

static void test_bat(void **state)
{
	const uint8_t raw[12] = { 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 7, 0, 0, 0x10, 0 };
	uint32_t bat[3];

	(void)state;
	assert_int_equal(vhd_fmt_bat_parse(raw, sizeof(raw), 3, bat), 0);
	assert_int_equal(bat[0], VHD_BAT_UNUSED);
	assert_int_equal(bat[1], 7);
	assert_int_equal(bat[2], 4096);
	assert_int_equal(vhd_fmt_bat_parse(raw, sizeof(raw), 4, bat), -EBADMSG);
	assert_int_equal(vhd_fmt_bitmap_len(2u << 20), 512);
	assert_int_equal(vhd_fmt_bitmap_len(512u << 10), 512);
	assert_int_equal(vhd_fmt_bitmap_len(16u << 20), 4096);
	assert_int_equal(vhd_fmt_bitmap_len(512), 512);
}

static void check_chs(uint64_t size, unsigned c, unsigned h, unsigned s)
{
	uint16_t cyl;
	uint8_t heads, spt;

	vhd_fmt_chs(size, &cyl, &heads, &spt);
	assert_int_equal(cyl, c);
	assert_int_equal(heads, h);
	assert_int_equal(spt, s);
}

static void test_chs(void **state)
{
	(void)state;
	/* The values the notes' table lists from real images and QEMU iotest 146. */
	check_chs(4194304, 120, 4, 17);
	check_chs(10485760, 301, 4, 17);
	check_chs(536870912, 1040, 16, 63);
	check_chs(4294967296ull, 8322, 16, 63);
	check_chs(136365211648ull, 65278, 16, 255);
	check_chs(VHD_MAX_SIZE, 65535, 16, 255);
	check_chs(4212736, 121, 4, 17);
}

static void test_virtual_size(void **state)
{
	struct vhd_footer f = { 0 };

	(void)state;
	f.cur_size = 136365211648ull;
	f.cylinders = 65278;
	f.heads = 16;
	f.spt = 255;
	memcpy(f.creator_app, "vpc ", 4);
	assert_int_equal(vhd_fmt_virtual_size(&f, VHD_SIZE_AUTO), 136363130880ull);
	assert_int_equal(vhd_fmt_virtual_size(&f, VHD_SIZE_CURRENT), 136365211648ull);
	memcpy(f.creator_app, "win ", 4);
	assert_int_equal(vhd_fmt_virtual_size(&f, VHD_SIZE_AUTO), 136365211648ull);
	assert_int_equal(vhd_fmt_virtual_size(&f, VHD_SIZE_CHS), 136363130880ull);
	/* A maximal geometry says nothing: the current size wins even for "vpc ". */
	memcpy(f.creator_app, "vpc ", 4);
	f.cylinders = 65535;
	f.cur_size = 263454720;
	assert_int_equal(vhd_fmt_virtual_size(&f, VHD_SIZE_AUTO), 263454720);
}

static void test_locators(void **state)
{
	uint8_t data[128];
	char out[64];
	int n;

	(void)state;
	n = vhd_fmt_utf16_encode(".\\fat-parent.vhd", true, data, sizeof(data));
	assert_int_equal(n, 32); /* the 32-byte W2ru of fat-differential.vhd */
	assert_int_equal(data[0], '.');
	assert_int_equal(data[1], 0);
	assert_int_equal(vhd_fmt_locator_decode(VHD_PLAT_W2RU, data, (size_t)n, out, sizeof(out)),
			 16);
	assert_string_equal(out, "./fat-parent.vhd");
	n = vhd_fmt_utf16_encode("C:\\Projects\\x.vhd", true, data, sizeof(data));
	assert_int_equal(vhd_fmt_locator_decode(VHD_PLAT_W2KU, data, (size_t)n, out, sizeof(out)),
			 15);
	assert_string_equal(out, "/Projects/x.vhd");
	assert_int_equal(vhd_fmt_locator_decode(VHD_PLAT_MACX,
						(const uint8_t *)"file://localhost/d/a%20b.vhd", 28,
						out, sizeof(out)),
			 10);
	assert_string_equal(out, "/d/a b.vhd");
	assert_int_equal(vhd_fmt_locator_decode(VHD_PLAT_MACX, (const uint8_t *)"file:///x", 9, out,
						sizeof(out)),
			 2);
	assert_string_equal(out, "/x");
	assert_int_equal(vhd_fmt_locator_decode(VHD_PLAT_WI2R, (const uint8_t *)"..\\p.vhd", 8, out,
						sizeof(out)),
			 8);
	assert_string_equal(out, "../p.vhd");
	assert_int_equal(vhd_fmt_locator_decode(VHD_PLAT_MAC, data, 4, out, sizeof(out)),
			 -EOPNOTSUPP);
	assert_int_equal(vhd_fmt_locator_decode(VHD_PLAT_W2RU, data, 0, out, sizeof(out)),
			 -EBADMSG);
	n = vhd_fmt_utf16_encode("C:", true, data, sizeof(data));
	assert_int_equal(vhd_fmt_locator_decode(VHD_PLAT_W2KU, data, (size_t)n, out, sizeof(out)),
			 -EBADMSG);
	n = vhd_fmt_utf16_encode(".\\fat-parent.vhd", true, data, sizeof(data));
	assert_int_equal(vhd_fmt_locator_decode(VHD_PLAT_W2RU, data, (size_t)n, out, 8), -EMSGSIZE);
}

static void test_utf16(void **state)
{
	const uint8_t lone[] = { 0xD8, 0x00, 0x00, 0x41 }; /* BE: unpaired high surrogate, 'A' */
	uint8_t buf[64];
	char out[64];
	int n;

	(void)state;
	n = vhd_fmt_utf16_encode("p\xc3\xa9\xf0\x9f\x98\x80", false, buf, sizeof(buf));
	assert_int_equal(n, 8); /* p, e-acute, a surrogate pair */
	assert_int_equal(get_be16(buf + 4), 0xD83D);
	assert_int_equal(get_be16(buf + 6), 0xDE00);
	assert_int_equal(vhd_fmt_utf16_decode(buf, (size_t)n, false, out, sizeof(out)), 7);
	assert_string_equal(out, "p\xc3\xa9\xf0\x9f\x98\x80");
	assert_int_equal(vhd_fmt_utf16_decode(lone, sizeof(lone), false, out, sizeof(out)), 4);
	assert_string_equal(out, "\xef\xbf\xbd"
				 "A");
	assert_int_equal(vhd_fmt_utf16_encode("\xc3", false, buf, sizeof(buf)), -EBADMSG);
	assert_int_equal(vhd_fmt_utf16_encode("abc", false, buf, 4), -EMSGSIZE);
}

static void test_paths(void **state)
{
	char p[128];

	(void)state;
	strcpy(p, "/a//b/./c/../d/");
	assert_int_equal(vhd_path_normalize(p), 6);
	assert_string_equal(p, "/a/b/d");
	strcpy(p, "/..");
	vhd_path_normalize(p);
	assert_string_equal(p, "/");
	assert_int_equal(vhd_path_relative("/a/b", "/a/c/p.vhd", p, sizeof(p)), 10);
	assert_string_equal(p, "../c/p.vhd");
	vhd_path_relative("/a/b", "/a/b/p.vhd", p, sizeof(p));
	assert_string_equal(p, "./p.vhd");
	vhd_path_relative("/a/bc", "/a/b/p.vhd", p, sizeof(p));
	assert_string_equal(p, "../b/p.vhd");
	vhd_path_relative("/", "/x/p.vhd", p, sizeof(p));
	assert_string_equal(p, "./x/p.vhd");
	assert_int_equal(vhd_path_relative("/a/b", "/a/c/p.vhd", p, 6), -EMSGSIZE);
	vhd_path_dirname("/a/b/c.vhd", p, sizeof(p));
	assert_string_equal(p, "/a/b");
	vhd_path_dirname("/c.vhd", p, sizeof(p));
	assert_string_equal(p, "/");
	vhd_path_join("/a", "./b.vhd", p, sizeof(p));
	assert_string_equal(p, "/a/./b.vhd");
	vhd_path_join("/a", "/b.vhd", p, sizeof(p));
	assert_string_equal(p, "/b.vhd");
	assert_string_equal(vhd_path_basename("/a/b.vhd"), "b.vhd");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_footer_parse_golden),
		cmocka_unit_test(test_footer_build_golden),
		cmocka_unit_test(test_footer_invalid),
		cmocka_unit_test(test_header_roundtrip),
		cmocka_unit_test(test_header_invalid),
		cmocka_unit_test(test_bat),
		cmocka_unit_test(test_chs),
		cmocka_unit_test(test_virtual_size),
		cmocka_unit_test(test_locators),
		cmocka_unit_test(test_utf16),
		cmocka_unit_test(test_paths),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of vhd.c on in-memory images (vhd_io_mem): the exact layout
 * vhd_create() writes, block allocation at the footer, reads and writes at
 * any offset against a mirror buffer, differencing chains (locators, lookup
 * order, id enforcement, loops), lenient opening of damaged images, the size
 * cap and the size semantics by creator.
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

#define MIB (1u << 20)

static const uint8_t uuid_a[16] = { 0xa0, 1, 2, 3, 4, 5, 0x46, 7, 0x88, 9, 10, 11, 12, 13, 14, 15 };
static const uint8_t uuid_b[16] = { 0xb0, 1, 2, 3, 4, 5, 0x46, 7, 0x88, 9, 10, 11, 12, 13, 14, 15 };

struct fx {
	struct vhd_memfs *fs;
	char err[VHD_ERR_LEN];
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

static int create(struct fx *fx, const char *path, enum vhd_type type, uint64_t size,
		  const char *parent, const uint8_t *uuid, struct vhd **ret)
{
	struct vhd_create_opts o = { .io = &vhd_io_mem,
				     .fs = fx->fs,
				     .type = type,
				     .size = size,
				     .parent = parent,
				     .uuid = uuid,
				     .timestamp = 0x20000000,
				     .err = fx->err };

	return vhd_create(ret, path, &o);
}

static int open_img(struct fx *fx, const char *path, unsigned flags, struct vhd **ret)
{
	struct vhd_open_opts o = {
		.io = &vhd_io_mem, .fs = fx->fs, .flags = flags, .err = fx->err
	};

	return vhd_open(ret, path, &o);
}

static void pattern(uint8_t *buf, size_t len, unsigned seed)
{
	uint32_t s = seed * 2654435761u + 1;

	for (size_t i = 0; i < len; i++) {
		s = s * 1103515245u + 12345u;
		buf[i] = (uint8_t)(s >> 16);
	}
}

static void test_create_dynamic_layout(void **state)
{
	struct fx *fx = *state;
	const uint8_t *img;
	size_t len;
	struct vhd *v;

	assert_int_equal(create(fx, "/d.vhd", VHD_TYPE_DYNAMIC, 8 * MIB, NULL, uuid_a, &v), 0);
	img = vhd_memfs_get(fx->fs, "/d.vhd", &len);
	/* footer copy, header, 4-entry BAT padded to a sector, footer at 4096 - 512 */
	assert_int_equal(len, 4096);
	assert_memory_equal(img, "conectix", 8);
	assert_memory_equal(img + 512, "cxsparse", 8);
	assert_int_equal(get_be64(img + 512 + 16), 1536);
	assert_int_equal(get_be32(img + 512 + 28), 4);
	assert_int_equal(get_be32(img + 512 + 32), 2 * MIB);
	for (int i = 0; i < 512; i++)
		assert_int_equal(img[1536 + i], 0xFF);
	assert_memory_equal(img, img + 3584, 512);
	assert_memory_equal(img + 28, "win ", 4);
	assert_int_equal(get_be64(img + 48), 8 * MIB);
	assert_int_equal(get_be16(img + 56), 240); /* 8 MiB: 240/4/17 */
	assert_memory_equal(img + 68, uuid_a, 16);
	assert_int_equal(vhd_size(v), 8 * MIB);
	assert_int_equal(vhd_footer_offset(v), 3584);
	vhd_free(v);
}

static void test_alloc_layout(void **state)
{
	struct fx *fx = *state;
	uint8_t buf[1024], back[1024];
	const uint8_t *img;
	size_t len;
	struct vhd *v;

	assert_int_equal(create(fx, "/d.vhd", VHD_TYPE_DYNAMIC, 8 * MIB, NULL, uuid_a, &v), 0);
	pattern(buf, sizeof(buf), 1);
	assert_int_equal(vhd_pwrite(v, buf, 512, 0), 0);
	img = vhd_memfs_get(fx->fs, "/d.vhd", &len);
	/* The bitmap replaces the old footer at 3584, data at 4096 (4 KiB aligned). */
	assert_int_equal(vhd_bat_get(v, 0), 7);
	assert_int_equal(get_be32(img + 1536), 7);
	assert_int_equal(img[3584], 0x80);
	assert_int_equal(img[3585], 0);
	assert_memory_equal(img + 4096, buf, 512);
	assert_int_equal(len, 4096 + 2 * MIB + 4096);
	assert_memory_equal(img + len - 512, "conectix", 8);
	assert_memory_equal(img, img + len - 512, 512);
	/* The second block goes after the first one's footer, again aligned. */
	assert_int_equal(vhd_pwrite(v, buf, 1024, 4 * MIB + 512), 0);
	img = vhd_memfs_get(fx->fs, "/d.vhd", &len);
	assert_int_equal(vhd_bat_get(v, 2), (4096 + 2 * MIB + 3584) / 512);
	assert_int_equal(img[4096 + 2 * MIB + 3584], 0x60);
	assert_int_equal(len, 2 * (4096 + 2 * MIB) + 4096);
	assert_int_equal(vhd_pread(v, back, 1024, 4 * MIB + 512), 0);
	assert_memory_equal(back, buf, 1024);
	assert_int_equal(vhd_pread(v, back, 512, 4 * MIB), 0);
	for (int i = 0; i < 512; i++)
		assert_int_equal(back[i], 0);
	vhd_free(v);
	/* A fresh open sees the same. */
	assert_int_equal(open_img(fx, "/d.vhd", 0, &v), 0);
	assert_int_equal(vhd_pread(v, back, 1024, 4 * MIB + 512), 0);
	assert_memory_equal(back, buf, 1024);
	vhd_free(v);
}

static void random_io(struct fx *fx, struct vhd *v, uint8_t *mirror, uint64_t size, unsigned n)
{
	static uint8_t buf[300000], back[300000];
	uint32_t s = 7;

	(void)fx;
	for (unsigned i = 0; i < n; i++) {
		uint64_t off, len;

		s = s * 1103515245u + 12345u;
		off = (s >> 3) % size;
		s = s * 1103515245u + 12345u;
		len = 1 + (s >> 5) % sizeof(buf);
		if (len > size - off)
			len = size - off;
		if (i % 5 == 0)
			memset(buf, 0, len);
		else
			pattern(buf, len, i);
		assert_int_equal(vhd_pwrite(v, buf, len, off), 0);
		memcpy(mirror + off, buf, len);
		s = s * 1103515245u + 12345u;
		off = (s >> 3) % size;
		len = size - off < sizeof(back) ? size - off : sizeof(back);
		assert_int_equal(vhd_pread(v, back, len, off), 0);
		assert_memory_equal(back, mirror + off, len);
	}
}

static void test_random_dynamic(void **state)
{
	struct fx *fx = *state;
	uint64_t size = 5 * MIB + 3 * 512; /* not a whole number of blocks */
	uint8_t *mirror = calloc(1, size), *back = malloc(size);
	struct vhd *v;

	assert_int_equal(create(fx, "/r.vhd", VHD_TYPE_DYNAMIC, size, NULL, NULL, &v), 0);
	random_io(fx, v, mirror, size, 60);
	vhd_free(v);
	assert_int_equal(open_img(fx, "/r.vhd", 0, &v), 0);
	assert_int_equal(vhd_pread(v, back, size, 0), 0);
	assert_memory_equal(back, mirror, size);
	vhd_free(v);
	free(mirror);
	free(back);
}

static void test_fixed(void **state)
{
	struct fx *fx = *state;
	uint64_t size = 3 * MIB;
	uint8_t *mirror = calloc(1, size);
	const uint8_t *img;
	size_t len;
	struct vhd *v;

	assert_int_equal(create(fx, "/f.vhd", VHD_TYPE_FIXED, size, NULL, uuid_a, &v), 0);
	img = vhd_memfs_get(fx->fs, "/f.vhd", &len);
	assert_int_equal(len, size + 512);
	assert_int_equal(get_be64(img + size + 16), VHD_NO_OFFSET);
	assert_int_equal(get_be32(img + size + 60), VHD_TYPE_FIXED);
	random_io(fx, v, mirror, size, 20);
	img = vhd_memfs_get(fx->fs, "/f.vhd", &len);
	assert_int_equal(len, size + 512);
	assert_memory_equal(img, mirror, size);
	vhd_free(v);
	free(mirror);
}

static void test_bounds(void **state)
{
	struct fx *fx = *state;
	uint8_t buf[1024] = { 0 };
	struct vhd *v;

	assert_int_equal(create(fx, "/b.vhd", VHD_TYPE_DYNAMIC, 2 * MIB, NULL, NULL, &v), 0);
	assert_int_equal(vhd_pread(v, buf, 1024, 2 * MIB - 512), -EINVAL);
	assert_int_equal(vhd_pwrite(v, buf, 1024, 2 * MIB - 512), -EINVAL);
	assert_int_equal(vhd_pread(v, buf, 512, 2 * MIB - 512), 0);
	vhd_free(v);
	assert_int_equal(open_img(fx, "/b.vhd", 0, &v), 0);
	assert_int_equal(vhd_pwrite(v, buf, 512, 0), -EBADF);
	vhd_free(v);
	assert_int_equal(
		create(fx, "/big.vhd", VHD_TYPE_DYNAMIC, VHD_MAX_SIZE + 512, NULL, NULL, NULL),
		-E2BIG);
	assert_string_equal(fx->err, "disk size exceeds the 2040 GiB limit");
	assert_int_equal(create(fx, "/max.vhd", VHD_TYPE_DYNAMIC, VHD_MAX_SIZE, NULL, NULL, &v), 0);
	assert_int_equal(vhd_bat_len(v), 1044480);
	assert_int_equal(vhd_pwrite(v, buf, 512, VHD_MAX_SIZE - 512), 0);
	assert_int_equal(vhd_pread(v, buf, 512, VHD_MAX_SIZE - 512), 0);
	vhd_free(v);
	assert_int_equal(create(fx, "/b.vhd", VHD_TYPE_DYNAMIC, MIB, NULL, NULL, NULL), -EEXIST);
}

static void test_status(void **state)
{
	struct fx *fx = *state;
	uint8_t buf[4096];
	uint64_t n;
	struct vhd *v;

	pattern(buf, sizeof(buf), 3);
	assert_int_equal(create(fx, "/s.vhd", VHD_TYPE_DYNAMIC, 6 * MIB, NULL, NULL, &v), 0);
	assert_int_equal(vhd_pwrite(v, buf, 1024, 2 * MIB + 4096), 0);
	assert_int_equal(vhd_block_status(v, 0, 6 * MIB, &n), 0);
	assert_int_equal(n, 2 * MIB);
	assert_int_equal(vhd_block_status(v, 2 * MIB, 4 * MIB, &n), 1);
	assert_int_equal(n, 2 * MIB);
	assert_int_equal(vhd_layer_status(v, 2 * MIB, 2 * MIB, &n), 0);
	assert_int_equal(n, 4096);
	assert_int_equal(vhd_layer_status(v, 2 * MIB + 4096, 2 * MIB, &n), 1);
	assert_int_equal(n, 1024);
	assert_int_equal(vhd_layer_status(v, 2 * MIB + 5120, 100, &n), 0);
	assert_int_equal(n, 100);
	/* Discarding the whole block clears it: zeros, no sector left in the layer. */
	assert_int_equal(vhd_discard(v, 2 * MIB, 2 * MIB), 0);
	assert_int_equal(vhd_layer_status(v, 2 * MIB, 2 * MIB, &n), 0);
	assert_int_equal(n, 2 * MIB);
	assert_int_equal(vhd_pread(v, buf, 1024, 2 * MIB + 4096), 0);
	for (int i = 0; i < 1024; i++)
		assert_int_equal(buf[i], 0);
	vhd_free(v);
}

static void test_diff_chain(void **state)
{
	struct fx *fx = *state;
	uint8_t p[8192], c[700], back[8192];
	struct vhd_parent_ref refs[9];
	struct vhd *base, *child;
	char name[64];

	pattern(p, sizeof(p), 5);
	pattern(c, sizeof(c), 6);
	assert_int_equal(
		create(fx, "/dir/base.vhd", VHD_TYPE_DYNAMIC, 4 * MIB, NULL, uuid_a, &base), 0);
	assert_int_equal(vhd_pwrite(base, p, sizeof(p), 0), 0);
	vhd_free(base);
	assert_int_equal(
		create(fx, "/dir/sub/child.vhd", VHD_TYPE_DIFF, 0, "/dir/base.vhd", uuid_b, &child),
		0);
	assert_int_equal(vhd_size(child), 4 * MIB);
	assert_int_equal(vhd_link_state(child), VHD_LINK_OK);
	assert_int_equal(vhd_parent_refs(child, refs, 9), 3);
	assert_int_equal(refs[0].code, VHD_PLAT_W2KU);
	assert_string_equal(refs[0].path, "/dir/base.vhd");
	assert_int_equal(refs[1].code, VHD_PLAT_W2RU);
	assert_string_equal(refs[1].path, "../base.vhd");
	assert_int_equal(refs[2].code, 0);
	assert_string_equal(refs[2].path, "base.vhd");
	assert_memory_equal(vhd_header(child)->parent_uuid, uuid_a, 16);
	/* A partial-sector write keeps the parent's other bytes of that sector. */
	assert_int_equal(vhd_pwrite(child, c, sizeof(c), 100), 0);
	assert_int_equal(vhd_pread(child, back, sizeof(back), 0), 0);
	assert_memory_equal(back, p, 100);
	assert_memory_equal(back + 100, c, sizeof(c));
	assert_memory_equal(back + 800, p + 800, sizeof(p) - 800);
	vhd_free(child);
	/* The parent itself is untouched. */
	assert_int_equal(open_img(fx, "/dir/base.vhd", 0, &base), 0);
	assert_int_equal(vhd_pread(base, back, sizeof(back), 0), 0);
	assert_memory_equal(back, p, sizeof(p));
	vhd_free(base);

	/* Move both: the absolute locator goes stale, the relative one still works. */
	assert_int_equal(vhd_io_mem.rename(fx->fs, "/dir/base.vhd", "/new/base.vhd"), 0);
	assert_int_equal(vhd_io_mem.rename(fx->fs, "/dir/sub/child.vhd", "/new/sub/child.vhd"), 0);
	assert_int_equal(open_img(fx, "/new/sub/child.vhd", 0, &child), 0);
	assert_string_equal(vhd_parent_path(child), "/new/base.vhd");
	assert_int_equal(vhd_pread(child, back, 1024, 0), 0);
	assert_memory_equal(back + 100, c, sizeof(c));
	vhd_free(child);

	/* Only the name is left when the child sits beside its parent (libvhdi's lookup). */
	assert_int_equal(vhd_io_mem.rename(fx->fs, "/new/sub/child.vhd", "/elsewhere/child.vhd"),
			 0);
	assert_int_equal(open_img(fx, "/elsewhere/child.vhd", 0, &child), -ENOENT);
	assert_string_equal(fx->err, "parent not found");
	assert_int_equal(vhd_io_mem.rename(fx->fs, "/new/base.vhd", "/elsewhere/base.vhd"), 0);
	assert_int_equal(open_img(fx, "/elsewhere/child.vhd", 0, &child), 0);
	assert_string_equal(vhd_parent_path(child), "/elsewhere/base.vhd");
	vhd_free(child);

	/* A different image under the parent's name: the unique id decides. */
	assert_int_equal(vhd_io_mem.unlink(fx->fs, "/elsewhere/base.vhd"), 0);
	assert_int_equal(
		create(fx, "/elsewhere/base.vhd", VHD_TYPE_DYNAMIC, 4 * MIB, NULL, uuid_b, NULL),
		0);
	assert_int_equal(open_img(fx, "/elsewhere/child.vhd", 0, &child), -EXDEV);
	snprintf(name, sizeof(name), "parent '/elsewhere/base.vhd' has a different unique id");
	assert_string_equal(fx->err, name);
	assert_int_equal(open_img(fx, "/elsewhere/child.vhd", VHD_OPEN_KEEP_BROKEN, &child), 0);
	assert_int_equal(vhd_link_state(child), VHD_LINK_UUID_MISMATCH);
	assert_int_equal(vhd_pread(child, back, 512, 2 * MIB), -ENOLINK);
	vhd_free(child);
	assert_int_equal(open_img(fx, "/elsewhere/child.vhd", VHD_OPEN_NO_PARENT, &child), 0);
	assert_int_equal(vhd_link_state(child), VHD_LINK_NOT_OPENED);
	assert_int_equal(vhd_pread(child, back, 2048, 0), 0);
	/* Sectors 0 and 1 were copied up by the partial write; sector 2 reads as zero. */
	assert_memory_equal(back, p, 100);
	assert_memory_equal(back + 100, c, sizeof(c));
	for (int i = 1024; i < 2048; i++)
		assert_int_equal(back[i], 0);
	vhd_free(child);
}

/*
 * Discarding in a differencing image: what the parent holds reads zero
 * afterwards, and where the parent already reads zero the child gets no
 * block (a trim of free space over a fresh base costs nothing).
 */
static void test_diff_discard(void **state)
{
	struct fx *fx = *state;
	uint8_t p[8192], back[8192];
	struct vhd *base, *child;
	uint64_t n;

	pattern(p, sizeof(p), 7);
	assert_int_equal(create(fx, "/db.vhd", VHD_TYPE_DYNAMIC, 6 * MIB, NULL, uuid_a, &base), 0);
	assert_int_equal(vhd_pwrite(base, p, sizeof(p), MIB), 0);
	vhd_free(base);
	assert_int_equal(create(fx, "/dc.vhd", VHD_TYPE_DIFF, 0, "/db.vhd", uuid_b, &child), 0);
	assert_int_equal(vhd_discard(child, 0, 6 * MIB), 0);
	/* The parent's data is hidden: zeros. */
	assert_int_equal(vhd_pread(child, back, sizeof(back), MIB), 0);
	for (size_t i = 0; i < sizeof(back); i++)
		assert_int_equal(back[i], 0);
	/* Only the block over the parent's data was written in the child. */
	assert_int_equal(vhd_layer_status(child, MIB, 8192, &n), 1);
	assert_int_equal(n, 8192);
	for (uint64_t blk = 2 * MIB; blk < 6 * MIB; blk += 2 * MIB) {
		assert_int_equal(vhd_layer_status(child, blk, 2 * MIB, &n), 0);
		assert_int_equal(n, 2 * MIB);
		assert_int_equal(vhd_block_status(child, blk, 2 * MIB, &n), 0);
		assert_int_equal(n, 2 * MIB);
	}
	vhd_free(child);
	/* The base never changed. */
	assert_int_equal(open_img(fx, "/db.vhd", 0, &base), 0);
	assert_int_equal(vhd_pread(base, back, sizeof(back), MIB), 0);
	assert_memory_equal(back, p, sizeof(p));
	vhd_free(base);
}

static void test_timestamp_warning(void **state)
{
	struct fx *fx = *state;
	struct vhd *v;

	assert_int_equal(create(fx, "/p.vhd", VHD_TYPE_DYNAMIC, MIB, NULL, uuid_a, NULL), 0);
	assert_int_equal(vhd_memfs_set_mtime(fx->fs, "/p.vhd", 1500000000), 0);
	assert_int_equal(create(fx, "/c.vhd", VHD_TYPE_DIFF, 0, "/p.vhd", uuid_b, &v), 0);
	assert_int_equal(vhd_header(v)->parent_ts, 1500000000 - VHD_TIME_EPOCH);
	assert_int_equal(vhd_link_state(v), VHD_LINK_OK);
	vhd_free(v);
	assert_int_equal(vhd_memfs_set_mtime(fx->fs, "/p.vhd", 1600000000), 0);
	assert_int_equal(open_img(fx, "/c.vhd", 0, &v), 0);
	assert_int_equal(vhd_link_state(v), VHD_LINK_TS_DIFFERS);
	vhd_free(v);
}

/* Rewrites the footer (both copies) of a dynamic image in memory through 'edit'. */
static void edit_footer(struct fx *fx, const char *path, void (*edit)(uint8_t *f))
{
	size_t len;
	const uint8_t *img = vhd_memfs_get(fx->fs, path, &len);
	uint8_t *copy = malloc(len);

	memcpy(copy, img, len);
	edit(copy + len - 512);
	memcpy(copy, copy + len - 512, 512);
	assert_int_equal(vhd_memfs_put(fx->fs, path, copy, len), 0);
	free(copy);
}

static void flip_uuid(uint8_t *f)
{
	f[70] ^= 0x10;
}

static void test_lenient_and_damage(void **state)
{
	struct fx *fx = *state;
	const uint8_t *img;
	uint8_t *copy;
	size_t len;
	struct vhd *v;

	assert_int_equal(create(fx, "/x.vhd", VHD_TYPE_DYNAMIC, MIB, NULL, uuid_a, NULL), 0);
	edit_footer(fx, "/x.vhd", flip_uuid);
	assert_int_equal(open_img(fx, "/x.vhd", 0, &v), -EBADMSG);
	assert_non_null(strstr(fx->err, "footer checksum mismatch"));
	assert_int_equal(open_img(fx, "/x.vhd", VHD_OPEN_LENIENT, &v), 0);
	assert_true(vhd_warnings(v) & VHD_WARN_FOOTER_CSUM);
	vhd_free(v);
	assert_int_equal(open_img(fx, "/x.vhd", VHD_OPEN_LENIENT | VHD_OPEN_RDWR, &v), -EROFS);

	/* A garbage tail falls back to the copy at 0; the image then opens read-only. */
	assert_int_equal(create(fx, "/y.vhd", VHD_TYPE_DYNAMIC, MIB, NULL, uuid_a, NULL), 0);
	img = vhd_memfs_get(fx->fs, "/y.vhd", &len);
	copy = malloc(2 * MIB);
	memcpy(copy, img, len);
	memset(copy + len - 512, 0xC7, 512);
	assert_int_equal(vhd_memfs_put(fx->fs, "/y.vhd", copy, len), 0);
	assert_int_equal(open_img(fx, "/y.vhd", 0, &v), 0);
	assert_int_equal(vhd_footer_source(v), VHD_FOOTER_COPY);
	assert_true(vhd_warnings(v) & VHD_WARN_TAIL_BAD);
	vhd_free(v);
	assert_int_equal(open_img(fx, "/y.vhd", VHD_OPEN_RDWR, &v), -EROFS);

	/* The 511-byte footer of pre-2004 images. */
	assert_int_equal(create(fx, "/z.vhd", VHD_TYPE_FIXED, MIB, NULL, uuid_a, NULL), 0);
	img = vhd_memfs_get(fx->fs, "/z.vhd", &len);
	memcpy(copy, img, len - 1);
	assert_int_equal(vhd_memfs_put(fx->fs, "/z.vhd", copy, len - 1), 0);
	assert_int_equal(open_img(fx, "/z.vhd", 0, &v), 0);
	assert_int_equal(vhd_footer_source(v), VHD_FOOTER_TAIL511);
	assert_int_equal(vhd_size(v), MIB);
	vhd_free(v);

	/* Too short, and no footer at all. */
	assert_int_equal(vhd_memfs_put(fx->fs, "/t.vhd", copy, 100), 0);
	assert_int_equal(open_img(fx, "/t.vhd", 0, &v), -EBADMSG);
	assert_string_equal(fx->err, "file too short for a VHD footer (100 bytes)");
	memset(copy, 0, 4096);
	assert_int_equal(vhd_memfs_put(fx->fs, "/t.vhd", copy, 4096), 0);
	assert_int_equal(open_img(fx, "/t.vhd", 0, &v), -EBADMSG);
	assert_string_equal(fx->err,
			    "no VHD footer (cookie 'conectix' missing at the end and at offset 0)");
	free(copy);
}

static void test_loop(void **state)
{
	struct fx *fx = *state;
	struct vhd *v;

	/* A differencing image naming its own unique id and its own name as the parent. */
	assert_int_equal(create(fx, "/p.vhd", VHD_TYPE_DYNAMIC, MIB, NULL, uuid_a, NULL), 0);
	assert_int_equal(create(fx, "/self.vhd", VHD_TYPE_DIFF, 0, "/p.vhd", uuid_a, NULL), 0);
	assert_int_equal(vhd_io_mem.unlink(fx->fs, "/p.vhd"), 0);
	assert_int_equal(vhd_io_mem.rename(fx->fs, "/self.vhd", "/p.vhd"), 0);
	assert_int_equal(open_img(fx, "/p.vhd", 0, &v), -ELOOP);
	assert_string_equal(fx->err, "parent chain loops back at '/p.vhd'");
	assert_int_equal(open_img(fx, "/p.vhd", VHD_OPEN_KEEP_BROKEN, &v), 0);
	assert_int_equal(vhd_link_state(v), VHD_LINK_LOOP);
	vhd_free(v);
}

static void set_vpc(uint8_t *f)
{
	memcpy(f + 28, "vpc ", 4);
	put_be32(f + 64, 0);
	put_be32(f + 64, vhd_fmt_checksum(f, 512, 64));
}

static void test_size_semantics(void **state)
{
	struct fx *fx = *state;
	struct vhd_open_opts o = { .io = &vhd_io_mem, .fs = fx->fs };
	struct vhd *v;

	/* 10 MiB: CHS 301/4/17 rounds down to 10,479,616 bytes. */
	assert_int_equal(create(fx, "/w.vhd", VHD_TYPE_DYNAMIC, 10 * MIB, NULL, uuid_a, &v), 0);
	assert_int_equal(vhd_size(v), 10 * MIB);
	vhd_free(v);
	edit_footer(fx, "/w.vhd", set_vpc);
	assert_int_equal(vhd_open(&v, "/w.vhd", &o), 0);
	assert_int_equal(vhd_size(v), 10479616);
	vhd_free(v);
	o.size_mode = VHD_SIZE_CURRENT;
	assert_int_equal(vhd_open(&v, "/w.vhd", &o), 0);
	assert_int_equal(vhd_size(v), 10 * MIB);
	vhd_free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_create_dynamic_layout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alloc_layout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_random_dynamic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fixed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bounds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status, setup, teardown),
		cmocka_unit_test_setup_teardown(test_diff_chain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_diff_discard, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timestamp_warning, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lenient_and_damage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_loop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_size_semantics, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */
/*
 * `vhd check`: reads the image's metadata straight from the file (not
 * through vhd_open(), which refuses damaged images), reports what is wrong
 * and repairs what can be repaired without guessing at data: a damaged or
 * missing footer copy from the other copy, a 511-byte footer, BAT entries
 * pointing past the end of the file (their data is not there), and, when
 * asked for explicitly, checksums of otherwise valid metadata. Overlapping
 * blocks and broken parent links are reported, never "fixed".
 */
#include "vhd-attach/vhd_check.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "vhd-attach/vhd.h"
#include "vhd-attach/vhd_fmt.h"
#include "vhd-attach/vhd_io.h"

#define MAX_REPORTS 20 /* per kind of finding; then one summary line */

struct ck {
	const struct vhd_check_opts *o;
	const struct vhd_io_ops *io;
	void *f;
	uint64_t file_size;
	struct vhd_check_result *res;
};

static void say(struct ck *c, enum vhd_check_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void say(struct ck *c, enum vhd_check_level lvl, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (lvl == VHD_CHECK_ERROR)
		c->res->n_errors++;
	else if (lvl == VHD_CHECK_WARN)
		c->res->n_warnings++;
	else
		c->res->n_repaired++;
	if (!c->o->report)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	c->o->report(c->o->ctx, lvl, msg);
}

static int rd(struct ck *c, void *buf, size_t len, uint64_t off)
{
	int64_t n = c->io->pread(c->f, buf, len, off);

	if (n < 0)
		return (int)n;
	return (size_t)n == len ? 0 : -EBADMSG;
}

static int wr(struct ck *c, const void *buf, size_t len, uint64_t off)
{
	return c->io->pwrite(c->f, buf, len, off);
}

struct region {
	uint64_t off, len;
	uint32_t id; /* BAT index, or UINT32_MAX - k for metadata kind k */
};

static int cmp_region(const void *a, const void *b)
{
	const struct region *x = a, *y = b;

	return x->off < y->off ? -1 : x->off > y->off;
}

static const char *meta_name(uint32_t id)
{
	switch (UINT32_MAX - id) {
	case 0:
		return "the footer copy at offset 0";
	case 1:
		return "the dynamic header";
	case 2:
		return "the BAT";
	default:
		return "parent locator data";
	}
}

static bool all_zero(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i])
			return false;
	return true;
}

/* The dynamic part: header, BAT, blocks, bitmaps, locators. Returns the end of used data. */
static uint64_t check_dynamic(struct ck *c, const struct vhd_footer *ft, uint64_t data_end_limit)
{
	uint8_t hb[VHD_HEADER_LEN];
	struct vhd_header h;
	bool csum_ok;
	uint32_t *bat = NULL;
	uint8_t *raw = NULL, *bm = NULL, *data = NULL;
	struct region *rg = NULL;
	size_t n_rg = 0;
	uint64_t used_end = ft->data_offset + VHD_HEADER_LEN, bat_bytes, blk_len, need;
	uint32_t bitmap_len;
	unsigned n_past = 0, n_stale = 0, n_empty = 0, n_beyond = 0;
	bool bat_dirty = false;
	int r;

	if (ft->data_offset > data_end_limit || data_end_limit - ft->data_offset < VHD_HEADER_LEN) {
		say(c, VHD_CHECK_ERROR, "dynamic header offset %llu is past the end of the file",
		    (unsigned long long)ft->data_offset);
		return 0;
	}
	if (rd(c, hb, sizeof(hb), ft->data_offset) < 0) {
		say(c, VHD_CHECK_ERROR, "cannot read the dynamic header");
		return 0;
	}
	r = vhd_fmt_header_parse(hb, sizeof(hb), &h, &csum_ok);
	if (r < 0) {
		uint32_t bs = get_be32(hb + 32);

		if (r == -ENOTTY)
			say(c, VHD_CHECK_ERROR, "dynamic header cookie 'cxsparse' missing");
		else if (r == -E2BIG)
			say(c, VHD_CHECK_ERROR, "BAT has too many entries (%u, limit %u)",
			    get_be32(hb + 28), VHD_MAX_BAT);
		else if (bs < VHD_BLOCK_MIN || bs > VHD_BLOCK_MAX || (bs & (bs - 1)))
			say(c, VHD_CHECK_ERROR, "invalid block size %u", bs);
		else
			say(c, VHD_CHECK_ERROR, "invalid dynamic header fields");
		return 0;
	}
	if (!csum_ok) {
		if (c->o->repair && c->o->lenient) {
			vhd_fmt_header_build(&h, hb);
			if (wr(c, hb, sizeof(hb), ft->data_offset) == 0) {
				say(c, VHD_CHECK_REPAIRED, "dynamic header checksum rewritten");
				csum_ok = true;
			}
		}
		if (!csum_ok)
			say(c, VHD_CHECK_ERROR,
			    "dynamic header checksum mismatch (stored 0x%08X, computed 0x%08X)",
			    h.checksum, vhd_fmt_checksum(hb, sizeof(hb), 36));
	}
	bitmap_len = vhd_fmt_bitmap_len(h.block_size);
	blk_len = (uint64_t)bitmap_len + h.block_size;
	bat_bytes = (uint64_t)h.max_entries * 4;
	if (h.table_offset > data_end_limit || data_end_limit - h.table_offset < bat_bytes) {
		say(c, VHD_CHECK_ERROR,
		    "BAT (offset %llu, %u entries) runs past the end of the file",
		    (unsigned long long)h.table_offset, h.max_entries);
		return 0;
	}
	need = (vhd_fmt_virtual_size(ft, VHD_SIZE_CURRENT) + h.block_size - 1) / h.block_size;
	if (need > h.max_entries)
		say(c, VHD_CHECK_ERROR, "BAT too small: %u entries for a disk that needs %llu",
		    h.max_entries, (unsigned long long)need);
	raw = malloc(bat_bytes);
	bat = malloc(bat_bytes);
	rg = calloc((size_t)h.max_entries + 3 + VHD_N_LOCATORS, sizeof(*rg));
	bm = malloc(bitmap_len);
	if (!raw || !bat || !rg || !bm) {
		say(c, VHD_CHECK_ERROR, "out of memory");
		goto out;
	}
	if (rd(c, raw, bat_bytes, h.table_offset) < 0 ||
	    vhd_fmt_bat_parse(raw, bat_bytes, h.max_entries, bat) < 0) {
		say(c, VHD_CHECK_ERROR, "cannot read the BAT");
		goto out;
	}
	rg[n_rg++] = (struct region){ 0, VHD_FOOTER_LEN, UINT32_MAX };
	rg[n_rg++] = (struct region){ ft->data_offset, VHD_HEADER_LEN, UINT32_MAX - 1 };
	rg[n_rg++] = (struct region){ h.table_offset, bat_bytes, UINT32_MAX - 2 };
	if (h.table_offset + bat_bytes > used_end)
		used_end = h.table_offset + bat_bytes;
	if (ft->type == VHD_TYPE_DIFF) {
		for (int i = 0; i < VHD_N_LOCATORS; i++) {
			const struct vhd_locator *l = &h.loc[i];
			uint8_t ldata[2048];
			char path[1024];

			if (l->code == VHD_PLAT_NONE)
				continue;
			if (l->offset > data_end_limit || data_end_limit - l->offset < l->len) {
				say(c, VHD_CHECK_ERROR,
				    "parent locator %d (offset %llu, %u bytes) is past the end of "
				    "the file",
				    i, (unsigned long long)l->offset, l->len);
				continue;
			}
			rg[n_rg++] = (struct region){ l->offset, l->len, UINT32_MAX - 3 };
			if (l->offset + l->len > used_end)
				used_end = l->offset + l->len;
			if (l->code == VHD_PLAT_MAC)
				continue;
			if (l->len == 0 || l->len > sizeof(ldata) ||
			    rd(c, ldata, l->len, l->offset) ||
			    vhd_fmt_locator_decode(l->code, ldata, l->len, path, sizeof(path)) < 0)
				say(c, VHD_CHECK_WARN, "parent locator %d cannot be decoded", i);
		}
	}
	for (uint32_t i = 0; i < h.max_entries; i++) {
		uint64_t off = (uint64_t)bat[i] * VHD_SECTOR;

		if (bat[i] == VHD_BAT_UNUSED)
			continue;
		if (off > data_end_limit || data_end_limit - off < blk_len) {
			if (c->o->repair) {
				uint8_t e[4];

				put_be32(e, VHD_BAT_UNUSED);
				if (wr(c, e, 4, h.table_offset + (uint64_t)i * 4) == 0) {
					say(c, VHD_CHECK_REPAIRED,
					    "BAT entry %u pointed past the end of the file; "
					    "cleared",
					    i);
					bat[i] = VHD_BAT_UNUSED;
					bat_dirty = true;
					continue;
				}
			}
			if (n_past++ < MAX_REPORTS)
				say(c, VHD_CHECK_ERROR,
				    "BAT entry %u points past the end of the file (sector %u)", i,
				    bat[i]);
			else
				c->res->n_errors++;
			continue;
		}
		c->res->n_blocks++;
		rg[n_rg++] = (struct region){ off, blk_len, i };
		if (off + blk_len > used_end)
			used_end = off + blk_len;
		if (i >= need && n_beyond++ < MAX_REPORTS)
			say(c, VHD_CHECK_WARN, "block %u is allocated beyond the disk size", i);
		/* Bitmap against data: clear bits promise zeros on disk (spec). */
		if (rd(c, bm, bitmap_len, off) < 0)
			continue;
		if (all_zero(bm, bitmap_len)) {
			if (n_empty++ < MAX_REPORTS)
				say(c, VHD_CHECK_WARN,
				    "block %u is allocated but its bitmap is empty", i);
			continue;
		}
		if (ft->type != VHD_TYPE_DYNAMIC)
			continue;
		/* Allocated only once a block is known to fit in the file. */
		if (!data && !(data = malloc(h.block_size))) {
			say(c, VHD_CHECK_ERROR, "out of memory");
			goto out;
		}
		if (rd(c, data, h.block_size, off + bitmap_len) < 0)
			continue;
		for (uint32_t s = 0; s < h.block_size / VHD_SECTOR; s++) {
			if (bm[s / 8] & (0x80 >> (s % 8)))
				continue;
			if (!all_zero(data + (uint64_t)s * VHD_SECTOR, VHD_SECTOR)) {
				if (n_stale++ < MAX_REPORTS)
					say(c, VHD_CHECK_WARN,
					    "block %u: sector %u has data but a clear bitmap bit "
					    "(reads as zero)",
					    i, s);
				break;
			}
		}
	}
	if (n_past > MAX_REPORTS)
		say(c, VHD_CHECK_ERROR, "... %u BAT entries past the end of the file in all",
		    n_past);
	qsort(rg, n_rg, sizeof(*rg), cmp_region);
	for (size_t i = 1; i < n_rg; i++) {
		const struct region *a = &rg[i - 1], *b = &rg[i];

		if (a->off + a->len <= b->off)
			continue;
		if (a->id >= UINT32_MAX - 3 && b->id >= UINT32_MAX - 3)
			say(c, VHD_CHECK_ERROR, "%s overlaps %s", meta_name(a->id),
			    meta_name(b->id));
		else if (a->id >= UINT32_MAX - 3 || b->id >= UINT32_MAX - 3)
			say(c, VHD_CHECK_ERROR, "block %u overlaps %s",
			    a->id >= UINT32_MAX - 3 ? b->id : a->id,
			    meta_name(a->id >= UINT32_MAX - 3 ? a->id : b->id));
		else
			say(c, VHD_CHECK_ERROR, "blocks %u and %u overlap in the file", a->id,
			    b->id);
	}
	if (bat_dirty)
		(void)c->io->sync(c->f);
out:
	free(raw);
	free(bat);
	free(rg);
	free(bm);
	free(data);
	return used_end;
}

static void check_link(struct ck *c, const char *path)
{
	struct vhd_open_opts oo = { .io = c->o->io,
				    .fs = c->o->fs,
				    .flags = VHD_OPEN_LENIENT | VHD_OPEN_KEEP_BROKEN };
	char err[VHD_ERR_LEN];
	struct vhd *v = NULL;
	int r;

	oo.err = err;
	r = vhd_open(&v, path, &oo);
	if (r < 0) {
		say(c, VHD_CHECK_ERROR, "parent link not checked: %s", err[0] ? err : strerror(-r));
		return;
	}
	/* Every link of the chain: a loop shows up at the image that closes it. */
	for (struct vhd *p = v; p; p = vhd_parent(p)) {
		switch (vhd_link_state(p)) {
		case VHD_LINK_NONE:
		case VHD_LINK_OK:
			break;
		case VHD_LINK_TS_DIFFERS:
			say(c, VHD_CHECK_WARN, "parent '%s': %s", vhd_parent_path(p),
			    vhd_link_reason(p));
			break;
		default:
			if (p == v)
				say(c, VHD_CHECK_ERROR, "%s", vhd_link_reason(p));
			else
				say(c, VHD_CHECK_ERROR, "ancestor '%s': %s", vhd_path(p),
				    vhd_link_reason(p));
			break;
		}
	}
	vhd_free(v);
}

int vhd_check(const char *path, const struct vhd_check_opts *o, struct vhd_check_result *ret)
{
	struct vhd_check_result res = { 0 };
	struct ck c = { .o = o, .io = o->io ? o->io : &vhd_io_posix, .res = &res };
	uint8_t tail[VHD_FOOTER_LEN] = { 0 }, copy[VHD_FOOTER_LEN];
	struct vhd_footer ft, fc, f;
	struct vhd_io_stat st;
	bool t_ok = false, c_ok = false, short_tail = false, tail_err = false, copy_err = false;
	int rt, rc, r;
	uint64_t used_end = 0, pos;

	r = c.io->open(o->fs, path, o->repair ? VHD_IO_RDWR : 0, &c.f);
	if (r < 0)
		return r;
	r = c.io->stat(c.f, &st);
	if (r < 0)
		goto out;
	c.file_size = st.size;
	if (c.file_size < VHD_FOOTER_LEN) {
		say(&c, VHD_CHECK_ERROR, "file too short for a VHD (%llu bytes)",
		    (unsigned long long)c.file_size);
		goto out;
	}
	r = rd(&c, tail, VHD_FOOTER_LEN, c.file_size - VHD_FOOTER_LEN);
	if (r < 0)
		goto out;
	rt = vhd_fmt_footer_parse(tail, VHD_FOOTER_LEN, &ft, &t_ok);
	if (rt == -ENOTTY && c.file_size % VHD_SECTOR == 511) {
		memset(tail, 0, sizeof(tail));
		r = rd(&c, tail, 511, c.file_size - 511);
		if (r < 0)
			goto out;
		rt = vhd_fmt_footer_parse(tail, VHD_FOOTER_LEN, &ft, &t_ok);
		short_tail = rt == 0;
	}
	r = rd(&c, copy, VHD_FOOTER_LEN, 0);
	if (r < 0)
		goto out;
	rc = vhd_fmt_footer_parse(copy, VHD_FOOTER_LEN, &fc, &c_ok);
	if (rc == 0 && fc.type == VHD_TYPE_FIXED)
		rc = -ENOTTY;
	r = 0;

	if (rt == 0 && t_ok) {
		f = ft;
	} else if (rc == 0 && c_ok) {
		f = fc;
	} else if (rt == 0) {
		f = ft;
	} else if (rc == 0) {
		f = fc;
	} else {
		say(&c, VHD_CHECK_ERROR,
		    "no usable VHD footer at the end of the file or at offset 0");
		goto out;
	}
	tail_err = !(rt == 0 && t_ok);
	if (rt == 0 && !t_ok)
		say(&c, VHD_CHECK_ERROR,
		    "footer checksum mismatch (stored 0x%08X, computed 0x%08X)", ft.checksum,
		    vhd_fmt_checksum(tail, VHD_FOOTER_LEN, 64));
	else if (rt != 0)
		say(&c, VHD_CHECK_ERROR, "footer at the end of the file is missing or invalid");
	if (short_tail)
		say(&c, VHD_CHECK_WARN, "511-byte footer (made before Virtual PC 2004)");
	if (f.type != VHD_TYPE_FIXED) {
		copy_err =
			rc != 0 || !c_ok || (rt == 0 && t_ok && memcmp(tail, copy, VHD_FOOTER_LEN));
		if (rc == 0 && !c_ok)
			say(&c, VHD_CHECK_ERROR,
			    "footer copy at offset 0: checksum mismatch (stored 0x%08X, computed "
			    "0x%08X)",
			    fc.checksum, vhd_fmt_checksum(copy, VHD_FOOTER_LEN, 64));
		else if (rc != 0)
			say(&c, VHD_CHECK_ERROR, "footer copy at offset 0 is missing or invalid");
		else if (rt == 0 && t_ok && memcmp(tail, copy, VHD_FOOTER_LEN))
			say(&c, VHD_CHECK_ERROR, "footer copies at the end and at offset 0 differ");
	}
	if (f.saved_state)
		say(&c, VHD_CHECK_WARN,
		    "saved-state flag is set (a VM's saved state depends on it)");

	if (f.type == VHD_TYPE_FIXED) {
		uint64_t data_len = c.file_size - (short_tail ? 511 : VHD_FOOTER_LEN);

		if (f.cur_size > data_len)
			say(&c, VHD_CHECK_ERROR,
			    "fixed disk of %llu bytes but only %llu bytes of data in the file",
			    (unsigned long long)f.cur_size, (unsigned long long)data_len);
		used_end = f.cur_size;
	} else {
		uint64_t limit = c.file_size - (rt == 0 ? (short_tail ? 511 : VHD_FOOTER_LEN) : 0);

		used_end = check_dynamic(&c, &f, limit);
	}

	/* Repairs of the footer copies, from the copy that is trusted. */
	if (o->repair && used_end) {
		bool trusted = (rt == 0 && t_ok) || (rc == 0 && c_ok) || o->lenient;
		uint8_t good[VHD_FOOTER_LEN];

		vhd_fmt_footer_build(&f, good);
		if (trusted &&
		    (!(rt == 0 && t_ok) || short_tail || memcmp(good, tail, VHD_FOOTER_LEN))) {
			pos = (c.file_size - 511) / VHD_SECTOR * VHD_SECTOR;
			if (pos < used_end)
				pos = (used_end + VHD_SECTOR - 1) / VHD_SECTOR * VHD_SECTOR;
			if (wr(&c, good, VHD_FOOTER_LEN, pos) == 0 &&
			    c.io->truncate(c.f, pos + VHD_FOOTER_LEN) == 0) {
				say(&c, VHD_CHECK_REPAIRED, "footer at the end rewritten");
				res.n_errors -= tail_err ? 1 : 0;
			}
		}
		if (trusted && f.type != VHD_TYPE_FIXED &&
		    (rc != 0 || !c_ok || memcmp(good, copy, VHD_FOOTER_LEN))) {
			if (wr(&c, good, VHD_FOOTER_LEN, 0) == 0) {
				say(&c, VHD_CHECK_REPAIRED, "footer copy at offset 0 rewritten");
				res.n_errors -= copy_err ? 1 : 0;
			}
		}
		(void)c.io->sync(c.f);
	}
	if (f.type == VHD_TYPE_DIFF) {
		c.io->close(c.f);
		c.f = NULL;
		check_link(&c, path);
	}
out:
	if (c.f)
		c.io->close(c.f);
	if (r == 0)
		*ret = res;
	return r;
}

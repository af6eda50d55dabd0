/* SPDX-License-Identifier: MIT */
/*
 * libvhd image access (see vhd.h): opening an image and its parent chain,
 * reading and writing through it, creating new images. Parsing is left to
 * vhd_fmt.c; file access goes through the vhd_io_ops provider.
 *
 * Theory of operation.
 *
 * Open. The footer is taken from the last 512 bytes, else from a 511-byte
 * tail (pre-2004 images), else from the copy at offset 0 (dynamic and
 * differencing images only), each with a good checksum; in lenient mode a
 * cookie-valid footer with a bad checksum is accepted too. Then the dynamic
 * header, the BAT and the locators are checked against the file size before
 * anything is allocated: BAT inside the file, every block inside the file,
 * no two blocks overlapping each other or the metadata. A damaged image
 * (anything accepted only leniently, or a footer not at the tail) opens
 * read-only.
 *
 * Read. Fixed images map 1:1. Dynamic and differencing images map a virtual
 * offset to (block, sector) and walk runs of equal bits in the block's
 * sector bitmap: a set bit reads this file, a clear bit (or an unallocated
 * block) reads the parent, or zeros at the bottom of the chain.
 *
 * Block allocation. New blocks go at or after the current tail footer,
 * never where the BAT alone suggests (QEMU's stale-footer hazard, notes §4),
 * with the block data 4 KiB aligned and the footer at the next "4 KiB - 512"
 * position as Windows does. The order makes a crash at any point leave a
 * valid image that at worst leaks the new space:
 *   1. the footer is written at its new place past the block (file grows;
 *      the extension reads as zeros), then synced;
 *   2. the old footer's 512 bytes, now inside the gap or bitmap, are zeroed;
 *   3. the guest data is written into the block;
 *   4. the sector bitmap with the written sectors' bits is written, and
 *      synced, so that the BAT never points at a bitmap still in flight
 *      (after a power loss it could hold the old footer's bytes as bits);
 *   5. the BAT entry is written and synced.
 * Only after 5 does the block exist. Syncs are skipped with VHD_OPEN_UNSAFE
 * (a file being created by convert/compact, renamed into place only after a
 * final sync). The copy of the footer at offset 0 is left alone: its content
 * does not change when blocks are added.
 */
#include "vhd-attach/vhd.h"
#include "vhd-attach/vhd_err.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "common/bytes.h"
#include "common/log.h"
#include "vhd-attach/vhd_io.h"

#define ALIGN_UP(x, a) (((x) + (a)-1) / (a) * (a))
#define WIN_ALIGN      4096u
#define LOC_SPACE      512u /* bytes reserved per locator we write (a multiple of a sector) */

struct vhd {
	const struct vhd_io_ops *io; /* kept */
	void *fs;		     /* provider context, kept */
	void *f;		     /* open file, owned */
	char *path;		     /* absolute, owned */
	unsigned flags;		     /* VHD_OPEN_* */
	enum vhd_size_mode size_mode;
	struct vhd_footer footer;
	struct vhd_header header; /* dynamic and differencing only */
	bool has_header;
	enum vhd_footer_src footer_src;
	unsigned warnings;   /* VHD_WARN_* */
	uint64_t file_size;  /* bytes at open */
	uint64_t footer_off; /* bytes: tail footer, end of the data area */
	uint64_t size;	     /* virtual bytes */
	uint32_t *bat;	     /* host order, owned; NULL for fixed */
	uint32_t n_bat;
	uint32_t bitmap_len; /* bytes in front of each block */
	uint8_t *bm;	     /* cached bitmap of block bm_blk, owned */
	int64_t bm_blk;	     /* -1: cache empty */
	struct vhd *parent;  /* owned */
	enum vhd_link link;
	char link_reason[VHD_ERR_LEN];
	char parent_path[PATH_MAX];
	struct vhd_io_stat st; /* identity and mtime at open */
};

/* The descendants of an image being opened, for cycle detection. */
struct chain {
	struct vhd_io_stat ids[VHD_MAX_CHAIN];
	int n;
};

/* Reads exactly 'len' bytes at 'off'; a short read means the file is truncated. */
static int read_exact(struct vhd *v, void *buf, size_t len, uint64_t off)
{
	int64_t n = v->io->pread(v->f, buf, len, off);

	if (n < 0)
		return (int)n;
	if ((size_t)n != len)
		return -EBADMSG;
	return 0;
}

static int write_at(struct vhd *v, const void *buf, size_t len, uint64_t off)
{
	return v->io->pwrite(v->f, buf, len, off);
}

static int sync_alloc(struct vhd *v)
{
	if (v->flags & VHD_OPEN_UNSAFE)
		return 0;
	return v->io->sync(v->f);
}

void vhd_free(struct vhd *v)
{
	if (!v)
		return;
	vhd_free(v->parent);
	if (v->f)
		v->io->close(v->f);
	free(v->bat);
	free(v->bm);
	free(v->path);
	free(v);
}

/* ---- open ---- */

static int load_footer(struct vhd *v, char *err)
{
	uint8_t tail[VHD_FOOTER_LEN], copy[VHD_FOOTER_LEN];
	struct vhd_footer ft, fc;
	bool tail_csum = false, copy_csum = false;
	int rt = -EBADMSG, rc = -EBADMSG, r;
	bool lenient = v->flags & VHD_OPEN_LENIENT;

	if (v->file_size < VHD_FOOTER_LEN) {
		vhd_err_set(err, false, "file too short for a VHD footer (%llu bytes)",
			    (unsigned long long)v->file_size);
		return -EBADMSG;
	}
	r = read_exact(v, tail, VHD_FOOTER_LEN, v->file_size - VHD_FOOTER_LEN);
	if (r < 0)
		return r;
	rt = vhd_fmt_footer_parse(tail, VHD_FOOTER_LEN, &ft, &tail_csum);
	v->footer_off = v->file_size - VHD_FOOTER_LEN;
	v->footer_src = VHD_FOOTER_TAIL;
	if (rt == -ENOTTY && v->file_size % VHD_SECTOR == 511) {
		/* Pre-Virtual PC 2004 footers lack their last reserved byte. */
		memset(tail, 0, sizeof(tail));
		r = read_exact(v, tail, 511, v->file_size - 511);
		if (r < 0)
			return r;
		rt = vhd_fmt_footer_parse(tail, VHD_FOOTER_LEN, &ft, &tail_csum);
		if (rt == 0) {
			v->footer_off = v->file_size - 511;
			v->footer_src = VHD_FOOTER_TAIL511;
			v->warnings |= VHD_WARN_SHORT_FOOTER;
		}
	}
	r = read_exact(v, copy, VHD_FOOTER_LEN, 0);
	if (r < 0)
		return r;
	rc = vhd_fmt_footer_parse(copy, VHD_FOOTER_LEN, &fc, &copy_csum);
	if (rc == 0 && fc.type == VHD_TYPE_FIXED)
		rc = -ENOTTY; /* a fixed disk's first sector is guest data */

	if (rt == 0 && tail_csum) {
		v->footer = ft;
		if (ft.type != VHD_TYPE_FIXED && (rc != 0 || memcmp(tail, copy, VHD_FOOTER_LEN)))
			v->warnings |= VHD_WARN_COPY_BAD;
		return 0;
	}
	if (rc == 0 && copy_csum) {
		/* The spec's rule: a bad tail falls back to the copy at 0. */
		v->footer = fc;
		v->footer_src = VHD_FOOTER_COPY;
		v->warnings |= VHD_WARN_TAIL_BAD;
		v->footer_off = ALIGN_UP(v->file_size, VHD_SECTOR);
		return 0;
	}
	if (rt == 0 && lenient) {
		v->footer = ft;
		v->warnings |= VHD_WARN_FOOTER_CSUM;
		if (ft.type != VHD_TYPE_FIXED && (rc != 0 || memcmp(tail, copy, VHD_FOOTER_LEN)))
			v->warnings |= VHD_WARN_COPY_BAD;
		return 0;
	}
	if (rc == 0 && lenient) {
		v->footer = fc;
		v->footer_src = VHD_FOOTER_COPY;
		v->warnings |= VHD_WARN_TAIL_BAD | VHD_WARN_FOOTER_CSUM;
		v->footer_off = ALIGN_UP(v->file_size, VHD_SECTOR);
		return 0;
	}
	if (rt == 0 || rc == 0) {
		vhd_err_set(err, false, "footer checksum mismatch (stored 0x%08X, computed 0x%08X)",
			    rt == 0 ? ft.checksum : fc.checksum,
			    vhd_fmt_checksum(rt == 0 ? tail : copy, VHD_FOOTER_LEN, 64));
		return -EBADMSG;
	}
	if (rt == -E2BIG || rc == -E2BIG) {
		vhd_err_set(err, false, "disk size exceeds the 2040 GiB limit");
		return -E2BIG;
	}
	if (rt == -EBADMSG || rc == -EBADMSG) {
		vhd_err_set(err, false,
			    "invalid footer (version, disk type, data offset or saved state)");
		return -EBADMSG;
	}
	vhd_err_set(err, false,
		    "no VHD footer (cookie 'conectix' missing at the end and at offset 0)");
	return -EBADMSG;
}

/* Checks [off, off+len) lies inside the data area; a 'what' for the error. */
static bool in_file(const struct vhd *v, uint64_t off, uint64_t len)
{
	return off <= v->footer_off && len <= v->footer_off - off;
}

struct extent {
	uint64_t off, len;
	uint32_t id; /* BAT index, or UINT32_MAX for metadata */
};

static int cmp_extent(const void *a, const void *b)
{
	const struct extent *x = a, *y = b;

	return x->off < y->off ? -1 : x->off > y->off;
}

/* Every block inside the file and disjoint from the others and from the metadata. */
static int check_blocks(struct vhd *v, char *err)
{
	struct extent *ex;
	size_t n = 0;
	uint64_t blk_len = (uint64_t)v->bitmap_len + v->header.block_size;
	int r = 0;

	ex = calloc((size_t)v->n_bat + 2, sizeof(*ex));
	if (!ex)
		return -ENOMEM;
	ex[n++] = (struct extent){ v->footer.data_offset, VHD_HEADER_LEN, UINT32_MAX };
	ex[n++] = (struct extent){ v->header.table_offset,
				   ALIGN_UP((uint64_t)v->n_bat * 4, VHD_SECTOR), UINT32_MAX };
	for (uint32_t i = 0; i < v->n_bat; i++) {
		uint64_t off = (uint64_t)v->bat[i] * VHD_SECTOR;

		if (v->bat[i] == VHD_BAT_UNUSED)
			continue;
		if (!in_file(v, off, blk_len)) {
			if (v->flags & VHD_OPEN_LENIENT) {
				v->bat[i] = VHD_BAT_UNUSED;
				v->warnings |= VHD_WARN_BAT_DROPPED;
				continue;
			}
			vhd_err_set(err, false,
				    "BAT entry %u points past the end of the file (sector %u)", i,
				    v->bat[i]);
			r = -EBADMSG;
			goto out;
		}
		ex[n++] = (struct extent){ off, blk_len, i };
	}
	qsort(ex, n, sizeof(*ex), cmp_extent);
	for (size_t i = 1; i < n; i++) {
		if (ex[i - 1].off + ex[i - 1].len <= ex[i].off)
			continue;
		if (ex[i - 1].id == UINT32_MAX && ex[i].id == UINT32_MAX)
			continue; /* header and BAT may touch in odd layouts; their own checks hold
				   */
		if (ex[i - 1].id == UINT32_MAX || ex[i].id == UINT32_MAX)
			vhd_err_set(err, false, "block %u overlaps the dynamic header or the BAT",
				    ex[i - 1].id == UINT32_MAX ? ex[i].id : ex[i - 1].id);
		else
			vhd_err_set(err, false, "blocks %u and %u overlap in the file",
				    ex[i - 1].id, ex[i].id);
		r = -EBADMSG;
		goto out;
	}
out:
	free(ex);
	return r;
}

static int load_dynamic(struct vhd *v, char *err)
{
	uint8_t hb[VHD_HEADER_LEN];
	uint8_t *raw = NULL;
	bool csum_ok;
	uint64_t bat_bytes, need;
	int r;

	if (!in_file(v, v->footer.data_offset, VHD_HEADER_LEN)) {
		vhd_err_set(err, false, "dynamic header offset %llu is past the end of the file",
			    (unsigned long long)v->footer.data_offset);
		return -EBADMSG;
	}
	r = read_exact(v, hb, sizeof(hb), v->footer.data_offset);
	if (r < 0)
		return r;
	r = vhd_fmt_header_parse(hb, sizeof(hb), &v->header, &csum_ok);
	if (r == -ENOTTY) {
		vhd_err_set(err, false,
			    "no dynamic header (cookie 'cxsparse' missing at offset %llu)",
			    (unsigned long long)v->footer.data_offset);
		return -EBADMSG;
	}
	if (r == -E2BIG) {
		vhd_err_set(err, false, "BAT has too many entries (limit %u)", VHD_MAX_BAT);
		return r;
	}
	if (r < 0) {
		uint32_t bs = get_be32(hb + 32);

		if (bs < VHD_BLOCK_MIN || bs > VHD_BLOCK_MAX || (bs & (bs - 1)))
			vhd_err_set(err, false,
				    "invalid block size %u (a power of two from 512 to 256 MiB)",
				    bs);
		else
			vhd_err_set(err, false,
				    "invalid dynamic header (version, BAT size or offset)");
		return r;
	}
	v->has_header = true;
	if (!csum_ok) {
		if (!(v->flags & VHD_OPEN_LENIENT)) {
			vhd_err_set(
				err, false,
				"dynamic header checksum mismatch (stored 0x%08X, computed 0x%08X)",
				v->header.checksum, vhd_fmt_checksum(hb, sizeof(hb), 36));
			return -EBADMSG;
		}
		v->warnings |= VHD_WARN_HEADER_CSUM;
	}
	v->n_bat = v->header.max_entries;
	v->bitmap_len = vhd_fmt_bitmap_len(v->header.block_size);
	bat_bytes = (uint64_t)v->n_bat * 4;
	if (!in_file(v, v->header.table_offset, bat_bytes)) {
		vhd_err_set(err, false,
			    "BAT (offset %llu, %u entries) runs past the end of the file",
			    (unsigned long long)v->header.table_offset, v->n_bat);
		return -EBADMSG;
	}
	need = (v->size + v->header.block_size - 1) / v->header.block_size;
	if (need > v->n_bat) {
		vhd_err_set(err, false, "BAT too small: %u entries for a disk that needs %llu",
			    v->n_bat, (unsigned long long)need);
		return -EBADMSG;
	}
	raw = malloc(bat_bytes);
	v->bat = malloc(bat_bytes);
	v->bm = malloc(v->bitmap_len);
	if (!raw || !v->bat || !v->bm) {
		free(raw);
		return -ENOMEM;
	}
	v->bm_blk = -1;
	r = read_exact(v, raw, bat_bytes, v->header.table_offset);
	if (r == 0)
		r = vhd_fmt_bat_parse(raw, bat_bytes, v->n_bat, v->bat);
	free(raw);
	if (r < 0)
		return r;
	if (v->footer.type == VHD_TYPE_DIFF) {
		for (int i = 0; i < VHD_N_LOCATORS; i++) {
			const struct vhd_locator *l = &v->header.loc[i];

			if (l->code == VHD_PLAT_NONE || in_file(v, l->offset, l->len))
				continue;
			if (v->flags & VHD_OPEN_LENIENT)
				continue; /* the lookup skips it */
			vhd_err_set(
				err, false,
				"parent locator %d (offset %llu, %u bytes) is past the end of the "
				"file",
				i, (unsigned long long)l->offset, l->len);
			return -EBADMSG;
		}
	}
	return check_blocks(v, err);
}

static int64_t vhd_time_from_unix(int64_t t)
{
	return t - VHD_TIME_EPOCH;
}

static int open_chain(struct vhd **ret, const char *path, const struct vhd_open_opts *o,
		      struct chain *ch);

/* Tries one candidate parent path; 1 = linked, 0 = keep looking, <0 = hard error. */
static int try_parent(struct vhd *v, const char *cand, const struct vhd_open_opts *o,
		      struct chain *ch, int *best)
{
	struct vhd_open_opts po = *o;
	char perr[VHD_ERR_LEN] = "";
	struct vhd *p = NULL;
	int r;

	r = v->io->exists(v->fs, cand);
	if (r <= 0)
		return 0;
	snprintf(v->parent_path, sizeof(v->parent_path), "%s", cand);
	po.flags = o->flags & (VHD_OPEN_LENIENT | VHD_OPEN_KEEP_BROKEN);
	po.parent_path = NULL;
	po.err = perr;
	r = open_chain(&p, cand, &po, ch);
	if (r == -ELOOP) {
		snprintf(v->link_reason, sizeof(v->link_reason), "parent chain loops back at '%s'",
			 cand);
		*best = VHD_LINK_LOOP;
		return r;
	}
	if (r < 0) {
		if (*best < VHD_LINK_BROKEN || *best == VHD_LINK_MISSING) {
			/* Both parts are capped so the line fits; the path is the part to cut. */
			snprintf(v->link_reason, sizeof(v->link_reason), "parent '%.100s': %.140s",
				 cand, perr[0] ? perr : strerror(-r));
			*best = VHD_LINK_BROKEN;
		}
		return 0;
	}
	if (memcmp(p->footer.uuid, v->header.parent_uuid, 16) != 0) {
		if (*best != VHD_LINK_BROKEN) {
			snprintf(v->link_reason, sizeof(v->link_reason),
				 "parent '%s' has a different unique id", cand);
			*best = VHD_LINK_UUID_MISMATCH;
		}
		vhd_free(p);
		return 0;
	}
	v->parent = p;
	v->link = VHD_LINK_OK;
	v->link_reason[0] = '\0';
	/*
	 * Writers store the parent file's mtime (blktap, DiscUtils, VirtualBox) or
	 * 0 (Windows 10); only UUIDs are enforced anywhere, so a differing time
	 * stamp is a warning, and 0 means "not recorded".
	 */
	if (v->header.parent_ts != 0 &&
	    v->header.parent_ts != (uint32_t)vhd_time_from_unix(p->st.mtime) &&
	    v->header.parent_ts != p->footer.timestamp) {
		v->link = VHD_LINK_TS_DIFFERS;
		snprintf(v->link_reason, sizeof(v->link_reason),
			 "parent time stamp differs (parent modified since the child was made?)");
		log_warn("'%s': parent '%s' time stamp differs from the one recorded, continuing",
			 v->path, cand);
	}
	return 1;
}

static int find_parent(struct vhd *v, const struct vhd_open_opts *o, struct chain *ch, char *err)
{
	static const uint32_t order[] = { VHD_PLAT_W2RU, VHD_PLAT_W2KU, VHD_PLAT_MACX };
	char dir[PATH_MAX], path[PATH_MAX], cand[PATH_MAX], name[PATH_MAX];
	int best = VHD_LINK_MISSING;
	int r;

	if (vhd_path_dirname(v->path, dir, sizeof(dir)) < 0)
		return -ENAMETOOLONG;
	if (o->parent_path) {
		r = v->io->abspath(v->fs, o->parent_path, cand, sizeof(cand));
		if (r < 0)
			return r;
		r = try_parent(v, cand, o, ch, &best);
		if (r != 0)
			goto done;
	}
	for (size_t k = 0; k < sizeof(order) / sizeof(order[0]); k++) {
		for (int i = 0; i < VHD_N_LOCATORS; i++) {
			const struct vhd_locator *l = &v->header.loc[i];
			uint8_t data[2048];

			if (l->code != order[k] || !l->len || l->len > sizeof(data) ||
			    !in_file(v, l->offset, l->len))
				continue;
			if (read_exact(v, data, l->len, l->offset) < 0)
				continue;
			if (vhd_fmt_locator_decode(l->code, data, l->len, path, sizeof(path)) < 0)
				continue;
			if (vhd_path_join(dir, path, name, sizeof(name)) < 0 ||
			    v->io->abspath(v->fs, name, cand, sizeof(cand)) < 0)
				continue;
			r = try_parent(v, cand, o, ch, &best);
			if (r != 0)
				goto done;
		}
	}
	/* Last resort (libvhdi, DiscUtils): the parent name's basename beside the child. */
	if (vhd_fmt_utf16_decode(v->header.parent_name, sizeof(v->header.parent_name), false, path,
				 sizeof(path)) > 0) {
		for (char *p = path; *p; p++)
			if (*p == '\\')
				*p = '/';
		if (vhd_path_join(dir, vhd_path_basename(path), name, sizeof(name)) >= 0 &&
		    v->io->abspath(v->fs, name, cand, sizeof(cand)) >= 0) {
			r = try_parent(v, cand, o, ch, &best);
			if (r != 0)
				goto done;
		}
	}
	r = 0;
done:
	if (r == 1)
		return 0;
	v->link = (enum vhd_link)best;
	if (best == VHD_LINK_MISSING)
		snprintf(v->link_reason, sizeof(v->link_reason), "parent not found");
	if (o->flags & VHD_OPEN_KEEP_BROKEN)
		return 0;
	vhd_err_set(err, false, "%s", v->link_reason);
	switch (best) {
	case VHD_LINK_LOOP:
		return -ELOOP;
	case VHD_LINK_UUID_MISMATCH:
		return -EXDEV;
	case VHD_LINK_BROKEN:
		return r < 0 ? r : -EBADMSG;
	default:
		return -ENOENT;
	}
}

static int open_chain(struct vhd **ret, const char *path, const struct vhd_open_opts *o,
		      struct chain *ch)
{
	char abs[PATH_MAX];
	struct vhd *v;
	bool damaged, pushed = false;
	int r;

	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	v->io = o->io ? o->io : &vhd_io_posix;
	v->fs = o->fs;
	v->flags = o->flags;
	v->size_mode = o->size_mode;
	v->bm_blk = -1;
	r = v->io->abspath(v->fs, path, abs, sizeof(abs));
	if (r < 0)
		goto fail;
	v->path = strdup(abs);
	if (!v->path) {
		r = -ENOMEM;
		goto fail;
	}
	r = v->io->open(v->fs, path, (o->flags & VHD_OPEN_RDWR) ? VHD_IO_RDWR : 0, &v->f);
	if (r < 0) {
		vhd_err_set(o->err, false, "cannot open: %s", strerror(-r));
		goto fail;
	}
	r = v->io->stat(v->f, &v->st);
	if (r < 0)
		goto fail;
	for (int i = 0; i < ch->n; i++) {
		if (ch->ids[i].dev == v->st.dev && ch->ids[i].ino == v->st.ino) {
			vhd_err_set(o->err, false, "parent chain loops back to '%s'", v->path);
			r = -ELOOP;
			goto fail;
		}
	}
	if (ch->n >= VHD_MAX_CHAIN) {
		vhd_err_set(o->err, false, "parent chain deeper than %d images", VHD_MAX_CHAIN);
		r = -ELOOP;
		goto fail;
	}
	ch->ids[ch->n++] = v->st;
	pushed = true;
	v->file_size = v->st.size;

	r = load_footer(v, o->err);
	if (r < 0)
		goto fail;
	if (v->footer.cur_size % VHD_SECTOR) {
		vhd_err_set(o->err, false, "disk size %llu is not a multiple of 512",
			    (unsigned long long)v->footer.cur_size);
		r = -EBADMSG;
		goto fail;
	}
	v->size = vhd_fmt_virtual_size(&v->footer, v->size_mode);
	if (v->size > VHD_MAX_SIZE) {
		vhd_err_set(o->err, false, "disk size exceeds the 2040 GiB limit");
		r = -E2BIG;
		goto fail;
	}
	if (v->footer.type == VHD_TYPE_FIXED) {
		if (v->size > v->footer_off) {
			vhd_err_set(
				o->err, false,
				"fixed disk of %llu bytes but only %llu bytes of data in the file",
				(unsigned long long)v->size, (unsigned long long)v->footer_off);
			r = -EBADMSG;
			goto fail;
		}
	} else {
		r = load_dynamic(v, o->err);
		if (r < 0)
			goto fail;
	}
	damaged = v->warnings & (VHD_WARN_FOOTER_CSUM | VHD_WARN_HEADER_CSUM | VHD_WARN_TAIL_BAD |
				 VHD_WARN_BAT_DROPPED | VHD_WARN_SHORT_FOOTER);
	if (damaged && (o->flags & VHD_OPEN_RDWR)) {
		vhd_err_set(o->err, false,
			    "image is damaged; it opens read-only (see 'vhd check --repair')");
		r = -EROFS;
		goto fail;
	}
	if (v->footer.type == VHD_TYPE_DIFF) {
		if (o->flags & VHD_OPEN_NO_PARENT) {
			v->link = VHD_LINK_NOT_OPENED;
		} else {
			r = find_parent(v, o, ch, o->err);
			if (r < 0)
				goto fail;
		}
	}
	ch->n--;
	*ret = v;
	return 0;
fail:
	if (pushed)
		ch->n--;
	vhd_free(v);
	return r;
}

int vhd_open(struct vhd **ret, const char *path, const struct vhd_open_opts *opts)
{
	struct vhd_open_opts o = { 0 };
	struct chain ch = { .n = 0 };

	if (opts)
		o = *opts;
	if (o.err)
		o.err[0] = '\0';
	return open_chain(ret, path, &o, &ch);
}

/* ---- accessors ---- */

uint64_t vhd_size(const struct vhd *v)
{
	return v->size;
}

const struct vhd_footer *vhd_footer(const struct vhd *v)
{
	return &v->footer;
}

const struct vhd_header *vhd_header(const struct vhd *v)
{
	return v->has_header ? &v->header : NULL;
}

const char *vhd_path(const struct vhd *v)
{
	return v->path;
}

struct vhd *vhd_parent(const struct vhd *v)
{
	return v->parent;
}

enum vhd_link vhd_link_state(const struct vhd *v)
{
	return v->link;
}

const char *vhd_link_reason(const struct vhd *v)
{
	return v->link_reason;
}

const char *vhd_parent_path(const struct vhd *v)
{
	return v->parent_path;
}

enum vhd_footer_src vhd_footer_source(const struct vhd *v)
{
	return v->footer_src;
}

unsigned vhd_warnings(const struct vhd *v)
{
	return v->warnings;
}

uint32_t vhd_bat_len(const struct vhd *v)
{
	return v->n_bat;
}

uint32_t vhd_bat_get(const struct vhd *v, uint32_t i)
{
	return i < v->n_bat ? v->bat[i] : VHD_BAT_UNUSED;
}

uint64_t vhd_footer_offset(const struct vhd *v)
{
	return v->footer_off;
}

uint32_t vhd_block_size(const struct vhd *v)
{
	return v->has_header ? v->header.block_size : 0;
}

const struct vhd_io_ops *vhd_io(const struct vhd *v)
{
	return v->io;
}

void *vhd_fs(const struct vhd *v)
{
	return v->fs;
}

int vhd_parent_refs(struct vhd *v, struct vhd_parent_ref *ret, int cap)
{
	int n = 0;

	if (v->footer.type != VHD_TYPE_DIFF)
		return 0;
	for (int i = 0; i < VHD_N_LOCATORS && n < cap; i++) {
		const struct vhd_locator *l = &v->header.loc[i];
		uint8_t data[2048];
		struct vhd_parent_ref *p = &ret[n];

		if (l->code == VHD_PLAT_NONE)
			continue;
		n++;
		p->code = l->code;
		p->path[0] = '\0';
		p->status = 0;
		if (l->len == 0 || l->len > sizeof(data) || !in_file(v, l->offset, l->len)) {
			p->status = -EBADMSG;
			continue;
		}
		p->status = read_exact(v, data, l->len, l->offset);
		if (p->status == 0) {
			int r = vhd_fmt_locator_decode(l->code, data, l->len, p->path,
						       sizeof(p->path));

			p->status = r < 0 ? r : 0;
		}
	}
	if (n < cap) {
		ret[n].code = 0;
		ret[n].status = 0;
		if (vhd_fmt_utf16_decode(v->header.parent_name, sizeof(v->header.parent_name),
					 false, ret[n].path, sizeof(ret[n].path)) < 0)
			ret[n].status = -EBADMSG;
		n++;
	}
	return n;
}

/* ---- read ---- */

static int load_bitmap(struct vhd *v, uint32_t blk)
{
	int r;

	if (v->bm_blk == (int64_t)blk)
		return 0;
	v->bm_blk = -1;
	r = read_exact(v, v->bm, v->bitmap_len, (uint64_t)v->bat[blk] * VHD_SECTOR);
	if (r < 0)
		return r;
	v->bm_blk = blk;
	return 0;
}

static bool bit_get(const uint8_t *bm, uint32_t i)
{
	return bm[i / 8] & (0x80 >> (i % 8));
}

/* Length of the run of equal bits from sector 's' below 'end'. */
static uint32_t bit_run(const uint8_t *bm, uint32_t s, uint32_t end, bool *ret_set)
{
	bool set = bit_get(bm, s);
	uint32_t i = s + 1;

	while (i < end) {
		/* Whole bytes of the same value go at once (sequential reads of full blocks). */
		if (i % 8 == 0 && end - i >= 8 && bm[i / 8] == (set ? 0xFF : 0x00)) {
			i += 8;
			continue;
		}
		if (bit_get(bm, i) != set)
			break;
		i++;
	}
	*ret_set = set;
	return i - s;
}

static int chain_read(struct vhd *v, uint8_t *buf, size_t len, uint64_t off);

/* Reads from below this layer: the parent, or zeros. */
static int below_read(struct vhd *v, uint8_t *buf, size_t len, uint64_t off)
{
	if (v->footer.type == VHD_TYPE_DIFF && !(v->flags & VHD_OPEN_NO_PARENT)) {
		if (!v->parent)
			return -ENOLINK;
		return chain_read(v->parent, buf, len, off);
	}
	memset(buf, 0, len);
	return 0;
}

static int chain_read(struct vhd *v, uint8_t *buf, size_t len, uint64_t off)
{
	uint32_t bs = v->header.block_size;
	int r;

	/* A parent smaller than its child reads as zeros past its end. */
	if (off >= v->size) {
		memset(buf, 0, len);
		return 0;
	}
	if (len > v->size - off) {
		memset(buf + (v->size - off), 0, len - (v->size - off));
		len = v->size - off;
	}
	if (v->footer.type == VHD_TYPE_FIXED)
		return read_exact(v, buf, len, off);

	while (len) {
		uint32_t blk = (uint32_t)(off / bs), in = (uint32_t)(off % bs);
		size_t n = bs - in < len ? bs - in : len;

		if (v->bat[blk] == VHD_BAT_UNUSED) {
			r = below_read(v, buf, n, off);
			if (r < 0)
				return r;
		} else {
			uint64_t data_off = (uint64_t)v->bat[blk] * VHD_SECTOR + v->bitmap_len;
			uint32_t s = in / VHD_SECTOR,
				 end = (uint32_t)((in + n + VHD_SECTOR - 1) / VHD_SECTOR);
			uint64_t pos = in;

			r = load_bitmap(v, blk);
			if (r < 0)
				return r;
			while (s < end) {
				bool set;
				uint32_t run = bit_run(v->bm, s, end, &set);
				uint64_t run_end = (uint64_t)(s + run) * VHD_SECTOR;
				size_t k;

				if (run_end > in + n)
					run_end = in + n;
				k = (size_t)(run_end - pos);
				if (set)
					r = read_exact(v, buf + (pos - in), k, data_off + pos);
				else
					r = below_read(v, buf + (pos - in), k,
						       (uint64_t)blk * bs + pos);
				if (r < 0)
					return r;
				pos = run_end;
				s += run;
			}
		}
		buf += n;
		off += n;
		len -= n;
	}
	return 0;
}

int vhd_pread(struct vhd *v, void *buf, size_t len, uint64_t off)
{
	if (off > v->size || len > v->size - off)
		return -EINVAL;
	return chain_read(v, buf, len, off);
}

/*
 * The start both status queries share: checks the range against the disk
 * and cuts it to the part inside one block, which is block 'ret_blk' from
 * byte 'ret_in' for '*ret_n' bytes. Returns 0; 1 for a fixed image, where
 * every byte is stored and '*ret_n' is the whole (clamped) range; -EINVAL
 * for an empty range or one starting past the end.
 */
static int status_slice(const struct vhd *v, uint64_t off, uint64_t len, uint64_t *ret_n,
			uint32_t *ret_blk, uint32_t *ret_in)
{
	uint32_t bs, in;

	if (off >= v->size || len == 0)
		return -EINVAL;
	if (len > v->size - off)
		len = v->size - off;
	if (v->footer.type == VHD_TYPE_FIXED) {
		*ret_n = len;
		return 1;
	}
	bs = v->header.block_size;
	in = (uint32_t)(off % bs);
	*ret_blk = (uint32_t)(off / bs);
	*ret_in = in;
	*ret_n = bs - in < len ? bs - in : len;
	return 0;
}

int vhd_block_status(struct vhd *v, uint64_t off, uint64_t len, uint64_t *ret_len)
{
	uint32_t blk, in;
	uint64_t n;
	int r = status_slice(v, off, len, &n, &blk, &in);

	if (r != 0) {
		if (r == 1)
			*ret_len = n;
		return r;
	}
	if (v->bat[blk] != VHD_BAT_UNUSED) {
		*ret_len = n;
		return 1;
	}
	if (v->footer.type == VHD_TYPE_DIFF && !(v->flags & VHD_OPEN_NO_PARENT)) {
		if (!v->parent)
			return -ENOLINK;
		if (off < v->parent->size) {
			uint64_t pn;

			r = vhd_block_status(v->parent, off, n, &pn);
			if (r < 0)
				return r;
			*ret_len = pn;
			return r;
		}
	}
	*ret_len = n;
	return 0;
}

int vhd_layer_status(struct vhd *v, uint64_t off, uint64_t len, uint64_t *ret_len)
{
	uint32_t blk, in, s, end, run;
	uint64_t n, slice;
	bool set;
	int r = status_slice(v, off, len, &slice, &blk, &in);

	if (r != 0) {
		if (r == 1)
			*ret_len = slice;
		return r;
	}
	n = slice;
	if (v->bat[blk] == VHD_BAT_UNUSED) {
		*ret_len = n;
		return 0;
	}
	r = load_bitmap(v, blk);
	if (r < 0)
		return r;
	s = in / VHD_SECTOR;
	end = (uint32_t)((in + n + VHD_SECTOR - 1) / VHD_SECTOR);
	run = bit_run(v->bm, s, end, &set);
	/* the run ends on a sector boundary; the answer stops where the slice does */
	n = (uint64_t)(s + run) * VHD_SECTOR - in;
	*ret_len = n < slice ? n : slice;
	return set;
}

/* ---- write ---- */

static void bits_set(uint8_t *bm, uint32_t s, uint32_t n)
{
	for (uint32_t i = s; i < s + n; i++)
		bm[i / 8] |= (uint8_t)(0x80 >> (i % 8));
}

static int write_footer_at(struct vhd *v, uint64_t off)
{
	uint8_t buf[VHD_FOOTER_LEN];

	vhd_fmt_footer_build(&v->footer, buf);
	return write_at(v, buf, sizeof(buf), off);
}

/* Allocates block 'blk' and writes 'n' bytes of 'data' at 'in' into it (see the top comment). */
static int alloc_block(struct vhd *v, uint32_t blk, const uint8_t *data, uint32_t in, uint32_t n)
{
	static const uint8_t zero[VHD_SECTOR];
	uint64_t base = ALIGN_UP(v->footer_off, VHD_SECTOR);
	uint64_t bm_off = ALIGN_UP(base + v->bitmap_len, WIN_ALIGN) - v->bitmap_len;
	uint64_t data_off = bm_off + v->bitmap_len;
	uint64_t end = data_off + v->header.block_size;
	uint64_t new_foot = ALIGN_UP(end + VHD_FOOTER_LEN, WIN_ALIGN) - VHD_FOOTER_LEN;
	uint8_t entry[4];
	int r;

	/* BAT entries are 32-bit sector numbers: nothing can start past 2 TiB. */
	if (bm_off / VHD_SECTOR >= VHD_BAT_UNUSED)
		return -E2BIG;
	r = write_footer_at(v, new_foot);
	if (r < 0)
		return r;
	r = sync_alloc(v);
	if (r < 0)
		return r;
	/* The old footer is now inside the gap or the bitmap: zero it. */
	r = write_at(v, zero, sizeof(zero), v->footer_off);
	if (r < 0)
		return r;
	r = write_at(v, data, n, data_off + in);
	if (r < 0)
		return r;
	memset(v->bm, 0, v->bitmap_len);
	bits_set(v->bm, in / VHD_SECTOR, n / VHD_SECTOR);
	r = write_at(v, v->bm, v->bitmap_len, bm_off);
	if (r == 0)
		r = sync_alloc(v);
	if (r < 0) {
		v->bm_blk = -1;
		return r;
	}
	put_be32(entry, (uint32_t)(bm_off / VHD_SECTOR));
	r = write_at(v, entry, sizeof(entry), v->header.table_offset + (uint64_t)blk * 4);
	if (r < 0) {
		v->bm_blk = -1;
		return r;
	}
	r = sync_alloc(v);
	v->bat[blk] = (uint32_t)(bm_off / VHD_SECTOR);
	v->bm_blk = blk;
	v->footer_off = new_foot;
	v->file_size = new_foot + VHD_FOOTER_LEN;
	return r;
}

/* Writes whole sectors ('n' bytes at 'off', both sector aligned) within one block. */
static int write_in_block(struct vhd *v, const uint8_t *buf, uint32_t n, uint64_t off)
{
	uint32_t bs = v->header.block_size;
	uint32_t blk = (uint32_t)(off / bs), in = (uint32_t)(off % bs);
	uint32_t s = in / VHD_SECTOR, k = n / VHD_SECTOR;
	uint64_t bm_off;
	uint32_t first, last;
	bool changed = false;
	int r;

	if (v->bat[blk] == VHD_BAT_UNUSED)
		return alloc_block(v, blk, buf, in, n);
	bm_off = (uint64_t)v->bat[blk] * VHD_SECTOR;
	r = write_at(v, buf, n, bm_off + v->bitmap_len + in);
	if (r < 0)
		return r;
	r = load_bitmap(v, blk);
	if (r < 0)
		return r;
	for (uint32_t i = s; i < s + k; i++)
		if (!bit_get(v->bm, i))
			changed = true;
	if (!changed)
		return 0;
	bits_set(v->bm, s, k);
	/* Rewrite only the bitmap sectors that hold the changed bits. */
	first = s / 8 / VHD_SECTOR * VHD_SECTOR;
	last = ((s + k - 1) / 8 / VHD_SECTOR + 1) * VHD_SECTOR;
	r = write_at(v, v->bm + first, last - first, bm_off + first);
	if (r < 0)
		v->bm_blk = -1;
	return r;
}

static int write_sectors(struct vhd *v, const uint8_t *buf, size_t len, uint64_t off)
{
	uint32_t bs = v->header.block_size;
	int r;

	if (v->footer.type == VHD_TYPE_FIXED)
		return write_at(v, buf, len, off);
	while (len) {
		uint32_t in = (uint32_t)(off % bs);
		size_t n = bs - in < len ? bs - in : len;

		r = write_in_block(v, buf, (uint32_t)n, off);
		if (r < 0)
			return r;
		buf += n;
		off += n;
		len -= n;
	}
	return 0;
}

/* Read-modify-write of the sector holding [off, off+len), inside one sector. */
static int write_partial(struct vhd *v, const uint8_t *buf, size_t len, uint64_t off)
{
	uint8_t sec[VHD_SECTOR];
	uint64_t base = off / VHD_SECTOR * VHD_SECTOR;
	int r;

	r = chain_read(v, sec, sizeof(sec), base);
	if (r < 0)
		return r;
	memcpy(sec + (off - base), buf, len);
	return write_sectors(v, sec, sizeof(sec), base);
}

int vhd_pwrite(struct vhd *v, const void *buf, size_t len, uint64_t off)
{
	const uint8_t *p = buf;
	uint64_t mid_end;
	int r;

	if (!(v->flags & VHD_OPEN_RDWR))
		return -EBADF;
	if (off > v->size || len > v->size - off)
		return -EINVAL;
	if (len == 0)
		return 0;
	if (off % VHD_SECTOR) {
		size_t head = VHD_SECTOR - off % VHD_SECTOR;

		if (head > len)
			head = len;
		r = write_partial(v, p, head, off);
		if (r < 0)
			return r;
		p += head;
		off += head;
		len -= head;
	}
	mid_end = off + len / VHD_SECTOR * VHD_SECTOR;
	if (mid_end > off) {
		r = write_sectors(v, p, mid_end - off, off);
		if (r < 0)
			return r;
		p += mid_end - off;
		len -= mid_end - off;
		off = mid_end;
	}
	if (len)
		return write_partial(v, p, len, off);
	return 0;
}

int vhd_flush(struct vhd *v)
{
	if (!(v->flags & VHD_OPEN_RDWR))
		return 0;
	return v->io->sync(v->f);
}

/* Source of the zeros the calls below write or compare against. */
static const uint8_t zeros[64 * 1024];

int vhd_write_zeros(struct vhd *v, uint64_t off, uint64_t len)
{
	while (len) {
		size_t n = len < sizeof(zeros) ? (size_t)len : sizeof(zeros);
		int r = vhd_pwrite(v, zeros, n, off);

		if (r < 0)
			return r;
		off += n;
		len -= n;
	}
	return 0;
}

/*
 * A differencing image cannot drop what its parents hold: a discarded range
 * must read zero, so zeros go over whatever does not read zero already and
 * nothing is written where it does. A trimmed file system's free space over
 * a parent that is zero there (never written) then costs the child nothing.
 */
static int discard_diff(struct vhd *v, uint64_t off, uint64_t len)
{
	uint8_t *buf = malloc(sizeof(zeros));
	int r = 0;

	if (!buf)
		return -ENOMEM;
	while (len && r == 0) {
		size_t n = len < sizeof(zeros) ? (size_t)len : sizeof(zeros);

		r = vhd_pread(v, buf, n, off);
		if (r == 0 && memcmp(buf, zeros, n))
			r = vhd_pwrite(v, zeros, n, off);
		off += n;
		len -= n;
	}
	free(buf);
	return r;
}

int vhd_discard(struct vhd *v, uint64_t off, uint64_t len)
{
	uint32_t bs;
	int r;

	if (!(v->flags & VHD_OPEN_RDWR))
		return -EBADF;
	if (off > v->size || len > v->size - off)
		return -EINVAL;
	if (v->footer.type == VHD_TYPE_DIFF)
		return discard_diff(v, off, len);
	if (v->footer.type == VHD_TYPE_FIXED) {
		if (v->io->punch && off % 4096 == 0 && len % 4096 == 0 &&
		    v->io->punch(v->f, off, len) == 0)
			return 0;
		return vhd_write_zeros(v, off, len);
	}
	bs = v->header.block_size;
	while (len) {
		uint32_t blk = (uint32_t)(off / bs), in = (uint32_t)(off % bs);
		uint64_t n = bs - in < len ? bs - in : len;

		if (v->bat[blk] != VHD_BAT_UNUSED) {
			if (in == 0 && n == bs) {
				/* Clear the bitmap first: clear bits promise zeros, so the data
				 * goes next. */
				uint64_t bm_off = (uint64_t)v->bat[blk] * VHD_SECTOR;

				memset(v->bm, 0, v->bitmap_len);
				v->bm_blk = blk;
				r = write_at(v, v->bm, v->bitmap_len, bm_off);
				if (r == 0 && v->io->punch)
					r = v->io->punch(v->f, bm_off + v->bitmap_len, bs);
				if (r < 0 || !v->io->punch) {
					for (uint64_t k = 0; k < bs; k += sizeof(zeros)) {
						r = write_at(v, zeros,
							     sizeof(zeros) < bs ? sizeof(zeros)
										: bs,
							     bm_off + v->bitmap_len + k);
						if (r < 0)
							return r;
					}
				}
			} else {
				r = vhd_write_zeros(v, off, n);
				if (r < 0)
					return r;
			}
		}
		off += n;
		len -= n;
	}
	return 0;
}

/* ---- metadata updates ---- */

int vhd_set_header(struct vhd *v, const struct vhd_header *h)
{
	uint8_t buf[VHD_HEADER_LEN];
	int r;

	if (!(v->flags & VHD_OPEN_RDWR))
		return -EBADF;
	if (!v->has_header)
		return -EINVAL;
	vhd_fmt_header_build(h, buf);
	r = write_at(v, buf, sizeof(buf), v->footer.data_offset);
	if (r < 0)
		return r;
	v->header = *h;
	v->header.checksum = get_be32(buf + 36);
	return v->io->sync(v->f);
}

int vhd_set_footer(struct vhd *v, const struct vhd_footer *f)
{
	uint8_t buf[VHD_FOOTER_LEN];
	int r;

	if (!(v->flags & VHD_OPEN_RDWR))
		return -EBADF;
	v->footer = *f;
	vhd_fmt_footer_build(&v->footer, buf);
	v->footer.checksum = get_be32(buf + 64);
	if (v->footer.type != VHD_TYPE_FIXED) {
		r = write_at(v, buf, sizeof(buf), 0);
		if (r < 0)
			return r;
	}
	r = write_at(v, buf, sizeof(buf), v->footer_off);
	if (r < 0)
		return r;
	return v->io->sync(v->f);
}

/* ---- create ---- */

int vhd_uuid_generate(uint8_t *uuid)
{
	size_t got = 0;

	while (got < 16) {
		ssize_t n = getrandom(uuid + got, 16 - got, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		got += (size_t)n;
	}
	uuid[6] = (uint8_t)((uuid[6] & 0x0F) | 0x40);
	uuid[8] = (uint8_t)((uuid[8] & 0x3F) | 0x80);
	return 0;
}

/* Windows path forms of a POSIX path: '/' -> '\'. */
static void to_windows(char *p)
{
	for (; *p; p++)
		if (*p == '/')
			*p = '\\';
}

static int build_child(struct vhd_header *h, const struct vhd *parent, const char *child_abs,
		       uint64_t *loc_off, uint8_t *loc_data, size_t loc_cap, size_t *ret_loc_len,
		       char *err)
{
	char dir[PATH_MAX], rel[PATH_MAX], abs[PATH_MAX];
	uint8_t *p = loc_data;
	int n;

	memcpy(h->parent_uuid, parent->footer.uuid, 16);
	h->parent_ts = (uint32_t)vhd_time_from_unix(parent->st.mtime);
	n = vhd_fmt_utf16_encode(vhd_path_basename(parent->path), false, h->parent_name,
				 sizeof(h->parent_name));
	if (n < 0) {
		vhd_err_set(err, false, "parent name is not valid UTF-8 or too long");
		return n;
	}
	if (vhd_path_dirname(child_abs, dir, sizeof(dir)) < 0 ||
	    vhd_path_relative(dir, parent->path, rel, sizeof(rel)) < 0)
		return -ENAMETOOLONG;
	snprintf(abs, sizeof(abs), "%s", parent->path);
	to_windows(abs);
	to_windows(rel);
	/* Windows order: W2ku in slot 0, W2ru in slot 1. */
	for (int i = 0; i < 2; i++) {
		const char *s = i == 0 ? abs : rel;
		size_t room = loc_cap - (size_t)(p - loc_data);

		n = vhd_fmt_utf16_encode(s, true, p, room);
		if (n < 0) {
			vhd_err_set(err, false, "parent path is not valid UTF-8 or too long");
			return n;
		}
		h->loc[i].code = i == 0 ? VHD_PLAT_W2KU : VHD_PLAT_W2RU;
		h->loc[i].len = (uint32_t)n;
		h->loc[i].space = ALIGN_UP((uint32_t)n, LOC_SPACE);
		h->loc[i].offset = *loc_off;
		memset(p + n, 0, h->loc[i].space - (uint32_t)n);
		*loc_off += h->loc[i].space;
		p += h->loc[i].space;
	}
	*ret_loc_len = (size_t)(p - loc_data);
	return 0;
}

int vhd_create(struct vhd **ret, const char *path, const struct vhd_create_opts *o)
{
	struct vhd_open_opts oo = { .io = o->io,
				    .fs = o->fs,
				    .err = o->err,
				    .flags = o->open_flags | VHD_OPEN_RDWR,
				    .size_mode = VHD_SIZE_CURRENT };
	const struct vhd_io_ops *io = o->io ? o->io : &vhd_io_posix;
	struct vhd_footer f = { 0 };
	struct vhd_header h = { 0 };
	struct vhd *parent = NULL, *v = NULL;
	uint8_t fb[VHD_FOOTER_LEN], hb[VHD_HEADER_LEN];
	uint8_t *meta = NULL, loc_data[4 * 2048];
	size_t loc_len = 0;
	char abs[PATH_MAX];
	uint64_t size = o->size, bat_bytes, loc_off, foot_off;
	uint32_t bs = o->block_size;
	void *file = NULL;
	bool made = false;
	int r;

	if (o->err)
		o->err[0] = '\0';
	r = io->abspath(o->fs, path, abs, sizeof(abs));
	if (r < 0)
		return r;
	if (o->type == VHD_TYPE_DIFF) {
		struct vhd_open_opts po = { .io = o->io, .fs = o->fs, .err = o->err };

		if (!o->parent)
			return -EINVAL;
		r = vhd_open(&parent, o->parent, &po);
		if (r < 0)
			return r;
		if (!size)
			size = parent->size;
		if (size < parent->size) {
			vhd_err_set(o->err, false,
				    "a child cannot be smaller than its parent (%llu bytes)",
				    (unsigned long long)parent->size);
			r = -EINVAL;
			goto out;
		}
		if (!bs)
			bs = parent->has_header ? parent->header.block_size : VHD_BLOCK_DEFAULT;
	} else if (o->type != VHD_TYPE_FIXED && o->type != VHD_TYPE_DYNAMIC) {
		return -EINVAL;
	}
	if (!bs)
		bs = VHD_BLOCK_DEFAULT;
	size = ALIGN_UP(size, VHD_SECTOR);
	if (size == 0) {
		vhd_err_set(o->err, false, "disk size must be positive");
		r = -EINVAL;
		goto out;
	}
	if (size > VHD_MAX_SIZE) {
		vhd_err_set(o->err, false, "disk size exceeds the 2040 GiB limit");
		r = -E2BIG;
		goto out;
	}
	if (bs < VHD_BLOCK_MIN || bs > VHD_BLOCK_MAX || (bs & (bs - 1))) {
		vhd_err_set(o->err, false,
			    "invalid block size %u (a power of two from 512 to 256 MiB)", bs);
		r = -EINVAL;
		goto out;
	}

	f.features = VHD_FEATURES_STD;
	f.version = VHD_VERSION;
	f.timestamp = o->timestamp ? o->timestamp : (uint32_t)vhd_time_from_unix(time(NULL));
	/* "win ": current-size semantics in every reader (QEMU < 10 included, notes §2). */
	memcpy(f.creator_app, "win ", 4);
	f.creator_ver = 0x000A0000;
	f.creator_os = 0x5769326B; /* "Wi2k" */
	f.orig_size = f.cur_size = size;
	vhd_fmt_chs(size, &f.cylinders, &f.heads, &f.spt);
	f.type = o->type;
	if (o->uuid)
		memcpy(f.uuid, o->uuid, 16);
	else if ((r = vhd_uuid_generate(f.uuid)) < 0)
		goto out;

	r = io->open(o->fs, path, VHD_IO_CREATE | VHD_IO_RDWR, &file);
	if (r < 0) {
		vhd_err_set(o->err, false, "cannot create: %s", strerror(-r));
		goto out;
	}
	made = true;
	if (o->type == VHD_TYPE_FIXED) {
		f.data_offset = VHD_NO_OFFSET;
		vhd_fmt_footer_build(&f, fb);
		r = io->truncate(file, size);
		if (r == 0)
			r = io->pwrite(file, fb, sizeof(fb), size);
		goto written;
	}

	f.data_offset = VHD_FOOTER_LEN;
	h.data_offset = VHD_NO_OFFSET;
	h.table_offset = VHD_FOOTER_LEN + VHD_HEADER_LEN;
	h.version = VHD_VERSION;
	h.block_size = bs;
	if ((size + bs - 1) / bs > VHD_MAX_BAT) {
		vhd_err_set(o->err, false, "block size %u too small for this disk size", bs);
		r = -E2BIG;
		goto written;
	}
	h.max_entries = (uint32_t)((size + bs - 1) / bs);
	bat_bytes = ALIGN_UP((uint64_t)h.max_entries * 4, VHD_SECTOR);
	loc_off = h.table_offset + bat_bytes;
	if (o->type == VHD_TYPE_DIFF) {
		r = build_child(&h, parent, abs, &loc_off, loc_data, sizeof(loc_data), &loc_len,
				o->err);
		if (r < 0)
			goto written;
	}
	foot_off = ALIGN_UP(loc_off + VHD_FOOTER_LEN, WIN_ALIGN) - VHD_FOOTER_LEN;
	vhd_fmt_footer_build(&f, fb);
	vhd_fmt_header_build(&h, hb);
	meta = malloc(foot_off + VHD_FOOTER_LEN);
	if (!meta) {
		r = -ENOMEM;
		goto written;
	}
	/* Unused BAT entries and the table's padding are 0xFF, as Windows writes them. */
	memset(meta, 0, foot_off + VHD_FOOTER_LEN);
	memcpy(meta, fb, sizeof(fb));
	memcpy(meta + VHD_FOOTER_LEN, hb, sizeof(hb));
	memset(meta + h.table_offset, 0xFF, bat_bytes);
	memcpy(meta + h.table_offset + bat_bytes, loc_data, loc_len);
	memcpy(meta + foot_off, fb, sizeof(fb));
	r = io->pwrite(file, meta, foot_off + VHD_FOOTER_LEN, 0);
written:
	if (r == 0)
		r = io->sync(file);
	io->close(file);
	file = NULL;
	if (r < 0)
		goto out;
	vhd_free(parent);
	parent = NULL;
	if (ret) {
		r = vhd_open(&v, path, &oo);
		if (r < 0)
			goto out;
		*ret = v;
	}
out:
	free(meta);
	vhd_free(parent);
	if (r < 0 && made)
		(void)io->unlink(o->fs, path);
	return r;
}

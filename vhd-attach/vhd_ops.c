/* SPDX-License-Identifier: MIT */
/*
 * Whole-image operations (see vhd_ops.h): convert, merge, compact, undo.
 * Each walks the virtual disk in block-sized chunks, asks the source which
 * ranges are unallocated through the whole chain (vhd_block_status) so that
 * sparse images cost nothing, and writes through libvhd's own write path,
 * so the crash-safety and layout rules of vhd.c hold for every output.
 * New files are written with VHD_OPEN_UNSAFE (no syncs per block) and synced
 * once at the end; compaction renames its new file over the old one only
 * after that sync.
 */
#include "vhd-attach/vhd_ops.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "vhd-attach/vhd.h"
#include "vhd-attach/vhd_err.h"
#include "vhd-attach/vhd_io.h"

#define CHUNK (2u << 20)

static const struct vhd_io_ops *ops_io(const struct vhd_ops_opts *o)
{
	return o->io ? o->io : &vhd_io_posix;
}

static bool all_zero(const uint8_t *p, size_t len)
{
	return len == 0 || (p[0] == 0 && memcmp(p, p + 1, len - 1) == 0);
}

static void progress(const struct vhd_ops_opts *o, uint64_t done, uint64_t total)
{
	if (o->progress)
		o->progress(o->ctx, done, total);
}

/* Whether 'path' carries a VHD footer at its end or a dynamic footer copy at 0. */
static bool looks_like_vhd(const struct vhd_io_ops *io, void *fs, const char *path)
{
	uint8_t buf[VHD_FOOTER_LEN];
	struct vhd_io_stat st;
	void *f;
	bool yes = false;

	if (io->open(fs, path, 0, &f) < 0)
		return false;
	if (io->stat(f, &st) == 0 && st.size >= VHD_FOOTER_LEN) {
		if (io->pread(f, buf, 8, st.size - VHD_FOOTER_LEN) == 8 &&
		    !memcmp(buf, "conectix", 8))
			yes = true;
		else if (st.size % VHD_SECTOR == 511 && io->pread(f, buf, 8, st.size - 511) == 8 &&
			 !memcmp(buf, "conectix", 8))
			yes = true;
		else if (io->pread(f, buf, 8, 0) == 8 && !memcmp(buf, "conectix", 8))
			yes = true;
	}
	io->close(f);
	return yes;
}

/* The source of a conversion: an opened VHD chain or a raw file/device. */
struct source {
	struct vhd *v;		     /* owned, or NULL */
	const struct vhd_io_ops *io; /* raw only */
	void *f;		     /* raw only, owned */
	uint64_t size;
};

static void source_close(struct source *s)
{
	vhd_free(s->v);
	if (s->f)
		s->io->close(s->f);
}

static int source_open(struct source *s, const char *path, enum vhd_in in,
		       const struct vhd_ops_opts *o)
{
	const struct vhd_io_ops *io = ops_io(o);
	struct vhd_io_stat st;
	int r;

	memset(s, 0, sizeof(*s));
	if (in == VHD_IN_AUTO)
		in = looks_like_vhd(io, o->fs, path) ? VHD_IN_VHD : VHD_IN_RAW;
	if (in == VHD_IN_VHD) {
		struct vhd_open_opts oo = { .io = o->io,
					    .fs = o->fs,
					    .err = o->err,
					    .flags = o->open_flags & ~VHD_OPEN_RDWR,
					    .size_mode = o->size_mode };

		r = vhd_open(&s->v, path, &oo);
		if (r < 0)
			return r;
		s->size = vhd_size(s->v);
		return 0;
	}
	s->io = io;
	r = io->open(o->fs, path, 0, &s->f);
	if (r < 0) {
		vhd_err_set(o->err, true, "cannot open: %s", strerror(-r));
		return r;
	}
	r = io->stat(s->f, &st);
	if (r < 0)
		return r;
	s->size = st.size;
	if (s->size % VHD_SECTOR) {
		vhd_err_set(o->err, true,
			    "raw input of %llu bytes is not a whole number of sectors",
			    (unsigned long long)s->size);
		return -EINVAL;
	}
	return 0;
}

/* 1 if [off, off+*len) may hold data, 0 if it is known zero ('*len' may shrink). */
static int source_status(struct source *s, uint64_t off, uint64_t *len)
{
	uint64_t n;
	int r;

	if (!s->v)
		return 1;
	r = vhd_block_status(s->v, off, *len, &n);
	if (r >= 0)
		*len = n;
	return r;
}

static int source_read(struct source *s, uint8_t *buf, size_t len, uint64_t off)
{
	int64_t n;

	if (s->v)
		return vhd_pread(s->v, buf, len, off);
	n = s->io->pread(s->f, buf, len, off);
	if (n < 0)
		return (int)n;
	return (size_t)n == len ? 0 : -EIO;
}

int vhd_convert(const char *src, enum vhd_in in, const char *dst, enum vhd_out out,
		const struct vhd_ops_opts *o)
{
	const struct vhd_io_ops *io = ops_io(o);
	struct source s;
	struct vhd *d = NULL;
	void *rawf = NULL;
	uint8_t *buf = NULL;
	uint32_t chunk = CHUNK;
	bool made = false;
	int r;

	if (o->err)
		o->err[0] = '\0';
	r = source_open(&s, src, in, o);
	if (r < 0)
		goto out;
	if (out == VHD_OUT_RAW) {
		r = io->open(o->fs, dst, VHD_IO_CREATE | VHD_IO_RDWR, &rawf);
		if (r < 0) {
			vhd_err_set(o->err, true, "cannot create '%s': %s", dst, strerror(-r));
			goto out;
		}
		made = true;
		r = io->truncate(rawf, s.size);
		if (r < 0)
			goto out;
	} else {
		struct vhd_create_opts co = {
			.io = o->io,
			.fs = o->fs,
			.size = s.size,
			.err = o->err,
			.type = out == VHD_OUT_FIXED ? VHD_TYPE_FIXED : VHD_TYPE_DYNAMIC,
			.block_size = o->block_size,
			.open_flags = VHD_OPEN_UNSAFE,
		};

		if (s.size > VHD_MAX_SIZE) {
			vhd_err_set(o->err, true, "input of %llu bytes exceeds the 2040 GiB limit",
				    (unsigned long long)s.size);
			r = -E2BIG;
			goto out;
		}
		r = vhd_create(&d, dst, &co);
		if (r < 0)
			goto out;
		made = true;
		if (out == VHD_OUT_DYNAMIC)
			chunk = vhd_block_size(d);
	}
	buf = malloc(chunk);
	if (!buf) {
		r = -ENOMEM;
		goto out;
	}
	for (uint64_t off = 0; off < s.size;) {
		uint64_t n = chunk - off % chunk;

		if (n > s.size - off)
			n = s.size - off;
		r = source_status(&s, off, &n);
		if (r < 0)
			goto out;
		if (r == 1) {
			r = source_read(&s, buf, n, off);
			if (r < 0) {
				vhd_err_set(o->err, true, "read at offset %llu failed: %s",
					    (unsigned long long)off, strerror(-r));
				goto out;
			}
			if (!all_zero(buf, n)) {
				r = d ? vhd_pwrite(d, buf, n, off) : io->pwrite(rawf, buf, n, off);
				if (r < 0) {
					vhd_err_set(o->err, true, "write at offset %llu failed: %s",
						    (unsigned long long)off, strerror(-r));
					goto out;
				}
			}
		}
		off += n;
		progress(o, off, s.size);
	}
	r = d ? vhd_flush(d) : io->sync(rawf);
out:
	free(buf);
	vhd_free(d);
	if (rawf)
		io->close(rawf);
	source_close(&s);
	if (r < 0 && made)
		(void)io->unlink(o->fs, dst);
	return r;
}

/* ---- merge ---- */

/* Reads the unique id and, for a child, the parent's id of 'path'; 1 = differencing. */
static int peek_ids(const struct vhd_io_ops *io, void *fs, const char *path, uint8_t *uuid,
		    uint8_t *parent_uuid)
{
	uint8_t fb[VHD_FOOTER_LEN], hb[VHD_HEADER_LEN];
	struct vhd_footer f;
	struct vhd_header h;
	struct vhd_io_stat st;
	bool ok;
	void *file;
	int r = 0;

	if (io->open(fs, path, 0, &file) < 0)
		return 0;
	if (io->stat(file, &st) < 0 || st.size < VHD_FOOTER_LEN + VHD_HEADER_LEN ||
	    io->pread(file, fb, sizeof(fb), st.size - VHD_FOOTER_LEN) != sizeof(fb) ||
	    vhd_fmt_footer_parse(fb, sizeof(fb), &f, &ok) < 0)
		goto out;
	memcpy(uuid, f.uuid, 16);
	if (f.type != VHD_TYPE_DIFF || f.data_offset > st.size - VHD_HEADER_LEN ||
	    io->pread(file, hb, sizeof(hb), f.data_offset) != sizeof(hb) ||
	    vhd_fmt_header_parse(hb, sizeof(hb), &h, &ok) < 0)
		goto out;
	memcpy(parent_uuid, h.parent_uuid, 16);
	r = 1;
out:
	io->close(file);
	return r;
}

struct scan {
	const struct vhd_io_ops *io;
	void *fs;
	const char *dir;
	const char *skip[2];	  /* absolute paths not to count */
	const uint8_t *parent_id; /* children of the parent */
	const uint8_t *child_id;  /* children of the child, or NULL */
	char found[VHD_ERR_LEN];
	unsigned n_found;
};

static int scan_one(void *ctx, const char *name)
{
	struct scan *sc = ctx;
	char path[PATH_MAX], abs[PATH_MAX];
	uint8_t id[16], pid[16];
	size_t len;

	if (vhd_path_join(sc->dir, name, path, sizeof(path)) < 0 ||
	    sc->io->abspath(sc->fs, path, abs, sizeof(abs)) < 0)
		return 0;
	if (!strcmp(abs, sc->skip[0]) || !strcmp(abs, sc->skip[1]))
		return 0;
	if (peek_ids(sc->io, sc->fs, abs, id, pid) != 1)
		return 0;
	if (memcmp(pid, sc->parent_id, 16) && (!sc->child_id || memcmp(pid, sc->child_id, 16)))
		return 0;
	/* Two folders may be the same one: count each file once. */
	if (strstr(sc->found, abs))
		return 0;
	len = strlen(sc->found);
	snprintf(sc->found + len, sizeof(sc->found) - len, "%s'%s'", len ? ", " : "", abs);
	sc->n_found++;
	return 0;
}

int vhd_merge(const char *child, const struct vhd_ops_opts *o)
{
	const struct vhd_io_ops *io = ops_io(o);
	struct vhd_open_opts oo = { .io = o->io,
				    .fs = o->fs,
				    .err = o->err,
				    .flags = o->open_flags & VHD_OPEN_LENIENT,
				    .size_mode = VHD_SIZE_CURRENT };
	struct vhd *c = NULL, *p = NULL;
	char ppath[PATH_MAX], cpath[PATH_MAX], dirs[2][PATH_MAX];
	uint8_t *buf = NULL;
	uint64_t size;
	int r;

	if (o->err)
		o->err[0] = '\0';
	r = vhd_open(&c, child, &oo);
	if (r < 0)
		goto out;
	if (vhd_footer(c)->type != VHD_TYPE_DIFF) {
		vhd_err_set(o->err, true, "not a differencing image: nothing to merge");
		r = -EINVAL;
		goto out;
	}
	snprintf(cpath, sizeof(cpath), "%s", vhd_path(c));
	snprintf(ppath, sizeof(ppath), "%s", vhd_path(vhd_parent(c)));
	if (vhd_size(c) > vhd_size(vhd_parent(c))) {
		vhd_err_set(o->err, true,
			    "child is larger than its parent '%s'; resize the parent first", ppath);
		r = -EINVAL;
		goto out;
	}
	if (!o->force) {
		struct scan sc = { .io = io,
				   .fs = o->fs,
				   .skip = { cpath, ppath },
				   .parent_id = vhd_footer(vhd_parent(c))->uuid,
				   .child_id = o->delete_child ? vhd_footer(c)->uuid : NULL };

		(void)vhd_path_dirname(cpath, dirs[0], sizeof(dirs[0]));
		(void)vhd_path_dirname(ppath, dirs[1], sizeof(dirs[1]));
		for (int i = 0; i < 2; i++) {
			if (i == 1 && !strcmp(dirs[0], dirs[1]))
				break;
			sc.dir = dirs[i];
			(void)io->list_dir(o->fs, dirs[i], scan_one, &sc);
		}
		if (sc.n_found) {
			vhd_err_set(
				o->err, true,
				"other differencing images depend on '%s' or '%s' and would change "
				"silently: %s (use --force)",
				ppath, cpath, sc.found);
			r = -EBUSY;
			goto out;
		}
	}
	oo.flags = VHD_OPEN_RDWR;
	r = vhd_open(&p, ppath, &oo);
	if (r < 0)
		goto out;
	if (vhd_footer(p)->saved_state) {
		vhd_err_set(o->err, true, "parent '%s' is in a saved state", ppath);
		r = -EROFS;
		goto out;
	}
	buf = malloc(CHUNK);
	if (!buf) {
		r = -ENOMEM;
		goto out;
	}
	size = vhd_size(c);
	for (uint64_t off = 0; off < size;) {
		uint64_t n = CHUNK - off % CHUNK;

		if (n > size - off)
			n = size - off;
		/* Only the child's own sectors are copied; the rest already is the parent's. */
		r = vhd_layer_status(c, off, n, &n);
		if (r < 0)
			goto out;
		if (r == 1) {
			r = vhd_pread(c, buf, n, off);
			if (r == 0)
				r = vhd_pwrite(p, buf, n, off);
			if (r < 0) {
				vhd_err_set(o->err, true, "copy at offset %llu failed: %s",
					    (unsigned long long)off, strerror(-r));
				goto out;
			}
		}
		off += n;
		progress(o, off, size);
	}
	r = vhd_flush(p);
	if (r < 0)
		goto out;
	vhd_free(c);
	c = NULL;
	if (o->delete_child)
		r = io->unlink(o->fs, cpath);
out:
	free(buf);
	vhd_free(c);
	vhd_free(p);
	return r;
}

/* ---- compact ---- */

int vhd_compact(const char *path, const struct vhd_ops_opts *o, uint32_t *ret_dropped)
{
	const struct vhd_io_ops *io = ops_io(o);
	struct vhd_open_opts oo = {
		.io = o->io, .fs = o->fs, .err = o->err, .size_mode = VHD_SIZE_CURRENT
	};
	struct vhd *s = NULL, *d = NULL;
	char tmp[PATH_MAX];
	uint8_t *buf = NULL, *pbuf = NULL;
	uint32_t bs, n_alloc = 0, dropped = 0;
	uint64_t size, need, avail;
	bool made = false;
	int r;

	if (o->err)
		o->err[0] = '\0';
	r = vhd_open(&s, path, &oo);
	if (r < 0)
		goto out;
	if (vhd_footer(s)->type == VHD_TYPE_FIXED) {
		vhd_err_set(o->err, true,
			    "a fixed image cannot be compacted (convert it to dynamic)");
		r = -EINVAL;
		goto out;
	}
	if (vhd_footer(s)->saved_state) {
		vhd_err_set(o->err, true, "image is in a saved state; compaction must wait");
		r = -EROFS;
		goto out;
	}
	bs = vhd_block_size(s);
	size = vhd_size(s);
	for (uint32_t i = 0; i < vhd_bat_len(s); i++)
		n_alloc += vhd_bat_get(s, i) != VHD_BAT_UNUSED;
	need = (uint64_t)n_alloc * (bs + vhd_fmt_bitmap_len(bs) + 4096) +
	       (uint64_t)vhd_bat_len(s) * 4 + (64u << 10);
	r = io->free_space(o->fs, vhd_path(s), &avail);
	if (r == 0 && avail < need) {
		vhd_err_set(o->err, true,
			    "not enough free space: %llu bytes needed, %llu available",
			    (unsigned long long)need, (unsigned long long)avail);
		r = -ENOSPC;
		goto out;
	}
	if (snprintf(tmp, sizeof(tmp), "%s.compact-tmp", vhd_path(s)) >= (int)sizeof(tmp)) {
		r = -ENAMETOOLONG;
		goto out;
	}
	{
		struct vhd_create_opts co = {
			.io = o->io,
			.fs = o->fs,
			.type = (enum vhd_type)vhd_footer(s)->type,
			.size = vhd_footer(s)->cur_size,
			.block_size = bs,
			.err = o->err,
			.uuid = vhd_footer(s)->uuid,
			.timestamp = vhd_footer(s)->timestamp,
			.parent = vhd_parent(s) ? vhd_path(vhd_parent(s)) : NULL,
			.open_flags = VHD_OPEN_UNSAFE | VHD_OPEN_NO_PARENT,
		};
		struct vhd_footer f = *vhd_footer(s);
		struct vhd_header h;

		r = vhd_create(&d, tmp, &co);
		if (r < 0)
			goto out;
		made = true;
		/* Same identity as the original: children keep linking to it. */
		f.data_offset = vhd_footer(d)->data_offset;
		r = vhd_set_footer(d, &f);
		if (r == 0 && vhd_footer(s)->type == VHD_TYPE_DIFF) {
			h = *vhd_header(d);
			h.parent_ts = vhd_header(s)->parent_ts;
			memcpy(h.parent_name, vhd_header(s)->parent_name, sizeof(h.parent_name));
			r = vhd_set_header(d, &h);
		}
		if (r < 0)
			goto out;
	}
	buf = malloc(bs);
	pbuf = malloc(bs);
	if (!buf || !pbuf) {
		r = -ENOMEM;
		goto out;
	}
	for (uint32_t i = 0; i < vhd_bat_len(s); i++) {
		uint64_t off = (uint64_t)i * bs, n;
		bool keep;

		if (vhd_bat_get(s, i) == VHD_BAT_UNUSED || off >= size)
			continue;
		n = size - off < bs ? size - off : bs;
		r = vhd_pread(s, buf, n, off);
		if (r < 0)
			goto out;
		keep = !all_zero(buf, n);
		if (!keep && vhd_parent(s)) {
			/* Dropping the block exposes the parent: only if it reads zero too. */
			r = vhd_pread(vhd_parent(s), pbuf, n, off);
			if (r == -EINVAL) {
				keep = false; /* the parent is smaller: zeros past its end */
			} else if (r < 0) {
				goto out;
			} else {
				keep = !all_zero(pbuf, n);
			}
		}
		if (!keep) {
			dropped++;
			continue;
		}
		for (uint64_t pos = off; pos < off + n;) {
			uint64_t k;

			r = vhd_layer_status(s, pos, off + n - pos, &k);
			if (r < 0)
				goto out;
			if (r == 1) {
				r = vhd_pwrite(d, buf + (pos - off), k, pos);
				if (r < 0)
					goto out;
			}
			pos += k;
		}
		progress(o, off + n, size);
	}
	r = vhd_flush(d);
	if (r < 0)
		goto out;
	vhd_free(d);
	d = NULL;
	{
		char orig[PATH_MAX];

		snprintf(orig, sizeof(orig), "%s", vhd_path(s));
		vhd_free(s);
		s = NULL;
		r = io->rename(o->fs, tmp, orig);
		if (r < 0) {
			vhd_err_set(o->err, true, "cannot rename the compacted file into place: %s",
				    strerror(-r));
			goto out;
		}
		made = false;
	}
	if (ret_dropped)
		*ret_dropped = dropped;
out:
	free(buf);
	free(pbuf);
	vhd_free(d);
	vhd_free(s);
	if (r < 0 && made)
		(void)io->unlink(o->fs, tmp);
	return r;
}

/* ---- undo disks ---- */

int vhd_undo_path(const char *image, char *out, size_t cap)
{
	int n = snprintf(out, cap, "%s.vud", image);

	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

static int undo_create(const char *image, const char *vud, const struct vhd_ops_opts *o)
{
	struct vhd_create_opts co = {
		.io = o->io, .fs = o->fs, .type = VHD_TYPE_DIFF, .parent = image, .err = o->err
	};

	return vhd_create(NULL, vud, &co);
}

int vhd_undo(const char *image, enum vhd_undo_op op, const struct vhd_ops_opts *o)
{
	const struct vhd_io_ops *io = ops_io(o);
	char vud[PATH_MAX];
	uint8_t img_id[16], pid[16], id[16];
	struct vhd *u = NULL;
	int r;

	if (o->err)
		o->err[0] = '\0';
	r = vhd_undo_path(image, vud, sizeof(vud));
	if (r < 0)
		return r;
	r = io->exists(o->fs, vud);
	if (r < 0)
		return r;
	if (op == VHD_UNDO_ENABLE) {
		if (r) {
			vhd_err_set(o->err, true, "undo disk '%s' already exists", vud);
			return -EEXIST;
		}
		return undo_create(image, vud, o);
	}
	if (!r) {
		vhd_err_set(o->err, true, "no undo disk '%s' (run 'vhd undo enable' first)", vud);
		return -ENOENT;
	}
	/* The .vud must be this image's child, whatever its locators say. */
	if (peek_ids(io, o->fs, vud, id, pid) != 1) {
		vhd_err_set(o->err, true, "'%s' is not a differencing image", vud);
		return -EBADMSG;
	}
	{
		uint8_t x[16];

		(void)peek_ids(io, o->fs, image, img_id, x);
	}
	if (memcmp(pid, img_id, 16)) {
		vhd_err_set(o->err, true, "undo disk '%s' belongs to another image", vud);
		return -EXDEV;
	}
	switch (op) {
	case VHD_UNDO_COMMIT: {
		struct vhd_ops_opts mo = *o;

		mo.delete_child = true;
		r = vhd_merge(vud, &mo);
		if (r < 0)
			return r;
		return undo_create(image, vud, o);
	}
	case VHD_UNDO_DISCARD:
		r = io->unlink(o->fs, vud);
		if (r < 0)
			return r;
		return undo_create(image, vud, o);
	case VHD_UNDO_KEEP: {
		struct vhd_open_opts oo = {
			.io = o->io, .fs = o->fs, .err = o->err, .parent_path = image
		};

		r = vhd_open(&u, vud, &oo);
		vhd_free(u);
		return r;
	}
	case VHD_UNDO_DISABLE: {
		struct vhd_open_opts oo = {
			.io = o->io, .fs = o->fs, .err = o->err, .flags = VHD_OPEN_NO_PARENT
		};
		bool empty = true;

		r = vhd_open(&u, vud, &oo);
		if (r < 0)
			return r;
		for (uint32_t i = 0; i < vhd_bat_len(u); i++)
			empty &= vhd_bat_get(u, i) == VHD_BAT_UNUSED;
		vhd_free(u);
		if (!empty) {
			vhd_err_set(o->err, true,
				    "undo disk '%s' holds changes: commit or discard them first",
				    vud);
			return -ENOTEMPTY;
		}
		return io->unlink(o->fs, vud);
	}
	default:
		return -EINVAL;
	}
}

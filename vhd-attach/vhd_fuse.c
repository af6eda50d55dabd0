/* SPDX-License-Identifier: MIT */
/*
 * The FUSE server of one image (see vhd_fuse.h). One thread serves the
 * requests in order, so libvhd, which is not thread safe, needs no lock;
 * the loop device above queues its I/O in the kernel meanwhile. Called by
 * the mount process in vhd_mount_tool.c; calls libfuse3 and libvhd.
 */
#define FUSE_USE_VERSION 35

#include "vhd-attach/vhd_fuse.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <fuse.h>
#include <linux/falloc.h>

#include "common/clock.h"
#include "common/log.h"
#include "vhd-attach/vhd.h"

#define FILE_PATH  "/" VHD_FUSE_FILE
#define BLOCK_SIZE 4096 /* what statfs reports; the loop device's discard granularity */

struct vhd_fuse {
	struct fuse *fuse; /* owned */
	struct vhd *v;	   /* owned */
	bool read_only;
	bool mounted;
	uint64_t log_state; /* log_ratelimit() of I/O errors */
};

static struct vhd_fuse *self(void)
{
	return fuse_get_context()->private_data;
}

/*
 * Logs a failed request (at most once a second: a dying disk fails every
 * request) and turns library errors into what the kernel passes on.
 */
static int io_error(struct vhd_fuse *f, const char *what, int r, uint64_t off, uint64_t len)
{
	if (log_ratelimit(&f->log_state, clock_mono_ms()))
		log_error_errno(r, "image '%s': %s of %" PRIu64 " bytes at %" PRIu64 " failed",
				vhd_path(f->v), what, len, off);
	switch (r) {
	case -ENOSPC:
	case -EROFS:
	case -EDQUOT:
		return r;
	default:
		return -EIO;
	}
}

static void *op_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	(void)conn;
	/* The loop device keeps its own cache, and nothing else changes the file. */
	cfg->kernel_cache = 1;
	cfg->attr_timeout = 3600;
	cfg->entry_timeout = 3600;
	return fuse_get_context()->private_data;
}

static int op_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
	struct vhd_fuse *f = self();

	(void)fi;
	memset(st, 0, sizeof(*st));
	if (!strcmp(path, "/")) {
		st->st_mode = S_IFDIR | 0755;
		st->st_nlink = 2;
		return 0;
	}
	if (strcmp(path, FILE_PATH))
		return -ENOENT;
	st->st_mode = S_IFREG | (f->read_only ? 0444 : 0644);
	st->st_nlink = 1;
	st->st_size = (off_t)vhd_size(f->v);
	st->st_blksize = BLOCK_SIZE;
	st->st_blocks = (blkcnt_t)(vhd_size(f->v) / 512);
	return 0;
}

static int op_readdir(const char *path, void *buf, fuse_fill_dir_t fill, off_t off,
		      struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
	(void)off;
	(void)fi;
	(void)flags;
	if (strcmp(path, "/"))
		return -ENOTDIR;
	fill(buf, ".", NULL, 0, 0);
	fill(buf, "..", NULL, 0, 0);
	fill(buf, VHD_FUSE_FILE, NULL, 0, 0);
	return 0;
}

static int op_open(const char *path, struct fuse_file_info *fi)
{
	struct vhd_fuse *f = self();

	if (strcmp(path, FILE_PATH))
		return -ENOENT;
	if ((fi->flags & O_ACCMODE) != O_RDONLY && f->read_only)
		return -EROFS;
	return 0;
}

static int op_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
	(void)fi;
	if (strcmp(path, FILE_PATH))
		return -ENOENT;
	/* open(O_TRUNC) asks for the size it has; a disk is never resized here. */
	return (uint64_t)size == vhd_size(self()->v) ? 0 : -EPERM;
}

static int op_read(const char *path, char *buf, size_t len, off_t off, struct fuse_file_info *fi)
{
	struct vhd_fuse *f = self();
	uint64_t size = vhd_size(f->v);
	int r;

	(void)path;
	(void)fi;
	if (off < 0)
		return -EINVAL;
	if ((uint64_t)off >= size)
		return 0;
	if (len > size - (uint64_t)off)
		len = (size_t)(size - (uint64_t)off);
	r = vhd_pread(f->v, buf, len, (uint64_t)off);
	return r < 0 ? io_error(f, "read", r, (uint64_t)off, len) : (int)len;
}

static int op_write(const char *path, const char *buf, size_t len, off_t off,
		    struct fuse_file_info *fi)
{
	struct vhd_fuse *f = self();
	uint64_t size = vhd_size(f->v);
	int r;

	(void)path;
	(void)fi;
	if (off < 0)
		return -EINVAL;
	if (f->read_only)
		return -EROFS;
	if ((uint64_t)off >= size)
		return len ? -ENOSPC : 0;
	if (len > size - (uint64_t)off)
		len = (size_t)(size - (uint64_t)off);
	r = vhd_pwrite(f->v, buf, len, (uint64_t)off);
	return r < 0 ? io_error(f, "write", r, (uint64_t)off, len) : (int)len;
}

static int op_flush(const char *path, struct fuse_file_info *fi)
{
	struct vhd_fuse *f = self();
	int r;

	(void)path;
	(void)fi;
	if (f->read_only)
		return 0;
	r = vhd_flush(f->v);
	return r < 0 ? io_error(f, "flush", r, 0, 0) : 0;
}

static int op_fsync(const char *path, int datasync, struct fuse_file_info *fi)
{
	(void)datasync;
	return op_flush(path, fi);
}

/*
 * Gives a range back. Whole blocks of a dynamic image go to vhd_discard()
 * as they are: it clears their bitmap and punches their data. Elsewhere
 * only what is stored is discarded, because vhd_discard() writes zeros over
 * partial blocks (and, in a differencing image, over whatever does not read
 * zero, to hide the parent), and skipping the stretches nothing stores
 * saves even reading them: in a dynamic image those are the clear bits of
 * this layer, in a differencing one the stretches no layer of the chain
 * holds.
 */
static int discard_range(struct vhd_fuse *f, uint64_t off, uint64_t len)
{
	uint32_t type = vhd_footer(f->v)->type, bs = vhd_block_size(f->v);

	if (type == VHD_TYPE_FIXED)
		return vhd_discard(f->v, off, len);
	while (len) {
		uint64_t in = off % bs, n = bs - in < len ? bs - in : len;
		int r;

		if (type == VHD_TYPE_DYNAMIC && in == 0 && n == bs) {
			r = vhd_discard(f->v, off, n);
		} else {
			uint64_t k = 0;

			r = type == VHD_TYPE_DYNAMIC ? vhd_layer_status(f->v, off, n, &k)
						     : vhd_block_status(f->v, off, n, &k);
			if (r >= 0 && (k == 0 || k > n))
				r = -EIO;
			if (r == 1)
				r = vhd_discard(f->v, off, k);
			n = k;
		}
		if (r < 0)
			return r;
		off += n;
		len -= n;
	}
	return 0;
}

/*
 * The loop device turns discards into PUNCH_HOLE and write-zeroes into
 * ZERO_RANGE or PUNCH_HOLE; both must read back as zeros, which
 * vhd_discard() promises. Every mode the kernel may send is answered,
 * because one -EOPNOTSUPP makes the loop device stop advertising discard
 * (and -ENOSYS makes FUSE stop calling fallocate at all).
 */
static int op_fallocate(const char *path, int mode, off_t off, off_t len, struct fuse_file_info *fi)
{
	struct vhd_fuse *f = self();
	uint64_t size = vhd_size(f->v), end;
	int r;

	(void)path;
	(void)fi;
	if (f->read_only)
		return -EROFS;
	if (mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE))
		return -EOPNOTSUPP;
	if (off < 0 || len <= 0 || __builtin_add_overflow((uint64_t)off, (uint64_t)len, &end))
		return -EINVAL;
	if (!(mode & FALLOC_FL_KEEP_SIZE) && end > size)
		return -EFBIG;
	if (end > size)
		end = size;
	/* Plain allocation: blocks are allocated when written; nothing to do. */
	if (!(mode & (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE)) || (uint64_t)off >= end)
		return 0;
	r = discard_range(f, (uint64_t)off, end - (uint64_t)off);
	return r < 0 ? io_error(f, "discard", r, (uint64_t)off, end - (uint64_t)off) : 0;
}

static int op_statfs(const char *path, struct statvfs *st)
{
	struct vhd_fuse *f = self();

	(void)path;
	memset(st, 0, sizeof(*st));
	/* The loop device takes f_bsize as its discard granularity. */
	st->f_bsize = BLOCK_SIZE;
	st->f_frsize = BLOCK_SIZE;
	st->f_blocks = vhd_size(f->v) / BLOCK_SIZE;
	st->f_files = 1;
	st->f_namemax = 255;
	return 0;
}

static const struct fuse_operations ops = {
	.init = op_init,
	.getattr = op_getattr,
	.readdir = op_readdir,
	.open = op_open,
	.truncate = op_truncate,
	.read = op_read,
	.write = op_write,
	.flush = op_flush,
	.fsync = op_fsync,
	.fallocate = op_fallocate,
	.statfs = op_statfs,
};

int vhd_fuse_new(struct vhd_fuse **ret, struct vhd *v, const char *dir, bool read_only)
{
	char *argv[] = { "vhd", "-o",
			 read_only ? "fsname=vhd,subtype=vhd,ro" : "fsname=vhd,subtype=vhd", NULL };
	struct fuse_args args = FUSE_ARGS_INIT(3, argv);
	struct vhd_fuse *f;

	f = calloc(1, sizeof(*f));
	if (!f) {
		vhd_free(v);
		return -ENOMEM;
	}
	f->v = v;
	f->read_only = read_only;
	f->fuse = fuse_new(&args, &ops, sizeof(ops), f);
	fuse_opt_free_args(&args);
	if (!f->fuse || fuse_mount(f->fuse, dir) != 0) {
		vhd_fuse_free(f);
		return -EIO;
	}
	f->mounted = true;
	*ret = f;
	return 0;
}

int vhd_fuse_run(struct vhd_fuse *f)
{
	struct fuse_session *se = fuse_get_session(f->fuse);
	bool handlers = fuse_set_signal_handlers(se) == 0;
	int r;

	r = fuse_loop(f->fuse);
	if (r < 0)
		log_warn_errno(r, "image '%s': serving stopped", vhd_path(f->v));
	if (handlers)
		fuse_remove_signal_handlers(se);
	if (f->read_only)
		return 0;
	r = vhd_flush(f->v);
	if (r < 0)
		log_error_errno(r, "image '%s': final flush failed", vhd_path(f->v));
	return r;
}

void vhd_fuse_free(struct vhd_fuse *f)
{
	if (!f)
		return;
	if (f->fuse) {
		if (f->mounted)
			fuse_unmount(f->fuse);
		fuse_destroy(f->fuse);
	}
	if (!f->read_only)
		(void)vhd_flush(f->v);
	vhd_free(f->v);
	free(f);
}

/* SPDX-License-Identifier: MIT */
/*
 * I/O providers for the VHD library (see vhd_io.h): the POSIX one over
 * open(2)/pread(2)/pwrite(2), which also sizes block devices for the
 * "linked disk" conversion, and the in-memory one the unit tests and the
 * fuzz target use. Also the pure path helpers used to resolve parent
 * locators. Called by vhd.c and the operation modules.
 */
#include "vhd-attach/vhd_io.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

/* ---- path helpers ---- */

size_t vhd_path_normalize(char *path)
{
	size_t start = path[0] == '/' ? 1 : 0;
	char *out = path + start;
	const char *p = path + start;

	/* 'out' never passes 'p', so components move left in place. */
	while (*p) {
		size_t n = strcspn(p, "/");
		bool last = p[n] == '\0';

		if (n == 0 || (n == 1 && p[0] == '.')) {
			/* an empty or "." component */
		} else if (n == 2 && p[0] == '.' && p[1] == '.') {
			if (out > path + start) {
				out--;
				while (out > path + start && out[-1] != '/')
					out--;
			}
		} else {
			memmove(out, p, n);
			out += n;
			*out++ = '/';
		}
		if (last)
			break;
		p += n + 1;
	}
	if (out > path + start)
		out--; /* the trailing slash */
	*out = '\0';
	if (out == path) {
		strcpy(path, ".");
		return 1;
	}
	return (size_t)(out - path);
}

int vhd_path_dirname(const char *path, char *out, size_t cap)
{
	const char *slash = strrchr(path, '/');
	size_t n;

	if (!slash)
		return snprintf(out, cap, ".") >= (int)cap ? -EMSGSIZE : 1;
	n = slash == path ? 1 : (size_t)(slash - path);
	if (n + 1 > cap)
		return -EMSGSIZE;
	memcpy(out, path, n);
	out[n] = '\0';
	return (int)n;
}

int vhd_path_join(const char *dir, const char *rel, char *out, size_t cap)
{
	int n;

	if (rel[0] == '/')
		n = snprintf(out, cap, "%s", rel);
	else
		n = snprintf(out, cap, "%s/%s", dir, rel);
	if (n < 0 || (size_t)n >= cap)
		return -EMSGSIZE;
	return n;
}

const char *vhd_path_basename(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

int vhd_path_relative(const char *from_dir, const char *target, char *out, size_t cap)
{
	size_t common = 0, i = 0, n = 0;
	const char *rest;

	/* The longest common prefix ending at a component boundary. */
	while (from_dir[i] && target[i] && from_dir[i] == target[i]) {
		i++;
		if (from_dir[i] == '\0' && (target[i] == '/' || target[i] == '\0'))
			common = i;
		else if (from_dir[i] == '/' && target[i] == '/')
			common = i;
	}
	if (strcmp(from_dir, "/") == 0)
		common = 0;
	rest = target + common;
	while (*rest == '/')
		rest++;
	if (n + 2 > cap)
		return -EMSGSIZE;
	/* One ".." per component of 'from_dir' past the common prefix. */
	for (const char *p = from_dir + common; *p;) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		if (n + 3 >= cap)
			return -EMSGSIZE;
		memcpy(out + n, "../", 3);
		n += 3;
		while (*p && *p != '/')
			p++;
	}
	if (n == 0) {
		memcpy(out, "./", 2);
		n = 2;
	}
	if (n + strlen(rest) + 1 > cap)
		return -EMSGSIZE;
	strcpy(out + n, rest);
	return (int)(n + strlen(rest));
}

/* ---- POSIX provider ---- */

struct posix_file {
	int fd;
};

static int posix_open(void *fs, const char *path, unsigned flags, void **ret_f)
{
	struct posix_file *pf;
	int oflags = O_CLOEXEC | ((flags & VHD_IO_RDWR) ? O_RDWR : O_RDONLY);

	(void)fs;
	if (flags & VHD_IO_CREATE)
		oflags |= O_CREAT | O_EXCL | O_RDWR;
	pf = malloc(sizeof(*pf));
	if (!pf)
		return -ENOMEM;
	pf->fd = open(path, oflags, 0644);
	if (pf->fd < 0) {
		int r = -errno;

		free(pf);
		return r;
	}
	*ret_f = pf;
	return 0;
}

static void posix_close(void *f)
{
	struct posix_file *pf = f;

	if (!pf)
		return;
	(void)close(pf->fd);
	free(pf);
}

static int64_t posix_pread(void *f, void *buf, size_t len, uint64_t off)
{
	struct posix_file *pf = f;
	size_t done = 0;

	while (done < len) {
		ssize_t n = pread(pf->fd, (char *)buf + done, len - done, (off_t)(off + done));

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		done += (size_t)n;
	}
	return (int64_t)done;
}

static int posix_pwrite(void *f, const void *buf, size_t len, uint64_t off)
{
	struct posix_file *pf = f;
	size_t done = 0;

	while (done < len) {
		ssize_t n =
			pwrite(pf->fd, (const char *)buf + done, len - done, (off_t)(off + done));

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		done += (size_t)n;
	}
	return 0;
}

static int posix_stat(void *f, struct vhd_io_stat *ret)
{
	struct posix_file *pf = f;
	struct stat st;

	if (fstat(pf->fd, &st) < 0)
		return -errno;
	ret->dev = st.st_dev;
	ret->ino = st.st_ino;
	ret->mtime = st.st_mtime;
	ret->size = (uint64_t)st.st_size;
	ret->is_blockdev = S_ISBLK(st.st_mode);
	if (ret->is_blockdev) {
		uint64_t bytes;

		if (ioctl(pf->fd, BLKGETSIZE64, &bytes) < 0)
			return -errno;
		ret->size = bytes;
	}
	return 0;
}

static int posix_truncate(void *f, uint64_t size)
{
	struct posix_file *pf = f;

	return ftruncate(pf->fd, (off_t)size) < 0 ? -errno : 0;
}

static int posix_sync(void *f)
{
	struct posix_file *pf = f;

	return fdatasync(pf->fd) < 0 ? -errno : 0;
}

static int posix_punch(void *f, uint64_t off, uint64_t len)
{
	struct posix_file *pf = f;

	if (fallocate(pf->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len) <
	    0)
		return -errno;
	return 0;
}

static int posix_rename(void *fs, const char *from, const char *to)
{
	(void)fs;
	return rename(from, to) < 0 ? -errno : 0;
}

static int posix_unlink(void *fs, const char *path)
{
	(void)fs;
	return unlink(path) < 0 ? -errno : 0;
}

static int posix_exists(void *fs, const char *path)
{
	(void)fs;
	if (access(path, F_OK) == 0)
		return 1;
	return errno == ENOENT ? 0 : -errno;
}

static int posix_free_space(void *fs, const char *path, uint64_t *ret)
{
	char dir[PATH_MAX];
	struct statvfs sv;

	(void)fs;
	if (vhd_path_dirname(path, dir, sizeof(dir)) < 0)
		return -ENAMETOOLONG;
	if (statvfs(dir, &sv) < 0)
		return -errno;
	*ret = (uint64_t)sv.f_bavail * sv.f_frsize;
	return 0;
}

static int posix_abspath(void *fs, const char *path, char *out, size_t cap)
{
	char cwd[PATH_MAX];
	int n;

	(void)fs;
	if (path[0] == '/') {
		n = snprintf(out, cap, "%s", path);
	} else {
		if (!getcwd(cwd, sizeof(cwd)))
			return -errno;
		n = snprintf(out, cap, "%s/%s", cwd, path);
	}
	if (n < 0 || (size_t)n >= cap)
		return -ENAMETOOLONG;
	return (int)vhd_path_normalize(out);
}

static int posix_list_dir(void *fs, const char *dir, int (*fn)(void *ctx, const char *name),
			  void *ctx)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int r = 0;

	(void)fs;
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		r = fn(ctx, de->d_name);
		if (r)
			break;
	}
	closedir(d);
	return r < 0 ? r : 0;
}

const struct vhd_io_ops vhd_io_posix = {
	.open = posix_open,
	.close = posix_close,
	.pread = posix_pread,
	.pwrite = posix_pwrite,
	.stat = posix_stat,
	.truncate = posix_truncate,
	.sync = posix_sync,
	.punch = posix_punch,
	.rename = posix_rename,
	.unlink = posix_unlink,
	.exists = posix_exists,
	.free_space = posix_free_space,
	.abspath = posix_abspath,
	.list_dir = posix_list_dir,
};

/* ---- in-memory provider ---- */

#define MEMFS_MAX_FILES 64
#define MEMFS_MAX_SIZE	(1ull << 32) /* keeps a fuzzed image from eating memory */

struct mem_node {
	char *path;    /* absolute, owned */
	uint8_t *data; /* owned */
	size_t len;    /* bytes */
	size_t cap;    /* bytes allocated */
	int64_t mtime; /* Unix seconds */
	uint64_t ino;  /* unique per node */
	unsigned n_open;
};

struct vhd_memfs {
	struct mem_node *nodes[MEMFS_MAX_FILES];
	uint64_t next_ino;
	uint64_t free_bytes;
};

struct mem_file {
	struct vhd_memfs *fs;  /* borrowed */
	struct mem_node *node; /* borrowed from fs */
	bool writable;
};

int vhd_memfs_new(struct vhd_memfs **ret)
{
	struct vhd_memfs *fs = calloc(1, sizeof(*fs));

	if (!fs)
		return -ENOMEM;
	fs->next_ino = 1;
	fs->free_bytes = UINT64_MAX;
	*ret = fs;
	return 0;
}

static void node_free(struct mem_node *n)
{
	if (!n)
		return;
	free(n->path);
	free(n->data);
	free(n);
}

void vhd_memfs_free(struct vhd_memfs *fs)
{
	if (!fs)
		return;
	for (int i = 0; i < MEMFS_MAX_FILES; i++)
		node_free(fs->nodes[i]);
	free(fs);
}

static int mem_norm(const char *path, char *out, size_t cap)
{
	int n = snprintf(out, cap, "%s%s", path[0] == '/' ? "" : "/", path);

	if (n < 0 || (size_t)n >= cap)
		return -ENAMETOOLONG;
	return (int)vhd_path_normalize(out);
}

static int mem_find(struct vhd_memfs *fs, const char *path)
{
	char norm[PATH_MAX];

	if (mem_norm(path, norm, sizeof(norm)) < 0)
		return -ENAMETOOLONG;
	for (int i = 0; i < MEMFS_MAX_FILES; i++)
		if (fs->nodes[i] && !strcmp(fs->nodes[i]->path, norm))
			return i;
	return -ENOENT;
}

static int mem_add(struct vhd_memfs *fs, const char *path, struct mem_node **ret)
{
	char norm[PATH_MAX];
	struct mem_node *n;
	int slot = -1;

	if (mem_norm(path, norm, sizeof(norm)) < 0)
		return -ENAMETOOLONG;
	for (int i = 0; i < MEMFS_MAX_FILES && slot < 0; i++)
		if (!fs->nodes[i])
			slot = i;
	if (slot < 0)
		return -ENOSPC;
	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->path = strdup(norm);
	if (!n->path) {
		free(n);
		return -ENOMEM;
	}
	n->ino = fs->next_ino++;
	n->mtime = 1000000000;
	fs->nodes[slot] = n;
	*ret = n;
	return 0;
}

static int node_reserve(struct mem_node *n, uint64_t len)
{
	uint8_t *p;
	size_t cap;

	if (len <= n->cap)
		return 0;
	if (len > MEMFS_MAX_SIZE)
		return -EFBIG;
	cap = n->cap ? n->cap : 4096;
	while (cap < len)
		cap *= 2;
	p = realloc(n->data, cap);
	if (!p)
		return -ENOMEM;
	memset(p + n->cap, 0, cap - n->cap);
	n->data = p;
	n->cap = cap;
	return 0;
}

int vhd_memfs_put(struct vhd_memfs *fs, const char *path, const void *data, size_t len)
{
	struct mem_node *n;
	int i = mem_find(fs, path);
	int r;

	if (i >= 0) {
		n = fs->nodes[i];
	} else {
		r = mem_add(fs, path, &n);
		if (r < 0)
			return r;
	}
	r = node_reserve(n, len);
	if (r < 0)
		return r;
	if (len)
		memcpy(n->data, data, len);
	if (n->len > len)
		memset(n->data + len, 0, n->len - len);
	n->len = len;
	return 0;
}

const uint8_t *vhd_memfs_get(struct vhd_memfs *fs, const char *path, size_t *ret_len)
{
	int i = mem_find(fs, path);

	if (i < 0)
		return NULL;
	*ret_len = fs->nodes[i]->len;
	return fs->nodes[i]->data ? fs->nodes[i]->data : (const uint8_t *)"";
}

int vhd_memfs_set_mtime(struct vhd_memfs *fs, const char *path, int64_t mtime)
{
	int i = mem_find(fs, path);

	if (i < 0)
		return i;
	fs->nodes[i]->mtime = mtime;
	return 0;
}

void vhd_memfs_set_free(struct vhd_memfs *fs, uint64_t bytes)
{
	fs->free_bytes = bytes;
}

static int mem_open(void *fsp, const char *path, unsigned flags, void **ret_f)
{
	struct vhd_memfs *fs = fsp;
	struct mem_file *mf;
	struct mem_node *n;
	int i = mem_find(fs, path);
	int r;

	if (i >= 0 && (flags & VHD_IO_CREATE))
		return -EEXIST;
	if (i < 0 && !(flags & VHD_IO_CREATE))
		return i;
	mf = calloc(1, sizeof(*mf));
	if (!mf)
		return -ENOMEM;
	if (i < 0) {
		r = mem_add(fs, path, &n);
		if (r < 0) {
			free(mf);
			return r;
		}
	} else {
		n = fs->nodes[i];
	}
	n->n_open++;
	mf->fs = fs;
	mf->node = n;
	mf->writable = flags & (VHD_IO_RDWR | VHD_IO_CREATE);
	*ret_f = mf;
	return 0;
}

static void mem_close(void *f)
{
	struct mem_file *mf = f;

	if (!mf)
		return;
	mf->node->n_open--;
	free(mf);
}

static int64_t mem_pread(void *f, void *buf, size_t len, uint64_t off)
{
	struct mem_file *mf = f;
	size_t n;

	if (off >= mf->node->len)
		return 0;
	n = mf->node->len - off < len ? mf->node->len - off : len;
	memcpy(buf, mf->node->data + off, n);
	return (int64_t)n;
}

static int mem_pwrite(void *f, const void *buf, size_t len, uint64_t off)
{
	struct mem_file *mf = f;
	int r;

	if (!mf->writable)
		return -EBADF;
	if (off + len < off)
		return -EFBIG;
	r = node_reserve(mf->node, off + len);
	if (r < 0)
		return r;
	memcpy(mf->node->data + off, buf, len);
	if (off + len > mf->node->len)
		mf->node->len = off + len;
	return 0;
}

static int mem_stat(void *f, struct vhd_io_stat *ret)
{
	struct mem_file *mf = f;

	ret->dev = 1;
	ret->ino = mf->node->ino;
	ret->mtime = mf->node->mtime;
	ret->size = mf->node->len;
	ret->is_blockdev = 0;
	return 0;
}

static int mem_truncate(void *f, uint64_t size)
{
	struct mem_file *mf = f;
	int r;

	if (!mf->writable)
		return -EBADF;
	r = node_reserve(mf->node, size);
	if (r < 0)
		return r;
	if (size < mf->node->len)
		memset(mf->node->data + size, 0, mf->node->len - size);
	mf->node->len = size;
	return 0;
}

static int mem_sync(void *f)
{
	(void)f;
	return 0;
}

static int mem_punch(void *f, uint64_t off, uint64_t len)
{
	struct mem_file *mf = f;

	if (off >= mf->node->len)
		return 0;
	if (len > mf->node->len - off)
		len = mf->node->len - off;
	memset(mf->node->data + off, 0, len);
	return 0;
}

static int mem_rename(void *fsp, const char *from, const char *to)
{
	struct vhd_memfs *fs = fsp;
	char norm[PATH_MAX];
	int i = mem_find(fs, from), j;
	char *p;

	if (i < 0)
		return i;
	if (mem_norm(to, norm, sizeof(norm)) < 0)
		return -ENAMETOOLONG;
	p = strdup(norm);
	if (!p)
		return -ENOMEM;
	j = mem_find(fs, to);
	if (j >= 0 && j != i) {
		node_free(fs->nodes[j]);
		fs->nodes[j] = NULL;
	}
	free(fs->nodes[i]->path);
	fs->nodes[i]->path = p;
	return 0;
}

static int mem_unlink(void *fsp, const char *path)
{
	struct vhd_memfs *fs = fsp;
	int i = mem_find(fs, path);

	if (i < 0)
		return i;
	if (fs->nodes[i]->n_open)
		return -EBUSY;
	node_free(fs->nodes[i]);
	fs->nodes[i] = NULL;
	return 0;
}

static int mem_exists(void *fsp, const char *path)
{
	return mem_find(fsp, path) >= 0;
}

static int mem_free_space(void *fsp, const char *path, uint64_t *ret)
{
	struct vhd_memfs *fs = fsp;

	(void)path;
	*ret = fs->free_bytes;
	return 0;
}

static int mem_abspath(void *fs, const char *path, char *out, size_t cap)
{
	(void)fs;
	return mem_norm(path, out, cap);
}

static int mem_list_dir(void *fsp, const char *dir, int (*fn)(void *ctx, const char *name),
			void *ctx)
{
	struct vhd_memfs *fs = fsp;
	char norm[PATH_MAX];
	size_t n;
	int r;

	if (mem_norm(dir, norm, sizeof(norm)) < 0)
		return -ENAMETOOLONG;
	n = strlen(norm);
	for (int i = 0; i < MEMFS_MAX_FILES; i++) {
		const char *p;

		if (!fs->nodes[i])
			continue;
		p = fs->nodes[i]->path;
		if (strncmp(p, norm, n) || (n > 1 && p[n] != '/'))
			continue;
		p += n > 1 ? n + 1 : 1;
		if (strchr(p, '/'))
			continue;
		r = fn(ctx, p);
		if (r)
			return r < 0 ? r : 0;
	}
	return 0;
}

const struct vhd_io_ops vhd_io_mem = {
	.open = mem_open,
	.close = mem_close,
	.pread = mem_pread,
	.pwrite = mem_pwrite,
	.stat = mem_stat,
	.truncate = mem_truncate,
	.sync = mem_sync,
	.punch = mem_punch,
	.rename = mem_rename,
	.unlink = mem_unlink,
	.exists = mem_exists,
	.free_space = mem_free_space,
	.abspath = mem_abspath,
	.list_dir = mem_list_dir,
};

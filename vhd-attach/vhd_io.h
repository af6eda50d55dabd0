/* SPDX-License-Identifier: MIT */
/*
 * The small I/O ops table every image access goes through (STYLE.md §4): a
 * "file system" that opens files by path, and pread/pwrite/size/truncate/sync
 * on the files it opened. Two providers live here: the POSIX one (files and
 * block devices, used by the tool and by later FUSE/NBD front ends) and an
 * in-memory one (named buffers, used by the unit tests and the fuzz target).
 * Called by vhd.c and the operation modules; calls libc only.
 */
#ifndef VSWITCH_VHD_IO_H
#define VSWITCH_VHD_IO_H

#include <stddef.h>
#include <stdint.h>

/* vhd_io_ops.open flags */
#define VHD_IO_RDWR   0x1u /* open for writing too */
#define VHD_IO_CREATE 0x2u /* create; fails with -EEXIST if the file exists */

struct vhd_io_stat {
	uint64_t dev, ino; /* identity of the file (cycle detection) */
	int64_t mtime;	   /* Unix seconds */
	uint64_t size;	   /* bytes (block devices: the device size) */
	int is_blockdev;   /* 1 for a block device */
};

/*
 * One provider. 'fs' is the provider's context, 'f' a file it opened. All
 * members return 0 (or a byte count where stated) or a negative errno.
 */
struct vhd_io_ops {
	/* Opens 'path' (borrowed) with VHD_IO_* 'flags'; '*ret_f' is closed by close(). */
	int (*open)(void *fs, const char *path, unsigned flags, void **ret_f);
	void (*close)(void *f);
	/* Reads up to 'len' bytes at 'off'; returns bytes read, short only at end of file. */
	int64_t (*pread)(void *f, void *buf, size_t len, uint64_t off);
	/* Writes all 'len' bytes at 'off', growing the file as needed; returns 0. */
	int (*pwrite)(void *f, const void *buf, size_t len, uint64_t off);
	int (*stat)(void *f, struct vhd_io_stat *ret);
	int (*truncate)(void *f, uint64_t size);
	/* Makes everything written so far durable. */
	int (*sync)(void *f);
	/* Gives back the storage of 'len' bytes at 'off' (they then read as zero); optional. */
	int (*punch)(void *f, uint64_t off, uint64_t len);
	/* Namespace operations on paths (borrowed). */
	int (*rename)(void *fs, const char *from, const char *to);
	int (*unlink)(void *fs, const char *path);
	int (*exists)(void *fs, const char *path); /* 1, 0, or -errno */
	/* Free bytes in the file system holding 'path'. */
	int (*free_space)(void *fs, const char *path, uint64_t *ret);
	/* Absolute, normalised form of 'path' into 'out' ('cap' bytes). */
	int (*abspath)(void *fs, const char *path, char *out, size_t cap);
	/* Calls 'fn' for each entry name in the directory 'dir'; stops on a non-zero return. */
	int (*list_dir)(void *fs, const char *dir, int (*fn)(void *ctx, const char *name),
			void *ctx);
};

/* The POSIX provider; its 'fs' context is unused (pass NULL). */
extern const struct vhd_io_ops vhd_io_posix;

/*
 * The in-memory provider: a flat set of named buffers. Paths are plain
 * strings; abspath() prefixes '/' to relative ones and folds "." and "..".
 */
struct vhd_memfs;
extern const struct vhd_io_ops vhd_io_mem;

/* Makes an empty in-memory file system in '*ret'. Returns 0 or -ENOMEM. */
int vhd_memfs_new(struct vhd_memfs **ret);

/* Frees 'fs' and every file in it; files must be closed. Accepts NULL. */
void vhd_memfs_free(struct vhd_memfs *fs);

/* Adds (or replaces) file 'path' with a copy of 'len' bytes at 'data'. 0 or -ENOMEM. */
int vhd_memfs_put(struct vhd_memfs *fs, const char *path, const void *data, size_t len);

/* Borrows the bytes of 'path' (valid until the next write); NULL if absent. */
const uint8_t *vhd_memfs_get(struct vhd_memfs *fs, const char *path, size_t *ret_len);

/* Sets the modification time reported for 'path'; 0 or -ENOENT. */
int vhd_memfs_set_mtime(struct vhd_memfs *fs, const char *path, int64_t mtime);

/* Sets the free space the provider reports (default: unlimited). */
void vhd_memfs_set_free(struct vhd_memfs *fs, uint64_t bytes);

/* Pure path helpers shared by the providers and the parent lookup. */

/* Folds "//", "." and ".." of the absolute 'path' in place; returns its new length. */
size_t vhd_path_normalize(char *path);

/* Writes the directory part of 'path' ("." if none) to 'out'; length or -EMSGSIZE. */
int vhd_path_dirname(const char *path, char *out, size_t cap);

/* Writes 'dir'/'rel' (or 'rel' if absolute) to 'out'; length or -EMSGSIZE. */
int vhd_path_join(const char *dir, const char *rel, char *out, size_t cap);

/*
 * Writes the path of the absolute 'target' relative to the absolute directory
 * 'from_dir' to 'out', always starting with "./" or "../". Length or -EMSGSIZE.
 */
int vhd_path_relative(const char *from_dir, const char *target, char *out, size_t cap);

/* The last component of 'path' (borrowed from it). */
const char *vhd_path_basename(const char *path);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * Whole-image operations built on libvhd (vhd.h): conversion between raw
 * files/devices and fixed/dynamic images, merging a child into its parent or
 * a resolved chain into a new image, compaction, and undo disks. Called by
 * the `vhd` tool (and later by the disk sets of profiles); calls vhd.c and
 * the vhd_io_ops provider. Each reports failure as a negative errno and one
 * line in 'err' (VHD_ERR_LEN bytes, may be NULL).
 */
#ifndef VSWITCH_VHD_OPS_H
#define VSWITCH_VHD_OPS_H

#include <stdbool.h>
#include <stdint.h>

#include "vhd-attach/vhd_fmt.h"

struct vhd_io_ops;

/* Output kinds of a conversion. */
enum vhd_out {
	VHD_OUT_RAW,
	VHD_OUT_FIXED,
	VHD_OUT_DYNAMIC,
};

/* Input kinds of a conversion. */
enum vhd_in {
	VHD_IN_AUTO, /* a VHD if it has a valid footer, else raw */
	VHD_IN_RAW,  /* a raw file or block device ("linked disk") */
	VHD_IN_VHD,
};

struct vhd_ops_opts {
	const struct vhd_io_ops *io; /* NULL: POSIX */
	void *fs;
	unsigned open_flags; /* VHD_OPEN_LENIENT etc. for the source */
	enum vhd_size_mode size_mode;
	uint32_t block_size; /* dynamic output; 0: 2 MiB */
	bool force;	     /* merge: go on although other children are known */
	bool delete_child;   /* merge: remove the child once merged */
	/* Progress: 'done' of 'total' bytes; called from time to time, may be NULL. */
	void (*progress)(void *ctx, uint64_t done, uint64_t total);
	void *ctx;
	char *err; /* VHD_ERR_LEN bytes or NULL */
};

/*
 * Converts 'src' (a raw file, a block device, or a VHD with its chain) into
 * a new 'dst' (must not exist) of kind 'out'. All-zero blocks are skipped:
 * not allocated in a dynamic output, left as holes in raw and fixed ones.
 * The new image gets a new unique id. On failure 'dst' is removed.
 * Returns 0, -EEXIST, -EBADMSG/-ENOENT/... from opening 'src', or an I/O error.
 */
int vhd_convert(const char *src, enum vhd_in in, const char *dst, enum vhd_out out,
		const struct vhd_ops_opts *o);

/*
 * Merges the differencing image 'child' into its parent through the
 * parent's own write path (only sectors the child holds are copied). Refuses
 * with -EBUSY when other images known in the folders of the child and the
 * parent name the parent (they would silently change) or, with
 * 'delete_child', name the child (they would lose their parent), unless
 * 'force'. A kept child stays valid: its view is unchanged. Returns 0, -EINVAL (not a
 * differencing image, or larger than its parent), -EBUSY, -EROFS (parent
 * damaged or in a saved state), or an I/O error.
 */
int vhd_merge(const char *child, const struct vhd_ops_opts *o);

/*
 * Compacts the dynamic or differencing image 'path': writes a new file
 * beside it without all-zero blocks (in a differencing image only where the
 * parent also reads zero there), with the same unique id, parent link and
 * footer, then renames it over the original. Checks free space first, so a
 * failure leaves the original untouched. '*ret_dropped' (may be NULL) gets
 * the number of blocks dropped. Returns 0, -EINVAL (fixed), -EROFS (saved
 * state), -ENOSPC, or an I/O error.
 */
int vhd_compact(const char *path, const struct vhd_ops_opts *o, uint32_t *ret_dropped);

/* Undo disks: 'image' gets a differencing child "<image>.vud" beside it. */
enum vhd_undo_op {
	VHD_UNDO_ENABLE,  /* create the .vud (must not exist) */
	VHD_UNDO_COMMIT,  /* merge the .vud into the image, start a fresh .vud */
	VHD_UNDO_DISCARD, /* drop the .vud's changes, start a fresh .vud */
	VHD_UNDO_KEEP,	  /* keep the changes for the next session (checks the link) */
	VHD_UNDO_DISABLE, /* remove an empty .vud; -ENOTEMPTY if it holds changes */
};

/* Writes the undo disk path of 'image' into 'out' ('cap' bytes). 0 or -ENAMETOOLONG. */
int vhd_undo_path(const char *image, char *out, size_t cap);

/*
 * Runs 'op' on the undo disk of 'image'. Returns 0, -EEXIST (enable twice),
 * -ENOENT (no undo disk), -EXDEV (the .vud belongs to another image),
 * -ENOTEMPTY, or as vhd_merge()/vhd_create().
 */
int vhd_undo(const char *image, enum vhd_undo_op op, const struct vhd_ops_opts *o);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * The disk set of one machine of a network profile ([vm] sections): its
 * images, the per-VM child disks made from them, and the NBD export that
 * serves them to the VM while it is up. vswitchd calls this for `vswitchctl
 * vm up|down|list`; it runs `vhd export` as a child process and uses the
 * VHD library for children, commits and discards. No network part is used.
 *
 * Disk modes (DESIGN.md §4, Virtual Server's disk modes):
 *   direct        the images themselves are served, writable
 *   differencing  each image is the read-only parent of a differencing disk
 *                 "VM.STEM.diff.vhd" in 'dir' that keeps the VM's writes
 *                 from one run to the next
 *   undo          as differencing, into "VM.STEM.undo.vhd"; at the end the
 *                 changes are kept for the next run, committed into the
 *                 image, or discarded
 * STEM is the image's file name without ".vhd", so `ls` shows which base a
 * child belongs to.
 */
#ifndef VSWITCH_VHD_DISKSET_H
#define VSWITCH_VHD_DISKSET_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define VHD_DISKSET_DISKS_MAX 8 /* = PROFILE_DISKS_MAX */

struct vhd_diskset;

enum vhd_diskset_mode {
	VHD_DISKSET_DIRECT,
	VHD_DISKSET_DIFFERENCING,
	VHD_DISKSET_UNDO,
};

/* What happens to undo disks when the set goes down. */
enum vhd_diskset_end {
	VHD_DISKSET_KEEP,    /* keep the changes for the next run */
	VHD_DISKSET_COMMIT,  /* merge them into the images */
	VHD_DISKSET_DISCARD, /* drop them */
};

struct vhd_diskset_conf {
	const char *vm;		  /* borrowed; the machine's name, first part of child names */
	const char *dir;	  /* borrowed; folder of the children (the profile's) */
	const char *const *disks; /* borrowed; image paths as written, 'n_disks' of them */
	size_t n_disks;		  /* 1..VHD_DISKSET_DISKS_MAX */
	enum vhd_diskset_mode mode;
	const char *tool;   /* borrowed; the `vhd` executable that serves the export */
	const char *socket; /* borrowed; the NBD unix socket to serve on */
};

/*
 * Writes the path of the disk that the VM uses for image 'i' of 'c' into
 * 'out' ('cap' bytes): the image itself (direct), or its child in 'dir'.
 * Pure. Returns 0, -EINVAL, or -ENAMETOOLONG.
 */
int vhd_diskset_disk_path(const struct vhd_diskset_conf *c, size_t i, char *out, size_t cap);

/* The export name of image 'i': "disk0", "disk1", ... */
const char *vhd_diskset_export_name(size_t i);

/*
 * Brings the set up: creates the children that do not exist yet (an
 * existing one must name its image as parent), then starts 'tool export'
 * on 'socket' with every disk writable and waits until it accepts
 * connections. On failure nothing it created is left and one line is in
 * 'err' (VHD_ERR_LEN bytes). Sets '*ret' and returns 0, or -errno: -ENOENT
 * (an image is missing), -EXDEV (a child belongs to another image),
 * -ETIMEDOUT (the export did not come up), or as vhd_create().
 */
int vhd_diskset_up(struct vhd_diskset **ret, const struct vhd_diskset_conf *c, char *err);

/*
 * Stops the export (SIGTERM, then SIGKILL after 5 s), applies 'end' to undo
 * disks (-EINVAL for COMMIT or DISCARD in another mode, checked before
 * anything stops) and frees 's'. Returns 0 or -errno with one line in 'err';
 * the set is freed whenever the result is not -EINVAL.
 */
int vhd_diskset_down(struct vhd_diskset *s, enum vhd_diskset_end end, char *err);

/* The export process, and whether it is still running (it may have died). */
pid_t vhd_diskset_pid(const struct vhd_diskset *s);
bool vhd_diskset_alive(struct vhd_diskset *s);

#endif

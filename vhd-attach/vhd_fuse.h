/* SPDX-License-Identifier: MIT */
/*
 * The FUSE server of one image: a filesystem with a single regular file,
 * VHD_FUSE_FILE, whose bytes are the virtual disk of an opened 'struct vhd'
 * (libfuse3, high-level API, one thread). Reads and writes go to
 * vhd_pread()/vhd_pwrite(), fsync and close to vhd_flush(), and
 * fallocate(PUNCH_HOLE or ZERO_RANGE) to vhd_discard(), so a loop device
 * over the file advertises discard and `fstrim` gives whole blocks back.
 * Called by the mount process of vhd_mount_tool.c; calls libvhd and libfuse.
 */
#ifndef VSWITCH_VHD_FUSE_H
#define VSWITCH_VHD_FUSE_H

#include <stdbool.h>

struct vhd;
struct vhd_fuse;

#define VHD_FUSE_FILE "disk" /* the name of the served file */

/*
 * Mounts a FUSE filesystem on the folder 'dir' (borrowed) that serves 'v'
 * as VHD_FUSE_FILE, read-only when 'read_only' (then 'v' may be open
 * read-only). 'v' is transferred: it belongs to '*ret' from the call on,
 * even when it fails (it is then freed). Returns 0, -ENOMEM, or -EIO when
 * libfuse cannot mount (it says why on stderr).
 */
int vhd_fuse_new(struct vhd_fuse **ret, struct vhd *v, const char *dir, bool read_only);

/*
 * Serves requests until the filesystem is unmounted or SIGTERM, SIGINT or
 * SIGHUP arrives, then flushes the image. Returns 0, or the flush error.
 */
int vhd_fuse_run(struct vhd_fuse *f);

/*
 * Unmounts the filesystem if it is still mounted, flushes and closes the
 * image, and frees 'f'. Accepts NULL.
 */
void vhd_fuse_free(struct vhd_fuse *f);

#endif

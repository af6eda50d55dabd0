/* SPDX-License-Identifier: MIT */
/*
 * Attaching a served disk file to the host: loop devices (ioctls on
 * /dev/loop-control and /dev/loopN), the partition table and filesystems
 * found with libblkid, mount(2)/umount2(2), and the registry of attachments
 * under the run folder (one folder per attachment holding a small text state
 * file), so that `vhd mount --list` and `vhd unmount` in other invocations
 * find what an earlier `vhd mount` set up. Called by vhd_mount_tool.c;
 * calls libc, the kernel and libblkid. Knows nothing about VHD or FUSE.
 *
 * The state file codec and the partition chooser are pure (no system calls)
 * and unit tested on their own.
 */
#ifndef VSWITCH_VHD_ATTACH_H
#define VSWITCH_VHD_ATTACH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vhd_attach;

#define VHD_ATTACH_PATH_LEN 1024 /* bytes of a path in a record, NUL included */
#define VHD_ATTACH_DEV_LEN  32	 /* bytes of a loop device path, NUL included */
#define VHD_ATTACH_FS_LEN   32	 /* bytes of a filesystem type name, NUL included */
#define VHD_ATTACH_MAX_LOOPS                                                                       \
	33 /* loop devices of one attachment: 32 partitions and the whole disk */
#define VHD_ATTACH_MAX_PARTS 128   /* partitions probed (a GPT's usual table) */
#define VHD_ATTACH_STATE_MAX 65536 /* bytes of a state file */

/* How the image is written. */
enum vhd_attach_mode {
	VHD_ATTACH_UNDO,      /* changes go to a differencing child; the image is read only */
	VHD_ATTACH_DIRECT,    /* the image itself is written */
	VHD_ATTACH_READ_ONLY, /* nothing is written */
};

/* One loop device of an attachment. */
struct vhd_attach_loop {
	char dev[VHD_ATTACH_DEV_LEN]; /* "/dev/loopN" */
	uint64_t offset;	      /* bytes into the disk */
	uint64_t size;		      /* bytes */
	int partno;		      /* partition number, 0 for the whole disk */
};

/*
 * What one attachment is made of, as saved in its state file. Fields are
 * filled step by step while `vhd mount` builds it, so that a half-built
 * attachment can be torn down from its record.
 */
struct vhd_attach_rec {
	char id[16];			      /* the folder name under the run folder */
	char image[VHD_ATTACH_PATH_LEN];      /* absolute path of the image */
	char undo[VHD_ATTACH_PATH_LEN];	      /* undo disk, or "" */
	char fuse_dir[VHD_ATTACH_PATH_LEN];   /* where the FUSE server mounts, or "" */
	char file[VHD_ATTACH_PATH_LEN];	      /* the served raw file in fuse_dir, or "" */
	char mountpoint[VHD_ATTACH_PATH_LEN]; /* where the filesystem is mounted, or "" */
	char fstype[VHD_ATTACH_FS_LEN];	      /* filesystem type mounted, or "" */
	enum vhd_attach_mode mode;	      /* */
	bool mountpoint_owned;		      /* made by `vhd mount`: removed at unmount */
	int partno;			      /* mounted partition, 0 whole disk, -1 none */
	long pid;			      /* the mount process, 0 unknown */
	uint64_t pid_start;		      /* its start time (clock ticks since boot) */
	int n_loops;			      /* entries used in 'loops' */
	struct vhd_attach_loop loops[VHD_ATTACH_MAX_LOOPS]; /* in attach order */
};

/* What libblkid found on the disk or in one partition. */
struct vhd_attach_part {
	int partno;			/* 1..N as the table numbers it, 0 for the whole disk */
	uint64_t offset;		/* bytes */
	uint64_t size;			/* bytes */
	char fstype[VHD_ATTACH_FS_LEN]; /* superblock type ("ext4", "vfat"...), or "" */
	bool is_fs;			/* a filesystem the kernel may mount (not swap, RAID...) */
	bool is_container;		/* an extended partition: holds others, never mounted */
};

/* Name of 'm' as the state file and the listings write it: "undo", "direct", "read-only". */
const char *vhd_attach_mode_name(enum vhd_attach_mode m);

/*
 * Writes 'rec' as "key=value" lines into 'buf' ('cap' bytes, NUL added).
 * Returns the length, -EINVAL when a path holds a newline, or -EMSGSIZE.
 */
int vhd_attach_rec_format(const struct vhd_attach_rec *rec, char *buf, size_t cap);

/*
 * Parses a state file of 'len' bytes at 'buf' (need not be NUL-terminated)
 * into '*ret' (set only on success). Unknown keys are skipped, so older
 * tools read newer files. Returns 0, -EBADMSG for a malformed line or value,
 * -ENAMETOOLONG for an oversized path, or -E2BIG for too many loop devices.
 */
int vhd_attach_rec_parse(struct vhd_attach_rec *ret, const char *buf, size_t len);

/*
 * Chooses what to mount among 'n' probe results 'parts' (the whole disk,
 * partno 0, first). 'want' is a partition number, 0 for the whole disk, or
 * -1 for the default: the first partition holding a mountable filesystem,
 * else the whole disk if it is one. Returns the index in 'parts', -ENOENT
 * when partition 'want' does not exist, -EMEDIUMTYPE when it holds no
 * mountable filesystem, or -ENODATA when the default finds none.
 */
int vhd_attach_choose(const struct vhd_attach_part *parts, int n, int want);

/*
 * Probes the disk open at 'fd' (borrowed) with libblkid: entry 0 is the
 * whole disk (a filesystem there only when there is no partition table),
 * then one entry per partition of an MBR or GPT table, extended partitions
 * marked as containers. Fills up to 'cap' entries of 'ret'. Returns the
 * count, -E2BIG past 'cap', -ENOMEM, or -EIO when libblkid cannot read.
 */
int vhd_attach_probe(int fd, struct vhd_attach_part *ret, int cap);

/*
 * Attaches 'fd' (borrowed; the loop device keeps its own reference) to a
 * free loop device, exposing 'size' bytes from 'offset' (0 for "to the end"),
 * read-only when 'read_only', with 'name' (borrowed, may be NULL) as its
 * recorded file name. Writes "/dev/loopN" into 'ret_dev'
 * (VHD_ATTACH_DEV_LEN bytes). Returns 0, -ENOENT without loop support, or
 * the ioctl's error.
 */
int vhd_attach_loop_add(int fd, uint64_t offset, uint64_t size, bool read_only, const char *name,
			char *ret_dev);

/*
 * Detaches the loop device 'dev' if it is still bound to 'backing' (the
 * path of its backing file as the kernel shows it; NULL skips the check, so
 * a recycled device number is never detached from someone else's file).
 * A device still held open is detached by the kernel at its last close.
 * Returns 0 (also when it was already free or rebound elsewhere) or -errno.
 */
int vhd_attach_loop_del(const char *dev, const char *backing);

/*
 * Mounts the block device 'dev' on the folder 'dir' as 'fstype' (all
 * borrowed), nosuid and nodev, read-only when 'read_only'. A type the
 * kernel does not know (a FUSE filesystem such as ntfs-3g) is handed to
 * mount(8). Returns 0 or -errno.
 */
int vhd_attach_mount(const char *dev, const char *dir, const char *fstype, bool read_only);

/*
 * Unmounts 'dir' (borrowed). When it stays busy for 'wait_ms', detaches it
 * lazily (MNT_DETACH) if 'lazy', else fails with -EBUSY. Returns 0 (also
 * when nothing is mounted there), 1 when the unmount was lazy, or -errno.
 */
int vhd_attach_umount(const char *dir, unsigned wait_ms, bool lazy);

/* Whether a filesystem is mounted exactly at 'dir' (borrowed), by /proc/self/mountinfo. */
bool vhd_attach_is_mounted(const char *dir);

/*
 * Opens the registry in 'run_dir' (borrowed; copied), creating it (0700)
 * when 'create'. Returns 0, -ENOMEM, or the mkdir error.
 */
int vhd_attach_new(struct vhd_attach **ret, const char *run_dir, bool create);

/* Closes 'a'. Accepts NULL. */
void vhd_attach_free(struct vhd_attach *a);

/* The run folder of 'a' (borrowed from it). */
const char *vhd_attach_dir(const struct vhd_attach *a);

/*
 * Reserves a new attachment: makes its folder (the lowest free number) and
 * writes 'rec->id'. Returns 0, -E2BIG when 1000 are in use, or -errno.
 */
int vhd_attach_reserve(struct vhd_attach *a, struct vhd_attach_rec *rec);

/* Writes the state file of 'rec' atomically (write and rename). 0 or -errno. */
int vhd_attach_save(struct vhd_attach *a, const struct vhd_attach_rec *rec);

/*
 * Reads the state of attachment 'id' (borrowed) into '*ret'. Returns 0,
 * -ENOENT, or as vhd_attach_rec_parse().
 */
int vhd_attach_load(struct vhd_attach *a, const char *id, struct vhd_attach_rec *ret);

/*
 * Removes the folder of attachment 'rec->id' with its state file and the
 * empty subfolders `vhd mount` made there. Returns 0 or -errno (-ENOTEMPTY
 * if something else was left in it).
 */
int vhd_attach_remove(struct vhd_attach *a, const struct vhd_attach_rec *rec);

/*
 * Lists the ids of the attachments in the registry, in numeric order:
 * writes up to 'cap' of them into 'ids' (16 bytes each). Returns the count
 * (which may exceed 'cap') or -errno.
 */
int vhd_attach_list(struct vhd_attach *a, char (*ids)[16], int cap);

/*
 * Whether the process 'pid' started at 'start' (clock ticks since boot,
 * as vhd_attach_proc_start() reads) still runs, so that a recycled pid is
 * not taken for the mount process.
 */
bool vhd_attach_proc_alive(long pid, uint64_t start);

/*
 * The start time of process 'pid' in clock ticks since boot into '*ret'.
 * Returns 0, -ENOENT when there is no such process, -ESRCH for a zombie,
 * or -EBADMSG.
 */
int vhd_attach_proc_start(long pid, uint64_t *ret);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * Loop devices, libblkid probing, mounts and the registry of attachments
 * (see vhd_attach.h). Called by vhd_mount_tool.c; calls the kernel through
 * ioctl(2), mount(2) and umount2(2), libblkid, and mount(8) for filesystem
 * types the kernel does not have. The state codec and the partition chooser
 * at the top make no system calls.
 */
#include "vhd-attach/vhd_attach.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <blkid/blkid.h>
#include <linux/loop.h>

#include "common/clock.h"
#include "common/io.h"

#define STATE_FILE   "state"
#define STATE_TMP    "state.tmp"
#define MAX_IDS	     1000
#define LOOP_RETRIES 32

struct vhd_attach {
	char *dir; /* the run folder; owned */
};

extern char **environ;

/* ---- state codec (pure) ---- */

const char *vhd_attach_mode_name(enum vhd_attach_mode m)
{
	switch (m) {
	case VHD_ATTACH_UNDO:
		return "undo";
	case VHD_ATTACH_DIRECT:
		return "direct";
	case VHD_ATTACH_READ_ONLY:
		return "read-only";
	}
	return "unknown";
}

struct outbuf {
	char *p;
	size_t cap, len;
	int err;
};

static void out_add(struct outbuf *o, const char *key, const char *val)
{
	int n;

	if (o->err)
		return;
	if (strchr(val, '\n')) {
		o->err = -EINVAL;
		return;
	}
	n = snprintf(o->p + o->len, o->cap - o->len, "%s=%s\n", key, val);
	if (n < 0 || (size_t)n >= o->cap - o->len) {
		o->err = -EMSGSIZE;
		return;
	}
	o->len += (size_t)n;
}

int vhd_attach_rec_format(const struct vhd_attach_rec *rec, char *buf, size_t cap)
{
	struct outbuf o = { .p = buf, .cap = cap };
	char num[96];

	if (cap == 0)
		return -EMSGSIZE;
	buf[0] = '\0';
	out_add(&o, "id", rec->id);
	out_add(&o, "image", rec->image);
	out_add(&o, "mode", vhd_attach_mode_name(rec->mode));
	out_add(&o, "undo", rec->undo);
	out_add(&o, "fuse_dir", rec->fuse_dir);
	out_add(&o, "file", rec->file);
	out_add(&o, "mountpoint", rec->mountpoint);
	out_add(&o, "mountpoint_owned", rec->mountpoint_owned ? "1" : "0");
	out_add(&o, "fstype", rec->fstype);
	snprintf(num, sizeof(num), "%d", rec->partno);
	out_add(&o, "partno", num);
	snprintf(num, sizeof(num), "%ld", rec->pid);
	out_add(&o, "pid", num);
	snprintf(num, sizeof(num), "%" PRIu64, rec->pid_start);
	out_add(&o, "pid_start", num);
	for (int i = 0; i < rec->n_loops; i++) {
		const struct vhd_attach_loop *l = &rec->loops[i];

		if (strchr(l->dev, ' ')) {
			o.err = o.err ?: -EINVAL;
			break;
		}
		snprintf(num, sizeof(num), "%s %" PRIu64 " %" PRIu64 " %d", l->dev, l->offset,
			 l->size, l->partno);
		out_add(&o, "loop", num);
	}
	return o.err ? o.err : (int)o.len;
}

static int parse_u64(const char *s, uint64_t *ret)
{
	char *end;
	unsigned long long v;

	if (!isdigit((unsigned char)s[0]))
		return -EBADMSG;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end)
		return -EBADMSG;
	*ret = v;
	return 0;
}

static int parse_int(const char *s, long min, long max, long *ret)
{
	char *end;
	long v;

	if (!s[0])
		return -EBADMSG;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -EBADMSG;
	*ret = v;
	return 0;
}

static int copy_val(char *dst, size_t cap, const char *val)
{
	size_t n = strlen(val);

	if (n >= cap)
		return -ENAMETOOLONG;
	memcpy(dst, val, n + 1);
	return 0;
}

static int parse_loop(struct vhd_attach_rec *rec, char *val)
{
	struct vhd_attach_loop *l;
	char *save = NULL, *dev, *off, *size, *part;
	long partno;

	if (rec->n_loops >= VHD_ATTACH_MAX_LOOPS)
		return -E2BIG;
	l = &rec->loops[rec->n_loops];
	dev = strtok_r(val, " ", &save);
	off = strtok_r(NULL, " ", &save);
	size = strtok_r(NULL, " ", &save);
	part = strtok_r(NULL, " ", &save);
	if (!part || strtok_r(NULL, " ", &save))
		return -EBADMSG;
	if (copy_val(l->dev, sizeof(l->dev), dev) < 0 || parse_u64(off, &l->offset) < 0 ||
	    parse_u64(size, &l->size) < 0 || parse_int(part, 0, INT_MAX, &partno) < 0)
		return -EBADMSG;
	l->partno = (int)partno;
	rec->n_loops++;
	return 0;
}

static int parse_line(struct vhd_attach_rec *rec, char *line)
{
	char *eq = strchr(line, '=');
	const char *key = line;
	char *val;
	long v;

	if (!eq || eq == line)
		return -EBADMSG;
	*eq = '\0';
	val = eq + 1;
	if (!strcmp(key, "id"))
		return copy_val(rec->id, sizeof(rec->id), val) < 0 ? -EBADMSG : 0;
	if (!strcmp(key, "image"))
		return copy_val(rec->image, sizeof(rec->image), val);
	if (!strcmp(key, "undo"))
		return copy_val(rec->undo, sizeof(rec->undo), val);
	if (!strcmp(key, "fuse_dir"))
		return copy_val(rec->fuse_dir, sizeof(rec->fuse_dir), val);
	if (!strcmp(key, "file"))
		return copy_val(rec->file, sizeof(rec->file), val);
	if (!strcmp(key, "mountpoint"))
		return copy_val(rec->mountpoint, sizeof(rec->mountpoint), val);
	if (!strcmp(key, "fstype"))
		return copy_val(rec->fstype, sizeof(rec->fstype), val) < 0 ? -EBADMSG : 0;
	if (!strcmp(key, "mode")) {
		if (!strcmp(val, "undo"))
			rec->mode = VHD_ATTACH_UNDO;
		else if (!strcmp(val, "direct"))
			rec->mode = VHD_ATTACH_DIRECT;
		else if (!strcmp(val, "read-only"))
			rec->mode = VHD_ATTACH_READ_ONLY;
		else
			return -EBADMSG;
		return 0;
	}
	if (!strcmp(key, "mountpoint_owned")) {
		if (parse_int(val, 0, 1, &v) < 0)
			return -EBADMSG;
		rec->mountpoint_owned = v;
		return 0;
	}
	if (!strcmp(key, "partno")) {
		if (parse_int(val, -1, INT_MAX, &v) < 0)
			return -EBADMSG;
		rec->partno = (int)v;
		return 0;
	}
	if (!strcmp(key, "pid"))
		return parse_int(val, 0, INT_MAX, &rec->pid);
	if (!strcmp(key, "pid_start"))
		return parse_u64(val, &rec->pid_start);
	if (!strcmp(key, "loop"))
		return parse_loop(rec, val);
	return 0; /* written by a newer tool */
}

int vhd_attach_rec_parse(struct vhd_attach_rec *ret, const char *buf, size_t len)
{
	struct vhd_attach_rec *rec;
	char line[VHD_ATTACH_PATH_LEN + 32];
	size_t pos = 0;
	int r = 0;

	rec = calloc(1, sizeof(*rec));
	if (!rec)
		return -ENOMEM;
	rec->partno = -1;
	while (pos < len) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (buf + pos)) : len - pos;

		if (n >= sizeof(line)) {
			r = -ENAMETOOLONG;
			break;
		}
		memcpy(line, buf + pos, n);
		line[n] = '\0';
		pos += n + 1;
		if (strlen(line) != n) {
			r = -EBADMSG; /* a NUL inside a line */
			break;
		}
		if (n == 0)
			continue;
		r = parse_line(rec, line);
		if (r < 0)
			break;
	}
	if (r == 0 && (!rec->id[0] || !rec->image[0]))
		r = -EBADMSG;
	if (r == 0)
		*ret = *rec;
	free(rec);
	return r;
}

int vhd_attach_choose(const struct vhd_attach_part *parts, int n, int want)
{
	if (want >= 0) {
		for (int i = 0; i < n; i++) {
			if (parts[i].partno != want)
				continue;
			return parts[i].is_fs && !parts[i].is_container ? i : -EMEDIUMTYPE;
		}
		return -ENOENT;
	}
	for (int i = 0; i < n; i++)
		if (parts[i].partno > 0 && parts[i].is_fs && !parts[i].is_container)
			return i;
	for (int i = 0; i < n; i++)
		if (parts[i].partno == 0 && parts[i].is_fs)
			return i;
	return -ENODATA;
}

/* ---- libblkid ---- */

static int probe_fs(int fd, struct vhd_attach_part *p)
{
	blkid_probe pr = blkid_new_probe();
	const char *type = NULL, *usage = NULL;
	int r;

	if (!pr)
		return -ENOMEM;
	if (blkid_probe_set_device(pr, fd, (blkid_loff_t)p->offset, (blkid_loff_t)p->size) < 0) {
		blkid_free_probe(pr);
		return -EIO;
	}
	blkid_probe_enable_partitions(pr, 0);
	blkid_probe_enable_superblocks(pr, 1);
	blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE | BLKID_SUBLKS_USAGE);
	r = blkid_do_safeprobe(pr);
	/* 1: nothing found; -2: signatures of two kinds, which mount(8) refuses too. */
	if (r == 0 && blkid_probe_lookup_value(pr, "TYPE", &type, NULL) == 0) {
		snprintf(p->fstype, sizeof(p->fstype), "%s", type);
		p->is_fs = blkid_probe_lookup_value(pr, "USAGE", &usage, NULL) == 0 &&
			   !strcmp(usage, "filesystem");
	}
	blkid_free_probe(pr);
	return r == -1 ? -EIO : 0;
}

int vhd_attach_probe(int fd, struct vhd_attach_part *ret, int cap)
{
	blkid_probe pr;
	blkid_partlist pl;
	blkid_loff_t disk;
	int n = 0, n_parts = 0, r = 0;

	if (cap < 1)
		return -E2BIG;
	pr = blkid_new_probe();
	if (!pr)
		return -ENOMEM;
	if (blkid_probe_set_device(pr, fd, 0, 0) < 0 || (disk = blkid_probe_get_size(pr)) < 0) {
		blkid_free_probe(pr);
		return -EIO;
	}
	memset(&ret[0], 0, sizeof(ret[0]));
	ret[0].size = (uint64_t)disk;
	n = 1;
	blkid_probe_enable_superblocks(pr, 0);
	blkid_probe_enable_partitions(pr, 1);
	pl = blkid_probe_get_partitions(pr);
	if (pl)
		n_parts = blkid_partlist_numof_partitions(pl);
	for (int i = 0; i < n_parts && r == 0; i++) {
		blkid_partition par = blkid_partlist_get_partition(pl, i);
		struct vhd_attach_part *p = &ret[n];
		uint64_t start, size;

		if (!par)
			continue;
		if (n >= cap) {
			r = -E2BIG;
			break;
		}
		memset(p, 0, sizeof(*p));
		p->partno = blkid_partition_get_partno(par);
		start = (uint64_t)blkid_partition_get_start(par) * 512;
		size = (uint64_t)blkid_partition_get_size(par) * 512;
		/* A table may describe space past the end of the disk: keep what exists. */
		if (start >= ret[0].size)
			continue;
		p->offset = start;
		p->size = size < ret[0].size - start ? size : ret[0].size - start;
		p->is_container = blkid_partition_is_extended(par);
		n++;
		if (!p->is_container)
			r = probe_fs(fd, p);
	}
	/* A filesystem over the whole disk counts only without a table in front of it. */
	if (r == 0 && n == 1)
		r = probe_fs(fd, &ret[0]);
	blkid_free_probe(pr);
	return r < 0 ? r : n;
}

/* ---- loop devices ---- */

static int loop_legacy(int lfd, int fd, const struct loop_info64 *info)
{
	if (ioctl(lfd, LOOP_SET_FD, fd) < 0)
		return -errno;
	if (ioctl(lfd, LOOP_SET_STATUS64, info) < 0) {
		int r = -errno;

		(void)ioctl(lfd, LOOP_CLR_FD, 0);
		return r;
	}
	return 0;
}

int vhd_attach_loop_add(int fd, uint64_t offset, uint64_t size, bool read_only, const char *name,
			char *ret_dev)
{
	struct loop_config cfg;
	char dev[VHD_ATTACH_DEV_LEN];
	int ctl, r = -EBUSY;

	memset(&cfg, 0, sizeof(cfg));
	cfg.fd = (uint32_t)fd;
	cfg.info.lo_offset = offset;
	cfg.info.lo_sizelimit = size;
	cfg.info.lo_flags = read_only ? LO_FLAGS_READ_ONLY : 0;
	if (name)
		snprintf((char *)cfg.info.lo_file_name, sizeof(cfg.info.lo_file_name), "%s", name);
	ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	if (ctl < 0)
		return -errno;
	for (int tries = 0; tries < LOOP_RETRIES; tries++) {
		int nr = ioctl(ctl, LOOP_CTL_GET_FREE);
		int lfd;

		if (nr < 0) {
			r = -errno;
			break;
		}
		snprintf(dev, sizeof(dev), "/dev/loop%d", nr);
		lfd = open(dev, (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
		if (lfd < 0) {
			r = -errno;
			/* devtmpfs makes the node of a new device a moment later. */
			if (r == -ENOENT) {
				clock_sleep_us(20 * 1000);
				continue;
			}
			break;
		}
		r = ioctl(lfd, LOOP_CONFIGURE, &cfg) < 0 ? -errno : 0;
		/* Kernels before 5.8 lack LOOP_CONFIGURE. */
		if (r == -EINVAL || r == -ENOTTY)
			r = loop_legacy(lfd, fd, &cfg.info);
		close(lfd);
		if (r == 0) {
			memcpy(ret_dev, dev, sizeof(dev));
			break;
		}
		/* Another process took the free device between the two calls. */
		if (r != -EBUSY)
			break;
	}
	close(ctl);
	return r;
}

/* The backing file the kernel shows for 'dev' into 'out', or -ENOENT when it has none. */
static int loop_backing(const char *dev, char *out, size_t cap)
{
	const char *name = strrchr(dev, '/');
	char path[128];
	int fd, n;

	snprintf(path, sizeof(path), "/sys/block/%s/loop/backing_file", name ? name + 1 : dev);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = io_read_all(fd, out, cap - 1);
	close(fd);
	if (n < 0)
		return n;
	out[n] = '\0';
	if (n > 0 && out[n - 1] == '\n')
		out[--n] = '\0';
	return 0;
}

int vhd_attach_loop_del(const char *dev, const char *backing)
{
	char cur[PATH_MAX + 16];
	int lfd, r;

	if (backing) {
		r = loop_backing(dev, cur, sizeof(cur));
		if (r == -ENOENT)
			return 0;
		if (r < 0)
			return r;
		/* The kernel appends " (deleted)" when the file was unlinked meanwhile. */
		if (strncmp(cur, backing, strlen(backing)) != 0 ||
		    (cur[strlen(backing)] && strcmp(cur + strlen(backing), " (deleted)")))
			return 0;
	}
	lfd = open(dev, O_RDONLY | O_CLOEXEC);
	if (lfd < 0)
		return errno == ENOENT ? 0 : -errno;
	r = ioctl(lfd, LOOP_CLR_FD, 0) < 0 ? -errno : 0;
	if (r == -ENXIO)
		r = 0;
	if (r == -EBUSY) {
		/* Older kernels refuse while the device is open: ask for a detach at last close. */
		struct loop_info64 info;

		if (ioctl(lfd, LOOP_GET_STATUS64, &info) == 0) {
			info.lo_flags |= LO_FLAGS_AUTOCLEAR;
			r = ioctl(lfd, LOOP_SET_STATUS64, &info) < 0 ? -errno : 0;
		}
	}
	close(lfd);
	return r;
}

/* ---- mounts ---- */

static int run_mount_helper(const char *dev, const char *dir, const char *fstype, bool read_only)
{
	char *argv[] = { "mount",
			 "-t",
			 (char *)fstype,
			 "-o",
			 read_only ? "ro,nosuid,nodev" : "nosuid,nodev",
			 (char *)dev,
			 (char *)dir,
			 NULL };
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int r, status;

	if (posix_spawn_file_actions_init(&fa))
		return -ENOMEM;
	(void)posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	(void)posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
	(void)posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
	r = posix_spawnp(&pid, "mount", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (r)
		return -r;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -ENODEV;
}

int vhd_attach_mount(const char *dev, const char *dir, const char *fstype, bool read_only)
{
	unsigned long flags = MS_NOSUID | MS_NODEV | (read_only ? MS_RDONLY : 0);

	if (mount(dev, dir, fstype, flags, NULL) == 0)
		return 0;
	/* ENODEV: no such type in the kernel; mount(8) knows FUSE ones (mount.ntfs-3g...). */
	if (errno != ENODEV)
		return -errno;
	return run_mount_helper(dev, dir, fstype, read_only);
}

int vhd_attach_umount(const char *dir, unsigned wait_ms, bool lazy)
{
	unsigned waited = 0;
	int r;

	for (;;) {
		if (umount2(dir, UMOUNT_NOFOLLOW) == 0)
			return 0;
		r = -errno;
		/* EINVAL: not a mount point (any more). */
		if (r == -EINVAL || r == -ENOENT)
			return 0;
		if (r != -EBUSY || waited >= wait_ms)
			break;
		clock_sleep_us(50 * 1000);
		waited += 50;
	}
	if (r != -EBUSY || !lazy)
		return r;
	if (umount2(dir, MNT_DETACH | UMOUNT_NOFOLLOW) < 0)
		return errno == EINVAL ? 0 : -errno;
	return 1;
}

/* Undoes the octal escapes (\040 for a space) of a /proc/self/mountinfo field in place. */
static void unescape(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*w++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*w++ = *s;
		}
	}
	*w = '\0';
}

bool vhd_attach_is_mounted(const char *dir)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char *line = NULL;
	size_t cap = 0;
	bool found = false;

	if (!f)
		return false;
	while (!found && getline(&line, &cap, f) > 0) {
		char *save = NULL, *tok = strtok_r(line, " ", &save);

		/* Fields: id, parent id, major:minor, root, mount point, ... */
		for (int i = 0; tok && i < 4; i++)
			tok = strtok_r(NULL, " ", &save);
		if (!tok)
			continue;
		unescape(tok);
		found = !strcmp(tok, dir);
	}
	free(line);
	fclose(f);
	return found;
}

/* ---- registry ---- */

static int mkdir_p(const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	size_t n = strlen(path);

	if (n >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, n + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int vhd_attach_new(struct vhd_attach **ret, const char *run_dir, bool create)
{
	struct vhd_attach *a;
	int r;

	if (create) {
		r = mkdir_p(run_dir, 0700);
		if (r < 0)
			return r;
	}
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->dir = strdup(run_dir);
	if (!a->dir) {
		free(a);
		return -ENOMEM;
	}
	*ret = a;
	return 0;
}

void vhd_attach_free(struct vhd_attach *a)
{
	if (!a)
		return;
	free(a->dir);
	free(a);
}

const char *vhd_attach_dir(const struct vhd_attach *a)
{
	return a->dir;
}

int vhd_attach_reserve(struct vhd_attach *a, struct vhd_attach_rec *rec)
{
	char path[PATH_MAX];

	for (int i = 0; i < MAX_IDS; i++) {
		snprintf(path, sizeof(path), "%s/%d", a->dir, i);
		/* mkdir is atomic: two concurrent `vhd mount`s never get one id. */
		if (mkdir(path, 0700) == 0) {
			snprintf(rec->id, sizeof(rec->id), "%d", i);
			return 0;
		}
		if (errno != EEXIST)
			return -errno;
	}
	return -E2BIG;
}

int vhd_attach_save(struct vhd_attach *a, const struct vhd_attach_rec *rec)
{
	char tmp[PATH_MAX], path[PATH_MAX];
	char *buf;
	int fd, r;

	buf = malloc(VHD_ATTACH_STATE_MAX);
	if (!buf)
		return -ENOMEM;
	r = vhd_attach_rec_format(rec, buf, VHD_ATTACH_STATE_MAX);
	if (r < 0)
		goto out;
	snprintf(tmp, sizeof(tmp), "%s/%s/%s", a->dir, rec->id, STATE_TMP);
	snprintf(path, sizeof(path), "%s/%s/%s", a->dir, rec->id, STATE_FILE);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	r = io_write_all(fd, buf, (size_t)r);
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	close(fd);
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0)
		(void)unlink(tmp);
out:
	free(buf);
	return r;
}

int vhd_attach_load(struct vhd_attach *a, const char *id, struct vhd_attach_rec *ret)
{
	char path[PATH_MAX];
	char *buf;
	int fd, n;

	snprintf(path, sizeof(path), "%s/%s/%s", a->dir, id, STATE_FILE);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	buf = malloc(VHD_ATTACH_STATE_MAX + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	n = io_read_all(fd, buf, VHD_ATTACH_STATE_MAX + 1);
	close(fd);
	if (n > VHD_ATTACH_STATE_MAX)
		n = -E2BIG;
	if (n >= 0)
		n = vhd_attach_rec_parse(ret, buf, (size_t)n);
	free(buf);
	return n;
}

int vhd_attach_remove(struct vhd_attach *a, const struct vhd_attach_rec *rec)
{
	static const char *const files[] = { STATE_TMP, "log" };
	static const char *const dirs[] = { "mnt", "fuse" };
	char path[PATH_MAX];

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s/%s", a->dir, rec->id, files[i]);
		(void)unlink(path);
	}
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s/%s", a->dir, rec->id, dirs[i]);
		if (rmdir(path) < 0 && errno != ENOENT)
			return -errno;
	}
	/* The state goes last: while anything above is left, the record still names it. */
	snprintf(path, sizeof(path), "%s/%s/%s", a->dir, rec->id, STATE_FILE);
	(void)unlink(path);
	snprintf(path, sizeof(path), "%s/%s", a->dir, rec->id);
	if (rmdir(path) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

static int cmp_int(const void *x, const void *y)
{
	int a = *(const int *)x, b = *(const int *)y;

	return (a > b) - (a < b);
}

int vhd_attach_list(struct vhd_attach *a, char (*ids)[16], int cap)
{
	int nums[MAX_IDS];
	int n = 0;
	struct dirent *e;
	DIR *d;

	d = opendir(a->dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((e = readdir(d)) && n < MAX_IDS) {
		long v;

		if (parse_int(e->d_name, 0, MAX_IDS - 1, &v) < 0 || !isdigit(e->d_name[0]))
			continue;
		nums[n++] = (int)v;
	}
	closedir(d);
	qsort(nums, (size_t)n, sizeof(nums[0]), cmp_int);
	for (int i = 0; i < n && i < cap; i++)
		snprintf(ids[i], sizeof(ids[i]), "%d", nums[i]);
	return n;
}

int vhd_attach_proc_start(long pid, uint64_t *ret)
{
	char path[64], buf[1024];
	const char *p;
	int fd, n;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = io_read_all(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return n;
	buf[n] = '\0';
	/* The command name may hold spaces and parentheses: fields restart after the last ')'. */
	p = strrchr(buf, ')');
	if (!p || !p[1] || !p[2])
		return -EBADMSG;
	/* A zombie (state Z) or dead (X) process no longer serves anything. */
	if (p[2] == 'Z' || p[2] == 'X')
		return -ESRCH;
	/* After ')' come field 3 (state) ... field 22 (starttime). */
	for (int field = 2; field < 22; field++) {
		p = strchr(p + 1, ' ');
		if (!p)
			return -EBADMSG;
	}
	if (!isdigit((unsigned char)p[1]))
		return -EBADMSG;
	*ret = strtoull(p + 1, NULL, 10);
	return 0;
}

bool vhd_attach_proc_alive(long pid, uint64_t start)
{
	uint64_t now;

	if (pid <= 0 || vhd_attach_proc_start(pid, &now) < 0)
		return false;
	return now == start;
}

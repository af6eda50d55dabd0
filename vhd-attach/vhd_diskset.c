/* SPDX-License-Identifier: MIT */
/*
 * A machine's disk set (vhd_diskset.h): children made with the VHD library,
 * and `vhd export` run as a child process. The export is a process of its
 * own so that a slow disk never stalls the switch's event loop, and so that
 * it runs with none of vswitchd's descriptors.
 *
 * The parent's event loop may reap the export process itself (libev's
 * default loop reaps every child), so "gone" is any of: waitpid() returns
 * it, waitpid() says ECHILD, or kill(pid, 0) says ESRCH.
 */
#include "vhd-attach/vhd_diskset.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "vhd-attach/vhd.h"
#include "vhd-attach/vhd_err.h"
#include "vhd-attach/vhd_fmt.h"
#include "vhd-attach/vhd_ops.h"

#define UP_WAIT_MS   5000 /* the export opens its images and listens well within this */
#define DOWN_WAIT_MS 5000 /* a flush of every image, then exit */
#define PATH_LEN     4096

struct vhd_diskset {
	enum vhd_diskset_mode mode;
	size_t n_disks;
	char disks[VHD_DISKSET_DISKS_MAX][PATH_LEN];  /* the images as written */
	char in_use[VHD_DISKSET_DISKS_MAX][PATH_LEN]; /* what the export serves */
	bool created[VHD_DISKSET_DISKS_MAX];	      /* children made by this up */
	pid_t pid;				      /* the export process, 0 once gone */
};

const char *vhd_diskset_export_name(size_t i)
{
	static const char *const names[VHD_DISKSET_DISKS_MAX] = { "disk0", "disk1", "disk2",
								  "disk3", "disk4", "disk5",
								  "disk6", "disk7" };

	return i < VHD_DISKSET_DISKS_MAX ? names[i] : NULL;
}

int vhd_diskset_disk_path(const struct vhd_diskset_conf *c, size_t i, char *out, size_t cap)
{
	const char *base, *kind;
	size_t stem_len;
	int n;

	if (i >= c->n_disks || c->n_disks > VHD_DISKSET_DISKS_MAX || !c->disks[i][0])
		return -EINVAL;
	if (c->mode == VHD_DISKSET_DIRECT) {
		n = snprintf(out, cap, "%s", c->disks[i]);
		return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
	}
	base = strrchr(c->disks[i], '/');
	base = base ? base + 1 : c->disks[i];
	stem_len = strlen(base);
	if (stem_len > 4 && !strcasecmp(base + stem_len - 4, ".vhd"))
		stem_len -= 4;
	kind = c->mode == VHD_DISKSET_UNDO ? "undo" : "diff";
	n = snprintf(out, cap, "%s/%s.%.*s.%s.vhd", c->dir, c->vm, (int)stem_len, base, kind);
	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

/* True while the export process exists; reaps it when it has ended. */
static bool export_alive(struct vhd_diskset *s)
{
	pid_t r;

	if (!s->pid)
		return false;
	r = waitpid(s->pid, NULL, WNOHANG);
	if (r == 0 && kill(s->pid, 0) == 0)
		return true;
	s->pid = 0; /* exited now, reaped by someone else (ECHILD), or no such process */
	return false;
}

bool vhd_diskset_alive(struct vhd_diskset *s)
{
	return export_alive(s);
}

pid_t vhd_diskset_pid(const struct vhd_diskset *s)
{
	return s->pid;
}

/* Whether 'a' and 'b' name one file (paths may be relative, absolute or linked). */
static bool same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

/* Makes the child of image 'i' unless it exists; an existing one must point at the image. */
static int make_child(struct vhd_diskset *s, size_t i, char *err)
{
	struct vhd_create_opts co = { .type = VHD_TYPE_DIFF, .parent = s->disks[i], .err = err };
	struct vhd_open_opts oo = { .err = err }; /* read-only */
	struct vhd *v;
	int r;

	if (access(s->in_use[i], F_OK) == 0) {
		r = vhd_open(&v, s->in_use[i], &oo);
		if (r < 0)
			return r;
		/* vhd_open resolved the chain: the parent it found must be our image. */
		r = vhd_parent(v) && same_file(vhd_path(vhd_parent(v)), s->disks[i]) ? 0 : -EXDEV;
		if (r < 0)
			vhd_err_set(err, false, "'%s' exists but is not a child of '%s'",
				    s->in_use[i], s->disks[i]);
		vhd_free(v);
		return r;
	}
	r = vhd_create(NULL, s->in_use[i], &co);
	if (r == 0)
		s->created[i] = true;
	return r;
}

static void remove_created(struct vhd_diskset *s)
{
	for (size_t i = 0; i < s->n_disks; i++)
		if (s->created[i])
			(void)unlink(s->in_use[i]);
}

/* Connects to the unix socket 'path': whether something accepts there. */
static bool socket_ready(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool ok;

	if (fd < 0)
		return false;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return ok;
}

static int start_export(struct vhd_diskset *s, const struct vhd_diskset_conf *c, char *err)
{
	char *argv[6 + 3 * VHD_DISKSET_DISKS_MAX];
	size_t n = 0;
	uint64_t until;
	pid_t pid;

	argv[n++] = (char *)c->tool;
	argv[n++] = "export";
	argv[n++] = "--socket";
	argv[n++] = (char *)c->socket;
	argv[n++] = "--writable";
	for (size_t i = 0; i < s->n_disks; i++) {
		argv[n++] = "--name";
		argv[n++] = (char *)vhd_diskset_export_name(i);
	}
	for (size_t i = 0; i < s->n_disks; i++)
		argv[n++] = s->in_use[i];
	argv[n] = NULL;

	(void)unlink(c->socket); /* a stale socket of a killed export */
	pid = fork();
	if (pid < 0) {
		vhd_err_set(err, false, "cannot start '%s export': %s", c->tool, strerror(errno));
		return -errno;
	}
	if (pid == 0) {
		/* The export ends with vswitchd, and sees none of its descriptors. */
		(void)prctl(PR_SET_PDEATHSIG, SIGTERM);
		(void)syscall(SYS_close_range, 3u, ~0u, 0u);
		execv(c->tool, argv);
		_exit(127);
	}
	s->pid = pid;
	until = clock_mono_ms() + UP_WAIT_MS;
	while (clock_mono_ms() < until) {
		if (socket_ready(c->socket))
			return 0;
		if (!export_alive(s)) {
			vhd_err_set(err, false,
				    "'%s export' exited at start (see the daemon's log)", c->tool);
			return -ECHILD;
		}
		(void)nanosleep(&(struct timespec){ .tv_nsec = 20 * 1000000 }, NULL);
	}
	vhd_err_set(err, false, "'%s export' did not listen on '%s' within %d s", c->tool,
		    c->socket, UP_WAIT_MS / 1000);
	return -ETIMEDOUT;
}

static void stop_export(struct vhd_diskset *s)
{
	uint64_t until = clock_mono_ms() + DOWN_WAIT_MS;

	if (!export_alive(s))
		return;
	(void)kill(s->pid, SIGTERM);
	while (export_alive(s)) {
		if (clock_mono_ms() >= until) {
			(void)kill(s->pid, SIGKILL);
			(void)waitpid(s->pid, NULL, 0);
			s->pid = 0;
			return;
		}
		(void)nanosleep(&(struct timespec){ .tv_nsec = 10 * 1000000 }, NULL);
	}
}

int vhd_diskset_up(struct vhd_diskset **ret, const struct vhd_diskset_conf *c, char *err)
{
	struct vhd_diskset *s;
	int r = 0;

	if (!c->n_disks || c->n_disks > VHD_DISKSET_DISKS_MAX || !c->tool || !c->socket || !c->vm ||
	    !c->dir) {
		vhd_err_set(err, false, "%s",
			    "a machine needs 1 to 8 disks, a folder and a socket");
		return -EINVAL;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->mode = c->mode;
	s->n_disks = c->n_disks;
	for (size_t i = 0; r == 0 && i < c->n_disks; i++) {
		snprintf(s->disks[i], PATH_LEN, "%s", c->disks[i]);
		r = vhd_diskset_disk_path(c, i, s->in_use[i], PATH_LEN);
		if (r < 0) {
			vhd_err_set(err, false, "disk '%s': path too long", c->disks[i]);
		} else if (access(c->disks[i], F_OK) < 0) {
			r = -errno;
			vhd_err_set(err, false, "disk '%s': %s", c->disks[i], strerror(-r));
		}
	}
	for (size_t i = 0; r == 0 && c->mode != VHD_DISKSET_DIRECT && i < c->n_disks; i++)
		r = make_child(s, i, err);
	if (r == 0)
		r = start_export(s, c, err);
	if (r < 0) {
		stop_export(s);
		remove_created(s);
		free(s);
		return r;
	}
	*ret = s;
	return 0;
}

int vhd_diskset_down(struct vhd_diskset *s, enum vhd_diskset_end end, char *err)
{
	struct vhd_ops_opts o = { .delete_child = true, .err = err };
	int r = 0;

	if (end != VHD_DISKSET_KEEP && s->mode != VHD_DISKSET_UNDO) {
		vhd_err_set(err, false, "%s", "--commit and --discard apply to undo disks only");
		return -EINVAL;
	}
	stop_export(s);
	for (size_t i = 0; i < s->n_disks; i++) {
		int ri = 0;

		if (end == VHD_DISKSET_COMMIT)
			ri = vhd_merge(s->in_use[i], &o);
		else if (end == VHD_DISKSET_DISCARD && unlink(s->in_use[i]) < 0)
			ri = -errno;
		if (ri < 0 && end == VHD_DISKSET_DISCARD)
			vhd_err_set(err, false, "cannot remove '%s': %s", s->in_use[i],
				    strerror(-ri));
		if (ri < 0 && !r)
			r = ri; /* go on with the other disks: each is independent */
	}
	free(s);
	return r;
}

/* SPDX-License-Identifier: MIT */
/*
 * `vhd mount` and `vhd unmount` (Virtual Server's VHDMount): the verbs that
 * attach an image to the host. `vhd mount` opens the image (or makes an
 * undo disk over it), forks the mount process, which serves the virtual
 * disk as one file through FUSE (vhd_fuse.c), then probes that file with
 * libblkid, binds loop devices to it and mounts the chosen partition
 * (vhd_attach.c), recording each step in the registry so that a later
 * `vhd unmount`, or one after a crash, can take everything down in reverse
 * order and commit or discard the undo disk (vhd_merge()). Called from
 * vhd_tool.c's verb table. Failures are one line on stderr,
 * "vhd: VERB: 'PATH': reason"; exit 0 success, 1 failure, 2 usage error.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/io.h"
#include "common/log.h"
#include "vhd-attach/vhd.h"
#include "vhd-attach/vhd_attach.h"
#include "vhd-attach/vhd_fuse.h"
#include "vhd-attach/vhd_ops.h"
#include "vhd-attach/vhd_tool.h"

#define EXIT_USAGE	 2
#define RUN_DIR_DEFAULT	 "/run/vswitch/vhd"
#define UNDO_DIR_DEFAULT "/var/tmp"
#define MNT_WAIT_MS	 3000  /* a busy filesystem gets this long before failing or going lazy */
#define SERVER_WAIT_MS	 30000 /* the mount process flushes and exits within this */

enum finish {
	FINISH_KEEP,	/* keep a non-empty undo disk and say where it is */
	FINISH_COMMIT,	/* merge it into the image */
	FINISH_DISCARD, /* delete it */
};

struct mount_req {
	const char *image_arg;
	const char *mnt_arg; /* or NULL */
	int partno;	     /* -1: the default choice */
	bool plug_only;
	bool direct;
	bool read_only;
	bool json;
};

static const char *verb = "mount";

/* A usage error of the verb being run (mount or unmount). */
#define usage_error(...) vhd_tool_usage(verb, __VA_ARGS__)

static int fail(const char *path, int r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* vhd_tool_fail() with the reason formatted from 'fmt', or strerror(-r) without one. */
static int fail(const char *path, int r, const char *fmt, ...)
{
	char reason[8192] = ""; /* a message naming two paths fits */
	va_list ap;

	if (fmt && fmt[0]) {
		va_start(ap, fmt);
		vsnprintf(reason, sizeof(reason), fmt, ap);
		va_end(ap);
	}
	return vhd_tool_fail(path, r, reason);
}

static const char *run_dir(void)
{
	const char *d = getenv("VHD_RUN_DIR");

	return d && d[0] ? d : RUN_DIR_DEFAULT;
}

/* Copies 'src' into a record path field; -ENAMETOOLONG when it does not fit. */
static int set_path(char *dst, const char *src)
{
	size_t n = strlen(src);

	if (n >= VHD_ATTACH_PATH_LEN)
		return -ENAMETOOLONG;
	memcpy(dst, src, n + 1);
	return 0;
}

static bool file_exists(const char *path)
{
	struct stat st;

	return path[0] && stat(path, &st) == 0;
}

/* Whether the mount process of 'rec' runs; reaps it first when it is our own child. */
static bool server_alive(const struct vhd_attach_rec *rec)
{
	int status;

	if (rec->pid <= 0)
		return false;
	if (waitpid((pid_t)rec->pid, &status, WNOHANG) == rec->pid)
		return false;
	return vhd_attach_proc_alive(rec->pid, rec->pid_start);
}

static void print_rec_json(const struct vhd_attach_rec *rec)
{
	printf("{\"id\": ");
	vhd_tool_json_str(rec->id);
	printf(", \"image\": ");
	vhd_tool_json_str(rec->image);
	printf(", \"mode\": \"%s\", \"undo\": ", vhd_attach_mode_name(rec->mode));
	if (rec->undo[0])
		vhd_tool_json_str(rec->undo);
	else
		printf("null");
	printf(", \"pid\": %ld, \"alive\": %s, \"file\": ", rec->pid,
	       server_alive(rec) ? "true" : "false");
	vhd_tool_json_str(rec->file);
	printf(", \"loops\": [");
	for (int i = 0; i < rec->n_loops; i++) {
		printf("%s{\"device\": ", i ? ", " : "");
		vhd_tool_json_str(rec->loops[i].dev);
		printf(", \"partition\": %d, \"offset\": %" PRIu64 ", \"size\": %" PRIu64 "}",
		       rec->loops[i].partno, rec->loops[i].offset, rec->loops[i].size);
	}
	printf("], \"mountpoint\": ");
	if (rec->mountpoint[0] && rec->fstype[0])
		vhd_tool_json_str(rec->mountpoint);
	else
		printf("null");
	printf(", \"fstype\": ");
	if (rec->fstype[0])
		vhd_tool_json_str(rec->fstype);
	else
		printf("null");
	printf(", \"partition\": ");
	if (rec->partno >= 0)
		printf("%d", rec->partno);
	else
		printf("null");
	printf("}");
}

/* ---- vhd mount --list ---- */

static int list_attachments(bool json)
{
	struct vhd_attach *reg = NULL;
	struct vhd_attach_rec *rec = NULL;
	char ids[256][16];
	int n, r, shown = 0;

	r = vhd_attach_new(&reg, run_dir(), false);
	if (r < 0)
		return fail(run_dir(), r, NULL);
	rec = malloc(sizeof(*rec));
	n = rec ? vhd_attach_list(reg, ids, 256) : -ENOMEM;
	if (n < 0) {
		r = fail(run_dir(), n, NULL);
		goto out;
	}
	if (n > 256)
		n = 256;
	if (json)
		printf("{\"attachments\": [");
	else
		printf("%-4s %-9s %-8s %-24s %-28s %s\n", "ID", "MODE", "PROCESS", "DEVICES",
		       "MOUNTPOINT", "IMAGE (UNDO DISK)");
	for (int i = 0; i < n; i++) {
		char devs[256] = "-", proc[32];
		size_t len = 0;

		if (vhd_attach_load(reg, ids[i], rec) < 0)
			continue; /* being set up, or not ours */
		if (json) {
			printf("%s", shown ? ", " : "");
			print_rec_json(rec);
			shown++;
			continue;
		}
		for (int k = 0; k < rec->n_loops && len < sizeof(devs) - 1; k++) {
			const char *d = strncmp(rec->loops[k].dev, "/dev/", 5)
						? rec->loops[k].dev
						: rec->loops[k].dev + 5;

			len += (size_t)snprintf(devs + len, sizeof(devs) - len, "%s%s",
						k ? "," : "", d);
		}
		if (server_alive(rec))
			snprintf(proc, sizeof(proc), "%ld", rec->pid);
		else
			snprintf(proc, sizeof(proc), "dead");
		printf("%-4s %-9s %-8s %-24s %-28s %s", rec->id, vhd_attach_mode_name(rec->mode),
		       proc, devs, rec->mountpoint[0] && rec->fstype[0] ? rec->mountpoint : "-",
		       rec->image);
		if (rec->undo[0])
			printf(" (%s)", rec->undo);
		printf("\n");
		shown++;
	}
	if (json)
		printf("]}\n");
	r = 0;
out:
	free(rec);
	vhd_attach_free(reg);
	return r;
}

/* ---- taking an attachment down ---- */

/* Whether the undo disk 'path' holds any sector (an unreadable one counts as holding). */
static bool undo_has_data(const char *path)
{
	struct vhd_open_opts oo = { .flags = VHD_OPEN_NO_PARENT };
	struct vhd *v;
	bool found = false;

	if (vhd_open(&v, path, &oo) < 0)
		return true;
	for (uint32_t i = 0; i < vhd_bat_len(v) && !found; i++)
		found = vhd_bat_get(v, i) != VHD_BAT_UNUSED;
	vhd_free(v);
	return found;
}

/* Deletes the undo disk 'path' and the temporary folder `vhd mount` made for it. */
static int undo_delete(const char *path)
{
	char dir[VHD_ATTACH_PATH_LEN];
	char *slash;

	if (unlink(path) < 0 && errno != ENOENT)
		return -errno;
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		(void)rmdir(dir);
	}
	return 0;
}

/* Waits for the mount process to exit; asks it with SIGTERM, then SIGKILL, past the wait. */
static bool server_wait(const struct vhd_attach_rec *rec, unsigned wait_ms)
{
	for (unsigned waited = 0; server_alive(rec); waited += 50) {
		if (waited == wait_ms)
			kill((pid_t)rec->pid, SIGTERM);
		else if (waited == wait_ms + 5000)
			kill((pid_t)rec->pid, SIGKILL);
		else if (waited > wait_ms + 10000)
			return false;
		clock_sleep_us(50 * 1000);
	}
	return true;
}

/*
 * Takes attachment 'rec' down in the reverse order of `vhd mount`:
 * filesystem, loop devices, FUSE mount, mount process, then the undo disk
 * as 'how' says, and the registry entry. With 'lazy', a filesystem that
 * stays busy is detached lazily (MNT_DETACH) instead of failing. Stops at
 * the first step that fails, leaving the record for another try. 'quiet'
 * (used when `vhd mount` itself fails) prints nothing. Returns 0 or the
 * exit status of the failure, which it has printed.
 */
static int teardown(struct vhd_attach *reg, struct vhd_attach_rec *rec, enum finish how, bool lazy,
		    bool quiet)
{
	char err[VHD_ERR_LEN] = "";
	bool alive = server_alive(rec);
	int r, status = 0;

	/* With the mount process dead, the filesystem can only fail: never keep it for busy. */
	lazy = lazy || !alive;
	/* fstype is recorded only once the mount succeeded: never unmount someone else's. */
	if (rec->mountpoint[0] && rec->fstype[0]) {
		r = vhd_attach_umount(rec->mountpoint, MNT_WAIT_MS, lazy);
		if (r == -EBUSY)
			return quiet ? 1
				     : fail(rec->mountpoint, r,
					    "filesystem busy; close what uses it, or use 'vhd "
					    "unmount --all' to detach it lazily");
		if (r < 0)
			return quiet ? 1
				     : fail(rec->mountpoint, r, "unmount failed: %s", strerror(-r));
		if (r == 1 && !quiet)
			fprintf(stderr, "vhd: %s: '%s': busy, detached lazily\n", verb,
				rec->mountpoint);
		rec->fstype[0] = '\0';
		(void)vhd_attach_save(reg, rec);
	}
	for (int i = rec->n_loops - 1; i >= 0; i--) {
		/* Only a device still bound to our file is ours to detach. */
		r = vhd_attach_loop_del(rec->loops[i].dev, rec->file[0] ? rec->file : NULL);
		if (r < 0) {
			(void)vhd_attach_save(reg, rec);
			return quiet ? 1
				     : fail(rec->loops[i].dev, r,
					    "detaching the loop device failed: %s", strerror(-r));
		}
		rec->n_loops = i;
	}
	(void)vhd_attach_save(reg, rec);
	if (rec->fuse_dir[0]) {
		/* A loop device the kernel clears only at its last close still holds the file. */
		r = vhd_attach_umount(rec->fuse_dir, MNT_WAIT_MS, true);
		if (r < 0)
			return quiet ? 1
				     : fail(rec->fuse_dir, r, "FUSE unmount failed: %s",
					    strerror(-r));
	}
	if (!server_wait(rec, SERVER_WAIT_MS)) {
		return quiet ? 1
			     : fail(rec->image, -EBUSY, "mount process %ld does not exit",
				    rec->pid);
	}
	if (rec->undo[0] && file_exists(rec->undo)) {
		if (how == FINISH_COMMIT) {
			struct vhd_ops_opts o = { .delete_child = true, .err = err };
			struct vhd_tool_bar b = { .label = "committing" };

			vhd_tool_set_progress(&o, true, &b);
			r = vhd_merge(rec->undo, &o);
			if (r < 0) {
				status = quiet ? 1
					       : fail(rec->image, r,
						      "commit failed: %s; the changes stay in '%s'",
						      err[0] ? err : strerror(-r), rec->undo);
			} else {
				(void)undo_delete(rec->undo);
			}
		} else if (how == FINISH_DISCARD || !undo_has_data(rec->undo)) {
			r = undo_delete(rec->undo);
			if (r < 0 && !quiet)
				fail(rec->undo, r, NULL);
		} else if (!quiet) {
			printf("undo disk kept: %s\n", rec->undo);
		}
	}
	r = vhd_attach_remove(reg, rec);
	if (r < 0 && !quiet && !status)
		status = fail(vhd_attach_dir(reg), r, "cannot remove attachment %s: %s", rec->id,
			      strerror(-r));
	return status;
}

/* ---- vhd mount ---- */

/*
 * The mount process: serves 'v' (transferred) on rec->fuse_dir, tells the
 * parent through 'ready_fd' that the FUSE mount is up (or why not), and
 * serves until unmounted. Never returns.
 */
static void __attribute__((noreturn))
server_main(const struct vhd_attach_rec *rec, const char *log_path, struct vhd *v, bool read_only,
	    int ready_fd)
{
	struct vhd_fuse *f = NULL;
	int fd, r;

	/* Its own session: a Ctrl-C meant for `vhd mount` must not stop the disk. */
	(void)setsid();
	if (chdir("/") < 0)
		_exit(1);
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		(void)dup2(fd, STDIN_FILENO);
		close(fd);
	}
	/* Stdout must not keep a caller's pipe open (`mnt=$(vhd mount ...)` would hang). */
	fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd >= 0) {
		(void)dup2(fd, STDOUT_FILENO);
		(void)dup2(fd, STDERR_FILENO);
		close(fd);
	}
	r = vhd_fuse_new(&f, v, rec->fuse_dir, read_only);
	if (io_write_all(ready_fd, &r, sizeof(r)) < 0 || r < 0)
		_exit(1);
	close(ready_fd);
	r = vhd_fuse_run(f);
	vhd_fuse_free(f);
	_exit(r < 0 ? 1 : 0);
}

/* The first line of the mount process's log into 'out' (why libfuse failed), or "". */
static void first_log_line(const char *log_path, char *out, size_t cap)
{
	int fd = open(log_path, O_RDONLY | O_CLOEXEC);
	int n;

	out[0] = '\0';
	if (fd < 0)
		return;
	n = io_read_all(fd, out, cap - 1);
	close(fd);
	out[n > 0 ? n : 0] = '\0';
	out[strcspn(out, "\n")] = '\0';
}

/* Forks the mount process for 'v' (transferred) and waits until its FUSE mount is up. */
static int start_server(struct vhd_attach *reg, struct vhd_attach_rec *rec, struct vhd *v,
			bool read_only, char *why, size_t why_cap)
{
	char log_path[PATH_MAX];
	int pfd[2], r = 0;
	ssize_t n;
	pid_t pid;

	snprintf(log_path, sizeof(log_path), "%s/%s/log", vhd_attach_dir(reg), rec->id);
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		vhd_free(v);
		return -errno;
	}
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		r = -errno;
		vhd_free(v);
		close(pfd[0]);
		close(pfd[1]);
		return r;
	}
	if (pid == 0) {
		close(pfd[0]);
		server_main(rec, log_path, v, read_only, pfd[1]);
	}
	/* The child has its own copy of the open image; this one is only closed (no sync). */
	vhd_free(v);
	close(pfd[1]);
	rec->pid = pid;
	(void)vhd_attach_proc_start(pid, &rec->pid_start);
	do
		n = read(pfd[0], &r, sizeof(r));
	while (n < 0 && errno == EINTR);
	close(pfd[0]);
	if (n != (ssize_t)sizeof(r))
		r = -EIO;
	if (r < 0) {
		first_log_line(log_path, why, why_cap);
		(void)waitpid(pid, NULL, 0);
		rec->pid = 0;
	}
	return r;
}

/* Opens what the mount process will serve, making the undo disk in undo mode. */
static int open_image(struct vhd_attach_rec *rec, struct vhd **ret, char *err)
{
	struct vhd_open_opts oo = { .err = err };
	char dir[PATH_MAX];
	const char *tmp = getenv("TMPDIR"), *base;
	struct stat st;
	int r;

	if (rec->mode == VHD_ATTACH_UNDO) {
		struct vhd_create_opts co = { .type = VHD_TYPE_DIFF,
					      .parent = rec->image,
					      .err = err };

		/* /var/tmp rather than /tmp: a kept undo disk must survive a reboot. */
		snprintf(dir, sizeof(dir), "%s/vhd-undo.XXXXXX",
			 tmp && tmp[0] ? tmp : UNDO_DIR_DEFAULT);
		if (!mkdtemp(dir))
			return -errno;
		base = strrchr(rec->image, '/');
		base = base ? base + 1 : rec->image;
		if ((size_t)snprintf(rec->undo, sizeof(rec->undo), "%s/%s.vud", dir, base) >=
		    sizeof(rec->undo)) {
			(void)rmdir(dir);
			rec->undo[0] = '\0';
			return -ENAMETOOLONG;
		}
		r = vhd_create(ret, rec->undo, &co);
		if (r < 0) {
			(void)rmdir(dir);
			rec->undo[0] = '\0';
		}
		return r;
	}
	if (rec->mode == VHD_ATTACH_DIRECT) {
		/* Root passes every permission check: the mode bits say what the owner meant. */
		if (stat(rec->image, &st) == 0 && !(st.st_mode & 0222)) {
			rec->mode = VHD_ATTACH_READ_ONLY;
		} else {
			oo.flags = VHD_OPEN_RDWR;
			r = vhd_open(ret, rec->image, &oo);
			if (r != -EACCES && r != -EROFS && r != -EPERM)
				return r;
			rec->mode = VHD_ATTACH_READ_ONLY;
		}
		fprintf(stderr, "vhd: %s: '%s': not writable, attached read-only\n", verb,
			rec->image);
		oo.flags = 0;
		err[0] = '\0';
	}
	return vhd_open(ret, rec->image, &oo);
}

/* Describes what the probe found, for an error line: "1 (ext4), 2 (swap), 5 (extended)". */
static void describe_parts(const struct vhd_attach_part *parts, int n, char *out, size_t cap)
{
	size_t len = 0;

	out[0] = '\0';
	for (int i = 0; i < n && len < cap; i++) {
		const struct vhd_attach_part *p = &parts[i];
		const char *what = p->is_container ? "extended" : p->fstype;

		if (p->partno == 0 && !what[0])
			continue;
		if (p->partno == 0)
			len += (size_t)snprintf(out + len, cap - len, "%swhole disk (%s)",
						len ? ", " : "", what);
		else
			len += (size_t)snprintf(out + len, cap - len, "%s%d%s%s%s", len ? ", " : "",
						p->partno, what[0] ? " (" : "", what,
						what[0] ? ")" : "");
	}
	if (!out[0])
		snprintf(out, cap, "nothing recognised");
}

static int add_loop(struct vhd_attach *reg, struct vhd_attach_rec *rec, int fd,
		    const struct vhd_attach_part *p, bool read_only)
{
	struct vhd_attach_loop *l;
	int r;

	if (rec->n_loops >= VHD_ATTACH_MAX_LOOPS)
		return -E2BIG;
	l = &rec->loops[rec->n_loops];
	r = vhd_attach_loop_add(fd, p->offset, p->size, read_only, rec->image, l->dev);
	if (r < 0)
		return r;
	l->offset = p->offset;
	l->size = p->size;
	l->partno = p->partno;
	rec->n_loops++;
	return vhd_attach_save(reg, rec);
}

/* Is 'image' attached already? Fills 'ret_id' when it is. */
static bool find_image(struct vhd_attach *reg, const char *image, char *ret_id)
{
	struct vhd_attach_rec *rec = malloc(sizeof(*rec));
	char ids[256][16];
	int n = rec ? vhd_attach_list(reg, ids, 256) : 0;
	bool found = false;

	for (int i = 0; i < n && i < 256 && !found; i++) {
		if (vhd_attach_load(reg, ids[i], rec) < 0 || strcmp(rec->image, image))
			continue;
		memcpy(ret_id, rec->id, sizeof(rec->id));
		found = true;
	}
	free(rec);
	return found;
}

static int do_mount(const struct mount_req *q)
{
	struct vhd_attach *reg = NULL;
	struct vhd_attach_rec *rec = NULL;
	struct vhd_attach_part *parts = NULL;
	char err[VHD_ERR_LEN] = "", why[512] = "", id[16], mnt[PATH_MAX], image[PATH_MAX];
	struct vhd *v = NULL;
	bool ro;
	int fd = -1, n, idx = -1, r, status = EXIT_FAILURE;
	struct stat st;

	rec = calloc(1, sizeof(*rec));
	parts = calloc(VHD_ATTACH_MAX_PARTS, sizeof(*parts));
	if (!rec || !parts) {
		status = fail(q->image_arg, -ENOMEM, NULL);
		goto out;
	}
	if (!realpath(q->image_arg, image)) {
		status = fail(q->image_arg, -errno, NULL);
		goto out;
	}
	if (set_path(rec->image, image) < 0) {
		status = fail(q->image_arg, -ENAMETOOLONG, NULL);
		goto out;
	}
	if (q->mnt_arg) {
		if (!realpath(q->mnt_arg, mnt) || stat(mnt, &st) < 0) {
			status = fail(q->mnt_arg, -errno, NULL);
			goto out;
		}
		if (!S_ISDIR(st.st_mode) || strlen(mnt) >= VHD_ATTACH_PATH_LEN) {
			status = fail(q->mnt_arg, S_ISDIR(st.st_mode) ? -ENAMETOOLONG : -ENOTDIR,
				      NULL);
			goto out;
		}
	}
	r = vhd_attach_new(&reg, run_dir(), true);
	if (r < 0) {
		status = fail(run_dir(), r, NULL);
		goto out;
	}
	if (find_image(reg, rec->image, id)) {
		status = fail(rec->image, -EBUSY, "already attached as %s (see 'vhd mount --list')",
			      id);
		goto out;
	}
	rec->partno = -1;
	rec->mode = q->read_only ? VHD_ATTACH_READ_ONLY
		    : q->direct	 ? VHD_ATTACH_DIRECT
				 : VHD_ATTACH_UNDO;
	r = vhd_attach_reserve(reg, rec);
	if (r < 0) {
		status = fail(run_dir(), r, NULL);
		goto out;
	}
	snprintf(rec->fuse_dir, sizeof(rec->fuse_dir), "%s/%s/fuse", vhd_attach_dir(reg), rec->id);
	if (mkdir(rec->fuse_dir, 0700) < 0) {
		status = fail(rec->fuse_dir, -errno, NULL);
		rec->fuse_dir[0] = '\0';
		goto undo;
	}
	r = open_image(rec, &v, err);
	if (r < 0) {
		status = fail(rec->image, r, "%s", err);
		goto undo;
	}
	ro = rec->mode == VHD_ATTACH_READ_ONLY;
	if (strlen(rec->fuse_dir) + sizeof("/" VHD_FUSE_FILE) > sizeof(rec->file)) {
		vhd_free(v);
		status = fail(rec->fuse_dir, -ENAMETOOLONG, NULL);
		goto undo;
	}
	strcat(strcpy(rec->file, rec->fuse_dir), "/" VHD_FUSE_FILE);
	r = vhd_attach_save(reg, rec);
	if (r < 0) {
		vhd_free(v);
		status = fail(vhd_attach_dir(reg), r, "cannot save the state: %s", strerror(-r));
		goto undo;
	}
	r = start_server(reg, rec, v, ro, why, sizeof(why));
	if (r < 0) {
		status = fail(rec->image, r, "FUSE mount failed: %s", why[0] ? why : strerror(-r));
		goto undo;
	}
	(void)vhd_attach_save(reg, rec);
	fd = open(rec->file, (ro ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (fd < 0) {
		status = fail(rec->file, -errno, NULL);
		goto undo;
	}
	n = vhd_attach_probe(fd, parts, VHD_ATTACH_MAX_PARTS);
	if (n < 0) {
		status = fail(rec->image, n, "probing the partitions failed: %s", strerror(-n));
		goto undo;
	}
	if (q->plug_only) {
		for (int i = 0; i < n && r >= 0; i++)
			if (!parts[i].is_container)
				r = add_loop(reg, rec, fd, &parts[i], ro);
		if (r < 0) {
			status = fail(rec->image, r, "attaching a loop device failed: %s",
				      strerror(-r));
			goto undo;
		}
	} else {
		idx = vhd_attach_choose(parts, n, q->partno);
		if (idx < 0) {
			char found[256];

			describe_parts(parts, n, found, sizeof(found));
			if (idx == -ENOENT)
				status = fail(rec->image, idx, "no partition %d (found: %s)",
					      q->partno, found);
			else if (idx == -EMEDIUMTYPE)
				status = fail(rec->image, idx,
					      "%s %d holds no mountable filesystem (found: %s)",
					      q->partno ? "partition" : "disk", q->partno, found);
			else
				status = fail(rec->image, idx,
					      "no mountable filesystem found (found: %s)", found);
			goto undo;
		}
		r = add_loop(reg, rec, fd, &parts[idx], ro);
		if (r < 0) {
			status = fail(rec->image, r, "attaching a loop device failed: %s",
				      strerror(-r));
			goto undo;
		}
		if (q->mnt_arg) {
			(void)set_path(rec->mountpoint, mnt);
		} else {
			snprintf(rec->mountpoint, sizeof(rec->mountpoint), "%s/%s/mnt",
				 vhd_attach_dir(reg), rec->id);
			if (mkdir(rec->mountpoint, 0755) < 0) {
				status = fail(rec->mountpoint, -errno, NULL);
				goto undo;
			}
			rec->mountpoint_owned = true;
		}
		(void)vhd_attach_save(reg, rec);
		r = vhd_attach_mount(rec->loops[0].dev, rec->mountpoint, parts[idx].fstype, ro);
		if (r < 0) {
			status =
				fail(rec->image, r, "mounting %s (%s) on '%s' failed: %s",
				     rec->loops[0].dev, parts[idx].fstype, rec->mountpoint,
				     r == -ENODEV ? "filesystem type not supported" : strerror(-r));
			goto undo;
		}
		snprintf(rec->fstype, sizeof(rec->fstype), "%s", parts[idx].fstype);
		rec->partno = parts[idx].partno;
		r = vhd_attach_save(reg, rec);
		if (r < 0) {
			status = fail(vhd_attach_dir(reg), r, "cannot save the state: %s",
				      strerror(-r));
			goto undo;
		}
	}
	close(fd);
	fd = -1;
	if (q->json) {
		print_rec_json(rec);
		printf("\n");
	} else if (q->plug_only) {
		for (int i = 0; i < rec->n_loops; i++) {
			const struct vhd_attach_loop *l = &rec->loops[i];

			if (l->partno)
				printf("%s part%d %" PRIu64 " %" PRIu64 "\n", l->dev, l->partno,
				       l->offset, l->size);
			else
				printf("%s disk %" PRIu64 " %" PRIu64 "\n", l->dev, l->offset,
				       l->size);
		}
	} else {
		printf("%s\n", rec->mountpoint);
	}
	status = 0;
	goto out;
undo:
	if (fd >= 0)
		close(fd);
	fd = -1;
	(void)teardown(reg, rec, FINISH_DISCARD, true, true);
out:
	vhd_attach_free(reg);
	free(parts);
	free(rec);
	return status;
}

static const char mount_help[] =
	"Usage: vhd mount [--partition N | --plug-only] [--direct] [--read-only] [-j] IMAGE "
	"[MOUNTPOINT]\n"
	"       vhd mount --list [-j]\n"
	"Serves IMAGE as a raw file through FUSE, binds a loop device to it and mounts\n"
	"a partition (default: the first with a mountable filesystem; 0 = whole disk)\n"
	"at MOUNTPOINT (default: a new folder under the run folder, printed).\n"
	"Changes go to an undo disk unless --direct; see 'vhd unmount'.\n"
	"  --plug-only   stop after the loop devices (one per partition and the disk)\n"
	"  --direct      write IMAGE itself\n"
	"  --read-only   attach and mount read-only (no undo disk)\n"
	"  --list        show the attachments\n"
	"  -j, --json    print JSON\n";

int vhd_tool_mount(int argc, char **argv)
{
	static const struct option opts[] = { { "partition", required_argument, NULL, 'P' },
					      { "plug-only", no_argument, NULL, 'u' },
					      { "direct", no_argument, NULL, 'd' },
					      { "read-only", no_argument, NULL, 'r' },
					      { "list", no_argument, NULL, 'l' },
					      { "json", no_argument, NULL, 'j' },
					      { "help", no_argument, NULL, 'h' },
					      { 0 } };
	struct mount_req q = { .partno = -1 };
	bool list = false;
	char *end;
	long v;
	int c;

	verb = "mount";
	optind = 1;
	while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		switch (c) {
		case 'P':
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || v < 0 || v > 4096)
				return usage_error("bad partition number '%s'", optarg);
			q.partno = (int)v;
			break;
		case 'u':
			q.plug_only = true;
			break;
		case 'd':
			q.direct = true;
			break;
		case 'r':
			q.read_only = true;
			break;
		case 'l':
			list = true;
			break;
		case 'j':
			q.json = true;
			break;
		case 'h':
			fputs(mount_help, stdout);
			return 0;
		default:
			return EXIT_USAGE;
		}
	}
	if (list) {
		if (optind != argc || q.plug_only || q.partno >= 0 || q.direct || q.read_only)
			return usage_error("%s", "--list takes only -j");
		return list_attachments(q.json);
	}
	if (optind != argc - 1 && optind != argc - 2)
		return usage_error("%s", "expects IMAGE [MOUNTPOINT]");
	if (q.plug_only && q.partno >= 0)
		return usage_error("%s", "--plug-only and --partition exclude each other");
	if (q.plug_only && optind == argc - 2)
		return usage_error("%s", "--plug-only takes no MOUNTPOINT");
	q.image_arg = argv[optind];
	q.mnt_arg = optind == argc - 2 ? argv[optind + 1] : NULL;
	return do_mount(&q);
}

/* ---- vhd unmount ---- */

/* Does 'rec' match what the user named: the image, the mount point or a loop device? */
static bool rec_matches(const struct vhd_attach_rec *rec, const char *arg, const char *real)
{
	if (!strcmp(rec->image, arg) || (real && !strcmp(rec->image, real)))
		return true;
	if (rec->mountpoint[0] && rec->fstype[0] &&
	    (!strcmp(rec->mountpoint, arg) || (real && !strcmp(rec->mountpoint, real))))
		return true;
	for (int i = 0; i < rec->n_loops; i++)
		if (!strcmp(rec->loops[i].dev, arg) || (real && !strcmp(rec->loops[i].dev, real)))
			return true;
	return false;
}

static const char unmount_help[] =
	"Usage: vhd unmount [--commit | --discard] IMAGE|MOUNTPOINT|LOOPDEV\n"
	"       vhd unmount --all [--commit | --discard]\n"
	"Unmounts the filesystem, detaches the loop devices and stops the mount process.\n"
	"  --commit    merge the undo disk into the image\n"
	"  --discard   delete the undo disk\n"
	"  (neither: an undo disk holding changes is kept and its path printed)\n"
	"  --all       every attachment, also those whose mount process died; busy\n"
	"              filesystems are detached lazily\n";

int vhd_tool_unmount(int argc, char **argv)
{
	static const struct option opts[] = { { "commit", no_argument, NULL, 'c' },
					      { "discard", no_argument, NULL, 'd' },
					      { "all", no_argument, NULL, 'a' },
					      { "help", no_argument, NULL, 'h' },
					      { 0 } };
	enum finish how = FINISH_KEEP;
	struct vhd_attach *reg = NULL;
	struct vhd_attach_rec *rec = NULL;
	char ids[256][16], real[PATH_MAX];
	const char *arg = NULL;
	bool all = false, found = false, have_real;
	int c, n, r, status = 0;

	verb = "unmount";
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			if (how == FINISH_DISCARD)
				return usage_error("%s",
						   "--commit and --discard exclude each other");
			how = FINISH_COMMIT;
			break;
		case 'd':
			if (how == FINISH_COMMIT)
				return usage_error("%s",
						   "--commit and --discard exclude each other");
			how = FINISH_DISCARD;
			break;
		case 'a':
			all = true;
			break;
		case 'h':
			fputs(unmount_help, stdout);
			return 0;
		default:
			return EXIT_USAGE;
		}
	}
	if (all && optind != argc)
		return usage_error("%s", "--all takes no IMAGE");
	if (!all && optind != argc - 1)
		return usage_error("%s", "expects IMAGE, MOUNTPOINT or LOOPDEV");
	if (!all)
		arg = argv[optind];
	have_real = arg && realpath(arg, real);
	r = vhd_attach_new(&reg, run_dir(), false);
	rec = r < 0 ? NULL : malloc(sizeof(*rec));
	n = !rec ? (r < 0 ? r : -ENOMEM) : vhd_attach_list(reg, ids, 256);
	if (n < 0) {
		status = fail(run_dir(), n, NULL);
		goto out;
	}
	for (int i = 0; i < n && i < 256; i++) {
		r = vhd_attach_load(reg, ids[i], rec);
		if (r == -ENOENT)
			continue; /* being set up by a running `vhd mount` */
		if (r < 0) {
			if (all)
				fail(vhd_attach_dir(reg), r, "attachment %s: bad state file: %s",
				     ids[i], strerror(-r));
			status = all ? EXIT_FAILURE : status;
			continue;
		}
		if (!all && !rec_matches(rec, arg, have_real ? real : NULL))
			continue;
		found = true;
		r = teardown(reg, rec, how, all, false);
		if (r)
			status = r;
		if (!all)
			break;
	}
	if (!all && !found)
		status = fail(arg, -ENOENT, "not attached (see 'vhd mount --list')");
out:
	free(rec);
	vhd_attach_free(reg);
	return status;
}

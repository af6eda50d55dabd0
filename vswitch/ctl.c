/* SPDX-License-Identifier: MIT */
/*
 * Control socket, both ends. The daemon calls ctl_serve() when the listening
 * fd is readable; a request is small and the client writes it at once, so
 * the connection is served synchronously under a short receive timeout
 * rather than with per-client watchers. Only root can connect (0600), so a
 * slow client stalls the loop for at most that timeout.
 */
#include "vswitch/ctl.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/io.h"
#include "common/log.h"

#define CTL_TIMEOUT_MS 1000

struct ctl {
	int fd;
	char *path; /* owned; unlinked on free */
	ctl_handler_fn *fn;
	void *arg;
};

static int ctl_addr(const char *path, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	strcpy(sa->sun_path, path);
	return 0;
}

static void ctl_set_timeouts(int fd, unsigned ms)
{
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };

	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* Whether a daemon answers on 'sa': decides between a stale file and a live peer. */
static int ctl_is_live(const struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int live;

	if (fd < 0)
		return 0;
	live = connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0;
	close(fd);
	return live;
}

static void ctl_mkdir_parent(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return;
	*slash = '\0';
	(void)mkdir(dir, 0755); /* bind() reports a folder that still is not there */
}

int ctl_new(struct ctl **ret, const char *path, ctl_handler_fn *fn, void *arg)
{
	struct sockaddr_un sa;
	struct ctl *ctl;
	mode_t old_umask;
	int r;

	r = ctl_addr(path, &sa);
	if (r < 0)
		return log_error_errno(r, "control socket '%s'", path);
	if (ctl_is_live(&sa)) {
		log_error("control socket '%s': another vswitchd is running (use -s for a second "
			  "one)",
			  path);
		return -EADDRINUSE;
	}
	ctl = calloc(1, sizeof(*ctl));
	if (!ctl)
		return -ENOMEM;
	ctl->fn = fn;
	ctl->arg = arg;
	ctl->path = strdup(path);
	ctl->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (!ctl->path || ctl->fd < 0) {
		r = ctl->fd < 0 ? -errno : -ENOMEM;
		goto fail;
	}
	ctl_mkdir_parent(path);
	(void)unlink(path);
	/* Create the file 0600 from the start: no window where others can connect. */
	old_umask = umask(0177);
	r = bind(ctl->fd, (struct sockaddr *)&sa, sizeof(sa)) ? -errno : 0;
	umask(old_umask);
	if (r < 0 || listen(ctl->fd, 16) < 0) {
		r = r < 0 ? r : -errno;
		log_error_errno(r, "control socket '%s': cannot listen", path);
		goto fail;
	}
	*ret = ctl;
	return 0;
fail:
	if (ctl->fd >= 0)
		close(ctl->fd);
	free(ctl->path);
	free(ctl);
	return r;
}

void ctl_free(struct ctl *ctl)
{
	if (!ctl)
		return;
	close(ctl->fd);
	(void)unlink(ctl->path);
	free(ctl->path);
	free(ctl);
}

int ctl_fd(const struct ctl *ctl)
{
	return ctl->fd;
}

struct json_object *ctl_error(const char *fmt, ...)
{
	struct json_object *o = json_object_new_object();
	char msg[512];
	va_list ap;

	if (!o)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_object_object_add(o, "error", json_object_new_string(msg));
	return o;
}

/* Reads until the peer's shutdown, a newline, or the cap. Returns length or -errno. */
static ssize_t ctl_read_all(int fd, char *buf, size_t cap)
{
	size_t len = 0;

	while (len < cap) {
		ssize_t n = read(fd, buf + len, cap - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		len += (size_t)n;
		if (memchr(buf + len - (size_t)n, '\n', (size_t)n))
			break;
	}
	if (len == cap)
		return -E2BIG;
	return (ssize_t)len;
}

/* Turns request text into a reply; every malformed request gets an error reply. */
static struct json_object *ctl_dispatch(struct ctl *ctl, const char *text)
{
	const char *args[64];
	struct json_object *req, *cmd, *jargs = NULL, *reply;
	size_t n = 0;

	req = json_tokener_parse(text);
	if (!req || !json_object_is_type(req, json_type_object) ||
	    !json_object_object_get_ex(req, "cmd", &cmd) ||
	    !json_object_is_type(cmd, json_type_string)) {
		json_object_put(req);
		return ctl_error("malformed request");
	}
	if (json_object_object_get_ex(req, "args", &jargs)) {
		if (!json_object_is_type(jargs, json_type_array) ||
		    json_object_array_length(jargs) > sizeof(args) / sizeof(args[0])) {
			json_object_put(req);
			return ctl_error(
				"malformed request: 'args' must be a list of at most 64 strings");
		}
		n = json_object_array_length(jargs);
		for (size_t i = 0; i < n; i++) {
			struct json_object *a = json_object_array_get_idx(jargs, i);

			if (!json_object_is_type(a, json_type_string)) {
				json_object_put(req);
				return ctl_error("malformed request: argument %zu is not a string",
						 i + 1);
			}
			args[i] = json_object_get_string(a);
		}
	}
	reply = ctl->fn(ctl->arg, json_object_get_string(cmd), args, n);
	json_object_put(req);
	return reply;
}

void ctl_serve(struct ctl *ctl)
{
	static char buf[CTL_REQUEST_MAX + 1];
	struct json_object *reply;
	const char *out;
	ssize_t len;
	int fd;

	fd = accept4(ctl->fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return; /* EAGAIN: another wakeup took it; anything else is the peer's loss */
	ctl_set_timeouts(fd, CTL_TIMEOUT_MS);
	len = ctl_read_all(fd, buf, CTL_REQUEST_MAX);
	if (len == -E2BIG)
		reply = ctl_error("request larger than %u bytes", CTL_REQUEST_MAX);
	else if (len <= 0)
		reply = NULL;
	else {
		buf[len] = '\0';
		reply = ctl_dispatch(ctl, buf);
	}
	if (reply) {
		out = json_object_to_json_string_ext(reply, JSON_C_TO_STRING_PLAIN);
		if (io_write_all(fd, out, strlen(out)) == 0)
			(void)io_write_all(fd, "\n", 1);
		json_object_put(reply);
	}
	close(fd);
}

int ctl_call(const char *path, const char *cmd, const char *const *args, size_t n_args,
	     struct json_object **ret)
{
	struct json_object *req = json_object_new_object(), *jargs = json_object_new_array(),
			   *reply;
	struct sockaddr_un sa;
	const char *text;
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int fd = -1, r;

	if (!req || !jargs) {
		r = -ENOMEM;
		goto out;
	}
	r = ctl_addr(path, &sa);
	if (r < 0)
		goto out;
	json_object_object_add(req, "cmd", json_object_new_string(cmd));
	for (size_t i = 0; i < n_args; i++)
		json_object_array_add(jargs, json_object_new_string(args[i]));
	json_object_object_add(req, "args", jargs);
	jargs = NULL;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = -errno;
		goto out;
	}
	text = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN);
	r = io_write_all(fd, text, strlen(text));
	if (r == 0)
		r = io_write_all(fd, "\n", 1);
	if (r < 0)
		goto out;
	(void)shutdown(fd, SHUT_WR);
	for (;;) {
		ssize_t n;

		if (cap - len < 4096) {
			char *nb = realloc(buf, cap + 65536);

			if (!nb) {
				r = -ENOMEM;
				goto out;
			}
			buf = nb;
			cap += 65536;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (!buf) {
		r = -EBADMSG;
		goto out;
	}
	buf[len] = '\0';
	reply = json_tokener_parse(buf);
	if (!reply || !json_object_is_type(reply, json_type_object)) {
		json_object_put(reply);
		r = -EBADMSG;
		goto out;
	}
	*ret = reply;
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	json_object_put(jargs);
	json_object_put(req);
	return r;
}

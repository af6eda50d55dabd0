/* SPDX-License-Identifier: MIT */
/*
 * `vhd export`: parses the verb's options, opens each image (read-only
 * unless --writable) with libvhd, hands them to the NBD server of
 * vhd_export.c, listens on a Unix or TCP socket, prints one ready line per
 * export and serves until SIGTERM or SIGINT. Called from vhd_tool.c's verb
 * table. Errors follow the tool's convention: one line
 * "vhd: export: 'PATH': reason", exit 1; usage errors exit 2.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "common/io.h"
#include "common/log.h"
#include "vhd-attach/vhd.h"
#include "vhd-attach/vhd_export.h"
#include "vhd-attach/vhd_tool.h"

#define EXIT_USAGE 2

static const char help_text[] =
	"Usage: vhd export [--socket PATH | --listen [HOST:]PORT] [--writable]\n"
	"                  [--name NAME]... [--pid-file FILE] [-v] IMAGE...\n"
	"Serves each IMAGE (fixed, dynamic, or a differencing chain through its child)\n"
	"as one NBD export until SIGTERM or SIGINT. Export names default to the file\n"
	"name without '.vhd'; each --name names the next IMAGE in order. The socket\n"
	"defaults to ./NAME.sock of the first export; --listen serves TCP instead\n"
	"(HOST defaults to 127.0.0.1). Exports are read-only unless --writable.\n";

/* A usage error of `vhd export`: the message, then the argument it is about, if any. */
static int usage_error(const char *msg, const char *arg)
{
	return arg ? vhd_tool_usage("export", "%s '%s'", msg, arg)
		   : vhd_tool_usage("export", "%s", msg);
}

/* The default export name: the file name without a ".vhd" suffix (malloc'd), or NULL. */
static char *default_name(const char *path)
{
	const char *base = strrchr(path, '/');
	size_t n;
	char *out;

	base = base ? base + 1 : path;
	n = strlen(base);
	if (n > 4 && !strcasecmp(base + n - 4, ".vhd"))
		n -= 4;
	out = malloc(n + 1);
	if (out) {
		memcpy(out, base, n);
		out[n] = '\0';
	}
	return out;
}

/*
 * Splits "[HOST:]PORT" (HOST may be "[V6]") into 'host' and 'port', both
 * pointing into 'spec' (modified). Returns 0 or -EINVAL.
 */
static int split_listen(char *spec, const char **host, const char **port)
{
	char *colon;

	*host = "127.0.0.1";
	if (spec[0] == '[') {
		char *end = strstr(spec, "]:");

		if (!end)
			return -EINVAL;
		*end = '\0';
		*host = spec + 1;
		*port = end + 2;
	} else if ((colon = strchr(spec, ':'))) {
		/* A bare IPv6 address would be ambiguous: it must be in brackets. */
		if (strchr(colon + 1, ':'))
			return -EINVAL;
		*colon = '\0';
		*host = spec;
		*port = colon + 1;
	} else {
		*port = spec;
	}
	if (!**host || !**port || strspn(*port, "0123456789") != strlen(*port) ||
	    strlen(*port) > 5 || atoi(*port) > 65535)
		return -EINVAL;
	return 0;
}

static int write_pid_file(const char *path)
{
	char buf[32];
	int fd, r, n;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	r = io_write_all(fd, buf, (size_t)n);
	if (close(fd) < 0 && r == 0)
		r = -errno;
	return r;
}

int vhd_tool_export(int argc, char **argv)
{
	static const struct option opts[] = { { "socket", required_argument, NULL, 's' },
					      { "listen", required_argument, NULL, 'l' },
					      { "writable", no_argument, NULL, 'w' },
					      { "name", required_argument, NULL, 'n' },
					      { "pid-file", required_argument, NULL, 'p' },
					      { "verbose", no_argument, NULL, 'v' },
					      { "help", no_argument, NULL, 'h' },
					      { 0 } };
	const char *sock = NULL, *pid_file = NULL, *host = NULL, *port = NULL;
	char *listen_spec = NULL, *def_sock = NULL, where[300];
	char **names = NULL;
	int n_names = 0, n_images, c, r, status = EXIT_FAILURE, sfd = -1;
	bool writable = false, pid_written = false;
	struct vhd_export *s = NULL;
	sigset_t mask;

	names = calloc((size_t)argc, sizeof(*names));
	if (!names)
		return vhd_tool_fail("export", -ENOMEM, NULL);
	while ((c = getopt_long(argc, argv, "s:l:wn:p:vh", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			sock = optarg;
			break;
		case 'l':
			listen_spec = optarg;
			break;
		case 'w':
			writable = true;
			break;
		case 'n':
			names[n_names++] = optarg;
			break;
		case 'p':
			pid_file = optarg;
			break;
		case 'v':
			log_set_level(LOG_LVL_DEBUG);
			break;
		case 'h':
			fputs(help_text, stdout);
			free(names);
			return 0;
		default:
			free(names);
			return EXIT_USAGE;
		}
	}
	n_images = argc - optind;
	if (n_images < 1)
		status = usage_error("expects at least one IMAGE", NULL);
	else if (n_images > VHD_EXPORT_MAX_EXPORTS)
		status = usage_error("too many images", NULL);
	else if (n_names > n_images)
		status = usage_error("more --name options than images", NULL);
	else if (sock && listen_spec)
		status = usage_error("--socket and --listen exclude each other", NULL);
	else if (listen_spec && split_listen(listen_spec, &host, &port) < 0)
		status = usage_error("bad --listen address (expects [HOST:]PORT)", listen_spec);
	else
		status = 0;
	if (status)
		goto out;
	status = EXIT_FAILURE;
	for (int i = n_names; i < n_images; i++) {
		names[i] = default_name(argv[optind + i]);
		if (!names[i]) {
			r = vhd_tool_fail(argv[optind + i], -ENOMEM, NULL);
			goto out;
		}
	}
	for (int i = 0; i < n_images; i++) {
		if (!names[i][0] || strlen(names[i]) > 4096) {
			status = usage_error("bad export name", names[i]);
			goto out;
		}
		for (int j = 0; j < i; j++) {
			if (!strcmp(names[i], names[j])) {
				status = usage_error("two exports named (give --name)", names[i]);
				goto out;
			}
		}
	}

	/* Signals become readable on a signalfd; the connection threads inherit the mask. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0 ||
	    (sfd = signalfd(-1, &mask, SFD_CLOEXEC)) < 0) {
		vhd_tool_fail("signalfd", -errno, NULL);
		goto out;
	}
	(void)signal(SIGPIPE, SIG_IGN);

	r = vhd_export_new(&s, writable);
	if (r < 0) {
		vhd_tool_fail("export", r, NULL);
		goto out;
	}
	for (int i = 0; i < n_images; i++) {
		const char *path = argv[optind + i];
		char err[VHD_ERR_LEN] = "";
		struct vhd_open_opts o = { .flags = writable ? VHD_OPEN_RDWR : 0, .err = err };
		struct vhd *v;

		r = vhd_open(&v, path, &o);
		if (r < 0) {
			vhd_tool_fail(path, r, err);
			goto out;
		}
		r = vhd_export_add(s, names[i], v);
		if (r < 0) {
			vhd_free(v);
			if (r == -EBUSY)
				vhd_tool_fail(path, r,
					      "shares a file with another export: writes to one "
					      "would change the other");
			else
				vhd_tool_fail(path, r, NULL);
			goto out;
		}
	}

	if (listen_spec) {
		r = vhd_export_listen_tcp(s, host, port, where, sizeof(where));
		if (r < 0) {
			vhd_tool_fail(listen_spec, r,
				      r == -EADDRNOTAVAIL ? "cannot resolve or use that address"
							  : NULL);
			goto out;
		}
	} else {
		if (!sock) {
			def_sock = malloc(strlen(names[0]) + 8);
			if (!def_sock) {
				vhd_tool_fail("export", -ENOMEM, NULL);
				goto out;
			}
			sprintf(def_sock, "./%s.sock", names[0]);
			sock = def_sock;
		}
		r = vhd_export_listen_unix(s, sock);
		if (r < 0) {
			vhd_tool_fail(sock, r,
				      r == -EADDRINUSE
					      ? "another server is listening on this socket"
					      : NULL);
			goto out;
		}
		snprintf(where, sizeof(where), "%s", sock);
	}
	if (pid_file) {
		r = write_pid_file(pid_file);
		if (r < 0) {
			vhd_tool_fail(pid_file, r, NULL);
			goto out;
		}
		pid_written = true;
	}
	for (int i = 0; i < n_images; i++)
		printf("vhd: export: serving %s on %s\n", names[i], where);
	if (fflush(stdout) != 0)
		log_warn("export: cannot write the ready line to standard output");

	r = vhd_export_run(s, sfd);
	status = r < 0 ? EXIT_FAILURE : 0;
out:
	vhd_export_free(s);
	if (pid_written)
		(void)unlink(pid_file);
	if (sfd >= 0)
		close(sfd);
	for (int i = n_names; i < argc; i++)
		free(names[i]);
	free(names);
	free(def_sock);
	return status;
}

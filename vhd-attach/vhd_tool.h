/* SPDX-License-Identifier: MIT */
/*
 * The verbs of the `vhd` tool that live outside vhd_tool.c: attaching
 * images to the host (vhd_mount_tool.c) and serving them over NBD
 * (vhd_export_tool.c). Each takes the verb's own argv (argv[0] is the verb)
 * and returns the process exit status: 0 success, 1 failure, 2 usage error.
 */
#ifndef VSWITCH_VHD_TOOL_H
#define VSWITCH_VHD_TOOL_H

#include <stdbool.h>

struct vhd_ops_opts;

/* A progress bar on standard error, qemu-img style, for the long operations. */
struct vhd_tool_bar {
	int last;	   /* per mille shown, -1 none */
	const char *label; /* "committing", or NULL */
};

/*
 * Draws 'b' for the operation 'o' when 'want' and standard error is a
 * terminal (vhd_ops_opts.progress and .ctx); 'b' must outlive the operation.
 */
void vhd_tool_set_progress(struct vhd_ops_opts *o, bool want, struct vhd_tool_bar *b);

/*
 * Prints the one failure line of a verb, "vhd: VERB: 'PATH': reason", the
 * reason being 'err' (borrowed) or, when it is NULL or empty, strerror(-r).
 * Returns the exit status 1.
 */
int vhd_tool_fail(const char *path, int r, const char *err);

/*
 * Prints the one line of a usage error, "vhd: VERB: message (see 'vhd VERB
 * --help')", the message formatted from 'fmt'. Returns the exit status 2.
 */
/* Prints 's' to standard output as a JSON string, quotes and escapes included. */
void vhd_tool_json_str(const char *s);

int vhd_tool_usage(const char *verb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

int vhd_tool_mount(int argc, char **argv);
int vhd_tool_unmount(int argc, char **argv);
int vhd_tool_export(int argc, char **argv);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * The daemon's control socket: a unix stream socket (mode 0600) taking one
 * JSON request per connection, {"cmd": VERB, "args": [STRING...]}, and
 * answering one JSON object, {"error": "..."} on failure. The daemon gives a
 * handler that turns a request into a reply; this module owns the socket,
 * the framing and the size cap. vswitchctl is the client.
 */
#ifndef VSWITCH_CTL_H
#define VSWITCH_CTL_H

#include <stddef.h>

struct ctl;
struct json_object;

#define CTL_DEFAULT_PATH "/run/vswitch/vswitchd.sock"
#define CTL_REQUEST_MAX	 65536 /* bytes of one request; more is refused */

/*
 * Handles one request: 'cmd' and the 'n_args' strings of 'args' (borrowed for
 * the call). Returns the reply (transferred to the caller), or NULL for
 * out of memory.
 */
typedef struct json_object *ctl_handler_fn(void *arg, const char *cmd, const char *const *args,
					   size_t n_args);

/*
 * Binds 'path' (its folder is created 0755 if missing). A stale socket file
 * is replaced; one a live daemon answers on gives -EADDRINUSE. Returns 0, or
 * a negative errno after logging the reason. 'fn' and 'arg' are kept.
 */
int ctl_new(struct ctl **ret, const char *path, ctl_handler_fn *fn, void *arg);

/* Closes the socket and removes its file. Accepts NULL. */
void ctl_free(struct ctl *ctl);

/* The listening fd, for the event loop to watch for readability. */
int ctl_fd(const struct ctl *ctl);

/* Accepts and serves one pending connection; called when ctl_fd() is readable. */
void ctl_serve(struct ctl *ctl);

/* Builds {"error": msg} from a printf format. Returns NULL for out of memory. */
struct json_object *ctl_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Client side: sends 'cmd' with 'args' to the daemon at 'path' and waits for
 * the reply. Returns 0 with '*ret' set (transferred), -ENOENT/-ECONNREFUSED
 * when no daemon listens, -EBADMSG for a reply that is not JSON, or -errno.
 */
int ctl_call(const char *path, const char *cmd, const char *const *args, size_t n_args,
	     struct json_object **ret);

#endif

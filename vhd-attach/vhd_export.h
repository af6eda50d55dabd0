/* SPDX-License-Identifier: MIT */
/*
 * An NBD server for VHD images: each export is one opened image (fixed,
 * dynamic, or a differencing chain opened through its child) served to
 * NBD clients (qemu, qemu-img, qemu-io, nbd-client, libnbd) over one Unix
 * or TCP listening socket. `vhd export` (vhd_export_tool.c) opens the
 * images, hands them over, listens, and runs the server until a signal.
 *
 * The wire format is nbd_proto.c's; this module owns the sockets and the
 * threads: one thread per connection, each reading requests in batches and
 * answering them in order, with one mutex per image because libvhd is not
 * thread-safe. Errors are negative errno values; problems with a client are
 * logged here (they end only that connection), setup errors are returned
 * to the caller to report.
 */
#ifndef VSWITCH_VHD_EXPORT_H
#define VSWITCH_VHD_EXPORT_H

#include <stdbool.h>
#include <stddef.h>

struct vhd;
struct vhd_export;

#define VHD_EXPORT_MAX_EXPORTS 64	   /* images served by one server */
#define VHD_EXPORT_MAX_CONNS   64	   /* clients connected at once; more are refused */
#define VHD_EXPORT_MAX_REQUEST (32u << 20) /* bytes of one read or write request */

/*
 * Makes an empty server in '*ret'. With 'writable' clients may write,
 * trim and zero, and every image added must be open for writing; without
 * it the exports are read-only (NBD_FLAG_READ_ONLY, writes refused with
 * EPERM). Returns 0 or -ENOMEM.
 */
int vhd_export_new(struct vhd_export **ret, bool writable);

/*
 * Closes the listening socket (removing a Unix socket this server made,
 * if it is still the one at its path), drops any connection still open,
 * and closes every image without flushing it (vhd_export_run() flushes).
 * Accepts NULL and a server that never ran.
 */
void vhd_export_free(struct vhd_export *s);

/*
 * Adds image 'v' as export 'name' (copied; the empty string is not a
 * name, it selects the first export). On success 's' owns 'v'; on failure
 * the caller keeps it. Returns 0, -EINVAL (empty name or longer than the
 * protocol's 4096 bytes), -EEXIST (name taken), -E2BIG (VHD_EXPORT_MAX_EXPORTS
 * reached), -EBADF (writable server, 'v' not open for writing), -EBUSY
 * (writable server and 'v' shares a file with another export: one writer
 * would change what the other serves), or -ENOMEM.
 */
int vhd_export_add(struct vhd_export *s, const char *name, struct vhd *v);

/*
 * Listens on the Unix socket 'path' (borrowed). The socket appears at
 * 'path' only once it accepts connections, so a caller may wait for the
 * file. A stale socket (nobody listening) is replaced. Returns 0,
 * -ENAMETOOLONG, -EADDRINUSE (a server answers there), -EEXIST (a file that
 * is not a socket), -EALREADY (already listening), or the socket call's
 * -errno.
 */
int vhd_export_listen_unix(struct vhd_export *s, const char *path);

/*
 * Listens on TCP 'host' (name or numeric address; borrowed) and 'port'
 * (number, 0 for any free one). Writes the bound address as "HOST:PORT"
 * ("[V6]:PORT" for IPv6) into 'ret_addr' ('cap' bytes). Returns 0,
 * -EADDRNOTAVAIL (the host does not resolve), -EALREADY, or the socket
 * call's -errno (-EADDRINUSE...).
 */
int vhd_export_listen_tcp(struct vhd_export *s, const char *host, const char *port, char *ret_addr,
			  size_t cap);

/*
 * Serves clients until 'stop_fd' (borrowed, e.g. a signalfd) becomes
 * readable. Then stops accepting, lets every connection finish the
 * requests it has read, closes them, and flushes every image. Returns 0,
 * -EINVAL when not listening, -EIO when a flush failed (logged with the
 * export's name), or the -errno of a failure that stopped the accept loop
 * (logged).
 */
int vhd_export_run(struct vhd_export *s, int stop_fd);

#endif

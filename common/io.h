/* SPDX-License-Identifier: MIT */
/*
 * Small blocking I/O helpers shared by the control socket, the lease
 * journal and the readers of small text files (profiles, resolv.conf,
 * /proc). Depends on libc only.
 */
#ifndef VSWITCH_COMMON_IO_H
#define VSWITCH_COMMON_IO_H

#include <stddef.h>

/* Writes all 'len' bytes of 'p' to 'fd', retrying short writes and EINTR. 0 or -errno. */
int io_write_all(int fd, const void *p, size_t len);

/*
 * Reads from 'fd' into 'buf' until end of file or 'cap' bytes (<= INT_MAX),
 * retrying short reads and EINTR. Returns the bytes read or -errno. To tell
 * a file that is too large, ask for one byte more than the largest allowed.
 */
int io_read_all(int fd, void *buf, size_t cap);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * Small blocking I/O helpers shared by the control socket and the lease
 * journal. Depends on libc only.
 */
#ifndef VSWITCH_COMMON_IO_H
#define VSWITCH_COMMON_IO_H

#include <stddef.h>

/* Writes all 'len' bytes of 'p' to 'fd', retrying short writes and EINTR. 0 or -errno. */
int io_write_all(int fd, const void *p, size_t len);

#endif

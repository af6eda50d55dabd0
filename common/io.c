/* SPDX-License-Identifier: MIT */
/* Blocking I/O helpers (io.h). */
#include "common/io.h"

#include <errno.h>
#include <unistd.h>

int io_write_all(int fd, const void *p, size_t len)
{
	const char *b = p;

	while (len) {
		ssize_t n = write(fd, b, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		b += n;
		len -= (size_t)n;
	}
	return 0;
}

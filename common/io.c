/* SPDX-License-Identifier: MIT */
/* Blocking I/O helpers (io.h). */
#include "common/io.h"

#include <assert.h>
#include <errno.h>
#include <limits.h>
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

int io_read_all(int fd, void *buf, size_t cap)
{
	size_t len = 0;

	assert(cap <= INT_MAX);
	while (len < cap) {
		ssize_t n = read(fd, (char *)buf + len, cap - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	return (int)len;
}

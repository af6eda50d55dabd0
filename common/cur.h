/* SPDX-License-Identifier: MIT */
/*
 * Byte cursor for untrusted input (frames, DHCP messages, VHD structures,
 * control requests). Every parser reads through it: a pull checks the length
 * first and leaves the cursor untouched when the bytes are not there, so no
 * parser ever forms a pointer past the end of its buffer.
 */
#ifndef VSWITCH_COMMON_CUR_H
#define VSWITCH_COMMON_CUR_H

#include <stddef.h>
#include <stdint.h>

#include "common/bytes.h"

struct cur {
	const uint8_t *p; /* next unread byte; borrowed */
	size_t len;	  /* bytes left from p */
};

static inline struct cur cur_make(const void *p, size_t len)
{
	return (struct cur){ .p = p, .len = len };
}

/* Takes 'n' bytes; returns their start, or NULL (cursor unchanged) if fewer remain. */
static inline const uint8_t *cur_pull(struct cur *c, size_t n)
{
	if (n > c->len) /* compare lengths; never form a pointer past the end */
		return NULL;
	c->p += n;
	c->len -= n;
	return c->p - n;
}

/* Returns a sub-cursor over the next 'n' bytes and skips them; 0 or -EBADMSG. */
static inline int cur_sub(struct cur *c, size_t n, struct cur *ret_sub)
{
	const uint8_t *p = cur_pull(c, n);

	if (!p)
		return -74; /* EBADMSG, without pulling errno.h into every parser */
	*ret_sub = cur_make(p, n);
	return 0;
}

/* Reads one field; each returns 0, or -EBADMSG with the cursor unchanged. */
static inline int cur_u8(struct cur *c, uint8_t *ret)
{
	const uint8_t *p = cur_pull(c, 1);

	if (!p)
		return -74;
	*ret = p[0];
	return 0;
}

static inline int cur_be16(struct cur *c, uint16_t *ret)
{
	const uint8_t *p = cur_pull(c, 2);

	if (!p)
		return -74;
	*ret = get_be16(p);
	return 0;
}

static inline int cur_be32(struct cur *c, uint32_t *ret)
{
	const uint8_t *p = cur_pull(c, 4);

	if (!p)
		return -74;
	*ret = get_be32(p);
	return 0;
}

static inline int cur_be64(struct cur *c, uint64_t *ret)
{
	const uint8_t *p = cur_pull(c, 8);

	if (!p)
		return -74;
	*ret = get_be64(p);
	return 0;
}

#endif

/* SPDX-License-Identifier: MIT */
/*
 * Pure codecs for the VHD footer, dynamic header, BAT, geometry and locator
 * text (see vhd_fmt.h). Input bytes are read through the cursor of
 * common/cur.h; nothing here touches files, allocates or logs above debug.
 */
#include "vhd-attach/vhd_fmt.h"

#include <errno.h>
#include <string.h>

#include "common/bytes.h"
#include "common/cur.h"

static const uint8_t footer_cookie[8] = { 'c', 'o', 'n', 'e', 'c', 't', 'i', 'x' };
static const uint8_t header_cookie[8] = { 'c', 'x', 's', 'p', 'a', 'r', 's', 'e' };

uint32_t vhd_fmt_checksum(const uint8_t *buf, size_t len, size_t csum_off)
{
	uint32_t sum = 0;

	for (size_t i = 0; i < len; i++)
		if (i < csum_off || i >= csum_off + 4)
			sum += buf[i];
	return ~sum;
}

int vhd_fmt_footer_parse(const uint8_t *buf, size_t len, struct vhd_footer *ret, bool *ret_csum_ok)
{
	struct cur c = cur_make(buf, len);
	struct vhd_footer f = { 0 };
	const uint8_t *p;

	if (len < VHD_FOOTER_LEN)
		return -EBADMSG;
	p = cur_pull(&c, 8);
	if (memcmp(p, footer_cookie, 8) != 0)
		return -ENOTTY;
	(void)cur_be32(&c, &f.features);
	(void)cur_be32(&c, &f.version);
	(void)cur_be64(&c, &f.data_offset);
	(void)cur_be32(&c, &f.timestamp);
	memcpy(f.creator_app, cur_pull(&c, 4), 4);
	(void)cur_be32(&c, &f.creator_ver);
	(void)cur_be32(&c, &f.creator_os);
	(void)cur_be64(&c, &f.orig_size);
	(void)cur_be64(&c, &f.cur_size);
	(void)cur_be16(&c, &f.cylinders);
	(void)cur_u8(&c, &f.heads);
	(void)cur_u8(&c, &f.spt);
	(void)cur_be32(&c, &f.type);
	(void)cur_be32(&c, &f.checksum);
	memcpy(f.uuid, cur_pull(&c, 16), 16);
	(void)cur_u8(&c, &f.saved_state);

	/* Only the major version matters to readers; libvhdi insists on 1.0. */
	if ((f.version >> 16) != 1)
		return -EBADMSG;
	if (f.type != VHD_TYPE_FIXED && f.type != VHD_TYPE_DYNAMIC && f.type != VHD_TYPE_DIFF)
		return -EBADMSG;
	if (f.saved_state > 1)
		return -EBADMSG;
	if (f.type != VHD_TYPE_FIXED && (f.data_offset == VHD_NO_OFFSET || f.data_offset % 512))
		return -EBADMSG;
	if (f.cur_size > VHD_MAX_SIZE)
		return -E2BIG;
	*ret_csum_ok = vhd_fmt_checksum(buf, VHD_FOOTER_LEN, 64) == f.checksum;
	*ret = f;
	return 0;
}

void vhd_fmt_footer_build(const struct vhd_footer *f, uint8_t *buf)
{
	memset(buf, 0, VHD_FOOTER_LEN);
	memcpy(buf, footer_cookie, 8);
	put_be32(buf + 8, f->features);
	put_be32(buf + 12, f->version);
	put_be64(buf + 16, f->data_offset);
	put_be32(buf + 24, f->timestamp);
	memcpy(buf + 28, f->creator_app, 4);
	put_be32(buf + 32, f->creator_ver);
	put_be32(buf + 36, f->creator_os);
	put_be64(buf + 40, f->orig_size);
	put_be64(buf + 48, f->cur_size);
	put_be16(buf + 56, f->cylinders);
	buf[58] = f->heads;
	buf[59] = f->spt;
	put_be32(buf + 60, f->type);
	memcpy(buf + 68, f->uuid, 16);
	buf[84] = f->saved_state;
	put_be32(buf + 64, vhd_fmt_checksum(buf, VHD_FOOTER_LEN, 64));
}

static bool is_pow2(uint32_t v)
{
	return v && !(v & (v - 1));
}

int vhd_fmt_header_parse(const uint8_t *buf, size_t len, struct vhd_header *ret, bool *ret_csum_ok)
{
	struct cur c = cur_make(buf, len);
	struct vhd_header h = { 0 };
	uint32_t reserved;

	if (len < VHD_HEADER_LEN)
		return -EBADMSG;
	if (memcmp(cur_pull(&c, 8), header_cookie, 8) != 0)
		return -ENOTTY;
	(void)cur_be64(&c, &h.data_offset);
	(void)cur_be64(&c, &h.table_offset);
	(void)cur_be32(&c, &h.version);
	(void)cur_be32(&c, &h.max_entries);
	(void)cur_be32(&c, &h.block_size);
	(void)cur_be32(&c, &h.checksum);
	memcpy(h.parent_uuid, cur_pull(&c, 16), 16);
	(void)cur_be32(&c, &h.parent_ts);
	(void)cur_be32(&c, &reserved);
	memcpy(h.parent_name, cur_pull(&c, VHD_PARENT_NAME_LEN), VHD_PARENT_NAME_LEN);
	for (int i = 0; i < VHD_N_LOCATORS; i++) {
		struct vhd_locator *l = &h.loc[i];

		(void)cur_be32(&c, &l->code);
		(void)cur_be32(&c, &l->space);
		(void)cur_be32(&c, &l->len);
		(void)cur_be32(&c, &reserved);
		(void)cur_be64(&c, &l->offset);
		/* A used slot must point somewhere; an unused one is ignored. */
		if (l->code != VHD_PLAT_NONE && l->len && l->offset > UINT64_MAX - l->len)
			return -EBADMSG;
	}

	if ((h.version >> 16) != 1)
		return -EBADMSG;
	if (!is_pow2(h.block_size) || h.block_size < VHD_BLOCK_MIN || h.block_size > VHD_BLOCK_MAX)
		return -EBADMSG;
	if (h.max_entries == 0)
		return -EBADMSG;
	if (h.max_entries > VHD_MAX_BAT)
		return -E2BIG;
	if (h.table_offset % VHD_SECTOR || h.table_offset > (1ull << 42))
		return -EBADMSG;
	*ret_csum_ok = vhd_fmt_checksum(buf, VHD_HEADER_LEN, 36) == h.checksum;
	*ret = h;
	return 0;
}

void vhd_fmt_header_build(const struct vhd_header *h, uint8_t *buf)
{
	memset(buf, 0, VHD_HEADER_LEN);
	memcpy(buf, header_cookie, 8);
	put_be64(buf + 8, h->data_offset);
	put_be64(buf + 16, h->table_offset);
	put_be32(buf + 24, h->version);
	put_be32(buf + 28, h->max_entries);
	put_be32(buf + 32, h->block_size);
	memcpy(buf + 40, h->parent_uuid, 16);
	put_be32(buf + 56, h->parent_ts);
	memcpy(buf + 64, h->parent_name, VHD_PARENT_NAME_LEN);
	for (int i = 0; i < VHD_N_LOCATORS; i++) {
		uint8_t *e = buf + 576 + 24 * i;

		put_be32(e, h->loc[i].code);
		put_be32(e + 4, h->loc[i].space);
		put_be32(e + 8, h->loc[i].len);
		put_be64(e + 16, h->loc[i].offset);
	}
	put_be32(buf + 36, vhd_fmt_checksum(buf, VHD_HEADER_LEN, 36));
}

int vhd_fmt_bat_parse(const uint8_t *buf, size_t len, uint32_t n, uint32_t *ret)
{
	struct cur c = cur_make(buf, len);

	if ((uint64_t)n * 4 > len)
		return -EBADMSG;
	for (uint32_t i = 0; i < n; i++)
		(void)cur_be32(&c, &ret[i]);
	return 0;
}

uint32_t vhd_fmt_bitmap_len(uint32_t block_size)
{
	uint32_t bytes = (block_size / VHD_SECTOR + 7) / 8;

	return (bytes + VHD_SECTOR - 1) / VHD_SECTOR * VHD_SECTOR;
}

void vhd_fmt_chs(uint64_t size, uint16_t *ret_cyl, uint8_t *ret_heads, uint8_t *ret_spt)
{
	uint64_t s = size / VHD_SECTOR;
	uint64_t cth, heads, spt;

	if (s > 65535ull * 16 * 255)
		s = 65535ull * 16 * 255;
	if (s >= 65535ull * 16 * 63) {
		spt = 255;
		heads = 16;
		cth = s / spt;
	} else {
		spt = 17;
		cth = s / spt;
		heads = (cth + 1023) / 1024;
		if (heads < 4)
			heads = 4;
		if (cth >= heads * 1024 || heads > 16) {
			spt = 31;
			heads = 16;
			cth = s / spt;
		}
		/* The spec's pseudo-code misspells this variable; every implementation reads it as
		 * cth. */
		if (cth >= heads * 1024) {
			spt = 63;
			heads = 16;
			cth = s / spt;
		}
	}
	*ret_cyl = (uint16_t)(cth / heads);
	*ret_heads = (uint8_t)heads;
	*ret_spt = (uint8_t)spt;
}

uint64_t vhd_fmt_chs_size(const struct vhd_footer *f)
{
	return (uint64_t)f->cylinders * f->heads * f->spt * VHD_SECTOR;
}

bool vhd_fmt_creator_uses_chs(const struct vhd_footer *f)
{
	return !memcmp(f->creator_app, "vpc ", 4) || !memcmp(f->creator_app, "vs  ", 4) ||
	       !memcmp(f->creator_app, "qemu", 4);
}

uint64_t vhd_fmt_virtual_size(const struct vhd_footer *f, enum vhd_size_mode mode)
{
	bool max_geometry = f->cylinders == 65535 && f->heads == 16 && f->spt == 255;

	switch (mode) {
	case VHD_SIZE_CHS:
		return vhd_fmt_chs_size(f);
	case VHD_SIZE_CURRENT:
		return f->cur_size;
	case VHD_SIZE_AUTO:
	default:
		/* A maximal geometry cannot express the size, so it says nothing (QEMU agrees). */
		if (vhd_fmt_creator_uses_chs(f) && !max_geometry)
			return vhd_fmt_chs_size(f);
		return f->cur_size;
	}
}

/* Appends code point 'cp' as UTF-8; returns the new length or -EMSGSIZE. */
static int put_utf8(char *out, size_t cap, size_t n, uint32_t cp)
{
	uint8_t b[4];
	size_t k;

	if (cp < 0x80) {
		b[0] = (uint8_t)cp;
		k = 1;
	} else if (cp < 0x800) {
		b[0] = (uint8_t)(0xC0 | cp >> 6);
		b[1] = (uint8_t)(0x80 | (cp & 0x3F));
		k = 2;
	} else if (cp < 0x10000) {
		b[0] = (uint8_t)(0xE0 | cp >> 12);
		b[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
		b[2] = (uint8_t)(0x80 | (cp & 0x3F));
		k = 3;
	} else {
		b[0] = (uint8_t)(0xF0 | cp >> 18);
		b[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3F));
		b[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
		b[3] = (uint8_t)(0x80 | (cp & 0x3F));
		k = 4;
	}
	if (n + k >= cap)
		return -EMSGSIZE;
	memcpy(out + n, b, k);
	out[n + k] = '\0';
	return (int)(n + k);
}

int vhd_fmt_utf16_decode(const uint8_t *in, size_t len, bool little, char *out, size_t cap)
{
	struct cur c = cur_make(in, len);
	const uint8_t *p;
	int n = 0;

	if (!cap)
		return -EMSGSIZE;
	out[0] = '\0';
	while ((p = cur_pull(&c, 2))) {
		uint32_t u = little ? get_le16(p) : get_be16(p);

		if (u == 0)
			break;
		if (u >= 0xD800 && u < 0xDC00) {
			const uint8_t *q = c.len >= 2 ? c.p : NULL;
			uint32_t lo = q ? (little ? get_le16(q) : get_be16(q)) : 0;

			if (lo >= 0xDC00 && lo < 0xE000) {
				(void)cur_pull(&c, 2);
				u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
			} else {
				u = 0xFFFD;
			}
		} else if (u >= 0xDC00 && u < 0xE000) {
			u = 0xFFFD;
		}
		n = put_utf8(out, cap, (size_t)n, u);
		if (n < 0)
			return n;
	}
	return n;
}

/* Reads one code point from UTF-8 at '*s'; returns it or -EBADMSG. */
static int32_t get_utf8(const uint8_t **s)
{
	const uint8_t *p = *s;
	uint32_t cp;
	int extra;

	if (p[0] < 0x80) {
		*s = p + 1;
		return p[0];
	}
	if ((p[0] & 0xE0) == 0xC0) {
		cp = p[0] & 0x1F;
		extra = 1;
	} else if ((p[0] & 0xF0) == 0xE0) {
		cp = p[0] & 0x0F;
		extra = 2;
	} else if ((p[0] & 0xF8) == 0xF0) {
		cp = p[0] & 0x07;
		extra = 3;
	} else {
		return -EBADMSG;
	}
	for (int i = 1; i <= extra; i++) {
		if ((p[i] & 0xC0) != 0x80) /* also stops at the NUL */
			return -EBADMSG;
		cp = cp << 6 | (p[i] & 0x3F);
	}
	if (cp > 0x10FFFF || (cp >= 0xD800 && cp < 0xE000))
		return -EBADMSG;
	*s = p + extra + 1;
	return (int32_t)cp;
}

int vhd_fmt_utf16_encode(const char *s, bool little, uint8_t *out, size_t cap)
{
	const uint8_t *p = (const uint8_t *)s;
	size_t n = 0;

	while (*p) {
		int32_t cp = get_utf8(&p);
		uint16_t units[2];
		int k = 1;

		if (cp < 0)
			return -EBADMSG;
		if (cp >= 0x10000) {
			units[0] = (uint16_t)(0xD800 + ((cp - 0x10000) >> 10));
			units[1] = (uint16_t)(0xDC00 + ((cp - 0x10000) & 0x3FF));
			k = 2;
		} else {
			units[0] = (uint16_t)cp;
		}
		for (int i = 0; i < k; i++) {
			if (n + 2 > cap)
				return -EMSGSIZE;
			if (little)
				put_le16(out + n, units[i]);
			else
				put_be16(out + n, units[i]);
			n += 2;
		}
	}
	return (int)n;
}

static int hexval(uint8_t ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* MacX: "file://[host]/path" with %XX escapes -> "/path". */
static int decode_file_url(const uint8_t *data, size_t len, char *out, size_t cap)
{
	struct cur c = cur_make(data, len);
	const uint8_t *p;
	size_t n = 0;

	if (len >= 7 && !memcmp(data, "file://", 7)) {
		(void)cur_pull(&c, 7);
		/* Skip the host part ("localhost" or empty) up to the path's slash. */
		while (c.len && c.p[0] != '/')
			(void)cur_pull(&c, 1);
	}
	while ((p = cur_pull(&c, 1))) {
		uint8_t ch = p[0];

		if (ch == '%' && c.len >= 2 && hexval(c.p[0]) >= 0 && hexval(c.p[1]) >= 0) {
			ch = (uint8_t)(hexval(c.p[0]) << 4 | hexval(c.p[1]));
			(void)cur_pull(&c, 2);
		}
		if (ch == 0)
			break; /* a C writer's terminator inside the counted length */
		if (n + 1 >= cap)
			return -EMSGSIZE;
		out[n++] = (char)ch;
	}
	out[n] = '\0';
	return (int)n;
}

int vhd_fmt_locator_decode(uint32_t code, const uint8_t *data, size_t len, char *out, size_t cap)
{
	int n;

	if (!cap)
		return -EMSGSIZE;
	switch (code) {
	case VHD_PLAT_W2RU:
	case VHD_PLAT_W2KU:
		n = vhd_fmt_utf16_decode(data, len, true, out, cap);
		break;
	case VHD_PLAT_WI2R:
	case VHD_PLAT_WI2K: {
		size_t k = strnlen((const char *)data, len);

		if (k + 1 > cap)
			return -EMSGSIZE;
		memcpy(out, data, k);
		out[k] = '\0';
		n = (int)k;
		break;
	}
	case VHD_PLAT_MACX:
		n = decode_file_url(data, len, out, cap);
		break;
	default:
		return -EOPNOTSUPP;
	}
	if (n < 0)
		return n;
	if (n == 0)
		return -EBADMSG;
	if (code != VHD_PLAT_MACX) {
		for (int i = 0; i < n; i++)
			if (out[i] == '\\')
				out[i] = '/';
		/* "C:/dir/x.vhd" -> "/dir/x.vhd": a Windows drive has no meaning here. */
		if (n >= 2 && out[1] == ':' &&
		    ((out[0] >= 'A' && out[0] <= 'Z') || (out[0] >= 'a' && out[0] <= 'z'))) {
			memmove(out, out + 2, (size_t)n - 1);
			n -= 2;
		}
	}
	if (n == 0)
		return -EBADMSG;
	return n;
}

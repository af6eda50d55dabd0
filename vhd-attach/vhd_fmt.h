/* SPDX-License-Identifier: MIT */
/*
 * The VHD (v1) on-disk structures as pure codecs: the 512-byte hard disk
 * footer, the 1024-byte dynamic disk header with its parent locators, the
 * block allocation table, the CHS geometry rules and the text encodings the
 * format uses (UTF-16BE parent name, UTF-16LE W2ku/W2ru locators, MacX file
 * URLs). Called by vhd.c (image access), vhd_check.c and the fuzz target; it
 * calls nothing but common/ helpers: no system calls, no allocation, no
 * logging. Every parser validates what it returns (STYLE.md §7) so that a
 * caller can size buffers from the result without further checks.
 */
#ifndef VSWITCH_VHD_FMT_H
#define VSWITCH_VHD_FMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VHD_SECTOR	    512u
#define VHD_FOOTER_LEN	    512u
#define VHD_HEADER_LEN	    1024u
#define VHD_N_LOCATORS	    8
#define VHD_BAT_UNUSED	    0xFFFFFFFFu
#define VHD_VERSION	    0x00010000u
#define VHD_NO_OFFSET	    0xFFFFFFFFFFFFFFFFull
#define VHD_MAX_SIZE	    (0xFF000000ull * 512) /* 2040 GiB, the spec's and Hyper-V's cap */
#define VHD_BLOCK_MIN	    512u
#define VHD_BLOCK_MAX	    (256u << 20) /* larger blocks are refused as absurd */
#define VHD_BLOCK_DEFAULT   (2u << 20)
#define VHD_MAX_BAT	    (4u << 20) /* entries: a 16 MiB table */
#define VHD_TIME_EPOCH	    946684800  /* Unix time of 2000-01-01 00:00:00 UTC */
#define VHD_FEATURES_STD    0x00000002u
#define VHD_PARENT_NAME_LEN 512u

/* Footer disk types the library handles; others are refused on parse. */
enum vhd_type {
	VHD_TYPE_FIXED = 2,
	VHD_TYPE_DYNAMIC = 3,
	VHD_TYPE_DIFF = 4,
};

/* Locator platform codes (big-endian ASCII). */
#define VHD_PLAT_NONE 0x00000000u
#define VHD_PLAT_WI2R 0x57693272u /* "Wi2r": relative, 8-bit, deprecated */
#define VHD_PLAT_WI2K 0x5769326Bu /* "Wi2k": absolute, 8-bit, deprecated */
#define VHD_PLAT_W2RU 0x57327275u /* "W2ru": relative, UTF-16LE */
#define VHD_PLAT_W2KU 0x57326B75u /* "W2ku": absolute, UTF-16LE */
#define VHD_PLAT_MAC  0x4D616320u /* "Mac ": opaque alias record */
#define VHD_PLAT_MACX 0x4D616358u /* "MacX": UTF-8 file URL */

/* How the virtual size is taken from a footer (notes §2). */
enum vhd_size_mode {
	VHD_SIZE_AUTO,	  /* by creator application: CHS for the Virtual PC family */
	VHD_SIZE_CURRENT, /* the footer's current size */
	VHD_SIZE_CHS,	  /* cylinders * heads * sectors per track * 512 */
};

struct vhd_footer {
	uint32_t features;	/* VHD_FEATURES_STD, bit 0 = temporary */
	uint32_t version;	/* VHD_VERSION */
	uint64_t data_offset;	/* bytes: dynamic header, VHD_NO_OFFSET for fixed */
	uint32_t timestamp;	/* seconds since 2000-01-01 UTC */
	uint8_t creator_app[4]; /* raw bytes, e.g. "win " */
	uint32_t creator_ver;	/* major << 16 | minor */
	uint32_t creator_os;	/* "Wi2k" as big-endian uint32 */
	uint64_t orig_size;	/* bytes */
	uint64_t cur_size;	/* bytes */
	uint16_t cylinders;
	uint8_t heads;
	uint8_t spt;	     /* sectors per track */
	uint32_t type;	     /* enum vhd_type */
	uint32_t checksum;   /* as stored; vhd_fmt_footer_build() recomputes it */
	uint8_t uuid[16];    /* stored byte order */
	uint8_t saved_state; /* 0 or 1 */
};

struct vhd_locator {
	uint32_t code;	 /* VHD_PLAT_* */
	uint32_t space;	 /* reserved bytes (or sectors, see notes §3); ignored on read */
	uint32_t len;	 /* bytes of locator data */
	uint64_t offset; /* bytes from the start of the file */
};

struct vhd_header {
	uint64_t data_offset;  /* unused: all ones */
	uint64_t table_offset; /* bytes: the BAT, sector aligned */
	uint32_t version;      /* VHD_VERSION */
	uint32_t max_entries;  /* BAT entries */
	uint32_t block_size;   /* bytes of data per block, power of two */
	uint32_t checksum;     /* as stored */
	uint8_t parent_uuid[16];
	uint32_t parent_ts;			  /* seconds since 2000 */
	uint8_t parent_name[VHD_PARENT_NAME_LEN]; /* UTF-16BE, NUL padded */
	struct vhd_locator loc[VHD_N_LOCATORS];
};

/*
 * The format's checksum: the one's complement of the 32-bit sum of the 'len'
 * bytes at 'buf', the four bytes at 'csum_off' counted as zero.
 */
uint32_t vhd_fmt_checksum(const uint8_t *buf, size_t len, size_t csum_off);

/*
 * Parses the footer in the 512 bytes at 'buf' into 'ret'. Checks cookie,
 * version, disk type, saved-state byte, and the size cap. The checksum result
 * goes to 'ret_csum_ok' (a bad checksum is not an error here: the caller
 * decides whether lenient reading is allowed). Returns 0, -EBADMSG when a
 * field is invalid (the cookie is missing: -ENOTTY, so that callers can tell
 * "not a VHD" from "a damaged VHD"), or -E2BIG when the size exceeds 2040 GiB.
 */
int vhd_fmt_footer_parse(const uint8_t *buf, size_t len, struct vhd_footer *ret, bool *ret_csum_ok);

/* Writes 'f' as 512 bytes into 'buf' with a freshly computed checksum. */
void vhd_fmt_footer_build(const struct vhd_footer *f, uint8_t *buf);

/*
 * Parses the dynamic header in the 1024 bytes at 'buf'. Checks cookie,
 * version, block size (a power of two in [VHD_BLOCK_MIN, VHD_BLOCK_MAX]),
 * BAT entry count (1..VHD_MAX_BAT), sector-aligned table offset and locator
 * entries (length within space is not required; offsets are checked against
 * the file by the caller). Returns 0, -ENOTTY (no cookie), -EBADMSG, or
 * -E2BIG (too many BAT entries). Checksum as for the footer.
 */
int vhd_fmt_header_parse(const uint8_t *buf, size_t len, struct vhd_header *ret, bool *ret_csum_ok);

/* Writes 'h' as 1024 bytes into 'buf' with a freshly computed checksum. */
void vhd_fmt_header_build(const struct vhd_header *h, uint8_t *buf);

/*
 * Reads 'n' BAT entries from 'len' bytes at 'buf' into 'ret' (host order).
 * Returns 0 or -EBADMSG if 'len' is too short.
 */
int vhd_fmt_bat_parse(const uint8_t *buf, size_t len, uint32_t n, uint32_t *ret);

/* Bytes of the sector bitmap in front of each block of 'block_size' bytes. */
uint32_t vhd_fmt_bitmap_len(uint32_t block_size);

/* The spec's CHS geometry for 'size' bytes (rounds down; capped at 65535/16/255). */
void vhd_fmt_chs(uint64_t size, uint16_t *ret_cyl, uint8_t *ret_heads, uint8_t *ret_spt);

/* Bytes addressed by the footer's geometry. */
uint64_t vhd_fmt_chs_size(const struct vhd_footer *f);

/* Whether the creator of 'f' sizes disks by geometry (notes §2: "vpc ", "vs  ", "qemu"). */
bool vhd_fmt_creator_uses_chs(const struct vhd_footer *f);

/*
 * The virtual size of the disk described by 'f' under 'mode'. AUTO takes the
 * geometry for the Virtual PC family unless the geometry is the maximum
 * 65535/16/255, and the current size for everything else.
 */
uint64_t vhd_fmt_virtual_size(const struct vhd_footer *f, enum vhd_size_mode mode);

/*
 * Converts locator data ('len' bytes at 'data', platform 'code') into a POSIX
 * path in 'out' (capacity 'cap', NUL terminated): UTF-16LE for W2ru/W2ku,
 * 8-bit for Wi2r/Wi2k, a file URL for MacX. Backslashes become slashes, a
 * drive letter ("C:") is dropped, a leading ".\" or "./" is kept. Returns the
 * string length, -EBADMSG for undecodable or empty data or an embedded NUL,
 * -EMSGSIZE if 'cap' is too small, or -EOPNOTSUPP for other platform codes.
 */
int vhd_fmt_locator_decode(uint32_t code, const uint8_t *data, size_t len, char *out, size_t cap);

/*
 * Encodes the UTF-8 string 's' as UTF-16 (little-endian if 'little', else
 * big-endian) without terminator into 'out' ('cap' bytes). Returns bytes
 * written, -EBADMSG for invalid UTF-8, or -EMSGSIZE.
 */
int vhd_fmt_utf16_encode(const char *s, bool little, uint8_t *out, size_t cap);

/*
 * Decodes UTF-16 ('len' bytes, stops at a NUL unit) into UTF-8 'out' ('cap'
 * bytes, NUL terminated). Unpaired surrogates become U+FFFD. Returns the
 * string length or -EMSGSIZE.
 */
int vhd_fmt_utf16_decode(const uint8_t *in, size_t len, bool little, char *out, size_t cap);

#endif

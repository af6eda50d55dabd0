/* SPDX-License-Identifier: MIT */
/*
 * libvhd: one opened VHD image (fixed, dynamic or differencing) with its
 * chain of parents, read and written at any byte offset and length. This is
 * the interface the `vhd` tool, the operation modules (check, convert, merge,
 * compact, undo) and later a FUSE mount or an NBD server use: an opaque
 * 'struct vhd' with pread/pwrite-style calls, flush and discard. All file
 * access goes through a 'struct vhd_io_ops' provider (vhd_io.h), so images
 * may live in files, on block devices or in memory.
 *
 * Errors are negative errno values. Where an image is malformed the call
 * returns -EBADMSG (or -E2BIG for a limit, -ELOOP for a parent cycle,
 * -ENOENT for a missing parent, -EXDEV for a parent whose unique id does not
 * match) and, when the caller passed an 'err' buffer, one line naming the
 * problem. The library logs only warnings it decides to ignore.
 */
#ifndef VSWITCH_VHD_H
#define VSWITCH_VHD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vhd-attach/vhd_fmt.h"

struct vhd;
struct vhd_io_ops;

/* vhd_open_opts.flags */
#define VHD_OPEN_RDWR 0x01u /* allow writes to this image (parents stay read-only) */
#define VHD_OPEN_LENIENT                                                                           \
	0x02u /* accept bad checksums and damaged metadata where reading stays safe */
#define VHD_OPEN_NO_PARENT                                                                         \
	0x04u /* differencing: leave the parent closed; its sectors read as zero */
#define VHD_OPEN_UNSAFE	     0x08u /* no syncs inside block allocation: for files not yet in use */
#define VHD_OPEN_KEEP_BROKEN 0x10u /* a parent that cannot be opened is recorded, not an error */

#define VHD_ERR_LEN 256

struct vhd_open_opts {
	const struct vhd_io_ops *io; /* NULL: the POSIX provider; kept */
	void *fs;		     /* the provider's context; kept */
	unsigned flags;		     /* VHD_OPEN_* */
	enum vhd_size_mode size_mode;
	const char *parent_path; /* try this parent before the locators, or NULL; borrowed */
	char *err; /* VHD_ERR_LEN bytes for the reason of a failure, or NULL; borrowed */
};

/* Where the footer in use was found. */
enum vhd_footer_src {
	VHD_FOOTER_TAIL,    /* the last 512 bytes */
	VHD_FOOTER_TAIL511, /* the last 511 bytes (images older than Virtual PC 2004) */
	VHD_FOOTER_COPY,    /* the copy at offset 0: the tail is damaged */
};

/* State of the link from a differencing image to its parent. */
enum vhd_link {
	VHD_LINK_NONE,		/* not a differencing image */
	VHD_LINK_OK,		/* parent open, unique id matches */
	VHD_LINK_TS_DIFFERS,	/* parent open, id matches, time stamp differs (a warning) */
	VHD_LINK_NOT_OPENED,	/* VHD_OPEN_NO_PARENT */
	VHD_LINK_MISSING,	/* no candidate file exists */
	VHD_LINK_UUID_MISMATCH, /* candidates exist but none has the right unique id */
	VHD_LINK_LOOP,		/* the chain refers back to itself or is too deep */
	VHD_LINK_BROKEN,	/* the parent file exists but cannot be opened */
};

/* Warnings recorded while opening (vhd_warnings()). */
#define VHD_WARN_FOOTER_CSUM 0x01u /* the footer in use has a bad checksum (lenient) */
#define VHD_WARN_HEADER_CSUM 0x02u /* the dynamic header has a bad checksum (lenient) */
#define VHD_WARN_TAIL_BAD    0x04u /* tail footer damaged; the copy at 0 is in use */
#define VHD_WARN_COPY_BAD    0x08u /* the copy at 0 is missing or differs from the tail */
#define VHD_WARN_BAT_DROPPED                                                                       \
	0x10u			    /* BAT entries past the end of the file were ignored (lenient) \
				     */
#define VHD_WARN_SHORT_FOOTER 0x20u /* 511-byte footer */

#define VHD_MAX_CHAIN 32 /* images in one chain, the top included */

/*
 * Opens the image at 'path' (borrowed) with its parents. 'opts' may be NULL
 * (read-only, strict, POSIX). Validates footer, header, BAT and locators
 * before allocating, and resolves a differencing parent by its W2ru, W2ku
 * and MacX locators, then by the basename of the parent name in the child's
 * folder; the parent's unique id must match. On success '*ret' owns the chain.
 * Returns 0, -ENOENT/-EACCES/... from the provider, -EBADMSG, -E2BIG, -ELOOP,
 * -EXDEV (parent id mismatch), or -EROFS when VHD_OPEN_RDWR is asked for a
 * damaged image (lenient reads only).
 */
int vhd_open(struct vhd **ret, const char *path, const struct vhd_open_opts *opts);

/* Closes 'v' and its parents. Accepts NULL. Does not sync: call vhd_flush(). */
void vhd_free(struct vhd *v);

/*
 * Reads 'len' bytes of virtual disk at 'off' into 'buf', through the chain.
 * Returns 0, -EINVAL past the virtual size, -ENOLINK when a missing parent
 * would be needed, -EBADMSG for damage found on the way, or a provider error.
 */
int vhd_pread(struct vhd *v, void *buf, size_t len, uint64_t off);

/*
 * Writes 'len' bytes from 'buf' at virtual offset 'off'. Partial sectors are
 * read-modify-written through the chain; blocks are allocated at the end of
 * the file in a crash-safe order (see vhd.c). Returns 0, -EBADF when not open
 * for writing, -EINVAL past the virtual size, -E2BIG when the file would pass
 * the 2 TiB reach of the BAT, or a provider error.
 */
int vhd_pwrite(struct vhd *v, const void *buf, size_t len, uint64_t off);

/*
 * Writes zeros over 'len' bytes at 'off' as data, allocating what it covers
 * (unlike vhd_discard(), which may deallocate). Returns as vhd_pwrite().
 */
int vhd_write_zeros(struct vhd *v, uint64_t off, uint64_t len);

/* Makes every completed write durable. Returns 0 or a provider error. */
int vhd_flush(struct vhd *v);

/*
 * Discard hook: after it returns 0 the range reads as zeros. Fixed images
 * punch holes where the provider can; dynamic images drop the data of whole
 * blocks' sectors from the bitmap; differencing images write zeros where the
 * range does not read zero already (the parent must stay hidden, and where it
 * reads zero nothing is allocated). Returns 0 or as vhd_pread()/vhd_pwrite().
 */
int vhd_discard(struct vhd *v, uint64_t off, uint64_t len);

/*
 * Allocation status of the chain from 'off': 1 if data may be stored for
 * the first '*ret_len' bytes (at most 'len'), 0 if every layer leaves them
 * unallocated (they read as zero), or a negative errno.
 */
int vhd_block_status(struct vhd *v, uint64_t off, uint64_t len, uint64_t *ret_len);

/*
 * Status of this layer only, by sector bitmap: 1 if the first '*ret_len'
 * bytes from 'off' are stored in this image, 0 if they come from the parent
 * (or are zero), or a negative errno. Fixed images always give 1.
 */
int vhd_layer_status(struct vhd *v, uint64_t off, uint64_t len, uint64_t *ret_len);

/*
 * Accessors. None fails; pointers returned are borrowed from 'v' and live
 * as long as it does.
 */

/* Virtual size in bytes under the open's size mode. */
uint64_t vhd_size(const struct vhd *v);
/* The footer in use (see vhd_footer_source()). */
const struct vhd_footer *vhd_footer(const struct vhd *v);
/* The dynamic header, or NULL for a fixed image. */
const struct vhd_header *vhd_header(const struct vhd *v);
/* Absolute path of the image. */
const char *vhd_path(const struct vhd *v);
/* The opened parent, or NULL (not differencing, not opened, or broken link). */
struct vhd *vhd_parent(const struct vhd *v);
/* State of the link to the parent (VHD_LINK_NONE for non-differencing images). */
enum vhd_link vhd_link_state(const struct vhd *v);
/* Why the link is not OK, or "". */
const char *vhd_link_reason(const struct vhd *v);
/* The path the parent was found at or last looked for, or "". */
const char *vhd_parent_path(const struct vhd *v);
/* Where the footer in use was read from. */
enum vhd_footer_src vhd_footer_source(const struct vhd *v);
/* VHD_WARN_* bits for damage accepted while opening. */
unsigned vhd_warnings(const struct vhd *v);
/* Number of BAT entries (0 for fixed images). */
uint32_t vhd_bat_len(const struct vhd *v);
/* BAT entry 'i': a sector number, or VHD_BAT_UNUSED (also for 'i' out of range). */
uint32_t vhd_bat_get(const struct vhd *v, uint32_t i);
/* Offset of the tail footer: the end of the data area. */
uint64_t vhd_footer_offset(const struct vhd *v);
/* Block size in bytes (0 for fixed images). */
uint32_t vhd_block_size(const struct vhd *v);

/* Decoded parent locators and name, for display. */
struct vhd_parent_ref {
	uint32_t code;	 /* VHD_PLAT_*, 0 for the parent name */
	char path[1024]; /* decoded, or "" when undecodable */
	int status;	 /* 0, or the decode error (-EBADMSG past EOF too) */
};

/*
 * Fills up to 'cap' entries of 'ret' with the locators of 'v' in slot order,
 * then its parent name. Returns the count (0 for non-differencing images).
 */
int vhd_parent_refs(struct vhd *v, struct vhd_parent_ref *ret, int cap);

/* What vhd_create() makes. */
struct vhd_create_opts {
	const struct vhd_io_ops *io; /* NULL: POSIX; kept by the returned image */
	void *fs;
	enum vhd_type type;
	uint64_t size;	     /* bytes, rounded up to a sector; 0 for a child: the parent's */
	uint32_t block_size; /* 0: 2 MiB, or the parent's for a child */
	const char *parent;  /* differencing: the parent's path (borrowed) */
	const uint8_t *uuid; /* 16 bytes, or NULL for a random one */
	uint32_t timestamp;  /* seconds since 2000, or 0 for now */
	unsigned open_flags; /* VHD_OPEN_* for the returned image (RDWR is implied) */
	char *err;	     /* as in vhd_open_opts */
};

/*
 * Creates the image 'path' (borrowed; must not exist) Windows-style: exact
 * size with CHS rounded down, creator "win ", 4 KiB aligned block data,
 * locators W2ku (slot 0) and W2ru (slot 1) in UTF-16LE for a child. Fixed
 * images are written sparse. If 'ret' is not NULL the new image is returned
 * open for writing. Returns 0, -EEXIST, -EINVAL (bad size or block size,
 * a child smaller than its parent), -E2BIG (over 2040 GiB), or as vhd_open().
 * On failure after the file was made it is removed.
 */
int vhd_create(struct vhd **ret, const char *path, const struct vhd_create_opts *o);

/* Rewrites the dynamic header of 'v' (open for writing) from 'h', checksum recomputed. */
int vhd_set_header(struct vhd *v, const struct vhd_header *h);

/* Rewrites both footer copies of 'v' (open for writing) from 'f', checksum recomputed. */
int vhd_set_footer(struct vhd *v, const struct vhd_footer *f);

/* Makes 16 random bytes shaped as an RFC 4122 version 4 UUID. 0 or -errno. */
int vhd_uuid_generate(uint8_t *uuid);

/* The provider 'v' uses (borrowed). */
const struct vhd_io_ops *vhd_io(const struct vhd *v);
/* The provider's context 'v' uses (borrowed). */
void *vhd_fs(const struct vhd *v);

#endif

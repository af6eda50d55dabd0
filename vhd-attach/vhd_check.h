/* SPDX-License-Identifier: MIT */
/*
 * Consistency check and safe repair of one VHD image, as `vhd check` runs it.
 * Works from the raw bytes (through vhd_fmt.c parsers and a vhd_io_ops
 * provider) so that it can describe images vhd_open() refuses, then asks
 * vhd_open() about the parent link. Reports each finding through a callback.
 */
#ifndef VSWITCH_VHD_CHECK_H
#define VSWITCH_VHD_CHECK_H

#include <stdbool.h>
#include <stdint.h>

struct vhd_io_ops;

enum vhd_check_level {
	VHD_CHECK_WARN,	    /* harmless or leaked space; reads are still correct */
	VHD_CHECK_ERROR,    /* damage: the image (or its link) is not fully readable */
	VHD_CHECK_REPAIRED, /* an error that --repair fixed */
};

struct vhd_check_opts {
	const struct vhd_io_ops *io; /* NULL: POSIX */
	void *fs;
	bool repair;  /* fix footer copies, a short footer, BAT entries past the end */
	bool lenient; /* with repair: also rewrite bad checksums of otherwise valid metadata */
	/* Called once per finding; 'msg' is borrowed for the call. */
	void (*report)(void *ctx, enum vhd_check_level level, const char *msg);
	void *ctx;
};

struct vhd_check_result {
	unsigned n_errors; /* left unrepaired */
	unsigned n_warnings;
	unsigned n_repaired;
	uint32_t n_blocks; /* allocated blocks seen */
};

/*
 * Checks the image at 'path' (borrowed): footer at the end and its copy at 0
 * (cookie, checksum, agreement), dynamic header checksum and fields, BAT
 * entries past the end of the file or overlapping each other or the
 * metadata, sector bitmaps against the BAT (clear bits over non-zero data,
 * allocated blocks with empty bitmaps), locators, and the parent link.
 * Returns 0 when the check ran (see 'ret' for what it found), or a negative
 * errno when the file cannot be read at all.
 */
int vhd_check(const char *path, const struct vhd_check_opts *o, struct vhd_check_result *ret);

#endif

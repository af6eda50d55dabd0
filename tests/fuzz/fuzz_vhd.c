/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for libvhd: the input is an image file in an in-memory
 * file system (named so that a differencing image naming "img.vhd" as its
 * parent loops back to itself). It is opened strictly and leniently, read
 * at its start, end and a few inner offsets, written to (small blocks only,
 * to bound memory), and checked with vhd_check(). Seeds in corpus/vhd/ are
 * tiny images made by the `vhd` tool (4 KiB and 512-byte blocks, fixed, a
 * child naming "img.vhd", a 511-byte footer) and damaged copies of them (bad
 * checksums, a locator past the end, overlapping blocks).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "vhd-attach/vhd.h"
#include "vhd-attach/vhd_check.h"
#include "vhd-attach/vhd_io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void read_some(struct vhd *v)
{
	static uint8_t buf[256 * 1024];
	uint64_t size = vhd_size(v), n;
	uint64_t offs[4] = { 0, size / 3, size / 2, size > sizeof(buf) ? size - sizeof(buf) : 0 };

	for (int i = 0; i < 4; i++) {
		n = size - offs[i] < sizeof(buf) ? size - offs[i] : sizeof(buf);
		(void)vhd_pread(v, buf, n, offs[i]);
		if (size > 0)
			(void)vhd_block_status(v, offs[i] % size, n ? n : 1, &n);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t pattern[1536] = { 1, 2, 3 };
	struct vhd_memfs *fs;
	struct vhd_open_opts o = { .io = &vhd_io_mem };
	struct vhd_check_opts co = { .io = &vhd_io_mem };
	struct vhd_check_result res;
	struct vhd *v;

	if (vhd_memfs_new(&fs) < 0)
		return 0;
	o.fs = fs;
	co.fs = fs;
	if (vhd_memfs_put(fs, "/img.vhd", data, size) < 0)
		goto out;
	if (vhd_open(&v, "/img.vhd", &o) == 0) {
		read_some(v);
		vhd_free(v);
	}
	o.flags = VHD_OPEN_LENIENT | VHD_OPEN_KEEP_BROKEN;
	if (vhd_open(&v, "/img.vhd", &o) == 0) {
		read_some(v);
		vhd_free(v);
	}
	o.flags = VHD_OPEN_RDWR | VHD_OPEN_NO_PARENT;
	if (vhd_open(&v, "/img.vhd", &o) == 0) {
		if (vhd_block_size(v) <= (4u << 20) && vhd_size(v) > sizeof(pattern)) {
			(void)vhd_pwrite(v, pattern, sizeof(pattern), 511);
			(void)vhd_pwrite(v, pattern, sizeof(pattern),
					 vhd_size(v) - sizeof(pattern));
			read_some(v);
		}
		vhd_free(v);
	}
	(void)vhd_check("/img.vhd", &co, &res);
	co.repair = true;
	co.lenient = true;
	(void)vhd_check("/img.vhd", &co, &res);
out:
	vhd_memfs_free(fs);
	return 0;
}

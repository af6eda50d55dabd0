/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the pure codecs of vhd_fmt.c: the input is taken as
 * a footer, a dynamic header, a BAT and locator data of every platform code.
 * Whatever parses is built again and must parse to the same fields (the
 * build/parse round trip STYLE.md §10 asks of codecs). Seeds: the vhd corpus.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vhd-attach/vhd_fmt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t codes[] = { VHD_PLAT_W2RU, VHD_PLAT_W2KU, VHD_PLAT_WI2R,
					  VHD_PLAT_WI2K, VHD_PLAT_MACX, VHD_PLAT_MAC };
	uint8_t buf[VHD_HEADER_LEN], again[VHD_HEADER_LEN];
	struct vhd_footer f, f2;
	struct vhd_header h, h2;
	uint32_t bat[64];
	char out[600];
	bool ok;

	if (size >= VHD_FOOTER_LEN && vhd_fmt_footer_parse(data, size, &f, &ok) == 0) {
		vhd_fmt_footer_build(&f, buf);
		if (vhd_fmt_footer_parse(buf, VHD_FOOTER_LEN, &f2, &ok) != 0 || !ok ||
		    f2.cur_size != f.cur_size || f2.type != f.type ||
		    memcmp(f2.uuid, f.uuid, 16) != 0)
			abort();
		(void)vhd_fmt_virtual_size(&f, VHD_SIZE_AUTO);
	}
	if (size >= 512 + VHD_HEADER_LEN &&
	    vhd_fmt_header_parse(data + 512, size - 512, &h, &ok) == 0) {
		vhd_fmt_header_build(&h, buf);
		if (vhd_fmt_header_parse(buf, VHD_HEADER_LEN, &h2, &ok) != 0 || !ok ||
		    h2.block_size != h.block_size || h2.max_entries != h.max_entries)
			abort();
		vhd_fmt_header_build(&h2, again);
		if (memcmp(buf, again, VHD_HEADER_LEN) != 0)
			abort();
		(void)vhd_fmt_bitmap_len(h.block_size);
	}
	(void)vhd_fmt_bat_parse(data, size, size / 4 < 64 ? (uint32_t)(size / 4) : 64, bat);
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		(void)vhd_fmt_locator_decode(codes[i], data, size < 2048 ? size : 2048, out,
					     sizeof(out));
	(void)vhd_fmt_utf16_decode(data, size < 1024 ? size : 1024, false, out, sizeof(out));
	if (size > 0 && size < 256 && memchr(data, 0, size) == NULL) {
		char s[256];

		memcpy(s, data, size);
		s[size] = '\0';
		(void)vhd_fmt_utf16_encode(s, true, buf, sizeof(buf));
	}
	if (size >= 8) {
		uint64_t sz;
		uint16_t c;
		uint8_t hh, spt;

		memcpy(&sz, data, 8);
		vhd_fmt_chs(sz, &c, &hh, &spt);
		if ((uint64_t)c * hh * spt * 512 > (sz > VHD_MAX_SIZE ? VHD_MAX_SIZE : sz) &&
		    c != 65535)
			abort();
	}
	return 0;
}

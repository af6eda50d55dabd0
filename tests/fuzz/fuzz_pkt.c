/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the one-parse header reader (common/pkt.c). Any bytes
 * are a frame; the parse must stay inside them: every offset and length it
 * reports points into the frame, and flags agree with the fields they
 * guard. Seeds: the switch corpus (tests/fuzz/corpus/switch/).
 */
#include <stdint.h>
#include <stdlib.h>

#include "common/pkt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pkt p;

	pkt_parse(&p, data, size);
	if (p.l3 == PKT_L3_NONE && (p.l3_off || p.l4_off || p.flags))
		abort();
	if (p.l3_off > size || p.l4_off > size || p.l4_len > size - p.l4_off)
		abort();
	if (p.l4_off &&
	    (p.l4_off < p.l3_off || p.flags & (PKT_F_BAD_L3 | PKT_F_LATER | PKT_F_CHAIN)))
		abort();
	if ((p.sport || p.dport) && !p.l4_off)
		abort();
	if (p.l3 == PKT_L3_IPV4 && !(p.flags & PKT_F_BAD_L3) && (p.ip4.ihl < 20 || p.ip4.ihl > 60))
		abort();
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * Internet checksum. Callers: the DHCP codec (IPv4/UDP headers), the switch's
 * edge segmentation. Bytes are summed as big-endian 16-bit words.
 */
#include "common/csum.h"

#include "common/bytes.h"

uint32_t csum_add(uint32_t sum, const void *p, size_t len)
{
	const uint8_t *b = p;
	uint64_t acc = sum;

	while (len >= 2) {
		acc += get_be16(b);
		b += 2;
		len -= 2;
	}
	if (len)
		acc += (uint32_t)b[0] << 8;
	while (acc >> 32)
		acc = (acc & 0xffffffffu) + (acc >> 32);
	return (uint32_t)acc;
}

uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* SPDX-License-Identifier: MIT */
/*
 * A frame on the data path: an Ethernet frame in a buffer owned by the switch
 * core's pool, plus the offload metadata that travels with it (the Linux
 * virtio-net header that taps and packet sockets exchange). Shared by the
 * core and every port provider.
 */
#ifndef VSWITCH_FRAME_H
#define VSWITCH_FRAME_H

#include <linux/virtio_net.h>
#include <stddef.h>
#include <stdint.h>

#define FRAME_ETH_HLEN 14u
/*
 * Largest frame a buffer holds: a 64 KiB GSO super-frame plus its Ethernet
 * header and one 802.1Q tag. Buffers this size let TSO segments cross
 * tap-to-tap untouched (DESIGN.md §2).
 */
#define FRAME_MAX_LEN (65535u + FRAME_ETH_HLEN + 4u)

struct frame {
	uint8_t *data;		    /* first byte of the Ethernet header; pool-owned */
	uint32_t len;		    /* bytes at 'data' */
	uint32_t cap;		    /* bytes that fit at 'data' (>= FRAME_MAX_LEN in pools) */
	struct virtio_net_hdr vnet; /* offloads, little-endian fields; all zero = plain frame */
};

/* Whether the frame carries a GSO super-frame (needs segmenting for a plain port). */
static inline int frame_is_gso(const struct frame *f)
{
	return f->vnet.gso_type != VIRTIO_NET_HDR_GSO_NONE;
}

#endif

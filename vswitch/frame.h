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

struct pkt;
struct port;

#define FRAME_ETH_HLEN	  14u
#define FRAME_VLAN_HLEN	  4u /* one 802.1Q tag */
#define FRAME_ETH_P_8021Q 0x8100u
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
	/*
	 * An 802.1Q tag the receiving NIC or driver took out of the bytes
	 * (packet socket auxdata): set by providers that see one, zeroed by the
	 * core before every recv(). The core treats it as if it were in the
	 * bytes.
	 */
	uint16_t vlan_tci;  /* host order: PCP, DEI, VID */
	uint8_t vlan_valid; /* 1 when 'vlan_tci' holds a stripped tag */
	/*
	 * Set by the core for the frames it hands to send(), NULL elsewhere:
	 * the port the frame entered the switch on, and the core's one parse
	 * of its headers (common/pkt.h; offsets into these bytes). A copy
	 * with another layout (a segment, a tagged copy) carries no parse:
	 * a reader that needs one then parses the bytes itself.
	 */
	const struct port *in;	/* borrowed for the call */
	const struct pkt *hdrs; /* borrowed for the call */
};

/* Whether the frame carries a GSO super-frame (needs segmenting for a plain port). */
static inline int frame_is_gso(const struct frame *f)
{
	return f->vnet.gso_type != VIRTIO_NET_HDR_GSO_NONE;
}

#endif

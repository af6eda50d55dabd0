/* SPDX-License-Identifier: MIT */
/*
 * Software segmentation at the switch's edge: splits a TCP GSO super-frame
 * (as a tap or packet socket hands it over with a virtio-net header) into
 * MSS-sized frames with complete IPv4/IPv6 and TCP headers and checksums, for
 * ports that cannot take GSO. Pure: parses through the byte cursor, writes
 * into a caller buffer, calls 'emit' once per segment.
 */
#ifndef VSWITCH_GSO_H
#define VSWITCH_GSO_H

#include <stddef.h>
#include <stdint.h>

struct frame;

/* Called with each segment ('seg' borrowed for the call); a negative return stops. */
typedef int gso_emit_fn(void *arg, const struct frame *seg);

/*
 * Segments 'f' (a frame with vnet.gso_type TCPV4 or TCPV6, optionally behind
 * one 802.1Q tag) using 'buf' ('cap' >= the largest segment) for each output
 * frame. Returns the number of segments emitted, -EBADMSG for headers that do
 * not parse or disagree with the frame, -EOPNOTSUPP for other GSO types or
 * IPv6 extension headers, -EMSGSIZE if a segment does not fit 'cap', or the
 * first negative value 'emit' returned.
 */
int gso_segment(const struct frame *f, uint8_t *buf, size_t cap, gso_emit_fn *emit, void *arg);

#endif

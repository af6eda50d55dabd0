/* SPDX-License-Identifier: MIT */
/*
 * Passive conflict detection for the DHCP server (RFC 2131 §2.2 asks a
 * server to probe an address before offering it). The endpoint sits on the
 * switch and sees every broadcast, so it learns who uses which address from
 * the ARP traffic every IPv4 host sends (requests, gratuitous ARP, RFC 5227
 * probes) and from IPv4 frames addressed to it. An address some other host
 * used recently is "in use": the server withholds it and offers another.
 * Pure: frames and time come in as arguments; one allocation in _new().
 */
#ifndef VSWITCH_DHCPD_DHCP_PROBE_H
#define VSWITCH_DHCPD_DHCP_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct dhcp_probe;

#define DHCP_PROBE_SLOTS_MAX (1u << 20)

/*
 * Creates a table of 'slots' entries (a power of two, 16..DHCP_PROBE_SLOTS_MAX),
 * direct-mapped by address: a full table forgets, it never grows. Returns 0,
 * -EINVAL or -ENOMEM.
 */
int dhcp_probe_new(struct dhcp_probe **ret, unsigned slots);

/* Frees the table. Accepts NULL. */
void dhcp_probe_free(struct dhcp_probe *p);

/*
 * Learns from one Ethernet frame ('frame' borrowed, any bytes): the sender
 * of an ARP packet (or the target of an ARP probe, whose sender address is
 * 0.0.0.0), or the source of an IPv4 packet. Anything else is ignored.
 */
void dhcp_probe_observe(struct dhcp_probe *p, const uint8_t *frame, size_t len, uint64_t now_ms);

/*
 * Whether a host other than 'client_mac' used 'addr_be' within the last
 * 'window_ms' milliseconds before 'now_ms'.
 */
bool dhcp_probe_in_use(const struct dhcp_probe *p, uint32_t addr_be, const uint8_t client_mac[6],
		       uint64_t now_ms, uint64_t window_ms);

#endif

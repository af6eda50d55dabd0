/* SPDX-License-Identifier: MIT */
/*
 * Port security: what a frame entering the switch from a port may claim.
 * The switch core calls portsec_check() for every frame after its headers
 * are parsed and before it learns the source MAC; the MAC limit and the
 * takeover rule are the MAC table's (fdb_learn() with fdb_limits). Pure:
 * time comes in as an argument, the DHCP server's leases are reached
 * through a callback, nothing is allocated after portsec_new().
 *
 * Theory of operation (docs/security.md has the administrator's view)
 * -------------------
 * Some addresses belong to the switch itself: the host adapter's and the
 * DHCP endpoint's MACs and IPv4 addresses, and the MAC a profile gives a
 * port (mac =). They are pinned to their port: a frame from any other port
 * with such a source MAC is dropped (it would move the MAC in the table and
 * steal the gateway's traffic), and so is ARP from an untrusted port that
 * claims a pinned address (it would poison the guests' ARP caches). These
 * two checks hold on every port whatever its settings.
 *
 * A trusted port (an uplink to a LAN, the host adapter) passes everything
 * else. On an untrusted port with security on ('basic' or 'strict'):
 *  - a locked MAC list, when set, is the only set of sources allowed;
 *  - DHCP server messages (UDP from port 67) are dropped: only the embedded
 *    server and trusted uplinks may answer clients (DHCP snooping's
 *    "untrusted port" rule);
 *  - DHCP client messages must carry the frame's source MAC as chaddr
 *    (a starvation attack varies chaddr) and pass a token bucket of
 *    'dhcp_rate' messages per second with a burst of twice that;
 *  - ARP must name the frame's source MAC as sender;
 *  - with the source guard ('strict'), an IPv4 source or ARP sender address
 *    must be bound to the port: listed for it in the profile, or leased by
 *    the DHCP server to the frame's source MAC (asked through 'bound' and
 *    remembered for up to PORTSEC_CACHE_MS). 0.0.0.0 may only carry DHCP
 *    client messages, and an ARP probe (sender 0.0.0.0, RFC 5227) passes;
 *  - with 'ip_only', frames other than IPv4, ARP and IPv6 are dropped.
 * IPv6 sources are not guarded yet: an IPv6 guard belongs with the RA and
 * DHCPv6 endpoints that will bind IPv6 addresses.
 */
#ifndef VSWITCH_PORTSEC_H
#define VSWITCH_PORTSEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pkt;
struct port;
struct portsec;

#define PORTSEC_PINS_MAX 512	/* pinned MACs (two per network plus one per port with mac =) */
#define PORTSEC_IPS_MAX	 8	/* pinned IPv4 addresses */
#define PORTSEC_CACHE_MS 30000u /* longest a confirmed DHCP binding is trusted without asking */

/*
 * Whether 'addr_be' is bound to a client with MAC 'mac' (a lease or a
 * reservation); on true, '*ret_secs' says for how long the answer holds.
 * 'ctx' is the one given to portsec_set_bound().
 */
typedef bool portsec_bound_fn(void *ctx, const uint8_t mac[6], uint32_t addr_be,
			      uint64_t *ret_secs);

/* Creates an empty pin table with no binding oracle. Returns 0 or -ENOMEM. */
int portsec_new(struct portsec **ret);

/* Frees it. Accepts NULL. */
void portsec_free(struct portsec *ps);

/*
 * Pins 'mac' (6 bytes, copied) and, when 'addr_be' is not 0, the IPv4
 * address 'addr_be' to 'owner' (kept until portsec_unpin_port()). Pinning
 * what is pinned to the same port again is a no-op. Returns 0, -EEXIST
 * (pinned to another port), -EINVAL (a group or zero MAC), or -E2BIG past
 * PORTSEC_PINS_MAX or PORTSEC_IPS_MAX.
 */
int portsec_pin(struct portsec *ps, const struct port *owner, const uint8_t mac[6],
		uint32_t addr_be);

/* Forgets every pin of 'owner' (the port is going away). */
void portsec_unpin_port(struct portsec *ps, const struct port *owner);

/* Sets the DHCP binding oracle ('fn' NULL: no leases bind anything; 'ctx' kept). */
void portsec_set_bound(struct portsec *ps, portsec_bound_fn *fn, void *ctx);

/*
 * Decides whether the untagged frame 'data' ('len' bytes, its parse in
 * 'hdrs'; both borrowed) that entered on 'in' at 'now_ms' (monotonic) may
 * go on. Updates the port's running state (DHCP token bucket, binding
 * cache). Returns -1 to let the frame pass, or the enum port_drop reason
 * to drop it for.
 */
int portsec_check(struct portsec *ps, struct port *in, const uint8_t *data, size_t len,
		  const struct pkt *hdrs, uint64_t now_ms);

#endif

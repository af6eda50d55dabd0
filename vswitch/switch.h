/* SPDX-License-Identifier: MIT */
/*
 * The switch core: one learning Ethernet switch per network. The daemon feeds
 * it frames read from ports; the core validates, learns, looks up and sends
 * to one port or floods, counting every drop per port and reason. It knows
 * ports only through 'struct port_ops' and owns no fds or watchers.
 *
 * 'struct switch' cannot be spelled in C (keyword), so the opaque type of this
 * module is 'struct vswitch'; its functions keep the switch_ prefix.
 */
#ifndef VSWITCH_SWITCH_H
#define VSWITCH_SWITCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vswitch/portsec.h"

struct frame;
struct port;
struct vswitch;

struct switch_conf {
	const char *name;	 /* network name; copied */
	unsigned mtu;		 /* L3 MTU of the network */
	unsigned fdb_aging_secs; /* idle seconds before a learned MAC is forgotten */
	unsigned fdb_max;	 /* MAC entries for the whole network */
};

/* Creates a switch for one network. Returns 0, -EINVAL (bad conf) or -ENOMEM. */
int switch_new(struct vswitch **ret, const struct switch_conf *conf);

/* Frees the switch; its ports must have been removed. Accepts NULL. */
void switch_free(struct vswitch *sw);

/* The network's name (owned by the switch) and its L3 MTU. */
const char *switch_name(const struct vswitch *sw);
unsigned switch_mtu(const struct vswitch *sw);

/*
 * Attaches an opened port ('p' kept until switch_del_port()). Returns 0,
 * -EEXIST if a port of that name is attached, -E2BIG past SWITCH_PORTS_MAX.
 */
#define SWITCH_PORTS_MAX 256
int switch_add_port(struct vswitch *sw, struct port *p);

/* Detaches 'p' and forgets the MACs learned on it. The caller closes it. */
void switch_del_port(struct vswitch *sw, struct port *p);

/*
 * Makes 'sink' receive a copy of every frame 'watched' sends or receives,
 * as it is on the watched port's wire (tags included): a mirror port, or a
 * capture's pseudo-port. 'sink' (kept) need not be attached; copies go out
 * through its send() with the edge fix-ups its offloads need, and count as
 * its tx. Returns 0, -EINVAL (a port watching itself), -EEXIST, or -E2BIG
 * past PORT_MONITORS_MAX.
 */
int switch_add_monitor(struct vswitch *sw, struct port *watched, struct port *sink);

/* Stops copying 'watched' to 'sink'; nothing if it was not. switch_del_port() does it too. */
void switch_del_monitor(struct vswitch *sw, struct port *watched, struct port *sink);

struct impair_conf;

/*
 * Impairs what the core sends out of 'p' (delay, jitter, loss, rate; see
 * impair.h), or removes the impairment when 'c' is NULL or does nothing
 * (frames still queued are dropped). Frames for an impaired port are
 * segmented to its MTU first, so the queue holds ordinary frames. Returns
 * 0, -EINVAL (bad conf) or -ENOMEM.
 */
int switch_set_impair(struct vswitch *sw, struct port *p, const struct impair_conf *c);

/*
 * Sends the impaired frames due at 'now_us' (CLOCK_MONOTONIC microseconds)
 * and returns when the next one is due (UINT64_MAX: none queued). The daemon
 * calls it from a timer set to that time, and after every burst of input.
 */
uint64_t switch_impair_run(struct vswitch *sw, uint64_t now_us);

/* The attached port named 'name', or NULL. */
struct port *switch_find_port(const struct vswitch *sw, const char *name);

/* Calls 'fn' for each attached port in attach order. */
void switch_foreach_port(const struct vswitch *sw, void (*fn)(struct port *p, void *arg),
			 void *arg);

/* Number of attached ports. */
size_t switch_n_ports(const struct vswitch *sw);

/*
 * Handles one frame that arrived on 'in' ('f' borrowed): validation, learning,
 * forwarding. 'now_ms' is a monotonic clock. Endpoints call it to inject
 * their replies. Never fails: problems are drops counted on the ports.
 */
void switch_input(struct vswitch *sw, struct port *in, const struct frame *f, uint64_t now_ms);

/*
 * Drains 'p' through its recv() into the core's frame pool, at most 'budget'
 * frames, handing each to switch_input(). Returns the number of frames read,
 * 0 if none was ready, or a negative errno from recv() other than -EAGAIN.
 */
int switch_poll_port(struct vswitch *sw, struct port *p, unsigned budget, uint64_t now_ms);

/*
 * Sends what ports queued in send() (port_ops.flush). switch_poll_port()
 * calls it after each batch; the daemon calls it before the loop sleeps,
 * for frames endpoints and timers sent.
 */
void switch_flush(struct vswitch *sw);

/* Forgets MACs idle for longer than the aging time. */
void switch_age(struct vswitch *sw, uint64_t now_ms);

struct switch_fdb_entry {
	uint8_t mac[6];
	uint16_t vlan;
	const struct port *port; /* borrowed */
	uint64_t age_ms;	 /* since the MAC was last seen */
};

/* Calls 'fn' for every learned MAC ('e' borrowed for the call), ages taken at 'now_ms'. */
void switch_foreach_fdb(const struct vswitch *sw, uint64_t now_ms,
			void (*fn)(const struct switch_fdb_entry *e, void *arg), void *arg);

/* Number of learned MACs. */
size_t switch_fdb_count(const struct vswitch *sw);

/*
 * Pins 'mac' (and the IPv4 address 'addr_be' unless 0) to port 'owner'
 * (portsec.h): frames from any other port with that source MAC, and ARP
 * from an untrusted port claiming that address, are dropped and counted.
 * For the host adapter, the DHCP endpoint and ports with a configured MAC.
 * Pins go with the port (switch_del_port()). Returns 0, -EEXIST (pinned to
 * another port), -EINVAL (not a unicast MAC) or -E2BIG (table full).
 */
int switch_pin(struct vswitch *sw, const struct port *owner, const uint8_t mac[6],
	       uint32_t addr_be);

/*
 * Sets how the source guard learns which IPv4 addresses a MAC may use: the
 * DHCP server's leases and reservations ('fn' NULL: none; 'ctx' kept).
 */
void switch_set_bound(struct vswitch *sw, portsec_bound_fn *fn, void *ctx);

#endif

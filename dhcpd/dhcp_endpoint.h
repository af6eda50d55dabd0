/* SPDX-License-Identifier: MIT */
/*
 * The DHCP server as a port of kind "endpoint" on a switch (DESIGN.md §2).
 * The daemon creates one per network with DHCP on, attaches it with
 * switch_add_port(), and calls dhcp_endpoint_flush() once per event-loop
 * iteration. The switch calls send() with every frame delivered to the port;
 * the glue hands it to dhcp_server_handle() and injects the reply back with
 * switch_input() from this port. ACKs wait in a queue until the lease file
 * is synced by the next flush (group commit): one fsync per loop iteration,
 * however many clients were acknowledged in it.
 *
 * Calls the server, the lease file, switch_input() and the log module; owns
 * no fd and no watcher.
 */
#ifndef VSWITCH_DHCPD_DHCP_ENDPOINT_H
#define VSWITCH_DHCPD_DHCP_ENDPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dhcpd/dhcp_server.h"

struct port;
struct vswitch;

#define DHCP_ENDPOINT_QUEUE_MAX 128  /* ACKs waiting for a sync; a full queue syncs at once */
#define DHCP_ENDPOINT_FRAME_MAX 1522 /* largest reply frame (1500 + Ethernet + tag) */

/*
 * Creates the endpoint port for switch 'sw' (kept: must outlive the port)
 * serving 'conf' (borrowed; its 'store' member is ignored: the endpoint
 * stores leases in 'lease_path'). 'lease_path' (copied) is the journal,
 * created if missing, whose records are restored before the port exists;
 * NULL keeps leases in memory only (nothing deferred). The port's name is
 * "dhcp" until open() sets it from its port_conf. Returns 0 with '*ret' set
 * (free with port_ops.destroy or dhcp_endpoint_free()); -EINVAL or -E2BIG
 * for a bad conf (see dhcp_server_new()); -ENOMEM; or a lease file error
 * (logged).
 */
int dhcp_endpoint_new(struct port **ret, struct vswitch *sw, const struct dhcp_server_conf *conf,
		      const char *lease_path);

/* Frees an endpoint (queued replies are dropped, nothing more is synced). Accepts NULL. */
void dhcp_endpoint_free(struct port *p);

/* Whether 'p' is a DHCP endpoint (to pick the ports that need flushing). */
bool dhcp_endpoint_is(const struct port *p);

/*
 * The group commit, first half: appends the records of the ACKs queued in
 * this event-loop iteration to the lease file and asks the background syncer
 * (common/syncer.h) to make them durable; the loop goes on meanwhile, and
 * ACKs of the next iterations ride on the next sync. Call once per loop
 * iteration, after the frames of that iteration. ACKs already durable (a
 * compaction, or no lease file) are injected at once with switch_input(sw,
 * p, frame, 'now_ms'). Returns the number of replies released, or -errno
 * if writing failed (logged; those replies are dropped and counted: clients
 * retry, and the records are rewritten by the next compaction).
 */
int dhcp_endpoint_flush(struct port *p, uint64_t now_ms);

/*
 * Housekeeping, about once a second: compacts the lease journal when one is
 * due and the network has had no DHCP traffic for a moment, so that the
 * rewrite (which stops the loop) does not land in the middle of a burst.
 * Returns the number of replies released, or -errno (logged).
 */
int dhcp_endpoint_tick(struct port *p, uint64_t now_ms);

/*
 * The fd that becomes readable when a sync completes (the syncer's eventfd),
 * or -1 when the endpoint keeps leases in memory only. The daemon watches it
 * and then calls dhcp_endpoint_synced().
 */
int dhcp_endpoint_sync_fd(const struct port *p);

/*
 * The group commit, second half: injects, in arrival order, every queued ACK
 * whose record is now durable. Returns the number released, or -errno if the
 * sync failed (logged; the ACKs waiting for it are dropped and counted).
 */
int dhcp_endpoint_synced(struct port *p, uint64_t now_ms);

/* One lease as the control socket lists it; pointers borrowed for the callback. */
struct dhcp_endpoint_lease {
	uint32_t addr_be;
	uint8_t mac[6];
	const uint8_t *client_id; /* option 61 bytes, NULL if keyed by MAC */
	size_t client_id_len;
	const char *hostname;  /* "" if none */
	uint64_t expires_unix; /* seconds since the epoch (end of lease, offer or withholding) */
	enum dhcp_lease_state state;
	const char *state_name; /* "offered", "bound", "released", "expired", "declined" */
};

/* Calls 'fn' for every address with a client or withheld, in address order. */
void dhcp_endpoint_foreach_lease(struct port *p,
				 void (*fn)(const struct dhcp_endpoint_lease *l, void *arg),
				 void *arg);

struct dhcp_endpoint_stats {
	struct dhcp_server_stats server; /* rx/tx by message type, drops by reason */
	uint64_t replies_queued;	 /* ACKs that waited for a sync */
	uint64_t replies_released;	 /* of which sent after the sync */
	uint64_t replies_dropped;	 /* of which dropped: sync failed */
	uint64_t lease_fsyncs;		 /* group commits */
	uint64_t lease_compactions;
	size_t pool_size; /* leasable addresses */
};

/* Fills 'ret' with the endpoint's counters. */
void dhcp_endpoint_get_stats(const struct port *p, struct dhcp_endpoint_stats *ret);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * Endpoint glue between the switch and the DHCP server. Called by the switch
 * core through 'struct port_ops' and by the daemon (flush, listing, stats);
 * calls the server, the lease file, switch_input() and the log module. See
 * dhcp_endpoint.h.
 */
#include "dhcpd/dhcp_endpoint.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>

#include "common/bytes.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/syncer.h"
#include "dhcpd/dhcp_lease_file.h"
#include "dhcpd/dhcp_probe.h"
#include "vswitch/frame.h"
#include "vswitch/port.h"
#include "vswitch/switch.h"

struct queued_reply {
	uint64_t seq; /* journal write this ACK's record went out with; 0 = not yet written */
	uint32_t len;
	uint8_t data[DHCP_ENDPOINT_FRAME_MAX];
};

struct dhcp_endpoint {
	struct port port;	    /* embedded; the switch sees only this */
	struct vswitch *sw;	    /* kept */
	struct dhcp_server *srv;    /* owned */
	struct dhcp_lease_file *lf; /* owned; NULL = leases in memory only */
	uint8_t reply[DHCP_ENDPOINT_FRAME_MAX];
	struct queued_reply *queue; /* owned: ring of DHCP_ENDPOINT_QUEUE_MAX entries */
	unsigned q_head, n_queue;   /* oldest entry, entries in use */
	struct syncer *syncer;	    /* owned; NULL = sync inline (or no lease file) */
	uint8_t mac[6];		    /* the server's MAC, source of its ARP probes */
	struct dhcp_probe *probe;   /* owned: who uses which address, from the traffic seen */
	uint64_t written;	    /* journal writes so far (the seq of the newest) */
	uint64_t durable;	    /* newest write known to be on disk */
	uint64_t n_syncs;
	uint64_t last_frame_ms;
	/* when the server last handled a frame (monotonic) */ /* fsyncs by the endpoint:
								  inline and background */
	bool in_flight;	       /* a sync was requested and has not been collected */
	uint64_t n_exhausted;  /* server's exhaustion count last seen */
	bool exhausted_logged; /* one line per exhaustion episode */
	uint64_t replies_queued, replies_released, replies_dropped;
};

static const struct port_ops dhcp_endpoint_ops;

static struct dhcp_endpoint *ep_of(const struct port *p)
{
	return container_of(p, struct dhcp_endpoint, port);
}

/* Lease times are wall-clock: they must mean the same after a restart. */
static uint64_t wall_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

#define EP_IN_USE_WINDOW_MS (10 * 60 * 1000)

static bool ep_addr_in_use(void *ctx, uint32_t addr_be, const uint8_t client_mac[6])
{
	struct dhcp_endpoint *ep = ctx;

	return dhcp_probe_in_use(ep->probe, addr_be, client_mac, clock_mono_ms(),
				 EP_IN_USE_WINDOW_MS);
}

static void restore_one(const struct dhcp_lease *l, void *arg)
{
	struct dhcp_endpoint *ep = arg;

	(void)dhcp_server_restore(ep->srv, l, wall_us());
}

int dhcp_endpoint_new(struct port **ret, struct vswitch *sw, const struct dhcp_server_conf *conf,
		      const char *lease_path)
{
	struct dhcp_server_conf c = *conf;
	struct dhcp_endpoint *ep;
	int r;

	ep = calloc(1, sizeof(*ep));
	if (!ep)
		return -ENOMEM;
	ep->port.ops = &dhcp_endpoint_ops;
	snprintf(ep->port.name, sizeof(ep->port.name), "dhcp");
	ep->port.mtu = conf->mtu ? conf->mtu : 1500;
	ep->sw = sw;
	memcpy(ep->mac, conf->server_mac, 6);
	ep->queue = calloc(DHCP_ENDPOINT_QUEUE_MAX, sizeof(*ep->queue));
	if (!ep->queue) {
		r = -ENOMEM;
		goto fail;
	}
	if (lease_path) {
		uint32_t first = __builtin_bswap32(conf->first_be);
		uint32_t last = __builtin_bswap32(conf->last_be);
		size_t n_hint = last >= first && last - first >= DHCP_POOL_RESERVED
					? (size_t)(last - first) + 1 - DHCP_POOL_RESERVED
					: 0;

		r = dhcp_lease_file_open(&ep->lf, lease_path, n_hint, wall_us());
		if (r < 0)
			goto fail;
		c.store = (struct dhcp_store){ .put = dhcp_lease_file_put, .ctx = ep->lf };
		/* Without the thread every flush syncs inline: slower, still durable. */
		r = syncer_new(&ep->syncer, dhcp_lease_file_fd(ep->lf));
		if (r < 0)
			log_warn_errno(r, "dhcp: no background lease syncer, syncing inline");
	} else {
		c.store = (struct dhcp_store){ 0 };
	}
	/* A host that used an address this recently still has it (ARP caches live minutes). */
	r = dhcp_probe_new(&ep->probe, 4096);
	if (r < 0)
		goto fail;
	c.addr_in_use = ep_addr_in_use;
	c.addr_in_use_ctx = ep;
	r = dhcp_server_new(&ep->srv, &c);
	if (r < 0) {
		log_error_errno(r, "dhcp: invalid server configuration");
		goto fail;
	}
	if (ep->lf) {
		dhcp_lease_file_foreach(ep->lf, restore_one, ep);
		log_info("dhcp: %zu lease record(s) loaded from '%s'",
			 dhcp_lease_file_count(ep->lf), lease_path);
	}
	*ret = &ep->port;
	return 0;
fail:
	dhcp_endpoint_free(&ep->port);
	return r;
}

void dhcp_endpoint_free(struct port *p)
{
	struct dhcp_endpoint *ep;

	if (!p)
		return;
	ep = ep_of(p);
	syncer_free(ep->syncer); /* first: it may be syncing the lease file's fd */
	dhcp_server_free(ep->srv);
	dhcp_probe_free(ep->probe);
	dhcp_lease_file_free(ep->lf);
	free(ep->queue);
	free(ep);
}

bool dhcp_endpoint_is(const struct port *p)
{
	return p && p->ops == &dhcp_endpoint_ops;
}

static void inject(struct dhcp_endpoint *ep, uint8_t *data, size_t len, uint64_t now_ms)
{
	struct frame f = { .data = data, .len = (uint32_t)len, .cap = DHCP_ENDPOINT_FRAME_MAX };

	switch_input(ep->sw, &ep->port, &f, now_ms);
}

static struct queued_reply *q_at(struct dhcp_endpoint *ep, unsigned i)
{
	return &ep->queue[(ep->q_head + i) % DHCP_ENDPOINT_QUEUE_MAX];
}

/* Injects queued ACKs from the oldest while their record is durable. */
static int release_durable(struct dhcp_endpoint *ep, uint64_t now_ms)
{
	int n = 0;

	while (ep->n_queue && q_at(ep, 0)->seq && q_at(ep, 0)->seq <= ep->durable) {
		struct queued_reply *q = q_at(ep, 0);

		ep->q_head = (ep->q_head + 1) % DHCP_ENDPOINT_QUEUE_MAX;
		ep->n_queue--;
		inject(ep, q->data, q->len, now_ms);
		ep->replies_released++;
		n++;
	}
	return n;
}

/* Drops queued ACKs written at or before 'seq' (all if UINT64_MAX): never ACK what is not on disk.
 */
static void drop_upto(struct dhcp_endpoint *ep, uint64_t seq)
{
	while (ep->n_queue && q_at(ep, 0)->seq <= seq) {
		ep->q_head = (ep->q_head + 1) % DHCP_ENDPOINT_QUEUE_MAX;
		ep->n_queue--;
		ep->replies_dropped++;
	}
}

/* Drops the ACKs whose records were not written (the newest, untagged ones). */
static void drop_untagged(struct dhcp_endpoint *ep)
{
	while (ep->n_queue && !q_at(ep, ep->n_queue - 1)->seq) {
		ep->n_queue--;
		ep->replies_dropped++;
	}
}

/* Waits (bounded) for the sync in flight and releases what it made durable. */
static void wait_in_flight(struct dhcp_endpoint *ep, uint64_t now_ms)
{
	struct pollfd pfd = { .fd = ep->syncer ? syncer_fd(ep->syncer) : -1, .events = POLLIN };

	while (ep->in_flight && poll(&pfd, 1, 5000) == 1)
		(void)dhcp_endpoint_synced(&ep->port, now_ms);
}

/* Marks the ACKs not yet written as going out with journal write 'seq'. */
static void tag_untagged(struct dhcp_endpoint *ep, uint64_t seq)
{
	for (unsigned i = ep->n_queue; i-- > 0 && !q_at(ep, i)->seq;)
		q_at(ep, i)->seq = seq;
}

/*
 * Writes what is queued and makes it durable before returning: the path for
 * a full queue, for close(), and when there is no syncer thread. Everything
 * written so far is durable afterwards.
 */
static int sync_inline(struct dhcp_endpoint *ep, uint64_t now_ms)
{
	int r;

	wait_in_flight(ep, now_ms);
	r = dhcp_lease_file_write(ep->lf, wall_us(), !ep->in_flight);

	if (r == 0 && fsync(dhcp_lease_file_fd(ep->lf)) < 0) {
		r = log_error_errno(-errno, "dhcp '%s': lease file sync failed", ep->port.name);
		dhcp_lease_file_sync_failed(ep->lf);
	}
	if (r < 0) {
		drop_upto(ep, UINT64_MAX);
		return r;
	}
	if (r == 1 && ep->syncer)
		syncer_set_fd(ep->syncer, dhcp_lease_file_fd(ep->lf));
	if (r == 0)
		ep->n_syncs++;
	tag_untagged(ep, ++ep->written);
	ep->durable = ep->written;
	return release_durable(ep, now_ms);
}

int dhcp_endpoint_flush(struct port *p, uint64_t now_ms)
{
	struct dhcp_endpoint *ep = ep_of(p);
	int r;

	if (!ep->lf) {
		tag_untagged(ep, ++ep->written);
		ep->durable = ep->written;
		return release_durable(ep, now_ms);
	}
	if (!dhcp_lease_file_pending(ep->lf)) {
		/* Their records went out with an earlier write (a full queue's inline sync). */
		tag_untagged(ep, ep->written);
		return release_durable(ep, now_ms);
	}
	if (!ep->syncer)
		return sync_inline(ep, now_ms);
	/*
	 * One sync in flight at a time: what arrives meanwhile stays queued and
	 * goes out as one write and one sync when it completes (group commit).
	 */
	if (ep->in_flight)
		return 0;
	/*
	 * A compaction replaces the journal's fd (so only with no sync in
	 * flight) and stops the loop while it writes every record: under load
	 * only when urgent; dhcp_endpoint_tick() does it in a quiet moment.
	 */
	r = dhcp_lease_file_write(ep->lf, wall_us(), dhcp_lease_file_compact_due(ep->lf, true));
	if (r == -EIO)
		return 0; /* a compaction is due: it runs once the sync in flight is collected */
	if (r < 0) {
		drop_untagged(ep); /* their records did not reach the file */
		return r;
	}
	if (r == 1) { /* compacted: everything so far is durable */
		syncer_set_fd(ep->syncer, dhcp_lease_file_fd(ep->lf));
		tag_untagged(ep, ++ep->written);
		ep->durable = ep->written;
		return release_durable(ep, now_ms);
	}
	tag_untagged(ep, ++ep->written);
	syncer_request(ep->syncer, ep->written);
	ep->in_flight = true;
	return 0;
}

#define EP_QUIET_MS 500 /* no DHCP traffic this long: a good moment for a compaction */

int dhcp_endpoint_tick(struct port *p, uint64_t now_ms)
{
	struct dhcp_endpoint *ep = ep_of(p);
	int r;

	if (!ep->lf || ep->in_flight || now_ms - ep->last_frame_ms < EP_QUIET_MS ||
	    !dhcp_lease_file_compact_due(ep->lf, false))
		return 0;
	r = dhcp_lease_file_compact(ep->lf, wall_us());
	if (r < 0)
		return r;
	if (ep->syncer)
		syncer_set_fd(ep->syncer, dhcp_lease_file_fd(ep->lf));
	/* What was queued went into the new journal, which is synced. */
	tag_untagged(ep, ++ep->written);
	ep->durable = ep->written;
	return release_durable(ep, now_ms);
}

int dhcp_endpoint_sync_fd(const struct port *p)
{
	const struct dhcp_endpoint *ep = ep_of(p);

	return ep->syncer ? syncer_fd(ep->syncer) : -1;
}

int dhcp_endpoint_synced(struct port *p, uint64_t now_ms)
{
	struct dhcp_endpoint *ep = ep_of(p);
	int64_t durable;
	int n, r;

	if (!ep->syncer)
		return 0;
	durable = syncer_collect(ep->syncer);
	if (durable < 0) {
		log_error_errno((int)durable, "dhcp '%s': lease file sync failed, dropping ACKs",
				ep->port.name);
		dhcp_lease_file_sync_failed(ep->lf);
		drop_upto(ep, ep->written);
		ep->in_flight = false;
		return (int)durable;
	}
	if ((uint64_t)durable > ep->durable) {
		ep->durable = (uint64_t)durable;
		ep->n_syncs++;
	}
	if (ep->durable >= ep->written)
		ep->in_flight = false;
	n = release_durable(ep, now_ms);
	/* The next group: everything put while this sync ran. */
	if (!ep->in_flight) {
		r = dhcp_endpoint_flush(p, now_ms);
		if (r > 0)
			n += r;
	}
	return n;
}

/*
 * Asks on the wire whether anyone holds 'addr_be' (RFC 5227 probe: sender
 * address 0.0.0.0, so no ARP cache learns anything from it). An answer comes
 * back to our MAC, dhcp_probe_observe() records it, and the client's REQUEST
 * for that address is then refused.
 */
static void send_arp_probe(struct dhcp_endpoint *ep, uint32_t addr_be)
{
	uint8_t f[60] = { 0 };

	memset(f, 0xff, 6);
	memcpy(f + 6, ep->mac, 6);
	put_be16(f + 12, 0x0806);
	put_be16(f + 14, 1);	  /* Ethernet */
	put_be16(f + 16, 0x0800); /* IPv4 */
	f[18] = 6;
	f[19] = 4;
	put_be16(f + 20, 1); /* request */
	memcpy(f + 22, ep->mac, 6);
	memcpy(f + 38, &addr_be, 4);
	inject(ep, f, sizeof(f), clock_mono_ms());
}

/* One warning per exhaustion episode: the server itself logs only at debug. */
static void note_exhaustion(struct dhcp_endpoint *ep, int r)
{
	uint64_t n = dhcp_server_stats(ep->srv)->drops[DHCP_DROP_EXHAUSTED];

	if (n != ep->n_exhausted) {
		if (!ep->exhausted_logged)
			log_warn("dhcp '%s': address pool exhausted (%zu addresses), not answering "
				 "DISCOVER",
				 ep->port.name, dhcp_server_pool_size(ep->srv));
		ep->exhausted_logged = true;
	} else if (r == DHCP_OFFER || r == DHCP_ACK) {
		ep->exhausted_logged = false; /* addresses flow again: the episode is over */
	}
	ep->n_exhausted = n;
}

static int ep_send(struct port *p, const struct frame *f)
{
	struct dhcp_endpoint *ep = ep_of(p);
	struct queued_reply *q;
	size_t len = 0;
	int r;

	/*
	 * offloads = 0: the core segments GSO frames and fills partial
	 * checksums before calling us, so 'f' is a plain frame.
	 */
	ep->last_frame_ms = clock_mono_ms();
	dhcp_probe_observe(ep->probe, f->data, f->len, ep->last_frame_ms);
	r = dhcp_server_handle(ep->srv, f->data, f->len, wall_us(), ep->reply, sizeof(ep->reply),
			       &len);
	note_exhaustion(ep, r);
	if (r <= 0)
		return 0; /* ignored frames are counted by the server, not send failures */
	if (!dhcp_server_reply_deferred(ep->srv)) {
		inject(ep, ep->reply, len, clock_mono_ms());
		if (r == DHCP_OFFER && dhcp_server_arp_probe(ep->srv))
			send_arp_probe(ep, dhcp_server_arp_probe(ep->srv));
		return 0;
	}
	if (ep->n_queue == DHCP_ENDPOINT_QUEUE_MAX)
		(void)sync_inline(ep, clock_mono_ms());
	if (ep->n_queue == DHCP_ENDPOINT_QUEUE_MAX) { /* the sync failed: nothing was released */
		ep->replies_dropped++;
		return 0;
	}
	q = q_at(ep, ep->n_queue);
	q->seq = 0;
	q->len = (uint32_t)len;
	memcpy(q->data, ep->reply, len);
	ep->n_queue++;
	ep->replies_queued++;
	return 0;
}

static int ep_open(struct port *p, const struct port_conf *conf)
{
	if (conf->name)
		snprintf(p->name, sizeof(p->name), "%s", conf->name);
	if (conf->mtu)
		p->mtu = conf->mtu;
	return 0;
}

/* Makes what was acknowledged durable; replies still queued are dropped. */
static void ep_close(struct port *p)
{
	struct dhcp_endpoint *ep = ep_of(p);

	/* Let a sync in flight finish: a compaction must not pull the fd from under it. */
	wait_in_flight(ep, clock_mono_ms());
	if (ep->lf && !ep->in_flight)
		(void)dhcp_lease_file_sync(ep->lf, wall_us());
	drop_upto(ep, UINT64_MAX);
}

static int ep_fd(const struct port *p)
{
	(void)p;
	return -1;
}

static const struct port_ops dhcp_endpoint_ops = {
	.kind = "endpoint",
	.offloads = 0,
	.open = ep_open,
	.close = ep_close,
	.destroy = dhcp_endpoint_free,
	.fd = ep_fd,
	.recv = NULL,
	.send = ep_send,
	.set_mtu = NULL,
};

struct list_ctx {
	void (*fn)(const struct dhcp_endpoint_lease *l, void *arg);
	void *arg;
};

static void list_one(const struct dhcp_lease *l, enum dhcp_lease_state st, void *arg)
{
	struct list_ctx *lc = arg;
	struct dhcp_endpoint_lease el = {
		.addr_be = l->addr_be,
		.client_id = l->cid_len ? l->cid : NULL,
		.client_id_len = l->cid_len,
		.hostname = l->hostname,
		.expires_unix = l->expires_us / 1000000u,
		.state = st,
		.state_name = dhcp_lease_state_name(st),
	};

	memcpy(el.mac, l->mac, 6);
	lc->fn(&el, lc->arg);
}

void dhcp_endpoint_foreach_lease(struct port *p,
				 void (*fn)(const struct dhcp_endpoint_lease *l, void *arg),
				 void *arg)
{
	struct list_ctx lc = { .fn = fn, .arg = arg };

	dhcp_server_foreach_lease(ep_of(p)->srv, wall_us(), list_one, &lc);
}

void dhcp_endpoint_get_stats(const struct port *p, struct dhcp_endpoint_stats *ret)
{
	const struct dhcp_endpoint *ep = ep_of(p);

	memset(ret, 0, sizeof(*ret));
	ret->server = *dhcp_server_stats(ep->srv);
	ret->replies_queued = ep->replies_queued;
	ret->replies_released = ep->replies_released;
	ret->replies_dropped = ep->replies_dropped;
	if (ep->lf) {
		ret->lease_fsyncs = dhcp_lease_file_stats(ep->lf)->n_fsyncs + ep->n_syncs;
		ret->lease_compactions = dhcp_lease_file_stats(ep->lf)->n_compactions;
	}
	ret->pool_size = dhcp_server_pool_size(ep->srv);
}

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
#include <time.h>

#include "common/log.h"
#include "dhcpd/dhcp_lease_file.h"
#include "vswitch/frame.h"
#include "vswitch/port.h"
#include "vswitch/switch.h"

struct queued_reply {
	uint32_t len;
	uint8_t data[DHCP_ENDPOINT_FRAME_MAX];
};

struct dhcp_endpoint {
	struct port port;	    /* embedded; the switch sees only this */
	struct vswitch *sw;	    /* kept */
	struct dhcp_server *srv;    /* owned */
	struct dhcp_lease_file *lf; /* owned; NULL = leases in memory only */
	uint8_t reply[DHCP_ENDPOINT_FRAME_MAX];
	struct queued_reply *queue; /* owned: DHCP_ENDPOINT_QUEUE_MAX entries */
	unsigned n_queue;
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

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
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
	} else {
		c.store = (struct dhcp_store){ 0 };
	}
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
	dhcp_server_free(ep->srv);
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

int dhcp_endpoint_flush(struct port *p, uint64_t now_ms)
{
	struct dhcp_endpoint *ep = ep_of(p);
	unsigned n = ep->n_queue;
	int r = 0;

	if (ep->lf)
		r = dhcp_lease_file_sync(ep->lf, wall_us());
	if (r < 0) {
		/* Never acknowledge what is not on disk (issue: durability). */
		ep->replies_dropped += n;
		ep->n_queue = 0;
		return r;
	}
	ep->n_queue = 0;
	for (unsigned i = 0; i < n; i++) {
		inject(ep, ep->queue[i].data, ep->queue[i].len, now_ms);
		ep->replies_released++;
	}
	return (int)n;
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
	size_t len = 0;
	int r;

	/*
	 * offloads = 0: the core segments GSO frames and fills partial
	 * checksums before calling us, so 'f' is a plain frame.
	 */
	r = dhcp_server_handle(ep->srv, f->data, f->len, wall_us(), ep->reply, sizeof(ep->reply),
			       &len);
	note_exhaustion(ep, r);
	if (r <= 0)
		return 0; /* ignored frames are counted by the server, not send failures */
	if (!dhcp_server_reply_deferred(ep->srv)) {
		inject(ep, ep->reply, len, mono_ms());
		return 0;
	}
	if (ep->n_queue == DHCP_ENDPOINT_QUEUE_MAX)
		(void)dhcp_endpoint_flush(p, mono_ms());
	ep->queue[ep->n_queue].len = (uint32_t)len;
	memcpy(ep->queue[ep->n_queue].data, ep->reply, len);
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

	if (ep->lf)
		(void)dhcp_lease_file_sync(ep->lf, wall_us());
	ep->replies_dropped += ep->n_queue;
	ep->n_queue = 0;
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
		ret->lease_fsyncs = dhcp_lease_file_stats(ep->lf)->n_fsyncs;
		ret->lease_compactions = dhcp_lease_file_stats(ep->lf)->n_compactions;
	}
	ret->pool_size = dhcp_server_pool_size(ep->srv);
}

/* SPDX-License-Identifier: MIT */
/*
 * The switch core. The daemon calls switch_poll_port() when a port's fd is
 * readable and switch_age() once a second; endpoints call switch_input() to
 * inject their replies. The core calls ports only through their port_ops.
 *
 * Theory of operation
 * -------------------
 * Each network is one 'struct vswitch': a flat array of ports, a MAC table
 * (fdb.c) and a pool of receive buffers big enough for 64 KiB GSO frames,
 * allocated once, so the packet path never allocates.
 *
 * A frame from port P is checked (at least an Ethernet header; no longer than
 * P carries unless it is a GSO super-frame described by its vnet header),
 * counted, and its source MAC learned on P: a MAC seen on another port moves
 * (a VM migrated or a cable was re-plugged). Multicast or all-zero sources are
 * dropped, since a switch must never learn them. The destination then decides:
 * group addresses and unknown unicast flood to every port but P; a known MAC
 * goes to its port; a MAC learned on P itself is filtered, as a hardware
 * switch would (the frame already reached its segment).
 *
 * At the egress edge a frame may carry offloads the port cannot take: a
 * partial checksum is completed here into a scratch copy (the shared frame
 * stays untouched for the other flood targets), and a GSO super-frame is cut
 * into MSS-sized segments with complete checksums (gso.c), so a guest's
 * 64 KiB TCP send reaches an endpoint or a plain port as ordinary frames.
 */
#include "vswitch/switch.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "common/bytes.h"
#include "common/csum.h"
#include "common/log.h"
#include "vswitch/fdb.h"
#include "vswitch/frame.h"
#include "vswitch/gso.h"
#include "vswitch/port.h"

#define SWITCH_BURST 32 /* frames per recv() call; also the pool size */

struct vswitch {
	char name[32];
	unsigned mtu;
	uint64_t aging_ms;
	struct fdb *fdb;
	struct port *ports[SWITCH_PORTS_MAX]; /* kept; attach order */
	size_t n_ports;
	struct frame pool[SWITCH_BURST]; /* receive buffers, FRAME_MAX_LEN each */
	uint8_t *pool_mem;		 /* owns the pool's bytes */
	uint8_t *scratch;		 /* FRAME_MAX_LEN bytes for edge fix-ups */
};

static const char *const port_drop_names[PORT_DROP_N] = {
	[PORT_DROP_RUNT] = "runt",
	[PORT_DROP_TOO_LONG] = "too-long",
	[PORT_DROP_BAD_SRC] = "bad-source",
	[PORT_DROP_SAME_PORT] = "same-port",
	[PORT_DROP_NO_OFFLOAD] = "no-offload",
	[PORT_DROP_TX_ERROR] = "tx-error",
	[PORT_DROP_RX_ERROR] = "rx-error",
};

const char *port_drop_name(enum port_drop d)
{
	return d < PORT_DROP_N ? port_drop_names[d] : "unknown";
}

int switch_new(struct vswitch **ret, const struct switch_conf *conf)
{
	struct vswitch *sw;
	uint64_t seed = 0;
	int r;

	if (!conf->name || !conf->fdb_max || conf->mtu < 68 || conf->mtu > 65535)
		return -EINVAL;
	sw = calloc(1, sizeof(*sw));
	if (!sw)
		return -ENOMEM;
	snprintf(sw->name, sizeof(sw->name), "%s", conf->name);
	sw->mtu = conf->mtu;
	sw->aging_ms = (uint64_t)conf->fdb_aging_secs * 1000;
	/* A weak seed only makes collisions guessable; it cannot fail the switch. */
	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != sizeof(seed))
		seed = (uint64_t)(uintptr_t)sw ^ 0x9e3779b97f4a7c15ull;
	/* One port may take half the table, so a MAC flood on one port leaves room for the rest. */
	r = fdb_new(&sw->fdb, conf->fdb_max, conf->fdb_max > 1 ? conf->fdb_max / 2 : 1, seed);
	if (r < 0)
		goto fail;
	sw->pool_mem = malloc((size_t)FRAME_MAX_LEN * (SWITCH_BURST + 1));
	if (!sw->pool_mem) {
		r = -ENOMEM;
		goto fail;
	}
	for (unsigned i = 0; i < SWITCH_BURST; i++)
		sw->pool[i] = (struct frame){ .data = sw->pool_mem + (size_t)i * FRAME_MAX_LEN,
					      .cap = FRAME_MAX_LEN };
	sw->scratch = sw->pool_mem + (size_t)SWITCH_BURST * FRAME_MAX_LEN;
	*ret = sw;
	return 0;
fail:
	switch_free(sw);
	return r;
}

void switch_free(struct vswitch *sw)
{
	if (!sw)
		return;
	fdb_free(sw->fdb);
	free(sw->pool_mem);
	free(sw);
}

const char *switch_name(const struct vswitch *sw)
{
	return sw->name;
}

unsigned switch_mtu(const struct vswitch *sw)
{
	return sw->mtu;
}

struct port *switch_find_port(const struct vswitch *sw, const char *name)
{
	for (size_t i = 0; i < sw->n_ports; i++)
		if (!strcmp(sw->ports[i]->name, name))
			return sw->ports[i];
	return NULL;
}

int switch_add_port(struct vswitch *sw, struct port *p)
{
	if (switch_find_port(sw, p->name))
		return -EEXIST;
	if (sw->n_ports >= SWITCH_PORTS_MAX)
		return -E2BIG;
	p->n_fdb = 0;
	sw->ports[sw->n_ports++] = p;
	return 0;
}

void switch_del_port(struct vswitch *sw, struct port *p)
{
	for (size_t i = 0; i < sw->n_ports; i++) {
		if (sw->ports[i] != p)
			continue;
		memmove(&sw->ports[i], &sw->ports[i + 1], (sw->n_ports - i - 1) * sizeof(p));
		sw->n_ports--;
		fdb_flush_port(sw->fdb, p);
		return;
	}
}

void switch_foreach_port(const struct vswitch *sw, void (*fn)(struct port *p, void *arg), void *arg)
{
	for (size_t i = 0; i < sw->n_ports; i++)
		fn(sw->ports[i], arg);
}

size_t switch_n_ports(const struct vswitch *sw)
{
	return sw->n_ports;
}

/*
 * Completes a partial checksum (VIRTIO_NET_HDR_F_NEEDS_CSUM) into the scratch
 * buffer. By the virtio-net convention the checksum field already holds the
 * pseudo-header sum, so summing from csum_start to the end and folding gives
 * the final value. Returns the fixed frame, or NULL if the offsets are bad.
 */
static const struct frame *switch_fix_csum(struct vswitch *sw, const struct frame *f,
					   struct frame *tmp)
{
	uint32_t start = f->vnet.csum_start, off = f->vnet.csum_offset;

	if (start >= f->len || off > f->len - start || f->len - start - off < 2)
		return NULL;
	memcpy(sw->scratch, f->data, f->len);
	*tmp = (struct frame){ .data = sw->scratch, .len = f->len, .cap = FRAME_MAX_LEN };
	put_be16(sw->scratch + start + off,
		 csum_fold(csum_add(0, sw->scratch + start, f->len - start)));
	/* A computed 0 is sent as 0xffff for UDP (RFC 768); harmless for TCP. */
	if (!get_be16(sw->scratch + start + off))
		put_be16(sw->scratch + start + off, 0xffff);
	return tmp;
}

/* Sends one frame and counts the result on 'out'. */
static int switch_send(struct port *out, const struct frame *f)
{
	int r = out->ops->send(out, f);

	if (r < 0) {
		out->stats.drops[PORT_DROP_TX_ERROR]++;
		return r;
	}
	out->stats.tx_packets++;
	out->stats.tx_bytes += f->len;
	return 0;
}

static int switch_send_segment(void *arg, const struct frame *seg)
{
	/* A segment lost to a full queue is TCP's to resend; the others still go. */
	(void)switch_send(arg, seg);
	return 0;
}

static void switch_output(struct vswitch *sw, struct port *out, const struct frame *f)
{
	struct frame tmp;

	if (frame_is_gso(f)) {
		if (!(out->ops->offloads & PORT_OFL_GSO)) {
			if (gso_segment(f, sw->scratch, FRAME_MAX_LEN, switch_send_segment, out) <
			    0)
				out->stats.drops[PORT_DROP_NO_OFFLOAD]++;
			return;
		}
	} else if (f->len > port_max_frame(out)) {
		out->stats.drops[PORT_DROP_TOO_LONG]++;
		return;
	}
	if ((f->vnet.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) &&
	    !(out->ops->offloads & PORT_OFL_CSUM)) {
		f = switch_fix_csum(sw, f, &tmp);
		if (!f) {
			out->stats.drops[PORT_DROP_NO_OFFLOAD]++;
			return;
		}
	}
	(void)switch_send(out, f);
}

static int mac_is_group(const uint8_t *mac)
{
	return mac[0] & 1;
}

static int mac_is_zero(const uint8_t *mac)
{
	static const uint8_t zero[6];

	return !memcmp(mac, zero, 6);
}

void switch_input(struct vswitch *sw, struct port *in, const struct frame *f, uint64_t now_ms)
{
	const uint8_t *dst = f->data, *src = f->data + 6;
	struct port *out;

	if (f->len < FRAME_ETH_HLEN) {
		in->stats.drops[PORT_DROP_RUNT]++;
		return;
	}
	if (!frame_is_gso(f) && f->len > port_max_frame(in)) {
		in->stats.drops[PORT_DROP_TOO_LONG]++;
		return;
	}
	if (mac_is_group(src) || mac_is_zero(src)) {
		in->stats.drops[PORT_DROP_BAD_SRC]++;
		return;
	}
	in->stats.rx_packets++;
	in->stats.rx_bytes += f->len;
	if (fdb_learn(sw->fdb, src, 0, in, now_ms) == -E2BIG)
		in->stats.unlearned++;

	out = mac_is_group(dst) ? NULL : fdb_lookup(sw->fdb, dst, 0);
	if (out == in) {
		in->stats.drops[PORT_DROP_SAME_PORT]++;
		return;
	}
	if (out) {
		switch_output(sw, out, f);
		return;
	}
	/*
	 * Flood. A port's send() may call back into switch_input() (an endpoint
	 * answering at once), which can only add learned MACs, never ports, so
	 * walking the array by index stays valid.
	 */
	for (size_t i = 0; i < sw->n_ports; i++)
		if (sw->ports[i] != in)
			switch_output(sw, sw->ports[i], f);
}

int switch_poll_port(struct vswitch *sw, struct port *p, unsigned budget, uint64_t now_ms)
{
	unsigned total = 0;

	while (total < budget) {
		unsigned want = budget - total < SWITCH_BURST ? budget - total : SWITCH_BURST;
		int n;

		for (unsigned i = 0; i < want; i++) {
			sw->pool[i].len = 0;
			memset(&sw->pool[i].vnet, 0, sizeof(sw->pool[i].vnet));
		}
		n = p->ops->recv(p, sw->pool, want);
		if (n == -EAGAIN)
			break;
		if (n < 0) {
			p->stats.drops[PORT_DROP_RX_ERROR]++;
			return total ? (int)total : n;
		}
		for (int i = 0; i < n; i++)
			switch_input(sw, p, &sw->pool[i], now_ms);
		total += (unsigned)n;
		if ((unsigned)n < want)
			break; /* the fd ran dry; saves one recv() that would say EAGAIN */
	}
	return (int)total;
}

void switch_age(struct vswitch *sw, uint64_t now_ms)
{
	(void)fdb_age(sw->fdb, now_ms, sw->aging_ms);
}

struct switch_fdb_walk {
	uint64_t now_ms;
	void (*fn)(const struct switch_fdb_entry *e, void *arg);
	void *arg;
};

static void switch_fdb_visit(const uint8_t mac[6], uint16_t vlan, struct port *p,
			     uint64_t last_seen_ms, void *arg)
{
	struct switch_fdb_walk *w = arg;
	struct switch_fdb_entry e = {
		.vlan = vlan,
		.port = p,
		.age_ms = w->now_ms > last_seen_ms ? w->now_ms - last_seen_ms : 0,
	};

	memcpy(e.mac, mac, 6);
	w->fn(&e, w->arg);
}

void switch_foreach_fdb(const struct vswitch *sw, uint64_t now_ms,
			void (*fn)(const struct switch_fdb_entry *e, void *arg), void *arg)
{
	struct switch_fdb_walk w = { now_ms, fn, arg };

	fdb_foreach(sw->fdb, switch_fdb_visit, &w);
}

size_t switch_fdb_count(const struct vswitch *sw)
{
	return fdb_count(sw->fdb);
}

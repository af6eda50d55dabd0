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
 *
 * VLANs (802.1Q). Every frame belongs to one VLAN inside the core: the tag
 * it carried in (taken out of the bytes, or handed over by the NIC as
 * auxdata) if the port is a trunk of it, else the ingress port's own VLAN
 * (0, the untagged segment, when none is set). Learning and lookups are per
 * VLAN, floods stay in it, and at egress the tag goes back in (into
 * 'tagbuf') for a port that carries the VLAN tagged; a port that is not a
 * member never sees the frame.
 *
 * Monitors (mirror ports, captures) get a copy of each frame a watched port
 * receives or sends, as on that port's wire, delivered with the sink's own
 * edge fix-ups in 'mscratch' so they never disturb the frame in flight. An
 * impaired port's frames go to its queue (impair.c) instead of send(), and
 * switch_impair_run() sends them when due.
 */
#include "vswitch/switch.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "common/bytes.h"
#include "common/clock.h"
#include "common/csum.h"
#include "common/log.h"
#include "common/pkt.h"
#include "vswitch/fdb.h"
#include "vswitch/frame.h"
#include "vswitch/gso.h"
#include "vswitch/impair.h"
#include "vswitch/port.h"
#include "vswitch/portsec.h"

#define SWITCH_BURST 32 /* frames per recv() call; also the pool size */

struct vswitch {
	char name[32];
	unsigned mtu;
	uint64_t aging_ms;
	struct fdb *fdb;
	struct portsec *sec;		      /* pinned addresses and the DHCP binding oracle */
	struct port *ports[SWITCH_PORTS_MAX]; /* kept; attach order */
	size_t n_ports;
	struct frame pool[SWITCH_BURST]; /* receive buffers, FRAME_MAX_LEN each */
	uint8_t *pool_mem;		 /* owns the pool's bytes */
	uint8_t *scratch;		 /* FRAME_MAX_LEN bytes for edge fix-ups */
	uint8_t *tagbuf;   /* FRAME_MAX_LEN bytes: a frame with its 802.1Q tag put in */
	uint8_t *mscratch; /* FRAME_MAX_LEN bytes: edge fix-ups of monitor copies */
	uint32_t next_id;  /* the id the next attached port gets */
	struct port *queued[SWITCH_PORTS_MAX * 2]; /* ports with frames to flush (tx_queued) */
	size_t n_queued;
};

/* Where a frame goes out: the port, and the tag it carries there (-1: untagged). */
struct switch_egress {
	struct vswitch *sw;
	struct port *out;
	int tag;	/* VLAN id to put in, or -1 */
	bool monitored; /* copies go to out's monitors */
	bool impaired;	/* the frame comes out of out's impairment queue: send it now */
};

#define SWITCH_IMPAIR_FRAMES 1024 /* frames an impaired port holds back */

static const char *const port_drop_names[PORT_DROP_N] = {
	[PORT_DROP_RUNT] = "runt",
	[PORT_DROP_TOO_LONG] = "too-long",
	[PORT_DROP_BAD_SRC] = "bad-source",
	[PORT_DROP_SAME_PORT] = "same-port",
	[PORT_DROP_NO_OFFLOAD] = "no-offload",
	[PORT_DROP_TX_ERROR] = "tx-error",
	[PORT_DROP_RX_ERROR] = "rx-error",
	[PORT_DROP_VLAN] = "vlan",
	[PORT_DROP_SPOOFED_MAC] = "spoofed-mac",
	[PORT_DROP_MAC_LIMIT] = "mac-limit",
	[PORT_DROP_ARP] = "arp-inspection",
	[PORT_DROP_SOURCE] = "source-guard",
	[PORT_DROP_DHCP_GUARD] = "dhcp-guard",
	[PORT_DROP_DHCP_RATE] = "dhcp-rate",
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
	r = portsec_new(&sw->sec);
	if (r < 0)
		goto fail;
	sw->pool_mem = malloc((size_t)FRAME_MAX_LEN * (SWITCH_BURST + 3));
	if (!sw->pool_mem) {
		r = -ENOMEM;
		goto fail;
	}
	for (unsigned i = 0; i < SWITCH_BURST; i++)
		sw->pool[i] = (struct frame){ .data = sw->pool_mem + (size_t)i * FRAME_MAX_LEN,
					      .cap = FRAME_MAX_LEN };
	sw->scratch = sw->pool_mem + (size_t)SWITCH_BURST * FRAME_MAX_LEN;
	sw->tagbuf = sw->scratch + FRAME_MAX_LEN;
	sw->mscratch = sw->tagbuf + FRAME_MAX_LEN;
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
	portsec_free(sw->sec);
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
	p->id = ++sw->next_id;
	memset(&p->sec_state, 0, sizeof(p->sec_state));
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
		break;
	}
	portsec_unpin_port(sw->sec, p);
	impair_free(p->impair);
	p->impair = NULL;
	for (size_t i = 0; i < sw->n_queued; i++)
		if (sw->queued[i] == p)
			sw->queued[i] = sw->queued[--sw->n_queued];
	p->tx_queued = false;
	/* A port gone is no one's mirror any more. */
	for (size_t i = 0; i < sw->n_ports; i++)
		switch_del_monitor(sw, sw->ports[i], p);
}

int switch_add_monitor(struct vswitch *sw, struct port *watched, struct port *sink)
{
	(void)sw;
	if (watched == sink)
		return -EINVAL;
	for (unsigned i = 0; i < watched->n_monitors; i++)
		if (watched->monitors[i] == sink)
			return -EEXIST;
	if (watched->n_monitors == PORT_MONITORS_MAX)
		return -E2BIG;
	watched->monitors[watched->n_monitors++] = sink;
	return 0;
}

void switch_del_monitor(struct vswitch *sw, struct port *watched, struct port *sink)
{
	(void)sw;
	for (unsigned i = 0; i < watched->n_monitors; i++) {
		if (watched->monitors[i] != sink)
			continue;
		memmove(&watched->monitors[i], &watched->monitors[i + 1],
			(watched->n_monitors - i - 1) * sizeof(sink));
		watched->n_monitors--;
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
static const struct frame *switch_fix_csum(const struct frame *f, uint8_t *scratch,
					   struct frame *tmp)
{
	uint32_t start = f->vnet.csum_start, off = f->vnet.csum_offset;

	if (start >= f->len || off > f->len - start || f->len - start - off < 2)
		return NULL;
	memcpy(scratch, f->data, f->len);
	/* Same layout: the ingress parse still describes the copy. */
	*tmp = (struct frame){
		.data = scratch, .len = f->len, .cap = FRAME_MAX_LEN, .in = f->in, .hdrs = f->hdrs
	};
	put_be16(scratch + start + off, csum_fold(csum_add(0, scratch + start, f->len - start)));
	/* A computed 0 is sent as 0xffff for UDP (RFC 768); harmless for TCP. */
	if (!get_be16(scratch + start + off))
		put_be16(scratch + start + off, 0xffff);
	return tmp;
}

/*
 * Copies 'f' into 'buf' with an 802.1Q tag for VLAN 'vid' after the MAC
 * addresses. Offsets in the vnet header count from the frame's start, so
 * they move by the tag's length.
 */
static const struct frame *switch_tag(const struct frame *f, uint16_t vid, uint8_t *buf,
				      struct frame *tmp)
{
	if (f->len + FRAME_VLAN_HLEN > FRAME_MAX_LEN || f->len < FRAME_ETH_HLEN)
		return NULL;
	memcpy(buf, f->data, 12);
	put_be16(buf + 12, FRAME_ETH_P_8021Q);
	put_be16(buf + 14, vid);
	memcpy(buf + 16, f->data + 12, f->len - 12);
	*tmp = *f;
	tmp->data = buf;
	tmp->len = f->len + FRAME_VLAN_HLEN;
	tmp->cap = FRAME_MAX_LEN;
	tmp->vlan_valid = 0;
	tmp->hdrs = NULL; /* offsets moved by the tag */
	if (tmp->vnet.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)
		tmp->vnet.csum_start = (uint16_t)(f->vnet.csum_start + FRAME_VLAN_HLEN);
	if (frame_is_gso(tmp))
		tmp->vnet.hdr_len = (uint16_t)(f->vnet.hdr_len + FRAME_VLAN_HLEN);
	return tmp;
}

static void switch_monitor(struct vswitch *sw, struct port *watched, const struct frame *f);

/* Hands a frame bound for an impaired port to its queue, vnet header kept alongside. */
static int switch_impair_offer(struct port *out, const struct frame *f)
{
	int r = impair_enqueue(out->impair, f->data, f->len, &f->vnet, sizeof(f->vnet),
			       clock_mono_us());

	/* Losses and overflows are the impairment's own counters (impair_get_stats). */
	return r < 0 ? r : 0;
}

/* Sends one frame, tagged if asked, and counts the result on the egress port. */
static int switch_send(struct switch_egress *e, const struct frame *f)
{
	struct port *out = e->out;
	struct frame tmp;
	int r;

	if (e->tag >= 0) {
		/* Only monitor copies live in tagbuf, and they go out as they are (tag -1). */
		assert(f->data != e->sw->tagbuf);
		f = switch_tag(f, (uint16_t)e->tag, e->sw->tagbuf, &tmp);
		if (!f) {
			out->stats.drops[PORT_DROP_TOO_LONG]++;
			return -EMSGSIZE;
		}
	}
	if (out->impair && !e->impaired)
		return switch_impair_offer(out, f);
	r = out->ops->send(out, f);
	if (r < 0) {
		out->stats.drops[PORT_DROP_TX_ERROR]++;
		return r;
	}
	if (out->ops->flush && !out->tx_queued && e->sw->n_queued < SWITCH_PORTS_MAX * 2) {
		out->tx_queued = true;
		e->sw->queued[e->sw->n_queued++] = out;
	}
	out->stats.tx_packets++;
	out->stats.tx_bytes += f->len;
	if (e->monitored && out->n_monitors)
		switch_monitor(e->sw, out, f);
	return 0;
}

static int switch_send_segment(void *arg, const struct frame *seg)
{
	/* A segment lost to a full queue is TCP's to resend; the others still go. */
	(void)switch_send(arg, seg);
	return 0;
}

/*
 * Delivers 'f' to 'e->out' as that port can take it: GSO super-frames are
 * segmented and partial checksums completed (into 'scratch') for a port
 * without those offloads; then the tag goes in if 'e->tag' asks for one.
 */
static void switch_deliver(struct switch_egress *e, const struct frame *f, uint8_t *scratch)
{
	struct port *out = e->out;
	struct frame tmp;

	if (frame_is_gso(f)) {
		/* An impaired port's queue holds frames of its MTU: segment for it too. */
		if (!(out->ops->offloads & PORT_OFL_GSO) || out->impair) {
			if (gso_segment(f, scratch, FRAME_MAX_LEN, switch_send_segment, e) < 0)
				out->stats.drops[PORT_DROP_NO_OFFLOAD]++;
			return;
		}
	} else if (f->len > port_max_frame(out)) {
		out->stats.drops[PORT_DROP_TOO_LONG]++;
		return;
	}
	if ((f->vnet.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) &&
	    !(out->ops->offloads & PORT_OFL_CSUM)) {
		f = switch_fix_csum(f, scratch, &tmp);
		if (!f) {
			out->stats.drops[PORT_DROP_NO_OFFLOAD]++;
			return;
		}
	}
	(void)switch_send(e, f);
}

/*
 * Whether 'p' carries VLAN 'vlan', and how: untagged (its own VLAN) or
 * tagged (a trunk member). Returns the tag to use (-1: none) or -2 when
 * the port is not a member.
 */
static int switch_vlan_tag(const struct port *p, uint16_t vlan)
{
	if (p->vlan == vlan)
		return -1;
	return port_trunk_has(p, vlan) ? vlan : -2;
}

static void switch_output(struct vswitch *sw, struct port *out, const struct frame *f,
			  uint16_t vlan)
{
	struct switch_egress e = { .sw = sw, .out = out, .monitored = true };

	e.tag = switch_vlan_tag(out, vlan);
	if (e.tag == -2)
		return; /* not a member of this VLAN: the frame is not for this port */
	switch_deliver(&e, f, sw->scratch);
}

/* Copies a frame port 'watched' sent or received, as it was on its wire, to each of its sinks. */
static void switch_monitor(struct vswitch *sw, struct port *watched, const struct frame *f)
{
	for (unsigned i = 0; i < watched->n_monitors; i++) {
		struct switch_egress e = { .sw = sw, .out = watched->monitors[i], .tag = -1 };

		switch_deliver(&e, f, sw->mscratch);
	}
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

/*
 * Finds the frame's VLAN at ingress: a tag in the bytes (taken out, so the
 * core works on untagged frames) or one the NIC already stripped, else the
 * port's own VLAN. Returns the VLAN, or -1 for a tag the port does not carry.
 * A priority tag (VID 0) counts as untagged.
 */
static int switch_vlan_in(const struct port *in, struct frame *g)
{
	unsigned vid;

	if (g->vlan_valid) {
		vid = g->vlan_tci & 0xfffu;
		g->vlan_valid = 0;
	} else if (g->len >= FRAME_ETH_HLEN + FRAME_VLAN_HLEN &&
		   get_be16(g->data + 12) == FRAME_ETH_P_8021Q) {
		vid = get_be16(g->data + 14) & 0xfffu;
		memmove(g->data + FRAME_VLAN_HLEN, g->data, 12);
		g->data += FRAME_VLAN_HLEN;
		g->len -= FRAME_VLAN_HLEN;
		g->cap -= FRAME_VLAN_HLEN;
		if (g->vnet.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)
			g->vnet.csum_start = (uint16_t)(g->vnet.csum_start - FRAME_VLAN_HLEN);
		if (frame_is_gso(g))
			g->vnet.hdr_len = (uint16_t)(g->vnet.hdr_len - FRAME_VLAN_HLEN);
	} else {
		return in->vlan;
	}
	if (vid == 0)
		return in->vlan;
	return port_trunk_has(in, vid) ? (int)vid : -1;
}

/*
 * Learns the source MAC within the port's security limits. Returns -1, or
 * the drop reason when the port may not hold this MAC (a frame from a MAC
 * the port cannot learn would otherwise be forwarded from an unknown source).
 */
static int switch_learn(struct vswitch *sw, struct port *in, const uint8_t *src, uint16_t vlan,
			uint64_t now_ms)
{
	bool guarded = in->sec.enabled && !in->sec.trusted;
	struct fdb_limits lim = { .port_max = guarded ? in->sec.max_macs : 0,
				  .no_takeover = guarded };
	int r = fdb_learn(sw->fdb, src, vlan, in, now_ms, &lim);

	switch (r) {
	case -E2BIG:
		in->stats.unlearned++;
		return -1;
	case -EDQUOT:
		return PORT_DROP_MAC_LIMIT;
	case -EPERM:
		return PORT_DROP_SPOOFED_MAC;
	default:
		return -1;
	}
}

/* What a security drop means, for its log line ('%s' is the source MAC). */
static const char *const switch_sec_what[PORT_DROP_N] = {
	[PORT_DROP_SPOOFED_MAC] = "source MAC %s belongs to another port",
	[PORT_DROP_MAC_LIMIT] = "new source MAC %s past the port's MAC limit or lock",
	[PORT_DROP_ARP] = "ARP from %s claims an address that is not its own",
	[PORT_DROP_SOURCE] = "IPv4 source not bound to the port (MAC %s)",
	[PORT_DROP_DHCP_GUARD] = "DHCP server message, or chaddr other than the source %s",
	[PORT_DROP_DHCP_RATE] = "DHCP messages from %s past the port's rate",
};

/* Counts a port-security drop and logs it, at most once a second per port and reason. */
static void switch_sec_drop(struct vswitch *sw, struct port *in, enum port_drop d,
			    const uint8_t *src, uint64_t now_ms)
{
	uint64_t *last = &in->sec_state.logged_ms[d];
	char mac[18], what[96];

	in->stats.drops[d]++;
	if (!switch_sec_what[d] || (*last && now_ms - *last < 1000))
		return;
	*last = now_ms ? now_ms : 1;
	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", src[0], src[1], src[2], src[3],
		 src[4], src[5]);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	snprintf(what, sizeof(what), switch_sec_what[d], mac);
#pragma GCC diagnostic pop
	log_warn("network '%s' port '%s': %s, dropping (%" PRIu64 " so far)", sw->name, in->name,
		 what, in->stats.drops[d]);
}

void switch_input(struct vswitch *sw, struct port *in, const struct frame *f, uint64_t now_ms)
{
	struct frame g = *f;
	const uint8_t *dst, *src;
	struct pkt hdrs;
	int drop;
	struct port *out;
	int vlan;

	if (f->len < FRAME_ETH_HLEN) {
		in->stats.drops[PORT_DROP_RUNT]++;
		return;
	}
	if (!frame_is_gso(f) && f->len > port_max_frame(in)) {
		in->stats.drops[PORT_DROP_TOO_LONG]++;
		return;
	}
	src = f->data + 6;
	if (mac_is_group(src) || mac_is_zero(src)) {
		in->stats.drops[PORT_DROP_BAD_SRC]++;
		return;
	}
	if (in->n_monitors) {
		struct frame tmp;
		const struct frame *wire = f;

		/* What the wire carried: a tag the NIC stripped goes back in. */
		if (f->vlan_valid)
			wire = switch_tag(f, f->vlan_tci, sw->tagbuf, &tmp);
		if (wire)
			switch_monitor(sw, in, wire);
	}
	vlan = switch_vlan_in(in, &g);
	if (vlan < 0) {
		in->stats.drops[PORT_DROP_VLAN]++;
		return;
	}
	pkt_parse(&hdrs, g.data, g.len);
	g.in = in;
	g.hdrs = &hdrs;
	dst = g.data;
	src = g.data + 6;
	drop = portsec_check(sw->sec, in, g.data, g.len, &hdrs, now_ms);
	if (drop < 0)
		drop = switch_learn(sw, in, src, (uint16_t)vlan, now_ms);
	if (drop >= 0) {
		switch_sec_drop(sw, in, (enum port_drop)drop, src, now_ms);
		return;
	}
	in->stats.rx_packets++;
	in->stats.rx_bytes += f->len;

	out = mac_is_group(dst) ? NULL : fdb_lookup(sw->fdb, dst, (uint16_t)vlan);
	if (out == in) {
		in->stats.drops[PORT_DROP_SAME_PORT]++;
		return;
	}
	if (out) {
		switch_output(sw, out, &g, (uint16_t)vlan);
		return;
	}
	/*
	 * Flood within the VLAN. A port's send() may call back into
	 * switch_input() (an endpoint answering at once), which can only add
	 * learned MACs, never ports, so walking the array by index stays valid.
	 */
	for (size_t i = 0; i < sw->n_ports; i++)
		if (sw->ports[i] != in)
			switch_output(sw, sw->ports[i], &g, (uint16_t)vlan);
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
		for (unsigned i = 0; i < want; i++)
			sw->pool[i].vlan_valid = 0;
		n = p->ops->recv(p, sw->pool, want);
		if (n == -EAGAIN)
			break;
		if (n < 0) {
			p->stats.drops[PORT_DROP_RX_ERROR]++;
			return total ? (int)total : n;
		}
		for (int i = 0; i < n; i++)
			switch_input(sw, p, &sw->pool[i], now_ms);
		switch_flush(sw);
		total += (unsigned)n;
		if ((unsigned)n < want)
			break; /* the fd ran dry; saves one recv() that would say EAGAIN */
	}
	return (int)total;
}

void switch_flush(struct vswitch *sw)
{
	for (size_t i = 0; i < sw->n_queued; i++) {
		struct port *p = sw->queued[i];
		uint64_t bytes = 0;
		int failed = p->ops->flush(p, &bytes);

		p->tx_queued = false;
		if (failed > 0) {
			p->stats.drops[PORT_DROP_TX_ERROR] += (uint64_t)failed;
			p->stats.tx_packets -= (uint64_t)failed;
			p->stats.tx_bytes -= bytes;
		}
	}
	sw->n_queued = 0;
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

int switch_pin(struct vswitch *sw, const struct port *owner, const uint8_t mac[6], uint32_t addr_be)
{
	return portsec_pin(sw->sec, owner, mac, addr_be);
}

void switch_set_bound(struct vswitch *sw, portsec_bound_fn *fn, void *ctx)
{
	portsec_set_bound(sw->sec, fn, ctx);
}

size_t switch_fdb_count(const struct vswitch *sw)
{
	return fdb_count(sw->fdb);
}

int switch_set_impair(struct vswitch *sw, struct port *p, const struct impair_conf *c)
{
	struct impair *imp;
	uint64_t seed = 0;
	int r;

	(void)sw;
	if (!c || impair_conf_is_noop(c)) {
		impair_free(p->impair);
		p->impair = NULL;
		return 0;
	}
	r = impair_conf_check(c);
	if (r < 0)
		return r;
	if (p->impair)
		return impair_set(p->impair, c);
	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != sizeof(seed))
		seed = clock_mono_us();
	r = impair_new(&imp, c, SWITCH_IMPAIR_FRAMES, port_max_frame(p), seed);
	if (r < 0)
		return r;
	p->impair = imp;
	return 0;
}

uint64_t switch_impair_run(struct vswitch *sw, uint64_t now_us)
{
	uint64_t next = UINT64_MAX;

	for (size_t i = 0; i < sw->n_ports; i++) {
		struct port *p = sw->ports[i];
		const struct impair_frame *q;
		uint64_t t;

		if (!p->impair)
			continue;
		while ((q = impair_dequeue(p->impair, now_us))) {
			struct switch_egress e = {
				.sw = sw, .out = p, .tag = -1, .monitored = true, .impaired = true
			};
			struct frame f = { .data = (uint8_t *)q->data,
					   .len = q->len,
					   .cap = q->len };

			memcpy(&f.vnet, q->meta, sizeof(f.vnet));
			(void)switch_send(&e, &f);
		}
		t = impair_next_us(p->impair);
		if (t < next)
			next = t;
	}
	return next;
}

/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the switch core, driven through an in-memory test port that
 * records what the core sends it and feeds it queued frames on recv().
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/bytes.h"
#include "common/csum.h"
#include "vswitch/frame.h"
#include "vswitch/port.h"
#include "vswitch/switch.h"

#define TP_MAX 64

struct test_port {
	struct port port;
	uint8_t sent[TP_MAX][2048];
	uint32_t sent_len[TP_MAX];
	unsigned n_sent;
	int send_result; /* what send() returns */
	struct frame queue[TP_MAX];
	unsigned n_queued, next;
};

static int tp_send(struct port *p, const struct frame *f)
{
	struct test_port *tp = container_of(p, struct test_port, port);

	if (tp->send_result)
		return tp->send_result;
	if (tp->n_sent < TP_MAX) { /* keep the first frames; count them all */
		memcpy(tp->sent[tp->n_sent], f->data, f->len < 2048 ? f->len : 2048);
		tp->sent_len[tp->n_sent] = f->len;
	}
	tp->n_sent++;
	return 0;
}

static int tp_recv(struct port *p, struct frame *v, unsigned n)
{
	struct test_port *tp = container_of(p, struct test_port, port);
	unsigned got = 0;

	while (got < n && tp->next < tp->n_queued) {
		const struct frame *q = &tp->queue[tp->next++];

		memcpy(v[got].data, q->data, q->len);
		v[got].len = q->len;
		got++;
	}
	return got ? (int)got : -EAGAIN;
}

static const struct port_ops tp_ops_full = {
	.kind = "test",
	.offloads = PORT_OFL_CSUM | PORT_OFL_GSO,
	.send = tp_send,
	.recv = tp_recv,
};

static const struct port_ops tp_ops_plain = {
	.kind = "test-plain",
	.offloads = 0,
	.send = tp_send,
	.recv = tp_recv,
};

static void tp_init(struct test_port *tp, const char *name, const struct port_ops *ops)
{
	memset(tp, 0, sizeof(*tp));
	tp->port.ops = ops;
	snprintf(tp->port.name, sizeof(tp->port.name), "%s", name);
	tp->port.mtu = 1500;
}

static uint8_t buf[FRAME_MAX_LEN];

/* Builds an Ethernet frame dst <- src of 'len' bytes in the static buffer. */
static struct frame eth(unsigned dst, unsigned src, uint32_t len)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

	memset(buf, 0, len > 64 ? len : 64);
	if (dst == 0xffff)
		memcpy(buf, bcast, 6);
	else
		memcpy(buf, (uint8_t[]){ 0x52, 0x54, 0, 0, 0, (uint8_t)dst }, 6);
	memcpy(buf + 6, (uint8_t[]){ 0x52, 0x54, 0, 0, 0, (uint8_t)src }, 6);
	put_be16(buf + 12, 0x0800);
	return (struct frame){ .data = buf, .len = len, .cap = sizeof(buf) };
}

struct fixture {
	struct vswitch *sw;
	struct test_port a, b, c;
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	struct switch_conf conf = {
		.name = "t", .mtu = 1500, .fdb_aging_secs = 300, .fdb_max = 64
	};

	assert_non_null(fx);
	assert_int_equal(switch_new(&fx->sw, &conf), 0);
	tp_init(&fx->a, "a", &tp_ops_full);
	tp_init(&fx->b, "b", &tp_ops_full);
	tp_init(&fx->c, "c", &tp_ops_full);
	assert_int_equal(switch_add_port(fx->sw, &fx->a.port), 0);
	assert_int_equal(switch_add_port(fx->sw, &fx->b.port), 0);
	assert_int_equal(switch_add_port(fx->sw, &fx->c.port), 0);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	switch_del_port(fx->sw, &fx->a.port);
	switch_del_port(fx->sw, &fx->b.port);
	switch_del_port(fx->sw, &fx->c.port);
	switch_free(fx->sw);
	free(fx);
	return 0;
}

static void test_broadcast_floods_all_but_ingress(void **state)
{
	struct fixture *fx = *state;
	struct frame f = eth(0xffff, 1, 60);

	switch_input(fx->sw, &fx->a.port, &f, 0);
	assert_int_equal(fx->a.n_sent, 0);
	assert_int_equal(fx->b.n_sent, 1);
	assert_int_equal(fx->c.n_sent, 1);
	assert_memory_equal(fx->b.sent[0], buf, 60);
	assert_int_equal(fx->a.port.stats.rx_packets, 1);
	assert_int_equal(fx->a.port.stats.rx_bytes, 60);
	assert_int_equal(fx->b.port.stats.tx_packets, 1);
	assert_int_equal(fx->c.port.stats.tx_bytes, 60);
}

static void test_learning_stops_flooding(void **state)
{
	struct fixture *fx = *state;
	struct frame f = eth(2, 1, 100);

	/* unknown unicast floods */
	switch_input(fx->sw, &fx->a.port, &f, 0);
	assert_int_equal(fx->b.n_sent, 1);
	assert_int_equal(fx->c.n_sent, 1);
	/* b answers: a is known, so only a gets it */
	f = eth(1, 2, 100);
	switch_input(fx->sw, &fx->b.port, &f, 1);
	assert_int_equal(fx->a.n_sent, 1);
	assert_int_equal(fx->c.n_sent, 1);
	/* now a -> b is unicast: c sees nothing more */
	f = eth(2, 1, 100);
	switch_input(fx->sw, &fx->a.port, &f, 2);
	assert_int_equal(fx->b.n_sent, 2);
	assert_int_equal(fx->c.n_sent, 1);
	assert_int_equal(switch_fdb_count(fx->sw), 2);
}

static void test_multicast_floods(void **state)
{
	struct fixture *fx = *state;
	struct frame f = eth(2, 1, 60);

	buf[0] = 0x01; /* 01:54:... is a group address */
	switch_input(fx->sw, &fx->a.port, &f, 0);
	assert_int_equal(fx->b.n_sent, 1);
	assert_int_equal(fx->c.n_sent, 1);
}

static void test_drops(void **state)
{
	struct fixture *fx = *state;
	struct frame f = eth(0xffff, 1, 13);

	switch_input(fx->sw, &fx->a.port, &f, 0);
	assert_int_equal(fx->a.port.stats.drops[PORT_DROP_RUNT], 1);
	f = eth(0xffff, 1, 1500 + 14 + 4 + 1);
	switch_input(fx->sw, &fx->a.port, &f, 0);
	assert_int_equal(fx->a.port.stats.drops[PORT_DROP_TOO_LONG], 1);
	f = eth(0xffff, 1, 1500 + 14 + 4); /* the longest a 1500 MTU port carries, with a tag */
	switch_input(fx->sw, &fx->a.port, &f, 0);
	assert_int_equal(fx->b.n_sent, 1);
	f = eth(0xffff, 1, 60);
	buf[6] = 0x01; /* multicast source */
	switch_input(fx->sw, &fx->a.port, &f, 0);
	assert_int_equal(fx->a.port.stats.drops[PORT_DROP_BAD_SRC], 1);
	f = eth(0xffff, 1, 60);
	memset(buf + 6, 0, 6); /* zero source */
	switch_input(fx->sw, &fx->a.port, &f, 0);
	assert_int_equal(fx->a.port.stats.drops[PORT_DROP_BAD_SRC], 2);
	assert_int_equal(fx->a.port.stats.rx_packets, 1);
	assert_int_equal(fx->b.n_sent, 1);
	assert_int_equal(switch_fdb_count(fx->sw), 1);
}

static void test_same_port_filtered_and_move(void **state)
{
	struct fixture *fx = *state;
	struct frame f = eth(0xffff, 1, 60);

	switch_input(fx->sw, &fx->a.port, &f, 0); /* learn 1 on a */
	f = eth(0xffff, 2, 60);
	switch_input(fx->sw, &fx->a.port, &f, 0); /* learn 2 on a */
	f = eth(2, 1, 60);
	switch_input(fx->sw, &fx->a.port, &f, 0);
	assert_int_equal(fx->a.port.stats.drops[PORT_DROP_SAME_PORT], 1);
	assert_int_equal(fx->b.n_sent, 2);
	/* MAC 2 moves to c */
	f = eth(0xffff, 2, 60);
	switch_input(fx->sw, &fx->c.port, &f, 1);
	f = eth(2, 1, 60);
	switch_input(fx->sw, &fx->a.port, &f, 2);
	assert_int_equal(fx->c.n_sent, 3);
	assert_int_equal(fx->b.n_sent, 3); /* only the broadcast from c */
	assert_int_equal(fx->a.port.n_fdb, 1);
	assert_int_equal(fx->c.port.n_fdb, 1);
}

static void test_tx_error_counted(void **state)
{
	struct fixture *fx = *state;
	struct frame f = eth(0xffff, 1, 60);

	fx->b.send_result = -ENOBUFS;
	switch_input(fx->sw, &fx->a.port, &f, 0);
	assert_int_equal(fx->b.port.stats.drops[PORT_DROP_TX_ERROR], 1);
	assert_int_equal(fx->b.port.stats.tx_packets, 0);
	assert_int_equal(fx->c.port.stats.tx_packets, 1);
}

static void test_aging_and_del_port(void **state)
{
	struct fixture *fx = *state;
	struct frame f = eth(0xffff, 1, 60);

	switch_input(fx->sw, &fx->a.port, &f, 1000);
	f = eth(0xffff, 3, 60);
	switch_input(fx->sw, &fx->c.port, &f, 250000);
	switch_age(fx->sw, 1000 + 300000 + 1);
	assert_int_equal(switch_fdb_count(fx->sw), 1);
	/* unicast to the aged MAC floods again */
	f = eth(1, 3, 60);
	switch_input(fx->sw, &fx->c.port, &f, 301002);
	assert_int_equal(fx->a.n_sent, 2);
	assert_int_equal(fx->b.n_sent, 3);
	switch_del_port(fx->sw, &fx->c.port);
	assert_int_equal(switch_fdb_count(fx->sw), 0);
	assert_null(switch_find_port(fx->sw, "c"));
	assert_int_equal(switch_n_ports(fx->sw), 2);
	assert_int_equal(switch_add_port(fx->sw, &fx->c.port), 0);
	assert_int_equal(switch_add_port(fx->sw, &fx->c.port), -EEXIST);
}

static void test_mac_flood_bounded(void **state)
{
	struct fixture *fx = *state;

	for (unsigned i = 1; i < 200; i++) {
		struct frame f = eth(0xffff, i, 60);

		buf[10] = (uint8_t)(i >> 8);
		switch_input(fx->sw, &fx->a.port, &f, 0);
	}
	/* fdb_max 64, one port may take half */
	assert_int_equal(switch_fdb_count(fx->sw), 32);
	assert_int_equal(fx->a.port.n_fdb, 32);
	assert_int_equal(fx->a.port.stats.unlearned, 199 - 32);
	/* the other ports still learn */
	struct frame f = eth(0xffff, 250, 60);
	switch_input(fx->sw, &fx->b.port, &f, 0);
	assert_int_equal(fx->b.port.n_fdb, 1);
}

/*
 * Gateway hijack: a guest sends with the host adapter's MAC. The frames are
 * dropped and counted, and the victim's traffic to the gateway still goes
 * to the gateway's port, not to the attacker.
 */
static void test_pinned_mac_never_moves(void **state)
{
	struct fixture *fx = *state;
	const uint8_t gw[6] = { 0x52, 0x54, 0, 0, 0, 1 };
	struct frame f;

	assert_int_equal(switch_pin(fx->sw, &fx->a.port, gw, 0), 0);
	f = eth(0xffff, 1, 60); /* the gateway (a) speaks */
	switch_input(fx->sw, &fx->a.port, &f, 0);
	for (int i = 0; i < 10; i++) {
		f = eth(0xffff, 1, 60); /* the attacker (b) claims its MAC */
		switch_input(fx->sw, &fx->b.port, &f, 1);
	}
	assert_int_equal(fx->b.port.stats.drops[PORT_DROP_SPOOFED_MAC], 10);
	assert_int_equal(fx->b.port.stats.rx_packets, 0);
	assert_int_equal(fx->c.n_sent, 1); /* only the gateway's broadcast was flooded */
	for (int i = 0; i < 10; i++) {
		f = eth(1, 3, 60); /* the victim (c) to the gateway */
		switch_input(fx->sw, &fx->c.port, &f, 2);
	}
	assert_int_equal(fx->a.n_sent, 10);
	assert_int_equal(fx->b.n_sent, 1); /* the gateway's one broadcast */
	assert_string_equal(port_drop_name(PORT_DROP_SPOOFED_MAC), "spoofed-mac");
}

/*
 * Table exhaustion: two guests with max-macs flood random sources. Each
 * holds its limit, the rest of their frames are dropped, and a new guest's
 * unicast goes to it alone, never to the attackers.
 */
static void test_max_macs_keeps_table_for_others(void **state)
{
	struct fixture *fx = *state;
	struct test_port d;
	struct frame f;

	tp_init(&d, "d", &tp_ops_full);
	assert_int_equal(switch_add_port(fx->sw, &d.port), 0);
	fx->a.port.sec = (struct port_security){ .enabled = true, .max_macs = 4 };
	fx->b.port.sec = fx->a.port.sec;
	for (unsigned i = 1; i < 2000; i++) {
		f = eth(0xffff, i & 0xff, 60);
		buf[10] = (uint8_t)(i >> 8);
		switch_input(fx->sw, i % 2 ? &fx->a.port : &fx->b.port, &f, 0);
	}
	assert_int_equal(fx->a.port.n_fdb, 4);
	assert_int_equal(fx->b.port.n_fdb, 4);
	assert_int_equal(fx->a.port.stats.drops[PORT_DROP_MAC_LIMIT], 1000 - 4);
	assert_int_equal(fx->a.port.stats.unlearned, 0);
	/* c and d, two new guests, find each other */
	f = eth(0xffff, 0xc0, 60);
	buf[10] = 0x77;
	switch_input(fx->sw, &fx->c.port, &f, 1);
	f = eth(0xc0, 0xd0, 60);
	buf[4] = 0x77;
	buf[10] = 0x77;
	unsigned a_before = fx->a.n_sent, b_before = fx->b.n_sent, d_before = d.n_sent;
	switch_input(fx->sw, &d.port, &f, 1);
	assert_int_equal(fx->c.n_sent,
			 4 + 4 + 1); /* the attackers' learned floods, then d's unicast */
	f = eth(0xd0, 0xc0, 60);
	buf[4] = 0x77;
	buf[10] = 0x77;
	switch_input(fx->sw, &fx->c.port, &f, 2);
	assert_int_equal(fx->a.n_sent, a_before);
	assert_int_equal(fx->b.n_sent, b_before);
	assert_int_equal(d.n_sent, d_before + 1);
	/* and a guest with security on cannot take over c's MAC */
	f = eth(0xffff, 0xc0, 60);
	buf[10] = 0x77;
	switch_input(fx->sw, &fx->a.port, &f, 3);
	assert_int_equal(fx->a.port.stats.drops[PORT_DROP_SPOOFED_MAC], 1);
	switch_del_port(fx->sw, &d.port);
}

static void test_networks_isolated(void **state)
{
	struct fixture *fx = *state;
	struct vswitch *other;
	struct test_port x, y;
	struct switch_conf conf = {
		.name = "o", .mtu = 1500, .fdb_aging_secs = 300, .fdb_max = 64
	};
	struct frame f = eth(0xffff, 1, 60);

	assert_int_equal(switch_new(&other, &conf), 0);
	tp_init(&x, "x", &tp_ops_full);
	tp_init(&y, "y", &tp_ops_full);
	assert_int_equal(switch_add_port(other, &x.port), 0);
	assert_int_equal(switch_add_port(other, &y.port), 0);
	switch_input(fx->sw, &fx->a.port, &f, 0);
	assert_int_equal(x.n_sent + y.n_sent, 0);
	switch_input(other, &x.port, &f, 0);
	assert_int_equal(y.n_sent, 1);
	assert_int_equal(fx->b.n_sent, 1);
	switch_del_port(other, &x.port);
	switch_del_port(other, &y.port);
	switch_free(other);
}

/* An IPv4/UDP frame whose checksum is left partial, as a tap with TUN_F_CSUM gives it. */
static struct frame udp_partial(uint16_t *ret_expected)
{
	struct frame f = eth(0xffff, 1, 14 + 20 + 8 + 11);
	uint8_t *ip = buf + 14, *udp = ip + 20;
	uint32_t pseudo;

	ip[0] = 0x45;
	put_be16(ip + 2, 20 + 8 + 11);
	ip[8] = 64;
	ip[9] = 17;
	put_be32(ip + 12, 0xc0a88310);
	put_be32(ip + 16, 0xc0a88302);
	put_be16(ip + 10, csum_fold(csum_add(0, ip, 20)));
	put_be16(udp, 68);
	put_be16(udp + 2, 67);
	put_be16(udp + 4, 8 + 11);
	memcpy(udp + 8, "hello world", 11);
	/* the full checksum, computed independently of the core */
	pseudo = csum_add(0, ip + 12, 8) + 17 + 8 + 11;
	*ret_expected = csum_fold(csum_add(pseudo, udp, 8 + 11));
	/* partial: the field holds the folded pseudo-header sum, uncomplemented */
	put_be16(udp + 6, (uint16_t)~csum_fold(pseudo));
	f.vnet.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	f.vnet.csum_start = 14 + 20;
	f.vnet.csum_offset = 6;
	return f;
}

static void test_partial_csum_completed_at_edge(void **state)
{
	struct fixture *fx = *state;
	struct test_port plain;
	uint16_t expected;
	struct frame f = udp_partial(&expected);
	uint8_t orig[64];

	tp_init(&plain, "p", &tp_ops_plain);
	assert_int_equal(switch_add_port(fx->sw, &plain.port), 0);
	memcpy(orig, buf, f.len);
	switch_input(fx->sw, &fx->a.port, &f, 0);
	assert_int_equal(plain.n_sent, 1);
	assert_int_equal(get_be16(plain.sent[0] + 14 + 20 + 6), expected);
	/* a port with checksum offload gets the frame unchanged */
	assert_memory_equal(fx->b.sent[0], orig, f.len);
	/* and the receiver's check over the completed datagram sums to zero */
	{
		uint8_t *ip = plain.sent[0] + 14;
		uint32_t pseudo = csum_add(0, ip + 12, 8) + 17 + 8 + 11;

		assert_int_equal(csum_fold(csum_add(pseudo, ip + 20, 8 + 11)), 0);
	}
	/* bad offsets are dropped, never read out of bounds */
	f = udp_partial(&expected);
	f.vnet.csum_start = 60;
	switch_input(fx->sw, &fx->a.port, &f, 0);
	assert_int_equal(plain.port.stats.drops[PORT_DROP_NO_OFFLOAD], 1);
	switch_del_port(fx->sw, &plain.port);
}

static void test_gso_segmented_at_edge(void **state)
{
	struct fixture *fx = *state;
	struct test_port plain;
	struct frame f = eth(0xffff, 1, 14 + 20 + 20 + 3000);
	uint8_t *ip = buf + 14, *tcp = ip + 20;

	tp_init(&plain, "p", &tp_ops_plain);
	assert_int_equal(switch_add_port(fx->sw, &plain.port), 0);
	ip[0] = 0x45;
	put_be16(ip + 2, 20 + 20 + 3000);
	ip[8] = 64;
	ip[9] = 6;
	tcp[12] = 0x50;
	f.vnet.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	f.vnet.gso_size = 1000;
	switch_input(fx->sw, &fx->a.port, &f, 0);
	/* not too long for the ingress: it is a GSO frame */
	assert_int_equal(fx->a.port.stats.drops[PORT_DROP_TOO_LONG], 0);
	/* a GSO-capable port gets the super-frame whole */
	assert_int_equal(fx->b.n_sent, 1);
	assert_int_equal(fx->b.sent_len[0], 14 + 20 + 20 + 3000);
	/* a plain port gets three MSS-sized segments */
	assert_int_equal(plain.n_sent, 3);
	assert_int_equal(plain.port.stats.tx_packets, 3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(plain.sent_len[i], 14 + 20 + 20 + 1000);
		assert_int_equal(get_be32(plain.sent[i] + 14 + 20 + 4), 1000u * (unsigned)i);
	}
	/* a GSO frame whose headers do not parse is dropped for that port */
	f = eth(0xffff, 1, 3000);
	f.vnet.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	f.vnet.gso_size = 1000;
	switch_input(fx->sw, &fx->a.port, &f, 0);
	assert_int_equal(plain.port.stats.drops[PORT_DROP_NO_OFFLOAD], 1);
	assert_int_equal(fx->b.n_sent, 2);
	switch_del_port(fx->sw, &plain.port);
}

static void test_poll_port_budget(void **state)
{
	struct fixture *fx = *state;
	static uint8_t frames[40][60];

	for (unsigned i = 0; i < 40; i++) {
		eth(0xffff, 1, 60);
		memcpy(frames[i], buf, 60);
		frames[i][59] = (uint8_t)i;
		fx->a.queue[i] = (struct frame){ .data = frames[i], .len = 60 };
	}
	fx->a.n_queued = 40;
	assert_int_equal(switch_poll_port(fx->sw, &fx->a.port, 35, 0), 35);
	assert_int_equal(fx->b.n_sent, 35);
	assert_int_equal(switch_poll_port(fx->sw, &fx->a.port, 64, 0), 5);
	assert_int_equal(fx->b.sent[39][59], 39);
	assert_int_equal(switch_poll_port(fx->sw, &fx->a.port, 64, 0), 0);
}

/* Inserts an 802.1Q tag for 'vid' into the frame in 'buf' (after the MACs). */
static struct frame tagged(struct frame f, unsigned vid)
{
	memmove(buf + 16, buf + 12, f.len - 12);
	put_be16(buf + 12, 0x8100);
	put_be16(buf + 14, (uint16_t)vid);
	f.len += 4;
	return f;
}

/*
 * VLANs: a is an access port of VLAN 10, b of VLAN 20, c a trunk of 10 and
 * 20. Broadcasts stay in their VLAN, leave the trunk tagged and enter
 * access ports untagged; a tag the trunk does not carry is dropped; MACs
 * are learned per VLAN.
 */
static void test_vlans(void **state)
{
	struct fixture *fx = *state;
	struct frame f;

	fx->a.port.vlan = 10;
	fx->b.port.vlan = 20;
	port_trunk_set(&fx->c.port, 10);
	port_trunk_set(&fx->c.port, 20);

	f = eth(0xffff, 1, 60);
	switch_input(fx->sw, &fx->a.port, &f, 1);
	assert_int_equal(fx->b.n_sent, 0); /* another VLAN */
	assert_int_equal(fx->c.n_sent, 1);
	assert_int_equal(fx->c.sent_len[0], 64);
	assert_int_equal(get_be16(fx->c.sent[0] + 12), 0x8100);
	assert_int_equal(get_be16(fx->c.sent[0] + 14), 10);
	assert_int_equal(get_be16(fx->c.sent[0] + 16), 0x0800);

	/* Tagged 20 from the trunk: untagged to b only. */
	f = tagged(eth(0xffff, 3, 60), 20);
	switch_input(fx->sw, &fx->c.port, &f, 2);
	assert_int_equal(fx->b.n_sent, 1);
	assert_int_equal(fx->b.sent_len[0], 60);
	assert_int_equal(get_be16(fx->b.sent[0] + 12), 0x0800);
	assert_int_equal(fx->a.n_sent, 0);

	/* The NIC stripped the tag (auxdata): the same as a tag in the bytes. */
	f = eth(1, 4, 60);
	f.vlan_valid = 1;
	f.vlan_tci = 0x2000 | 10; /* PCP 1, VID 10 */
	switch_input(fx->sw, &fx->c.port, &f, 3);
	assert_int_equal(fx->a.n_sent, 1); /* MAC 1 learned on a in VLAN 10 */
	assert_int_equal(fx->a.sent_len[0], 60);

	/* MAC 1 is unknown in VLAN 20: flooded there (to b), not sent to a. */
	f = tagged(eth(1, 5, 60), 20);
	switch_input(fx->sw, &fx->c.port, &f, 4);
	assert_int_equal(fx->a.n_sent, 1);
	assert_int_equal(fx->b.n_sent, 2);

	/* A VLAN the trunk does not carry, and a tagged frame on an access port. */
	f = tagged(eth(0xffff, 6, 60), 30);
	switch_input(fx->sw, &fx->c.port, &f, 5);
	f = tagged(eth(0xffff, 7, 60), 10);
	switch_input(fx->sw, &fx->a.port, &f, 5);
	assert_int_equal(fx->c.port.stats.drops[PORT_DROP_VLAN], 1);
	assert_int_equal(fx->a.port.stats.drops[PORT_DROP_VLAN], 1);
	assert_int_equal(fx->b.n_sent, 2);
	assert_int_equal(switch_fdb_count(fx->sw), 4); /* 1, 3, 4, 5 */

	/* A priority tag (VID 0) is untagged traffic of the port's VLAN. */
	f = tagged(eth(0xffff, 8, 60), 0);
	switch_input(fx->sw, &fx->b.port, &f, 6);
	assert_int_equal(fx->c.n_sent, 2);
	assert_int_equal(get_be16(fx->c.sent[1] + 14), 20);
}

/* A mirror gets what the watched port receives and sends, as on its wire. */
static void test_monitor(void **state)
{
	struct fixture *fx = *state;
	struct test_port m;
	struct frame f;

	tp_init(&m, "m", &tp_ops_full);
	assert_int_equal(switch_add_port(fx->sw, &m.port), 0);
	fx->a.port.vlan = 10;
	m.port.vlan = 99; /* in no VLAN of the others: only copies reach it */
	port_trunk_set(&fx->b.port, 10);
	assert_int_equal(switch_add_monitor(fx->sw, &fx->b.port, &m.port), 0);
	assert_int_equal(switch_add_monitor(fx->sw, &fx->b.port, &m.port), -EEXIST);
	assert_int_equal(switch_add_monitor(fx->sw, &fx->b.port, &fx->b.port), -EINVAL);

	f = eth(0xffff, 1, 60); /* a -> b (tagged 10 there) */
	switch_input(fx->sw, &fx->a.port, &f, 1);
	assert_int_equal(fx->b.n_sent, 1);
	assert_int_equal(m.n_sent, 1);
	assert_int_equal(m.sent_len[0], 64);
	assert_memory_equal(m.sent[0], fx->b.sent[0], 64);

	f = tagged(eth(1, 2, 60), 10); /* b -> a */
	switch_input(fx->sw, &fx->b.port, &f, 2);
	assert_int_equal(fx->a.n_sent, 1);
	assert_int_equal(m.n_sent, 2);
	assert_int_equal(get_be16(m.sent[1] + 12), 0x8100); /* as it came in */

	/* Removing the sink port stops the copies. */
	switch_del_port(fx->sw, &m.port);
	assert_int_equal(fx->b.port.n_monitors, 0);
	f = tagged(eth(1, 2, 60), 10);
	switch_input(fx->sw, &fx->b.port, &f, 3);
	assert_int_equal(m.n_sent, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_vlans, setup, teardown),
		cmocka_unit_test_setup_teardown(test_monitor, setup, teardown),
		cmocka_unit_test_setup_teardown(test_broadcast_floods_all_but_ingress, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_learning_stops_flooding, setup, teardown),
		cmocka_unit_test_setup_teardown(test_multicast_floods, setup, teardown),
		cmocka_unit_test_setup_teardown(test_drops, setup, teardown),
		cmocka_unit_test_setup_teardown(test_same_port_filtered_and_move, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tx_error_counted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_aging_and_del_port, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mac_flood_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pinned_mac_never_moves, setup, teardown),
		cmocka_unit_test_setup_teardown(test_max_macs_keeps_table_for_others, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_networks_isolated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_partial_csum_completed_at_edge, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_gso_segmented_at_edge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_poll_port_budget, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the switch core's frame path: each input is a
 * virtio-net header (10 bytes) followed by an Ethernet frame, fed to
 * switch_input() from one of three in-memory ports. One port takes every
 * offload and two take none, so GSO super-frames go through software
 * segmentation (gso.c) and partial checksums through the edge fix-up.
 * Every frame a port is handed must fit the buffer the core claims. Port
 * 'b' is a strict guest (port security with the source guard, a MAC limit,
 * a DHCP rate and an oracle that binds one address), port 'a' owns a
 * pinned MAC and address, so every frame also runs the security checks.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vswitch/frame.h"
#include "vswitch/port.h"
#include "vswitch/switch.h"

static uint64_t sent_bytes; /* keeps the sends observable */

static int fz_send(struct port *p, const struct frame *f)
{
	(void)p;
	if (f->len > f->cap || f->len < FRAME_ETH_HLEN)
		abort(); /* the core must never hand out a frame like that */
	sent_bytes += f->data[f->len - 1];
	return 0;
}

static const struct port_ops full_ops = {
	.kind = "fuzz",
	.offloads = PORT_OFL_CSUM | PORT_OFL_GSO,
	.send = fz_send,
};

static const struct port_ops plain_ops = {
	.kind = "fuzz-plain",
	.offloads = 0,
	.send = fz_send,
};

static struct vswitch *sw;
static struct port ports[3];
static uint8_t buf[FRAME_MAX_LEN];

/* Binds 10.0.0.5 to any MAC ending in 05, for an hour. */
static bool fz_bound(void *ctx, const uint8_t mac[6], uint32_t addr_be, uint64_t *ret_secs)
{
	(void)ctx;
	*ret_secs = 3600;
	return mac[5] == 5 && addr_be == __builtin_bswap32(0x0a000005u);
}

static void init(void)
{
	static const uint8_t gw[6] = { 0x52, 0x54, 0, 0, 0, 1 };

	struct switch_conf conf = { .name = "fz", .mtu = 1500, .fdb_aging_secs = 1, .fdb_max = 64 };

	if (switch_new(&sw, &conf))
		abort();
	for (int i = 0; i < 3; i++) {
		ports[i].ops = i ? &plain_ops : &full_ops;
		ports[i].name[0] = (char)('a' + i);
		ports[i].mtu = i == 2 ? 576 : 1500;
		if (switch_add_port(sw, &ports[i]))
			abort();
	}
	ports[1].sec = (struct port_security){ .enabled = true,
					       .source_guard = true,
					       .max_macs = 2,
					       .dhcp_rate = 5,
					       .dhcp_leases = 1 };
	if (switch_pin(sw, &ports[0], gw, __builtin_bswap32(0x0a000001u)))
		abort();
	switch_set_bound(sw, fz_bound, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint64_t now_ms;
	struct frame f = { .data = buf, .cap = sizeof(buf) };

	if (!sw)
		init();
	if (size < sizeof(f.vnet) + 1 || size - sizeof(f.vnet) - 1 > sizeof(buf))
		return 0;
	memcpy(&f.vnet, data, sizeof(f.vnet));
	f.len = (uint32_t)(size - sizeof(f.vnet) - 1);
	memcpy(buf, data + sizeof(f.vnet) + 1, f.len);
	now_ms += 100;
	/* the byte after the header picks the ingress port */
	switch_input(sw, &ports[data[sizeof(f.vnet)] % 3], &f, now_ms);
	if (now_ms % 5000 == 0)
		switch_age(sw, now_ms);
	return 0;
}

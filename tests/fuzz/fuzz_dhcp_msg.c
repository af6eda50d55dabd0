/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the DHCP codec and server (dhcpd/). Each input is
 * (1) parsed as a DHCP message and fed to the conflict table (dhcp_probe.c),
 * (2) handed to dhcp_server_handle() as a
 * whole Ethernet frame, and (3) wrapped as the payload of a valid
 * Ethernet/IPv4/UDP broadcast to port 67 so that it reaches the state
 * machine past the checksums. One server lives across inputs, with time
 * moving on, so pools fill, leases expire and records are reused. Every
 * reply the server writes must itself parse. Seeds: tests/fuzz/corpus/dhcp/
 * (frames and messages captured from udhcpc, dhclient and dhcpcd, plus
 * crafted overload, split-option, relay, INFORM, DECLINE, RELEASE and ARP).
 */
#include <endian.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "common/csum.h"
#include "dhcpd/dhcp_probe.h"
#include "dhcpd/dhcp_server.h"

#define A(x) __builtin_bswap32(0xc0a88300u | (x))

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct dhcp_msg msg;
static struct dhcp_server *server;
static struct dhcp_probe *probe; /* the endpoint's conflict table, fed every input */
static uint64_t now_us = 1764000000ull * 1000000ull;
static uint8_t frame[DHCP_MSG_MAX_LEN + 64];
static uint8_t reply[1600];

static int put_ok(void *ctx, const struct dhcp_lease *l)
{
	(void)ctx;
	return l->addr_be == A(40) ? -ENOSPC : 0; /* one address the store refuses */
}

static bool in_use(void *ctx, uint32_t addr_be, const uint8_t client_mac[6])
{
	(void)ctx;
	return be32toh(addr_be) % 7 == 0 ||
	       dhcp_probe_in_use(probe, addr_be, client_mac, now_us / 1000, 600000);
}

static void init(void)
{
	static const struct dhcp_reservation res = { .mac = { 0x52, 0x54, 0, 0xab, 0xcd, 0xef },
						     .addr_be = A(20),
						     .hostname = "fuzz" };
	static const struct dhcp_route route = { .dest_be = 0x0000000a,
						 .prefix_len = 8,
						 .gateway_be = A(1) };
	struct dhcp_server_conf c = {
		.first_be = A(0),
		.last_be = A(47), /* 32 leasable: exhaustion and reuse happen */
		.server_be = A(2),
		.netmask_be = htobe32(0xffffff00),
		.gateway_be = A(1),
		.dns_be = { A(1), A(3) },
		.n_dns = 2,
		.wins_be = { A(4) },
		.n_wins = 1,
		.domain = "fuzz.internal",
		.lease_secs = 600,
		.reserves = &res,
		.n_reserves = 1,
		.routes = &route,
		.n_routes = 1,
		.server_mac = { 0x02, 0, 0, 0, 0, 0x02 },
		.addr_in_use = in_use,
		.store = { .put = put_ok },
	};

	if (dhcp_probe_new(&probe, 64))
		abort();
	if (dhcp_server_new(&server, &c))
		abort();
}

static void check_reply(int r, size_t len)
{
	size_t l2;

	if (r <= 0)
		return;
	if (len > sizeof(reply))
		abort();
	if (r == DHCP_SERVER_ARP_REPLY)
		return;
	if (r != DHCP_OFFER && r != DHCP_ACK && r != DHCP_NAK)
		abort();
	l2 = get_be16(reply + 12) == 0x8100 ? 18 : 14;
	if (len < l2 + 28 + DHCP_REPLY_MIN_LEN ||
	    dhcp_msg_parse(&msg, reply + l2 + 28, len - l2 - 28) || msg.type != r)
		abort();
}

/* A broadcast UDP datagram to port 67 carrying 'size' bytes of 'data'. */
static size_t wrap(const uint8_t *data, size_t size)
{
	uint8_t *ip = frame + 14, *udp = frame + 34;
	uint32_t any = 0, bcast = 0xffffffffu;

	memset(frame, 0xff, 6);
	memcpy(frame + 6, "\x52\x54\x00\xab\xcd\xef", 6);
	if (size >= 34)
		memcpy(frame + 6, data + 28, 6); /* chaddr as source, like real clients */
	put_be16(frame + 12, 0x0800);
	memset(ip, 0, 20);
	ip[0] = 0x45;
	put_be16(ip + 2, (uint16_t)(28 + size));
	ip[8] = 64;
	ip[9] = 17;
	memcpy(ip + 12, &any, 4);
	memcpy(ip + 16, &bcast, 4);
	put_be16(ip + 10, csum_fold(csum_add(0, ip, 20)));
	put_be16(udp, 68);
	put_be16(udp + 2, 67);
	put_be16(udp + 4, (uint16_t)(8 + size));
	put_be16(udp + 6, 0); /* no checksum: accepted */
	memcpy(frame + 42, data, size);
	return 42 + size;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t len = 0;
	int r;

	if (!server)
		init();
	now_us += 7 * 1000000ull;
	(void)dhcp_msg_parse(&msg, data, size);
	dhcp_probe_observe(probe, data, size, now_us / 1000);

	r = dhcp_server_handle(server, data, size, now_us, reply, sizeof(reply), &len);
	check_reply(r, len);

	if (size <= DHCP_MSG_MAX_LEN) {
		size_t n = wrap(data, size);

		len = 0;
		r = dhcp_server_handle(server, frame, n, now_us, reply, sizeof(reply), &len);
		check_reply(r, len);
		/* A too-small reply buffer must fail cleanly. */
		r = dhcp_server_handle(server, frame, n, now_us, reply, 100, &len);
		if (r > 0 && r != DHCP_SERVER_ARP_REPLY)
			abort();
	}
	return 0;
}

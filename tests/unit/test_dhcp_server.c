/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the DHCP server state machine (dhcpd/dhcp_server.c), driven
 * with whole Ethernet frames and an in-memory lease store: DORA, every
 * REQUEST state, NAKs, DECLINE, RELEASE, INFORM, reservations, exhaustion,
 * reply addressing (RFC 2131 §4.1), options and ARP.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <endian.h>
#include <errno.h>
#include <cmocka.h>

#include "common/bytes.h"
#include "common/csum.h"
#include "dhcpd/dhcp_server.h"

#define A(x)   htobe32(0xc0a88300u | (x)) /* 192.168.131.x */
#define SEC    1000000ull
#define T0     (1764000000ull * SEC)
#define SERVER A(2)

static const uint8_t server_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 };
static const uint8_t bcast_mac[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

/* In-memory store: remembers every record put. */
struct mem_store {
	struct dhcp_lease recs[64];
	unsigned n;
	int fail; /* errno to return, 0 = accept */
};

static struct mem_store store;
static struct dhcp_msg reply_msg;
static uint32_t in_use_addr;

static int mem_put(void *ctx, const struct dhcp_lease *l)
{
	struct mem_store *ms = ctx;

	if (ms->fail)
		return -ms->fail;
	if (ms->n < 64)
		ms->recs[ms->n++] = *l;
	return 0;
}

static bool probe(void *ctx, uint32_t addr_be, const uint8_t client_mac[6])
{
	(void)ctx;
	(void)client_mac;
	return addr_be == in_use_addr;
}

static struct dhcp_server_conf base_conf(void)
{
	struct dhcp_server_conf c = {
		.first_be = A(0),
		.last_be = A(255),
		.server_be = SERVER,
		.netmask_be = htobe32(0xffffff00),
		.gateway_be = A(1),
		.dns_be = { A(1) },
		.n_dns = 1,
		.domain = "lab.internal",
		.lease_secs = 3600,
		.addr_in_use = probe,
		.store = { .put = mem_put, .ctx = &store },
	};

	memcpy(c.server_mac, server_mac, 6);
	return c;
}

static struct dhcp_server *new_server(const struct dhcp_server_conf *c)
{
	struct dhcp_server *s = NULL;

	memset(&store, 0, sizeof(store));
	in_use_addr = 0;
	assert_int_equal(dhcp_server_new(&s, c), 0);
	return s;
}

/* What a test client puts in a request. */
struct req {
	uint8_t type;
	uint8_t mac_last; /* client MAC 52:54:00:00:00:<mac_last> */
	uint32_t ciaddr_be, giaddr_be, req_be, sid_be;
	bool has_sid, bcast, rapid;
	const uint8_t *cid;
	size_t cid_len;
	const uint8_t *prl;
	size_t prl_len;
	const char *hostname;
	uint32_t ip_src_be, ip_dst_be; /* 0 = 0.0.0.0 and broadcast */
	uint16_t max_size;
	uint32_t xid;	    /* 0: one derived from mac_last */
	uint32_t lease_req; /* option 51 asked for, 0: none */
};

static void client_mac(uint8_t *m, uint8_t last)
{
	static const uint8_t base[6] = { 0x52, 0x54, 0x00, 0x00, 0x00, 0x00 };

	memcpy(m, base, 6);
	m[5] = last;
}

static void fill_ip_udp(uint8_t *ip, uint32_t src_be, uint32_t dst_be, uint16_t sport,
			size_t payload)
{
	uint8_t *udp = ip + 20;
	uint16_t ulen = (uint16_t)(8 + payload);
	uint32_t acc;

	ip[0] = 0x45;
	ip[1] = 0;
	put_be16(ip + 2, (uint16_t)(20 + ulen));
	put_be16(ip + 4, 1);
	put_be16(ip + 6, 0);
	ip[8] = 64;
	ip[9] = 17;
	put_be16(ip + 10, 0);
	memcpy(ip + 12, &src_be, 4);
	memcpy(ip + 16, &dst_be, 4);
	put_be16(ip + 10, csum_fold(csum_add(0, ip, 20)));
	put_be16(udp, sport);
	put_be16(udp + 2, 67);
	put_be16(udp + 4, ulen);
	put_be16(udp + 6, 0);
	acc = csum_add(0, ip + 12, 8) + 17 + ulen;
	put_be16(udp + 6, csum_fold(csum_add(acc, udp, ulen)));
}

static size_t mkframe(uint8_t *f, const struct req *r)
{
	struct dhcp_hdr h = {
		.op = 1, .htype = 1, .hlen = 6, .xid = r->xid ? r->xid : 0xabcd0000u | r->mac_last
	};
	struct dhcp_build b;
	uint32_t dst_be = r->ip_dst_be ? r->ip_dst_be : 0xffffffffu;
	uint8_t v[2];
	size_t n;

	client_mac(h.chaddr, r->mac_last);
	h.ciaddr_be = r->ciaddr_be;
	h.giaddr_be = r->giaddr_be;
	h.flags = r->bcast ? DHCP_FLAG_BROADCAST : 0;
	memcpy(f, dst_be == 0xffffffffu ? bcast_mac : server_mac, 6);
	client_mac(f + 6, r->giaddr_be ? 0xee : r->mac_last);
	put_be16(f + 12, 0x0800);
	assert_int_equal(dhcp_build_init(&b, f + 42, 1400, &h), 0);
	assert_int_equal(dhcp_build_opt(&b, DHCP_OPT_MSG_TYPE, &r->type, 1), 0);
	if (r->cid)
		assert_int_equal(dhcp_build_opt(&b, DHCP_OPT_CLIENT_ID, r->cid, r->cid_len), 0);
	if (r->req_be)
		assert_int_equal(dhcp_build_opt(&b, DHCP_OPT_REQ_ADDR, &r->req_be, 4), 0);
	if (r->has_sid)
		assert_int_equal(dhcp_build_opt(&b, DHCP_OPT_SERVER_ID, &r->sid_be, 4), 0);
	if (r->prl)
		assert_int_equal(dhcp_build_opt(&b, DHCP_OPT_PARAM_LIST, r->prl, r->prl_len), 0);
	if (r->hostname)
		assert_int_equal(
			dhcp_build_opt(&b, DHCP_OPT_HOSTNAME, r->hostname, strlen(r->hostname)), 0);
	if (r->rapid)
		assert_int_equal(dhcp_build_opt(&b, DHCP_OPT_RAPID_COMMIT, NULL, 0), 0);
	if (r->lease_req) {
		uint8_t lt[4];

		put_be32(lt, r->lease_req);
		assert_int_equal(dhcp_build_opt(&b, DHCP_OPT_LEASE_TIME, lt, 4), 0);
	}
	if (r->max_size) {
		put_be16(v, r->max_size);
		assert_int_equal(dhcp_build_opt(&b, DHCP_OPT_MAX_SIZE, v, 2), 0);
	}
	n = dhcp_build_finish(&b);
	fill_ip_udp(f + 14, r->ip_src_be, dst_be, r->giaddr_be ? 67 : 68, n);
	return 42 + n;
}

/* Where a reply went, checked for valid checksums. */
struct out {
	uint8_t dst_mac[6];
	uint32_t ip_dst_be;
	uint16_t dport;
	size_t len;
};

static void parse_reply(const uint8_t *f, size_t len, struct out *o)
{
	const uint8_t *ip = f + 14, *udp = ip + 20;
	uint16_t ulen;
	uint32_t acc;

	assert_true(len >= 42 + DHCP_REPLY_MIN_LEN);
	assert_memory_equal(f + 6, server_mac, 6);
	assert_int_equal(get_be16(f + 12), 0x0800);
	assert_int_equal(csum_fold(csum_add(0, ip, 20)), 0);
	assert_memory_equal(ip + 12, &(uint32_t){ SERVER }, 4);
	assert_int_equal(get_be16(ip + 2), len - 14);
	ulen = get_be16(udp + 4);
	assert_int_equal(ulen, len - 34);
	acc = csum_add(0, ip + 12, 8) + 17 + ulen;
	assert_int_equal(csum_fold(csum_add(acc, udp, ulen)), 0);
	assert_int_equal(get_be16(udp), 67);
	memcpy(o->dst_mac, f, 6);
	memcpy(&o->ip_dst_be, ip + 16, 4);
	o->dport = get_be16(udp + 2);
	o->len = len;
	assert_int_equal(dhcp_msg_parse(&reply_msg, udp + 8, ulen - 8), 0);
	assert_int_equal(reply_msg.hdr.op, 2);
	assert_int_equal(dhcp_msg_opt_be32(&reply_msg, DHCP_OPT_SERVER_ID), SERVER);
}

/* Sends 'r' at 'now' and returns the handle() result; the reply lands in 'o'. */
static int send_req(struct dhcp_server *s, const struct req *r, uint64_t now, struct out *o)
{
	uint8_t f[1600], reply[1600];
	size_t n = mkframe(f, r), len = 0;
	int ret = dhcp_server_handle(s, f, n, now, reply, sizeof(reply), &len);

	if (ret > 0 && ret != DHCP_SERVER_ARP_REPLY)
		parse_reply(reply, len, o);
	return ret;
}

/* DISCOVER + REQUEST for client 'm'; returns the address bound. */
static uint32_t dora(struct dhcp_server *s, uint8_t m, uint64_t now)
{
	struct req r = { .type = DHCP_DISCOVER, .mac_last = m };
	struct out o;
	uint32_t yi;

	assert_int_equal(send_req(s, &r, now, &o), DHCP_OFFER);
	yi = reply_msg.hdr.yiaddr_be;
	r = (struct req){
		.type = DHCP_REQUEST, .mac_last = m, .req_be = yi, .has_sid = true, .sid_be = SERVER
	};
	assert_int_equal(send_req(s, &r, now, &o), DHCP_ACK);
	assert_int_equal(reply_msg.hdr.yiaddr_be, yi);
	return yi;
}

static void test_conf_errors(void **state)
{
	struct dhcp_server_conf c = base_conf();
	struct dhcp_server *s = NULL;
	struct dhcp_reservation res = { .addr_be = A(5) };

	(void)state;
	c.lease_secs = 59;
	assert_int_equal(dhcp_server_new(&s, &c), -EINVAL);
	c = base_conf();
	c.renew_secs = 3000;
	c.rebind_secs = 2000;
	assert_int_equal(dhcp_server_new(&s, &c), -EINVAL);
	c = base_conf();
	c.last_be = htobe32(0xc0a88400);
	assert_int_equal(dhcp_server_new(&s, &c), -EINVAL);
	c = base_conf();
	c.reserves = &res; /* inside the reserved 16 */
	c.n_reserves = 1;
	assert_int_equal(dhcp_server_new(&s, &c), -EINVAL);
	c = base_conf();
	c.n_dns = DHCP_CONF_ADDRS_MAX + 1;
	assert_int_equal(dhcp_server_new(&s, &c), -E2BIG);
	assert_null(s);
	c = base_conf();
	s = new_server(&c);
	assert_int_equal(dhcp_server_pool_size(s), 240);
	dhcp_server_free(s);
	dhcp_server_free(NULL);
}

static void test_dora(void **state)
{
	struct dhcp_server_conf c = base_conf();
	struct dhcp_server *s = new_server(&c);
	struct req r = { .type = DHCP_DISCOVER, .mac_last = 1, .hostname = "vm one" };
	struct out o;
	uint8_t mac[6];
	size_t len;
	const uint8_t *p;

	(void)state;
	client_mac(mac, 1);
	assert_int_equal(send_req(s, &r, T0, &o), DHCP_OFFER);
	assert_false(dhcp_server_reply_deferred(s));
	assert_int_equal(store.n, 0); /* offers are not persisted */
	assert_int_equal(reply_msg.type, DHCP_OFFER);
	assert_int_equal(reply_msg.hdr.yiaddr_be, A(16));
	assert_int_equal(reply_msg.hdr.xid, 0xabcd0001);
	assert_memory_equal(reply_msg.hdr.chaddr, mac, 6);
	assert_int_equal(reply_msg.hdr.ciaddr_be, 0);
	assert_int_equal(reply_msg.hdr.siaddr_be, 0);
	assert_int_equal(o.len, 42 + 306); /* 66 option bytes: more than the 300 minimum */
	/* §4.1: no broadcast bit, no ciaddr: unicast to yiaddr at chaddr. */
	assert_memory_equal(o.dst_mac, mac, 6);
	assert_int_equal(o.ip_dst_be, A(16));
	assert_int_equal(o.dport, 68);
	p = dhcp_msg_opt(&reply_msg, DHCP_OPT_LEASE_TIME, &len);
	assert_int_equal(get_be32(p), 3600);
	p = dhcp_msg_opt(&reply_msg, DHCP_OPT_T1, &len);
	assert_int_equal(get_be32(p), 1800);
	p = dhcp_msg_opt(&reply_msg, DHCP_OPT_T2, &len);
	assert_int_equal(get_be32(p), 3150);
	assert_int_equal(dhcp_msg_opt_be32(&reply_msg, DHCP_OPT_SUBNET_MASK), htobe32(0xffffff00));
	assert_int_equal(dhcp_msg_opt_be32(&reply_msg, DHCP_OPT_ROUTER), A(1));
	assert_int_equal(dhcp_msg_opt_be32(&reply_msg, DHCP_OPT_BROADCAST), A(255));
	p = dhcp_msg_opt(&reply_msg, DHCP_OPT_DOMAIN, &len);
	assert_int_equal(len, 12);
	assert_memory_equal(p, "lab.internal", 12);
	assert_false(dhcp_msg_has(&reply_msg, DHCP_OPT_CLASSLESS_ROUTES));
	assert_false(dhcp_msg_has(&reply_msg, DHCP_OPT_CLIENT_ID));
	assert_false(dhcp_msg_has(&reply_msg, DHCP_OPT_RAPID_COMMIT));

	r = (struct req){ .type = DHCP_REQUEST,
			  .mac_last = 1,
			  .req_be = A(16),
			  .has_sid = true,
			  .sid_be = SERVER,
			  .hostname = "vm one" };
	assert_int_equal(send_req(s, &r, T0 + SEC, &o), DHCP_ACK);
	assert_true(dhcp_server_reply_deferred(s));
	assert_int_equal(reply_msg.hdr.yiaddr_be, A(16));
	assert_int_equal(store.n, 1);
	assert_int_equal(store.recs[0].addr_be, A(16));
	assert_int_equal(store.recs[0].state, DHCP_LEASE_BOUND);
	assert_int_equal(store.recs[0].expires_us, T0 + SEC + 3600 * SEC);
	assert_memory_equal(store.recs[0].mac, mac, 6);
	assert_string_equal(store.recs[0].hostname, "vm-one");
	assert_int_equal(dhcp_server_stats(s)->rx[DHCP_DISCOVER], 1);
	assert_int_equal(dhcp_server_stats(s)->tx[DHCP_OFFER], 1);
	assert_int_equal(dhcp_server_stats(s)->tx[DHCP_ACK], 1);

	/* A second client gets the next address. */
	assert_int_equal(dora(s, 2, T0), A(17));
	dhcp_server_free(s);
}

static void test_broadcast_bit(void **state)
{
	struct dhcp_server_conf c = base_conf();
	struct dhcp_server *s = new_server(&c);
	struct req r = { .type = DHCP_DISCOVER, .mac_last = 1, .bcast = true };
	struct out o;

	(void)state;
	assert_int_equal(send_req(s, &r, T0, &o), DHCP_OFFER);
	assert_memory_equal(o.dst_mac, bcast_mac, 6);
	assert_int_equal(o.ip_dst_be, 0xffffffffu);
	assert_int_equal(reply_msg.hdr.flags, DHCP_FLAG_BROADCAST);
	dhcp_server_free(s);
}

static void test_init_reboot(void **state)
{
	struct dhcp_server_conf c = base_conf();
	struct dhcp_server *s = new_server(&c);
	struct req r = { .type = DHCP_REQUEST, .mac_last = 1 };
	struct out o;
	uint32_t yi = dora(s, 1, T0);

	(void)state;
	r.req_be = yi;
	assert_int_equal(send_req(s, &r, T0 + 10 * SEC, &o), DHCP_ACK);
	assert_int_equal(reply_msg.hdr.yiaddr_be, yi);
	/* Same network, another address: NAK, broadcast, no lease fields. */
	r.req_be = A(99);
	assert_int_equal(send_req(s, &r, T0 + 10 * SEC, &o), DHCP_NAK);
	assert_memory_equal(o.dst_mac, bcast_mac, 6);
	assert_int_equal(o.ip_dst_be, 0xffffffffu);
	assert_int_equal(reply_msg.hdr.yiaddr_be, 0);
	assert_int_equal(reply_msg.hdr.ciaddr_be, 0);
	assert_false(dhcp_msg_has(&reply_msg, DHCP_OPT_LEASE_TIME));
	assert_true(dhcp_msg_has(&reply_msg, DHCP_OPT_MESSAGE));
	/* Wrong network (a VM moved here from another one). */
	r.req_be = htobe32(0x0a000010);
	assert_int_equal(send_req(s, &r, T0, &o), DHCP_NAK);
	/* Unknown client: authoritative, so NAK rather than silence. */
	r.mac_last = 7;
	r.req_be = A(50);
	assert_int_equal(send_req(s, &r, T0, &o), DHCP_NAK);
	/* Another client's address. */
	r.req_be = yi;
	assert_int_equal(send_req(s, &r, T0, &o), DHCP_NAK);
	assert_int_equal(dhcp_server_stats(s)->tx[DHCP_NAK], 4);
	dhcp_server_free(s);
}

static void test_renew_rebind(void **state)
{
	struct dhcp_server_conf c = base_conf();
	struct dhcp_server *s = new_server(&c);
	struct req r = { .type = DHCP_REQUEST, .mac_last = 1 };
	struct out o;
	uint32_t yi = dora(s, 1, T0);
	uint8_t mac[6];

	(void)state;
	client_mac(mac, 1);
	/* RENEWING: unicast from ciaddr to the server. */
	r.ciaddr_be = yi;
	r.ip_src_be = yi;
	r.ip_dst_be = SERVER;
	store.n = 0;
	assert_int_equal(send_req(s, &r, T0 + 1800 * SEC, &o), DHCP_ACK);
	assert_true(dhcp_server_reply_deferred(s));
	assert_int_equal(o.ip_dst_be, yi);
	assert_memory_equal(o.dst_mac, mac, 6);
	assert_int_equal(reply_msg.hdr.ciaddr_be, yi);
	assert_int_equal(reply_msg.hdr.yiaddr_be, yi);
	assert_int_equal(store.recs[0].expires_us, T0 + 5400 * SEC);
	/* REBINDING: broadcast, still answered to ciaddr. */
	r.ip_dst_be = 0;
	assert_int_equal(send_req(s, &r, T0 + 3200 * SEC, &o), DHCP_ACK);
	assert_int_equal(o.ip_dst_be, yi);
	/* After expiry the address is still free for it: ACK. */
	assert_int_equal(send_req(s, &r, T0 + 9000 * SEC, &o), DHCP_ACK);
	/* Renewing an address that is not its own: NAK. */
	r.ciaddr_be = A(200);
	assert_int_equal(send_req(s, &r, T0 + 9000 * SEC, &o), DHCP_NAK);
	/* REQUEST with neither 50, 54 nor ciaddr: ignored. */
	r = (struct req){ .type = DHCP_REQUEST, .mac_last = 1 };
	assert_int_equal(send_req(s, &r, T0, &o), 0);
	assert_int_equal(dhcp_server_stats(s)->drops[DHCP_DROP_NO_BINDING], 1);
	dhcp_server_free(s);
}

static void test_selecting_other_server(void **state)
{
	struct dhcp_server_conf c = base_conf();
	struct dhcp_server *s = new_server(&c);
	struct req r = { .type = DHCP_DISCOVER, .mac_last = 1 };
	struct out o;

	(void)state;
	assert_int_equal(send_req(s, &r, T0, &o), DHCP_OFFER);
	assert_int_equal(reply_msg.hdr.yiaddr_be, A(16));
	r = (struct req){ .type = DHCP_REQUEST,
			  .mac_last = 1,
			  .req_be = A(99),
			  .has_sid = true,
			  .sid_be = A(3) };
	assert_int_equal(send_req(s, &r, T0, &o), 0);
	assert_int_equal(dhcp_server_stats(s)->drops[DHCP_DROP_OTHER_SERVER], 1);
	/* SELECTING our id with an address we did not offer: NAK. */
	r.sid_be = SERVER;
	assert_int_equal(send_req(s, &r, T0, &o), DHCP_NAK);
	dhcp_server_free(s);
}

static void test_decline(void **state)
{
	struct dhcp_server_conf c = base_conf();
	struct dhcp_server *s = new_server(&c);
	struct req r = { .type = DHCP_DECLINE, .mac_last = 1 };
	struct out o;
	uint32_t yi = dora(s, 1, T0);

	(void)state;
	/* Without server id, or from another client: ignored. */
	r.req_be = yi;
	assert_int_equal(send_req(s, &r, T0, &o), 0);
	assert_int_equal(dhcp_server_stats(s)->drops[DHCP_DROP_OTHER_SERVER], 1);
	r.has_sid = true;
	r.sid_be = SERVER;
	r.mac_last = 2;
	assert_int_equal(send_req(s, &r, T0, &o), 0);
	assert_int_equal(dhcp_server_stats(s)->drops[DHCP_DROP_NO_BINDING], 1);
	r.mac_last = 1;
	store.n = 0;
	assert_int_equal(send_req(s, &r, T0, &o), 0);
	assert_int_equal(dhcp_server_stats(s)->declines, 1);
	assert_int_equal(store.n, 1);
	assert_int_equal(store.recs[0].state, DHCP_LEASE_DECLINED);
	assert_int_equal(store.recs[0].expires_us, T0 + 600 * SEC);
	/* The client gets another address; the declined one stays out for 600 s. */
	assert_int_equal(dora(s, 1, T0 + SEC), A(17));
	assert_int_equal(dora(s, 3, T0 + SEC), A(18));

	dhcp_server_free(s);
}

static void count_declined(const struct dhcp_lease *l, enum dhcp_lease_state st, void *arg)
{
	(void)l;
	*(unsigned *)arg += st == DHCP_LEASE_DECLINED;
}

static void test_decline_cap(void **state)
{
	struct dhcp_server_conf c = base_conf();
	struct dhcp_server *s = new_server(&c);
	struct req r = { .type = DHCP_DECLINE, .mac_last = 1, .has_sid = true, .sid_be = SERVER };
	struct out o;
	unsigned n = 0;

	(void)state;
	for (unsigned i = 0; i < 10; i++) {
		r.req_be = dora(s, 1, T0 + i * SEC);
		assert_int_equal(send_req(s, &r, T0 + i * SEC, &o), 0);
	}
	dhcp_server_foreach_lease(s, T0 + 20 * SEC, count_declined, &n);
	assert_int_equal(n, DHCP_WITHHELD_CLIENT_MAX);
	n = 0;
	dhcp_server_foreach_lease(s, T0 + 700 * SEC, count_declined, &n);
	assert_int_equal(n, 0);
	dhcp_server_free(s);
}

static void test_release_and_previous_address(void **state)
{
	struct dhcp_server_conf c = base_conf();
	struct dhcp_server *s = new_server(&c);
	struct req r = { .type = DHCP_RELEASE, .mac_last = 1, .has_sid = true, .sid_be = SERVER };
	struct out o;
	uint32_t yi;

	(void)state;
	yi = dora(s, 1, T0);
	assert_int_equal(dora(s, 2, T0), A(17));
	/* Release from the wrong client is ignored. */
	r.ciaddr_be = yi;
	r.mac_last = 2;
	assert_int_equal(send_req(s, &r, T0, &o), 0);
	assert_int_equal(dhcp_server_stats(s)->drops[DHCP_DROP_NO_BINDING], 1);
	r.mac_last = 1;
	store.n = 0;
	assert_int_equal(send_req(s, &r, T0 + SEC, &o), 0);
	assert_int_equal(store.n, 1);
	assert_int_equal(store.recs[0].state, DHCP_LEASE_RELEASED);
	/* A new client does not take it while never-used addresses remain... */
	assert_int_equal(dora(s, 3, T0 + 2 * SEC), A(18));
	/* ...and the releasing client gets it back. */
	assert_int_equal(dora(s, 1, T0 + 3 * SEC), yi);
	/* The same after its lease simply expired. */
	assert_int_equal(dora(s, 3, T0 + 99999 * SEC), A(18));
	dhcp_server_free(s);
}

static void test_inform(void **state)
{
	struct dhcp_server_conf c = base_conf();
	struct dhcp_server *s = new_server(&c);
	static const uint8_t prl[] = { 1, 3, 6, 15, 51 };
	struct req r = { .type = DHCP_INFORM,
			 .mac_last = 5,
			 .ciaddr_be = A(5),
			 .ip_src_be = A(5),
			 .prl = prl,
			 .prl_len = sizeof(prl) };
	struct out o;
	uint8_t mac[6];

	(void)state;
	client_mac(mac, 5);
	assert_int_equal(send_req(s, &r, T0, &o), DHCP_ACK);
	assert_false(dhcp_server_reply_deferred(s));
	assert_int_equal(reply_msg.hdr.yiaddr_be, 0);
	assert_int_equal(reply_msg.hdr.ciaddr_be, A(5));
	assert_false(dhcp_msg_has(&reply_msg, DHCP_OPT_LEASE_TIME));
	assert_false(dhcp_msg_has(&reply_msg, DHCP_OPT_T1));
	assert_true(dhcp_msg_has(&reply_msg, DHCP_OPT_DNS));
	assert_int_equal(o.ip_dst_be, A(5));
	assert_memory_equal(o.dst_mac, mac, 6);
	assert_int_equal(store.n, 0);
	dhcp_server_free(s);
}

static void test_reservation(void **state)
{
	struct dhcp_server_conf c = base_conf();
	struct dhcp_reservation res = { .addr_be = A(16), .hostname = "web1" };
	struct dhcp_server *s;
	struct req r = { .type = DHCP_REQUEST, .mac_last = 1 };
	struct out o;
	const uint8_t *p;
	size_t len;

	(void)state;
	client_mac(res.mac, 9);
	c.reserves = &res;
	c.n_reserves = 1;
	s = new_server(&c);
	/* Others never get the reserved address. */
	assert_int_equal(dora(s, 1, T0), A(17));
	assert_int_equal(dora(s, 9, T0), A(16));
	p = dhcp_msg_opt(&reply_msg, DHCP_OPT_HOSTNAME, &len);
	assert_non_null(p);
	assert_int_equal(len, 4);
	assert_memory_equal(p, "web1", 4);
	/* The reserved client asking for its old dynamic address is NAKed. */
	r.mac_last = 9;
	r.req_be = A(17);
	assert_int_equal(send_req(s, &r, T0, &o), DHCP_NAK);
	r.req_be = A(16);
	assert_int_equal(send_req(s, &r, T0, &o), DHCP_ACK);
	/* A client asking for the reserved address is NAKed. */
	r.mac_last = 1;
	assert_int_equal(send_req(s, &r, T0, &o), DHCP_NAK);
	dhcp_server_free(s);
}

/* A range of 16 + 4 addresses: four clients, then nothing for a fifth. */
static void test_exhaustion_and_oldest_reuse(void **state)
{
	struct dhcp_server_conf c = base_conf();
	struct dhcp_server *s;
	struct req r = { .type = DHCP_DISCOVER, .mac_last = 5 };
	struct out o;

	(void)state;
	c.first_be = A(100);
	c.last_be = A(119);
	c.gateway_be = A(1);
	s = new_server(&c);
	assert_int_equal(dhcp_server_pool_size(s), 4);
	for (unsigned i = 0; i < 4; i++) {
		uint32_t a = dora(s, (uint8_t)(1 + i), T0 + (4 - i) * 100 * SEC);

		/* The reserved 16 (.100-.115) never appear. */
		assert_int_equal(a, A(116 + i));
	}
	assert_int_equal(send_req(s, &r, T0 + 500 * SEC, &o), 0);
	assert_int_equal(dhcp_server_stats(s)->drops[DHCP_DROP_EXHAUSTED], 1);
	assert_int_equal(dhcp_server_stats(s)->tx[DHCP_OFFER], 4);
	/* Once all have expired, the lease that ended first (client 4's, .119) goes first. */
	assert_int_equal(send_req(s, &r, T0 + 9000 * SEC, &o), DHCP_OFFER);
	assert_int_equal(reply_msg.hdr.yiaddr_be, A(119));
	dhcp_server_free(s);
}

static void test_probe_conflict(void **state)
{
	struct dhcp_server_conf c = base_conf();
	struct dhcp_server *s = new_server(&c);
	struct req r = { .type = DHCP_DISCOVER, .mac_last = 1 };
	struct out o;

	(void)state;
	in_use_addr = A(16);
	assert_int_equal(send_req(s, &r, T0, &o), DHCP_OFFER);
	assert_int_equal(reply_msg.hdr.yiaddr_be, A(17));
	assert_int_equal(dhcp_server_stats(s)->conflicts, 1);
	/* Option 50 for a free address is honoured after the probe. */
	r = (struct req){ .type = DHCP_DISCOVER, .mac_last = 2, .req_be = A(77) };
	assert_int_equal(send_req(s, &r, T0, &o), DHCP_OFFER);
	assert_int_equal(reply_msg.hdr.yiaddr_be, A(77));
	dhcp_server_free(s);
}

static void test_option_order_and_client_id(void **state)
{
	struct dhcp_server_conf c = base_conf();
	struct dhcp_route route = { .dest_be = htobe32(0x0a000000),
				    .prefix_len = 8,
				    .gateway_be = A(1) };
	static const uint8_t prl[] = { 121, 15, 6, 3, 1, 44, 58 };
	static const uint8_t cid[] = { 0x01, 0x52, 0x54, 0x00, 0x00, 0x00, 0x01 };
	struct dhcp_server *s;
	struct req r = { .type = DHCP_DISCOVER,
			 .mac_last = 1,
			 .prl = prl,
			 .prl_len = sizeof(prl),
			 .cid = cid,
			 .cid_len = sizeof(cid) };
	uint8_t f[1600], reply[1600];
	size_t n, len = 0;
	const uint8_t *p;
	uint8_t order[32];
	unsigned n_order = 0;

	(void)state;
	c.routes = &route;
	c.n_routes = 1;
	s = new_server(&c);
	n = mkframe(f, &r);
	assert_int_equal(dhcp_server_handle(s, f, n, T0, reply, sizeof(reply), &len), DHCP_OFFER);
	/* Walk the options as they lie on the wire. */
	p = reply + 42 + 240;
	while (*p != 255) {
		order[n_order++] = p[0];
		p += 2 + p[1];
	}
	assert_int_equal(n_order, 11);
	assert_memory_equal(order, "\x35\x36\x33\x3a\x3b\x3d\x79\x0f\x06\x03\x01", 11);
	parse_reply(reply, len, &(struct out){ 0 });
	p = dhcp_msg_opt(&reply_msg, DHCP_OPT_CLIENT_ID, &len);
	assert_int_equal(len, sizeof(cid));
	assert_memory_equal(p, cid, sizeof(cid));
	/* RFC 3442: 10/8 via .1, then the default route via the gateway. */
	p = dhcp_msg_opt(&reply_msg, DHCP_OPT_CLASSLESS_ROUTES, &len);
	assert_int_equal(len, 11);
	assert_memory_equal(p, "\x08\x0a\xc0\xa8\x83\x01\x00\xc0\xa8\x83\x01", 11);

	/* Keyed by client-id: the same id from another MAC is the same client. */
	r.mac_last = 2;
	r.type = DHCP_REQUEST;
	r.has_sid = true;
	r.sid_be = SERVER;
	r.req_be = A(16);
	assert_int_equal(send_req(s, &r, T0, &(struct out){ 0 }), DHCP_ACK);
	assert_true(dhcp_msg_has(&reply_msg, DHCP_OPT_CLIENT_ID));
	/* The NAK echoes option 61 too (RFC 6842). */
	r.req_be = A(30);
	r.has_sid = false;
	assert_int_equal(send_req(s, &r, T0, &(struct out){ 0 }), DHCP_NAK);
	assert_true(dhcp_msg_has(&reply_msg, DHCP_OPT_CLIENT_ID));
	/* Without option 61 the MAC alone is the key: a different client. */
	r.cid = NULL;
	r.req_be = A(16);
	assert_int_equal(send_req(s, &r, T0, &(struct out){ 0 }), DHCP_NAK);
	dhcp_server_free(s);
}

static void test_rapid_commit(void **state)
{
	struct dhcp_server_conf c = base_conf();
	struct dhcp_server *s = new_server(&c);
	struct req r = { .type = DHCP_DISCOVER, .mac_last = 1, .rapid = true };
	struct out o;

	(void)state;
	assert_int_equal(send_req(s, &r, T0, &o), DHCP_ACK);
	assert_true(dhcp_server_reply_deferred(s));
	assert_true(dhcp_msg_has(&reply_msg, DHCP_OPT_RAPID_COMMIT));
	assert_int_equal(reply_msg.hdr.yiaddr_be, A(16));
	assert_int_equal(store.n, 1);
	dhcp_server_free(s);

	c.no_rapid_commit = true;
	s = new_server(&c);
	assert_int_equal(send_req(s, &r, T0, &o), DHCP_OFFER);
	assert_false(dhcp_msg_has(&reply_msg, DHCP_OPT_RAPID_COMMIT));
	dhcp_server_free(s);
}

static void test_relay(void **state)
{
	struct dhcp_server_conf c = base_conf();
	struct dhcp_server *s = new_server(&c);
	struct req r = { .type = DHCP_DISCOVER,
			 .mac_last = 1,
			 .giaddr_be = A(10),
			 .ip_src_be = A(10),
			 .ip_dst_be = SERVER };
	struct out o;
	uint8_t relay_mac[6];

	(void)state;
	client_mac(relay_mac, 0xee);
	assert_int_equal(send_req(s, &r, T0, &o), DHCP_OFFER);
	assert_int_equal(o.ip_dst_be, A(10));
	assert_int_equal(o.dport, 67);
	assert_memory_equal(o.dst_mac, relay_mac, 6);
	assert_int_equal(reply_msg.hdr.giaddr_be, A(10));
	assert_int_equal(reply_msg.hdr.flags, 0);
	/* A NAK through a relay: to the relay, with the broadcast bit set. */
	r.type = DHCP_REQUEST;
	r.req_be = A(200);
	assert_int_equal(send_req(s, &r, T0, &o), DHCP_NAK);
	assert_int_equal(o.ip_dst_be, A(10));
	assert_int_equal(o.dport, 67);
	assert_int_equal(reply_msg.hdr.flags, DHCP_FLAG_BROADCAST);
	dhcp_server_free(s);
}

static size_t mkarp(uint8_t *f, uint32_t tpa_be)
{
	memset(f, 0, 60);
	memcpy(f, bcast_mac, 6);
	client_mac(f + 6, 1);
	put_be16(f + 12, 0x0806);
	put_be16(f + 14, 1);
	put_be16(f + 16, 0x0800);
	f[18] = 6;
	f[19] = 4;
	put_be16(f + 20, 1);
	client_mac(f + 22, 1);
	memcpy(f + 28, &(uint32_t){ A(16) }, 4);
	memcpy(f + 38, &tpa_be, 4);
	return 60;
}

static void test_arp(void **state)
{
	struct dhcp_server_conf c = base_conf();
	struct dhcp_server *s = new_server(&c);
	uint8_t f[64], reply[128], mac[6], want[60];
	size_t n = mkarp(f, SERVER), len = 0;

	(void)state;
	client_mac(mac, 1);
	assert_int_equal(dhcp_server_handle(s, f, n, T0, reply, sizeof(reply), &len),
			 DHCP_SERVER_ARP_REPLY);
	assert_int_equal(len, 60);
	memset(want, 0, sizeof(want));
	memcpy(want, mac, 6);
	memcpy(want + 6, server_mac, 6);
	memcpy(want + 12, "\x08\x06\x00\x01\x08\x00\x06\x04\x00\x02", 10);
	memcpy(want + 22, server_mac, 6);
	memcpy(want + 28, "\xc0\xa8\x83\x02", 4);
	memcpy(want + 32, mac, 6);
	memcpy(want + 38, "\xc0\xa8\x83\x10", 4);
	assert_memory_equal(reply, want, 60);
	assert_int_equal(dhcp_server_stats(s)->arp_replies, 1);
	/* Someone else's address, a reply, a truncated request: ignored. */
	n = mkarp(f, A(1));
	assert_int_equal(dhcp_server_handle(s, f, n, T0, reply, sizeof(reply), &len), 0);
	n = mkarp(f, SERVER);
	f[21] = 2;
	assert_int_equal(dhcp_server_handle(s, f, n, T0, reply, sizeof(reply), &len), 0);
	assert_int_equal(dhcp_server_handle(s, f, 30, T0, reply, sizeof(reply), &len), 0);
	assert_int_equal(dhcp_server_stats(s)->drops[DHCP_DROP_BAD_FRAME], 1);
	assert_int_equal(dhcp_server_stats(s)->drops[DHCP_DROP_NOT_FOR_US], 2);
	dhcp_server_free(s);
}

static void test_bad_frames(void **state)
{
	struct dhcp_server_conf c = base_conf();
	struct dhcp_server *s = new_server(&c);
	struct req r = { .type = DHCP_DISCOVER, .mac_last = 1 };
	const struct dhcp_server_stats *st = dhcp_server_stats(s);
	uint8_t f[1600], g[1600], reply[1600];
	size_t n = mkframe(f, &r), len = 0;

	(void)state;
	for (size_t cut = 0; cut < n; cut += 7)
		assert_int_equal(dhcp_server_handle(s, f, cut, T0, reply, sizeof(reply), &len), 0);
	memcpy(g, f, n);
	g[14 + 10] ^= 1; /* IP checksum */
	assert_int_equal(dhcp_server_handle(s, g, n, T0, reply, sizeof(reply), &len), 0);
	assert_int_equal(st->drops[DHCP_DROP_BAD_CSUM], 1);
	memcpy(g, f, n);
	g[34 + 6] ^= 1; /* UDP checksum */
	assert_int_equal(dhcp_server_handle(s, g, n, T0, reply, sizeof(reply), &len), 0);
	assert_int_equal(st->drops[DHCP_DROP_BAD_CSUM], 2);
	memcpy(g, f, n);
	g[34 + 6] = g[34 + 7] = 0; /* no UDP checksum: accepted */
	assert_int_equal(dhcp_server_handle(s, g, n, T0, reply, sizeof(reply), &len), DHCP_OFFER);
	memcpy(g, f, n);
	g[0] = 0x02; /* unicast to another MAC */
	assert_int_equal(dhcp_server_handle(s, g, n, T0, reply, sizeof(reply), &len), 0);
	memcpy(g, f, n);
	g[14 + 6] = 0x20; /* more fragments */
	g[14 + 10] = g[14 + 11] = 0;
	put_be16(g + 24, csum_fold(csum_add(0, g + 14, 20)));
	assert_int_equal(dhcp_server_handle(s, g, n, T0, reply, sizeof(reply), &len), 0);
	assert_int_equal(st->drops[DHCP_DROP_FRAGMENT], 1);
	/* Padding after the IP datagram is ignored. */
	memcpy(g, f, n);
	memset(g + n, 0xaa, 20);
	assert_int_equal(dhcp_server_handle(s, g, n + 20, T0, reply, sizeof(reply), &len),
			 DHCP_OFFER);
	/* A BOOTREPLY on port 67 and a reply buffer too small. */
	memcpy(g, f, n);
	g[42] = 2;
	g[34 + 6] = g[34 + 7] = 0;
	assert_int_equal(dhcp_server_handle(s, g, n, T0, reply, sizeof(reply), &len), 0);
	assert_int_equal(st->drops[DHCP_DROP_NOT_REQUEST], 1);
	assert_int_equal(dhcp_server_handle(s, f, n, T0, reply, 200, &len), -EMSGSIZE);
	assert_int_equal(st->drops[DHCP_DROP_NO_ROOM], 1);
	dhcp_server_free(s);
}

static void test_store_failure(void **state)
{
	struct dhcp_server_conf c = base_conf();
	struct dhcp_server *s = new_server(&c);
	struct req r = { .type = DHCP_DISCOVER, .mac_last = 1, .rapid = true };
	struct out o;

	(void)state;
	store.fail = ENOSPC;
	assert_int_equal(send_req(s, &r, T0, &o), 0);
	assert_int_equal(dhcp_server_stats(s)->drops[DHCP_DROP_STORE], 1);
	assert_false(dhcp_server_reply_deferred(s));
	dhcp_server_free(s);
}

static void test_restore(void **state)
{
	struct dhcp_server_conf c = base_conf();
	struct dhcp_server *s = new_server(&c);
	struct dhcp_lease rec = { .addr_be = A(40),
				  .state = DHCP_LEASE_BOUND,
				  .has_client = true,
				  .expires_us = T0 + 100 * SEC,
				  .hostname = "db" };
	struct req r = { .type = DHCP_REQUEST, .mac_last = 4, .req_be = A(40) };
	struct out o;

	(void)state;
	client_mac(rec.mac, 4);
	assert_int_equal(dhcp_server_restore(s, &rec, T0), 0);
	rec.addr_be = A(3); /* reserved block */
	assert_int_equal(dhcp_server_restore(s, &rec, T0), -ENOENT);
	rec.addr_be = A(41); /* older record of the same client */
	rec.expires_us = T0 + 50 * SEC;
	assert_int_equal(dhcp_server_restore(s, &rec, T0), -ENOENT);
	rec.state = DHCP_LEASE_DECLINED;
	rec.has_client = false;
	rec.expires_us = T0 + 50 * SEC;
	assert_int_equal(dhcp_server_restore(s, &rec, T0), 0);
	assert_int_equal(send_req(s, &r, T0 + SEC, &o), DHCP_ACK);
	/* The restored client's address and the withheld one are skipped for others. */
	r = (struct req){ .type = DHCP_DISCOVER, .mac_last = 5, .req_be = A(41) };
	assert_int_equal(send_req(s, &r, T0 + SEC, &o), DHCP_OFFER);
	assert_int_equal(reply_msg.hdr.yiaddr_be, A(16));
	dhcp_server_free(s);
}

static void test_max_size(void **state)
{
	struct dhcp_server_conf c = base_conf();
	struct dhcp_server *s;
	char domain[DHCP_DOMAIN_MAX + 1];
	struct req r = { .type = DHCP_DISCOVER, .mac_last = 1 };
	struct out o;

	(void)state;
	memset(domain, 'd', DHCP_DOMAIN_MAX);
	domain[DHCP_DOMAIN_MAX] = '\0';
	c.domain = domain;
	c.n_dns = DHCP_CONF_ADDRS_MAX;
	c.n_wins = DHCP_CONF_ADDRS_MAX;
	s = new_server(&c);
	/* Without option 57 a reply stays within a 576-byte datagram. */
	assert_int_equal(send_req(s, &r, T0, &o), DHCP_OFFER);
	assert_true(o.len - 14 <= 576);
	assert_true(dhcp_msg_has(&reply_msg, DHCP_OPT_SUBNET_MASK));
	r.max_size = 1500;
	assert_int_equal(send_req(s, &r, T0, &o), DHCP_OFFER);
	assert_true(o.len - 14 > 576);
	assert_true(dhcp_msg_has(&reply_msg, DHCP_OPT_WINS));
	dhcp_server_free(s);
}

/* A tagged request gets a reply with the same 802.1Q tag. */
static void test_vlan_tag(void **state)
{
	struct dhcp_server_conf c = base_conf();
	struct dhcp_server *s = new_server(&c);
	struct req r = { .type = DHCP_DISCOVER, .mac_last = 1 };
	uint8_t f[1600], g[1600], reply[1600];
	size_t n = mkframe(f, &r), len = 0;

	(void)state;
	memcpy(g, f, 12);
	put_be16(g + 12, 0x8100);
	put_be16(g + 14, 0x2064); /* PCP 1, VLAN 100 */
	memcpy(g + 16, f + 12, n - 12);
	assert_int_equal(dhcp_server_handle(s, g, n + 4, T0, reply, sizeof(reply), &len),
			 DHCP_OFFER);
	assert_int_equal(get_be16(reply + 12), 0x8100);
	assert_int_equal(get_be16(reply + 14), 0x2064);
	assert_int_equal(get_be16(reply + 16), 0x0800);
	assert_int_equal(dhcp_msg_parse(&reply_msg, reply + 18 + 28, len - 18 - 28), 0);
	assert_int_equal(reply_msg.type, DHCP_OFFER);
	dhcp_server_free(s);
}

/* INFORM through a relay: answered to the relay on port 67. */
static void test_inform_relay(void **state)
{
	struct dhcp_server_conf c = base_conf();
	struct dhcp_server *s = new_server(&c);
	struct req r = { .type = DHCP_INFORM,
			 .mac_last = 3,
			 .ciaddr_be = htobe32(0x0a000005),
			 .giaddr_be = A(10),
			 .ip_src_be = A(10),
			 .ip_dst_be = SERVER };
	struct out o;

	(void)state;
	assert_int_equal(send_req(s, &r, T0, &o), DHCP_ACK);
	assert_int_equal(o.ip_dst_be, A(10));
	assert_int_equal(o.dport, 67);
	assert_false(dhcp_msg_has(&reply_msg, DHCP_OPT_LEASE_TIME));
	dhcp_server_free(s);
}

/* A reply too big for 576 bytes spills into 'file' rather than losing options. */
static void test_reply_overload(void **state)
{
	struct dhcp_server_conf c = base_conf();
	static const uint8_t prl[] = { 15, 6, 44, 1, 3 };
	struct req r = { .type = DHCP_DISCOVER, .mac_last = 1, .prl = prl, .prl_len = sizeof(prl) };
	struct dhcp_server *s;
	char domain[201];
	struct out o;
	size_t len;

	(void)state;
	memset(domain, 'd', 200);
	domain[200] = '\0';
	c.domain = domain;
	c.n_dns = DHCP_CONF_ADDRS_MAX;
	c.n_wins = DHCP_CONF_ADDRS_MAX;
	s = new_server(&c);
	assert_int_equal(send_req(s, &r, T0, &o), DHCP_OFFER);
	assert_true(o.len - 14 <= 576);
	assert_int_equal(reply_msg.overload, 1);
	assert_non_null(dhcp_msg_opt(&reply_msg, DHCP_OPT_DOMAIN, &len));
	assert_int_equal(len, 200);
	/* The router came last and found room only in 'file'. */
	assert_int_equal(dhcp_msg_opt_be32(&reply_msg, DHCP_OPT_ROUTER), A(1));
	assert_non_null(dhcp_msg_opt(&reply_msg, DHCP_OPT_DNS, &len));
	assert_int_equal(len, 32);
	assert_non_null(dhcp_msg_opt(&reply_msg, DHCP_OPT_WINS, &len));
	assert_true(dhcp_msg_has(&reply_msg, DHCP_OPT_SUBNET_MASK));
	assert_true(dhcp_msg_has(&reply_msg, DHCP_OPT_ROUTER));
	dhcp_server_free(s);
}

/*
 * A reply whose UDP checksum computes to 0 would go out as 0xffff, which
 * busybox udhcpc drops; the server pads it by one octet instead. The xid is
 * the only thing that varies here, so the search is deterministic.
 */
static void test_no_all_ones_checksum(void **state)
{
	struct dhcp_server_conf c = base_conf();
	struct dhcp_server *s = new_server(&c);
	struct req r = { .type = DHCP_DISCOVER, .mac_last = 1 };
	struct out o;
	size_t usual = 0;
	unsigned padded = 0;

	(void)state;
	for (r.xid = 1; r.xid < (1u << 22) && !padded; r.xid++) {
		uint8_t f[1600], reply[1600];
		size_t n = mkframe(f, &r), len = 0;

		assert_int_equal(dhcp_server_handle(s, f, n, T0, reply, sizeof(reply), &len),
				 DHCP_OFFER);
		parse_reply(reply, len, &o); /* checksums verify, the message parses */
		assert_int_not_equal(get_be16(reply + 14 + 20 + 6), 0xffff);
		assert_int_equal(reply_msg.hdr.xid, r.xid);
		if (!usual)
			usual = len;
		if (len != usual) {
			assert_int_equal(len, usual + 1);
			assert_int_equal(reply[len - 1], 0); /* the pad octet */
			padded++;
		}
	}
	assert_int_equal(padded, 1);
	dhcp_server_free(s);
}

static uint32_t reply_u32(uint8_t code)
{
	size_t len;
	const uint8_t *p = dhcp_msg_opt(&reply_msg, code, &len);

	assert_non_null(p);
	assert_int_equal(len, 4);
	return get_be32(p);
}

/* RFC 2131 §4.3.1: a shorter lease asked for is granted, a longer one is capped. */
static void test_requested_lease_time(void **state)
{
	struct dhcp_server_conf c = base_conf();
	struct dhcp_server *s = new_server(&c);
	struct req r = { .type = DHCP_DISCOVER, .mac_last = 1, .lease_req = 600 };
	struct out o;

	(void)state;
	assert_int_equal(send_req(s, &r, T0, &o), DHCP_OFFER);
	assert_int_equal(reply_u32(DHCP_OPT_LEASE_TIME), 600);
	assert_int_equal(reply_u32(DHCP_OPT_T1), 300);
	assert_int_equal(reply_u32(DHCP_OPT_T2), 525);
	r = (struct req){ .type = DHCP_REQUEST,
			  .mac_last = 1,
			  .req_be = A(16),
			  .has_sid = true,
			  .sid_be = SERVER,
			  .lease_req = 600 };
	assert_int_equal(send_req(s, &r, T0, &o), DHCP_ACK);
	assert_int_equal(reply_u32(DHCP_OPT_LEASE_TIME), 600);
	assert_true(store.n > 0);
	assert_int_equal(store.recs[store.n - 1].expires_us, T0 + 600 * SEC);

	r.lease_req = 30; /* below the floor */
	assert_int_equal(send_req(s, &r, T0, &o), DHCP_ACK);
	assert_int_equal(reply_u32(DHCP_OPT_LEASE_TIME), 60);
	assert_true(reply_u32(DHCP_OPT_T1) < reply_u32(DHCP_OPT_T2));
	assert_true(reply_u32(DHCP_OPT_T2) < 60);
	r.lease_req = 99999; /* above the configured 3600 */
	assert_int_equal(send_req(s, &r, T0, &o), DHCP_ACK);
	assert_int_equal(reply_u32(DHCP_OPT_LEASE_TIME), 3600);
	assert_int_equal(reply_u32(DHCP_OPT_T1), 1800);
	dhcp_server_free(s);
}

static void test_drop_names(void **state)
{
	(void)state;
	assert_string_equal(dhcp_drop_name(DHCP_DROP_EXHAUSTED), "exhausted");
	assert_string_equal(dhcp_drop_name(DHCP_DROP_NO_ROOM), "no-room");
	assert_string_equal(dhcp_drop_name(DHCP_DROP_N), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conf_errors),
		cmocka_unit_test(test_no_all_ones_checksum),
		cmocka_unit_test(test_requested_lease_time),
		cmocka_unit_test(test_dora),
		cmocka_unit_test(test_broadcast_bit),
		cmocka_unit_test(test_init_reboot),
		cmocka_unit_test(test_renew_rebind),
		cmocka_unit_test(test_selecting_other_server),
		cmocka_unit_test(test_decline),
		cmocka_unit_test(test_decline_cap),
		cmocka_unit_test(test_release_and_previous_address),
		cmocka_unit_test(test_inform),
		cmocka_unit_test(test_reservation),
		cmocka_unit_test(test_exhaustion_and_oldest_reuse),
		cmocka_unit_test(test_probe_conflict),
		cmocka_unit_test(test_option_order_and_client_id),
		cmocka_unit_test(test_rapid_commit),
		cmocka_unit_test(test_relay),
		cmocka_unit_test(test_arp),
		cmocka_unit_test(test_bad_frames),
		cmocka_unit_test(test_store_failure),
		cmocka_unit_test(test_restore),
		cmocka_unit_test(test_max_size),
		cmocka_unit_test(test_vlan_tag),
		cmocka_unit_test(test_inform_relay),
		cmocka_unit_test(test_reply_overload),
		cmocka_unit_test(test_drop_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the DHCP endpoint glue (dhcpd/dhcp_endpoint.c). The switch
 * core is replaced by a test double of switch_input() that records every
 * frame the endpoint injects, so the tests see exactly what would enter the
 * switch and when: immediate OFFERs and ARP replies, ACKs held until the
 * group-commit flush, leases surviving a restart.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <poll.h>
#include <string.h>
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/bytes.h"
#include "common/csum.h"
#include "common/log.h"
#include "dhcpd/dhcp_endpoint.h"
#include "dhcpd/dhcp_lease_file.h"
#include "vswitch/frame.h"
#include "vswitch/port.h"
#include "vswitch/switch.h"

#define A(x)   htobe32(0xc0a88300u | (x))
#define SERVER A(2)

static const uint8_t server_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 };

/* The test double: what the endpoint injected. */
struct injected {
	struct port *in;
	uint32_t len;
	uint8_t data[DHCP_ENDPOINT_FRAME_MAX];
	uint64_t now_ms;
};

static struct injected injected[400];
static unsigned n_injected;
static uint32_t probed_be[200]; /* targets of the server's ARP probes, kept apart */
static unsigned n_probed;
static struct vswitch *fake_sw = (struct vswitch *)&n_injected;
static struct dhcp_msg msg;

void switch_input(struct vswitch *sw, struct port *in, const struct frame *f, uint64_t now_ms)
{
	assert_ptr_equal(sw, fake_sw);
	if (f->len >= 42 && get_be16(f->data + 12) == 0x0806 && get_be16(f->data + 20) == 1) {
		assert_memory_equal(f->data + 6, server_mac, 6);
		assert_memory_equal(f->data + 28, "\0\0\0\0", 4); /* RFC 5227: sender 0.0.0.0 */
		assert_true(n_probed < 200);
		memcpy(&probed_be[n_probed++], f->data + 38, 4);
		return;
	}
	assert_true(n_injected < 400);
	injected[n_injected].in = in;
	injected[n_injected].len = f->len;
	injected[n_injected].now_ms = now_ms;
	memcpy(injected[n_injected].data, f->data, f->len);
	n_injected++;
}

static char dir[64], path[128];

/* The daemon's part of the group commit: flush, then wait for the syncer and release. */
static int commit(struct port *p, uint64_t now_ms)
{
	struct pollfd pfd = { .fd = dhcp_endpoint_sync_fd(p), .events = POLLIN };
	int r = dhcp_endpoint_flush(p, now_ms);

	assert_true(r >= 0);
	if (pfd.fd >= 0 && poll(&pfd, 1, 200) == 1)
		r += dhcp_endpoint_synced(p, now_ms);
	return r;
}

static int setup(void **state)
{
	(void)state;
	log_set_level(LOG_LVL_ERROR);
	strcpy(dir, "/tmp/test_dhcp_endpoint.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/leases", dir);
	n_injected = 0;
	n_probed = 0;
	return 0;
}

static int teardown(void **state)
{
	char tmp[160];

	(void)state;
	unlink(path);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	unlink(tmp);
	rmdir(dir);
	return 0;
}

static struct dhcp_server_conf conf(void)
{
	struct dhcp_server_conf c = {
		.first_be = A(0),
		.last_be = A(255),
		.server_be = SERVER,
		.netmask_be = htobe32(0xffffff00),
		.gateway_be = A(1),
		.lease_secs = 3600,
	};

	memcpy(c.server_mac, server_mac, 6);
	return c;
}

/* A DHCP request frame from client 52:54:00:00:00:<m>. */
static size_t mkframe(uint8_t *f, uint8_t type, uint8_t m, uint32_t req_be, bool sid,
		      const char *hostname)
{
	struct dhcp_hdr h = { .op = 1, .htype = 1, .hlen = 6, .xid = m };
	static const uint8_t cid_base[7] = { 1, 0x52, 0x54, 0, 0, 0, 0 };
	uint8_t cid[7];
	struct dhcp_build b;
	uint8_t *ip = f + 14, *udp = f + 34;
	size_t n;
	uint32_t acc, bcast = 0xffffffffu, zero = 0, sid_be = SERVER;

	memcpy(cid, cid_base, 7);
	cid[6] = m;
	memcpy(h.chaddr, cid + 1, 6);
	memset(f, 0xff, 6);
	memcpy(f + 6, cid + 1, 6);
	put_be16(f + 12, 0x0800);
	assert_int_equal(dhcp_build_init(&b, f + 42, 1000, &h), 0);
	assert_int_equal(dhcp_build_opt(&b, DHCP_OPT_MSG_TYPE, &type, 1), 0);
	assert_int_equal(dhcp_build_opt(&b, DHCP_OPT_CLIENT_ID, cid, 7), 0);
	if (req_be)
		assert_int_equal(dhcp_build_opt(&b, DHCP_OPT_REQ_ADDR, &req_be, 4), 0);
	if (sid)
		assert_int_equal(dhcp_build_opt(&b, DHCP_OPT_SERVER_ID, &sid_be, 4), 0);
	if (hostname)
		assert_int_equal(dhcp_build_opt(&b, DHCP_OPT_HOSTNAME, hostname, strlen(hostname)),
				 0);
	n = dhcp_build_finish(&b);
	memset(ip, 0, 20);
	ip[0] = 0x45;
	put_be16(ip + 2, (uint16_t)(28 + n));
	ip[8] = 64;
	ip[9] = 17;
	memcpy(ip + 12, &zero, 4);
	memcpy(ip + 16, &bcast, 4);
	put_be16(ip + 10, csum_fold(csum_add(0, ip, 20)));
	put_be16(udp, 68);
	put_be16(udp + 2, 67);
	put_be16(udp + 4, (uint16_t)(8 + n));
	put_be16(udp + 6, 0);
	acc = csum_add(0, ip + 12, 8) + 17 + 8 + (uint32_t)n;
	put_be16(udp + 6, csum_fold(csum_add(acc, udp, 8 + n)));
	return 42 + n;
}

static int deliver(struct port *p, uint8_t *data, size_t len)
{
	struct frame f = { .data = data, .len = (uint32_t)len, .cap = (uint32_t)len };

	return p->ops->send(p, &f);
}

/* The DHCP message type of injected frame 'i' (0 if it is not DHCP). */
static uint8_t injected_type(unsigned i)
{
	const struct injected *in = &injected[i];

	if (in->len < 42 || get_be16(in->data + 12) != 0x0800)
		return 0;
	assert_int_equal(dhcp_msg_parse(&msg, in->data + 42, in->len - 42), 0);
	return msg.type;
}

static void test_port_contract(void **state)
{
	struct dhcp_server_conf c = conf();
	struct port_conf pc = { .name = "lab-dhcp", .mtu = 1500 };
	struct port *p = NULL;

	(void)state;
	assert_int_equal(dhcp_endpoint_new(&p, fake_sw, &c, NULL), 0);
	assert_string_equal(p->ops->kind, "endpoint");
	assert_int_equal(p->ops->offloads, 0);
	assert_null(p->ops->recv);
	assert_int_equal(p->ops->fd(p), -1);
	assert_true(dhcp_endpoint_is(p));
	assert_string_equal(p->name, "dhcp");
	assert_int_equal(p->ops->open(p, &pc), 0);
	assert_string_equal(p->name, "lab-dhcp");
	assert_int_equal(p->mtu, 1500);
	p->ops->close(p);
	p->ops->destroy(p);
	c.lease_secs = 10;
	assert_int_equal(dhcp_endpoint_new(&p, fake_sw, &c, NULL), -EINVAL);
	dhcp_endpoint_free(NULL);
}

static void test_offer_now_ack_after_flush(void **state)
{
	struct dhcp_server_conf c = conf();
	struct port *p;
	struct dhcp_endpoint_stats st;
	uint8_t f[1600];
	size_t n;

	(void)state;
	assert_int_equal(dhcp_endpoint_new(&p, fake_sw, &c, path), 0);
	n = mkframe(f, DHCP_DISCOVER, 1, 0, false, NULL);
	assert_int_equal(deliver(p, f, n), 0);
	assert_int_equal(n_injected, 1);
	assert_ptr_equal(injected[0].in, p);
	assert_int_equal(injected_type(0), DHCP_OFFER);
	assert_int_equal(msg.hdr.yiaddr_be, A(16));
	/* a new address is ARP-probed as it is offered */
	assert_int_equal(n_probed, 1);
	assert_int_equal(probed_be[0], A(16));

	/* Two clients' REQUESTs in one loop iteration: held, then one fsync for both. */
	n = mkframe(f, DHCP_REQUEST, 1, A(16), true, "alpha");
	assert_int_equal(deliver(p, f, n), 0);
	n = mkframe(f, DHCP_DISCOVER, 2, 0, false, NULL);
	assert_int_equal(deliver(p, f, n), 0);
	n = mkframe(f, DHCP_REQUEST, 2, A(17), true, NULL);
	assert_int_equal(deliver(p, f, n), 0);
	assert_int_equal(n_injected, 2); /* only the second OFFER went out */
	dhcp_endpoint_get_stats(p, &st);
	assert_int_equal(st.replies_queued, 2);
	assert_int_equal(st.lease_fsyncs, 0);
	assert_int_equal(commit(p, 1234), 2);
	assert_int_equal(n_injected, 4);
	assert_int_equal(injected_type(2), DHCP_ACK);
	assert_int_equal(msg.hdr.yiaddr_be, A(16));
	assert_int_equal(injected_type(3), DHCP_ACK);
	assert_int_equal(msg.hdr.yiaddr_be, A(17));
	assert_int_equal(injected[3].now_ms, 1234);
	dhcp_endpoint_get_stats(p, &st);
	assert_int_equal(st.lease_fsyncs, 1);
	assert_int_equal(st.replies_released, 2);
	assert_int_equal(st.server.rx[DHCP_REQUEST], 2);
	assert_int_equal(st.server.tx[DHCP_ACK], 2);
	assert_int_equal(st.pool_size, 240);
	/* Nothing queued: a flush does nothing. */
	assert_int_equal(commit(p, 1235), 0);
	dhcp_endpoint_get_stats(p, &st);
	assert_int_equal(st.lease_fsyncs, 1);
	p->ops->close(p);
	p->ops->destroy(p);
}

struct seen {
	unsigned n;
	struct dhcp_endpoint_lease last;
	char hostname[DHCP_HOSTNAME_MAX];
};

static void collect(const struct dhcp_endpoint_lease *l, void *arg)
{
	struct seen *s = arg;

	s->n++;
	s->last = *l;
	snprintf(s->hostname, sizeof(s->hostname), "%s", l->hostname);
}

static void test_leases_survive_restart(void **state)
{
	struct dhcp_server_conf c = conf();
	struct port *p;
	struct seen seen = { 0 };
	uint8_t f[1600];
	size_t n;

	(void)state;
	assert_int_equal(dhcp_endpoint_new(&p, fake_sw, &c, path), 0);
	n = mkframe(f, DHCP_DISCOVER, 7, 0, false, NULL);
	assert_int_equal(deliver(p, f, n), 0);
	n = mkframe(f, DHCP_REQUEST, 7, A(16), true, "gamma");
	assert_int_equal(deliver(p, f, n), 0);
	assert_int_equal(commit(p, 1), 1);
	/* Crash: no close, no sync beyond the flush. */
	dhcp_endpoint_free(p);

	n_injected = 0;
	assert_int_equal(dhcp_endpoint_new(&p, fake_sw, &c, path), 0);
	dhcp_endpoint_foreach_lease(p, collect, &seen);
	assert_int_equal(seen.n, 1);
	assert_int_equal(seen.last.addr_be, A(16));
	assert_int_equal(seen.last.state, DHCP_LEASE_BOUND);
	assert_string_equal(seen.last.state_name, "bound");
	assert_string_equal(seen.hostname, "gamma");
	assert_int_equal(seen.last.client_id_len, 7);
	assert_int_equal(seen.last.mac[5], 7);
	assert_true(seen.last.expires_unix > (uint64_t)time(NULL) + 3500);
	/* INIT-REBOOT after the restart: the server still knows the client. */
	n = mkframe(f, DHCP_REQUEST, 7, A(16), false, NULL);
	assert_int_equal(deliver(p, f, n), 0);
	assert_int_equal(commit(p, 2), 1);
	assert_int_equal(injected_type(0), DHCP_ACK);
	p->ops->close(p);
	p->ops->destroy(p);
}

static void test_queue_full_syncs_early(void **state)
{
	struct dhcp_server_conf c = conf();
	struct port *p;
	struct dhcp_endpoint_stats st;
	uint8_t f[1600];
	size_t n;

	(void)state;
	assert_int_equal(dhcp_endpoint_new(&p, fake_sw, &c, path), 0);
	for (unsigned i = 0; i < DHCP_ENDPOINT_QUEUE_MAX + 1; i++) {
		n = mkframe(f, DHCP_DISCOVER, (uint8_t)(10 + i), 0, false, NULL);
		assert_int_equal(deliver(p, f, n), 0);
		n = mkframe(f, DHCP_REQUEST, (uint8_t)(10 + i), A(16 + i), true, NULL);
		assert_int_equal(deliver(p, f, n), 0);
	}
	/* every OFFER, plus all the queued ACKs released when the last ACK found the queue full */
	assert_int_equal(n_injected, 2 * DHCP_ENDPOINT_QUEUE_MAX + 1);
	assert_int_equal(commit(p, 3), 1);
	dhcp_endpoint_get_stats(p, &st);
	/* The early sync already covered the 65th record: the flush needs no fsync. */
	assert_int_equal(st.lease_fsyncs, 1);
	assert_int_equal(st.replies_released, DHCP_ENDPOINT_QUEUE_MAX + 1);
	p->ops->close(p);
	p->ops->destroy(p);
}

static void test_memory_only_and_arp(void **state)
{
	struct dhcp_server_conf c = conf();
	struct port *p;
	uint8_t f[1600];
	size_t n;

	(void)state;
	assert_int_equal(dhcp_endpoint_new(&p, fake_sw, &c, NULL), 0);
	n = mkframe(f, DHCP_DISCOVER, 1, 0, false, NULL);
	assert_int_equal(deliver(p, f, n), 0);
	n = mkframe(f, DHCP_REQUEST, 1, A(16), true, NULL);
	assert_int_equal(deliver(p, f, n), 0);
	assert_int_equal(n_injected, 2); /* no lease file: nothing to wait for */
	assert_int_equal(injected_type(1), DHCP_ACK);

	/* ARP for the server address. */
	memset(f, 0, 60);
	memset(f, 0xff, 6);
	f[6] = 0x52;
	put_be16(f + 12, 0x0806);
	put_be16(f + 14, 1);
	put_be16(f + 16, 0x0800);
	f[18] = 6;
	f[19] = 4;
	put_be16(f + 20, 1);
	f[22] = 0x52;
	memcpy(f + 38, &(uint32_t){ SERVER }, 4);
	assert_int_equal(deliver(p, f, 60), 0);
	assert_int_equal(n_injected, 3);
	assert_int_equal(get_be16(injected[2].data + 12), 0x0806);
	assert_int_equal(get_be16(injected[2].data + 20), 2);
	/* Garbage is ignored, never a send error. */
	assert_int_equal(deliver(p, f, 5), 0);
	assert_int_equal(n_injected, 3);
	p->ops->close(p);
	p->ops->destroy(p);
}

/* A host that announced A(16) with ARP keeps it: the server offers the next address. */
static void test_conflict_from_arp(void **state)
{
	struct dhcp_server_conf c = conf();
	struct dhcp_endpoint_stats st;
	struct port *p;
	uint8_t f[1600];
	size_t n;

	(void)state;
	assert_int_equal(dhcp_endpoint_new(&p, fake_sw, &c, NULL), 0);
	memset(f, 0, 60);
	memset(f, 0xff, 6);
	memcpy(f + 6, (uint8_t[]){ 0x52, 0x54, 0, 0, 0, 0x99 }, 6);
	put_be16(f + 12, 0x0806);
	put_be16(f + 14, 1);
	put_be16(f + 16, 0x0800);
	f[18] = 6;
	f[19] = 4;
	put_be16(f + 20, 1);
	memcpy(f + 22, f + 6, 6);
	memcpy(f + 28, &(uint32_t){ A(16) }, 4); /* sender: the static host */
	memcpy(f + 38, &(uint32_t){ A(1) }, 4);
	assert_int_equal(deliver(p, f, 60), 0);
	assert_int_equal(n_injected, 0); /* not for the server: no answer */
	n = mkframe(f, DHCP_DISCOVER, 1, 0, false, NULL);
	assert_int_equal(deliver(p, f, n), 0);
	assert_int_equal(injected_type(0), DHCP_OFFER);
	assert_int_equal(msg.hdr.yiaddr_be, A(17));
	dhcp_endpoint_get_stats(p, &st);
	assert_int_equal(st.server.conflicts, 1);
	assert_int_equal(n_probed, 1);
	assert_int_equal(probed_be[0], A(17));

	/* A silent host answers the probe for A(17): the client's REQUEST is refused. */
	memset(f, 0, 60);
	memcpy(f, server_mac, 6);
	memcpy(f + 6, (uint8_t[]){ 0x52, 0x54, 0, 0, 0, 0x98 }, 6);
	put_be16(f + 12, 0x0806);
	put_be16(f + 14, 1);
	put_be16(f + 16, 0x0800);
	f[18] = 6;
	f[19] = 4;
	put_be16(f + 20, 2); /* reply */
	memcpy(f + 22, f + 6, 6);
	memcpy(f + 28, &(uint32_t){ A(17) }, 4);
	memcpy(f + 32, server_mac, 6);
	assert_int_equal(deliver(p, f, 60), 0);
	n = mkframe(f, DHCP_REQUEST, 1, A(17), true, NULL);
	assert_int_equal(deliver(p, f, n), 0);
	assert_int_equal(injected_type(1), DHCP_NAK);
	n = mkframe(f, DHCP_DISCOVER, 1, 0, false, NULL);
	assert_int_equal(deliver(p, f, n), 0);
	assert_int_equal(injected_type(2), DHCP_OFFER);
	assert_int_equal(msg.hdr.yiaddr_be, A(18));
	dhcp_endpoint_get_stats(p, &st);
	assert_int_equal(st.server.conflicts, 2);
	p->ops->close(p);
	p->ops->destroy(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_port_contract, setup, teardown),
		cmocka_unit_test_setup_teardown(test_offer_now_ack_after_flush, setup, teardown),
		cmocka_unit_test_setup_teardown(test_leases_survive_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_full_syncs_early, setup, teardown),
		cmocka_unit_test_setup_teardown(test_conflict_from_arp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_memory_only_and_arp, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

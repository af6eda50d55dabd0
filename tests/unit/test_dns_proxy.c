/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the DNS proxy (nat/dns_proxy.c), without privileges: the
 * proxy listens on 127.0.0.1 at a high port, two fake upstreams are plain
 * sockets of this test, and a client socket asks. The proxy runs only when
 * the test calls dns_proxy_handle(); time is whatever the test passes, so
 * timeouts need no sleeping.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <endian.h>
#include <errno.h>
#include <poll.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "common/bytes.h"
#include "nat/dns_msg.h"
#include "nat/dns_proxy.h"

#define LOCALHOST   htobe32(0x7f000001)
#define WEB1_ADDR   htobe32(0xc0a88328) /* 192.168.131.40 */
#define REMOTE_ADDR htobe32(0x5db8d822) /* 93.184.216.34 */

struct env {
	struct dns_proxy *proxy;
	int up_udp[2]; /* fake upstreams A and B */
	int up_tcp;    /* A's TCP listener, same port as its UDP */
	struct sockaddr_storage up[2];
	struct sockaddr_in proxy_sin; /* where the proxy listens */
	int client;		      /* UDP client */
	uint64_t now_ms;
	unsigned lookups; /* calls of the lookup callback */
};

static bool lookup(void *ctx, const char *host, uint32_t *addr_be)
{
	struct env *e = ctx;

	e->lookups++;
	if (strcmp(host, "web1"))
		return false;
	*addr_be = WEB1_ADDR;
	return true;
}

static int udp_socket(struct sockaddr_in *sin)
{
	socklen_t len = sizeof(*sin);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)sin, sizeof(*sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)sin, &len), 0);
	return fd;
}

/* Upstream A: UDP and TCP on one port, as a resolver has. */
static void upstream_a(struct env *e)
{
	for (int tries = 0; tries < 50; tries++) {
		struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = LOCALHOST };
		int one = 1;

		e->up_udp[0] = udp_socket(&sin);
		e->up_tcp = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		assert_true(e->up_tcp >= 0);
		assert_int_equal(setsockopt(e->up_tcp, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)),
				 0);
		if (!bind(e->up_tcp, (struct sockaddr *)&sin, sizeof(sin))) {
			assert_int_equal(listen(e->up_tcp, 4), 0);
			memcpy(&e->up[0], &sin, sizeof(sin));
			return;
		}
		close(e->up_tcp);
		close(e->up_udp[0]);
	}
	fail_msg("no free port for the fake upstream");
}

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = LOCALHOST };
	struct dns_proxy_conf conf = {
		.network = "test",
		.listen_be = LOCALHOST,
		.upstreams = e->up,
		.n_upstreams = 2,
		.domain = "Lab.Internal.",
		.lookup = lookup,
		.lookup_ctx = e,
	};
	int r = -EADDRINUSE;

	assert_non_null(e);
	upstream_a(e);
	e->up_udp[1] = udp_socket(&sin);
	memcpy(&e->up[1], &sin, sizeof(sin));
	sin.sin_port = 0;
	e->client = udp_socket(&sin);
	/* A high port that nothing else of this machine's tests is likely to hold. */
	for (unsigned i = 0; i < 200 && r == -EADDRINUSE; i++) {
		conf.port = (uint16_t)(20000 + (getpid() * 7 + i * 131) % 40000);
		r = dns_proxy_new(&e->proxy, &conf);
	}
	assert_int_equal(r, 0);
	e->proxy_sin = (struct sockaddr_in){ .sin_family = AF_INET,
					     .sin_port = htons(conf.port),
					     .sin_addr.s_addr = LOCALHOST };
	e->now_ms = 1000;
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;

	dns_proxy_free(e->proxy);
	close(e->up_udp[0]);
	close(e->up_udp[1]);
	close(e->up_tcp);
	close(e->client);
	free(e);
	return 0;
}

static bool readable(int fd, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	return poll(&pfd, 1, timeout_ms) == 1;
}

/* Runs the proxy until 'fd' is readable; false after half a second. */
static bool run_until(struct env *e, int fd)
{
	for (int i = 0; i < 50; i++) {
		assert_true(dns_proxy_handle(e->proxy, e->now_ms) >= 0);
		if (readable(fd, 0))
			return true;
		(void)readable(dns_proxy_fd(e->proxy), 10);
	}
	return false;
}

/* Runs the proxy a little and checks that 'fd' stays quiet. */
static bool quiet(struct env *e, int fd)
{
	for (int i = 0; i < 3; i++) {
		assert_true(dns_proxy_handle(e->proxy, e->now_ms) >= 0);
		if (readable(fd, 5))
			return false;
	}
	return true;
}

/* A query for 'name' (dotted) of 'qtype' with ID 'id' and RD; returns its length. */
static size_t mk_query(uint8_t *buf, uint16_t id, const char *name, uint16_t qtype)
{
	size_t n = 12;

	memset(buf, 0, 12);
	put_be16(buf, id);
	put_be16(buf + 2, DNS_FLAG_RD);
	put_be16(buf + 4, 1);
	while (*name) {
		size_t l = strcspn(name, ".");

		buf[n++] = (uint8_t)l;
		memcpy(buf + n, name, l);
		n += l;
		name += l + (name[l] == '.');
	}
	buf[n++] = 0;
	put_be16(buf + n, qtype);
	put_be16(buf + n + 2, DNS_CLASS_IN);
	return n + 4;
}

static void client_send(struct env *e, const uint8_t *msg, size_t len)
{
	assert_int_equal(sendto(e->client, msg, len, 0, (struct sockaddr *)&e->proxy_sin,
				sizeof(e->proxy_sin)),
			 (ssize_t)len);
}

static size_t client_recv(struct env *e, uint8_t *buf, size_t cap)
{
	ssize_t n;

	assert_true(run_until(e, e->client));
	n = recv(e->client, buf, cap, 0);
	assert_true(n >= 12);
	return (size_t)n;
}

/* The query the fake upstream 'i' received; its source goes to '*from'. */
static size_t upstream_recv(struct env *e, int i, uint8_t *buf, size_t cap,
			    struct sockaddr_storage *from)
{
	socklen_t from_len = sizeof(*from);
	ssize_t n;

	assert_true(run_until(e, e->up_udp[i]));
	n = recvfrom(e->up_udp[i], buf, cap, 0, (struct sockaddr *)from, &from_len);
	assert_true(n >= 12);
	return (size_t)n;
}

static struct dns_proxy_stats stats(struct env *e)
{
	struct dns_proxy_stats s;

	dns_proxy_get_stats(e->proxy, &s);
	return s;
}

static void test_forward_udp(void **state)
{
	struct env *e = *state;
	struct dns_reply ans = { .has_a = true, .addr_be = REMOTE_ADDR, .ttl_secs = 300 };
	uint8_t q[512], got[512], reply[512];
	struct sockaddr_storage from;
	struct dns_query pq;
	size_t qn = mk_query(q, 0xabcd, "www.example.com", DNS_TYPE_A), n;
	int rn;

	client_send(e, q, qn);
	n = upstream_recv(e, 0, got, sizeof(got), &from);
	assert_int_equal(n, qn);
	assert_memory_equal(got + 2, q + 2, qn - 2); /* verbatim but for the ID */

	/* A look-alike answer from the other upstream's port is not taken. */
	rn = dns_msg_build_reply(reply, sizeof(reply), got, n, &ans);
	assert_true(rn > 0);
	assert_int_equal(sendto(e->up_udp[1], reply, (size_t)rn, 0, (struct sockaddr *)&from,
				sizeof(struct sockaddr_in)),
			 rn);
	assert_true(quiet(e, e->client));
	assert_int_equal(stats(e).dropped, 1);

	/* The real one is, and reaches the client under the client's ID. */
	assert_int_equal(sendto(e->up_udp[0], reply, (size_t)rn, 0, (struct sockaddr *)&from,
				sizeof(struct sockaddr_in)),
			 rn);
	n = client_recv(e, got, sizeof(got));
	assert_int_equal(n, rn);
	assert_int_equal(dns_msg_id(got, n), 0xabcd);
	assert_memory_equal(got + 2, reply + 2, n - 2);
	assert_int_equal(dns_msg_parse(&pq, got, n), 0);
	assert_int_equal(pq.n_answers, 1);

	/* A second copy of the answer is late: dropped. */
	assert_int_equal(sendto(e->up_udp[0], reply, (size_t)rn, 0, (struct sockaddr *)&from,
				sizeof(struct sockaddr_in)),
			 rn);
	assert_true(quiet(e, e->client));
	assert_int_equal(stats(e).queries_udp, 1);
	assert_int_equal(stats(e).forwarded, 1);
	assert_int_equal(stats(e).dropped, 2);
	assert_int_equal(stats(e).local_answers, 0);
}

static void test_local_names(void **state)
{
	struct env *e = *state;
	uint8_t q[512], got[512];
	struct dns_query pq;
	size_t qn, n;

	/* '<host>.<domain>', any case: A from the lookup callback, authoritative, TTL 60. */
	qn = mk_query(q, 0x0101, "WEB1.lab.internal", DNS_TYPE_A);
	client_send(e, q, qn);
	n = client_recv(e, got, sizeof(got));
	assert_int_equal(n, qn + 16);
	assert_int_equal(get_be16(got), 0x0101);
	assert_int_equal(get_be16(got + 2),
			 DNS_FLAG_QR | DNS_FLAG_AA | DNS_FLAG_RD | DNS_FLAG_RA | DNS_RCODE_NOERROR);
	assert_memory_equal(got + qn, "\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04", 12);
	assert_memory_equal(got + qn + 12, "\xc0\xa8\x83\x28", 4);

	/* A bare host name too. */
	qn = mk_query(q, 0x0102, "web1", DNS_TYPE_A);
	client_send(e, q, qn);
	n = client_recv(e, got, sizeof(got));
	assert_int_equal(dns_msg_parse(&pq, got, n), 0);
	assert_int_equal(pq.n_answers, 1);
	assert_memory_equal(got + n - 4, "\xc0\xa8\x83\x28", 4);

	/* AAAA of a known name: NOERROR, no answer. */
	qn = mk_query(q, 0x0103, "web1.lab.internal", DNS_TYPE_AAAA);
	client_send(e, q, qn);
	n = client_recv(e, got, sizeof(got));
	assert_int_equal(n, qn);
	assert_int_equal(dns_msg_parse(&pq, got, n), 0);
	assert_int_equal(DNS_RCODE(pq.flags), DNS_RCODE_NOERROR);
	assert_int_equal(pq.n_answers, 0);

	/* Unknown under the domain, and deeper names: NXDOMAIN, never upstream. */
	qn = mk_query(q, 0x0104, "nobody.lab.internal", DNS_TYPE_A);
	client_send(e, q, qn);
	n = client_recv(e, got, sizeof(got));
	assert_int_equal(dns_msg_parse(&pq, got, n), 0);
	assert_int_equal(pq.id, 0x0104);
	assert_int_equal(DNS_RCODE(pq.flags), DNS_RCODE_NXDOMAIN);
	assert_true(pq.flags & DNS_FLAG_AA);
	qn = mk_query(q, 0x0105, "a.web1.lab.internal", DNS_TYPE_A);
	client_send(e, q, qn);
	n = client_recv(e, got, sizeof(got));
	assert_int_equal(dns_msg_parse(&pq, got, n), 0);
	assert_int_equal(DNS_RCODE(pq.flags), DNS_RCODE_NXDOMAIN);
	assert_true(quiet(e, e->up_udp[0]));
	assert_true(quiet(e, e->up_udp[1]));

	assert_int_equal(stats(e).queries_udp, 5);
	assert_int_equal(stats(e).local_answers, 5);
	assert_int_equal(stats(e).forwarded, 0);
	assert_int_equal(e->lookups, 4); /* the deeper name needs no lookup */
}

static void test_timeout_retry_servfail(void **state)
{
	struct env *e = *state;
	uint8_t q[512], got[512], first[512];
	struct sockaddr_storage from;
	struct dns_query pq;
	size_t qn = mk_query(q, 0x7777, "slow.example", DNS_TYPE_A), n, n1;

	client_send(e, q, qn);
	n1 = upstream_recv(e, 0, first, sizeof(first), &from);

	dns_proxy_tick(e->proxy, e->now_ms + 1000); /* not yet */
	assert_true(quiet(e, e->up_udp[1]));
	dns_proxy_tick(e->proxy, e->now_ms + DNS_PROXY_UPSTREAM_TIMEOUT_MS);
	n = upstream_recv(e, 1, got, sizeof(got), &from);
	assert_int_equal(n, n1);
	assert_memory_equal(got, first, n); /* the same query, same ID, to the next upstream */
	assert_true(quiet(e, e->client));

	dns_proxy_tick(e->proxy, e->now_ms + 2 * DNS_PROXY_UPSTREAM_TIMEOUT_MS);
	n = client_recv(e, got, sizeof(got));
	assert_int_equal(dns_msg_parse(&pq, got, n), 0);
	assert_int_equal(pq.id, 0x7777);
	assert_int_equal(DNS_RCODE(pq.flags), DNS_RCODE_SERVFAIL);
	assert_false(pq.flags & DNS_FLAG_AA);
	assert_string_equal(pq.name, "slow.example");
	assert_true(quiet(e, e->up_udp[0]));

	assert_int_equal(stats(e).forwarded, 2);
	assert_int_equal(stats(e).upstream_timeouts, 2);
	assert_int_equal(stats(e).servfail, 1);
}

/* With DNS_PROXY_INFLIGHT_MAX queries unanswered, the next one gets SERVFAIL at once. */
static void test_table_full(void **state)
{
	struct env *e = *state;
	uint8_t q[512], got[512];
	struct dns_query pq;
	size_t qn = mk_query(q, 0, "many.example", DNS_TYPE_A), n;

	for (unsigned i = 0; i < DNS_PROXY_INFLIGHT_MAX; i++) {
		put_be16(q, (uint16_t)i);
		client_send(e, q, qn);
		/* One at a time, so that no socket buffer of the way overflows. */
		while (stats(e).queries_udp < i + 1)
			assert_true(dns_proxy_handle(e->proxy, e->now_ms) >= 0);
	}
	assert_int_equal(stats(e).forwarded, DNS_PROXY_INFLIGHT_MAX);
	assert_true(quiet(e, e->client));
	put_be16(q, 0xffff);
	client_send(e, q, qn);
	n = client_recv(e, got, sizeof(got));
	assert_int_equal(dns_msg_parse(&pq, got, n), 0);
	assert_int_equal(pq.id, 0xffff);
	assert_int_equal(DNS_RCODE(pq.flags), DNS_RCODE_SERVFAIL);
	assert_int_equal(stats(e).servfail, 1);
	assert_int_equal(stats(e).forwarded, DNS_PROXY_INFLIGHT_MAX);

	/* All of them time out twice; the table is empty again afterwards. */
	dns_proxy_tick(e->proxy, e->now_ms + DNS_PROXY_UPSTREAM_TIMEOUT_MS);
	dns_proxy_tick(e->proxy, e->now_ms + 2 * DNS_PROXY_UPSTREAM_TIMEOUT_MS);
	assert_int_equal(stats(e).upstream_timeouts, 2 * DNS_PROXY_INFLIGHT_MAX);
	assert_int_equal(stats(e).servfail, 1 + DNS_PROXY_INFLIGHT_MAX);
	e->now_ms += 2 * DNS_PROXY_UPSTREAM_TIMEOUT_MS;
	qn = mk_query(q, 0x1111, "again.example", DNS_TYPE_A);
	client_send(e, q, qn);
	(void)upstream_recv(e, 0, got, sizeof(got), &(struct sockaddr_storage){ 0 });
}

static void test_malformed(void **state)
{
	struct env *e = *state;
	uint8_t q[512];
	size_t qn;

	client_send(e, (const uint8_t *)"\x01\x02\x03\x04\x05", 5);
	assert_true(quiet(e, e->client));
	/* A response sent to the proxy is no query. */
	qn = mk_query(q, 1, "example.com", DNS_TYPE_A);
	q[2] |= 0x80;
	client_send(e, q, qn);
	/* A pointer loop. */
	memcpy(q + 12, "\xc0\x0c\x00\x01\x00\x01", 6);
	q[2] &= 0x7f;
	client_send(e, q, 18);
	assert_true(quiet(e, e->client));
	assert_true(quiet(e, e->up_udp[0]));
	assert_int_equal(stats(e).malformed, 3);
	assert_int_equal(stats(e).queries_udp, 0);
}

static int tcp_client(struct env *e)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&e->proxy_sin, sizeof(e->proxy_sin)), 0);
	return fd;
}

/* Reads one framed message from 'fd' while running the proxy. */
static size_t tcp_recv_frame(struct env *e, int fd, uint8_t *buf, size_t cap)
{
	size_t have = 0, want = 2;

	while (have < want) {
		ssize_t n;

		assert_true(run_until(e, fd));
		n = recv(fd, buf + have, want - have, 0);
		assert_true(n > 0);
		have += (size_t)n;
		if (have == 2) {
			want = 2 + get_be16(buf);
			assert_true(want <= cap);
		}
	}
	return have;
}

static void test_tcp(void **state)
{
	struct env *e = *state;
	struct dns_reply ans = { .has_a = true, .addr_be = REMOTE_ADDR, .ttl_secs = 300 };
	uint8_t q[514], got[600], reply[600];
	struct dns_query pq;
	size_t qn, n;
	int c, up;

	c = tcp_client(e);
	qn = mk_query(q + 2, 0x4242, "tcp.example", DNS_TYPE_A);
	put_be16(q, (uint16_t)qn);
	/* The frame arrives in two pieces, the length itself split. */
	assert_int_equal(send(c, q, 1, 0), 1);
	assert_true(quiet(e, e->up_tcp));
	assert_int_equal(send(c, q + 1, qn + 1, 0), (ssize_t)qn + 1);

	assert_true(run_until(e, e->up_tcp));
	up = accept(e->up_tcp, NULL, NULL);
	assert_true(up >= 0);
	n = tcp_recv_frame(e, up, got, sizeof(got));
	assert_int_equal(n, qn + 2);
	assert_memory_equal(got, q, qn + 2); /* the frame verbatim, ID included */

	n = (size_t)dns_msg_build_reply(reply + 2, sizeof(reply) - 2, got + 2, n - 2, &ans);
	put_be16(reply, (uint16_t)n);
	assert_int_equal(send(up, reply, n + 2, 0), (ssize_t)n + 2);
	n = tcp_recv_frame(e, c, got, sizeof(got));
	assert_int_equal(n, get_be16(reply) + 2);
	assert_memory_equal(got, reply, n);
	assert_int_equal(get_be16(got + 2), 0x4242);
	close(up);

	/* The next query on the same connection is local. */
	qn = mk_query(q + 2, 0x4343, "web1.lab.internal", DNS_TYPE_A);
	put_be16(q, (uint16_t)qn);
	assert_int_equal(send(c, q, qn + 2, 0), (ssize_t)qn + 2);
	n = tcp_recv_frame(e, c, got, sizeof(got));
	assert_int_equal(dns_msg_parse(&pq, got + 2, n - 2), 0);
	assert_int_equal(pq.id, 0x4343);
	assert_int_equal(pq.n_answers, 1);
	assert_memory_equal(got + n - 4, "\xc0\xa8\x83\x28", 4);

	/* A frame too short for a header: that connection closes, and only it. */
	assert_int_equal(send(c, "\x00\x03\x01\x02\x03", 5, 0), 5);
	assert_true(run_until(e, c));
	/* Closed with the body unread, so the kernel may send a reset instead of FIN. */
	n = (size_t)recv(c, got, sizeof(got), 0);
	assert_true(n == 0 || (n == (size_t)-1 && errno == ECONNRESET));
	close(c);

	assert_int_equal(stats(e).queries_tcp, 2);
	assert_int_equal(stats(e).forwarded, 1);
	assert_int_equal(stats(e).local_answers, 1);
	assert_int_equal(stats(e).malformed, 1);

	/* A connection that says nothing is closed after the idle time. */
	c = tcp_client(e);
	assert_true(quiet(e, c));
	dns_proxy_tick(e->proxy, e->now_ms + DNS_PROXY_TCP_IDLE_MS);
	assert_true(readable(c, 100));
	assert_int_equal(recv(c, got, sizeof(got), 0), 0);
	close(c);
}

static void test_tcp_upstream_down(void **state)
{
	struct env *e = *state;
	uint8_t q[514], got[600];
	struct dns_query pq;
	size_t qn, n;
	int c;

	/* Nobody listens on TCP at either upstream now: both attempts fail, SERVFAIL. */
	close(e->up_tcp);
	e->up_tcp = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	c = tcp_client(e);
	qn = mk_query(q + 2, 0x5151, "down.example", DNS_TYPE_A);
	put_be16(q, (uint16_t)qn);
	assert_int_equal(send(c, q, qn + 2, 0), (ssize_t)qn + 2);
	n = tcp_recv_frame(e, c, got, sizeof(got));
	assert_int_equal(dns_msg_parse(&pq, got + 2, n - 2), 0);
	assert_int_equal(pq.id, 0x5151);
	assert_int_equal(DNS_RCODE(pq.flags), DNS_RCODE_SERVFAIL);
	assert_int_equal(stats(e).forwarded, 2);
	assert_int_equal(stats(e).servfail, 1);
	close(c);
}

static void test_conf_errors(void **state)
{
	struct env *e = *state;
	struct sockaddr_storage bad = { .ss_family = AF_UNIX };
	struct sockaddr_in self = e->proxy_sin;
	struct dns_proxy_conf conf = { .listen_be = LOCALHOST, .port = 1, .n_upstreams = 1 };
	struct dns_proxy *p = (struct dns_proxy *)&conf; /* must stay untouched */

	conf.upstreams = &bad;
	assert_int_equal(dns_proxy_new(&p, &conf), -EINVAL);
	memset(&bad, 0, sizeof(bad));
	self.sin_port = htons(1);
	memcpy(&bad, &self, sizeof(self));
	assert_int_equal(dns_proxy_new(&p, &conf), -ELOOP);
	conf.n_upstreams = DNS_PROXY_UPSTREAMS_MAX + 1;
	assert_int_equal(dns_proxy_new(&p, &conf), -EINVAL);
	assert_ptr_equal(p, (struct dns_proxy *)&conf);
	/* The address and port are taken by the proxy of the fixture. */
	conf.n_upstreams = 0;
	conf.port = ntohs(e->proxy_sin.sin_port);
	assert_int_equal(dns_proxy_new(&p, &conf), -EADDRINUSE);
	assert_ptr_equal(p, (struct dns_proxy *)&conf);
	dns_proxy_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_forward_udp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_local_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeout_retry_servfail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_table_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tcp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tcp_upstream_down, setup, teardown),
		cmocka_unit_test_setup_teardown(test_conf_errors, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the DNS wire codec (nat/dns_msg.c): queries laid out byte by
 * byte as RFC 1035 §4 draws them, compression pointers (valid, looping,
 * forward), length limits, golden bytes of built replies and round trips.
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
#include "nat/dns_msg.h"

/* www.Example.com A IN, ID 0x1234, RD. */
static const uint8_t q_a[] = {
	0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* header */
	3,    'w',  'w',  'w',	7,    'E',  'x',  'a',	'm',  'p',  'l',  'e',
	3,    'c',  'o',  'm',	0,    0x00, 0x01, 0x00, 0x01,
};

/* ipv6.example AAAA IN, ID 0xbeef, RD + AD, with an EDNS OPT record (4096, DO). */
static const uint8_t q_aaaa_edns[] = {
	0xbe, 0xef, 0x01, 0x20, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 4,    'i',
	'p',  'v',  '6',  7,	'e',  'x',  'a',  'm',	'p',  'l',  'e',  0,	0x00, 0x1c,
	0x00, 0x01, 0x00, 0x00, 0x29, 0x10, 0x00, 0x00, 0x00, 0x80, 0x00, 0x00, 0x00,
};

static struct dns_query q;

static void test_parse_a(void **state)
{
	(void)state;
	assert_int_equal(dns_msg_parse(&q, q_a, sizeof(q_a)), 0);
	assert_int_equal(q.id, 0x1234);
	assert_int_equal(q.flags, DNS_FLAG_RD);
	assert_int_equal(q.n_questions, 1);
	assert_int_equal(q.n_answers, 0);
	assert_int_equal(q.n_authority, 0);
	assert_int_equal(q.n_additional, 0);
	assert_string_equal(q.name, "www.example.com");
	assert_true(q.is_name_plain);
	assert_int_equal(q.qtype, DNS_TYPE_A);
	assert_int_equal(q.qclass, DNS_CLASS_IN);
	assert_int_equal(q.end, sizeof(q_a));
	assert_false(dns_msg_is_response(q_a, sizeof(q_a)));
}

static void test_parse_edns(void **state)
{
	(void)state;
	assert_int_equal(dns_msg_parse(&q, q_aaaa_edns, sizeof(q_aaaa_edns)), 0);
	assert_int_equal(q.id, 0xbeef);
	assert_int_equal(q.flags, DNS_FLAG_RD | DNS_FLAG_AD);
	assert_int_equal(q.n_additional, 1);
	assert_string_equal(q.name, "ipv6.example");
	assert_int_equal(q.qtype, DNS_TYPE_AAAA);
	assert_int_equal(q.end, 12 + 14 + 4); /* the OPT record is not read */
}

static void test_parse_root_and_pointer(void **state)
{
	uint8_t m[] = { 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 1 };
	/* "a" then a pointer to offset 11, a zero byte of the header: the name "a". */
	uint8_t p[] = { 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 'a', 0xc0, 11, 0, 1, 0, 1 };

	(void)state;
	assert_int_equal(dns_msg_parse(&q, m, sizeof(m)), 0);
	assert_string_equal(q.name, "");
	assert_int_equal(q.qtype, 2);
	assert_int_equal(dns_msg_parse(&q, p, sizeof(p)), 0);
	assert_string_equal(q.name, "a");
	assert_int_equal(q.end, sizeof(p)); /* the question ends after the pointer */
}

static void test_pointer_loops(void **state)
{
	/* The question's name points at itself. */
	uint8_t self[] = { 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1 };
	/* A label, then back to its own start. */
	uint8_t label[] = { 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 'a', 0xc0, 12, 0, 1, 0, 1 };
	/* Forward, to a name after the question. */
	uint8_t fwd[] = { 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 18, 0, 1, 0, 1, 0 };
	/* Into the header, where QDCOUNT 0xc004 is itself a pointer to offset 4. */
	uint8_t hdr[] = { 0, 1, 0, 0, 0xc0, 4, 0, 0, 0, 0, 0, 0, 0xc0, 4, 0, 1, 0, 1 };
	/* Two pointers in a row, the second not below the first. */
	uint8_t up[] = { 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0xc0, 11, 0xc0, 10, 0, 1, 0, 1 };
	/* A pointer cut after its first byte. */
	uint8_t cut[] = { 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 'a', 0xc0 };

	(void)state;
	assert_int_equal(dns_msg_parse(&q, self, sizeof(self)), -EBADMSG);
	assert_int_equal(dns_msg_parse(&q, label, sizeof(label)), -EBADMSG);
	assert_int_equal(dns_msg_parse(&q, fwd, sizeof(fwd)), -EBADMSG);
	assert_int_equal(dns_msg_parse(&q, hdr, sizeof(hdr)), -EBADMSG);
	assert_int_equal(dns_msg_parse(&q, up, sizeof(up)), -EBADMSG);
	assert_int_equal(dns_msg_parse(&q, cut, sizeof(cut)), -EBADMSG);
}

/* A query whose name has labels of the lengths in 'lens' (0-terminated), each of 'x'. */
static size_t mk_name(uint8_t *buf, const unsigned *lens)
{
	size_t n = 12;

	memset(buf, 0, 12);
	buf[5] = 1;
	for (; *lens; lens++) {
		buf[n++] = (uint8_t)*lens;
		memset(buf + n, 'x', *lens);
		n += *lens;
	}
	buf[n++] = 0;
	put_be16(buf + n, 1);
	put_be16(buf + n + 2, 1);
	return n + 4;
}

static void test_length_limits(void **state)
{
	static const unsigned max[] = { 63, 63, 63, 61, 0 };  /* 255 octets: the longest */
	static const unsigned over[] = { 63, 63, 63, 62, 0 }; /* 256 octets */
	static const unsigned label64[] = { 64, 0 };	      /* 0x40: a reserved label type */
	static const unsigned label128[] = { 0x80 | 1, 0 };   /* 0x80: reserved too */
	uint8_t buf[600];
	size_t n;

	(void)state;
	n = mk_name(buf, max);
	assert_int_equal(dns_msg_parse(&q, buf, n), 0);
	assert_int_equal(strlen(q.name), DNS_NAME_MAX);
	n = mk_name(buf, over);
	assert_int_equal(dns_msg_parse(&q, buf, n), -EBADMSG);
	n = mk_name(buf, label64);
	assert_int_equal(dns_msg_parse(&q, buf, n), -EBADMSG);
	n = mk_name(buf, label128);
	assert_int_equal(dns_msg_parse(&q, buf, n), -EBADMSG);
}

static void test_truncated(void **state)
{
	uint8_t no_q[12] = { 0, 1, 0, 0, 0, 0 };

	(void)state;
	assert_int_equal(dns_msg_parse(&q, q_a, 11), -EBADMSG);
	assert_int_equal(dns_msg_parse(&q, q_a, 12), -EBADMSG);
	for (size_t n = 12; n < sizeof(q_a); n++)
		assert_int_equal(dns_msg_parse(&q, q_a, n), -EBADMSG);
	assert_int_equal(dns_msg_parse(&q, no_q, sizeof(no_q)), -EBADMSG); /* QDCOUNT 0 */
	assert_int_equal(dns_msg_parse(&q, NULL, 0), -EBADMSG);
}

static void test_not_plain(void **state)
{
	uint8_t m[] = { 0, 1,	0,   0,	  0, 1,	  0, 0, 0, 0, 0, 0,
			3, 'a', '.', 'b', 1, 'C', 0, 0, 0, 1, 0, 1 };

	(void)state;
	assert_int_equal(dns_msg_parse(&q, m, sizeof(m)), 0);
	assert_string_equal(q.name, "a?b.c");
	assert_false(q.is_name_plain);
	m[14] = 0; /* a NUL inside a label */
	assert_int_equal(dns_msg_parse(&q, m, sizeof(m)), 0);
	assert_string_equal(q.name, "a?b.c");
	assert_false(q.is_name_plain);
}

static void test_build_golden(void **state)
{
	struct dns_reply r = { .rcode = DNS_RCODE_NOERROR,
			       .is_authoritative = true,
			       .has_a = true,
			       .addr_be = htobe32(0xc0a88328),
			       .ttl_secs = 60 };
	static const uint8_t want[] = {
		0x12, 0x34, 0x85, 0x80, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 3,
		'w',  'w',  'w',  7,	'E',  'x',  'a',  'm',	'p',  'l',  'e',  3,	'c',
		'o',  'm',  0,	  0x00, 0x01, 0x00, 0x01, 0xc0, 0x0c, 0x00, 0x01, 0x00, 0x01,
		0x00, 0x00, 0x00, 0x3c, 0x00, 0x04, 0xc0, 0xa8, 0x83, 0x28,
	};
	uint8_t buf[512];

	(void)state;
	memset(buf, 0xee, sizeof(buf));
	assert_int_equal(dns_msg_build_reply(buf, sizeof(buf), q_a, sizeof(q_a), &r), sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	assert_int_equal(buf[sizeof(want)], 0xee);
	assert_true(dns_msg_is_response(buf, sizeof(want)));

	/* Round trip: the reply parses back to the same question. */
	assert_int_equal(dns_msg_parse(&q, buf, sizeof(want)), 0);
	assert_int_equal(q.id, 0x1234);
	assert_int_equal(q.flags, DNS_FLAG_QR | DNS_FLAG_AA | DNS_FLAG_RD | DNS_FLAG_RA);
	assert_int_equal(q.n_answers, 1);
	assert_string_equal(q.name, "www.example.com");

	/* Exactly enough room, then one byte less. */
	assert_int_equal(dns_msg_build_reply(buf, sizeof(want), q_a, sizeof(q_a), &r),
			 sizeof(want));
	assert_int_equal(dns_msg_build_reply(buf, sizeof(want) - 1, q_a, sizeof(q_a), &r),
			 -EMSGSIZE);
}

static void test_build_edns_and_errors(void **state)
{
	struct dns_reply r = { .rcode = DNS_RCODE_SERVFAIL };
	uint8_t buf[512];
	int n;

	(void)state;
	n = dns_msg_build_reply(buf, sizeof(buf), q_aaaa_edns, sizeof(q_aaaa_edns), &r);
	assert_int_equal(n, 12 + 14 + 4); /* the OPT record is left out */
	assert_memory_equal(buf, "\xbe\xef\x81\x82\x00\x01\x00\x00\x00\x00\x00\x00", 12);
	assert_memory_equal(buf + 12, q_aaaa_edns + 12, 18);

	assert_int_equal(dns_msg_build_reply(buf, sizeof(buf), q_a, 20, &r), -EBADMSG);
	assert_int_equal(dns_msg_build_reply(buf, 11, q_a, sizeof(q_a), &r), -EMSGSIZE);
}

/* A query whose name is compressed into the header: the reply carries it spelled out. */
static void test_build_decompresses(void **state)
{
	uint8_t m[] = { 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 'H', 0xc0, 11, 0, 1, 0, 1 };
	struct dns_reply r = { .rcode = DNS_RCODE_NXDOMAIN, .is_authoritative = true };
	uint8_t buf[64];

	(void)state;
	assert_int_equal(dns_msg_build_reply(buf, sizeof(buf), m, sizeof(m), &r), 12 + 3 + 4);
	assert_memory_equal(buf, "\x00\x01\x84\x83\x00\x01\x00\x00\x00\x00\x00\x00", 12);
	assert_memory_equal(buf + 12, "\x01H\x00\x00\x01\x00\x01", 7);
}

static void test_id_helpers(void **state)
{
	uint8_t m[sizeof(q_a)];

	(void)state;
	memcpy(m, q_a, sizeof(m));
	assert_int_equal(dns_msg_id(m, sizeof(m)), 0x1234);
	assert_int_equal(dns_msg_id(m, 11), -EBADMSG);
	assert_int_equal(dns_msg_set_id(m, sizeof(m), 0xfedc), 0);
	assert_int_equal(dns_msg_id(m, sizeof(m)), 0xfedc);
	assert_int_equal(m[0], 0xfe);
	assert_int_equal(dns_msg_set_id(m, 11, 1), -EBADMSG);
	assert_false(dns_msg_is_response(m, sizeof(m)));
	m[2] |= 0x80;
	assert_true(dns_msg_is_response(m, sizeof(m)));
	assert_false(dns_msg_is_response(m, 11));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_a),
		cmocka_unit_test(test_parse_edns),
		cmocka_unit_test(test_parse_root_and_pointer),
		cmocka_unit_test(test_pointer_loops),
		cmocka_unit_test(test_length_limits),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_not_plain),
		cmocka_unit_test(test_build_golden),
		cmocka_unit_test(test_build_edns_and_errors),
		cmocka_unit_test(test_build_decompresses),
		cmocka_unit_test(test_id_helpers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the DHCP wire codec (dhcpd/dhcp_msg.c): golden bytes of a
 * built reply, build/parse round trips, RFC 3396 splitting and merging,
 * option overload (52), and exact errors for malformed input.
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
#include "dhcpd/dhcp_msg.h"

static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
static struct dhcp_msg msg; /* big: keep it off the stack */

/* A BOOTREQUEST with 'opts' after the cookie; returns its length. */
static size_t mk(uint8_t *buf, const uint8_t *opts, size_t opts_len)
{
	memset(buf, 0, DHCP_MSG_MIN_LEN);
	buf[0] = 1;
	buf[1] = 1;
	buf[2] = 6;
	put_be32(buf + 4, 0x12345678);
	memcpy(buf + 28, mac, 6);
	put_be32(buf + 236, DHCP_MAGIC_COOKIE);
	memcpy(buf + 240, opts, opts_len);
	return DHCP_MSG_MIN_LEN + opts_len;
}

static void test_parse_discover(void **state)
{
	static const uint8_t opts[] = { 53, 1, 1, 61, 7, 1,  0x52, 0x54, 0x00, 0x12, 0x34, 0x56,
					55, 4, 1, 3,  6, 15, 57,   2,	 0x05, 0xdc, 255 };
	uint8_t buf[600];
	size_t n = mk(buf, opts, sizeof(opts)), len;
	const uint8_t *p;

	(void)state;
	assert_int_equal(dhcp_msg_parse(&msg, buf, n), 0);
	assert_int_equal(msg.hdr.op, 1);
	assert_int_equal(msg.hdr.xid, 0x12345678);
	assert_memory_equal(msg.hdr.chaddr, mac, 6);
	assert_int_equal(msg.type, DHCP_DISCOVER);
	assert_true(dhcp_msg_has(&msg, DHCP_OPT_PARAM_LIST));
	assert_false(dhcp_msg_has(&msg, DHCP_OPT_REQ_ADDR));
	p = dhcp_msg_opt(&msg, DHCP_OPT_PARAM_LIST, &len);
	assert_non_null(p);
	assert_int_equal(len, 4);
	assert_memory_equal(p, "\x01\x03\x06\x0f", 4);
	p = dhcp_msg_opt(&msg, DHCP_OPT_CLIENT_ID, &len);
	assert_int_equal(len, 7);
	assert_int_equal(p[0], 1);
	assert_null(dhcp_msg_opt(&msg, DHCP_OPT_HOSTNAME, &len));
	assert_int_equal(dhcp_msg_opt_be32(&msg, DHCP_OPT_SERVER_ID), 0);
}

/* An OFFER built byte for byte as RFC 2131 Figure 1 lays it out. */
static void test_build_golden(void **state)
{
	struct dhcp_hdr h = { .op = 2, .htype = 1, .hlen = 6, .xid = 0xdeadbeef, .flags = 0x8000 };
	uint8_t buf[400], want[300];
	struct dhcp_build b;
	uint8_t type = DHCP_OFFER;
	uint32_t yi = htobe32(0xc0a88310), sid = htobe32(0xc0a88302);

	(void)state;
	memcpy(&h.yiaddr_be, &yi, 4);
	memcpy(h.chaddr, mac, 6);
	memset(buf, 0xee, sizeof(buf));
	assert_int_equal(dhcp_build_init(&b, buf, sizeof(buf), &h), 0);
	assert_int_equal(dhcp_build_opt(&b, DHCP_OPT_MSG_TYPE, &type, 1), 0);
	assert_int_equal(dhcp_build_opt(&b, DHCP_OPT_SERVER_ID, &sid, 4), 0);
	assert_int_equal(dhcp_build_finish(&b), 300);

	memset(want, 0, sizeof(want));
	memcpy(want, "\x02\x01\x06\x00\xde\xad\xbe\xef\x00\x00\x80\x00", 12);
	memcpy(want + 16, "\xc0\xa8\x83\x10", 4);
	memcpy(want + 28, mac, 6);
	memcpy(want + 236, "\x63\x82\x53\x63", 4);
	memcpy(want + 240, "\x35\x01\x02\x36\x04\xc0\xa8\x83\x02\xff", 10);
	assert_memory_equal(buf, want, 300);
	assert_int_equal(buf[300], 0xee); /* nothing past the message */
}

static void test_round_trip(void **state)
{
	struct dhcp_hdr h = { .op = 1, .htype = 1, .hlen = 6, .xid = 7, .secs = 3 };
	uint8_t buf[1500], big[600], type = DHCP_REQUEST;
	struct dhcp_build b;
	uint32_t req = htobe32(0x0a000010);
	const uint8_t *p;
	size_t n, len;

	(void)state;
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)i;
	h.ciaddr_be = htobe32(0x0a000005);
	h.giaddr_be = htobe32(0x0a000001);
	memcpy(h.chaddr, mac, 6);
	assert_int_equal(dhcp_build_init(&b, buf, sizeof(buf), &h), 0);
	assert_int_equal(dhcp_build_opt(&b, DHCP_OPT_MSG_TYPE, &type, 1), 0);
	assert_int_equal(dhcp_build_opt(&b, DHCP_OPT_REQ_ADDR, &req, 4), 0);
	/* RFC 3396 §5: 600 bytes travel as 255 + 255 + 90. */
	assert_int_equal(dhcp_build_opt(&b, 224, big, sizeof(big)), 0);
	assert_int_equal(dhcp_build_opt(&b, DHCP_OPT_RAPID_COMMIT, NULL, 0), 0);
	n = dhcp_build_finish(&b);
	assert_int_equal(n, 240 + 3 + 6 + 600 + 6 + 2 + 1);
	assert_int_equal(buf[249], 224);
	assert_int_equal(buf[250], 255);
	assert_int_equal(buf[249 + 257], 224);
	assert_int_equal(buf[249 + 514 + 1], 90);

	assert_int_equal(dhcp_msg_parse(&msg, buf, n), 0);
	assert_int_equal(msg.hdr.op, 1);
	assert_int_equal(msg.hdr.xid, 7);
	assert_int_equal(msg.hdr.secs, 3);
	assert_int_equal(msg.hdr.ciaddr_be, htobe32(0x0a000005));
	assert_int_equal(msg.hdr.giaddr_be, htobe32(0x0a000001));
	assert_int_equal(msg.type, DHCP_REQUEST);
	assert_int_equal(dhcp_msg_opt_be32(&msg, DHCP_OPT_REQ_ADDR), req);
	p = dhcp_msg_opt(&msg, 224, &len);
	assert_int_equal(len, sizeof(big));
	assert_memory_equal(p, big, sizeof(big));
	assert_true(dhcp_msg_has(&msg, DHCP_OPT_RAPID_COMMIT));
	p = dhcp_msg_opt(&msg, DHCP_OPT_RAPID_COMMIT, &len);
	assert_non_null(p);
	assert_int_equal(len, 0);
}

/* Repeated instances are concatenated in the order options -> file -> sname. */
static void test_overload_and_split(void **state)
{
	static const uint8_t opts[] = { 53, 1, 3, 52, 1, 3, 12, 3, 'a', 'b', 'c', 255 };
	uint8_t buf[600];
	size_t n = mk(buf, opts, sizeof(opts)), len;
	const uint8_t *p;

	(void)state;
	/* file (offset 108): more hostname, then a domain; sname (offset 44): more hostname. */
	memcpy(buf + 108,
	       "\x0c\x02"
	       "de"
	       "\x0f\x03"
	       "lab"
	       "\xff",
	       10);
	memcpy(buf + 44,
	       "\x00\x0c\x01"
	       "f"
	       "\xff",
	       5);
	assert_int_equal(dhcp_msg_parse(&msg, buf, n), 0);
	assert_int_equal(msg.overload, 3);
	p = dhcp_msg_opt(&msg, DHCP_OPT_HOSTNAME, &len);
	assert_int_equal(len, 6);
	assert_memory_equal(p, "abcdef", 6);
	p = dhcp_msg_opt(&msg, DHCP_OPT_DOMAIN, &len);
	assert_int_equal(len, 3);
	assert_memory_equal(p, "lab", 3);

	/* Overload 1 reads only 'file'. */
	buf[245] = 1;
	assert_int_equal(dhcp_msg_parse(&msg, buf, n), 0);
	p = dhcp_msg_opt(&msg, DHCP_OPT_HOSTNAME, &len);
	assert_int_equal(len, 5);
	/* Without overload, file and sname are not options. */
	n = mk(buf, (const uint8_t *)"\x35\x01\x03\xff", 4);
	memcpy(buf + 108,
	       "\x0c\x02"
	       "de"
	       "\xff",
	       5);
	assert_int_equal(dhcp_msg_parse(&msg, buf, n), 0);
	assert_false(dhcp_msg_has(&msg, DHCP_OPT_HOSTNAME));
}

static void test_no_end_option(void **state)
{
	static const uint8_t opts[] = { 53, 1, 1, 0, 0 };
	uint8_t buf[300];
	size_t n = mk(buf, opts, sizeof(opts));

	(void)state;
	assert_int_equal(dhcp_msg_parse(&msg, buf, n), 0);
	assert_int_equal(msg.type, DHCP_DISCOVER);
	/* Bytes after the end option are ignored. */
	n = mk(buf, (const uint8_t *)"\x35\x01\x01\xff\x07", 5);
	assert_int_equal(dhcp_msg_parse(&msg, buf, n), 0);
}

static void expect_bad(const uint8_t *opts, size_t len, int err)
{
	uint8_t buf[700];
	size_t n = mk(buf, opts, len);

	assert_int_equal(dhcp_msg_parse(&msg, buf, n), err);
}

static void test_malformed(void **state)
{
	uint8_t buf[DHCP_MSG_MAX_LEN + 1];
	size_t n;

	(void)state;
	n = mk(buf, (const uint8_t *)"\x35\x01\x01\xff", 4);
	assert_int_equal(dhcp_msg_parse(&msg, buf, 239), -EBADMSG);
	assert_int_equal(dhcp_msg_parse(&msg, buf, 0), -EBADMSG);
	buf[236] = 0x64; /* cookie */
	assert_int_equal(dhcp_msg_parse(&msg, buf, n), -EBADMSG);
	n = mk(buf, (const uint8_t *)"\x35\x01\x01\xff", 4);
	buf[2] = 17; /* hlen */
	assert_int_equal(dhcp_msg_parse(&msg, buf, n), -EBADMSG);

	expect_bad((const uint8_t *)"\x35\x05\x01", 3, -EBADMSG);	  /* runs past the end */
	expect_bad((const uint8_t *)"\x35", 1, -EBADMSG);		  /* no length byte */
	expect_bad((const uint8_t *)"\x35\x02\x01\x01\xff", 5, -EBADMSG); /* 53 is 1 byte */
	expect_bad((const uint8_t *)"\x32\x03\x0a\x00\x00\xff", 6, -EBADMSG); /* 50 is 4 */
	expect_bad((const uint8_t *)"\x37\x00\xff", 3, -EBADMSG);	      /* 55 empty */
	expect_bad((const uint8_t *)"\x03\x06\x01\x02\x03\x04\x05\x06\xff", 9, -EBADMSG);
	expect_bad((const uint8_t *)"\x3d\x01\x01\xff", 4, -EBADMSG); /* 61 min 2 */
	expect_bad((const uint8_t *)"\x50\x01\x00\xff", 4, -EBADMSG); /* 80 is empty */
	expect_bad((const uint8_t *)"\x34\x01\x04\xff", 4, -EBADMSG); /* 52 is 1..3 */
	expect_bad((const uint8_t *)"\x34\x02\x01\x01\xff", 5, -EBADMSG);
	expect_bad((const uint8_t *)"\x39\x01\x05\xff", 4, -EBADMSG); /* 57 is 2 */

	/* An option may not straddle 'file' and the next region. */
	n = mk(buf, (const uint8_t *)"\x34\x01\x01\xff", 4);
	buf[108 + 126] = 12;
	buf[108 + 127] = 5;
	assert_int_equal(dhcp_msg_parse(&msg, buf, n), -EBADMSG);

	/* Too long, too many options. */
	n = mk(buf, (const uint8_t *)"", 0);
	memset(buf + n, 0, sizeof(buf) - n);
	assert_int_equal(dhcp_msg_parse(&msg, buf, DHCP_MSG_MAX_LEN + 1), -EMSGSIZE);
	for (size_t i = 0; i <= DHCP_MSG_OPTS_MAX; i++) {
		buf[240 + 2 * i] = 224;
		buf[240 + 2 * i + 1] = 0;
	}
	assert_int_equal(dhcp_msg_parse(&msg, buf, 240 + 2 * (DHCP_MSG_OPTS_MAX + 1)), -E2BIG);
	assert_int_equal(dhcp_msg_parse(&msg, buf, 240 + 2 * DHCP_MSG_OPTS_MAX), 0);
}

static void test_build_limits(void **state)
{
	struct dhcp_hdr h = { .op = 2 };
	uint8_t buf[400], data[300] = { 0 };
	struct dhcp_build b;
	size_t before;

	(void)state;
	assert_int_equal(dhcp_build_init(&b, buf, 299, &h), -EMSGSIZE);
	assert_int_equal(dhcp_build_init(&b, buf, 300, &h), 0);
	assert_int_equal(dhcp_build_opt(&b, DHCP_OPT_PAD, data, 1), -EINVAL);
	assert_int_equal(dhcp_build_opt(&b, DHCP_OPT_END, data, 1), -EINVAL);
	/* 300 - 240 = 60 bytes: 57 of data + 2 header + 1 end. */
	assert_false(dhcp_build_fits(&b, 58));
	assert_true(dhcp_build_fits(&b, 57));
	before = b.len;
	assert_int_equal(dhcp_build_opt(&b, 224, data, 58), -EMSGSIZE);
	assert_int_equal(b.len, before);
	assert_int_equal(dhcp_build_opt(&b, 224, data, 57), 0);
	assert_int_equal(dhcp_build_finish(&b), 300);
	assert_int_equal(buf[299], DHCP_OPT_END);
}

/* Options that do not fit the options field spill into 'file', then 'sname'. */
static void test_build_overload(void **state)
{
	struct dhcp_hdr h = { .op = 2, .htype = 1, .hlen = 6 };
	uint8_t buf[300], data[100];
	struct dhcp_build b;
	const uint8_t *p;
	size_t len;

	(void)state;
	memset(data, 0x5a, sizeof(data));
	assert_int_equal(dhcp_build_init(&b, buf, sizeof(buf), &h), 0);
	/* Without permission nothing spills. */
	assert_int_equal(dhcp_build_opt(&b, 224, data, 50), 0);
	assert_int_equal(dhcp_build_opt(&b, 225, data, 20), -EMSGSIZE);
	dhcp_build_allow_overload(&b);
	assert_int_equal(dhcp_build_opt(&b, 225, data, 100), 0); /* into 'file' */
	assert_int_equal(dhcp_build_opt(&b, 226, data, 40), 0);	 /* 'file' full: 'sname' */
	assert_int_equal(dhcp_build_opt(&b, 227, data, 100), -EMSGSIZE);
	assert_int_equal(dhcp_build_opt(&b, 228, data, 2), 0); /* still fits the options field */
	assert_int_equal(dhcp_build_finish(&b), 300);
	/* Option 52 = 3 after the first option, each region closed by an end option. */
	assert_memory_equal(buf + 240 + 52, "\x34\x01\x03", 3);
	assert_int_equal(buf[108], 225);
	assert_int_equal(buf[109], 100);
	assert_int_equal(buf[108 + 102], 255);
	assert_int_equal(buf[44], 226);
	assert_int_equal(buf[44 + 42], 255);

	assert_int_equal(dhcp_msg_parse(&msg, buf, 300), 0);
	assert_int_equal(msg.overload, 3);
	for (uint8_t code = 224; code <= 228; code++) {
		static const size_t want[] = { 50, 100, 40, 0, 2 };

		p = dhcp_msg_opt(&msg, code, &len);
		if (code == 227) {
			assert_null(p);
			continue;
		}
		assert_non_null(p);
		assert_int_equal(len, want[code - 224]);
		assert_memory_equal(p, data, len);
	}

	/* Only 'file' used: 52 = 1. */
	assert_int_equal(dhcp_build_init(&b, buf, sizeof(buf), &h), 0);
	dhcp_build_allow_overload(&b);
	assert_int_equal(dhcp_build_opt(&b, 224, data, 80), 0);
	assert_int_equal(dhcp_build_finish(&b), 300);
	assert_int_equal(dhcp_msg_parse(&msg, buf, 300), 0);
	assert_int_equal(msg.overload, 1);
	p = dhcp_msg_opt(&msg, 224, &len);
	assert_int_equal(len, 80);
}

static void test_type_names(void **state)
{
	(void)state;
	assert_string_equal(dhcp_msg_type_name(DHCP_DISCOVER), "DISCOVER");
	assert_string_equal(dhcp_msg_type_name(DHCP_INFORM), "INFORM");
	assert_string_equal(dhcp_msg_type_name(0), "unknown");
	assert_string_equal(dhcp_msg_type_name(99), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_discover), cmocka_unit_test(test_build_golden),
		cmocka_unit_test(test_round_trip),     cmocka_unit_test(test_overload_and_split),
		cmocka_unit_test(test_no_end_option),  cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_build_limits),   cmocka_unit_test(test_build_overload),
		cmocka_unit_test(test_type_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

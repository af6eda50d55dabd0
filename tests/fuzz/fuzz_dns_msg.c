/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the DNS wire codec (nat/dns_msg.c). Each input is
 * parsed as a message; when it parses, replies are built from it (with and
 * without an A record, into a roomy and a tight buffer), and every reply
 * must parse back to the same question and ID. The ID helpers run on every
 * input. Seeds: tests/fuzz/corpus/dns/ (queries for A and AAAA, one with an
 * EDNS OPT record, one whose name is compressed, one with two questions).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nat/dns_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct dns_query q, back;
static uint8_t reply[512];

static void check(const uint8_t *data, size_t size, const struct dns_reply *r, size_t cap)
{
	int n = dns_msg_build_reply(reply, cap, data, size, r);

	if (n == -EMSGSIZE)
		return;
	if (n < 12 || (size_t)n > cap)
		abort();
	if (dns_msg_parse(&back, reply, (size_t)n) || back.id != q.id ||
	    strcmp(back.name, q.name) || back.qtype != q.qtype || back.qclass != q.qclass ||
	    back.n_answers != (r->has_a ? 1 : 0) || !dns_msg_is_response(reply, (size_t)n) ||
	    DNS_RCODE(back.flags) != r->rcode)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dns_reply a = { .rcode = 0,
			       .is_authoritative = true,
			       .has_a = true,
			       .addr_be = 0x2883a8c0,
			       .ttl_secs = 60 };
	struct dns_reply fail = { .rcode = 2 };
	uint8_t copy[64];
	int id = dns_msg_id(data, size);

	if ((id < 0) != (size < 12))
		abort();
	(void)dns_msg_is_response(data, size);
	if (dns_msg_parse(&q, data, size)) {
		if (dns_msg_build_reply(reply, sizeof(reply), data, size, &a) != -EBADMSG)
			abort();
		return 0;
	}
	if (q.end > size || strlen(q.name) > DNS_NAME_MAX)
		abort();
	check(data, size, &a, sizeof(reply));
	check(data, size, &fail, sizeof(reply));
	check(data, size, &a, 40);
	if (size <= sizeof(copy)) {
		memcpy(copy, data, size);
		if (dns_msg_set_id(copy, size, (uint16_t)~id) ||
		    dns_msg_id(copy, size) != (uint16_t)~id)
			abort();
	}
	return 0;
}

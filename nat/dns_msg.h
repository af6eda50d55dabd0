/* SPDX-License-Identifier: MIT */
/*
 * DNS wire codec (RFC 1035 §4) for the DNS proxy (dns_proxy.c). Pure: no
 * system calls, no allocation, no logging. The proxy parses each query from a
 * guest with dns_msg_parse() to decide whether it names a local host, answers
 * local names with dns_msg_build_reply(), and rewrites the ID of forwarded
 * queries and their answers with dns_msg_set_id(). The fuzz target drives the
 * parser and the builder with arbitrary bytes.
 *
 * Only the header and the first question are decoded; the rest of a message
 * is never interpreted (it is forwarded verbatim). Names follow compression
 * pointers (RFC 1035 §4.1.4) only strictly backwards, each jump lower than
 * the last, so no input can loop; a name longer than 255 octets on the wire
 * (253 characters of text) or a reserved label type is -EBADMSG.
 */
#ifndef VSWITCH_NAT_DNS_MSG_H
#define VSWITCH_NAT_DNS_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DNS_HDR_LEN    12u    /* fixed header: id, flags, four counts */
#define DNS_NAME_MAX   253u   /* characters of a dotted name, no trailing dot */
#define DNS_LABEL_MAX  63u    /* octets of one label */
#define DNS_MSG_MAX    65535u /* largest message (TCP length prefix, RFC 1035 §4.2.2) */
#define DNS_UDP_MIN_SZ 512u   /* UDP payload every client accepts (RFC 1035 §2.3.4) */

/* Header flag bits, host order (RFC 1035 §4.1.1, RFC 4035 §3.2 for AD and CD). */
#define DNS_FLAG_QR	  0x8000u
#define DNS_FLAG_AA	  0x0400u
#define DNS_FLAG_TC	  0x0200u
#define DNS_FLAG_RD	  0x0100u
#define DNS_FLAG_RA	  0x0080u
#define DNS_FLAG_AD	  0x0020u
#define DNS_FLAG_CD	  0x0010u
#define DNS_OPCODE(flags) (((flags) >> 11) & 0xfu)
#define DNS_RCODE(flags)  ((flags)&0xfu)

#define DNS_OPCODE_QUERY 0u

#define DNS_RCODE_NOERROR  0u
#define DNS_RCODE_FORMERR  1u
#define DNS_RCODE_SERVFAIL 2u
#define DNS_RCODE_NXDOMAIN 3u
#define DNS_RCODE_NOTIMP   4u
#define DNS_RCODE_REFUSED  5u

#define DNS_TYPE_A    1u
#define DNS_TYPE_AAAA 28u
#define DNS_TYPE_OPT  41u
#define DNS_TYPE_ANY  255u
#define DNS_CLASS_IN  1u
#define DNS_CLASS_ANY 255u

/* The header and first question of a message, as dns_msg_parse() found them. */
struct dns_query {
	uint16_t id;		     /* host order */
	uint16_t flags;		     /* host order; DNS_FLAG_*, DNS_OPCODE(), DNS_RCODE() */
	uint16_t n_questions;	     /* QDCOUNT, >= 1 */
	uint16_t n_answers;	     /* ANCOUNT */
	uint16_t n_authority;	     /* NSCOUNT */
	uint16_t n_additional;	     /* ARCOUNT */
	char name[DNS_NAME_MAX + 1]; /* first question: lower-case ASCII, dotted, NUL-terminated,
				      * no trailing dot; "" for the root */
	bool is_name_plain;	     /* every label is printable ASCII without '.'; otherwise the
				      * other bytes read '?' in 'name', which must not be matched */
	uint16_t qtype;		     /* host order */
	uint16_t qclass;	     /* host order */
	size_t end;		     /* offset just past the first question */
};

/* A reply written by dns_msg_build_reply(). */
struct dns_reply {
	uint8_t rcode;	       /* DNS_RCODE_*, 0..15 */
	bool is_authoritative; /* sets AA: the proxy is the authority (local names) */
	bool has_a;	       /* carries one A record for the question's name */
	uint32_t addr_be;      /* the A record's address, network order */
	uint32_t ttl_secs;     /* the A record's TTL */
};

/*
 * Parses the header and first question of the message 'msg' ('len' bytes,
 * borrowed for the call) into 'q'. Queries and responses both parse; the
 * caller checks DNS_FLAG_QR. Returns 0, or -EBADMSG when the message is
 * shorter than its header, has no question, or the first question is
 * truncated or its name malformed (bad pointer, reserved label type, too
 * long). 'q' is undefined on failure.
 */
int dns_msg_parse(struct dns_query *q, const uint8_t *msg, size_t len);

/*
 * Writes the response to the query 'query' ('query_len' bytes, borrowed) into
 * 'buf' ('cap' bytes): the query's ID, opcode, RD and CD, then QR and RA set,
 * AA as 'r' says, rcode 'r->rcode'; the first question copied with its name
 * decompressed; and, when 'r->has_a', one A record of class IN whose owner is
 * a compression pointer to the question (0xc00c). Nothing else: an EDNS OPT
 * record in the query is not echoed, which RFC 6891 §7 allows (the client then
 * assumes a responder without EDNS; the reply stays well under 512 bytes).
 * 'r' is borrowed. Returns the length written, -EBADMSG when 'query' does not
 * parse, or -EMSGSIZE when the reply does not fit 'cap' (nothing useful is in
 * 'buf' then).
 */
int dns_msg_build_reply(uint8_t *buf, size_t cap, const uint8_t *query, size_t query_len,
			const struct dns_reply *r);

/* Returns the ID of the message 'msg' ('len' bytes), or -EBADMSG when shorter than a header. */
int dns_msg_id(const uint8_t *msg, size_t len);

/* Rewrites the ID of the message 'msg' ('len' bytes) to 'id'. 0, or -EBADMSG when too short. */
int dns_msg_set_id(uint8_t *msg, size_t len, uint16_t id);

/* Whether 'msg' ('len' bytes) is at least a header long and has QR set (a response). */
bool dns_msg_is_response(const uint8_t *msg, size_t len);

#endif

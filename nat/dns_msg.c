/* SPDX-License-Identifier: MIT */
/*
 * DNS wire codec (dns_msg.h). Every byte of a message is read through the
 * cursor of common/cur.h; a name is walked once, label by label, and either
 * decoded to text or copied decompressed into a reply.
 */
#include "nat/dns_msg.h"

#include <errno.h>
#include <string.h>

#include "common/cur.h"

#define NAME_WIRE_MAX                                                                              \
	255u /* octets of a name on the wire, root label included (RFC 1035 §2.3.4)               \
	      */

/*
 * Walks the name starting at offset 'off' of 'msg'. Writes its text into
 * 'text' (DNS_NAME_MAX + 1 bytes) when not NULL and its uncompressed wire
 * form into 'wire' (NAME_WIRE_MAX bytes) when not NULL; sets '*ret_end' to the
 * offset just past the name where it sits (after its first pointer, if any),
 * '*ret_wire_len' to the octets of the uncompressed form and '*ret_plain'.
 * 0 or -EBADMSG.
 */
static int walk_name(const uint8_t *msg, size_t len, size_t off, char *text, uint8_t *wire,
		     size_t *ret_end, size_t *ret_wire_len, bool *ret_plain)
{
	struct cur c = cur_make(msg + off, len - off);
	size_t limit = off, end = 0, wire_len = 0, text_len = 0;
	bool jumped = false, plain = true;

	for (;;) {
		const uint8_t *label;
		uint8_t n, lo;

		if (cur_u8(&c, &n))
			return -EBADMSG;
		if ((n & 0xc0) == 0xc0) {
			size_t target;

			if (cur_u8(&c, &lo))
				return -EBADMSG;
			target = (size_t)(n & 0x3f) << 8 | lo;
			if (!jumped)
				end = (size_t)(c.p - msg);
			jumped = true;
			/*
			 * RFC 1035 §4.1.4: a pointer names a prior occurrence.
			 * Demanding each jump land below every byte read so far
			 * makes the walk finite whatever the input.
			 */
			if (target >= limit)
				return -EBADMSG;
			limit = target;
			c = cur_make(msg + target, len - target);
			continue;
		}
		if (n & 0xc0)
			return -EBADMSG; /* 01 and 10: extended label types, none in use */
		if (!n)
			break;
		label = cur_pull(&c, n);
		if (!label)
			return -EBADMSG;
		if (wire_len + 1 + n + 1 > NAME_WIRE_MAX)
			return -EBADMSG;
		if (wire) {
			wire[wire_len] = n;
			memcpy(wire + wire_len + 1, label, n);
		}
		wire_len += 1 + n;
		if (text && text_len)
			text[text_len] = '.';
		text_len += text_len ? 1 : 0;
		for (unsigned i = 0; i < n; i++) {
			uint8_t ch = label[i];

			if (ch <= 0x20 || ch >= 0x7f || ch == '.') {
				plain = false;
				ch = '?';
			} else if (ch >= 'A' && ch <= 'Z') {
				ch = (uint8_t)(ch - 'A' +
					       'a'); /* names compare case-blind (RFC 4343) */
			}
			if (text)
				text[text_len] = (char)ch;
			text_len++;
		}
	}
	if (wire)
		wire[wire_len] = 0;
	if (text)
		text[text_len] = '\0';
	*ret_end = jumped ? end : (size_t)(c.p - msg);
	*ret_wire_len = wire_len + 1;
	*ret_plain = plain;
	return 0;
}

int dns_msg_parse(struct dns_query *q, const uint8_t *msg, size_t len)
{
	struct cur c = cur_make(msg, len);
	size_t end, wire_len;

	if (cur_be16(&c, &q->id) || cur_be16(&c, &q->flags) || cur_be16(&c, &q->n_questions) ||
	    cur_be16(&c, &q->n_answers) || cur_be16(&c, &q->n_authority) ||
	    cur_be16(&c, &q->n_additional))
		return -EBADMSG;
	if (!q->n_questions)
		return -EBADMSG;
	if (walk_name(msg, len, DNS_HDR_LEN, q->name, NULL, &end, &wire_len, &q->is_name_plain))
		return -EBADMSG;
	c = cur_make(msg + end, len - end);
	if (cur_be16(&c, &q->qtype) || cur_be16(&c, &q->qclass))
		return -EBADMSG;
	q->end = end + 4;
	return 0;
}

int dns_msg_build_reply(uint8_t *buf, size_t cap, const uint8_t *query, size_t query_len,
			const struct dns_reply *r)
{
	uint8_t wire[NAME_WIRE_MAX];
	struct dns_query q;
	size_t end, wire_len, len;
	uint16_t flags;
	bool plain;

	if (dns_msg_parse(&q, query, query_len) ||
	    walk_name(query, query_len, DNS_HDR_LEN, NULL, wire, &end, &wire_len, &plain))
		return -EBADMSG;
	len = DNS_HDR_LEN + wire_len + 4 + (r->has_a ? 16 : 0);
	if (len > cap)
		return -EMSGSIZE;

	/* RFC 1035 §4.1.1: RD is copied; RFC 4035 §3.1.6 wants CD copied too. */
	flags = DNS_FLAG_QR | (uint16_t)(DNS_OPCODE(q.flags) << 11) | (q.flags & DNS_FLAG_RD) |
		DNS_FLAG_RA | (q.flags & DNS_FLAG_CD) | (r->rcode & 0xfu);
	if (r->is_authoritative)
		flags |= DNS_FLAG_AA;
	put_be16(buf, q.id);
	put_be16(buf + 2, flags);
	put_be16(buf + 4, 1);
	put_be16(buf + 6, r->has_a ? 1 : 0);
	put_be16(buf + 8, 0);
	put_be16(buf + 10, 0);
	memcpy(buf + DNS_HDR_LEN, wire, wire_len);
	put_be16(buf + DNS_HDR_LEN + wire_len, q.qtype);
	put_be16(buf + DNS_HDR_LEN + wire_len + 2, q.qclass);
	if (r->has_a) {
		uint8_t *a = buf + DNS_HDR_LEN + wire_len + 4;

		put_be16(a, 0xc000 | DNS_HDR_LEN); /* the question's name, just written at 12 */
		put_be16(a + 2, DNS_TYPE_A);
		put_be16(a + 4, DNS_CLASS_IN);
		put_be32(a + 6, r->ttl_secs);
		put_be16(a + 10, 4);
		memcpy(a + 12, &r->addr_be, 4);
	}
	return (int)len;
}

int dns_msg_id(const uint8_t *msg, size_t len)
{
	if (len < DNS_HDR_LEN)
		return -EBADMSG;
	return get_be16(msg);
}

int dns_msg_set_id(uint8_t *msg, size_t len, uint16_t id)
{
	if (len < DNS_HDR_LEN)
		return -EBADMSG;
	put_be16(msg, id);
	return 0;
}

bool dns_msg_is_response(const uint8_t *msg, size_t len)
{
	return len >= DNS_HDR_LEN && (get_be16(msg + 2) & DNS_FLAG_QR);
}

/* SPDX-License-Identifier: MIT */
/*
 * DHCPv4 wire codec. Called by the server and the fuzz target; calls only the
 * byte cursor (common/cur.h) and byte-order helpers. See dhcp_msg.h.
 */
#include "dhcpd/dhcp_msg.h"

#include <errno.h>
#include <string.h>

#include "common/bytes.h"
#include "common/cur.h"

/* One option instance found while scanning the regions, before merging. */
struct opt_inst {
	const uint8_t *p;
	uint8_t code;
	uint8_t len;
};

struct opt_scan {
	struct opt_inst v[DHCP_MSG_OPTS_MAX];
	size_t n;
};

/*
 * Size rules for the options the server reads (STYLE.md §7): 'fixed' > 0 means
 * exactly that many bytes; otherwise a multiple of 'item' with at least
 * 'min' bytes. Codes not listed are passed through unchecked.
 */
struct opt_rule {
	uint8_t code;
	uint8_t fixed;
	uint8_t item;
	uint8_t min;
	bool empty; /* exactly zero bytes (rapid commit, RFC 4039 §4) */
};

static const struct opt_rule opt_rules[] = {
	{ DHCP_OPT_SUBNET_MASK, 4, 0, 0, false },
	{ DHCP_OPT_ROUTER, 0, 4, 4, false },
	{ DHCP_OPT_DNS, 0, 4, 4, false },
	{ DHCP_OPT_HOSTNAME, 0, 1, 1, false }, /* RFC 2132 §3.14: minimum length 1 */
	{ DHCP_OPT_DOMAIN, 0, 1, 1, false },
	{ DHCP_OPT_BROADCAST, 4, 0, 0, false },
	{ DHCP_OPT_WINS, 0, 4, 4, false },
	{ DHCP_OPT_REQ_ADDR, 4, 0, 0, false },
	{ DHCP_OPT_LEASE_TIME, 4, 0, 0, false },
	{ DHCP_OPT_OVERLOAD, 1, 0, 0, false },
	{ DHCP_OPT_MSG_TYPE, 1, 0, 0, false },
	{ DHCP_OPT_SERVER_ID, 4, 0, 0, false },
	{ DHCP_OPT_PARAM_LIST, 0, 1, 1, false },
	{ DHCP_OPT_MAX_SIZE, 2, 0, 0, false },
	{ DHCP_OPT_T1, 4, 0, 0, false },
	{ DHCP_OPT_T2, 4, 0, 0, false },
	{ DHCP_OPT_CLIENT_ID, 0, 1, 2, false }, /* RFC 2132 §9.14: minimum length 2 */
	{ DHCP_OPT_RAPID_COMMIT, 0, 0, 0, true },
};

static const char *const type_names[DHCP_MSG_TYPE_N] = {
	"unknown", "DISCOVER", "OFFER", "REQUEST", "DECLINE", "ACK", "NAK", "RELEASE", "INFORM",
};

const char *dhcp_msg_type_name(unsigned type)
{
	return type < DHCP_MSG_TYPE_N ? type_names[type] : type_names[0];
}

/*
 * Collects the option instances of one region. A region ends at the end
 * option or its last byte; an option may not straddle two regions (RFC 2131
 * §4.1), so a length running past the region is -EBADMSG. Option 52 counts
 * only in the options field.
 */
static int scan_region(struct cur c, bool is_main, struct opt_scan *s, uint8_t *ret_overload)
{
	for (;;) {
		uint8_t code, len;
		const uint8_t *p;

		if (cur_u8(&c, &code))
			return 0;
		if (code == DHCP_OPT_PAD)
			continue;
		if (code == DHCP_OPT_END)
			return 0;
		if (cur_u8(&c, &len))
			return -EBADMSG;
		p = cur_pull(&c, len);
		if (!p)
			return -EBADMSG;
		if (code == DHCP_OPT_OVERLOAD) {
			if (!is_main)
				continue; /* only meaningful in the options field */
			if (len != 1 || p[0] < 1 || p[0] > 3)
				return -EBADMSG;
			*ret_overload = p[0];
		}
		if (s->n == DHCP_MSG_OPTS_MAX)
			return -E2BIG;
		s->v[s->n++] = (struct opt_inst){ .p = p, .code = code, .len = len };
	}
}

static void set_present(struct dhcp_msg *m, uint8_t code)
{
	m->present[code / 64] |= 1ull << (code % 64);
}

bool dhcp_msg_has(const struct dhcp_msg *m, uint8_t code)
{
	return m->present[code / 64] & (1ull << (code % 64));
}

/* RFC 3396 §7: instances of one code are concatenated in the order found. */
static void merge(struct dhcp_msg *m, const struct opt_scan *s)
{
	for (size_t i = 0; i < s->n; i++) {
		uint8_t code = s->v[i].code;

		if (dhcp_msg_has(m, code))
			continue;
		set_present(m, code);
		m->opt_off[code] = m->n_opt_data;
		for (size_t j = i; j < s->n; j++) {
			if (s->v[j].code != code)
				continue;
			/* Total option bytes never exceed the message, so this fits. */
			memcpy(m->opt_data + m->n_opt_data, s->v[j].p, s->v[j].len);
			m->n_opt_data += s->v[j].len;
		}
		m->opt_len[code] = m->n_opt_data - m->opt_off[code];
	}
}

static int check_sizes(const struct dhcp_msg *m)
{
	for (size_t i = 0; i < sizeof(opt_rules) / sizeof(opt_rules[0]); i++) {
		const struct opt_rule *r = &opt_rules[i];
		size_t len;

		if (!dhcp_msg_has(m, r->code))
			continue;
		len = m->opt_len[r->code];
		if (r->empty) {
			if (len != 0)
				return -EBADMSG;
		} else if (r->fixed) {
			if (len != r->fixed)
				return -EBADMSG;
		} else if (len < r->min || len % r->item) {
			return -EBADMSG;
		}
	}
	return 0;
}

int dhcp_msg_parse(struct dhcp_msg *m, const uint8_t *buf, size_t len)
{
	struct opt_scan s;
	struct cur c = cur_make(buf, len);
	struct cur sname, file;
	const uint8_t *p;
	uint32_t cookie;
	int r;

	if (len > DHCP_MSG_MAX_LEN)
		return -EMSGSIZE;
	if (len < DHCP_MSG_MIN_LEN)
		return -EBADMSG;
	memset(m, 0, offsetof(struct dhcp_msg, opt_data));
	/* Lengths were checked above, so these pulls cannot fail. */
	(void)cur_u8(&c, &m->hdr.op);
	(void)cur_u8(&c, &m->hdr.htype);
	(void)cur_u8(&c, &m->hdr.hlen);
	(void)cur_u8(&c, &m->hdr.hops);
	(void)cur_be32(&c, &m->hdr.xid);
	(void)cur_be16(&c, &m->hdr.secs);
	(void)cur_be16(&c, &m->hdr.flags);
	p = cur_pull(&c, 16);
	memcpy(&m->hdr.ciaddr_be, p, 4);
	memcpy(&m->hdr.yiaddr_be, p + 4, 4);
	memcpy(&m->hdr.siaddr_be, p + 8, 4);
	memcpy(&m->hdr.giaddr_be, p + 12, 4);
	memcpy(m->hdr.chaddr, cur_pull(&c, 16), 16);
	(void)cur_sub(&c, 64, &sname);
	(void)cur_sub(&c, 128, &file);
	(void)cur_be32(&c, &cookie);
	if (cookie != DHCP_MAGIC_COOKIE)
		return -EBADMSG;
	if (m->hdr.hlen > 16)
		return -EBADMSG;

	s.n = 0;
	r = scan_region(c, true, &s, &m->overload);
	/* RFC 2131 §4.1: options field first, then 'file', then 'sname'. */
	if (!r && (m->overload & 1))
		r = scan_region(file, false, &s, &m->overload);
	if (!r && (m->overload & 2))
		r = scan_region(sname, false, &s, &m->overload);
	if (r)
		return r;
	merge(m, &s);
	r = check_sizes(m);
	if (r)
		return r;
	if (dhcp_msg_has(m, DHCP_OPT_MSG_TYPE))
		m->type = m->opt_data[m->opt_off[DHCP_OPT_MSG_TYPE]];
	return 0;
}

const uint8_t *dhcp_msg_opt(const struct dhcp_msg *m, uint8_t code, size_t *ret_len)
{
	if (!dhcp_msg_has(m, code))
		return NULL;
	*ret_len = m->opt_len[code];
	return m->opt_data + m->opt_off[code];
}

uint32_t dhcp_msg_opt_be32(const struct dhcp_msg *m, uint8_t code)
{
	const uint8_t *p;
	size_t len;
	uint32_t v;

	p = dhcp_msg_opt(m, code, &len);
	if (!p || len != 4)
		return 0;
	memcpy(&v, p, 4);
	return v;
}

int dhcp_build_init(struct dhcp_build *b, uint8_t *buf, size_t max, const struct dhcp_hdr *hdr)
{
	uint8_t *p = buf;

	if (max < DHCP_REPLY_MIN_LEN)
		return -EMSGSIZE;
	memset(buf, 0, DHCP_MSG_MIN_LEN);
	p[0] = hdr->op;
	p[1] = hdr->htype;
	p[2] = hdr->hlen;
	p[3] = hdr->hops;
	put_be32(p + 4, hdr->xid);
	put_be16(p + 8, hdr->secs);
	put_be16(p + 10, hdr->flags);
	memcpy(p + 12, &hdr->ciaddr_be, 4);
	memcpy(p + 16, &hdr->yiaddr_be, 4);
	memcpy(p + 20, &hdr->siaddr_be, 4);
	memcpy(p + 24, &hdr->giaddr_be, 4);
	memcpy(p + 28, hdr->chaddr, 16);
	put_be32(p + DHCP_MSG_HDR_LEN, DHCP_MAGIC_COOKIE);
	*b = (struct dhcp_build){ .buf = buf, .len = DHCP_MSG_MIN_LEN, .max = max };
	/* 'sname' and 'file' are zero: free for overloading. */
	return 0;
}

/* Bytes 'len' bytes of data take once split into 255-byte instances. */
static size_t wire_len(size_t len)
{
	size_t n_inst = len ? (len + 254) / 255 : 1;

	return len + 2 * n_inst;
}

bool dhcp_build_fits(const struct dhcp_build *b, size_t len)
{
	/* One byte stays free for the end option. */
	return len <= b->max && b->len + wire_len(len) + 1 <= b->max;
}

void dhcp_build_allow_overload(struct dhcp_build *b)
{
	b->may_overload = true;
}

/* Writes 'len' bytes of option 'code' at 'p' as 255-byte instances; returns bytes written. */
static size_t put_opt(uint8_t *p, uint8_t code, const uint8_t *d, size_t len)
{
	size_t at = 0;

	do {
		size_t n = len > 255 ? 255 : len;

		p[at++] = code;
		p[at++] = (uint8_t)n;
		if (n) { /* 'd' may be NULL for an empty option */
			memcpy(p + at, d, n);
			d += n;
		}
		at += n;
		len -= n;
	} while (len);
	return at;
}

/*
 * RFC 2131 §4.1: with option 52 the 'file' (value 1) and 'sname' (value 2)
 * fields carry options, each region ending with its own end option; an
 * option never straddles two regions.
 */
static int overload_opt(struct dhcp_build *b, uint8_t code, const void *data, size_t len)
{
	static const size_t off[2] = { 108, 44 }, cap[2] = { 128, 64 };
	uint8_t value = 1;

	for (unsigned r = 0; r < 2; r++) {
		if (b->region_len[r] + wire_len(len) + 1 > cap[r])
			continue;
		if (!b->overload_at) {
			/* Option 52 itself must sit in the options field. */
			if (b->len + 3 + 1 > b->max)
				return -EMSGSIZE;
			(void)put_opt(b->buf + b->len, DHCP_OPT_OVERLOAD, &value, 1);
			b->overload_at = b->len + 2;
			b->len += 3;
		}
		b->region_len[r] += put_opt(b->buf + off[r] + b->region_len[r], code, data, len);
		return 0;
	}
	return -EMSGSIZE;
}

int dhcp_build_opt(struct dhcp_build *b, uint8_t code, const void *data, size_t len)
{
	if (code == DHCP_OPT_PAD || code == DHCP_OPT_END)
		return -EINVAL;
	if (dhcp_build_fits(b, len)) {
		b->len += put_opt(b->buf + b->len, code, data, len);
		return 0;
	}
	return b->may_overload ? overload_opt(b, code, data, len) : -EMSGSIZE;
}

size_t dhcp_build_finish(struct dhcp_build *b)
{
	if (b->overload_at) {
		b->buf[b->overload_at] =
			(uint8_t)((b->region_len[0] ? 1 : 0) | (b->region_len[1] ? 2 : 0));
		if (b->region_len[0])
			b->buf[108 + b->region_len[0]] = DHCP_OPT_END;
		if (b->region_len[1])
			b->buf[44 + b->region_len[1]] = DHCP_OPT_END;
	}
	b->buf[b->len++] = DHCP_OPT_END;
	if (b->len < DHCP_REPLY_MIN_LEN) {
		memset(b->buf + b->len, 0, DHCP_REPLY_MIN_LEN - b->len);
		b->len = DHCP_REPLY_MIN_LEN;
	}
	return b->len;
}

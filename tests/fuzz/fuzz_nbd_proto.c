/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for nbd_proto.c: the input is offered to every parser
 * the server and a client use (greeting, client flags, option header,
 * INFO/GO and meta context data, request, replies, block status payload).
 * Whatever parses is built again and must give the same bytes or fields
 * (the build/parse round trip STYLE.md §10 asks of codecs). Seeds: the nbd
 * corpus (client handshakes and requests as QEMU sends them).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vhd-attach/nbd_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_go(const uint8_t *data, size_t size)
{
	static uint8_t buf[4 + NBD_STRING_MAX + 2 + 64];
	struct nbd_opt_go go, again;
	uint16_t info[32];
	uint16_t n = 0;
	int len;

	if (nbd_proto_opt_go_parse(data, size, &go) < 0)
		return;
	if (go.name_len > NBD_STRING_MAX ||
	    (go.name_len && (go.name < data || go.name + go.name_len > data + size)))
		abort();
	for (uint16_t t = 0; t < 32; t++)
		if (go.info_mask & (1u << t))
			info[n++] = t;
	len = nbd_proto_opt_go_build(buf, sizeof(buf), go.name, go.name_len, info, n);
	if (len < 0 || nbd_proto_opt_go_parse(buf, (size_t)len, &again) < 0 ||
	    again.name_len != go.name_len || again.info_mask != go.info_mask ||
	    memcmp(again.name, go.name, go.name_len) != 0)
		abort();
}

static void check_meta(const uint8_t *data, size_t size)
{
	static struct nbd_opt_meta m;
	size_t total;

	if (nbd_proto_opt_meta_parse(data, size, &m) < 0)
		return;
	/* Every string lies inside the input and the lengths account for all of it. */
	total = 8 + m.name.len;
	if (m.n_queries > NBD_META_MAX_QUERIES)
		abort();
	for (uint32_t i = 0; i < m.n_queries; i++) {
		const struct nbd_str *q = &m.queries[i];

		if (q->len > NBD_STRING_MAX ||
		    (q->len && (q->p < data || q->p + q->len > data + size)))
			abort();
		total += 4 + q->len;
		(void)nbd_proto_meta_selects_alloc(q, true);
	}
	if (total != size)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t buf[64];
	uint16_t hs;
	uint32_t cf, err;
	uint64_t cookie;
	struct nbd_opt o;
	struct nbd_rep rep;
	struct nbd_request rq;
	struct nbd_chunk ch;
	struct nbd_extent ext[64];
	int n;

	if (nbd_proto_greeting_parse(data, size, &hs) == 0) {
		nbd_proto_greeting_build(buf, hs);
		if (memcmp(buf, data, NBD_GREETING_LEN) != 0)
			abort();
	}
	if (nbd_proto_client_flags_parse(data, size, NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES,
					 &cf) == 0 &&
	    cf > 3)
		abort();
	if (nbd_proto_opt_parse(data, size, &o) == 0) {
		nbd_proto_opt_build(buf, &o);
		if (memcmp(buf, data, NBD_OPT_HDR_LEN) != 0)
			abort();
		/* The option's data as the server would take it. */
		if (size - NBD_OPT_HDR_LEN >= o.len) {
			check_go(data + NBD_OPT_HDR_LEN, o.len);
			check_meta(data + NBD_OPT_HDR_LEN, o.len);
		}
	}
	check_go(data, size);
	check_meta(data, size);
	if (nbd_proto_rep_parse(data, size, &rep) == 0) {
		nbd_proto_rep_build(buf, rep.option, rep.type, rep.len);
		if (memcmp(buf, data, NBD_REP_HDR_LEN) != 0)
			abort();
	}
	if (nbd_proto_request_parse(data, size, &rq) == 0) {
		nbd_proto_request_build(buf, &rq);
		if (memcmp(buf, data, NBD_REQUEST_LEN) != 0)
			abort();
	}
	if (nbd_proto_simple_reply_parse(data, size, &err, &cookie) == 0) {
		nbd_proto_simple_reply_build(buf, err, cookie);
		if (memcmp(buf, data, NBD_SIMPLE_REPLY_LEN) != 0)
			abort();
	}
	if (nbd_proto_chunk_parse(data, size, &ch) == 0) {
		nbd_proto_chunk_build(buf, &ch);
		if (memcmp(buf, data, NBD_CHUNK_HDR_LEN) != 0)
			abort();
	}
	n = nbd_proto_block_status_parse(data, size, &cf, ext, 64);
	if (n > 0) {
		static uint8_t out[NBD_CHUNK_HDR_LEN + 4 + 64 * NBD_EXTENT_LEN];
		int m = nbd_proto_block_status_build(out, sizeof(out), 1, cf, ext, (size_t)n);

		if (m != (int)(NBD_CHUNK_HDR_LEN + size) ||
		    memcmp(out + NBD_CHUNK_HDR_LEN, data, size) != 0)
			abort();
	}
	(void)nbd_proto_errno(-(int)(size % 200));
	return 0;
}

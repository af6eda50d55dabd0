/* SPDX-License-Identifier: MIT */
/*
 * NBD wire codec (see nbd_proto.h). Called by the NBD server (vhd_export.c),
 * the unit test and the fuzz target; calls only common/ helpers. Parsers
 * read through the cursor of common/cur.h and set their outputs only on
 * success; builders check the caller's capacity before writing anything.
 */
#include "vhd-attach/nbd_proto.h"

#include <errno.h>
#include <string.h>

#include "common/bytes.h"
#include "common/cur.h"

void nbd_proto_greeting_build(uint8_t out[NBD_GREETING_LEN], uint16_t hs_flags)
{
	put_be64(out, NBD_MAGIC);
	put_be64(out + 8, NBD_OPT_MAGIC);
	put_be16(out + 16, hs_flags);
}

int nbd_proto_greeting_parse(const uint8_t *p, size_t len, uint16_t *ret_flags)
{
	struct cur c = cur_make(p, len);
	uint64_t magic, opt_magic;
	uint16_t flags;

	if (cur_be64(&c, &magic) < 0 || cur_be64(&c, &opt_magic) < 0 || cur_be16(&c, &flags) < 0)
		return -EBADMSG;
	if (magic != NBD_MAGIC || opt_magic != NBD_OPT_MAGIC)
		return -EBADMSG;
	*ret_flags = flags;
	return 0;
}

void nbd_proto_client_flags_build(uint8_t out[NBD_CLIENT_FLAGS_LEN], uint32_t flags)
{
	put_be32(out, flags);
}

int nbd_proto_client_flags_parse(const uint8_t *p, size_t len, uint16_t hs_flags,
				 uint32_t *ret_flags)
{
	struct cur c = cur_make(p, len);
	uint32_t allowed = 0, flags;

	if (cur_be32(&c, &flags) < 0)
		return -EBADMSG;
	if (hs_flags & NBD_FLAG_FIXED_NEWSTYLE)
		allowed |= NBD_FLAG_C_FIXED_NEWSTYLE;
	if (hs_flags & NBD_FLAG_NO_ZEROES)
		allowed |= NBD_FLAG_C_NO_ZEROES;
	if (flags & ~allowed)
		return -EBADMSG;
	*ret_flags = flags;
	return 0;
}

void nbd_proto_opt_build(uint8_t out[NBD_OPT_HDR_LEN], const struct nbd_opt *o)
{
	put_be64(out, NBD_OPT_MAGIC);
	put_be32(out + 8, o->option);
	put_be32(out + 12, o->len);
}

int nbd_proto_opt_parse(const uint8_t *p, size_t len, struct nbd_opt *ret)
{
	struct cur c = cur_make(p, len);
	uint64_t magic;
	struct nbd_opt o;

	if (cur_be64(&c, &magic) < 0 || cur_be32(&c, &o.option) < 0 || cur_be32(&c, &o.len) < 0)
		return -EBADMSG;
	if (magic != NBD_OPT_MAGIC)
		return -EBADMSG;
	*ret = o;
	return 0;
}

/* Takes a 32-bit length and that many bytes, at most NBD_STRING_MAX. */
static int cur_str(struct cur *c, struct nbd_str *ret)
{
	struct cur save = *c;
	uint32_t n;
	const uint8_t *s;

	if (cur_be32(c, &n) < 0)
		return -EBADMSG;
	if (n > NBD_STRING_MAX || !(s = cur_pull(c, n))) {
		*c = save;
		return -EBADMSG;
	}
	ret->p = s;
	ret->len = n;
	return 0;
}

int nbd_proto_opt_go_parse(const uint8_t *p, size_t len, struct nbd_opt_go *ret)
{
	struct cur c = cur_make(p, len);
	struct nbd_str name;
	uint16_t n_info, type;
	uint32_t mask = 0;

	if (cur_str(&c, &name) < 0 || cur_be16(&c, &n_info) < 0)
		return -EBADMSG;
	/* The count must describe exactly the rest of the option. */
	if (c.len != (size_t)n_info * 2)
		return -EBADMSG;
	for (uint16_t i = 0; i < n_info; i++) {
		if (cur_be16(&c, &type) < 0)
			return -EBADMSG;
		/* Unknown info types are ignored, as the protocol asks of servers. */
		if (type < 32)
			mask |= 1u << type;
	}
	ret->name = name.p;
	ret->name_len = name.len;
	ret->info_mask = mask;
	return 0;
}

int nbd_proto_opt_go_build(uint8_t *out, size_t cap, const void *name, uint32_t name_len,
			   const uint16_t *info, uint16_t n_info)
{
	size_t need = 4 + (size_t)name_len + 2 + (size_t)n_info * 2;

	if (name_len > NBD_STRING_MAX)
		return -EINVAL;
	if (need > cap)
		return -EMSGSIZE;
	put_be32(out, name_len);
	if (name_len)
		memcpy(out + 4, name, name_len);
	put_be16(out + 4 + name_len, n_info);
	for (uint16_t i = 0; i < n_info; i++)
		put_be16(out + 6 + name_len + 2 * (size_t)i, info[i]);
	return (int)need;
}

int nbd_proto_opt_meta_parse(const uint8_t *p, size_t len, struct nbd_opt_meta *ret)
{
	struct cur c = cur_make(p, len), v;
	struct nbd_str name, q;
	uint32_t n;

	if (cur_str(&c, &name) < 0 || cur_be32(&c, &n) < 0)
		return -EBADMSG;
	/* Each query takes at least its 4-byte length: reject counts the data cannot hold. */
	if (n > c.len / 4)
		return -EBADMSG;
	if (n > NBD_META_MAX_QUERIES)
		return -E2BIG;
	/* Validate on a copy of the cursor first: '*ret' is set only on success. */
	v = c;
	for (uint32_t i = 0; i < n; i++)
		if (cur_str(&v, &q) < 0)
			return -EBADMSG;
	if (v.len != 0)
		return -EBADMSG;
	for (uint32_t i = 0; i < n; i++)
		(void)cur_str(&c, &ret->queries[i]);
	ret->name = name;
	ret->n_queries = n;
	return 0;
}

int nbd_proto_opt_meta_build(uint8_t *out, size_t cap, const char *name, const char *const *queries,
			     uint32_t n_queries)
{
	size_t need = 4 + strlen(name) + 4, off;

	if (strlen(name) > NBD_STRING_MAX)
		return -EINVAL;
	for (uint32_t i = 0; i < n_queries; i++) {
		if (strlen(queries[i]) > NBD_STRING_MAX)
			return -EINVAL;
		need += 4 + strlen(queries[i]);
	}
	if (need > cap || need > INT32_MAX)
		return -EMSGSIZE;
	put_be32(out, (uint32_t)strlen(name));
	memcpy(out + 4, name, strlen(name));
	off = 4 + strlen(name);
	put_be32(out + off, n_queries);
	off += 4;
	for (uint32_t i = 0; i < n_queries; i++) {
		size_t n = strlen(queries[i]);

		put_be32(out + off, (uint32_t)n);
		memcpy(out + off + 4, queries[i], n);
		off += 4 + n;
	}
	return (int)off;
}

static bool str_is(const struct nbd_str *s, const char *lit)
{
	size_t n = strlen(lit);

	return s->len == n && memcmp(s->p, lit, n) == 0;
}

bool nbd_proto_meta_selects_alloc(const struct nbd_str *query, bool list)
{
	if (str_is(query, NBD_META_BASE_ALLOCATION))
		return true;
	return list && str_is(query, "base:");
}

void nbd_proto_rep_build(uint8_t out[NBD_REP_HDR_LEN], uint32_t option, uint32_t type, uint32_t len)
{
	put_be64(out, NBD_REP_MAGIC);
	put_be32(out + 8, option);
	put_be32(out + 12, type);
	put_be32(out + 16, len);
}

int nbd_proto_rep_parse(const uint8_t *p, size_t len, struct nbd_rep *ret)
{
	struct cur c = cur_make(p, len);
	uint64_t magic;
	struct nbd_rep r;

	if (cur_be64(&c, &magic) < 0 || cur_be32(&c, &r.option) < 0 || cur_be32(&c, &r.type) < 0 ||
	    cur_be32(&c, &r.len) < 0)
		return -EBADMSG;
	if (magic != NBD_REP_MAGIC)
		return -EBADMSG;
	*ret = r;
	return 0;
}

int nbd_proto_rep_info_export_build(uint8_t *out, size_t cap, uint32_t option, uint64_t size,
				    uint16_t tflags)
{
	const uint32_t data = 2 + 8 + 2;

	if (cap < NBD_REP_HDR_LEN + data)
		return -EMSGSIZE;
	nbd_proto_rep_build(out, option, NBD_REP_INFO, data);
	put_be16(out + NBD_REP_HDR_LEN, NBD_INFO_EXPORT);
	put_be64(out + NBD_REP_HDR_LEN + 2, size);
	put_be16(out + NBD_REP_HDR_LEN + 10, tflags);
	return NBD_REP_HDR_LEN + data;
}

int nbd_proto_rep_info_block_size_build(uint8_t *out, size_t cap, uint32_t option, uint32_t min,
					uint32_t pref, uint32_t max)
{
	const uint32_t data = 2 + 4 + 4 + 4;

	if (cap < NBD_REP_HDR_LEN + data)
		return -EMSGSIZE;
	nbd_proto_rep_build(out, option, NBD_REP_INFO, data);
	put_be16(out + NBD_REP_HDR_LEN, NBD_INFO_BLOCK_SIZE);
	put_be32(out + NBD_REP_HDR_LEN + 2, min);
	put_be32(out + NBD_REP_HDR_LEN + 6, pref);
	put_be32(out + NBD_REP_HDR_LEN + 10, max);
	return NBD_REP_HDR_LEN + data;
}

int nbd_proto_rep_server_build(uint8_t *out, size_t cap, const void *name, uint32_t name_len)
{
	if (name_len > NBD_STRING_MAX)
		return -EINVAL;
	if (cap < NBD_REP_HDR_LEN + 4 + (size_t)name_len)
		return -EMSGSIZE;
	nbd_proto_rep_build(out, NBD_OPT_LIST, NBD_REP_SERVER, 4 + name_len);
	put_be32(out + NBD_REP_HDR_LEN, name_len);
	if (name_len)
		memcpy(out + NBD_REP_HDR_LEN + 4, name, name_len);
	return (int)(NBD_REP_HDR_LEN + 4 + name_len);
}

int nbd_proto_rep_meta_build(uint8_t *out, size_t cap, uint32_t option, uint32_t id,
			     const char *name)
{
	size_t n = strlen(name);

	if (n > NBD_STRING_MAX)
		return -EINVAL;
	if (cap < NBD_REP_HDR_LEN + 4 + n)
		return -EMSGSIZE;
	nbd_proto_rep_build(out, option, NBD_REP_META_CONTEXT, (uint32_t)(4 + n));
	put_be32(out + NBD_REP_HDR_LEN, id);
	memcpy(out + NBD_REP_HDR_LEN + 4, name, n);
	return (int)(NBD_REP_HDR_LEN + 4 + n);
}

int nbd_proto_rep_err_build(uint8_t *out, size_t cap, uint32_t option, uint32_t type,
			    const char *msg)
{
	size_t n = strlen(msg);

	if (n > NBD_STRING_MAX)
		return -EINVAL;
	if (cap < NBD_REP_HDR_LEN + n)
		return -EMSGSIZE;
	nbd_proto_rep_build(out, option, type, (uint32_t)n);
	memcpy(out + NBD_REP_HDR_LEN, msg, n);
	return (int)(NBD_REP_HDR_LEN + n);
}

int nbd_proto_export_name_reply_build(uint8_t *out, size_t cap, uint64_t size, uint16_t tflags,
				      bool no_zeroes)
{
	size_t n = no_zeroes ? 10 : NBD_EXPORT_NAME_REPLY_LEN;

	if (cap < n)
		return -EMSGSIZE;
	put_be64(out, size);
	put_be16(out + 8, tflags);
	memset(out + 10, 0, n - 10);
	return (int)n;
}

int nbd_proto_request_parse(const uint8_t *p, size_t len, struct nbd_request *ret)
{
	struct cur c = cur_make(p, len);
	struct nbd_request rq;
	uint32_t magic;

	if (cur_be32(&c, &magic) < 0 || cur_be16(&c, &rq.flags) < 0 || cur_be16(&c, &rq.type) < 0 ||
	    cur_be64(&c, &rq.cookie) < 0 || cur_be64(&c, &rq.offset) < 0 ||
	    cur_be32(&c, &rq.len) < 0)
		return -EBADMSG;
	if (magic != NBD_REQUEST_MAGIC)
		return -EBADMSG;
	*ret = rq;
	return 0;
}

void nbd_proto_request_build(uint8_t out[NBD_REQUEST_LEN], const struct nbd_request *rq)
{
	put_be32(out, NBD_REQUEST_MAGIC);
	put_be16(out + 4, rq->flags);
	put_be16(out + 6, rq->type);
	put_be64(out + 8, rq->cookie);
	put_be64(out + 16, rq->offset);
	put_be32(out + 24, rq->len);
}

void nbd_proto_simple_reply_build(uint8_t out[NBD_SIMPLE_REPLY_LEN], uint32_t error,
				  uint64_t cookie)
{
	put_be32(out, NBD_SIMPLE_REPLY_MAGIC);
	put_be32(out + 4, error);
	put_be64(out + 8, cookie);
}

int nbd_proto_simple_reply_parse(const uint8_t *p, size_t len, uint32_t *ret_error,
				 uint64_t *ret_cookie)
{
	struct cur c = cur_make(p, len);
	uint32_t magic, error;
	uint64_t cookie;

	if (cur_be32(&c, &magic) < 0 || cur_be32(&c, &error) < 0 || cur_be64(&c, &cookie) < 0)
		return -EBADMSG;
	if (magic != NBD_SIMPLE_REPLY_MAGIC)
		return -EBADMSG;
	*ret_error = error;
	*ret_cookie = cookie;
	return 0;
}

void nbd_proto_chunk_build(uint8_t out[NBD_CHUNK_HDR_LEN], const struct nbd_chunk *ch)
{
	put_be32(out, NBD_STRUCTURED_REPLY_MAGIC);
	put_be16(out + 4, ch->flags);
	put_be16(out + 6, ch->type);
	put_be64(out + 8, ch->cookie);
	put_be32(out + 16, ch->len);
}

int nbd_proto_chunk_parse(const uint8_t *p, size_t len, struct nbd_chunk *ret)
{
	struct cur c = cur_make(p, len);
	struct nbd_chunk ch;
	uint32_t magic;

	if (cur_be32(&c, &magic) < 0 || cur_be16(&c, &ch.flags) < 0 || cur_be16(&c, &ch.type) < 0 ||
	    cur_be64(&c, &ch.cookie) < 0 || cur_be32(&c, &ch.len) < 0)
		return -EBADMSG;
	if (magic != NBD_STRUCTURED_REPLY_MAGIC)
		return -EBADMSG;
	*ret = ch;
	return 0;
}

int nbd_proto_offset_data_build(uint8_t out[NBD_OFFSET_DATA_HDR_LEN], uint64_t cookie,
				uint64_t offset, uint32_t data_len)
{
	struct nbd_chunk ch = { .flags = NBD_REPLY_FLAG_DONE,
				.type = NBD_REPLY_TYPE_OFFSET_DATA,
				.cookie = cookie,
				.len = data_len + 8 };

	/* The chunk length counts the offset too: 2^32 - 8 data bytes at most. */
	if (data_len > UINT32_MAX - 8)
		return -EMSGSIZE;
	nbd_proto_chunk_build(out, &ch);
	put_be64(out + NBD_CHUNK_HDR_LEN, offset);
	return NBD_OFFSET_DATA_HDR_LEN;
}

int nbd_proto_error_chunk_build(uint8_t *out, size_t cap, uint64_t cookie, uint32_t error,
				const char *msg)
{
	size_t n = strlen(msg);
	struct nbd_chunk ch = { .flags = NBD_REPLY_FLAG_DONE,
				.type = NBD_REPLY_TYPE_ERROR,
				.cookie = cookie };

	if (error == 0 || n > NBD_STRING_MAX)
		return -EINVAL;
	if (cap < NBD_CHUNK_HDR_LEN + 6 + n)
		return -EMSGSIZE;
	ch.len = (uint32_t)(6 + n);
	nbd_proto_chunk_build(out, &ch);
	put_be32(out + NBD_CHUNK_HDR_LEN, error);
	put_be16(out + NBD_CHUNK_HDR_LEN + 4, (uint16_t)n);
	memcpy(out + NBD_CHUNK_HDR_LEN + 6, msg, n);
	return (int)(NBD_CHUNK_HDR_LEN + 6 + n);
}

int nbd_proto_block_status_build(uint8_t *out, size_t cap, uint64_t cookie, uint32_t ctx_id,
				 const struct nbd_extent *ext, size_t n)
{
	struct nbd_chunk ch = { .flags = NBD_REPLY_FLAG_DONE,
				.type = NBD_REPLY_TYPE_BLOCK_STATUS,
				.cookie = cookie };
	size_t need;

	if (n == 0)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (ext[i].len == 0)
			return -EINVAL;
	if (cap < NBD_CHUNK_HDR_LEN + 4 || n > (cap - NBD_CHUNK_HDR_LEN - 4) / NBD_EXTENT_LEN)
		return -EMSGSIZE;
	need = NBD_CHUNK_HDR_LEN + 4 + n * NBD_EXTENT_LEN;
	if (need > INT32_MAX)
		return -EMSGSIZE;
	ch.len = (uint32_t)(need - NBD_CHUNK_HDR_LEN);
	nbd_proto_chunk_build(out, &ch);
	put_be32(out + NBD_CHUNK_HDR_LEN, ctx_id);
	for (size_t i = 0; i < n; i++) {
		put_be32(out + NBD_CHUNK_HDR_LEN + 4 + i * NBD_EXTENT_LEN, ext[i].len);
		put_be32(out + NBD_CHUNK_HDR_LEN + 8 + i * NBD_EXTENT_LEN, ext[i].flags);
	}
	return (int)need;
}

int nbd_proto_block_status_parse(const uint8_t *p, size_t len, uint32_t *ret_ctx,
				 struct nbd_extent *ret, size_t cap)
{
	struct cur c = cur_make(p, len);
	uint32_t ctx;
	size_t n;

	if (cur_be32(&c, &ctx) < 0 || c.len == 0 || c.len % NBD_EXTENT_LEN)
		return -EBADMSG;
	n = c.len / NBD_EXTENT_LEN;
	if (n > cap)
		return -E2BIG;
	if (n > INT32_MAX)
		return -EBADMSG;
	/* Validate every descriptor before filling 'ret': outputs are set only on success. */
	for (struct cur v = c; v.len;) {
		uint32_t ext_len, flags;

		if (cur_be32(&v, &ext_len) < 0 || cur_be32(&v, &flags) < 0 || ext_len == 0)
			return -EBADMSG;
	}
	for (size_t i = 0; i < n; i++) {
		(void)cur_be32(&c, &ret[i].len);
		(void)cur_be32(&c, &ret[i].flags);
	}
	*ret_ctx = ctx;
	return (int)n;
}

uint32_t nbd_proto_errno(int r)
{
	switch (-r) {
	case EPERM:
	case EACCES:
	case EROFS:
	case EBADF:
		return NBD_EPERM;
	case ENOSPC:
	case EDQUOT:
	case EFBIG:
	case E2BIG:
		return NBD_ENOSPC;
	case EINVAL:
		return NBD_EINVAL;
	case ENOMEM:
		return NBD_ENOMEM;
	case EOVERFLOW:
		return NBD_EOVERFLOW;
	case ESHUTDOWN:
		return NBD_ESHUTDOWN;
	case EOPNOTSUPP:
		return NBD_ENOTSUP;
	default:
		return NBD_EIO;
	}
}

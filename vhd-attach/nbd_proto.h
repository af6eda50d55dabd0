/* SPDX-License-Identifier: MIT */
/*
 * The NBD wire protocol (fixed newstyle handshake, option haggling, simple
 * and structured replies) as a pure codec: every function parses from or
 * builds into a caller's buffer and makes no system calls, allocates
 * nothing and logs nothing. The server (vhd_export.c) owns the sockets and
 * decides what to answer; the unit test and the fuzz target drive both
 * directions. Untrusted bytes are read only through common/cur.h; parsers
 * return -EBADMSG for anything malformed and leave their outputs unset.
 *
 * Names of constants follow the NBD protocol document (doc/proto.md of the
 * reference implementation), where the meaning of each is defined.
 */
#ifndef VSWITCH_NBD_PROTO_H
#define VSWITCH_NBD_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Magic numbers. */
#define NBD_MAGIC		   0x4e42444d41474943ull /* "NBDMAGIC": greeting */
#define NBD_OPT_MAGIC		   0x49484156454f5054ull /* "IHAVEOPT": option requests */
#define NBD_REP_MAGIC		   0x0003e889045565a9ull /* option replies */
#define NBD_REQUEST_MAGIC	   0x25609513u
#define NBD_SIMPLE_REPLY_MAGIC	   0x67446698u
#define NBD_STRUCTURED_REPLY_MAGIC 0x668e33efu

/* Fixed sizes of wire messages, in bytes. */
#define NBD_GREETING_LEN	  18u /* NBDMAGIC, IHAVEOPT, handshake flags */
#define NBD_CLIENT_FLAGS_LEN	  4u
#define NBD_OPT_HDR_LEN		  16u  /* magic, option, data length */
#define NBD_REP_HDR_LEN		  20u  /* magic, option, reply type, data length */
#define NBD_EXPORT_NAME_REPLY_LEN 134u /* size, transmission flags, 124 zeros */
#define NBD_REQUEST_LEN		  28u
#define NBD_SIMPLE_REPLY_LEN	  16u
#define NBD_CHUNK_HDR_LEN	  20u
#define NBD_OFFSET_DATA_HDR_LEN	  28u	/* chunk header + 64-bit offset */
#define NBD_EXTENT_LEN		  8u	/* one block status descriptor */
#define NBD_STRING_MAX		  4096u /* export names, queries, messages */

/* Handshake flags (server) and client flags. */
#define NBD_FLAG_FIXED_NEWSTYLE	  0x0001u
#define NBD_FLAG_NO_ZEROES	  0x0002u
#define NBD_FLAG_C_FIXED_NEWSTYLE 0x00000001u
#define NBD_FLAG_C_NO_ZEROES	  0x00000002u

/* Transmission flags, per export. */
#define NBD_FLAG_HAS_FLAGS	   0x0001u
#define NBD_FLAG_READ_ONLY	   0x0002u
#define NBD_FLAG_SEND_FLUSH	   0x0004u
#define NBD_FLAG_SEND_FUA	   0x0008u
#define NBD_FLAG_ROTATIONAL	   0x0010u
#define NBD_FLAG_SEND_TRIM	   0x0020u
#define NBD_FLAG_SEND_WRITE_ZEROES 0x0040u
#define NBD_FLAG_SEND_DF	   0x0080u
#define NBD_FLAG_CAN_MULTI_CONN	   0x0100u

/* Options. */
#define NBD_OPT_EXPORT_NAME	  1u
#define NBD_OPT_ABORT		  2u
#define NBD_OPT_LIST		  3u
#define NBD_OPT_STARTTLS	  5u
#define NBD_OPT_INFO		  6u
#define NBD_OPT_GO		  7u
#define NBD_OPT_STRUCTURED_REPLY  8u
#define NBD_OPT_LIST_META_CONTEXT 9u
#define NBD_OPT_SET_META_CONTEXT  10u

/* Option reply types; errors have bit 31 set. */
#define NBD_REP_ACK	     1u
#define NBD_REP_SERVER	     2u
#define NBD_REP_INFO	     3u
#define NBD_REP_META_CONTEXT 4u
#define NBD_REP_ERR_UNSUP    0x80000001u
#define NBD_REP_ERR_POLICY   0x80000002u
#define NBD_REP_ERR_INVALID  0x80000003u
#define NBD_REP_ERR_PLATFORM 0x80000004u
#define NBD_REP_ERR_TLS_REQD 0x80000005u
#define NBD_REP_ERR_UNKNOWN  0x80000006u
#define NBD_REP_ERR_SHUTDOWN 0x80000007u
#define NBD_REP_ERR_TOO_BIG  0x80000009u

/* NBD_REP_INFO types. */
#define NBD_INFO_EXPORT	     0u
#define NBD_INFO_NAME	     1u
#define NBD_INFO_DESCRIPTION 2u
#define NBD_INFO_BLOCK_SIZE  3u

/* Commands and command flags. */
#define NBD_CMD_READ	     0u
#define NBD_CMD_WRITE	     1u
#define NBD_CMD_DISC	     2u
#define NBD_CMD_FLUSH	     3u
#define NBD_CMD_TRIM	     4u
#define NBD_CMD_CACHE	     5u
#define NBD_CMD_WRITE_ZEROES 6u
#define NBD_CMD_BLOCK_STATUS 7u

#define NBD_CMD_FLAG_FUA       0x0001u
#define NBD_CMD_FLAG_NO_HOLE   0x0002u
#define NBD_CMD_FLAG_DF	       0x0004u
#define NBD_CMD_FLAG_REQ_ONE   0x0008u
#define NBD_CMD_FLAG_FAST_ZERO 0x0010u

/* Structured reply flags and chunk types. */
#define NBD_REPLY_FLAG_DONE	    0x0001u
#define NBD_REPLY_TYPE_NONE	    0u
#define NBD_REPLY_TYPE_OFFSET_DATA  1u
#define NBD_REPLY_TYPE_OFFSET_HOLE  2u
#define NBD_REPLY_TYPE_BLOCK_STATUS 5u
#define NBD_REPLY_TYPE_ERROR	    0x8001u
#define NBD_REPLY_TYPE_ERROR_OFFSET 0x8002u

/* base:allocation status flags. */
#define NBD_STATE_HOLE 0x1u
#define NBD_STATE_ZERO 0x2u

/* Error values of replies (fixed by the protocol, not the host's errno). */
#define NBD_EPERM     1u
#define NBD_EIO	      5u
#define NBD_ENOMEM    12u
#define NBD_EINVAL    22u
#define NBD_ENOSPC    28u
#define NBD_EOVERFLOW 75u
#define NBD_ENOTSUP   95u
#define NBD_ESHUTDOWN 108u

/* The one metadata context this codec knows. */
#define NBD_META_BASE_ALLOCATION "base:allocation"

#define NBD_META_MAX_QUERIES 64 /* queries kept from one option; more is -E2BIG */

/* An option request header; 'len' bytes of data follow it on the wire. */
struct nbd_opt {
	uint32_t option; /* NBD_OPT_* */
	uint32_t len;	 /* bytes of option data */
};

/* An option reply header. */
struct nbd_rep {
	uint32_t option; /* the option answered */
	uint32_t type;	 /* NBD_REP_* */
	uint32_t len;	 /* bytes of reply data */
};

/* The data of NBD_OPT_INFO and NBD_OPT_GO. */
struct nbd_opt_go {
	const uint8_t *name; /* export name, not NUL-terminated; borrowed from the input */
	uint32_t name_len;   /* bytes, <= NBD_STRING_MAX */
	uint32_t info_mask;  /* bit N set: NBD_INFO type N (< 32) was requested */
};

/* A string inside an input buffer. */
struct nbd_str {
	const uint8_t *p; /* borrowed from the input; not NUL-terminated */
	uint32_t len;	  /* bytes, <= NBD_STRING_MAX */
};

/* The data of NBD_OPT_LIST_META_CONTEXT and NBD_OPT_SET_META_CONTEXT. */
struct nbd_opt_meta {
	struct nbd_str name;			      /* export name */
	uint32_t n_queries;			      /* entries of 'queries' */
	struct nbd_str queries[NBD_META_MAX_QUERIES]; /* in wire order */
};

/* A transmission request. */
struct nbd_request {
	uint16_t flags;	 /* NBD_CMD_FLAG_* */
	uint16_t type;	 /* NBD_CMD_* */
	uint64_t cookie; /* opaque to the server, echoed in the reply ("handle") */
	uint64_t offset; /* bytes */
	uint32_t len;	 /* bytes; for NBD_CMD_WRITE the payload that follows */
};

/* A structured reply chunk header; 'len' bytes of payload follow it. */
struct nbd_chunk {
	uint16_t flags;	 /* NBD_REPLY_FLAG_* */
	uint16_t type;	 /* NBD_REPLY_TYPE_* */
	uint64_t cookie; /* the request's */
	uint32_t len;	 /* payload bytes */
};

/* One base:allocation (or any context's) block status descriptor. */
struct nbd_extent {
	uint32_t len;	/* bytes, non-zero */
	uint32_t flags; /* NBD_STATE_* */
};

/*
 * Handshake.
 */

/* Writes the server greeting (NBDMAGIC, IHAVEOPT, 'hs_flags') into 'out'. */
void nbd_proto_greeting_build(uint8_t out[NBD_GREETING_LEN], uint16_t hs_flags);

/*
 * Parses a server greeting from 'p' ('len' bytes, at least NBD_GREETING_LEN):
 * sets '*ret_flags' to the handshake flags. Returns 0 or -EBADMSG (short,
 * bad magic).
 */
int nbd_proto_greeting_parse(const uint8_t *p, size_t len, uint16_t *ret_flags);

/* Writes the 32-bit client flags into 'out'. */
void nbd_proto_client_flags_build(uint8_t out[NBD_CLIENT_FLAGS_LEN], uint32_t flags);

/*
 * Parses the client flags from 'p' ('len' bytes). A client may only echo
 * flags the server offered in 'hs_flags' (the protocol tells the server to
 * drop it otherwise). Returns 0 with '*ret_flags' set, or -EBADMSG (short,
 * unknown or unoffered flag).
 */
int nbd_proto_client_flags_parse(const uint8_t *p, size_t len, uint16_t hs_flags,
				 uint32_t *ret_flags);

/* Writes an option request header ('o') into 'out'. */
void nbd_proto_opt_build(uint8_t out[NBD_OPT_HDR_LEN], const struct nbd_opt *o);

/* Parses an option request header from 'p' ('len' bytes). 0 or -EBADMSG (short, bad magic). */
int nbd_proto_opt_parse(const uint8_t *p, size_t len, struct nbd_opt *ret);

/*
 * Parses the data of NBD_OPT_INFO/NBD_OPT_GO ('len' bytes at 'p', exactly
 * the option's data): name length, name, number of info requests, the
 * requests. Returns 0, or -EBADMSG when the lengths do not add up to 'len'
 * or the name exceeds NBD_STRING_MAX. '*ret' points into 'p'.
 */
int nbd_proto_opt_go_parse(const uint8_t *p, size_t len, struct nbd_opt_go *ret);

/*
 * Builds the data of NBD_OPT_INFO/GO: 'name' ('name_len' bytes) and the
 * 'n_info' info types of 'info'. Returns the bytes written, or -EMSGSIZE
 * when 'cap' is too small, -EINVAL for a name over NBD_STRING_MAX.
 */
int nbd_proto_opt_go_build(uint8_t *out, size_t cap, const void *name, uint32_t name_len,
			   const uint16_t *info, uint16_t n_info);

/*
 * Parses the data of NBD_OPT_LIST_META_CONTEXT/SET_META_CONTEXT ('len'
 * bytes, exactly the option's data). Returns 0, -EBADMSG when lengths do
 * not add up or a string exceeds NBD_STRING_MAX, -E2BIG for more than
 * NBD_META_MAX_QUERIES queries. '*ret' points into 'p'.
 */
int nbd_proto_opt_meta_parse(const uint8_t *p, size_t len, struct nbd_opt_meta *ret);

/*
 * Builds the data of a meta context option: export 'name' and the
 * 'n_queries' NUL-terminated strings of 'queries'. Returns the bytes
 * written, -EMSGSIZE when 'cap' is too small, -EINVAL for an oversize string.
 */
int nbd_proto_opt_meta_build(uint8_t *out, size_t cap, const char *name, const char *const *queries,
			     uint32_t n_queries);

/*
 * Whether meta context 'query' selects base:allocation. 'list' is true for
 * NBD_OPT_LIST_META_CONTEXT, where the bare namespace "base:" selects every
 * context in it; NBD_OPT_SET_META_CONTEXT needs the full name.
 */
bool nbd_proto_meta_selects_alloc(const struct nbd_str *query, bool list);

/*
 * Writes an option reply header (NBD_REP_MAGIC, 'option', 'type', 'len')
 * into 'out'; the caller appends 'len' bytes of data.
 */
void nbd_proto_rep_build(uint8_t out[NBD_REP_HDR_LEN], uint32_t option, uint32_t type,
			 uint32_t len);

/* Parses an option reply header from 'p' ('len' bytes). 0 or -EBADMSG (short, bad magic). */
int nbd_proto_rep_parse(const uint8_t *p, size_t len, struct nbd_rep *ret);

/*
 * Each of the following builds one whole option reply (header and data)
 * into 'out' and returns its length, or -EMSGSIZE when it does not fit in
 * 'cap' bytes (-EINVAL for a string over NBD_STRING_MAX).
 */

/* NBD_REP_INFO / NBD_INFO_EXPORT: the export's 'size' in bytes and transmission 'tflags'. */
int nbd_proto_rep_info_export_build(uint8_t *out, size_t cap, uint32_t option, uint64_t size,
				    uint16_t tflags);

/* NBD_REP_INFO / NBD_INFO_BLOCK_SIZE: minimum, preferred and maximum request sizes. */
int nbd_proto_rep_info_block_size_build(uint8_t *out, size_t cap, uint32_t option, uint32_t min,
					uint32_t pref, uint32_t max);

/* NBD_REP_SERVER for NBD_OPT_LIST: one export 'name' ('name_len' bytes). */
int nbd_proto_rep_server_build(uint8_t *out, size_t cap, const void *name, uint32_t name_len);

/* NBD_REP_META_CONTEXT: context 'id' and its NUL-terminated 'name'. */
int nbd_proto_rep_meta_build(uint8_t *out, size_t cap, uint32_t option, uint32_t id,
			     const char *name);

/* An error reply 'type' (NBD_REP_ERR_*) with the NUL-terminated 'msg' ("" for none). */
int nbd_proto_rep_err_build(uint8_t *out, size_t cap, uint32_t option, uint32_t type,
			    const char *msg);

/*
 * The reply to NBD_OPT_EXPORT_NAME: 'size', 'tflags' and, unless
 * 'no_zeroes', 124 zero bytes (NBD_EXPORT_NAME_REPLY_LEN in all).
 */
int nbd_proto_export_name_reply_build(uint8_t *out, size_t cap, uint64_t size, uint16_t tflags,
				      bool no_zeroes);

/*
 * Transmission.
 */

/*
 * Parses a request header from 'p' ('len' bytes, at least NBD_REQUEST_LEN).
 * Returns 0, or -EBADMSG (short, bad magic). Lengths and flags are the
 * server's to check against the export.
 */
int nbd_proto_request_parse(const uint8_t *p, size_t len, struct nbd_request *ret);

/* Writes request header 'rq' into 'out'. */
void nbd_proto_request_build(uint8_t out[NBD_REQUEST_LEN], const struct nbd_request *rq);

/* Writes a simple reply header: NBD error value 'error' (0 = success) for 'cookie'. */
void nbd_proto_simple_reply_build(uint8_t out[NBD_SIMPLE_REPLY_LEN], uint32_t error,
				  uint64_t cookie);

/* Parses a simple reply header from 'p' ('len' bytes). 0 or -EBADMSG. */
int nbd_proto_simple_reply_parse(const uint8_t *p, size_t len, uint32_t *ret_error,
				 uint64_t *ret_cookie);

/* Writes structured reply chunk header 'ch' into 'out'. */
void nbd_proto_chunk_build(uint8_t out[NBD_CHUNK_HDR_LEN], const struct nbd_chunk *ch);

/* Parses a structured reply chunk header from 'p' ('len' bytes). 0 or -EBADMSG. */
int nbd_proto_chunk_parse(const uint8_t *p, size_t len, struct nbd_chunk *ret);

/*
 * Writes the header of a final NBD_REPLY_TYPE_OFFSET_DATA chunk for 'cookie'
 * carrying 'data_len' bytes from virtual 'offset': the chunk header and the
 * offset; the caller appends the data. Returns NBD_OFFSET_DATA_HDR_LEN, or
 * -EMSGSIZE when 'data_len' cannot be carried by one chunk.
 */
int nbd_proto_offset_data_build(uint8_t out[NBD_OFFSET_DATA_HDR_LEN], uint64_t cookie,
				uint64_t offset, uint32_t data_len);

/*
 * Builds a final NBD_REPLY_TYPE_ERROR chunk (header and payload) for
 * 'cookie' with NBD error value 'error' (non-zero) and the NUL-terminated
 * 'msg'. Returns the bytes written, -EMSGSIZE (does not fit 'cap'), or
 * -EINVAL (error 0, message over NBD_STRING_MAX).
 */
int nbd_proto_error_chunk_build(uint8_t *out, size_t cap, uint64_t cookie, uint32_t error,
				const char *msg);

/*
 * Builds a final NBD_REPLY_TYPE_BLOCK_STATUS chunk for 'cookie': context
 * 'ctx_id' and the 'n' descriptors of 'ext' (n >= 1, lengths non-zero).
 * Returns the bytes written, -EMSGSIZE, or -EINVAL (no descriptor, a zero
 * length).
 */
int nbd_proto_block_status_build(uint8_t *out, size_t cap, uint64_t cookie, uint32_t ctx_id,
				 const struct nbd_extent *ext, size_t n);

/*
 * Parses the payload of a block status chunk ('len' bytes at 'p'): sets
 * '*ret_ctx' and fills up to 'cap' descriptors of 'ret'. Returns the
 * number of descriptors, -EBADMSG (not 4 + a positive multiple of 8, a
 * zero length) or -E2BIG (more than 'cap').
 */
int nbd_proto_block_status_parse(const uint8_t *p, size_t len, uint32_t *ret_ctx,
				 struct nbd_extent *ret, size_t cap);

/*
 * Maps a negative errno 'r' of the VHD library or the host to the NBD error
 * value a reply carries: EPERM (EPERM, EACCES, EROFS, EBADF), ENOSPC
 * (ENOSPC, EDQUOT, EFBIG, E2BIG), EINVAL, ENOMEM, EOVERFLOW, ESHUTDOWN,
 * ENOTSUP (EOPNOTSUPP), and EIO for everything else.
 */
uint32_t nbd_proto_errno(int r);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of nbd_proto.c, the NBD wire codec: golden bytes for each
 * message the server sends or parses (values from the NBD protocol
 * document's message layouts), build/parse round trips, and the exact
 * error of each malformed or oversize input.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vhd-attach/nbd_proto.h"

static void test_greeting(void **state)
{
	static const uint8_t golden[NBD_GREETING_LEN] = { 'N', 'B', 'D', 'M', 'A',  'G',
							  'I', 'C', 'I', 'H', 'A',  'V',
							  'E', 'O', 'P', 'T', 0x00, 0x03 };
	uint8_t buf[NBD_GREETING_LEN];
	uint16_t flags = 0;

	(void)state;
	nbd_proto_greeting_build(buf, NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES);
	assert_memory_equal(buf, golden, sizeof(golden));
	assert_int_equal(nbd_proto_greeting_parse(buf, sizeof(buf), &flags), 0);
	assert_int_equal(flags, 3);
	assert_int_equal(nbd_proto_greeting_parse(buf, sizeof(buf) - 1, &flags), -EBADMSG);
	buf[0] = 'n';
	assert_int_equal(nbd_proto_greeting_parse(buf, sizeof(buf), &flags), -EBADMSG);
}

static void test_client_flags(void **state)
{
	uint8_t buf[4];
	uint32_t f = 99;

	(void)state;
	nbd_proto_client_flags_build(buf, 3);
	assert_memory_equal(buf, ((uint8_t[]){ 0, 0, 0, 3 }), 4);
	assert_int_equal(nbd_proto_client_flags_parse(buf, 4, 3, &f), 0);
	assert_int_equal(f, 3);
	/* NO_ZEROES echoed although the server did not offer it. */
	f = 99;
	assert_int_equal(nbd_proto_client_flags_parse(buf, 4, NBD_FLAG_FIXED_NEWSTYLE, &f),
			 -EBADMSG);
	assert_int_equal(f, 99);
	nbd_proto_client_flags_build(buf, 4);
	assert_int_equal(nbd_proto_client_flags_parse(buf, 4, 3, &f), -EBADMSG);
	assert_int_equal(nbd_proto_client_flags_parse(buf, 3, 3, &f), -EBADMSG);
	nbd_proto_client_flags_build(buf, 0);
	assert_int_equal(nbd_proto_client_flags_parse(buf, 4, 3, &f), 0);
	assert_int_equal(f, 0);
}

static void test_opt_header(void **state)
{
	static const uint8_t golden[NBD_OPT_HDR_LEN] = { 'I', 'H', 'A', 'V', 'E', 'O', 'P', 'T',
							 0,   0,   0,	7,   0,	  0,   0,   10 };
	struct nbd_opt o = { .option = NBD_OPT_GO, .len = 10 }, p = { 0 };
	uint8_t buf[NBD_OPT_HDR_LEN];

	(void)state;
	nbd_proto_opt_build(buf, &o);
	assert_memory_equal(buf, golden, sizeof(golden));
	assert_int_equal(nbd_proto_opt_parse(buf, sizeof(buf), &p), 0);
	assert_int_equal(p.option, NBD_OPT_GO);
	assert_int_equal(p.len, 10);
	assert_int_equal(nbd_proto_opt_parse(buf, 15, &p), -EBADMSG);
	buf[7] = 'X';
	assert_int_equal(nbd_proto_opt_parse(buf, sizeof(buf), &p), -EBADMSG);
}

static void test_opt_go(void **state)
{
	static const uint8_t golden[] = { 0, 0, 0, 4, 'd', 'i', 's', 'k', 0, 2, 0, 3, 0, 0 };
	static const uint16_t info[] = { NBD_INFO_BLOCK_SIZE, NBD_INFO_EXPORT };
	uint8_t buf[64];
	struct nbd_opt_go go;
	int n;

	(void)state;
	n = nbd_proto_opt_go_build(buf, sizeof(buf), "disk", 4, info, 2);
	assert_int_equal(n, sizeof(golden));
	assert_memory_equal(buf, golden, sizeof(golden));
	assert_int_equal(nbd_proto_opt_go_parse(buf, (size_t)n, &go), 0);
	assert_int_equal(go.name_len, 4);
	assert_memory_equal(go.name, "disk", 4);
	assert_ptr_equal(go.name, buf + 4);
	assert_int_equal(go.info_mask, (1u << NBD_INFO_BLOCK_SIZE) | (1u << NBD_INFO_EXPORT));
	/* Count not matching the rest of the data, either way. */
	assert_int_equal(nbd_proto_opt_go_parse(buf, (size_t)n - 1, &go), -EBADMSG);
	buf[n] = 0;
	buf[n + 1] = 0;
	assert_int_equal(nbd_proto_opt_go_parse(buf, (size_t)n + 2, &go), -EBADMSG);
	/* Name length past the data. */
	buf[3] = 40;
	assert_int_equal(nbd_proto_opt_go_parse(buf, (size_t)n, &go), -EBADMSG);
	/* Unknown info types are accepted and ignored. */
	n = nbd_proto_opt_go_build(buf, sizeof(buf), "", 0, (const uint16_t[]){ 999 }, 1);
	assert_int_equal(n, 8);
	assert_int_equal(nbd_proto_opt_go_parse(buf, 8, &go), 0);
	assert_int_equal(go.name_len, 0);
	assert_int_equal(go.info_mask, 0);
	assert_int_equal(nbd_proto_opt_go_build(buf, 7, "", 0, (const uint16_t[]){ 999 }, 1),
			 -EMSGSIZE);
	assert_int_equal(nbd_proto_opt_go_build(buf, sizeof(buf), "", NBD_STRING_MAX + 1, NULL, 0),
			 -EINVAL);
}

static void test_opt_go_long_name(void **state)
{
	static uint8_t buf[4 + NBD_STRING_MAX + 1 + 2];
	struct nbd_opt_go go;

	(void)state;
	memset(buf, 'a', sizeof(buf));
	buf[0] = 0;
	buf[1] = 0;
	buf[2] = (NBD_STRING_MAX + 1) >> 8;
	buf[3] = (NBD_STRING_MAX + 1) & 0xFF;
	buf[sizeof(buf) - 2] = 0;
	buf[sizeof(buf) - 1] = 0;
	assert_int_equal(nbd_proto_opt_go_parse(buf, sizeof(buf), &go), -EBADMSG);
}

static void test_opt_meta(void **state)
{
	static const uint8_t golden[] = { 0,   0,   0,	 1,   'd', 0,	0,   0,	  1,   0,
					  0,   0,   15,	 'b', 'a', 's', 'e', ':', 'a', 'l',
					  'l', 'o', 'c', 'a', 't', 'i', 'o', 'n' };
	const char *q[] = { "base:allocation" };
	struct nbd_opt_meta m;
	uint8_t buf[4096];
	int n;

	(void)state;
	n = nbd_proto_opt_meta_build(buf, sizeof(buf), "d", q, 1);
	assert_int_equal(n, sizeof(golden));
	assert_memory_equal(buf, golden, sizeof(golden));
	assert_int_equal(nbd_proto_opt_meta_parse(buf, (size_t)n, &m), 0);
	assert_int_equal(m.name.len, 1);
	assert_int_equal(m.n_queries, 1);
	assert_int_equal(m.queries[0].len, 15);
	assert_true(nbd_proto_meta_selects_alloc(&m.queries[0], false));
	/* Trailing bytes, short data, a count the data cannot hold. */
	m.n_queries = 77;
	assert_int_equal(nbd_proto_opt_meta_parse(buf, (size_t)n + 1, &m), -EBADMSG);
	assert_int_equal(m.n_queries, 77);
	assert_int_equal(nbd_proto_opt_meta_parse(buf, (size_t)n - 1, &m), -EBADMSG);
	buf[8] = 50;
	assert_int_equal(nbd_proto_opt_meta_parse(buf, (size_t)n, &m), -EBADMSG);
	assert_int_equal(nbd_proto_opt_meta_build(buf, (size_t)n - 1, "d", q, 1), -EMSGSIZE);
}

static void test_opt_meta_limit(void **state)
{
	const char *q[NBD_META_MAX_QUERIES + 1];
	struct nbd_opt_meta m;
	uint8_t buf[2048];
	int n;

	(void)state;
	for (int i = 0; i <= NBD_META_MAX_QUERIES; i++)
		q[i] = "x:";
	n = nbd_proto_opt_meta_build(buf, sizeof(buf), "", q, NBD_META_MAX_QUERIES);
	assert_true(n > 0);
	assert_int_equal(nbd_proto_opt_meta_parse(buf, (size_t)n, &m), 0);
	assert_int_equal(m.n_queries, NBD_META_MAX_QUERIES);
	n = nbd_proto_opt_meta_build(buf, sizeof(buf), "", q, NBD_META_MAX_QUERIES + 1);
	assert_true(n > 0);
	assert_int_equal(nbd_proto_opt_meta_parse(buf, (size_t)n, &m), -E2BIG);
}

static void test_meta_select(void **state)
{
	struct nbd_str full = { (const uint8_t *)"base:allocation", 15 };
	struct nbd_str ns = { (const uint8_t *)"base:", 5 };
	struct nbd_str longer = { (const uint8_t *)"base:allocationX", 16 };
	struct nbd_str other = { (const uint8_t *)"qemu:dirty-bitmap:a", 19 };

	(void)state;
	assert_true(nbd_proto_meta_selects_alloc(&full, false));
	assert_true(nbd_proto_meta_selects_alloc(&full, true));
	assert_true(nbd_proto_meta_selects_alloc(&ns, true));
	assert_false(nbd_proto_meta_selects_alloc(&ns, false));
	assert_false(nbd_proto_meta_selects_alloc(&longer, true));
	assert_false(nbd_proto_meta_selects_alloc(&other, true));
}

static const uint8_t rep_magic[8] = { 0x00, 0x03, 0xe8, 0x89, 0x04, 0x55, 0x65, 0xa9 };

static void test_rep_info(void **state)
{
	uint8_t buf[64];
	struct nbd_rep r;
	int n;

	(void)state;
	n = nbd_proto_rep_info_export_build(buf, sizeof(buf), NBD_OPT_GO, 1u << 20, 0x014d);
	assert_int_equal(n, 32);
	assert_memory_equal(buf, rep_magic, 8);
	assert_memory_equal(buf + 8, ((uint8_t[]){ 0, 0, 0, 7, 0, 0, 0, 3,    0, 0, 0,	  12,
						   0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0x01, 0x4d }),
			    24);
	assert_int_equal(nbd_proto_rep_parse(buf, (size_t)n, &r), 0);
	assert_int_equal(r.option, NBD_OPT_GO);
	assert_int_equal(r.type, NBD_REP_INFO);
	assert_int_equal(r.len, 12);
	assert_int_equal(nbd_proto_rep_info_export_build(buf, 31, NBD_OPT_GO, 1, 1), -EMSGSIZE);

	n = nbd_proto_rep_info_block_size_build(buf, sizeof(buf), NBD_OPT_INFO, 1, 4096, 32u << 20);
	assert_int_equal(n, 34);
	assert_memory_equal(buf + 8, ((uint8_t[]){ 0, 0, 0, 6, 0, 0, 0, 3,    0, 0,    0, 14, 0,
						   3, 0, 0, 0, 1, 0, 0, 0x10, 0, 0x02, 0, 0,  0 }),
			    26);
	assert_int_equal(nbd_proto_rep_info_block_size_build(buf, 33, NBD_OPT_INFO, 1, 1, 1),
			 -EMSGSIZE);
	buf[0] = 1;
	assert_int_equal(nbd_proto_rep_parse(buf, (size_t)n, &r), -EBADMSG);
	assert_int_equal(nbd_proto_rep_parse(buf, 19, &r), -EBADMSG);
}

static void test_rep_other(void **state)
{
	uint8_t buf[64];
	int n;

	(void)state;
	n = nbd_proto_rep_server_build(buf, sizeof(buf), "ab", 2);
	assert_int_equal(n, 26);
	assert_memory_equal(
		buf + 8, ((uint8_t[]){ 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 6, 0, 0, 0, 2, 'a', 'b' }),
		18);
	assert_int_equal(nbd_proto_rep_server_build(buf, 25, "ab", 2), -EMSGSIZE);

	n = nbd_proto_rep_meta_build(buf, sizeof(buf), NBD_OPT_SET_META_CONTEXT, 1,
				     NBD_META_BASE_ALLOCATION);
	assert_int_equal(n, 20 + 4 + 15);
	assert_memory_equal(buf + 8, ((uint8_t[]){ 0,  0, 0, 10, 0, 0,	 0,   4,   0,	0,  0,
						   19, 0, 0, 0,	 1, 'b', 'a', 's', 'e', ':' }),
			    21);

	n = nbd_proto_rep_err_build(buf, sizeof(buf), 42, NBD_REP_ERR_UNSUP, "no");
	assert_int_equal(n, 22);
	assert_memory_equal(buf + 8,
			    ((uint8_t[]){ 0, 0, 0, 42, 0x80, 0, 0, 1, 0, 0, 0, 2, 'n', 'o' }), 14);
	n = nbd_proto_rep_err_build(buf, sizeof(buf), 42, NBD_REP_ERR_INVALID, "");
	assert_int_equal(n, 20);
	assert_int_equal(nbd_proto_rep_err_build(buf, 21, 42, NBD_REP_ERR_UNSUP, "no"), -EMSGSIZE);
}

static void test_export_name_reply(void **state)
{
	uint8_t buf[NBD_EXPORT_NAME_REPLY_LEN + 4];
	static const uint8_t zeros[124];

	(void)state;
	memset(buf, 0xEE, sizeof(buf));
	assert_int_equal(nbd_proto_export_name_reply_build(buf, sizeof(buf), 512, 0x0003, true),
			 10);
	assert_memory_equal(buf, ((uint8_t[]){ 0, 0, 0, 0, 0, 0, 2, 0, 0, 3 }), 10);
	assert_int_equal(buf[10], 0xEE);
	assert_int_equal(nbd_proto_export_name_reply_build(buf, sizeof(buf), 512, 0x0003, false),
			 NBD_EXPORT_NAME_REPLY_LEN);
	assert_memory_equal(buf + 10, zeros, sizeof(zeros));
	assert_int_equal(nbd_proto_export_name_reply_build(buf, 133, 512, 3, false), -EMSGSIZE);
	assert_int_equal(nbd_proto_export_name_reply_build(buf, 9, 512, 3, true), -EMSGSIZE);
}

static void test_request(void **state)
{
	static const uint8_t golden[NBD_REQUEST_LEN] = {
		0x25, 0x60, 0x95, 0x13, 0x00, 0x01, 0x00, 0x01, 1, 2, 3, 4, 5, 6,
		7,    8,    0,	  0,	0,    0,    0,	  0x10, 0, 0, 0, 1, 0, 0,
	};
	struct nbd_request rq = { 0 }, again;
	uint8_t buf[NBD_REQUEST_LEN];

	(void)state;
	assert_int_equal(nbd_proto_request_parse(golden, sizeof(golden), &rq), 0);
	assert_int_equal(rq.flags, NBD_CMD_FLAG_FUA);
	assert_int_equal(rq.type, NBD_CMD_WRITE);
	assert_true(rq.cookie == 0x0102030405060708ull);
	assert_true(rq.offset == 0x100000ull);
	assert_int_equal(rq.len, 0x10000);
	nbd_proto_request_build(buf, &rq);
	assert_memory_equal(buf, golden, sizeof(golden));
	assert_int_equal(nbd_proto_request_parse(golden, 27, &again), -EBADMSG);
	buf[3] = 0x14;
	again.type = 77;
	assert_int_equal(nbd_proto_request_parse(buf, sizeof(buf), &again), -EBADMSG);
	assert_int_equal(again.type, 77);
}

static void test_simple_reply(void **state)
{
	uint8_t buf[NBD_SIMPLE_REPLY_LEN];
	uint32_t err = 0;
	uint64_t cookie = 0;

	(void)state;
	nbd_proto_simple_reply_build(buf, NBD_EPERM, 0xAABBCCDDEEFF0011ull);
	assert_memory_equal(buf,
			    ((uint8_t[]){ 0x67, 0x44, 0x66, 0x98, 0, 0, 0, 1, 0xAA, 0xBB, 0xCC,
					  0xDD, 0xEE, 0xFF, 0x00, 0x11 }),
			    16);
	assert_int_equal(nbd_proto_simple_reply_parse(buf, sizeof(buf), &err, &cookie), 0);
	assert_int_equal(err, 1);
	assert_true(cookie == 0xAABBCCDDEEFF0011ull);
	assert_int_equal(nbd_proto_simple_reply_parse(buf, 15, &err, &cookie), -EBADMSG);
	buf[0] = 0;
	assert_int_equal(nbd_proto_simple_reply_parse(buf, sizeof(buf), &err, &cookie), -EBADMSG);
}

static void test_chunks(void **state)
{
	uint8_t buf[128];
	struct nbd_chunk ch;
	int n;

	(void)state;
	assert_int_equal(nbd_proto_offset_data_build(buf, 9, 4096, 512), NBD_OFFSET_DATA_HDR_LEN);
	assert_memory_equal(
		buf, ((uint8_t[]){ 0x66, 0x8e, 0x33, 0xef, 0, 1, 0, 1, 0, 0, 0, 0, 0,	 0,
				   0,	 9,    0,    0,	   2, 8, 0, 0, 0, 0, 0, 0, 0x10, 0 }),
		28);
	assert_int_equal(nbd_proto_chunk_parse(buf, 20, &ch), 0);
	assert_int_equal(ch.flags, NBD_REPLY_FLAG_DONE);
	assert_int_equal(ch.type, NBD_REPLY_TYPE_OFFSET_DATA);
	assert_int_equal(ch.len, 520);
	assert_int_equal(nbd_proto_offset_data_build(buf, 9, 0, UINT32_MAX - 8),
			 NBD_OFFSET_DATA_HDR_LEN);
	assert_int_equal(nbd_proto_offset_data_build(buf, 9, 0, UINT32_MAX - 7), -EMSGSIZE);

	n = nbd_proto_error_chunk_build(buf, sizeof(buf), 5, NBD_EINVAL, "bad");
	assert_int_equal(n, 29);
	assert_memory_equal(buf, ((uint8_t[]){ 0x66, 0x8e, 0x33, 0xef, 0, 1, 0x80, 1,	0,  0,
					       0,    0,	   0,	 0,    0, 5, 0,	   0,	0,  9,
					       0,    0,	   0,	 22,   0, 3, 'b',  'a', 'd' }),
			    29);
	assert_int_equal(nbd_proto_error_chunk_build(buf, 28, 5, NBD_EINVAL, "bad"), -EMSGSIZE);
	assert_int_equal(nbd_proto_error_chunk_build(buf, sizeof(buf), 5, 0, "x"), -EINVAL);

	ch = (struct nbd_chunk){ .flags = 0, .type = NBD_REPLY_TYPE_NONE, .cookie = 3, .len = 0 };
	nbd_proto_chunk_build(buf, &ch);
	ch.type = 99;
	assert_int_equal(nbd_proto_chunk_parse(buf, 20, &ch), 0);
	assert_int_equal(ch.type, NBD_REPLY_TYPE_NONE);
	assert_int_equal(nbd_proto_chunk_parse(buf, 19, &ch), -EBADMSG);
	buf[1] = 0;
	assert_int_equal(nbd_proto_chunk_parse(buf, 20, &ch), -EBADMSG);
}

static void test_block_status(void **state)
{
	const struct nbd_extent ext[2] = { { 2u << 20, 0 }, { 6u << 20, 3 } };
	struct nbd_extent back[2];
	uint8_t buf[64];
	uint32_t ctx = 0;
	int n;

	(void)state;
	n = nbd_proto_block_status_build(buf, sizeof(buf), 7, 1, ext, 2);
	assert_int_equal(n, 20 + 4 + 16);
	assert_memory_equal(
		buf, ((uint8_t[]){ 0x66, 0x8e, 0x33, 0xef, 0, 1,    0, 5, 0, 0, 0, 0,	 0, 0,
				   0,	 7,    0,    0,	   0, 20,   0, 0, 0, 1, 0, 0x20, 0, 0,
				   0,	 0,    0,    0,	   0, 0x60, 0, 0, 0, 0, 0, 3 }),
		40);
	assert_int_equal(nbd_proto_block_status_parse(buf + 20, 20, &ctx, back, 2), 2);
	assert_int_equal(ctx, 1);
	assert_int_equal(back[0].len, 2u << 20);
	assert_int_equal(back[1].flags, 3);
	assert_int_equal(nbd_proto_block_status_parse(buf + 20, 20, &ctx, back, 1), -E2BIG);
	assert_int_equal(nbd_proto_block_status_parse(buf + 20, 4, &ctx, back, 2), -EBADMSG);
	assert_int_equal(nbd_proto_block_status_parse(buf + 20, 19, &ctx, back, 2), -EBADMSG);
	assert_int_equal(nbd_proto_block_status_build(buf, 39, 7, 1, ext, 2), -EMSGSIZE);
	assert_int_equal(nbd_proto_block_status_build(buf, 10, 7, 1, ext, 2), -EMSGSIZE);
	assert_int_equal(nbd_proto_block_status_build(buf, sizeof(buf), 7, 1, ext, 0), -EINVAL);
	assert_int_equal(nbd_proto_block_status_build(buf, sizeof(buf), 7, 1,
						      (const struct nbd_extent[]){ { 0, 0 } }, 1),
			 -EINVAL);
	/* A zero-length descriptor on the wire. */
	n = nbd_proto_block_status_build(buf, sizeof(buf), 7, 1, ext, 2);
	memset(buf + 32, 0, 4);
	back[0].len = 12345;
	assert_int_equal(nbd_proto_block_status_parse(buf + 20, 20, &ctx, back, 2), -EBADMSG);
	assert_int_equal(back[0].len, 12345);
}

static void test_errno_map(void **state)
{
	(void)state;
	assert_int_equal(nbd_proto_errno(-EPERM), NBD_EPERM);
	assert_int_equal(nbd_proto_errno(-EBADF), NBD_EPERM);
	assert_int_equal(nbd_proto_errno(-EROFS), NBD_EPERM);
	assert_int_equal(nbd_proto_errno(-ENOSPC), NBD_ENOSPC);
	assert_int_equal(nbd_proto_errno(-EFBIG), NBD_ENOSPC);
	assert_int_equal(nbd_proto_errno(-E2BIG), NBD_ENOSPC);
	assert_int_equal(nbd_proto_errno(-EINVAL), NBD_EINVAL);
	assert_int_equal(nbd_proto_errno(-ENOMEM), NBD_ENOMEM);
	assert_int_equal(nbd_proto_errno(-EOPNOTSUPP), NBD_ENOTSUP);
	assert_int_equal(nbd_proto_errno(-EBADMSG), NBD_EIO);
	assert_int_equal(nbd_proto_errno(-ENOLINK), NBD_EIO);
	assert_int_equal(nbd_proto_errno(-EIO), NBD_EIO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_greeting),	  cmocka_unit_test(test_client_flags),
		cmocka_unit_test(test_opt_header),	  cmocka_unit_test(test_opt_go),
		cmocka_unit_test(test_opt_go_long_name),  cmocka_unit_test(test_opt_meta),
		cmocka_unit_test(test_opt_meta_limit),	  cmocka_unit_test(test_meta_select),
		cmocka_unit_test(test_rep_info),	  cmocka_unit_test(test_rep_other),
		cmocka_unit_test(test_export_name_reply), cmocka_unit_test(test_request),
		cmocka_unit_test(test_simple_reply),	  cmocka_unit_test(test_chunks),
		cmocka_unit_test(test_block_status),	  cmocka_unit_test(test_errno_map),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

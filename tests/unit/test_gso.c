/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of software segmentation: every segment must equal, byte for
 * byte, a frame this test builds on its own (its own checksum code, not
 * common/csum.c) for that slice of the payload.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vswitch/frame.h"
#include "vswitch/gso.h"

#define MAXF 70000

/* RFC 1071, written out plainly. */
static uint16_t ref_csum(const uint8_t *p, size_t len, uint32_t start)
{
	uint64_t sum = start;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void w16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void w32(uint8_t *p, uint32_t v)
{
	w16(p, v >> 16);
	w16(p + 2, v & 0xffff);
}

struct spec {
	int v6, vlan;
	uint32_t seq;
	uint8_t flags;
	uint16_t ip_id;
	size_t tcp_opts; /* bytes of TCP options (multiple of 4) */
};

/* Builds one complete Ethernet/IP/TCP frame carrying 'len' bytes of 'data'. */
static size_t build(uint8_t *out, const struct spec *s, const uint8_t *data, size_t len)
{
	size_t l3 = s->vlan ? 18 : 14, iphl = s->v6 ? 40 : 20, thl = 20 + s->tcp_opts;
	uint8_t *ip = out + l3, *tcp = ip + iphl;
	uint8_t pseudo[40];
	uint32_t psum = 0;
	size_t plen;

	memset(out, 0, l3 + iphl + thl);
	memcpy(out, "\x52\x54\x00\x00\x00\x02\x52\x54\x00\x00\x00\x01", 12);
	if (s->vlan) {
		w16(out + 12, 0x8100);
		w16(out + 14, 42);
	}
	w16(out + l3 - 2, s->v6 ? 0x86dd : 0x0800);
	if (s->v6) {
		ip[0] = 0x60;
		w16(ip + 4, (uint32_t)(thl + len));
		ip[6] = 6;
		ip[7] = 64;
		for (int i = 0; i < 16; i++) {
			ip[8 + i] = (uint8_t)(0x20 + i);
			ip[24 + i] = (uint8_t)(0x40 + i);
		}
		memcpy(pseudo, ip + 8, 32);
		plen = 32;
	} else {
		ip[0] = 0x45;
		w16(ip + 2, (uint32_t)(iphl + thl + len));
		w16(ip + 4, s->ip_id);
		ip[6] = 0x40; /* DF */
		ip[8] = 64;
		ip[9] = 6;
		w32(ip + 12, 0x0a000001);
		w32(ip + 16, 0x0a000002);
		w16(ip + 10, ref_csum(ip, 20, 0));
		memcpy(pseudo, ip + 12, 8);
		plen = 8;
	}
	w16(tcp, 40000);
	w16(tcp + 2, 5201);
	w32(tcp + 4, s->seq);
	w32(tcp + 8, 0x11223344);
	tcp[12] = (uint8_t)((thl / 4) << 4);
	tcp[13] = s->flags;
	w16(tcp + 14, 501);
	for (size_t i = 0; i < s->tcp_opts; i++)
		tcp[20 + i] = i % 4 == 3 ? 0 : 1; /* NOPs and EOLs */
	memcpy(tcp + thl, data, len);
	for (size_t i = 0; i < plen; i += 2)
		psum += (uint32_t)(pseudo[i] << 8 | pseudo[i + 1]);
	psum += 6 + (uint32_t)(thl + len);
	w16(tcp + 16, ref_csum(tcp, thl + len, psum));
	return l3 + iphl + thl + len;
}

struct sink {
	uint8_t *frames[64];
	size_t lens[64];
	int n;
	int fail_at; /* emit returns -ENOBUFS at this index, or -1 */
};

static int sink_emit(void *arg, const struct frame *seg)
{
	struct sink *s = arg;

	if (s->n == s->fail_at)
		return -ENOBUFS;
	assert_true(s->n < 64);
	s->frames[s->n] = malloc(seg->len);
	memcpy(s->frames[s->n], seg->data, seg->len);
	s->lens[s->n++] = seg->len;
	assert_int_equal(seg->vnet.flags, 0);
	assert_int_equal(seg->vnet.gso_type, 0);
	return 0;
}

static void sink_done(struct sink *s)
{
	for (int i = 0; i < s->n; i++)
		free(s->frames[i]);
}

static void check_segmentation(const struct spec *base, size_t payload, uint16_t mss)
{
	static uint8_t data[65536], super[MAXF], expect[MAXF], buf[MAXF];
	struct sink sink = { .fail_at = -1 };
	struct frame f = { .data = super, .cap = MAXF };
	size_t off = 0;
	int i = 0, n;

	for (size_t k = 0; k < payload; k++)
		data[k] = (uint8_t)(k * 7 + 3);
	f.len = (uint32_t)build(super, base, data, payload);
	f.vnet.gso_type = base->v6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4;
	f.vnet.gso_size = mss;
	f.vnet.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	n = gso_segment(&f, buf, sizeof(buf), sink_emit, &sink);
	assert_int_equal(n, (int)((payload + mss - 1) / mss));
	assert_int_equal(sink.n, n);
	while (off < payload) {
		size_t chunk = payload - off < mss ? payload - off : mss;
		struct spec s = *base;
		size_t len;

		s.seq = base->seq + (uint32_t)off;
		s.ip_id = (uint16_t)(base->ip_id + i);
		if (off + chunk < payload)
			s.flags &= (uint8_t)~0x09; /* FIN, PSH only on the last */
		if (i)
			s.flags &= (uint8_t)~0x80; /* CWR only on the first */
		len = build(expect, &s, data + off, chunk);
		assert_int_equal(sink.lens[i], len);
		assert_memory_equal(sink.frames[i], expect, len);
		off += chunk;
		i++;
	}
	sink_done(&sink);
}

static void test_ipv4(void **state)
{
	struct spec s = { .seq = 1000, .flags = 0x18 | 0x01 | 0x80, .ip_id = 0xfffe };

	(void)state;
	check_segmentation(&s, 65000, 1448); /* ip_id wraps */
	check_segmentation(&s, 1448 * 3, 1448);
	check_segmentation(&s, 1, 1448);
}

static void test_ipv4_options_vlan_seq_wrap(void **state)
{
	struct spec s = { .vlan = 1, .seq = 0xffffff00u, .flags = 0x10, .tcp_opts = 12 };

	(void)state;
	check_segmentation(&s, 10000, 1000);
}

static void test_ipv6(void **state)
{
	struct spec s = { .v6 = 1, .seq = 7, .flags = 0x18, .tcp_opts = 12 };

	(void)state;
	check_segmentation(&s, 64000, 1428);
	check_segmentation(&s, 3000, 1428);
}

static void test_bad_frames(void **state)
{
	static uint8_t data[4000], super[MAXF], buf[MAXF];
	struct spec s = { .seq = 1, .flags = 0x10 };
	struct sink sink = { .fail_at = -1 };
	struct frame f = { .data = super, .cap = MAXF };

	(void)state;
	f.len = (uint32_t)build(super, &s, data, sizeof(data));
	f.vnet.gso_type = VIRTIO_NET_HDR_GSO_UDP;
	f.vnet.gso_size = 1000;
	assert_int_equal(gso_segment(&f, buf, sizeof(buf), sink_emit, &sink), -EOPNOTSUPP);
	f.vnet.gso_type = VIRTIO_NET_HDR_GSO_TCPV6; /* says v6, is v4 */
	assert_int_equal(gso_segment(&f, buf, sizeof(buf), sink_emit, &sink), -EBADMSG);
	f.vnet.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	f.vnet.gso_size = 0;
	assert_int_equal(gso_segment(&f, buf, sizeof(buf), sink_emit, &sink), -EBADMSG);
	f.vnet.gso_size = 1000;
	assert_int_equal(gso_segment(&f, buf, 500, sink_emit, &sink), -EMSGSIZE);
	f.len = 40; /* truncated inside the TCP header */
	assert_int_equal(gso_segment(&f, buf, sizeof(buf), sink_emit, &sink), -EBADMSG);
	f.len = (uint32_t)build(super, &s, data, sizeof(data));
	super[14 + 9] = 17; /* UDP in a TCP GSO frame */
	assert_int_equal(gso_segment(&f, buf, sizeof(buf), sink_emit, &sink), -EBADMSG);
	super[14 + 9] = 6;
	super[14 + 20 + 12] = 0x40; /* data offset 16 bytes */
	assert_int_equal(gso_segment(&f, buf, sizeof(buf), sink_emit, &sink), -EBADMSG);
	super[14 + 20 + 12] = 0x50;
	assert_int_equal(sink.n, 0);
	/* an emit failure stops the run and is returned */
	sink.fail_at = 2;
	assert_int_equal(gso_segment(&f, buf, sizeof(buf), sink_emit, &sink), -ENOBUFS);
	assert_int_equal(sink.n, 2);
	sink_done(&sink);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4),
		cmocka_unit_test(test_ipv4_options_vlan_seq_wrap),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_bad_frames),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */
/*
 * TCP segmentation offload in software, for the core's egress edge
 * (switch.c). Each segment gets a copy of the Ethernet/IP/TCP headers with:
 * IPv4 total length, identification (+1 per segment, as Linux's TSO does) and
 * header checksum; IPv6 payload length; TCP sequence number advanced by the
 * payload already sent; FIN and PSH only on the last segment and CWR only on
 * the first (RFC 3168 §6.1.2: CWR is set once, on the first new segment); and
 * a full TCP checksum over the pseudo-header, header and payload.
 */
#include "vswitch/gso.h"

#include <errno.h>
#include <linux/virtio_net.h>
#include <string.h>

#include "common/bytes.h"
#include "common/csum.h"
#include "common/cur.h"
#include "vswitch/frame.h"

#define TCP_FIN 0x01
#define TCP_PSH 0x08
#define TCP_CWR 0x80

struct gso_hdrs {
	size_t l3;  /* offset of the IP header */
	size_t l4;  /* offset of the TCP header */
	size_t len; /* bytes of all headers */
	int is_v6;
};

/* Finds the IP and TCP headers and checks them against the frame's length. */
static int gso_parse(const struct frame *f, struct gso_hdrs *h)
{
	struct cur c = cur_make(f->data, f->len);
	uint16_t type;
	const uint8_t *ip, *tcp;
	size_t doff;

	if (!cur_pull(&c, 12) || cur_be16(&c, &type))
		return -EBADMSG;
	if (type == 0x8100 && (!cur_pull(&c, 2) || cur_be16(&c, &type)))
		return -EBADMSG;
	h->l3 = f->len - c.len;
	if (type == 0x0800) {
		size_t ihl;

		if (f->vnet.gso_type != VIRTIO_NET_HDR_GSO_TCPV4 || c.len < 20)
			return -EBADMSG;
		ihl = (size_t)(c.p[0] & 0x0f) * 4;
		if (c.p[0] >> 4 != 4 || ihl < 20 || c.p[9] != 6)
			return -EBADMSG;
		ip = cur_pull(&c, ihl);
		h->is_v6 = 0;
	} else if (type == 0x86dd) {
		if (f->vnet.gso_type != VIRTIO_NET_HDR_GSO_TCPV6 || c.len < 40 || c.p[0] >> 4 != 6)
			return -EBADMSG;
		if (c.p[6] != 6)
			return -EOPNOTSUPP; /* extension headers: never produced by Linux TSO here
					     */
		ip = cur_pull(&c, 40);
		h->is_v6 = 1;
	} else {
		return -EBADMSG;
	}
	if (!ip || c.len < 20)
		return -EBADMSG;
	h->l4 = f->len - c.len;
	doff = (size_t)(c.p[12] >> 4) * 4;
	tcp = cur_pull(&c, doff);
	if (doff < 20 || !tcp)
		return -EBADMSG;
	h->len = f->len - c.len;
	return 0;
}

int gso_segment(const struct frame *f, uint8_t *buf, size_t cap, gso_emit_fn *emit, void *arg)
{
	struct gso_hdrs h;
	size_t mss = f->vnet.gso_size, payload, off = 0;
	uint32_t seq;
	uint16_t ip_id = 0;
	uint8_t flags;
	int r, n = 0;

	if ((f->vnet.gso_type & ~VIRTIO_NET_HDR_GSO_ECN) != VIRTIO_NET_HDR_GSO_TCPV4 &&
	    (f->vnet.gso_type & ~VIRTIO_NET_HDR_GSO_ECN) != VIRTIO_NET_HDR_GSO_TCPV6)
		return -EOPNOTSUPP;
	{
		struct frame plain = *f;

		plain.vnet.gso_type &= (uint8_t)~VIRTIO_NET_HDR_GSO_ECN;
		r = gso_parse(&plain, &h);
	}
	if (r < 0)
		return r;
	if (!mss)
		return -EBADMSG;
	if (h.len + (mss < f->len - h.len ? mss : f->len - h.len) > cap)
		return -EMSGSIZE;
	payload = f->len - h.len;
	seq = get_be32(f->data + h.l4 + 4);
	flags = f->data[h.l4 + 13];
	if (!h.is_v6)
		ip_id = get_be16(f->data + h.l3 + 4);

	do {
		size_t chunk = payload - off < mss ? payload - off : mss;
		size_t l4_len = h.len - h.l4 + chunk;
		int last = off + chunk >= payload;
		uint8_t *ip = buf + h.l3, *tcp = buf + h.l4;
		uint32_t sum;
		struct frame seg = { .data = buf,
				     .len = (uint32_t)(h.len + chunk),
				     .cap = (uint32_t)cap };

		memcpy(buf, f->data, h.len);
		memcpy(buf + h.len, f->data + h.len + off, chunk);
		if (h.is_v6) {
			put_be16(ip + 4, (uint16_t)l4_len);
			sum = csum_add(0, ip + 8, 32); /* source and destination */
		} else {
			put_be16(ip + 2, (uint16_t)(h.l4 - h.l3 + l4_len));
			put_be16(ip + 4, (uint16_t)(ip_id + n));
			put_be16(ip + 10, 0);
			put_be16(ip + 10, csum_fold(csum_add(0, ip, h.l4 - h.l3)));
			sum = csum_add(0, ip + 12, 8);
		}
		put_be32(tcp + 4, seq + (uint32_t)off);
		tcp[13] = flags;
		if (!last)
			tcp[13] &= (uint8_t) ~(TCP_FIN | TCP_PSH);
		if (n)
			tcp[13] &= (uint8_t)~TCP_CWR;
		put_be16(tcp + 16, 0);
		sum += 6 + (uint32_t)l4_len; /* pseudo-header: protocol and TCP length */
		put_be16(tcp + 16, csum_fold(csum_add(sum, tcp, l4_len)));
		r = emit(arg, &seg);
		if (r < 0)
			return r;
		n++;
		off += chunk;
	} while (off < payload);
	return n;
}

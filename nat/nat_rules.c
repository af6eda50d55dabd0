/* SPDX-License-Identifier: MIT */
/*
 * Builds the NAT network's nftables batch with libnftnl (see nat_rules.h).
 * The expressions are those `nft --debug=netlink` prints for the equivalent
 * nft rules; each rule is assembled from the small helpers below so that a
 * reader can map it back to nft syntax, which the comment above each rule
 * gives.
 */
#include "nat/nat_rules.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter_ipv4.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#define MSG_MAX 2048 /* room checked before each message: a rule here is far smaller */

/* The batch being written: a cursor into the caller's buffer. */
struct batch {
	char *buf;
	size_t cap;
	size_t len;
	uint32_t seq;
	int err; /* first error; later calls do nothing */
};

int nat_rules_table_name(const char *network, char *buf, size_t cap)
{
	int n = snprintf(buf, cap, "vswitch-%s", network);

	return n < 0 || (size_t)n >= cap ? -E2BIG : 0;
}

static char *batch_room(struct batch *b)
{
	if (b->err)
		return NULL;
	if (b->cap - b->len < MSG_MAX) {
		b->err = -EMSGSIZE;
		return NULL;
	}
	return b->buf + b->len;
}

static void batch_done(struct batch *b, struct nlmsghdr *nlh)
{
	b->len += NLMSG_ALIGN(nlh->nlmsg_len);
	b->seq++;
}

static void batch_marker(struct batch *b, bool begin)
{
	char *p = batch_room(b);

	if (p)
		batch_done(b, begin ? nftnl_batch_begin(p, b->seq) : nftnl_batch_end(p, b->seq));
}

static void put_table(struct batch *b, uint16_t type, const char *name, uint32_t flags,
		      bool set_flags)
{
	char *p = batch_room(b);
	struct nftnl_table *t;
	struct nlmsghdr *nlh;

	if (!p)
		return;
	t = nftnl_table_alloc();
	if (!t) {
		b->err = -ENOMEM;
		return;
	}
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, name);
	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, NFPROTO_IPV4);
	if (set_flags)
		nftnl_table_set_u32(t, NFTNL_TABLE_FLAGS, flags);
	nlh = nftnl_nlmsg_build_hdr(p, type, NFPROTO_IPV4,
				    (type == NFT_MSG_NEWTABLE ? NLM_F_CREATE : 0) | NLM_F_ACK,
				    b->seq);
	nftnl_table_nlmsg_build_payload(nlh, t);
	nftnl_table_free(t);
	batch_done(b, nlh);
}

static void put_chain(struct batch *b, const char *table, const char *name, const char *type,
		      uint32_t hook, int32_t prio)
{
	char *p = batch_room(b);
	struct nftnl_chain *c;
	struct nlmsghdr *nlh;

	if (!p)
		return;
	c = nftnl_chain_alloc();
	if (!c) {
		b->err = -ENOMEM;
		return;
	}
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, table);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, name);
	nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, type);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, hook);
	nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, prio);
	/* Accept: another table's drop is final anyway, and ours must not drop the host's traffic.
	 */
	nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
	nlh = nftnl_nlmsg_build_hdr(p, NFT_MSG_NEWCHAIN, NFPROTO_IPV4, NLM_F_CREATE | NLM_F_ACK,
				    b->seq);
	nftnl_chain_nlmsg_build_payload(nlh, c);
	nftnl_chain_free(c);
	batch_done(b, nlh);
}

/* A rule under construction; its expressions are added in order. */
struct rule {
	struct batch *b;
	struct nftnl_rule *r;
};

static bool rule_start(struct rule *x, struct batch *b, const char *table, const char *chain)
{
	x->b = b;
	x->r = b->err ? NULL : nftnl_rule_alloc();
	if (!x->r) {
		if (!b->err)
			b->err = -ENOMEM;
		return false;
	}
	nftnl_rule_set_str(x->r, NFTNL_RULE_TABLE, table);
	nftnl_rule_set_str(x->r, NFTNL_RULE_CHAIN, chain);
	nftnl_rule_set_u32(x->r, NFTNL_RULE_FAMILY, NFPROTO_IPV4);
	return true;
}

static struct nftnl_expr *expr(struct rule *x, const char *name)
{
	struct nftnl_expr *e = x->r ? nftnl_expr_alloc(name) : NULL;

	if (!e) {
		if (!x->b->err)
			x->b->err = -ENOMEM;
		return NULL;
	}
	nftnl_rule_add_expr(x->r, e);
	return e;
}

static void rule_end(struct rule *x)
{
	char *p = batch_room(x->b);
	struct nlmsghdr *nlh;

	if (p && x->r) {
		nlh = nftnl_nlmsg_build_hdr(p, NFT_MSG_NEWRULE, NFPROTO_IPV4,
					    NLM_F_CREATE | NLM_F_APPEND | NLM_F_ACK, x->b->seq);
		nftnl_rule_nlmsg_build_payload(nlh, x->r);
		batch_done(x->b, nlh);
	}
	nftnl_rule_free(x->r);
	x->r = NULL;
}

/* reg1 = 'len' bytes of the network ('base') header at 'offset'. */
static void e_payload(struct rule *x, uint32_t base, uint32_t offset, uint32_t len)
{
	struct nftnl_expr *e = expr(x, "payload");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, offset);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
}

/* reg1 == / != 'len' bytes of 'data' */
static void e_cmp(struct rule *x, enum nft_cmp_ops op, const void *data, uint32_t len)
{
	struct nftnl_expr *e = expr(x, "cmp");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
	nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
}

/* reg1 = reg1 & 'mask' (4 bytes) */
static void e_mask32(struct rule *x, uint32_t mask_be)
{
	struct nftnl_expr *e = expr(x, "bitwise");
	uint32_t zero = 0;

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, 4);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, &mask_be, 4);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, &zero, 4);
}

static uint32_t prefix_mask_be(uint8_t prefix_len)
{
	return htonl(prefix_len ? ~0u << (32 - prefix_len) : 0);
}

/* ip saddr|daddr [!=] NET/PREFIX  ('offset' 12 = source, 16 = destination) */
static void m_ip_net(struct rule *x, uint32_t offset, enum nft_cmp_ops op, uint32_t net_be,
		     uint8_t prefix_len)
{
	e_payload(x, NFT_PAYLOAD_NETWORK_HEADER, offset, 4);
	if (prefix_len < 32)
		e_mask32(x, prefix_mask_be(prefix_len));
	e_cmp(x, op, &net_be, 4);
}

/* iifname|oifname [!=] "NAME" */
static void m_ifname_op(struct rule *x, enum nft_meta_keys key, enum nft_cmp_ops op,
			const char *name)
{
	struct nftnl_expr *e = expr(x, "meta");
	char pad[IFNAMSIZ] = { 0 };

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
	strncpy(pad, name, sizeof(pad) - 1);
	e_cmp(x, op, pad, sizeof(pad));
}

static void m_ifname(struct rule *x, enum nft_meta_keys key, const char *name)
{
	m_ifname_op(x, key, NFT_CMP_EQ, name);
}

/* meta l4proto P */
static void m_l4proto(struct rule *x, uint8_t proto)
{
	struct nftnl_expr *e = expr(x, "meta");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, NFT_META_L4PROTO);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
	e_cmp(x, NFT_CMP_EQ, &proto, 1);
}

/* th dport P (after m_l4proto: TCP and UDP both keep it at offset 2) */
static void m_dport(struct rule *x, uint16_t port)
{
	uint16_t be = htons(port);

	e_payload(x, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2);
	e_cmp(x, NFT_CMP_EQ, &be, 2);
}

/* fib daddr type local */
static void m_daddr_local(struct rule *x)
{
	struct nftnl_expr *e = expr(x, "fib");
	uint32_t local = RTN_LOCAL;

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_FLAGS, NFTA_FIB_F_DADDR);
	nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_RESULT, NFT_FIB_RESULT_ADDRTYPE);
	nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_DREG, NFT_REG_1);
	e_cmp(x, NFT_CMP_EQ, &local, 4);
}

/* ct state|status & 'bits' != 0 */
static void m_ct_bits(struct rule *x, enum nft_ct_keys key, uint32_t bits)
{
	struct nftnl_expr *e = expr(x, "ct");
	uint32_t zero = 0;

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
	e = expr(x, "bitwise");
	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, 4);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, &bits, 4);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, &zero, 4);
	e_cmp(x, NFT_CMP_NEQ, &zero, 4);
}

/* accept | drop | return */
static void v_verdict(struct rule *x, int verdict)
{
	struct nftnl_expr *e = expr(x, "immediate");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, (uint32_t)verdict);
}

/* reg 'reg' = 'len' bytes of 'data' */
static void e_imm(struct rule *x, enum nft_registers reg, const void *data, uint32_t len)
{
	struct nftnl_expr *e = expr(x, "immediate");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, reg);
	nftnl_expr_set(e, NFTNL_EXPR_IMM_DATA, data, len);
}

/* masquerade [to :1024-65535] */
static void v_masq(struct rule *x, bool port_range)
{
	uint16_t lo = htons(1024), hi = htons(65535);
	struct nftnl_expr *e;

	if (port_range) {
		e_imm(x, NFT_REG_1, &lo, 2);
		e_imm(x, NFT_REG_2, &hi, 2);
	}
	e = expr(x, "masq");
	if (!e || !port_range)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_MASQ_REG_PROTO_MIN, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_MASQ_REG_PROTO_MAX, NFT_REG_2);
	nftnl_expr_set_u32(e, NFTNL_EXPR_MASQ_FLAGS, NF_NAT_RANGE_PROTO_SPECIFIED);
}

/* dnat to ADDR:PORT */
static void v_dnat(struct rule *x, uint32_t addr_be, uint16_t port)
{
	uint16_t port_be = htons(port);
	struct nftnl_expr *e;

	e_imm(x, NFT_REG_1, &addr_be, 4);
	e_imm(x, NFT_REG_2, &port_be, 2);
	e = expr(x, "nat");
	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_TYPE, NFT_NAT_DNAT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FAMILY, NFPROTO_IPV4);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_ADDR_MIN, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_PROTO_MIN, NFT_REG_2);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FLAGS, NF_NAT_RANGE_PROTO_SPECIFIED);
}

/* reject with icmp type admin-prohibited: the sender learns at once, unlike with a drop */
static void v_reject(struct rule *x)
{
	struct nftnl_expr *e = expr(x, "reject");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_REJECT_TYPE, NFT_REJECT_ICMP_UNREACH);
	nftnl_expr_set_u8(e, NFTNL_EXPR_REJECT_CODE, 13 /* ICMP_PKT_FILTERED */);
}

#define IP_SADDR 12
#define IP_DADDR 16

static void postrouting_rules(struct batch *b, const struct nat_rules_conf *c)
{
	static const uint8_t protos[] = { IPPROTO_TCP, IPPROTO_UDP, 0 };
	uint32_t mcast_be = htonl(0xe0000000u), bcast_be = htonl(0xffffffffu);
	struct rule x;

	/*
	 * ip saddr NET oifname UP ip daddr 224.0.0.0/24 return
	 * ip saddr NET oifname UP ip daddr 255.255.255.255 return
	 * (local multicast and broadcast keep their addresses; strict DHCP
	 * clients also reject a rewritten source port)
	 */
	for (int i = 0; i < 2; i++) {
		if (!rule_start(&x, b, c->table, "postrouting"))
			return;
		m_ip_net(&x, IP_SADDR, NFT_CMP_EQ, c->subnet_be, c->prefix_len);
		m_ifname(&x, NFT_META_OIFNAME, c->uplink);
		if (i == 0)
			m_ip_net(&x, IP_DADDR, NFT_CMP_EQ, mcast_be, 24);
		else
			m_ip_net(&x, IP_DADDR, NFT_CMP_EQ, bcast_be, 32);
		v_verdict(&x, NFT_RETURN);
		rule_end(&x);
	}
	/*
	 * ip saddr NET ip daddr != NET oifname UP meta l4proto tcp masquerade to :1024-65535
	 * ... udp likewise, then the rest (ICMP) without a port range. The port
	 * floor keeps guests off source ports below 1024, which NFS servers and
	 * the like trust as privileged.
	 */
	for (size_t i = 0; i < sizeof(protos); i++) {
		if (!rule_start(&x, b, c->table, "postrouting"))
			return;
		m_ip_net(&x, IP_SADDR, NFT_CMP_EQ, c->subnet_be, c->prefix_len);
		m_ip_net(&x, IP_DADDR, NFT_CMP_NEQ, c->subnet_be, c->prefix_len);
		m_ifname(&x, NFT_META_OIFNAME, c->uplink);
		if (protos[i])
			m_l4proto(&x, protos[i]);
		v_masq(&x, protos[i] != 0);
		rule_end(&x);
	}
}

static void mapping_rules(struct batch *b, const struct nat_rules_conf *c)
{
	uint32_t lo_be = htonl(0x7f000000u);
	struct rule x;

	for (size_t i = 0; i < c->n_forwards; i++) {
		const struct nat_forward *f = &c->forwards[i];

		/*
		 * prerouting: iifname != HOST fib daddr type local P dport HP dnat to G:GP
		 * Guests of this network itself are left out: the reply would go
		 * straight back on the same link, past the un-NAT.
		 */
		if (!rule_start(&x, b, c->table, "prerouting"))
			return;
		m_ifname_op(&x, NFT_META_IIFNAME, NFT_CMP_NEQ, c->host_ifname);
		m_daddr_local(&x);
		m_l4proto(&x, f->proto);
		m_dport(&x, f->host_port);
		v_dnat(&x, f->guest_be, f->guest_port);
		rule_end(&x);

		/*
		 * output: ip daddr != 127.0.0.0/8 fib daddr type local P dport HP dnat to G:GP
		 * (loopback sources cannot leave the host, so 127.x stays local)
		 */
		if (!rule_start(&x, b, c->table, "output"))
			return;
		m_ip_net(&x, IP_DADDR, NFT_CMP_NEQ, lo_be, 8);
		m_daddr_local(&x);
		m_l4proto(&x, f->proto);
		m_dport(&x, f->host_port);
		v_dnat(&x, f->guest_be, f->guest_port);
		rule_end(&x);
	}
}

static void forward_rules(struct batch *b, const struct nat_rules_conf *c)
{
	struct rule x;

	/* oifname HOST ip daddr NET ct state established,related accept */
	if (!rule_start(&x, b, c->table, "forward"))
		return;
	m_ifname(&x, NFT_META_OIFNAME, c->host_ifname);
	m_ip_net(&x, IP_DADDR, NFT_CMP_EQ, c->subnet_be, c->prefix_len);
	m_ct_bits(&x, NFT_CT_STATE,
		  NF_CT_STATE_BIT(IP_CT_ESTABLISHED) | NF_CT_STATE_BIT(IP_CT_RELATED));
	v_verdict(&x, NF_ACCEPT);
	rule_end(&x);

	/* oifname HOST ip daddr NET ct status dnat accept (port mappings) */
	if (!rule_start(&x, b, c->table, "forward"))
		return;
	m_ifname(&x, NFT_META_OIFNAME, c->host_ifname);
	m_ip_net(&x, IP_DADDR, NFT_CMP_EQ, c->subnet_be, c->prefix_len);
	m_ct_bits(&x, NFT_CT_STATUS, IPS_DST_NAT);
	v_verdict(&x, NF_ACCEPT);
	rule_end(&x);

	/* oifname HOST reject: guests sit behind NAT, as ICS's did */
	if (!rule_start(&x, b, c->table, "forward"))
		return;
	m_ifname(&x, NFT_META_OIFNAME, c->host_ifname);
	v_reject(&x);
	rule_end(&x);

	/* iifname HOST ip saddr NET accept */
	if (!rule_start(&x, b, c->table, "forward"))
		return;
	m_ifname(&x, NFT_META_IIFNAME, c->host_ifname);
	m_ip_net(&x, IP_SADDR, NFT_CMP_EQ, c->subnet_be, c->prefix_len);
	v_verdict(&x, NF_ACCEPT);
	rule_end(&x);

	/* iifname HOST drop: a guest forging another source address */
	if (!rule_start(&x, b, c->table, "forward"))
		return;
	m_ifname(&x, NFT_META_IIFNAME, c->host_ifname);
	v_verdict(&x, NF_DROP);
	rule_end(&x);
}

static bool conf_ok(const struct nat_rules_conf *c)
{
	if (!c->table || !*c->table || strlen(c->table) >= NAT_RULES_TABLE_MAX)
		return false;
	if (!c->host_ifname || !*c->host_ifname || strlen(c->host_ifname) >= IFNAMSIZ)
		return false;
	if (!c->uplink || !*c->uplink || strlen(c->uplink) >= IFNAMSIZ)
		return false;
	if (c->prefix_len < 1 || c->prefix_len > 32 ||
	    (c->subnet_be & ~prefix_mask_be(c->prefix_len)))
		return false;
	if (c->n_forwards > NAT_RULES_FORWARDS_MAX || (c->n_forwards && !c->forwards))
		return false;
	for (size_t i = 0; i < c->n_forwards; i++) {
		const struct nat_forward *f = &c->forwards[i];

		if ((f->proto != IPPROTO_TCP && f->proto != IPPROTO_UDP) || !f->host_port ||
		    !f->guest_port)
			return false;
	}
	return true;
}

static int finish(struct batch *b, size_t *ret_len, uint32_t *ret_next_seq)
{
	batch_marker(b, false);
	if (b->err)
		return b->err;
	*ret_len = b->len;
	*ret_next_seq = b->seq;
	return 0;
}

int nat_rules_build(const struct nat_rules_conf *c, uint32_t seq, void *buf, size_t cap,
		    size_t *ret_len, uint32_t *ret_next_seq)
{
	struct batch b = { .buf = buf, .cap = cap, .seq = seq };

	if (!conf_ok(c))
		return -EINVAL;
	batch_marker(&b, true);
	/*
	 * Create-if-missing then delete then create: one transaction that
	 * replaces whatever a previous run left (a named table survives its
	 * owner only without the owner flag). Against a live owner's table the
	 * first message already fails with EPERM.
	 */
	put_table(&b, NFT_MSG_NEWTABLE, c->table, 0, false);
	put_table(&b, NFT_MSG_DELTABLE, c->table, 0, false);
	put_table(&b, NFT_MSG_NEWTABLE, c->table, c->owner ? NFT_TABLE_F_OWNER : 0, c->owner);
	put_chain(&b, c->table, "postrouting", "nat", NF_INET_POST_ROUTING, NF_IP_PRI_NAT_SRC);
	if (c->n_forwards) {
		put_chain(&b, c->table, "prerouting", "nat", NF_INET_PRE_ROUTING,
			  NF_IP_PRI_NAT_DST);
		put_chain(&b, c->table, "output", "nat", NF_INET_LOCAL_OUT, NF_IP_PRI_NAT_DST);
	}
	put_chain(&b, c->table, "forward", "filter", NF_INET_FORWARD, NF_IP_PRI_FILTER);
	postrouting_rules(&b, c);
	mapping_rules(&b, c);
	forward_rules(&b, c);
	return finish(&b, ret_len, ret_next_seq);
}

int nat_rules_build_delete(const char *table, uint32_t seq, void *buf, size_t cap, size_t *ret_len,
			   uint32_t *ret_next_seq)
{
	struct batch b = { .buf = buf, .cap = cap, .seq = seq };

	if (!table || !*table || strlen(table) >= NAT_RULES_TABLE_MAX)
		return -EINVAL;
	batch_marker(&b, true);
	put_table(&b, NFT_MSG_DELTABLE, table, 0, false);
	return finish(&b, ret_len, ret_next_seq);
}

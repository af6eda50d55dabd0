/* SPDX-License-Identifier: MIT */
/*
 * nat_rules: the batch is parsed back with libnftnl and compared, message by
 * message, with what is expected. The expression listings below are what
 * `nft --debug=netlink` prints for the equivalent nft rules (checked when
 * they were written), so a rule here means what its nft comment says. Also
 * the pure helpers of nat.c: default route lookup and conflict lines.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "nat/nat.h"
#include "nat/nat_nl.h"
#include "nat/nat_rules.h"

#define MAX_RULES 32

/* The batch, parsed back. */
struct parsed {
	uint16_t types[64]; /* NFT_MSG_* or the batch markers, in order */
	uint32_t seqs[64];
	size_t n_msgs;
	uint32_t owner_flags; /* of the last NEWTABLE */
	char chains[8][64];   /* "name type hook prio" */
	size_t n_chains;
	char rules[MAX_RULES][1024]; /* libnftnl's listing */
	size_t n_rules;
};

static char buf[64 * 1024];

static void parse_batch(const void *data, size_t len, struct parsed *p)
{
	int left = (int)len;

	memset(p, 0, sizeof(*p));
	for (const struct nlmsghdr *h = data; mnl_nlmsg_ok(h, left); h = mnl_nlmsg_next(h, &left)) {
		uint16_t type =
			h->nlmsg_type == NFNL_MSG_BATCH_BEGIN || h->nlmsg_type == NFNL_MSG_BATCH_END
				? h->nlmsg_type
				: NFNL_MSG_TYPE(h->nlmsg_type);

		assert_true(p->n_msgs < 64);
		p->types[p->n_msgs] = type;
		p->seqs[p->n_msgs++] = h->nlmsg_seq;
		if (h->nlmsg_type == NFNL_MSG_BATCH_BEGIN || h->nlmsg_type == NFNL_MSG_BATCH_END)
			continue;
		/* Every message inside the batch asks for an ACK: nat_nl counts on it. */
		assert_true(h->nlmsg_flags & NLM_F_ACK);
		if (type == NFT_MSG_NEWTABLE) {
			struct nftnl_table *t = nftnl_table_alloc();

			assert_int_equal(nftnl_table_nlmsg_parse(h, t), 0);
			assert_string_equal(nftnl_table_get_str(t, NFTNL_TABLE_NAME),
					    "vswitch-lab");
			p->owner_flags = nftnl_table_is_set(t, NFTNL_TABLE_FLAGS)
						 ? nftnl_table_get_u32(t, NFTNL_TABLE_FLAGS)
						 : 0;
			nftnl_table_free(t);
		} else if (type == NFT_MSG_NEWCHAIN) {
			struct nftnl_chain *c = nftnl_chain_alloc();

			assert_int_equal(nftnl_chain_nlmsg_parse(h, c), 0);
			assert_int_equal(nftnl_chain_get_u32(c, NFTNL_CHAIN_POLICY), NF_ACCEPT);
			snprintf(p->chains[p->n_chains++], 64, "%s %s %u %d",
				 nftnl_chain_get_str(c, NFTNL_CHAIN_NAME),
				 nftnl_chain_get_str(c, NFTNL_CHAIN_TYPE),
				 nftnl_chain_get_u32(c, NFTNL_CHAIN_HOOKNUM),
				 nftnl_chain_get_s32(c, NFTNL_CHAIN_PRIO));
			nftnl_chain_free(c);
		} else if (type == NFT_MSG_NEWRULE) {
			struct nftnl_rule *r = nftnl_rule_alloc();

			assert_true(p->n_rules < MAX_RULES);
			assert_int_equal(nftnl_rule_nlmsg_parse(h, r), 0);
			nftnl_rule_snprintf(p->rules[p->n_rules++], 1024, r, NFTNL_OUTPUT_DEFAULT,
					    0);
			nftnl_rule_free(r);
		}
	}
	assert_int_equal(left, 0);
}

static const struct nat_forward fwd = {
	.proto = IPPROTO_TCP, .host_port = 8080, .guest_be = 0, .guest_port = 80
};

static struct nat_rules_conf conf(const struct nat_forward *f, size_t n)
{
	return (struct nat_rules_conf){
		.table = "vswitch-lab",
		.subnet_be = htonl(0xc0a88300), /* 192.168.131.0/24 */
		.prefix_len = 24,
		.host_ifname = "lab-host",
		.uplink = "eth0",
		.forwards = f,
		.n_forwards = n,
		.owner = true,
	};
}

static void test_batch_layout(void **state)
{
	struct nat_forward f = fwd;
	struct nat_rules_conf c = conf(&f, 1);
	struct parsed p;
	uint32_t next;
	size_t len;
	static const uint16_t want[] = {
		NFNL_MSG_BATCH_BEGIN, NFT_MSG_NEWTABLE, NFT_MSG_DELTABLE, NFT_MSG_NEWTABLE,
		NFT_MSG_NEWCHAIN,     NFT_MSG_NEWCHAIN, NFT_MSG_NEWCHAIN, NFT_MSG_NEWCHAIN,
	};

	(void)state;
	f.guest_be = htonl(0xc0a88328); /* .40 */
	assert_int_equal(nat_rules_build(&c, 1000, buf, sizeof(buf), &len, &next), 0);
	parse_batch(buf, len, &p);
	/* begin, 3 table messages, 4 chains, 5 + 2 + 5 rules, end */
	assert_int_equal(p.n_msgs, 1 + 3 + 4 + 12 + 1);
	assert_int_equal(next, 1000 + p.n_msgs);
	for (size_t i = 0; i < p.n_msgs; i++)
		assert_int_equal(p.seqs[i], 1000 + i);
	assert_memory_equal(p.types, want, sizeof(want));
	assert_int_equal(p.types[p.n_msgs - 1], NFNL_MSG_BATCH_END);
	assert_int_equal(p.owner_flags, NFT_TABLE_F_OWNER);

	assert_int_equal(p.n_chains, 4);
	assert_string_equal(p.chains[0], "postrouting nat 4 100");
	assert_string_equal(p.chains[1], "prerouting nat 0 -100");
	assert_string_equal(p.chains[2], "output nat 3 -100");
	assert_string_equal(p.chains[3], "forward filter 2 0");

	assert_int_equal(p.n_rules, 12);
	/* ip saddr 192.168.131.0/24 ip daddr != 192.168.131.0/24 oifname "eth0"
	 * meta l4proto tcp masquerade to :1024-65535 */
	assert_string_equal(p.rules[2],
			    "ip vswitch-lab postrouting\n"
			    "  [ payload load 4b @ network header + 12 => reg 1 ]\n"
			    "  [ bitwise reg 1 = ( reg 1 & 0x00ffffff ) ^ 0x00000000 ]\n"
			    "  [ cmp eq reg 1 0x0083a8c0 ]\n"
			    "  [ payload load 4b @ network header + 16 => reg 1 ]\n"
			    "  [ bitwise reg 1 = ( reg 1 & 0x00ffffff ) ^ 0x00000000 ]\n"
			    "  [ cmp neq reg 1 0x0083a8c0 ]\n"
			    "  [ meta load oifname => reg 1 ]\n"
			    "  [ cmp eq reg 1 0x30687465 0x00000000 0x00000000 0x00000000 ]\n"
			    "  [ meta load l4proto => reg 1 ]\n"
			    "  [ cmp eq reg 1 0x00000006 ]\n"
			    "  [ immediate reg 1 0x00000004 ]\n"
			    "  [ immediate reg 2 0x0000ffff ]\n"
			    "  [ masq proto_min reg 1 proto_max reg 2 flags 0x2 ]\n");
	/* The ICMP rest: a plain masquerade. */
	assert_non_null(strstr(p.rules[4], "[ masq ]"));
	assert_null(strstr(p.rules[4], "l4proto"));
	/* iifname != "lab-host" fib daddr type local tcp dport 8080 dnat to 192.168.131.40:80 */
	assert_string_equal(p.rules[5],
			    "ip vswitch-lab prerouting\n"
			    "  [ meta load iifname => reg 1 ]\n"
			    "  [ cmp neq reg 1 0x2d62616c 0x74736f68 0x00000000 0x00000000 ]\n"
			    "  [ fib daddr type => reg 1 ]\n"
			    "  [ cmp eq reg 1 0x00000002 ]\n"
			    "  [ meta load l4proto => reg 1 ]\n"
			    "  [ cmp eq reg 1 0x00000006 ]\n"
			    "  [ payload load 2b @ transport header + 2 => reg 1 ]\n"
			    "  [ cmp eq reg 1 0x0000901f ]\n"
			    "  [ immediate reg 1 0x2883a8c0 ]\n"
			    "  [ immediate reg 2 0x00005000 ]\n"
			    "  [ nat dnat ip addr_min reg 1 proto_min reg 2 flags 0x2 ]\n");
	assert_non_null(strstr(p.rules[6], "ip vswitch-lab output"));
	assert_non_null(strstr(p.rules[6], "[ cmp neq reg 1 0x0000007f ]")); /* not 127/8 */
	/* oifname "lab-host" ip daddr NET ct state established,related accept */
	assert_non_null(strstr(p.rules[7],
			       "[ ct load state => reg 1 ]\n"
			       "  [ bitwise reg 1 = ( reg 1 & 0x00000006 ) ^ 0x00000000 ]\n"
			       "  [ cmp neq reg 1 0x00000000 ]\n"
			       "  [ immediate reg 0 accept ]"));
	assert_non_null(strstr(p.rules[8], "[ ct load status => reg 1 ]"));
	assert_non_null(strstr(p.rules[9], "[ reject type 0 code 13 ]"));
	assert_non_null(strstr(p.rules[10], "[ meta load iifname => reg 1 ]"));
	assert_non_null(strstr(p.rules[10], "accept"));
	assert_non_null(strstr(p.rules[11], "[ immediate reg 0 drop ]"));
}

static void test_no_mappings_no_owner(void **state)
{
	struct nat_rules_conf c = conf(NULL, 0);
	struct parsed p;
	uint32_t next;
	size_t len;

	(void)state;
	c.owner = false;
	c.subnet_be = htonl(0x0a000000); /* 10.0.0.0/8: a mask of one byte */
	c.prefix_len = 8;
	assert_int_equal(nat_rules_build(&c, 1, buf, sizeof(buf), &len, &next), 0);
	parse_batch(buf, len, &p);
	assert_int_equal(p.owner_flags, 0);
	assert_int_equal(p.n_chains, 2);
	assert_string_equal(p.chains[0], "postrouting nat 4 100");
	assert_string_equal(p.chains[1], "forward filter 2 0");
	assert_int_equal(p.n_rules, 10);
	assert_non_null(strstr(p.rules[0],
			       "[ bitwise reg 1 = ( reg 1 & 0x000000ff ) ^ 0x00000000 ]\n"
			       "  [ cmp eq reg 1 0x0000000a ]"));
	/* A /32 destination needs no mask: the broadcast return. */
	assert_non_null(strstr(p.rules[1], "[ payload load 4b @ network header + 16 => reg 1 ]\n"
					   "  [ cmp eq reg 1 0xffffffff ]"));
}

static void test_bad_conf(void **state)
{
	struct nat_forward f = fwd;
	struct nat_rules_conf c;
	uint32_t next = 7;
	size_t len = 7;

	(void)state;
	c = conf(NULL, 0);
	c.subnet_be = htonl(0xc0a88301); /* host bits set */
	assert_int_equal(nat_rules_build(&c, 1, buf, sizeof(buf), &len, &next), -EINVAL);
	c = conf(NULL, 0);
	c.uplink = "";
	assert_int_equal(nat_rules_build(&c, 1, buf, sizeof(buf), &len, &next), -EINVAL);
	c = conf(NULL, 0);
	c.host_ifname = "a-name-longer-than-ifnamsiz";
	assert_int_equal(nat_rules_build(&c, 1, buf, sizeof(buf), &len, &next), -EINVAL);
	f.proto = IPPROTO_ICMP;
	c = conf(&f, 1);
	assert_int_equal(nat_rules_build(&c, 1, buf, sizeof(buf), &len, &next), -EINVAL);
	c = conf(NULL, NAT_RULES_FORWARDS_MAX + 1);
	assert_int_equal(nat_rules_build(&c, 1, buf, sizeof(buf), &len, &next), -EINVAL);
	/* Too small a buffer: -EMSGSIZE, and the outputs stay as they were. */
	c = conf(NULL, 0);
	assert_int_equal(nat_rules_build(&c, 1, buf, 3000, &len, &next), -EMSGSIZE);
	assert_int_equal(len, 7);
	assert_int_equal(next, 7);
	assert_int_equal(nat_rules_build(&c, 1, buf, NAT_RULES_BUF_MIN, &len, &next), 0);
}

static void test_delete_and_name(void **state)
{
	char name[NAT_RULES_TABLE_MAX];
	struct parsed p;
	uint32_t next;
	size_t len;

	(void)state;
	assert_int_equal(nat_rules_table_name("lab", name, sizeof(name)), 0);
	assert_string_equal(name, "vswitch-lab");
	assert_int_equal(nat_rules_table_name("lab", name, 8), -E2BIG);
	assert_int_equal(nat_rules_build_delete("vswitch-lab", 5, buf, sizeof(buf), &len, &next),
			 0);
	parse_batch(buf, len, &p);
	assert_int_equal(p.n_msgs, 3);
	assert_int_equal(p.types[1], NFT_MSG_DELTABLE);
	assert_int_equal(next, 8);
	assert_int_equal(nat_rules_build_delete("", 5, buf, sizeof(buf), &len, &next), -EINVAL);
}

static void test_default_route(void **state)
{
	char ifname[IFNAMSIZ];
	/* /proc/net/route: two default routes, the lower metric wins; a down one never. */
	const char *text = "Iface\tDestination\tGateway "
			   "\tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
			   "wlan0\t00000000\t0100A8C0\t0003\t0\t0\t600\t00000000\t0\t0\t0\n"
			   "eth0\t00000000\t01010A0A\t0003\t0\t0\t100\t00000000\t0\t0\t0\n"
			   "down0\t00000000\t01010A0A\t0002\t0\t0\t1\t00000000\t0\t0\t0\n"
			   "eth0\t00000A0A\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0\n";

	(void)state;
	assert_int_equal(nat_route_default_ifname(text, ifname), 0);
	assert_string_equal(ifname, "eth0");
	assert_int_equal(
		nat_route_default_ifname("Iface\tDestination\n"
					 "eth0\t00000A0A\t00000000\t0001\t0\t0\t0\t0000FFFF\n",
					 ifname),
		-ENOENT);
	assert_int_equal(nat_route_default_ifname("", ifname), -ENOENT);
	assert_int_equal(nat_route_default_ifname(
				 "an-interface-name-too-long\t00000000\t01010A0A\t0003\t0\t0"
				 "\t1\t00000000\n",
				 ifname),
			 -ENOENT);
}

static void test_conflicts(void **state)
{
	struct nat_nl_chain c = {
		.family = "ip",
		.table = "filter",
		.name = "FORWARD",
		.hooknum = NF_INET_FORWARD,
		.policy = NF_DROP,
	};
	char line[NAT_CONFLICT_LEN];

	(void)state;
	/* Docker's iptables-nft FORWARD policy. */
	assert_true(nat_conflict_describe(&c, "vswitch-lab", line, sizeof(line)));
	assert_string_equal(line, "chain 'ip filter FORWARD' (hook forward, policy drop) drops "
				  "forwarded traffic unless one of its rules accepts the guests' "
				  "subnet, so guests may not reach the internet");
	/* ufw-style input policy: the DNS proxy is what suffers. */
	c = (struct nat_nl_chain){ .family = "inet",
				   .table = "ufw",
				   .name = "input",
				   .hooknum = NF_INET_LOCAL_IN,
				   .policy = NF_DROP };
	assert_true(nat_conflict_describe(&c, "vswitch-lab", line, sizeof(line)));
	assert_non_null(strstr(line, "'inet ufw input' (hook input, policy drop)"));
	/* Not conflicts: accept policies, our own table, other hooks, other families. */
	c.policy = NF_ACCEPT;
	assert_false(nat_conflict_describe(&c, "vswitch-lab", line, sizeof(line)));
	c = (struct nat_nl_chain){ .family = "ip",
				   .table = "vswitch-lab",
				   .name = "forward",
				   .hooknum = NF_INET_FORWARD,
				   .policy = NF_DROP };
	assert_false(nat_conflict_describe(&c, "vswitch-lab", line, sizeof(line)));
	c.hooknum = NF_INET_POST_ROUTING;
	c.table = "other";
	assert_false(nat_conflict_describe(&c, "vswitch-lab", line, sizeof(line)));
	c.hooknum = NF_INET_FORWARD;
	c.family = "ip6";
	assert_false(nat_conflict_describe(&c, "vswitch-lab", line, sizeof(line)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_batch_layout),  cmocka_unit_test(test_no_mappings_no_owner),
		cmocka_unit_test(test_bad_conf),      cmocka_unit_test(test_delete_and_name),
		cmocka_unit_test(test_default_route), cmocka_unit_test(test_conflicts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

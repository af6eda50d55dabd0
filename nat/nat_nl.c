/* SPDX-License-Identifier: MIT */
/*
 * Netfilter netlink I/O for nat/ (see nat_nl.h): one libmnl socket per NAT
 * network, used for its batches and for the chain listing. Calls are
 * synchronous and bounded in time: they run at start, at shutdown and on a
 * control request, never on the packet path.
 */
#include "nat/nat_nl.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NL_WAIT_MS 2000	       /* the kernel answers a batch at once; this only bounds a stall */
#define NL_RX_MAX  (32 * 1024) /* a dump message is at most 16 KiB (32 KiB with big pages) */

struct nat_nl {
	struct mnl_socket *sock;
	uint32_t portid;
	uint32_t seq;
	char rx[NL_RX_MAX]; /* answers and dumps */
};

int nat_nl_open(struct nat_nl **ret)
{
	struct nat_nl *nl = calloc(1, sizeof(*nl));
	int r;

	if (!nl)
		return -ENOMEM;
	nl->sock = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	if (!nl->sock) {
		r = -errno;
		goto fail;
	}
	if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		r = -errno;
		goto fail;
	}
	nl->portid = mnl_socket_get_portid(nl->sock);
	nl->seq = (uint32_t)time(NULL);
	*ret = nl;
	return 0;
fail:
	nat_nl_close(nl);
	return r;
}

void nat_nl_close(struct nat_nl *nl)
{
	if (!nl)
		return;
	if (nl->sock)
		mnl_socket_close(nl->sock);
	free(nl);
}

uint32_t nat_nl_seq(const struct nat_nl *nl)
{
	return nl->seq;
}

/* Waits up to NL_WAIT_MS for the socket to become readable: 1, 0 on timeout, or -errno. */
static int wait_readable(struct nat_nl *nl)
{
	struct pollfd pfd = { .fd = mnl_socket_get_fd(nl->sock), .events = POLLIN };
	int r;

	do
		r = poll(&pfd, 1, NL_WAIT_MS);
	while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : r;
}

int nat_nl_send(struct nat_nl *nl, const void *buf, size_t len, uint32_t next_seq)
{
	uint32_t first = nl->seq, want, answered = 0;
	char *rx = nl->rx;
	int err = 0;

	/* Everything between the two batch markers asked for an ACK. */
	if (next_seq < first + 2)
		return -EINVAL;
	want = next_seq - first - 2;
	nl->seq = next_seq;
	if (mnl_socket_sendto(nl->sock, buf, len) < 0)
		return -errno;
	while (answered < want) {
		ssize_t n;
		int r = wait_readable(nl);

		if (r <= 0)
			return r < 0 ? r : err ? err : -ETIMEDOUT;
		n = mnl_socket_recvfrom(nl->sock, rx, NL_RX_MAX);
		if (n < 0)
			return -errno;
		for (const struct nlmsghdr *h = (const void *)rx; mnl_nlmsg_ok(h, (int)n);
		     h = mnl_nlmsg_next(h, (int *)&n)) {
			const struct nlmsgerr *e;

			if (h->nlmsg_type != NLMSG_ERROR || h->nlmsg_seq < first ||
			    h->nlmsg_seq >= next_seq)
				continue;
			if (h->nlmsg_len < mnl_nlmsg_size(sizeof(*e)))
				return -EBADMSG;
			e = mnl_nlmsg_get_payload(h);
			if (e->error && !err)
				err = e->error;
			/* An error on a batch marker ends the batch: nothing else will answer. */
			if (h->nlmsg_seq == first || h->nlmsg_seq == next_seq - 1)
				return err ? err : -EBADMSG;
			answered++;
		}
	}
	return err;
}

static const char *family_name(uint32_t f)
{
	switch (f) {
	case NFPROTO_IPV4:
		return "ip";
	case NFPROTO_IPV6:
		return "ip6";
	case NFPROTO_INET:
		return "inet";
	case NFPROTO_ARP:
		return "arp";
	case NFPROTO_BRIDGE:
		return "bridge";
	case NFPROTO_NETDEV:
		return "netdev";
	default:
		return "?";
	}
}

struct list_ctx {
	void (*cb)(const struct nat_nl_chain *c, void *arg);
	void *arg;
	int err;
};

static int chain_cb(const struct nlmsghdr *nlh, void *data)
{
	struct list_ctx *x = data;
	struct nftnl_chain *c = nftnl_chain_alloc();
	struct nat_nl_chain out;

	if (!c) {
		x->err = -ENOMEM;
		return MNL_CB_ERROR;
	}
	if (nftnl_chain_nlmsg_parse(nlh, c) < 0 || !nftnl_chain_is_set(c, NFTNL_CHAIN_HOOKNUM)) {
		nftnl_chain_free(
			c); /* a regular chain: only base chains see traffic by themselves */
		return MNL_CB_OK;
	}
	out = (struct nat_nl_chain){
		.family = family_name(nftnl_chain_get_u32(c, NFTNL_CHAIN_FAMILY)),
		.table = nftnl_chain_get_str(c, NFTNL_CHAIN_TABLE),
		.name = nftnl_chain_get_str(c, NFTNL_CHAIN_NAME),
		.hooknum = nftnl_chain_get_u32(c, NFTNL_CHAIN_HOOKNUM),
		.prio = nftnl_chain_get_s32(c, NFTNL_CHAIN_PRIO),
		.policy = nftnl_chain_is_set(c, NFTNL_CHAIN_POLICY)
				  ? nftnl_chain_get_u32(c, NFTNL_CHAIN_POLICY)
				  : NF_ACCEPT,
	};
	if (out.table && out.name)
		x->cb(&out, x->arg);
	nftnl_chain_free(c);
	return MNL_CB_OK;
}

int nat_nl_list_chains(struct nat_nl *nl, void (*cb)(const struct nat_nl_chain *c, void *arg),
		       void *arg)
{
	char *buf = nl->rx;
	struct list_ctx x = { .cb = cb, .arg = arg };
	uint32_t seq = nl->seq++;
	struct nlmsghdr *nlh;
	int r;

	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETCHAIN, NFPROTO_UNSPEC, NLM_F_DUMP, seq);
	if (mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		ssize_t n;

		r = wait_readable(nl);
		if (r <= 0)
			return r < 0 ? r : -ETIMEDOUT;
		n = mnl_socket_recvfrom(nl->sock, buf, NL_RX_MAX);
		if (n < 0)
			return -errno;
		r = mnl_cb_run(buf, (size_t)n, seq, nl->portid, chain_cb, &x);
		if (r < 0)
			return x.err ? x.err : -errno;
		if (r == MNL_CB_STOP)
			return 0;
	}
}

/* SPDX-License-Identifier: MIT */
/*
 * Link and address configuration through libnl-route-3 for the tap/ port
 * providers: link up/down, MTU, MAC, IPv4 address, namespace moves and
 * lookups. Each change fetches the link from the kernel and sends one
 * RTM_NEWLINK/RTM_SETLINK (rtnl_link_change) or RTM_NEWADDR and waits for the
 * ACK. libnl's -NLE_* codes are turned into negative errnos here
 * (ifconf_errno(), STYLE.md §5) so they never reach the rest of the tree.
 */
#include "tap/ifconf.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <netlink/addr.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/socket.h>

struct ifconf_sock {
	struct nl_sock *sk; /* NETLINK_ROUTE, bound to its namespace at creation; owned */
};

int ifconf_errno(int nle)
{
	if (nle >= 0)
		return nle;
	/*
	 * libnl folds kernel errnos into its own smaller set
	 * (nl_syserr2nlerr()), so this is the best inverse: each -NLE_* goes
	 * back to the errno the kernel most likely sent.
	 */
	switch (-nle) {
	case NLE_INTR:
		return -EINTR;
	case NLE_BAD_SOCK:
		return -EBADF;
	case NLE_AGAIN:
		return -EAGAIN;
	case NLE_NOMEM:
		return -ENOMEM;
	case NLE_EXIST:
		return -EEXIST;
	case NLE_INVAL:
		return -EINVAL;
	case NLE_RANGE:
		return -ERANGE;
	case NLE_MSGSIZE:
	case NLE_MSG_OVERFLOW:
		return -EMSGSIZE;
	case NLE_OPNOTSUPP:
	case NLE_MSGTYPE_NOSUPPORT:
	case NLE_SRCRT_NOSUPPORT:
		return -EOPNOTSUPP;
	case NLE_AF_NOSUPPORT:
	case NLE_AF_MISMATCH:
		return -EAFNOSUPPORT;
	case NLE_OBJ_NOTFOUND:
		return -ENOENT;
	case NLE_NOATTR:
	case NLE_MISSING_ATTR:
		return -ENODATA;
	case NLE_SEQ_MISMATCH:
	case NLE_MSG_TRUNC:
	case NLE_MSG_TOOSHORT:
	case NLE_PARSE_ERR:
	case NLE_ATTRSIZE:
		return -EBADMSG;
	case NLE_NOADDR:
		return -EADDRNOTAVAIL;
	case NLE_OBJ_MISMATCH:
		return -EINVAL;
	case NLE_NOCACHE:
		return -ENOENT;
	case NLE_BUSY:
		return -EBUSY;
	case NLE_PROTO_MISMATCH:
		return -EPROTONOSUPPORT;
	case NLE_NOACCESS:
		return -EACCES;
	case NLE_PERM:
		return -EPERM;
	case NLE_PKTLOC_FILE:
		return -ENOENT;
	case NLE_NODEV:
		return -ENODEV;
	case NLE_IMMUTABLE:
		return -EROFS;
	case NLE_DUMP_INTR:
		return -EINTR;
	default: /* NLE_FAILURE and codes newer than this file */
		return -EIO;
	}
}

int ifconf_new(struct ifconf_sock **ret)
{
	struct ifconf_sock *c;
	int r;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->sk = nl_socket_alloc();
	if (!c->sk) {
		r = -ENOMEM;
		goto fail;
	}
	r = ifconf_errno(nl_connect(c->sk, NETLINK_ROUTE));
	if (r < 0)
		goto fail;
	*ret = c;
	return 0;
fail:
	ifconf_free(c);
	return r;
}

int ifconf_new_in_netns(struct ifconf_sock **ret, int ns_fd)
{
	struct ifconf_sock *c = NULL;
	int self_fd, r, r_back = 0;

	self_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self_fd < 0)
		return -errno;
	if (setns(ns_fd, CLONE_NEWNET) < 0) {
		r = -errno;
		goto out;
	}
	r = ifconf_new(&c);
	/* A socket keeps the namespace it was created in, so go back at once. */
	if (setns(self_fd, CLONE_NEWNET) < 0)
		r_back = -errno;
	if (r_back < 0) {
		ifconf_free(c);
		r = r_back;
		goto out;
	}
	if (r < 0)
		goto out;
	*ret = c;
out:
	close(self_fd);
	return r;
}

void ifconf_free(struct ifconf_sock *c)
{
	if (!c)
		return;
	nl_socket_free(c->sk); /* closes the fd; accepts NULL */
	free(c);
}

int ifconf_netns_open(const char *name)
{
	char path[PATH_MAX];
	int fd;

	if (!name || !name[0] || strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, ".."))
		return -EINVAL;
	if (snprintf(path, sizeof(path), "/run/netns/%s", name) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	return fd;
}

/* Fetches the link 'ifindex' or 'ifname' from the kernel into '*ret' (rtnl_link_put() it). */
static int link_get(struct ifconf_sock *c, int ifindex, const char *ifname, struct rtnl_link **ret)
{
	int r;

	r = ifconf_errno(rtnl_link_get_kernel(c->sk, ifindex, ifname, ret));
	/* The kernel answers ENODEV; libnl may also report "object not found". */
	if (r == -ENOENT)
		r = -ENODEV;
	return r;
}

int ifconf_lookup(struct ifconf_sock *c, const char *ifname)
{
	struct rtnl_link *link;
	int r;

	if (!ifname || !ifname[0] || strlen(ifname) >= IF_NAMESIZE)
		return -EINVAL;
	r = link_get(c, 0, ifname, &link);
	if (r < 0)
		return r;
	r = rtnl_link_get_ifindex(link);
	rtnl_link_put(link);
	return r > 0 ? r : -ENODEV;
}

int ifconf_is_up(struct ifconf_sock *c, int ifindex)
{
	struct rtnl_link *link;
	int r;

	r = link_get(c, ifindex, NULL, &link);
	if (r < 0)
		return r;
	r = !!(rtnl_link_get_flags(link) & IFF_UP);
	rtnl_link_put(link);
	return r;
}

/*
 * Sends the attributes set in 'changes' for link 'ifindex'. libnl builds the
 * request from the kernel's current object, so fetch that first.
 */
static int link_change(struct ifconf_sock *c, int ifindex, struct rtnl_link *changes)
{
	struct rtnl_link *orig;
	int r;

	r = link_get(c, ifindex, NULL, &orig);
	if (r < 0)
		return r;
	r = ifconf_errno(rtnl_link_change(c->sk, orig, changes, 0));
	rtnl_link_put(orig);
	return r < 0 ? r : 0;
}

int ifconf_set_up(struct ifconf_sock *c, int ifindex, bool up)
{
	struct rtnl_link *changes;
	int r;

	changes = rtnl_link_alloc();
	if (!changes)
		return -ENOMEM;
	if (up)
		rtnl_link_set_flags(changes, IFF_UP);
	else
		rtnl_link_unset_flags(changes, IFF_UP);
	r = link_change(c, ifindex, changes);
	rtnl_link_put(changes);
	return r;
}

/* Changes one unsigned link attribute through its libnl setter. */
static int link_set_uint(struct ifconf_sock *c, int ifindex,
			 void (*set)(struct rtnl_link *l, unsigned v), unsigned value)
{
	struct rtnl_link *changes;
	int r;

	changes = rtnl_link_alloc();
	if (!changes)
		return -ENOMEM;
	set(changes, value);
	r = link_change(c, ifindex, changes);
	rtnl_link_put(changes);
	return r;
}

int ifconf_set_mtu(struct ifconf_sock *c, int ifindex, unsigned mtu)
{
	return link_set_uint(c, ifindex, rtnl_link_set_mtu, mtu);
}

int ifconf_set_txqlen(struct ifconf_sock *c, int ifindex, unsigned txqlen)
{
	return link_set_uint(c, ifindex, rtnl_link_set_txqlen, txqlen);
}

int ifconf_set_mac(struct ifconf_sock *c, int ifindex, const uint8_t mac[6])
{
	struct rtnl_link *changes;
	struct nl_addr *addr;
	int r;

	changes = rtnl_link_alloc();
	if (!changes)
		return -ENOMEM;
	addr = nl_addr_build(AF_LLC, mac, 6);
	if (!addr) {
		r = -ENOMEM;
		goto out;
	}
	rtnl_link_set_addr(changes, addr); /* takes its own reference */
	nl_addr_put(addr);
	r = link_change(c, ifindex, changes);
out:
	rtnl_link_put(changes);
	return r;
}

int ifconf_add_ipv4(struct ifconf_sock *c, int ifindex, uint32_t addr_be, unsigned prefix_len)
{
	struct rtnl_addr *ra;
	struct nl_addr *local = NULL;
	int r;

	if (prefix_len > 32)
		return -EINVAL;
	ra = rtnl_addr_alloc();
	if (!ra)
		return -ENOMEM;
	local = nl_addr_build(AF_INET, &addr_be, sizeof(addr_be));
	if (!local) {
		r = -ENOMEM;
		goto out;
	}
	nl_addr_set_prefixlen(local, (int)prefix_len);
	rtnl_addr_set_ifindex(ra, ifindex);
	r = ifconf_errno(rtnl_addr_set_local(ra, local));
	if (r < 0)
		goto out;
	rtnl_addr_set_prefixlen(ra, (int)prefix_len);
	/* NLM_F_EXCL: a duplicate is -EEXIST rather than a silent success. */
	r = ifconf_errno(rtnl_addr_add(c->sk, ra, NLM_F_EXCL));
	if (r > 0)
		r = 0;
out:
	nl_addr_put(local);
	rtnl_addr_put(ra);
	return r;
}

int ifconf_set_netns(struct ifconf_sock *c, int ifindex, int ns_fd)
{
	struct rtnl_link *changes;
	int r;

	changes = rtnl_link_alloc();
	if (!changes)
		return -ENOMEM;
	rtnl_link_set_ns_fd(changes, ns_fd);
	r = link_change(c, ifindex, changes);
	rtnl_link_put(changes);
	return r;
}

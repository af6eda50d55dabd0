/* SPDX-License-Identifier: MIT */
/*
 * One network's ICS state (see nat.h): resolves the uplink, installs the
 * ruleset, switches IPv4 forwarding on where needed and back off at the
 * end, and reports other firewalls' chains that would drop its traffic. In
 * nftables every base chain on a hook runs and any drop is final, so our
 * accepts cannot override Docker's or ufw's drop policy: the best we can do
 * is say so, once, in words the user can act on.
 */
#include "nat/nat.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/netfilter.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/io.h"
#include "common/log.h"
#include "nat/nat_nl.h"

/* Of /proc/net/route. The kernel lists 0.0.0.0/0 first (trie order), so even a
 * full routing table has its default routes in the first lines read. */
#define ROUTE_TEXT_MAX (64 * 1024)

/* A forwarding switch we turned on, and what it was before. */
struct fwd_sysctl {
	char ifname[IFNAMSIZ];
	char old; /* '0' or '1'; 0 when we did not change it */
};

struct nat {
	char network[IFNAMSIZ + 8];
	char table[NAT_RULES_TABLE_MAX];
	char uplink[IFNAMSIZ];
	bool owned;
	bool installed; /* the table is ours to remove */
	struct nat_nl *nl;
	struct fwd_sysctl fwd[2]; /* the host adapter and the uplink */
	char conflicts[NAT_CONFLICTS_MAX][NAT_CONFLICT_LEN];
	size_t n_conflicts;
	size_t n_conflicts_seen; /* may exceed NAT_CONFLICTS_MAX */
};

int nat_route_default_ifname(const char *text, char out[IFNAMSIZ])
{
	unsigned long best_metric = ~0ul;
	const char *line = text;
	bool found = false;

	/* Iface Destination Gateway Flags RefCnt Use Metric Mask ...: hex, host byte order. */
	while (line && *line) {
		char ifname[IFNAMSIZ + 1], dest[16], mask[16];
		unsigned long metric;
		unsigned flags;
		const char *next = strchr(line, '\n');

		if (sscanf(line, "%16s %15s %*15s %x %*d %*d %lu %15s", ifname, dest, &flags,
			   &metric, mask) == 5 &&
		    !strcmp(dest, "00000000") && !strcmp(mask, "00000000") &&
		    (flags & 0x1 /* RTF_UP */) && strlen(ifname) < IFNAMSIZ &&
		    (!found || metric < best_metric)) {
			memcpy(out, ifname, strlen(ifname) + 1);
			best_metric = metric;
			found = true;
		}
		line = next ? next + 1 : NULL;
	}
	return found ? 0 : -ENOENT;
}

static const char *hook_name(uint32_t hook)
{
	static const char *const names[] = { "prerouting", "input", "forward", "output",
					     "postrouting" };

	return hook < 5 ? names[hook] : "?";
}

bool nat_conflict_describe(const struct nat_nl_chain *c, const char *own_table, char *buf,
			   size_t cap)
{
	const char *what;

	if (c->policy != NF_DROP || (strcmp(c->family, "ip") && strcmp(c->family, "inet")))
		return false;
	if (!strcmp(c->family, "ip") && !strcmp(c->table, own_table))
		return false;
	if (c->hooknum == NF_INET_FORWARD)
		what = "drops forwarded traffic unless one of its rules accepts the guests' "
		       "subnet, so guests may not reach the internet";
	else if (c->hooknum == NF_INET_LOCAL_IN)
		what = "drops traffic to the host unless one of its rules accepts it, so guests' "
		       "DNS queries to the proxy may go unanswered";
	else
		return false;
	snprintf(buf, cap, "chain '%s %s %s' (hook %s, policy drop) %s", c->family, c->table,
		 c->name, hook_name(c->hooknum), what);
	return true;
}

static void conflict_cb(const struct nat_nl_chain *c, void *arg)
{
	struct nat *n = arg;

	/* Past the cap a line is counted, not kept. */
	if (n->n_conflicts == NAT_CONFLICTS_MAX) {
		char spare[NAT_CONFLICT_LEN];

		if (nat_conflict_describe(c, n->table, spare, sizeof(spare)))
			n->n_conflicts_seen++;
		return;
	}
	if (!nat_conflict_describe(c, n->table, n->conflicts[n->n_conflicts], NAT_CONFLICT_LEN))
		return;
	n->n_conflicts++;
	n->n_conflicts_seen++;
}

int nat_refresh_conflicts(struct nat *n)
{
	int r;

	n->n_conflicts = 0;
	n->n_conflicts_seen = 0;
	r = nat_nl_list_chains(n->nl, conflict_cb, n);
	return r < 0 ? r : (int)n->n_conflicts_seen;
}

size_t nat_n_conflicts(const struct nat *n)
{
	return n->n_conflicts;
}

const char *nat_conflict(const struct nat *n, size_t i)
{
	return i < n->n_conflicts ? n->conflicts[i] : NULL;
}

const char *nat_uplink(const struct nat *n)
{
	return n->uplink;
}

const char *nat_table(const struct nat *n)
{
	return n->table;
}

bool nat_table_owned(const struct nat *n)
{
	return n->owned;
}

static int resolve_uplink(struct nat *n, const char *want)
{
	char text[ROUTE_TEXT_MAX];
	int fd, r;

	if (strcmp(want, "auto")) {
		if (strlen(want) >= sizeof(n->uplink))
			return -EINVAL;
		memcpy(n->uplink, want, strlen(want) + 1);
	} else {
		fd = open("/proc/net/route", O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return log_error_errno(-errno, "nat '%s': cannot read the routing table",
					       n->network);
		r = io_read_all(fd, text, sizeof(text) - 1);
		close(fd);
		if (r < 0)
			return log_error_errno(r, "nat '%s': cannot read the routing table",
					       n->network);
		text[r] = '\0';
		if (nat_route_default_ifname(text, n->uplink) < 0) {
			log_error("nat '%s': uplink = auto, but there is no IPv4 default route; "
				  "name the uplink in [nat] or add a default route",
				  n->network);
			return -ENODEV;
		}
	}
	if (!if_nametoindex(n->uplink)) {
		log_error("nat '%s': uplink '%s': no such interface", n->network, n->uplink);
		return -ENODEV;
	}
	return 0;
}

static int sysctl_path(char *buf, size_t cap, const char *ifname)
{
	int len = snprintf(buf, cap, "/proc/sys/net/ipv4/conf/%s/forwarding", ifname);

	return len < 0 || (size_t)len >= cap ? -E2BIG : 0;
}

/*
 * IPv4 forwards a packet only when its input interface has forwarding on,
 * so the two interfaces of the NAT path are enough: the host's other
 * interfaces keep behaving as a host's.
 */
static int forwarding_on(struct nat *n, struct fwd_sysctl *f, const char *ifname)
{
	char path[96], old = 0;
	int fd, r;

	memcpy(f->ifname, ifname, strlen(ifname) + 1);
	r = sysctl_path(path, sizeof(path), ifname);
	if (r < 0)
		return r;
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return log_error_errno(-errno, "nat '%s': cannot open '%s'", n->network, path);
	if (read(fd, &old, 1) != 1 || (old != '0' && old != '1')) {
		close(fd);
		return log_error_errno(-EIO, "nat '%s': cannot read '%s'", n->network, path);
	}
	if (old == '0') {
		r = pwrite(fd, "1\n", 2, 0) == 2 ? 0 : -errno;
		if (r < 0) {
			close(fd);
			return log_error_errno(r,
					       "nat '%s': cannot turn on IPv4 forwarding on '%s'",
					       n->network, ifname);
		}
		f->old = old;
	}
	close(fd);
	return 0;
}

static void forwarding_restore(struct nat *n, struct fwd_sysctl *f)
{
	char path[96];
	int fd;

	if (!f->old || sysctl_path(path, sizeof(path), f->ifname) < 0)
		return;
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno != ENOENT) /* the host adapter is gone already: nothing to restore */
			log_errno(LOG_LVL_WARN, -errno,
				  "nat '%s': cannot restore IPv4 forwarding on '%s'", n->network,
				  f->ifname);
		return;
	}
	if (write(fd, &f->old, 1) != 1)
		log_errno(LOG_LVL_WARN, -errno, "nat '%s': cannot restore IPv4 forwarding on '%s'",
			  n->network, f->ifname);
	close(fd);
	f->old = 0;
}

static int install(struct nat *n, const struct nat_conf *conf, bool owner)
{
	struct nat_rules_conf rc = {
		.table = n->table,
		.subnet_be = conf->subnet_be,
		.prefix_len = conf->prefix_len,
		.host_ifname = conf->host_ifname,
		.uplink = n->uplink,
		.forwards = conf->forwards,
		.n_forwards = conf->n_forwards,
		.owner = owner,
	};
	size_t cap = NAT_RULES_BUF_MIN + 1024 * conf->n_forwards, len;
	uint32_t next;
	void *buf = malloc(cap);
	int r;

	if (!buf)
		return -ENOMEM;
	r = nat_rules_build(&rc, nat_nl_seq(n->nl), buf, cap, &len, &next);
	if (r == 0)
		r = nat_nl_send(n->nl, buf, len, next);
	free(buf);
	return r;
}

int nat_new(struct nat **ret, const struct nat_conf *conf)
{
	struct nat *n = calloc(1, sizeof(*n));
	int r;

	if (!n)
		return -ENOMEM;
	snprintf(n->network, sizeof(n->network), "%s", conf->network);
	r = nat_rules_table_name(conf->network, n->table, sizeof(n->table));
	if (r < 0)
		goto fail;
	r = resolve_uplink(n, conf->uplink);
	if (r < 0)
		goto fail;
	r = nat_nl_open(&n->nl);
	if (r < 0) {
		log_error_errno(r, "nat '%s': cannot open a netfilter socket", n->network);
		goto fail;
	}
	r = install(n, conf, true);
	if (r == -EOPNOTSUPP || r == -EINVAL) {
		/* Before Linux 5.12 there are no table owners: a named table, replaced at start. */
		log_info("nat '%s': the kernel has no owned tables; table 'ip %s' stays if "
			 "vswitchd is killed, and is replaced when it starts again",
			 n->network, n->table);
		r = install(n, conf, false);
	} else if (r == 0) {
		n->owned = true;
	}
	if (r == -EPERM) {
		log_error("nat '%s': table 'ip %s' belongs to another process (is another "
			  "vswitchd running this network?), or CAP_NET_ADMIN is missing",
			  n->network, n->table);
		goto fail;
	}
	if (r < 0) {
		log_error_errno(r, "nat '%s': installing table 'ip %s' failed", n->network,
				n->table);
		goto fail;
	}
	n->installed = true;
	r = forwarding_on(n, &n->fwd[0], conf->host_ifname);
	if (r == 0)
		r = forwarding_on(n, &n->fwd[1], n->uplink);
	if (r < 0)
		goto fail;
	log_info("nat '%s': sharing '%s' with %s (table 'ip %s', %zu port mapping%s)", n->network,
		 n->uplink, conf->host_ifname, n->table, conf->n_forwards,
		 conf->n_forwards == 1 ? "" : "s");
	if (nat_refresh_conflicts(n) < 0)
		log_warn("nat '%s': cannot list other tables' chains; conflicts go unreported",
			 n->network);
	for (size_t i = 0; i < n->n_conflicts; i++)
		log_warn("nat '%s': conflict: %s", n->network, n->conflicts[i]);
	*ret = n;
	return 0;
fail:
	nat_free(n);
	return r;
}

void nat_free(struct nat *n)
{
	char buf[NAT_RULES_BUF_MIN];
	uint32_t next;
	size_t len;

	if (!n)
		return;
	for (size_t i = 0; i < 2; i++)
		forwarding_restore(n, &n->fwd[i]);
	/*
	 * An owned table would go with the socket anyway; a named one (old
	 * kernels) must be deleted. Either way say it explicitly, once.
	 */
	if (n->installed && nat_rules_build_delete(n->table, nat_nl_seq(n->nl), buf, sizeof(buf),
						   &len, &next) == 0) {
		int r = nat_nl_send(n->nl, buf, len, next);

		if (r < 0 && r != -ENOENT)
			log_errno(LOG_LVL_WARN, r, "nat '%s': removing table 'ip %s' failed",
				  n->network, n->table);
	}
	nat_nl_close(n->nl);
	free(n);
}

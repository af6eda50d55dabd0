/* SPDX-License-Identifier: MIT */
/*
 * The "netdev" port kind (netdev.h): an existing interface attached through
 * a raw AF_PACKET socket with virtio-net headers, batched with recvmmsg().
 * The daemon calls it only through its port_ops; it calls the kernel
 * (packet socket options, recvmmsg/sendmsg) and ifconf.c to set the link up.
 */
#include "tap/netdev.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "tap/ifconf.h"
#include "vswitch/frame.h"
#include "vswitch/port.h"

#define NETDEV_BATCH   64u		 /* frames per recvmmsg() call */
#define NETDEV_SOCKBUF (4 * 1024 * 1024) /* socket buffer bytes each way */

#define NETDEV_TX_SLOTS 32    /* small frames sent with one sendmmsg() per flush */
#define NETDEV_TX_SLOT	2048u /* bytes of frame a slot holds; larger ones go at once */

/* Frames queued by send() until flush(): one sendmmsg() instead of a sendmsg() each. */
struct netdev_tx {
	uint8_t buf[NETDEV_TX_SLOTS][NETDEV_TX_SLOT];
	struct virtio_net_hdr vnet[NETDEV_TX_SLOTS];
	struct iovec iov[NETDEV_TX_SLOTS][2];
	struct mmsghdr msgs[NETDEV_TX_SLOTS];
	unsigned n;
	unsigned failed;       /* frames that failed since the last flush() */
	uint64_t failed_bytes; /* their bytes */
};

struct netdev_port {
	struct port port;      /* embedded; ops, names and MTU */
	struct netdev_tx tx;   /* batched sends */
	int fd;		       /* AF_PACKET socket; owned; -1 when closed */
	int ifindex;	       /* attached interface, in the daemon's namespace */
	bool was_down;	       /* open() set the link up; close() sets it down again */
	uint64_t n_truncated;  /* frames dropped for not fitting the buffer */
	uint64_t trunc_log_ms; /* log_ratelimit() state for truncation */
};

static const struct port_ops netdev_ops;
static int netdev_send_now(struct port *p, const struct frame *f);
static void tx_submit(struct netdev_port *d);

static struct netdev_port *netdev_of(const struct port *p)
{
	return container_of(p, struct netdev_port, port);
}

static const char *conf_name(const struct port_conf *conf)
{
	return conf->name ? conf->name : conf->ifname;
}

static int set_int_opt(int fd, int level, int name, int val)
{
	if (setsockopt(fd, level, name, &val, sizeof(val)) < 0)
		return -errno;
	return 0;
}

/* Grows a socket buffer, beyond rmem_max/wmem_max when privileged. */
static void grow_buf(int fd, int force_opt, int opt)
{
	if (set_int_opt(fd, SOL_SOCKET, force_opt, NETDEV_SOCKBUF) < 0)
		(void)set_int_opt(fd, SOL_SOCKET, opt, NETDEV_SOCKBUF);
}

/* Sets up the packet socket on 'ifindex'; returns the fd or a negative errno, logged. */
static int packet_open(const struct port_conf *conf, int ifindex)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_ALL),
		.sll_ifindex = ifindex,
	};
	struct packet_mreq mreq = {
		.mr_ifindex = ifindex,
		.mr_type = PACKET_MR_PROMISC,
	};
	int fd, r;

	/*
	 * Protocol 0: a packet socket created with ETH_P_ALL starts receiving
	 * from every interface at once, before bind() narrows it to ours; with
	 * 0 it receives nothing until bind() gives the protocol and ifindex.
	 */
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		r = -errno;
		if (r == -EPERM || r == -EACCES)
			return log_error_errno(-EPERM,
					       "port '%s': attaching '%s' needs CAP_NET_RAW",
					       conf_name(conf), conf->ifname);
		return log_error_errno(r, "port '%s': cannot open a packet socket",
				       conf_name(conf));
	}
	/*
	 * The header is applied per frame at read and write time; set it
	 * before bind() so no frame is ever read without it.
	 */
	r = set_int_opt(fd, SOL_PACKET, PACKET_VNET_HDR, 1);
	if (r < 0) {
		(void)log_error_errno(r, "port '%s': packet socket lacks PACKET_VNET_HDR",
				      conf_name(conf));
		goto fail;
	}
	/*
	 * Without this every frame the host stack (or another packet socket)
	 * sends out of the interface comes back as PACKET_OUTGOING: the host's
	 * MAC would be learned on this port and frames would loop. The socket
	 * never sees its own sends anyway. Linux 4.20+.
	 */
	r = set_int_opt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, 1);
	if (r < 0) {
		(void)log_error_errno(
			r, "port '%s': packet socket lacks PACKET_IGNORE_OUTGOING (Linux 4.20+)",
			conf_name(conf));
		goto fail;
	}
	grow_buf(fd, SO_RCVBUFFORCE, SO_RCVBUF);
	grow_buf(fd, SO_SNDBUFFORCE, SO_SNDBUF);
	if (bind(fd, (const struct sockaddr *)&sll, sizeof(sll)) < 0) {
		r = -errno;
		(void)log_error_errno(r, "port '%s': cannot bind a packet socket to '%s'",
				      conf_name(conf), conf->ifname);
		goto fail;
	}
	/* Guests' MACs are not the NIC's. Undone by the kernel when the socket closes. */
	if (setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mreq, sizeof(mreq)) < 0) {
		r = -errno;
		(void)log_error_errno(r, "port '%s': cannot make '%s' promiscuous", conf_name(conf),
				      conf->ifname);
		goto fail;
	}
	/*
	 * NICs and veths with rx-vlan-offload take the 802.1Q tag out of the
	 * bytes; auxdata hands it back with each frame so trunks keep working.
	 */
	r = set_int_opt(fd, SOL_PACKET, PACKET_AUXDATA, 1);
	if (r < 0) {
		(void)log_error_errno(r, "port '%s': packet socket lacks PACKET_AUXDATA",
				      conf_name(conf));
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return r;
}

/* Sets 'ifindex' up if it is down; '*ret_was_down' tells close() to undo it. */
static int link_up(const struct port_conf *conf, int ifindex, bool *ret_was_down)
{
	struct ifconf_sock *nl = NULL;
	int r;

	r = ifconf_new(&nl);
	if (r < 0)
		return log_error_errno(r, "port '%s': cannot open a route netlink socket",
				       conf_name(conf));
	r = ifconf_is_up(nl, ifindex);
	*ret_was_down = r == 0;
	if (r == 0)
		r = ifconf_set_up(nl, ifindex, true);
	ifconf_free(nl);
	if (r < 0)
		return log_error_errno(r, "port '%s': cannot bring '%s' up", conf_name(conf),
				       conf->ifname);
	return 0;
}

static void link_down(const char *name, const char *ifname, int ifindex)
{
	struct ifconf_sock *nl = NULL;
	int r;

	/* Best effort: the interface may be gone already (its VM exited). */
	r = ifconf_new(&nl);
	if (r == 0)
		r = ifconf_set_up(nl, ifindex, false);
	ifconf_free(nl);
	if (r < 0 && r != -ENODEV)
		(void)log_warn_errno(r, "port '%s': cannot set '%s' down again", name, ifname);
}

static int netdev_open(struct port *p, const struct port_conf *conf)
{
	struct netdev_port *d = netdev_of(p);
	bool was_down = false;
	int fd, ifindex, r;

	if (!conf->ifname || !conf->ifname[0] || strlen(conf->ifname) >= IF_NAMESIZE)
		return log_error_errno(-EINVAL, "port '%s': bad interface name '%s'",
				       conf_name(conf), conf->ifname ? conf->ifname : "");
	ifindex = (int)if_nametoindex(conf->ifname);
	if (ifindex <= 0)
		return log_error_errno(-ENODEV, "port '%s': interface '%s' not found",
				       conf_name(conf), conf->ifname);
	/*
	 * Up before bind(): binding a packet socket to a down interface leaves
	 * a pending ENETDOWN (sk_err) that the first send or recv returns.
	 */
	r = link_up(conf, ifindex, &was_down);
	if (r < 0)
		return r;
	fd = packet_open(conf, ifindex);
	if (fd < 0) {
		if (was_down)
			link_down(conf_name(conf), conf->ifname, ifindex);
		return fd;
	}

	d->fd = fd;
	d->ifindex = ifindex;
	d->was_down = was_down;
	d->n_truncated = 0;
	d->trunc_log_ms = 0;
	snprintf(p->ifname, sizeof(p->ifname), "%s", conf->ifname);
	snprintf(p->name, sizeof(p->name), "%s", conf_name(conf));
	p->mtu = conf->mtu ? conf->mtu : 1500u;
	log_info("port '%s': attached to '%s'%s", p->name, p->ifname, was_down ? " (set up)" : "");
	return 0;
}

static void netdev_close(struct port *p)
{
	struct netdev_port *d = netdev_of(p);

	if (d->fd >= 0) {
		tx_submit(d);
		close(d->fd); /* also drops the promiscuous membership */
	}
	d->fd = -1;
	if (d->was_down)
		link_down(p->name, p->ifname, d->ifindex);
	d->was_down = false;
}

static void netdev_destroy(struct port *p)
{
	free(netdev_of(p));
}

static int netdev_fd(const struct port *p)
{
	return netdev_of(p)->fd;
}

/* A VLAN tag the device stripped, from the frame's auxdata, into 'f'. */
static void aux_vlan(struct msghdr *mh, struct frame *f)
{
	f->vlan_valid = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		struct tpacket_auxdata aux;

		if (c->cmsg_level != SOL_PACKET || c->cmsg_type != PACKET_AUXDATA ||
		    c->cmsg_len < CMSG_LEN(sizeof(aux)))
			continue;
		memcpy(&aux, CMSG_DATA(c), sizeof(aux));
		/* Only 802.1Q: an 802.1ad outer tag (0x88a8) is not ours to interpret. */
		if ((aux.tp_status & TP_STATUS_VLAN_VALID) &&
		    (!(aux.tp_status & TP_STATUS_VLAN_TPID_VALID) || aux.tp_vlan_tpid == 0x8100)) {
			f->vlan_tci = aux.tp_vlan_tci;
			f->vlan_valid = 1;
		}
	}
}

static int netdev_recv(struct port *p, struct frame *v, unsigned n)
{
	struct netdev_port *d = netdev_of(p);
	struct mmsghdr msgs[NETDEV_BATCH];
	struct iovec iov[NETDEV_BATCH][2];
	union {
		char buf[CMSG_SPACE(sizeof(struct tpacket_auxdata))];
		struct cmsghdr align;
	} ctl[NETDEV_BATCH];
	unsigned i, kept = 0;
	int got;

	if (n > NETDEV_BATCH)
		n = NETDEV_BATCH;
	memset(msgs, 0, sizeof(msgs[0]) * n);
	for (i = 0; i < n; i++) {
		iov[i][0] = (struct iovec){ .iov_base = &v[i].vnet, .iov_len = sizeof(v[i].vnet) };
		iov[i][1] = (struct iovec){ .iov_base = v[i].data, .iov_len = v[i].cap };
		msgs[i].msg_hdr.msg_iov = iov[i];
		msgs[i].msg_hdr.msg_iovlen = 2;
		msgs[i].msg_hdr.msg_control = ctl[i].buf;
		msgs[i].msg_hdr.msg_controllen = sizeof(ctl[i].buf);
	}
	do {
		got = recvmmsg(d->fd, msgs, n, MSG_DONTWAIT, NULL);
	} while (got < 0 && errno == EINTR);
	if (got < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	for (i = 0; i < (unsigned)got; i++) {
		size_t len = msgs[i].msg_len;

		/*
		 * MSG_TRUNC: an aggregate larger than the buffer (GRO beyond
		 * 64 KiB with BIG TCP, or gro_max_size raised). The core never
		 * sees it; the later frames of the batch move down so the
		 * caller gets a dense array (its .data pointers stay put).
		 */
		if ((msgs[i].msg_hdr.msg_flags & MSG_TRUNC) || len < sizeof(v[i].vnet)) {
			d->n_truncated++;
			if (log_ratelimit(&d->trunc_log_ms, clock_mono_ms()))
				log_warn("port '%s': frame of %zu bytes too big for the buffer, "
					 "dropped (GRO beyond 64 KiB?); %llu so far",
					 p->name, len, (unsigned long long)d->n_truncated);
			continue;
		}
		len -= sizeof(v[i].vnet);
		if (kept != i) {
			memcpy(v[kept].data, v[i].data, len);
			v[kept].vnet = v[i].vnet;
		}
		v[kept].len = (uint32_t)len;
		aux_vlan(&msgs[i].msg_hdr, &v[kept]);
		kept++;
	}
	return kept > 0 ? (int)kept : -EAGAIN;
}

/* Sends what send() queued; a frame the kernel refuses is counted and skipped. */
static void tx_submit(struct netdev_port *d)
{
	struct netdev_tx *tx = &d->tx;
	unsigned sent = 0;

	while (sent < tx->n) {
		int r = sendmmsg(d->fd, tx->msgs + sent, tx->n - sent, MSG_DONTWAIT);

		if (r > 0) {
			sent += (unsigned)r;
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		tx->failed++;
		tx->failed_bytes += tx->iov[sent][1].iov_len;
		sent++;
	}
	tx->n = 0;
}

static int netdev_flush(struct port *p, uint64_t *ret_bytes)
{
	struct netdev_port *d = netdev_of(p);
	int failed;

	tx_submit(d);
	failed = (int)d->tx.failed;
	*ret_bytes = d->tx.failed_bytes;
	d->tx.failed = 0;
	d->tx.failed_bytes = 0;
	return failed;
}

static int netdev_send(struct port *p, const struct frame *f)
{
	struct netdev_port *dp = netdev_of(p);
	struct netdev_tx *tx = &dp->tx;

	if (f->len <= NETDEV_TX_SLOT) {
		unsigned i = tx->n;

		memcpy(tx->buf[i], f->data, f->len);
		tx->vnet[i] = f->vnet;
		tx->iov[i][0] =
			(struct iovec){ .iov_base = &tx->vnet[i], .iov_len = sizeof(tx->vnet[i]) };
		tx->iov[i][1] = (struct iovec){ .iov_base = tx->buf[i], .iov_len = f->len };
		tx->msgs[i] =
			(struct mmsghdr){ .msg_hdr = { .msg_iov = tx->iov[i], .msg_iovlen = 2 } };
		if (++tx->n == NETDEV_TX_SLOTS)
			tx_submit(dp);
		return 0;
	}
	tx_submit(dp); /* keep the order: queued frames first */
	return netdev_send_now(p, f);
}

static int netdev_send_now(struct port *p, const struct frame *f)
{
	struct netdev_port *d = netdev_of(p);
	struct iovec iov[2] = {
		{ .iov_base = (void *)&f->vnet, .iov_len = sizeof(f->vnet) },
		{ .iov_base = f->data, .iov_len = f->len },
	};
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 2 };
	ssize_t len;

	/*
	 * No address: the socket is bound to the interface. With a GSO header
	 * the kernel segments (or hands the super-frame to a TSO device);
	 * without one a frame above the device MTU fails with EMSGSIZE.
	 */
	do {
		len = sendmsg(d->fd, &msg, MSG_DONTWAIT);
	} while (len < 0 && errno == EINTR);
	if (len < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	return 0;
}

uint64_t netdev_port_truncated(const struct port *p)
{
	assert(p->ops == &netdev_ops);
	return netdev_of(p)->n_truncated;
}

static const struct port_ops netdev_ops = {
	.kind = "netdev",
	.offloads = PORT_OFL_CSUM | PORT_OFL_GSO,
	.open = netdev_open,
	.close = netdev_close,
	.destroy = netdev_destroy,
	.fd = netdev_fd,
	.recv = netdev_recv,
	.send = netdev_send,
	.flush = netdev_flush,
	.set_mtu = NULL, /* the interface belongs to its owner; p->mtu is the network's */
};

int netdev_port_new(struct port **ret)
{
	struct netdev_port *d;

	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->port.ops = &netdev_ops;
	d->fd = -1;
	*ret = &d->port;
	return 0;
}

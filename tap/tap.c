/* SPDX-License-Identifier: MIT */
/*
 * The "tap" and "host" port kinds (tap.h): switch-owned tap devices on
 * /dev/net/tun with virtio-net headers. The daemon calls them only through
 * their port_ops; they call the kernel (tun ioctls, readv/writev) and
 * ifconf.c for link and address settings. Both kinds share one struct and
 * one open(); "host" adds an IPv4 address and never moves namespace.
 */
#include "tap/tap.h"

#include <liburing.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common/log.h"
#include "tap/ifconf.h"
#include "vswitch/frame.h"
#include "vswitch/port.h"

#define TAP_DEFAULT_MTU 1500u /* the kernel's MTU for a new tap */

#define TAP_TXQLEN 4096 /* frames the kernel queues for vswitchd to read */

#define TAP_TX_SLOTS 64	   /* small frames batched into one io_uring submission */
#define TAP_TX_SLOT  2048u /* bytes of frame a slot holds; larger frames are written at once */

/* Batched writes: frames queued during one poll round go to the kernel in one system call. */
struct tap_tx {
	struct io_uring ring;
	uint8_t *buf; /* TAP_TX_SLOTS slots of TAP_TX_SLOT bytes */
	struct virtio_net_hdr vnet[TAP_TX_SLOTS];
	struct iovec iov[TAP_TX_SLOTS][2];
	unsigned n;		 /* slots filled since the last submission */
	unsigned failed;	 /* writes that failed since the last tap_flush() */
	uint64_t failed_bytes;	 /* their frame bytes */
	struct io_uring rx_ring; /* batched reads: several frames per system call */
	struct iovec rx_iov[TAP_TX_SLOTS][2];
	unsigned rx_win; /* reads asked per batch: grows while all succeed, shrinks on misses */
};

struct tap_port {
	struct port port;  /* embedded; ops, names and MTU */
	struct tap_tx *tx; /* NULL: io_uring unavailable, every frame is one writev() */
	int fd;		   /* /dev/net/tun queue; owned; -1 when closed */
	int ns_fd;	   /* the namespace the tap lives in, or -1 for ours; owned */
	int pending_err;   /* error recv() owes the core for a frame already consumed, or 0 */
	bool is_host;	   /* kind "host": add the address, never move */
};

static struct tap_port *tap_of(const struct port *p)
{
	return container_of(p, struct tap_port, port);
}

static const char *conf_name(const struct port_conf *conf)
{
	return conf->name ? conf->name : conf->ifname;
}

/* Creates the tun queue for 'ifname'; returns the fd or a negative errno, logged. */
static int tun_create(const struct port_conf *conf, const char *kind)
{
	struct ifreq ifr = { 0 };
	unsigned offloads = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6;
	int hdr_len = (int)sizeof(struct virtio_net_hdr);
	int fd, r;

	/*
	 * TUNSETIFF on a name that is already a tap attaches to that device
	 * (and on a persistent one, silently shares it), so refuse existing
	 * names first.
	 */
	if (if_nametoindex(conf->ifname) != 0) {
		log_error("port '%s': interface '%s' already exists", conf_name(conf),
			  conf->ifname);
		return -EEXIST;
	}
	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		if (r == -ENOENT || r == -ENODEV || r == -ENXIO)
			return log_error_errno(
				-ENOENT, "port '%s': '/dev/net/tun' not found: load the tun module",
				conf_name(conf));
		if (r == -EACCES || r == -EPERM)
			return log_error_errno(-EPERM,
					       "port '%s': creating %s '%s' needs CAP_NET_ADMIN",
					       conf_name(conf), kind, conf->ifname);
		return log_error_errno(r, "port '%s': cannot open '/dev/net/tun'", conf_name(conf));
	}
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", conf->ifname);
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		r = -errno;
		if (r == -EPERM || r == -EACCES)
			log_error("port '%s': creating %s '%s' needs CAP_NET_ADMIN",
				  conf_name(conf), kind, conf->ifname);
		else if (r == -EBUSY || r == -EEXIST)
			/* Raced with another creator, or a name held by a non-tap device. */
			log_error("port '%s': interface '%s' already exists", conf_name(conf),
				  conf->ifname);
		else
			(void)log_error_errno(r, "port '%s': cannot create %s '%s'",
					      conf_name(conf), kind, conf->ifname);
		if (r == -EACCES)
			r = -EPERM;
		if (r == -EBUSY)
			r = -EEXIST;
		goto fail;
	}
	/*
	 * The header size must be set before any frame passes; 10 bytes is the
	 * plain virtio_net_hdr (12 would add num_buffers, which only a guest's
	 * mergeable-buffer queue needs).
	 */
	if (ioctl(fd, TUNSETVNETHDRSZ, &hdr_len) < 0) {
		r = -errno;
		(void)log_error_errno(r, "port '%s': cannot set the vnet header size of '%s'",
				      conf_name(conf), conf->ifname);
		goto fail;
	}
	/*
	 * These become the netdev's features: the stack then hands us partial
	 * checksums and TSO super-frames instead of segmenting before read().
	 * TSO without CSUM is refused by the kernel, so they go together.
	 */
	if (ioctl(fd, TUNSETOFFLOAD, offloads) < 0) {
		r = -errno;
		(void)log_error_errno(r, "port '%s': cannot enable offloads on '%s'",
				      conf_name(conf), conf->ifname);
		goto fail;
	}
	return fd;
fail:
	close(fd); /* not persistent: this deletes the interface */
	return r;
}

/* Moves the tap into 'ns_fd' and brings it up there. */
static int tap_move_up(struct ifconf_sock *nl, int ifindex, const struct port_conf *conf, int ns_fd)
{
	struct ifconf_sock *ns_nl = NULL;
	int r;

	r = ifconf_set_netns(nl, ifindex, ns_fd);
	if (r == -EEXIST || r == -EBUSY)
		return log_error_errno(-EEXIST,
				       "port '%s': interface '%s' already exists in namespace '%s'",
				       conf_name(conf), conf->ifname, conf->netns);
	if (r < 0)
		return log_error_errno(r, "port '%s': cannot move '%s' into namespace '%s'",
				       conf_name(conf), conf->ifname, conf->netns);
	/*
	 * Moving a link takes it down, and the name only resolves inside the
	 * target now (the ifindex may change on the way), so bring it up
	 * through a netlink socket born in that namespace.
	 */
	r = ifconf_new_in_netns(&ns_nl, ns_fd);
	if (r < 0)
		return log_error_errno(r, "port '%s': cannot enter namespace '%s'", conf_name(conf),
				       conf->netns);
	r = ifconf_lookup(ns_nl, conf->ifname);
	if (r > 0)
		r = ifconf_set_up(ns_nl, r, true);
	if (r < 0)
		(void)log_error_errno(r, "port '%s': cannot bring '%s' up in namespace '%s'",
				      conf_name(conf), conf->ifname, conf->netns);
	ifconf_free(ns_nl);
	return r;
}

static void tx_submit(struct tap_port *t);

/* The batched write path, or NULL where io_uring is missing or disabled (then writev()). */
static struct tap_tx *tx_new(void)
{
	struct tap_tx *tx = calloc(1, sizeof(*tx));

	if (!tx)
		return NULL;
	tx->buf = malloc((size_t)TAP_TX_SLOTS * TAP_TX_SLOT);
	if (!tx->buf || io_uring_queue_init(TAP_TX_SLOTS, &tx->ring, 0) < 0) {
		free(tx->buf);
		free(tx);
		return NULL;
	}
	if (io_uring_queue_init(TAP_TX_SLOTS, &tx->rx_ring, 0) < 0) {
		io_uring_queue_exit(&tx->ring);
		free(tx->buf);
		free(tx);
		return NULL;
	}
	tx->rx_win = 4;
	for (unsigned i = 0; i < TAP_TX_SLOTS; i++) {
		tx->iov[i][0] =
			(struct iovec){ .iov_base = &tx->vnet[i], .iov_len = sizeof(tx->vnet[i]) };
		tx->iov[i][1].iov_base = tx->buf + (size_t)i * TAP_TX_SLOT;
	}
	return tx;
}

static void tx_free(struct tap_tx *tx)
{
	if (!tx)
		return;
	io_uring_queue_exit(&tx->ring);
	io_uring_queue_exit(&tx->rx_ring);
	free(tx->buf);
	free(tx);
}

static int tap_open(struct port *p, const struct port_conf *conf)
{
	struct tap_port *t = tap_of(p);
	const char *kind = p->ops->kind;
	struct ifconf_sock *nl = NULL;
	int fd = -1, ns_fd = -1, ifindex, r;

	if (!conf->ifname || !conf->ifname[0] || strlen(conf->ifname) >= IF_NAMESIZE ||
	    strchr(conf->ifname, '/') || strchr(conf->ifname, ' '))
		return log_error_errno(-EINVAL, "port '%s': bad interface name '%s'",
				       conf_name(conf), conf->ifname ? conf->ifname : "");
	if (conf->netns && t->is_host)
		return log_error_errno(-EINVAL, "port '%s': a host adapter stays in the host",
				       conf_name(conf));
	if (t->is_host && (!conf->addr_be || conf->prefix_len > 32))
		return log_error_errno(-EINVAL, "port '%s': a host adapter needs an IPv4 address",
				       conf_name(conf));
	if (conf->netns) {
		ns_fd = ifconf_netns_open(conf->netns);
		if (ns_fd < 0)
			return log_error_errno(ns_fd == -EINVAL ? -EINVAL : -ENOENT,
					       "port '%s': network namespace '%s' not found",
					       conf_name(conf), conf->netns);
	}
	fd = tun_create(conf, kind);
	if (fd < 0) {
		r = fd;
		goto fail;
	}
	ifindex = (int)if_nametoindex(conf->ifname);
	if (ifindex <= 0) {
		r = -errno;
		(void)log_error_errno(r, "port '%s': '%s' vanished after creation", conf_name(conf),
				      conf->ifname);
		goto fail;
	}
	r = ifconf_new(&nl);
	if (r < 0) {
		(void)log_error_errno(r, "port '%s': cannot open a route netlink socket",
				      conf_name(conf));
		goto fail;
	}
	/* The MAC first: some drivers refuse a new address while up. */
	if (conf->mac) {
		r = ifconf_set_mac(nl, ifindex, conf->mac);
		if (r < 0) {
			(void)log_error_errno(
				r,
				"port '%s': cannot set MAC %02x:%02x:%02x:%02x:%02x:%02x on '%s'",
				conf_name(conf), conf->mac[0], conf->mac[1], conf->mac[2],
				conf->mac[3], conf->mac[4], conf->mac[5], conf->ifname);
			goto fail;
		}
	}
	if (conf->mtu) {
		r = ifconf_set_mtu(nl, ifindex, conf->mtu);
		if (r < 0) {
			(void)log_error_errno(r, "port '%s': cannot set MTU %u on '%s'",
					      conf_name(conf), conf->mtu, conf->ifname);
			goto fail;
		}
	}
	/*
	 * The tap's queue toward vswitchd holds 500 frames by default: a pause of
	 * the loop (a lease-file compaction, a burst from many guests) would drop
	 * frames that a deeper queue rides out. Failing here costs only depth.
	 */
	r = ifconf_set_txqlen(nl, ifindex, TAP_TXQLEN);
	if (r < 0)
		(void)log_warn_errno(r, "port '%s': cannot set the queue length of '%s'",
				     conf_name(conf), conf->ifname);
	if (t->is_host) {
		r = ifconf_add_ipv4(nl, ifindex, conf->addr_be, conf->prefix_len);
		if (r < 0) {
			const uint8_t *a = (const uint8_t *)&conf->addr_be;

			(void)log_error_errno(
				r, "port '%s': cannot add address %u.%u.%u.%u/%u to '%s'",
				conf_name(conf), a[0], a[1], a[2], a[3], conf->prefix_len,
				conf->ifname);
			goto fail;
		}
	}
	if (ns_fd >= 0) {
		r = tap_move_up(nl, ifindex, conf, ns_fd);
	} else {
		r = ifconf_set_up(nl, ifindex, true);
		if (r < 0)
			(void)log_error_errno(r, "port '%s': cannot bring '%s' up", conf_name(conf),
					      conf->ifname);
	}
	if (r < 0)
		goto fail;
	ifconf_free(nl);

	t->fd = fd;
	t->ns_fd = ns_fd;
	t->pending_err = 0;
	t->tx = tx_new();
	snprintf(p->ifname, sizeof(p->ifname), "%s", conf->ifname);
	snprintf(p->name, sizeof(p->name), "%s", conf_name(conf));
	p->mtu = conf->mtu ? conf->mtu : TAP_DEFAULT_MTU;
	if (conf->netns)
		log_info("port '%s': %s '%s' up in namespace '%s'", p->name, kind, p->ifname,
			 conf->netns);
	else
		log_info("port '%s': %s '%s' up", p->name, kind, p->ifname);
	return 0;
fail:
	ifconf_free(nl);
	if (fd >= 0)
		close(fd); /* the last reference to a non-persistent tap deletes it */
	if (ns_fd >= 0)
		close(ns_fd);
	return r;
}

static void tap_close(struct port *p)
{
	struct tap_port *t = tap_of(p);

	/*
	 * Closing the only queue of a non-persistent tap unregisters the
	 * netdev, wherever it lives now, together with its addresses.
	 */
	if (t->tx) {
		tx_submit(t);
		tx_free(t->tx);
		t->tx = NULL;
	}
	if (t->fd >= 0)
		close(t->fd);
	if (t->ns_fd >= 0)
		close(t->ns_fd);
	t->fd = -1;
	t->ns_fd = -1;
}

static void tap_destroy(struct port *p)
{
	free(tap_of(p));
}

static int tap_fd(const struct port *p)
{
	return tap_of(p)->fd;
}

/*
 * Reads up to 'n' frames with one io_uring submission of 'rx_win' reads: on
 * a non-blocking tap each read completes at once, with a frame or -EAGAIN,
 * in order. The window follows the load, so an idle port pays for few
 * empty reads. Returns as tap_recv().
 */
static int tap_recv_batch(struct tap_port *t, struct frame *v, unsigned n)
{
	struct tap_tx *tx = t->tx;
	struct io_uring_cqe *cqe;
	unsigned want = n < tx->rx_win ? n : tx->rx_win, got = 0, done = 0;
	int err = 0, res[TAP_TX_SLOTS];

	for (unsigned i = 0; i < want; i++) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&tx->rx_ring);

		tx->rx_iov[i][0] =
			(struct iovec){ .iov_base = &v[i].vnet, .iov_len = sizeof(v[i].vnet) };
		tx->rx_iov[i][1] = (struct iovec){ .iov_base = v[i].data, .iov_len = v[i].cap };
		io_uring_prep_readv(sqe, t->fd, tx->rx_iov[i], 2, (uint64_t)-1);
		/* Never park a read: an empty queue must answer -EAGAIN now, not complete later. */
		sqe->rw_flags = RWF_NOWAIT;
		sqe->user_data = i;
	}
	while (io_uring_submit_and_wait(&tx->rx_ring, want) == -EINTR)
		;
	while (done < want && io_uring_peek_cqe(&tx->rx_ring, &cqe) == 0) {
		res[cqe->user_data] = cqe->res;
		io_uring_cqe_seen(&tx->rx_ring, cqe);
		done++;
	}
	for (unsigned i = 0; i < done; i++) {
		if (res[i] == -EAGAIN)
			continue;
		if (res[i] == -EOPNOTSUPP || res[i] == -EINVAL) {
			/* A kernel whose taps cannot refuse to wait: one readv() per frame. */
			tx->rx_win = 0;
			return got ? (int)got : -EAGAIN;
		}
		if (res[i] < 0 || (size_t)res[i] < sizeof(v[i].vnet)) {
			/* Consumed and bad: the good ones go first, the error on the next call. */
			if (!err)
				err = res[i] < 0 ? res[i] : -EBADMSG;
			continue;
		}
		if (got != i) {
			memcpy(v[got].data, v[i].data, (size_t)res[i] - sizeof(v[i].vnet));
			v[got].vnet = v[i].vnet;
		}
		v[got].len = (uint32_t)((size_t)res[i] - sizeof(v[i].vnet));
		got++;
	}
	if (got == want && tx->rx_win < TAP_TX_SLOTS / 2)
		tx->rx_win *= 2;
	else if (got < want / 4 && tx->rx_win > 4)
		tx->rx_win /= 2;
	if (err && got)
		t->pending_err = err;
	else if (err)
		return err;
	return got ? (int)got : -EAGAIN;
}

static int tap_recv(struct port *p, struct frame *v, unsigned n)
{
	struct tap_port *t = tap_of(p);
	unsigned i = 0;

	if (t->pending_err) {
		int r = t->pending_err;

		t->pending_err = 0;
		return r;
	}
	if (t->tx && t->tx->rx_win)
		return tap_recv_batch(t, v, n);
	while (i < n) {
		struct frame *f = &v[i];
		struct iovec iov[2] = {
			{ .iov_base = &f->vnet, .iov_len = sizeof(f->vnet) },
			{ .iov_base = f->data, .iov_len = f->cap },
		};
		ssize_t len = readv(t->fd, iov, 2);

		if (len < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			if (i > 0) {
				t->pending_err = -errno;
				break;
			}
			return -errno;
		}
		if ((size_t)len < sizeof(f->vnet)) {
			/*
			 * The frame is consumed; the batch so far is good, so
			 * report the bad one on the next call.
			 */
			if (i == 0)
				return -EBADMSG;
			t->pending_err = -EBADMSG;
			break;
		}
		f->len = (uint32_t)((size_t)len - sizeof(f->vnet));
		i++;
	}
	return i > 0 ? (int)i : -EAGAIN;
}

/*
 * Submits the queued writes and collects their results: tap writes never
 * block, so each completes during the submission. Failures are kept for
 * the next tap_flush() to report.
 */
static void tx_submit(struct tap_port *t)
{
	struct tap_tx *tx = t->tx;
	struct io_uring_cqe *cqe;
	unsigned done = 0;

	if (!tx->n)
		return;
	/* liburing returns -errno itself. */
	while (io_uring_submit_and_wait(&tx->ring, tx->n) == -EINTR)
		;
	while (done < tx->n && io_uring_peek_cqe(&tx->ring, &cqe) == 0) {
		if (cqe->res < 0) {
			tx->failed++;
			tx->failed_bytes += tx->iov[cqe->user_data][1].iov_len;
		}
		io_uring_cqe_seen(&tx->ring, cqe);
		done++;
	}
	tx->n = 0;
}

static int tap_flush(struct port *p, uint64_t *ret_bytes)
{
	struct tap_port *t = tap_of(p);
	int failed;

	*ret_bytes = 0;
	if (!t->tx)
		return 0;
	tx_submit(t);
	failed = (int)t->tx->failed;
	*ret_bytes = t->tx->failed_bytes;
	t->tx->failed = 0;
	t->tx->failed_bytes = 0;
	return failed;
}

static int tap_send(struct port *p, const struct frame *f)
{
	struct tap_port *t = tap_of(p);
	struct tap_tx *tx = t->tx;

	if (tx && f->len <= TAP_TX_SLOT) {
		struct io_uring_sqe *sqe;
		unsigned i = tx->n;

		memcpy(tx->buf + (size_t)i * TAP_TX_SLOT, f->data, f->len);
		tx->vnet[i] = f->vnet;
		tx->iov[i][1].iov_len = f->len;
		sqe = io_uring_get_sqe(&tx->ring);
		io_uring_prep_writev(sqe, t->fd, tx->iov[i], 2, (uint64_t)-1);
		sqe->user_data = i;
		if (++tx->n == TAP_TX_SLOTS)
			tx_submit(t); /* full: out now; failures reach the next flush */
		return 0;
	}
	if (tx)
		tx_submit(t); /* keep the order: queued frames first */
	struct iovec iov[2] = {
		{ .iov_base = (void *)&f->vnet, .iov_len = sizeof(f->vnet) },
		{ .iov_base = f->data, .iov_len = f->len },
	};
	ssize_t len;

	do {
		len = writev(t->fd, iov, 2);
	} while (len < 0 && errno == EINTR);
	/*
	 * A tap write is all or nothing. EIO means the link is down (nobody
	 * reads the namespace side): the caller counts it like a full queue.
	 */
	if (len < 0)
		return -errno;
	return 0;
}

static int tap_set_mtu(struct port *p, unsigned mtu)
{
	struct tap_port *t = tap_of(p);
	struct ifconf_sock *nl = NULL;
	int r;

	if (t->ns_fd >= 0)
		r = ifconf_new_in_netns(&nl, t->ns_fd);
	else
		r = ifconf_new(&nl);
	if (r < 0)
		return log_error_errno(r, "port '%s': cannot open a route netlink socket", p->name);
	r = ifconf_lookup(nl, p->ifname);
	if (r > 0)
		r = ifconf_set_mtu(nl, r, mtu);
	ifconf_free(nl);
	if (r < 0)
		return log_error_errno(r, "port '%s': cannot set MTU %u on '%s'", p->name, mtu,
				       p->ifname);
	p->mtu = mtu;
	return 0;
}

/*
 * A host adapter is a tap that stays in the host and gets an address
 * (tap_port.is_host): the same operations under another kind.
 */
#define TAP_PORT_OPS(name)                                                                         \
	{                                                                                          \
		.kind = (name), .offloads = PORT_OFL_CSUM | PORT_OFL_GSO, .open = tap_open,        \
		.close = tap_close, .destroy = tap_destroy, .fd = tap_fd, .recv = tap_recv,        \
		.send = tap_send, .flush = tap_flush, .set_mtu = tap_set_mtu,                      \
	}

static const struct port_ops tap_ops = TAP_PORT_OPS("tap");
static const struct port_ops host_ops = TAP_PORT_OPS("host");

static int new_port(struct port **ret, const struct port_ops *ops, bool is_host)
{
	struct tap_port *t;

	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->port.ops = ops;
	t->fd = -1;
	t->ns_fd = -1;
	t->is_host = is_host;
	*ret = &t->port;
	return 0;
}

int tap_port_new(struct port **ret)
{
	return new_port(ret, &tap_ops, false);
}

int host_port_new(struct port **ret)
{
	return new_port(ret, &host_ops, true);
}

/* Attaches to (or creates) tap 'ifname' and sets its persistence; returns 0 or -errno. */
static int tun_persist(const char *ifname, bool persist)
{
	struct ifreq ifr = { 0 };
	int fd, r = 0;

	if (!ifname[0] || strlen(ifname) >= IFNAMSIZ)
		return -EINVAL;
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return errno == EACCES			   ? -EPERM
		       : errno == ENXIO || errno == ENODEV ? -ENOENT
							   : -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	if (ioctl(fd, TUNSETIFF, &ifr) < 0 || ioctl(fd, TUNSETPERSIST, persist ? 1 : 0) < 0)
		r = errno == EACCES ? -EPERM : errno == EBUSY ? -EEXIST : -errno;
	close(fd);
	return r;
}

int tap_persist_create(const char *ifname, bool *ret_created)
{
	bool exists = if_nametoindex(ifname) != 0;
	int r = tun_persist(ifname, true);

	if (r < 0)
		return log_error_errno(r, "tap '%s': cannot create a persistent tap", ifname);
	if (ret_created)
		*ret_created = !exists;
	return 0;
}

int tap_persist_delete(const char *ifname)
{
	int r;

	if (!if_nametoindex(ifname))
		return -ENODEV;
	r = tun_persist(ifname, false);
	if (r < 0)
		return log_error_errno(r, "tap '%s': cannot remove the persistent tap", ifname);
	return 0; /* not persistent and no fd left: the kernel removes it */
}

/* SPDX-License-Identifier: MIT */
/*
 * vswitchd: runs the networks of its profiles. This is the one file that wires
 * the parts together (STYLE.md §1): it loads and checks profiles, creates a
 * switch core per network, opens its ports through the providers in tap/,
 * owns every libev watcher, and answers the control socket. On SIGTERM or
 * SIGINT it closes every port, which removes every interface it created.
 *
 * Exit status: 0 after a clean shutdown, 1 when the networks cannot be set up
 * (privileges, a busy interface name, no /dev/net/tun), 2 for bad profiles or
 * bad arguments.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ev.h>
#include <getopt.h>
#include <json-c/json.h>
#include <libgen.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "dhcpd/dhcp_endpoint.h"
#include "dhcpd/dhcp_msg.h"
#include "nat/dns_proxy.h"
#include "nat/nat.h"
#include "nat/resolv.h"
#include "tap/capture_port.h"
#include "tap/netdev.h"
#include "tap/tap.h"
#include "vhd-attach/vhd.h"
#include "vhd-attach/vhd_diskset.h"
#include "vswitch/ctl.h"
#include "vswitch/impair.h"
#include "vswitch/port.h"
#include "vswitch/profile.h"
#include "vswitch/report.h"
#include "vswitch/switch.h"

#define VSD_STATE_DIR	"/var/lib/vswitch" /* default home of the lease files */
#define VSD_POLL_BUDGET 64 /* frames per port per wakeup before yielding to the loop */
/* Receive coalescing (see vsd_coalesce()): */
#define VSD_COALESCE_DEFAULT_US 20u    /* the pause, unless --rx-coalesce says otherwise */
#define VSD_COALESCE_MAX_US	1000u  /* longest pause --rx-coalesce accepts */
#define VSD_COALESCE_RATE	10000u /* frames per second above which rounds pause */
#define VSD_COALESCE_WINDOW_US	1000u  /* the rate is measured over windows this long */
#define VSD_CAPTURES_MAX	16     /* captures running at once per network */

struct vsd_net;

/* A machine of the profile ([vm]): its port and disks while it is up. */
struct vsd_vm {
	const struct profile_vm *conf; /* borrowed from the network's profile */
	struct vhd_diskset *disks;     /* NULL while down */
	char socket[108];	       /* the disks' NBD socket (sun_path size) */
};

struct vsd_port {
	struct port *port;   /* the provider's; closed and destroyed with this */
	struct vsd_net *net; /* back pointer */
	ev_io io;	     /* readability of the port's fd, if it has one */
	bool from_profile;   /* false for ports added through vswitchctl */
	uint64_t log_rl;     /* rate limit state for receive errors */
};

struct vsd_net {
	struct profile_net *conf; /* borrowed from the daemon's profile set */
	struct vswitch *sw;
	struct vsd_port *ports[SWITCH_PORTS_MAX];
	size_t n_ports;
	struct port *dhcp;     /* the DHCP endpoint among 'ports', or NULL */
	ev_io dhcp_sync;       /* the endpoint's lease syncer completing */
	struct nat *nat;       /* Internet Connection Sharing, or NULL */
	size_t n_impaired;     /* ports with an impairment: the impair timer matters */
	struct dns_proxy *dns; /* NAT's DNS proxy on the host adapter address, or NULL */
	ev_io dns_io;
	struct vsd_vm vms[PROFILE_VMS_MAX]; /* one per [vm], same order */
	struct vsd_capture {
		struct port *sink;    /* capture_port; owned */
		struct port *watched; /* borrowed: a port of 'sw' */
	} captures[VSD_CAPTURES_MAX];
	size_t n_captures;
	char dir[PATH_MAX]; /* the profile's folder, absolute: VM disks */
};

struct vsd {
	struct ev_loop *loop;
	struct profile_set profiles;
	struct vsd_net *nets; /* one per profile, same order */
	size_t n_nets;
	const char *state_dir;	 /* lease files live here; borrowed from argv or a literal */
	char vhd_tool[PATH_MAX]; /* the `vhd` executable that serves VM disks */
	struct ctl *ctl;
	ev_io ctl_io;
	ev_prepare flush;	/* before the loop sleeps: DHCP group commit */
	unsigned round_frames;	/* frames read from ports in this loop round */
	unsigned coalesce_us;	/* receive coalescing pause; 0 = off */
	uint64_t rate_start_us; /* start of the window that measures the frame rate */
	unsigned rate_frames;	/* frames read in that window */
	bool streaming;		/* the last window saw more than VSD_COALESCE_RATE frames/s */
	ev_timer tick;		/* once a second: MAC aging */
	ev_timer impair;	/* when the next impaired frame is due */
	ev_signal sig_term, sig_int;
};

static void vsd_port_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct vsd_port *vp = w->data;
	int r;

	(void)revents;
	r = switch_poll_port(vp->net->sw, vp->port, VSD_POLL_BUDGET, clock_mono_ms());
	if (r >= 0) {
		((struct vsd *)ev_userdata(loop))->round_frames += (unsigned)r;
		return;
	}
	/*
	 * Counted as rx-error by the core and survived: a malformed or oversized
	 * frame, memory pressure, or a link that went down and may come back
	 * (a packet socket reports that once).
	 */
	if (r == -EINTR || r == -ENOBUFS || r == -ENOMEM || r == -EBADMSG || r == -EMSGSIZE ||
	    r == -ENETDOWN) {
		if (log_ratelimit(&vp->log_rl, clock_mono_ms()))
			log_warn_errno(r, "port '%s' of network '%s': receive error",
				       vp->port->name, vp->net->conf->name);
		return;
	}
	/* The device is gone or broken: polling it again would spin the loop. */
	ev_io_stop(loop, w);
	log_error_errno(
		r, "port '%s' of network '%s': receive failed, port disabled (del-port removes it)",
		vp->port->name, vp->net->conf->name);
}

/*
 * Opens 'p' (transferred: destroyed on failure) with 'pc' and attaches it to
 * network 'n', watching its fd if it has one. Returns 0 or a negative errno
 * (logged).
 */
static int vsd_port_attach(struct vsd *d, struct vsd_net *n, struct port *p,
			   const struct port_conf *pc, bool from_profile)
{
	struct vsd_port *vp = NULL;
	int fd, r;

	if (n->n_ports >= SWITCH_PORTS_MAX) {
		r = log_error_errno(-E2BIG, "network '%s': port '%s' not added", n->conf->name,
				    pc->name);
		goto fail;
	}
	if (switch_find_port(n->sw, pc->name)) {
		log_error("network '%s': a port named '%s' exists", n->conf->name, pc->name);
		r = -EEXIST;
		goto fail;
	}
	vp = calloc(1, sizeof(*vp));
	if (!vp) {
		r = -ENOMEM;
		goto fail;
	}
	snprintf(p->name, sizeof(p->name), "%s", pc->name);
	p->vlan = pc->vlan;
	if (pc->trunk)
		memcpy(p->trunk, pc->trunk, sizeof(p->trunk));
	r = p->ops->open(p, pc);
	if (r < 0)
		goto fail;
	r = switch_add_port(n->sw, p);
	if (r < 0) {
		log_error_errno(r, "network '%s': port '%s' not attached", n->conf->name, pc->name);
		p->ops->close(p);
		goto fail;
	}
	vp->port = p;
	vp->net = n;
	vp->from_profile = from_profile;
	fd = p->ops->fd(p);
	if (fd >= 0) {
		ev_io_init(&vp->io, vsd_port_cb, fd, EV_READ);
		vp->io.data = vp;
		ev_io_start(d->loop, &vp->io);
	}
	n->ports[n->n_ports++] = vp;
	return 0;
fail:
	p->ops->destroy(p);
	free(vp);
	return r;
}

/* Creates a port with 'new_port' and attaches it; see vsd_port_attach(). */
static int vsd_port_add(struct vsd *d, struct vsd_net *n, int (*new_port)(struct port **ret),
			const struct port_conf *pc, bool from_profile)
{
	struct port *p;
	int r = new_port(&p);

	if (r < 0)
		return log_error_errno(r, "network '%s': port '%s' not created", n->conf->name,
				       pc->name);
	return vsd_port_attach(d, n, p, pc, from_profile);
}

/*
 * A stable, locally administered MAC for the network's DHCP server, so that
 * guests' ARP caches stay right across daemon restarts: 02:76:73 ("vs")
 * followed by a hash of the network name.
 */
/*
 * A MAC of our own for an interface vswitchd creates, derived from the
 * network and port names (locally administered, unicast). The same on every
 * start: a guest namespace keeps its DHCP lease and the guests' ARP caches
 * stay right for the host adapter across a restart.
 */
static void vsd_stable_mac(const char *net, const char *port, uint8_t mac[6])
{
	uint32_t h = 2166136261u; /* FNV-1a over "NET/PORT" */

	for (const char *c = net; *c; c++)
		h = (h ^ (uint8_t)*c) * 16777619u;
	h = (h ^ '/') * 16777619u;
	for (const char *c = port; *c; c++)
		h = (h ^ (uint8_t)*c) * 16777619u;
	mac[0] = 0x02;
	mac[1] = 0x76;
	mac[2] = 0x73;
	mac[3] = (uint8_t)(h >> 16);
	mac[4] = (uint8_t)(h >> 8);
	mac[5] = (uint8_t)h;
}

/* A lease sync completed: the ACKs it made durable go out now. */
static void vsd_dhcp_sync_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct vsd_net *n = w->data;

	(void)loop;
	(void)revents;
	if (n->dhcp)
		(void)dhcp_endpoint_synced(n->dhcp, clock_mono_ms());
}

/* Starts the network's DHCP endpoint from its profile. 0 or a negative errno (logged). */
static int vsd_dhcp_start(struct vsd *d, struct vsd_net *n)
{
	const struct profile_net *c = n->conf;
	struct dhcp_reservation *res = NULL;
	struct dhcp_route routes[PROFILE_ROUTES_MAX];
	struct dhcp_server_conf dc = {
		.first_be = c->dhcp_first_be,
		.last_be = c->dhcp_last_be,
		.server_be = c->dhcp_server_be,
		.netmask_be = htonl(c->prefix_len ? ~0u << (32 - c->prefix_len) : 0),
		.gateway_be = c->gateway_be,
		.domain = c->domain,
		.lease_secs = c->lease_secs,
		.renew_secs = c->renew_secs,
		.rebind_secs = c->rebind_secs,
		.mtu = c->mtu,
	};
	struct port_conf pc = { .name = "dhcp", .mtu = c->mtu, .vlan = c->dhcp_vlan };
	char path[4096];
	struct port *p;
	int r;

	for (size_t i = 0; i < c->n_dns && i < DHCP_CONF_ADDRS_MAX; i++)
		dc.dns_be[dc.n_dns++] = c->dns_be[i];
	/* Without a dns list, NAT's DNS proxy on the host adapter answers (DESIGN.md §4). */
	if (!c->n_dns && c->has_nat && c->dns_proxy && c->has_host)
		dc.dns_be[dc.n_dns++] = c->host_addr_be;
	for (size_t i = 0; i < c->n_wins && i < DHCP_CONF_ADDRS_MAX; i++)
		dc.wins_be[dc.n_wins++] = c->wins_be[i];
	if (c->n_reserves) {
		res = calloc(c->n_reserves, sizeof(*res));
		if (!res)
			return -ENOMEM;
		for (size_t i = 0; i < c->n_reserves; i++) {
			memcpy(res[i].mac, c->reserves[i].mac, 6);
			res[i].addr_be = c->reserves[i].addr_be;
			snprintf(res[i].hostname, sizeof(res[i].hostname), "%s",
				 c->reserves[i].hostname);
		}
		dc.reserves = res;
		dc.n_reserves = c->n_reserves;
	}
	for (size_t i = 0; i < c->n_routes; i++)
		routes[i] = (struct dhcp_route){ .dest_be = c->routes[i].dest_be,
						 .prefix_len = c->routes[i].prefix_len,
						 .gateway_be = c->routes[i].gateway_be };
	dc.routes = routes;
	dc.n_routes = c->n_routes;
	vsd_stable_mac(c->name, "dhcp", dc.server_mac);
	if (mkdir(d->state_dir, 0755) < 0 && errno != EEXIST) {
		r = log_error_errno(-errno, "state folder '%s'", d->state_dir);
		goto out;
	}
	snprintf(path, sizeof(path), "%s/%s.leases", d->state_dir, c->name);
	r = dhcp_endpoint_new(&p, n->sw, &dc, path);
	if (r < 0) {
		log_error_errno(r, "network '%s': DHCP server not started", c->name);
		goto out;
	}
	r = vsd_port_attach(d, n, p, &pc, true);
	if (r == 0) {
		n->dhcp = p;
		if (dhcp_endpoint_sync_fd(p) >= 0) {
			ev_io_init(&n->dhcp_sync, vsd_dhcp_sync_cb, dhcp_endpoint_sync_fd(p),
				   EV_READ);
			n->dhcp_sync.data = n;
			ev_io_start(d->loop, &n->dhcp_sync);
		}
	}
out:
	free(res);
	return r;
}

static void vsd_captures_of(struct vsd_net *n, const struct port *p);

static void vsd_port_remove(struct vsd *d, struct vsd_net *n, size_t i)
{
	struct vsd_port *vp = n->ports[i];

	vsd_captures_of(n, vp->port);
	if (vp->port->impair)
		n->n_impaired--;

	if (vp->port == n->dhcp) {
		ev_io_stop(d->loop, &n->dhcp_sync);
		n->dhcp = NULL;
	}
	ev_io_stop(d->loop, &vp->io);
	switch_del_port(n->sw, vp->port);
	vp->port->ops->close(vp->port);
	vp->port->ops->destroy(vp->port);
	free(vp);
	memmove(&n->ports[i], &n->ports[i + 1], (n->n_ports - i - 1) * sizeof(n->ports[0]));
	n->n_ports--;
}

static int (*vsd_port_ctor(enum profile_port_type t))(struct port **)
{
	return t == PROFILE_PORT_NETDEV ? netdev_port_new : tap_port_new;
}

/* The provider's conf of profile port 'pp'; 'mac_buf' holds a tap's stable MAC. */
static void vsd_port_conf(const struct vsd_net *n, const struct profile_port *pp,
			  struct port_conf *pc, uint8_t mac_buf[6])
{
	const uint8_t *mac = pp->has_mac ? pp->mac : NULL;

	if (!mac && pp->type == PROFILE_PORT_TAP) {
		vsd_stable_mac(n->conf->name, pp->name, mac_buf);
		mac = mac_buf;
	}
	*pc = (struct port_conf){
		.name = pp->name,
		.ifname = pp->ifname,
		.netns = pp->netns[0] ? pp->netns : NULL,
		.mac = mac,
		.mtu = n->conf->mtu,
		.vlan = pp->vlan,
		.trunk = pp->has_trunk ? pp->trunk : NULL,
	};
}

/* Shares the uplink with the network (the host adapter is up by now). 0 or -errno (logged). */
static int vsd_nat_start(struct vsd_net *n)
{
	const struct profile_net *c = n->conf;
	struct nat_forward fw[PROFILE_FORWARDS_MAX];
	struct nat_conf nc = {
		.network = c->name,
		.subnet_be = c->subnet_be,
		.prefix_len = c->prefix_len,
		.host_ifname = c->host_ifname,
		.uplink = c->uplink,
		.forwards = fw,
		.n_forwards = c->n_forwards,
	};

	for (size_t i = 0; i < c->n_forwards; i++)
		fw[i] = (struct nat_forward){ .proto = c->forwards[i].proto,
					      .host_port = c->forwards[i].host_port,
					      .guest_be = c->forwards[i].guest_be,
					      .guest_port = c->forwards[i].guest_port };
	return nat_new(&n->nat, &nc);
}

struct vsd_name_query {
	const char *host;
	uint32_t addr_be; /* 0 until found */
};

static void vsd_name_cb(const struct dhcp_endpoint_lease *l, void *arg)
{
	struct vsd_name_query *q = arg;

	if (!q->addr_be && l->state == DHCP_LEASE_BOUND && !strcasecmp(l->hostname, q->host))
		q->addr_be = l->addr_be;
}

/*
 * The DNS proxy's local names: guests that sent a hostname with a bound
 * lease, then static reservations with a name (a guest with a fixed address
 * may never ask for a lease).
 */
static bool vsd_dns_lookup(void *ctx, const char *host, uint32_t *addr_be)
{
	struct vsd_net *n = ctx;
	struct vsd_name_query q = { .host = host };

	if (n->dhcp)
		dhcp_endpoint_foreach_lease(n->dhcp, vsd_name_cb, &q);
	for (size_t i = 0; !q.addr_be && i < n->conf->n_reserves; i++)
		if (!strcasecmp(n->conf->reserves[i].hostname, host))
			q.addr_be = n->conf->reserves[i].addr_be;
	if (q.addr_be)
		*addr_be = q.addr_be;
	return q.addr_be != 0;
}

static void vsd_dns_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	(void)dns_proxy_handle(w->data, clock_mono_ms());
}

/* Starts NAT's DNS proxy on the host adapter address. 0 or -errno (logged). */
static int vsd_dns_start(struct vsd *d, struct vsd_net *n)
{
	const struct profile_net *c = n->conf;
	struct dns_resolv res;
	struct dns_proxy_conf pc = {
		.network = c->name,
		.listen_be = c->host_addr_be,
		.domain = c->domain,
		.lookup = vsd_dns_lookup,
		.lookup_ctx = n,
	};
	char ip[INET6_ADDRSTRLEN];
	int r;

	r = dns_resolv_load(&res, c->resolv_conf);
	if (r < 0)
		log_errno(LOG_LVL_WARN, r, "dns '%s': cannot read '%s'; only local names resolve",
			  c->name, c->resolv_conf);
	if (r >= 0 && res.n_loopback)
		log_warn("dns '%s': skipping %u loopback resolver(s) in '%s' (first %s): a stub on "
			 "the host is not reachable as the guests' upstream",
			 c->name, res.n_loopback, c->resolv_conf, res.first_loopback);
	if (r >= 0 && res.used_fallback)
		log_info("dns '%s': using systemd-resolved's upstream servers from '%s'", c->name,
			 res.path);
	if (r >= 0 && !res.n_servers)
		log_warn("dns '%s': no usable resolver in '%s'; only local names resolve", c->name,
			 res.path);
	if (r >= 0) {
		pc.upstreams = res.servers;
		pc.n_upstreams = res.n_servers;
	}
	r = dns_proxy_new(&n->dns, &pc);
	if (r < 0)
		return log_error_errno(r, "dns '%s': cannot listen on %s port 53", c->name,
				       profile_ip_str(c->host_addr_be, ip));
	ev_io_init(&n->dns_io, vsd_dns_cb, dns_proxy_fd(n->dns), EV_READ);
	n->dns_io.data = n->dns;
	ev_io_start(d->loop, &n->dns_io);
	log_info("dns '%s': proxy on %s port 53, %u upstream resolver(s)", c->name,
		 profile_ip_str(c->host_addr_be, ip), pc.n_upstreams);
	return 0;
}

static void vsd_dns_stop(struct vsd *d, struct vsd_net *n)
{
	if (!n->dns)
		return;
	ev_io_stop(d->loop, &n->dns_io);
	dns_proxy_free(n->dns);
	n->dns = NULL;
}

/* ---- machines ([vm]) ------------------------------------------------------ */

static struct json_object *vsd_reply_with(const char *key, struct json_object *val);
static void vsd_mirrors_apply(struct vsd_net *n);
static void vsd_impair_arm(struct vsd *d);
static int vsd_impair_set(struct vsd_net *n, struct port *p, const struct profile_impair *pi);
static void vsd_impair_apply(struct vsd_net *n);

static struct vsd_vm *vsd_vm_of_port(struct vsd_net *n, const char *port)
{
	for (size_t i = 0; i < n->conf->n_vms; i++)
		if (!strcmp(n->vms[i].conf->port, port))
			return &n->vms[i];
	return NULL;
}

static struct vsd_vm *vsd_find_vm(struct vsd_net *n, const char *name)
{
	for (size_t i = 0; i < n->conf->n_vms; i++)
		if (!strcmp(n->vms[i].conf->name, name))
			return &n->vms[i];
	return NULL;
}

static const struct profile_port *vsd_profile_port(const struct vsd_net *n, const char *name)
{
	for (size_t i = 0; i < n->conf->n_ports; i++)
		if (!strcmp(n->conf->ports[i].name, name))
			return &n->conf->ports[i];
	return NULL;
}

/*
 * The profile's folder, made absolute now: the daemon leaves its working
 * directory when it detaches, and relative disk paths mean "beside the
 * profile".
 */
static void vsd_vms_init(struct vsd_net *n)
{
	char buf[PATH_MAX];

	snprintf(buf, sizeof(buf), "%s", n->conf->file ? n->conf->file : ".");
	if (!realpath(n->conf->file ? dirname(buf) : ".", n->dir))
		snprintf(n->dir, sizeof(n->dir), "%s", ".");
	for (size_t i = 0; i < n->conf->n_vms; i++)
		n->vms[i] = (struct vsd_vm){ .conf = &n->conf->vms[i] };
}

/* A disk as the profile names it, absolute: relative paths start at the profile's folder. */
static void vsd_disk_path(const struct vsd_net *n, const char *disk, char *out, size_t cap)
{
	int len = disk[0] == '/' ? snprintf(out, cap, "%s", disk)
				 : snprintf(out, cap, "%s/%s", n->dir, disk);

	if (len < 0 || (size_t)len >= cap)
		out[0] = '\0'; /* too long for a path: the disk set reports it missing */
}

/* The disk set of 'vm' as vhd_diskset sees it; 'paths' holds the absolute image paths. */
static void vsd_vm_diskset_conf(const struct vsd *d, const struct vsd_net *n,
				const struct vsd_vm *vm, char (*paths)[PATH_MAX], const char **ptrs,
				struct vhd_diskset_conf *dc)
{
	static const enum vhd_diskset_mode modes[] = {
		[PROFILE_DISK_DIRECT] = VHD_DISKSET_DIRECT,
		[PROFILE_DISK_DIFFERENCING] = VHD_DISKSET_DIFFERENCING,
		[PROFILE_DISK_UNDO] = VHD_DISKSET_UNDO,
	};

	for (size_t i = 0; i < vm->conf->n_disks; i++) {
		vsd_disk_path(n, vm->conf->disks[i], paths[i], PATH_MAX);
		ptrs[i] = paths[i];
	}
	*dc = (struct vhd_diskset_conf){
		.vm = vm->conf->name,
		.dir = n->dir,
		.disks = ptrs,
		.n_disks = vm->conf->n_disks,
		.mode = modes[vm->conf->disk_mode],
		.tool = d->vhd_tool,
		.socket = vm->socket,
	};
}

static const char *vsd_disk_mode_name(enum profile_disk_mode m)
{
	return m == PROFILE_DISK_UNDO		? "undo"
	       : m == PROFILE_DISK_DIFFERENCING ? "differencing"
						: "direct";
}

/* A machine's state for `vm list` and `vm up`: port, disks, export, QEMU line. */
static struct json_object *vsd_vm_report(const struct vsd *d, const struct vsd_net *n,
					 struct vsd_vm *vm)
{
	const struct profile_port *pp = vsd_profile_port(n, vm->conf->port);
	struct json_object *o = json_object_new_object(), *disks = json_object_new_array();
	char paths[PROFILE_DISKS_MAX][PATH_MAX], used[PATH_MAX], qemu[4096], mac[18] = "";
	const char *ptrs[PROFILE_DISKS_MAX];
	struct vhd_diskset_conf dc;
	bool up = vm->disks && vhd_diskset_alive(vm->disks);
	size_t len;

	if (!o || !disks || !pp) {
		json_object_put(o);
		json_object_put(disks);
		return NULL;
	}
	vsd_vm_diskset_conf(d, n, vm, paths, ptrs, &dc);
	if (pp->has_mac)
		snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", pp->mac[0], pp->mac[1],
			 pp->mac[2], pp->mac[3], pp->mac[4], pp->mac[5]);
	len = (size_t)snprintf(qemu, sizeof(qemu),
			       "qemu-system-x86_64 -name %s -m 1024 -netdev "
			       "tap,id=net0,ifname=%s,script=no,downscript=no -device "
			       "virtio-net-pci,netdev=net0%s%s",
			       vm->conf->name, pp->ifname, mac[0] ? ",mac=" : "", mac);
	for (size_t i = 0; i < vm->conf->n_disks; i++) {
		struct json_object *dj = json_object_new_object();

		if (vhd_diskset_disk_path(&dc, i, used, sizeof(used)) < 0)
			snprintf(used, sizeof(used), "%s", "?");
		json_object_object_add(dj, "name",
				       json_object_new_string(vhd_diskset_export_name(i)));
		json_object_object_add(dj, "image", json_object_new_string(paths[i]));
		json_object_object_add(dj, "disk", json_object_new_string(used));
		json_object_object_add(dj, "disk_exists",
				       json_object_new_boolean(!access(used, F_OK)));
		json_object_array_add(disks, dj);
		if (len < sizeof(qemu))
			len += (size_t)snprintf(qemu + len, sizeof(qemu) - len,
						" -drive file=nbd+unix:///%s?socket=%s,format=raw,"
						"if=virtio",
						vhd_diskset_export_name(i), vm->socket);
	}
	json_object_object_add(o, "name", json_object_new_string(vm->conf->name));
	json_object_object_add(o, "state", json_object_new_string(up ? "up" : "down"));
	json_object_object_add(o, "port", json_object_new_string(vm->conf->port));
	json_object_object_add(o, "interface", json_object_new_string(pp->ifname));
	json_object_object_add(o, "disk_mode",
			       json_object_new_string(vsd_disk_mode_name(vm->conf->disk_mode)));
	json_object_object_add(o, "socket", json_object_new_string(vm->socket));
	json_object_object_add(o, "export_pid",
			       json_object_new_int64(up ? vhd_diskset_pid(vm->disks) : 0));
	json_object_object_add(o, "disks", disks);
	json_object_object_add(o, "qemu", json_object_new_string(qemu));
	return o;
}

/* Opens the machine's port: a persistent tap QEMU opens by name, or the netdev the profile names.
 */
static int vsd_vm_port_open(struct vsd *d, struct vsd_net *n, const struct profile_port *pp)
{
	struct port_conf pc;
	uint8_t mac[6];
	int r;

	if (pp->type == PROFILE_PORT_TAP) {
		r = tap_persist_create(pp->ifname, NULL);
		if (r < 0)
			return r;
	}
	vsd_port_conf(n, pp, &pc, mac);
	pc.netns = NULL; /* QEMU runs beside vswitchd */
	pc.mac = NULL;	 /* the port's MAC is the VM's, set in QEMU */
	r = vsd_port_add(d, n, netdev_port_new, &pc, true);
	if (r < 0 && pp->type == PROFILE_PORT_TAP)
		(void)tap_persist_delete(pp->ifname);
	return r;
}

static void vsd_vm_port_close(struct vsd *d, struct vsd_net *n, const struct profile_port *pp)
{
	for (size_t i = 0; i < n->n_ports; i++) {
		if (!strcmp(n->ports[i]->port->name, pp->name)) {
			vsd_port_remove(d, n, i);
			break;
		}
	}
	if (pp->type == PROFILE_PORT_TAP)
		(void)tap_persist_delete(pp->ifname);
}

static struct json_object *vsd_cmd_vm_up(struct vsd *d, struct vsd_net *n, struct vsd_vm *vm)
{
	const struct profile_port *pp = vsd_profile_port(n, vm->conf->port);
	char paths[PROFILE_DISKS_MAX][PATH_MAX], err[VHD_ERR_LEN] = "";
	const char *ptrs[PROFILE_DISKS_MAX];
	struct vhd_diskset_conf dc;
	int r;

	if (vm->disks && vhd_diskset_alive(vm->disks))
		return ctl_error("machine '%s' is already up", vm->conf->name);
	if (!vm->socket[0])
		return ctl_error("machine '%s': its disks' socket '%s/%s-%s.nbd' is longer than a "
				 "Unix socket path may be (%zu bytes); start vswitchd with a "
				 "shorter --state-dir",
				 vm->conf->name, d->state_dir, n->conf->name, vm->conf->name,
				 sizeof(vm->socket) - 1);
	if (vm->disks) { /* its export died: tidy up, keeping every change */
		(void)vhd_diskset_down(vm->disks, VHD_DISKSET_KEEP, err);
		vm->disks = NULL;
		vsd_vm_port_close(d, n, pp);
	}
	if (!vm->conf->n_disks)
		return ctl_error("machine '%s' has no disk", vm->conf->name);
	if (mkdir(d->state_dir, 0755) < 0 && errno != EEXIST)
		return ctl_error("state folder '%s': %s", d->state_dir, strerror(errno));
	r = vsd_vm_port_open(d, n, pp);
	if (r < 0)
		return ctl_error("machine '%s': port '%s' not opened: %s", vm->conf->name, pp->name,
				 strerror(-r));
	vsd_mirrors_apply(n);
	vsd_impair_apply(n);
	vsd_vm_diskset_conf(d, n, vm, paths, ptrs, &dc);
	r = vhd_diskset_up(&vm->disks, &dc, err);
	if (r < 0) {
		vsd_vm_port_close(d, n, pp);
		log_error("network '%s': machine '%s' not started: %s", n->conf->name,
			  vm->conf->name, err[0] ? err : strerror(-r));
		return ctl_error("machine '%s': %s", vm->conf->name, err[0] ? err : strerror(-r));
	}
	log_info("network '%s': machine '%s' up: port '%s', %zu disk(s) on '%s'", n->conf->name,
		 vm->conf->name, pp->ifname, vm->conf->n_disks, vm->socket);
	return vsd_reply_with("vm", vsd_vm_report(d, n, vm));
}

static struct json_object *vsd_cmd_vm_down(struct vsd *d, struct vsd_net *n, struct vsd_vm *vm,
					   const char *choice)
{
	enum vhd_diskset_end end = VHD_DISKSET_KEEP;
	char err[VHD_ERR_LEN] = "";
	int r;

	if (choice && !strcmp(choice, "--commit"))
		end = VHD_DISKSET_COMMIT;
	else if (choice && !strcmp(choice, "--discard"))
		end = VHD_DISKSET_DISCARD;
	else if (choice && strcmp(choice, "--keep"))
		return ctl_error("vm down: unknown choice '%s' (--commit, --discard or --keep)",
				 choice);
	if (!vm->disks)
		return ctl_error("machine '%s' is not up", vm->conf->name);
	if (end != VHD_DISKSET_KEEP && vm->conf->disk_mode != PROFILE_DISK_UNDO)
		return ctl_error("machine '%s' has %s disks: --commit and --discard apply to undo "
				 "disks",
				 vm->conf->name, vsd_disk_mode_name(vm->conf->disk_mode));
	r = vhd_diskset_down(vm->disks, end, err);
	vm->disks = NULL;
	vsd_vm_port_close(d, n, vsd_profile_port(n, vm->conf->port));
	if (r < 0) {
		log_error("network '%s': machine '%s' down, but: %s", n->conf->name, vm->conf->name,
			  err[0] ? err : strerror(-r));
		return ctl_error("machine '%s' is down, but: %s", vm->conf->name,
				 err[0] ? err : strerror(-r));
	}
	log_info("network '%s': machine '%s' down (%s)", n->conf->name, vm->conf->name,
		 end == VHD_DISKSET_COMMIT    ? "changes committed"
		 : end == VHD_DISKSET_DISCARD ? "changes discarded"
					      : "changes kept");
	return vsd_reply_with("vm", vsd_vm_report(d, n, vm));
}

static struct json_object *vsd_cmd_vm(struct vsd *d, struct vsd_net *n, const char *const *args,
				      size_t n_args)
{
	struct json_object *a;
	struct vsd_vm *vm;

	/* A path too long for a Unix socket stays empty: 'vm up' says why. */
	for (size_t i = 0; i < n->conf->n_vms; i++) {
		struct vsd_vm *v = &n->vms[i];
		int len = snprintf(v->socket, sizeof(v->socket), "%s/%s-%s.nbd", d->state_dir,
				   n->conf->name, v->conf->name);

		if (len < 0 || (size_t)len >= sizeof(v->socket))
			v->socket[0] = '\0';
	}
	if (!strcmp(args[0], "list")) {
		a = json_object_new_array();
		for (size_t i = 0; a && i < n->conf->n_vms; i++)
			json_object_array_add(a, vsd_vm_report(d, n, &n->vms[i]));
		return vsd_reply_with("vms", a);
	}
	if (n_args < 2)
		return ctl_error("usage: vm up|down NET VM");
	vm = vsd_find_vm(n, args[1]);
	if (!vm)
		return ctl_error("network '%s' has no machine '%s'", n->conf->name, args[1]);
	if (!strcmp(args[0], "up"))
		return n_args != 2 ? ctl_error("usage: vm up NET VM") : vsd_cmd_vm_up(d, n, vm);
	if (!strcmp(args[0], "down"))
		return n_args > 3 ? ctl_error("usage: vm down NET VM [--commit|--discard]")
				  : vsd_cmd_vm_down(d, n, vm, n_args == 3 ? args[2] : NULL);
	return ctl_error("unknown vm action '%s' (up, down or list)", args[0]);
}

/* Every machine still up goes down keeping its changes: nothing is lost at shutdown. */
static void vsd_vms_stop(struct vsd *d, struct vsd_net *n)
{
	for (size_t i = 0; n->conf && i < n->conf->n_vms; i++) {
		struct vsd_vm *vm = &n->vms[i];
		char err[VHD_ERR_LEN] = "";

		if (!vm->disks)
			continue;
		(void)vhd_diskset_down(vm->disks, VHD_DISKSET_KEEP, err);
		vm->disks = NULL;
		vsd_vm_port_close(d, n, vsd_profile_port(n, vm->conf->port));
	}
}

/*
 * mirror = lines: each port's traffic is copied to the port it names, once
 * both exist (a machine's port joins when the machine comes up).
 */
static void vsd_mirrors_apply(struct vsd_net *n)
{
	for (size_t i = 0; i < n->conf->n_ports; i++) {
		const struct profile_port *pp = &n->conf->ports[i];
		struct port *watched, *sink;
		int r;

		if (!pp->mirror[0])
			continue;
		watched = switch_find_port(n->sw, pp->name);
		sink = switch_find_port(n->sw, pp->mirror);
		if (!watched || !sink)
			continue;
		r = switch_add_monitor(n->sw, watched, sink);
		if (r == 0)
			log_info("network '%s': port '%s' mirrored to '%s'", n->conf->name,
				 pp->name, pp->mirror);
		else if (r != -EEXIST)
			log_errno(LOG_LVL_WARN, r, "network '%s': port '%s' not mirrored to '%s'",
				  n->conf->name, pp->name, pp->mirror);
	}
}

/* Impairs port 'p' as 'pi' says (all zero: none). 0 or -errno (logged). */
static int vsd_impair_set(struct vsd_net *n, struct port *p, const struct profile_impair *pi)
{
	struct impair_conf c = { .delay_us = pi->delay_us,
				 .jitter_us = pi->jitter_us,
				 .loss_ppm = pi->loss_ppm,
				 .rate_bps = pi->rate_bps };
	bool had = p->impair != NULL;
	int r = switch_set_impair(n->sw, p, &c);

	if (r < 0)
		return log_error_errno(r, "network '%s': port '%s' not impaired", n->conf->name,
				       p->name);
	if (!had && p->impair)
		n->n_impaired++;
	else if (had && !p->impair)
		n->n_impaired--;
	if (p->impair)
		log_info("network '%s': port '%s' impaired: delay %u us, jitter %u us, loss "
			 "%.4g%%, rate %llu bit/s",
			 n->conf->name, p->name, c.delay_us, c.jitter_us, c.loss_ppm / 1e4,
			 (unsigned long long)c.rate_bps);
	return 0;
}

/* The profile's impairments, for its ports that exist now. */
static void vsd_impair_apply(struct vsd_net *n)
{
	for (size_t i = 0; i < n->conf->n_ports; i++) {
		struct port *p = switch_find_port(n->sw, n->conf->ports[i].name);

		if (p && !p->impair)
			(void)vsd_impair_set(n, p, &n->conf->ports[i].impair);
	}
}

/* Ends capture 'i' of 'n': the sink stops getting copies, its files are closed. */
static void vsd_capture_end(struct vsd_net *n, size_t i)
{
	struct vsd_capture *c = &n->captures[i];
	struct capture_stats st;

	switch_del_monitor(n->sw, c->watched, c->sink);
	capture_port_get_stats(c->sink, &st);
	log_info("network '%s': capture of port '%s' ended: %llu frames in %u file(s) from '%s'",
		 n->conf->name, c->watched->name, (unsigned long long)st.frames, st.files,
		 st.path ? st.path : "?");
	c->sink->ops->close(c->sink);
	c->sink->ops->destroy(c->sink);
	memmove(c, c + 1, (n->n_captures - i - 1) * sizeof(*c));
	n->n_captures--;
}

/* Captures of a port that goes away end with it. */
static void vsd_captures_of(struct vsd_net *n, const struct port *p)
{
	for (size_t i = n->n_captures; i-- > 0;)
		if (n->captures[i].watched == p)
			vsd_capture_end(n, i);
}

/* "10M", "1G", "4096": bytes with an optional K, M or G (powers of 1024). */
static bool vsd_parse_size(const char *s, uint64_t *ret)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *s == '-')
		return false;
	if (*end == 'K' || *end == 'k')
		v <<= 10, end++;
	else if (*end == 'M' || *end == 'm')
		v <<= 20, end++;
	else if (*end == 'G' || *end == 'g')
		v <<= 30, end++;
	if (*end)
		return false;
	*ret = v;
	return true;
}

/* capture NET PORT FILE [--count N] [--rotate SIZE] | capture NET PORT --stop */
static struct json_object *vsd_cmd_capture(struct vsd_net *n, const char *const *args,
					   size_t n_args)
{
	struct capture_conf cc = { 0 };
	struct capture_stats st;
	struct port *p, *sink;
	int r;

	if (n_args < 2)
		return ctl_error("usage: capture NET PORT FILE [--count N] [--rotate SIZE] | "
				 "capture NET PORT --stop");
	p = switch_find_port(n->sw, args[0]);
	if (!p)
		return ctl_error("network '%s' has no port '%s'", n->conf->name, args[0]);
	if (!strcmp(args[1], "--stop")) {
		for (size_t i = 0; i < n->n_captures; i++) {
			if (n->captures[i].watched != p)
				continue;
			capture_port_get_stats(n->captures[i].sink, &st);
			vsd_capture_end(n, i);
			return vsd_reply_with("stopped", json_object_new_string(args[0]));
		}
		return ctl_error("port '%s' is not being captured", args[0]);
	}
	cc.path = args[1];
	for (size_t i = 2; i < n_args; i++) {
		if (!strcmp(args[i], "--count") && i + 1 < n_args) {
			if (!vsd_parse_size(args[++i], &cc.max_frames) || !cc.max_frames)
				return ctl_error("--count '%s': expected a number of frames",
						 args[i]);
		} else if (!strcmp(args[i], "--rotate") && i + 1 < n_args) {
			if (!vsd_parse_size(args[++i], &cc.rotate_bytes) || cc.rotate_bytes < 4096)
				return ctl_error("--rotate '%s': expected a size of at least 4K, "
						 "e.g. 10M",
						 args[i]);
		} else {
			return ctl_error("capture: unknown option '%s'", args[i]);
		}
	}
	for (size_t i = 0; i < n->n_captures; i++)
		if (n->captures[i].watched == p)
			return ctl_error("port '%s' is already being captured", args[0]);
	if (n->n_captures == VSD_CAPTURES_MAX)
		return ctl_error("network '%s' runs %d captures already", n->conf->name,
				 VSD_CAPTURES_MAX);
	if (cc.path[0] != '/')
		return ctl_error("capture file '%s': give an absolute path (vswitchd's working "
				 "folder is not yours)",
				 cc.path);
	r = capture_port_new(&sink, "capture", &cc);
	if (r < 0)
		return ctl_error("capture file '%s': %s", cc.path, strerror(-r));
	r = switch_add_monitor(n->sw, p, sink);
	if (r < 0) {
		sink->ops->close(sink);
		sink->ops->destroy(sink);
		return ctl_error("port '%s': %s", args[0],
				 r == -E2BIG ? "too many mirrors and captures" : strerror(-r));
	}
	n->captures[n->n_captures++] = (struct vsd_capture){ .sink = sink, .watched = p };
	log_info("network '%s': capturing port '%s' into '%s'", n->conf->name, p->name, cc.path);
	return vsd_reply_with("capturing", json_object_new_string(cc.path));
}

/* impair NET PORT [delay=T] [jitter=T] [loss=P%] [rate=R] | impair NET PORT off */
static struct json_object *vsd_cmd_impair(struct vsd_net *n, const char *const *args, size_t n_args)
{
	struct profile_port pp;
	char err[PROFILE_ERR_MAX], *kv[8];
	struct port *p;
	size_t n_kv = 0;

	if (n_args < 2)
		return ctl_error("usage: impair NET PORT [delay=T] [jitter=T] [loss=P%%] [rate=R] "
				 "| impair NET PORT off");
	p = switch_find_port(n->sw, args[0]);
	if (!p)
		return ctl_error("network '%s' has no port '%s'", n->conf->name, args[0]);
	if (n_args > 1 + 4)
		return ctl_error("impair: at most delay, jitter, loss and rate");
	if (!strcmp(args[1], "off")) {
		memset(&pp, 0, sizeof(pp));
	} else {
		for (size_t i = 1; i < n_args; i++) {
			if (strncmp(args[i], "delay=", 6) && strncmp(args[i], "jitter=", 7) &&
			    strncmp(args[i], "loss=", 5) && strncmp(args[i], "rate=", 5))
				return ctl_error("impair: '%s' is not delay=, jitter=, loss= or "
						 "rate=",
						 args[i]);
			kv[n_kv++] = (char *)args[i];
		}
		/* The [port] key parsers check the values, as in a profile. */
		if (profile_port_from_args(n->conf, "x", kv, n_kv, &pp, err, sizeof(err)) < 0)
			return ctl_error("%s", err);
	}
	if (vsd_impair_set(n, p, &pp.impair) < 0)
		return ctl_error("port '%s': impairment refused", args[0]);
	return vsd_reply_with("port", report_port(p));
}

static int vsd_net_start(struct vsd *d, struct vsd_net *n, struct profile_net *conf)
{
	struct switch_conf sc = {
		.name = conf->name,
		.mtu = conf->mtu,
		.fdb_aging_secs = conf->fdb_aging_secs,
		.fdb_max = conf->fdb_max,
	};
	struct port_conf pc;
	uint8_t mac[6];
	char ip[16];
	int r;

	n->conf = conf;
	r = switch_new(&n->sw, &sc);
	if (r < 0)
		return log_error_errno(r, "network '%s': cannot create the switch", conf->name);
	if (conf->has_host) {
		pc = (struct port_conf){
			.name = "host",
			.ifname = conf->host_ifname,
			.mtu = conf->mtu,
			.addr_be = conf->host_addr_be,
			.prefix_len = conf->prefix_len,
			.vlan = conf->host_vlan,
			.mac = mac,
		};
		vsd_stable_mac(conf->name, "host", mac);
		r = vsd_port_add(d, n, host_port_new, &pc, true);
		if (r < 0)
			return r;
	}
	if (conf->has_dhcp) {
		r = vsd_dhcp_start(d, n);
		if (r < 0)
			return r;
	}
	vsd_vms_init(n);
	for (size_t i = 0; i < conf->n_ports; i++) {
		/* A machine's port comes and goes with the machine (vswitchctl vm up|down). */
		if (vsd_vm_of_port(n, conf->ports[i].name))
			continue;
		vsd_port_conf(n, &conf->ports[i], &pc, mac);
		r = vsd_port_add(d, n, vsd_port_ctor(conf->ports[i].type), &pc, true);
		if (r < 0)
			return r;
	}
	vsd_mirrors_apply(n);
	vsd_impair_apply(n);
	if (conf->has_nat) {
		r = vsd_nat_start(n);
		if (r == 0 && conf->dns_proxy)
			r = vsd_dns_start(d, n);
		if (r < 0)
			return r;
	}
	log_info("network '%s': %s/%u, %zu ports", conf->name, profile_ip_str(conf->subnet_be, ip),
		 conf->prefix_len, n->n_ports);
	return 0;
}

static void vsd_net_stop(struct vsd *d, struct vsd_net *n)
{
	vsd_vms_stop(d, n);
	vsd_dns_stop(d, n);
	nat_free(n->nat);
	n->nat = NULL;
	while (n->n_ports)
		vsd_port_remove(d, n, n->n_ports - 1);
	switch_free(n->sw);
	n->sw = NULL;
}

static struct vsd_net *vsd_find_net(struct vsd *d, const char *name)
{
	for (size_t i = 0; i < d->n_nets; i++)
		if (!strcmp(d->nets[i].conf->name, name))
			return &d->nets[i];
	return NULL;
}

/* ---- control requests ---------------------------------------------------- */

/* The ICS state of a network, conflicts listed afresh (another firewall may have come since). */
static struct json_object *vsd_nat_summary(const struct vsd_net *n)
{
	struct json_object *o = json_object_new_object(), *a = json_object_new_array();

	if (!o || !a) {
		json_object_put(o);
		json_object_put(a);
		return NULL;
	}
	(void)nat_refresh_conflicts(n->nat);
	for (size_t i = 0; i < nat_n_conflicts(n->nat); i++)
		json_object_array_add(a, json_object_new_string(nat_conflict(n->nat, i)));
	json_object_object_add(o, "uplink", json_object_new_string(nat_uplink(n->nat)));
	json_object_object_add(o, "table", json_object_new_string(nat_table(n->nat)));
	json_object_object_add(o, "table_owned", json_object_new_boolean(nat_table_owned(n->nat)));
	json_object_object_add(o, "forwards", json_object_new_int64((int64_t)n->conf->n_forwards));
	json_object_object_add(o, "conflicts", a);
	if (n->dns) {
		struct json_object *dns = json_object_new_object();
		struct dns_proxy_stats st;

		dns_proxy_get_stats(n->dns, &st);
		const struct {
			const char *key;
			uint64_t v;
		} counters[] = {
			{ "queries_udp", st.queries_udp },    { "queries_tcp", st.queries_tcp },
			{ "local", st.local_answers },	      { "forwarded", st.forwarded },
			{ "timeouts", st.upstream_timeouts }, { "servfail", st.servfail },
			{ "malformed", st.malformed },
		};
		for (size_t i = 0; i < sizeof(counters) / sizeof(counters[0]); i++)
			json_object_object_add(dns, counters[i].key,
					       json_object_new_int64((int64_t)counters[i].v));
		json_object_object_add(o, "dns_proxy", dns);
	}
	return o;
}

static struct json_object *vsd_net_summary(const struct vsd_net *n)
{
	const struct profile_net *c = n->conf;
	struct json_object *o = json_object_new_object();
	char ip[16], cidr[24];

	if (!o)
		return NULL;
	snprintf(cidr, sizeof(cidr), "%s/%u", profile_ip_str(c->subnet_be, ip), c->prefix_len);
	json_object_object_add(o, "name", json_object_new_string(c->name));
	json_object_object_add(o, "subnet", json_object_new_string(cidr));
	json_object_object_add(o, "mtu", json_object_new_int64(c->mtu));
	json_object_object_add(o, "ports", json_object_new_int64((int64_t)switch_n_ports(n->sw)));
	json_object_object_add(o, "macs", json_object_new_int64((int64_t)switch_fdb_count(n->sw)));
	json_object_object_add(o, "host",
			       c->has_host ? json_object_new_string(c->host_ifname) : NULL);
	json_object_object_add(
		o, "host_address",
		c->has_host ? json_object_new_string(profile_ip_str(c->host_addr_be, ip)) : NULL);
	json_object_object_add(o, "dhcp", json_object_new_boolean(c->has_dhcp));
	json_object_object_add(o, "nat", json_object_new_boolean(c->has_nat));
	if (n->nat)
		json_object_object_add(o, "ics", vsd_nat_summary(n));
	json_object_object_add(o, "profile", json_object_new_string(c->file ? c->file : ""));
	return o;
}

static struct json_object *vsd_reply_with(const char *key, struct json_object *val)
{
	struct json_object *o = json_object_new_object();

	if (!o || !val) {
		json_object_put(o);
		json_object_put(val);
		return NULL;
	}
	json_object_object_add(o, key, val);
	return o;
}

static struct json_object *vsd_cmd_show(struct vsd *d)
{
	struct json_object *a = json_object_new_array();

	for (size_t i = 0; a && i < d->n_nets; i++)
		json_object_array_add(a, vsd_net_summary(&d->nets[i]));
	return vsd_reply_with("networks", a);
}

static struct json_object *vsd_cmd_stats(struct vsd *d, const char *net)
{
	struct json_object *a = json_object_new_array();

	if (net && !vsd_find_net(d, net)) {
		json_object_put(a);
		return ctl_error("unknown network '%s'", net);
	}
	for (size_t i = 0; a && i < d->n_nets; i++) {
		struct vsd_net *n = &d->nets[i];
		struct json_object *o;

		if (net && strcmp(net, n->conf->name))
			continue;
		o = vsd_net_summary(n);
		if (o)
			json_object_object_add(o, "port_stats", report_ports(n->sw));
		json_object_array_add(a, o);
	}
	return vsd_reply_with("networks", a);
}

static struct json_object *vsd_cmd_add_port(struct vsd *d, struct vsd_net *n, const char *name,
					    const char *const *kv, size_t n_kv)
{
	struct profile_port pp;
	struct port_conf pc;
	char err[PROFILE_ERR_MAX];
	uint8_t mac[6];
	int r;

	r = profile_port_from_args(n->conf, name, (char *const *)kv, n_kv, &pp, err, sizeof(err));
	if (r < 0)
		return ctl_error("%s", err);
	if (switch_find_port(n->sw, pp.name))
		return ctl_error("network '%s' already has a port '%s'", n->conf->name, pp.name);
	/* The kernel refuses a second tap of one name, but not a second packet socket. */
	for (size_t i = 0; i < d->n_nets; i++)
		for (size_t j = 0; j < d->nets[i].n_ports; j++)
			if (!strcmp(d->nets[i].ports[j]->port->ifname, pp.ifname))
				return ctl_error(
					"interface '%s' is already port '%s' of network '%s'",
					pp.ifname, d->nets[i].ports[j]->port->name,
					d->nets[i].conf->name);
	vsd_port_conf(n, &pp, &pc, mac);
	r = vsd_port_add(d, n, vsd_port_ctor(pp.type), &pc, false);
	if (r < 0)
		return ctl_error("port '%s': %s", pp.name,
				 r == -EEXIST ? "interface name in use" : strerror(-r));
	if (pp.mirror[0]) {
		struct port *sink = switch_find_port(n->sw, pp.mirror);

		if (!sink || switch_add_monitor(n->sw, switch_find_port(n->sw, pp.name), sink) < 0)
			log_warn("network '%s': port '%s' not mirrored to '%s' (no such port)",
				 n->conf->name, pp.name, pp.mirror);
	}
	vsd_mirrors_apply(n); /* profile ports that mirror to the new one */
	(void)vsd_impair_set(n, switch_find_port(n->sw, pp.name), &pp.impair);
	return vsd_reply_with("port", report_port(n->ports[n->n_ports - 1]->port));
}

static struct json_object *vsd_cmd_del_port(struct vsd *d, struct vsd_net *n, const char *name)
{
	for (size_t i = 0; i < n->n_ports; i++) {
		if (strcmp(n->ports[i]->port->name, name))
			continue;
		log_info("network '%s': port '%s' removed", n->conf->name, name);
		vsd_port_remove(d, n, i);
		return vsd_reply_with("removed", json_object_new_string(name));
	}
	return ctl_error("network '%s' has no port '%s'", n->conf->name, name);
}

static void vsd_lease_cb(const struct dhcp_endpoint_lease *l, void *arg)
{
	struct json_object *o = json_object_new_object();
	char ip[16], mac[18], cid[2 * 64 + 1] = "";

	if (!o)
		return;
	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", l->mac[0], l->mac[1], l->mac[2],
		 l->mac[3], l->mac[4], l->mac[5]);
	for (size_t i = 0; i < l->client_id_len && i < 64; i++)
		snprintf(cid + 2 * i, 3, "%02x", l->client_id[i]);
	json_object_object_add(o, "address",
			       json_object_new_string(profile_ip_str(l->addr_be, ip)));
	json_object_object_add(o, "mac", json_object_new_string(mac));
	json_object_object_add(o, "client_id", json_object_new_string(cid));
	json_object_object_add(o, "hostname", json_object_new_string(l->hostname));
	json_object_object_add(o, "state", json_object_new_string(l->state_name));
	json_object_object_add(o, "expires", json_object_new_int64((int64_t)l->expires_unix));
	json_object_array_add(arg, o);
}

static struct json_object *vsd_cmd_leases(struct vsd_net *n)
{
	struct json_object *a, *o, *st;
	struct dhcp_endpoint_stats es;

	if (!n->dhcp)
		return ctl_error("network '%s' has no DHCP server", n->conf->name);
	a = json_object_new_array();
	st = json_object_new_object();
	o = vsd_reply_with("leases", a);
	if (!o || !st) {
		json_object_put(o);
		json_object_put(st);
		return NULL;
	}
	dhcp_endpoint_foreach_lease(n->dhcp, vsd_lease_cb, a);
	dhcp_endpoint_get_stats(n->dhcp, &es);
	json_object_object_add(st, "pool_size", json_object_new_int64((int64_t)es.pool_size));
	json_object_object_add(st, "offers",
			       json_object_new_int64((int64_t)es.server.tx[DHCP_OFFER]));
	json_object_object_add(st, "acks", json_object_new_int64((int64_t)es.server.tx[DHCP_ACK]));
	json_object_object_add(st, "naks", json_object_new_int64((int64_t)es.server.tx[DHCP_NAK]));
	json_object_object_add(st, "declines", json_object_new_int64((int64_t)es.server.declines));
	json_object_object_add(st, "lease_fsyncs", json_object_new_int64((int64_t)es.lease_fsyncs));
	json_object_object_add(o, "stats", st);
	return o;
}

static struct json_object *vsd_handle(void *arg, const char *cmd, const char *const *args,
				      size_t n_args)
{
	struct vsd *d = arg;
	struct vsd_net *n = NULL;

	if (!strcmp(cmd, "show"))
		return n_args ? ctl_error("usage: show") : vsd_cmd_show(d);
	if (!strcmp(cmd, "stats"))
		return n_args > 1 ? ctl_error("usage: stats [NET]")
				  : vsd_cmd_stats(d, n_args ? args[0] : NULL);
	if (!strcmp(cmd, "vm")) {
		if (n_args < 2)
			return ctl_error("usage: vm list NET | vm up|down NET VM");
		n = vsd_find_net(d, args[1]);
		if (!n)
			return ctl_error("unknown network '%s'", args[1]);
		/* args: ACTION NET [VM [CHOICE]] -> ACTION VM [CHOICE] */
		const char *rest[3] = { args[0], n_args > 2 ? args[2] : NULL,
					n_args > 3 ? args[3] : NULL };
		return n_args > 4 ? ctl_error("usage: vm down NET VM [--commit|--discard]")
				  : vsd_cmd_vm(d, n, rest, n_args - 1);
	}
	if (strcmp(cmd, "ports") && strcmp(cmd, "fdb") && strcmp(cmd, "leases") &&
	    strcmp(cmd, "add-port") && strcmp(cmd, "del-port") && strcmp(cmd, "capture") &&
	    strcmp(cmd, "impair"))
		return ctl_error("unknown command '%s'", cmd);
	if (!n_args)
		return ctl_error("%s: network name missing", cmd);
	n = vsd_find_net(d, args[0]);
	if (!n)
		return ctl_error("unknown network '%s'", args[0]);
	if (!strcmp(cmd, "ports"))
		return n_args != 1 ? ctl_error("usage: ports NET")
				   : vsd_reply_with("ports", report_ports(n->sw));
	if (!strcmp(cmd, "fdb"))
		return n_args != 1 ? ctl_error("usage: fdb NET")
				   : vsd_reply_with("fdb", report_fdb(n->sw, clock_mono_ms()));
	if (!strcmp(cmd, "leases"))
		return n_args != 1 ? ctl_error("usage: leases NET") : vsd_cmd_leases(n);
	if (!strcmp(cmd, "capture"))
		return vsd_cmd_capture(n, args + 1, n_args - 1);
	if (!strcmp(cmd, "impair"))
		return vsd_cmd_impair(n, args + 1, n_args - 1);
	if (!strcmp(cmd, "add-port"))
		return n_args < 2 ? ctl_error("usage: add-port NET NAME [key=value]...")
				  : vsd_cmd_add_port(d, n, args[1], args + 2, n_args - 2);
	return n_args != 2 ? ctl_error("usage: del-port NET NAME")
			   : vsd_cmd_del_port(d, n, args[1]);
}

/* ---- loop ---------------------------------------------------------------- */

static void vsd_ctl_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	ctl_serve(w->data);
}

static void vsd_tick_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct vsd *d = w->data;
	uint64_t now = clock_mono_ms();

	(void)loop;
	(void)revents;
	for (size_t i = 0; i < d->n_nets; i++) {
		switch_age(d->nets[i].sw, now);
		if (d->nets[i].dhcp)
			(void)dhcp_endpoint_tick(d->nets[i].dhcp, now);
		if (d->nets[i].dns)
			dns_proxy_tick(d->nets[i].dns, now);
		for (size_t j = d->nets[i].n_captures; j-- > 0;)
			if (capture_port_done(d->nets[i].captures[j].sink))
				vsd_capture_end(&d->nets[i], j);
	}
}

/*
 * Receive coalescing, as a NIC moderates its interrupts. Under a stream of
 * small frames the loop would otherwise come back for every frame or two:
 * each frame written to a guest wakes it, the guest preempts the switch,
 * and a context switch costs more than forwarding the frame (on two cores
 * a 64-byte flood through netdev ports preempted vswitchd about 40,000
 * times a second). While
 * the last window of about a millisecond saw more than VSD_COALESCE_RATE
 * frames per second, each round that moved frames ends with a pause of
 * 'coalesce_us' before the loop polls again, so the next round finds a
 * batch. Slower traffic (a ping, an interactive session) never pauses and
 * keeps its latency; the first frame after a quiet spell measures the
 * quiet window and does not pause either. The pause is a timed sleep, not
 * a yield: the switch is back after it however busy the core is.
 */
static void vsd_coalesce(struct vsd *d)
{
	uint64_t now;

	if (!d->coalesce_us || !d->round_frames)
		return;
	now = clock_mono_us();
	d->rate_frames += d->round_frames;
	d->round_frames = 0;
	if (now - d->rate_start_us >= VSD_COALESCE_WINDOW_US) {
		d->streaming = (uint64_t)d->rate_frames * 1000000u >
			       (uint64_t)VSD_COALESCE_RATE * (now - d->rate_start_us);
		d->rate_start_us = now;
		d->rate_frames = 0;
	}
	if (d->streaming)
		clock_sleep_us(d->coalesce_us);
}

/*
 * Runs when the loop is about to sleep, i.e. after every ready fd of this
 * iteration was drained: the moment to sync the lease files once and send
 * the ACKs that waited for it (the DHCP group commit).
 */
static void vsd_flush_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
	struct vsd *d = w->data;
	uint64_t now = 0;

	(void)loop;
	(void)revents;
	for (size_t i = 0; i < d->n_nets; i++) {
		if (!d->nets[i].dhcp)
			continue;
		if (!now)
			now = clock_mono_ms();
		(void)dhcp_endpoint_flush(d->nets[i].dhcp, now);
	}
	vsd_impair_arm(d);
	/* Last: what endpoints and timers sent this round leaves before the loop sleeps. */
	for (size_t i = 0; i < d->n_nets; i++)
		switch_flush(d->nets[i].sw);
	vsd_coalesce(d);
}

/*
 * Sends the impaired frames that are due and sets the timer for the next.
 * Runs when the timer fires and before the loop sleeps, since input may have
 * queued a frame due earlier than the timer.
 */
static void vsd_impair_arm(struct vsd *d)
{
	uint64_t now = 0, next = UINT64_MAX;

	for (size_t i = 0; i < d->n_nets; i++) {
		uint64_t t;

		if (!d->nets[i].n_impaired)
			continue;
		if (!now)
			now = clock_mono_us();
		t = switch_impair_run(d->nets[i].sw, now);
		if (t < next)
			next = t;
	}
	ev_timer_stop(d->loop, &d->impair);
	if (next == UINT64_MAX)
		return;
	ev_timer_set(&d->impair, next > now ? (double)(next - now) / 1e6 : 0., 0.);
	ev_timer_start(d->loop, &d->impair);
}

static void vsd_impair_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	vsd_impair_arm(w->data);
}

static void vsd_signal_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)revents;
	log_info("signal %d: shutting down", w->signum);
	ev_break(loop, EVBREAK_ALL);
}

static void vsd_teardown(struct vsd *d)
{
	for (size_t i = d->n_nets; i-- > 0;)
		if (d->nets[i].sw)
			vsd_net_stop(d, &d->nets[i]);
	free(d->nets);
	d->nets = NULL;
	d->n_nets = 0;
	ctl_free(d->ctl);
	d->ctl = NULL;
}

/*
 * The `vhd` tool that serves VM disks: $VSWITCH_VHD, else beside vswitchd
 * (an install), else in the build tree's vhd-attach/, else /usr/sbin/vhd.
 */
static void vsd_find_vhd_tool(char *out, size_t cap)
{
	char self[PATH_MAX], cand[PATH_MAX + 32];
	const char *env = getenv("VSWITCH_VHD");
	ssize_t len;

	if (env && *env) {
		snprintf(out, cap, "%s", env);
		return;
	}
	len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (len > 0) {
		const char *dir;

		self[len] = '\0';
		dir = dirname(self);
		for (int i = 0; i < 2; i++) {
			int n = snprintf(cand, sizeof(cand), i ? "%s/../vhd-attach/vhd" : "%s/vhd",
					 dir);

			if (n > 0 && (size_t)n < cap && access(cand, X_OK) == 0) {
				memcpy(out, cand, (size_t)n + 1);
				return;
			}
		}
	}
	snprintf(out, cap, "%s", "/usr/sbin/vhd");
}

/* Whether the effective capability set holds CAP_NET_ADMIN (bit 12). */
static bool have_net_admin(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	unsigned long long caps = 0;

	if (!f)
		return geteuid() == 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &caps) == 1)
			break;
	fclose(f);
	return caps & (1ull << 12);
}

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: vswitchd [OPTION]...\n"
		"Run the virtual networks described by profiles: a userspace switch per network\n"
		"joining tap ports, a host adapter and attached interfaces.\n"
		"\n"
		"  -c, --config=PATH   load a profile file, or every *.conf/*.ini in a folder;\n"
		"                      repeatable (default: the embedded profile, network "
		"vswitch0)\n"
		"  -s, --socket=PATH   control socket (default " CTL_DEFAULT_PATH ")\n"
		"  -d, --state-dir=DIR lease files, one per network (default " VSD_STATE_DIR ")\n"
		"  -f, --foreground    stay in the foreground and log to stderr\n"
		"  -n, --check         check the profiles and exit (0 = valid, 2 = invalid)\n"
		"      --rx-coalesce=USEC  under a stream of small frames, pause this long\n"
		"                      between polls to gather batches (0-%u, default %u;\n"
		"                      0 = off)\n"
		"  -v, --verbose       log debug messages\n"
		"  -h, --help          show this help\n"
		"  -V, --version       show the version\n"
		"\n"
		"SIGTERM or SIGINT removes every interface vswitchd created and exits.\n"
		"Exit status: 0 clean shutdown, 1 set-up failed, 2 invalid profile or usage.\n"
		"See docs/vswitchd.md and docs/profile.md.\n",
		VSD_COALESCE_MAX_US, VSD_COALESCE_DEFAULT_US);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "socket", required_argument, NULL, 's' },
		{ "state-dir", required_argument, NULL, 'd' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "check", no_argument, NULL, 'n' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "rx-coalesce", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	const char *sock = CTL_DEFAULT_PATH;
	bool foreground = false, check_only = false, any_config = false;
	char err[PROFILE_ERR_MAX];
	struct vsd d = { .state_dir = VSD_STATE_DIR, .coalesce_us = VSD_COALESCE_DEFAULT_US };
	int c, r, status = 1;

	log_set_prog("vswitchd");
	while ((c = getopt_long(argc, argv, "c:s:d:fnvhV", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			any_config = true;
			if (profile_set_add_path(&d.profiles, optarg, err, sizeof(err)) < 0) {
				fprintf(stderr, "vswitchd: %s\n", err);
				profile_set_done(&d.profiles);
				return 2;
			}
			break;
		case 's':
			sock = optarg;
			break;
		case 'd':
			d.state_dir = optarg;
			break;
		case 'f':
			foreground = true;
			break;
		case 'n':
			check_only = true;
			break;
		case 'v':
			log_set_level(LOG_LVL_DEBUG);
			break;
		case 'C': {
			char *end;
			unsigned long us;

			errno = 0;
			us = strtoul(optarg, &end, 10);
			if (errno || end == optarg || *end || optarg[0] == '-' ||
			    us > VSD_COALESCE_MAX_US) {
				fprintf(stderr,
					"vswitchd: --rx-coalesce: '%s' is not a number of "
					"microseconds from 0 to %u\n",
					optarg, VSD_COALESCE_MAX_US);
				profile_set_done(&d.profiles);
				return 2;
			}
			d.coalesce_us = (unsigned)us;
			break;
		}
		case 'h':
			usage(stdout);
			profile_set_done(&d.profiles);
			return 0;
		case 'V':
			printf("vswitchd " VSWITCH_VERSION "\n");
			profile_set_done(&d.profiles);
			return 0;
		default:
			fprintf(stderr, "Try 'vswitchd --help'.\n");
			profile_set_done(&d.profiles);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "vswitchd: unexpected argument '%s'; try 'vswitchd --help'\n",
			argv[optind]);
		profile_set_done(&d.profiles);
		return 2;
	}
	if (!any_config) {
		struct profile_net *def;

		r = profile_parse(profile_default_text, "<embedded default>", &def, err,
				  sizeof(err));
		if (r < 0 || profile_set_add(&d.profiles, def) < 0) {
			fprintf(stderr, "vswitchd: %s\n", r < 0 ? err : "out of memory");
			return 2;
		}
	}
	if (!d.profiles.n_nets) {
		fprintf(stderr, "vswitchd: no profile found in the given paths\n");
		return 2;
	}
	if (profile_set_check(&d.profiles, err, sizeof(err)) < 0) {
		fprintf(stderr, "vswitchd: %s\n", err);
		profile_set_done(&d.profiles);
		return 2;
	}
	if (check_only) {
		printf("%zu network%s: profiles valid\n", d.profiles.n_nets,
		       d.profiles.n_nets == 1 ? "" : "s");
		profile_set_done(&d.profiles);
		return 0;
	}
	vsd_find_vhd_tool(d.vhd_tool, sizeof(d.vhd_tool));
	if (!have_net_admin()) {
		fprintf(stderr, "vswitchd: creating interfaces needs root or CAP_NET_ADMIN\n");
		goto out;
	}
	if (access("/dev/net/tun", R_OK | W_OK)) {
		fprintf(stderr, "vswitchd: '/dev/net/tun' is missing: load the tun module "
				"(modprobe tun)\n");
		goto out;
	}
	signal(SIGPIPE, SIG_IGN);
	d.loop = ev_default_loop(EVFLAG_AUTO);
	if (!d.loop) {
		fprintf(stderr, "vswitchd: cannot create the event loop\n");
		goto out;
	}
	if (ctl_new(&d.ctl, sock, vsd_handle, &d) < 0)
		goto out;
	d.nets = calloc(d.profiles.n_nets, sizeof(*d.nets));
	if (!d.nets)
		goto out;
	for (size_t i = 0; i < d.profiles.n_nets; i++) {
		d.n_nets = i + 1;
		/* The failing part logged why; teardown removes what was created. */
		if (vsd_net_start(&d, &d.nets[i], d.profiles.nets[i]) < 0)
			goto out;
	}
	ev_io_init(&d.ctl_io, vsd_ctl_cb, ctl_fd(d.ctl), EV_READ);
	d.ctl_io.data = d.ctl;
	ev_io_start(d.loop, &d.ctl_io);
	ev_set_userdata(d.loop, &d);
	/*
	 * The kernel may stretch a sleep by the timer slack (50 us by default)
	 * to batch wakeups; a coalescing pause should last what it says.
	 */
	if (d.coalesce_us)
		(void)prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
	ev_prepare_init(&d.flush, vsd_flush_cb);
	d.flush.data = &d;
	ev_prepare_start(d.loop, &d.flush);
	ev_timer_init(&d.tick, vsd_tick_cb, 1.0, 1.0);
	ev_init(&d.impair, vsd_impair_cb);
	d.impair.data = &d;
	d.tick.data = &d;
	ev_timer_start(d.loop, &d.tick);
	ev_signal_init(&d.sig_term, vsd_signal_cb, SIGTERM);
	ev_signal_init(&d.sig_int, vsd_signal_cb, SIGINT);
	ev_signal_start(d.loop, &d.sig_term);
	ev_signal_start(d.loop, &d.sig_int);
	if (!foreground) {
		/* Set-up errors went to the terminal; from here on the daemon logs to syslog. */
		if (daemon(0, 0) < 0) {
			log_error_errno(-errno, "cannot become a daemon");
			goto out;
		}
		log_use_syslog("vswitchd");
		ev_loop_fork(d.loop);
	}
	log_info("ready: %zu network%s, control socket '%s'", d.n_nets, d.n_nets == 1 ? "" : "s",
		 sock);
	ev_run(d.loop, 0);
	status = 0;
out:
	vsd_teardown(&d);
	profile_set_done(&d.profiles);
	if (d.loop)
		ev_loop_destroy(d.loop);
	return status;
}

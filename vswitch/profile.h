/* SPDX-License-Identifier: MIT */
/*
 * Network profiles (DESIGN.md §4): INI files parsed with inih into plain data,
 * then validated by pure functions. The daemon loads a set of profiles, checks
 * the set for conflicts, and only then creates anything. Errors read
 * "FILE:LINE: reason".
 */
#ifndef VSWITCH_PROFILE_H
#define VSWITCH_PROFILE_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vswitch/port.h"

#define PROFILE_NAME_MAX     13	 /* network name: 1-12 chars of [a-z0-9-] + NUL */
#define PROFILE_PORTS_MAX    64	 /* [port] sections per profile */
#define PROFILE_RESERVES_MAX 256 /* reserve = lines per profile */
#define PROFILE_FORWARDS_MAX 64	 /* forward = lines per profile */
#define PROFILE_ROUTES_MAX   16	 /* route = lines per [dhcp] (option 121) */
#define PROFILE_VMS_MAX	     32	 /* [vm] sections per profile */
#define PROFILE_DISKS_MAX    8	 /* disk = lines per [vm] */
#define PROFILE_ADDRS_MAX    4	 /* dns = / wins = list items */
#define PROFILE_ERR_MAX	     512 /* bytes of an error message buffer */

enum profile_port_type {
	PROFILE_PORT_TAP,
	PROFILE_PORT_NETDEV,
};

/* Port security levels (docs/security.md); DEFAULT on a port means the network's. */
enum profile_sec {
	PROFILE_SEC_DEFAULT,
	PROFILE_SEC_OFF,
	PROFILE_SEC_BASIC,
	PROFILE_SEC_STRICT,
};

/* Whether a port is trusted (an uplink) or a guest; AUTO decides from the device. */
enum profile_trust {
	PROFILE_TRUST_AUTO,
	PROFILE_TRUST_YES,
	PROFILE_TRUST_NO,
};

enum profile_disk_mode {
	PROFILE_DISK_DIRECT,
	PROFILE_DISK_DIFFERENCING,
	PROFILE_DISK_UNDO,
};

/* Link impairment of a port's egress (labs); all zero = none. */
struct profile_impair {
	uint32_t delay_us;  /* 0..60 s */
	uint32_t jitter_us; /* <= delay */
	uint32_t loss_ppm;  /* parts per million, 0..1000000 */
	uint64_t rate_bps;  /* bits per second, 0 = line rate */
};

struct profile_port {
	char name[PORT_NAME_MAX];    /* from the section header, [a-z0-9-] */
	enum profile_port_type type; /* default tap */
	char ifname[IF_NAMESIZE];    /* default "<network>-<name>" */
	char netns[64];		     /* tap only; "" = stay in the daemon's namespace */
	bool has_mac;
	uint8_t mac[6];		      /* unicast, when has_mac */
	uint16_t vlan;		      /* access VLAN 1..4094, 0 = the untagged segment */
	uint64_t trunk[64];	      /* VLANs carried tagged (bitmap of ids) */
	bool has_trunk;		      /* a trunk = line was given */
	char mirror[PORT_NAME_MAX];   /* port that gets a copy of this port's traffic, or "" */
	struct profile_impair impair; /* egress impairment */
	/* Port security: the level and the keys that override its defaults. */
	enum profile_sec sec;		    /* default: the network's port-security */
	enum profile_trust trust;	    /* trusted = */
	unsigned max_macs;		    /* max-macs =, 0 = the level's */
	unsigned dhcp_rate;		    /* dhcp-rate =, 0 = the level's */
	unsigned dhcp_leases;		    /* dhcp-leases =, 0 = the level's */
	bool has_limits;		    /* one of the keys above or below was given */
	uint8_t macs[PORT_SEC_MACS_MAX][6]; /* macs = (a locked list) */
	size_t n_macs;
	uint32_t addrs_be[PORT_SEC_ADDRS_MAX]; /* addresses = (static IPv4 bindings) */
	size_t n_addrs;
	unsigned line; /* line of the section header */
};

struct profile_reserve {
	uint8_t mac[6];
	uint32_t addr_be;  /* inside the range, outside its reserved first 16 */
	char hostname[64]; /* optional, "" if absent */
	unsigned line;
};

struct profile_route {
	uint32_t dest_be;    /* destination network, host bits zero */
	uint8_t prefix_len;  /* 0..32 */
	uint32_t gateway_be; /* next hop */
	unsigned line;
};

struct profile_forward {
	uint8_t proto;	     /* IPPROTO_TCP or IPPROTO_UDP */
	uint16_t host_port;  /* host order */
	uint32_t guest_be;   /* guest address inside the subnet */
	uint16_t guest_port; /* host order */
	unsigned line;
};

struct profile_vm {
	char name[PORT_NAME_MAX];
	char port[PORT_NAME_MAX];	/* names a [port] of this profile */
	char *disks[PROFILE_DISKS_MAX]; /* owned; paths as written */
	size_t n_disks;
	enum profile_disk_mode disk_mode; /* default direct */
	unsigned line;
};

struct profile_net {
	char *file; /* owned; path used in error messages */
	char name[PROFILE_NAME_MAX];
	unsigned name_line;	   /* line of 'name =' (set conflicts are reported there) */
	uint32_t subnet_be;	   /* network address, host bits zero */
	uint8_t prefix_len;	   /* 8..30 */
	unsigned subnet_line;	   /* line of 'subnet =' */
	unsigned mtu;		   /* 576..65535, default 1500 */
	unsigned fdb_aging_secs;   /* default 300 */
	unsigned fdb_max;	   /* default 4096 */
	enum profile_sec port_sec; /* port-security =, default basic */

	bool has_host;		       /* [host] present */
	char host_ifname[IF_NAMESIZE]; /* default "<name>-host" */
	unsigned host_line;	       /* line of [host] 'interface =', else of [host] */
	uint32_t host_addr_be;	       /* default: 2nd address of the subnet (.1 of a /24) */
	uint16_t host_vlan;	       /* the host adapter's VLAN, 0 = untagged segment */

	bool has_dhcp;		/* [dhcp] present and not enabled = no */
	uint32_t dhcp_first_be; /* range; default the whole subnet */
	uint32_t dhcp_last_be;
	uint32_t dhcp_server_be; /* default: 3rd address of the range; in the reserved block */
	uint16_t dhcp_vlan;	 /* the DHCP endpoint's VLAN, 0 = untagged segment */
	uint32_t gateway_be;	 /* 0 = none; default the host address if has_host */
	uint32_t dns_be[PROFILE_ADDRS_MAX];
	size_t n_dns; /* 0 = default (the DNS proxy when NAT is on) */
	uint32_t wins_be[PROFILE_ADDRS_MAX];
	size_t n_wins;
	char domain[254];     /* "" = none */
	unsigned lease_secs;  /* >= 60, default 3600 */
	unsigned renew_secs;  /* default lease/2 */
	unsigned rebind_secs; /* default lease*7/8 */
	struct profile_reserve reserves[PROFILE_RESERVES_MAX];
	size_t n_reserves;
	struct profile_route routes[PROFILE_ROUTES_MAX]; /* classless static routes, option 121 */
	size_t n_routes;

	bool has_nat;		  /* [nat] present */
	char uplink[IF_NAMESIZE]; /* "auto" = the default route's interface */
	struct profile_forward forwards[PROFILE_FORWARDS_MAX];
	size_t n_forwards;
	bool dns_proxy;	       /* default yes */
	char resolv_conf[256]; /* the proxy's upstream resolvers; default /etc/resolv.conf */

	struct profile_port ports[PROFILE_PORTS_MAX];
	size_t n_ports;
	struct profile_vm vms[PROFILE_VMS_MAX];
	size_t n_vms;
};

struct profile_set {
	struct profile_net **nets; /* owned */
	size_t n_nets;
};

/* The embedded default profile (network vswitch0, DESIGN.md §4). */
extern const char profile_default_text[];

/*
 * Parses and validates the INI text 'text' ('label' names it in errors).
 * Returns 0 with '*ret' set (owned by the caller, free with profile_free()),
 * or -EINVAL with "LABEL:LINE: reason" in 'err', or -ENOMEM.
 */
int profile_parse(const char *text, const char *label, struct profile_net **ret, char *err,
		  size_t errlen);

/* Reads 'path' and calls profile_parse(); -errno with "PATH: reason" if unreadable. */
int profile_load_file(const char *path, struct profile_net **ret, char *err, size_t errlen);

void profile_free(struct profile_net *net);

/*
 * Adds the profiles at 'path' to 'set': a file, or a directory whose *.conf
 * and *.ini files load in name order. Returns 0 or a negative errno with 'err'
 * set; on failure 'set' keeps what it had.
 */
int profile_set_add_path(struct profile_set *set, const char *path, char *err, size_t errlen);

/* Adds a parsed profile ('net' transferred on success). 0 or -ENOMEM. */
int profile_set_add(struct profile_set *set, struct profile_net *net);

/*
 * Checks a whole set for conflicts: two networks of one name, overlapping
 * subnets, one interface name used twice. 0, or -EINVAL with "FILE:LINE: reason".
 */
int profile_set_check(const struct profile_set *set, char *err, size_t errlen);

/* Frees every profile in 'set' and empties it. */
void profile_set_done(struct profile_set *set);

/*
 * Parses a runtime port description (vswitchctl add-port NET NAME key=value...)
 * against network 'net' (borrowed): 'kv' holds 'n' "key=value" strings with
 * the [port] keys. Fills 'ret' and returns 0, or -EINVAL with a reason in 'err'
 * (no FILE:LINE). Does not check names against ports already running.
 */
int profile_port_from_args(const struct profile_net *net, const char *name, char *const *kv,
			   size_t n, struct profile_port *ret, char *err, size_t errlen);

/*
 * The port security a port of 'net' gets (both borrowed): its level (or the
 * network's) with its own keys over the level's defaults. With trusted =
 * auto, a port is a trusted uplink when it does not face a guest
 * ('faces_guest', which the port's provider found: struct port) and has no
 * limit keys; else it is an untrusted guest. Fills 'ret'.
 */
void profile_port_security(const struct profile_net *net, const struct profile_port *pp,
			   bool faces_guest, struct port_security *ret);

/* Name of a level ("off", "basic", "strict"); DEFAULT gives "default". */
const char *profile_sec_name(enum profile_sec s);

/* Formats 'addr_be' into 'buf' (>= 16 bytes) and returns 'buf'. */
const char *profile_ip_str(uint32_t addr_be, char *buf);

#endif

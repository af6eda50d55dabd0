/* SPDX-License-Identifier: MIT */
/*
 * The port vtable: how the switch core reaches every kind of port (STYLE.md §3).
 * A provider (tap/, dhcpd/ endpoint glue) embeds 'struct port' in its own
 * struct, fills one const 'struct port_ops', and gets back to its struct with
 * container_of(). Providers never see the event loop, the MAC table or each
 * other; the core never sees a provider's fields.
 */
#ifndef VSWITCH_PORT_H
#define VSWITCH_PORT_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct frame;
struct impair;
struct port;

#ifndef container_of
#define container_of(ptr, type, member) ((type *)(void *)((char *)(ptr)-offsetof(type, member)))
#endif

#define PORT_NAME_MAX	       32    /* profile names of ports, with the NUL */
#define PORT_VLAN_MAX	       4094  /* highest 802.1Q VLAN id */
#define PORT_MONITORS_MAX      4     /* mirror and capture sinks per port */
#define PORT_SEC_MACS_MAX      8     /* MACs of a locked list */
#define PORT_SEC_ADDRS_MAX     16    /* static IPv4 bindings of a port */
#define PORT_SEC_DHCP_RATE_MAX 10000 /* DHCP client messages per second, the largest limit */

/* Offloads a port kind accepts on send (port_ops.offloads). */
#define PORT_OFL_CSUM 0x1u /* frames may carry VIRTIO_NET_HDR_F_NEEDS_CSUM */
#define PORT_OFL_GSO  0x2u /* frames may be TCPv4/TCPv6 GSO super-frames */

/* Why a frame was dropped; one counter each, per port and direction. */
enum port_drop {
	PORT_DROP_RUNT,	      /* shorter than an Ethernet header */
	PORT_DROP_TOO_LONG,   /* longer than the port carries */
	PORT_DROP_BAD_SRC,    /* multicast or zero source MAC */
	PORT_DROP_SAME_PORT,  /* destination learned on the ingress port */
	PORT_DROP_NO_OFFLOAD, /* offload the egress cannot take and the core cannot emulate */
	PORT_DROP_TX_ERROR,   /* send() failed (queue full, device down) */
	PORT_DROP_RX_ERROR,   /* recv() failed or returned a malformed frame */
	PORT_DROP_VLAN,	      /* tagged with a VLAN the port does not carry */
	/* Port security (portsec.h, docs/security.md): ingress only. */
	PORT_DROP_SPOOFED_MAC, /* source MAC the switch owns, pinned or locked elsewhere, or a move
				*/
	PORT_DROP_MAC_LIMIT,   /* a new source MAC past max-macs, or outside the locked list */
	PORT_DROP_ARP,	       /* ARP inspection: sender MAC or address not the port's */
	PORT_DROP_SOURCE,      /* source guard: IPv4 source not bound to the port, or not IP */
	PORT_DROP_DHCP_GUARD,  /* DHCP server message, or chaddr other than the source MAC */
	PORT_DROP_DHCP_RATE,   /* DHCP client messages past the port's rate */
	PORT_DROP_N,
};

struct port_stats {
	uint64_t rx_packets, rx_bytes; /* frames accepted from this port */
	uint64_t tx_packets, tx_bytes; /* frames sent out of this port */
	uint64_t drops[PORT_DROP_N];   /* by reason, both directions */
	uint64_t unlearned; /* sources not learned: table or port share full (frame forwarded) */
};

/* What a provider needs to open a port; every pointer is borrowed for open(). */
struct port_conf {
	const char *name;   /* the profile's name for the port */
	const char *ifname; /* tap/host: interface to create; netdev: interface to attach */
	const char
		*netns; /* tap only: namespace to move the netdev into (ip netns name), or NULL */
	const uint8_t *mac; /* 6 bytes for the netdev's MAC, or NULL for the kernel's choice */
	unsigned mtu;	    /* the network's MTU (bytes of L3 payload) */
	uint32_t addr_be;   /* host: IPv4 address, network order */
	uint8_t prefix_len; /* host: prefix length of the network */
	/* For the core, not the provider: copied into struct port before attaching. */
	uint16_t vlan;	       /* the port's untagged VLAN, 0 = the untagged segment */
	const uint64_t *trunk; /* 64 words: VLANs carried tagged, or NULL for none */
};

struct port_ops {
	const char *kind;  /* "tap", "host", "netdev", "endpoint" */
	unsigned offloads; /* PORT_OFL_* this kind accepts on send */
	/*
	 * Creates or attaches the port's device from 'conf'. Returns 0 or a
	 * negative errno, having logged the reason once. On failure close() is
	 * not called and nothing is left behind (no interface, no fd).
	 */
	int (*open)(struct port *p, const struct port_conf *conf);
	/* Undoes open(): closes fds, deletes interfaces the port created. Cannot fail. */
	void (*close)(struct port *p);
	/* Frees the provider's struct: after close(), or after a failed open(). */
	void (*destroy)(struct port *p);
	/* The fd to watch for readability, or -1 (endpoints). */
	int (*fd)(const struct port *p);
	/*
	 * Reads up to 'n' frames into 'v' (each with .data and .cap set by the
	 * caller; the provider sets .len and .vnet). Returns the number read
	 * (>= 1), -EAGAIN when nothing is ready, or another negative errno.
	 * May be NULL for endpoints.
	 */
	int (*recv)(struct port *p, struct frame *v, unsigned n);
	/*
	 * Sends one frame ('f' borrowed; the caller keeps it). Never blocks.
	 * Returns 0 or a negative errno (-EAGAIN/-ENOBUFS when the queue is full);
	 * the core counts the drop.
	 */
	int (*send)(struct port *p, const struct frame *f);
	/*
	 * Optional: a provider that queues frames in send() (to write a poll
	 * round's frames in one system call) sends them here. The core calls
	 * it after every input batch and before the loop sleeps. Returns the
	 * number of queued frames that failed (their send() had returned 0)
	 * and their bytes in '*ret_bytes'; the core moves them from tx to
	 * the tx-error drops.
	 */
	int (*flush)(struct port *p, uint64_t *ret_bytes);
	/* Optional (NULL means -EOPNOTSUPP): changes the device's MTU. */
	int (*set_mtu)(struct port *p, unsigned mtu);
};

/*
 * What a port may send (docs/security.md). Filled by the daemon from the
 * profile before switch_add_port(); the core reads it (portsec.h decides).
 * All zero: an untrusted port with no limits, which is what 'off' means.
 */
struct port_security {
	bool trusted;	      /* may send DHCP server messages; its MACs may move to guests */
	bool enabled;	      /* the limits below apply ('basic' or 'strict') */
	bool source_guard;    /* IPv4 sources and ARP senders must be bound to the port */
	bool ip_only;	      /* only IPv4, ARP and IPv6 frames leave the port */
	unsigned max_macs;    /* source MACs held in the table at once; 0 = no limit */
	unsigned dhcp_rate;   /* DHCP client messages per second (burst: twice); 0 = no limit */
	unsigned dhcp_leases; /* DHCP leases for clients behind it; 0 = no limit */
	uint8_t macs[PORT_SEC_MACS_MAX][6];    /* locked list: the only sources allowed */
	unsigned n_macs;		       /* 0 = no locked list */
	uint32_t addrs_be[PORT_SEC_ADDRS_MAX]; /* static IPv4 bindings (guests without DHCP) */
	unsigned n_addrs;
};

#define PORT_SEC_CACHE 8 /* (MAC, address) pairs a port's source guard remembers */

/* The core's running state of a port's security (portsec.c); zeroed on attach. */
struct port_sec_state {
	uint64_t dhcp_ms;    /* when the DHCP token bucket was last filled (monotonic) */
	uint64_t dhcp_milli; /* tokens x 1000 */
	struct {
		uint8_t mac[6];
		uint32_t addr_be;
		uint64_t until_ms; /* bound until then (monotonic); 0 = empty slot */
	} cache[PORT_SEC_CACHE];   /* bindings the DHCP server confirmed, asked again when due */
	unsigned cache_next;	   /* slot to replace next */
	uint64_t logged_ms[PORT_DROP_N]; /* last log line per drop reason (monotonic) */
};

struct port {
	const struct port_ops *ops; /* the kind's table; kept */
	uint32_t id; /* set by switch_add_port(): unique in the switch's life, never 0 */
	char name[PORT_NAME_MAX]; /* profile name */
	char ifname[IF_NAMESIZE]; /* kernel interface, "" for endpoints */
	unsigned mtu;		  /* L3 MTU this port carries */
	struct port_stats stats;  /* written by the core only */
	unsigned n_fdb;		  /* MAC entries learned on this port; the core's */
	/*
	 * 802.1Q membership, set by the daemon before switch_add_port() (the
	 * core only reads it). Untagged frames belong to 'vlan' (0: the
	 * network's untagged segment, as without VLANs); the VLANs set in
	 * 'trunk' travel tagged. An access port has 'vlan' and no trunk.
	 */
	uint16_t vlan;	    /* 0..PORT_VLAN_MAX */
	uint64_t trunk[64]; /* bitmap of VLAN ids 1..PORT_VLAN_MAX carried tagged */
	/* Sinks that get a copy of everything this port sends and receives (mirror, capture). */
	struct port *monitors[PORT_MONITORS_MAX]; /* kept; set through switch_add_monitor() */
	unsigned n_monitors;
	struct impair *impair; /* egress impairment, owned by the core (switch_set_impair()) */
	bool tx_queued;	       /* the core: send() queued frames that flush() has not sent */
	/*
	 * Set by the provider in open(): the device leads to one machine (a
	 * tap, a VM's tap attached as netdev) rather than to a segment or the
	 * host; the daemon makes such ports untrusted guests by default.
	 */
	bool faces_guest;
	struct port_security sec;	 /* set by the daemon before switch_add_port() */
	struct port_sec_state sec_state; /* the core's; providers leave it alone */
};

static inline bool port_trunk_has(const struct port *p, unsigned vid)
{
	return vid >= 1 && vid <= PORT_VLAN_MAX && (p->trunk[vid / 64] >> (vid % 64)) & 1;
}

static inline void port_trunk_set(struct port *p, unsigned vid)
{
	if (vid >= 1 && vid <= PORT_VLAN_MAX)
		p->trunk[vid / 64] |= 1ull << (vid % 64);
}

/* Largest frame (with Ethernet header and one VLAN tag) the port carries without GSO. */
static inline uint32_t port_max_frame(const struct port *p)
{
	return p->mtu + 14u + 4u;
}

/* Name of a drop reason for tables and JSON ("runt", "too-long", ...). */
const char *port_drop_name(enum port_drop d);

#endif

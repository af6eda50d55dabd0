/* SPDX-License-Identifier: MIT */
/*
 * The DHCPv4 server state machine. Called by the endpoint glue (and tests)
 * with whole frames; calls the codec (dhcp_msg.c), the pool (dhcp_pool.c),
 * the byte cursor, checksums, and the two hooks of its conf.
 *
 * Theory of operation
 *
 * The server is the only DHCP server of an isolated virtual segment, so it
 * is authoritative (notes/dhcp.md §4): a REQUEST it cannot honour gets a NAK,
 * including INIT-REBOOT from clients it has no record of, so VMs moved between
 * networks or restored from saved states recover in seconds.
 *
 * Each frame is parsed down to the DHCP message: Ethernet (one 802.1Q tag
 * is kept and copied to the reply), ARP requests for the server address,
 * IPv4 without fragments and with a valid header checksum, UDP to port 67 with
 * a valid (or zero) checksum. Everything else is counted by reason and ignored.
 *
 * A client is keyed by option 61 when present, else by chaddr (RFC 2131
 * §4.2). The pool keeps one record per address; a record remembers its last
 * client after the lease ends, which gives a returning client its previous
 * address. Address choice for DISCOVER (RFC 2131 §4.3.1): static reservation
 * by chaddr, else the client's current or previous record, else the address
 * it asked for in option 50 if free, else a new one (never-used first, then
 * free the longest). Every address not already bound to that client is
 * probed through the conf's addr_in_use hook; a positive probe withholds the
 * address like a DECLINE does.
 *
 * A binding is handed to the store (put) before its ACK is written; the ACK
 * is then "deferred": the caller holds it until the store is synced, so an
 * acknowledged lease is always on disk (group commit lives in the glue).
 * OFFERs, NAKs, INFORM ACKs and ARP replies are never deferred. Offers are
 * held for offer_hold_secs in memory only.
 *
 * Replies are addressed per RFC 2131 §4.1 and written as whole frames: the
 * server's MAC and address as source, UDP 67 -> 68 (or 67 -> 67 to a relay),
 * padded to the BOOTP minimum of 300 bytes and never longer than the
 * client's option 57 (an IP datagram size, at least 576), or 576 without it,
 * nor the network's MTU.
 */
#include "dhcpd/dhcp_server.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "common/csum.h"
#include "common/cur.h"

#define ETH_P_IPV4   0x0800u
#define ETH_P_ARP    0x0806u
#define ETH_P_8021Q  0x8100u
#define IP_UDP	     17u
#define PORT_SERVER  67u
#define PORT_CLIENT  68u
#define IPUDP_LEN    28u /* IPv4 header without options + UDP header */
#define ETH_MIN_LEN  60u /* without FCS */
#define US_PER_SEC   1000000ull
#define BROADCAST_BE 0xffffffffu
#define NODE_TYPE_H  8u /* option 46: H-node, the usual choice with WINS */

static const uint8_t mac_broadcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

struct dhcp_server {
	struct dhcp_pool *pool;
	uint32_t arp_probe_be; /* address of the last OFFER that an ARP probe should confirm; 0 =
				  none */
	uint32_t server_be, netmask_be, gateway_be;
	uint32_t dns_be[DHCP_CONF_ADDRS_MAX];
	size_t n_dns;
	uint32_t wins_be[DHCP_CONF_ADDRS_MAX];
	size_t n_wins;
	char domain[DHCP_DOMAIN_MAX + 1];
	size_t domain_len;
	uint32_t lease_secs, renew_secs, rebind_secs, offer_hold_secs, decline_secs;
	struct dhcp_reservation *reserves; /* owned */
	size_t n_reserves;
	uint8_t routes_opt[DHCP_CONF_ROUTES_MAX * 9 + 9]; /* option 121 value, RFC 3442 */
	size_t routes_len;				  /* 0 = no routes configured */
	uint8_t server_mac[6];
	unsigned mtu;
	bool no_rapid_commit;
	bool (*addr_in_use)(void *ctx, uint32_t addr_be, const uint8_t client_mac[6]);
	void *addr_in_use_ctx;
	struct dhcp_store store;
	uint16_t ip_id; /* IPv4 identification of the next reply */
	bool deferred;	/* last reply waits for a store sync */
	struct dhcp_server_stats stats;
	struct dhcp_msg msg; /* the request being handled */
};

/* What the request frame around the message said. */
struct rx {
	const uint8_t *eth_src; /* borrowed from the frame */
	bool has_vlan;
	uint16_t tci; /* 802.1Q tag control, host order */
	uint32_t ip_src_be;
	uint64_t now_us;
	struct dhcp_key key;
	const struct dhcp_reservation *res; /* reservation of chaddr, or NULL */
	uint8_t *reply;			    /* caller's buffer */
	size_t cap;
	size_t *ret_len;
};

/* What to answer. */
struct answer {
	uint8_t type; /* DHCP_OFFER, DHCP_ACK, DHCP_NAK */
	uint32_t yiaddr_be;
	bool has_lease;	      /* options 51/58/59; false for INFORM and NAK */
	bool rapid;	      /* option 80 */
	const char *nak_text; /* option 56 in a NAK */
};

static const char *const drop_names[DHCP_DROP_N] = {
	"not-for-us",	"bad-frame",  "bad-checksum", "fragment",  "bad-message", "not-request",
	"other-server", "no-binding", "client-id",    "exhausted", "store",	  "no-room",
};

const char *dhcp_drop_name(unsigned d)
{
	return d < DHCP_DROP_N ? drop_names[d] : "unknown";
}

static int drop(struct dhcp_server *s, enum dhcp_drop d)
{
	s->stats.drops[d]++;
	return 0;
}

/* RFC 3442 §3: width, significant destination octets, router. */
static size_t put_route(uint8_t *p, uint32_t dest_be, uint8_t prefix_len, uint32_t gw_be)
{
	size_t n = (prefix_len + 7u) / 8u;

	p[0] = prefix_len;
	memcpy(p + 1, &dest_be, n);
	memcpy(p + 1 + n, &gw_be, 4);
	return 1 + n + 4;
}

static int copy_conf(struct dhcp_server *s, const struct dhcp_server_conf *conf)
{
	uint32_t net_be = conf->server_be & conf->netmask_be;
	bool has_default = false;

	if (conf->n_dns > DHCP_CONF_ADDRS_MAX || conf->n_wins > DHCP_CONF_ADDRS_MAX ||
	    conf->n_routes > DHCP_CONF_ROUTES_MAX || conf->n_reserves > DHCP_CONF_RESERVES_MAX)
		return -E2BIG;
	if (!conf->netmask_be || (conf->first_be & conf->netmask_be) != net_be ||
	    (conf->last_be & conf->netmask_be) != net_be)
		return -EINVAL;
	s->server_be = conf->server_be;
	s->netmask_be = conf->netmask_be;
	s->gateway_be = conf->gateway_be;
	memcpy(s->dns_be, conf->dns_be, sizeof(s->dns_be));
	s->n_dns = conf->n_dns;
	memcpy(s->wins_be, conf->wins_be, sizeof(s->wins_be));
	s->n_wins = conf->n_wins;
	if (conf->domain) {
		s->domain_len = strlen(conf->domain);
		if (s->domain_len > DHCP_DOMAIN_MAX)
			return -EINVAL;
		memcpy(s->domain, conf->domain, s->domain_len + 1);
	}
	s->lease_secs = conf->lease_secs ? conf->lease_secs : 3600;
	/* RFC 2131 §4.4.5: T1 = 0.5 and T2 = 0.875 of the lease by default. */
	s->renew_secs = conf->renew_secs ? conf->renew_secs : s->lease_secs / 2;
	s->rebind_secs =
		conf->rebind_secs ? conf->rebind_secs : (uint32_t)((uint64_t)s->lease_secs * 7 / 8);
	if (s->lease_secs < 60 || s->renew_secs >= s->rebind_secs ||
	    s->rebind_secs >= s->lease_secs)
		return -EINVAL;
	s->offer_hold_secs = conf->offer_hold_secs ? conf->offer_hold_secs : 60;
	s->decline_secs = conf->decline_secs ? conf->decline_secs : 600;
	s->mtu = conf->mtu ? conf->mtu : 1500;
	if (s->mtu < 576)
		return -EINVAL;
	memcpy(s->server_mac, conf->server_mac, 6);
	s->no_rapid_commit = conf->no_rapid_commit;
	s->addr_in_use = conf->addr_in_use;
	s->addr_in_use_ctx = conf->addr_in_use_ctx;
	s->store = conf->store;

	for (size_t i = 0; i < conf->n_routes; i++) {
		const struct dhcp_route *r = &conf->routes[i];

		if (r->prefix_len > 32)
			return -EINVAL;
		has_default |= r->prefix_len == 0;
		s->routes_len += put_route(s->routes_opt + s->routes_len, r->dest_be, r->prefix_len,
					   r->gateway_be);
	}
	/*
	 * RFC 3442 §3: a client given option 121 ignores option 3, so the
	 * default route travels inside 121 too.
	 */
	if (s->routes_len && !has_default && s->gateway_be)
		s->routes_len += put_route(s->routes_opt + s->routes_len, 0, 0, s->gateway_be);
	return 0;
}

int dhcp_server_new(struct dhcp_server **ret, const struct dhcp_server_conf *conf)
{
	struct dhcp_server *s;
	uint32_t bcast_be;
	int r;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	r = copy_conf(s, conf);
	if (r < 0)
		goto fail;
	r = dhcp_pool_new(&s->pool, conf->first_be, conf->last_be);
	if (r < 0)
		goto fail;
	/* Addresses that are not hosts' to have, even when the range covers them. */
	bcast_be = (s->server_be & s->netmask_be) | ~s->netmask_be;
	dhcp_pool_exclude(s->pool, s->server_be & s->netmask_be);
	dhcp_pool_exclude(s->pool, bcast_be);
	dhcp_pool_exclude(s->pool, s->server_be);
	dhcp_pool_exclude(s->pool, s->gateway_be);
	for (size_t i = 0; i < s->n_dns; i++)
		dhcp_pool_exclude(s->pool, s->dns_be[i]);
	for (size_t i = 0; i < s->n_wins; i++)
		dhcp_pool_exclude(s->pool, s->wins_be[i]);
	if (conf->n_reserves) {
		s->reserves = calloc(conf->n_reserves, sizeof(*s->reserves));
		if (!s->reserves) {
			r = -ENOMEM;
			goto fail;
		}
	}
	for (size_t i = 0; i < conf->n_reserves; i++) {
		struct dhcp_lease *l = dhcp_pool_lease(s->pool, conf->reserves[i].addr_be);

		if (!l || l->is_excluded || l->is_static) {
			r = -EINVAL;
			goto fail;
		}
		l->is_static = true;
		s->reserves[i] = conf->reserves[i];
		s->reserves[i].hostname[DHCP_HOSTNAME_MAX - 1] = '\0';
	}
	s->n_reserves = conf->n_reserves;
	*ret = s;
	return 0;
fail:
	dhcp_server_free(s);
	return r;
}

void dhcp_server_free(struct dhcp_server *s)
{
	if (!s)
		return;
	dhcp_pool_free(s->pool);
	free(s->reserves);
	free(s);
}

const struct dhcp_server_stats *dhcp_server_stats(const struct dhcp_server *s)
{
	return &s->stats;
}

size_t dhcp_server_pool_size(const struct dhcp_server *s)
{
	return dhcp_pool_size(s->pool);
}

uint32_t dhcp_server_arp_probe(const struct dhcp_server *s)
{
	return s->arp_probe_be;
}

bool dhcp_server_reply_deferred(const struct dhcp_server *s)
{
	return s->deferred;
}

static const struct dhcp_reservation *find_reserve(const struct dhcp_server *s, const uint8_t *mac)
{
	for (size_t i = 0; i < s->n_reserves; i++)
		if (!memcmp(s->reserves[i].mac, mac, 6))
			return &s->reserves[i];
	return NULL;
}

static bool probe(void *ctx, uint32_t addr_be)
{
	struct dhcp_server *s = ctx;

	if (!s->addr_in_use || !s->addr_in_use(s->addr_in_use_ctx, addr_be, s->msg.hdr.chaddr)) {
		s->arp_probe_be = addr_be; /* nobody known: let the endpoint ask on the wire */
		return false;
	}
	s->stats.conflicts++;
	return true;
}

/* probe() for a REQUEST: no ARP probe is asked for, the address is answered for. */
static bool probe_taken(struct dhcp_server *s, const struct dhcp_lease *l)
{
	uint32_t keep = s->arp_probe_be;
	bool taken = probe(s, l->addr_be);

	s->arp_probe_be = keep;
	return taken;
}

static uint64_t secs_after(uint64_t now_us, uint32_t secs)
{
	return now_us + (uint64_t)secs * US_PER_SEC;
}

/*
 * Keeps option 12 for the lease list. Wire strings are not NUL-terminated
 * and may hold anything: copy at most DHCP_HOSTNAME_MAX - 1 bytes and map
 * bytes outside [A-Za-z0-9._-] to '-' so that listings and the lease file
 * stay one token.
 */
static void keep_hostname(struct dhcp_lease *l, const struct dhcp_msg *m)
{
	const uint8_t *p;
	size_t len, i;

	p = dhcp_msg_opt(m, DHCP_OPT_HOSTNAME, &len);
	if (!p)
		return;
	for (i = 0; i < len && i < DHCP_HOSTNAME_MAX - 1; i++) {
		uint8_t ch = p[i];
		bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			  (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' || ch == '_';

		l->hostname[i] = ok ? (char)ch : '-';
	}
	l->hostname[i] = '\0';
}

/* The value of parameter 'code' into 'buf' (>= 300 bytes); its length, or -1 if none. */
static int param_value(const struct dhcp_server *s, const struct rx *rx, uint8_t code, uint8_t *buf)
{
	uint32_t v;

	switch (code) {
	case DHCP_OPT_SUBNET_MASK:
		memcpy(buf, &s->netmask_be, 4);
		return 4;
	case DHCP_OPT_ROUTER:
		if (!s->gateway_be)
			return -1;
		memcpy(buf, &s->gateway_be, 4);
		return 4;
	case DHCP_OPT_DNS:
		memcpy(buf, s->dns_be, s->n_dns * 4);
		return s->n_dns ? (int)(s->n_dns * 4) : -1;
	case DHCP_OPT_HOSTNAME:
		if (!rx->res || !rx->res->hostname[0])
			return -1;
		v = (uint32_t)strlen(rx->res->hostname);
		memcpy(buf, rx->res->hostname, v);
		return (int)v;
	case DHCP_OPT_DOMAIN:
		memcpy(buf, s->domain, s->domain_len);
		return s->domain_len ? (int)s->domain_len : -1;
	case DHCP_OPT_BROADCAST:
		v = (s->server_be & s->netmask_be) | ~s->netmask_be;
		memcpy(buf, &v, 4);
		return 4;
	case DHCP_OPT_WINS:
		memcpy(buf, s->wins_be, s->n_wins * 4);
		return s->n_wins ? (int)(s->n_wins * 4) : -1;
	case DHCP_OPT_NETBIOS_NODE:
		buf[0] = NODE_TYPE_H;
		return s->n_wins ? 1 : -1;
	case DHCP_OPT_CLASSLESS_ROUTES:
	case DHCP_OPT_MS_CLASSLESS_ROUTES: /* Windows asks for the pre-RFC code, same format */
		memcpy(buf, s->routes_opt, s->routes_len);
		return s->routes_len ? (int)s->routes_len : -1;
	default:
		return -1;
	}
}

/* Adds one parameter once; skips it when it has no value or no room is left. */
static void add_param(const struct dhcp_server *s, const struct rx *rx, struct dhcp_build *b,
		      uint64_t *done, uint8_t code)
{
	uint8_t buf[DHCP_CONF_ROUTES_MAX * 9 + 9 + DHCP_DOMAIN_MAX];
	int len;

	if (done[code / 64] & (1ull << (code % 64)))
		return;
	done[code / 64] |= 1ull << (code % 64);
	len = param_value(s, rx, code, buf);
	if (len >= 0)
		(void)dhcp_build_opt(b, code, buf, (size_t)len);
}

/* Largest DHCP message for this client (RFC 2131 §2, RFC 2132 §9.10). */
static size_t reply_max(const struct dhcp_server *s, const struct dhcp_msg *m)
{
	size_t ip_max = 576, len;
	const uint8_t *p = dhcp_msg_opt(m, DHCP_OPT_MAX_SIZE, &len);

	/* Option 57 counts the whole IP datagram, as dnsmasq and ISC read it. */
	if (p && get_be16(p) > ip_max)
		ip_max = get_be16(p);
	if (ip_max > s->mtu)
		ip_max = s->mtu;
	return ip_max - IPUDP_LEN;
}

/* Lease, renewal and rebinding times for the client of 's->msg'. */
struct times {
	uint32_t lease, renew, rebind; /* seconds */
};

/*
 * RFC 2131 §4.3.1: a client may ask for a lease time (option 51). A shorter
 * one than configured is granted (at least 60 s), with T1 and T2 brought
 * within it; the configured time is the most a client gets.
 */
static struct times lease_times(const struct dhcp_server *s)
{
	struct times t = { s->lease_secs, s->renew_secs, s->rebind_secs };
	size_t len;
	const uint8_t *o = dhcp_msg_opt(&s->msg, DHCP_OPT_LEASE_TIME, &len);
	uint32_t want = o && len == 4 ? get_be32(o) : 0;

	if (!want || want >= s->lease_secs)
		return t;
	t.lease = want < 60 ? 60 : want;
	if (t.rebind >= t.lease)
		t.rebind = (uint32_t)((uint64_t)t.lease * 7 / 8);
	if (t.renew >= t.rebind)
		t.renew = t.lease / 2;
	return t;
}

static void write_options(struct dhcp_server *s, const struct rx *rx, const struct answer *a,
			  struct dhcp_build *b)
{
	static const uint8_t defaults[] = {
		DHCP_OPT_SUBNET_MASK,  DHCP_OPT_ROUTER,	   DHCP_OPT_DNS,
		DHCP_OPT_DOMAIN,       DHCP_OPT_BROADCAST, DHCP_OPT_WINS,
		DHCP_OPT_NETBIOS_NODE, DHCP_OPT_HOSTNAME,  DHCP_OPT_CLASSLESS_ROUTES,
	};
	const struct dhcp_msg *m = &s->msg;
	uint64_t done[4] = { 0 };
	const uint8_t *prl, *cid;
	size_t prl_len, cid_len;
	uint8_t v[4];

	/* The mandatory options of RFC 2131 Table 3 go first so they always fit. */
	(void)dhcp_build_opt(b, DHCP_OPT_MSG_TYPE, &a->type, 1);
	(void)dhcp_build_opt(b, DHCP_OPT_SERVER_ID, &s->server_be, 4);
	cid = dhcp_msg_opt(m, DHCP_OPT_CLIENT_ID, &cid_len);
	if (a->type == DHCP_NAK) {
		if (cid) /* RFC 6842 §3: echo option 61 in every reply */
			(void)dhcp_build_opt(b, DHCP_OPT_CLIENT_ID, cid, cid_len);
		(void)dhcp_build_opt(b, DHCP_OPT_MESSAGE, a->nak_text, strlen(a->nak_text));
		return;
	}
	if (a->has_lease) {
		struct times t = lease_times(s);

		put_be32(v, t.lease);
		(void)dhcp_build_opt(b, DHCP_OPT_LEASE_TIME, v, 4);
		put_be32(v, t.renew);
		(void)dhcp_build_opt(b, DHCP_OPT_T1, v, 4);
		put_be32(v, t.rebind);
		(void)dhcp_build_opt(b, DHCP_OPT_T2, v, 4);
	}
	if (cid)
		(void)dhcp_build_opt(b, DHCP_OPT_CLIENT_ID, cid, cid_len);
	if (a->rapid) /* RFC 4039 §4: the ACK carries option 80 too */
		(void)dhcp_build_opt(b, DHCP_OPT_RAPID_COMMIT, NULL, 0);
	for (unsigned c = DHCP_OPT_LEASE_TIME; c <= DHCP_OPT_CLIENT_ID; c++)
		done[c / 64] |= 1ull << (c % 64); /* 50-61: sent above or never (Table 3) */

	/* RFC 2132 §9.8: follow the client's option 55 order. */
	prl = dhcp_msg_opt(m, DHCP_OPT_PARAM_LIST, &prl_len);
	for (size_t i = 0; prl && i < prl_len; i++)
		add_param(s, rx, b, done, prl[i]);
	if (prl) {
		/* Mask and router even when not asked: old clients need them. */
		add_param(s, rx, b, done, DHCP_OPT_SUBNET_MASK);
		add_param(s, rx, b, done, DHCP_OPT_ROUTER);
		if (rx->res && rx->res->hostname[0])
			add_param(s, rx, b, done, DHCP_OPT_HOSTNAME);
		return;
	}
	for (size_t i = 0; i < sizeof(defaults); i++)
		add_param(s, rx, b, done, defaults[i]);
}

/* Writes Ethernet (+ tag) header; returns its length. */
static size_t put_eth(const struct dhcp_server *s, const struct rx *rx, uint8_t *p,
		      const uint8_t *dst, uint16_t type)
{
	memcpy(p, dst, 6);
	memcpy(p + 6, s->server_mac, 6);
	if (rx->has_vlan) {
		put_be16(p + 12, ETH_P_8021Q);
		put_be16(p + 14, rx->tci);
		put_be16(p + 16, type);
		return 18;
	}
	put_be16(p + 12, type);
	return 14;
}

/* The UDP checksum of the datagram at 'udp' (0 -> 0xffff not applied). */
static uint16_t udp_sum(const uint8_t *ip, const uint8_t *udp, uint16_t ulen)
{
	uint32_t acc = csum_add(0, ip + 12, 8);

	acc += IP_UDP + ulen;
	return csum_fold(csum_add(acc, udp, ulen));
}

/*
 * Fills the IPv4 and UDP headers in front of 'dhcp_len' bytes of message at
 * 'ip' + 28, of which 'room' may be used; returns the message length sent.
 *
 * A checksum that computes to 0 goes out as 0xffff (RFC 768), and busybox
 * udhcpc compares without that rule, so it drops such a reply. The content
 * of an OFFER is the same on every retry of a client's DISCOVER, so that
 * client would never get an address (one client in 65536). One pad octet
 * after the end option (RFC 2131 §3 allows it) changes the sum instead.
 */
static size_t put_ip_udp(struct dhcp_server *s, uint8_t *ip, uint32_t dst_be, uint16_t dport,
			 size_t dhcp_len, size_t room)
{
	uint8_t *udp = ip + 20;
	uint16_t ulen, sum;

	for (;;) {
		ulen = (uint16_t)(8 + dhcp_len);
		put_be16(udp, PORT_SERVER);
		put_be16(udp + 2, dport);
		put_be16(udp + 4, ulen);
		put_be16(udp + 6, 0);
		memcpy(ip + 12, &s->server_be, 4);
		memcpy(ip + 16, &dst_be, 4);
		sum = udp_sum(ip, udp, ulen);
		if (sum || dhcp_len >= room)
			break;
		udp[8 + dhcp_len++] = 0; /* DHCP_OPT_PAD */
	}
	put_be16(udp + 6, sum ? sum : 0xffff);

	ip[0] = 0x45;
	ip[1] = 0x10; /* DSCP low delay, as BSD-derived servers mark DHCP */
	put_be16(ip + 2, (uint16_t)(20 + ulen));
	put_be16(ip + 4, s->ip_id++);
	put_be16(ip + 6, 0);
	ip[8] = 64;
	ip[9] = IP_UDP;
	put_be16(ip + 10, 0);
	put_be16(ip + 10, csum_fold(csum_add(0, ip, 20)));
	return dhcp_len;
}

static int send_answer(struct dhcp_server *s, const struct rx *rx, const struct answer *a)
{
	const struct dhcp_msg *m = &s->msg;
	struct dhcp_hdr h = m->hdr;
	const uint8_t *l2_dst;
	uint32_t ip_dst_be;
	uint16_t dport = PORT_CLIENT;
	struct dhcp_build b;
	size_t l2_len = rx->has_vlan ? 18 : 14, max, n;

	if (rx->cap < l2_len + IPUDP_LEN + DHCP_REPLY_MIN_LEN) {
		s->stats.drops[DHCP_DROP_NO_ROOM]++;
		return -EMSGSIZE;
	}
	max = reply_max(s, m);
	if (max > rx->cap - l2_len - IPUDP_LEN)
		max = rx->cap - l2_len - IPUDP_LEN;

	/* RFC 2131 Table 3: fields of OFFER, ACK and NAK. */
	h.op = DHCP_OP_REPLY;
	h.hops = 0;
	h.secs = 0;
	h.siaddr_be = 0;
	h.yiaddr_be = a->yiaddr_be;
	if (a->type != DHCP_ACK)
		h.ciaddr_be = 0;

	/* RFC 2131 §4.1: where a server sends its reply. */
	if (m->hdr.giaddr_be) {
		ip_dst_be = m->hdr.giaddr_be;
		dport = PORT_SERVER;
		l2_dst = rx->eth_src;
		if (a->type == DHCP_NAK)
			h.flags |= DHCP_FLAG_BROADCAST;
	} else if (a->type == DHCP_NAK) {
		ip_dst_be = BROADCAST_BE;
		l2_dst = mac_broadcast;
	} else if (m->hdr.ciaddr_be) {
		ip_dst_be = m->hdr.ciaddr_be;
		l2_dst = rx->eth_src;
	} else if (m->type == DHCP_INFORM && rx->ip_src_be) {
		/* §4.3.5 says ciaddr; clients leaving it zero still have a source. */
		ip_dst_be = rx->ip_src_be;
		l2_dst = rx->eth_src;
	} else if ((m->hdr.flags & DHCP_FLAG_BROADCAST) || !a->yiaddr_be) {
		ip_dst_be = BROADCAST_BE;
		l2_dst = mac_broadcast;
	} else {
		/* The client cannot answer ARP yet: send to chaddr directly. */
		ip_dst_be = a->yiaddr_be;
		l2_dst = m->hdr.chaddr;
	}

	(void)dhcp_build_init(&b, rx->reply + l2_len + IPUDP_LEN, max, &h);
	/* Last resort only: a few old clients mishandle option 52. */
	dhcp_build_allow_overload(&b);
	write_options(s, rx, a, &b);
	n = dhcp_build_finish(&b);
	(void)put_eth(s, rx, rx->reply, l2_dst, ETH_P_IPV4);
	n = put_ip_udp(s, rx->reply + l2_len, ip_dst_be, dport, n, max);
	*rx->ret_len = l2_len + IPUDP_LEN + n;
	s->stats.tx[a->type]++;
	return a->type;
}

static int nak(struct dhcp_server *s, const struct rx *rx, const char *why)
{
	struct answer a = { .type = DHCP_NAK, .nak_text = why };

	return send_answer(s, rx, &a);
}

/* Binds 'l' to the client, hands the record to the store, and ACKs. */
static int bind_ack(struct dhcp_server *s, const struct rx *rx, struct dhcp_lease *l, bool rapid)
{
	struct answer a = {
		.type = DHCP_ACK, .yiaddr_be = l->addr_be, .has_lease = true, .rapid = rapid
	};
	int r;

	dhcp_pool_assign(s->pool, l, &rx->key, DHCP_LEASE_BOUND,
			 secs_after(rx->now_us, lease_times(s).lease));
	keep_hostname(l, &s->msg);
	if (s->store.put) {
		r = s->store.put(s->store.ctx, l);
		if (r < 0)
			return drop(s, DHCP_DROP_STORE);
	}
	r = send_answer(s, rx, &a);
	s->deferred = r > 0 && s->store.put;
	return r;
}

/* RFC 2131 §4.3.1: the address to offer, or NULL. */
static struct dhcp_lease *choose(struct dhcp_server *s, const struct rx *rx)
{
	uint64_t now = rx->now_us, until = secs_after(now, s->decline_secs);
	struct dhcp_lease *l;
	uint32_t req_be;

	if (rx->res) {
		l = dhcp_pool_lease(s->pool, rx->res->addr_be);
		if (l && dhcp_pool_state(l, now) != DHCP_LEASE_DECLINED)
			return l;
	}
	l = dhcp_pool_find(s->pool, &rx->key);
	if (l && !l->is_static && !l->is_excluded) {
		enum dhcp_lease_state st = dhcp_pool_state(l, now);

		if (st == DHCP_LEASE_OFFERED || st == DHCP_LEASE_BOUND)
			return l;
		if (!probe(s, l->addr_be))
			return l;
		(void)dhcp_pool_withhold(s->pool, l, NULL, now, until);
	}
	req_be = dhcp_msg_opt_be32(&s->msg, DHCP_OPT_REQ_ADDR);
	l = req_be ? dhcp_pool_lease(s->pool, req_be) : NULL;
	if (l && dhcp_pool_is_available(l, now)) {
		if (!probe(s, l->addr_be))
			return l;
		(void)dhcp_pool_withhold(s->pool, l, NULL, now, until);
	}
	return dhcp_pool_alloc(s->pool, now, probe, s, until);
}

static int on_discover(struct dhcp_server *s, const struct rx *rx)
{
	struct answer a = { .type = DHCP_OFFER, .has_lease = true };
	struct dhcp_lease *l;

	s->arp_probe_be = 0;
	l = choose(s, rx);
	if (l && s->arp_probe_be != l->addr_be)
		s->arp_probe_be = 0; /* the client's own binding: nothing to confirm */

	if (!l)
		return drop(s, DHCP_DROP_EXHAUSTED);
	/* RFC 4039 §4: commit at once when the client asks and we allow it. */
	if (!s->no_rapid_commit && dhcp_msg_has(&s->msg, DHCP_OPT_RAPID_COMMIT))
		return bind_ack(s, rx, l, true);
	if (dhcp_pool_state(l, rx->now_us) != DHCP_LEASE_BOUND || !dhcp_pool_is_client(l, &rx->key))
		dhcp_pool_assign(s->pool, l, &rx->key, DHCP_LEASE_OFFERED,
				 secs_after(rx->now_us, s->offer_hold_secs));
	keep_hostname(l, &s->msg);
	a.yiaddr_be = l->addr_be;
	return send_answer(s, rx, &a);
}

/*
 * ACK 'addr_be' if it is this client's, else NAK (authoritative, RFC 2131
 * §4.3.2): the address must be in our network, and the client's record (or
 * its reservation) must be that address.
 */
static int ack_or_nak(struct dhcp_server *s, const struct rx *rx, uint32_t addr_be)
{
	struct dhcp_lease *l;

	if ((addr_be & s->netmask_be) != (s->server_be & s->netmask_be))
		return nak(s, rx, "wrong network");
	l = dhcp_pool_lease(s->pool, addr_be);
	if (!l || dhcp_pool_state(l, rx->now_us) == DHCP_LEASE_DECLINED)
		return nak(s, rx, "address not available");
	if (rx->res) {
		if (l->addr_be != rx->res->addr_be)
			return nak(s, rx, "address reserved elsewhere");
	} else if (l->is_static || l->is_excluded || dhcp_pool_find(s->pool, &rx->key) != l) {
		return nak(s, rx, "no binding");
	}
	/*
	 * RFC 2131 §2.2: an address only offered so far may turn out taken (the
	 * ARP probe sent with the OFFER was answered): withhold it and NAK, and
	 * the client's next DISCOVER gets another.
	 */
	if (dhcp_pool_state(l, rx->now_us) == DHCP_LEASE_OFFERED && !rx->res && probe_taken(s, l)) {
		(void)dhcp_pool_withhold(s->pool, l, NULL, rx->now_us,
					 secs_after(rx->now_us, s->decline_secs));
		return nak(s, rx, "address in use");
	}
	return bind_ack(s, rx, l, false);
}

/* RFC 2131 §4.3.2 Table 4: the client state follows from 54, 50 and ciaddr. */
static int on_request(struct dhcp_server *s, const struct rx *rx)
{
	const struct dhcp_msg *m = &s->msg;
	uint32_t req_be = dhcp_msg_opt_be32(m, DHCP_OPT_REQ_ADDR);

	if (dhcp_msg_has(m, DHCP_OPT_SERVER_ID)) {
		if (dhcp_msg_opt_be32(m, DHCP_OPT_SERVER_ID) != s->server_be) {
			/* SELECTING another server's offer: ours is free again. */
			struct dhcp_lease *l = dhcp_pool_find(s->pool, &rx->key);

			if (l && dhcp_pool_state(l, rx->now_us) == DHCP_LEASE_OFFERED)
				l->expires_us = rx->now_us;
			return drop(s, DHCP_DROP_OTHER_SERVER);
		}
		/* SELECTING; PXE ROMs may leave 50 out and fill ciaddr. */
		return ack_or_nak(s, rx, req_be ? req_be : m->hdr.ciaddr_be);
	}
	if (req_be) /* INIT-REBOOT */
		return ack_or_nak(s, rx, req_be);
	if (m->hdr.ciaddr_be) /* RENEWING (unicast) or REBINDING (broadcast) */
		return ack_or_nak(s, rx, m->hdr.ciaddr_be);
	return drop(s, DHCP_DROP_NO_BINDING);
}

/* RFC 2131 §4.3.3: withhold the address; only the lease's own client may decline it. */
static int on_decline(struct dhcp_server *s, const struct rx *rx)
{
	const struct dhcp_msg *m = &s->msg;
	struct dhcp_lease *l;

	if (dhcp_msg_opt_be32(m, DHCP_OPT_SERVER_ID) != s->server_be)
		return drop(s, DHCP_DROP_OTHER_SERVER);
	l = dhcp_pool_lease(s->pool, dhcp_msg_opt_be32(m, DHCP_OPT_REQ_ADDR));
	if (!l || dhcp_pool_find(s->pool, &rx->key) != l)
		return drop(s, DHCP_DROP_NO_BINDING);
	(void)dhcp_pool_withhold(s->pool, l, &rx->key, rx->now_us,
				 secs_after(rx->now_us, s->decline_secs));
	s->stats.declines++;
	if (s->store.put && s->store.put(s->store.ctx, l) < 0)
		s->stats.drops[DHCP_DROP_STORE]++;
	return 0;
}

/* RFC 2131 §4.3.4: free the address but remember the client for next time. */
static int on_release(struct dhcp_server *s, const struct rx *rx)
{
	const struct dhcp_msg *m = &s->msg;
	struct dhcp_lease *l;
	enum dhcp_lease_state st;

	if (dhcp_msg_has(m, DHCP_OPT_SERVER_ID) &&
	    dhcp_msg_opt_be32(m, DHCP_OPT_SERVER_ID) != s->server_be)
		return drop(s, DHCP_DROP_OTHER_SERVER);
	l = dhcp_pool_lease(s->pool, m->hdr.ciaddr_be);
	if (!l || dhcp_pool_find(s->pool, &rx->key) != l)
		return drop(s, DHCP_DROP_NO_BINDING);
	st = dhcp_pool_state(l, rx->now_us);
	if (st != DHCP_LEASE_BOUND && st != DHCP_LEASE_OFFERED)
		return drop(s, DHCP_DROP_NO_BINDING);
	l->state = DHCP_LEASE_RELEASED;
	l->expires_us = rx->now_us;
	if (s->store.put && s->store.put(s->store.ctx, l) < 0)
		s->stats.drops[DHCP_DROP_STORE]++;
	return 0;
}

/* RFC 2131 §4.3.5: configuration only; no lease, no option 51. */
static int on_inform(struct dhcp_server *s, const struct rx *rx)
{
	struct answer a = { .type = DHCP_ACK };

	if (!s->msg.hdr.ciaddr_be && !rx->ip_src_be && !s->msg.hdr.giaddr_be)
		return drop(s, DHCP_DROP_NO_BINDING);
	return send_answer(s, rx, &a);
}

static int on_dhcp(struct dhcp_server *s, struct rx *rx, struct cur udp_payload)
{
	struct dhcp_msg *m = &s->msg;
	const uint8_t *cid;
	size_t cid_len = 0;

	if (dhcp_msg_parse(m, udp_payload.p, udp_payload.len) < 0)
		return drop(s, DHCP_DROP_BAD_MSG);
	if (m->hdr.op != DHCP_OP_REQUEST || m->hdr.htype != 1 || m->hdr.hlen != 6)
		return drop(s, DHCP_DROP_NOT_REQUEST);
	s->stats.rx[m->type < DHCP_MSG_TYPE_N ? m->type : 0]++;
	cid = dhcp_msg_opt(m, DHCP_OPT_CLIENT_ID, &cid_len);
	if (cid_len > DHCP_CLIENT_ID_MAX)
		return drop(s, DHCP_DROP_CLIENT_ID);
	rx->key =
		(struct dhcp_key){ .cid = cid, .cid_len = cid ? cid_len : 0, .mac = m->hdr.chaddr };
	rx->res = find_reserve(s, m->hdr.chaddr);
	switch (m->type) {
	case DHCP_DISCOVER:
		return on_discover(s, rx);
	case DHCP_REQUEST:
		return on_request(s, rx);
	case DHCP_DECLINE:
		return on_decline(s, rx);
	case DHCP_RELEASE:
		return on_release(s, rx);
	case DHCP_INFORM:
		return on_inform(s, rx);
	default:
		return drop(s, DHCP_DROP_NOT_REQUEST);
	}
}

/* UDP checksum over the pseudo header and 'udp' (RFC 768); true if it verifies. */
static bool udp_csum_ok(const uint8_t *ip, const uint8_t *udp, uint16_t ulen)
{
	return udp_sum(ip, udp, ulen) == 0;
}

static int on_ipv4(struct dhcp_server *s, struct rx *rx, struct cur c)
{
	const uint8_t *ip = cur_pull(&c, 20), *udp;
	uint16_t tot_len, frag, sport, dport, ulen;
	uint32_t dst_be;
	size_t ihl;
	struct cur seg;

	if (!ip || (ip[0] >> 4) != 4 || (ip[0] & 0xf) < 5)
		return drop(s, DHCP_DROP_BAD_FRAME);
	ihl = (size_t)(ip[0] & 0xf) * 4;
	tot_len = get_be16(ip + 2);
	/* Ethernet pads short frames: the IP length says where the datagram ends. */
	if (!cur_pull(&c, ihl - 20) || tot_len < ihl || tot_len - ihl > c.len)
		return drop(s, DHCP_DROP_BAD_FRAME);
	frag = get_be16(ip + 6);
	memcpy(&rx->ip_src_be, ip + 12, 4);
	memcpy(&dst_be, ip + 16, 4);
	if (ip[9] != IP_UDP)
		return drop(s, DHCP_DROP_NOT_FOR_US);
	if (dst_be != BROADCAST_BE && dst_be != s->server_be &&
	    dst_be != ((s->server_be & s->netmask_be) | ~s->netmask_be))
		return drop(s, DHCP_DROP_NOT_FOR_US);
	if (frag & 0x3fff)
		return drop(s, DHCP_DROP_FRAGMENT);
	if (csum_fold(csum_add(0, ip, ihl)) != 0)
		return drop(s, DHCP_DROP_BAD_CSUM);
	c = cur_make(c.p, tot_len - ihl);
	udp = c.p;
	if (cur_be16(&c, &sport) || cur_be16(&c, &dport) || cur_be16(&c, &ulen) || !cur_pull(&c, 2))
		return drop(s, DHCP_DROP_BAD_FRAME);
	(void)sport; /* clients use 68, relays 67: accept both */
	if (dport != PORT_SERVER)
		return drop(s, DHCP_DROP_NOT_FOR_US);
	if (ulen < 8 || ulen > tot_len - ihl)
		return drop(s, DHCP_DROP_BAD_FRAME);
	if (get_be16(udp + 6) && !udp_csum_ok(ip, udp, ulen))
		return drop(s, DHCP_DROP_BAD_CSUM);
	if (cur_sub(&c, ulen - 8u, &seg))
		return drop(s, DHCP_DROP_BAD_FRAME);
	return on_dhcp(s, rx, seg);
}

/* RFC 826: answer "who has <server address>" so clients can reach us. */
static int on_arp(struct dhcp_server *s, const struct rx *rx, struct cur c)
{
	const uint8_t *a = cur_pull(&c, 28);
	uint32_t tpa_be;
	size_t l2_len = rx->has_vlan ? 18 : 14, n;
	uint8_t *p;

	if (!a)
		return drop(s, DHCP_DROP_BAD_FRAME);
	if (get_be16(a) != 1 || get_be16(a + 2) != ETH_P_IPV4 || a[4] != 6 || a[5] != 4)
		return drop(s, DHCP_DROP_BAD_FRAME);
	memcpy(&tpa_be, a + 24, 4);
	if (get_be16(a + 6) != 1 || tpa_be != s->server_be)
		return drop(s, DHCP_DROP_NOT_FOR_US);
	n = l2_len + 28 < ETH_MIN_LEN ? ETH_MIN_LEN : l2_len + 28;
	if (rx->has_vlan && n < ETH_MIN_LEN + 4)
		n = ETH_MIN_LEN + 4;
	if (rx->cap < n) {
		s->stats.drops[DHCP_DROP_NO_ROOM]++;
		return -EMSGSIZE;
	}
	memset(rx->reply, 0, n);
	p = rx->reply + put_eth(s, rx, rx->reply, a + 8, ETH_P_ARP);
	put_be16(p, 1);
	put_be16(p + 2, ETH_P_IPV4);
	p[4] = 6;
	p[5] = 4;
	put_be16(p + 6, 2);
	memcpy(p + 8, s->server_mac, 6);
	memcpy(p + 14, &s->server_be, 4);
	memcpy(p + 18, a + 8, 10); /* requester's MAC and address */
	*rx->ret_len = n;
	s->stats.arp_replies++;
	return DHCP_SERVER_ARP_REPLY;
}

int dhcp_server_handle(struct dhcp_server *s, const uint8_t *frame, size_t len, uint64_t now_us,
		       uint8_t *reply, size_t cap, size_t *ret_len)
{
	struct cur c = cur_make(frame, len);
	struct rx rx = { .now_us = now_us, .reply = reply, .cap = cap, .ret_len = ret_len };
	const uint8_t *dst = cur_pull(&c, 6);
	uint16_t type;

	s->deferred = false;
	s->arp_probe_be = 0;
	rx.eth_src = cur_pull(&c, 6);
	if (!dst || !rx.eth_src || cur_be16(&c, &type))
		return drop(s, DHCP_DROP_BAD_FRAME);
	if (type == ETH_P_8021Q) {
		rx.has_vlan = true;
		if (cur_be16(&c, &rx.tci) || cur_be16(&c, &type))
			return drop(s, DHCP_DROP_BAD_FRAME);
	}
	if (memcmp(dst, mac_broadcast, 6) && memcmp(dst, s->server_mac, 6))
		return drop(s, DHCP_DROP_NOT_FOR_US);
	if (type == ETH_P_ARP)
		return on_arp(s, &rx, c);
	if (type == ETH_P_IPV4)
		return on_ipv4(s, &rx, c);
	return drop(s, DHCP_DROP_NOT_FOR_US);
}

int dhcp_server_restore(struct dhcp_server *s, const struct dhcp_lease *rec, uint64_t now_us)
{
	struct dhcp_lease *l = dhcp_pool_lease(s->pool, rec->addr_be), *old;
	const struct dhcp_reservation *res;
	struct dhcp_key key = { .cid = rec->cid, .cid_len = rec->cid_len, .mac = rec->mac };

	if (!l || l->is_excluded)
		return -ENOENT;
	if (rec->state == DHCP_LEASE_DECLINED) {
		if (rec->expires_us <= now_us)
			return -ENOENT;
		(void)dhcp_pool_withhold(s->pool, l, NULL, now_us, rec->expires_us);
		return 0;
	}
	if (!rec->has_client || rec->cid_len > DHCP_CLIENT_ID_MAX ||
	    (rec->state != DHCP_LEASE_BOUND && rec->state != DHCP_LEASE_RELEASED &&
	     rec->state != DHCP_LEASE_EXPIRED))
		return -ENOENT;
	res = find_reserve(s, rec->mac);
	if (l->is_static && (!res || res->addr_be != rec->addr_be))
		return -ENOENT;
	old = dhcp_pool_find(s->pool, &key);
	if (old && old != l && old->expires_us >= rec->expires_us)
		return -ENOENT;
	dhcp_pool_assign(s->pool, l, &key,
			 rec->state == DHCP_LEASE_EXPIRED ? DHCP_LEASE_BOUND : rec->state,
			 rec->expires_us);
	memcpy(l->hostname, rec->hostname, DHCP_HOSTNAME_MAX);
	l->hostname[DHCP_HOSTNAME_MAX - 1] = '\0';
	return 0;
}

struct foreach_ctx {
	uint64_t now_us;
	void (*fn)(const struct dhcp_lease *l, enum dhcp_lease_state state, void *arg);
	void *arg;
};

static void foreach_one(const struct dhcp_lease *l, void *arg)
{
	struct foreach_ctx *fc = arg;
	enum dhcp_lease_state st = dhcp_pool_state(l, fc->now_us);

	if (st == DHCP_LEASE_FREE)
		return; /* a withheld address whose time ran out */
	fc->fn(l, st, fc->arg);
}

void dhcp_server_foreach_lease(struct dhcp_server *s, uint64_t now_us,
			       void (*fn)(const struct dhcp_lease *l, enum dhcp_lease_state state,
					  void *arg),
			       void *arg)
{
	struct foreach_ctx fc = { .now_us = now_us, .fn = fn, .arg = arg };

	dhcp_pool_foreach(s->pool, foreach_one, &fc);
}

/* SPDX-License-Identifier: MIT */
/*
 * The host's resolvers, read from resolv.conf for the DNS proxy
 * (dns_proxy.c), which forwards the guests' queries to them. The daemon calls
 * dns_resolv_load() when it starts the proxy and logs what the result says.
 *
 * dns_resolv_parse() is pure: 'nameserver' lines become upstream addresses
 * with port 53, everything else (comments, other keywords, garbage) is
 * ignored, as glibc does. Loopback nameservers (127.0.0.0/8, ::1, and their
 * IPv4-mapped forms) are skipped and reported so the daemon can say so in one
 * line: such an address is the host's own stub resolver (systemd-resolved's
 * 127.0.0.53, a local dnsmasq), meaningless from the guests' point of view,
 * and a proxy forwarding to a stub is a stub behind a stub, which hides the
 * real servers and is what users trip on. dns_resolv_load() then reads
 * systemd-resolved's list of the real upstreams when it exists.
 */
#ifndef VSWITCH_NAT_RESOLV_H
#define VSWITCH_NAT_RESOLV_H

#include <stdbool.h>
#include <stddef.h>
#include <netinet/in.h>
#include <sys/socket.h>

#define DNS_RESOLV_SERVERS_MAX 8u     /* nameservers kept; glibc itself uses 3 */
#define DNS_RESOLV_TEXT_MAX    65536u /* bytes of resolv.conf read; more is -E2BIG */
#define DNS_RESOLV_LINE_MAX    1024u  /* longer lines are ignored */
#define DNS_RESOLV_ADDR_TEXT   64u    /* room for an address as written, NUL included */
#define DNS_RESOLV_PATH	       "/etc/resolv.conf"
#define DNS_RESOLV_SYSTEMD     "/run/systemd/resolve/resolv.conf" /* upstreams of resolved */

/* What a resolv.conf gave. */
struct dns_resolv {
	struct sockaddr_storage servers[DNS_RESOLV_SERVERS_MAX]; /* AF_INET or AF_INET6, port 53 */
	unsigned n_servers;					 /* entries of 'servers' in use */
	unsigned n_loopback; /* nameserver lines skipped as loopback addresses */
	char first_loopback[DNS_RESOLV_ADDR_TEXT]; /* the first of them as written, "" if none */
	unsigned n_over_cap; /* usable nameservers beyond DNS_RESOLV_SERVERS_MAX */
	unsigned n_invalid;  /* nameserver lines whose address did not parse */
	bool used_fallback;  /* dns_resolv_load() read its fallback file instead */
	const char *path;    /* the file the result comes from (a caller's string or
			      * a DNS_RESOLV_* constant); NULL after _parse() */
};

/*
 * Parses resolv.conf text 'text' ('len' bytes, borrowed, need not be
 * NUL-terminated) into 'r' (reset first). A nameserver address is IPv4 or
 * IPv6 in numeric form; an IPv6 zone must be numeric ("fe80::1%2"), others
 * count in 'n_invalid'. Returns the number of servers kept (0 is not an
 * error), or -E2BIG when 'len' exceeds DNS_RESOLV_TEXT_MAX ('r' then empty).
 */
int dns_resolv_parse(struct dns_resolv *r, const char *text, size_t len);

/*
 * Reads and parses the file 'path' (borrowed; kept in 'r->path' when it is
 * the one used, so it must outlive 'r'). When every nameserver in it is a
 * loopback address and DNS_RESOLV_SYSTEMD can be read, parses that one
 * instead and sets 'r->used_fallback' (the loopback fields still describe
 * 'path'). Returns the number of servers kept, or -errno from opening or
 * reading 'path' (e.g. -ENOENT), or -E2BIG when it is larger than
 * DNS_RESOLV_TEXT_MAX. A failing fallback leaves the result of 'path'.
 */
int dns_resolv_load(struct dns_resolv *r, const char *path);

/* dns_resolv_load() with the fallback file 'fallback' (borrowed, kept like 'path'). For tests. */
int dns_resolv_load_from(struct dns_resolv *r, const char *path, const char *fallback);

#endif

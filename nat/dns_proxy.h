/* SPDX-License-Identifier: MIT */
/*
 * The DNS proxy of Internet Connection Sharing. With NAT on, DHCP hands the
 * guests the host adapter's address as their DNS server; this proxy listens
 * there on UDP and TCP port 53, answers '<host>.<domain>' (and a bare
 * '<host>') for guests that sent a hostname in DHCP through a lookup
 * callback, and forwards every other query to the host's resolvers (see
 * resolv.h), relaying their answers back.
 *
 * The proxy owns its sockets but no event loop (STYLE.md §1): it keeps them
 * all in one epoll set and exposes that set's fd. The daemon in vswitch/
 * watches dns_proxy_fd() for reading with one libev io watcher that calls
 * dns_proxy_handle(), and calls dns_proxy_tick() about once a second:
 *
 *	static void dns_cb(struct ev_loop *loop, ev_io *w, int revents)
 *	{
 *		dns_proxy_handle(w->data, (uint64_t)(ev_now(loop) * 1000));
 *	}
 *	ev_io_init(&io, dns_cb, dns_proxy_fd(proxy), EV_READ);
 *	io.data = proxy;
 *	(and an ev_timer of 1 s calling dns_proxy_tick() the same way)
 *
 * Theory of operation. UDP: a query whose name is local is answered at once
 * (A with TTL DNS_PROXY_LOCAL_TTL; other types of a known name: NOERROR and
 * no answer; an unknown name under the domain, or one deeper than
 * '<host>.<domain>': NXDOMAIN; the domain itself: NOERROR, no answer), so
 * local names never leak upstream. A single label that the lookup does not
 * know goes upstream (validators ask about TLDs), and opcodes other than
 * QUERY get NOTIMP. Any other query is sent from one unconnected socket
 * per address family to the first upstream under a fresh random ID, and
 * remembered (client, client ID, deadline) in a table of
 * DNS_PROXY_INFLIGHT_MAX entries; an answer is accepted only with that ID,
 * from that upstream's address and port, and for the same question, then
 * gets the client's ID back and goes to the client. After
 * DNS_PROXY_UPSTREAM_TIMEOUT_MS without an answer the query is sent once more
 * to the next upstream (timeouts are checked by dns_proxy_tick(), so they
 * fire up to one tick late); after a second timeout the client gets SERVFAIL, as
 * it does when the table is full. TCP (RFC 7766): each connection reads one
 * framed query at a time, answers it locally or over a new non-blocking TCP
 * connection to an upstream (same timeout and retry), writes the framed
 * answer back and reads the next; bad input closes that connection only.
 * Malformed queries are dropped and counted; nothing a client sends can make
 * the proxy block or allocate.
 */
#ifndef VSWITCH_NAT_DNS_PROXY_H
#define VSWITCH_NAT_DNS_PROXY_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

struct dns_proxy;

#define DNS_PROXY_PORT		      53u
#define DNS_PROXY_UPSTREAMS_MAX	      8u
#define DNS_PROXY_INFLIGHT_MAX	      1024u /* forwarded UDP queries awaiting an answer */
#define DNS_PROXY_TCP_MAX	      64u   /* client TCP connections at once */
#define DNS_PROXY_QUERY_MAX	      1232u /* longest query forwarded; UDP: SERVFAIL, TCP: closed */
#define DNS_PROXY_UPSTREAM_TIMEOUT_MS 2000u
#define DNS_PROXY_TCP_IDLE_MS	      10000u
#define DNS_PROXY_LOCAL_TTL	      60u /* seconds, for local A answers */

struct dns_proxy_conf {
	const char *network; /* network name for log lines; copied */
	uint32_t listen_be;  /* IPv4 address to listen on, network order */
	uint16_t port;	     /* UDP and TCP port, host order; 0 = DNS_PROXY_PORT */
	const struct sockaddr_storage *upstreams; /* AF_INET/AF_INET6 resolvers with their
						   * ports; borrowed for the call (copied) */
	unsigned n_upstreams;			  /* 0..DNS_PROXY_UPSTREAMS_MAX; with 0, every
						   * non-local query gets SERVFAIL */
	const char *domain; /* local domain, e.g. "lab.internal"; NULL or "" = none; copied */
	/*
	 * Looks up a guest by its DHCP hostname 'host' (lower case, one label,
	 * NUL-terminated, borrowed for the call); on success stores its address
	 * in '*addr_be' (network order) and returns true. Called with the first
	 * label of '<label>.<domain>' and with single-label names. May be NULL
	 * (no local names). Must not call back into the proxy.
	 */
	bool (*lookup)(void *ctx, const char *host, uint32_t *addr_be);
	void *lookup_ctx; /* passed to 'lookup'; kept, must outlive the proxy */
};

/* Counters since dns_proxy_new(). */
struct dns_proxy_stats {
	uint64_t queries_udp;	    /* well-formed queries received over UDP */
	uint64_t queries_tcp;	    /* well-formed queries received over TCP */
	uint64_t local_answers;	    /* answered by the proxy: local names, NOTIMP */
	uint64_t forwarded;	    /* sent upstream, retries included */
	uint64_t upstream_timeouts; /* upstream attempts that got no answer in time */
	uint64_t servfail;	    /* SERVFAIL sent (timeouts, table full, no upstream) */
	uint64_t malformed;	    /* queries dropped as malformed, TCP connections included */
	uint64_t dropped;	    /* other drops: unmatched answers, send failures, full TCP */
};

/*
 * Creates a proxy from 'conf' (borrowed for the call except 'lookup_ctx'):
 * binds UDP and TCP on 'listen_be':'port' with SO_REUSEADDR and IP_FREEBIND
 * (so it may start before the address is configured) and opens one upstream
 * UDP socket per address family in use. Logs nothing; the caller logs the
 * failure. On success sets '*ret' (free with dns_proxy_free()) and returns 0;
 * otherwise returns -EINVAL (bad conf: too many upstreams, an upstream that
 * is neither IPv4 nor IPv6, a domain longer than a DNS name), -ELOOP (an
 * upstream is the proxy's own address and port), -ENOMEM, or the -errno of
 * the failing socket call (e.g. -EADDRINUSE, -EACCES for port 53 without
 * CAP_NET_BIND_SERVICE).
 */
int dns_proxy_new(struct dns_proxy **ret, const struct dns_proxy_conf *conf);

/*
 * Closes every socket of 'p' and frees it (transferred). Accepts NULL.
 * Queries in flight are forgotten without an answer; their clients retry.
 */
void dns_proxy_free(struct dns_proxy *p);

/*
 * Returns the one fd of 'p' to watch for reading (an epoll fd,
 * level-triggered): while it is readable, some socket of the proxy has work
 * for dns_proxy_handle(). Owned by 'p'; the caller must not close it.
 */
int dns_proxy_fd(const struct dns_proxy *p);

/*
 * Does the work of 'p' that is ready now without blocking: bounded batches
 * of datagrams, connections and TCP reads and writes; what remains keeps
 * dns_proxy_fd() readable. May call 'lookup' and send answers. 'now_ms' is a monotonic clock in
 * milliseconds, used for deadlines. Returns the number of events handled (0 when nothing was
 * ready), or the -errno of epoll_wait() (-EINTR is returned as 0).
 */
int dns_proxy_handle(struct dns_proxy *p, uint64_t now_ms);

/*
 * Expires what of 'p' is overdue at 'now_ms' (same clock as
 * dns_proxy_handle()): retries upstream queries with the next upstream or
 * answers them SERVFAIL, closes idle TCP connections; logs a timeout at most
 * once a second. Call about
 * once a second; deadlines are then met to within that period.
 */
void dns_proxy_tick(struct dns_proxy *p, uint64_t now_ms);

/* Copies the counters of 'p' into '*ret' (borrowed for the call). */
void dns_proxy_get_stats(const struct dns_proxy *p, struct dns_proxy_stats *ret);

#endif

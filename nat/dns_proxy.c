/* SPDX-License-Identifier: MIT */
/*
 * DNS proxy (dns_proxy.h). Every socket is non-blocking and sits in the
 * proxy's own level-triggered epoll set; dns_proxy_handle() drains a bounded
 * batch of its events and dispatches on the tag each socket was registered
 * with. The codec (dns_msg.c) reads every byte a client or upstream sends.
 * All memory is allocated in dns_proxy_new(): the UDP in-flight table with
 * its ID index, and the TCP connection slots with their buffers.
 */
#include "nat/dns_proxy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <unistd.h>

#include "common/bytes.h"
#include "common/log.h"
#include "nat/dns_msg.h"

#define EVENTS_MAX   32u /* epoll events taken per dns_proxy_handle() */
#define DGRAM_BUDGET 32u /* datagrams read per ready UDP socket per event */
#define ACCEPT_MAX   16u /* connections accepted per event */
#define TRIES_MAX    2u	 /* attempts per query: the first upstream, then the next */
#define NETWORK_MAX  32u /* bytes of the network name kept for log lines */

/* What a registered fd is; the epoll tag is kind << 56 | slot << 32 | generation. */
enum tag_kind {
	TAG_UDP_LISTEN = 1,
	TAG_TCP_LISTEN,
	TAG_UP4,
	TAG_UP6,
	TAG_CLIENT,   /* a TCP client connection */
	TAG_UPSTREAM, /* a TCP connection's upstream socket */
};

/* A UDP query forwarded and not yet answered. */
struct udp_query {
	bool in_use;
	uint8_t upstream;		  /* index into 'up' of the current attempt */
	uint8_t tries;			  /* attempts sent */
	uint16_t id;			  /* ID used upstream, host order */
	uint16_t client_id;		  /* the client's own ID, host order */
	uint16_t len;			  /* bytes of 'msg' */
	uint32_t qhash;			  /* hash of the question, checked against the answer */
	uint64_t deadline_ms;		  /* current attempt times out then */
	struct sockaddr_in client;	  /* where the answer goes */
	uint8_t msg[DNS_PROXY_QUERY_MAX]; /* the query as received, ID rewritten */
};

/*
 * A TCP client connection. READ: reading one framed query into 'q'. Then
 * either WRITE (answer in 'r'), or CONNECT -> UP_WRITE -> UP_READ on 'up_fd'
 * with the whole frame of 'q', the upstream's frame into 'r', then WRITE.
 * WRITE done: back to READ for the next query.
 */
enum conn_state {
	CONN_FREE,
	CONN_READ,
	CONN_CONNECT,
	CONN_UP_WRITE,
	CONN_UP_READ,
	CONN_WRITE,
};

struct tcp_conn {
	enum conn_state state;
	int fd;		      /* client socket, owned; -1 when free */
	int up_fd;	      /* upstream socket, owned; -1 outside CONNECT..UP_READ */
	uint32_t gen;	      /* bumped when 'fd' changes: tags stale events */
	uint32_t up_gen;      /* same for 'up_fd' */
	uint8_t upstream;     /* index into 'up' of the current attempt */
	uint8_t tries;	      /* attempts made for the current query */
	uint64_t deadline_ms; /* idle (READ, WRITE) or upstream attempt deadline */
	size_t q_have;	      /* bytes of 'q' read, length prefix included */
	size_t io_done;	      /* bytes of the current transfer of 'q' or 'r' done */
	size_t r_len;	      /* bytes of 'r' when complete, prefix included */
	uint8_t q[2 + DNS_PROXY_QUERY_MAX]; /* framed query */
	uint8_t *r;			    /* framed answer, 2 + DNS_MSG_MAX bytes; in 'rbufs' */
};

struct dns_proxy {
	char network[NETWORK_MAX];     /* for log lines */
	char domain[DNS_NAME_MAX + 1]; /* lower case, "" = none */
	size_t domain_len;	       /* strlen(domain) */
	bool (*lookup)(void *ctx, const char *host, uint32_t *addr_be);
	void *lookup_ctx;				     /* kept, the caller's */
	struct sockaddr_storage up[DNS_PROXY_UPSTREAMS_MAX]; /* upstream resolvers */
	unsigned n_up;
	int epfd;	       /* the fd dns_proxy_fd() exposes */
	int udp_fd;	       /* UDP listener */
	int tcp_fd;	       /* TCP listener */
	int up4_fd, up6_fd;    /* unconnected upstream UDP sockets, -1 if no such upstream */
	struct udp_query *udp; /* DNS_PROXY_INFLIGHT_MAX entries */
	uint16_t *free_udp;    /* stack of free 'udp' indices */
	unsigned n_free_udp;
	uint16_t *id_slot;	/* upstream ID -> 'udp' index + 1, 0 = unused; 65536 entries */
	unsigned n_inflight;	/* 'udp' entries in use */
	struct tcp_conn *conns; /* DNS_PROXY_TCP_MAX entries */
	uint8_t *rbufs;		/* the connections' answer buffers */
	uint8_t rnd[64];	/* random bytes for IDs, refilled from getrandom() */
	size_t rnd_pos;		/* next unused byte of 'rnd' */
	uint64_t rnd_state;	/* fallback generator when getrandom() fails */
	struct dns_proxy_stats stats;
	uint64_t rl_malformed, rl_upstream, rl_send, rl_full, rl_mismatch; /* log_ratelimit() */
	uint8_t buf[DNS_MSG_MAX + 1]; /* one received datagram */
	uint8_t out[DNS_UDP_MIN_SZ];  /* one locally built UDP reply */
};

static uint64_t tag(enum tag_kind kind, unsigned slot, uint32_t gen)
{
	return (uint64_t)kind << 56 | (uint64_t)slot << 32 | gen;
}

static int ep_add(struct dns_proxy *p, int fd, uint32_t events, uint64_t t)
{
	struct epoll_event ev = { .events = events, .data.u64 = t };

	return epoll_ctl(p->epfd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

static void ep_mod(struct dns_proxy *p, int fd, uint32_t events, uint64_t t)
{
	struct epoll_event ev = { .events = events, .data.u64 = t };

	/* Cannot fail for a registered fd short of a bug; a lost event is caught by the deadline.
	 */
	(void)epoll_ctl(p->epfd, EPOLL_CTL_MOD, fd, &ev);
}

static socklen_t sa_len(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
}

/* 'ss' as "addr:port" or "[addr]:port" into 'buf' ('cap' bytes, 64 is enough); returns 'buf'. */
static const char *sa_text(const struct sockaddr_storage *ss, char *buf, size_t cap)
{
	char a[INET6_ADDRSTRLEN] = "?";

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)ss;

		(void)inet_ntop(AF_INET, &s->sin_addr, a, sizeof(a));
		snprintf(buf, cap, "%s:%u", a, ntohs(s->sin_port));
	} else {
		const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)ss;

		(void)inet_ntop(AF_INET6, &s->sin6_addr, a, sizeof(a));
		snprintf(buf, cap, "[%s]:%u", a, ntohs(s->sin6_port));
	}
	return buf;
}

static const char *sin_text(const struct sockaddr_in *sin, char *buf, size_t cap)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	memcpy(&ss, sin, sizeof(*sin));
	return sa_text(&ss, buf, cap);
}

/* Whether 'from' (a datagram's source) is the upstream 'up': same family, address and port. */
static bool same_sa(const struct sockaddr_storage *from, const struct sockaddr_storage *up)
{
	if (from->ss_family != up->ss_family)
		return false;
	if (from->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const void *)from, *b = (const void *)up;

		return a->sin_port == b->sin_port && a->sin_addr.s_addr == b->sin_addr.s_addr;
	}
	const struct sockaddr_in6 *a = (const void *)from, *b = (const void *)up;

	return a->sin6_port == b->sin6_port && !memcmp(&a->sin6_addr, &b->sin6_addr, 16);
}

static uint32_t question_hash(const struct dns_query *q)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (const char *s = q->name; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	h = (h ^ q->qtype) * 16777619u;
	return (h ^ q->qclass) * 16777619u;
}

static uint16_t rand16(struct dns_proxy *p)
{
	uint16_t v;

	if (p->rnd_pos + 2 > sizeof(p->rnd)) {
		ssize_t n = getrandom(p->rnd, sizeof(p->rnd), GRND_NONBLOCK);

		/*
		 * Early boot or a seccomp filter: fall back to splitmix64 seeded
		 * from the object's address and the pid, weak but never stuck.
		 */
		for (size_t i = n > 0 ? (size_t)n : 0; i < sizeof(p->rnd); i++) {
			uint64_t z = (p->rnd_state += 0x9e3779b97f4a7c15ull);

			z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
			z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
			p->rnd[i] = (uint8_t)(z ^ (z >> 31));
		}
		p->rnd_pos = 0;
	}
	memcpy(&v, p->rnd + p->rnd_pos, 2);
	p->rnd_pos += 2;
	return v;
}

/* A fresh upstream ID that no query in flight uses. */
static uint16_t fresh_id(struct dns_proxy *p)
{
	uint16_t id = rand16(p);

	/* At most 1024 of 65536 IDs are taken, so this rarely loops; it always ends. */
	for (unsigned i = 0; i < 65536 && p->id_slot[id]; i++)
		id = i < 16 ? rand16(p) : (uint16_t)(id + 1);
	return id;
}

/* Sends 'len' bytes of 'msg' to the UDP client 'to'; failures are counted, the client retries. */
static void udp_reply(struct dns_proxy *p, const uint8_t *msg, size_t len,
		      const struct sockaddr_in *to, uint64_t now_ms)
{
	char a[64];

	if (sendto(p->udp_fd, msg, len, MSG_DONTWAIT | MSG_NOSIGNAL, (const struct sockaddr *)to,
		   sizeof(*to)) >= 0)
		return;
	p->stats.dropped++;
	if (log_ratelimit(&p->rl_send, now_ms))
		log_warn("network '%s': DNS answer to %s: %s, dropping it", p->network,
			 sin_text(to, a, sizeof(a)), strerror(errno));
}

/* Builds a reply to 'query' with 'rcode' into 'buf'; returns its length or -errno. */
static int build_fail(uint8_t *buf, size_t cap, const uint8_t *query, size_t len, uint8_t rcode)
{
	struct dns_reply r = { .rcode = rcode };

	return dns_msg_build_reply(buf, cap, query, len, &r);
}

/*
 * Answers 'q' (the parsed 'msg' of 'len' bytes) from the local names into
 * 'buf' ('cap' bytes) when it is one of theirs. Returns the reply's length,
 * 0 when the query is to be forwarded, or -EMSGSIZE.
 */
static int local_reply(struct dns_proxy *p, const struct dns_query *q, const uint8_t *msg,
		       size_t len, uint8_t *buf, size_t cap)
{
	struct dns_reply r = { .rcode = DNS_RCODE_NOERROR, .is_authoritative = true };
	char host[DNS_LABEL_MAX + 1];
	size_t n = strlen(q->name), label_len;
	const char *dot = strchr(q->name, '.');
	bool under = false, found;

	if (DNS_OPCODE(q->flags) != DNS_OPCODE_QUERY) {
		/* NOTIFY, UPDATE and friends are not for a forwarder (RFC 1035 §4.1.1 NOTIMP). */
		r.rcode = DNS_RCODE_NOTIMP;
		r.is_authoritative = false;
		return dns_msg_build_reply(buf, cap, msg, len, &r);
	}
	if (!q->is_name_plain || !n)
		return 0;
	if (p->domain_len) {
		if (n == p->domain_len && !strcmp(q->name, p->domain))
			return dns_msg_build_reply(buf, cap, msg, len, &r); /* the apex: no data */
		under = n > p->domain_len + 1 && q->name[n - p->domain_len - 1] == '.' &&
			!strcmp(q->name + n - p->domain_len, p->domain);
	}
	if (!under && dot)
		return 0;
	label_len = dot ? (size_t)(dot - q->name) : n;
	if (under && label_len != n - p->domain_len - 1) {
		r.rcode = DNS_RCODE_NXDOMAIN; /* deeper than '<host>.<domain>': nothing there */
		return dns_msg_build_reply(buf, cap, msg, len, &r);
	}
	if (label_len > DNS_LABEL_MAX)
		return 0; /* cannot happen for a parsed name; keeps 'host' obviously bounded */
	memcpy(host, q->name, label_len);
	host[label_len] = '\0';
	found = p->lookup && p->lookup(p->lookup_ctx, host, &r.addr_be);
	if (!found && !under)
		return 0; /* a single label we do not know, e.g. a TLD a validator asks about */
	if (!found)
		r.rcode = DNS_RCODE_NXDOMAIN;
	else if ((q->qtype == DNS_TYPE_A || q->qtype == DNS_TYPE_ANY) &&
		 (q->qclass == DNS_CLASS_IN || q->qclass == DNS_CLASS_ANY))
		r.has_a = true;
	r.ttl_secs = DNS_PROXY_LOCAL_TTL;
	return dns_msg_build_reply(buf, cap, msg, len, &r);
}

static void udp_release(struct dns_proxy *p, struct udp_query *u)
{
	p->id_slot[u->id] = 0;
	u->in_use = false;
	p->free_udp[p->n_free_udp++] = (uint16_t)(u - p->udp);
	p->n_inflight--;
}

/* Sends 'u' to its current upstream and arms its deadline. */
static void udp_send_upstream(struct dns_proxy *p, struct udp_query *u, uint64_t now_ms)
{
	const struct sockaddr_storage *up = &p->up[u->upstream];
	int fd = up->ss_family == AF_INET ? p->up4_fd : p->up6_fd;
	char a[64];

	u->tries++;
	u->deadline_ms = now_ms + DNS_PROXY_UPSTREAM_TIMEOUT_MS;
	p->stats.forwarded++;
	if (sendto(fd, u->msg, u->len, MSG_DONTWAIT | MSG_NOSIGNAL, (const struct sockaddr *)up,
		   sa_len(up)) < 0 &&
	    log_ratelimit(&p->rl_send, now_ms))
		/* The deadline stays armed: the next upstream gets its turn then. */
		log_warn("network '%s': DNS query to %s: %s, waiting for the retry", p->network,
			 sa_text(up, a, sizeof(a)), strerror(errno));
}

/* Answers the client of 'u' with SERVFAIL and forgets 'u'. */
static void udp_fail(struct dns_proxy *p, struct udp_query *u, uint64_t now_ms)
{
	int n;

	(void)dns_msg_set_id(u->msg, u->len, u->client_id);
	n = build_fail(p->out, sizeof(p->out), u->msg, u->len, DNS_RCODE_SERVFAIL);
	if (n > 0) {
		p->stats.servfail++;
		udp_reply(p, p->out, (size_t)n, &u->client, now_ms);
	}
	udp_release(p, u);
}

static void udp_query_in(struct dns_proxy *p, uint8_t *msg, size_t len,
			 const struct sockaddr_in *from, uint64_t now_ms)
{
	struct dns_query q;
	struct udp_query *u;
	char a[64];
	int n;

	if (dns_msg_parse(&q, msg, len) || (q.flags & DNS_FLAG_QR)) {
		p->stats.malformed++;
		if (log_ratelimit(&p->rl_malformed, now_ms))
			log_warn("network '%s': malformed DNS query of %zu bytes from %s, dropping "
				 "it",
				 p->network, len, sin_text(from, a, sizeof(a)));
		return;
	}
	p->stats.queries_udp++;
	n = local_reply(p, &q, msg, len, p->out, sizeof(p->out));
	if (n > 0) {
		p->stats.local_answers++;
		udp_reply(p, p->out, (size_t)n, from, now_ms);
		return;
	}
	if (n < 0 || !p->n_up || !p->n_free_udp || len > DNS_PROXY_QUERY_MAX) {
		if (!p->n_free_udp && log_ratelimit(&p->rl_full, now_ms))
			log_warn("network '%s': %u DNS queries await their upstream answer, "
				 "answering "
				 "SERVFAIL",
				 p->network, p->n_inflight);
		n = build_fail(p->out, sizeof(p->out), msg, len, DNS_RCODE_SERVFAIL);
		if (n > 0) {
			p->stats.servfail++;
			udp_reply(p, p->out, (size_t)n, from, now_ms);
		}
		return;
	}
	u = &p->udp[p->free_udp[--p->n_free_udp]];
	p->n_inflight++;
	u->in_use = true;
	u->upstream = 0;
	u->tries = 0;
	u->client_id = q.id;
	u->id = fresh_id(p);
	u->qhash = question_hash(&q);
	u->client = *from;
	u->len = (uint16_t)len;
	memcpy(u->msg, msg, len);
	(void)dns_msg_set_id(u->msg, u->len, u->id);
	p->id_slot[u->id] = (uint16_t)(u - p->udp + 1);
	udp_send_upstream(p, u, now_ms);
}

static void udp_listen_ready(struct dns_proxy *p, uint64_t now_ms)
{
	for (unsigned i = 0; i < DGRAM_BUDGET; i++) {
		struct sockaddr_in from;
		socklen_t from_len = sizeof(from);
		ssize_t n = recvfrom(p->udp_fd, p->buf, sizeof(p->buf), MSG_DONTWAIT,
				     (struct sockaddr *)&from, &from_len);

		if (n < 0)
			return; /* EAGAIN, or an ICMP error queued by an earlier send: nothing to do
				 */
		if (from_len != sizeof(from) || from.sin_family != AF_INET)
			continue;
		udp_query_in(p, p->buf, (size_t)n, &from, now_ms);
	}
}

/* Answers from upstream on the unconnected UDP socket 'fd'. */
static void udp_upstream_ready(struct dns_proxy *p, int fd, uint64_t now_ms)
{
	for (unsigned i = 0; i < DGRAM_BUDGET; i++) {
		struct sockaddr_storage from;
		socklen_t from_len = sizeof(from);
		struct udp_query *u;
		struct dns_query q;
		ssize_t n = recvfrom(fd, p->buf, sizeof(p->buf), MSG_DONTWAIT,
				     (struct sockaddr *)&from, &from_len);
		char a[64];
		int id;

		if (n < 0)
			return;
		id = dns_msg_id(p->buf, (size_t)n);
		if (id < 0 || !dns_msg_is_response(p->buf, (size_t)n) || !p->id_slot[id]) {
			p->stats.dropped++; /* late (already answered or failed), or junk */
			continue;
		}
		u = &p->udp[p->id_slot[id] - 1];
		/*
		 * Only the upstream asked, answering the same question, may
		 * answer: a guess of the ID alone (RFC 5452) is not enough. An
		 * answer without a question (some FORMERR) is taken as is.
		 */
		if (!same_sa(&from, &p->up[u->upstream]) ||
		    (dns_msg_parse(&q, p->buf, (size_t)n) ? get_be16(p->buf + 4) != 0
							  : question_hash(&q) != u->qhash)) {
			p->stats.dropped++;
			if (log_ratelimit(&p->rl_mismatch, now_ms))
				log_warn("network '%s': DNS answer from %s does not match its "
					 "query, "
					 "dropping it",
					 p->network, sa_text(&from, a, sizeof(a)));
			continue;
		}
		(void)dns_msg_set_id(p->buf, (size_t)n, u->client_id);
		udp_reply(p, p->buf, (size_t)n, &u->client, now_ms);
		udp_release(p, u);
	}
}

static void conn_close(struct tcp_conn *c)
{
	if (c->up_fd >= 0) {
		close(c->up_fd);
		c->up_fd = -1;
		c->up_gen++;
	}
	if (c->fd >= 0) {
		close(c->fd); /* also leaves the epoll set */
		c->fd = -1;
		c->gen++;
	}
	c->state = CONN_FREE;
}

static void tcp_malformed(struct dns_proxy *p, struct tcp_conn *c, uint64_t now_ms)
{
	struct sockaddr_storage peer;
	socklen_t peer_len = sizeof(peer);
	char a[64] = "?";

	p->stats.malformed++;
	if (log_ratelimit(&p->rl_malformed, now_ms)) {
		memset(&peer, 0, sizeof(peer));
		if (!getpeername(c->fd, (struct sockaddr *)&peer, &peer_len))
			sa_text(&peer, a, sizeof(a));
		log_warn("network '%s': malformed DNS query over TCP from %s, closing that "
			 "connection",
			 p->network, a);
	}
	conn_close(c);
}

static void conn_set(struct dns_proxy *p, struct tcp_conn *c, enum conn_state st, uint32_t events)
{
	c->state = st;
	ep_mod(p, c->fd, events, tag(TAG_CLIENT, (unsigned)(c - p->conns), c->gen));
}

/* The answer in 'r' (framed, 'r_len' bytes) is complete: write it to the client. */
static void conn_answer(struct dns_proxy *p, struct tcp_conn *c, uint64_t now_ms)
{
	c->io_done = 0;
	c->deadline_ms = now_ms + DNS_PROXY_TCP_IDLE_MS;
	conn_set(p, c, CONN_WRITE, EPOLLOUT);
}

/* Answers the query in 'q' with a framed SERVFAIL. */
static void conn_answer_fail(struct dns_proxy *p, struct tcp_conn *c, uint64_t now_ms)
{
	int n = build_fail(c->r + 2, DNS_MSG_MAX, c->q + 2, c->q_have - 2, DNS_RCODE_SERVFAIL);

	if (n < 0) {
		conn_close(c); /* cannot happen: the query parsed before */
		return;
	}
	p->stats.servfail++;
	put_be16(c->r, (uint16_t)n);
	c->r_len = 2 + (size_t)n;
	conn_answer(p, c, now_ms);
}

/* Starts the next upstream attempt for the query in 'q', or answers SERVFAIL when none is left. */
static void conn_forward(struct dns_proxy *p, struct tcp_conn *c, uint64_t now_ms)
{
	unsigned slot = (unsigned)(c - p->conns);

	if (c->up_fd >= 0) {
		close(c->up_fd);
		c->up_fd = -1;
		c->up_gen++;
	}
	while (p->n_up && c->tries < TRIES_MAX) {
		const struct sockaddr_storage *up;
		int fd;

		if (c->tries++)
			c->upstream = (uint8_t)((c->upstream + 1) % p->n_up);
		up = &p->up[c->upstream];
		p->stats.forwarded++;
		fd = socket(up->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0)
			continue;
		if ((connect(fd, (const struct sockaddr *)up, sa_len(up)) &&
		     errno != EINPROGRESS) ||
		    ep_add(p, fd, EPOLLOUT, tag(TAG_UPSTREAM, slot, c->up_gen))) {
			close(fd);
			continue;
		}
		c->up_fd = fd;
		c->io_done = 0;
		c->deadline_ms = now_ms + DNS_PROXY_UPSTREAM_TIMEOUT_MS;
		/* No interest in the client meanwhile; a hangup still shows as EPOLLHUP. */
		conn_set(p, c, CONN_CONNECT, 0);
		return;
	}
	conn_answer_fail(p, c, now_ms);
}

/* The frame in 'q' is complete: answer it locally or forward it. */
static void conn_query(struct dns_proxy *p, struct tcp_conn *c, uint64_t now_ms)
{
	struct dns_query q;
	int n;

	if (dns_msg_parse(&q, c->q + 2, c->q_have - 2) || (q.flags & DNS_FLAG_QR)) {
		tcp_malformed(p, c, now_ms);
		return;
	}
	p->stats.queries_tcp++;
	n = local_reply(p, &q, c->q + 2, c->q_have - 2, c->r + 2, DNS_MSG_MAX);
	if (n > 0) {
		p->stats.local_answers++;
		put_be16(c->r, (uint16_t)n);
		c->r_len = 2 + (size_t)n;
		conn_answer(p, c, now_ms);
		return;
	}
	c->tries = 0;
	c->upstream = 0;
	conn_forward(p, c, now_ms);
}

/* READ: takes bytes of one frame, never more, so pipelined queries wait in the socket. */
static void conn_read(struct dns_proxy *p, struct tcp_conn *c, uint64_t now_ms)
{
	for (;;) {
		size_t want = c->q_have < 2 ? 2 - c->q_have : 2 + get_be16(c->q) - c->q_have;
		ssize_t n = recv(c->fd, c->q + c->q_have, want, MSG_DONTWAIT);

		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			conn_close(c); /* the client is done, or reset */
			return;
		}
		c->q_have += (size_t)n;
		c->deadline_ms = now_ms + DNS_PROXY_TCP_IDLE_MS;
		if (c->q_have == 2) {
			uint16_t len = get_be16(c->q);

			if (len < DNS_HDR_LEN || len > DNS_PROXY_QUERY_MAX) {
				tcp_malformed(p, c, now_ms);
				return;
			}
		}
		if (c->q_have >= 2 && c->q_have == 2 + (size_t)get_be16(c->q)) {
			conn_query(p, c, now_ms);
			return;
		}
	}
}

/* WRITE: the answer to the client; when done, the next query. */
static void conn_write(struct dns_proxy *p, struct tcp_conn *c, uint64_t now_ms)
{
	while (c->io_done < c->r_len) {
		ssize_t n = send(c->fd, c->r + c->io_done, c->r_len - c->io_done,
				 MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n < 0) {
			conn_close(c);
			return;
		}
		c->io_done += (size_t)n;
	}
	c->q_have = 0;
	c->deadline_ms = now_ms + DNS_PROXY_TCP_IDLE_MS;
	conn_set(p, c, CONN_READ, EPOLLIN);
}

static void conn_client_event(struct dns_proxy *p, struct tcp_conn *c, uint32_t events,
			      uint64_t now_ms)
{
	if (c->state == CONN_READ && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		conn_read(p, c, now_ms); /* reads what is left, then sees the end */
	else if (c->state == CONN_WRITE && (events & (EPOLLOUT | EPOLLHUP | EPOLLERR)))
		conn_write(p, c, now_ms);
	else if (events & (EPOLLHUP | EPOLLERR))
		conn_close(c); /* gone while its query is upstream */
}

static void conn_upstream_event(struct dns_proxy *p, struct tcp_conn *c, uint32_t events,
				uint64_t now_ms)
{
	unsigned slot = (unsigned)(c - p->conns);
	int err = 0;
	socklen_t err_len = sizeof(err);

	if (c->state == CONN_CONNECT) {
		if (getsockopt(c->up_fd, SOL_SOCKET, SO_ERROR, &err, &err_len) || err ||
		    (events & (EPOLLERR | EPOLLHUP)))
			goto fail;
		c->state = CONN_UP_WRITE;
	}
	if (c->state == CONN_UP_WRITE) {
		while (c->io_done < c->q_have) {
			ssize_t n = send(c->up_fd, c->q + c->io_done, c->q_have - c->io_done,
					 MSG_DONTWAIT | MSG_NOSIGNAL);

			if (n < 0 && (errno == EAGAIN || errno == EINTR))
				return;
			if (n < 0)
				goto fail;
			c->io_done += (size_t)n;
		}
		c->io_done = 0;
		c->state = CONN_UP_READ;
		ep_mod(p, c->up_fd, EPOLLIN, tag(TAG_UPSTREAM, slot, c->up_gen));
		return;
	}
	if (c->state != CONN_UP_READ)
		return;
	for (;;) {
		size_t want = c->io_done < 2 ? 2 - c->io_done : 2 + get_be16(c->r) - c->io_done;
		ssize_t n = recv(c->up_fd, c->r + c->io_done, want, MSG_DONTWAIT);

		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0)
			goto fail;
		c->io_done += (size_t)n;
		if (c->io_done == 2 && get_be16(c->r) < DNS_HDR_LEN)
			goto fail;
		if (c->io_done >= 2 && c->io_done == 2 + (size_t)get_be16(c->r))
			break;
	}
	/* One connection per query, so the ID needs no rewriting; it must match though. */
	if (get_be16(c->r + 2) != get_be16(c->q + 2) ||
	    !dns_msg_is_response(c->r + 2, c->io_done - 2))
		goto fail;
	close(c->up_fd);
	c->up_fd = -1;
	c->up_gen++;
	c->r_len = c->io_done;
	conn_answer(p, c, now_ms);
	return;
fail:
	conn_forward(p, c, now_ms);
}

static void tcp_accept_ready(struct dns_proxy *p, uint64_t now_ms)
{
	for (unsigned i = 0; i < ACCEPT_MAX; i++) {
		struct tcp_conn *c = NULL;
		int fd = accept4(p->tcp_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0)
			return;
		for (unsigned j = 0; j < DNS_PROXY_TCP_MAX && !c; j++)
			if (p->conns[j].state == CONN_FREE)
				c = &p->conns[j];
		if (!c) {
			/* Closing at once keeps the listener from staying readable forever. */
			close(fd);
			p->stats.dropped++;
			if (log_ratelimit(&p->rl_full, now_ms))
				log_warn("network '%s': %u DNS TCP connections open, refusing "
					 "another",
					 p->network, DNS_PROXY_TCP_MAX);
			continue;
		}
		c->fd = fd;
		c->gen++;
		if (ep_add(p, fd, EPOLLIN, tag(TAG_CLIENT, (unsigned)(c - p->conns), c->gen))) {
			close(fd);
			c->fd = -1;
			continue;
		}
		c->state = CONN_READ;
		c->q_have = 0;
		c->deadline_ms = now_ms + DNS_PROXY_TCP_IDLE_MS;
	}
}

int dns_proxy_handle(struct dns_proxy *p, uint64_t now_ms)
{
	struct epoll_event ev[EVENTS_MAX];
	int n = epoll_wait(p->epfd, ev, EVENTS_MAX, 0);

	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (int i = 0; i < n; i++) {
		uint64_t t = ev[i].data.u64;
		unsigned slot = (unsigned)(t >> 32) & 0xffffffu;
		uint32_t gen = (uint32_t)t;
		struct tcp_conn *c;

		switch ((enum tag_kind)(t >> 56)) {
		case TAG_UDP_LISTEN:
			udp_listen_ready(p, now_ms);
			break;
		case TAG_TCP_LISTEN:
			tcp_accept_ready(p, now_ms);
			break;
		case TAG_UP4:
			udp_upstream_ready(p, p->up4_fd, now_ms);
			break;
		case TAG_UP6:
			udp_upstream_ready(p, p->up6_fd, now_ms);
			break;
		case TAG_CLIENT:
			c = &p->conns[slot];
			/* An earlier event of this batch may have closed or replaced the socket. */
			if (c->state != CONN_FREE && c->gen == gen)
				conn_client_event(p, c, ev[i].events, now_ms);
			break;
		case TAG_UPSTREAM:
			c = &p->conns[slot];
			if (c->up_fd >= 0 && c->up_gen == gen)
				conn_upstream_event(p, c, ev[i].events, now_ms);
			break;
		}
	}
	return n;
}

void dns_proxy_tick(struct dns_proxy *p, uint64_t now_ms)
{
	char a[64];

	for (unsigned i = 0; i < DNS_PROXY_INFLIGHT_MAX && p->n_inflight; i++) {
		struct udp_query *u = &p->udp[i];

		if (!u->in_use || now_ms < u->deadline_ms)
			continue;
		p->stats.upstream_timeouts++;
		if (log_ratelimit(&p->rl_upstream, now_ms))
			log_warn("network '%s': DNS upstream %s did not answer within %u ms, %s",
				 p->network, sa_text(&p->up[u->upstream], a, sizeof(a)),
				 DNS_PROXY_UPSTREAM_TIMEOUT_MS,
				 u->tries < TRIES_MAX ? "retrying" : "answering SERVFAIL");
		if (u->tries < TRIES_MAX) {
			u->upstream = (uint8_t)((u->upstream + 1) % p->n_up);
			udp_send_upstream(p, u, now_ms);
		} else {
			udp_fail(p, u, now_ms);
		}
	}
	for (unsigned i = 0; i < DNS_PROXY_TCP_MAX; i++) {
		struct tcp_conn *c = &p->conns[i];

		if (c->state == CONN_FREE || now_ms < c->deadline_ms)
			continue;
		if (c->state == CONN_READ || c->state == CONN_WRITE) {
			conn_close(c); /* idle, or a client that stopped reading */
			continue;
		}
		p->stats.upstream_timeouts++;
		if (log_ratelimit(&p->rl_upstream, now_ms))
			log_warn("network '%s': DNS upstream %s did not answer over TCP within %u "
				 "ms, "
				 "%s",
				 p->network, sa_text(&p->up[c->upstream], a, sizeof(a)),
				 DNS_PROXY_UPSTREAM_TIMEOUT_MS,
				 c->tries < TRIES_MAX ? "retrying" : "answering SERVFAIL");
		conn_forward(p, c, now_ms);
	}
}

int dns_proxy_fd(const struct dns_proxy *p)
{
	return p->epfd;
}

void dns_proxy_get_stats(const struct dns_proxy *p, struct dns_proxy_stats *ret)
{
	*ret = p->stats;
}

/* A listening socket of 'type' on 'sin'; '*ret_fd' is set even on failure, for cleanup. */
static int listen_socket(int type, const struct sockaddr_in *sin, int *ret_fd)
{
	int one = 1, fd;

	fd = socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	*ret_fd = fd;
	if (fd < 0)
		return -errno;
	/* FREEBIND: the host adapter may get its address after the proxy starts. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof(one)) ||
	    bind(fd, (const struct sockaddr *)sin, sizeof(*sin)))
		return -errno;
	if (type == SOCK_STREAM && listen(fd, (int)DNS_PROXY_TCP_MAX))
		return -errno;
	return 0;
}

/* The unconnected upstream UDP socket of 'family', on an ephemeral port. */
static int upstream_socket(int family, int *ret_fd)
{
	int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	*ret_fd = fd;
	return fd < 0 ? -errno : 0;
}

static int check_conf(const struct dns_proxy_conf *conf, uint16_t port)
{
	if (conf->n_upstreams > DNS_PROXY_UPSTREAMS_MAX || (conf->n_upstreams && !conf->upstreams))
		return -EINVAL;
	if (conf->domain && strlen(conf->domain) > DNS_NAME_MAX)
		return -EINVAL;
	for (unsigned i = 0; i < conf->n_upstreams; i++) {
		const struct sockaddr_storage *up = &conf->upstreams[i];
		const struct sockaddr_in *sin = (const void *)up;

		if (up->ss_family != AF_INET && up->ss_family != AF_INET6)
			return -EINVAL;
		/* Forwarding to ourselves would bounce each query until the table is full. */
		if (up->ss_family == AF_INET && sin->sin_addr.s_addr == conf->listen_be &&
		    ntohs(sin->sin_port) == port)
			return -ELOOP;
	}
	return 0;
}

int dns_proxy_new(struct dns_proxy **ret, const struct dns_proxy_conf *conf)
{
	uint16_t port = conf->port ? conf->port : DNS_PROXY_PORT;
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_port = htons(port),
				   .sin_addr.s_addr = conf->listen_be };
	struct dns_proxy *p;
	int r;

	r = check_conf(conf, port);
	if (r)
		return r;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->epfd = p->udp_fd = p->tcp_fd = p->up4_fd = p->up6_fd = -1;
	p->udp = calloc(DNS_PROXY_INFLIGHT_MAX, sizeof(*p->udp));
	p->free_udp = calloc(DNS_PROXY_INFLIGHT_MAX, sizeof(*p->free_udp));
	p->id_slot = calloc(65536, sizeof(*p->id_slot));
	p->conns = calloc(DNS_PROXY_TCP_MAX, sizeof(*p->conns));
	p->rbufs = calloc(DNS_PROXY_TCP_MAX, 2 + DNS_MSG_MAX);
	if (!p->udp || !p->free_udp || !p->id_slot || !p->conns || !p->rbufs) {
		r = -ENOMEM;
		goto fail;
	}
	for (unsigned i = 0; i < DNS_PROXY_INFLIGHT_MAX; i++)
		p->free_udp[i] = (uint16_t)(DNS_PROXY_INFLIGHT_MAX - 1 - i);
	p->n_free_udp = DNS_PROXY_INFLIGHT_MAX;
	for (unsigned i = 0; i < DNS_PROXY_TCP_MAX; i++) {
		p->conns[i].fd = p->conns[i].up_fd = -1;
		p->conns[i].r = p->rbufs + (size_t)i * (2 + DNS_MSG_MAX);
	}
	snprintf(p->network, sizeof(p->network), "%s", conf->network ? conf->network : "");
	for (const char *s = conf->domain ? conf->domain : ""; *s; s++)
		p->domain[p->domain_len++] = (*s >= 'A' && *s <= 'Z') ? (char)(*s - 'A' + 'a') : *s;
	while (p->domain_len && p->domain[p->domain_len - 1] == '.')
		p->domain[--p->domain_len] = '\0'; /* "lab.internal." names the same domain */
	p->lookup = conf->lookup;
	p->lookup_ctx = conf->lookup_ctx;
	p->n_up = conf->n_upstreams;
	if (p->n_up)
		memcpy(p->up, conf->upstreams, p->n_up * sizeof(*p->up));
	p->rnd_pos = sizeof(p->rnd);
	p->rnd_state = (uint64_t)(uintptr_t)p ^ ((uint64_t)getpid() << 32);

	p->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (p->epfd < 0) {
		r = -errno;
		goto fail;
	}
	r = listen_socket(SOCK_DGRAM, &sin, &p->udp_fd);
	if (!r)
		r = listen_socket(SOCK_STREAM, &sin, &p->tcp_fd);
	if (!r)
		r = ep_add(p, p->udp_fd, EPOLLIN, tag(TAG_UDP_LISTEN, 0, 0));
	if (!r)
		r = ep_add(p, p->tcp_fd, EPOLLIN, tag(TAG_TCP_LISTEN, 0, 0));
	for (unsigned i = 0; i < p->n_up && !r; i++) {
		if (p->up[i].ss_family == AF_INET && p->up4_fd < 0) {
			r = upstream_socket(AF_INET, &p->up4_fd);
			if (!r)
				r = ep_add(p, p->up4_fd, EPOLLIN, tag(TAG_UP4, 0, 0));
		} else if (p->up[i].ss_family == AF_INET6 && p->up6_fd < 0) {
			r = upstream_socket(AF_INET6, &p->up6_fd);
			if (!r)
				r = ep_add(p, p->up6_fd, EPOLLIN, tag(TAG_UP6, 0, 0));
		}
	}
	if (r)
		goto fail;
	*ret = p;
	return 0;
fail:
	dns_proxy_free(p);
	return r;
}

void dns_proxy_free(struct dns_proxy *p)
{
	if (!p)
		return;
	for (unsigned i = 0; p->conns && i < DNS_PROXY_TCP_MAX; i++)
		if (p->conns[i].state != CONN_FREE)
			conn_close(&p->conns[i]);
	if (p->udp_fd >= 0)
		close(p->udp_fd);
	if (p->tcp_fd >= 0)
		close(p->tcp_fd);
	if (p->up4_fd >= 0)
		close(p->up4_fd);
	if (p->up6_fd >= 0)
		close(p->up6_fd);
	if (p->epfd >= 0)
		close(p->epfd);
	free(p->rbufs);
	free(p->conns);
	free(p->id_slot);
	free(p->free_udp);
	free(p->udp);
	free(p);
}

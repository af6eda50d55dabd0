/* SPDX-License-Identifier: MIT */
/*
 * The NBD server behind `vhd export` (see vhd_export.h). Called by
 * vhd_export_tool.c; calls libvhd for the images, nbd_proto.c for every
 * byte on the wire, and the socket API.
 *
 * Theory of operation.
 *
 * Threads. The caller's thread runs the accept loop (vhd_export_run()): it
 * polls the listening socket, the caller's stop fd and an eventfd on which
 * connection threads announce that they ended. Each accepted client gets a
 * thread that owns the connection's buffers and protocol state; the accept
 * loop alone owns the list of connections and closes a connection's socket
 * only after joining its thread, so a shutdown() from the loop can never hit
 * a reused descriptor. libvhd keeps per-image state (the cached bitmap, the
 * file size) without locks, so every call on an image holds that image's
 * mutex: requests on one image run one at a time, requests on different
 * images in parallel.
 *
 * Batching. A connection reads as many bytes as the socket holds into a
 * 256 KiB buffer, answers every complete request found there in order, and
 * queues the replies in an output buffer that is sent when it passes
 * 256 KiB or when the connection has to wait for more input. A client that
 * keeps 16 requests in flight (QEMU's NBD driver does) thus costs one
 * recv() and one send() per batch rather than per request. Read data is
 * read by libvhd straight into the output buffer after the reply header.
 *
 * Shutdown. On the stop fd the loop closes the listening socket and shuts
 * down the receiving side of every connection: each thread answers what it
 * has already read, sees end of input and ends. A thread still blocked
 * sending to a client that does not read after a grace period has its
 * socket shut down entirely. Then every image is flushed.
 *
 * Protocol choices. Export names are compared as bytes; the empty name is
 * the first export. Transmission flags: FLUSH, FUA and MULTI_CONN always
 * (every connection shares the image and flush syncs its file), TRIM and
 * WRITE_ZEROES on writable exports, DF once structured replies are on
 * (every read is answered by one chunk). base:allocation reports a range
 * as a hole (HOLE|ZERO) when no layer of the chain holds its sectors, by
 * sector bitmap, so blocks trimmed whole show up as holes too.
 */
#include "vhd-attach/vhd_export.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "vhd-attach/nbd_proto.h"
#include "vhd-attach/vhd.h"

#define HS_FLAGS      (NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES)
#define IN_CAP	      (256u * 1024) /* receive buffer: batches of requests, small writes */
#define OUT_FLUSH     (256u * 1024) /* queued reply bytes that trigger a send */
#define OPT_MAX	      (64u * 1024)  /* option data accepted; longer options are skipped */
#define META_ID_ALLOC 1u	    /* our context id of base:allocation */
#define MAX_EXTENTS   64	    /* descriptors in one block status reply */
#define STATUS_STEPS  4096	    /* layer lookups per block status request */
#define PREF_BLOCK    4096u	    /* preferred request granularity: one page */
#define GRACE_MS      5000	    /* shutdown: time given to connections to finish */
#define PEER_LEN      64

struct file_id {
	dev_t dev;
	ino_t ino;
};

struct image {
	char *name;	       /* export name, owned */
	size_t name_len;       /* bytes */
	struct vhd *v;	       /* owned */
	uint64_t size;	       /* virtual bytes */
	pthread_mutex_t lock;  /* held around every libvhd call on 'v' */
	uint64_t rl_io;	       /* rate limit of I/O error lines, under 'lock' */
	struct file_id *files; /* identities of the chain's files, top first; owned */
	unsigned n_files;
};

struct conn {
	struct vhd_export *srv; /* kept */
	int fd;			/* owned; closed by the accept loop after the join */
	pthread_t thread;
	atomic_bool done;    /* the thread has ended and may be joined */
	struct conn *next;   /* in srv->conns, owned by the accept loop */
	char peer[PEER_LEN]; /* for log lines */
	/* Negotiated state. */
	bool no_zeroes;	    /* client set NBD_FLAG_C_NO_ZEROES */
	bool structured;    /* structured replies on */
	struct image *meta; /* export base:allocation was selected for, or NULL */
	struct image *img;  /* export in transmission, borrowed from srv */
	uint16_t tflags;    /* transmission flags sent */
	/* Buffers, owned. */
	uint8_t *in;	/* IN_CAP bytes */
	size_t in_off;	/* start of unconsumed input */
	size_t in_len;	/* unconsumed input bytes */
	uint8_t *out;	/* queued replies */
	size_t out_len; /* bytes queued */
	size_t out_cap; /* bytes allocated */
	uint8_t *big;	/* payloads of writes larger than 'in', VHD_EXPORT_MAX_REQUEST */
};

struct vhd_export {
	bool writable;
	struct image *img[VHD_EXPORT_MAX_EXPORTS]; /* owned */
	unsigned n_img;
	int lfd;		/* listening socket, or -1 */
	char *unix_path;	/* Unix socket we made, owned, or NULL */
	struct file_id unix_id; /* its identity, to remove only our own */
	int reap_fd;		/* eventfd: a connection thread ended */
	struct conn *conns;	/* owned by the accept loop's thread */
	unsigned n_conns;
	pthread_mutex_t log_lock; /* guards 'rl_conn' */
	uint64_t rl_conn;	  /* rate limit of per-connection problem lines */
};

/* One line per problem with clients, at most one per second for the whole server. */
static bool srv_may_log(struct vhd_export *s)
{
	bool ok;

	pthread_mutex_lock(&s->log_lock);
	ok = log_ratelimit(&s->rl_conn, clock_mono_ms());
	pthread_mutex_unlock(&s->log_lock);
	return ok;
}

static bool conn_may_log(struct conn *c)
{
	return srv_may_log(c->srv);
}

/* ---- images ---- */

static void image_free(struct image *im)
{
	if (!im)
		return;
	vhd_free(im->v);
	pthread_mutex_destroy(&im->lock);
	free(im->files);
	free(im->name);
	free(im);
}

static int chain_ids(struct vhd *v, struct file_id **ret, unsigned *ret_n)
{
	struct file_id *ids = calloc(VHD_MAX_CHAIN, sizeof(*ids));
	unsigned n = 0;
	struct stat st;

	if (!ids)
		return -ENOMEM;
	for (struct vhd *l = v; l && n < VHD_MAX_CHAIN; l = vhd_parent(l)) {
		if (stat(vhd_path(l), &st) < 0) {
			int r = -errno;

			free(ids);
			return r;
		}
		ids[n].dev = st.st_dev;
		ids[n].ino = st.st_ino;
		n++;
	}
	*ret = ids;
	*ret_n = n;
	return 0;
}

static bool id_eq(const struct file_id *a, const struct file_id *b)
{
	return a->dev == b->dev && a->ino == b->ino;
}

static bool in_chain(const struct image *im, const struct file_id *id)
{
	for (unsigned i = 0; i < im->n_files; i++)
		if (id_eq(&im->files[i], id))
			return true;
	return false;
}

static struct image *find_image(struct vhd_export *s, const uint8_t *name, size_t len)
{
	if (len == 0)
		return s->n_img ? s->img[0] : NULL;
	for (unsigned i = 0; i < s->n_img; i++)
		if (s->img[i]->name_len == len && memcmp(s->img[i]->name, name, len) == 0)
			return s->img[i];
	return NULL;
}

int vhd_export_new(struct vhd_export **ret, bool writable)
{
	struct vhd_export *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->writable = writable;
	s->lfd = -1;
	pthread_mutex_init(&s->log_lock, NULL);
	s->reap_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->reap_fd < 0) {
		int r = -errno;

		pthread_mutex_destroy(&s->log_lock);
		free(s);
		return r;
	}
	*ret = s;
	return 0;
}

int vhd_export_add(struct vhd_export *s, const char *name, struct vhd *v)
{
	size_t len = strlen(name);
	struct image *im;
	int r;

	if (len == 0 || len > NBD_STRING_MAX)
		return -EINVAL;
	if (find_image(s, (const uint8_t *)name, len))
		return -EEXIST;
	if (s->n_img == VHD_EXPORT_MAX_EXPORTS)
		return -E2BIG;
	im = calloc(1, sizeof(*im));
	if (!im)
		return -ENOMEM;
	im->name = strdup(name);
	if (!im->name) {
		free(im);
		return -ENOMEM;
	}
	im->name_len = len;
	r = chain_ids(v, &im->files, &im->n_files);
	if (r < 0)
		goto fail;
	if (s->writable) {
		/* Probe for write access: libvhd refuses writes with -EBADF when not RDWR. */
		if (vhd_pwrite(v, NULL, 0, 0) == -EBADF) {
			r = -EBADF;
			goto fail;
		}
		for (unsigned i = 0; i < s->n_img; i++) {
			if (in_chain(s->img[i], &im->files[0]) ||
			    in_chain(im, &s->img[i]->files[0])) {
				r = -EBUSY;
				goto fail;
			}
		}
	}
	pthread_mutex_init(&im->lock, NULL);
	im->v = v;
	im->size = vhd_size(v);
	s->img[s->n_img++] = im;
	return 0;
fail:
	free(im->files);
	free(im->name);
	free(im);
	return r;
}

/* ---- connection I/O ---- */

static int conn_flush(struct conn *c)
{
	size_t sent = 0;

	while (sent < c->out_len) {
		ssize_t n = send(c->fd, c->out + sent, c->out_len - sent, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		sent += (size_t)n;
	}
	c->out_len = 0;
	return 0;
}

/* Room for 'n' more queued bytes; returns where they go, or NULL (out of memory). */
static uint8_t *conn_reserve(struct conn *c, size_t n)
{
	if (c->out_cap - c->out_len < n) {
		size_t cap = c->out_cap ? c->out_cap : 64 * 1024;
		uint8_t *p;

		while (cap - c->out_len < n)
			cap *= 2;
		p = realloc(c->out, cap);
		if (!p)
			return NULL;
		c->out = p;
		c->out_cap = cap;
	}
	return c->out + c->out_len;
}

static int conn_put(struct conn *c, const void *p, size_t n)
{
	uint8_t *dst = conn_reserve(c, n);

	if (!dst)
		return -ENOMEM;
	memcpy(dst, p, n);
	c->out_len += n;
	return 0;
}

/*
 * Makes 'need' (<= IN_CAP) bytes of input available at c->in + c->in_off,
 * sending queued replies before it may block. Returns 0, -ENODATA when the
 * client closed with nothing pending, -ECONNRESET when it closed in the
 * middle of a message, or the socket's -errno.
 */
static int conn_fill(struct conn *c, size_t need)
{
	while (c->in_len < need) {
		ssize_t n;
		int r;

		if (c->out_len) {
			r = conn_flush(c);
			if (r < 0)
				return r;
		}
		if (c->in_len == 0)
			c->in_off = 0;
		else if (IN_CAP - c->in_off - c->in_len < IN_CAP / 4 || c->in_off + need > IN_CAP) {
			memmove(c->in, c->in + c->in_off, c->in_len);
			c->in_off = 0;
		}
		n = recv(c->fd, c->in + c->in_off + c->in_len, IN_CAP - c->in_off - c->in_len, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return c->in_len ? -ECONNRESET : -ENODATA;
		c->in_len += (size_t)n;
	}
	return 0;
}

/* Consumes 'n' available input bytes; they stay readable until the next conn_fill(). */
static const uint8_t *conn_take(struct conn *c, size_t n)
{
	const uint8_t *p = c->in + c->in_off;

	c->in_off += n;
	c->in_len -= n;
	return p;
}

/* Reads and drops 'len' bytes of input. */
static int conn_skip(struct conn *c, uint64_t len)
{
	while (len) {
		size_t n = len < IN_CAP ? (size_t)len : IN_CAP;
		int r = conn_fill(c, n);

		if (r < 0)
			return r;
		conn_take(c, n);
		len -= n;
	}
	return 0;
}

/* The 'len' bytes of a write's payload: in the input buffer, or read into c->big. */
static int conn_payload(struct conn *c, uint32_t len, const uint8_t **ret)
{
	size_t have, got;
	int r;

	if (len <= IN_CAP) {
		r = conn_fill(c, len);
		if (r < 0)
			return r;
		*ret = conn_take(c, len);
		return 0;
	}
	if (!c->big) {
		c->big = malloc(VHD_EXPORT_MAX_REQUEST);
		if (!c->big)
			return -ENOMEM;
	}
	have = c->in_len < len ? c->in_len : len;
	memcpy(c->big, conn_take(c, have), have);
	got = have;
	if (got < len && c->out_len) {
		r = conn_flush(c);
		if (r < 0)
			return r;
	}
	while (got < len) {
		ssize_t n = recv(c->fd, c->big + got, len - got, MSG_WAITALL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -ECONNRESET;
		got += (size_t)n;
	}
	*ret = c->big;
	return 0;
}

/* ---- handshake ---- */

static uint16_t export_flags(const struct conn *c)
{
	uint16_t f = NBD_FLAG_HAS_FLAGS | NBD_FLAG_SEND_FLUSH | NBD_FLAG_SEND_FUA |
		     NBD_FLAG_CAN_MULTI_CONN;

	if (c->srv->writable)
		f |= NBD_FLAG_SEND_TRIM | NBD_FLAG_SEND_WRITE_ZEROES;
	else
		f |= NBD_FLAG_READ_ONLY;
	if (c->structured)
		f |= NBD_FLAG_SEND_DF;
	return f;
}

#define REP_CAP (NBD_REP_HDR_LEN + 2 * NBD_STRING_MAX + 64) /* room for any option reply */

/* Room for one option reply; the nbd_proto_rep_*_build() result goes to rep_commit(). */
static uint8_t *rep_room(struct conn *c)
{
	return conn_reserve(c, REP_CAP);
}

static int rep_commit(struct conn *c, int n)
{
	if (n < 0)
		return n;
	c->out_len += (size_t)n;
	return 0;
}

static int rep_ack(struct conn *c, uint32_t option)
{
	uint8_t h[NBD_REP_HDR_LEN];

	nbd_proto_rep_build(h, option, NBD_REP_ACK, 0);
	return conn_put(c, h, sizeof(h));
}

static int rep_err(struct conn *c, uint32_t option, uint32_t type, const char *msg)
{
	uint8_t *dst = rep_room(c);

	if (!dst)
		return -ENOMEM;
	return rep_commit(c, nbd_proto_rep_err_build(dst, REP_CAP, option, type, msg));
}

/* Copies a wire string for a log line: printable ASCII only, capped. */
static void fmt_name(char *out, size_t cap, const uint8_t *p, size_t len)
{
	size_t i, o = 0;

	for (i = 0; i < len && o + 5 < cap; i++)
		out[o++] = p[i] >= 0x20 && p[i] < 0x7F && p[i] != '\'' ? (char)p[i] : '?';
	if (i < len && o + 4 <= cap) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

static int opt_list(struct conn *c, const struct nbd_opt *o)
{
	int r;

	if (o->len != 0)
		return rep_err(c, o->option, NBD_REP_ERR_INVALID, "NBD_OPT_LIST takes no data");
	for (unsigned i = 0; i < c->srv->n_img; i++) {
		const struct image *im = c->srv->img[i];
		uint8_t *dst = rep_room(c);

		if (!dst)
			return -ENOMEM;
		r = rep_commit(c, nbd_proto_rep_server_build(dst, REP_CAP, im->name,
							     (uint32_t)im->name_len));
		if (r < 0)
			return r;
	}
	return rep_ack(c, o->option);
}

/* NBD_OPT_INFO and NBD_OPT_GO; returns 1 when transmission starts. */
static int opt_go(struct conn *c, const struct nbd_opt *o, const uint8_t *data)
{
	struct nbd_opt_go go;
	struct image *im;
	char name[80], msg[128];
	uint8_t *dst;
	int r;

	if (nbd_proto_opt_go_parse(data, o->len, &go) < 0)
		return rep_err(c, o->option, NBD_REP_ERR_INVALID, "malformed option data");
	im = find_image(c->srv, go.name, go.name_len);
	if (!im) {
		fmt_name(name, sizeof(name), go.name, go.name_len);
		snprintf(msg, sizeof(msg), "no export named '%s'", name);
		log_debug("export: client %s: %s", c->peer, msg);
		return rep_err(c, o->option, NBD_REP_ERR_UNKNOWN, msg);
	}
	if (o->option == NBD_OPT_GO && c->meta != im)
		c->meta = NULL; /* contexts were chosen for another export */
	c->tflags = export_flags(c);
	dst = rep_room(c);
	if (!dst)
		return -ENOMEM;
	r = rep_commit(
		c, nbd_proto_rep_info_export_build(dst, REP_CAP, o->option, im->size, c->tflags));
	if (r < 0)
		return r;
	dst = rep_room(c);
	if (!dst)
		return -ENOMEM;
	/* Byte granularity: libvhd read-modify-writes partial sectors itself. */
	r = rep_commit(c, nbd_proto_rep_info_block_size_build(dst, REP_CAP, o->option, 1,
							      PREF_BLOCK, VHD_EXPORT_MAX_REQUEST));
	if (r < 0)
		return r;
	r = rep_ack(c, o->option);
	if (r < 0 || o->option == NBD_OPT_INFO)
		return r;
	c->img = im;
	return 1;
}

static int opt_meta(struct conn *c, const struct nbd_opt *o, const uint8_t *data)
{
	bool list = o->option == NBD_OPT_LIST_META_CONTEXT, alloc = false;
	struct nbd_opt_meta *m;
	struct image *im;
	int r;

	if (!c->structured)
		return rep_err(c, o->option, NBD_REP_ERR_INVALID,
			       "structured replies must be negotiated first");
	m = malloc(sizeof(*m)); /* 1 KiB of string references: off the thread's stack */
	if (!m)
		return -ENOMEM;
	r = nbd_proto_opt_meta_parse(data, o->len, m);
	if (r == -E2BIG) {
		r = rep_err(c, o->option, NBD_REP_ERR_TOO_BIG, "too many queries");
		goto out;
	}
	if (r < 0) {
		r = rep_err(c, o->option, NBD_REP_ERR_INVALID, "malformed option data");
		goto out;
	}
	im = find_image(c->srv, m->name.p, m->name.len);
	if (!im) {
		r = rep_err(c, o->option, NBD_REP_ERR_UNKNOWN, "no such export");
		goto out;
	}
	/* An empty list query asks for every context; an empty set selects none. */
	alloc = list && m->n_queries == 0;
	for (uint32_t i = 0; i < m->n_queries; i++)
		if (nbd_proto_meta_selects_alloc(&m->queries[i], list))
			alloc = true;
	if (alloc) {
		uint8_t *dst = rep_room(c);

		r = -ENOMEM;
		if (!dst)
			goto out;
		/* Context ids in list replies are reserved and sent as zero. */
		r = rep_commit(c, nbd_proto_rep_meta_build(dst, REP_CAP, o->option,
							   list ? 0 : META_ID_ALLOC,
							   NBD_META_BASE_ALLOCATION));
		if (r < 0)
			goto out;
	}
	if (!list)
		c->meta = alloc ? im : NULL;
	r = rep_ack(c, o->option);
out:
	free(m);
	return r;
}

/*
 * Answers one option. Returns 0 to go on haggling, 1 to enter transmission,
 * or a negative errno to close the connection.
 */
static int handle_option(struct conn *c, const struct nbd_opt *o, const uint8_t *data)
{
	int r;

	switch (o->option) {
	case NBD_OPT_EXPORT_NAME: {
		struct image *im = find_image(c->srv, data, o->len);
		uint8_t *dst;
		char name[80];

		if (!im) {
			/* This option has no error reply: the protocol says to close. */
			fmt_name(name, sizeof(name), data, o->len);
			log_debug("export: client %s: no export named '%s', closing", c->peer,
				  name);
			return -ENOENT;
		}
		if (c->meta != im)
			c->meta = NULL; /* contexts were chosen for another export */
		c->img = im;
		c->tflags = export_flags(c);
		dst = conn_reserve(c, NBD_EXPORT_NAME_REPLY_LEN);
		if (!dst)
			return -ENOMEM;
		r = nbd_proto_export_name_reply_build(dst, NBD_EXPORT_NAME_REPLY_LEN, im->size,
						      c->tflags, c->no_zeroes);
		if (r < 0)
			return r;
		c->out_len += (size_t)r;
		return 1;
	}
	case NBD_OPT_ABORT:
		r = rep_ack(c, o->option);
		return r < 0 ? r : -ECONNABORTED;
	case NBD_OPT_LIST:
		return opt_list(c, o);
	case NBD_OPT_INFO:
	case NBD_OPT_GO:
		return opt_go(c, o, data);
	case NBD_OPT_STRUCTURED_REPLY:
		if (o->len != 0)
			return rep_err(c, o->option, NBD_REP_ERR_INVALID,
				       "NBD_OPT_STRUCTURED_REPLY takes no data");
		c->structured = true;
		return rep_ack(c, o->option);
	case NBD_OPT_LIST_META_CONTEXT:
	case NBD_OPT_SET_META_CONTEXT:
		return opt_meta(c, o, data);
	default:
		/* NBD_OPT_STARTTLS included: this server does not do TLS. */
		return rep_err(c, o->option, NBD_REP_ERR_UNSUP, "");
	}
}

/* Greeting and option haggling; returns 0 in transmission, or a negative errno to close. */
static int conn_handshake(struct conn *c)
{
	uint8_t g[NBD_GREETING_LEN];
	uint32_t cflags;
	int r;

	nbd_proto_greeting_build(g, HS_FLAGS);
	r = conn_put(c, g, sizeof(g));
	if (r < 0)
		return r;
	r = conn_fill(c, NBD_CLIENT_FLAGS_LEN);
	if (r < 0)
		return r;
	if (nbd_proto_client_flags_parse(c->in + c->in_off, c->in_len, HS_FLAGS, &cflags) < 0) {
		if (conn_may_log(c))
			log_warn("export: client %s: unknown client flags, closing", c->peer);
		return -EBADMSG;
	}
	conn_take(c, NBD_CLIENT_FLAGS_LEN);
	c->no_zeroes = cflags & NBD_FLAG_C_NO_ZEROES;
	for (;;) {
		struct nbd_opt o;

		r = conn_fill(c, NBD_OPT_HDR_LEN);
		if (r < 0)
			return r;
		if (nbd_proto_opt_parse(c->in + c->in_off, c->in_len, &o) < 0) {
			if (conn_may_log(c))
				log_warn("export: client %s: bad option magic, closing", c->peer);
			return -EBADMSG;
		}
		conn_take(c, NBD_OPT_HDR_LEN);
		if (o.len > OPT_MAX) {
			if (o.option == NBD_OPT_EXPORT_NAME)
				return -ENOENT; /* no name is that long, and no error reply exists
						 */
			r = conn_skip(c, o.len);
			if (r == 0)
				r = rep_err(c, o.option, NBD_REP_ERR_TOO_BIG,
					    "option data too long");
		} else {
			r = conn_fill(c, o.len);
			if (r < 0)
				return r;
			r = handle_option(c, &o, conn_take(c, o.len));
		}
		if (r < 0)
			return r;
		if (r == 1)
			return 0;
	}
}

/* ---- transmission ---- */

static int reply_ok(struct conn *c, uint64_t cookie)
{
	uint8_t h[NBD_SIMPLE_REPLY_LEN];

	nbd_proto_simple_reply_build(h, 0, cookie);
	return conn_put(c, h, sizeof(h));
}

/* An error reply: a structured error chunk with 'msg' when negotiated, else a simple one. */
static int reply_err(struct conn *c, uint64_t cookie, uint32_t err, const char *msg)
{
	if (c->structured) {
		size_t cap = NBD_CHUNK_HDR_LEN + 6 + strlen(msg);
		uint8_t *dst = conn_reserve(c, cap);
		int n;

		if (!dst)
			return -ENOMEM;
		n = nbd_proto_error_chunk_build(dst, cap, cookie, err, msg);
		if (n < 0)
			return n;
		c->out_len += (size_t)n;
		return 0;
	} else {
		uint8_t h[NBD_SIMPLE_REPLY_LEN];

		nbd_proto_simple_reply_build(h, err, cookie);
		return conn_put(c, h, sizeof(h));
	}
}

/* Checks a request against the export; returns 0 or the NBD error to answer, with '*msg'. */
static uint32_t check_request(const struct conn *c, const struct nbd_request *rq, const char **msg)
{
	uint16_t allowed = NBD_CMD_FLAG_FUA;
	bool writes = false, out_of_range;
	uint32_t range_err = NBD_EINVAL;

	switch (rq->type) {
	case NBD_CMD_READ:
		if (c->structured)
			allowed |= NBD_CMD_FLAG_DF;
		if (rq->len > VHD_EXPORT_MAX_REQUEST) {
			*msg = "read larger than the server's maximum block size";
			return NBD_EINVAL;
		}
		break;
	case NBD_CMD_WRITE:
		writes = true;
		range_err = NBD_ENOSPC;
		break;
	case NBD_CMD_FLUSH:
		if (rq->flags & ~allowed) {
			*msg = "invalid flags";
			return NBD_EINVAL;
		}
		return 0;
	case NBD_CMD_TRIM:
		writes = true;
		break;
	case NBD_CMD_WRITE_ZEROES:
		allowed |= NBD_CMD_FLAG_NO_HOLE;
		writes = true;
		range_err = NBD_ENOSPC;
		break;
	case NBD_CMD_BLOCK_STATUS:
		allowed |= NBD_CMD_FLAG_REQ_ONE;
		if (!c->meta) {
			*msg = "no metadata context negotiated";
			return NBD_EINVAL;
		}
		if (rq->len == 0) {
			*msg = "empty block status request";
			return NBD_EINVAL;
		}
		break;
	default:
		*msg = "unknown command";
		return NBD_EINVAL;
	}
	if (rq->flags & ~allowed) {
		*msg = "invalid flags";
		return NBD_EINVAL;
	}
	if (writes && !c->srv->writable) {
		*msg = "read-only export";
		return NBD_EPERM;
	}
	out_of_range = rq->offset > c->img->size || rq->len > c->img->size - rq->offset;
	if (out_of_range) {
		*msg = "request beyond the end of the export";
		return range_err;
	}
	return 0;
}

/* A libvhd failure on a client's request: logged at most once a second per image. */
static void log_io(struct image *im, const char *what, const struct nbd_request *rq, int r)
{
	if (log_ratelimit(&im->rl_io, clock_mono_ms()))
		log_warn_errno(r, "export '%s': %s of %" PRIu32 " bytes at %" PRIu64 " failed",
			       im->name, what, rq->len, rq->offset);
}

static int do_read(struct conn *c, const struct nbd_request *rq)
{
	struct image *im = c->img;
	size_t hdr = c->structured ? NBD_OFFSET_DATA_HDR_LEN : NBD_SIMPLE_REPLY_LEN;
	uint8_t *dst;
	int r;

	if (c->structured && rq->len == 0) {
		/* An OFFSET_DATA chunk carries at least one byte: answer with NONE. */
		struct nbd_chunk ch = { .flags = NBD_REPLY_FLAG_DONE,
					.type = NBD_REPLY_TYPE_NONE,
					.cookie = rq->cookie };
		uint8_t h[NBD_CHUNK_HDR_LEN];

		nbd_proto_chunk_build(h, &ch);
		return conn_put(c, h, sizeof(h));
	}
	dst = conn_reserve(c, hdr + rq->len);
	if (!dst)
		return reply_err(c, rq->cookie, NBD_ENOMEM, "out of memory");
	pthread_mutex_lock(&im->lock);
	r = vhd_pread(im->v, dst + hdr, rq->len, rq->offset);
	if (r < 0)
		log_io(im, "read", rq, r);
	pthread_mutex_unlock(&im->lock);
	if (r < 0)
		return reply_err(c, rq->cookie, nbd_proto_errno(r), strerror(-r));
	if (c->structured)
		nbd_proto_offset_data_build(dst, rq->cookie, rq->offset, rq->len);
	else
		nbd_proto_simple_reply_build(dst, 0, rq->cookie);
	c->out_len += hdr + rq->len;
	return 0;
}

/*
 * Allocation status of the chain 'v' from 'off': 1 when some layer stores
 * the first '*ret_len' bytes, 0 when none does (they read as zeros), or a
 * negative errno. Unlike vhd_block_status(), which answers per block, this
 * follows sector bitmaps, so blocks whose sectors were all trimmed count as
 * holes.
 */
static int chain_status(struct vhd *v, uint64_t off, uint64_t len, uint64_t *ret_len)
{
	for (struct vhd *l = v;;) {
		uint64_t n;
		int r;

		/* A parent smaller than its child reads as zeros past its end. */
		if (off >= vhd_size(l))
			break;
		r = vhd_layer_status(l, off, len, &n);
		if (r < 0)
			return r;
		if (r == 1) {
			*ret_len = n;
			return 1;
		}
		len = n;
		if (vhd_footer(l)->type != VHD_TYPE_DIFF)
			break;
		l = vhd_parent(l);
		if (!l)
			return -ENOLINK;
	}
	*ret_len = len;
	return 0;
}

static int do_block_status(struct conn *c, const struct nbd_request *rq)
{
	struct image *im = c->img;
	struct nbd_extent ext[MAX_EXTENTS];
	size_t n = 0, max = (rq->flags & NBD_CMD_FLAG_REQ_ONE) ? 1 : MAX_EXTENTS;
	uint64_t pos = rq->offset, end = rq->offset + rq->len;
	uint8_t *dst;
	int r = 0;

	pthread_mutex_lock(&im->lock);
	for (unsigned step = 0; pos < end && step < STATUS_STEPS; step++) {
		uint64_t run;
		uint32_t flags;

		r = chain_status(im->v, pos, end - pos, &run);
		if (r < 0)
			break;
		flags = r ? 0 : NBD_STATE_HOLE | NBD_STATE_ZERO;
		/* run <= end - pos <= rq->len, so merged lengths fit 32 bits */
		if (n && ext[n - 1].flags == flags) {
			ext[n - 1].len += (uint32_t)run;
		} else {
			if (n == max)
				break;
			ext[n].len = (uint32_t)run;
			ext[n].flags = flags;
			n++;
		}
		pos += run;
		r = 0;
	}
	if (r < 0)
		log_io(im, "block status", rq, r);
	pthread_mutex_unlock(&im->lock);
	if (r < 0)
		return reply_err(c, rq->cookie, nbd_proto_errno(r), strerror(-r));
	dst = conn_reserve(c, NBD_CHUNK_HDR_LEN + 4 + n * NBD_EXTENT_LEN);
	if (!dst)
		return -ENOMEM;
	r = nbd_proto_block_status_build(dst, NBD_CHUNK_HDR_LEN + 4 + n * NBD_EXTENT_LEN,
					 rq->cookie, META_ID_ALLOC, ext, n);
	if (r < 0)
		return r;
	c->out_len += (size_t)r;
	return 0;
}

static int do_modify(struct conn *c, const struct nbd_request *rq, const uint8_t *payload)
{
	struct image *im = c->img;
	const char *what = "flush";
	int r;

	pthread_mutex_lock(&im->lock);
	switch (rq->type) {
	case NBD_CMD_WRITE:
		what = "write";
		r = vhd_pwrite(im->v, payload, rq->len, rq->offset);
		break;
	case NBD_CMD_TRIM:
		what = "trim";
		r = vhd_discard(im->v, rq->offset, rq->len);
		break;
	case NBD_CMD_WRITE_ZEROES:
		/* Without NO_HOLE the client lets us deallocate: vhd_discard() leaves
		 * zeros and frees whole blocks' sectors where it can. */
		what = "write zeroes";
		if (rq->flags & NBD_CMD_FLAG_NO_HOLE) /* zeros that must stay allocated */
			r = vhd_write_zeros(im->v, rq->offset, rq->len);
		else
			r = vhd_discard(im->v, rq->offset, rq->len);
		break;
	default:
		r = 0;
		break;
	}
	if (r == 0 && (rq->type == NBD_CMD_FLUSH || (rq->flags & NBD_CMD_FLAG_FUA)))
		r = vhd_flush(im->v);
	if (r < 0)
		log_io(im, what, rq, r);
	pthread_mutex_unlock(&im->lock);
	if (r < 0)
		return reply_err(c, rq->cookie, nbd_proto_errno(r), strerror(-r));
	return reply_ok(c, rq->cookie);
}

/* Serves requests until the client disconnects; returns 0, or a negative errno to close. */
static int conn_transmit(struct conn *c)
{
	for (;;) {
		struct nbd_request rq;
		const uint8_t *payload = NULL;
		const char *msg = "";
		uint32_t err;
		int r;

		r = conn_fill(c, NBD_REQUEST_LEN);
		if (r == -ENODATA)
			return 0;
		if (r < 0)
			return r;
		if (nbd_proto_request_parse(c->in + c->in_off, c->in_len, &rq) < 0) {
			/* Without a valid header the stream cannot be resynchronised. */
			if (conn_may_log(c))
				log_warn("export: client %s: bad request magic, closing", c->peer);
			return -EBADMSG;
		}
		conn_take(c, NBD_REQUEST_LEN);
		if (rq.type == NBD_CMD_WRITE) {
			if (rq.len > VHD_EXPORT_MAX_REQUEST) {
				if (conn_may_log(c))
					log_warn("export: client %s: write of %" PRIu32
						 " bytes over the %u-byte limit, closing",
						 c->peer, rq.len, VHD_EXPORT_MAX_REQUEST);
				return -E2BIG;
			}
			r = conn_payload(c, rq.len, &payload);
			if (r < 0)
				return r;
		}
		if (rq.type == NBD_CMD_DISC)
			return 0;
		err = check_request(c, &rq, &msg);
		if (err)
			r = reply_err(c, rq.cookie, err, msg);
		else if (rq.type == NBD_CMD_READ)
			r = do_read(c, &rq);
		else if (rq.type == NBD_CMD_BLOCK_STATUS)
			r = do_block_status(c, &rq);
		else
			r = do_modify(c, &rq, payload);
		if (r == 0 && c->out_len >= OUT_FLUSH)
			r = conn_flush(c);
		if (r < 0)
			return r;
	}
}

static void *conn_main(void *arg)
{
	struct conn *c = arg;
	uint64_t one = 1;
	int r;

	r = conn_handshake(c);
	if (r == 0) {
		log_debug("export: client %s: serving '%s'%s", c->peer, c->img->name,
			  c->structured ? " with structured replies" : "");
		r = conn_transmit(c);
	}
	if (r == 0 || r == -ECONNABORTED)
		r = conn_flush(c);
	if (r < 0 && r != -ENODATA && r != -ECONNRESET && r != -EPIPE)
		log_debug_errno(r, "export: client %s: closing", c->peer);
	else
		log_debug("export: client %s: disconnected", c->peer);
	atomic_store(&c->done, true);
	(void)!write(c->srv->reap_fd, &one, sizeof(one));
	return NULL;
}

/* ---- listening and the accept loop ---- */

int vhd_export_listen_unix(struct vhd_export *s, const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	char tmp[sizeof(a.sun_path)];
	struct stat st;
	int fd, r;

	if (s->lfd >= 0)
		return -EALREADY;
	if (strlen(path) >= sizeof(a.sun_path))
		return -ENAMETOOLONG;
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return -EEXIST;
		/* A socket nobody listens on is left over from a server that died. */
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fd < 0)
			return -errno;
		strcpy(a.sun_path, path);
		r = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0 ? 0 : -errno;
		close(fd);
		if (r != -ECONNREFUSED)
			return -EADDRINUSE;
		if (unlink(path) < 0 && errno != ENOENT)
			return -errno;
	}
	/* Bind under a temporary name and rename once listening: the socket file
	 * appears only when connecting to it works. */
	if (snprintf(tmp, sizeof(tmp), "%s.%d.tmp", path, (int)getpid()) >= (int)sizeof(tmp))
		snprintf(tmp, sizeof(tmp), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	strcpy(a.sun_path, tmp);
	(void)unlink(tmp);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	if (listen(fd, SOMAXCONN) < 0 || (strcmp(tmp, path) && rename(tmp, path) < 0) ||
	    stat(path, &st) < 0) {
		r = -errno;
		(void)unlink(tmp);
		close(fd);
		return r;
	}
	s->unix_path = strdup(path);
	if (!s->unix_path) {
		(void)unlink(path);
		close(fd);
		return -ENOMEM;
	}
	s->unix_id.dev = st.st_dev;
	s->unix_id.ino = st.st_ino;
	s->lfd = fd;
	return 0;
}

int vhd_export_listen_tcp(struct vhd_export *s, const char *host, const char *port, char *ret_addr,
			  size_t cap)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *res, *ai;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char h[INET6_ADDRSTRLEN];
	int fd = -1, r = -EADDRNOTAVAIL, one = 1;
	uint16_t p;

	if (s->lfd >= 0)
		return -EALREADY;
	if (getaddrinfo(host, port, &hints, &res) != 0)
		return -EADDRNOTAVAIL;
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0) {
			r = -errno;
			continue;
		}
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, SOMAXCONN) == 0)
			break;
		r = -errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		return r;
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	if (ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)&ss;

		inet_ntop(AF_INET6, &a6->sin6_addr, h, sizeof(h));
		p = ntohs(a6->sin6_port);
		snprintf(ret_addr, cap, "[%s]:%u", h, p);
	} else {
		const struct sockaddr_in *a4 = (const struct sockaddr_in *)&ss;

		inet_ntop(AF_INET, &a4->sin_addr, h, sizeof(h));
		p = ntohs(a4->sin_port);
		snprintf(ret_addr, cap, "%s:%u", h, p);
	}
	s->lfd = fd;
	return 0;
}

static void peer_name(const struct sockaddr_storage *ss, char *out, size_t cap)
{
	char h[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)ss;

		inet_ntop(AF_INET, &a->sin_addr, h, sizeof(h));
		snprintf(out, cap, "%s:%u", h, ntohs(a->sin_port));
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;

		inet_ntop(AF_INET6, &a->sin6_addr, h, sizeof(h));
		snprintf(out, cap, "[%s]:%u", h, ntohs(a->sin6_port));
	} else {
		snprintf(out, cap, "unix");
	}
}

static void conn_free(struct conn *c)
{
	if (!c)
		return;
	if (c->fd >= 0)
		close(c->fd);
	free(c->in);
	free(c->out);
	free(c->big);
	free(c);
}

/* Joins and frees ended connections, or all of them with 'all'. */
static void reap(struct vhd_export *s, bool all)
{
	struct conn **pp = &s->conns;

	while (*pp) {
		struct conn *c = *pp;

		if (!all && !atomic_load(&c->done)) {
			pp = &c->next;
			continue;
		}
		*pp = c->next;
		pthread_join(c->thread, NULL);
		conn_free(c);
		s->n_conns--;
	}
}

/* Accepts one client. Returns 0, or a negative errno that should stop the server. */
static int accept_one(struct vhd_export *s)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct conn *c;
	int fd, one = 1, r;

	fd = accept4(s->lfd, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC);
	if (fd < 0) {
		switch (errno) {
		case EINTR:
		case EAGAIN:
		case ECONNABORTED:
		case EPROTO:
			return 0;
		case EMFILE:
		case ENFILE:
		case ENOBUFS:
		case ENOMEM:
			r = -errno;
			if (srv_may_log(s))
				log_warn_errno(r, "export: cannot accept a client, refusing it");
			/* The client stays queued: wait rather than spin on poll(). */
			(void)poll(NULL, 0, 100);
			return 0;
		default:
			return log_error_errno(-errno, "export: accept failed, stopping");
		}
	}
	if (s->n_conns >= VHD_EXPORT_MAX_CONNS) {
		if (srv_may_log(s))
			log_warn("export: %u clients connected, refusing another",
				 VHD_EXPORT_MAX_CONNS);
		close(fd);
		return 0;
	}
	/* Replies are batched by hand; Nagle would only delay the last one of a batch. */
	if (ss.ss_family != AF_UNIX)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c = calloc(1, sizeof(*c));
	if (!c || !(c->in = malloc(IN_CAP))) {
		free(c);
		close(fd);
		log_warn("export: out of memory, refusing a client");
		return 0;
	}
	c->srv = s;
	c->fd = fd;
	atomic_init(&c->done, false);
	peer_name(&ss, c->peer, sizeof(c->peer));
	r = pthread_create(&c->thread, NULL, conn_main, c);
	if (r != 0) {
		log_warn_errno(-r, "export: cannot start a thread, refusing a client");
		conn_free(c);
		return 0;
	}
	log_debug("export: client %s connected", c->peer);
	c->next = s->conns;
	s->conns = c;
	s->n_conns++;
	return 0;
}

static void drain_eventfd(int fd)
{
	uint64_t v;

	(void)!read(fd, &v, sizeof(v));
}

/* Lets connections end (see the top comment), then joins them all. */
static void stop_connections(struct vhd_export *s)
{
	uint64_t deadline = clock_mono_ms() + GRACE_MS;

	for (struct conn *c = s->conns; c; c = c->next)
		(void)shutdown(c->fd, SHUT_RD);
	reap(s, false);
	while (s->n_conns && clock_mono_ms() < deadline) {
		struct pollfd p = { .fd = s->reap_fd, .events = POLLIN };

		(void)poll(&p, 1, (int)(deadline - clock_mono_ms()));
		drain_eventfd(s->reap_fd);
		reap(s, false);
	}
	if (s->n_conns) {
		log_warn("export: %u client(s) still busy after %d ms, dropping them", s->n_conns,
			 GRACE_MS);
		for (struct conn *c = s->conns; c; c = c->next)
			(void)shutdown(c->fd, SHUT_RDWR);
	}
	reap(s, true);
}

int vhd_export_run(struct vhd_export *s, int stop_fd)
{
	int r = 0;

	if (s->lfd < 0)
		return -EINVAL;
	for (;;) {
		struct pollfd p[3] = {
			{ .fd = s->lfd, .events = POLLIN },
			{ .fd = stop_fd, .events = POLLIN },
			{ .fd = s->reap_fd, .events = POLLIN },
		};

		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			r = log_error_errno(-errno, "export: poll failed, stopping");
			break;
		}
		if (p[1].revents)
			break;
		if (p[2].revents) {
			drain_eventfd(s->reap_fd);
			reap(s, false);
		}
		if (p[0].revents) {
			r = accept_one(s);
			if (r < 0)
				break;
		}
	}
	close(s->lfd);
	s->lfd = -1;
	stop_connections(s);
	for (unsigned i = 0; i < s->n_img; i++) {
		int fr = vhd_flush(s->img[i]->v);

		if (fr < 0) {
			log_error_errno(fr, "export '%s': flush failed, recent writes may be lost",
					s->img[i]->name);
			if (r == 0)
				r = -EIO;
		}
	}
	return r;
}

void vhd_export_free(struct vhd_export *s)
{
	struct stat st;

	if (!s)
		return;
	if (s->conns)
		stop_connections(s);
	if (s->lfd >= 0)
		close(s->lfd);
	if (s->unix_path) {
		/* Remove the socket only if it is still ours (not a newer server's). */
		if (stat(s->unix_path, &st) == 0 && st.st_dev == s->unix_id.dev &&
		    st.st_ino == s->unix_id.ino)
			(void)unlink(s->unix_path);
		free(s->unix_path);
	}
	for (unsigned i = 0; i < s->n_img; i++)
		image_free(s->img[i]);
	close(s->reap_fd);
	pthread_mutex_destroy(&s->log_lock);
	free(s);
}

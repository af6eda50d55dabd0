/* SPDX-License-Identifier: MIT */
/*
 * The lease journal. Called by the endpoint glue (and tests); calls libc file
 * I/O, the byte cursor for reading the file back, and the log module. See
 * dhcp_lease_file.h for the format and the durability argument.
 */
#include "dhcpd/dhcp_lease_file.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "common/cur.h"
#include "common/io.h"
#include "common/log.h"

#define LINE_MAX_LEN 512u
#define HEADER	     "# vswitch dhcpd lease journal v1\n"
#define NONE	     UINT32_MAX
#define US_PER_SEC   1000000ull

struct dhcp_lease_file {
	char *path;		 /* owned */
	char *tmp_path;		 /* owned: path + ".tmp" */
	int fd;			 /* journal, O_APPEND; -1 when closed */
	struct dhcp_lease *recs; /* owned; n_recs used of cap_recs */
	size_t n_recs, cap_recs;
	uint32_t *index; /* owned: open addressing on addr_be, n_index slots */
	size_t n_index;	 /* power of two, >= 2 * cap_recs */
	char *queue;	 /* owned: DHCP_LEASE_FILE_QUEUE_LEN bytes */
	size_t queue_len;
	size_t n_queued;   /* records queued since the last sync */
	size_t n_lines;	   /* record lines in the journal */
	bool need_compact; /* a write failed: the tail may be torn */
	struct dhcp_lease_file_stats stats;
};

/*
 * CRC-32 (IEEE 802.3, reflected 0xEDB88320), zlib's: a compaction checksums
 * every live record, and a bitwise loop made that most of its time.
 */
static uint32_t crc32_ieee(const void *p, size_t len)
{
	return (uint32_t)crc32(0L, p, (uInt)len);
}

static const char *const file_states[DHCP_LEASE_STATE_N] = {
	"free", "offered", "bound", "released", "expired", "declined",
};

/*
 * The line writer below: a compaction formats every live record while the
 * event loop waits, so these replace snprintf(), which took most of that
 * time. Each appends at 'o' and returns the new end; the caller sized the
 * buffer for the longest line.
 */
static char *put_str(char *o, const char *str)
{
	size_t n = strlen(str);

	memcpy(o, str, n);
	return o + n;
}

static char *put_dec(char *o, uint64_t v)
{
	char tmp[20];
	size_t n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		*o++ = tmp[--n];
	return o;
}

static char *put_hex(char *o, uint32_t v, unsigned digits)
{
	static const char hex[] = "0123456789abcdef";

	while (digits--)
		*o++ = hex[(v >> (4 * digits)) & 0xfu];
	return o;
}

size_t dhcp_lease_file_format(const struct dhcp_lease *l, char *buf, size_t cap)
{
	unsigned state = l->state < DHCP_LEASE_STATE_N ? l->state : DHCP_LEASE_FREE;
	const uint8_t *a = (const uint8_t *)&l->addr_be;
	char *o = buf;

	if (cap < LINE_MAX_LEN)
		return 0;
	o = put_str(o, "L ");
	for (int i = 0; i < 4; i++) {
		o = put_dec(o, a[i]);
		*o++ = i < 3 ? '.' : ' ';
	}
	for (int i = 0; i < 6; i++) {
		o = put_hex(o, l->mac[i], 2);
		*o++ = i < 5 ? ':' : ' ';
	}
	o = put_str(o, file_states[state]);
	*o++ = ' ';
	o = put_dec(o, l->expires_us / US_PER_SEC);
	*o++ = ' ';
	for (size_t i = 0; i < l->cid_len && i < DHCP_CLIENT_ID_MAX; i++)
		o = put_hex(o, l->cid[i], 2);
	if (!l->cid_len)
		*o++ = '-';
	*o++ = ' ';
	/* One token whatever the caller put there: no spaces, controls or 8-bit bytes. */
	for (size_t i = 0; i < DHCP_HOSTNAME_MAX - 1 && l->hostname[i]; i++) {
		uint8_t ch = (uint8_t)l->hostname[i];

		*o++ = ch > ' ' && ch < 0x7f ? (char)ch : '-';
	}
	if (!l->hostname[0])
		*o++ = '-';
	*o = ' ';
	o = put_hex(o + 1, crc32_ieee(buf, (size_t)(o - buf)), 8);
	*o++ = '\n';
	*o = '\0';
	return (size_t)(o - buf);
}

/* Splits the next space-separated token off 'c' into 'tok'; -EBADMSG if none. */
static int next_token(struct cur *c, struct cur *tok)
{
	size_t n = 0;

	while (n < c->len && c->p[n] != ' ')
		n++;
	if (!n)
		return -EBADMSG;
	(void)cur_sub(c, n, tok);
	(void)cur_pull(c, c->len ? 1 : 0); /* the separator */
	return 0;
}

/* Copies a token into a NUL-terminated buffer of 'cap' bytes; -EBADMSG if too long. */
static int token_str(const struct cur *tok, char *buf, size_t cap)
{
	if (tok->len >= cap)
		return -EBADMSG;
	memcpy(buf, tok->p, tok->len);
	buf[tok->len] = '\0';
	return 0;
}

static int hex_nibble(uint8_t ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

static int parse_hex(const struct cur *tok, uint8_t *out, size_t n)
{
	if (tok->len != 2 * n)
		return -EBADMSG;
	for (size_t i = 0; i < n; i++) {
		int hi = hex_nibble(tok->p[2 * i]), lo = hex_nibble(tok->p[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -EBADMSG;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

int dhcp_lease_file_parse_line(const char *line, size_t len, struct dhcp_lease *ret)
{
	struct cur c = cur_make(line, len), t;
	struct dhcp_lease l = { 0 };
	char buf[64], *end;
	uint8_t crc_be[4];
	unsigned long long secs;
	size_t body;
	unsigned i;

	/* The CRC is the last 8 characters, after a space. */
	if (len < 10 || len > LINE_MAX_LEN || line[len - 9] != ' ')
		return -EBADMSG;
	body = len - 9;
	t = cur_make(line + body + 1, 8);
	if (parse_hex(&t, crc_be, 4) ||
	    crc32_ieee(line, body) != ((uint32_t)crc_be[0] << 24 | (uint32_t)crc_be[1] << 16 |
				       (uint32_t)crc_be[2] << 8 | crc_be[3]))
		return -EBADMSG;
	c.len = body;
	if (next_token(&c, &t) || t.len != 1 || t.p[0] != 'L')
		return -EBADMSG;
	if (next_token(&c, &t) || token_str(&t, buf, sizeof(buf)) ||
	    inet_pton(AF_INET, buf, &l.addr_be) != 1)
		return -EBADMSG;
	if (next_token(&c, &t) || t.len != 17)
		return -EBADMSG;
	for (i = 0; i < 6; i++) {
		struct cur h = cur_make(t.p + 3 * i, 2);

		if (parse_hex(&h, &l.mac[i], 1) || (i < 5 && t.p[3 * i + 2] != ':'))
			return -EBADMSG;
	}
	if (next_token(&c, &t) || token_str(&t, buf, sizeof(buf)))
		return -EBADMSG;
	for (i = 0; i < DHCP_LEASE_STATE_N && strcmp(buf, file_states[i]); i++)
		;
	if (i != DHCP_LEASE_BOUND && i != DHCP_LEASE_RELEASED && i != DHCP_LEASE_DECLINED)
		return -EBADMSG;
	l.state = (uint8_t)i;
	if (next_token(&c, &t) || token_str(&t, buf, sizeof(buf)) || buf[0] < '0' || buf[0] > '9')
		return -EBADMSG;
	errno = 0;
	secs = strtoull(buf, &end, 10);
	if (*end || errno || secs > UINT64_MAX / US_PER_SEC)
		return -EBADMSG;
	l.expires_us = secs * US_PER_SEC;
	if (next_token(&c, &t))
		return -EBADMSG;
	if (!(t.len == 1 && t.p[0] == '-')) {
		if (t.len % 2 || t.len / 2 < 2 || t.len / 2 > DHCP_CLIENT_ID_MAX ||
		    parse_hex(&t, l.cid, t.len / 2))
			return -EBADMSG;
		l.cid_len = (uint8_t)(t.len / 2);
	}
	if (next_token(&c, &t) || c.len || token_str(&t, l.hostname, sizeof(l.hostname)))
		return -EBADMSG;
	if (!strcmp(l.hostname, "-"))
		l.hostname[0] = '\0';
	l.has_client = l.state != DHCP_LEASE_DECLINED;
	*ret = l;
	return 0;
}

static size_t slot_of(const struct dhcp_lease_file *lf, uint32_t addr_be)
{
	uint32_t h = addr_be; /* mix every byte into the low bits (lowbias32) */

	h ^= h >> 16;
	h *= 0x7feb352du;
	h ^= h >> 15;
	h *= 0x846ca68bu;
	h ^= h >> 16;
	return (size_t)(h & (lf->n_index - 1));
}

static struct dhcp_lease *find_rec(struct dhcp_lease_file *lf, uint32_t addr_be)
{
	for (size_t s = slot_of(lf, addr_be);; s = (s + 1) & (lf->n_index - 1)) {
		if (lf->index[s] == NONE)
			return NULL;
		if (lf->recs[lf->index[s]].addr_be == addr_be)
			return &lf->recs[lf->index[s]];
	}
}

/* Makes room for at least 'want' records (capped); rebuilds the index. */
static int reserve(struct dhcp_lease_file *lf, size_t want)
{
	size_t cap = 64;
	struct dhcp_lease *recs;
	uint32_t *index;

	while (cap < want)
		cap *= 2;
	if (cap > DHCP_LEASE_FILE_RECORDS_MAX)
		cap = DHCP_LEASE_FILE_RECORDS_MAX;
	if (cap < want)
		return -E2BIG;
	if (cap <= lf->cap_recs)
		return 0;
	recs = realloc(lf->recs, cap * sizeof(*recs));
	if (!recs)
		return -ENOMEM;
	lf->recs = recs;
	index = malloc(2 * cap * sizeof(*index));
	if (!index)
		return -ENOMEM;
	free(lf->index);
	lf->index = index;
	lf->n_index = 2 * cap;
	lf->cap_recs = cap;
	memset(index, 0xff, lf->n_index * sizeof(*index));
	for (size_t i = 0; i < lf->n_recs; i++) {
		size_t s = slot_of(lf, lf->recs[i].addr_be);

		while (index[s] != NONE)
			s = (s + 1) & (lf->n_index - 1);
		index[s] = (uint32_t)i;
	}
	return 0;
}

/* Inserts or replaces the record of l->addr_be. */
static int store_rec(struct dhcp_lease_file *lf, const struct dhcp_lease *l)
{
	struct dhcp_lease *r = lf->n_index ? find_rec(lf, l->addr_be) : NULL;
	size_t s;
	int ret;

	if (!r) {
		/* Only past the size hint given at open: rare, off the common path. */
		if (lf->n_recs == lf->cap_recs) {
			ret = reserve(lf, lf->n_recs + 1);
			if (ret < 0)
				return ret;
		}
		s = slot_of(lf, l->addr_be);
		while (lf->index[s] != NONE)
			s = (s + 1) & (lf->n_index - 1);
		lf->index[s] = (uint32_t)lf->n_recs;
		r = &lf->recs[lf->n_recs++];
	}
	*r = *l;
	r->next = 0;
	r->key_hash = 0;
	r->decliner_hash = 0;
	return 0;
}

static int fsync_dir(const char *path)
{
	char *dir = strdup(path), *slash;
	int fd, r = 0;

	if (!dir)
		return -ENOMEM;
	slash = strrchr(dir, '/');
	if (!slash)
		strcpy(dir, ".");
	else if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) < 0)
		r = -errno;
	if (fd >= 0)
		close(fd);
	free(dir);
	return r;
}

int dhcp_lease_file_compact(struct dhcp_lease_file *lf, uint64_t now_us)
{
	char *buf;
	size_t len = sizeof(HEADER) - 1, cap = len + lf->n_recs * LINE_MAX_LEN + 1, k = 0;
	int fd, r;

	buf = malloc(cap);
	if (!buf)
		return log_error_errno(-ENOMEM, "lease file '%s': cannot compact", lf->path);
	memcpy(buf, HEADER, len);
	for (size_t i = 0; i < lf->n_recs; i++) {
		const struct dhcp_lease *l = &lf->recs[i];

		if (l->state == DHCP_LEASE_DECLINED && l->expires_us <= now_us)
			continue;
		len += dhcp_lease_file_format(l, buf + len, LINE_MAX_LEN);
		k++;
	}
	fd = open(lf->tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	r = io_write_all(fd, buf, len);
	if (!r && fsync(fd) < 0)
		r = -errno;
	close(fd);
	if (!r && rename(lf->tmp_path, lf->path) < 0)
		r = -errno;
	if (!r)
		r = fsync_dir(lf->path);
	if (r < 0)
		goto out;
	/* The journal is the new file from now on. */
	fd = open(lf->path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	if (lf->fd >= 0)
		close(lf->fd);
	lf->fd = fd;
	lf->n_lines = k;
	lf->queue_len = 0;
	lf->n_queued = 0;
	lf->need_compact = false;
	lf->stats.n_compactions++;
out:
	free(buf);
	if (r < 0) {
		(void)unlink(lf->tmp_path);
		log_error_errno(r, "lease file '%s': compaction failed, keeping the journal",
				lf->path);
	}
	return r;
}

/* Reads the journal, keeping the last complete record of each address. */
static int load(struct dhcp_lease_file *lf, int fd)
{
	struct stat st;
	char *buf;
	size_t len = 0, start = 0;
	int r = 0;

	if (fstat(fd, &st) < 0)
		return -errno;
	if ((uint64_t)st.st_size > DHCP_LEASE_FILE_BYTES_MAX)
		return -E2BIG;
	buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		return -ENOMEM;
	while (len < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + len, (size_t)st.st_size - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	for (size_t i = 0; i < len && !r; i++) {
		struct dhcp_lease l;
		size_t n = i - start;

		if (buf[i] != '\n')
			continue;
		if (n && buf[start] != '#') {
			if (dhcp_lease_file_parse_line(buf + start, n, &l) == 0) {
				r = store_rec(lf, &l);
				lf->n_lines++;
			} else {
				lf->stats.n_bad_lines++;
			}
		}
		start = i + 1;
	}
	lf->stats.torn_tail = start < len;
out:
	free(buf);
	return r;
}

int dhcp_lease_file_open(struct dhcp_lease_file **ret, const char *path, size_t n_hint,
			 uint64_t now_us)
{
	struct dhcp_lease_file *lf;
	int fd, r;

	lf = calloc(1, sizeof(*lf));
	if (!lf)
		return -ENOMEM;
	lf->fd = -1;
	lf->path = strdup(path);
	lf->queue = malloc(DHCP_LEASE_FILE_QUEUE_LEN);
	if (!lf->path || !lf->queue || asprintf(&lf->tmp_path, "%s.tmp", path) < 0) {
		lf->tmp_path = NULL;
		r = -ENOMEM;
		goto fail;
	}
	r = reserve(lf,
		    n_hint < DHCP_LEASE_FILE_RECORDS_MAX ? n_hint : DHCP_LEASE_FILE_RECORDS_MAX);
	if (r < 0)
		goto fail;
	fd = open(path, O_RDONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		r = log_error_errno(-errno, "lease file '%s': cannot open", path);
		goto fail;
	}
	r = load(lf, fd);
	close(fd);
	if (r < 0) {
		log_error_errno(r, "lease file '%s': cannot read", path);
		goto fail;
	}
	if (lf->stats.n_bad_lines || lf->stats.torn_tail)
		log_warn("lease file '%s': skipped %" PRIu64 " corrupt line(s)%s, kept %zu "
			 "record(s)",
			 path, lf->stats.n_bad_lines,
			 lf->stats.torn_tail ? " and a torn last line" : "", lf->n_recs);
	/* Rewrite at once: appending after a torn tail would glue two lines. */
	r = dhcp_lease_file_compact(lf, now_us);
	if (r < 0)
		goto fail;
	*ret = lf;
	return 0;
fail:
	dhcp_lease_file_free(lf);
	return r;
}

void dhcp_lease_file_free(struct dhcp_lease_file *lf)
{
	if (!lf)
		return;
	if (lf->fd >= 0)
		close(lf->fd);
	free(lf->path);
	free(lf->tmp_path);
	free(lf->recs);
	free(lf->index);
	free(lf->queue);
	free(lf);
}

static int write_queue(struct dhcp_lease_file *lf)
{
	size_t lines = 0;
	int r;

	/* Count what is written, not what was put: put() may write early, and twice counts wrong.
	 */
	for (size_t i = 0; i < lf->queue_len; i++)
		lines += lf->queue[i] == '\n';
	r = io_write_all(lf->fd, lf->queue, lf->queue_len);
	if (r < 0) {
		/* Part of the queue may be in the file: only a rewrite is safe now. */
		lf->need_compact = true;
		return log_error_errno(r, "lease file '%s': write failed", lf->path);
	}
	lf->n_lines += lines;
	lf->queue_len = 0;
	return 0;
}

int dhcp_lease_file_put(void *ctx, const struct dhcp_lease *l)
{
	struct dhcp_lease_file *lf = ctx;
	char line[LINE_MAX_LEN];
	size_t n;
	int r;

	r = store_rec(lf, l);
	if (r < 0)
		return r;
	n = dhcp_lease_file_format(l, line, sizeof(line));
	if (lf->queue_len + n > DHCP_LEASE_FILE_QUEUE_LEN && !lf->need_compact) {
		r = write_queue(lf);
		if (r < 0)
			return r;
	}
	if (lf->queue_len + n <= DHCP_LEASE_FILE_QUEUE_LEN) {
		memcpy(lf->queue + lf->queue_len, line, n);
		lf->queue_len += n;
	}
	/* else: a compaction is due and will write the record from the table. */
	lf->n_queued++;
	lf->stats.n_puts++;
	return 0;
}

bool dhcp_lease_file_pending(const struct dhcp_lease_file *lf)
{
	return lf->n_queued > 0 || lf->need_compact;
}

/*
 * A rewrite is due once the journal holds twice the live records (and 1,024
 * lines), and urgent at eight times: until then it waits for a quiet moment,
 * since it stops the loop for as long as writing every record takes.
 */
static bool compact_due(const struct dhcp_lease_file *lf, size_t factor)
{
	size_t limit = lf->n_recs * factor > 512 * factor ? lf->n_recs * factor : 512 * factor;

	return lf->need_compact || lf->n_lines + lf->n_queued > limit;
}

bool dhcp_lease_file_compact_due(const struct dhcp_lease_file *lf, bool urgent_only)
{
	return compact_due(lf, urgent_only ? 8 : 2);
}

int dhcp_lease_file_write(struct dhcp_lease_file *lf, uint64_t now_us, bool may_compact)
{
	int r;

	if (!dhcp_lease_file_pending(lf))
		return 0;
	if (may_compact && compact_due(lf, 2)) {
		r = dhcp_lease_file_compact(lf, now_us);
		return r < 0 ? r : 1;
	}
	if (lf->need_compact)
		return -EIO; /* the tail may be torn: appending could make a bad line good */
	r = write_queue(lf);
	if (r < 0)
		return r;
	lf->n_queued = 0;
	return 0;
}

int dhcp_lease_file_sync(struct dhcp_lease_file *lf, uint64_t now_us)
{
	int r;

	if (!dhcp_lease_file_pending(lf))
		return 0;
	r = dhcp_lease_file_write(lf, now_us, true);
	if (r != 0)
		return r < 0 ? r : 0; /* a compaction syncs on its own */
	if (fsync(lf->fd) < 0) {
		lf->need_compact = true;
		return log_error_errno(-errno, "lease file '%s': fsync failed", lf->path);
	}
	lf->stats.n_fsyncs++;
	return 0;
}

int dhcp_lease_file_fd(const struct dhcp_lease_file *lf)
{
	return lf->fd;
}

void dhcp_lease_file_sync_failed(struct dhcp_lease_file *lf)
{
	lf->need_compact = true;
}

void dhcp_lease_file_foreach(const struct dhcp_lease_file *lf,
			     void (*fn)(const struct dhcp_lease *l, void *arg), void *arg)
{
	for (size_t i = 0; i < lf->n_recs; i++)
		fn(&lf->recs[i], arg);
}

size_t dhcp_lease_file_count(const struct dhcp_lease_file *lf)
{
	return lf->n_recs;
}

const struct dhcp_lease_file_stats *dhcp_lease_file_stats(const struct dhcp_lease_file *lf)
{
	return &lf->stats;
}

/* SPDX-License-Identifier: MIT */
/*
 * resolv.conf reader (resolv.h). The parser walks the text line by line with
 * hard caps on the text and the line length and converts addresses with
 * inet_pton() only; the loader is the one place here that touches files.
 */
#include "nat/resolv.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/io.h"

static bool is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\f' || ch == '\v';
}

static bool is_loopback4(const struct in_addr *a)
{
	return (ntohl(a->s_addr) >> 24) == 127;
}

static bool is_loopback6(const struct in6_addr *a)
{
	struct in_addr v4;

	if (IN6_IS_ADDR_LOOPBACK(a))
		return true;
	if (!IN6_IS_ADDR_V4MAPPED(a))
		return false;
	memcpy(&v4.s_addr, &a->s6_addr[12], 4);
	return is_loopback4(&v4);
}

/* Parses a numeric zone: 1..2^32-1 in decimal. */
static bool parse_zone(const char *s, uint32_t *ret)
{
	uint64_t v = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > UINT32_MAX)
			return false;
	}
	*ret = (uint32_t)v;
	return v != 0;
}

/* One nameserver address 'word' (NUL-terminated, at most DNS_RESOLV_ADDR_TEXT - 1 chars). */
static void add_server(struct dns_resolv *r, const char *word)
{
	struct sockaddr_storage ss;
	struct in_addr a4;
	struct in6_addr a6;
	char buf[DNS_RESOLV_ADDR_TEXT];
	char *pct;
	uint32_t zone = 0;
	bool loopback;

	memset(&ss, 0, sizeof(ss));
	snprintf(buf, sizeof(buf), "%s", word);
	pct = strchr(buf, '%');
	if (pct) {
		*pct = '\0';
		if (!parse_zone(pct + 1, &zone)) {
			r->n_invalid++;
			return;
		}
	}
	if (!pct && inet_pton(AF_INET, buf, &a4) == 1) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(53);
		sin->sin_addr = a4;
		loopback = is_loopback4(&a4);
	} else if (inet_pton(AF_INET6, buf, &a6) == 1) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(53);
		sin6->sin6_addr = a6;
		sin6->sin6_scope_id = zone;
		loopback = is_loopback6(&a6);
	} else {
		r->n_invalid++;
		return;
	}
	if (loopback) {
		if (!r->n_loopback++)
			snprintf(r->first_loopback, sizeof(r->first_loopback), "%s", word);
		return;
	}
	if (r->n_servers >= DNS_RESOLV_SERVERS_MAX) {
		r->n_over_cap++;
		return;
	}
	r->servers[r->n_servers++] = ss;
}

/* One line 'line' of 'len' bytes, no newline. */
static void parse_line(struct dns_resolv *r, const char *line, size_t len)
{
	static const char kw[] = "nameserver";
	char word[DNS_RESOLV_ADDR_TEXT];
	size_t i = 0, n = 0;

	if (len < sizeof(kw) || memcmp(line, kw, sizeof(kw) - 1) || !is_space(line[sizeof(kw) - 1]))
		return; /* comments ('#', ';'), other keywords and garbage */
	for (i = sizeof(kw); i < len && is_space(line[i]); i++)
		;
	/* glibc ends the address at the first blank, '#' or ';' and ignores the rest. */
	for (; i < len && !is_space(line[i]) && line[i] != '#' && line[i] != ';'; i++) {
		if (n + 1 >= sizeof(word) || !line[i]) {
			r->n_invalid++;
			return;
		}
		word[n++] = line[i];
	}
	if (!n) {
		r->n_invalid++;
		return;
	}
	word[n] = '\0';
	add_server(r, word);
}

int dns_resolv_parse(struct dns_resolv *r, const char *text, size_t len)
{
	size_t start = 0;

	memset(r, 0, sizeof(*r));
	if (len > DNS_RESOLV_TEXT_MAX)
		return -E2BIG;
	while (start < len) {
		const char *nl = memchr(text + start, '\n', len - start);
		size_t line_len = nl ? (size_t)(nl - (text + start)) : len - start;

		if (line_len <= DNS_RESOLV_LINE_MAX)
			parse_line(r, text + start, line_len);
		start += line_len + 1;
	}
	return (int)r->n_servers;
}

/* Reads the whole of 'path' into a new buffer '*ret' ('*ret_len' bytes). 0 or -errno. */
static int read_file(const char *path, char **ret, size_t *ret_len)
{
	size_t len = 0;
	char *buf;
	int fd, r = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	buf = malloc(DNS_RESOLV_TEXT_MAX + 1);
	if (!buf) {
		r = -ENOMEM;
		goto out;
	}
	r = io_read_all(fd, buf, DNS_RESOLV_TEXT_MAX + 1);
	if (r < 0)
		goto out;
	len = (size_t)r;
	r = 0;
	if (len > DNS_RESOLV_TEXT_MAX) {
		r = -E2BIG;
		goto out;
	}
	*ret = buf;
	*ret_len = len;
	buf = NULL;
out:
	free(buf);
	close(fd);
	return r;
}

int dns_resolv_load_from(struct dns_resolv *r, const char *path, const char *fallback)
{
	struct dns_resolv *fb = NULL;
	char *text;
	size_t len;
	int n;

	n = read_file(path, &text, &len);
	if (n < 0) {
		memset(r, 0, sizeof(*r));
		return n;
	}
	n = dns_resolv_parse(r, text, len);
	free(text);
	r->path = path;
	if (n != 0 || !r->n_loopback || !fallback)
		return n;

	/* Only loopback stubs: try the list the stub itself forwards to. */
	fb = malloc(sizeof(*fb));
	if (!fb || read_file(fallback, &text, &len) < 0)
		goto out;
	n = dns_resolv_parse(fb, text, len);
	free(text);
	if (n > 0) {
		memcpy(r->servers, fb->servers, sizeof(r->servers));
		r->n_servers = fb->n_servers;
		r->n_over_cap = fb->n_over_cap;
		r->n_invalid = fb->n_invalid;
		r->used_fallback = true;
		r->path = fallback;
	}
out:
	free(fb);
	return (int)r->n_servers;
}

int dns_resolv_load(struct dns_resolv *r, const char *path)
{
	return dns_resolv_load_from(r, path, DNS_RESOLV_SYSTEMD);
}

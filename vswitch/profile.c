/* SPDX-License-Identifier: MIT */
/*
 * Profile loading (DESIGN.md §4). The daemon calls profile_load_file() or
 * profile_set_add_path() for every -c argument, profile_set_check() on the
 * whole set, and profile_port_from_args() for vswitchctl add-port. Text goes
 * through inih, whose handler fills a struct profile_net key by key with
 * syntax checks only; validation of the whole profile (defaults, addresses
 * against the subnet, DHCP layout, names of interfaces) runs once at the end,
 * so keys and sections may come in any order. Nothing here makes a system
 * call except reading files and directories in the load functions.
 *
 * inih is fed through a line reader of our own (ini_parse_stream) because the
 * Debian build of inih has neither line numbers in the handler nor '#' as an
 * inline comment, continues values on indented lines, and never reports a
 * section without keys. The reader counts lines, strips comments and leading
 * blanks, and handles [section] headers itself; inih splits 'key = value'.
 */
#include "vswitch/profile.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/io.h"

#define PROFILE_FILE_MAX   (1u << 20) /* bytes of a profile file */
#define QUOTE_MAX	   64	      /* characters of a quoted value in messages */
#define QUOTE_BUF	   (QUOTE_MAX * 4 + 4)
#define KEYS_MAX	   18 /* keys of the largest section ([port]) */
#define DHCP_RESERVED	   16 /* first addresses of a range never leased (DESIGN.md §4) */
#define DHCP_RANGE_MIN	   (DHCP_RESERVED + 1)
#define DHCP_RANGE_MAX	   (65536u + DHCP_RESERVED) /* the server's pool holds 65536 leases */
#define LEASE_MIN_SECS	   60
#define FDB_AGING_MIN_SECS 10
#define FDB_AGING_MAX_SECS 1000000 /* the kernel bridge's ceiling */
#define FDB_MAX_MIN	   16
#define FDB_MAX_MAX	   (1u << 20) /* FDB_MAX_ENTRIES of fdb.h */
#define MTU_MIN		   576
#define MTU_MAX		   65535

const char profile_default_text[] = "# The embedded default profile (DESIGN.md §4).\n"
				    "[network]\n"
				    "name = vswitch0\n"
				    "subnet = 192.168.131.0/24\n"
				    "\n"
				    "[host]\n"
				    "address = 192.168.131.1\n"
				    "\n"
				    "[dhcp]\n";

enum sec {
	SEC_NONE,
	SEC_NETWORK,
	SEC_HOST,
	SEC_DHCP,
	SEC_NAT,
	SEC_PORT,
	SEC_VM,
	SEC_N,
};

/* Key indexes: the parse context keeps the line of each key per section. */
enum { NK_NAME, NK_SUBNET, NK_MTU, NK_FDB_AGING, NK_FDB_MAX, NK_PORT_SEC, NK_N };
enum { HK_INTERFACE, HK_ADDRESS, HK_VLAN, HK_N };
enum {
	DK_ENABLED,
	DK_RANGE,
	DK_SERVER,
	DK_GATEWAY,
	DK_DNS,
	DK_WINS,
	DK_DOMAIN,
	DK_LEASE,
	DK_RENEW,
	DK_REBIND,
	DK_RESERVE,
	DK_ROUTE,
	DK_VLAN,
	DK_N
};
enum { XK_UPLINK, XK_FORWARD, XK_DNS_PROXY, XK_RESOLV_CONF, XK_N };
enum {
	PK_TYPE,
	PK_INTERFACE,
	PK_NETNS,
	PK_MAC,
	PK_VLAN,
	PK_TRUNK,
	PK_MIRROR,
	PK_DELAY,
	PK_JITTER,
	PK_LOSS,
	PK_RATE,
	PK_SEC,
	PK_TRUSTED,
	PK_MAX_MACS,
	PK_MACS,
	PK_ADDRESSES,
	PK_DHCP_RATE,
	PK_DHCP_LEASES,
	PK_N
};
enum { VK_PORT, VK_DISK, VK_DISK_MODE, VK_N };
_Static_assert(NK_N <= KEYS_MAX && HK_N <= KEYS_MAX && DK_N <= KEYS_MAX && XK_N <= KEYS_MAX &&
		       PK_N <= KEYS_MAX && VK_N <= KEYS_MAX,
	       "KEYS_MAX below the keys of a section");

/* State of one parse: of a profile text, or of add-port arguments. */
struct ctx {
	const char *label; /* NULL for add-port arguments: no "LABEL:LINE: " prefix */
	const char *pos;   /* reader: start of the next line of the text */
	unsigned line;	   /* line being parsed, from 1 */
	char *err;	   /* caller's message buffer, may be NULL */
	size_t errlen;
	int r;				/* first error, or 0 */
	struct profile_net *net;	/* profile being filled; NULL for add-port */
	enum sec sec;			/* current section */
	void *obj;			/* object of the current section: net, port or vm */
	unsigned *lines;		/* key lines of the current section */
	char renew_text[24];		/* renewal-time as written, for messages */
	char rebind_text[24];		/* rebinding-time as written */
	bool dhcp_enabled;		/* enabled = in [dhcp], default yes */
	unsigned sec_line[SEC_N];	/* header line of each unnamed section, 0 = absent */
	unsigned keys[SEC_N][KEYS_MAX]; /* key lines of the unnamed sections */
	unsigned port_keys[PROFILE_PORTS_MAX][KEYS_MAX];
	unsigned vm_keys[PROFILE_VMS_MAX][KEYS_MAX];
};

struct key {
	const char *name;   /* as written in profiles */
	bool is_repeatable; /* reserve, forward, disk */
	/* Checks 'value' alone and stores it in 'obj'; 0 or -EINVAL/-ENOMEM via fail(). */
	int (*parse)(struct ctx *c, void *obj, const char *key, const char *value);
};

struct section_type {
	const char *name;
	bool is_named;		/* [port NAME], [vm NAME] */
	const struct key *keys; /* indexed by the section's *K_ enum */
	size_t n_keys;
};

/*
 * Copies 's' for a message: printable ASCII kept, the rest as \xNN, capped.
 * The array type makes the compiler refuse a buffer of another size.
 */
static const char *quote(char (*out)[QUOTE_BUF], const char *s)
{
	char *buf = *out;
	size_t o = 0, i;

	for (i = 0; s[i] && i < QUOTE_MAX; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch >= 0x20 && ch < 0x7f && ch != '\\')
			buf[o++] = (char)ch;
		else
			o += (size_t)sprintf(buf + o, "\\x%02x", ch);
	}
	if (s[i]) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
	return buf;
}

__attribute__((format(printf, 3, 0))) static int vfail(struct ctx *c, unsigned line,
						       const char *fmt, va_list ap)
{
	size_t off = 0;
	int n;

	if (c->r < 0)
		return c->r; /* the first error is the one reported */
	c->r = -EINVAL;
	if (!c->err || !c->errlen)
		return c->r;
	c->err[0] = '\0';
	if (c->label) {
		n = snprintf(c->err, c->errlen, "%s:%u: ", c->label, line ? line : 1);
		off = n < 0 ? 0 : (size_t)n;
	}
	if (off < c->errlen)
		vsnprintf(c->err + off, c->errlen - off, fmt, ap);
	return c->r;
}

/* Records the first error at 'line' and returns -EINVAL. */
__attribute__((format(printf, 3, 4))) static int fail(struct ctx *c, unsigned line, const char *fmt,
						      ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vfail(c, line, fmt, ap);
	va_end(ap);
	return r;
}

/* Records "KEY 'VALUE': reason" at the current line. */
__attribute__((format(printf, 4, 5))) static int bad(struct ctx *c, const char *key,
						     const char *value, const char *fmt, ...)
{
	char why[PROFILE_ERR_MAX];
	char q[QUOTE_BUF];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	return fail(c, c->line, "%s '%s': %s", key, quote(&q, value), why);
}

static int oom(struct ctx *c)
{
	(void)fail(c, c->line, "out of memory");
	c->r = -ENOMEM;
	return -ENOMEM;
}

/* Value parsers: pure, true on success. */

static bool is_blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\v' || ch == '\f';
}

static bool parse_u64(const char *s, uint64_t max, uint64_t *ret)
{
	uint64_t v = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, *s - '0', &v))
			return false;
	}
	if (v > max)
		return false;
	*ret = v;
	return true;
}

/* "3600", "90s", "30m", "1h", "2d" into seconds below 2^32. */
static bool parse_duration(const char *s, uint64_t *ret_secs)
{
	char digits[24];
	size_t len = strlen(s);
	uint64_t mult = 1, v;

	if (!len || len >= sizeof(digits))
		return false;
	switch (s[len - 1]) {
	case 's':
		len--;
		break;
	case 'm':
		mult = 60;
		len--;
		break;
	case 'h':
		mult = 3600;
		len--;
		break;
	case 'd':
		mult = 86400;
		len--;
		break;
	default:
		break;
	}
	memcpy(digits, s, len);
	digits[len] = '\0';
	if (!parse_u64(digits, UINT32_MAX, &v) || __builtin_mul_overflow(v, mult, &v) ||
	    v > UINT32_MAX)
		return false;
	*ret_secs = v;
	return true;
}

/* 1 for yes, 0 for no, -1 for neither. */
static int parse_bool(const char *s)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };

	for (size_t i = 0; i < 4; i++) {
		if (!strcasecmp(s, yes[i]))
			return 1;
		if (!strcasecmp(s, no[i]))
			return 0;
	}
	return -1;
}

static bool parse_ip(const char *s, uint32_t *ret_be)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		return false;
	*ret_be = a.s_addr;
	return true;
}

static int hex_digit(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Exactly "xx:xx:xx:xx:xx:xx". */
static bool parse_mac(const char *s, uint8_t mac[6])
{
	if (strlen(s) != 17)
		return false;
	for (size_t i = 0; i < 6; i++) {
		int hi = hex_digit(s[i * 3]), lo = hex_digit(s[i * 3 + 1]);

		if (hi < 0 || lo < 0 || (i < 5 && s[i * 3 + 2] != ':'))
			return false;
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

/* Unicast and not all zeros: what a NIC or a reservation may carry. */
static bool mac_is_unicast(const uint8_t mac[6])
{
	static const uint8_t zero[6];

	return !(mac[0] & 1) && memcmp(mac, zero, 6) != 0;
}

/* 1..'max' characters of [a-z0-9-], not starting with '-' (it would read as an option). */
static bool is_valid_name(const char *s, size_t max)
{
	size_t len = strlen(s);

	if (!len || len > max || s[0] == '-')
		return false;
	for (; *s; s++) {
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-'))
			return false;
	}
	return true;
}

/* The daemon names its own ports of a network "host" and "dhcp". */
static bool is_reserved_port_name(const char *s)
{
	return !strcmp(s, "host") || !strcmp(s, "dhcp");
}

static const char *reserved_port_owner(const char *s)
{
	return !strcmp(s, "host") ? "host adapter" : "DHCP server";
}

/* The kernel's dev_valid_name(): 1-15 bytes, not "." or "..", no '/', ':' or blanks. */
static bool is_valid_ifname(const char *s)
{
	size_t len = strlen(s);

	if (!len || len >= IF_NAMESIZE || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '/' || ch == ':' || ch <= ' ' || ch >= 0x7f)
			return false;
	}
	return true;
}

/* A name 'ip netns' can hold: a file name under /run/netns. */
static bool is_valid_netns(const char *s, size_t cap)
{
	size_t len = strlen(s);

	if (!len || len >= cap || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '/' || ch <= ' ' || ch >= 0x7f)
			return false;
	}
	return true;
}

/* An RFC 1123 host name label: 1-63 of [A-Za-z0-9-], no '-' at either end. */
static bool is_valid_label(const char *s, size_t len)
{
	if (!len || len > 63 || s[0] == '-' || s[len - 1] == '-')
		return false;
	for (size_t i = 0; i < len; i++) {
		char ch = s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '-'))
			return false;
	}
	return true;
}

static bool is_valid_domain(const char *s)
{
	size_t len = strlen(s);

	if (!len || len > 253)
		return false;
	while (*s) {
		const char *dot = strchr(s, '.');
		size_t n = dot ? (size_t)(dot - s) : strlen(s);

		if (!is_valid_label(s, n))
			return false;
		s += n;
		if (*s == '.' && !*++s)
			return false;
	}
	return true;
}

/* Address arithmetic, in host order. */

static uint32_t prefix_mask(unsigned prefix_len)
{
	return prefix_len ? ~(uint32_t)0 << (32 - prefix_len) : 0;
}

static uint32_t net_first(const struct profile_net *n)
{
	return ntohl(n->subnet_be);
}

static uint32_t net_last(const struct profile_net *n)
{
	return ntohl(n->subnet_be) | ~prefix_mask(n->prefix_len);
}

static bool in_subnet(const struct profile_net *n, uint32_t addr_be)
{
	return (ntohl(addr_be) & prefix_mask(n->prefix_len)) == ntohl(n->subnet_be);
}

/* Inside the subnet and neither its network nor its broadcast address. */
static bool is_host_addr(const struct profile_net *n, uint32_t addr_be)
{
	uint32_t a = ntohl(addr_be);

	return in_subnet(n, addr_be) && a != net_first(n) && a != net_last(n);
}

static bool is_unicast_ip(uint32_t addr_be)
{
	uint32_t a = ntohl(addr_be);

	return a != 0 && (a >> 24) != 127 && (a >> 28) < 14;
}

const char *profile_ip_str(uint32_t addr_be, char *buf)
{
	struct in_addr a = { .s_addr = addr_be };

	if (!inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN))
		buf[0] = '\0';
	return buf;
}

static const char *subnet_str(const struct profile_net *n, char *buf)
{
	char ip[INET_ADDRSTRLEN];

	sprintf(buf, "%s/%u", profile_ip_str(n->subnet_be, ip), n->prefix_len);
	return buf;
}

/* Copies 's' into 'dst' of 'cap' bytes; the caller has checked the length. */
static void copy_str(char *dst, size_t cap, const char *s)
{
	size_t len = strlen(s);

	if (len >= cap)
		len = cap - 1;
	memcpy(dst, s, len);
	dst[len] = '\0';
}

/* Splits 's' at blanks into at most 'max' words in 'buf'; returns the count or max + 1. */
static size_t split_words(const char *s, char *buf, size_t cap, char **words, size_t max)
{
	size_t n = 0;
	char *p;

	copy_str(buf, cap, s);
	p = buf;
	for (;;) {
		while (is_blank(*p))
			p++;
		if (!*p)
			return n;
		if (n == max)
			return max + 1;
		words[n++] = p;
		while (*p && !is_blank(*p))
			p++;
		if (*p)
			*p++ = '\0';
	}
}

/* [network] */

static int net_name(struct ctx *c, void *obj, const char *key, const char *value)
{
	struct profile_net *n = obj;

	if (!is_valid_name(value, PROFILE_NAME_MAX - 1))
		return bad(c, key, value,
			   "must be 1-%d characters of a-z, 0-9 and '-', not starting with '-'",
			   PROFILE_NAME_MAX - 1);
	copy_str(n->name, sizeof(n->name), value);
	n->name_line = c->line;
	return 0;
}

static int net_subnet(struct ctx *c, void *obj, const char *key, const char *value)
{
	struct profile_net *n = obj;
	char buf[32], ip[INET_ADDRSTRLEN], q[QUOTE_BUF];
	const char *slash = strchr(value, '/');
	uint32_t addr_be, mask;
	uint64_t len;

	if (!slash || (size_t)(slash - value) >= sizeof(buf))
		return bad(c, key, value, "expected ADDRESS/PREFIX, e.g. 192.168.131.0/24");
	memcpy(buf, value, (size_t)(slash - value));
	buf[slash - value] = '\0';
	if (!parse_ip(buf, &addr_be))
		return bad(c, key, value, "'%s' is not an IPv4 address", quote(&q, buf));
	if (!parse_u64(slash + 1, 32, &len) || len < 8 || len > 30)
		return bad(c, key, value, "prefix length must be 8-30");
	mask = prefix_mask((unsigned)len);
	if (ntohl(addr_be) & ~mask) {
		struct in_addr a = { .s_addr = htonl(ntohl(addr_be) & mask) };

		return bad(c, key, value, "host bits are set; did you mean '%s/%u'?",
			   inet_ntop(AF_INET, &a, ip, sizeof(ip)), (unsigned)len);
	}
	if (!is_unicast_ip(addr_be))
		return bad(c, key, value, "not a unicast network (0/8, 127/8 and 224/3 are not)");
	n->subnet_be = addr_be;
	n->prefix_len = (uint8_t)len;
	n->subnet_line = c->line;
	return 0;
}

static int net_mtu(struct ctx *c, void *obj, const char *key, const char *value)
{
	struct profile_net *n = obj;
	uint64_t v;

	if (!parse_u64(value, UINT32_MAX, &v) || v < MTU_MIN || v > MTU_MAX)
		return bad(c, key, value, "must be a number from %d to %d", MTU_MIN, MTU_MAX);
	n->mtu = (unsigned)v;
	return 0;
}

static int net_fdb_aging(struct ctx *c, void *obj, const char *key, const char *value)
{
	struct profile_net *n = obj;
	uint64_t v;

	if (!parse_duration(value, &v) || v < FDB_AGING_MIN_SECS || v > FDB_AGING_MAX_SECS)
		return bad(c, key, value, "must be a duration from %d s to %d s",
			   FDB_AGING_MIN_SECS, FDB_AGING_MAX_SECS);
	n->fdb_aging_secs = (unsigned)v;
	return 0;
}

static int net_fdb_max(struct ctx *c, void *obj, const char *key, const char *value)
{
	struct profile_net *n = obj;
	uint64_t v;

	if (!parse_u64(value, UINT32_MAX, &v) || v < FDB_MAX_MIN || v > FDB_MAX_MAX)
		return bad(c, key, value, "must be a number from %d to %u", FDB_MAX_MIN,
			   FDB_MAX_MAX);
	n->fdb_max = (unsigned)v;
	return 0;
}

/* [host] */

static int ifname_value(struct ctx *c, const char *key, const char *value, char *dst)
{
	if (!is_valid_ifname(value))
		return bad(c, key, value,
			   "must be 1-%d characters without '/', ':' or blanks (an interface name)",
			   IF_NAMESIZE - 1);
	copy_str(dst, IF_NAMESIZE, value);
	return 0;
}

static int host_interface(struct ctx *c, void *obj, const char *key, const char *value)
{
	struct profile_net *n = obj;

	n->host_line = c->line;
	return ifname_value(c, key, value, n->host_ifname);
}

static int ip_value(struct ctx *c, const char *key, const char *value, uint32_t *ret_be)
{
	if (!parse_ip(value, ret_be))
		return bad(c, key, value, "not an IPv4 address");
	if (!is_unicast_ip(*ret_be))
		return bad(c, key, value, "not a unicast address");
	return 0;
}

static int host_address(struct ctx *c, void *obj, const char *key, const char *value)
{
	struct profile_net *n = obj;

	return ip_value(c, key, value, &n->host_addr_be);
}

/* [dhcp] */

static int dhcp_enabled(struct ctx *c, void *obj, const char *key, const char *value)
{
	int b = parse_bool(value);

	(void)obj;
	if (b < 0)
		return bad(c, key, value, "must be yes or no");
	c->dhcp_enabled = b;
	return 0;
}

static int dhcp_range(struct ctx *c, void *obj, const char *key, const char *value)
{
	struct profile_net *n = obj;
	char buf[64];
	char *dash, *a, *b, *end;

	copy_str(buf, sizeof(buf), value);
	dash = strchr(buf, '-');
	if (!dash || strlen(value) >= sizeof(buf))
		return bad(c, key, value,
			   "expected FIRST-LAST, e.g. 192.168.131.0-192.168.131.255");
	*dash = '\0';
	a = buf;
	b = dash + 1;
	for (end = dash; end > a && is_blank(end[-1]); end--)
		end[-1] = '\0';
	while (is_blank(*b))
		b++;
	if (!parse_ip(a, &n->dhcp_first_be) || !parse_ip(b, &n->dhcp_last_be))
		return bad(c, key, value,
			   "expected FIRST-LAST, e.g. 192.168.131.0-192.168.131.255");
	if (ntohl(n->dhcp_first_be) > ntohl(n->dhcp_last_be))
		return bad(c, key, value, "the first address is above the last");
	return 0;
}

static int dhcp_server(struct ctx *c, void *obj, const char *key, const char *value)
{
	struct profile_net *n = obj;

	return ip_value(c, key, value, &n->dhcp_server_be);
}

static int dhcp_gateway(struct ctx *c, void *obj, const char *key, const char *value)
{
	struct profile_net *n = obj;

	/* Empty: no router option, even with a host adapter. */
	if (!*value) {
		n->gateway_be = 0;
		return 0;
	}
	return ip_value(c, key, value, &n->gateway_be);
}

static int addr_list(struct ctx *c, const char *key, const char *value, uint32_t *addrs, size_t max,
		     size_t *ret_n)
{
	char buf[256], q[QUOTE_BUF];
	size_t n = 0;
	char *item, *rest = buf;

	if (strlen(value) >= sizeof(buf))
		return bad(c, key, value, "too long");
	copy_str(buf, sizeof(buf), value);
	if (!*value) {
		*ret_n = 0;
		return 0;
	}
	/* strsep, unlike strtok, yields the empty items of "a,,b" so they are refused. */
	while ((item = strsep(&rest, ","))) {
		char *end = item + strlen(item);

		while (is_blank(*item))
			item++;
		while (end > item && is_blank(end[-1]))
			*--end = '\0';
		if (n == max)
			return bad(c, key, value, "more than %zu addresses (the limit)", max);
		if (!parse_ip(item, &addrs[n]) || !is_unicast_ip(addrs[n]))
			return bad(c, key, value, "'%s' is not a unicast IPv4 address",
				   quote(&q, item));
		n++;
	}
	*ret_n = n;
	return 0;
}

static int dhcp_dns(struct ctx *c, void *obj, const char *key, const char *value)
{
	struct profile_net *n = obj;

	return addr_list(c, key, value, n->dns_be, PROFILE_ADDRS_MAX, &n->n_dns);
}

static int dhcp_wins(struct ctx *c, void *obj, const char *key, const char *value)
{
	struct profile_net *n = obj;

	return addr_list(c, key, value, n->wins_be, PROFILE_ADDRS_MAX, &n->n_wins);
}

static int dhcp_domain(struct ctx *c, void *obj, const char *key, const char *value)
{
	struct profile_net *n = obj;

	if (*value && !is_valid_domain(value))
		return bad(
			c, key, value,
			"not a domain name (labels of a-z, 0-9 and '-', at most 253 characters)");
	copy_str(n->domain, sizeof(n->domain), value);
	return 0;
}

static int duration_value(struct ctx *c, const char *key, const char *value, unsigned min,
			  unsigned *ret_secs)
{
	uint64_t v;

	if (!parse_duration(value, &v))
		return bad(c, key, value, "expected a duration such as 3600, 90s, 30m, 1h or 2d");
	if (v < min)
		return bad(c, key, value, "must be at least %u s", min);
	*ret_secs = (unsigned)v;
	return 0;
}

static int dhcp_lease(struct ctx *c, void *obj, const char *key, const char *value)
{
	struct profile_net *n = obj;

	return duration_value(c, key, value, LEASE_MIN_SECS, &n->lease_secs);
}

static int dhcp_renew(struct ctx *c, void *obj, const char *key, const char *value)
{
	struct profile_net *n = obj;

	copy_str(c->renew_text, sizeof(c->renew_text), value);
	return duration_value(c, key, value, 1, &n->renew_secs);
}

static int dhcp_rebind(struct ctx *c, void *obj, const char *key, const char *value)
{
	struct profile_net *n = obj;

	copy_str(c->rebind_text, sizeof(c->rebind_text), value);
	return duration_value(c, key, value, 1, &n->rebind_secs);
}

static int dhcp_reserve(struct ctx *c, void *obj, const char *key, const char *value)
{
	struct profile_net *n = obj;
	struct profile_reserve *res;
	char buf[256], q[QUOTE_BUF];
	char *w[3];
	size_t nw;

	if (n->n_reserves == PROFILE_RESERVES_MAX)
		return bad(c, key, value, "too many reservations (limit %d)", PROFILE_RESERVES_MAX);
	res = &n->reserves[n->n_reserves];
	nw = split_words(value, buf, sizeof(buf), w, 3);
	if (strlen(value) >= sizeof(buf) || nw < 2 || nw > 3)
		return bad(c, key, value, "expected MAC ADDRESS [HOSTNAME]");
	if (!parse_mac(w[0], res->mac) || !mac_is_unicast(res->mac))
		return bad(c, key, value,
			   "'%s' is not a unicast MAC address like 52:54:00:12:34:56",
			   quote(&q, w[0]));
	if (!parse_ip(w[1], &res->addr_be))
		return bad(c, key, value, "'%s' is not an IPv4 address", quote(&q, w[1]));
	if (nw == 3 && !is_valid_label(w[2], strlen(w[2])))
		return bad(c, key, value,
			   "host name '%s' must be 1-63 characters of letters, digits and '-'",
			   quote(&q, w[2]));
	res->hostname[0] = '\0';
	if (nw == 3)
		copy_str(res->hostname, sizeof(res->hostname), w[2]);
	for (size_t i = 0; i < n->n_reserves; i++) {
		char ip[INET_ADDRSTRLEN];

		if (!memcmp(n->reserves[i].mac, res->mac, 6))
			return bad(c, key, value, "MAC %s is already reserved at line %u",
				   quote(&q, w[0]), n->reserves[i].line);
		if (n->reserves[i].addr_be == res->addr_be)
			return bad(c, key, value, "%s is already reserved at line %u",
				   profile_ip_str(res->addr_be, ip), n->reserves[i].line);
	}
	res->line = c->line;
	n->n_reserves++;
	return 0;
}

/* "DEST/PREFIX GATEWAY": a classless static route handed out as option 121 (RFC 3442). */
static int dhcp_route(struct ctx *c, void *obj, const char *key, const char *value)
{
	struct profile_net *n = obj;
	struct profile_route *rt;
	char buf[128], q[QUOTE_BUF];
	char *w[2], *slash;
	uint64_t len;
	size_t nw;

	if (n->n_routes == PROFILE_ROUTES_MAX)
		return bad(c, key, value, "too many routes (limit %d)", PROFILE_ROUTES_MAX);
	rt = &n->routes[n->n_routes];
	nw = split_words(value, buf, sizeof(buf), w, 2);
	if (strlen(value) >= sizeof(buf) || nw != 2 || !(slash = strchr(w[0], '/')))
		return bad(c, key, value,
			   "expected DESTINATION/PREFIX GATEWAY, e.g. 10.1.0.0/16 192.168.131.1");
	*slash = '\0';
	if (!parse_ip(w[0], &rt->dest_be))
		return bad(c, key, value, "'%s' is not an IPv4 address", quote(&q, w[0]));
	if (!parse_u64(slash + 1, 32, &len))
		return bad(c, key, value, "prefix length must be 0-32");
	if (ntohl(rt->dest_be) & ~prefix_mask((unsigned)len))
		return bad(c, key, value, "host bits are set in the destination");
	if (!parse_ip(w[1], &rt->gateway_be))
		return bad(c, key, value, "'%s' is not an IPv4 address", quote(&q, w[1]));
	rt->prefix_len = (uint8_t)len;
	rt->line = c->line;
	n->n_routes++;
	return 0;
}

/* [nat] */

static int nat_uplink(struct ctx *c, void *obj, const char *key, const char *value)
{
	struct profile_net *n = obj;

	return ifname_value(c, key, value, n->uplink);
}

static bool parse_port_number(const char *s, uint16_t *ret)
{
	uint64_t v;

	if (!parse_u64(s, 65535, &v) || v == 0)
		return false;
	*ret = (uint16_t)v;
	return true;
}

static int nat_forward(struct ctx *c, void *obj, const char *key, const char *value)
{
	struct profile_net *n = obj;
	struct profile_forward *f;
	char buf[128], q[QUOTE_BUF];
	char *w[3], *colon;
	size_t nw;

	if (n->n_forwards == PROFILE_FORWARDS_MAX)
		return bad(c, key, value, "too many port mappings (limit %d)",
			   PROFILE_FORWARDS_MAX);
	f = &n->forwards[n->n_forwards];
	nw = split_words(value, buf, sizeof(buf), w, 3);
	if (strlen(value) >= sizeof(buf) || nw != 3)
		return bad(c, key, value, "expected tcp|udp HOSTPORT GUESTADDRESS:PORT");
	if (!strcmp(w[0], "tcp"))
		f->proto = IPPROTO_TCP;
	else if (!strcmp(w[0], "udp"))
		f->proto = IPPROTO_UDP;
	else
		return bad(c, key, value, "protocol '%s' must be tcp or udp", quote(&q, w[0]));
	if (!parse_port_number(w[1], &f->host_port))
		return bad(c, key, value, "host port '%s' must be 1-65535", quote(&q, w[1]));
	colon = strchr(w[2], ':');
	if (!colon)
		return bad(c, key, value, "expected GUESTADDRESS:PORT, got '%s'", quote(&q, w[2]));
	*colon = '\0';
	if (!parse_ip(w[2], &f->guest_be))
		return bad(c, key, value, "'%s' is not an IPv4 address", quote(&q, w[2]));
	if (!parse_port_number(colon + 1, &f->guest_port))
		return bad(c, key, value, "guest port '%s' must be 1-65535", quote(&q, colon + 1));
	for (size_t i = 0; i < n->n_forwards; i++) {
		if (n->forwards[i].proto == f->proto && n->forwards[i].host_port == f->host_port)
			return bad(c, key, value, "%s port %u is already forwarded at line %u",
				   w[0], f->host_port, n->forwards[i].line);
	}
	f->line = c->line;
	n->n_forwards++;
	return 0;
}

static int nat_dns_proxy(struct ctx *c, void *obj, const char *key, const char *value)
{
	struct profile_net *n = obj;
	int b = parse_bool(value);

	if (b < 0)
		return bad(c, key, value, "must be yes or no");
	n->dns_proxy = b;
	return 0;
}

static int nat_resolv_conf(struct ctx *c, void *obj, const char *key, const char *value)
{
	struct profile_net *n = obj;

	if (value[0] != '/' || strlen(value) >= sizeof(n->resolv_conf))
		return bad(c, key, value, "must be an absolute path of at most %zu characters",
			   sizeof(n->resolv_conf) - 1);
	copy_str(n->resolv_conf, sizeof(n->resolv_conf), value);
	return 0;
}

/* [port NAME], also the keys of vswitchctl add-port */

static int port_type(struct ctx *c, void *obj, const char *key, const char *value)
{
	struct profile_port *p = obj;

	if (!strcmp(value, "tap"))
		p->type = PROFILE_PORT_TAP;
	else if (!strcmp(value, "netdev"))
		p->type = PROFILE_PORT_NETDEV;
	else
		return bad(c, key, value, "must be tap or netdev");
	return 0;
}

static int port_interface(struct ctx *c, void *obj, const char *key, const char *value)
{
	struct profile_port *p = obj;

	return ifname_value(c, key, value, p->ifname);
}

static int port_netns(struct ctx *c, void *obj, const char *key, const char *value)
{
	struct profile_port *p = obj;

	if (*value && !is_valid_netns(value, sizeof(p->netns)))
		return bad(c, key, value, "must be 1-%zu characters without '/' or blanks",
			   sizeof(p->netns) - 1);
	copy_str(p->netns, sizeof(p->netns), value);
	return 0;
}

static int port_mac(struct ctx *c, void *obj, const char *key, const char *value)
{
	struct profile_port *p = obj;

	if (!parse_mac(value, p->mac))
		return bad(c, key, value, "expected a MAC address like 52:54:00:12:34:56");
	if (!mac_is_unicast(p->mac))
		return bad(c, key, value,
			   "must be a unicast address (first octet even, not all zero)");
	p->has_mac = true;
	return 0;
}

static bool parse_vlan(const char *s, uint16_t *ret)
{
	uint64_t v;

	if (!parse_u64(s, PORT_VLAN_MAX, &v) || v < 1)
		return false;
	*ret = (uint16_t)v;
	return true;
}

static int vlan_value(struct ctx *c, const char *key, const char *value, uint16_t *ret)
{
	if (!parse_vlan(value, ret))
		return bad(c, key, value, "must be a VLAN id from 1 to %d", PORT_VLAN_MAX);
	return 0;
}

static int port_vlan(struct ctx *c, void *obj, const char *key, const char *value)
{
	return vlan_value(c, key, value, &((struct profile_port *)obj)->vlan);
}

/* trunk = 10,20,100-110 */
static int port_trunk(struct ctx *c, void *obj, const char *key, const char *value)
{
	struct profile_port *p = obj;
	char buf[512], *save = NULL, *item;

	if (strlen(value) >= sizeof(buf) || !*value)
		return bad(c, key, value, "expected VLAN ids and ranges, e.g. 10,20,100-110");
	copy_str(buf, sizeof(buf), value);
	memset(p->trunk, 0, sizeof(p->trunk));
	for (item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		char *dash = strchr(item, '-'), q[QUOTE_BUF];
		uint16_t lo, hi;

		while (*item == ' ')
			item++;
		if (dash)
			*dash = '\0';
		if (!parse_vlan(item, &lo) || (dash && !parse_vlan(dash + 1, &hi)))
			return bad(c, key, value, "'%s' is not a VLAN id from 1 to %d or a range",
				   quote(&q, item), PORT_VLAN_MAX);
		if (!dash)
			hi = lo;
		if (hi < lo)
			return bad(c, key, value, "range %u-%u runs backwards", lo, hi);
		for (unsigned v = lo; v <= hi; v++)
			p->trunk[v / 64] |= 1ull << (v % 64);
	}
	p->has_trunk = true;
	return 0;
}

static int port_mirror(struct ctx *c, void *obj, const char *key, const char *value)
{
	struct profile_port *p = obj;

	if (!is_valid_name(value, PORT_NAME_MAX - 1))
		return bad(c, key, value, "not a port name (1-%d characters of a-z, 0-9 and '-')",
			   PORT_NAME_MAX - 1);
	copy_str(p->mirror, sizeof(p->mirror), value);
	return 0;
}

/* "50ms", "1.5s", "250us", or a plain number of milliseconds; at most 60 s. */
static bool parse_delay_us(const char *s, uint32_t *ret)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || v < 0)
		return false;
	if (!*end || !strcmp(end, "ms"))
		v *= 1000;
	else if (!strcmp(end, "s"))
		v *= 1000000;
	else if (strcmp(end, "us"))
		return false;
	if (v > 60e6)
		return false;
	*ret = (uint32_t)(v + 0.5);
	return true;
}

static int port_delay(struct ctx *c, void *obj, const char *key, const char *value)
{
	if (!parse_delay_us(value, &((struct profile_port *)obj)->impair.delay_us))
		return bad(c, key, value, "expected a time up to 60 s such as 50ms, 1.5s or 250us");
	return 0;
}

static int port_jitter(struct ctx *c, void *obj, const char *key, const char *value)
{
	if (!parse_delay_us(value, &((struct profile_port *)obj)->impair.jitter_us))
		return bad(c, key, value, "expected a time up to 60 s such as 5ms");
	return 0;
}

/* "10%", "0.5%" or "10": percent of frames dropped. */
static int port_loss(struct ctx *c, void *obj, const char *key, const char *value)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(value, &end);
	if (errno || end == value || (*end && strcmp(end, "%")) || v < 0 || v > 100)
		return bad(c, key, value, "expected a percentage from 0 to 100, e.g. 10%%");
	((struct profile_port *)obj)->impair.loss_ppm = (uint32_t)(v * 10000 + 0.5);
	return 0;
}

/* "10mbit", "1gbit", "512kbit", "100000" (bits per second). */
static int port_rate(struct ctx *c, void *obj, const char *key, const char *value)
{
	static const struct {
		const char *unit;
		double mul;
	} units[] = { { "", 1 },       { "bit", 1 },	{ "kbit", 1e3 }, { "mbit", 1e6 },
		      { "gbit", 1e9 }, { "kbps", 8e3 }, { "mbps", 8e6 }, { "gbps", 8e9 } };
	char *end;
	double v;

	errno = 0;
	v = strtod(value, &end);
	for (size_t i = 0; !errno && end != value && v > 0 && i < sizeof(units) / sizeof(units[0]);
	     i++) {
		if (strcasecmp(end, units[i].unit))
			continue;
		v *= units[i].mul;
		if (v < 8000 || v > 400e9)
			break;
		((struct profile_port *)obj)->impair.rate_bps = (uint64_t)v;
		return 0;
	}
	return bad(c, key, value,
		   "expected a rate from 8kbit to 400gbit such as 10mbit, 1gbit or 512kbit");
}

static int host_vlan(struct ctx *c, void *obj, const char *key, const char *value)
{
	return vlan_value(c, key, value, &((struct profile_net *)obj)->host_vlan);
}

static int dhcp_vlan(struct ctx *c, void *obj, const char *key, const char *value)
{
	return vlan_value(c, key, value, &((struct profile_net *)obj)->dhcp_vlan);
}

/* [vm NAME] */

static int vm_port(struct ctx *c, void *obj, const char *key, const char *value)
{
	struct profile_vm *vm = obj;

	if (!is_valid_name(value, PORT_NAME_MAX - 1))
		return bad(c, key, value, "not a port name (1-%d characters of a-z, 0-9 and '-')",
			   PORT_NAME_MAX - 1);
	copy_str(vm->port, sizeof(vm->port), value);
	return 0;
}

static int vm_disk(struct ctx *c, void *obj, const char *key, const char *value)
{
	struct profile_vm *vm = obj;

	if (!*value)
		return bad(c, key, value, "needs the path of an image");
	if (vm->n_disks == PROFILE_DISKS_MAX)
		return bad(c, key, value, "too many disks (limit %d)", PROFILE_DISKS_MAX);
	for (size_t i = 0; i < vm->n_disks; i++) {
		if (!strcmp(vm->disks[i], value))
			return bad(c, key, value, "listed twice");
	}
	vm->disks[vm->n_disks] = strdup(value);
	if (!vm->disks[vm->n_disks])
		return oom(c);
	vm->n_disks++;
	return 0;
}

static int vm_disk_mode(struct ctx *c, void *obj, const char *key, const char *value)
{
	struct profile_vm *vm = obj;

	if (!strcmp(value, "direct"))
		vm->disk_mode = PROFILE_DISK_DIRECT;
	else if (!strcmp(value, "differencing"))
		vm->disk_mode = PROFILE_DISK_DIFFERENCING;
	else if (!strcmp(value, "undo"))
		vm->disk_mode = PROFILE_DISK_UNDO;
	else
		return bad(c, key, value, "must be direct, differencing or undo");
	return 0;
}

/* Port security ([network] port-security, [port] keys; docs/security.md). */

static const char *const sec_names[] = {
	[PROFILE_SEC_DEFAULT] = "default",
	[PROFILE_SEC_OFF] = "off",
	[PROFILE_SEC_BASIC] = "basic",
	[PROFILE_SEC_STRICT] = "strict",
};

const char *profile_sec_name(enum profile_sec s)
{
	return (size_t)s < sizeof(sec_names) / sizeof(sec_names[0]) ? sec_names[s] : "?";
}

static int sec_value(struct ctx *c, const char *key, const char *value, enum profile_sec *ret)
{
	for (int s = PROFILE_SEC_OFF; s <= PROFILE_SEC_STRICT; s++) {
		if (!strcmp(value, sec_names[s])) {
			*ret = (enum profile_sec)s;
			return 0;
		}
	}
	return bad(c, key, value, "must be off, basic or strict");
}

/*
 * What each level sets (docs/security.md): a table, so that the daemon, the
 * docs and the tests read one set of defaults.
 */
static const struct port_security sec_levels[] = {
	[PROFILE_SEC_OFF] = { 0 },
	[PROFILE_SEC_BASIC] = { .enabled = true, .max_macs = 8, .dhcp_rate = 10, .dhcp_leases = 8 },
	[PROFILE_SEC_STRICT] = { .enabled = true,
				 .source_guard = true,
				 .ip_only = true,
				 .max_macs = 1,
				 .dhcp_rate = 5,
				 .dhcp_leases = 2 },
};

void profile_port_security(const struct profile_net *net, const struct profile_port *pp,
			   bool faces_guest, struct port_security *ret)
{
	enum profile_sec level = pp->sec ? pp->sec : net->port_sec;
	bool trusted = pp->trust == PROFILE_TRUST_YES ||
		       (pp->trust == PROFILE_TRUST_AUTO && !faces_guest && !pp->has_limits);

	memset(ret, 0, sizeof(*ret));
	if (trusted) {
		ret->trusted = true;
		return;
	}
	*ret = sec_levels[level ? level : PROFILE_SEC_BASIC];
	if (!ret->enabled)
		return;
	if (pp->max_macs)
		ret->max_macs = pp->max_macs;
	if (pp->dhcp_rate)
		ret->dhcp_rate = pp->dhcp_rate;
	if (pp->dhcp_leases)
		ret->dhcp_leases = pp->dhcp_leases;
	memcpy(ret->macs, pp->macs, sizeof(ret->macs));
	ret->n_macs = (unsigned)pp->n_macs;
	memcpy(ret->addrs_be, pp->addrs_be, sizeof(ret->addrs_be));
	ret->n_addrs = (unsigned)pp->n_addrs;
}

static int net_port_sec(struct ctx *c, void *obj, const char *key, const char *value)
{
	struct profile_net *n = obj;

	return sec_value(c, key, value, &n->port_sec);
}

static int port_sec(struct ctx *c, void *obj, const char *key, const char *value)
{
	struct profile_port *p = obj;

	return sec_value(c, key, value, &p->sec);
}

static int port_trusted(struct ctx *c, void *obj, const char *key, const char *value)
{
	struct profile_port *p = obj;
	int b = parse_bool(value);

	if (!strcmp(value, "auto"))
		p->trust = PROFILE_TRUST_AUTO;
	else if (b < 0)
		return bad(c, key, value, "must be yes, no or auto");
	else
		p->trust = b ? PROFILE_TRUST_YES : PROFILE_TRUST_NO;
	return 0;
}

/* A count key of port security: 1..'max'. */
static int sec_count(struct ctx *c, struct profile_port *p, const char *key, const char *value,
		     unsigned max, unsigned *ret)
{
	uint64_t v;

	if (!parse_u64(value, max, &v) || v < 1)
		return bad(c, key, value, "must be a whole number from 1 to %u", max);
	*ret = (unsigned)v;
	p->has_limits = true;
	return 0;
}

static int port_max_macs(struct ctx *c, void *obj, const char *key, const char *value)
{
	struct profile_port *p = obj;

	return sec_count(c, p, key, value, FDB_MAX_MAX, &p->max_macs);
}

static int port_dhcp_rate(struct ctx *c, void *obj, const char *key, const char *value)
{
	struct profile_port *p = obj;

	return sec_count(c, p, key, value, PORT_SEC_DHCP_RATE_MAX, &p->dhcp_rate);
}

static int port_dhcp_leases(struct ctx *c, void *obj, const char *key, const char *value)
{
	struct profile_port *p = obj;

	return sec_count(c, p, key, value, DHCP_RANGE_MAX, &p->dhcp_leases);
}

static int port_macs(struct ctx *c, void *obj, const char *key, const char *value)
{
	struct profile_port *p = obj;
	char list[256], buf[256], *words[PORT_SEC_MACS_MAX + 1], q[QUOTE_BUF];
	size_t n;

	if (strlen(value) >= sizeof(list))
		return bad(c, key, value, "too long");
	copy_str(list, sizeof(list), value);
	for (char *s = list; *s; s++) /* commas or blanks between items */
		if (*s == ',')
			*s = ' ';
	n = split_words(list, buf, sizeof(buf), words, PORT_SEC_MACS_MAX);
	if (n > PORT_SEC_MACS_MAX)
		return bad(c, key, value, "more than %d MAC addresses (the limit)",
			   PORT_SEC_MACS_MAX);
	for (size_t i = 0; i < n; i++)
		if (!parse_mac(words[i], p->macs[i]) || !mac_is_unicast(p->macs[i]))
			return bad(c, key, value, "'%s' is not a unicast MAC address",
				   quote(&q, words[i]));
	p->n_macs = n;
	p->has_limits = true;
	return 0;
}

static int port_addresses(struct ctx *c, void *obj, const char *key, const char *value)
{
	struct profile_port *p = obj;

	p->has_limits = true;
	return addr_list(c, key, value, p->addrs_be, PORT_SEC_ADDRS_MAX, &p->n_addrs);
}

static const struct key network_keys[NK_N] = {
	[NK_NAME] = { "name", false, net_name },
	[NK_SUBNET] = { "subnet", false, net_subnet },
	[NK_MTU] = { "mtu", false, net_mtu },
	[NK_FDB_AGING] = { "fdb-aging", false, net_fdb_aging },
	[NK_FDB_MAX] = { "fdb-max", false, net_fdb_max },
	[NK_PORT_SEC] = { "port-security", false, net_port_sec },
};

static const struct key host_keys[HK_N] = {
	[HK_INTERFACE] = { "interface", false, host_interface },
	[HK_ADDRESS] = { "address", false, host_address },
	[HK_VLAN] = { "vlan", false, host_vlan },
};

static const struct key dhcp_keys[DK_N] = {
	[DK_ENABLED] = { "enabled", false, dhcp_enabled },
	[DK_RANGE] = { "range", false, dhcp_range },
	[DK_SERVER] = { "server", false, dhcp_server },
	[DK_GATEWAY] = { "gateway", false, dhcp_gateway },
	[DK_DNS] = { "dns", false, dhcp_dns },
	[DK_WINS] = { "wins", false, dhcp_wins },
	[DK_DOMAIN] = { "domain", false, dhcp_domain },
	[DK_LEASE] = { "lease-time", false, dhcp_lease },
	[DK_RENEW] = { "renewal-time", false, dhcp_renew },
	[DK_REBIND] = { "rebinding-time", false, dhcp_rebind },
	[DK_RESERVE] = { "reserve", true, dhcp_reserve },
	[DK_ROUTE] = { "route", true, dhcp_route },
	[DK_VLAN] = { "vlan", false, dhcp_vlan },
};

static const struct key nat_keys[XK_N] = {
	[XK_UPLINK] = { "uplink", false, nat_uplink },
	[XK_FORWARD] = { "forward", true, nat_forward },
	[XK_DNS_PROXY] = { "dns-proxy", false, nat_dns_proxy },
	[XK_RESOLV_CONF] = { "resolv-conf", false, nat_resolv_conf },
};

static const struct key port_keys[PK_N] = {
	[PK_TYPE] = { "type", false, port_type },
	[PK_INTERFACE] = { "interface", false, port_interface },
	[PK_NETNS] = { "netns", false, port_netns },
	[PK_MAC] = { "mac", false, port_mac },
	[PK_VLAN] = { "vlan", false, port_vlan },
	[PK_TRUNK] = { "trunk", false, port_trunk },
	[PK_MIRROR] = { "mirror", false, port_mirror },
	[PK_DELAY] = { "delay", false, port_delay },
	[PK_JITTER] = { "jitter", false, port_jitter },
	[PK_LOSS] = { "loss", false, port_loss },
	[PK_RATE] = { "rate", false, port_rate },
	[PK_SEC] = { "port-security", false, port_sec },
	[PK_TRUSTED] = { "trusted", false, port_trusted },
	[PK_MAX_MACS] = { "max-macs", false, port_max_macs },
	[PK_MACS] = { "macs", false, port_macs },
	[PK_ADDRESSES] = { "addresses", false, port_addresses },
	[PK_DHCP_RATE] = { "dhcp-rate", false, port_dhcp_rate },
	[PK_DHCP_LEASES] = { "dhcp-leases", false, port_dhcp_leases },
};

static const struct key vm_keys[VK_N] = {
	[VK_PORT] = { "port", false, vm_port },
	[VK_DISK] = { "disk", true, vm_disk },
	[VK_DISK_MODE] = { "disk-mode", false, vm_disk_mode },
};

static const struct section_type sections[SEC_N] = {
	[SEC_NETWORK] = { "network", false, network_keys, NK_N },
	[SEC_HOST] = { "host", false, host_keys, HK_N },
	[SEC_DHCP] = { "dhcp", false, dhcp_keys, DK_N },
	[SEC_NAT] = { "nat", false, nat_keys, XK_N },
	[SEC_PORT] = { "port", true, port_keys, PK_N },
	[SEC_VM] = { "vm", true, vm_keys, VK_N },
};

/* "[network]" or "[port vm1]" for messages about the current section. */
static const char *section_str(const struct ctx *c, char *buf, size_t cap)
{
	if (c->sec == SEC_PORT)
		snprintf(buf, cap, "[port %s]", ((const struct profile_port *)c->obj)->name);
	else if (c->sec == SEC_VM)
		snprintf(buf, cap, "[vm %s]", ((const struct profile_vm *)c->obj)->name);
	else
		snprintf(buf, cap, "[%s]", sections[c->sec].name);
	return buf;
}

static void port_init(struct profile_port *p, const char *name, unsigned line)
{
	memset(p, 0, sizeof(*p));
	copy_str(p->name, sizeof(p->name), name);
	p->type = PROFILE_PORT_TAP;
	p->line = line;
}

/* A "[...]" line of 'len' bytes, blanks and comment already stripped. */
static int section_begin(struct ctx *c, const char *s, size_t len)
{
	struct profile_net *n = c->net;
	char buf[128], q[QUOTE_BUF];
	char *type, *name, *end;
	enum sec sec = SEC_NONE;

	if (len >= sizeof(buf)) {
		memcpy(buf, s, sizeof(buf) - 1);
		buf[sizeof(buf) - 1] = '\0';
		return fail(c, c->line, "section header '%s' is too long", quote(&q, buf));
	}
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (buf[len - 1] != ']')
		return fail(c, c->line, "section header '%s' lacks its closing ']'",
			    quote(&q, buf));
	buf[len - 1] = '\0';
	type = buf + 1;
	while (is_blank(*type))
		type++;
	name = type;
	while (*name && !is_blank(*name))
		name++;
	if (*name)
		*name++ = '\0';
	while (is_blank(*name))
		name++;
	for (end = name + strlen(name); end > name && is_blank(end[-1]);)
		*--end = '\0';

	for (int i = SEC_NETWORK; i < SEC_N; i++) {
		if (!strcmp(type, sections[i].name))
			sec = (enum sec)i;
	}
	if (sec == SEC_NONE)
		return fail(
			c, c->line,
			"unknown section '[%s]' (expected network, host, dhcp, nat, port or vm)",
			quote(&q, type));
	if (!sections[sec].is_named) {
		if (*name)
			return fail(c, c->line, "section '[%s]' takes no name, got '%s'", type,
				    quote(&q, name));
		if (c->sec_line[sec])
			return fail(c, c->line, "duplicate section '[%s]' (first at line %u)", type,
				    c->sec_line[sec]);
		c->sec_line[sec] = c->line;
		c->sec = sec;
		c->obj = n;
		c->lines = c->keys[sec];
		if (sec == SEC_HOST) {
			n->has_host = true;
			n->host_line = c->line;
		} else if (sec == SEC_NAT) {
			n->has_nat = true;
		}
		return 0;
	}

	if (!*name)
		return fail(c, c->line, "section '[%s]' needs a name: [%s NAME]", type, type);
	if (!is_valid_name(name, PORT_NAME_MAX - 1))
		return fail(c, c->line,
			    "[%s] name '%s': must be 1-%d characters of a-z, 0-9 and '-', not "
			    "starting with '-'",
			    type, quote(&q, name), PORT_NAME_MAX - 1);
	if (sec == SEC_PORT && is_reserved_port_name(name))
		return fail(c, c->line, "[port %s]: the name '%s' is taken by the %s", name, name,
			    reserved_port_owner(name));
	if (sec == SEC_PORT) {
		for (size_t i = 0; i < n->n_ports; i++) {
			if (!strcmp(n->ports[i].name, name))
				return fail(c, c->line,
					    "duplicate section '[port %s]' (first at line %u)",
					    name, n->ports[i].line);
		}
		if (n->n_ports == PROFILE_PORTS_MAX)
			return fail(c, c->line, "[port %s]: too many [port] sections (limit %d)",
				    name, PROFILE_PORTS_MAX);
		port_init(&n->ports[n->n_ports], name, c->line);
		c->obj = &n->ports[n->n_ports];
		c->lines = c->port_keys[n->n_ports];
		n->n_ports++;
	} else {
		struct profile_vm *vm;

		for (size_t i = 0; i < n->n_vms; i++) {
			if (!strcmp(n->vms[i].name, name))
				return fail(c, c->line,
					    "duplicate section '[vm %s]' (first at line %u)", name,
					    n->vms[i].line);
		}
		if (n->n_vms == PROFILE_VMS_MAX)
			return fail(c, c->line, "[vm %s]: too many [vm] sections (limit %d)", name,
				    PROFILE_VMS_MAX);
		vm = &n->vms[n->n_vms];
		copy_str(vm->name, sizeof(vm->name), name);
		vm->disk_mode = PROFILE_DISK_DIRECT;
		vm->line = c->line;
		c->obj = vm;
		c->lines = c->vm_keys[n->n_vms];
		n->n_vms++;
	}
	c->sec = sec;
	return 0;
}

/* Looks 'key' up among 'keys', rejects a second non-repeatable one, and parses it. */
static int apply_key(struct ctx *c, const struct key *keys, size_t n_keys, unsigned *lines,
		     void *obj, const char *key, const char *value, const char *where)
{
	char q[QUOTE_BUF];

	for (size_t i = 0; i < n_keys; i++) {
		if (strcmp(keys[i].name, key))
			continue;
		if (lines[i] && !keys[i].is_repeatable) {
			if (c->label)
				return fail(c, c->line, "duplicate key '%s' (first at line %u)",
					    key, lines[i]);
			return fail(c, c->line, "duplicate key '%s'", key);
		}
		if (!lines[i])
			lines[i] = c->line ? c->line : 1;
		return keys[i].parse(c, obj, key, value);
	}
	return fail(c, c->line, "unknown key '%s' in %s", quote(&q, key), where);
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
	struct ctx *c = user;
	char where[PORT_NAME_MAX + 16];

	(void)section; /* our reader hides [headers] from inih and tracks them itself */
	if (c->r < 0)
		return 0;
	if (c->sec == SEC_NONE) {
		char q[QUOTE_BUF];

		(void)fail(c, c->line, "key '%s' comes before any [section]", quote(&q, name));
		return 0;
	}
	section_str(c, where, sizeof(where));
	return apply_key(c, sections[c->sec].keys, sections[c->sec].n_keys, c->lines, c->obj, name,
			 value, where) == 0;
}

/*
 * ini_reader: hands inih one line at a time so that we know its number.
 * Comments and leading blanks go here; [headers] are handled here and reach
 * inih as empty lines. Returns NULL (end of input) after an error.
 */
static char *reader(char *buf, int cap, void *user)
{
	struct ctx *c = user;
	const char *s = c->pos, *eol, *p;
	char q[QUOTE_BUF];
	size_t len;

	if (c->r < 0 || !*s)
		return NULL;
	eol = strchr(s, '\n');
	len = eol ? (size_t)(eol - s) : strlen(s);
	c->pos = s + len + (eol ? 1 : 0);
	c->line++;

	if (c->line == 1 && len >= 3 && !memcmp(s, "\xef\xbb\xbf", 3)) {
		s += 3;
		len -= 3;
	}
	while (len && is_blank(*s)) {
		s++;
		len--;
	}
	/* '#' or ';' starts a comment at the start of a line or after a blank. */
	for (p = s; p < s + len; p++) {
		if ((*p == '#' || *p == ';') && (p == s || is_blank(p[-1]))) {
			len = (size_t)(p - s);
			break;
		}
	}
	while (len && is_blank(s[len - 1]))
		len--;

	buf[0] = '\0';
	if (!len)
		return buf;
	if (*s == '[')
		return section_begin(c, s, len) < 0 ? NULL : buf;

	p = memchr(s, '=', len);
	if (!p || memchr(s, ':', (size_t)(p - s))) {
		char line[QUOTE_MAX + 1];

		memcpy(line, s, len < QUOTE_MAX ? len : QUOTE_MAX);
		line[len < QUOTE_MAX ? len : QUOTE_MAX] = '\0';
		(void)fail(c, c->line, "expected 'key = value' or '[section]', got '%s%s'",
			   quote(&q, line), len > QUOTE_MAX ? "..." : "");
		return NULL;
	}
	if (cap < 1 || len >= (size_t)cap) {
		(void)fail(c, c->line, "line is longer than %d characters", cap - 1);
		return NULL;
	}
	memcpy(buf, s, len);
	buf[len] = '\0';
	return buf;
}

/* Line of key 'k' of section 'sec' if written, else of the section header, else 1. */
static unsigned key_line(const struct ctx *c, enum sec sec, int k)
{
	if (c->keys[sec][k])
		return c->keys[sec][k];
	return c->sec_line[sec] ? c->sec_line[sec] : 1;
}

/*
 * Default interface name "<network>-<suffix>"; fails at 'line' when it does
 * not fit in IFNAMSIZ, telling the user which key to set.
 */
static int default_ifname(struct ctx *c, unsigned line, const char *net_name, const char *suffix,
			  const char *section, char *dst)
{
	char name[PROFILE_NAME_MAX + PORT_NAME_MAX + 1];

	snprintf(name, sizeof(name), "%s-%s", net_name, suffix);
	if (strlen(name) >= IF_NAMESIZE)
		return fail(c, line,
			    "%s: the default interface name '%s' is longer than %d characters; set "
			    "'interface =' in %s",
			    section, name, IF_NAMESIZE - 1, section);
	copy_str(dst, IF_NAMESIZE, name);
	return 0;
}

/* Defaults and checks of one port that need the whole profile (or network). */
/*
 * The limit keys of port security need a guarded port: say which key is
 * given in vain on a trusted port or one whose security is off.
 */
static int port_finish_security(struct ctx *c, const struct profile_net *net,
				struct profile_port *p, const unsigned *lines)
{
	static const int limit_keys[] = { PK_MAX_MACS, PK_MACS, PK_ADDRESSES, PK_DHCP_RATE,
					  PK_DHCP_LEASES };
	enum profile_sec level = p->sec ? p->sec : net->port_sec;
	const char *why = p->trust == PROFILE_TRUST_YES ? "the port is trusted"
			  : level == PROFILE_SEC_OFF	? "port-security is off for the port"
							: NULL;
	char ip[16];

	for (size_t i = 0; why && i < sizeof(limit_keys) / sizeof(limit_keys[0]); i++)
		if (lines[limit_keys[i]])
			return fail(c, lines[limit_keys[i]], "[port %s] %s: has no effect: %s",
				    p->name, port_keys[limit_keys[i]].name, why);
	for (size_t i = 0; i < p->n_addrs; i++)
		if (!is_host_addr(net, p->addrs_be[i]))
			return fail(c, lines[PK_ADDRESSES],
				    "[port %s] addresses: %s is not a host address of %s", p->name,
				    profile_ip_str(p->addrs_be[i], ip), net->name);
	return 0;
}

static int port_finish(struct ctx *c, const struct profile_net *net, struct profile_port *p,
		       const unsigned *lines)
{
	char section[PORT_NAME_MAX + 8], q[QUOTE_BUF];

	snprintf(section, sizeof(section), "[port %s]", p->name);
	if (!lines[PK_INTERFACE] &&
	    default_ifname(c, p->line, net->name, p->name, section, p->ifname))
		return c->r;
	if (port_finish_security(c, net, p, lines))
		return c->r;
	if (p->type == PROFILE_PORT_NETDEV && p->netns[0])
		return fail(c, lines[PK_NETNS],
			    "netns '%s': only a tap port can be moved into a namespace; port '%s' "
			    "is type netdev",
			    quote(&q, p->netns), p->name);
	/* Untagged frames are the access VLAN's; the same VLAN tagged would be ambiguous. */
	if (p->vlan && (p->trunk[p->vlan / 64] >> (p->vlan % 64) & 1))
		return fail(c, lines[PK_TRUNK],
			    "trunk: VLAN %u is already the port's untagged VLAN (vlan = %u)",
			    p->vlan, p->vlan);
	if (p->impair.jitter_us > p->impair.delay_us)
		return fail(c, lines[PK_JITTER], "jitter: larger than the delay (%u us > %u us)",
			    p->impair.jitter_us, p->impair.delay_us);
	if (p->mirror[0] && !strcmp(p->mirror, p->name))
		return fail(c, lines[PK_MIRROR], "mirror '%s': a port cannot mirror to itself",
			    p->mirror);
	return 0;
}

static int finish_network(struct ctx *c)
{
	struct profile_net *n = c->net;

	if (!c->sec_line[SEC_NETWORK])
		return fail(c, 1, "missing [network] section (with name = and subnet =)");
	if (!n->name[0])
		return fail(c, c->sec_line[SEC_NETWORK], "[network] needs 'name ='");
	if (!n->prefix_len)
		return fail(c, c->sec_line[SEC_NETWORK], "[network] needs 'subnet ='");
	return 0;
}

static int finish_host(struct ctx *c)
{
	struct profile_net *n = c->net;
	char ip[INET_ADDRSTRLEN], sub[32];

	if (!n->has_host)
		return 0;
	if (!c->keys[SEC_HOST][HK_INTERFACE] &&
	    default_ifname(c, c->sec_line[SEC_HOST], n->name, "host", "[host]", n->host_ifname))
		return c->r;
	if (!c->keys[SEC_HOST][HK_ADDRESS])
		n->host_addr_be = htonl(net_first(n) + 1);
	else if (!is_host_addr(n, n->host_addr_be))
		return fail(c, c->keys[SEC_HOST][HK_ADDRESS],
			    "address '%s': must be inside subnet %s, not its network or broadcast "
			    "address",
			    profile_ip_str(n->host_addr_be, ip), subnet_str(n, sub));
	return 0;
}

static int finish_dhcp_timers(struct ctx *c)
{
	struct profile_net *n = c->net;
	unsigned renew_line = c->keys[SEC_DHCP][DK_RENEW];
	unsigned rebind_line = c->keys[SEC_DHCP][DK_REBIND];

	if (!c->keys[SEC_DHCP][DK_LEASE])
		n->lease_secs = 3600;
	/* RFC 2131 §4.4.5: T1 defaults to half the lease, T2 to 7/8 of it. */
	if (!renew_line)
		n->renew_secs = n->lease_secs / 2;
	if (!rebind_line)
		n->rebind_secs = (unsigned)((uint64_t)n->lease_secs * 7 / 8);
	if (!n->has_dhcp)
		return 0;
	/* A default rebinding time is always below the lease: only a written one fails here. */
	if (n->rebind_secs >= n->lease_secs)
		return fail(c, rebind_line,
			    "rebinding-time '%s': must be shorter than lease-time (%u s)",
			    c->rebind_text, n->lease_secs);
	if (n->renew_secs >= n->rebind_secs && renew_line)
		return fail(c, renew_line,
			    "renewal-time '%s': must be shorter than rebinding-time (%u s)",
			    c->renew_text, n->rebind_secs);
	if (n->renew_secs >= n->rebind_secs)
		return fail(c, rebind_line,
			    "rebinding-time '%s': must be longer than renewal-time (%u s, half of "
			    "lease-time by default)",
			    c->rebind_text, n->renew_secs);
	return 0;
}

static int finish_dhcp(struct ctx *c)
{
	struct profile_net *n = c->net;
	char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN], sub[32];
	uint32_t first, last, server, host = ntohl(n->host_addr_be);
	unsigned line;

	n->has_dhcp = c->sec_line[SEC_DHCP] && c->dhcp_enabled;
	if (!c->keys[SEC_DHCP][DK_RANGE]) {
		n->dhcp_first_be = n->subnet_be;
		n->dhcp_last_be = htonl(net_last(n));
	}
	first = ntohl(n->dhcp_first_be);
	last = ntohl(n->dhcp_last_be);
	if (!c->keys[SEC_DHCP][DK_SERVER])
		n->dhcp_server_be = htonl(first + 2);
	server = ntohl(n->dhcp_server_be);
	if (!c->keys[SEC_DHCP][DK_GATEWAY] && n->has_host)
		n->gateway_be = n->host_addr_be;
	if (finish_dhcp_timers(c))
		return c->r;
	if (!n->has_dhcp)
		return 0;

	line = key_line(c, SEC_DHCP, DK_RANGE);
	profile_ip_str(n->dhcp_first_be, a);
	profile_ip_str(n->dhcp_last_be, b);
	if (!in_subnet(n, n->dhcp_first_be) || !in_subnet(n, n->dhcp_last_be))
		return fail(c, line, "range '%s-%s': must be inside subnet %s", a, b,
			    subnet_str(n, sub));
	if (last - first + 1 < DHCP_RANGE_MIN)
		return fail(
			c, line,
			"range '%s-%s': %u addresses; a DHCP range needs at least %d (its first %d "
			"are reserved)",
			a, b, last - first + 1, DHCP_RANGE_MIN, DHCP_RESERVED);
	if (last - first + 1 > DHCP_RANGE_MAX)
		return fail(c, line,
			    "range '%s-%s': %u addresses; a DHCP range holds at most %u (set a "
			    "smaller 'range =')",
			    a, b, last - first + 1, DHCP_RANGE_MAX);

	line = key_line(c, SEC_DHCP, DK_SERVER);
	if (server < first || server >= first + DHCP_RESERVED || server == net_first(n))
		return fail(
			c, line,
			"server '%s': must be one of the first %d addresses of the range (%s-%s) "
			"and not the network address",
			profile_ip_str(n->dhcp_server_be, b), DHCP_RESERVED, a,
			profile_ip_str(htonl(first + DHCP_RESERVED - 1), sub));
	if (n->has_host && server == host)
		return fail(c, line, "server '%s': is the host adapter's address; set 'server ='",
			    profile_ip_str(n->dhcp_server_be, b));
	if (n->has_host && host >= first + DHCP_RESERVED && host <= last)
		return fail(
			c, key_line(c, SEC_HOST, HK_ADDRESS),
			"address '%s': inside the addresses DHCP leases (%s-%s); use one outside "
			"them or among the first %d of the range",
			profile_ip_str(n->host_addr_be, a),
			profile_ip_str(htonl(first + DHCP_RESERVED), b),
			profile_ip_str(n->dhcp_last_be, sub), DHCP_RESERVED);
	if (n->gateway_be && !is_host_addr(n, n->gateway_be))
		return fail(c, c->keys[SEC_DHCP][DK_GATEWAY],
			    "gateway '%s': must be inside subnet %s, not its network or broadcast "
			    "address",
			    profile_ip_str(n->gateway_be, a), subnet_str(n, sub));

	for (size_t i = 0; i < n->n_reserves; i++) {
		const struct profile_reserve *res = &n->reserves[i];
		uint32_t addr = ntohl(res->addr_be);

		if (addr < first + DHCP_RESERVED || addr > last || addr == net_last(n))
			return fail(c, res->line,
				    "reserve '%s': must be inside the leased part of the range "
				    "(%s-%s), "
				    "not its first %d addresses nor the broadcast address",
				    profile_ip_str(res->addr_be, a),
				    profile_ip_str(htonl(first + DHCP_RESERVED), b),
				    profile_ip_str(n->dhcp_last_be, sub), DHCP_RESERVED);
	}
	/* RFC 3442: a next hop the client cannot reach directly is no route at all. */
	for (size_t i = 0; i < n->n_routes; i++)
		if (!in_subnet(n, n->routes[i].gateway_be))
			return fail(c, n->routes[i].line,
				    "route gateway '%s': must be inside subnet %s",
				    profile_ip_str(n->routes[i].gateway_be, a), subnet_str(n, sub));
	return 0;
}

static int finish_nat(struct ctx *c)
{
	struct profile_net *n = c->net;
	char a[INET_ADDRSTRLEN], sub[32];

	if (!c->keys[SEC_NAT][XK_UPLINK])
		copy_str(n->uplink, sizeof(n->uplink), "auto");
	if (!c->keys[SEC_NAT][XK_DNS_PROXY])
		n->dns_proxy = true;
	if (!c->keys[SEC_NAT][XK_RESOLV_CONF])
		copy_str(n->resolv_conf, sizeof(n->resolv_conf), "/etc/resolv.conf");
	if (!n->has_nat)
		return 0;
	/* Guests reach the internet through the host adapter's address: NAT needs one. */
	if (!n->has_host)
		return fail(
			c, c->sec_line[SEC_NAT],
			"[nat] needs a [host] section: guests reach the uplink through the host "
			"adapter");
	for (size_t i = 0; i < n->n_forwards; i++) {
		const struct profile_forward *f = &n->forwards[i];

		if (!is_host_addr(n, f->guest_be))
			return fail(
				c, f->line,
				"forward guest '%s': must be inside subnet %s, not its network or "
				"broadcast address",
				profile_ip_str(f->guest_be, a), subnet_str(n, sub));
	}
	return 0;
}

/* Interface names this profile creates or attaches must be distinct. */
static int finish_ifnames(struct ctx *c)
{
	struct profile_net *n = c->net;

	for (size_t i = 0; i < n->n_ports; i++) {
		const struct profile_port *p = &n->ports[i];
		unsigned line =
			c->port_keys[i][PK_INTERFACE] ? c->port_keys[i][PK_INTERFACE] : p->line;

		if (n->has_host && !strcmp(p->ifname, n->host_ifname))
			return fail(
				c, line,
				"[port %s]: interface '%s' is already the host adapter's (line %u)",
				p->name, p->ifname, n->host_line);
		for (size_t j = 0; j < i; j++) {
			if (!strcmp(p->ifname, n->ports[j].ifname))
				return fail(
					c, line,
					"[port %s]: interface '%s' is already used by [port %s] "
					"(line %u)",
					p->name, p->ifname, n->ports[j].name, n->ports[j].line);
		}
		/* The uplink is the host's way out; one of our own taps cannot be it. */
		if (n->has_nat && p->type == PROFILE_PORT_TAP && !strcmp(p->ifname, n->uplink))
			return fail(c, c->keys[SEC_NAT][XK_UPLINK],
				    "uplink '%s': is the tap of [port %s]", n->uplink, p->name);
	}
	if (n->has_nat && n->has_host && !strcmp(n->uplink, n->host_ifname))
		return fail(c, c->keys[SEC_NAT][XK_UPLINK], "uplink '%s': is the host adapter",
			    n->uplink);
	return 0;
}

/* A mirror names another port of the profile. */
static int finish_mirrors(struct ctx *c)
{
	struct profile_net *n = c->net;

	for (size_t i = 0; i < n->n_ports; i++) {
		bool found = false;

		if (!n->ports[i].mirror[0])
			continue;
		for (size_t j = 0; j < n->n_ports; j++)
			found |= !strcmp(n->ports[j].name, n->ports[i].mirror);
		if (!found)
			return fail(c, c->port_keys[i][PK_MIRROR],
				    "mirror '%s': [port %s] names no [port] of this profile",
				    n->ports[i].mirror, n->ports[i].name);
	}
	return 0;
}

static int finish_vms(struct ctx *c)
{
	struct profile_net *n = c->net;

	for (size_t i = 0; i < n->n_vms; i++) {
		const struct profile_vm *vm = &n->vms[i];
		unsigned line = c->vm_keys[i][VK_PORT];
		bool found = false;

		if (!vm->port[0])
			continue;
		for (size_t j = 0; j < n->n_ports; j++)
			found |= !strcmp(n->ports[j].name, vm->port);
		if (!found)
			return fail(c, line, "port '%s': [vm %s] names no [port] of this profile",
				    vm->port, vm->name);
		for (size_t j = 0; j < i; j++) {
			if (!strcmp(n->vms[j].port, vm->port))
				return fail(c, line,
					    "port '%s': already the port of [vm %s] (line %u)",
					    vm->port, n->vms[j].name, n->vms[j].line);
		}
	}
	return 0;
}

static int finish(struct ctx *c)
{
	struct profile_net *n = c->net;

	if (finish_network(c) || finish_host(c) || finish_dhcp(c) || finish_nat(c))
		return c->r;
	for (size_t i = 0; i < n->n_ports; i++) {
		if (port_finish(c, n, &n->ports[i], c->port_keys[i]))
			return c->r;
	}
	if (finish_ifnames(c) || finish_vms(c) || finish_mirrors(c))
		return c->r;
	return 0;
}

void profile_free(struct profile_net *net)
{
	if (!net)
		return;
	for (size_t i = 0; i < net->n_vms; i++) {
		for (size_t j = 0; j < net->vms[i].n_disks; j++)
			free(net->vms[i].disks[j]);
	}
	free(net->file);
	free(net);
}

int profile_parse(const char *text, const char *label, struct profile_net **ret, char *err,
		  size_t errlen)
{
	struct ctx *c;
	struct profile_net *n;
	int r;

	if (!label)
		label = "profile";
	if (err && errlen)
		err[0] = '\0';
	/* Both are large (the per-key line tables, the fixed arrays): keep them off the stack. */
	c = calloc(1, sizeof(*c));
	n = calloc(1, sizeof(*n));
	if (!c || !n) {
		r = -ENOMEM;
		goto out;
	}
	c->label = label;
	c->pos = text;
	c->err = err;
	c->errlen = errlen;
	c->net = n;
	c->dhcp_enabled = true;
	n->mtu = 1500;
	n->fdb_aging_secs = 300;
	n->fdb_max = 4096;
	n->port_sec = PROFILE_SEC_BASIC;
	n->file = strdup(label);
	if (!n->file) {
		r = -ENOMEM;
		goto out;
	}

	r = ini_parse_stream(reader, c, handler, c);
	if (c->r < 0) {
		r = c->r;
		goto out;
	}
	if (r != 0) {
		/* Our reader hands inih only lines it accepts, so this should not happen. */
		r = fail(c, r > 0 ? (unsigned)r : 1, "syntax error");
		goto out;
	}
	r = finish(c);
	if (r < 0)
		goto out;
	*ret = n;
	n = NULL;
out:
	if (r == -ENOMEM && err && errlen)
		snprintf(err, errlen, "%s: out of memory", label);
	profile_free(n);
	free(c);
	return r;
}

static void set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

int profile_load_file(const char *path, struct profile_net **ret, char *err, size_t errlen)
{
	struct stat st;
	char *text = NULL;
	size_t len = 0;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		set_err(err, errlen, "%s: %s", path, strerror(-r));
		return r;
	}
	if (fstat(fd, &st) < 0) {
		r = -errno;
		set_err(err, errlen, "%s: %s", path, strerror(-r));
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		r = -EISDIR;
		set_err(err, errlen, "%s: %s", path, strerror(EISDIR));
		goto out;
	}
	text = malloc(PROFILE_FILE_MAX + 1);
	if (!text) {
		r = -ENOMEM;
		set_err(err, errlen, "%s: out of memory", path);
		goto out;
	}
	/* Read one byte past the cap so that a file too large is told apart. */
	r = io_read_all(fd, text, PROFILE_FILE_MAX + 1);
	if (r < 0) {
		set_err(err, errlen, "%s: %s", path, strerror(-r));
		goto out;
	}
	len = (size_t)r;
	if (len > PROFILE_FILE_MAX) {
		r = -EFBIG;
		set_err(err, errlen, "%s: larger than %u bytes, not a profile", path,
			PROFILE_FILE_MAX);
		goto out;
	}
	text[len] = '\0';
	if (memchr(text, '\0', len)) {
		r = -EINVAL;
		set_err(err, errlen, "%s: contains a NUL byte, not a text profile", path);
		goto out;
	}
	r = profile_parse(text, path, ret, err, errlen);
out:
	free(text);
	close(fd);
	return r;
}

int profile_set_add(struct profile_set *set, struct profile_net *net)
{
	struct profile_net **nets = reallocarray(set->nets, set->n_nets + 1, sizeof(*nets));

	if (!nets)
		return -ENOMEM;
	set->nets = nets;
	set->nets[set->n_nets++] = net;
	return 0;
}

static int is_profile_name(const struct dirent *d)
{
	size_t len = strlen(d->d_name);

	/* Hidden files are editor and package-manager leftovers, not profiles. */
	if (d->d_name[0] == '.')
		return 0;
	return (len > 5 && !strcmp(d->d_name + len - 5, ".conf")) ||
	       (len > 4 && !strcmp(d->d_name + len - 4, ".ini"));
}

static int add_dir(struct profile_set *set, const char *path, char *err, size_t errlen)
{
	struct dirent **ents = NULL;
	struct profile_net **nets = NULL, **grown;
	size_t n_nets = 0, dirlen = strlen(path);
	int n, r = 0;

	n = scandir(path, &ents, is_profile_name, alphasort);
	if (n < 0) {
		r = -errno;
		set_err(err, errlen, "%s: %s", path, strerror(-r));
		return r;
	}
	if (n == 0) {
		r = -ENOENT;
		set_err(err, errlen, "%s: no *.conf or *.ini profiles in this directory", path);
		goto out;
	}
	nets = calloc((size_t)n, sizeof(*nets));
	if (!nets) {
		r = -ENOMEM;
		set_err(err, errlen, "%s: out of memory", path);
		goto out;
	}
	while (dirlen > 1 && path[dirlen - 1] == '/')
		dirlen--;
	for (int i = 0; i < n; i++) {
		char *file;

		if (asprintf(&file, "%.*s/%s", (int)dirlen, path, ents[i]->d_name) < 0) {
			r = -ENOMEM;
			set_err(err, errlen, "%s: out of memory", path);
			goto out;
		}
		r = profile_load_file(file, &nets[n_nets], err, errlen);
		free(file);
		if (r < 0)
			goto out;
		n_nets++;
	}
	/* All or nothing: grow once, then nothing can fail. */
	grown = reallocarray(set->nets, set->n_nets + n_nets, sizeof(*grown));
	if (!grown) {
		r = -ENOMEM;
		set_err(err, errlen, "%s: out of memory", path);
		goto out;
	}
	set->nets = grown;
	memcpy(set->nets + set->n_nets, nets, n_nets * sizeof(*nets));
	set->n_nets += n_nets;
	n_nets = 0;
out:
	for (size_t i = 0; i < n_nets; i++)
		profile_free(nets[i]);
	free(nets);
	for (int i = 0; i < n; i++)
		free(ents[i]);
	free(ents);
	return r;
}

int profile_set_add_path(struct profile_set *set, const char *path, char *err, size_t errlen)
{
	struct profile_net *net;
	struct stat st;
	int r;

	if (stat(path, &st) < 0) {
		r = -errno;
		set_err(err, errlen, "%s: %s", path, strerror(-r));
		return r;
	}
	if (S_ISDIR(st.st_mode))
		return add_dir(set, path, err, errlen);
	r = profile_load_file(path, &net, err, errlen);
	if (r < 0)
		return r;
	r = profile_set_add(set, net);
	if (r < 0) {
		set_err(err, errlen, "%s: out of memory", path);
		profile_free(net);
	}
	return r;
}

/* An interface name a profile creates or attaches, for conflicts across a set. */
struct ifname_ref {
	const char *name;
	unsigned line;
	const char *what; /* "host adapter" or a port name */
};

/* Fills 'refs' (room for PROFILE_PORTS_MAX + 1) and returns the count. */
static size_t net_ifnames(const struct profile_net *n, struct ifname_ref *refs)
{
	size_t k = 0;

	if (n->has_host)
		refs[k++] = (struct ifname_ref){ n->host_ifname, n->host_line, NULL };
	for (size_t i = 0; i < n->n_ports; i++)
		refs[k++] = (struct ifname_ref){ n->ports[i].ifname, n->ports[i].line,
						 n->ports[i].name };
	return k;
}

static int check_pair(struct ctx *c, const struct profile_net *a, const struct profile_net *b)
{
	struct ifname_ref ra[PROFILE_PORTS_MAX + 1], rb[PROFILE_PORTS_MAX + 1];
	char sa[32], sb[32];
	size_t na, nb;
	unsigned shorter;

	c->label = b->file;
	if (!strcmp(a->name, b->name))
		return fail(c, b->name_line, "name '%s': network already defined in %s:%u", b->name,
			    a->file, a->name_line);
	shorter = a->prefix_len < b->prefix_len ? a->prefix_len : b->prefix_len;
	if (((ntohl(a->subnet_be) ^ ntohl(b->subnet_be)) & prefix_mask(shorter)) == 0)
		return fail(c, b->subnet_line,
			    "subnet '%s': overlaps subnet %s of network '%s' (%s:%u)",
			    subnet_str(b, sb), subnet_str(a, sa), a->name, a->file, a->subnet_line);
	na = net_ifnames(a, ra);
	nb = net_ifnames(b, rb);
	for (size_t j = 0; j < nb; j++) {
		for (size_t i = 0; i < na; i++) {
			char what[PORT_NAME_MAX + 16];

			if (strcmp(ra[i].name, rb[j].name))
				continue;
			if (ra[i].what)
				snprintf(what, sizeof(what), "[port %s]", ra[i].what);
			else
				snprintf(what, sizeof(what), "the host adapter");
			return fail(c, rb[j].line,
				    "interface '%s': already used by %s of network '%s' (%s:%u)",
				    rb[j].name, what, a->name, a->file, ra[i].line);
		}
	}
	return 0;
}

int profile_set_check(const struct profile_set *set, char *err, size_t errlen)
{
	struct ctx c = { .err = err, .errlen = errlen };

	if (err && errlen)
		err[0] = '\0';
	for (size_t j = 0; j < set->n_nets; j++) {
		for (size_t i = 0; i < j; i++) {
			if (check_pair(&c, set->nets[i], set->nets[j]))
				return c.r;
		}
	}
	return 0;
}

void profile_set_done(struct profile_set *set)
{
	for (size_t i = 0; i < set->n_nets; i++)
		profile_free(set->nets[i]);
	free(set->nets);
	set->nets = NULL;
	set->n_nets = 0;
}

int profile_port_from_args(const struct profile_net *net, const char *name, char *const *kv,
			   size_t n, struct profile_port *ret, char *err, size_t errlen)
{
	struct ctx c = { .err = err, .errlen = errlen };
	struct profile_port p;
	unsigned lines[KEYS_MAX] = { 0 };
	char q[QUOTE_BUF];

	if (err && errlen)
		err[0] = '\0';
	if (!is_valid_name(name, PORT_NAME_MAX - 1))
		return fail(&c, 0,
			    "port name '%s': must be 1-%d characters of a-z, 0-9 and '-', not "
			    "starting with '-'",
			    quote(&q, name), PORT_NAME_MAX - 1);
	if (is_reserved_port_name(name))
		return fail(&c, 0, "port name '%s' is taken by the %s", name,
			    reserved_port_owner(name));
	port_init(&p, name, 0);
	for (size_t i = 0; i < n; i++) {
		const char *eq = strchr(kv[i], '=');
		char key[32];

		if (!eq || eq == kv[i] || (size_t)(eq - kv[i]) >= sizeof(key))
			return fail(&c, 0, "argument '%s': expected key=value", quote(&q, kv[i]));
		memcpy(key, kv[i], (size_t)(eq - kv[i]));
		key[eq - kv[i]] = '\0';
		/* lines[] only records that a key was seen: there is no line here. */
		c.line = (unsigned)i + 1;
		if (apply_key(&c, port_keys, PK_N, lines, &p, key, eq + 1,
			      "add-port (keys: type, interface, netns, mac, vlan, trunk, mirror, "
			      "delay, jitter, loss, rate, port-security, trusted, max-macs, macs, "
			      "addresses, dhcp-rate, dhcp-leases)"))
			return c.r;
	}
	c.line = 0;
	if (port_finish(&c, net, &p, lines))
		return c.r;
	*ret = p;
	return 0;
}

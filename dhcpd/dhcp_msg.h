/* SPDX-License-Identifier: MIT */
/*
 * DHCPv4 wire codec (RFC 2131 §2, RFC 2132, RFC 3396). Pure: no system calls,
 * no allocation, no logging. The server (dhcp_server.c) parses every request
 * with dhcp_msg_parse() and writes every reply with the dhcp_build_*()
 * functions; the fuzz target drives the parser with arbitrary bytes.
 *
 * Parsing merges the three option regions (options, then 'file', then 'sname'
 * when option 52 overloads them, RFC 2131 §4.1) and concatenates repeated
 * instances of one option (RFC 3396), so callers see each option once as a
 * (pointer, length) pair into the parsed message. Building overloads only
 * when asked (dhcp_build_allow_overload()): an option that does not fit the
 * options field then goes whole into 'file', else 'sname'; what fits nowhere
 * is refused with -EMSGSIZE and the caller decides.
 */
#ifndef VSWITCH_DHCPD_DHCP_MSG_H
#define VSWITCH_DHCPD_DHCP_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DHCP_MSG_HDR_LEN   236u	 /* fixed BOOTP header: op .. file */
#define DHCP_MSG_MIN_LEN   240u	 /* header + magic cookie */
#define DHCP_MSG_MAX_LEN   4096u /* longest message parsed; longer is -EMSGSIZE */
#define DHCP_MSG_OPTS_MAX  256u	 /* option instances per message; more is -E2BIG */
#define DHCP_REPLY_MIN_LEN 300u	 /* BOOTP minimum (RFC 951, RFC 1542 §2.1) */
#define DHCP_MAGIC_COOKIE  0x63825363u

#define DHCP_OP_REQUEST	    1u
#define DHCP_OP_REPLY	    2u
#define DHCP_FLAG_BROADCAST 0x8000u /* 'flags' top bit, RFC 2131 §2 */

enum dhcp_msg_type {
	DHCP_DISCOVER = 1,
	DHCP_OFFER = 2,
	DHCP_REQUEST = 3,
	DHCP_DECLINE = 4,
	DHCP_ACK = 5,
	DHCP_NAK = 6,
	DHCP_RELEASE = 7,
	DHCP_INFORM = 8,
	DHCP_MSG_TYPE_N, /* array bound; index 0 = no/unknown type */
};

enum dhcp_opt {
	DHCP_OPT_PAD = 0,
	DHCP_OPT_SUBNET_MASK = 1,
	DHCP_OPT_ROUTER = 3,
	DHCP_OPT_DNS = 6,
	DHCP_OPT_HOSTNAME = 12,
	DHCP_OPT_DOMAIN = 15,
	DHCP_OPT_BROADCAST = 28,
	DHCP_OPT_WINS = 44,
	DHCP_OPT_NETBIOS_NODE = 46,
	DHCP_OPT_REQ_ADDR = 50,
	DHCP_OPT_LEASE_TIME = 51,
	DHCP_OPT_OVERLOAD = 52,
	DHCP_OPT_MSG_TYPE = 53,
	DHCP_OPT_SERVER_ID = 54,
	DHCP_OPT_PARAM_LIST = 55,
	DHCP_OPT_MESSAGE = 56,
	DHCP_OPT_MAX_SIZE = 57,
	DHCP_OPT_T1 = 58,
	DHCP_OPT_T2 = 59,
	DHCP_OPT_CLIENT_ID = 61,
	DHCP_OPT_RAPID_COMMIT = 80,
	DHCP_OPT_CLASSLESS_ROUTES = 121,
	DHCP_OPT_MS_CLASSLESS_ROUTES = 249,
	DHCP_OPT_END = 255,
};

/* The fixed BOOTP fields (RFC 2131 §2, Figure 1), host order unless _be. */
struct dhcp_hdr {
	uint8_t op, htype, hlen, hops;
	uint32_t xid; /* host order, copied back verbatim */
	uint16_t secs;
	uint16_t flags;	    /* host order; DHCP_FLAG_BROADCAST */
	uint32_t ciaddr_be; /* network order */
	uint32_t yiaddr_be;
	uint32_t siaddr_be;
	uint32_t giaddr_be;
	uint8_t chaddr[16];
};

/* A parsed message. Big (a few KiB): keep it in an object, not on a small stack. */
struct dhcp_msg {
	struct dhcp_hdr hdr;
	uint8_t overload;		    /* option 52 value, 0 if absent */
	uint8_t type;			    /* option 53, 0 if absent */
	uint64_t present[4];		    /* bitmap of option codes seen */
	uint16_t opt_off[256];		    /* offset of each merged option in opt_data */
	uint16_t opt_len[256];		    /* its merged length in bytes */
	uint16_t n_opt_data;		    /* bytes used in opt_data */
	uint8_t opt_data[DHCP_MSG_MAX_LEN]; /* merged option values */
};

/*
 * Parses the DHCP message 'buf' of 'len' bytes (borrowed; the UDP payload)
 * into 'm'. Checks the cookie, that every option fits its region, that option
 * 52 is valid, and the sizes of the options the server reads (fixed-size ones
 * exactly, lists a non-zero multiple of their item). Returns 0; -EBADMSG for
 * malformed input; -EMSGSIZE if 'len' > DHCP_MSG_MAX_LEN; -E2BIG with more
 * than DHCP_MSG_OPTS_MAX option instances. 'm' is undefined on failure.
 */
int dhcp_msg_parse(struct dhcp_msg *m, const uint8_t *buf, size_t len);

/* Whether option 'code' was present (possibly with length 0). */
bool dhcp_msg_has(const struct dhcp_msg *m, uint8_t code);

/*
 * The merged value of option 'code' in 'm' (borrowed from 'm'), its length in
 * '*ret_len'; NULL if absent. Not NUL-terminated.
 */
const uint8_t *dhcp_msg_opt(const struct dhcp_msg *m, uint8_t code, size_t *ret_len);

/* A 4-byte option as a network-order address; 0 if absent or of another size. */
uint32_t dhcp_msg_opt_be32(const struct dhcp_msg *m, uint8_t code);

/* Name of a message type ("DISCOVER", ...), "unknown" out of range. */
const char *dhcp_msg_type_name(unsigned type);

/* Writes a message into a caller buffer (all borrowed for the builder's life). */
struct dhcp_build {
	uint8_t *buf;	      /* message start */
	size_t len;	      /* bytes written so far */
	size_t max;	      /* largest message allowed, >= DHCP_REPLY_MIN_LEN */
	bool may_overload;    /* dhcp_build_allow_overload() was called */
	size_t overload_at;   /* offset of option 52's value, 0 until written */
	size_t region_len[2]; /* bytes used in 'file' and 'sname' */
};

/*
 * Starts a message of at most 'max' bytes in 'buf': the fixed fields from
 * 'hdr', 'sname' and 'file' zero, and the magic cookie. Returns 0, or
 * -EMSGSIZE if 'max' < DHCP_REPLY_MIN_LEN.
 */
int dhcp_build_init(struct dhcp_build *b, uint8_t *buf, size_t max, const struct dhcp_hdr *hdr);

/*
 * Appends option 'code' with 'len' bytes of 'data' (borrowed), split into
 * instances of at most 255 bytes (RFC 3396 §5). Keeps room for the end option.
 * Returns 0, or -EMSGSIZE (message unchanged) if it does not fit; -EINVAL for
 * the pad and end codes.
 */
int dhcp_build_opt(struct dhcp_build *b, uint8_t code, const void *data, size_t len);

/*
 * Lets later dhcp_build_opt() calls spill options that do not fit the
 * options field into 'file' and then 'sname' (option 52, RFC 2131 §4.1).
 */
void dhcp_build_allow_overload(struct dhcp_build *b);

/* Whether 'len' bytes of option data would still fit in the options field. */
bool dhcp_build_fits(const struct dhcp_build *b, size_t len);

/*
 * Ends the option list (and each overloaded region) and pads with zeros to
 * DHCP_REPLY_MIN_LEN bytes. Returns the message length.
 */
size_t dhcp_build_finish(struct dhcp_build *b);

#endif

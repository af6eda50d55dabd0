/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the DHCP lease journal's line codec
 * (dhcpd/dhcp_lease_file.c). Two properties, each on the whole input:
 *  - Any line: the input, with the CRC it needs appended so that the fuzzer
 *    reaches the syntax behind the checksum, is parsed; a record that
 *    parses is formatted, and that line must parse back to the same
 *    record (address, MAC, state, expiry, client id; the host name too
 *    once the writer has replaced what it does not store).
 *  - Any record the server can make (client id absent or 2-128 bytes, as
 *    the wire codec admits): built from the input, formatted, and parsed
 *    back, equal but for the host name's spaces, controls and 8-bit bytes,
 *    which the journal stores as '-' (and a name that is then just "-"
 *    reads back as none).
 * A record the journal cannot read back is a lease lost at the next start.
 * Seeds: tests/fuzz/corpus/lease/.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "dhcpd/dhcp_lease_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Above the journal's 512-byte lines, so that long inputs reach the parser too. */
#define LINE_CAP 600

static void same_record(const struct dhcp_lease *a, const struct dhcp_lease *b, bool host_exact)
{
	if (a->addr_be != b->addr_be || memcmp(a->mac, b->mac, 6) || a->state != b->state ||
	    a->expires_us / 1000000u != b->expires_us / 1000000u || a->cid_len != b->cid_len ||
	    memcmp(a->cid, b->cid, a->cid_len) || a->has_client != b->has_client)
		abort();
	if (host_exact && strcmp(a->hostname, b->hostname))
		abort();
}

/* Formats 'l' and parses the line back into 'back'; a failure aborts. */
static void round_trip(const struct dhcp_lease *l, struct dhcp_lease *back)
{
	char line[512];
	size_t n = dhcp_lease_file_format(l, line, sizeof(line));

	if (n < 2 || n >= sizeof(line) || line[n - 1] != '\n' || strlen(line) != n)
		abort();
	if (dhcp_lease_file_parse_line(line, n - 1, back))
		abort();
}

static void any_line(const uint8_t *data, size_t size)
{
	char line[LINE_CAP + 10];
	struct dhcp_lease l, back;
	size_t n = size < LINE_CAP ? size : LINE_CAP;

	memcpy(line, data, n);
	n += (size_t)snprintf(line + n, sizeof(line) - n, " %08lx",
			      crc32(0L, (const Bytef *)line, (uInt)n));
	if (dhcp_lease_file_parse_line(line, n, &l))
		return;
	round_trip(&l, &back);
	/* A parsed host name may hold bytes the writer replaces: compare after one pass. */
	same_record(&l, &back, false);
	{
		struct dhcp_lease again;

		round_trip(&back, &again);
		same_record(&back, &again, true);
	}
}

static void any_record(const uint8_t *data, size_t size)
{
	static const uint8_t states[] = { DHCP_LEASE_BOUND, DHCP_LEASE_RELEASED,
					  DHCP_LEASE_DECLINED };
	struct dhcp_lease l = { 0 }, back;
	char host[DHCP_HOSTNAME_MAX] = "";
	size_t k = 0;

	if (size < 20)
		return;
	memcpy(&l.addr_be, data, 4);
	memcpy(l.mac, data + 4, 6);
	l.state = states[data[10] % 3];
	l.has_client = l.state != DHCP_LEASE_DECLINED;
	memcpy(&l.expires_us, data + 11, 8);
	l.expires_us %= UINT64_C(1) << 62; /* within what a clock gives for ages */
	l.cid_len = (uint8_t)(data[19] % (DHCP_CLIENT_ID_MAX + 1));
	if (l.cid_len == 1)
		l.cid_len = 0;
	k = 20;
	for (size_t i = 0; i < l.cid_len; i++)
		l.cid[i] = k < size ? data[k++] : (uint8_t)i;
	for (size_t i = 0; i < DHCP_HOSTNAME_MAX - 1 && k < size && data[k]; i++)
		l.hostname[i] = (char)data[k++];
	round_trip(&l, &back);
	same_record(&l, &back, false);
	for (size_t i = 0; l.hostname[i]; i++) {
		uint8_t ch = (uint8_t)l.hostname[i];

		host[i] = ch > ' ' && ch < 0x7f ? (char)ch : '-';
	}
	/* The journal's "-" stands for "no host name". */
	if (strcmp(back.hostname, strcmp(host, "-") ? host : ""))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	any_line(data, size);
	any_record(data, size);
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of vswitch/profile.c: profiles given as strings and as files in
 * a temporary directory, checked for exact values, exact errno and the exact
 * "FILE:LINE: reason" messages; the embedded default; defaults; sets loaded
 * from directories and checked for conflicts; add-port arguments; and every
 * profile in examples/ (found through $SRC_DIR, set by tests/profile.cmake).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vswitch/profile.h"

static uint32_t ip(const char *s)
{
	struct in_addr a;

	assert_int_equal(inet_pton(AF_INET, s, &a), 1);
	return a.s_addr;
}

static struct profile_net *parse_ok(const char *text)
{
	char err[PROFILE_ERR_MAX] = "";
	struct profile_net *n = NULL;
	int r = profile_parse(text, "t.conf", &n, err, sizeof(err));

	if (r != 0)
		fail_msg("unexpected error %d: %s", r, err);
	assert_non_null(n);
	return n;
}

/* Parses 'text' as "t.conf" and expects -EINVAL with exactly 'want'. */
static void expect_err(const char *text, const char *want)
{
	char err[PROFILE_ERR_MAX] = "";
	struct profile_net *n = NULL;

	assert_int_equal(profile_parse(text, "t.conf", &n, err, sizeof(err)), -EINVAL);
	assert_null(n);
	assert_string_equal(err, want);
}

#define NET "[network]\nname = lab\nsubnet = 192.168.131.0/24\n"

static void test_default_text(void **state)
{
	char err[PROFILE_ERR_MAX];
	struct profile_net *n = NULL;

	(void)state;
	assert_int_equal(profile_parse(profile_default_text, "default", &n, err, sizeof(err)), 0);
	assert_string_equal(n->file, "default");
	assert_string_equal(n->name, "vswitch0");
	assert_int_equal(n->subnet_be, ip("192.168.131.0"));
	assert_int_equal(n->prefix_len, 24);
	assert_int_equal(n->mtu, 1500);
	assert_true(n->has_host);
	assert_string_equal(n->host_ifname, "vswitch0-host");
	assert_int_equal(n->host_addr_be, ip("192.168.131.1"));
	assert_true(n->has_dhcp);
	assert_int_equal(n->dhcp_first_be, ip("192.168.131.0"));
	assert_int_equal(n->dhcp_last_be, ip("192.168.131.255"));
	assert_int_equal(n->dhcp_server_be, ip("192.168.131.2"));
	assert_int_equal(n->gateway_be, ip("192.168.131.1"));
	assert_int_equal(n->n_dns, 0);
	assert_int_equal(n->lease_secs, 3600);
	assert_false(n->has_nat);
	assert_int_equal(n->n_ports, 0);
	assert_int_equal(n->n_vms, 0);
	profile_free(n);
}

static void test_defaults(void **state)
{
	struct profile_net *n = parse_ok(NET);

	(void)state;
	assert_string_equal(n->name, "lab");
	assert_int_equal(n->name_line, 2);
	assert_int_equal(n->subnet_line, 3);
	assert_int_equal(n->mtu, 1500);
	assert_int_equal(n->fdb_aging_secs, 300);
	assert_int_equal(n->fdb_max, 4096);
	assert_false(n->has_host);
	assert_false(n->has_dhcp);
	assert_false(n->has_nat);
	assert_true(n->dns_proxy);
	assert_string_equal(n->uplink, "auto");
	assert_int_equal(n->lease_secs, 3600);
	assert_int_equal(n->renew_secs, 1800);
	assert_int_equal(n->rebind_secs, 3150);
	assert_int_equal(n->gateway_be, 0);
	profile_free(n);

	/* Empty sections still count: [host] and [dhcp] with no keys. */
	n = parse_ok(NET "[host]\n[dhcp]\n[nat]\n[port vm1]\n[vm web]\n");
	assert_true(n->has_host);
	assert_string_equal(n->host_ifname, "lab-host");
	assert_int_equal(n->host_line, 4);
	assert_int_equal(n->host_addr_be, ip("192.168.131.1"));
	assert_true(n->has_dhcp);
	assert_int_equal(n->dhcp_server_be, ip("192.168.131.2"));
	assert_int_equal(n->gateway_be, ip("192.168.131.1"));
	assert_true(n->has_nat);
	assert_true(n->dns_proxy);
	assert_string_equal(n->uplink, "auto");
	assert_string_equal(n->resolv_conf, "/etc/resolv.conf");
	assert_int_equal(n->n_ports, 1);
	assert_string_equal(n->ports[0].name, "vm1");
	assert_int_equal(n->ports[0].type, PROFILE_PORT_TAP);
	assert_string_equal(n->ports[0].ifname, "lab-vm1");
	assert_string_equal(n->ports[0].netns, "");
	assert_false(n->ports[0].has_mac);
	assert_int_equal(n->ports[0].line, 7);
	assert_int_equal(n->n_vms, 1);
	assert_string_equal(n->vms[0].port, "");
	assert_int_equal(n->vms[0].disk_mode, PROFILE_DISK_DIRECT);
	assert_int_equal(n->vms[0].n_disks, 0);
	profile_free(n);

	/* Range set, server not: the 3rd address of the range. */
	n = parse_ok(NET "[dhcp]\nrange = 192.168.131.100-192.168.131.200\n");
	assert_int_equal(n->dhcp_server_be, ip("192.168.131.102"));
	assert_int_equal(n->gateway_be, 0);
	profile_free(n);

	/* enabled = no turns the section off and skips its layout checks. */
	n = parse_ok("[network]\nname = x\nsubnet = 10.0.0.0/29\n[dhcp]\nenabled = no\n");
	assert_false(n->has_dhcp);
	profile_free(n);
}

static void test_full(void **state)
{
	static const char text[] = "; a profile with every key\n"
				   "[network]\n"
				   "name = lab-2\n"
				   "subnet = 10.20.0.0/16   # comment\n"
				   "mtu = 9000\n"
				   "fdb-aging = 5m\n"
				   "fdb-max = 100000\n"
				   "[host]\n"
				   "interface = labhost\n"
				   "address = 10.20.0.1\n"
				   "[dhcp]\n"
				   "enabled = on\n"
				   "range = 10.20.1.0 - 10.20.1.255\n"
				   "server = 10.20.1.15\n"
				   "gateway = 10.20.0.254\n"
				   "dns = 10.20.0.1, 8.8.8.8,9.9.9.9\n"
				   "wins = 10.20.0.3\n"
				   "domain = lab.example.org\n"
				   "lease-time = 2d\n"
				   "renewal-time = 90s\n"
				   "rebinding-time = 3600\n"
				   "reserve = 52:54:00:12:34:56 10.20.1.40 web1\n"
				   "reserve = 52:54:00:AB:cd:ef 10.20.1.41\n"
				   "route = 10.99.0.0/16 10.20.0.254\n"
				   "route = 0.0.0.0/0 10.20.0.253\n"
				   "[nat]\n"
				   "uplink = eth0\n"
				   "forward = tcp 8080 10.20.1.40:80\n"
				   "forward = udp 8080 10.20.1.40:53\n"
				   "dns-proxy = off\n"
				   "[port vm1]\n"
				   "type = tap\n"
				   "interface = vm1tap\n"
				   "netns = guest1\n"
				   "mac = 52:54:00:12:34:56\n"
				   "[port up]\n"
				   "type = netdev\n"
				   "interface = eth1\n"
				   "[vm web1]\n"
				   "port = vm1\n"
				   "disk = images/base.vhd\n"
				   "disk = /srv/data disk.vhd\n"
				   "disk-mode = differencing\n";
	struct profile_net *n = parse_ok(text);

	(void)state;
	assert_string_equal(n->name, "lab-2");
	assert_int_equal(n->subnet_be, ip("10.20.0.0"));
	assert_int_equal(n->prefix_len, 16);
	assert_int_equal(n->mtu, 9000);
	assert_int_equal(n->fdb_aging_secs, 300);
	assert_int_equal(n->fdb_max, 100000);
	assert_string_equal(n->host_ifname, "labhost");
	assert_int_equal(n->host_line, 9);
	assert_int_equal(n->host_addr_be, ip("10.20.0.1"));
	assert_true(n->has_dhcp);
	assert_int_equal(n->dhcp_first_be, ip("10.20.1.0"));
	assert_int_equal(n->dhcp_last_be, ip("10.20.1.255"));
	assert_int_equal(n->dhcp_server_be, ip("10.20.1.15"));
	assert_int_equal(n->gateway_be, ip("10.20.0.254"));
	assert_int_equal(n->n_dns, 3);
	assert_int_equal(n->dns_be[0], ip("10.20.0.1"));
	assert_int_equal(n->dns_be[1], ip("8.8.8.8"));
	assert_int_equal(n->dns_be[2], ip("9.9.9.9"));
	assert_int_equal(n->n_wins, 1);
	assert_int_equal(n->wins_be[0], ip("10.20.0.3"));
	assert_string_equal(n->domain, "lab.example.org");
	assert_int_equal(n->n_routes, 2);
	assert_int_equal(n->routes[0].dest_be, ip("10.99.0.0"));
	assert_int_equal(n->routes[0].prefix_len, 16);
	assert_int_equal(n->routes[0].gateway_be, ip("10.20.0.254"));
	assert_int_equal(n->routes[1].prefix_len, 0);
	assert_int_equal(n->lease_secs, 172800);
	assert_int_equal(n->renew_secs, 90);
	assert_int_equal(n->rebind_secs, 3600);
	assert_int_equal(n->n_reserves, 2);
	assert_memory_equal(n->reserves[0].mac, "\x52\x54\x00\x12\x34\x56", 6);
	assert_int_equal(n->reserves[0].addr_be, ip("10.20.1.40"));
	assert_string_equal(n->reserves[0].hostname, "web1");
	assert_int_equal(n->reserves[0].line, 22);
	assert_memory_equal(n->reserves[1].mac, "\x52\x54\x00\xab\xcd\xef", 6);
	assert_string_equal(n->reserves[1].hostname, "");
	assert_true(n->has_nat);
	assert_string_equal(n->uplink, "eth0");
	assert_int_equal(n->n_forwards, 2);
	assert_int_equal(n->forwards[0].proto, IPPROTO_TCP);
	assert_int_equal(n->forwards[0].host_port, 8080);
	assert_int_equal(n->forwards[0].guest_be, ip("10.20.1.40"));
	assert_int_equal(n->forwards[0].guest_port, 80);
	assert_int_equal(n->forwards[0].line, 28);
	assert_int_equal(n->forwards[1].proto, IPPROTO_UDP);
	assert_int_equal(n->forwards[1].guest_port, 53);
	assert_false(n->dns_proxy);
	assert_int_equal(n->n_ports, 2);
	assert_string_equal(n->ports[0].name, "vm1");
	assert_int_equal(n->ports[0].type, PROFILE_PORT_TAP);
	assert_string_equal(n->ports[0].ifname, "vm1tap");
	assert_string_equal(n->ports[0].netns, "guest1");
	assert_true(n->ports[0].has_mac);
	assert_memory_equal(n->ports[0].mac, "\x52\x54\x00\x12\x34\x56", 6);
	assert_int_equal(n->ports[0].line, 31);
	assert_int_equal(n->ports[1].type, PROFILE_PORT_NETDEV);
	assert_string_equal(n->ports[1].ifname, "eth1");
	assert_int_equal(n->n_vms, 1);
	assert_string_equal(n->vms[0].name, "web1");
	assert_string_equal(n->vms[0].port, "vm1");
	assert_int_equal(n->vms[0].n_disks, 2);
	assert_string_equal(n->vms[0].disks[0], "images/base.vhd");
	assert_string_equal(n->vms[0].disks[1], "/srv/data disk.vhd");
	assert_int_equal(n->vms[0].disk_mode, PROFILE_DISK_DIFFERENCING);
	assert_int_equal(n->vms[0].line, 39);
	profile_free(n);
}

static void test_syntax(void **state)
{
	struct profile_net *n;

	(void)state;
	/* Comments, CRLF, a BOM, indented keys that are not continuations. */
	n = parse_ok("\xef\xbb\xbf# top\r\n"
		     "  [network]   ; trailing\r\n"
		     "\tname=lab\r\n"
		     "    subnet =   192.168.131.0/24 ;comment\r\n"
		     "[vm a]\n"
		     "disk = a;b.vhd\n");
	assert_string_equal(n->name, "lab");
	assert_string_equal(n->vms[0].disks[0], "a;b.vhd");
	profile_free(n);
	expect_err(NET "mtu = 1500#x\n",
		   "t.conf:4: mtu '1500#x': must be a number from 576 to 65535");
	n = parse_ok(NET "[vm a]\ndisk = a#1.vhd   # not part of the path\n");
	assert_string_equal(n->vms[0].disks[0], "a#1.vhd");
	profile_free(n);

	/* Durations and booleans in every spelling. */
	n = parse_ok(NET "[dhcp]\nlease-time = 30m\n[nat]\ndns-proxy = FALSE\n[host]\n");
	assert_int_equal(n->lease_secs, 1800);
	assert_int_equal(n->renew_secs, 900);
	assert_int_equal(n->rebind_secs, 1575);
	assert_false(n->dns_proxy);
	profile_free(n);
	n = parse_ok(NET "[dhcp]\nlease-time = 1h\nenabled = 1\n[nat]\ndns-proxy = true\n[host]\n");
	assert_int_equal(n->lease_secs, 3600);
	assert_true(n->has_dhcp);
	assert_true(n->dns_proxy);
	profile_free(n);
	n = parse_ok(NET "[dhcp]\nlease-time = 60\nenabled = off\n");
	assert_int_equal(n->lease_secs, 60);
	assert_false(n->has_dhcp);
	profile_free(n);

	/* Explicit empty gateway: no router option despite the host adapter. */
	n = parse_ok(NET "[host]\n[dhcp]\ngateway =\ndns =\nwins =\n");
	assert_int_equal(n->gateway_be, 0);
	assert_int_equal(n->n_dns, 0);
	profile_free(n);

	/* Sections in any order: ports before [network]. */
	n = parse_ok("[port a]\n[vm x]\nport = a\n" NET);
	assert_string_equal(n->ports[0].ifname, "lab-a");
	profile_free(n);
}

static void test_errors(void **state)
{
	(void)state;
	expect_err(NET "subnet = 1.2.3.0/24\n",
		   "t.conf:4: duplicate key 'subnet' (first at line 3)");
	expect_err("[network]\nname = lab\nsubnet = 192.168.131.0/33\n",
		   "t.conf:3: subnet '192.168.131.0/33': prefix length must be 8-30");
	expect_err("[network]\nname = lab\nsubnet = 192.168.131.1/24\n",
		   "t.conf:3: subnet '192.168.131.1/24': host bits are set; did you mean "
		   "'192.168.131.0/24'?");
	/* Fuzzer find: quoting a 31-character address overflowed a 16-byte buffer. */
	expect_err("[network]\nname = lab\nsubnet = 1234567890123456789012345678901/24\n",
		   "t.conf:3: subnet '1234567890123456789012345678901/24': "
		   "'1234567890123456789012345678901' is not an IPv4 address");
	expect_err("[network]\nname = lab\nsubnet = 127.0.0.0/8\n",
		   "t.conf:3: subnet '127.0.0.0/8': not a unicast network (0/8, 127/8 and 224/3 "
		   "are not)");
	expect_err("[network]\nname = lab\nsubnet = 192.168.131.0\n",
		   "t.conf:3: subnet '192.168.131.0': expected ADDRESS/PREFIX, e.g. "
		   "192.168.131.0/24");
	expect_err(NET "[bridge]\n",
		   "t.conf:4: unknown section '[bridge]' (expected network, host, dhcp, nat, port "
		   "or vm)");
	expect_err(NET "colour = blue\n", "t.conf:4: unknown key 'colour' in [network]");
	expect_err(NET "[port a]\nmtu = 1500\n", "t.conf:5: unknown key 'mtu' in [port a]");
	expect_err(NET "[host]\n[host]\n",
		   "t.conf:5: duplicate section '[host]' (first at line 4)");
	expect_err(NET "[port a]\n[port a]\n",
		   "t.conf:5: duplicate section '[port a]' (first at line 4)");
	expect_err(NET "[port]\n", "t.conf:4: section '[port]' needs a name: [port NAME]");
	expect_err(NET "[dhcp]\nroute = 10.1.0.0/16\n",
		   "t.conf:5: route '10.1.0.0/16': expected DESTINATION/PREFIX GATEWAY, e.g. "
		   "10.1.0.0/16 192.168.131.1");
	expect_err(NET "[dhcp]\nroute = 10.1.0.1/16 192.168.131.1\n",
		   "t.conf:5: route '10.1.0.1/16 192.168.131.1': host bits are set in the "
		   "destination");
	expect_err(NET "[dhcp]\nroute = 10.1.0.0/16 10.9.9.9\n",
		   "t.conf:5: route gateway '10.9.9.9': must be inside subnet 192.168.131.0/24");
	expect_err(
		"[network]\nname = big\nsubnet = 10.0.0.0/14\n[dhcp]\nrange = "
		"10.0.0.0-10.1.255.255\n",
		"t.conf:5: range '10.0.0.0-10.1.255.255': 131072 addresses; a DHCP range holds at "
		"most 65552 (set a smaller 'range =')");
	expect_err(NET "[port host]\n",
		   "t.conf:4: [port host]: the name 'host' is taken by the host adapter");
	expect_err(NET "[dhcp x]\n", "t.conf:4: section '[dhcp]' takes no name, got 'x'");
	expect_err(NET "[port A]\n",
		   "t.conf:4: [port] name 'A': must be 1-31 characters of a-z, 0-9 and '-', not "
		   "starting with '-'");
	expect_err(NET "[host\n", "t.conf:4: section header '[host' lacks its closing ']'");
	expect_err(NET
		   "[port "
		   "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefg"
		   "hijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij]\n",
		   "t.conf:4: section header "
		   "'[port abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefgh...' is too "
		   "long");
	expect_err("name = x\n", "t.conf:1: key 'name' comes before any [section]");
	expect_err(NET "mtu 1500\n",
		   "t.conf:4: expected 'key = value' or '[section]', got 'mtu 1500'");
	expect_err("# nothing\n", "t.conf:1: missing [network] section (with name = and subnet =)");
	expect_err("\n[network]\nsubnet = 10.0.0.0/8\n", "t.conf:2: [network] needs 'name ='");
	expect_err("[network]\nname = x\n", "t.conf:1: [network] needs 'subnet ='");
	expect_err("[network]\nname = Lab\n",
		   "t.conf:2: name 'Lab': must be 1-12 characters of a-z, 0-9 and '-', not "
		   "starting with '-'");
	expect_err("[network]\nname = abcdefghijklm\n",
		   "t.conf:2: name 'abcdefghijklm': must be 1-12 characters of a-z, 0-9 and '-', "
		   "not starting with '-'");
	expect_err(NET "mtu = 575\n", "t.conf:4: mtu '575': must be a number from 576 to 65535");
	expect_err(NET "mtu = 99999999999999999999999\n",
		   "t.conf:4: mtu '99999999999999999999999': must be a number from 576 to 65535");
	expect_err(NET "fdb-aging = 1w\n",
		   "t.conf:4: fdb-aging '1w': must be a duration from 10 s to 1000000 s");
	expect_err(NET "fdb-max = 15\n",
		   "t.conf:4: fdb-max '15': must be a number from 16 to 1048576");

	/* [host] */
	expect_err(NET "[host]\naddress = 10.0.0.1\n",
		   "t.conf:5: address '10.0.0.1': must be inside subnet 192.168.131.0/24, not its "
		   "network or broadcast address");
	expect_err(NET "[host]\naddress = 192.168.131.0\n",
		   "t.conf:5: address '192.168.131.0': must be inside subnet 192.168.131.0/24, not "
		   "its network or broadcast address");
	expect_err(NET "[host]\naddress = 192.168.131.255\n",
		   "t.conf:5: address '192.168.131.255': must be inside subnet 192.168.131.0/24, "
		   "not its network or broadcast address");
	expect_err(NET "[host]\naddress = 192.168.131.300\n",
		   "t.conf:5: address '192.168.131.300': not an IPv4 address");
	expect_err(NET "[host]\ninterface = a-very-long-name0\n",
		   "t.conf:5: interface 'a-very-long-name0': must be 1-15 characters without '/', "
		   "':' or blanks (an interface name)");
	expect_err(
		"[network]\nname = abcdefghijkl\nsubnet = 10.0.0.0/8\n[host]\n",
		"t.conf:4: [host]: the default interface name 'abcdefghijkl-host' is longer than "
		"15 characters; set 'interface =' in [host]");
	expect_err(
		NET "[host]\naddress = 192.168.131.100\n[dhcp]\n",
		"t.conf:5: address '192.168.131.100': inside the addresses DHCP leases "
		"(192.168.131.16-192.168.131.255); use one outside them or among the first 16 of "
		"the range");

	/* [dhcp] */
	expect_err(NET "[dhcp]\nenabled = maybe\n", "t.conf:5: enabled 'maybe': must be yes or no");
	expect_err(NET "[dhcp]\nrange = 192.168.130.0-192.168.131.255\n",
		   "t.conf:5: range '192.168.130.0-192.168.131.255': must be inside subnet "
		   "192.168.131.0/24");
	expect_err(NET "[dhcp]\nrange = 192.168.131.10-192.168.131.25\n",
		   "t.conf:5: range '192.168.131.10-192.168.131.25': 16 addresses; a DHCP range "
		   "needs at least 17 (its first 16 are reserved)");
	expect_err(
		NET "[dhcp]\nrange = 192.168.131.20-192.168.131.10\n",
		"t.conf:5: range '192.168.131.20-192.168.131.10': the first address is above the "
		"last");
	expect_err(
		"[network]\nname = x\nsubnet = 10.0.0.0/28\n[dhcp]\n",
		"t.conf:4: range '10.0.0.0-10.0.0.15': 16 addresses; a DHCP range needs at least "
		"17 (its first 16 are reserved)");
	expect_err(
		NET "[dhcp]\nserver = 192.168.131.16\n",
		"t.conf:5: server '192.168.131.16': must be one of the first 16 addresses of the "
		"range (192.168.131.0-192.168.131.15) and not the network address");
	expect_err(NET "[host]\naddress = 192.168.131.2\n[dhcp]\n",
		   "t.conf:6: server '192.168.131.2': is the host adapter's address; set 'server "
		   "='");
	expect_err(NET "[dhcp]\ngateway = 10.1.1.1\n",
		   "t.conf:5: gateway '10.1.1.1': must be inside subnet 192.168.131.0/24, not its "
		   "network or broadcast address");
	expect_err(NET "[dhcp]\ndns = 1.1.1.1,2.2.2.2,3.3.3.3,4.4.4.4,5.5.5.5\n",
		   "t.conf:5: dns '1.1.1.1,2.2.2.2,3.3.3.3,4.4.4.4,5.5.5.5': more than 4 addresses "
		   "(the limit)");
	expect_err(NET "[dhcp]\nwins = 1.1.1.1,,2.2.2.2\n",
		   "t.conf:5: wins '1.1.1.1,,2.2.2.2': '' is not a unicast IPv4 address");
	expect_err(
		NET "[dhcp]\ndomain = -bad.example\n",
		"t.conf:5: domain '-bad.example': not a domain name (labels of a-z, 0-9 and '-', "
		"at most 253 characters)");
	expect_err(NET "[dhcp]\nlease-time = 59\n",
		   "t.conf:5: lease-time '59': must be at least 60 s");
	expect_err(
		NET "[dhcp]\nlease-time = 1y\n",
		"t.conf:5: lease-time '1y': expected a duration such as 3600, 90s, 30m, 1h or 2d");
	expect_err(
		NET "[dhcp]\nlease-time = 50000d\n",
		"t.conf:5: lease-time '50000d': expected a duration such as 3600, 90s, 30m, 1h or "
		"2d");
	expect_err(NET "[dhcp]\nlease-time = 1h\nrenewal-time = 55m\n",
		   "t.conf:6: renewal-time '55m': must be shorter than rebinding-time (3150 s)");
	expect_err(NET "[dhcp]\nrebinding-time = 1h\n",
		   "t.conf:5: rebinding-time '1h': must be shorter than lease-time (3600 s)");
	expect_err(
		NET "[dhcp]\nrebinding-time = 1800\n",
		"t.conf:5: rebinding-time '1800': must be longer than renewal-time (1800 s, half "
		"of lease-time by default)");
	expect_err(NET "[dhcp]\nrenewal-time = 20m\nrebinding-time = 20m\n",
		   "t.conf:5: renewal-time '20m': must be shorter than rebinding-time (1200 s)");
	expect_err(
		NET "[dhcp]\nreserve = 52:54:00:12:34:56 192.168.131.15\n",
		"t.conf:5: reserve '192.168.131.15': must be inside the leased part of the range "
		"(192.168.131.16-192.168.131.255), not its first 16 addresses nor the broadcast "
		"address");
	expect_err(NET "[dhcp]\nreserve = 52:54:00:12:34:56 192.168.131.255\n",
		   "t.conf:5: reserve '192.168.131.255': must be inside the leased part of the "
		   "range (192.168.131.16-192.168.131.255), not its first 16 addresses nor the "
		   "broadcast address");
	expect_err(NET "[dhcp]\nrange = 192.168.131.0-192.168.131.99\n"
		       "reserve = 52:54:00:12:34:56 192.168.131.100\n",
		   "t.conf:6: reserve '192.168.131.100': must be inside the leased part of the "
		   "range (192.168.131.16-192.168.131.99), not its first 16 addresses nor the "
		   "broadcast address");
	expect_err(NET "[dhcp]\nreserve = 52:54:00:12:34:56 192.168.131.40\n"
		       "reserve = 52:54:00:12:34:56 192.168.131.41\n",
		   "t.conf:6: reserve '52:54:00:12:34:56 192.168.131.41': MAC 52:54:00:12:34:56 is "
		   "already reserved at line 5");
	expect_err(NET "[dhcp]\nreserve = 52:54:00:12:34:56 192.168.131.40\n"
		       "reserve = 52:54:00:12:34:57 192.168.131.40 b\n",
		   "t.conf:6: reserve '52:54:00:12:34:57 192.168.131.40 b': 192.168.131.40 is "
		   "already reserved at line 5");
	expect_err(NET "[dhcp]\nreserve = 01:00:5e:00:00:01 192.168.131.40\n",
		   "t.conf:5: reserve '01:00:5e:00:00:01 192.168.131.40': '01:00:5e:00:00:01' is "
		   "not a unicast MAC address like 52:54:00:12:34:56");
	expect_err(NET "[dhcp]\nreserve = 52:54:00:12:34:56 192.168.131.40 web_1\n",
		   "t.conf:5: reserve '52:54:00:12:34:56 192.168.131.40 web_1': host name 'web_1' "
		   "must be 1-63 characters of letters, digits and '-'");
	expect_err(NET "[dhcp]\nreserve = 52:54:00:12:34:56\n",
		   "t.conf:5: reserve '52:54:00:12:34:56': expected MAC ADDRESS [HOSTNAME]");

	/* [nat] */
	expect_err(
		NET "[nat]\n",
		"t.conf:4: [nat] needs a [host] section: guests reach the uplink through the host "
		"adapter");
	expect_err(
		NET "[host]\n[nat]\nforward = tcp 8080 10.0.0.5:80\n",
		"t.conf:6: forward guest '10.0.0.5': must be inside subnet 192.168.131.0/24, not "
		"its network or broadcast address");
	expect_err(NET "[host]\n[nat]\nforward = tcp 8080 192.168.131.5:80\n"
		       "forward = tcp 8080 192.168.131.6:81\n",
		   "t.conf:7: forward 'tcp 8080 192.168.131.6:81': tcp port 8080 is already "
		   "forwarded at line 6");
	expect_err(
		NET "[host]\n[nat]\nforward = sctp 1 192.168.131.5:80\n",
		"t.conf:6: forward 'sctp 1 192.168.131.5:80': protocol 'sctp' must be tcp or udp");
	expect_err(NET "[host]\n[nat]\nforward = tcp 0 192.168.131.5:80\n",
		   "t.conf:6: forward 'tcp 0 192.168.131.5:80': host port '0' must be 1-65535");
	expect_err(NET "[host]\n[nat]\nforward = udp 53 192.168.131.5:65536\n",
		   "t.conf:6: forward 'udp 53 192.168.131.5:65536': guest port '65536' must be "
		   "1-65535");
	expect_err(NET "[host]\n[nat]\ndns-proxy = sometimes\n",
		   "t.conf:6: dns-proxy 'sometimes': must be yes or no");
	expect_err(NET "[host]\n[nat]\nresolv-conf = resolv.conf\n",
		   "t.conf:6: resolv-conf 'resolv.conf': must be an absolute path of at most 255 "
		   "characters");
	expect_err(NET "[host]\n[nat]\nuplink = lab-host\n",
		   "t.conf:6: uplink 'lab-host': is the host adapter");

	/* [port], [vm] */
	expect_err(NET "[port a]\ntype = veth\n", "t.conf:5: type 'veth': must be tap or netdev");
	expect_err(NET "[port a]\nnetns = ns1\ntype = netdev\n",
		   "t.conf:5: netns 'ns1': only a tap port can be moved into a namespace; port 'a' "
		   "is type netdev");
	expect_err(
		NET "[port a]\nmac = 53:54:00:12:34:56\n",
		"t.conf:5: mac '53:54:00:12:34:56': must be a unicast address (first octet even, "
		"not all zero)");
	expect_err(NET "[port a]\nmac = 52:54:00:12:34\n",
		   "t.conf:5: mac '52:54:00:12:34': expected a MAC address like 52:54:00:12:34:56");
	expect_err(
		NET "[port a-very-long-port]\n",
		"t.conf:4: [port a-very-long-port]: the default interface name "
		"'lab-a-very-long-port' is longer than 15 characters; set 'interface =' in [port "
		"a-very-long-port]");
	expect_err(NET "[host]\n[port h2]\ninterface = lab-host\n",
		   "t.conf:6: [port h2]: interface 'lab-host' is already the host adapter's (line "
		   "4)");
	expect_err(NET "[port a]\ninterface = eth1\n[port b]\ntype = netdev\ninterface = eth1\n",
		   "t.conf:8: [port b]: interface 'eth1' is already used by [port a] (line 4)");
	expect_err(NET "[vm web]\nport = vm1\n",
		   "t.conf:5: port 'vm1': [vm web] names no [port] of this profile");
	expect_err(NET "[port a]\n[vm x]\nport = a\n[vm y]\nport = a\n",
		   "t.conf:8: port 'a': already the port of [vm x] (line 5)");
	expect_err(NET "[vm x]\ndisk-mode = snapshot\n",
		   "t.conf:5: disk-mode 'snapshot': must be direct, differencing or undo");
	expect_err(NET "[vm x]\ndisk = a.vhd\ndisk = a.vhd\n",
		   "t.conf:6: disk 'a.vhd': listed twice");
	expect_err(NET "[vm x]\ndisk =\n", "t.conf:5: disk '': needs the path of an image");
}

/* Text of NET followed by 'n' copies of 'fmt' formatted with their index. */
static char *repeat(const char *head, const char *fmt, unsigned n)
{
	size_t cap = strlen(head) + (size_t)n * 128 + 1, len;
	char *s = malloc(cap);

	assert_non_null(s);
	len = (size_t)snprintf(s, cap, "%s", head);
	/* 'fmt' is one of this file's literals, each taking the index twice. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	for (unsigned i = 0; i < n; i++)
		len += (size_t)snprintf(s + len, cap - len, fmt, i, i);
#pragma GCC diagnostic pop
	return s;
}

static void test_limits(void **state)
{
	struct profile_net *n;
	char *s, want[128];

	(void)state;
	s = repeat(NET, "[port p%u]\ninterface = p%u\n", PROFILE_PORTS_MAX);
	n = parse_ok(s);
	assert_int_equal(n->n_ports, PROFILE_PORTS_MAX);
	profile_free(n);
	free(s);
	s = repeat(NET, "[port p%u]\ninterface = p%u\n", PROFILE_PORTS_MAX + 1);
	snprintf(want, sizeof(want), "t.conf:%u: [port p%u]: too many [port] sections (limit %u)",
		 4 + 2 * PROFILE_PORTS_MAX, PROFILE_PORTS_MAX, PROFILE_PORTS_MAX);
	expect_err(s, want);
	free(s);

	{
		/* 257 reservations with distinct MACs and addresses inside a /16. */
		size_t cap = 64 * 1024, len;

		s = malloc(cap);
		assert_non_null(s);
		len = (size_t)snprintf(s, cap, "%s",
				       "[network]\nname = lab\nsubnet = 10.0.0.0/16\n[dhcp]\n");
		for (unsigned i = 0; i <= PROFILE_RESERVES_MAX; i++)
			len += (size_t)snprintf(s + len, cap - len,
						"reserve = 52:54:00:00:%02x:%02x 10.0.%u.%u\n",
						i >> 8, i & 0xff, 1 + i / 200, i % 200 + 1);
		snprintf(want, sizeof(want),
			 "t.conf:%u: reserve '52:54:00:00:01:00 10.0.2.57': too many reservations "
			 "(limit %u)",
			 5 + PROFILE_RESERVES_MAX, PROFILE_RESERVES_MAX);
		expect_err(s, want);
		free(s);
	}

	s = repeat(NET "[vm x]\n", "disk = d%u-%u.vhd\n", PROFILE_DISKS_MAX + 1);
	snprintf(want, sizeof(want), "t.conf:%u: disk 'd%u-%u.vhd': too many disks (limit %u)",
		 5 + PROFILE_DISKS_MAX, PROFILE_DISKS_MAX, PROFILE_DISKS_MAX, PROFILE_DISKS_MAX);
	expect_err(s, want);
	free(s);

	s = repeat(NET "[host]\n[nat]\n", "forward = tcp 1%03u 192.168.131.%u:80\n",
		   PROFILE_FORWARDS_MAX + 1);
	snprintf(want, sizeof(want),
		 "t.conf:%u: forward 'tcp 1%03u 192.168.131.%u:80': too many port mappings (limit "
		 "%u)",
		 6 + PROFILE_FORWARDS_MAX, PROFILE_FORWARDS_MAX, PROFILE_FORWARDS_MAX,
		 PROFILE_FORWARDS_MAX);
	expect_err(s, want);
	free(s);

	s = repeat(NET, "[vm v%u]\ndisk = %u.vhd\n", PROFILE_VMS_MAX + 1);
	snprintf(want, sizeof(want), "t.conf:%u: [vm v%u]: too many [vm] sections (limit %u)",
		 4 + 2 * PROFILE_VMS_MAX, PROFILE_VMS_MAX, PROFILE_VMS_MAX);
	expect_err(s, want);
	free(s);

	/* A line longer than inih's buffer is refused, not split. */
	s = malloc(1024);
	assert_non_null(s);
	snprintf(s, 1024, NET "[vm x]\ndisk = %0500d\n", 7);
	expect_err(s, "t.conf:5: line is longer than 199 characters");
	free(s);
}

static char tmpdir[64];

static int setup_dir(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_profile.XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int teardown_dir(void **state)
{
	(void)state;
	return nftw(tmpdir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

static void write_file(const char *name, const char *text, size_t len)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void write_text(const char *name, const char *text)
{
	write_file(name, text, strlen(text));
}

static void test_files(void **state)
{
	char path[256], want[1024], err[PROFILE_ERR_MAX];
	struct profile_net *n = NULL;

	(void)state;
	write_text("ok.conf", NET);
	snprintf(path, sizeof(path), "%s/ok.conf", tmpdir);
	assert_int_equal(profile_load_file(path, &n, err, sizeof(err)), 0);
	assert_string_equal(n->file, path);
	profile_free(n);
	n = NULL;

	write_text("bad.conf", NET "mtu = 70000\n");
	snprintf(path, sizeof(path), "%s/bad.conf", tmpdir);
	assert_int_equal(profile_load_file(path, &n, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "%s:4: mtu '70000': must be a number from 576 to 65535", path);
	assert_string_equal(err, want);
	assert_null(n);

	write_file("nul.conf", NET "\0x\n", sizeof(NET) + 2);
	snprintf(path, sizeof(path), "%s/nul.conf", tmpdir);
	assert_int_equal(profile_load_file(path, &n, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "%s: contains a NUL byte, not a text profile", path);
	assert_string_equal(err, want);

	snprintf(path, sizeof(path), "%s/missing.conf", tmpdir);
	assert_int_equal(profile_load_file(path, &n, err, sizeof(err)), -ENOENT);
	snprintf(want, sizeof(want), "%s: No such file or directory", path);
	assert_string_equal(err, want);

	assert_int_equal(profile_load_file(tmpdir, &n, err, sizeof(err)), -EISDIR);
	assert_null(n);
}

static void test_set_dir(void **state)
{
	struct profile_set set = { 0 };
	char path[256], want[1024], err[PROFILE_ERR_MAX];

	(void)state;
	assert_int_equal(profile_set_add_path(&set, tmpdir, err, sizeof(err)), -ENOENT);
	snprintf(want, sizeof(want), "%s: no *.conf or *.ini profiles in this directory", tmpdir);
	assert_string_equal(err, want);

	write_text("b.conf", "[network]\nname = bee\nsubnet = 10.2.0.0/16\n");
	write_text("a.ini", "[network]\nname = ay\nsubnet = 10.1.0.0/16\n");
	write_text("c.conf.txt", "not a profile");
	write_text(".hidden.conf", "not a profile");
	write_text("readme", "not a profile");
	snprintf(path, sizeof(path), "%s/", tmpdir);
	assert_int_equal(profile_set_add_path(&set, path, err, sizeof(err)), 0);
	assert_int_equal(set.n_nets, 2);
	assert_string_equal(set.nets[0]->name, "ay");
	assert_string_equal(set.nets[1]->name, "bee");
	snprintf(want, sizeof(want), "%s/a.ini", tmpdir);
	assert_string_equal(set.nets[0]->file, want);
	assert_int_equal(profile_set_check(&set, err, sizeof(err)), 0);

	/* A bad file anywhere in the directory leaves the set as it was. */
	write_text("c.conf", "[network]\nname = cee\n");
	assert_int_equal(profile_set_add_path(&set, tmpdir, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "%s/c.conf:1: [network] needs 'subnet ='", tmpdir);
	assert_string_equal(err, want);
	assert_int_equal(set.n_nets, 2);

	/* A single file, then a conflict found by the set check. */
	snprintf(path, sizeof(path), "%s/b.conf", tmpdir);
	assert_int_equal(profile_set_add_path(&set, path, err, sizeof(err)), 0);
	assert_int_equal(set.n_nets, 3);
	assert_int_equal(profile_set_check(&set, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "%s:2: name 'bee': network already defined in %s:2", path,
		 path);
	assert_string_equal(err, want);

	snprintf(path, sizeof(path), "%s/none", tmpdir);
	assert_int_equal(profile_set_add_path(&set, path, err, sizeof(err)), -ENOENT);
	snprintf(want, sizeof(want), "%s: No such file or directory", path);
	assert_string_equal(err, want);
	assert_int_equal(set.n_nets, 3);
	profile_set_done(&set);
	assert_null(set.nets);
	assert_int_equal(set.n_nets, 0);
}

/* Builds a set from texts labelled a.conf, b.conf, ... and checks it. */
static int check_texts(const char *const *texts, size_t n, char *err)
{
	struct profile_set set = { 0 };
	int r;

	for (size_t i = 0; i < n; i++) {
		char label[16];
		struct profile_net *net;

		snprintf(label, sizeof(label), "%c.conf", (int)('a' + i));
		assert_int_equal(profile_parse(texts[i], label, &net, err, PROFILE_ERR_MAX), 0);
		assert_int_equal(profile_set_add(&set, net), 0);
	}
	r = profile_set_check(&set, err, PROFILE_ERR_MAX);
	profile_set_done(&set);
	return r;
}

static void test_set_check(void **state)
{
	char err[PROFILE_ERR_MAX];
	const char *overlap[] = {
		"[network]\nname = one\nsubnet = 10.0.0.0/16\n",
		"[network]\nname = two\nsubnet = 10.1.0.0/16\n",
		"\n[network]\nname = three\nsubnet = 10.0.128.0/24\n",
	};
	const char *same_if[] = {
		"[network]\nname = one\nsubnet = 10.0.0.0/16\n[host]\ninterface = shared0\n",
		"[network]\nname = two\nsubnet = 10.1.0.0/16\n[port up]\ntype = netdev\n"
		"interface = eth0\n[port x]\ninterface = shared0\n",
	};
	const char *same_port[] = {
		"[network]\nname = one\nsubnet = 10.0.0.0/16\n[port up]\ntype = netdev\n"
		"interface = eth0\n",
		"[network]\nname = two\nsubnet = 10.1.0.0/16\n\n[port wan]\ntype = netdev\n"
		"interface = eth0\n",
	};
	const char *ok[] = { profile_default_text,
			     "[network]\nname = lab\nsubnet = 192.168.132.0/24\n[host]\n[dhcp]\n" };

	(void)state;
	assert_int_equal(check_texts(ok, 2, err), 0);
	assert_int_equal(check_texts(overlap, 3, err), -EINVAL);
	assert_string_equal(err, "c.conf:4: subnet '10.0.128.0/24': overlaps subnet 10.0.0.0/16 of "
				 "network 'one' (a.conf:3)");
	assert_int_equal(check_texts(same_if, 2, err), -EINVAL);
	assert_string_equal(err, "b.conf:7: interface 'shared0': already used by the host adapter "
				 "of network 'one' (a.conf:5)");
	assert_int_equal(check_texts(same_port, 2, err), -EINVAL);
	assert_string_equal(err, "b.conf:5: interface 'eth0': already used by [port up] of network "
				 "'one' (a.conf:4)");
}

static void test_port_args(void **state)
{
	char err[PROFILE_ERR_MAX];
	struct profile_net *net = parse_ok(NET "[host]\n");
	struct profile_port p;
	char *good[] = { "type=netdev", "interface=eth1", "mac=52:54:00:aa:bb:cc" };
	char *ns[] = { "netns=lab-a" };
	char *dup[] = { "type=tap", "type=netdev" };
	char *noeq[] = { "type" };
	char *unknown[] = { "speed=10" };
	char *badmac[] = { "mac=ff:ff:ff:ff:ff:ff" };
	char *nsnetdev[] = { "netns=x", "type=netdev" };

	(void)state;
	memset(&p, 0x55, sizeof(p));
	assert_int_equal(profile_port_from_args(net, "up", good, 3, &p, err, sizeof(err)), 0);
	assert_string_equal(p.name, "up");
	assert_int_equal(p.type, PROFILE_PORT_NETDEV);
	assert_string_equal(p.ifname, "eth1");
	assert_string_equal(p.netns, "");
	assert_true(p.has_mac);
	assert_memory_equal(p.mac, "\x52\x54\x00\xaa\xbb\xcc", 6);

	assert_int_equal(profile_port_from_args(net, "vm7", ns, 1, &p, err, sizeof(err)), 0);
	assert_int_equal(p.type, PROFILE_PORT_TAP);
	assert_string_equal(p.ifname, "lab-vm7");
	assert_string_equal(p.netns, "lab-a");
	assert_false(p.has_mac);

	assert_int_equal(profile_port_from_args(net, "x", NULL, 0, &p, err, sizeof(err)), 0);
	assert_string_equal(p.ifname, "lab-x");

	assert_int_equal(profile_port_from_args(net, "Bad", NULL, 0, &p, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err,
			    "port name 'Bad': must be 1-31 characters of a-z, 0-9 and '-', not "
			    "starting with '-'");
	assert_int_equal(profile_port_from_args(net, "dhcp", NULL, 0, &p, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "port name 'dhcp' is taken by the DHCP server");
	assert_int_equal(profile_port_from_args(net, "x", dup, 2, &p, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "duplicate key 'type'");
	assert_int_equal(profile_port_from_args(net, "x", noeq, 1, &p, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "argument 'type': expected key=value");
	assert_int_equal(profile_port_from_args(net, "x", unknown, 1, &p, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "unknown key 'speed' in add-port (keys: type, interface, netns, "
				 "mac, vlan, trunk, mirror, delay, jitter, loss, rate, "
				 "port-security, trusted, max-macs, macs, addresses, dhcp-rate, "
				 "dhcp-leases)");
	assert_int_equal(profile_port_from_args(net, "x", badmac, 1, &p, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "mac 'ff:ff:ff:ff:ff:ff': must be a unicast address (first octet "
				 "even, not all zero)");
	assert_int_equal(profile_port_from_args(net, "x", nsnetdev, 2, &p, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err,
			    "netns 'x': only a tap port can be moved into a namespace; port 'x' "
			    "is type netdev");
	assert_int_equal(
		profile_port_from_args(net, "much-too-long", NULL, 0, &p, err, sizeof(err)),
		-EINVAL);
	assert_string_equal(err, "[port much-too-long]: the default interface name "
				 "'lab-much-too-long' is longer than 15 characters; set "
				 "'interface =' in [port much-too-long]");
	profile_free(net);
}

/* Port security: the levels' defaults, keys over them, trust, and the keys given in vain. */
static void test_port_security(void **state)
{
	struct profile_net *n;
	struct port_security sec;

	(void)state;
	n = parse_ok(NET "[port vm1]\n"
			 "[port vm2]\nport-security = strict\naddresses = 192.168.131.50, "
			 "192.168.131.51\n"
			 "[port vm3]\nmax-macs = 3\nmacs = 52:54:00:00:00:01,52:54:00:00:00:02\n"
			 "dhcp-rate = 4\ndhcp-leases = 1\n"
			 "[port up]\ntype = netdev\ninterface = eth9\n"
			 "[port lan]\ntype = netdev\ninterface = eth8\ntrusted = no\n");
	assert_int_equal(n->port_sec, PROFILE_SEC_BASIC);
	profile_port_security(n, &n->ports[0], true, &sec);
	assert_true(sec.enabled);
	assert_false(sec.trusted);
	assert_false(sec.source_guard);
	assert_int_equal(sec.max_macs, 8);
	assert_int_equal(sec.dhcp_rate, 10);
	assert_int_equal(sec.dhcp_leases, 8);
	profile_port_security(n, &n->ports[1], true, &sec);
	assert_true(sec.source_guard);
	assert_true(sec.ip_only);
	assert_int_equal(sec.max_macs, 1);
	assert_int_equal(sec.n_addrs, 2);
	assert_int_equal(sec.addrs_be[1], ip("192.168.131.51"));
	profile_port_security(n, &n->ports[2], true, &sec);
	assert_int_equal(sec.max_macs, 3);
	assert_int_equal(sec.n_macs, 2);
	assert_int_equal(sec.macs[1][5], 2);
	assert_int_equal(sec.dhcp_rate, 4);
	assert_int_equal(sec.dhcp_leases, 1);
	/* auto: a NIC is a trusted uplink, a VM's tap attached as netdev is a guest */
	profile_port_security(n, &n->ports[3], false, &sec);
	assert_true(sec.trusted);
	assert_false(sec.enabled);
	profile_port_security(n, &n->ports[3], true, &sec);
	assert_false(sec.trusted);
	profile_port_security(n, &n->ports[4], false, &sec);
	assert_false(sec.trusted);
	assert_true(sec.enabled);
	/* limit keys make a port a guest even where auto would trust it */
	profile_port_security(n, &n->ports[2], false, &sec);
	assert_false(sec.trusted);
	profile_free(n);

	n = parse_ok(NET "port-security = off\n[port vm1]\n[port vm2]\nport-security = basic\n");
	profile_port_security(n, &n->ports[0], true, &sec);
	assert_false(sec.enabled);
	assert_false(sec.trusted);
	profile_port_security(n, &n->ports[1], true, &sec);
	assert_true(sec.enabled);
	profile_free(n);

	expect_err(NET "port-security = paranoid\n",
		   "t.conf:4: port-security 'paranoid': must be off, basic or strict");
	expect_err(NET "[port up]\ntrusted = yes\nmax-macs = 2\n",
		   "t.conf:6: [port up] max-macs: has no effect: the port is trusted");
	expect_err(NET "port-security = off\n[port vm]\ndhcp-rate = 5\n",
		   "t.conf:6: [port vm] dhcp-rate: has no effect: port-security is off for the "
		   "port");
	expect_err(NET "[port vm]\naddresses = 10.0.0.5\n",
		   "t.conf:5: [port vm] addresses: 10.0.0.5 is not a host address of lab");
	expect_err(NET "[port vm]\nmax-macs = 0\n",
		   "t.conf:5: max-macs '0': must be a whole number from 1 to 1048576");
	expect_err(NET "[port vm]\nmacs = 52:54:00:00:00:01 01:00:5e:00:00:01\n",
		   "t.conf:5: macs '52:54:00:00:00:01 01:00:5e:00:00:01': '01:00:5e:00:00:01' is "
		   "not a unicast MAC address");
	expect_err(NET "[port vm]\ntrusted = maybe\n",
		   "t.conf:5: trusted 'maybe': must be yes, no or auto");
}

static void test_ip_str(void **state)
{
	char buf[16];

	(void)state;
	assert_string_equal(profile_ip_str(ip("192.168.131.254"), buf), "192.168.131.254");
	assert_string_equal(profile_ip_str(0, buf), "0.0.0.0");
}

static void test_examples(void **state)
{
	const char *src = getenv("SRC_DIR");
	char dir[512], path[1024], err[PROFILE_ERR_MAX];
	struct dirent **ents;
	size_t n_conf = 0;
	int n;

	(void)state;
	if (!src)
		skip();
	snprintf(dir, sizeof(dir), "%s/examples", src);
	n = scandir(dir, &ents, NULL, alphasort);
	assert_true(n > 0);
	for (int i = 0; i < n; i++) {
		const char *name = ents[i]->d_name;
		size_t len = strlen(name);
		struct profile_net *net;

		if (len > 5 && !strcmp(name + len - 5, ".conf")) {
			snprintf(path, sizeof(path), "%s/%s", dir, name);
			if (profile_load_file(path, &net, err, sizeof(err)) != 0)
				fail_msg("%s", err);
			profile_free(net);
			n_conf++;
		}
		free(ents[i]);
	}
	free(ents);
	assert_true(n_conf >= 5);
}

/* Lab keys: VLANs, trunks, mirrors and impairment of [port], VLANs of [host] and [dhcp]. */
static void test_lab_keys(void **state)
{
	struct profile_net *n;

	(void)state;
	n = parse_ok(NET "[host]\nvlan = 10\n[dhcp]\nvlan = 10\n"
			 "[port a]\nvlan = 10\nmirror = m\ndelay = 50ms\njitter = 2.5ms\n"
			 "loss = 0.5%\nrate = 10mbit\n"
			 "[port t]\ntrunk = 10, 20,100-102\nvlan = 5\n[port m]\n");
	assert_int_equal(n->host_vlan, 10);
	assert_int_equal(n->dhcp_vlan, 10);
	assert_int_equal(n->ports[0].vlan, 10);
	assert_false(n->ports[0].has_trunk);
	assert_string_equal(n->ports[0].mirror, "m");
	assert_int_equal(n->ports[0].impair.delay_us, 50000);
	assert_int_equal(n->ports[0].impair.jitter_us, 2500);
	assert_int_equal(n->ports[0].impair.loss_ppm, 5000);
	assert_int_equal(n->ports[0].impair.rate_bps, 10000000);
	assert_true(n->ports[1].has_trunk);
	assert_int_equal(n->ports[1].vlan, 5);
	for (unsigned v = 0; v < 4096; v++) {
		bool want = v == 10 || v == 20 || (v >= 100 && v <= 102);

		assert_int_equal((n->ports[1].trunk[v / 64] >> (v % 64)) & 1, want);
	}
	profile_free(n);

	expect_err(NET "[port a]\nvlan = 4095\n",
		   "t.conf:5: vlan '4095': must be a VLAN id from 1 to 4094");
	expect_err(NET "[port a]\ntrunk = 10,x\n",
		   "t.conf:5: trunk '10,x': 'x' is not a VLAN id from 1 to 4094 or a range");
	expect_err(NET "[port a]\ntrunk = 20-10\n", "t.conf:5: trunk '20-10': range 20-10 runs "
						    "backwards");
	expect_err(NET "[port a]\nvlan = 10\ntrunk = 5-15\n",
		   "t.conf:6: trunk: VLAN 10 is already the port's untagged VLAN (vlan = 10)");
	expect_err(NET "[port a]\nmirror = a\n",
		   "t.conf:5: mirror 'a': a port cannot mirror to itself");
	expect_err(NET "[port a]\nmirror = nowhere\n",
		   "t.conf:5: mirror 'nowhere': [port a] names no [port] of this profile");
	expect_err(NET "[port a]\ndelay = 61s\n",
		   "t.conf:5: delay '61s': expected a time up to 60 s such as 50ms, 1.5s or 250us");
	expect_err(NET "[port a]\ndelay = 5ms\njitter = 6ms\n",
		   "t.conf:6: jitter: larger than the delay (6000 us > 5000 us)");
	expect_err(NET "[port a]\nloss = 101%\n",
		   "t.conf:5: loss '101%': expected a percentage from 0 to 100, e.g. 10%");
	expect_err(NET "[port a]\nrate = 10 furlongs\n",
		   "t.conf:5: rate '10 furlongs': expected a rate from 8kbit to 400gbit such as "
		   "10mbit, 1gbit or 512kbit");
	expect_err(NET "[host]\nvlan = 0\n",
		   "t.conf:5: vlan '0': must be a VLAN id from 1 to 4094");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lab_keys),
		cmocka_unit_test(test_default_text),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_syntax),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_limits),
		cmocka_unit_test_setup_teardown(test_files, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_set_dir, setup_dir, teardown_dir),
		cmocka_unit_test(test_set_check),
		cmocka_unit_test(test_port_args),
		cmocka_unit_test(test_port_security),
		cmocka_unit_test(test_ip_str),
		cmocka_unit_test(test_examples),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

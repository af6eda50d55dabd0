/* SPDX-License-Identifier: MIT */
/*
 * vswitchctl: the command-line client of vswitchd's control socket. It sends
 * one request, prints the reply as a table for people or as JSON with -j, and
 * turns an error reply into one line on stderr with exit status 1 (2 for
 * usage errors).
 */
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vswitch/ctl.h"

#define TABLE_COLS 12
#define TABLE_ROWS 4096

struct table {
	size_t n_cols, n_rows;
	char *cells[TABLE_ROWS][TABLE_COLS]; /* owned strings; row 0 is the heading */
};

static void table_row(struct table *t, const char *const *cells)
{
	if (t->n_rows >= TABLE_ROWS)
		return;
	for (size_t c = 0; c < t->n_cols; c++)
		t->cells[t->n_rows][c] = strdup(cells[c] ? cells[c] : "-");
	t->n_rows++;
}

static void table_print(struct table *t)
{
	size_t width[TABLE_COLS] = { 0 };

	for (size_t r = 0; r < t->n_rows; r++)
		for (size_t c = 0; c < t->n_cols; c++)
			if (t->cells[r][c] && strlen(t->cells[r][c]) > width[c])
				width[c] = strlen(t->cells[r][c]);
	for (size_t r = 0; r < t->n_rows; r++) {
		for (size_t c = 0; c < t->n_cols; c++) {
			const char *s = t->cells[r][c] ? t->cells[r][c] : "";

			if (c + 1 == t->n_cols)
				printf("%s", s);
			else
				printf("%-*s  ", (int)width[c], s);
			free(t->cells[r][c]);
		}
		printf("\n");
	}
	t->n_rows = 0;
}

static const char *jstr(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !v)
		return NULL;
	return json_object_get_string(v);
}

static long long jint(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_int64(v) : 0;
}

/* Formats a byte count for people: 512 B, 1.5 KiB, 3.2 GiB. */
static const char *human_bytes(long long n, char *buf, size_t cap)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)n;
	int u = 0;

	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, cap, "%lld B", n);
	else
		snprintf(buf, cap, "%.1f %s", v, unit[u]);
	return buf;
}

static void print_networks(struct json_object *reply)
{
	struct table t = { .n_cols = 8 };
	struct json_object *a, *ics, *conflicts;

	table_row(&t, (const char *[]){ "NETWORK", "SUBNET", "MTU", "PORTS", "MACS", "HOST ADAPTER",
					"DHCP", "NAT" });
	if (!json_object_object_get_ex(reply, "networks", &a))
		return;
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		struct json_object *n = json_object_array_get_idx(a, i);
		char host[64], nat[32];
		const char *addr = jstr(n, "host_address");

		snprintf(host, sizeof(host), "%s%s%s%s", jstr(n, "host") ? jstr(n, "host") : "-",
			 addr ? " (" : "", addr ? addr : "", addr ? ")" : "");
		if (json_object_object_get_ex(n, "ics", &ics))
			snprintf(nat, sizeof(nat), "via %s", jstr(ics, "uplink"));
		else
			snprintf(nat, sizeof(nat), "%s", jint(n, "nat") ? "on" : "off");
		table_row(&t, (const char *[]){ jstr(n, "name"), jstr(n, "subnet"), jstr(n, "mtu"),
						jstr(n, "ports"), jstr(n, "macs"), host,
						jint(n, "dhcp") ? "on" : "off", nat });
	}
	table_print(&t);
	/* Conflicts under the table: a line each, as the daemon logged them at start. */
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		struct json_object *n = json_object_array_get_idx(a, i);

		if (!json_object_object_get_ex(n, "ics", &ics) ||
		    !json_object_object_get_ex(ics, "conflicts", &conflicts))
			continue;
		for (size_t j = 0; j < json_object_array_length(conflicts); j++)
			printf("%s: conflict: %s\n", jstr(n, "name"),
			       json_object_get_string(json_object_array_get_idx(conflicts, j)));
	}
}

/* "runt=3 tx-error=1", or "0". */
static void drops_text(struct json_object *port, char *buf, size_t cap)
{
	struct json_object *drops;
	size_t len = 0;

	buf[0] = '\0';
	if (json_object_object_get_ex(port, "drops", &drops)) {
		json_object_object_foreach(drops, reason, v)
		{
			long long n = json_object_get_int64(v);

			if (n && len < cap)
				len += (size_t)snprintf(buf + len, cap - len, "%s%s=%lld",
							len ? " " : "", reason, n);
		}
	}
	if (!len)
		snprintf(buf, cap, "0");
}

static void print_ports(struct json_object *a, int with_kind)
{
	struct table t = { .n_cols = with_kind ? 10 : 7 };

	if (with_kind)
		table_row(&t,
			  (const char *[]){ "PORT", "KIND", "INTERFACE", "MTU", "MACS", "RX PKTS",
					    "RX BYTES", "TX PKTS", "TX BYTES", "DROPS" });
	else
		table_row(&t, (const char *[]){ "PORT", "RX PKTS", "RX BYTES", "TX PKTS",
						"TX BYTES", "UNLEARNED", "DROPS" });
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		struct json_object *p = json_object_array_get_idx(a, i);
		char rxb[32], txb[32], drops[256];

		human_bytes(jint(p, "rx_bytes"), rxb, sizeof(rxb));
		human_bytes(jint(p, "tx_bytes"), txb, sizeof(txb));
		drops_text(p, drops, sizeof(drops));
		if (with_kind)
			table_row(&t,
				  (const char *[]){
					  jstr(p, "name"), jstr(p, "kind"),
					  jstr(p, "interface")[0] ? jstr(p, "interface") : "-",
					  jstr(p, "mtu"), jstr(p, "macs"), jstr(p, "rx_packets"),
					  rxb, jstr(p, "tx_packets"), txb, drops });
		else
			table_row(&t, (const char *[]){ jstr(p, "name"), jstr(p, "rx_packets"), rxb,
							jstr(p, "tx_packets"), txb,
							jstr(p, "unlearned"), drops });
	}
	table_print(&t);
}

static void print_fdb(struct json_object *a)
{
	struct table t = { .n_cols = 4 };

	table_row(&t, (const char *[]){ "MAC", "VLAN", "PORT", "AGE" });
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		struct json_object *e = json_object_array_get_idx(a, i), *age;
		char agebuf[32] = "-";

		if (json_object_object_get_ex(e, "age", &age))
			snprintf(agebuf, sizeof(agebuf), "%.0fs", json_object_get_double(age));
		table_row(&t, (const char *[]){ jstr(e, "mac"), jstr(e, "vlan"), jstr(e, "port"),
						agebuf });
	}
	table_print(&t);
}

static void print_leases(struct json_object *reply)
{
	struct table t = { .n_cols = 6 };
	struct json_object *a, *st;

	table_row(&t, (const char *[]){ "ADDRESS", "MAC", "HOSTNAME", "STATE", "EXPIRES",
					"CLIENT ID" });
	if (json_object_object_get_ex(reply, "leases", &a)) {
		for (size_t i = 0; i < json_object_array_length(a); i++) {
			struct json_object *l = json_object_array_get_idx(a, i);
			time_t exp = (time_t)jint(l, "expires");
			char when[32];
			struct tm tm;

			strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", localtime_r(&exp, &tm));
			table_row(&t,
				  (const char *[]){
					  jstr(l, "address"), jstr(l, "mac"),
					  jstr(l, "hostname")[0] ? jstr(l, "hostname") : "-",
					  jstr(l, "state"), when,
					  jstr(l, "client_id")[0] ? jstr(l, "client_id") : "-" });
		}
	}
	table_print(&t);
	if (json_object_object_get_ex(reply, "stats", &st))
		printf("\npool %lld addresses; %lld offers, %lld acks, %lld naks, %lld declines; "
		       "%lld lease syncs\n",
		       jint(st, "pool_size"), jint(st, "offers"), jint(st, "acks"),
		       jint(st, "naks"), jint(st, "declines"), jint(st, "lease_fsyncs"));
}

static void print_stats(struct json_object *reply)
{
	struct json_object *a, *ports;

	if (!json_object_object_get_ex(reply, "networks", &a))
		return;
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		struct json_object *n = json_object_array_get_idx(a, i);

		printf("%snetwork %s (%s)\n", i ? "\n" : "", jstr(n, "name"), jstr(n, "subnet"));
		if (json_object_object_get_ex(n, "port_stats", &ports))
			print_ports(ports, 0);
	}
}

/* One machine: state, port, mode, then a line per disk (image -> disk in use). */
static void print_vms(struct json_object *a, bool with_qemu)
{
	struct table t = { .n_cols = 6 };

	table_row(&t, (const char *[]){ "VM", "STATE", "PORT", "MODE", "EXPORT", "DISKS" });
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		struct json_object *vm = json_object_array_get_idx(a, i), *disks;
		char first[1024] = "-";

		if (json_object_object_get_ex(vm, "disks", &disks) &&
		    json_object_array_length(disks)) {
			struct json_object *d = json_object_array_get_idx(disks, 0);

			if (!strcmp(jstr(d, "image"), jstr(d, "disk")))
				snprintf(first, sizeof(first), "%s: %s", jstr(d, "name"),
					 jstr(d, "disk"));
			else
				snprintf(first, sizeof(first), "%s: %s -> %s%s", jstr(d, "name"),
					 jstr(d, "image"), jstr(d, "disk"),
					 jint(d, "disk_exists") ? "" : " (not yet)");
		}
		table_row(&t, (const char *[]){
				      jstr(vm, "name"), jstr(vm, "state"), jstr(vm, "interface"),
				      jstr(vm, "disk_mode"),
				      !strcmp(jstr(vm, "state"), "up") ? jstr(vm, "socket") : "-",
				      first });
		for (size_t j = 1; json_object_object_get_ex(vm, "disks", &disks) &&
				   j < json_object_array_length(disks);
		     j++) {
			struct json_object *d = json_object_array_get_idx(disks, j);
			char line[1024];

			snprintf(line, sizeof(line), "%s: %s -> %s", jstr(d, "name"),
				 jstr(d, "image"), jstr(d, "disk"));
			table_row(&t, (const char *[]){ "", "", "", "", "", line });
		}
	}
	table_print(&t);
	if (with_qemu && json_object_array_length(a))
		printf("\n%s\n", jstr(json_object_array_get_idx(a, 0), "qemu"));
}

static void print_reply(const char *cmd, struct json_object *reply)
{
	struct json_object *v;

	if (!strcmp(cmd, "show"))
		print_networks(reply);
	else if (!strcmp(cmd, "stats"))
		print_stats(reply);
	else if (!strcmp(cmd, "ports") && json_object_object_get_ex(reply, "ports", &v))
		print_ports(v, 1);
	else if (!strcmp(cmd, "fdb") && json_object_object_get_ex(reply, "fdb", &v))
		print_fdb(v);
	else if (!strcmp(cmd, "leases"))
		print_leases(reply);
	else if (!strcmp(cmd, "add-port") && json_object_object_get_ex(reply, "port", &v))
		printf("port '%s' added (%s %s)\n", jstr(v, "name"), jstr(v, "kind"),
		       jstr(v, "interface"));
	else if (!strcmp(cmd, "del-port"))
		printf("port '%s' removed\n", jstr(reply, "removed"));
	else if (!strcmp(cmd, "capture") && json_object_object_get_ex(reply, "capturing", &v))
		printf("capturing into '%s' (vswitchctl capture NET PORT --stop ends it)\n",
		       json_object_get_string(v));
	else if (!strcmp(cmd, "capture") && json_object_object_get_ex(reply, "stopped", &v))
		printf("capture of port '%s' stopped\n", json_object_get_string(v));
	else if (!strcmp(cmd, "impair") && json_object_object_get_ex(reply, "port", &v)) {
		struct json_object *imp;

		if (json_object_object_get_ex(v, "impair", &imp))
			printf("port '%s': delay %.1f ms, jitter %.1f ms, loss %.2f%%, rate %s\n",
			       jstr(v, "name"), jint(imp, "delay_us") / 1e3,
			       jint(imp, "jitter_us") / 1e3, jint(imp, "loss_ppm") / 1e4,
			       jint(imp, "rate_bps") ? jstr(imp, "rate_bps") : "line");
		else
			printf("port '%s': not impaired\n", jstr(v, "name"));
	} else if (!strcmp(cmd, "vm") && json_object_object_get_ex(reply, "vms", &v))
		print_vms(v, false);
	else if (!strcmp(cmd, "vm") && json_object_object_get_ex(reply, "vm", &v)) {
		struct json_object *one = json_object_new_array();

		json_object_array_add(one, json_object_get(v));
		print_vms(one, !strcmp(jstr(v, "state"), "up"));
		json_object_put(one);
	} else
		printf("%s\n", json_object_to_json_string_ext(reply, JSON_C_TO_STRING_PRETTY));
}

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: vswitchctl [-s SOCKET] [-j] COMMAND [ARG]...\n"
		"Control a running vswitchd.\n"
		"\n"
		"Commands:\n"
		"  show                          networks: subnet, ports, MACs, host adapter, "
		"DHCP, NAT\n"
		"  ports NET                     ports of a network with their counters\n"
		"  fdb NET                       the MAC table of a network\n"
		"  leases NET                    the DHCP server's leases and counters\n"
		"  stats [NET]                   traffic and drop counters per port\n"
		"  add-port NET NAME [KEY=VALUE]...\n"
		"                                add a port at run time; keys as in a [port] "
		"section:\n"
		"                                type=tap|netdev interface=IF netns=NS mac=MAC\n"
		"  del-port NET NAME             remove a port (and the tap it created)\n"
		"  capture NET PORT FILE [--count N] [--rotate SIZE]\n"
		"                                write what PORT sends and receives to FILE "
		"(pcap,\n"
		"                                absolute path); --count stops after N frames,\n"
		"                                --rotate starts FILE.1, FILE.2... past SIZE\n"
		"  capture NET PORT --stop       end a capture\n"
		"  impair NET PORT [delay=T] [jitter=T] [loss=P%%] [rate=R] | impair NET PORT off\n"
		"                                impair what the switch sends out of PORT, e.g.\n"
		"                                delay=50ms jitter=5ms loss=1%% rate=10mbit\n"
		"  vm list NET                   the machines of a network: state, port, disks\n"
		"  vm up NET VM                  make its child disks, serve them over NBD and\n"
		"                                print the QEMU command line\n"
		"  vm down NET VM [--commit|--discard]\n"
		"                                stop serving; undo disks: keep (default),\n"
		"                                commit into the images, or discard\n"
		"\n"
		"Options:\n"
		"  -s, --socket=PATH   control socket (default " CTL_DEFAULT_PATH ")\n"
		"  -j, --json          print the daemon's JSON reply instead of a table\n"
		"  -h, --help          show this help\n"
		"\n"
		"Exit status: 0 success, 1 the daemon refused or is unreachable, 2 usage error.\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	static const char *const verbs[] = { "show",	 "ports",    "fdb", "leases",  "stats",
					     "add-port", "del-port", "vm",  "capture", "impair" };
	const char *sock = CTL_DEFAULT_PATH, *cmd, *err;
	struct json_object *reply;
	int json = 0, c, r, known = 0;

	while ((c = getopt_long(argc, argv, "+s:jh", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			sock = optarg;
			break;
		case 'j':
			json = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			fprintf(stderr, "Try 'vswitchctl --help'.\n");
			return 2;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "vswitchctl: no command given; try 'vswitchctl --help'\n");
		return 2;
	}
	cmd = argv[optind++];
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		known |= !strcmp(cmd, verbs[i]);
	if (!known) {
		fprintf(stderr, "vswitchctl: unknown command '%s'; try 'vswitchctl --help'\n", cmd);
		return 2;
	}
	r = ctl_call(sock, cmd, (const char *const *)argv + optind, (size_t)(argc - optind),
		     &reply);
	if (r == -ENOENT || r == -ECONNREFUSED) {
		fprintf(stderr, "vswitchctl: no vswitchd listening on '%s'\n", sock);
		return 1;
	}
	if (r < 0) {
		fprintf(stderr, "vswitchctl: talking to '%s': %s\n", sock, strerror(-r));
		return 1;
	}
	err = jstr(reply, "error");
	if (err) {
		fprintf(stderr, "vswitchctl: %s\n", err);
		json_object_put(reply);
		return 1;
	}
	if (json)
		printf("%s\n",
		       json_object_to_json_string_ext(
			       reply, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	else
		print_reply(cmd, reply);
	json_object_put(reply);
	return 0;
}

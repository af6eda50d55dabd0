/* SPDX-License-Identifier: MIT */
/*
 * Builds the JSON replies that describe ports and MAC tables. Reads the core
 * through its public API; allocates with json-c; no I/O.
 */
#include "vswitch/report.h"

#include <json-c/json.h>
#include <stdio.h>

#include "vswitch/impair.h"
#include "vswitch/port.h"
#include "vswitch/switch.h"

/* VLAN membership, monitors and impairment: only what is set, so plain ports stay terse. */
static void report_port_lab(struct json_object *o, const struct port *p)
{
	struct json_object *trunk = NULL, *mon = NULL;

	if (p->vlan)
		json_object_object_add(o, "vlan", json_object_new_int64(p->vlan));
	for (unsigned v = 1; v <= PORT_VLAN_MAX; v++) {
		if (!port_trunk_has(p, v))
			continue;
		if (!trunk)
			trunk = json_object_new_array();
		json_object_array_add(trunk, json_object_new_int64(v));
	}
	if (trunk)
		json_object_object_add(o, "trunk", trunk);
	for (unsigned i = 0; i < p->n_monitors; i++) {
		if (!mon)
			mon = json_object_new_array();
		json_object_array_add(mon, json_object_new_string(p->monitors[i]->name));
	}
	if (mon)
		json_object_object_add(o, "monitors", mon);
	if (p->impair) {
		struct json_object *imp = json_object_new_object();
		struct impair_conf c;
		struct impair_stats st;

		impair_get_conf(p->impair, &c);
		impair_get_stats(p->impair, &st);
		json_object_object_add(imp, "delay_us", json_object_new_int64(c.delay_us));
		json_object_object_add(imp, "jitter_us", json_object_new_int64(c.jitter_us));
		json_object_object_add(imp, "loss_ppm", json_object_new_int64(c.loss_ppm));
		json_object_object_add(imp, "rate_bps", json_object_new_int64((int64_t)c.rate_bps));
		json_object_object_add(imp, "queued", json_object_new_int64((int64_t)st.queued));
		json_object_object_add(imp, "lost", json_object_new_int64((int64_t)st.lost));
		json_object_object_add(imp, "overflow",
				       json_object_new_int64((int64_t)st.overflow));
		json_object_object_add(imp, "depth", json_object_new_int64(st.depth));
		json_object_object_add(o, "impair", imp);
	}
}

struct json_object *report_port(const struct port *p)
{
	struct json_object *o = json_object_new_object(), *drops = json_object_new_object();
	uint64_t total = 0;

	if (!o || !drops) {
		json_object_put(o);
		json_object_put(drops);
		return NULL;
	}
	json_object_object_add(o, "name", json_object_new_string(p->name));
	json_object_object_add(o, "kind", json_object_new_string(p->ops->kind));
	json_object_object_add(o, "interface", json_object_new_string(p->ifname));
	json_object_object_add(o, "mtu", json_object_new_int64(p->mtu));
	json_object_object_add(o, "macs", json_object_new_int64(p->n_fdb));
	json_object_object_add(o, "rx_packets",
			       json_object_new_int64((int64_t)p->stats.rx_packets));
	json_object_object_add(o, "rx_bytes", json_object_new_int64((int64_t)p->stats.rx_bytes));
	json_object_object_add(o, "tx_packets",
			       json_object_new_int64((int64_t)p->stats.tx_packets));
	json_object_object_add(o, "tx_bytes", json_object_new_int64((int64_t)p->stats.tx_bytes));
	for (int d = 0; d < PORT_DROP_N; d++) {
		json_object_object_add(drops, port_drop_name(d),
				       json_object_new_int64((int64_t)p->stats.drops[d]));
		total += p->stats.drops[d];
	}
	json_object_object_add(o, "drops", drops);
	json_object_object_add(o, "drops_total", json_object_new_int64((int64_t)total));
	json_object_object_add(o, "unlearned", json_object_new_int64((int64_t)p->stats.unlearned));
	report_port_lab(o, p);
	return o;
}

static void report_port_cb(struct port *p, void *arg)
{
	json_object_array_add(arg, report_port(p));
}

struct json_object *report_ports(const struct vswitch *sw)
{
	struct json_object *a = json_object_new_array();

	if (a)
		switch_foreach_port(sw, report_port_cb, a);
	return a;
}

static void report_fdb_cb(const struct switch_fdb_entry *e, void *arg)
{
	struct json_object *o = json_object_new_object();
	char mac[18];

	if (!o)
		return;
	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", e->mac[0], e->mac[1], e->mac[2],
		 e->mac[3], e->mac[4], e->mac[5]);
	json_object_object_add(o, "mac", json_object_new_string(mac));
	json_object_object_add(o, "vlan", json_object_new_int(e->vlan));
	json_object_object_add(o, "port", json_object_new_string(e->port->name));
	json_object_object_add(o, "age", json_object_new_double((double)e->age_ms / 1000.0));
	json_object_array_add(arg, o);
}

struct json_object *report_fdb(const struct vswitch *sw, uint64_t now_ms)
{
	struct json_object *a = json_object_new_array();

	if (a)
		switch_foreach_fdb(sw, now_ms, report_fdb_cb, a);
	return a;
}

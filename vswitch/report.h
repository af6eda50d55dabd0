/* SPDX-License-Identifier: MIT */
/*
 * JSON views of the core's objects for the control socket: a port with its
 * counters, a network's MAC table. Used by vswitchd's request handlers; the
 * field names are the reply format vswitchctl and scripts read (docs/vswitchctl.md).
 */
#ifndef VSWITCH_REPORT_H
#define VSWITCH_REPORT_H

#include <stdint.h>

struct json_object;
struct port;
struct vswitch;

/* A port: name, kind, interface, mtu, macs, rx/tx packets and bytes, drops by reason. */
struct json_object *report_port(const struct port *p);

/* Every learned MAC of 'sw' as a list of {mac, vlan, port, age}. */
struct json_object *report_fdb(const struct vswitch *sw, uint64_t now_ms);

/* An array of report_port() for every port of 'sw'. */
struct json_object *report_ports(const struct vswitch *sw);

#endif

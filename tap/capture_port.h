/* SPDX-License-Identifier: MIT */
/*
 * The sink of `vswitchctl capture`: a pseudo-port that writes every frame it
 * is sent into pcap files (capture.c). It is never attached to a switch;
 * the core reaches it as a monitor of the captured port (switch_add_monitor),
 * so it gets what that port sends and receives, as on its wire, with GSO
 * super-frames segmented and checksums completed (offloads 0).
 */
#ifndef VSWITCH_TAP_CAPTURE_PORT_H
#define VSWITCH_TAP_CAPTURE_PORT_H

#include <stdbool.h>

#include "tap/capture.h"

struct port;

/*
 * Opens the capture 'c' (borrowed for the call) as a port named 'name' and
 * stores it in '*ret' (transferred: close with ops->close, then
 * ops->destroy). Returns 0, -ENOMEM, or as capture_open() (logged there).
 */
int capture_port_new(struct port **ret, const char *name, const struct capture_conf *c);

/* Whether the capture has reached its frame count (or failed): nothing more is written. */
bool capture_port_done(const struct port *p);

/* The capture's counters; 'st->path' is borrowed from the port. */
void capture_port_get_stats(const struct port *p, struct capture_stats *st);

#endif

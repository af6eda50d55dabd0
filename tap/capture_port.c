/* SPDX-License-Identifier: MIT */
/* The capture sink port (capture_port.h) over the pcap writer (capture.c). */
#include "tap/capture_port.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "vswitch/frame.h"
#include "vswitch/port.h"

struct capture_port {
	struct port port;
	struct capture *cap;
	int result; /* of the last write: 1 = count reached, < 0 = failed; then done */
};

static const struct port_ops capture_ops;

static struct capture_port *cp_of(const struct port *p)
{
	return container_of(p, struct capture_port, port);
}

static int cp_send(struct port *p, const struct frame *f)
{
	struct capture_port *cp = cp_of(p);
	struct timespec ts;

	if (cp->result)
		return 0; /* complete: the daemon removes the sink at its next tick */
	clock_gettime(CLOCK_REALTIME, &ts);
	cp->result = capture_write(cp->cap, f->data, f->len, &ts);
	return 0;
}

static int cp_fd(const struct port *p)
{
	(void)p;
	return -1;
}

static void cp_close(struct port *p)
{
	struct capture_port *cp = cp_of(p);

	capture_close(cp->cap);
	cp->cap = NULL;
}

static void cp_destroy(struct port *p)
{
	free(cp_of(p));
}

static int cp_open(struct port *p, const struct port_conf *conf)
{
	(void)p;
	(void)conf;
	return 0; /* opened by capture_port_new() */
}

static const struct port_ops capture_ops = {
	.kind = "capture",
	.offloads = 0, /* pcap wants the frames as they would be on a wire */
	.open = cp_open,
	.close = cp_close,
	.destroy = cp_destroy,
	.fd = cp_fd,
	.send = cp_send,
};

int capture_port_new(struct port **ret, const char *name, const struct capture_conf *c)
{
	struct capture_port *cp = calloc(1, sizeof(*cp));
	int r;

	if (!cp)
		return -ENOMEM;
	r = capture_open(&cp->cap, c);
	if (r < 0) {
		free(cp);
		return r;
	}
	cp->port.ops = &capture_ops;
	snprintf(cp->port.name, sizeof(cp->port.name), "%s", name);
	cp->port.mtu = 65535; /* takes any frame the core segments for it */
	*ret = &cp->port;
	return 0;
}

bool capture_port_done(const struct port *p)
{
	return cp_of(p)->result != 0;
}

void capture_port_get_stats(const struct port *p, struct capture_stats *st)
{
	capture_get_stats(cp_of(p)->cap, st);
}

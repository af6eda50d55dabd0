/* SPDX-License-Identifier: MIT */
/*
 * The "netdev" port kind: attaches an existing interface (a VM tap made by
 * QEMU/libvirt, a veth, a physical uplink) through an AF_PACKET socket in
 * promiscuous mode. The daemon creates a port with netdev_port_new() and
 * then uses only its 'struct port_ops' (vswitch/port.h).
 *
 * open() attaches conf->ifname (it must exist: -ENODEV otherwise, logged),
 * sets it up if it was down (and down again on close()), and keeps
 * p->mtu = conf->mtu, the network's MTU; conf->mac and conf->netns are not
 * used. Frames carry a virtio_net_hdr both ways (PACKET_VNET_HDR), so GRO
 * aggregates arrive intact and GSO super-frames are segmented by the kernel
 * on send (offloads PORT_OFL_CSUM|PORT_OFL_GSO). Frames the port itself or
 * the host sends out of the interface are never read back
 * (PACKET_IGNORE_OUTGOING). Other open() errors: -EINVAL (bad name), -EPERM
 * (no CAP_NET_RAW/CAP_NET_ADMIN), or the kernel's errno.
 *
 * recv() reads up to 'n' frames per recvmmsg() and returns the count or
 * -EAGAIN; a frame longer than the caller's buffer is dropped inside recv()
 * (see netdev_port_truncated()). send() returns 0, -EAGAIN/-ENOBUFS when the
 * queue is full, -ENETDOWN/-ENXIO when the interface is down or gone,
 * -EMSGSIZE for a non-GSO frame above the interface's MTU, or -EINVAL for a
 * header the kernel rejects.
 */
#ifndef VSWITCH_TAP_NETDEV_H
#define VSWITCH_TAP_NETDEV_H

#include <stdint.h>

struct port;

/*
 * Allocates an unopened port of kind "netdev" and stores it in '*ret'
 * (transferred: free with (*ret)->ops->destroy()). Returns 0 or -ENOMEM.
 */
int netdev_port_new(struct port **ret);

/*
 * Number of frames 'p' (borrowed; must be of kind "netdev") dropped in recv()
 * because they did not fit the caller's buffer (MSG_TRUNC), since open().
 */
uint64_t netdev_port_truncated(const struct port *p);

#endif

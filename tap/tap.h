/* SPDX-License-Identifier: MIT */
/*
 * Switch-owned tap devices: the port kinds "tap" (a guest's NIC, optionally
 * moved into a network namespace) and "host" (the host adapter: a tap left
 * in the daemon's namespace with an IPv4 address). The daemon creates a port
 * with a constructor below and then uses only its 'struct port_ops'
 * (vswitch/port.h): open(), the data path (fd, recv, send, set_mtu), close(),
 * and always destroy().
 *
 * open() creates the interface on /dev/net/tun with IFF_TAP|IFF_NO_PI|
 * IFF_VNET_HDR, a 10-byte virtio_net_hdr and TUN_F_CSUM|TUN_F_TSO4|TUN_F_TSO6
 * offloads, non-blocking and not persistent: the interface exists exactly as
 * long as the port's fd, so it vanishes even if the daemon is killed.
 * conf->ifname, conf->mtu and (optional) conf->mac apply to both kinds;
 * conf->netns to "tap" only; conf->addr_be/prefix_len to "host" only.
 * open() errors, each logged once: -EINVAL (bad name), -ENOENT (no
 * /dev/net/tun, or no such namespace), -EPERM (no CAP_NET_ADMIN), -EEXIST
 * (the interface name is taken, here or in the namespace), or the kernel's
 * errno; on failure nothing is left behind.
 *
 * recv() and send() carry the frame's virtio_net_hdr both ways, so GSO
 * super-frames and partial checksums pass untouched (offloads
 * PORT_OFL_CSUM|PORT_OFL_GSO). A tap has no batched read or write, so
 * where io_uring is available (liburing) recv() asks for several frames in
 * one submission (RWF_NOWAIT reads, a window that follows the load) and
 * send() queues frames up to 2 KiB until flush() writes them in one
 * submission; the per-frame system calls and the preemption after each
 * one were most of a small frame's cost. Without io_uring both fall back
 * to one readv()/writev() per frame. recv() returns frames read, -EAGAIN, or
 * -EBADMSG for a read shorter than the header; send() returns 0, -EAGAIN or
 * -ENOBUFS when the tap's queue is full, -EIO while the link is down, or
 * -EINVAL for a header the kernel rejects. set_mtu() changes the tap's MTU
 * (in its namespace).
 */
#ifndef VSWITCH_TAP_TAP_H
#define VSWITCH_TAP_TAP_H

#include <stdbool.h>

struct port;

/*
 * Allocates an unopened port of kind "tap" and stores it in '*ret'
 * (transferred: free with (*ret)->ops->destroy()). Returns 0 or -ENOMEM.
 */
int tap_port_new(struct port **ret);

/*
 * Allocates an unopened port of kind "host" (the host adapter) and stores it
 * in '*ret' (transferred: free with (*ret)->ops->destroy()). Returns 0 or
 * -ENOMEM.
 */
int host_port_new(struct port **ret);

/*
 * A persistent tap for a virtual machine ([vm] sections): QEMU opens it by
 * name (-netdev tap,ifname=IFNAME,script=no,downscript=no) and the switch
 * attaches to it as a "netdev" port, so either may start first and the
 * link survives a restart of the VM. tap_persist_create() makes 'ifname'
 * (borrowed) unless a tap of that name exists; '*ret_created' (may be NULL)
 * tells which. tap_persist_delete() removes it. Both return 0 or a negative
 * errno, logged: -EEXIST (the name is taken by an interface that is not a
 * tap), -EPERM, -ENOENT (no /dev/net/tun), -EINVAL (bad name).
 */
int tap_persist_create(const char *ifname, bool *ret_created);
int tap_persist_delete(const char *ifname);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * Link and address configuration through libnl-route-3, for the port
 * providers in tap/ (tap.c, netdev.c). One 'struct ifconf_sock' is a route
 * netlink socket bound to the network namespace that was current when it was
 * made (or a given one); every call acts in that namespace. Calls are
 * synchronous: each waits for the kernel's ACK. libnl's -NLE_* codes never
 * leave this module: every function returns 0/positive or a negative errno.
 * Nothing here logs; the caller decides and logs once.
 */
#ifndef VSWITCH_TAP_IFCONF_H
#define VSWITCH_TAP_IFCONF_H

#include <stdbool.h>
#include <stdint.h>

/* Not 'struct ifconf': <net/if.h> owns that name (SIOCGIFCONF). */
struct ifconf_sock;

/*
 * Maps a libnl return code 'nle' (0, positive, or -NLE_*) to this project's
 * convention: values >= 0 unchanged, -NLE_* to the closest negative errno
 * (-NLE_NODEV -> -ENODEV, -NLE_EXIST -> -EEXIST, -NLE_PERM -> -EPERM,
 * -NLE_OBJ_NOTFOUND -> -ENOENT, -NLE_INVAL -> -EINVAL, ...; unknown codes
 * and -NLE_FAILURE -> -EIO). Pure.
 */
int ifconf_errno(int nle);

/*
 * Opens a route netlink socket in the current network namespace and stores
 * it in '*ret' (transferred; free with ifconf_free()). Returns 0, -ENOMEM,
 * or the socket's errno (e.g. -EPERM, -EPROTONOSUPPORT).
 */
int ifconf_new(struct ifconf_sock **ret);

/*
 * Like ifconf_new(), but the socket lives in the namespace 'ns_fd' (borrowed;
 * an fd on /run/netns/NAME or /proc/PID/ns/net). The calling thread enters
 * that namespace with setns() for the socket() call only and always returns
 * to its own namespace, on errors too; a netlink socket keeps the namespace
 * it was created in. Not thread-safe (the daemon is single-threaded).
 * Returns 0, -EPERM without CAP_SYS_ADMIN, -EINVAL if 'ns_fd' is not a
 * network namespace, or another negative errno; if returning to the
 * original namespace fails the error is that errno and the caller should
 * consider the process's namespace unknown.
 */
int ifconf_new_in_netns(struct ifconf_sock **ret, int ns_fd);

/* Closes the socket and frees 'c'; accepts NULL. */
void ifconf_free(struct ifconf_sock *c);

/*
 * Opens the named network namespace 'name' (borrowed; an `ip netns` name,
 * i.e. /run/netns/NAME). Returns an O_CLOEXEC fd (the caller closes it),
 * -ENOENT if no such namespace, -EINVAL if 'name' is empty or contains '/',
 * or another negative errno from open().
 */
int ifconf_netns_open(const char *name);

/*
 * Looks up interface 'ifname' (borrowed) in the socket's namespace.
 * Returns its ifindex (> 0), -ENODEV if there is none, or a negative errno.
 */
int ifconf_lookup(struct ifconf_sock *c, const char *ifname);

/* Whether interface 'ifindex' is administratively up: 1, 0, -ENODEV, or a negative errno. */
int ifconf_is_up(struct ifconf_sock *c, int ifindex);

/* Sets interface 'ifindex' up or down ('up'). Returns 0, -ENODEV, -EPERM or a negative errno. */
int ifconf_set_up(struct ifconf_sock *c, int ifindex, bool up);

/*
 * Sets the MTU of 'ifindex' to 'mtu' bytes. Returns 0, -EINVAL if the device
 * refuses that MTU, -ENODEV, -EPERM or a negative errno.
 */
int ifconf_set_mtu(struct ifconf_sock *c, int ifindex, unsigned mtu);

/*
 * Sets the transmit queue length of 'ifindex' (for a tap: how many frames
 * from the kernel wait for the reader). Returns 0 or a negative errno.
 */
int ifconf_set_txqlen(struct ifconf_sock *c, int ifindex, unsigned txqlen);

/*
 * Sets the Ethernet address of 'ifindex' to the 6 bytes at 'mac' (borrowed).
 * Some devices only accept this while down. Returns 0, -EADDRNOTAVAIL or
 * -EINVAL for a multicast/zero address, -EBUSY, -ENODEV, -EPERM or a
 * negative errno.
 */
int ifconf_set_mac(struct ifconf_sock *c, int ifindex, const uint8_t mac[6]);

/*
 * Adds the IPv4 address 'addr_be' (network order) with 'prefix_len' (0-32)
 * to 'ifindex'; the kernel adds the prefix route once the link is up.
 * Returns 0, -EEXIST if the address is already there, -EINVAL for a bad
 * prefix, -ENODEV, -EPERM or a negative errno.
 */
int ifconf_add_ipv4(struct ifconf_sock *c, int ifindex, uint32_t addr_be, unsigned prefix_len);

/*
 * Moves interface 'ifindex' into the network namespace 'ns_fd' (borrowed).
 * The link goes down on the way and its ifindex may change; look it up by
 * name in the target namespace. Returns 0, -EEXIST if the name is taken
 * there, -EINVAL if the device cannot move (e.g. NETIF_F_NETNS_LOCAL),
 * -ENODEV, -EPERM or a negative errno.
 */
int ifconf_set_netns(struct ifconf_sock *c, int ifindex, int ns_fd);

#endif

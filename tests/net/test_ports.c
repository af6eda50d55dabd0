/* SPDX-License-Identifier: MIT */
/*
 * Root test of the kernel-facing port providers in tap/ (tap, host, netdev):
 * each case opens real devices and checks what the kernel sees. The process
 * first moves into a private network namespace (unshare), so every
 * interface it makes vanishes with it; the netns= case also needs named
 * namespaces, made with `ip netns add` under unique names and removed at
 * exit, on failure and on signals. Exits 77 (skip) without CAP_NET_ADMIN or
 * /dev/net/tun.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <linux/capability.h>
#include <linux/ethtool.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/bytes.h"
#include "common/csum.h"
#include "common/log.h"
#include "tap/netdev.h"
#include "tap/tap.h"
#include "vswitch/frame.h"
#include "vswitch/port.h"

#define TEST_ETHERTYPE 0x88b5u /* IEEE local experimental: never sent by the stack */
#define WAIT_MS	       2000
#define MAX_NETNS      4

/* Test-process state (this is a main() file): namespaces to remove at exit. */
static char netns_names[MAX_NETNS][32];
static int priv_ns_fd = -1; /* the private namespace from unshare() */

static const uint8_t mac_a[6] = { 0x52, 0x54, 0x00, 0xaa, 0xbb, 0x01 };
static const uint8_t mac_b[6] = { 0x52, 0x54, 0x00, 0xaa, 0xbb, 0x02 };

/* Removes the named namespaces we made; async-signal-safe (what `ip netns del` does). */
static void netns_cleanup(void)
{
	char path[160];

	for (int i = 0; i < MAX_NETNS; i++) {
		if (!netns_names[i][0])
			continue;
		snprintf(path, sizeof(path), "/run/netns/%s", netns_names[i]);
		(void)umount2(path, MNT_DETACH);
		(void)unlink(path);
		netns_names[i][0] = '\0';
	}
}

static void on_signal(int sig)
{
	netns_cleanup();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Makes a uniquely named namespace; the name is written to 'name' (32 bytes). */
static void netns_make(char *name, char tag)
{
	char cmd[96];

	snprintf(name, 32, "vst%d%c", (int)getpid(), tag);
	for (int i = 0; i < MAX_NETNS; i++) {
		if (!netns_names[i][0]) {
			snprintf(netns_names[i], sizeof(netns_names[i]), "%s", name);
			break;
		}
	}
	snprintf(cmd, sizeof(cmd), "ip netns add %s", name);
	assert_int_equal(system(cmd), 0);
}

static void netns_remove(const char *name)
{
	char cmd[96];

	snprintf(cmd, sizeof(cmd), "ip netns del %s", name);
	assert_int_equal(system(cmd), 0);
	for (int i = 0; i < MAX_NETNS; i++)
		if (!strcmp(netns_names[i], name))
			netns_names[i][0] = '\0';
}

static int netns_enter(const char *name)
{
	char path[160];
	int fd, r;

	snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = setns(fd, CLONE_NEWNET);
	close(fd);
	return r < 0 ? -errno : 0;
}

/* Every case starts in the private namespace, even after a failed one. */
static int back_home(void **state)
{
	(void)state;
	return setns(priv_ns_fd, CLONE_NEWNET);
}

static void run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void run(const char *fmt, ...)
{
	char cmd[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	assert_int_equal(system(cmd), 0);
}

/*
 * Waits until 'ifname' is operationally up. A veth end set up while its
 * peer was down gets its carrier, operstate and real qdisc from the
 * linkwatch worker, up to a second later; until then its noop qdisc drops
 * frames while send() still reports success.
 */
static void wait_oper_up(const char *ifname)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "ip -o link show dev %s | grep -q 'state UP'", ifname);
	for (int i = 0; i < 60; i++) {
		if (system(cmd) == 0) {
			usleep(20 * 1000);
			return;
		}
		usleep(50 * 1000);
	}
	fail_msg("'%s' did not come up", ifname);
}

static int if_ioctl(const char *ifname, unsigned long req, struct ifreq *ifr)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), r;

	if (s < 0)
		return -errno;
	memset(ifr, 0, sizeof(*ifr));
	snprintf(ifr->ifr_name, sizeof(ifr->ifr_name), "%s", ifname);
	r = ioctl(s, req, ifr) < 0 ? -errno : 0;
	close(s);
	return r;
}

static bool if_is_up(const char *ifname)
{
	struct ifreq ifr;

	assert_int_equal(if_ioctl(ifname, SIOCGIFFLAGS, &ifr), 0);
	return ifr.ifr_flags & IFF_UP;
}

static void if_get_mac(const char *ifname, uint8_t mac[6])
{
	struct ifreq ifr;

	assert_int_equal(if_ioctl(ifname, SIOCGIFHWADDR, &ifr), 0);
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
}

static int if_mtu(const char *ifname)
{
	struct ifreq ifr;

	assert_int_equal(if_ioctl(ifname, SIOCGIFMTU, &ifr), 0);
	return ifr.ifr_mtu;
}

/* Turns TSO off on 'ifname' (the legacy ethtool ioctl, no ethtool binary needed). */
static void if_tso_off(const char *ifname)
{
	struct ethtool_value ev = { .cmd = ETHTOOL_STSO, .data = 0 };
	struct ifreq ifr;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	assert_true(s >= 0);
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)&ev;
	assert_int_equal(ioctl(s, SIOCETHTOOL, &ifr), 0);
	close(s);
}

/* A raw packet socket on 'ifname' in the current namespace, optionally with vnet headers. */
static int pkt_open(const char *ifname, bool vnet)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_ALL),
		.sll_ifindex = (int)if_nametoindex(ifname),
	};
	int one = 1, fd;

	assert_true(sll.sll_ifindex > 0);
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	if (vnet)
		assert_int_equal(setsockopt(fd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one)), 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sll, sizeof(sll)), 0);
	return fd;
}

/*
 * Waits for a frame of 'ethertype' on packet socket 'fd', skipping the
 * namespace stack's own chatter (IPv6 MLD/RS). 'hdr' is the vnet header
 * length in front of the frame (0 or 10). Returns the bytes read or -1.
 */
static ssize_t pkt_wait(int fd, size_t hdr, uint16_t ethertype, uint8_t *buf, size_t cap)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	while (poll(&pfd, 1, WAIT_MS) > 0) {
		ssize_t n = recv(fd, buf, cap, 0);

		if (n < 0 && errno == EAGAIN)
			continue;
		if (n < 0)
			return -1;
		if ((size_t)n >= hdr + 14 && get_be16(buf + hdr + 12) == ethertype)
			return n;
	}
	return -1;
}

/* Waits for a frame of 'ethertype' on port 'p', into 'f'. Returns 0 or -1. */
/*
 * Sends 'f' as the core does: send(), then flush() for a provider that
 * queues (taps batch their writes). Returns send()'s result, or -EIO when
 * the queued write failed.
 */
static int send_now(struct port *p, const struct frame *f)
{
	uint64_t bytes;
	int r = p->ops->send(p, f);

	if (r == 0 && p->ops->flush && p->ops->flush(p, &bytes) > 0)
		return -EIO;
	return r;
}

static int port_wait(struct port *p, uint16_t ethertype, struct frame *f)
{
	struct pollfd pfd = { .fd = p->ops->fd(p), .events = POLLIN };

	while (poll(&pfd, 1, WAIT_MS) > 0) {
		int r = p->ops->recv(p, f, 1);

		if (r == -EAGAIN)
			continue;
		assert_int_equal(r, 1);
		if (f->len >= 14 && get_be16(f->data + 12) == ethertype)
			return 0;
	}
	return -1;
}

/* A plain test frame: dst, src, TEST_ETHERTYPE, then 'len' - 14 bytes of 'seed'. */
static size_t make_frame(uint8_t *buf, const uint8_t *dst, const uint8_t *src, size_t len,
			 uint8_t seed)
{
	memcpy(buf, dst, 6);
	memcpy(buf + 6, src, 6);
	put_be16(buf + 12, TEST_ETHERTYPE);
	for (size_t i = 14; i < len; i++)
		buf[i] = (uint8_t)(seed + i);
	return len;
}

#define GSO_MSS	    1448u
#define GSO_SEGS    44u
#define GSO_PAYLOAD (GSO_MSS * GSO_SEGS)
#define GSO_LEN	    (14u + 20u + 20u + GSO_PAYLOAD)
#define GSO_SEQ	    1000u

/*
 * A TCPv4 super-frame of GSO_SEGS full segments with a vnet header as the
 * kernel expects for TSO: NEEDS_CSUM with the pseudo-header sum (over the
 * whole TCP length) in the checksum field.
 */
static void make_gso_frame(struct frame *f, const uint8_t *dst, const uint8_t *src)
{
	uint8_t *ip = f->data + 14, *tcp = ip + 20;
	uint8_t pseudo[12];

	memset(f->data, 0, GSO_LEN);
	memcpy(f->data, dst, 6);
	memcpy(f->data + 6, src, 6);
	put_be16(f->data + 12, ETH_P_IP);
	ip[0] = 0x45;
	put_be16(ip + 2, 20 + 20 + GSO_PAYLOAD);
	put_be16(ip + 4, 0x1234);
	put_be16(ip + 6, 0x4000); /* DF */
	ip[8] = 64;
	ip[9] = 6;
	put_be32(ip + 12, 0x0a000001);
	put_be32(ip + 16, 0x0a000002);
	put_be16(ip + 10, csum_fold(csum_add(0, ip, 20)));
	put_be16(tcp, 40000);
	put_be16(tcp + 2, 5001);
	put_be32(tcp + 4, GSO_SEQ);
	put_be32(tcp + 8, 1);
	tcp[12] = 5 << 4;
	tcp[13] = 0x18; /* ACK|PSH */
	put_be16(tcp + 14, 65535);
	for (size_t i = 0; i < GSO_PAYLOAD; i++)
		tcp[20 + i] = (uint8_t)(i * 7);
	memcpy(pseudo, ip + 12, 8);
	pseudo[8] = 0;
	pseudo[9] = 6;
	put_be16(pseudo + 10, 20 + GSO_PAYLOAD);
	put_be16(tcp + 16, (uint16_t)~csum_fold(csum_add(0, pseudo, sizeof(pseudo))));
	f->len = GSO_LEN;
	memset(&f->vnet, 0, sizeof(f->vnet));
	f->vnet.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	f->vnet.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	f->vnet.hdr_len = 14 + 20 + 20;
	f->vnet.gso_size = GSO_MSS;
	f->vnet.csum_start = 14 + 20;
	f->vnet.csum_offset = 16;
}

static uint8_t bufs[2][FRAME_MAX_LEN];

static struct frame frame_of(int i)
{
	return (struct frame){ .data = bufs[i], .cap = sizeof(bufs[i]) };
}

static struct port *open_tap(const char *ifname, const char *netns, unsigned mtu, int *ret)
{
	struct port_conf conf = {
		.name = ifname,
		.ifname = ifname,
		.netns = netns,
		.mac = mac_a,
		.mtu = mtu,
	};
	struct port *p;

	assert_int_equal(tap_port_new(&p), 0);
	*ret = p->ops->open(p, &conf);
	if (*ret < 0) {
		p->ops->destroy(p);
		return NULL;
	}
	return p;
}

static void free_port(struct port *p)
{
	p->ops->close(p);
	p->ops->destroy(p);
}

static void test_tap_open_close(void **state)
{
	uint8_t mac[6];
	struct port *p;
	int r;

	(void)state;
	p = open_tap("vst-tap0", NULL, 1400, &r);
	assert_int_equal(r, 0);
	assert_string_equal(p->ops->kind, "tap");
	assert_string_equal(p->ifname, "vst-tap0");
	assert_int_equal(p->mtu, 1400);
	assert_true(p->ops->fd(p) >= 0);
	assert_int_equal(p->ops->offloads, PORT_OFL_CSUM | PORT_OFL_GSO);
	assert_true(if_is_up("vst-tap0"));
	assert_int_equal(if_mtu("vst-tap0"), 1400);
	if_get_mac("vst-tap0", mac);
	assert_memory_equal(mac, mac_a, 6);
	assert_int_equal(p->ops->set_mtu(p, 1300), 0);
	assert_int_equal(if_mtu("vst-tap0"), 1300);
	assert_int_equal(p->mtu, 1300);
	free_port(p);
	assert_int_equal(if_nametoindex("vst-tap0"), 0);
}

static void test_tap_exists(void **state)
{
	struct port *p, *q;
	int r;

	(void)state;
	p = open_tap("vst-dup", NULL, 1500, &r);
	assert_int_equal(r, 0);
	q = open_tap("vst-dup", NULL, 1500, &r);
	assert_null(q);
	assert_int_equal(r, -EEXIST);
	/* The first port is untouched and still the only holder of the name. */
	assert_true(if_is_up("vst-dup"));
	free_port(p);
	assert_int_equal(if_nametoindex("vst-dup"), 0);
	/* A name held by a non-tap device. */
	assert_null(open_tap("lo", NULL, 1500, &r));
	assert_int_equal(r, -EEXIST);
	assert_null(open_tap("vst-bad/x", NULL, 1500, &r));
	assert_int_equal(r, -EINVAL);
}

/* Without CAP_NET_ADMIN (dropped in a child): -EPERM and nothing created. */
static void test_tap_eperm(void **state)
{
	pid_t pid;
	int status;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
		struct __user_cap_data_struct data[2] = { 0 };
		struct port *p;
		int r;

		if (syscall(SYS_capget, &hdr, data) < 0)
			_exit(2);
		data[CAP_NET_ADMIN / 32].effective &= ~(1u << (CAP_NET_ADMIN % 32));
		if (syscall(SYS_capset, &hdr, data) < 0)
			_exit(3);
		p = open_tap("vst-eperm", NULL, 1500, &r);
		_exit(p == NULL && r == -EPERM ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(if_nametoindex("vst-eperm"), 0);
}

static void test_tap_netns(void **state)
{
	char ns[32];
	uint8_t buf[256], frame[128], mac[6];
	struct frame f = frame_of(0);
	struct port *p;
	int r, fd;
	ssize_t n;

	(void)state;
	assert_null(open_tap("vst-nsx", "vst-no-such-ns", 1500, &r));
	assert_int_equal(r, -ENOENT);
	assert_int_equal(if_nametoindex("vst-nsx"), 0);

	netns_make(ns, 'a');
	p = open_tap("vst-ns0", ns, 1450, &r);
	assert_int_equal(r, 0);
	assert_int_equal(if_nametoindex("vst-ns0"), 0); /* gone from here */

	assert_int_equal(netns_enter(ns), 0);
	assert_true(if_nametoindex("vst-ns0") > 0);
	assert_true(if_is_up("vst-ns0"));
	assert_int_equal(if_mtu("vst-ns0"), 1450);
	if_get_mac("vst-ns0", mac);
	assert_memory_equal(mac, mac_a, 6);
	fd = pkt_open("vst-ns0", false); /* the socket stays in 'ns' */
	assert_int_equal(back_home(NULL), 0);

	/* Port to namespace. */
	f.len = (uint32_t)make_frame(f.data, mac_a, mac_b, 100, 1);
	memcpy(frame, f.data, f.len);
	assert_int_equal(send_now(p, &f), 0);
	n = pkt_wait(fd, 0, TEST_ETHERTYPE, buf, sizeof(buf));
	assert_int_equal(n, 100);
	assert_memory_equal(buf, frame, 100);

	/* Namespace to port. */
	make_frame(frame, mac_b, mac_a, 80, 2);
	assert_int_equal(send(fd, frame, 80, 0), 80);
	assert_int_equal(port_wait(p, TEST_ETHERTYPE, &f), 0);
	assert_int_equal(f.len, 80);
	assert_memory_equal(f.data, frame, 80);

	/* A name taken inside the target namespace: -EEXIST, nothing left here or there. */
	run("ip netns exec %s ip link add vst-ns1 type veth peer name vst-ns2", ns);
	assert_null(open_tap("vst-ns1", ns, 1500, &r));
	assert_int_equal(r, -EEXIST);
	assert_int_equal(if_nametoindex("vst-ns1"), 0);
	run("ip netns exec %s ip link del vst-ns1", ns);

	/* set_mtu reaches into the namespace. */
	assert_int_equal(p->ops->set_mtu(p, 1400), 0);
	close(fd);
	free_port(p);
	assert_int_equal(netns_enter(ns), 0);
	assert_int_equal(if_nametoindex("vst-ns0"), 0);
	assert_int_equal(back_home(NULL), 0);
	netns_remove(ns);
}

static void test_tap_roundtrip(void **state)
{
	uint8_t buf[FRAME_MAX_LEN + 16], frame[256];
	struct frame f = frame_of(0), g = frame_of(1);
	struct virtio_net_hdr vh;
	struct port *p;
	int r, fd, vfd;
	ssize_t n;

	(void)state;
	p = open_tap("vst-rt0", NULL, 1500, &r);
	assert_int_equal(r, 0);
	fd = pkt_open("vst-rt0", false);
	vfd = pkt_open("vst-rt0", true);

	/* Port to kernel: a plain frame behind an all-zero vnet header. */
	f.len = (uint32_t)make_frame(f.data, mac_a, mac_b, 200, 3);
	assert_int_equal(send_now(p, &f), 0);
	n = pkt_wait(fd, 0, TEST_ETHERTYPE, buf, sizeof(buf));
	assert_int_equal(n, 200);
	assert_memory_equal(buf, f.data, 200);
	/* Drain the vnet socket's copy of it. */
	assert_true(pkt_wait(vfd, 10, TEST_ETHERTYPE, buf, sizeof(buf)) > 0);

	/* Kernel to port. */
	make_frame(frame, mac_b, mac_a, 150, 4);
	assert_int_equal(send(fd, frame, 150, 0), 150);
	assert_int_equal(port_wait(p, TEST_ETHERTYPE, &f), 0);
	assert_int_equal(f.len, 150);
	assert_memory_equal(f.data, frame, 150);
	assert_int_equal(f.vnet.gso_type, VIRTIO_NET_HDR_GSO_NONE);

	/*
	 * A TSO super-frame into the tap stays whole (TUNSETOFFLOAD made the
	 * tap TSO-capable) and reaches the port with its GSO header.
	 */
	make_gso_frame(&g, mac_b, mac_a);
	{
		struct iovec iov[2] = {
			{ .iov_base = &g.vnet, .iov_len = sizeof(g.vnet) },
			{ .iov_base = g.data, .iov_len = g.len },
		};
		struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 2 };

		assert_int_equal(sendmsg(vfd, &msg, 0), (ssize_t)(sizeof(g.vnet) + g.len));
	}
	assert_int_equal(port_wait(p, ETH_P_IP, &f), 0);
	assert_int_equal(f.len, GSO_LEN);
	assert_memory_equal(f.data, g.data, 14 + 20 + 16); /* all but the TCP checksum... */
	assert_memory_equal(f.data + 54, g.data + 54, GSO_PAYLOAD);
	assert_int_equal(f.vnet.gso_type & ~VIRTIO_NET_HDR_GSO_ECN, VIRTIO_NET_HDR_GSO_TCPV4);
	assert_int_equal(f.vnet.gso_size, GSO_MSS);
	assert_true(f.vnet.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM);

	/* And the reverse: the port sends it, the kernel side sees one GSO skb. */
	assert_int_equal(send_now(p, &g), 0);
	n = pkt_wait(vfd, 10, ETH_P_IP, buf, sizeof(buf));
	assert_int_equal(n, 10 + GSO_LEN);
	memcpy(&vh, buf, sizeof(vh));
	assert_int_equal(vh.gso_size, GSO_MSS);
	assert_memory_equal(buf + 10 + 54, g.data + 54, GSO_PAYLOAD);

	close(fd);
	close(vfd);
	free_port(p);
	assert_int_equal(if_nametoindex("vst-rt0"), 0);
}

static void test_host(void **state)
{
	struct port_conf conf = {
		.name = "host",
		.ifname = "vst-host0",
		.mtu = 1500,
		.mac = mac_b,
		.addr_be = htonl(0x0a4d0001),
		.prefix_len = 24,
	};
	struct ifaddrs *ifa, *i;
	struct port *p;
	bool found = false;

	(void)state;
	assert_int_equal(host_port_new(&p), 0);
	assert_string_equal(p->ops->kind, "host");
	assert_int_equal(p->ops->open(p, &conf), 0);
	assert_true(if_is_up("vst-host0"));
	assert_int_equal(getifaddrs(&ifa), 0);
	for (i = ifa; i; i = i->ifa_next) {
		if (strcmp(i->ifa_name, "vst-host0") || !i->ifa_addr ||
		    i->ifa_addr->sa_family != AF_INET)
			continue;
		assert_int_equal(((struct sockaddr_in *)(void *)i->ifa_addr)->sin_addr.s_addr,
				 htonl(0x0a4d0001));
		assert_int_equal(((struct sockaddr_in *)(void *)i->ifa_netmask)->sin_addr.s_addr,
				 htonl(0xffffff00));
		found = true;
	}
	freeifaddrs(ifa);
	assert_true(found);
	free_port(p);
	assert_int_equal(if_nametoindex("vst-host0"), 0);

	/* A host adapter never moves. */
	conf.netns = "anything";
	assert_int_equal(host_port_new(&p), 0);
	assert_int_equal(p->ops->open(p, &conf), -EINVAL);
	p->ops->destroy(p);
}

static struct port *open_netdev(const char *ifname, int *ret)
{
	struct port_conf conf = { .name = "up", .ifname = ifname, .mtu = 1500 };
	struct port *p;

	assert_int_equal(netdev_port_new(&p), 0);
	*ret = p->ops->open(p, &conf);
	if (*ret < 0) {
		p->ops->destroy(p);
		return NULL;
	}
	return p;
}

static void test_netdev_veth(void **state)
{
	uint8_t buf[2048], frame[128], own_mac[6];
	struct frame f = frame_of(0);
	struct port *p;
	int r, fd, got;

	(void)state;
	run("ip link add vst-v0 type veth peer name vst-v1");
	run("ip link set vst-v1 up");
	if_get_mac("vst-v0", own_mac);
	assert_false(if_is_up("vst-v0"));

	p = open_netdev("vst-v0", &r);
	assert_int_equal(r, 0);
	assert_string_equal(p->ops->kind, "netdev");
	assert_int_equal(p->mtu, 1500);
	assert_true(if_is_up("vst-v0")); /* set up by open() */
	fd = pkt_open("vst-v1", false);
	wait_oper_up("vst-v0");
	wait_oper_up("vst-v1");

	/* Port to peer. */
	f.len = (uint32_t)make_frame(f.data, mac_b, mac_a, 120, 5);
	memcpy(frame, f.data, 120);
	assert_int_equal(send_now(p, &f), 0);
	assert_int_equal(pkt_wait(fd, 0, TEST_ETHERTYPE, buf, sizeof(buf)), 120);
	assert_memory_equal(buf, frame, 120);

	/* Peer to port; a foreign destination MAC needs promiscuous mode. */
	make_frame(frame, mac_a, mac_b, 90, 6);
	assert_int_equal(send(fd, frame, 90, 0), 90);
	assert_int_equal(port_wait(p, TEST_ETHERTYPE, &f), 0);
	assert_int_equal(f.len, 90);
	assert_memory_equal(f.data, frame, 90);

	/*
	 * Never its own frames, nor the host's: send one more, generate host
	 * traffic on vst-v0 (IPv6 DAD/MLD run after it came up; a ping adds
	 * more), then drain everything and check no frame carries our or the
	 * host's source MAC.
	 */
	f.len = (uint32_t)make_frame(f.data, mac_b, mac_a, 120, 7);
	assert_int_equal(send_now(p, &f), 0);
	(void)system("ip addr add 10.99.0.1/24 dev vst-v0 && ping -c 2 -i 0.2 -W 1 10.99.0.2 "
		     ">/dev/null 2>&1");
	usleep(200 * 1000);
	got = 0;
	while ((r = p->ops->recv(p, &f, 1)) == 1) {
		assert_memory_not_equal(f.data + 6, mac_a, 6);
		assert_memory_not_equal(f.data + 6, own_mac, 6);
		got++;
	}
	assert_int_equal(r, -EAGAIN);
	(void)got;
	assert_int_equal(netdev_port_truncated(p), 0);

	close(fd);
	free_port(p);
	assert_false(if_is_up("vst-v0")); /* restored */
	run("ip link del vst-v0");
}

static void test_netdev_missing(void **state)
{
	int r;

	(void)state;
	assert_null(open_netdev("vst-nope", &r));
	assert_int_equal(r, -ENODEV);
}

/* Reads the peer's copies of one GSO super-frame sent by the port; returns the segments seen. */
static unsigned gso_collect(int fd, size_t hdr, uint8_t *buf, size_t cap, uint32_t *ret_bytes)
{
	unsigned n_seg = 0;
	uint32_t payload = 0;
	ssize_t n;

	while ((n = pkt_wait(fd, hdr, ETH_P_IP, buf, cap)) > 0) {
		const uint8_t *ip = buf + hdr + 14, *tcp = ip + 20;
		size_t seg_len = (size_t)n - hdr;
		uint32_t seg_payload = (uint32_t)(seg_len - 54);

		assert_int_equal(get_be16(ip + 2), seg_len - 14);
		assert_int_equal(get_be32(tcp + 4), GSO_SEQ + payload);
		payload += seg_payload;
		n_seg++;
		if (payload >= GSO_PAYLOAD)
			break;
	}
	*ret_bytes = payload;
	return n_seg;
}

static void test_netdev_gso(void **state)
{
	static uint8_t buf[FRAME_MAX_LEN + 16];
	struct frame g = frame_of(1);
	struct virtio_net_hdr vh;
	uint32_t bytes;
	struct port *p;
	int r, fd, vfd;

	(void)state;
	run("ip link add vst-g0 type veth peer name vst-g1");
	run("ip link set vst-g1 up");
	p = open_netdev("vst-g0", &r);
	assert_int_equal(r, 0);
	fd = pkt_open("vst-g1", false);
	wait_oper_up("vst-g0");
	wait_oper_up("vst-g1");
	vfd = pkt_open("vst-g1", true);
	make_gso_frame(&g, mac_b, mac_a);

	/*
	 * veth is TSO-capable and hands skbs to its peer as they are, so by
	 * default the peer receives the super-frame whole, its GSO metadata
	 * intact (what a tap or another TSO path wants).
	 */
	assert_int_equal(send_now(p, &g), 0);
	assert_int_equal(pkt_wait(vfd, 10, ETH_P_IP, buf, sizeof(buf)), 10 + GSO_LEN);
	memcpy(&vh, buf, sizeof(vh));
	assert_int_equal(vh.gso_size, GSO_MSS);
	assert_int_equal(gso_collect(fd, 0, buf, sizeof(buf), &bytes), 1);
	assert_int_equal(bytes, GSO_PAYLOAD);

	/* Without TSO on the port's device, the kernel segments on send. */
	if_tso_off("vst-g0");
	assert_int_equal(send_now(p, &g), 0);
	assert_int_equal(gso_collect(fd, 0, buf, sizeof(buf), &bytes), GSO_SEGS);
	assert_int_equal(bytes, GSO_PAYLOAD);

	close(fd);
	close(vfd);
	free_port(p);
	run("ip link del vst-g0");
}

static bool have_net_admin(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = { 0 };

	if (syscall(SYS_capget, &hdr, data) < 0)
		return false;
	return data[CAP_NET_ADMIN / 32].effective & (1u << (CAP_NET_ADMIN % 32));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_tap_open_close, back_home),
		cmocka_unit_test_setup(test_tap_exists, back_home),
		cmocka_unit_test_setup(test_tap_eperm, back_home),
		cmocka_unit_test_setup(test_tap_netns, back_home),
		cmocka_unit_test_setup(test_tap_roundtrip, back_home),
		cmocka_unit_test_setup(test_host, back_home),
		cmocka_unit_test_setup(test_netdev_veth, back_home),
		cmocka_unit_test_setup(test_netdev_missing, back_home),
		cmocka_unit_test_setup(test_netdev_gso, back_home),
	};
	int r;

	if (!have_net_admin() || access("/dev/net/tun", R_OK | W_OK) < 0) {
		fprintf(stderr, "test_ports: needs CAP_NET_ADMIN and /dev/net/tun, skipping\n");
		return 77;
	}
	if (unshare(CLONE_NEWNET) < 0) {
		fprintf(stderr, "test_ports: unshare(CLONE_NEWNET): %s, skipping\n",
			strerror(errno));
		return 77;
	}
	priv_ns_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (priv_ns_fd < 0)
		return 1;
	/* The private namespace's loopback, for nothing but tidiness of `ip` output. */
	atexit(netns_cleanup);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	log_set_level(LOG_LVL_DEBUG);
	r = cmocka_run_group_tests(tests, NULL, NULL);
	netns_cleanup();
	return r;
}

# SPDX-License-Identifier: MIT
# vs_dns: the DNS proxy of Internet Connection Sharing. dns_msg.c (wire codec)
# and resolv.c (resolv.conf parser) are pure; dns_proxy.c owns the sockets and
# exposes one epoll fd, which the daemon in vswitch/ watches with libev, so
# this library needs only vs_common.
add_library(vs_dns STATIC dns_msg.c resolv.c dns_proxy.c)
target_link_libraries(vs_dns PUBLIC vs_common)

# SPDX-License-Identifier: MIT
# Root tests of the daemon in network namespaces (tests/net/*.sh).
vs_script_test(net_switch ${CMAKE_SOURCE_DIR}/tests/net/switch.sh net TIMEOUT 180)
vs_script_test(net_lifecycle ${CMAKE_SOURCE_DIR}/tests/net/lifecycle.sh net TIMEOUT 120)
vs_script_test(net_tcp_integrity ${CMAKE_SOURCE_DIR}/tests/net/tcp_integrity.sh net TIMEOUT 240)
vs_script_test(net_dhcp_clients ${CMAKE_SOURCE_DIR}/tests/net/dhcp_clients.sh net TIMEOUT 240)
vs_script_test(net_dhcp_many ${CMAKE_SOURCE_DIR}/tests/net/dhcp_many.sh net TIMEOUT 240)

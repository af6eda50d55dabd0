# SPDX-License-Identifier: MIT
# Test-lab features (issue #6): bridged uplink with a LAN's DHCP server, VLAN
# access and trunk ports, mirroring, captures and link impairment, all in
# namespaces.
vs_script_test(net_lab ${CMAKE_CURRENT_SOURCE_DIR}/net/lab.sh net TIMEOUT 300)

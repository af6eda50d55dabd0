# SPDX-License-Identifier: MIT
# Tests of the embedded DHCP server (dhcpd/). test_dhcp_endpoint carries its own
# test double of switch_input(), so none of these links the switch core.
foreach(t dhcp_msg dhcp_pool dhcp_probe dhcp_server dhcp_lease_file dhcp_endpoint)
	vs_unit_test(test_${t} SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_${t}.c LIBS vs_dhcpd)
endforeach()

# With -DVSWITCH_FUZZ=ON every library is built with coverage, so linking
# vs_dhcpd gives libFuzzer the codec, pool, probe and server to explore.
vs_fuzz_target(fuzz_dhcp_msg
	SOURCES ${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz_dhcp_msg.c
	LIBS vs_dhcpd
	CORPUS ${CMAKE_SOURCE_DIR}/tests/fuzz/corpus/dhcp)
vs_fuzz_target(fuzz_lease_line
	SOURCES ${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz_lease_line.c
	LIBS vs_dhcpd
	CORPUS ${CMAKE_SOURCE_DIR}/tests/fuzz/corpus/lease)

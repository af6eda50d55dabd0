# SPDX-License-Identifier: MIT
# Tests of the embedded DHCP server (dhcpd/). test_dhcp_endpoint carries its own
# test double of switch_input(), so none of these links the switch core.
foreach(t dhcp_msg dhcp_pool dhcp_server dhcp_lease_file dhcp_endpoint)
	vs_unit_test(test_${t} SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_${t}.c LIBS vs_dhcpd)
endforeach()

# The codec, pool and server are compiled into the fuzz target itself (not
# taken from vs_dhcpd) so that libFuzzer's coverage instrumentation sees them.
vs_fuzz_target(fuzz_dhcp_msg
	SOURCES ${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz_dhcp_msg.c
		${CMAKE_SOURCE_DIR}/dhcpd/dhcp_msg.c
		${CMAKE_SOURCE_DIR}/dhcpd/dhcp_pool.c
		${CMAKE_SOURCE_DIR}/dhcpd/dhcp_server.c
	LIBS vs_common
	CORPUS ${CMAKE_SOURCE_DIR}/tests/fuzz/corpus/dhcp)

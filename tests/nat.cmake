# SPDX-License-Identifier: MIT
# Tests of nat/'s ruleset part: batches parsed back with libnftnl (unit), and
# Internet Connection Sharing end to end in namespaces (net).
if(TARGET vs_nat)
	vs_unit_test(test_nat_rules SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_nat_rules.c
		LIBS vs_nat)
	vs_script_test(net_nat ${CMAKE_SOURCE_DIR}/tests/net/nat.sh net TIMEOUT 300)
endif()

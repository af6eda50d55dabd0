# SPDX-License-Identifier: MIT
# Tests of the switch core (vswitch/).
vs_unit_test(test_fdb SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_fdb.c LIBS vs_core)
vs_unit_test(test_switch SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_switch.c LIBS vs_core)
vs_unit_test(test_gso SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_gso.c LIBS vs_core)
vs_unit_test(test_portsec SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_portsec.c LIBS vs_core)
vs_fuzz_target(fuzz_switch
	SOURCES ${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz_switch.c
	LIBS vs_core
	CORPUS ${CMAKE_SOURCE_DIR}/tests/fuzz/corpus/switch)

# SPDX-License-Identifier: MIT
# Tests of the helpers in common/.
vs_unit_test(test_syncer SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_syncer.c LIBS vs_common)
vs_unit_test(test_pkt SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_pkt.c LIBS vs_common)
vs_fuzz_target(fuzz_pkt
	SOURCES ${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz_pkt.c
	LIBS vs_common
	CORPUS ${CMAKE_SOURCE_DIR}/tests/fuzz/corpus/switch)

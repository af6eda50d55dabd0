# SPDX-License-Identifier: MIT
#
# Tests of the profile module (vswitch/profile.c): the cmocka unit test, which
# also loads every profile in examples/ through $SRC_DIR, and the libFuzzer
# target whose corpus holds the examples and a few broken profiles.
vs_unit_test(test_profile SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_profile.c LIBS vs_core)
set_tests_properties(test_profile PROPERTIES ENVIRONMENT SRC_DIR=${CMAKE_SOURCE_DIR})

vs_fuzz_target(fuzz_profile SOURCES ${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz_profile.c LIBS vs_core
	CORPUS ${CMAKE_SOURCE_DIR}/tests/fuzz/corpus/profile)

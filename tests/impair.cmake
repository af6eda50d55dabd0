# SPDX-License-Identifier: MIT
# Tests of the link impairment engine (vswitch/impair.c).
vs_unit_test(test_impair SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_impair.c LIBS vs_impair)

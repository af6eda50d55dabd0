# SPDX-License-Identifier: MIT
# Tests of the helpers in common/.
vs_unit_test(test_syncer SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_syncer.c LIBS vs_common)

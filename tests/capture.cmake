# SPDX-License-Identifier: MIT
# Tests of the pcap capture (tap/capture.c): files in a temporary folder, no privileges.
vs_unit_test(test_capture SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_capture.c LIBS vs_capture)

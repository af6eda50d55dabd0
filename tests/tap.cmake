# SPDX-License-Identifier: MIT
# Tests of the tap/ port providers.
vs_unit_test(test_ifconf SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_ifconf.c LIBS vs_tap)

# Root only: real taps, veths and namespaces; exits 77 (skip) without CAP_NET_ADMIN.
add_executable(test_ports ${CMAKE_CURRENT_SOURCE_DIR}/net/test_ports.c)
target_link_libraries(test_ports PRIVATE vs_tap PkgConfig::CMOCKA)
add_test(NAME test_ports COMMAND test_ports)
set_tests_properties(test_ports PROPERTIES LABELS net SKIP_RETURN_CODE 77 TIMEOUT 120)

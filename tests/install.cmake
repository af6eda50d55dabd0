# SPDX-License-Identifier: MIT
# What `cmake --install` lays down (no privileges: a DESTDIR staging folder).
vs_script_test(install ${CMAKE_SOURCE_DIR}/tests/install.sh unit TIMEOUT 120)

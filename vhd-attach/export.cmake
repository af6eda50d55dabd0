# SPDX-License-Identifier: MIT
#
# vhd export (issue #8 part 2): an NBD server for VHD images. The wire codec
# is a library of its own (vs_nbd) so that the unit test and the fuzz target
# link it without the server; the server and the verb go into `vhd`.
find_package(Threads REQUIRED)

add_library(vs_nbd STATIC nbd_proto.c)
target_link_libraries(vs_nbd PUBLIC vs_common)

target_sources(vhd PRIVATE vhd_export.c vhd_export_tool.c)
target_link_libraries(vhd PRIVATE vs_nbd Threads::Threads)

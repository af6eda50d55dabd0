# SPDX-License-Identifier: MIT
#
# `vhd mount` / `vhd unmount` (included by vhd-attach/CMakeLists.txt after
# add_executable(vhd ...)). vs_vhd_attach holds the loop, libblkid, mount
# and registry code (vhd_attach.c) so that the unit tests link its pure
# parts (state codec, partition chooser); the FUSE server and the verbs
# go into the tool itself.
add_library(vs_vhd_attach STATIC vhd_attach.c)
target_link_libraries(vs_vhd_attach PUBLIC vs_common PkgConfig::BLKID)

target_sources(vhd PRIVATE vhd_fuse.c vhd_mount_tool.c)
target_link_libraries(vhd PRIVATE vs_vhd_attach PkgConfig::FUSE3 PkgConfig::BLKID)

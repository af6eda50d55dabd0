# SPDX-License-Identifier: MIT
#
# Tests of `vhd mount` / `vhd unmount` (issue 8): the pure parts of
# vhd_attach.c (state codec, partition choice), and the end-to-end script
# (root, FUSE and loop devices; skips without them).
vs_unit_test(test_vhd_attach SOURCES unit/test_vhd_attach.c LIBS vs_vhd_attach)
vs_script_test(vhd_mount ${CMAKE_CURRENT_SOURCE_DIR}/interop/vhd_mount.sh interop TIMEOUT 300)

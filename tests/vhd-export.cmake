# SPDX-License-Identifier: MIT
#
# Tests of `vhd export` (issue #8 part 2): the NBD codec's unit test and fuzz
# target, and the interop script where QEMU's NBD client (qemu-img, qemu-io)
# judges the server.
vs_unit_test(test_nbd_proto SOURCES unit/test_nbd_proto.c LIBS vs_nbd)

vs_fuzz_target(fuzz_nbd_proto SOURCES fuzz/fuzz_nbd_proto.c LIBS vs_nbd
	CORPUS ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/nbd)

vs_script_test(vhd_nbd ${CMAKE_CURRENT_SOURCE_DIR}/interop/vhd_nbd.sh interop TIMEOUT 300)

# SPDX-License-Identifier: MIT
#
# Tests of vhd-attach/ (issue 7): unit tests of the codecs, the image layer
# and the operations on in-memory images; interop scripts against the sample
# images, qemu-img and libvhdi; bad input; crash safety; the fuzz target.
vs_unit_test(test_vhd_fmt SOURCES unit/test_vhd_fmt.c LIBS vs_vhd)
vs_unit_test(test_vhd_io SOURCES unit/test_vhd_io.c LIBS vs_vhd)
vs_unit_test(test_vhd SOURCES unit/test_vhd.c LIBS vs_vhd)
vs_unit_test(test_vhd_check SOURCES unit/test_vhd_check.c LIBS vs_vhd)
vs_unit_test(test_vhd_ops SOURCES unit/test_vhd_ops.c LIBS vs_vhd)

# Driver the scripts use to write through the library like a VM would.
add_executable(vhd_helper interop/vhd_helper.c)
target_link_libraries(vhd_helper PRIVATE vs_vhd)

foreach(t testdata qemu libvhdi chain badinput crash)
	vs_script_test(vhd_${t} ${CMAKE_CURRENT_SOURCE_DIR}/interop/vhd_${t}.sh interop TIMEOUT 300)
endforeach()

vs_fuzz_target(fuzz_vhd SOURCES fuzz/fuzz_vhd.c LIBS vs_vhd
	CORPUS ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/vhd)
vs_fuzz_target(fuzz_vhd_fmt SOURCES fuzz/fuzz_vhd_fmt.c LIBS vs_vhd
	CORPUS ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/vhd)

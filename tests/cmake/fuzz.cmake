# SPDX-License-Identifier: MIT
#
# vs_fuzz_target(NAME SOURCES src... LIBS lib... CORPUS dir)
# With -DVSWITCH_FUZZ=ON and clang: a libFuzzer binary (ASan+UBSan) whose test
# fuzzes for VSWITCH_FUZZ_SECONDS from the seed corpus. Otherwise: the same
# target linked with tests/fuzz/standalone.c, whose test replays the corpus
# (seeds and every past crash) as a regression run. Both carry label fuzz.
set(VSWITCH_FUZZ_SECONDS 20 CACHE STRING "Seconds each fuzz test runs")

function(vs_fuzz_target name)
	cmake_parse_arguments(T "" "CORPUS" "SOURCES;LIBS" ${ARGN})
	add_executable(${name} ${T_SOURCES})
	target_link_libraries(${name} PRIVATE ${T_LIBS})
	if(VSWITCH_FUZZ AND CMAKE_C_COMPILER_ID STREQUAL "Clang")
		target_compile_options(${name} PRIVATE -fsanitize=fuzzer,address,undefined)
		target_link_options(${name} PRIVATE -fsanitize=fuzzer,address,undefined)
		# Fuzz a scratch copy so new inputs never land in the source tree.
		add_test(NAME ${name}
			COMMAND sh -c "rm -rf $1.work && mkdir -p $1.work && exec $0 -max_total_time=${VSWITCH_FUZZ_SECONDS} -timeout=10 -rss_limit_mb=2048 $1.work ${T_CORPUS}"
				$<TARGET_FILE:${name}> ${CMAKE_CURRENT_BINARY_DIR}/${name})
		set_tests_properties(${name} PROPERTIES TIMEOUT 600)
	else()
		target_sources(${name} PRIVATE ${CMAKE_SOURCE_DIR}/tests/fuzz/standalone.c)
		add_test(NAME ${name} COMMAND ${name} ${T_CORPUS})
		set_tests_properties(${name} PROPERTIES TIMEOUT 120)
	endif()
	set_tests_properties(${name} PROPERTIES LABELS fuzz)
endfunction()

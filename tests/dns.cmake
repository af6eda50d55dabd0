# SPDX-License-Identifier: MIT
# Tests of the DNS proxy (nat/, library vs_dns): the wire codec, the
# resolv.conf reader, and the proxy itself on 127.0.0.1 with high ports and a
# fake upstream inside the test, so no privileges are needed.
foreach(t dns_msg resolv dns_proxy)
	vs_unit_test(test_${t} SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_${t}.c LIBS vs_dns)
endforeach()

vs_fuzz_target(fuzz_dns_msg
	SOURCES ${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz_dns_msg.c
	LIBS vs_dns
	CORPUS ${CMAKE_SOURCE_DIR}/tests/fuzz/corpus/dns)

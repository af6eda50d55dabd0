# SPDX-License-Identifier: MIT
# vs_capture: per-port pcap capture with libpcap's dump functions; <pcap.h>
# stays in this folder (STYLE.md §1). Linked by vswitchd for `vswitchctl capture`.
add_library(vs_capture STATIC ${CMAKE_CURRENT_LIST_DIR}/capture.c
	${CMAKE_CURRENT_LIST_DIR}/capture_port.c)
target_link_libraries(vs_capture PUBLIC PkgConfig::PCAP vs_common)

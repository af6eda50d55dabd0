# SPDX-License-Identifier: MIT
# vs_impair: the link impairment engine (delay, jitter, loss, rate) for lab
# ports. Pure, so it depends on nothing; the switch core links it for ports
# with an impairment configured.
add_library(vs_impair STATIC ${CMAKE_CURRENT_LIST_DIR}/impair.c)

# SPDX-License-Identifier: MIT
# Machines of a profile (vswitchctl vm up|down|list): vswitchd, the disk sets
# of vhd-attach/vhd_diskset.c and `vhd export`, so root and a namespace.
vs_script_test(net_vm ${CMAKE_CURRENT_SOURCE_DIR}/net/vm.sh net TIMEOUT 300)

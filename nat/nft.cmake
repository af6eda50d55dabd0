# SPDX-License-Identifier: MIT
# vs_nat: the nftables ruleset (nat_rules.c, pure), the owner socket
# (nat_nl.c) and the per-network ICS object (nat.c).
add_library(vs_nat STATIC nat_rules.c nat_nl.c nat.c)
target_link_libraries(vs_nat PUBLIC vs_common PkgConfig::NFT)

#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The checks STYLE.md asks CI to make on the source itself: every C file opens
# with an SPDX line, library headers stay in their corner, the dependency
# arrows point one way, and the formatting is what .clang-format produces.
set -euo pipefail
cd "${SRC_DIR:?}"
status=0
bad() {
	echo "lint: $*"
	status=1
}

mapfile -t product < <(find common vswitch tap dhcpd nat vhd-attach -name '*.[ch]' 2>/dev/null | sort)
mapfile -t tests < <(find tests -name '*.[ch]' | sort)

for f in "${product[@]}" "${tests[@]}"; do
	head -n 1 "$f" | grep -q 'SPDX-License-Identifier' || bad "$f: first line is not an SPDX line"
done

# corner DIR REGEX: only files under DIR may include headers matching REGEX.
corner() {
	local dir=$1 re=$2 f
	for f in "${product[@]}"; do
		case $f in "$dir"/*) continue ;; esac
		grep -Eq "^#include <($re)" "$f" && bad "$f includes <$re> outside $dir/"
	done
	return 0
}
corner vswitch 'ev\.h|ini\.h|json-c/'
corner tap 'netlink/|pcap'
corner nat 'libmnl/|libnftnl/'
corner vhd-attach 'fuse|libnbd|nbd'

for f in "${product[@]}"; do
	case $f in
	vhd-attach/*)
		grep -Eq '^#include "(vswitch|tap|dhcpd|nat)/' "$f" && bad "$f: vhd-attach/ must not use the network parts"
		;;
	common/*)
		grep -Eq '^#include "(vswitch|tap|dhcpd|nat|vhd-attach)/' "$f" && bad "$f: common/ depends on nothing"
		;;
	vswitch/vswitchd.c) ;;
	vswitch/*)
		grep -Eq '^#include "(tap|dhcpd|nat|vhd-attach)/' "$f" && bad "$f: only vswitchd.c wires the parts"
		;;
	esac
done

if command -v clang-format >/dev/null; then
	for f in "${product[@]}" "${tests[@]}"; do
		clang-format --dry-run -Werror "$f" >/dev/null 2>&1 || bad "$f: not clang-formatted (run clang-format -i)"
	done
else
	bad "clang-format is not installed"
fi
[ "$status" -eq 0 ] && echo "lint: ${#product[@]} product and ${#tests[@]} test files clean"
exit "$status"

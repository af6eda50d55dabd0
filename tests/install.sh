#!/bin/bash
# SPDX-License-Identifier: MIT
#
# `cmake --install` into a staging folder (DESTDIR), no privileges needed:
# the three programs land in sbin and run, vhd beside vswitchd (where vswitchd
# looks for it), the docs and examples under share/doc/vswitch, and a systemd
# unit whose commands point at the installed vswitchd and which
# systemd-analyze accepts (when it is installed).
set -euo pipefail
: "${BUILD_DIR:?}"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok - $*"; }

DESTDIR=$TMP/root cmake --install "$BUILD_DIR" >"$TMP/install.log" 2>&1 ||
	fail "cmake --install: $(tail -5 "$TMP/install.log")"
prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$BUILD_DIR/CMakeCache.txt")
root=$TMP/root$prefix
for p in vswitchd vswitchctl vhd; do
	[ -x "$root/sbin/$p" ] || fail "sbin/$p not installed"
done
"$root/sbin/vswitchd" --version | grep -q "^vswitchd [0-9]" || fail "installed vswitchd does not run"
"$root/sbin/vhd" --help | grep -q "^Usage: vhd VERB" || fail "installed vhd does not run"
pass "vswitchd, vswitchctl and vhd installed side by side in sbin, and they run"

for f in README.md vswitchd.md profile.md PERFORMANCE.md examples/ics.conf; do
	[ -s "$root/share/doc/vswitch/$f" ] || fail "share/doc/vswitch/$f not installed"
done
"$root/sbin/vswitchd" --check -c "$root/share/doc/vswitch/examples" >/dev/null ||
	fail "the installed examples do not validate"
pass "docs and example profiles installed; the examples validate"

unit=$root/lib/systemd/system/vswitchd.service
[ -s "$unit" ] || fail "no systemd unit"
exec_start=$(sed -n 's/^ExecStart=\([^ ]*\) .*/\1/p' "$unit")
[ "$exec_start" = "$prefix/sbin/vswitchd" ] || fail "ExecStart runs '$exec_start', not $prefix/sbin/vswitchd"
grep -q "^ExecStartPre=$prefix/sbin/vswitchd --check -c " "$unit" || fail "no profile check before start"
if command -v systemd-analyze >/dev/null; then
	# Verified with its paths moved into the staging folder, where the programs are.
	mkdir -p "$TMP/unit"
	sed "s|$prefix/|$root/|g" "$unit" >"$TMP/unit/vswitchd.service"
	systemd-analyze verify --man=no "$TMP/unit/vswitchd.service" >"$TMP/verify.log" 2>&1 ||
		fail "systemd-analyze verify: $(cat "$TMP/verify.log")"
fi
pass "systemd unit runs the installed vswitchd on SYSCONFDIR/vswitch"

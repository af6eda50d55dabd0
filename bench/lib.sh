# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# Sourced by the network benchmarks, from the source root.

# bench_start NAME: refuses to run without root or a built vswitchd (one line
# on stderr, exit 1), installs the peers, and sets BIN to the folder holding
# vswitchd and vswitchctl (BUILD_DIR, default ./build).
bench_start() {
	BIN=${BUILD_DIR:-$PWD/build}/vswitch
	[ "$(id -u)" -eq 0 ] || { echo "bench/$1: needs root" >&2; exit 1; }
	[ -x "$BIN/vswitchd" ] || { echo "bench/$1: build first ($BIN/vswitchd missing)" >&2; exit 1; }
	./scripts/install-deps.sh bench
}

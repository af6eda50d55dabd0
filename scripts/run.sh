#!/bin/sh
# SPDX-License-Identifier: MIT
#
# The README's first command: installs what the build needs, builds vswitch,
# and runs vswitchd in the foreground on the embedded default profile (network
# vswitch0, 192.168.131.0/24, host adapter vswitch0-host at 192.168.131.1).
# Extra arguments go to vswitchd, e.g. `scripts/run.sh -c examples/host-only.conf`.
# Ctrl-C stops it and removes every interface it created.
set -eu
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)" --target vswitchd vswitchctl vhd
exec ./build/vswitch/vswitchd -f "$@"

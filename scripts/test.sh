#!/bin/sh
# SPDX-License-Identifier: MIT
#
# The test command of the README: installs what is missing, builds vswitch
# with gcc (-Werror) and runs every ctest test (unit, net, interop, and the
# fuzz corpora replayed), then builds the libFuzzer targets with clang
# (ASan+UBSan) and fuzzes each briefly. Exits non-zero if anything fails.
# Tests labelled net need root; without it they report a skip.
set -eu
cd "$(dirname "$0")/.."
./scripts/install-deps.sh test

jobs=$(nproc)
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVSWITCH_WERROR=ON >/dev/null
cmake --build build -j "$jobs"
(cd build && ctest --output-on-failure -j "$jobs" ${CTEST_ARGS:-})

CC=clang cmake -S . -B build-fuzz -DVSWITCH_FUZZ=ON -DVSWITCH_WERROR=ON \
	-DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-fuzz -j "$jobs"
(cd build-fuzz && ctest --output-on-failure -L fuzz -j "$jobs")

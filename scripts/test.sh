#!/bin/sh
# SPDX-License-Identifier: MIT
#
# The test command of the README. Installs what is missing, then:
#  1. builds with gcc (-Werror) and runs every ctest test: unit, lint, net
#     and interop (root; without it they report a skip), and the fuzz corpora
#     replayed as regression cases;
#  2. builds with clang (-Werror, ASan+UBSan, libFuzzer) and runs the unit
#     tests under the sanitizers, then fuzzes each target briefly.
# Exits non-zero if anything fails.
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
(cd build-fuzz && ctest --output-on-failure -L 'unit|fuzz' -j "$jobs")

#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Installs the Debian 12 packages vswitch needs. With no argument: what the
# build needs (scripts/deps/build.txt); with "test" or "bench": also what the
# tests or benchmarks need (scripts/deps/test-*.txt or bench-*.txt, one file
# per part of the tree). Only missing packages are asked for, so a machine
# that has everything makes no change.
set -eu

deps=$(dirname "$0")/deps
lists="$deps/build.txt"
case "${1:-}" in
test | bench) lists="$lists $(ls "$deps/$1"-*.txt)" ;;
"") ;;
*)
	echo "usage: install-deps.sh [test|bench]" >&2
	exit 2
	;;
esac

missing=""
# shellcheck disable=SC2086
for p in $(sed -e 's/#.*//' $lists); do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages:$missing (run as root to install them)" >&2
	exit 1
fi
echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null

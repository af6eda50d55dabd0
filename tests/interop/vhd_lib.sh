# SPDX-License-Identifier: MIT
#
# Shared setup of the vhd_*.sh interop tests (sourced): tool paths, a
# scratch folder removed on exit, and small assertion helpers. Needs
# BUILD_DIR, SRC_DIR and TESTDATA_DIR from ctest (vs_script_test).
set -eu
V="$BUILD_DIR/vhd-attach/vhd"
H="$BUILD_DIR/tests/vhd_helper"
TD="$TESTDATA_DIR/vhd"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# need TOOL...: skip (exit 77) when a judge is not installed.
need() {
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 || { echo "SKIP: $t not installed"; exit 77; }
	done
}

# hash_of ARGS...: SHA-256 of the raw virtual content "vhd convert ARGS -O raw IMAGE -" prints.
hash_of() {
	"$V" convert -O raw "$@" - | sha256sum | cut -d' ' -f1
}

# expect_eq WHAT GOT WANT
expect_eq() {
	[ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"
}

# json_field IMAGE FIELD [INFO-OPTIONS]: a top-level field of the first chain entry of info -j.
json_field() {
	img=$1 field=$2
	shift 2
	"$V" info -j "$@" "$img" | /usr/bin/python3 -c \
		"import json,sys; print(json.load(sys.stdin)['chain'][0]['$field'])"
}

#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Bad input: truncated files, bad checksums, BAT entries past the end or
# overlapping, locator offsets past the end, absurd block sizes and parent
# loops each give one clear line naming the problem, a non-zero exit without
# a crash, and nothing written (inputs unchanged, no output left behind).
. "$(dirname "$0")/vhd_lib.sh"
PY=/usr/bin/python3

# A sound child and parent to damage: two allocated blocks each.
"$V" create -t dynamic -s 8M base.vhd
head -c 5000000 /dev/urandom >d
"$H" write base.vhd 0 d
"$V" create -t diff -p base.vhd child.vhd
"$H" write child.vhd 100000 d

# edit FILE PYTHON: runs PYTHON with 'b' = the file's bytes (bytearray) and
# helpers to refresh checksums, then writes 'b' back.
edit() {
	$PY - "$1" "$2" <<'PYEOF'
import struct, sys
path, code = sys.argv[1], sys.argv[2]
b = bytearray(open(path, 'rb').read())
def csum(buf, off):
    s = sum(buf[:off]) + sum(buf[off + 4:])
    return (~s) & 0xffffffff
def fix_footer():
    f = bytearray(b[-512:]); f[64:68] = b'\0' * 4
    struct.pack_into('>I', f, 64, csum(f, 64)); b[-512:] = f; b[0:512] = f
def fix_header():
    h = bytearray(b[512:1536]); h[36:40] = b'\0' * 4
    struct.pack_into('>I', h, 36, csum(h, 36)); b[512:1536] = h
bat = struct.unpack_from('>Q', b, 512 + 16)[0]
exec(code)
open(path, 'wb').write(b)
PYEOF
}

# expect_fail NAME IMAGE PATTERN: every reading verb fails cleanly, naming the problem.
expect_fail() {
	name=$1 img=$2 pattern=$3
	sum=$(sha256sum "$img")
	for cmd in "info" "convert -f vhd -O raw" "convert -f vhd -O dynamic" "merge -o" "compact"; do
		rc=0
		case $cmd in
		convert*) "$V" $cmd "$img" out.vhd >/dev/null 2>err || rc=$? ;;
		merge*) "$V" $cmd out.vhd "$img" >/dev/null 2>err || rc=$? ;;
		*) "$V" $cmd "$img" >/dev/null 2>err || rc=$? ;;
		esac
		[ $rc -eq 1 ] || fail "$name: '$cmd' exited $rc: $(cat err)"
		[ "$(wc -l <err)" -eq 1 ] || fail "$name: '$cmd' printed more than one line: $(cat err)"
		grep -q -- "$pattern" err || fail "$name: '$cmd' said '$(cat err)', want '$pattern'"
		[ ! -e out.vhd ] || fail "$name: '$cmd' left an output"
	done
	"$H" open "$img" 2>err && fail "$name: library opened it"
	grep -q -- "$pattern" err || fail "$name: library said '$(cat err)'"
	rc=0
	"$V" check -q "$img" >/dev/null 2>&1 || rc=$?
	[ $rc -eq 3 ] || fail "$name: check exited $rc"
	expect_eq "$name unchanged" "$(sha256sum "$img")" "$sum"
}

cp base.vhd t.vhd
truncate -s 3000000 t.vhd
expect_fail truncated t.vhd "BAT entry 1 points past the end"

cp base.vhd t.vhd
edit t.vhd "b[0:512] = bytes(512); b[-512:] = bytes(512)"
expect_fail no-footer t.vhd "no VHD footer"

cp base.vhd t.vhd
truncate -s 300 t.vhd
expect_fail tiny t.vhd "file too short"

cp base.vhd t.vhd
edit t.vhd 'b[-512 + 50] ^= 1; b[50] ^= 1'
expect_fail footer-csum t.vhd "footer checksum mismatch"

cp base.vhd t.vhd
edit t.vhd 'b[512 + 900] ^= 1'
expect_fail header-csum t.vhd "dynamic header checksum mismatch"

cp base.vhd t.vhd
edit t.vhd 'struct.pack_into(">I", b, bat + 4, 0x00fffff0)'
expect_fail bat-past-eof t.vhd "BAT entry 1 points past the end"

cp base.vhd t.vhd
edit t.vhd 'b[bat + 4:bat + 8] = b[bat:bat + 4]'
expect_fail overlap t.vhd "overlap"

cp base.vhd t.vhd
edit t.vhd 'struct.pack_into(">I", b, 512 + 32, 3 << 20); fix_header()'
expect_fail block-size-3M t.vhd "invalid block size 3145728"

cp base.vhd t.vhd
edit t.vhd 'struct.pack_into(">I", b, 512 + 32, 1 << 30); fix_header()'
expect_fail block-size-1G t.vhd "invalid block size 1073741824"

cp base.vhd t.vhd
edit t.vhd 'struct.pack_into(">I", b, 512 + 28, 0x7fffffff); fix_header()'
expect_fail bat-huge t.vhd "too many entries"

cp child.vhd t.vhd
edit t.vhd 'struct.pack_into(">Q", b, 512 + 576 + 16, 1 << 40); fix_header()'
expect_fail locator-past-eof t.vhd "parent locator 0 .* past the end"

cp base.vhd t.vhd
edit t.vhd 'struct.pack_into(">Q", b, len(b) - 512 + 48, 3 << 40); fix_footer()'
expect_fail too-big t.vhd "2040 GiB"

# A parent loop: x <- y <- z, then x is turned into a child of z.
"$V" create -t dynamic -s 4M x.vhd
"$V" create -t diff -p x.vhd y.vhd
"$V" create -t diff -p y.vhd z.vhd
zid=$(json_field z.vhd uuid | tr -d -)
edit x.vhd "
z = open('z.vhd', 'rb').read()
zh = z[512:1536]
h = bytearray(zh)
h[40:56] = bytes.fromhex('$zid')
h[64:576] = 'z.vhd'.encode('utf-16-be').ljust(512, b'\0')
h[576:768] = b'\0' * 192
b[512:1536] = h
struct.pack_into('>I', b, len(b) - 512 + 60, 4)
fix_footer(); fix_header()"
expect_fail loop z.vhd "loops back"
# What --repair may fix: BAT entries into the missing tail of a truncated file,
# and a damaged footer copy. The data that is there stays readable.
cp base.vhd t.vhd
truncate -s 3000000 t.vhd
rc=0
"$V" check --repair t.vhd >out || rc=$?
expect_eq "repair truncated" $rc 0
grep -q "repaired: BAT entry 1 pointed past the end of the file; cleared" out || fail "$(cat out)"
grep -q "repaired: footer at the end rewritten" out || fail "$(cat out)"
"$V" check -q t.vhd || fail "check after repair"
cmp -s <("$V" convert -O raw t.vhd - | head -c 2097152) <(head -c 2097152 d) ||
	fail "block 0 lost by the repair"
cp base.vhd t.vhd
edit t.vhd 'b[50] ^= 1'
rc=0
"$V" check -q t.vhd >/dev/null 2>&1 || rc=$?
expect_eq "damaged copy found" $rc 3
"$V" check -q --repair t.vhd >/dev/null || fail "repair of the footer copy"
cmp -s t.vhd base.vhd || fail "repaired file differs from the original"
echo "vhd_badinput: ok"

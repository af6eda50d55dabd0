#!/bin/bash
# SPDX-License-Identifier: MIT
#
# libvhdi as the judge: vhdiinfo describes the images this tool creates
# (type, size, identifiers, parent name) and the python3-libvhdi binding reads
# their content, the differencing one with its parent attached. libvhdi
# 20210425 misreads differencing runs ending inside a bitmap byte, so the
# child's writes here are 4 KiB aligned (notes §11).
. "$(dirname "$0")/vhd_lib.sh"
need vhdiinfo
PY=/usr/bin/python3
$PY -c 'import pyvhdi' 2>/dev/null || { echo "SKIP: python3-libvhdi not installed"; exit 77; }

head -c 5000000 /dev/urandom >base.raw
truncate -s 20971520 base.raw
"$V" convert -f raw -O dynamic base.raw dyn.vhd
"$V" convert -f raw -O fixed base.raw fix.vhd
"$V" create -t diff -p dyn.vhd child.vhd
head -c 8192 /dev/urandom >p1
head -c 2101248 /dev/urandom >p2
"$H" write child.vhd 4096 p1
"$H" write child.vhd 10485760 p2
cp base.raw child.raw
dd if=p1 of=child.raw bs=4096 seek=1 conv=notrunc status=none
dd if=p2 of=child.raw bs=4096 seek=2560 conv=notrunc status=none

vhdiinfo dyn.vhd >info.txt
grep -q 'Disk type.*Dynamic' info.txt || fail "vhdiinfo dyn: $(cat info.txt)"
grep -q '(20971520 bytes)' info.txt || fail "vhdiinfo dyn size"
grep -q "$(json_field dyn.vhd uuid)" info.txt || fail "vhdiinfo dyn identifier"
vhdiinfo fix.vhd | grep -q 'Disk type.*Fixed' || fail "vhdiinfo fixed"
vhdiinfo child.vhd >info.txt
grep -q 'Disk type.*Differential' info.txt || fail "vhdiinfo child: $(cat info.txt)"
grep -q 'Parent filename.*: dyn.vhd' info.txt || fail "vhdiinfo parent name"
grep -q "Parent identifier.*$(json_field dyn.vhd uuid)" info.txt || fail "vhdiinfo parent id"

readvhdi() {
	$PY - "$@" <<'PYEOF'
import hashlib, sys, pyvhdi
f = pyvhdi.file()
f.open(sys.argv[1])
if len(sys.argv) > 2:
    p = pyvhdi.file()
    p.open(sys.argv[2])
    f.set_parent(p)
h = hashlib.sha256()
size = f.get_media_size()
off = 0
while off < size:
    n = min(1 << 20, size - off)
    h.update(f.read_buffer_at_offset(n, off))
    off += n
print(h.hexdigest())
PYEOF
}
want=$(sha256sum <base.raw | cut -d' ' -f1)
expect_eq "libvhdi dynamic" "$(readvhdi dyn.vhd)" "$want"
expect_eq "libvhdi fixed" "$(readvhdi fix.vhd)" "$want"
want=$(sha256sum <child.raw | cut -d' ' -f1)
expect_eq "own child read" "$(hash_of child.vhd)" "$want"
expect_eq "libvhdi child" "$(readvhdi child.vhd dyn.vhd)" "$want"
echo "vhd_libvhdi: ok"

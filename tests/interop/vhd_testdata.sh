#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Every sample image of testdata/vhd reads back with the SHA-256 its README
# lists (damaged ones only with --lenient), info reports the README's
# metadata, and check tells the sound images from the damaged ones.
. "$(dirname "$0")/vhd_lib.sh"

cp -r "$TD/dfvfs" "$TD/node-vhd" "$TD/qemu" .
chmod -R u+w .
gzip -dc node-vhd/fixed.vhd.gz >node-vhd/fixed.vhd
bzip2 -dc qemu/d2v-zerofilled.vhd.bz2 >qemu/d2v-zerofilled.vhd

expect_eq ext2 "$(hash_of dfvfs/ext2.vhd)" 870be7ae16c1fa8faab05c6eb9205dc9a7ae35c5f552c5cf8a267c0bc6a5cb99
expect_eq dynamic "$(hash_of node-vhd/dynamic.vhd)" c461afded0b54cc1cfb5441e08f4d7f9d699d2eff7d9526d1cf6ad227da26683
expect_eq fixed "$(hash_of node-vhd/fixed.vhd)" fa0490edf13cf9699ac7ead2b2024f2ec7921f583ff824039bca0529055e409d
expect_eq d2v "$(hash_of qemu/d2v-zerofilled.vhd)" 1ba076be94a8a64541c25aae8d5a5f8b0da758c3797af597e03acb431ff8d143

# Bad checksums: refused by default with the reason, readable leniently.
for f in image image-differential; do
	if "$V" convert -O raw "dfvfs/$f.vhd" - >/dev/null 2>err; then
		fail "$f.vhd opened without --lenient"
	fi
	grep -q "footer checksum mismatch" err || fail "$f.vhd: $(cat err)"
	expect_eq "$f" "$(hash_of --lenient "dfvfs/$f.vhd")" \
		c6db12a7db548e193c29420c1b4533e4708b20c5033db5cc29ef075d48316d25
done
expect_eq "image-differential parent" \
	"$(json_field dfvfs/image-differential.vhd link --lenient)" ok

# fat-differential: its parent is missing upstream.
if "$V" convert -O raw dfvfs/fat-differential.vhd - >/dev/null 2>err; then
	fail "fat-differential.vhd read without its parent"
fi
grep -q "parent not found" err || fail "fat-differential: $(cat err)"
"$V" convert --no-parent -O raw dfvfs/fat-differential.vhd fat.raw
expect_eq fat-child "$(sha256sum <fat.raw | cut -d' ' -f1)" \
	9e96fac774e2e3606e0e3d5f1152844ca3c6a45ed45e61f36586b2cd60b19d3f
for s in 134 143 152 153 154 155 156 157 158 159 184 185 188 190 191 192 194 196; do
	dd if=fat.raw bs=512 skip=$s count=1 status=none
done >sectors.bin
expect_eq fat-sectors "$(sha256sum <sectors.bin | cut -d' ' -f1)" \
	eda75676597b44170921425cb00ad70be1d94ad0d7dae92fcbedb9712846e457
expect_eq fat-link "$(json_field dfvfs/fat-differential.vhd link)" missing

# The two 127 GiB samples have no allocated block: all zeros by construction
# (hashing 127 GiB of zeros takes minutes: VHD_FULL_HASH=1 does it). Check sizes per size mode,
# the allocation and the content at both ends.
expect_eq vpc-auto "$(json_field qemu/virtualpc-dynamic.vhd virtual_size)" 136363130880
expect_eq vpc-current "$(json_field qemu/virtualpc-dynamic.vhd virtual_size --size-mode current)" 136365211648
expect_eq hyperv "$(json_field qemu/hyperv2012r2-dynamic.vhd virtual_size)" 136365211648
expect_eq d2v-size "$(json_field qemu/d2v-zerofilled.vhd virtual_size)" 263454720
for f in qemu/virtualpc-dynamic.vhd qemu/hyperv2012r2-dynamic.vhd; do
	expect_eq "$f blocks" "$(json_field "$f" allocated_blocks)" 0
	"$V" convert -O raw "$f" - | head -c 8388608 | cmp -s - <(head -c 8388608 /dev/zero) ||
		fail "$f: start is not zero"
done

# The full hashes on request (about 2 x 127 GiB through sha256sum: minutes).
if [ "${VHD_FULL_HASH:-0}" = 1 ]; then
	expect_eq vpc-chs-hash "$(hash_of qemu/virtualpc-dynamic.vhd)" \
		2a4f06d5c9672ce7acfe68d55f16be1e1c96891af6a79eefe50eefae0cc5ae8d
	expect_eq vpc-current-hash "$(hash_of --size-mode current qemu/virtualpc-dynamic.vhd)" \
		dcb4f171cbcedb416d5da34e48d5a17ecc2828a0f14c416de3669b8463cb1d8e
	expect_eq hyperv-hash "$(hash_of qemu/hyperv2012r2-dynamic.vhd)" \
		dcb4f171cbcedb416d5da34e48d5a17ecc2828a0f14c416de3669b8463cb1d8e
fi

# Metadata as the README lists it.
expect_eq ext2-type "$(json_field dfvfs/ext2.vhd type)" dynamic
expect_eq ext2-uuid "$(json_field dfvfs/ext2.vhd uuid)" b61f53ca-a786-4528-90e2-55ba791a1c4c
expect_eq fixed-type "$(json_field node-vhd/fixed.vhd type)" fixed
expect_eq fixed-chs "$(json_field node-vhd/fixed.vhd chs_size)" 10479616
expect_eq fixed-size "$(json_field node-vhd/fixed.vhd virtual_size)" 10485760
expect_eq dyn-blocks "$(json_field node-vhd/dynamic.vhd allocated_blocks)" 11
expect_eq dyn-creator "$(json_field node-vhd/dynamic.vhd creator)" win
expect_eq fat-type "$(json_field dfvfs/fat-differential.vhd type)" differencing
expect_eq d2v-creator "$(json_field qemu/d2v-zerofilled.vhd creator)" d2v
"$V" info dfvfs/fat-differential.vhd | grep -q 'W2ru ./fat-parent.vhd' || fail "fat W2ru locator"
"$V" info dfvfs/fat-differential.vhd | grep -q 'W2ku /Projects/dfvfs/test_data/fat-parent.vhd' ||
	fail "fat W2ku locator"

# Writing into a Windows-made image (3,584-byte gap before its footer): the new
# block goes after the old footer, which must not show through (the stale
# footer QEMU 7.2 exposes at guest offset 0x200C00, notes §4).
cp node-vhd/dynamic.vhd w.vhd
"$V" convert -O raw w.vhd w.raw
printf 'x%.0s' $(seq 512) >x512
"$H" write w.vhd 2097152 x512
dd if=x512 of=w.raw bs=512 seek=4096 conv=notrunc status=none
expect_eq "windows image written" "$(hash_of w.vhd)" "$(sha256sum <w.raw | cut -d' ' -f1)"
"$V" convert -O raw w.vhd - | tail -c +$((0x200C00 + 1)) | head -c 8 | cmp -s - <(head -c 8 /dev/zero) ||
	fail "stale footer visible at 0x200C00"
"$V" check -q w.vhd || fail "check after writing into the Windows image"
if command -v qemu-img >/dev/null; then
	qemu-img compare -q -f vpc -F raw w.vhd w.raw || fail "qemu-img disagrees on w.vhd"
fi

# check: sound images pass, damaged ones are found out (exit 3).
for f in dfvfs/ext2.vhd node-vhd/dynamic.vhd node-vhd/fixed.vhd qemu/virtualpc-dynamic.vhd \
	qemu/hyperv2012r2-dynamic.vhd qemu/d2v-zerofilled.vhd; do
	"$V" check -q "$f" >/dev/null || fail "check $f"
done
for f in dfvfs/image.vhd dfvfs/image-differential.vhd dfvfs/fat-differential.vhd; do
	rc=0
	"$V" check -q "$f" >/dev/null 2>&1 || rc=$?
	expect_eq "check $f" $rc 3
done
echo "vhd_testdata: ok"

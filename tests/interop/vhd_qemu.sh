#!/bin/bash
# SPDX-License-Identifier: MIT
#
# qemu-img as the judge: images this tool creates and writes (byte-granular
# random writes, zero writes included) compare equal with the raw data
# written into them; images qemu-img creates (fixed and dynamic, sizes that
# are and are not CHS products) read back as qemu-img reads them, and stay
# equal after this tool writes into them.
. "$(dirname "$0")/vhd_lib.sh"
need qemu-img qemu-io

seed=1
for type in dynamic fixed; do
	for size in 10485760 5000192 67108864; do
		img=$type-$size.vhd
		"$V" create -t $type -s $size $img
		truncate -s $size $img.raw
		"$H" random $img $img.raw $seed 40
		seed=$((seed + 1))
		qemu-img compare -q -f vpc -F raw $img $img.raw || fail "qemu-img compare $img"
		cmp -s <("$V" convert -O raw $img -) $img.raw || fail "own read of $img"
		"$V" check -q $img || fail "check $img"
		expect_eq "$img size" "$(qemu-img info -f vpc --output=json $img |
			/usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["virtual-size"])')" $size
	done
done

# Conversions of raw data are judged the same way.
head -c 3000000 /dev/urandom >data.raw
truncate -s 8388608 data.raw
"$V" convert -f raw -O dynamic data.raw conv-dyn.vhd
"$V" convert -f raw -O fixed data.raw conv-fix.vhd
qemu-img compare -q -f vpc -F raw conv-dyn.vhd data.raw || fail "convert raw->dynamic"
qemu-img compare -q -f vpc -F raw conv-fix.vhd data.raw || fail "convert raw->fixed"
expect_eq "zero blocks skipped" "$(json_field conv-dyn.vhd allocated_blocks)" 2

# Images made by qemu-img: CHS-product sizes and others (qemu rounds those up).
for sub in dynamic fixed; do
	for size in 10M 100M 50000000 33554944; do
		img=q-$sub-$size.vhd
		qemu-img create -q -f vpc -o subformat=$sub $img $size
		qemu-io -f vpc -c "write -q -P 0xab 0 1M" -c "write -q -P 0x5a 3M 4097" \
			-c "write -q -P 0x11 7340544 512" $img >/dev/null
		qemu-img convert -f vpc -O raw $img $img.raw
		cmp -s <("$V" convert -O raw $img -) $img.raw || fail "read of qemu's $img"
		"$V" check -q $img || fail "check qemu's $img"
		"$H" random $img $img.raw $seed 20
		seed=$((seed + 1))
		qemu-img compare -q -f vpc -F raw $img $img.raw || fail "qemu reads our writes in $img"
	done
done
# force_size keeps the exact size ("qem2" creator, current-size semantics).
qemu-img create -q -f vpc -o subformat=dynamic,force_size=on forced.vhd 1000000000
expect_eq "force_size" "$(json_field forced.vhd virtual_size)" 1000000000
echo "vhd_qemu: ok"

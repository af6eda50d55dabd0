#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Differencing chains and the operations that rewrite images: a three-level
# chain moved to another folder still opens through its relative locators;
# merge (into the parent, and into a new image), compact, convert round trips
# and undo disks keep the virtual content byte-identical to a raw mirror.
. "$(dirname "$0")/vhd_lib.sh"

h() { sha256sum <"$1" | cut -d' ' -f1; }

mkdir a
size=16777216
truncate -s $size m.raw
"$V" create -t dynamic -s $size a/base.vhd
"$H" random a/base.vhd m.raw 11 30
cp m.raw base.raw
"$V" create -t diff -p a/base.vhd a/mid.vhd
"$H" random a/mid.vhd m.raw 12 30
cp m.raw mid.raw
"$V" create -t diff -p a/mid.vhd a/top.vhd
"$H" random a/top.vhd m.raw 13 30
cp m.raw top.raw
expect_eq "chain read" "$(hash_of a/top.vhd)" "$(h top.raw)"

# Move the folder: the absolute W2ku paths go stale, the W2ru ones still work.
mkdir -p elsewhere/deeper
mv a elsewhere/deeper/b
expect_eq "moved chain read" "$(hash_of elsewhere/deeper/b/top.vhd)" "$(h top.raw)"
expect_eq "moved link" "$(json_field elsewhere/deeper/b/top.vhd link)" ok
expect_eq "moved parent" "$(json_field elsewhere/deeper/b/top.vhd parent_path)" \
	"$tmp/elsewhere/deeper/b/mid.vhd"
"$V" check -q elsewhere/deeper/b/top.vhd || fail "check moved chain"
mv elsewhere/deeper/b a

# Merge the chain into a new image (the sources stay as they are).
"$V" merge -o flat.vhd a/top.vhd
expect_eq "merge -o" "$(hash_of flat.vhd)" "$(h top.raw)"
expect_eq "merge -o type" "$(json_field flat.vhd type)" dynamic
"$V" merge -o flat-fixed.vhd -t fixed a/top.vhd
expect_eq "merge -o fixed" "$(hash_of flat-fixed.vhd)" "$(h top.raw)"
expect_eq "sources unchanged" "$(hash_of a/top.vhd)" "$(h top.raw)"

# Merging refuses while another child of the same parent is known.
"$V" create -t diff -p a/mid.vhd a/other.vhd
before=$(sha256sum a/mid.vhd)
if "$V" merge a/top.vhd 2>err; then fail "merge with a sibling went ahead"; fi
grep -q "other.vhd" err || fail "merge refusal does not name the sibling: $(cat err)"
expect_eq "nothing written" "$(sha256sum a/mid.vhd)" "$before"
# ... and when the child to be deleted has children of its own.
if "$V" merge --delete a/mid.vhd 2>err; then fail "merge of a parent of others went ahead"; fi
grep -q "top.vhd" err || fail "merge refusal does not name the grandchild: $(cat err)"
rm a/other.vhd

# Merge top into mid, then mid into base: base then holds the whole chain.
"$V" merge --delete a/top.vhd
[ ! -e a/top.vhd ] || fail "--delete left the child"
expect_eq "merged mid" "$(hash_of a/mid.vhd)" "$(h top.raw)"
"$V" merge a/mid.vhd
expect_eq "merged base" "$(hash_of a/base.vhd)" "$(h top.raw)"
"$V" check -q a/base.vhd || fail "check merged base"
rm a/mid.vhd

# Compact: zeroed blocks go, content and identity stay.
"$V" create -t dynamic -s $size c.vhd
head -c $size /dev/urandom >c.raw
"$H" write c.vhd 0 c.raw
head -c 4194304 /dev/zero >z
"$H" write c.vhd 2097152 z
dd if=z of=c.raw bs=1M seek=2 conv=notrunc status=none
uuid=$(json_field c.vhd uuid)
"$V" compact c.vhd
expect_eq "compact content" "$(hash_of c.vhd)" "$(h c.raw)"
expect_eq "compact blocks" "$(json_field c.vhd allocated_blocks)" 6
expect_eq "compact uuid" "$(json_field c.vhd uuid)" "$uuid"
"$V" check -q c.vhd || fail "check compacted"
[ ! -e c.vhd.compact-tmp ] || fail "compact left its temporary file"
cp c.raw c0.raw

# Compact a child: a zero block over a non-zero parent block stays.
"$V" create -t diff -p c.vhd cc.vhd
head -c 2097152 /dev/zero >z2
"$H" write cc.vhd 0 z2          # hides parent data: must stay
"$H" write cc.vhd 2097152 z2    # parent is zero there: may go
dd if=z2 of=c.raw bs=1M seek=0 conv=notrunc status=none
expect_eq "child blocks before" "$(json_field cc.vhd allocated_blocks)" 2
"$V" compact cc.vhd
expect_eq "child compact content" "$(hash_of cc.vhd)" "$(h c.raw)"
expect_eq "child blocks after" "$(json_field cc.vhd allocated_blocks)" 1
expect_eq "child link after compact" "$(json_field cc.vhd link)" ok

# Convert round trips: vhd -> fixed -> dynamic -> raw.
"$V" convert -O fixed cc.vhd rt-fixed.vhd
"$V" convert -O dynamic rt-fixed.vhd rt-dyn.vhd
"$V" convert -O raw rt-dyn.vhd rt.raw
expect_eq "round trip" "$(h rt.raw)" "$(h c.raw)"
expect_eq "round trip type" "$(json_field rt-fixed.vhd type)" fixed
if "$V" convert -O raw cc.vhd rt.raw 2>/dev/null; then fail "convert overwrote an existing file"; fi

# Undo disks. (u.vhd is a copy of c.vhd with its unique id: cc.vhd would count as its child.)
rm cc.vhd
cp c0.raw u.raw
cp c.vhd u.vhd
"$V" undo enable u.vhd
[ -e u.vhd.vud ] || fail "undo enable made no u.vhd.vud"
expect_eq "vud parent" "$(json_field u.vhd.vud parent_path)" "$tmp/u.vhd"
if "$V" undo enable u.vhd 2>/dev/null; then fail "undo enable twice"; fi
head -c 70000 /dev/urandom >p
"$H" write u.vhd.vud 1000 p
"$V" undo keep u.vhd
expect_eq "undo keep leaves the image" "$(hash_of u.vhd)" "$(h c0.raw)"
if "$V" undo disable u.vhd 2>err; then fail "undo disable dropped changes"; fi
grep -q "commit or discard" err || fail "undo disable message: $(cat err)"
"$V" undo discard u.vhd
expect_eq "undo discard" "$(hash_of u.vhd.vud)" "$(h c0.raw)"
"$H" write u.vhd.vud 1000 p
dd if=p of=u.raw bs=1 seek=1000 conv=notrunc status=none
"$V" undo commit u.vhd
expect_eq "undo commit" "$(hash_of u.vhd)" "$(h u.raw)"
expect_eq "fresh vud" "$(json_field u.vhd.vud allocated_blocks)" 0
"$V" undo disable u.vhd
[ ! -e u.vhd.vud ] || fail "undo disable left the vud"
# Virtual Server's linked disk: a block device as the source (root only).
if dev=$(losetup -f --show c0.raw 2>/dev/null); then
	trap 'losetup -d "$dev" 2>/dev/null || true; rm -rf "$tmp"' EXIT
	"$V" convert -O dynamic "$dev" linked.vhd
	losetup -d "$dev"
	trap 'rm -rf "$tmp"' EXIT
	expect_eq "linked disk" "$(hash_of linked.vhd)" "$(h c0.raw)"
else
	echo "note: losetup not permitted, linked-disk conversion not tested"
fi

# Progress: a bar on a terminal with -p, nothing otherwise.
"$V" convert -p -O dynamic c0.raw prog1.vhd 2>prog.err
[ ! -s prog.err ] || fail "progress printed without a terminal: $(cat prog.err)"
if command -v script >/dev/null; then
	script -q -e -c "'$V' convert -p -O dynamic c0.raw prog2.vhd" typescript >/dev/null
	grep -a -q "(100.0/100%)" typescript || fail "no progress bar on a terminal"
fi
echo "vhd_chain: ok"

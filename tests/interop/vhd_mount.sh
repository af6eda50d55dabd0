#!/bin/bash
# SPDX-License-Identifier: MIT
#
# `vhd mount` / `vhd unmount` end to end (root, FUSE, loop devices): an MBR
# and ext4 made through --plug-only --direct; undo mounts whose --discard
# leaves the image byte-identical, whose default keeps the undo disk, and
# whose --commit lands in the image; read-only mounts; an explicit mount
# point and unmounting by loop device; fstrim on a --direct mount giving
# blocks back (vhd compact then drops them); kill -9 of the mount process
# with a busy filesystem, cleared by `unmount --all`; bad input. The
# registry and undo disks live in the scratch folder (VHD_RUN_DIR, TMPDIR),
# so only this test's attachments are ever touched; the EXIT trap takes
# them all down even when a step fails.
. "$(dirname "$0")/vhd_lib.sh"

[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root"; exit 77; }
[ -c /dev/fuse ] || { echo "SKIP: no /dev/fuse"; exit 77; }
[ -c /dev/loop-control ] || { echo "SKIP: no loop devices"; exit 77; }
grep -qw fuse /proc/filesystems || { echo "SKIP: no FUSE in the kernel"; exit 77; }
need mkfs.ext4 fstrim losetup python3

export VHD_RUN_DIR="$tmp/run" TMPDIR="$tmp"
busy_pid=""
cleanup() {
	set +e
	[ -n "$busy_pid" ] && kill "$busy_pid" 2>/dev/null
	"$V" unmount --all --discard >/dev/null 2>&1
	# Whatever the tool could not take down: mounts, then loop devices, under $tmp only.
	grep -F " $tmp/" /proc/mounts | cut -d' ' -f2 | sort -r | while read -r m; do
		umount -l "$m"
	done
	losetup -a | grep -F "($tmp/" | cut -d: -f1 | while read -r d; do
		losetup -d "$d"
	done
	cd /
	rm -rf "$tmp"
}
trap cleanup EXIT

# leftovers: fail if a loop device or a mount of this test remains.
leftovers() {
	! losetup -a | grep -qF "($tmp/" || fail "$1: a loop device is left: $(losetup -a | grep -F "$tmp/")"
	! grep -qF " $tmp/" /proc/mounts || fail "$1: a mount is left: $(grep -F " $tmp/" /proc/mounts)"
	[ -z "$(ls -A "$VHD_RUN_DIR" 2>/dev/null)" ] || fail "$1: registry not empty: $(ls "$VHD_RUN_DIR")"
}

# one_line_error WHAT STATUS CMD...: CMD fails with STATUS and one line on stderr.
one_line_error() {
	what=$1 want=$2
	shift 2
	set +e
	"$@" >out 2>err
	st=$?
	set -e
	expect_eq "$what: exit status" "$st" "$want"
	expect_eq "$what: stderr lines" "$(wc -l <err)" 1
	grep -q '^vhd: ' err || fail "$what: stderr is not 'vhd: ...': $(cat err)"
	echo "$what: $(cat err)"
}

# field KEY: a field of the first attachment in `vhd mount --list -j`.
field() {
	"$V" mount --list -j | python3 -c \
		"import json,sys; print(json.load(sys.stdin)['attachments'][0]['$1'])"
}

img=$tmp/disk.vhd
"$V" create -t dynamic -s 128M "$img"

# --- partition table and filesystem through --plug-only --direct ---
"$V" mount --plug-only --direct "$img" >plug
disk=$(awk '$2 == "disk" {print $1}' plug)
[ -b "$disk" ] || fail "plug-only printed no disk device: $(cat plug)"
expect_eq "discard advertised" "$(($(cat /sys/block/"${disk#/dev/}"/queue/discard_max_bytes) > 0))" 1
if command -v sfdisk >/dev/null; then
	echo 'start=2048, type=83' | sfdisk -q "$disk"
else
	# sfdisk lives in Debian's fdisk package; without it, the same single MBR entry by hand.
	python3 - "$disk" <<'EOF'
import struct, sys
with open(sys.argv[1], "r+b") as f:
    sectors = f.seek(0, 2) // 512
    mbr = bytearray(512)
    mbr[446:462] = struct.pack("<B3sB3sII", 0, b"\0\0\0", 0x83, b"\0\0\0", 2048, sectors - 2048)
    mbr[510:512] = b"\x55\xaa"
    f.seek(0)
    f.write(mbr)
EOF
fi
"$V" unmount "$disk"
leftovers "plug-only unmount"
"$V" mount --plug-only --direct "$img" >plug
expect_eq "plug-only devices" "$(awk '{print $2, $3, $4}' plug | tr '\n' ' ')" \
	"disk 0 134217728 part1 1048576 133169152 "
part=$(awk '$2 == "part1" {print $1}' plug)
mkfs.ext4 -q -F -L vhdtest "$part"
"$V" unmount "$img"
leftovers "mkfs"
"$V" check -q "$img"

# --- undo disk, discarded: the image is byte-identical ---
sum0=$(sha256sum <"$img")
mnt=$("$V" mount "$img")
case $mnt in "$VHD_RUN_DIR"/*) ;; *) fail "default mount point '$mnt' not under the run folder" ;; esac
expect_eq "mode" "$(field mode)" undo
expect_eq "partition" "$(field partition)" 1
expect_eq "alive" "$(field alive)" True
echo scratch >"$mnt/scratch.txt"
"$V" unmount --discard "$img"
leftovers "unmount --discard"
expect_eq "image after --discard" "$(sha256sum <"$img")" "$sum0"
[ -z "$(ls -d "$tmp"/vhd-undo.* 2>/dev/null)" ] || fail "--discard left the undo folder"
echo "undo + discard: image unchanged"

# --- undo disk, neither flag: kept and named; the image is unchanged ---
mnt=$("$V" mount "$img")
echo kept >"$mnt/kept.txt"
"$V" unmount "$mnt" >out
undo=$(sed -n 's/^undo disk kept: //p' out)
[ -f "$undo" ] || fail "no kept undo disk named: $(cat out)"
expect_eq "image after keep" "$(sha256sum <"$img")" "$sum0"
expect_eq "kept undo disk link" "$(json_field "$undo" link)" ok
rm -rf "$(dirname "$undo")"
leftovers "unmount (keep)"
echo "undo + keep: $undo"

# --- undo disk, committed: the file is there on the next mount ---
mnt=$("$V" mount "$img")
echo committed >"$mnt/commit.txt"
"$V" unmount --commit "$mnt"
leftovers "unmount --commit"
[ "$(sha256sum <"$img")" != "$sum0" ] || fail "--commit did not change the image"
[ -z "$(ls -d "$tmp"/vhd-undo.* 2>/dev/null)" ] || fail "--commit left the undo folder"
mnt=$("$V" mount --read-only "$img")
expect_eq "mode" "$(field mode)" read-only
expect_eq "undo" "$(field undo)" None
expect_eq "committed file" "$(cat "$mnt/commit.txt")" committed
[ ! -e "$mnt/scratch.txt" ] || fail "a discarded file came back"
! touch "$mnt/ro" 2>/dev/null || fail "a read-only mount took a write"
"$V" unmount "$img"
"$V" check -q "$img"
echo "undo + commit: committed file read back read-only"

# --- explicit mount point, unmounted by its loop device ---
mkdir "$tmp/mp"
expect_eq "mount point printed" "$("$V" mount --partition 1 "$img" "$tmp/mp")" "$tmp/mp"
dev=$("$V" mount --list -j | python3 -c \
	"import json,sys; print(json.load(sys.stdin)['attachments'][0]['loops'][0]['device'])")
grep -qF "$dev $tmp/mp ext4" /proc/mounts || fail "$dev is not mounted on $tmp/mp"
"$V" unmount --discard "$dev"
[ -d "$tmp/mp" ] || fail "the user's mount point was removed"
leftovers "unmount by loop device"

# --- --direct: fstrim gives the blocks of a deleted file back ---
mnt=$("$V" mount --direct "$img")
expect_eq "mode" "$(field mode)" direct
head -c 48M /dev/urandom >"$mnt/big"
"$V" unmount "$img"
mnt=$("$V" mount --direct "$img")
rm "$mnt/big"
"$V" unmount "$img"
cp --sparse=always "$img" "$tmp/notrim.vhd"
mnt=$("$V" mount --direct "$img")
sync -f "$mnt"
fstrim "$mnt"
"$V" unmount "$img"
leftovers "fstrim"
"$V" check -q "$img"
"$V" compact "$img"
"$V" compact "$tmp/notrim.vhd"
trimmed=$(stat -c %s "$img") untrimmed=$(stat -c %s "$tmp/notrim.vhd")
echo "compacted: $trimmed bytes after fstrim, $untrimmed without"
[ $((untrimmed - trimmed)) -ge $((40 << 20)) ] || fail "fstrim gave back less than 40 MiB"
mnt=$("$V" mount --read-only "$img")
expect_eq "after compact" "$(cat "$mnt/commit.txt")" committed
"$V" unmount "$img"

# --- kill -9 of the mount process with a busy filesystem ---
mnt=$("$V" mount "$img")
echo doomed >"$mnt/doomed.txt"
sync -f "$mnt"
(cd "$mnt" && exec sleep 600) &
busy_pid=$!
dev=$("$V" mount --list -j | python3 -c \
	"import json,sys; print(json.load(sys.stdin)['attachments'][0]['loops'][0]['device'])")
kill -KILL "$(field pid)"
for _ in 1 2 3 4 5 6 7 8 9 10; do
	[ "$(field alive)" = False ] && break
	sleep 0.2
done
expect_eq "alive after kill -9" "$(field alive)" False
"$V" mount --list | grep -q ' dead ' || fail "--list does not show the dead process"
"$V" unmount --all --discard
leftovers "unmount --all after kill -9"
kill "$busy_pid"
wait "$busy_pid" 2>/dev/null || true
busy_pid=""
# The lazily detached filesystem let go of the loop device: the kernel clears it now.
for _ in $(seq 50); do
	[ -e "/sys/block/${dev#/dev/}/loop/backing_file" ] || break
	sleep 0.1
done
[ ! -e "/sys/block/${dev#/dev/}/loop/backing_file" ] ||
	fail "$dev still bound after the busy process left: $(cat "/sys/block/${dev#/dev/}/loop/backing_file")"
expect_eq "image after kill -9 and --discard" "$("$V" check -q "$img" && echo ok)" ok
echo "kill -9: unmount --all left nothing"

# --- bad input: one line, exit 1 (failure) or 2 (usage) ---
one_line_error "no such image" 1 "$V" mount "$tmp/nosuch.vhd"
one_line_error "no such partition" 1 "$V" mount --partition 7 "$img"
grep -q 'no partition 7' err || fail "no partition: $(cat err)"
one_line_error "bad partition number" 2 "$V" mount --partition x "$img"
one_line_error "plug-only with partition" 2 "$V" mount --plug-only --partition 1 "$img"
one_line_error "not a VHD" 1 "$V" mount "$tmp/plug"
"$V" create -t dynamic -s 16M "$tmp/blank.vhd"
one_line_error "no filesystem" 1 "$V" mount "$tmp/blank.vhd"
one_line_error "not attached" 1 "$V" unmount "$img"
one_line_error "commit and discard" 2 "$V" unmount --commit --discard "$img"
mnt=$("$V" mount --read-only "$img")
one_line_error "attached twice" 1 "$V" mount "$img"
"$V" unmount "$img"
leftovers "bad input"
echo "vhd_mount: ok"

#!/bin/bash
# SPDX-License-Identifier: MIT
#
# VHD benchmark: this project's `vhd` tool against qemu-img on the same
# 2 GiB images, in one run: convert raw -> dynamic, dynamic -> raw, and a
# sequential read of a dynamic image. Each command's output is synced before
# its clock stops (qemu-img syncs less on its own), inputs are read once
# beforehand so both tools start from the page cache, and the best of RUNS
# runs counts. Prints a table with ratios qemu-img time / vhd time (>= 1.0:
# vhd is at least as fast).
#
# Usage: bench/vhd.sh [BUILD_DIR]   (default: ./build)
# Environment: SIZE_MB (2048), RUNS (3), WORKDIR (a temporary folder).
set -eu
build=${1:-build}
V="$(cd "$build" && pwd)/vhd-attach/vhd"
size_mb=${SIZE_MB:-2048}
runs=${RUNS:-3}
command -v qemu-img >/dev/null || { echo "bench/vhd.sh: qemu-img not installed" >&2; exit 1; }
[ -x "$V" ] || { echo "bench/vhd.sh: $V not built" >&2; exit 1; }
work=${WORKDIR:-$(mktemp -d)}
trap 'rm -rf "$work"' EXIT
cd "$work"

# A disk three-quarters full: per 8 MiB, 6 MiB of random data then 2 MiB of zeros.
head -c 64M /dev/urandom >rand.bin
truncate -s "${size_mb}M" disk.raw
for ((i = 0; i < size_mb / 8; i++)); do
	dd if=rand.bin of=disk.raw bs=1M seek=$((i * 8)) skip=$((i * 6 % 58)) count=6 \
		conv=notrunc status=none
done
rm rand.bin
"$V" convert -f raw -O dynamic disk.raw input.vhd
cat disk.raw input.vhd >/dev/null

# best OUTPUT COMMAND...: runs COMMAND RUNS times and prints the best time.
# OUTPUT is the file the command writes (removed before each run, synced after
# it), or '-' for a command that writes no file.
best() {
	local out=$1 b="" t s e
	shift
	for ((r = 0; r < runs; r++)); do
		[ "$out" = - ] || rm -f "$out"
		s=$(date +%s.%N)
		"$@"
		[ "$out" = - ] || sync "$out"
		e=$(date +%s.%N)
		t=$(echo "$e - $s" | bc)
		if [ -z "$b" ] || [ "$(echo "$t < $b" | bc)" = 1 ]; then b=$t; fi
	done
	[ "$out" = - ] || rm -f "$out"
	printf '%.3f' "$b"
}

seqread_vhd() { "$V" convert -O null input.vhd; }
seqread_qemu() {
	qemu-img bench -f vpc -t writeback -c $((size_mb / 2)) -s 2M -d 1 input.vhd >/dev/null
}

rows=()
row() {
	local name=$1 ours=$2 theirs=$3
	rows+=("$(printf '| %-26s | %8s | %8s | %5.2fx |' "$name" "$ours" "$theirs" \
		"$(echo "$theirs / $ours" | bc -l)")")
}
row "convert raw -> dynamic" \
	"$(best out.vhd "$V" convert -f raw -O dynamic disk.raw out.vhd)" \
	"$(best out.vhd qemu-img convert -f raw -O vpc -o subformat=dynamic disk.raw out.vhd)"
row "convert dynamic -> raw" \
	"$(best out.raw "$V" convert -O raw input.vhd out.raw)" \
	"$(best out.raw qemu-img convert -f vpc -O raw input.vhd out.raw)"
row "sequential read (dynamic)" "$(best - seqread_vhd)" "$(best - seqread_qemu)"

echo "VHD benchmark: ${size_mb} MiB images, best of $runs, $(qemu-img --version | head -1)"
echo "| operation                  | vhd (s)  | qemu (s) | ratio |"
echo "|----------------------------|---------:|---------:|------:|"
printf '%s\n' "${rows[@]}"

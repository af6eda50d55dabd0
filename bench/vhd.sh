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
# A second table compares `vhd export` with qemu-nbd serving the same dynamic
# image over a Unix socket, with `qemu-img bench` as the NBD client: 1 MiB
# sequential reads and writes (MiB/s) and 4 KiB scattered reads and writes
# (IOPS), ratio = ours / qemu-nbd (>= 1.0: vhd export at least as fast).
#
# Usage: bench/vhd.sh [BUILD_DIR]   (default: ./build)
# Environment: SIZE_MB (2048), RUNS (3), WORKDIR (a temporary folder),
#              NBD (1; 0 skips the NBD table), NBD_READS (200000) and NBD_WRITES
#              (20000): 4 KiB requests per scattered run.
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

# --- NBD export: vhd export against qemu-nbd on the same image ---------------
[ "${NBD:-1}" = 1 ] || exit 0
command -v qemu-nbd >/dev/null || { echo "bench/vhd.sh: qemu-nbd not installed, no NBD table" >&2; exit 0; }
nbd_reads=${NBD_READS:-200000}
nbd_writes=${NBD_WRITES:-20000}
nbd_pid=""
trap '[ -z "$nbd_pid" ] || kill "$nbd_pid" 2>/dev/null; rm -rf "$work"' EXIT
# Each server writes its own copy: the same content and layout, a quarter of
# the blocks unallocated (the first sequential write run allocates them).
cp input.vhd nbd-ours.vhd
cp input.vhd nbd-qemu.vhd
cat nbd-ours.vhd nbd-qemu.vhd >/dev/null

# serve ours|qemu: starts that server on $work/NAME.sock, export name "img".
serve() {
	rm -f "$work/$1.sock"
	if [ "$1" = ours ]; then
		"$V" export --writable --socket "$work/ours.sock" --name img nbd-ours.vhd >ours.log &
	else
		qemu-nbd -f vpc -t -x img --socket="$work/qemu.sock" nbd-qemu.vhd &
	fi
	nbd_pid=$!
	for ((i = 0; i < 100; i++)); do
		[ -S "$work/$1.sock" ] && return 0
		sleep 0.1
	done
	echo "bench/vhd.sh: $1 server did not start" >&2
	exit 1
}
unserve() {
	kill "$nbd_pid"
	wait "$nbd_pid" || true
	nbd_pid=""
}

# nbd_bench SERVER ARGS...: best "Run completed in" time of RUNS qemu-img bench runs.
nbd_bench() {
	local srv=$1 b="" t
	shift
	for ((r = 0; r < runs; r++)); do
		t=$(qemu-img bench -f raw -t none -d 16 "$@" "nbd+unix:///img?socket=$work/$srv.sock" |
			sed -n 's/^Run completed in \([0-9.]*\) seconds.*/\1/p')
		[ -n "$t" ] || { echo "bench/vhd.sh: qemu-img bench failed on $srv" >&2; exit 1; }
		if [ -z "$b" ] || [ "$(echo "$t < $b" | bc)" = 1 ]; then b=$t; fi
	done
	echo "$b"
}

# A step of 7351 KiB (coprime with the disk's 4 KiB slots, wrapping at its end)
# sends every 4 KiB request to another VHD block: a scattered, uncached pattern.
declare -A nbd_t
for srv in ours qemu; do
	serve $srv
	nbd_t[$srv,sr]=$(nbd_bench $srv -c $((size_mb * 2)) -s 1M)
	nbd_t[$srv,rr]=$(nbd_bench $srv -c "$nbd_reads" -s 4K -S 7351K)
	nbd_t[$srv,sw]=$(nbd_bench $srv -w -c "$size_mb" -s 1M)
	nbd_t[$srv,rw]=$(nbd_bench $srv -w -c "$nbd_writes" -s 4K -S 7351K)
	unserve
done

nbd_row() {
	local name=$1 key=$2 work_units=$3 unit=$4 o q
	o=$(echo "$work_units / ${nbd_t[ours,$key]}" | bc -l)
	q=$(echo "$work_units / ${nbd_t[qemu,$key]}" | bc -l)
	printf '| %-26s | %10.0f %-5s | %10.0f %-5s | %5.2fx |\n' "$name" "$o" "$unit" "$q" "$unit" \
		"$(echo "$o / $q" | bc -l)"
}
echo
echo "NBD export benchmark: ${size_mb} MiB dynamic image, qemu-img bench -d 16 over a Unix socket, best of $runs"
echo "$(qemu-nbd --version | head -1) (-f vpc, cache=writeback, aio=threads)"
echo "| operation                  | vhd export       | qemu-nbd         | ratio  |"
echo "|----------------------------|-----------------:|-----------------:|-------:|"
nbd_row "sequential read 1 MiB" sr $((size_mb * 2)) MiB/s
nbd_row "scattered read 4 KiB" rr "$nbd_reads" IOPS
nbd_row "sequential write 1 MiB" sw "$size_mb" MiB/s
nbd_row "scattered write 4 KiB" rw "$nbd_writes" IOPS

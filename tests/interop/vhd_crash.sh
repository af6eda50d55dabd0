#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Crash safety: a writer doing random non-overlapping writes with a flush
# every eight is killed with SIGKILL at a random moment; the image must then
# pass `vhd check` and every write completed before the last flush must read
# back. Runs on fresh dynamic and differencing images with several seeds.
. "$(dirname "$0")/vhd_lib.sh"

"$V" create -t dynamic -s 64M parent.vhd
head -c 3000000 /dev/urandom >d
"$H" write parent.vhd 0 d
for round in 1 2 3 4 5 6; do
	seed=$((round * 7919 + $$))
	rm -f img.vhd state
	if [ $((round % 2)) -eq 0 ]; then
		"$V" create -t diff -p parent.vhd img.vhd -s 256M
	else
		"$V" create -t dynamic -s 256M img.vhd
	fi
	"$H" crash img.vhd state $seed &
	pid=$!
	sleep "0.$((RANDOM % 6 + 2))"
	kill -KILL $pid 2>/dev/null || true
	wait $pid 2>/dev/null || true
	count=$(cat state 2>/dev/null || echo 0)
	"$V" check -q img.vhd || fail "round $round: check failed after the kill"
	"$H" verify img.vhd $seed "$count" || fail "round $round: flushed writes lost"
	echo "round $round: $count flushed writes survived"
done
echo "vhd_crash: ok"

#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Where a 64-byte UDP flood goes on a small machine (root; namespaces only).
# The same two-guest topology as bench/switch.sh, through vswitchd tap ports
# and through the kernel bridge, with the three busy tasks (iperf3 sender S,
# iperf3 receiver R, the switch W) unpinned and then pinned with taskset to
# CPUs 0 and 1 in each way two of them can share a core. For every run it
# prints the packets received per second and where the others were lost:
# at the sender's interface queue (TX dropped) or at the receiver's socket
# (UdpRcvbufErrors). docs/PERFORMANCE.md explains what the table shows.
# The first rows also run vswitchd with netdev ports on veths. VSWITCHD_OPTS
# adds options to vswitchd's command line, e.g. --rx-coalesce=0 to compare.
#
# Usage: [VSWITCHD_OPTS=...] bench/placement.sh [SECONDS]   (build first)
set -euo pipefail
cd "$(dirname "$0")/.."
DUR=${1:-6}
[ "$(nproc)" -ge 2 ] || { echo "bench/placement.sh: needs two CPUs" >&2; exit 1; }
# shellcheck source=bench/lib.sh
. bench/lib.sh
bench_start placement.sh

ID=$(printf 'q%x' $(( ($$ ^ RANDOM) & 0xffff )))
TMP=$(mktemp -d)
cleanup() {
	for n in h g1 g2; do
		ip netns pids "$ID-$n" 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
		ip netns del "$ID-$n" 2>/dev/null || true
	done
}
trap 'cleanup; rm -rf "$TMP"' EXIT

VS=
# run KIND S R W: one flood; prints "received/s tx-dropped rcvbuf-errors".
# S, R, W are CPU lists for taskset ("0-1" = unpinned); W is unused for the bridge.
run() {
	local kind=$1 s=$2 r=$3 w=$4 d1=eth0 d2=eth0
	cleanup
	for n in h g1 g2; do
		ip netns add "$ID-$n"
		ip -n "$ID-$n" link set lo up
	done
	if [ "$kind" != bridge ]; then
		if [ "$kind" = tap ]; then
			printf '[network]\nname = %s\nsubnet = 10.90.0.0/24\n[port g1]\nnetns = %s\n[port g2]\nnetns = %s\n' \
				"$ID" "$ID-g1" "$ID-g2" >"$TMP/p.conf"
			d1=$ID-g1 d2=$ID-g2
		else
			ip link add v1 netns "$ID-h" type veth peer name eth0 netns "$ID-g1"
			ip link add v2 netns "$ID-h" type veth peer name eth0 netns "$ID-g2"
			ip -n "$ID-h" link set v1 up
			ip -n "$ID-h" link set v2 up
			printf '[network]\nname = %s\nsubnet = 10.90.0.0/24\n[port g1]\ntype = netdev\ninterface = v1\n[port g2]\ntype = netdev\ninterface = v2\n' \
				"$ID" >"$TMP/p.conf"
		fi
		# shellcheck disable=SC2086 # VSWITCHD_OPTS is a list of options
		ip netns exec "$ID-h" taskset -c "$w" "$BIN/vswitchd" -f -s "$TMP/ctl.sock" -c "$TMP/p.conf" \
			${VSWITCHD_OPTS:-} 2>"$TMP/vs.log" &
		VS=$!
		for _ in $(seq 50); do "$BIN/vswitchctl" -s "$TMP/ctl.sock" show >/dev/null 2>&1 && break; sleep 0.1; done
		kill -0 "$VS" 2>/dev/null || { echo "vswitchd did not start: $(cat "$TMP/vs.log")" >&2; exit 1; }
	else
		ip link add v1 netns "$ID-h" type veth peer name eth0 netns "$ID-g1"
		ip link add v2 netns "$ID-h" type veth peer name eth0 netns "$ID-g2"
		ip -n "$ID-h" link add br0 type bridge
		ip -n "$ID-h" link set v1 master br0
		ip -n "$ID-h" link set v2 master br0
		for dev in v1 v2 br0; do ip -n "$ID-h" link set "$dev" up; done
	fi
	ip -n "$ID-g1" addr add 10.90.0.1/24 dev "$d1"
	ip -n "$ID-g1" link set "$d1" up
	ip -n "$ID-g2" addr add 10.90.0.2/24 dev "$d2"
	ip -n "$ID-g2" link set "$d2" up
	for _ in $(seq 50); do ip netns exec "$ID-g1" ping -c1 -W1 10.90.0.2 >/dev/null 2>&1 && break; done
	ip netns exec "$ID-g2" taskset -c "$r" iperf3 -s -D -1 -p 5201 >/dev/null
	sleep 0.5
	ip netns exec "$ID-g1" taskset -c "$s" iperf3 -c 10.90.0.2 -p 5201 -t "$DUR" -u -b 0 -l 18 -J \
		>"$TMP/udp.json"
	python3 - "$TMP/udp.json" \
		"$(ip -n "$ID-g1" -s link show "$d1" | awk '/TX:/ {getline; print $4}')" \
		"$(ip netns exec "$ID-g2" nstat -az UdpRcvbufErrors | awk '/UdpRcvbufErrors/ {print $2}')" <<'PY'
import json, sys
u = json.load(open(sys.argv[1]))["end"]["sum"]
print(int((u["packets"] - u["lost_packets"]) / u["seconds"]), sys.argv[2], sys.argv[3])
PY
	if [ "$kind" != bridge ]; then
		# SIGTERM: vswitchd removes its taps before the next run makes them again.
		kill -TERM "$VS"
		wait "$VS" || true
	fi
}

printf '%-34s %-8s %14s %16s %16s\n' placement switch "received pkt/s" "dropped at S" "dropped at R"
row() { # row LABEL KIND S R W
	local label=$1 kind=$2
	shift 2
	# Not a process substitution: the next run must not start before this one has stopped.
	run "$kind" "$@" >"$TMP/row"
	read -r pps txd rcv <"$TMP/row"
	printf '%-34s %-8s %14s %16s %16s\n' "$label" "$kind" "$pps" "$txd" "$rcv"
}
row "unpinned" tap 0-1 0-1 0-1
row "unpinned" netdev 0-1 0-1 0-1
row "unpinned" bridge 0-1 0-1 -
row "S | R+W" tap 0 1 1
row "S | R (bridge: in S's calls)" bridge 0 1 -
row "S+W | R" tap 0 1 0
row "S+R | W" tap 0 0 1
row "S+R (bridge: in S's calls)" bridge 0 0 -

#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Datapath benchmark (root; everything inside namespaces it makes). Two guest
# namespaces joined by, in turn:
#   vs-tap     vswitchd with two tap ports (vnet headers, TSO offloads)
#   vs-netdev  vswitchd with two netdev ports on veths (AF_PACKET)
#   bridge     the Linux kernel bridge with two veths
#   vde        vde_switch with two taps
# For each: iperf3 TCP for DURATION s with one stream and with -P 4, and UDP
# with 18-byte payloads (64-byte frames on the wire) at full rate, reporting
# received packets per second. For the userspace switches also CPU seconds per
# GB forwarded (TCP, one stream) and peak RSS. Prints a table with ratios to
# the kernel bridge.
#
# VSWITCHD_OPTS adds options to vswitchd's command line (e.g. --rx-coalesce=0).
#
# Usage: [VSWITCHD_OPTS=...] bench/switch.sh [DURATION]   (build first: scripts/test.sh or cmake)
set -euo pipefail
cd "$(dirname "$0")/.."
DUR=${1:-10}
# shellcheck source=bench/lib.sh
. bench/lib.sh
bench_start switch.sh

ID=$(printf 'b%x' $(( ($$ ^ RANDOM) & 0xffff )))
TMP=$(mktemp -d)
NS=()
cleanup() {
	for ns in "${NS[@]}"; do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
		ip netns del "$ns" 2>/dev/null || true
	done
	rm -rf "$TMP"
}
trap cleanup EXIT

fresh() { # fresh: new host and guest namespaces for one contender
	for n in h g1 g2; do
		ip netns del "$ID-$n" 2>/dev/null || true
		ip netns add "$ID-$n"
		ip -n "$ID-$n" link set lo up
	done
	NS=("$ID-h" "$ID-g1" "$ID-g2")
}

veths() { # veths: eth0 in each guest, v1/v2 in the host namespace
	ip link add v1 netns "$ID-h" type veth peer name eth0 netns "$ID-g1"
	ip link add v2 netns "$ID-h" type veth peer name eth0 netns "$ID-g2"
	ip -n "$ID-h" link set v1 up
	ip -n "$ID-h" link set v2 up
}

guest_ip() { # guest_ip NS DEV ADDR
	ip -n "$ID-$1" addr add "$3/24" dev "$2"
	ip -n "$ID-$1" link set "$2" up
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
peak_rss() { awk '/VmHWM/ {print $2}' "/proc/$1/status"; }

# measure NAME PID: runs the three loads between g1 (client) and g2 (server).
measure() {
	local name=$1 pid=${2:-} t0 t1 bytes
	for _ in $(seq 50); do
		ip netns exec "$ID-g1" ping -c1 -W1 10.90.0.2 >/dev/null 2>&1 && break
	done
	ip netns exec "$ID-g2" iperf3 -s -D -1 -p 5201 >/dev/null; sleep 0.5
	[ -n "$pid" ] && t0=$(cpu_ticks "$pid")
	ip netns exec "$ID-g1" iperf3 -c 10.90.0.2 -p 5201 -t "$DUR" -J >"$TMP/$name.tcp1.json"
	[ -n "$pid" ] && t1=$(cpu_ticks "$pid")
	ip netns exec "$ID-g2" iperf3 -s -D -1 -p 5202 >/dev/null; sleep 0.5
	ip netns exec "$ID-g1" iperf3 -c 10.90.0.2 -p 5202 -t "$DUR" -P 4 -J >"$TMP/$name.tcp4.json"
	ip netns exec "$ID-g2" iperf3 -s -D -1 -p 5203 >/dev/null; sleep 0.5
	ip netns exec "$ID-g1" iperf3 -c 10.90.0.2 -p 5203 -t "$DUR" -u -b 0 -l 18 -J >"$TMP/$name.udp.json"
	bytes=$(python3 -c "import json; print(json.load(open('$TMP/$name.tcp1.json'))['end']['sum_received']['bytes'])")
	if [ -n "$pid" ]; then
		echo "$name $(( t1 - t0 )) $bytes $(peak_rss "$pid")" >>"$TMP/cpu"
	else
		echo "$name - $bytes -" >>"$TMP/cpu"
	fi
}

profile() { # profile KIND: a vswitchd profile for the two guests
	if [ "$1" = tap ]; then
		printf '[network]\nname = %s\nsubnet = 10.90.0.0/24\n[port g1]\nnetns = %s\n[port g2]\nnetns = %s\n' \
			"$ID" "$ID-g1" "$ID-g2"
	else
		printf '[network]\nname = %s\nsubnet = 10.90.0.0/24\n[port g1]\ntype = netdev\ninterface = v1\n[port g2]\ntype = netdev\ninterface = v2\n' "$ID"
	fi
}

run_vswitch() { # run_vswitch tap|netdev
	local kind=$1 pid
	fresh
	[ "$kind" = netdev ] && veths
	profile "$kind" >"$TMP/p.conf"
	# shellcheck disable=SC2086 # VSWITCHD_OPTS is a list of options
	ip netns exec "$ID-h" "$BIN/vswitchd" -f -s "$TMP/ctl.sock" -c "$TMP/p.conf" ${VSWITCHD_OPTS:-} \
		2>"$TMP/vs.log" &
	pid=$!
	for _ in $(seq 50); do "$BIN/vswitchctl" -s "$TMP/ctl.sock" show >/dev/null 2>&1 && break; sleep 0.1; done
	if [ "$kind" = tap ]; then
		guest_ip g1 "$ID-g1" 10.90.0.1
		guest_ip g2 "$ID-g2" 10.90.0.2
	else
		guest_ip g1 eth0 10.90.0.1
		guest_ip g2 eth0 10.90.0.2
	fi
	measure "vs-$kind" "$pid"
	kill -TERM "$pid"
	wait "$pid" || true
}

run_bridge() {
	fresh
	veths
	ip -n "$ID-h" link add br0 type bridge
	ip -n "$ID-h" link set v1 master br0
	ip -n "$ID-h" link set v2 master br0
	ip -n "$ID-h" link set br0 up
	guest_ip g1 eth0 10.90.0.1
	guest_ip g2 eth0 10.90.0.2
	measure bridge ""
}

run_vde() {
	local pid
	fresh
	# -d: without a terminal on stdin vde_switch would quit at EOF.
	ip netns exec "$ID-h" vde_switch -d -p "$TMP/vde.pid" -s "$TMP/vde.ctl" -t vde1 -t vde2
	for _ in $(seq 50); do ip -n "$ID-h" link show vde2 >/dev/null 2>&1 && break; sleep 0.1; done
	pid=$(cat "$TMP/vde.pid")
	ip -n "$ID-h" link set vde1 netns "$ID-g1"
	ip -n "$ID-h" link set vde2 netns "$ID-g2"
	guest_ip g1 vde1 10.90.0.1
	guest_ip g2 vde2 10.90.0.2
	measure vde "$pid"
	kill -TERM "$pid"
}

: >"$TMP/cpu"
run_vswitch tap
run_vswitch netdev
run_bridge
run_vde

python3 - "$TMP" "$(getconf CLK_TCK)" <<'PY'
import json, sys, os
tmp, hz = sys.argv[1], int(sys.argv[2])
rows = {}
cpu = {l.split()[0]: l.split()[1:] for l in open(os.path.join(tmp, "cpu"))}
for name in ("vs-tap", "vs-netdev", "bridge", "vde"):
    t1 = json.load(open(f"{tmp}/{name}.tcp1.json"))["end"]["sum_received"]["bits_per_second"]
    t4 = json.load(open(f"{tmp}/{name}.tcp4.json"))["end"]["sum_received"]["bits_per_second"]
    u = json.load(open(f"{tmp}/{name}.udp.json"))["end"]["sum"]
    pps = (u["packets"] - u["lost_packets"]) / u["seconds"]
    ticks, nbytes, rss = cpu[name]
    cpu_gb = "-" if ticks == "-" else f"{int(ticks) / hz / (int(nbytes) / 1e9):.2f}"
    rows[name] = (t1 / 1e9, t4 / 1e9, pps, cpu_gb, "-" if rss == "-" else f"{int(rss) / 1024:.1f}")
b = rows["bridge"]
print(f"{'switch':<10} {'TCP 1 stream':>18} {'TCP -P 4':>18} {'UDP 64 B pkt/s':>22} {'CPU s/GB':>9} {'peak RSS MiB':>13}")
for name, (t1, t4, pps, cg, rss) in rows.items():
    print(f"{name:<10} {t1:7.2f} Gb/s {t1 / b[0]:5.2f}x {t4:7.2f} Gb/s {t4 / b[1]:5.2f}x "
          f"{pps:12.0f} {pps / b[2]:5.2f}x {cg:>9} {rss:>13}")
v, d = rows["vs-tap"], rows["vde"]
print(f"\nvs-tap vs vde_switch: TCP {v[0] / d[0]:.1f}x, UDP 64 B {v[2] / d[2]:.1f}x")
PY

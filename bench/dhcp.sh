#!/bin/bash
# SPDX-License-Identifier: MIT
#
# DHCP server benchmark (root; everything inside namespaces it makes).
# perfdhcp (Kea's load generator) runs in a client namespace against, in turn:
#   vswitch   vswitchd's embedded server, the client on a tap port, leases
#             fsync'ed to the journal before each ACK (group commit)
#   kea       kea-dhcp4 2.2, memfile lease database with persist on
#   dnsmasq   dnsmasq, lease file on, --no-ping: its ICMP check before each
#             offer holds the answer for seconds, past perfdhcp's drop time
#             (vswitch checks its MAC table and the ARP it has seen, without
#             waiting; Kea does not check)
# each over a /16 pool. perfdhcp runs single-threaded pinned to CPU 0 and the
# server to CPU 1, so that on a two-core machine the load generator does not
# eat the server's core. For each server the offered rate climbs until more
# than 1% of the DISCOVERs do not end in an ACK (twice in a row); the table
# shows the best completed 4-way exchanges (DORA) per second below that and
# the ratio to Kea.
#
# Usage: bench/dhcp.sh [SECONDS-PER-STEP]   (build first)
set -euo pipefail
cd "$(dirname "$0")/.."
STEP=${1:-5}
RATES="2000 4000 6000 8000 10000 12000 14000 16000 18000 20000 22000 24000 27000 30000"
# dnsmasq rewrites its whole lease file on every change, so it tops out in the
# hundreds: it climbs its own, finer ladder.
DM_RATES="100 200 300 400 500 600 700 800 1000 1200 1500 2000"
# shellcheck source=bench/lib.sh
. bench/lib.sh
bench_start dhcp.sh

ID=$(printf 'd%x' $(( ($$ ^ RANDOM) & 0xffff )))
TMP=$(mktemp -d)
cleanup() {
	for n in s c; do
		ip netns pids "$ID-$n" 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
		ip netns del "$ID-$n" 2>/dev/null || true
	done
	rm -rf "$TMP"
}
trap cleanup EXIT

fresh() { # fresh: server namespace s and client namespace c, nothing joining them
	cleanup_ns
	for n in s c; do
		ip netns add "$ID-$n"
		ip -n "$ID-$n" link set lo up
	done
}
cleanup_ns() {
	for n in s c; do
		ip netns pids "$ID-$n" 2>/dev/null | xargs -r kill -TERM 2>/dev/null || true
	done
	sleep 0.5
	for n in s c; do ip netns del "$ID-$n" 2>/dev/null || true; done
}
veth() { # veth: eth0 in c <-> eth0 in s (10.93.0.1/16)
	ip link add eth0 netns "$ID-s" type veth peer name eth0 netns "$ID-c"
	ip -n "$ID-s" addr add 10.93.0.1/16 dev eth0
	ip -n "$ID-s" link set eth0 up
	ip -n "$ID-c" link set eth0 up
}

# trial NAME IFACE RATE: one perfdhcp run; prints "discovers_sent acks_received".
trial() {
	ip netns exec "$ID-c" taskset -c 0 perfdhcp -4 -g single -l "$2" -r "$3" -R 60000 -p "$STEP" \
		>"$TMP/$1.$3.out" 2>&1 || true
	awk '/Statistics for: DISCOVER-OFFER/ {s = 1} /Statistics for: REQUEST-ACK/ {s = 2}
		/^sent packets:/ && s == 1 {d = $3} /^received packets:/ && s == 2 {a = $3}
		END {print d + 0, a + 0}' "$TMP/$1.$3.out"
}

# sweep NAME IFACE [RATES]: climbs the rates; prints "best_rate completed_per_s". A
# rate that loses more than 1% is tried once more before the climb stops, for
# every server alike: this machine's disk and cores are shared, and a single
# stall should not decide a step.
sweep() {
	local name=$1 ifc=$2 best=0 best_done=0
	for r in ${3:-$RATES}; do
		read -r sent acked < <(trial "$name" "$ifc" "$r")
		[ "$sent" -gt 0 ] || break
		if [ $(( acked * 1000 / sent )) -lt 990 ]; then
			echo "  $name: $r/s offered: $acked of $sent acknowledged (>1% lost), once more" >&2
			read -r sent acked < <(trial "$name" "$ifc" "$r")
		fi
		# completed exchanges / offered exchanges, in per mille
		if [ "$sent" -eq 0 ] || [ $(( acked * 1000 / sent )) -lt 990 ]; then
			echo "  $name: $r/s offered: $acked of $sent DISCOVERs acknowledged (>1% lost), stop" >&2
			break
		fi
		best=$r
		best_done=$(( acked / STEP ))
		echo "  $name: $r/s offered: $acked of $sent acknowledged" >&2
	done
	echo "$best $best_done"
}

echo "vswitch ..." >&2
fresh
cat >"$TMP/vs.conf" <<CONF
[network]
name = $ID
subnet = 10.93.0.0/16
[dhcp]
lease-time = 1h
[port c]
netns = $ID-c
CONF
ip netns exec "$ID-s" taskset -c 1 "$BIN/vswitchd" -f -s "$TMP/vs.sock" -d "$TMP/vs-state" -c "$TMP/vs.conf" \
	2>"$TMP/vs.log" &
for _ in $(seq 50); do "$BIN/vswitchctl" -s "$TMP/vs.sock" show >/dev/null 2>&1 && break; sleep 0.1; done
ip -n "$ID-c" addr add 10.93.0.5/16 dev "$ID-c"
read -r vs_rate vs_done < <(sweep vswitch "$ID-c")

echo "kea ..." >&2
fresh
veth
ip -n "$ID-c" addr add 10.93.0.5/16 dev eth0
cat >"$TMP/kea.json" <<CONF
{ "Dhcp4": {
    "interfaces-config": { "interfaces": [ "eth0" ] },
    "lease-database": { "type": "memfile", "persist": true, "name": "$TMP/kea.leases", "lfc-interval": 0 },
    "valid-lifetime": 3600,
    "subnet4": [ { "id": 1, "subnet": "10.93.0.0/16", "pools": [ { "pool": "10.93.0.16 - 10.93.255.254" } ] } ],
    "loggers": [ { "name": "kea-dhcp4", "severity": "ERROR", "output_options": [ { "output": "stderr" } ] } ]
} }
CONF
KEA_PIDFILE_DIR=$TMP KEA_LOCKFILE_DIR=$TMP ip netns exec "$ID-s" taskset -c 1 kea-dhcp4 -c "$TMP/kea.json" \
	2>"$TMP/kea.log" &
sleep 2
read -r kea_rate kea_done < <(sweep kea eth0)

echo "dnsmasq ..." >&2
fresh
veth
ip -n "$ID-c" addr add 10.93.0.5/16 dev eth0
ip netns exec "$ID-s" taskset -c 1 dnsmasq --no-daemon --conf-file=/dev/null --port=0 --interface=eth0 \
	--bind-interfaces --dhcp-range=10.93.0.16,10.93.255.254,1h --dhcp-authoritative \
	--no-ping --dhcp-lease-max=70000 --dhcp-leasefile="$TMP/dnsmasq.leases" --pid-file="$TMP/dnsmasq.pid" \
	--user=root --log-facility=- 2>"$TMP/dnsmasq.log" &
sleep 1
read -r dm_rate dm_done < <(sweep dnsmasq eth0 "$DM_RATES")
cleanup_ns

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }'; }
printf '\n%-10s %18s %22s %10s\n' server "best offered rate" "DORA completed per s" "vs Kea"
printf '%-10s %16s/s %22s %10s\n' vswitch "$vs_rate" "$vs_done" "$(ratio "$vs_done" "$kea_done")"
printf '%-10s %16s/s %22s %10s\n' kea "$kea_rate" "$kea_done" "1.00x"
printf '%-10s %16s/s %22s %10s\n' dnsmasq "$dm_rate" "$dm_done" "$(ratio "$dm_done" "$kea_done")"

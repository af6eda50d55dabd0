# SPDX-License-Identifier: MIT
#
# Shared helpers for the root tests in tests/net. Sourced by each test.
# Every namespace a test makes carries the test's unique prefix and is
# deleted by the EXIT trap, also when the test fails; the machine's own
# interfaces, routes and firewall are never touched: vswitchd runs inside a
# "host" namespace of the test's own.
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: needs root (network namespaces)"
	exit 77
fi
if [ ! -c /dev/net/tun ]; then
	echo "SKIP: /dev/net/tun missing"
	exit 77
fi

BIN=${BUILD_DIR:?BUILD_DIR not set}/vswitch
# Short and unique: interface names are at most 15 characters.
ID=$(printf 'v%x' $(( ($$ ^ RANDOM) & 0xfffff )))
TMP=$(mktemp -d "/tmp/vswitch-net-$ID.XXXXXX")
NAMESPACES=()
DAEMON_PIDS=()

cleanup() {
	local rc=$?
	for pid in "${DAEMON_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${DAEMON_PIDS[@]}"; do
		for _ in $(seq 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
	done
	for ns in "${NAMESPACES[@]}"; do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
		ip netns del "$ns" 2>/dev/null || true
	done
	if [ "$rc" -ne 0 ] && [ -d "$TMP" ]; then
		for f in "$TMP"/*.out; do
			[ -f "$f" ] && { echo "--- $f"; tail -n 15 "$f"; }
		done
		for f in "$TMP"/*.log; do
			[ -f "$f" ] && { echo "--- $f"; tail -n 30 "$f"; }
		done
	fi
	rm -rf "$TMP"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

pass() {
	echo "ok - $*"
}

# newns NAME: creates namespace $ID-NAME with loopback up; prints its name.
newns() {
	local ns="$ID-$1"
	ip netns add "$ns"
	NAMESPACES+=("$ns")
	ip -n "$ns" link set lo up
}

# inns NS CMD...: runs CMD inside namespace $ID-NS.
inns() {
	local ns="$ID-$1"
	shift
	ip netns exec "$ns" "$@"
}

# start_daemon HOSTNS LOG ARGS...: runs vswitchd -f inside namespace HOSTNS.
start_daemon() {
	local ns=$1 log=$2
	shift 2
	ip netns exec "$ID-$ns" "$BIN/vswitchd" -f "$@" >"$log" 2>&1 &
	DAEMON_PIDS+=($!)
	LAST_PID=$!
}

# ctl SOCK ARGS...: vswitchctl against SOCK.
ctl() {
	local sock=$1
	shift
	"$BIN/vswitchctl" -s "$sock" "$@"
}

# wait_ready SOCK PID: waits until the daemon answers, or fails if it died.
wait_ready() {
	for _ in $(seq 100); do
		ctl "$1" show >/dev/null 2>&1 && return 0
		kill -0 "$2" 2>/dev/null || fail "vswitchd exited during start-up"
		sleep 0.1
	done
	fail "vswitchd did not answer on $1"
}

# stop_daemon PID: SIGTERM and wait; fails if it does not exit 0 within 5 s.
stop_daemon() {
	local pid=$1 rc=0
	kill -TERM "$pid"
	for _ in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && fail "vswitchd ignored SIGTERM"
	wait "$pid" || rc=$?
	[ "$rc" -eq 0 ] || fail "vswitchd exited $rc after SIGTERM"
}

# ping_ok NS ADDR: one ping with a few retries (the first may wait for ARP).
ping_ok() {
	local ns=$1 addr=$2
	for _ in 1 2 3 4 5; do
		inns "$ns" ping -c 1 -W 1 "$addr" >/dev/null 2>&1 && return 0
	done
	return 1
}

# links NS: the interface names in NS, sorted, one per line.
links() {
	inns "$1" ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | sort
}

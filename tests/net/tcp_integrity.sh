#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Bulk TCP through vswitchd with offloads on, checked end to end by SHA-256:
# tap -> tap (64 KiB GSO frames cross unsegmented), tap -> netdev (the packet
# socket takes GSO frames with their vnet header), netdev -> tap, and
# tap -> host adapter. All inside namespaces this test makes.
. "$(dirname "$0")/lib.sh"

for ns in h g1 g2 g5; do newns $ns; done
ip link add "$ID-vu" netns "$ID-h" type veth peer name eth0 netns "$ID-g5"
SOCK=$TMP/ctl.sock
cat >"$TMP/a.conf" <<CONF
[network]
name = $ID
subnet = 10.80.0.0/24
[host]
address = 10.80.0.1
[port g1]
netns = $ID-g1
[port g2]
netns = $ID-g2
[port up]
type = netdev
interface = $ID-vu
CONF
start_daemon h "$TMP/daemon.log" -s "$SOCK" -c "$TMP/a.conf"
PID=$LAST_PID
wait_ready "$SOCK" "$PID"
inns g1 ip addr add 10.80.0.11/24 dev "$ID-g1"
inns g2 ip addr add 10.80.0.12/24 dev "$ID-g2"
inns g5 ip addr add 10.80.0.15/24 dev eth0
inns g5 ip link set eth0 up
ping_ok g1 10.80.0.12 && ping_ok g1 10.80.0.15 && ping_ok g1 10.80.0.1 || fail "no reachability"

head -c $((8 * 1024 * 1024 + 12345)) /dev/urandom >"$TMP/data"
want=$(sha256sum "$TMP/data" | cut -d' ' -f1)

cat >"$TMP/recv.py" <<'PY'
import hashlib, socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1])))
s.listen(1)
print("listening", flush=True)
s.settimeout(30)
c, _ = s.accept()
c.settimeout(30)
h, n = hashlib.sha256(), 0
while True:
    b = c.recv(1 << 20)
    if not b:
        break
    h.update(b)
    n += len(b)
print(n, h.hexdigest(), flush=True)
PY
cat >"$TMP/send.py" <<'PY'
import socket, sys
c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=30)
with open(sys.argv[3], "rb") as f:
    data = f.read()
for i in range(0, len(data), 1 << 20):  # large writes let TCP build 64 KiB GSO frames
    c.sendall(data[i:i + (1 << 20)])
c.shutdown(socket.SHUT_WR)
c.recv(1)
PY

# transfer FROM_NS TO_NS TO_ADDR LABEL
transfer() {
	local from=$1 to=$2 addr=$3 label=$4 port=$((5000 + RANDOM % 1000))
	inns "$to" python3 "$TMP/recv.py" $port >"$TMP/recv.out" 2>&1 &
	local rpid=$!
	for _ in $(seq 50); do grep -q listening "$TMP/recv.out" && break; sleep 0.1; done
	inns "$from" timeout 60 python3 "$TMP/send.py" "$addr" $port "$TMP/data" 2>"$TMP/send.err" ||
		fail "$label: sender failed: $(tail -n 3 "$TMP/send.err"); $(ctl "$SOCK" stats)"
	wait $rpid || fail "$label: receiver failed: $(cat "$TMP/recv.out")"
	got=$(tail -n 1 "$TMP/recv.out")
	[ "$got" = "$(stat -c %s "$TMP/data") $want" ] ||
		fail "$label: received '$got', expected $(stat -c %s "$TMP/data") $want"
	pass "$label: $(stat -c %s "$TMP/data") bytes intact"
}

port_counter() { # port_counter PORT FIELD
	ctl "$SOCK" -j ports "$ID" | python3 -c "import json,sys; print({p['name']: p for p in json.load(sys.stdin)['ports']}['$1']['$2'])"
}
p0=$(port_counter g1 rx_packets)
b0=$(port_counter g1 rx_bytes)
transfer g1 g2 10.80.0.12 "tap -> tap"
p1=$(port_counter g1 rx_packets)
b1=$(port_counter g1 rx_bytes)
avg=$(( (b1 - b0) / (p1 - p0) ))
[ "$avg" -gt 3000 ] || fail "tap -> tap: average frame $avg bytes: GSO frames did not cross whole"
pass "tap -> tap carried GSO frames (average $avg bytes per frame)"
transfer g1 g5 10.80.0.15 "tap -> netdev"
transfer g5 g1 10.80.0.11 "netdev -> tap"
transfer g2 h 10.80.0.1 "tap -> host adapter"
n=$(port_counter up drops_total)
[ "$n" -eq 0 ] || fail "netdev port dropped $n frames"
stop_daemon "$PID"

#!/bin/bash
# SPDX-License-Identifier: MIT
#
# End-to-end switching through vswitchd, all inside namespaces this test makes:
# two networks, guests on tap ports moved into their own namespaces, the host
# adapter, and a netdev port on a veth whose peer is a guest namespace.
# Checks reachability, that learned unicast stays private, that broadcast
# reaches everyone, isolation between networks, the MAC table and counters,
# adding and removing a port at run time, vswitchctl's errors, and that
# SIGTERM leaves no interface behind.
. "$(dirname "$0")/lib.sh"

for ns in h g1 g2 g3 g4 g5 g6; do newns $ns; done
ip link add "$ID-vu" netns "$ID-h" type veth peer name eth0 netns "$ID-g5"
SOCK=$TMP/ctl.sock

cat >"$TMP/a.conf" <<CONF
# network a: three tap guests, the host adapter and a veth uplink
[network]
name = $ID-a
subnet = 10.77.0.0/24
fdb-aging = 300

[host]
address = 10.77.0.1

[port g1]
netns = $ID-g1
mac = 52:54:00:77:00:11
[port g2]
netns = $ID-g2
[port g3]
netns = $ID-g3
[port up]
type = netdev
interface = $ID-vu
CONF
cat >"$TMP/b.conf" <<CONF
[network]
name = $ID-b
subnet = 10.78.0.0/24
[port g4]
netns = $ID-g4
CONF

h_links_before=$(links h)
start_daemon h "$TMP/daemon.log" -s "$SOCK" -c "$TMP/a.conf" -c "$TMP/b.conf"
PID=$LAST_PID
wait_ready "$SOCK" "$PID"

inns g1 ip link show "$ID-a-g1" | grep "UP" >/dev/null || fail "tap of g1 not up in its namespace"
inns g1 ip link show "$ID-a-g1" | grep "52:54:00:77:00:11" >/dev/null || fail "MAC of g1 not applied"
inns g1 ip addr add 10.77.0.11/24 dev "$ID-a-g1"
inns g2 ip addr add 10.77.0.12/24 dev "$ID-a-g2"
inns g3 ip addr add 10.77.0.13/24 dev "$ID-a-g3"
inns g5 ip addr add 10.77.0.15/24 dev eth0
inns g5 ip link set eth0 up
# g4 is on the other network but uses an address of network a: only the
# switch separates them.
inns g4 ip addr add 10.77.0.14/24 dev "$ID-b-g4"
inns h ip -o addr show "$ID-a-host" | grep "10.77.0.1/24" >/dev/null || fail "host adapter has no address"

ping_ok g1 10.77.0.12 || fail "g1 cannot reach g2"
ping_ok g2 10.77.0.1 || fail "g2 cannot reach the host adapter"
ping_ok h 10.77.0.11 || fail "the host cannot reach g1"
ping_ok g3 10.77.0.11 || fail "g3 cannot reach g1"
ping_ok g1 10.77.0.15 || fail "g1 cannot reach g5 behind the netdev port"
pass "guests, host adapter and netdev peer reach each other"

# Learned unicast between g1 and g2 must not reach g3.
inns g3 timeout 5 tcpdump -U -n -i "$ID-a-g3" -w "$TMP/g3.pcap" icmp 2>"$TMP/tcpdump-g3.log" &
cap=$!
sleep 1.5
inns g1 ping -c 5 -i 0.2 -W 1 10.77.0.12 >/dev/null || fail "g1 -> g2 pings lost"
wait $cap || true
n=$(tcpdump -n -r "$TMP/g3.pcap" 2>/dev/null | wc -l)
[ "$n" -eq 0 ] || fail "g3 saw $n ICMP packets of the g1 <-> g2 exchange"
pass "unicast between learned guests is not seen by a third guest"

# Broadcast reaches every port of network a, and nothing of network b.
caps=()
for g in g2 g3 g5 g4 h; do
	case $g in
	g5) dev=eth0 ;; g4) dev="$ID-b-g4" ;; h) dev="$ID-a-host" ;; *) dev="$ID-a-$g" ;;
	esac
	inns $g timeout 5 tcpdump -U -n -i "$dev" -w "$TMP/$g.bc.pcap" arp 2>"$TMP/tcpdump-$g.log" &
	caps+=($!)
done
sleep 1.5
inns g1 ping -c 2 -W 1 10.77.0.99 >/dev/null 2>&1 || true # no such host: ARP broadcasts
wait "${caps[@]}" || true
for g in g2 g3 g5 h; do
	tcpdump -n -r "$TMP/$g.bc.pcap" 2>/dev/null | grep "Request who-has 10.77.0.99" >/dev/null ||
		fail "broadcast from g1 did not reach $g"
done
n=$(tcpdump -n -r "$TMP/g4.bc.pcap" 2>/dev/null | wc -l)
[ "$n" -eq 0 ] || fail "network b saw $n ARP packets of network a"
pass "broadcast reaches every port of the network"

! inns g1 ping -c 2 -W 1 10.77.0.14 >/dev/null 2>&1 || fail "g1 reached g4 on another network"
pass "networks are isolated"

# The MAC table and the counters.
ctl "$SOCK" -j fdb "$ID-a" >"$TMP/fdb.json"
python3 - "$TMP/fdb.json" <<'PY' || fail "MAC table wrong: $(cat "$TMP/fdb.json")"
import json, sys
fdb = json.load(open(sys.argv[1]))["fdb"]
by_mac = {e["mac"]: e["port"] for e in fdb}
assert by_mac.get("52:54:00:77:00:11") == "g1", by_mac
assert len(set(by_mac.values())) >= 4, by_mac
PY
ctl "$SOCK" fdb "$ID-a" | grep "^52:54:00:77:00:11 .* g1 " >/dev/null || fail "fdb table lacks g1"
ctl "$SOCK" -j ports "$ID-a" >"$TMP/ports.json"
python3 - "$TMP/ports.json" <<'PY' || fail "port counters wrong: $(cat "$TMP/ports.json")"
import json, sys
ports = {p["name"]: p for p in json.load(open(sys.argv[1]))["ports"]}
assert set(ports) == {"host", "g1", "g2", "g3", "up"}, ports.keys()
assert ports["g1"]["kind"] == "tap" and ports["up"]["kind"] == "netdev" and ports["host"]["kind"] == "host"
for name in ("g1", "g2", "up", "host"):
    assert ports[name]["rx_packets"] > 0 and ports[name]["tx_packets"] > 0, ports[name]
# g1 sent 5 pings to g2 after learning, each a frame of 98 bytes
assert ports["g1"]["rx_bytes"] >= 5 * 98
PY
ctl "$SOCK" show | grep "^$ID-a .*10.77.0.0/24" >/dev/null || fail "show lacks network a"
ctl "$SOCK" stats | grep "^network $ID-b" >/dev/null || fail "stats lacks network b"
pass "MAC table, ports and stats report what happened"

# Ports at run time.
ctl "$SOCK" add-port "$ID-a" g6 netns="$ID-g6" mac=52:54:00:77:00:16 >/dev/null ||
	fail "add-port failed"
inns g6 ip link show "$ID-a-g6" | grep UP >/dev/null || fail "added port's tap missing in g6"
inns g6 ip addr add 10.77.0.16/24 dev "$ID-a-g6"
ping_ok g6 10.77.0.11 || fail "added port cannot reach g1"
ctl "$SOCK" del-port "$ID-a" g6 >/dev/null || fail "del-port failed"
[ "$(links g6)" = "lo" ] || fail "del-port left an interface in g6: $(links g6)"
ctl "$SOCK" -j ports "$ID-a" | grep '"g6"' >/dev/null && fail "del-port left the port listed"
pass "add-port and del-port at run time"

# vswitchctl errors: one line on stderr and a non-zero exit.
expect_err() {
	local want_rc=$1 pattern=$2 rc=0
	shift 2
	ctl "$SOCK" "$@" >/dev/null 2>"$TMP/err" || rc=$?
	[ "$rc" -eq "$want_rc" ] || fail "vswitchctl $* exited $rc, expected $want_rc"
	[ "$(wc -l <"$TMP/err")" -eq 1 ] || fail "vswitchctl $*: not one line: $(cat "$TMP/err")"
	grep -q "$pattern" "$TMP/err" || fail "vswitchctl $*: '$(cat "$TMP/err")' lacks '$pattern'"
}
expect_err 1 "unknown network 'nosuch'" ports nosuch
expect_err 1 "has no port 'nosuch'" del-port "$ID-a" nosuch
expect_err 1 "network name missing" ports
expect_err 1 "already has a port 'g1'" add-port "$ID-a" g1
expect_err 1 "type" add-port "$ID-a" g7 type=bogus
expect_err 1 "interface '$ID-vu' is already port 'up' of network '$ID-a'" \
	add-port "$ID-b" up2 type=netdev interface="$ID-vu"
expect_err 2 "unknown command 'bogus'" bogus
pass "vswitchctl reports errors in one line"

# A netdev port survives its link going down and up again.
inns h ip link set "$ID-vu" down
sleep 0.5
inns h ip link set "$ID-vu" up
ping_ok g1 10.77.0.15 || ping_ok g1 10.77.0.15 || fail "netdev port dead after a link flap"
pass "the netdev port survives a link flap"

# SIGTERM removes every interface the daemon made; the veth stays.
stop_daemon "$PID"
[ "$(links h)" = "$h_links_before" ] || fail "interfaces left in host ns: $(links h)"
for g in g1 g2 g3 g4; do
	[ "$(links $g)" = "lo" ] || fail "interfaces left in $g: $(links $g)"
done
[ ! -e "$SOCK" ] || fail "control socket left behind"
pass "SIGTERM leaves no interface behind"

#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Bridged uplink and test-lab tools, in namespaces only:
#
#   lan (dnsmasq DHCP, 192.0.2.1) --veth-- [up: netdev] vswitchd in h
#   g1 (udhcpc)  -- tap g1                  [g1]
#   g2, g3 (VLAN 10), g4 (VLAN 20) -- taps  [g2 mirror=m, g3 delay, g4]
#   tr (eth.10, eth.20) --veth-- [t: netdev trunk 10,20]
#   mon (tcpdump) -- tap m                  [m]
#
# A guest gets its address from the LAN's DHCP server through the uplink and
# reaches a LAN host; a DHCP server and host adapter serve one VLAN only;
# the idle network shows no frame loop (a loop moves thousands of frames a
# second; ARP refreshes move a few); VLANs isolate
# (ping and tcpdump) and a trunk carries them tagged, tags the veth stripped
# put back; a mirror port sees a guest's traffic; a capture file read by
# tshark (or tcpdump -r where tshark cannot be installed) shows the ICMP
# exchange; a 50 ms delay shows in ping, a 10% loss stays within generous
# statistical bounds, and a 10 Mbit/s rate caps iperf3's TCP.
. "$(dirname "$0")/lib.sh"
for tool in udhcpc dnsmasq tcpdump ping; do
	command -v "$tool" >/dev/null || { echo "SKIP: $tool not installed"; exit 77; }
done

for ns in h lan g1 g2 g3 g4 tr mon gv gw; do
	newns "$ns"
	# No IPv6 chatter (router solicitations, DAD): the idle check counts every frame.
	inns "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done
# The LAN: a veth whose far end is the uplink port.
ip link add "$ID-lan" type veth peer name "$ID-up"
ip link set "$ID-lan" netns "$ID-lan"
ip link set "$ID-up" netns "$ID-h"
inns lan ip addr add 192.0.2.1/24 dev "$ID-lan"
inns lan ip link set "$ID-lan" up
inns lan dnsmasq --keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts --port=0 \
	--bind-interfaces --interface="$ID-lan" --dhcp-range=192.0.2.100,192.0.2.150,1h \
	--dhcp-leasefile="$TMP/lan.leases" --pid-file="$TMP/lan.pid" --log-facility="$TMP/dnsmasq.log" &
# The trunk: a veth into 'tr'. (This kernel may lack 8021q, so the far end
# speaks tagged frames through a packet socket rather than VLAN interfaces.)
ip link add "$ID-trk" type veth peer name "$ID-t"
ip link set "$ID-trk" netns "$ID-tr"
ip link set "$ID-t" netns "$ID-h"
inns tr ip link set "$ID-trk" up

SOCK=$TMP/ctl.sock
cat >"$TMP/lab.conf" <<CONF
[network]
name = $ID
subnet = 192.0.2.0/24
[port up]
type = netdev
interface = $ID-up
[port g1]
netns = $ID-g1
[port g2]
netns = $ID-g2
vlan = 10
mirror = m
[port g3]
netns = $ID-g3
vlan = 10
delay = 50ms
[port g4]
netns = $ID-g4
vlan = 20
loss = 10%
[port t]
type = netdev
interface = $ID-t
trunk = 10,20
[port m]
netns = $ID-mon
vlan = 4000
CONF
# A second network whose host adapter and DHCP server sit on VLAN 30.
cat >"$TMP/v.conf" <<CONF
[network]
name = ${ID}v
subnet = 10.30.0.0/24
[host]
vlan = 30
[dhcp]
vlan = 30
[port gv]
netns = $ID-gv
vlan = 30
[port gw]
netns = $ID-gw
CONF
start_daemon h "$TMP/daemon.log" -s "$SOCK" -d "$TMP/state" -c "$TMP/lab.conf" -c "$TMP/v.conf"
PID=$LAST_PID
wait_ready "$SOCK" "$PID"

# --- bridged uplink: the LAN's DHCP server, a LAN host ------------------------
cat >"$TMP/hook" <<'HOOK'
#!/bin/sh
[ "$1" = bound ] || exit 0
ip addr add "$ip/${mask:-24}" dev "$interface"
echo "$ip" >"$(dirname "$0")/lease-$interface"
HOOK
chmod +x "$TMP/hook"
inns g1 ip link set "$ID-g1" up
inns g1 udhcpc -q -n -f -i "$ID-g1" -s "$TMP/hook" -t 10 -T 1 >"$TMP/udhcpc.out" 2>&1 ||
	fail "no lease from the LAN's DHCP server"
G1=$(cat "$TMP/lease-$ID-g1")
[[ $G1 == 192.0.2.1[0-5]? ]] || fail "lease $G1 is not from the LAN's range"
ping_ok g1 192.0.2.1 || fail "the guest cannot reach the LAN host"
pass "a guest on the bridged uplink got $G1 from the LAN's dnsmasq and reaches 192.0.2.1"

# --- the DHCP endpoint and the host adapter on VLAN 30 ----------------------------
inns gv ip link set "${ID}v-gv" up
inns gv udhcpc -q -n -f -i "${ID}v-gv" -s "$TMP/hook" -t 10 -T 1 >"$TMP/udhcpc-gv.out" 2>&1 ||
	fail "no lease on VLAN 30"
GV=$(cat "$TMP/lease-${ID}v-gv")
ping_ok gv 10.30.0.1 || fail "VLAN 30 cannot reach its host adapter"
inns gw ip link set "${ID}v-gw" up
inns gw udhcpc -q -n -f -i "${ID}v-gw" -s "$TMP/hook" -t 2 -T 1 >"$TMP/udhcpc-gw.out" 2>&1 &&
	fail "the untagged segment got a lease from VLAN 30's server"
pass "on VLAN 30 a guest got $GV and reaches the host adapter; the untagged segment gets no lease"

# --- no loop: an idle network stays idle ---------------------------------------
sum_packets() {
	ctl "$SOCK" -j ports "$ID" | python3 -c '
import json, sys
print(sum(p["rx_packets"] + p["tx_packets"] for p in json.load(sys.stdin)["ports"]))'
}
sleep 1
before=$(sum_packets)
sleep 3
after=$(sum_packets)
[ $((after - before)) -le 20 ] || fail "frames keep moving on an idle network: $before -> $after"
pass "idle for 3 s: $((after - before)) frames (no loop)"

# --- VLANs ---------------------------------------------------------------------
addr() { inns "$1" ip addr add "$2/24" dev "$ID-$3"; inns "$1" ip link set "$ID-$3" up; }
addr g2 10.10.0.2 g2
addr g3 10.10.0.3 g3
addr g4 10.10.0.4 g4 # same subnet, other VLAN: must stay unreachable
ping_ok g2 10.10.0.3 || fail "two access ports of VLAN 10 cannot talk"
inns g4 timeout 6 tcpdump -l -n -i "$ID-g4" -c 1 arp or icmp >"$TMP/g4.pcap.txt" 2>/dev/null &
TCPD=$!
sleep 1
inns g2 ping -c 2 -W 1 10.10.0.4 >/dev/null 2>&1 && fail "VLAN 10 reaches VLAN 20"
wait "$TCPD" || true
grep . "$TMP/g4.pcap.txt" && fail "VLAN 20 saw VLAN 10's traffic: $(od -c "$TMP/g4.pcap.txt" | head)"
pass "access ports of one VLAN talk; VLAN 20 sees nothing of VLAN 10 (tcpdump)"

# The trunk: a tagged ARP request for g2 goes in; g2's answer comes back tagged 10.
inns tr timeout 6 tcpdump -l -e -n -i "$ID-trk" -c 1 "vlan 10 and arp[6:2] == 2" \
	>"$TMP/trunk.txt" 2>/dev/null &
TCPD=$!
sleep 1
inns tr python3 - "$ID-trk" <<'PY'
import socket, struct, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((sys.argv[1], 0))
mac = bytes.fromhex("020000000a63")
arp = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, mac, socket.inet_aton("10.10.0.99"),
                  bytes(6), socket.inet_aton("10.10.0.2"))
s.send(b"\xff" * 6 + mac + struct.pack("!HHH", 0x8100, 10, 0x0806) + arp + bytes(18))
PY
wait "$TCPD" || true
grep "vlan 10" "$TMP/trunk.txt" | grep "Reply 10.10.0.2 is-at" >/dev/null ||
	fail "no tagged ARP reply on the trunk: $(cat "$TMP/trunk.txt")"
ctl "$SOCK" fdb "$ID" | grep "02:00:00:00:0a:63  *10  *t " >/dev/null ||
	fail "the trunk's MAC was not learned in VLAN 10: $(ctl "$SOCK" fdb "$ID")"
pass "a tagged frame from the trunk reaches VLAN 10 (its tag back from auxdata) and the answer leaves tagged"

# --- mirror: m sees what g2 sends and gets -------------------------------------
inns mon ip link set "$ID-m" up
inns mon timeout 8 tcpdump -l -n -i "$ID-m" -c 4 icmp >"$TMP/mirror.txt" 2>/dev/null &
TCPD=$!
sleep 1
inns g2 ping -c 3 -i 0.2 10.10.0.3 >/dev/null || fail "ping for the mirror"
wait "$TCPD" || true
grep "10.10.0.2 > 10.10.0.3: ICMP echo request" "$TMP/mirror.txt" >/dev/null &&
	grep "10.10.0.3 > 10.10.0.2: ICMP echo reply" "$TMP/mirror.txt" >/dev/null ||
	fail "the mirror port saw: $(cat "$TMP/mirror.txt")"
pass "the mirror port sees g2's requests and replies"

# --- capture: a pcap file of g2's ICMP, read by tshark or tcpdump ----------------
ctl "$SOCK" capture "$ID" g2 "$TMP/g2.pcap" --count 6 >/dev/null || fail "capture did not start"
ctl "$SOCK" capture "$ID" g2 "$TMP/again.pcap" >/dev/null 2>&1 && fail "a second capture of g2 started"
inns g2 ping -c 3 -i 0.2 10.10.0.3 >/dev/null || fail "ping for the capture"
for _ in $(seq 30); do # the count reached, the daemon closes it at its next tick
	ctl "$SOCK" -j ports "$ID" | grep '"capture"' >/dev/null || break
	sleep 0.1
done
if command -v tshark >/dev/null; then
	tshark -r "$TMP/g2.pcap" -Y icmp -T fields -e ip.src -e ip.dst -e icmp.type >"$TMP/cap.txt"
	grep -P "^10.10.0.2\t10.10.0.3\t8$" "$TMP/cap.txt" >/dev/null &&
		grep -P "^10.10.0.3\t10.10.0.2\t0$" "$TMP/cap.txt" >/dev/null ||
		fail "tshark read: $(cat "$TMP/cap.txt")"
else
	tcpdump -n -r "$TMP/g2.pcap" icmp >"$TMP/cap.txt" 2>/dev/null
	grep "10.10.0.2 > 10.10.0.3: ICMP echo request" "$TMP/cap.txt" >/dev/null &&
		grep "10.10.0.3 > 10.10.0.2: ICMP echo reply" "$TMP/cap.txt" >/dev/null ||
		fail "tcpdump -r read: $(cat "$TMP/cap.txt")"
fi
[ "$(tcpdump -n -r "$TMP/g2.pcap" 2>/dev/null | wc -l)" -eq 6 ] || fail "the capture did not stop at 6 frames"
grep "capture of port 'g2' ended: 6 frames" "$TMP/daemon.log" >/dev/null || fail "no end of capture logged"
pass "a capture of g2 holds its ICMP exchange and stopped by itself at 6 frames"

# --- impairment: 50 ms on g3, 10% loss on g4 -----------------------------------
# g3's egress delays g2's requests: the round trip grows by the delay.
avg=$(inns g2 ping -c 10 -i 0.1 -q 10.10.0.3 | awk -F/ '/rtt|round-trip/ { print $5 }')
awk -v a="$avg" 'BEGIN { exit !(a >= 45 && a < 150) }' || fail "average RTT $avg ms with a 50 ms delay"
ctl "$SOCK" impair "$ID" g3 off >/dev/null || fail "impair off"
avg0=$(inns g2 ping -c 10 -i 0.1 -q 10.10.0.3 | awk -F/ '/rtt|round-trip/ { print $5 }')
awk -v a="$avg0" 'BEGIN { exit !(a < 20) }' || fail "average RTT $avg0 ms with the delay off"
pass "delay = 50ms: RTT $avg ms; impair off: $avg0 ms"
ctl "$SOCK" impair "$ID" g4 loss=10% >/dev/null || fail "impair loss"
# g4 and a second port of VLAN 20 (added now) exchange 400 pings; only g4's egress loses.
newns g5
inns g5 sysctl -qw net.ipv6.conf.all.disable_ipv6=1
ctl "$SOCK" add-port "$ID" g5 netns="$ID-g5" vlan=20 >/dev/null || fail "add-port g5"
addr g5 10.10.0.5 g5
ping_ok g5 10.10.0.4 || fail "g5 cannot reach g4"
loss=$(inns g5 ping -c 400 -i 0.005 -q 10.10.0.4 | grep -o '[0-9.]*% packet loss' | cut -d% -f1)
awk -v l="$loss" 'BEGIN { exit !(l >= 4 && l <= 18) }' || fail "packet loss $loss% with loss = 10%"
lost=$(ctl "$SOCK" -j ports "$ID" | python3 -c '
import json, sys
print(next(p for p in json.load(sys.stdin)["ports"] if p["name"] == "g4")["impair"]["lost"])')
[ "$lost" -gt 0 ] || fail "no loss counted on g4"
pass "loss = 10%: $loss% of 400 pings lost ($lost frames dropped by g4's impairment)"

# rate = 10mbit on g3: iperf3's TCP from g2 to g3 settles near 10 Mbit/s.
if command -v iperf3 >/dev/null; then
	ctl "$SOCK" impair "$ID" g3 rate=10mbit >/dev/null || fail "impair rate"
	inns g3 iperf3 -s -1 -B 10.10.0.3 >/dev/null 2>&1 &
	sleep 0.5
	mbps=$(inns g2 iperf3 -c 10.10.0.3 -t 3 -J | python3 -c '
import json, sys
print(round(json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e6, 2))')
	awk -v r="$mbps" 'BEGIN { exit !(r >= 5 && r <= 11) }' || fail "TCP at $mbps Mbit/s through a 10 Mbit/s port"
	pass "rate = 10mbit: iperf3 TCP got $mbps Mbit/s"
fi
stop_daemon "$PID"

#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The embedded DHCP server against real clients, each in its own namespace on
# a tap port: dhclient (ISC), udhcpc (busybox) and dhcpcd. Each must get an
# address past the 16 reserved ones with the configured router, DNS and
# domain; renew (renewal-time 3 s; udhcpc is told to with SIGUSR1); keep its
# address across a SIGKILL and restart of vswitchd (the lease journal); and
# release. Then a client moved from another network gets a NAK and a new
# address. Everything runs in namespaces this test makes.
. "$(dirname "$0")/lib.sh"
for c in dhclient udhcpc dhcpcd; do
	command -v $c >/dev/null || { echo "SKIP: $c not installed"; exit 77; }
done

for ns in h c1 c2 c3 c4 c5; do newns $ns; done
SOCK=$TMP/ctl.sock
STATE=$TMP/state
cat >"$TMP/lab.conf" <<CONF
[network]
name = $ID
subnet = 10.82.0.0/24
[host]
address = 10.82.0.1
[dhcp]
range = 10.82.0.0-10.82.0.255
dns = 10.82.0.1, 10.82.0.3
domain = lab.test
lease-time = 60
renewal-time = 3
rebinding-time = 50
route = 10.99.0.0/16 10.82.0.1
# Fixed MACs, as VMs have: the taps are re-created when vswitchd restarts.
[port c1]
netns = $ID-c1
mac = 52:54:00:82:00:01
[port c2]
netns = $ID-c2
mac = 52:54:00:82:00:02
[port c3]
netns = $ID-c3
mac = 52:54:00:82:00:03
# a host configured by hand with the first leasable address
[port c5]
netns = $ID-c5
CONF
cat >"$TMP/other.conf" <<CONF
[network]
name = ${ID}o
subnet = 10.83.0.0/24
[dhcp]
[port c4]
interface = $ID-c4
netns = $ID-c4
mac = 52:54:00:83:00:04
CONF

start() {
	start_daemon h "$TMP/daemon.log" -s "$SOCK" -d "$STATE" -c "$TMP/lab.conf" -c "$TMP/other.conf"
	PID=$LAST_PID
	wait_ready "$SOCK" "$PID"
}
start

# One hook script for the three clients: they all pass the ISC-style
# variables (dhclient, dhcpcd) or busybox's (udhcpc); it logs what matters to
# a file named after the interface (the clients clear the environment).
cat >"$TMP/hook" <<'HOOK'
#!/bin/sh
log=$(dirname "$0")/${interface#*-}.log
if [ -n "$reason" ]; then # dhclient and dhcpcd
	echo "$reason ip=$new_ip_address router=$new_routers dns=$new_domain_name_servers domain=$new_domain_name" >>"$log"
	case $reason in
	PREINIT) ip link set "$interface" up ;;
	BOUND | RENEW | REBIND | REBOOT)
		ip addr replace "$new_ip_address/$new_subnet_mask" dev "$interface" ;;
	esac
else # udhcpc: $1 is the event
	echo "$1 ip=$ip router=$router dns=$dns domain=$domain routes=$staticroutes" >>"$log"
	[ "$1" = bound ] && ip addr replace "$ip/$mask" dev "$interface"
fi
exit 0
HOOK
chmod +x "$TMP/hook"

# wait_event LOG REGEX [SECONDS]: waits for a line; prints it.
wait_event() {
	for _ in $(seq $(( ${3:-15} * 10 ))); do
		grep -E "$2" "$1" 2>/dev/null | tail -n 1 | grep . && return 0
		sleep 0.1
	done
	fail "no '$2' in $1: $(cat "$1" 2>/dev/null)"
}

ip_of() { sed -E 's/.*ip=([0-9.]+).*/\1/' <<<"$1"; }

check_lease() { # check_lease CLIENT LINE: the address and options of a binding
	local ip last
	ip=$(ip_of "$2")
	last=${ip##*.}
	[ "$last" -ge 16 ] && [ "$last" -le 254 ] || fail "$1 got $ip, inside the reserved block"
	grep -q "router=10.82.0.1 " <<<"$2" || fail "$1: wrong router: $2"
	grep -q "dns=10.82.0.1 10.82.0.3 " <<<"$2" || fail "$1: wrong DNS: $2"
	grep -q "domain=lab.test" <<<"$2" || fail "$1: wrong domain: $2"
}

# The static host speaks first (its ARP for the gateway is a broadcast the
# server sees): the server must not offer its address to anyone.
inns c5 ip addr add 10.82.0.16/24 dev "$ID-c5"
ping_ok c5 10.82.0.1 || fail "the static host cannot reach the host adapter"

start_clients() {
# dhclient in c1, honouring option 58 for its renewals.
inns c1 dhclient -4 -d -v -sf "$TMP/hook" \
	-pf "$TMP/dhclient.pid" -lf "$TMP/dhclient.leases" "$ID-c1" >"$TMP/dhclient.out" 2>&1 &
# udhcpc in c2, sending a hostname.
inns c2 udhcpc -f -i "$ID-c2" -s "$TMP/hook" -x hostname:guest2 -O staticroutes -p "$TMP/udhcpc.pid" \
	-t 10 -T 1 >"$TMP/udhcpc.out" 2>&1 &
# dhcpcd in c3 (it sets the address itself), no IPv4LL, no ARP probe.
inns c3 dhcpcd -4 -B -L -A -c "$TMP/hook" \
	--noipv4ll "$ID-c3" >"$TMP/dhcpcd.out" 2>&1 &
}
start_clients

l1=$(wait_event "$TMP/c1.log" "^BOUND ")
l2=$(wait_event "$TMP/c2.log" "^bound ")
l3=$(wait_event "$TMP/c3.log" "^BOUND ")
check_lease dhclient "$l1"
check_lease udhcpc "$l2"
check_lease dhcpcd "$l3"
a1=$(ip_of "$l1") a2=$(ip_of "$l2") a3=$(ip_of "$l3")
[ "$a1" != "$a2" ] && [ "$a2" != "$a3" ] && [ "$a1" != "$a3" ] || fail "addresses collide: $a1 $a2 $a3"
for a in $a1 $a2 $a3; do
	[ "$a" != 10.82.0.16 ] || fail "a client was given 10.82.0.16, in use by a static host"
done
ping_ok c1 "$a2" && ping_ok c2 "$a3" && ping_ok c3 10.82.0.1 || fail "leased addresses do not work"
pass "dhclient $a1, udhcpc $a2, dhcpcd $a3: router, DNS and domain as configured; 10.82.0.16 (static host) skipped"

ctl "$SOCK" -j leases "$ID" >"$TMP/leases.json"
python3 - "$TMP/leases.json" "$a1" "$a2" "$a3" <<'PY' || fail "leases: $(cat "$TMP/leases.json")"
import json, sys
leases = {l["address"]: l for l in json.load(open(sys.argv[1]))["leases"]}
for a in sys.argv[2:]:
    assert leases[a]["state"] == "bound", leases[a]
assert leases[sys.argv[3]]["hostname"] == "guest2", leases[sys.argv[3]]
PY
pass "vswitchctl leases lists the three bindings"

# Option 121 (RFC 3442): udhcpc reports it, dhcpcd installs it.
grep -q "routes=10.99.0.0/16 10.82.0.1" <<<"$l2" || fail "udhcpc got no classless route: $l2"
inns c3 ip route show 10.99.0.0/16 | grep "via 10.82.0.1" >/dev/null ||
	fail "dhcpcd installed no route to 10.99.0.0/16: $(inns c3 ip route)"
pass "the classless static route reaches udhcpc and dhcpcd"

# Renewals: dhclient and dhcpcd on their own (T1 = 3 s); udhcpc when told.
wait_event "$TMP/c1.log" "^RENEW ip=$a1 " >/dev/null
wait_event "$TMP/c3.log" "^RENEW ip=$a3 " >/dev/null
kill -USR1 "$(cat "$TMP/udhcpc.pid")"
wait_event "$TMP/c2.log" "^renew ip=$a2 " >/dev/null
pass "all three renew and keep their addresses"

# SIGKILL: acknowledged leases survive in the journal. The taps vanish with
# the daemon (the clients lose their interface), so the clients start again
# on the new taps and must get their addresses back.
kill -KILL "$PID"
wait "$PID" 2>/dev/null || true
for c in c1 c2 c3; do
	ip netns pids "$ID-$c" | xargs -r kill -KILL
done
rm -f "$TMP"/c[123].log
start
inns c5 ip addr add 10.82.0.16/24 dev "$ID-c5" # its tap is new too; it stays silent now
ctl "$SOCK" -j leases "$ID" >"$TMP/leases2.json"
python3 - "$TMP/leases2.json" "$a1" "$a2" "$a3" <<'PY' || fail "after restart: $(cat "$TMP/leases2.json")"
import json, sys
leases = {l["address"]: l for l in json.load(open(sys.argv[1]))["leases"]}
for a in sys.argv[2:]:
    assert leases[a]["state"] == "bound", (a, leases)
PY
start_clients
wait_event "$TMP/c1.log" "^(BOUND|REBOOT) ip=$a1 " >/dev/null
wait_event "$TMP/c2.log" "^bound ip=$a2 " >/dev/null
wait_event "$TMP/c3.log" "^(BOUND|REBOOT) ip=$a3 " >/dev/null
pass "after kill -9 and a restart every client gets its own address back"

# Release. A RELEASE is unicast and unanswered (RFC 2131 §4.4.4): a client
# that drops its address right after sending it loses the packet if the
# server's MAC still had to be resolved, so resolve it first.
for c in c1 c2 c3; do
	inns $c ping -c 1 -W 1 10.82.0.2 >/dev/null 2>&1 || true # ARP is answered; ICMP is not
done
inns c1 dhclient -4 -r -sf "$TMP/hook" -pf "$TMP/dhclient.pid" \
	-lf "$TMP/dhclient.leases" "$ID-c1" >/dev/null 2>&1
kill -USR2 "$(cat "$TMP/udhcpc.pid")"
inns c3 dhcpcd -4 -k "$ID-c3" >/dev/null 2>&1 || true
for _ in $(seq 150); do
	n=$(ctl "$SOCK" -j leases "$ID" | python3 -c "import json,sys; print(sum(l['state'] == 'released' for l in json.load(sys.stdin)['leases']))")
	[ "$n" -eq 3 ] && break
	sleep 0.1
done
[ "$n" -eq 3 ] || fail "released leases: $n of 3: $(ctl "$SOCK" leases "$ID")"
pass "RELEASE from each client frees its lease"

# A client moved from the other network: INIT-REBOOT with its old address
# gets a NAK, then a new lease here.
inns c4 dhclient -4 -1 -v -sf "$TMP/hook" \
	-pf "$TMP/c4.pid" -lf "$TMP/c4.leases" "$ID-c4" >"$TMP/c4.out" 2>&1 ||
	fail "dhclient on the other network: $(cat "$TMP/c4.out")"
old=$(ip_of "$(wait_event "$TMP/c4.log" "^BOUND ")")
[[ $old == 10.83.0.* ]] || fail "c4 got $old on the other network"
inns c4 dhclient -4 -x -pf "$TMP/c4.pid" "$ID-c4" >/dev/null 2>&1 || true
ctl "$SOCK" del-port "${ID}o" c4 >/dev/null
ctl "$SOCK" add-port "$ID" c4 netns="$ID-c4" mac=52:54:00:83:00:04 >/dev/null ||
	fail "cannot add c4 to network $ID"
inns c4 ip link set "$ID-c4" up 2>/dev/null || true
inns c4 timeout 5 tcpdump -U -n -v -i "$ID-c4" -w "$TMP/c4.pcap" udp port 67 or udp port 68 \
	2>/dev/null &
cap=$!
sleep 1
: >"$TMP/c4.log"
inns c4 dhclient -4 -1 -v -sf "$TMP/hook" \
	-pf "$TMP/c4.pid" -lf "$TMP/c4.leases" "$ID-c4" >"$TMP/c4.out" 2>&1 ||
	fail "dhclient after the move: $(cat "$TMP/c4.out")"
new=$(ip_of "$(wait_event "$TMP/c4.log" "^BOUND ")")
wait $cap || true
[[ $new == 10.82.0.* ]] || fail "moved client got $new"
# After the restart the static host has been silent: only the ARP probe sent
# with the OFFER can find it.
[ "$new" != 10.82.0.16 ] || fail "moved client got 10.82.0.16, held by the silent static host"
tcpdump -n -v -r "$TMP/c4.pcap" 2>/dev/null | grep -q "DHCP-Message.*NACK" ||
	fail "no NAK for the moved client's old address"
inns c4 dhclient -4 -x -pf "$TMP/c4.pid" "$ID-c4" >/dev/null 2>&1 || true
pass "a client moved from $old gets a NAK, then $new"

inns c1 dhclient -x -pf "$TMP/dhclient.pid" >/dev/null 2>&1 || true
stop_daemon "$PID"

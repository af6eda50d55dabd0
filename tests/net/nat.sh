#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Internet Connection Sharing end to end, in namespaces only:
#
#   g1 (udhcpc, "pc1") --tap--\                            /-- i: "the internet"
#   w  (web server .40) -tap--- vswitchd in h -- veth ------   dnsmasq (DNS for
#   g2 (udhcpc) ------tap---/   networks A and B, NAT       \   example.test)
#                                                               + a web server
#
# A guest gets its address by DHCP with the host adapter as gateway and DNS,
# resolves a name through the proxy, fetches a page from the internet, and
# the server sees the host's uplink address; a port mapping publishes w's
# web server; the two NAT networks do not reach each other's guests; a
# conflicting drop policy is reported; kill -9 leaves no table behind and a
# restart restores service; a bad mapping exits 2 naming its line.
. "$(dirname "$0")/lib.sh"
for tool in udhcpc nft dnsmasq curl busybox; do
	command -v "$tool" >/dev/null || { echo "SKIP: $tool not installed"; exit 77; }
done
PY=/usr/bin/python3
[ -x "$PY" ] || { echo "SKIP: python3 not installed"; exit 77; }

UP_H=198.51.100.2 UP_I=198.51.100.1
newns h
newns i
newns g1
newns g2
newns w
ip link add "$ID-up" type veth peer name "$ID-wan"
ip link set "$ID-up" netns "$ID-h"
ip link set "$ID-wan" netns "$ID-i"
inns h ip addr add "$UP_H/24" dev "$ID-up"
inns h ip link set "$ID-up" up
inns h ip route add default via "$UP_I"
inns i ip addr add "$UP_I/24" dev "$ID-wan"
inns i ip link set "$ID-wan" up

# The internet: a DNS server for example.test and a web server that logs its clients.
inns i dnsmasq --keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts \
	--bind-interfaces --listen-address="$UP_I" --pid-file="$TMP/dnsmasq.pid" \
	--host-record=www.example.test,"$UP_I" --log-facility="$TMP/dnsmasq.log" &
mkdir "$TMP/www" "$TMP/wwwg"
head -c 200000 /dev/urandom >"$TMP/www/page.bin"
echo "served by guest w" >"$TMP/wwwg/guest.txt"
inns i "$PY" -u -m http.server 80 --bind "$UP_I" --directory "$TMP/www" >"$TMP/web.log" 2>&1 &
inns w "$PY" -u -m http.server 80 --bind 0.0.0.0 --directory "$TMP/wwwg" >"$TMP/wwwg.log" 2>&1 &

# A stub resolver the proxy cannot use, then the real one.
printf 'nameserver 127.0.0.53\nnameserver %s\nsearch example.test\n' "$UP_I" >"$TMP/resolv.conf"

SOCK=$TMP/ctl.sock
cat >"$TMP/a.conf" <<CONF
[network]
name = ${ID}a
subnet = 10.81.0.0/24
[host]
[dhcp]
domain = lab.test
reserve = 52:54:00:81:00:40 10.81.0.40 web1
[nat]
forward = tcp 8080 10.81.0.40:80
resolv-conf = $TMP/resolv.conf
[port g]
netns = $ID-g1
[port w]
netns = $ID-w
mac = 52:54:00:81:00:40
CONF
cat >"$TMP/b.conf" <<CONF
[network]
name = ${ID}b
subnet = 10.82.0.0/24
[host]
[dhcp]
[nat]
resolv-conf = $TMP/resolv.conf
[port g]
netns = $ID-g2
CONF

start() {
	start_daemon h "$TMP/daemon.log" -s "$SOCK" -d "$TMP/state" -c "$TMP/a.conf" -c "$TMP/b.conf"
	PID=$LAST_PID
	wait_ready "$SOCK" "$PID"
}

cat >"$TMP/hook" <<'HOOK'
#!/bin/sh
# udhcpc script: configure the lease and record what the server handed out.
[ "$1" = bound ] || exit 0
ip addr add "$ip/${mask:-24}" dev "$interface"
ip route add default via "$router"
echo "$ip $router $dns" >"$(dirname "$0")/lease-$interface"
HOOK
chmod +x "$TMP/hook"

# dhcp NS IFNAME [HOSTNAME]: one lease; prints "ADDRESS ROUTER DNS".
dhcp() {
	rm -f "$TMP/lease-$2"
	inns "$1" ip link set "$2" up
	inns "$1" udhcpc -q -n -f -i "$2" -s "$TMP/hook" ${3:+-x "hostname:$3"} -t 10 -T 1 \
		>"$TMP/udhcpc-$1.out" 2>&1 || fail "$1: no DHCP lease"
	cat "$TMP/lease-$2"
}

# lookup NS NAME SERVER: the first address busybox nslookup prints for NAME
# (its whole answer stays in $TMP/nslookup.out for the failure message).
lookup() {
	inns "$1" busybox nslookup "$2" "$3" >"$TMP/nslookup.out" 2>&1 || true
	awk '/^Name:/ { n = 1 } n && /^Address/ { print $NF; exit }' "$TMP/nslookup.out"
}

start
grep -q "skipping" "$TMP/daemon.log" || fail "the loopback resolver 127.0.0.53 was not reported"

# --- a guest on A: DHCP, DNS through the proxy, the web through NAT ----------
read -r W _ _ < <(dhcp w "${ID}a-w")
[ "$W" = 10.81.0.40 ] || fail "w got $W instead of its reservation 10.81.0.40"
read -r G1 ROUTER DNS < <(dhcp g1 "${ID}a-g" pc1)
[ "$ROUTER" = 10.81.0.1 ] || fail "gateway $ROUTER, expected the host adapter 10.81.0.1"
[ "$DNS" = 10.81.0.1 ] || fail "DNS $DNS, expected the proxy on 10.81.0.1"
pass "guest pc1 got $G1 by DHCP, gateway and DNS 10.81.0.1"

got=$(lookup g1 www.example.test 10.81.0.1)
[ "$got" = "$UP_I" ] || fail "www.example.test resolved to '$got' through the proxy: $(cat "$TMP/nslookup.out")"
pass "www.example.test resolved through the proxy to $got"
got=$(lookup g1 pc1.lab.test 10.81.0.1)
[ "$got" = "$G1" ] || fail "pc1.lab.test resolved to '$got', expected $G1: $(cat "$TMP/nslookup.out")"
pass "pc1.lab.test answered by the proxy from the DHCP hostname: $got"
got=$(lookup g1 web1 10.81.0.1)
[ "$got" = "$W" ] || fail "web1 resolved to '$got', expected the reservation $W: $(cat "$TMP/nslookup.out")"
got=$(lookup g1 nobody.lab.test 10.81.0.1)
[ -z "$got" ] || fail "nobody.lab.test resolved to '$got'"
grep -q "NXDOMAIN" "$TMP/nslookup.out" || fail "nobody.lab.test: $(cat "$TMP/nslookup.out")"
pass "web1 resolves from its reservation; an unknown lab.test name is NXDOMAIN"

inns g1 curl -sf --max-time 10 --resolve "www.example.test:80:$UP_I" \
	-o "$TMP/got.bin" http://www.example.test/page.bin || fail "guest cannot fetch the page"
cmp -s "$TMP/got.bin" "$TMP/www/page.bin" || fail "the page arrived damaged"
grep -q "^$UP_H .*GET /page.bin" "$TMP/web.log" || fail "the web server did not see $UP_H: $(cat "$TMP/web.log")"
grep -q "^10\.81\." "$TMP/web.log" && fail "the guest's own address reached the internet"
pass "200 kB fetched intact; the server saw the uplink address $UP_H"

# --- a port mapping: tcp 8080 on the host -> w:80 -----------------------------
got=$(inns i curl -sf --max-time 10 "http://$UP_H:8080/guest.txt") || fail "mapping unreachable from the internet"
[ "$got" = "served by guest w" ] || fail "mapping answered '$got'"
got=$(inns h curl -sf --max-time 10 "http://$UP_H:8080/guest.txt") || fail "mapping unreachable from the host"
[ "$got" = "served by guest w" ] || fail "mapping answered '$got' to the host"
pass "tcp 8080 reaches guest w from the internet and from the host"

# --- network B is isolated from A's guests ----------------------------------
read -r G2 _ _ < <(dhcp g2 "${ID}b-g" pc2)
ping_ok g2 "$UP_I" || fail "guest of B cannot reach the internet"
inns g2 ping -c 2 -W 1 "$G1" >/dev/null 2>&1 && fail "B's guest reaches A's guest $G1"
inns g1 ping -c 2 -W 1 "$G2" >/dev/null 2>&1 && fail "A's guest reaches B's guest $G2"
inns g2 curl -sf --max-time 3 http://10.81.0.40/guest.txt >/dev/null 2>&1 && fail "B's guest reaches w"
pass "B's guest $G2 reaches the internet but not A's guests, nor they it"

# --- a foreign drop policy is reported ---------------------------------------
inns h nft add table ip dock
inns h nft add chain ip dock FORWARD '{ type filter hook forward priority 0; policy drop; }'
ctl "$SOCK" show >"$TMP/show.txt"
grep -q "conflict: chain 'ip dock FORWARD' (hook forward, policy drop)" "$TMP/show.txt" ||
	fail "no conflict reported: $(cat "$TMP/show.txt")"
inns h nft delete table ip dock
ctl "$SOCK" show | grep conflict >/dev/null && fail "the conflict is still reported after its table went"
grep -q "via $ID-up" "$TMP/show.txt" || fail "show does not name the uplink"
pass "a forward drop policy of another table is reported by vswitchctl show"

# --- kill -9: nothing stays; a restart restores service ----------------------
[ "$(inns h cat "/proc/sys/net/ipv4/conf/$ID-up/forwarding")" = 1 ] || fail "forwarding is off on the uplink"
kill -KILL "$PID"
wait "$PID" 2>/dev/null || true
tables=$(inns h nft list tables)
[ -z "$tables" ] || fail "tables left after kill -9: $tables"
pass "after kill -9 no table remains"
G1_BEFORE=$G1
start
read -r G1 _ _ < <(dhcp g1 "${ID}a-g" pc1)
read -r W _ _ < <(dhcp w "${ID}a-w")
# The re-created tap has the same MAC, so the journal gives the guest its lease back.
[ "$G1" = "$G1_BEFORE" ] || fail "after the restart the guest got $G1 instead of $G1_BEFORE"
inns g1 curl -sf --max-time 10 -o /dev/null "http://$UP_I/page.bin" || fail "no service after the restart"
got=$(inns i curl -sf --max-time 10 "http://$UP_H:8080/guest.txt") || fail "mapping gone after the restart"
pass "after a restart the guest ($G1) reaches the internet and the mapping answers"

stop_daemon "$PID"
tables=$(inns h nft list tables)
[ -z "$tables" ] || fail "tables left after SIGTERM: $tables"
# A kill -9 leaves forwarding on (documented); a clean stop restores what the start found.
inns h sh -c "echo 0 >/proc/sys/net/ipv4/conf/$ID-up/forwarding"
start
stop_daemon "$PID"
[ "$(inns h cat "/proc/sys/net/ipv4/conf/$ID-up/forwarding")" = 0 ] || fail "forwarding not restored"
pass "a clean stop removes the table and puts forwarding back as it was"

# --- a bad mapping: exit 2, naming the line ----------------------------------
sed 's/^forward = .*/forward = tcp 8080 10.99.0.5:80/' "$TMP/a.conf" >"$TMP/bad.conf"
rc=0
inns h "$BIN/vswitchd" -f -s "$TMP/bad.sock" -d "$TMP/state" -c "$TMP/bad.conf" >"$TMP/bad.out" 2>&1 || rc=$?
[ "$rc" -eq 2 ] || fail "bad mapping: exit $rc, expected 2"
line=$(grep -n '^forward' "$TMP/bad.conf" | cut -d: -f1)
grep -q "bad.conf:$line: forward guest '10.99.0.5': must be inside subnet 10.81.0.0/24" "$TMP/bad.out" ||
	fail "bad mapping message: $(cat "$TMP/bad.out")"
pass "a mapping outside the subnet exits 2 naming bad.conf:$line"

#!/bin/bash
# SPDX-License-Identifier: MIT
#
# 200 DHCP clients at once (udhcpc on 200 macvlans over one tap port, in a
# namespace this test makes): every one gets an address, all distinct, none
# of the 16 reserved at the start of the range, and the server lists them.
. "$(dirname "$0")/lib.sh"
command -v udhcpc >/dev/null || { echo "SKIP: udhcpc not installed"; exit 77; }
N=200

newns h
newns m
SOCK=$TMP/ctl.sock
cat >"$TMP/lab.conf" <<CONF
[network]
name = $ID
subnet = 10.84.0.0/24
[dhcp]
range = 10.84.0.0-10.84.0.255
[port m]
netns = $ID-m
CONF
start_daemon h "$TMP/daemon.log" -s "$SOCK" -d "$TMP/state" -c "$TMP/lab.conf"
PID=$LAST_PID
wait_ready "$SOCK" "$PID"

for i in $(seq $N); do
	inns m ip link add "mv$i" link "$ID-m" type macvlan mode private
	inns m ip link set "mv$i" up
done
mkdir "$TMP/got"
cat >"$TMP/hook" <<'HOOK'
#!/bin/sh
[ "$1" = bound ] && echo "$ip" >"$(dirname "$0")/got/$interface"
exit 0
HOOK
chmod +x "$TMP/hook"

# 40 at a time: all 200 in flight at once would only measure the scheduler.
batch=()
for i in $(seq $N); do
	inns m udhcpc -q -n -f -i "mv$i" -s "$TMP/hook" -t 20 -T 1 >"$TMP/udhcpc-$i.out" 2>&1 &
	batch+=($!)
	if (( i % 40 == 0 )) || [ "$i" -eq $N ]; then
		wait "${batch[@]}" || true
		batch=()
	fi
done

got=$(cat "$TMP"/got/* 2>/dev/null | wc -l)
if [ "$got" -ne $N ]; then
	for i in $(seq $N); do
		[ -f "$TMP/got/mv$i" ] || { echo "--- mv$i"; cat "$TMP/udhcpc-$i.out"; }
	done
	ctl "$SOCK" leases "$ID" | tail -n 2
	fail "$got of $N clients got an address"
fi
distinct=$(sort -u "$TMP"/got/* | wc -l)
[ "$distinct" -eq $N ] || fail "only $distinct distinct addresses for $N clients"
while read -r a; do
	[[ $a == 10.84.0.* ]] || fail "address $a outside the subnet"
	last=${a##*.}
	[ "$last" -ge 16 ] && [ "$last" -le 254 ] || fail "address $a is reserved or broadcast"
done < <(cat "$TMP"/got/*)
pass "$N clients, $distinct distinct addresses, none of the first 16"

bound=$(ctl "$SOCK" -j leases "$ID" | python3 -c "import json,sys; print(sum(l['state'] == 'bound' for l in json.load(sys.stdin)['leases']))")
[ "$bound" -eq $N ] || fail "the server lists $bound bound leases, expected $N"
pass "vswitchctl leases lists $bound bound leases"
stop_daemon "$PID"

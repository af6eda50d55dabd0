#!/bin/bash
# SPDX-License-Identifier: MIT
#
# vswitchd start-up failures, inside a namespace of the test's own: an invalid
# profile exits 2 naming FILE:LINE; a busy interface name, missing privileges
# and an unknown netns exit 1 with one line; none of them leaves anything.
# Also: the embedded default profile comes up and goes away cleanly, and
# --rx-coalesce takes 0 to 1000 and refuses anything else.
. "$(dirname "$0")/lib.sh"

newns h
SOCK=$TMP/ctl.sock
before=$(links h)

# expect_exit RC PATTERN ARGS...: runs vswitchd in h, checks status and its one line.
expect_exit() {
	local want=$1 pattern=$2 rc=0
	shift 2
	inns h "$BIN/vswitchd" -f -s "$SOCK" "$@" >"$TMP/out" 2>&1 || rc=$?
	[ "$rc" -eq "$want" ] || fail "vswitchd $* exited $rc, expected $want: $(cat "$TMP/out")"
	grep -q -- "$pattern" "$TMP/out" || fail "vswitchd $*: '$(cat "$TMP/out")' lacks '$pattern'"
	[ "$(links h)" = "$before" ] || fail "vswitchd $* left interfaces: $(links h)"
	[ ! -e "$SOCK" ] || fail "vswitchd $* left its control socket"
}

cat >"$TMP/bad.conf" <<CONF
[network]
name = $ID
subnet = 10.79.0.0/24

[port g1]
[port g2]
mac = 01:00:5e:00:00:01
CONF
expect_exit 2 "bad.conf:7:" -c "$TMP/bad.conf"
pass "invalid profile: exit 2 naming FILE:LINE, nothing created"

for bad in 1001 -5 abc 20us ""; do
	expect_exit 2 "rx-coalesce: '$bad' is not a number of microseconds from 0 to 1000" \
		--rx-coalesce="$bad"
done
pass "bad --rx-coalesce values: exit 2 with one line, nothing created"

cat >"$TMP/good.conf" <<CONF
[network]
name = $ID
subnet = 10.79.0.0/24
[host]
[port g1]
[port g2]
CONF
cat >"$TMP/clash.conf" <<CONF
[network]
name = ${ID}x
subnet = 10.79.0.128/25
CONF
expect_exit 2 "clash.conf:3:" -c "$TMP/good.conf" -c "$TMP/clash.conf"
pass "overlapping subnets across profiles: exit 2"

# A busy name: the second port's interface exists already. The first port
# and the host adapter were created before the clash and must be gone too.
inns h ip link add "$ID-g2" type veth peer name "$ID-peer"
before=$(links h)
expect_exit 1 "'$ID-g2' already exists" -c "$TMP/good.conf"
inns h ip link del "$ID-g2"
before=$(links h)
pass "busy interface name: exit 1, nothing left"

cat >"$TMP/ns.conf" <<CONF
[network]
name = $ID
subnet = 10.79.0.0/24
[port g1]
netns = $ID-nosuch
CONF
expect_exit 1 "$ID-nosuch" -c "$TMP/ns.conf"
pass "unknown namespace: exit 1"

if command -v setpriv >/dev/null; then
	rc=0
	chmod o+rx "$TMP" && chmod o+r "$TMP/good.conf" # readable once privileges are gone
	inns h setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$BIN/vswitchd" -f -s "$TMP/nobody.sock" -c "$TMP/good.conf" >"$TMP/out" 2>&1 || rc=$?
	[ "$rc" -eq 1 ] || fail "unprivileged vswitchd exited $rc: $(cat "$TMP/out")"
	[ "$(wc -l <"$TMP/out")" -eq 1 ] || fail "unprivileged: not one line: $(cat "$TMP/out")"
	grep -q "CAP_NET_ADMIN" "$TMP/out" || fail "unprivileged: $(cat "$TMP/out")"
	pass "missing privileges: exit 1 with one line"
fi

# The embedded default profile.
inns h "$BIN/vswitchd" -n >"$TMP/out" || fail "embedded default does not validate"
start_daemon h "$TMP/default.log" -s "$SOCK"
PID=$LAST_PID
wait_ready "$SOCK" "$PID"
inns h ip -o addr show vswitch0-host | grep "192.168.131.1/24" >/dev/null ||
	fail "default host adapter lacks 192.168.131.1/24"
ctl "$SOCK" show | grep "^vswitch0 .*192.168.131.0/24" >/dev/null || fail "default network not shown"
# A second daemon on the same socket refuses to start.
rc=0
inns h "$BIN/vswitchd" -f -s "$SOCK" >"$TMP/out2" 2>&1 || rc=$?
[ "$rc" -eq 1 ] && grep -q "another vswitchd" "$TMP/out2" || fail "second daemon: $rc $(cat "$TMP/out2")"
stop_daemon "$PID"
! links h | grep vswitch0 >/dev/null || fail "default host adapter left behind"
pass "embedded default profile starts and stops cleanly"

# Coalescing off and at its maximum: both are accepted and run the network.
for co in 0 1000; do
	start_daemon h "$TMP/co$co.log" -s "$SOCK" --rx-coalesce=$co
	PID=$LAST_PID
	wait_ready "$SOCK" "$PID"
	ctl "$SOCK" show | grep "^vswitch0 " >/dev/null || fail "--rx-coalesce=$co: network not up"
	stop_daemon "$PID"
done
pass "--rx-coalesce=0 and =1000 run the network"

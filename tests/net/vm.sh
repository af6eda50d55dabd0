#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The machines of a profile ([vm] sections) through vswitchctl vm up|down|list:
# child disks beside the profile, named after their parent; the NBD export
# read and written with qemu-io; each undo choice (keep, commit, discard);
# differencing disks that keep their writes while the base never changes;
# direct disks; the machine's persistent tap and netdev port; a shutdown
# with a machine up loses nothing; a state folder too long for the socket
# path is refused. vswitchd runs in a namespace of its own.
. "$(dirname "$0")/lib.sh"
command -v qemu-io >/dev/null || { echo "SKIP: qemu-io not installed"; exit 77; }
VHD=$BUILD_DIR/vhd-attach/vhd
[ -x "$VHD" ] || { echo "SKIP: vhd tool not built"; exit 77; }
"$VHD" export --help >/dev/null 2>&1 || { echo "SKIP: vhd export not built"; exit 77; }

newns h
D=$TMP/lab
mkdir -p "$D/images"
# Three bases with known content: 4 MiB of 0x11 at the start of 64 MiB.
for b in base-u base-d own; do
	head -c $((4 << 20)) /dev/zero | tr '\0' '\021' >"$TMP/$b.raw"
	truncate -s 64M "$TMP/$b.raw"
	"$VHD" convert -O dynamic "$TMP/$b.raw" "$D/images/$b.vhd" >/dev/null
done
sha() { sha256sum "$1" | cut -d' ' -f1; }

cat >"$D/lab.conf" <<CONF
[network]
name = $ID
subnet = 10.93.0.0/24
[host]
[port u]
mac = 52:54:00:93:00:01
[port d]
[port x]
type = netdev
interface = $ID-xv
[vm u1]
port = u
disk = images/base-u.vhd
disk-mode = undo
[vm d1]
port = d
disk = images/base-d.vhd
disk-mode = differencing
[vm x1]
port = x
disk = images/own.vhd
CONF
SOCK=$TMP/ctl.sock
start() {
	start_daemon h "$TMP/daemon.log" -s "$SOCK" -d "$TMP/state" -c "$D/lab.conf"
	PID=$LAST_PID
	wait_ready "$SOCK" "$PID"
}
start

# nbd EXPORT_SOCKET QEMU_IO_COMMAND...: runs qemu-io on disk0 of a machine.
qio() {
	local sock=$1
	shift
	qemu-io -f raw "nbd+unix:///disk0?socket=$sock" "$@"
}
U_SOCK=$TMP/state/$ID-u1.nbd
D_SOCK=$TMP/state/$ID-d1.nbd
X_SOCK=$TMP/state/$ID-x1.nbd
U_CHILD=$D/u1.base-u.undo.vhd
D_CHILD=$D/d1.base-d.diff.vhd

ctl "$SOCK" vm list "$ID" >"$TMP/list.txt"
[ "$(grep -c ' down ' "$TMP/list.txt")" -eq 3 ] || fail "three machines down expected: $(cat "$TMP/list.txt")"
inns h ip link show "$ID-u" >/dev/null 2>&1 && fail "a machine's tap exists before vm up"
pass "vm list: three machines, all down, no tap yet"

# --- undo: discard --------------------------------------------------------------
base_u=$(sha "$D/images/base-u.vhd")
ctl "$SOCK" vm up "$ID" u1 >"$TMP/up.txt" || fail "vm up u1: $(cat "$TMP/up.txt")"
grep -q "ifname=$ID-u,script=no,downscript=no" "$TMP/up.txt" || fail "no tap in the QEMU line: $(cat "$TMP/up.txt")"
grep -q "mac=52:54:00:93:00:01" "$TMP/up.txt" || fail "no MAC in the QEMU line"
grep -q "file=nbd+unix:///disk0?socket=$U_SOCK,format=raw" "$TMP/up.txt" || fail "no disk in the QEMU line"
[ -f "$U_CHILD" ] || fail "no undo disk $U_CHILD"
"$VHD" info "$U_CHILD" | grep -i "differencing" >/dev/null || fail "the undo disk is not a differencing image"
inns h ip -d link show "$ID-u" | grep "tun type tap" >/dev/null || fail "no persistent tap $ID-u"
ctl "$SOCK" ports "$ID" | grep "^u  *netdev  *$ID-u" >/dev/null || fail "no netdev port u"
qio "$U_SOCK" -c 'write -P 0x5a 1M 64k' >/dev/null || fail "write through the export"
qio "$U_SOCK" -c 'read -P 0x5a 1M 64k' -c 'read -P 0x11 0 1M' >/dev/null || fail "read back through the export"
ctl "$SOCK" vm down "$ID" u1 --discard >/dev/null || fail "vm down --discard"
[ -e "$U_CHILD" ] && fail "the undo disk survived --discard"
[ "$(sha "$D/images/base-u.vhd")" = "$base_u" ] || fail "--discard changed the base image"
inns h ip link show "$ID-u" >/dev/null 2>&1 && fail "the tap survived vm down"
pass "undo: the child is made beside the profile, written through NBD, and --discard leaves the base byte-identical"

# --- undo: keep, then commit ---------------------------------------------------
ctl "$SOCK" vm up "$ID" u1 >/dev/null || fail "vm up u1 again"
qio "$U_SOCK" -c 'write -P 0x6b 2M 64k' >/dev/null || fail "second write"
ctl "$SOCK" vm down "$ID" u1 >/dev/null || fail "vm down (keep)"
[ -f "$U_CHILD" ] || fail "the undo disk was not kept"
[ "$(sha "$D/images/base-u.vhd")" = "$base_u" ] || fail "keeping changed the base image"
ctl "$SOCK" vm up "$ID" u1 >/dev/null || fail "vm up u1 on the kept disk"
qio "$U_SOCK" -c 'read -P 0x6b 2M 64k' >/dev/null || fail "the kept change is gone"
ctl "$SOCK" vm down "$ID" u1 --commit >/dev/null || fail "vm down --commit"
[ -e "$U_CHILD" ] && fail "the undo disk survived --commit"
"$VHD" convert -O raw "$D/images/base-u.vhd" "$TMP/u.raw" >/dev/null
cmp -s -n $((1 << 20)) "$TMP/u.raw" "$TMP/base-u.raw" || fail "the base lost its old content"
head -c $((64 << 10)) /dev/zero | tr '\0' '\153' >"$TMP/6b"
cmp -s -i $((2 << 20)):0 -n $((64 << 10)) "$TMP/u.raw" "$TMP/6b" || fail "--commit did not land in the base"
"$VHD" check "$D/images/base-u.vhd" >/dev/null || fail "the base is damaged after --commit"
pass "undo: a kept change is there on the next run; --commit merges it into the base"

# --- differencing: the base never changes; choices refused --------------------
base_d=$(sha "$D/images/base-d.vhd")
ctl "$SOCK" vm up "$ID" d1 >/dev/null || fail "vm up d1"
qio "$D_SOCK" -c 'write -P 0x77 3M 64k' >/dev/null || fail "write to d1"
ctl "$SOCK" vm down "$ID" d1 --commit >"$TMP/refused.txt" 2>&1 && fail "--commit accepted for a differencing disk"
grep -q "apply to undo disks" "$TMP/refused.txt" || fail "refusal: $(cat "$TMP/refused.txt")"
ctl "$SOCK" vm list "$ID" | grep "^d1  *up" >/dev/null || fail "the refused vm down stopped d1"
ctl "$SOCK" vm down "$ID" d1 >/dev/null || fail "vm down d1"
[ -f "$D_CHILD" ] || fail "the differencing disk is gone"
[ "$(sha "$D/images/base-d.vhd")" = "$base_d" ] || fail "the differencing base changed"
ctl "$SOCK" vm up "$ID" d1 >/dev/null || fail "vm up d1 again"
qio "$D_SOCK" -c 'read -P 0x77 3M 64k' -c 'read -P 0x11 0 1M' >/dev/null || fail "d1 lost its write"
pass "differencing: writes persist in $(basename "$D_CHILD"), the base is untouched, --commit is refused"

# --- direct, and a netdev port that must exist ---------------------------------
own=$(sha "$D/images/own.vhd")
ctl "$SOCK" vm up "$ID" x1 >"$TMP/x.txt" 2>&1 && fail "x1 came up without its interface"
grep -q "port 'x' not opened" "$TMP/x.txt" || fail "x1 error: $(cat "$TMP/x.txt")"
inns h ip link add "$ID-xv" type veth peer name "$ID-xp"
ctl "$SOCK" vm up "$ID" x1 >/dev/null || fail "vm up x1"
qio "$X_SOCK" -c 'write -P 0x21 0 64k' >/dev/null || fail "write to x1"
ctl "$SOCK" vm down "$ID" x1 >/dev/null || fail "vm down x1"
[ "$(sha "$D/images/own.vhd")" != "$own" ] || fail "a direct write did not reach the image"
inns h ip link show "$ID-xv" >/dev/null 2>&1 || fail "vm down removed an interface it did not make"
pass "direct: the image itself is written; a netdev port's interface must exist and is left alone"

# --- shutdown with d1 up: nothing lost -------------------------------------------
stop_daemon "$PID"
[ -f "$D_CHILD" ] || fail "shutdown removed the differencing disk"
inns h ip link show "$ID-d" >/dev/null 2>&1 && fail "shutdown left the tap of d1"
pgrep -f "vhd export --socket $D_SOCK" >/dev/null && fail "the export outlived vswitchd"
"$VHD" check "$D_CHILD" >/dev/null || fail "the differencing disk is damaged after shutdown"
pass "shutdown with a machine up: export stopped, tap removed, its disk kept"

# --- a state folder too long for the disks' socket: vm up says so -------------------
LONG=$TMP/$(printf 'state-folder-with-a-long-name-%s' {1..3})
mkdir -p "$LONG"
start_daemon h "$TMP/daemon2.log" -s "$SOCK" -d "$LONG" -c "$D/lab.conf"
PID=$LAST_PID
wait_ready "$SOCK" "$PID"
rc=0
ctl "$SOCK" vm up "$ID" d1 >"$TMP/long.txt" 2>&1 || rc=$?
[ "$rc" -ne 0 ] || fail "vm up with a $((${#LONG} + ${#ID} + 8))-byte socket path succeeded"
grep -q "longer than a Unix socket path may be (107 bytes); start vswitchd with a shorter --state-dir" \
	"$TMP/long.txt" || fail "long socket path: $(cat "$TMP/long.txt")"
inns h ip link show "$ID-d" >/dev/null 2>&1 && fail "a refused vm up left the tap of d1"
stop_daemon "$PID"
pass "a socket path over 107 bytes: vm up refuses with one line, nothing made"

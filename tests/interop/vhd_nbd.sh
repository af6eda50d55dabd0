#!/bin/bash
# SPDX-License-Identifier: MIT
#
# `vhd export` judged by QEMU's NBD client (qemu-img, qemu-io, qemu-nbd
# --list): a dynamic image reads back as `vhd convert -O raw` gives it; writes
# through a --writable export land in the image (vhd convert + cmp, vhd
# check); a differencing chain exported through its child reads as the chain
# and takes writes into the child only (parent's SHA-256 unchanged); a
# read-only export refuses writes; trim and write-zeroes leave holes that
# `qemu-img map` sees; TCP works; option listing and meta contexts work;
# garbage on the socket ends only that connection; SIGTERM exits 0 and
# removes the socket. Every server started is killed in the EXIT trap.
. "$(dirname "$0")/vhd_lib.sh"
need qemu-img qemu-io qemu-nbd
PY=/usr/bin/python3
[ -x $PY ] || { echo "SKIP: $PY not installed"; exit 77; }

pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$tmp"' EXIT

# start LOG ARGS...: starts `vhd export ARGS` in the background and waits for
# its ready line; sets $srv to its pid and $where to where it serves.
start() {
	local log=$1
	shift
	"$V" export "$@" >"$log.out" 2>"$log.err" &
	srv=$!
	pids+=("$srv")
	for _ in $(seq 100); do
		if grep -q '^vhd: export: serving ' "$log.out" 2>/dev/null; then
			where=$(sed -n '1s/^vhd: export: serving .* on //p' "$log.out")
			return 0
		fi
		kill -0 "$srv" 2>/dev/null || { cat "$log.err" >&2; fail "export $* died"; }
		sleep 0.1
	done
	fail "export $* not ready after 10 s"
}

# stop: SIGTERM to the last server; it must exit 0.
stop() {
	kill -TERM "$srv"
	local rc=0
	wait "$srv" || rc=$?
	expect_eq "exit status after SIGTERM" "$rc" 0
}

# patch FILE OFFSET LEN BYTE: writes LEN bytes of value BYTE (octal escape) at OFFSET.
patch() {
	head -c "$3" /dev/zero | tr '\0' "$4" | dd of="$1" bs=64k seek="$2" oflag=seek_bytes \
		conv=notrunc status=none
}

url() { echo "nbd+unix:///$1?socket=$PWD/$2"; }

# --- a dynamic image with content, read-only -----------------------------------
"$V" create -t dynamic -s 64M a.vhd
truncate -s 64M a.mirror
"$H" random a.vhd a.mirror 11 40
"$V" convert -O raw a.vhd a.raw
cmp -s a.raw a.mirror || fail "vhd convert of the test image"

start ro a.vhd
expect_eq "ready line" "$(cat ro.out)" "vhd: export: serving a on ./a.sock"
[ -S a.sock ] || fail "socket ./a.sock not made"
expect_eq "size over NBD" "$(qemu-img info --output=json -f raw "$(url a a.sock)" |
	$PY -c 'import json,sys; print(json.load(sys.stdin)["virtual-size"])')" 67108864
qemu-img compare -q -f raw -F raw "$(url a a.sock)" a.raw || fail "read-only export content"
# The empty export name selects the first export.
qemu-img compare -q -f raw -F raw "nbd+unix:///?socket=$PWD/a.sock" a.raw || fail "default export"
if qemu-io -f raw -c 'write -P 0x01 0 4k' "$(url a a.sock)" >ro.io 2>&1; then
	fail "read-only export took a write"
fi
# The option list and the meta context listing, as qemu-nbd reports them.
qemu-nbd --list -k "$PWD/a.sock" >list.txt || fail "qemu-nbd --list"
grep -q "export: 'a'" list.txt || fail "export not listed"
grep -q "readonly" list.txt || fail "read-only flag not sent"
grep -q "base:allocation" list.txt || fail "base:allocation not listed"
# A name that does not exist is refused and the server goes on.
if qemu-img info -f raw "$(url nope a.sock)" >/dev/null 2>&1; then
	fail "unknown export opened"
fi
stop
[ ! -e a.sock ] || fail "socket left behind after SIGTERM"
cmp -s <("$V" convert -O raw a.vhd -) a.raw || fail "read-only export changed the image"

# --- writes through a --writable export ----------------------------------------
start rw --writable --pid-file rw.pid --socket rw.sock --name disk a.vhd
expect_eq "pid file" "$(cat rw.pid)" "$srv"
qemu-io -f raw -c 'write -q -P 0x5a 1M 64k' -c 'read -q -P 0x5a 1M 64k' "$(url disk rw.sock)" \
	>rw.io || fail "write/read through the export"
# Unaligned and FUA writes take the read-modify-write path of libvhd.
qemu-io -f raw -c 'write -q -P 0x33 5000 3000' -c 'write -q -f -P 0x44 3M 100' \
	"$(url disk rw.sock)" >>rw.io || fail "unaligned writes"
qemu-io -f raw -c 'flush' "$(url disk rw.sock)" >>rw.io || fail "flush"
stop
[ ! -e rw.pid ] || fail "pid file left behind"
patch a.mirror $((1 << 20)) 65536 '\132'
patch a.mirror 5000 3000 '\063'
patch a.mirror $((3 << 20)) 100 '\104'
cmp -s <("$V" convert -O raw a.vhd -) a.mirror || fail "writes through the export not in the image"
"$V" check -q a.vhd || fail "check after writes through the export"

# --- trim and write-zeroes leave holes -----------------------------------------
"$V" create -t dynamic -s 32M z.vhd
start z --writable z.vhd
u=$(url z z.sock)
qemu-io -f raw -c 'write -q -P 0x11 8M 8M' "$u" >z.io || fail "fill"
# data: false over [8M,16M) means a hole; each check prints the map's verdict.
hole_at() {
	qemu-img map -f raw --output=json "$u" | $PY -c '
import json, sys
start, length = int(sys.argv[1]), int(sys.argv[2])
for e in json.load(sys.stdin):
    if e["start"] < start + length and start < e["start"] + e["length"]:
        if e["data"] or not e["zero"]:
            print("data"); sys.exit(0)
print("hole")' "$1" "$2"
}
expect_eq "map after fill" "$(hole_at $((8 << 20)) $((8 << 20)))" data
qemu-io -f raw -c 'discard -q 8M 2M' "$u" >>z.io || fail "discard"
# -u lets the server deallocate (no NBD_CMD_FLAG_NO_HOLE)...
qemu-io -f raw -c 'write -q -z -u 10M 2M' "$u" >>z.io || fail "write zeroes with unmap"
# ...without it the zeros must stay allocated.
qemu-io -f raw -c 'write -q -z 12M 2M' "$u" >>z.io || fail "write zeroes"
expect_eq "map after trim" "$(hole_at $((8 << 20)) $((2 << 20)))" hole
expect_eq "map after write zeroes -u" "$(hole_at $((10 << 20)) $((2 << 20)))" hole
expect_eq "map after write zeroes" "$(hole_at $((12 << 20)) $((2 << 20)))" data
qemu-io -f raw -c 'read -q -P 0 8M 6M' -c 'read -q -P 0x11 14M 2M' "$u" >>z.io ||
	fail "content after trim and zeroes"
# A partial-block trim must read back as zeros too.
qemu-io -f raw -c 'discard -q 14M 4k' -c 'read -q -P 0 14M 4k' -c 'read -q -P 0x11 14400k 1M' \
	"$u" >>z.io || fail "partial trim"
stop
"$V" check -q z.vhd || fail "check after trim"
truncate -s 32M z.expect
patch z.expect $((14 << 20)) $((2 << 20)) '\021'
patch z.expect $((14 << 20)) 4096 '\000'
cmp -s <("$V" convert -O raw z.vhd -) z.expect || fail "content of the trimmed image"

# --- a differencing chain exported through the child ---------------------------
"$V" create -t dynamic -s 16M -b 512K p.vhd
truncate -s 16M p.mirror
"$H" random p.vhd p.mirror 23 30
"$V" create -p p.vhd c.vhd
p_sum=$(sha256sum p.vhd | cut -d' ' -f1)
start chain --writable c.vhd
qemu-img compare -q -f raw -F raw "$(url c c.sock)" p.mirror || fail "chain reads as the parent"
qemu-io -f raw -c 'write -q -P 0x77 3M 128k' -c 'read -q -P 0x77 3M 128k' "$(url c c.sock)" \
	>chain.io || fail "write into the child"
stop
expect_eq "parent after writes" "$(sha256sum p.vhd | cut -d' ' -f1)" "$p_sum"
cp p.mirror c.mirror
patch c.mirror $((3 << 20)) 131072 '\167'
cmp -s <("$V" convert -O raw c.vhd -) c.mirror || fail "chain content after writes"
cmp -s <("$V" convert -O raw p.vhd -) p.mirror || fail "parent content after writes"
"$V" check -q c.vhd || fail "check of the child"
# Serving the parent writable beside its child would change what the child shows.
if "$V" export --writable --socket two.sock p.vhd c.vhd >two.out 2>two.err; then
	fail "writable parent and child served together"
fi
grep -q "^vhd: export: 'c.vhd': shares a file" two.err || fail "message: $(cat two.err)"

# --- TCP ------------------------------------------------------------------------
start tcp --listen 127.0.0.1:0 --name t a.vhd
case $where in 127.0.0.1:[0-9]*) ;; *) fail "TCP ready line: $where" ;; esac
qemu-img compare -q -f raw -F raw "nbd://$where/t" a.mirror || fail "TCP export content"

# --- garbage on the wire ends only that connection -------------------------------
$PY - "${where%:*}" "${where##*:}" <<'EOF' || fail "garbage client script"
import socket, struct, sys
host, port = sys.argv[1], int(sys.argv[2])
IHAVEOPT = 0x49484156454F5054

def conn():
    s = socket.create_connection((host, port), timeout=5)
    hello = s.recv(18)
    assert hello[:8] == b"NBDMAGIC", hello
    return s

def rep(s):
    """One option reply: (type, data)."""
    _, _, typ, ln = struct.unpack(">QIII", s.recv(20, socket.MSG_WAITALL))
    return typ, s.recv(ln, socket.MSG_WAITALL) if ln else b""

def closed(s):
    try:
        while s.recv(65536):
            pass
    except OSError:
        pass
    s.close()

# 1. junk instead of client flags
s = conn(); s.sendall(b"\xff" * 64); closed(s)
# 2. junk instead of an option header
s = conn(); s.sendall(struct.pack(">I", 3) + b"GARBAGE!" * 8); closed(s)
# 3. an unknown option gets NBD_REP_ERR_UNSUP, then an oversize option is skipped
s = conn(); s.sendall(struct.pack(">I", 3))
s.sendall(struct.pack(">QII", IHAVEOPT, 0x4242, 0))
typ, _ = rep(s)
assert typ == 0x80000001, typ
s.sendall(struct.pack(">QII", IHAVEOPT, 7, 100000) + b"\0" * 100000)
typ, _ = rep(s)
assert typ & 0x80000000, typ
# 4. then a good NBD_OPT_GO and a request with a bad magic
name = b"t"
s.sendall(struct.pack(">QII", IHAVEOPT, 7, 4 + len(name) + 2) + struct.pack(">I", len(name)) + name + b"\0\0")
while True:
    typ, _ = rep(s)
    if typ == 1:
        break
    assert typ == 3, typ
# a read past the end gets EINVAL, an unknown command EINVAL
s.sendall(struct.pack(">IHHQQI", 0x25609513, 0, 0, 1, 1 << 40, 512))
r = s.recv(16, socket.MSG_WAITALL)
assert struct.unpack(">IIQ", r) == (0x67446698, 22, 1), r
s.sendall(struct.pack(">IHHQQI", 0x25609513, 0, 99, 2, 0, 0))
r = s.recv(16, socket.MSG_WAITALL)
assert struct.unpack(">IIQ", r) == (0x67446698, 22, 2), r
# an oversize read: EINVAL, no payload
s.sendall(struct.pack(">IHHQQI", 0x25609513, 0, 0, 3, 0, 0xFFFFFFFF))
r = s.recv(16, socket.MSG_WAITALL)
assert struct.unpack(">IIQ", r) == (0x67446698, 22, 3), r
s.sendall(b"\x00" * 28); closed(s)
# 5. a client that vanishes mid-request
s = conn(); s.sendall(struct.pack(">I", 3) + struct.pack(">QII", IHAVEOPT, 1, 1) + b"t")
s.recv(134)
s.sendall(struct.pack(">IHHQQI", 0x25609513, 0, 1, 4, 0, 4096) + b"x" * 100); s.close()
EOF
kill -0 "$srv" || fail "server died on garbage"
qemu-img compare -q -f raw -F raw "nbd://$where/t" a.mirror || fail "second client after garbage"
stop

# --- usage and open errors --------------------------------------------------------
rc=0
"$V" export >/dev/null 2>&1 || rc=$?
expect_eq "no image" "$rc" 2
rc=0
"$V" export --socket x.sock --listen 1 a.vhd >/dev/null 2>&1 || rc=$?
expect_eq "socket and listen" "$rc" 2
rc=0
"$V" export missing.vhd >/dev/null 2>err.txt || rc=$?
expect_eq "missing image" "$rc" 1
grep -q "^vhd: export: 'missing.vhd': " err.txt || fail "message: $(cat err.txt)"
echo "vhd_nbd: ok"

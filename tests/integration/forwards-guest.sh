#!/bin/bash
# NAT port forwards on the real test guest: a TCP service (busybox httpd)
# and a UDP service (udpecho) in the guest answer through host ports on
# 127.0.0.1; vm status and vm list --json show the forwards; a host port
# already in use stops vm start with its name, and no emulator is left.
TEST_NAME=forwards
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/guest.sh"

# free_port TYPE: a loopback port nobody uses right now (tcp or udp).
free_port() {
	python3 - "$1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM if sys.argv[1] == "tcp" else socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
PY
}

ID=$(free_id $((50 + RANDOM % 40)))
TCP_PORT=$(free_port tcp) UDP_PORT=$(free_port udp)
dir=$work/fw
guest_machine "$dir" fw "$ID" "VM_NET_FORWARD=\"$TCP_PORT:8080 $UDP_PORT:5353/udp\""
machines+=("$dir")
run init
check "vm init ($err)" test "$rc" = 0

echo "# a host port in use stops the start, naming it"
python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1)
print("ready", flush=True); time.sleep(120)' "$TCP_PORT" >"$work/holder.out" &
holder=$!
for ((i = 0; i < 50; i++)); do grep -q ready "$work/holder.out" 2>/dev/null && break; sleep 0.1; done
run start --nat
check "start with the port taken exits 1" test "$rc" = 1
check "... naming the port ($err)" contains "$err" "host port $TCP_PORT/tcp on 127.0.0.1 is already in use"
run status -s
check "... and no emulator runs" contains "$out" "emulator:  not running"
kill "$holder" && wait "$holder" 2>/dev/null
holder=

echo "# the guest's services answer through their forwards"
run start --nat
check "start --nat with forwards ($err)" test "$rc" = 0
guest_says 'mkdir -p /tmp/www && echo "hello from the guest" >/tmp/www/index.html &&
	busybox httpd -p 8080 -h /tmp/www && (udpecho 5353 </dev/null >/dev/null 2>&1 &)'
page=""
for ((i = 0; i < 20; i++)); do
	page=$(python3 -c '
import sys, urllib.request
print(urllib.request.urlopen("http://127.0.0.1:%s/" % sys.argv[1], timeout=5).read().decode().strip())' \
		"$TCP_PORT" 2>/dev/null) && [ -n "$page" ] && break
	sleep 0.5
done
check "TCP: the guest's httpd answers on 127.0.0.1:$TCP_PORT ($page)" test "$page" = "hello from the guest"
answer=$(python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(1)
for attempt in range(20):
    s.sendto(b"datagram from the host", ("127.0.0.1", int(sys.argv[1])))
    try:
        print(s.recv(100).decode())
        break
    except socket.timeout:
        pass' "$UDP_PORT")
check "UDP: the guest's udpecho answers on 127.0.0.1:$UDP_PORT ($answer)" \
	test "$answer" = "datagram from the host"

echo "# status and list show the forwards"
run status -s
check "status lists the forwards" \
	contains "$out" "forwards:  127.0.0.1:22$ID->22/tcp, 127.0.0.1:$TCP_PORT->8080/tcp, 127.0.0.1:$UDP_PORT->5353/udp"
run list --json
forwards=$(python3 -c '
import json, sys
for m in json.load(sys.stdin):
    if m["name"] == "fw":
        print(" ".join("%s:%d->%d/%s" % (f["address"], f["host_port"], f["guest_port"], f["protocol"]) for f in m["forwards"]))' <<<"$out")
check "list --json has the forwards ($forwards)" \
	test "$forwards" = "127.0.0.1:22$ID->22/tcp 127.0.0.1:$TCP_PORT->8080/tcp 127.0.0.1:$UDP_PORT->5353/udp"
check "the forward listens on loopback only" \
	bash -c "ss -Htln 'sport = :$TCP_PORT' | grep -q '127.0.0.1:$TCP_PORT'"

run stop -p
check "stop -p ($err)" test "$rc" = 0
check "the forward's port is free again" bash -c "! ss -Htln 'sport = :$TCP_PORT' | grep -q ."
finish

#!/usr/bin/env python3
"""Watches a running test guest from the host while vm works on it:
every 20 ms it sends a datagram to the guest's udpecho (through a NAT
forward) and times the answer, and it logs the emulator's QMP events from
a second monitor. A frozen guest answers late or never. (The ssh banner is
no good probe at this rate under TCG: the guest's dropbear forks for each
connection and refuses more than a few unauthenticated ones.)

live_probe.py PORT QMP_SOCKET OUT: prints "ready" once the guest answers,
runs until SIGTERM, then writes OUT as "max_wait SECONDS", "probes N",
"stops N" and one "event NAME" line each."""
import json
import select
import signal
import socket
import sys
import time

port, qmp_path, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
running = True


def stop(*_):
    global running
    running = False


signal.signal(signal.SIGTERM, stop)

qmp = socket.socket(socket.AF_UNIX)
qmp.connect(qmp_path)
qmp.sendall(b'{"execute": "qmp_capabilities"}\n')
buf = b""
events = []


def read_events():
    global buf
    while select.select([qmp], [], [], 0)[0]:
        data = qmp.recv(65536)
        if not data:
            return
        buf += data
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            msg = json.loads(line)
            if "event" in msg:
                events.append(msg["event"])


udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
udp.connect(("127.0.0.1", port))
seq = 0


def echo_wait(limit=5.0):
    """Seconds until the guest echoed a fresh datagram (limit if never)."""
    global seq
    seq += 1
    token = str(seq).encode()
    start = time.monotonic()
    try:
        udp.send(token)
    except OSError:
        pass
    while True:
        left = limit - (time.monotonic() - start)
        if left <= 0 or not running:
            return time.monotonic() - start
        if select.select([udp], [], [], left)[0]:
            try:
                if udp.recv(64) == token:
                    return time.monotonic() - start
            except OSError:  # nothing listens yet: ICMP refused
                time.sleep(0.02)
                return limit


for _ in range(300):
    if echo_wait(1.0) < 1.0:
        break
else:
    sys.exit("the guest's udpecho never answered")
max_wait, probes = 0.0, 0
print("ready", flush=True)
while running:
    max_wait = max(max_wait, echo_wait())
    probes += 1
    read_events()
    time.sleep(0.02)
read_events()
with open(out, "w") as f:
    f.write(f"max_wait {max_wait:.3f}\nprobes {probes}\nstops {events.count('STOP')}\n")
    for e in events:
        f.write(f"event {e}\n")

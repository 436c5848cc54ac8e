#!/usr/bin/env python3
"""Watches a running test guest from the host while vm works on it:
every 20 ms it sends a datagram to the guest's udpecho (through a NAT
forward) and keeps the longest time between two answers, and it logs the
emulator's QMP events from a second monitor. A frozen guest answers late
or never. (The ssh banner is no good probe at this rate under TCG: the
guest's dropbear forks for each connection and refuses more than a few
unauthenticated ones.)

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
INTERVAL = 0.02


def answered(timeout):
    """Whether an echo came within timeout seconds (any datagram counts: a
    frozen guest answers the ones it missed at once when it goes on)."""
    if not select.select([udp], [], [], timeout)[0]:
        return False
    try:
        udp.recv(64)
        return True
    except OSError:  # nothing listens yet: ICMP refused
        return False


for _ in range(300):
    udp.send(b"hello")
    if answered(1.0):
        break
    time.sleep(0.02)
else:
    sys.exit("the guest's udpecho never answered")
while answered(0):
    pass
# A datagram every INTERVAL, whatever comes back: the longest time between
# two answers is the longest the guest was frozen (plus the interval).
max_wait, probes = 0.0, 0
last_answer = next_send = time.monotonic()
print("ready", flush=True)
while running:
    now = time.monotonic()
    if now >= next_send:
        try:
            udp.send(b"probe")
        except OSError:
            pass
        probes += 1
        next_send = now + INTERVAL
    if answered(max(0.0, next_send - time.monotonic())):
        now = time.monotonic()
        max_wait = max(max_wait, now - last_answer)
        last_answer = now
        while answered(0):
            pass
    read_events()
# The guest frozen until the end counts too.
max_wait = max(max_wait, time.monotonic() - last_answer)
read_events()
with open(out, "w") as f:
    f.write(f"max_wait {max_wait:.3f}\nprobes {probes}\nstops {events.count('STOP')}\n")
    for e in events:
        f.write(f"event {e}\n")

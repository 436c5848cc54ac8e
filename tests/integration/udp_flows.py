#!/usr/bin/env python3
"""Traffic to the test guest's udpecho: N flows, each from a socket (a
source port) of its own, each sent until echoed (10 tries, 1 s each).
A multi-queue tap spreads flows over its queues by their hash.

udp_flows.py ADDR N: prints how many of the N flows were echoed."""
import socket
import sys

addr, flows = sys.argv[1], int(sys.argv[2])
answered = 0
for flow in range(flows):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(1)
    for attempt in range(10):
        s.sendto(b"flow %d" % flow, (addr, 5353))
        try:
            if s.recv(100) == b"flow %d" % flow:
                answered += 1
                break
        except socket.timeout:
            pass
    s.close()
print(answered)

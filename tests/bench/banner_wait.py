#!/usr/bin/env python3
"""The baseline poller of the start benchmark: returns as soon as something
on 127.0.0.1:PORT sends an SSH banner (an accepted connection gets up to 2 s
to send it), trying every 50 ms; gives up after 60 s (exit 1)."""
import socket
import sys
import time

port = int(sys.argv[1])
deadline = time.monotonic() + 60
while time.monotonic() < deadline:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
            if s.recv(4) == b"SSH-":
                sys.exit(0)
    except OSError:
        pass
    time.sleep(0.05)
sys.exit(1)

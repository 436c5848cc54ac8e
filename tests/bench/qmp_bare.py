#!/usr/bin/env python3
"""A bare QMP client, the baseline of the lifecycle benchmarks: N round
trips (connect, greeting, qmp_capabilities, one human monitor command,
close), timed inside the interpreter. Prints the mean in milliseconds."""
import json
import socket
import sys
import time


def round_trip(path, command):
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    f = s.makefile("rw")
    f.readline()
    for request in ({"execute": "qmp_capabilities"},
                    {"execute": "human-monitor-command",
                     "arguments": {"command-line": command}}):
        f.write(json.dumps(request) + "\n")
        f.flush()
        while "return" not in json.loads(f.readline()):
            pass
    s.close()


path, command, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
start = time.monotonic()
for _ in range(n):
    round_trip(path, command)
print("%.3f" % ((time.monotonic() - start) * 1000 / n))

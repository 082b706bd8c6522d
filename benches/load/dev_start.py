#!/usr/bin/env python3
"""`edge dev`'s start as a developer sees it: spawn to the first `200`.

For each binary given, alternating, STARTS times: spawn
`edge dev sample-workers/hello --listen 127.0.0.1:0`, read the line that names its address,
send one HTTP/1.1 request and read the response to its end; the time is from the spawn to the
end of that response. Prints each binary's p50 and minimum in ms.

  python3 benches/load/dev_start.py <edge binary> [<edge binary> ...]
"""
import os
import re
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

STARTS = int(os.environ.get("STARTS", "12"))
WORKER = Path(__file__).resolve().parents[2] / "sample-workers" / "hello"


def one_start(binary):
    began = time.perf_counter()
    node = subprocess.Popen(
        [binary, "dev", str(WORKER), "--listen", "127.0.0.1:0"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        line = node.stdout.readline()
        found = re.search(r"http://([\d.]+):(\d+)", line)
        if not found:
            raise SystemExit(f"{binary}: no address in {line!r}")
        with socket.create_connection((found[1], int(found[2]))) as conn:
            conn.sendall(b"GET / HTTP/1.1\r\nHost: hello\r\nConnection: close\r\n\r\n")
            response = b""
            while chunk := conn.recv(65536):
                response += chunk
        elapsed = (time.perf_counter() - began) * 1000
        if not response.startswith(b"HTTP/1.1 200"):
            raise SystemExit(f"{binary}: {response[:80]!r}")
        return elapsed
    finally:
        node.terminate()
        node.wait()


def main():
    binaries = sys.argv[1:]
    if not binaries:
        raise SystemExit(__doc__)
    times = {binary: [] for binary in binaries}
    for _ in range(STARTS):
        for binary in binaries:
            times[binary].append(one_start(binary))
    for binary, values in times.items():
        print(f"{binary}: p50 {statistics.median(values):.1f} ms, "
              f"min {min(values):.1f} ms ({len(values)} starts)")


if __name__ == "__main__":
    main()

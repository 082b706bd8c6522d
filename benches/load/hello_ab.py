"""Two edge binaries serving sample-workers/hello through `edge dev`, alternating: the node's
CPU per request (whole process, /proc/<pid>/stat) under `wrk -t1 -c16` for 8 s after 3 s of
warm-up, requests per second and RSS, 4 rounds. For a before/after of one change:

    python3 benches/load/hello_ab.py <before-edge-binary> <after-edge-binary>
"""
import os
import re
import socket
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BINS = {"before": sys.argv[1], "after": sys.argv[2]}
HZ = os.sysconf("SC_CLK_TCK")
def cpu(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / HZ
def rss(pid):
    for l in open(f"/proc/{pid}/status"):
        if l.startswith("VmRSS"): return int(l.split()[1])
def run(name, binary, port):
    p = subprocess.Popen([binary, "dev", os.path.join(ROOT, "sample-workers", "hello"), "--listen", f"127.0.0.1:{port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, "EDGE_LOG": "warn"})
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close(); break
        except OSError: time.sleep(0.1)
    subprocess.run(["wrk", "-t1", "-c16", "-d3s", f"http://127.0.0.1:{port}/"], capture_output=True)
    c0 = cpu(p.pid)
    out = subprocess.run(["wrk", "-t1", "-c16", "-d8s", f"http://127.0.0.1:{port}/"], capture_output=True, text=True).stdout
    c1 = cpu(p.pid)
    reqs = int(re.search(r"(\d+) requests in", out).group(1))
    r = rss(p.pid)
    p.terminate(); p.wait()
    return reqs / 8, (c1 - c0) / reqs * 1e6, r
res = {k: [] for k in BINS}
port = 29100
for rnd in range(4):
    order = list(BINS.items()) if rnd % 2 == 0 else list(reversed(BINS.items()))
    for name, b in order:
        port += 1
        rps, us, r = run(name, b, port)
        res[name].append((rps, us, r))
        print(f"round {rnd+1} {name}: {rps:,.0f} req/s, {us:.1f} us CPU/request, RSS {r/1024:.1f} MiB", flush=True)
for name, v in res.items():
    us = sorted(x[1] for x in v); rps = sorted(x[0] for x in v)
    print(f"{name}: median CPU/request {(us[1]+us[2])/2:.1f} us (range {us[0]:.1f}-{us[-1]:.1f}), median req/s {(rps[1]+rps[2])/2:,.0f}")

#!/usr/bin/env python3
"""What the Unix-socket hop to an isolate host costs: CPU per request of the whole server (the
node and its host processes together) and wrk's latency, for `edge node` with isolates in its
own process and with `--recycle-hosts-after` (host processes), alternating, ROUNDS rounds.

  python3 benches/load/hosts_hop.py <edge binary>
"""
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROUNDS = int(os.environ.get("ROUNDS", "3"))
SECONDS = int(os.environ.get("SECONDS_PER_RUN", "6"))
TICK = os.sysconf("SC_CLK_TCK")


def cpu_ticks(pid):
    """utime + stime of `pid` and of its children that are alive now."""
    total = 0
    pids = [pid] + [int(p) for p in subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()]
    for p in pids:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except FileNotFoundError:
            pass
    return total


def run(edge, root, hosts):
    args = [edge, "node", "--workers-dir", str(root / "workers"), "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"]
    if hosts:
        args += ["--recycle-hosts-after", "1000"]
    node = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            env={**os.environ, "EDGE_LOG": "warn"})
    try:
        address = node.stdout.readline().split("http://")[1].split()[0]
        url = f"http://{address}/"
        subprocess.run(["wrk", "-t1", "-c32", "-d2s", url], capture_output=True, check=True)
        before = cpu_ticks(node.pid)
        out = subprocess.run(["wrk", "-t1", "-c32", f"-d{SECONDS}s", "--latency", url],
                             capture_output=True, text=True, check=True).stdout
        used = (cpu_ticks(node.pid) - before) / TICK
        requests = int(re.search(r"(\d+) requests in", out).group(1))
        p50 = re.search(r"50%\s+(\S+)", out).group(1)
        p99 = re.search(r"99%\s+(\S+)", out).group(1)
        return requests / SECONDS, used / requests * 1e6, p50, p99
    finally:
        node.terminate()
        node.wait()


def main():
    edge = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        worker = root / "workers" / "hello"
        worker.mkdir(parents=True)
        (worker / "worker.js").write_text('export default { fetch() { return new Response("hi") } }\n')
        (worker / "edge.toml").write_text('main = "worker.js"\nroutes = ["127.0.0.1/*"]\n')
        for round in range(ROUNDS):
            for hosts in (False, True):
                rate, cpu, p50, p99 = run(edge, root, hosts)
                mode = "host processes" if hosts else "in process"
                print(f"round {round + 1}  {mode:15} {rate:8.0f} req/s  CPU {cpu:6.1f} us/req  p50 {p50}  p99 {p99}", flush=True)


if __name__ == "__main__":
    main()

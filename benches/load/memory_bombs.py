#!/usr/bin/env python3
"""The node's resident memory under concurrent memory bombs, with and without a ceiling.

Starts `edge node` (the binary given) over BOMBS workers that each allocate 1 MiB arrays until
stopped (memory_mb 128, generous CPU and wall-clock limits) and one hello neighbour. For each
ceiling in CEILINGS (MiB; a value far above the machine's memory puts the ceiling out of reach,
as before it existed) it sends ROUNDS waves of BOMBS concurrent bomb requests, while a client
asks the neighbour in a loop and a thread samples the node's RSS. Reports the RSS peak, how the
bombs were stopped, the neighbour's p50/p99 and failures. With HOSTS=N the node runs its
isolates in host processes (`--recycle-hosts-after N`), and the RSS is the node's and all its
hosts' together.

  python3 benches/load/memory_bombs.py <edge binary>
  HOSTS=20 python3 benches/load/memory_bombs.py <edge binary>
"""
import collections
import concurrent.futures
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

BOMBS = int(os.environ.get("BOMBS", "30"))
ROUNDS = int(os.environ.get("ROUNDS", "3"))
CEILINGS = [int(c) for c in os.environ.get("CEILINGS", "1024,1000000").split(",")]
HOSTS = os.environ.get("HOSTS")

BOMB = "export default { async fetch() { const keep = []; while (true) keep.push(new Uint8Array(1 << 20)); } };\n"
HELLO = "export default { fetch() { return new Response('hello'); } };\n"


def workers(root):
    for i in range(BOMBS):
        bomb = root / f"bomb-{i}"
        bomb.mkdir(parents=True)
        (bomb / "worker.js").write_text(BOMB)
        (bomb / "edge.toml").write_text("[limits]\ncpu_ms = 30000\nwall_ms = 60000\nmemory_mb = 128\n")
    (root / "hello").mkdir()
    (root / "hello" / "worker.js").write_text(HELLO)


def ask(url, host):
    request = urllib.request.Request(url, headers={"host": host})
    try:
        with urllib.request.urlopen(request, timeout=60) as reply:
            return reply.status, reply.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def rss(pid):
    """Resident memory of `pid` and all its descendants (isolate hosts), in bytes."""
    total = 0
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith("VmRSS:"):
                total = int(line.split()[1]) * 1024
        for task in os.listdir(f"/proc/{pid}/task"):
            for child in open(f"/proc/{pid}/task/{task}/children").read().split():
                total += rss(int(child))
    except OSError:
        pass
    return total


def run(edge, root, ceiling):
    node = subprocess.Popen(
        [edge, "node", "--workers-dir", str(root), "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0",
         "--node-memory-mb", str(ceiling)] + (["--recycle-hosts-after", HOSTS] if HOSTS else []),
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env={**os.environ, "EDGE_LOG": "warn"})
    url = None
    while url is None:
        line = node.stdout.readline()
        if not line:
            sys.exit("the node did not start")
        if "http://" in line:
            url = "http://" + line.split("http://")[1].split()[0]
    ask(url, "hello.edge.localhost")
    peak, done = [0], threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], rss(node.pid))
            time.sleep(0.002)

    sampler = threading.Thread(target=sample)
    sampler.start()
    outcomes, times, failed = collections.Counter(), [], 0
    with concurrent.futures.ThreadPoolExecutor(BOMBS) as pool:
        for _ in range(ROUNDS):
            waves = [pool.submit(ask, url, f"bomb-{i}.edge.localhost") for i in range(BOMBS)]
            while not all(w.done() for w in waves):
                began = time.perf_counter()
                status, body = ask(url, "hello.edge.localhost")
                times.append((time.perf_counter() - began) * 1000)
                failed += status != 200 or body != "hello"
            for wave in waves:
                status, body = wave.result()
                outcomes[f"{status} {body.splitlines()[0].split(': ', 1)[-1].split(' (')[0].rstrip('.')}"] += 1
    done.set()
    sampler.join()
    end = rss(node.pid)
    node.terminate()
    node.wait()
    times.sort()
    p99 = times[int(len(times) * 0.99)] if times else float("nan")
    print(f"ceiling {ceiling} MiB{f' (hosts after {HOSTS})' if HOSTS else ''}: RSS peak {peak[0] >> 20} MiB, at the end {end >> 20} MiB; "
          f"neighbour {len(times)} requests, {failed} failed, p50 {statistics.median(times):.1f} ms, p99 {p99:.1f} ms")
    for outcome, count in outcomes.most_common():
        print(f"  {count:4} x {outcome}")


def main():
    edge = sys.argv[1] if len(sys.argv) > 1 else "target/release/edge"
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        workers(root)
        for ceiling in CEILINGS:
            run(edge, root, ceiling)


if __name__ == "__main__":
    main()

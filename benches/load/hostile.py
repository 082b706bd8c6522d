#!/usr/bin/env python3
"""Good clients' latency while a node is under attack by slow and abusive clients.

Starts `edge node` (the binary given) under a soft limit of 1,024 open files, with the default
`[connections]` limits, serving a one-line worker for every path of 127.0.0.1. For each phase
(no attack, then the attack) a good client from 127.0.0.2 sends REQUESTS requests, each on a new
connection (connect, GET, read to the end), and the script reports p50/p99/max and failures.
The attack, from 127.0.0.1, runs all at once: `slowhttptest -H` (4,000 slowloris connections),
`slowhttptest -B` (300 slow bodies), `slowhttptest -X` (200 slow readers) and `h2load` (an
HTTP/2 flood, 20 connections x 100 streams). At the end it prints the node's connection
metrics, its RSS and its open files.

  python3 benches/load/hostile.py <edge binary>
"""
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REQUESTS = int(os.environ.get("REQUESTS", "2000"))


def start(edge, root):
    workers = root / "workers" / "hello"
    workers.mkdir(parents=True)
    (workers / "worker.js").write_text('export default { fetch() { return new Response("hi") } }\n')
    (workers / "edge.toml").write_text('main = "worker.js"\nroutes = ["127.0.0.1/*"]\n')
    config = root / "node.toml"
    config.write_text(f'listen = "127.0.0.1:0"\nadmin_listen = "127.0.0.1:0"\nworkers_dir = "{root / "workers"}"\n')
    node = subprocess.Popen(
        ["bash", "-c", 'ulimit -Sn 1024 && exec "$0" "$@"', edge, "node", "--config", str(config)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env={**os.environ, "EDGE_LOG": "warn"})
    urls = []
    while len(urls) < 2:
        line = node.stdout.readline()
        if not line:
            sys.exit("the node did not start")
        if "http://" in line:
            urls.append(line.split("http://")[1].split()[0])
    return node, urls[0], urls[1]


def good_requests(address):
    host, port = address.split(":")
    request = b"GET / HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n"
    times, failed = [], 0
    for _ in range(REQUESTS):
        began = time.perf_counter()
        try:
            with socket.create_connection((host, int(port)), timeout=5, source_address=("127.0.0.2", 0)) as s:
                s.sendall(request)
                answer = b""
                while chunk := s.recv(4096):
                    answer += chunk
            if not answer.startswith(b"HTTP/1.1 200") or not answer.endswith(b"hi"):
                failed += 1
                continue
        except OSError:
            failed += 1
            continue
        times.append((time.perf_counter() - began) * 1000)
    return times, failed


def report(name, times, failed):
    times.sort()
    p = lambda q: times[min(len(times) - 1, int(q * len(times)))] if times else float("nan")
    print(f"{name:10} good requests {len(times) + failed:5}  failed {failed:3}  "
          f"p50 {statistics.median(times):6.2f} ms  p99 {p(0.99):6.2f} ms  max {times[-1]:7.2f} ms")


def node_figures(pid):
    rss = int(Path(f"/proc/{pid}/status").read_text().split("VmRSS:")[1].split()[0]) / 1024
    files = len(os.listdir(f"/proc/{pid}/fd"))
    return rss, files


def main():
    edge = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        node, address, admin = start(edge, Path(tmp))
        try:
            url = f"http://{address}/"
            report("calm", *good_requests(address))
            rss, files = node_figures(node.pid)
            print(f"node before: RSS {rss:.0f} MiB, open files {files}")
            quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
            attack = [
                subprocess.Popen(["slowhttptest", "-H", "-c", "4000", "-r", "1000", "-i", "5", "-l", "600", "-u", url], **quiet),
                subprocess.Popen(["slowhttptest", "-B", "-c", "300", "-r", "300", "-i", "5", "-s", "100000", "-l", "600", "-u", url], **quiet),
                subprocess.Popen(["slowhttptest", "-X", "-c", "200", "-r", "200", "-w", "1", "-y", "16", "-n", "5", "-z", "8", "-k", "50", "-l", "600", "-u", url], **quiet),
                subprocess.Popen(["h2load", "-D", "600", "-c", "20", "-m", "100", "-t", "1", url], **quiet),
            ]
            time.sleep(5)  # the attack ramps up (a benchmark's pause, not a test's synchronisation)
            try:
                report("attacked", *good_requests(address))
                rss, files = node_figures(node.pid)
                print(f"node under attack: RSS {rss:.0f} MiB, open files {files}")
            finally:
                for tool in attack:
                    tool.kill()
                    tool.wait()
            metrics = urllib.request.urlopen(f"http://{admin}/metrics").read().decode()
            for line in metrics.splitlines():
                if line.startswith("edge_connections_"):
                    print(line)
        finally:
            node.terminate()
            node.wait()


if __name__ == "__main__":
    main()

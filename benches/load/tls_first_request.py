#!/usr/bin/env python3
"""A TLS client's first request to a worker no one has asked for yet, as the client sees it.

Starts `edge node` (each binary given, alternating, ROUNDS times) with a TLS listener, a
certificate for *.edge.localhost made here with openssl, and WORKERS one-line workers. For
each worker in turn, one every SPACING_MS: a new TCP connection, a TLS handshake naming
`w<i>.edge.localhost` by SNI, then one HTTP/1.1 request. Reports, per binary, the medians and
tails of:
  handshake  the client's connect + TLS handshake (ms)
  request    the client's time from sending the request to the end of the response (ms)
  node       the node's `Server-Timing: total` for that request (ms)
  client     handshake + request: from connect to the end of the response (ms)
and how many first requests found their worker warm.

  python3 benches/load/tls_first_request.py <edge binary> [<edge binary> ...]
"""
import os
import re
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROUNDS = int(os.environ.get("ROUNDS", "3"))
WORKERS = int(os.environ.get("WORKERS", "30"))
SPACING = int(os.environ.get("SPACING_MS", "300")) / 1000


def certificate(directory):
    key, cert = directory / "edge.key", directory / "edge.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "2", "-subj", "/CN=edge.localhost",
         "-addext", "subjectAltName=DNS:*.edge.localhost", "-keyout", key, "-out", cert],
        check=True, capture_output=True)
    return key, cert


def workers(directory):
    for i in range(WORKERS):
        worker = directory / f"w{i}"
        worker.mkdir()
        (worker / "worker.js").write_text(
            'export default { fetch() { return new Response("hi"); } };\n')


def start(binary, directory, key, cert):
    node = subprocess.Popen(
        [binary, "node", "--workers-dir", directory / "workers", "--listen", "127.0.0.1:0",
         "--admin-listen", "127.0.0.1:0", "--tls-listen", "127.0.0.1:0",
         "--tls-cert", cert, "--tls-key", key],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    deadline = time.time() + 60
    while time.time() < deadline:
        line = node.stdout.readline()
        found = re.search(r"https://127\.0\.0\.1:(\d+)", line)
        if found:
            return node, int(found.group(1))
    node.kill()
    sys.exit(f"{binary}: no TLS listener line")


def first_request(context, port, name):
    began = time.perf_counter()
    raw = socket.create_connection(("127.0.0.1", port))
    raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    tls = context.wrap_socket(raw, server_hostname=name)
    shaken = time.perf_counter()
    tls.sendall(f"GET / HTTP/1.1\r\nHost: {name}\r\nConnection: close\r\n\r\n".encode())
    reply = b""
    while chunk := tls.recv(65536):
        reply += chunk
    done = time.perf_counter()
    tls.close()
    head = reply.split(b"\r\n\r\n")[0].decode()
    assert head.startswith("HTTP/1.1 200"), head
    timing = re.search(r"server-timing: (.*)", head, re.I).group(1)
    total = float(re.search(r"total;dur=([\d.]+)", timing).group(1))
    warm = 'start;desc="warm"' in timing
    return (shaken - began) * 1000, (done - shaken) * 1000, total, (done - began) * 1000, warm


def run(binary, context, scratch, key, cert):
    directory = Path(tempfile.mkdtemp(dir=scratch))
    (directory / "workers").mkdir()
    workers(directory / "workers")
    node, port = start(binary, directory, key, cert)
    try:
        time.sleep(2)  # the pool fills; not a synchronisation, a pause between phases
        samples = []
        for i in range(WORKERS):
            samples.append(first_request(context, port, f"w{i}.edge.localhost"))
            time.sleep(SPACING)
        return samples
    finally:
        node.terminate()
        node.wait()


def quantile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def main():
    binaries = sys.argv[1:]
    if not binaries:
        sys.exit(__doc__)
    scratch = tempfile.mkdtemp()
    key, cert = certificate(Path(scratch))
    context = ssl.create_default_context(cafile=str(cert))
    results = {binary: [] for binary in binaries}
    for _ in range(ROUNDS):
        for binary in binaries:
            results[binary].extend(run(binary, context, scratch, key, cert))
    print(f"{WORKERS} workers x {ROUNDS} rounds, one every {SPACING * 1000:.0f} ms (ms; p50 / p90 / max)")
    for binary, samples in results.items():
        columns = []
        for index, label in enumerate(["handshake", "request", "node", "client"]):
            values = [s[index] for s in samples]
            columns.append(f"{label} {statistics.median(values):.2f} / {quantile(values, 0.9):.2f} / {max(values):.2f}")
        warm = sum(1 for s in samples if s[4])
        print(f"{binary}: " + ", ".join(columns) + f", warm {warm}/{len(samples)}")


if __name__ == "__main__":
    main()

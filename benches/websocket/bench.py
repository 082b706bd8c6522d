"""The WebSocket echo benchmark: serves echo.js with `edge dev` and with workerd, alternating
the two within each round, and measures, with Python's `websockets` client (asyncio):

1. round trip: one connection sends a 32-byte text message and waits for its echo, LATENCY
   times in a row (after a warm-up); p50 and p99, and the server's CPU time per message;
2. throughput: CONNECTIONS connections, each sending a message and waiting for its echo in a
   loop, for SECONDS (after WARMUP seconds): messages per second, the server's CPU time per
   message (utime + stime of its whole process tree, from /proc), messages per second per core
   of server CPU, and the client's own CPU time per message;
3. memory: the RSS of the server's whole process tree before and after opening IDLE sockets
   (each answers one echo, to be sure the worker has accepted it, then stays idle), divided by
   IDLE.

Method (../shared/BENCHMARKING.md): the server and this client are pinned to the same core
(--core; "" pins nothing), so messages per second means "one core shared by the server and a
Python client"; CPU per message is the steadier figure. Each round starts each server afresh;
the order of the systems alternates from round to round; the median over rounds is reported,
with the CPU that other processes used on the core during each throughput run. Called by
run.sh, which installs workerd and passes the binaries.
"""
import argparse
import asyncio
import json
import math
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from websockets.asyncio.client import connect

HERE = Path(__file__).resolve().parent
TICK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
COMPATIBILITY_DATE = "2026-11-01"
MESSAGE = "0123456789abcdef0123456789ABCDEF"  # 32 bytes of text
assert len(MESSAGE.encode()) == 32
CLIENT_OPTIONS = dict(compression=None, ping_interval=None, close_timeout=2, open_timeout=30, max_queue=None)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def process_tree(pid):
    """pid and all its descendants that are alive now."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo += children.get(current, [])
    return found


def tree_cpu_seconds(pid):
    """utime + stime of the process tree of pid (every thread of each process)."""
    total = 0
    for p in process_tree(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / TICK


def tree_rss_bytes(pid):
    total = 0
    for p in process_tree(pid):
        try:
            total += int(Path(f"/proc/{p}/statm").read_text().split()[1]) * PAGE
        except OSError:
            continue
    return total


def core_busy_seconds(core):
    """Busy time (everything but idle and iowait) of one core, or of the machine for core None."""
    name = "cpu" if core is None else f"cpu{core}"
    for line in Path("/proc/stat").read_text().splitlines():
        fields = line.split()
        if fields[0] == name:
            values = [int(v) for v in fields[1:]]
            return (sum(values[:8]) - values[3] - values[4]) / TICK
    raise RuntimeError(f"no {name} in /proc/stat")


def wait_http(url, process, name, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"{name} exited with {process.returncode} before serving")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.05)
    sys.exit(f"{name} did not serve {url} within {timeout} s")


def pinned(core, command):
    return command if core is None else ["taskset", "-c", str(core)] + command


def start_edge(args, folder):
    worker = folder / "edge-echo"
    worker.mkdir()
    (worker / "worker.js").write_text((HERE / "echo.js").read_text())
    # The node's default of 1000 open sockets per worker would refuse the last idle ones.
    (worker / "edge.toml").write_text(
        f'main = "worker.js"\ncompatibility_date = "{COMPATIBILITY_DATE}"\n\n[limits]\nwebsockets = 10000\n')
    port = free_port()
    # One isolate, as workerd serves the worker from one.
    command = pinned(args.core, [args.edge, "dev", "--listen", f"127.0.0.1:{port}", "--isolates-per-worker", "1",
                                 "--warm-isolates", "1", str(worker)])
    log = open(folder / "edge.log", "wb")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=dict(os.environ, EDGE_LOG="warn"))
    wait_http(f"http://127.0.0.1:{port}/", process, "edge")
    return process, f"ws://127.0.0.1:{port}/"


def start_workerd(args, folder):
    config = folder / "workerd"
    config.mkdir()
    (config / "echo.js").write_text((HERE / "echo.js").read_text())
    port = free_port()
    (config / "config.capnp").write_text(f"""using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "echo", worker = (modules = [(name = "echo.js", esModule = embed "echo.js")],
      compatibilityDate = "{COMPATIBILITY_DATE}")),
  ],
  sockets = [(name = "http", address = "127.0.0.1:{port}", http = (), service = "echo")],
);
""")
    log = open(folder / "workerd.log", "wb")
    process = subprocess.Popen(pinned(args.core, [args.workerd, "serve", "config.capnp"]), cwd=config,
                               stdout=log, stderr=subprocess.STDOUT)
    wait_http(f"http://127.0.0.1:{port}/", process, "workerd")
    return process, f"ws://127.0.0.1:{port}/"


def percentile(sorted_values, q):
    """Nearest rank."""
    return sorted_values[max(0, math.ceil(q * len(sorted_values)) - 1)]


async def echo(ws, text=MESSAGE):
    await ws.send(text)
    answer = await ws.recv()
    if answer != text:
        raise RuntimeError(f"echo answered {answer!r} to {text!r}")


async def warm_up(url):
    async with connect(url, **CLIENT_OPTIONS) as ws:
        for _ in range(300):
            await echo(ws)
    for _ in range(2):
        sockets = await asyncio.gather(*(connect(url, **CLIENT_OPTIONS) for _ in range(20)))
        await asyncio.gather(*(echo(ws) for ws in sockets))
        await asyncio.gather(*(ws.close() for ws in sockets))


async def idle_memory(url, pid, count):
    await asyncio.sleep(0.5)
    before = tree_rss_bytes(pid)
    sockets = []
    for start in range(0, count, 50):
        # A node refuses more than 256 connections from one client address (edge's default
        # `max_connections_per_client`): the sockets come from 127.0.0.10, .11, ..., 200 each.
        batch = await asyncio.gather(*(connect(url, local_addr=(f"127.0.0.{10 + i // 200}", 0), **CLIENT_OPTIONS)
                                       for i in range(start, min(start + 50, count))))
        await asyncio.gather(*(echo(ws) for ws in batch))
        sockets += batch
    await asyncio.sleep(2)
    after = tree_rss_bytes(pid)
    await asyncio.gather(*(ws.close() for ws in sockets))
    await asyncio.sleep(0.5)
    return {"rss_before": before, "rss_idle": after, "per_socket": (after - before) / count}


async def round_trips(url, pid, count):
    async with connect(url, **CLIENT_OPTIONS) as ws:
        for _ in range(200):
            await echo(ws)
        times = []
        cpu_before = tree_cpu_seconds(pid)
        for _ in range(count):
            t0 = time.perf_counter_ns()
            await echo(ws)
            times.append(time.perf_counter_ns() - t0)
        cpu = tree_cpu_seconds(pid) - cpu_before
    times.sort()
    return {"p50_ms": percentile(times, 0.50) / 1e6, "p99_ms": percentile(times, 0.99) / 1e6,
            "cpu_us_per_msg": cpu / count * 1e6}


async def throughput(url, pid, connections, warmup, seconds, core):
    sockets = await asyncio.gather(*(connect(url, **CLIENT_OPTIONS) for _ in range(connections)))
    done = [0]
    stop = asyncio.Event()

    async def loop(ws):
        while not stop.is_set():
            await echo(ws)
            done[0] += 1

    tasks = [asyncio.create_task(loop(ws)) for ws in sockets]
    await asyncio.sleep(warmup)
    n0, server0, client0, core0, t0 = (done[0], tree_cpu_seconds(pid), time.process_time(), core_busy_seconds(core),
                                       time.perf_counter())
    await asyncio.sleep(seconds)
    n1, server1, client1, core1, t1 = (done[0], tree_cpu_seconds(pid), time.process_time(), core_busy_seconds(core),
                                       time.perf_counter())
    stop.set()
    await asyncio.gather(*tasks)
    await asyncio.gather(*(ws.close() for ws in sockets))
    messages, elapsed = n1 - n0, t1 - t0
    server, client = server1 - server0, client1 - client0
    return {
        "messages": messages,
        "msgs_per_s": messages / elapsed,
        "cpu_us_per_msg": server / messages * 1e6,
        "msgs_per_cpu_s": messages / server,
        "client_cpu_us_per_msg": client / messages * 1e6,
        "server_cores": server / elapsed,
        "others_cores": max(0.0, (core1 - core0) - server - client) / elapsed,
    }


def measure(args, system, folder):
    start = start_edge if system == "edge" else start_workerd
    process, url = start(args, folder)
    try:
        pid = process.pid
        result = {"system": system}
        asyncio.run(warm_up(url))
        result["memory"] = asyncio.run(idle_memory(url, pid, args.idle))
        result["latency"] = asyncio.run(round_trips(url, pid, args.latency))
        result["throughput"] = asyncio.run(
            throughput(url, pid, args.connections, args.warmup, args.seconds, args.core))
        result["rss_end"] = tree_rss_bytes(pid)
        return result
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()


def median(results, *path):
    values = []
    for result in results:
        for key in path:
            result = result[key]
        values.append(result)
    return statistics.median(values), min(values), max(values)


def summary(results, systems):
    rows = {}
    for system in systems:
        mine = [r for r in results if r["system"] == system]
        rows[system] = {
            "rt_p50": median(mine, "latency", "p50_ms"),
            "rt_p99": median(mine, "latency", "p99_ms"),
            "rt_cpu": median(mine, "latency", "cpu_us_per_msg"),
            "rate": median(mine, "throughput", "msgs_per_s"),
            "cpu": median(mine, "throughput", "cpu_us_per_msg"),
            "per_core": median(mine, "throughput", "msgs_per_cpu_s"),
            "client_cpu": median(mine, "throughput", "client_cpu_us_per_msg"),
            "others": median(mine, "throughput", "others_cores"),
            "idle": median(mine, "memory", "per_socket"),
            "rss_before": median(mine, "memory", "rss_before"),
            "rss_end": median(mine, "rss_end"),
        }
    return rows


def round_ratios(results):
    """edge's server CPU per message divided by workerd's, round by round."""
    ratios = []
    for round_ in sorted({r["round"] for r in results}):
        cpu = {r["system"]: r["throughput"]["cpu_us_per_msg"] for r in results if r["round"] == round_}
        if "edge" in cpu and "workerd" in cpu:
            ratios.append(cpu["edge"] / cpu["workerd"])
    return ratios


def markdown(rows, ratios, args):
    base = rows.get("edge")
    lines = [
        f"| system | round trip p50 | round trip p99 | server CPU/msg, 1 connection | msgs/s, {args.connections} connections "
        "| server CPU/msg | msgs/s per core of server CPU | client CPU/msg | RSS per idle socket "
        "| server RSS before the sockets / after the run | others' CPU on the core |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for system, row in rows.items():
        cpu, low, high = row["cpu"]
        lines.append(
            f"| {system} | {row['rt_p50'][0]:.3f} ms | {row['rt_p99'][0]:.3f} ms | {row['rt_cpu'][0]:.1f} µs "
            f"| {row['rate'][0]:,.0f} | {cpu:.1f} µs ({low:.1f}–{high:.1f}) | {row['per_core'][0]:,.0f} "
            f"| {row['client_cpu'][0]:.1f} µs | {row['idle'][0] / 1024:.1f} KiB ({row['idle'][1] / 1024:.1f}–"
            f"{row['idle'][2] / 1024:.1f}) | {row['rss_before'][0] / 2**20:.0f} / {row['rss_end'][0] / 2**20:.0f} MiB "
            f"| {row['others'][1] * 100:.0f}–{row['others'][2] * 100:.0f}% |")
    if ratios:
        lines += [
            "",
            "Server CPU per message (50 connections), edge ÷ workerd within each round: "
            + ", ".join(f"{r:.2f}×" for r in ratios) + f" (median {statistics.median(ratios):.2f}×).",
        ]
    if base and "workerd" in rows:
        other = rows["workerd"]
        lines += [
            "",
            "| edge ÷ workerd | round trip p50 | round trip p99 | server CPU/msg (50 conn.) | msgs/s | RSS per idle socket |",
            "|---|---|---|---|---|---|",
            f"| | {base['rt_p50'][0] / other['rt_p50'][0]:.2f}× | {base['rt_p99'][0] / other['rt_p99'][0]:.2f}× "
            f"| {base['cpu'][0] / other['cpu'][0]:.2f}× | {base['rate'][0] / other['rate'][0]:.2f}× "
            f"| {base['idle'][0] / other['idle'][0]:.2f}× |",
        ]
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--edge", required=True)
    parser.add_argument("--workerd", required=True)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--latency", type=int, default=2000, help="round trips of one connection")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--warmup", type=float, default=2)
    parser.add_argument("--idle", type=int, default=1000, help="idle sockets opened for the memory figure")
    parser.add_argument("--core", default="1", help='the core the servers and this client share ("": unpinned)')
    parser.add_argument("--systems", default="edge,workerd")
    parser.add_argument("--out", default=str(HERE / "out"), help="where results.json and the logs go")
    parser.add_argument("--markdown", help="also write the table here")
    args = parser.parse_args()
    args.core = int(args.core) if args.core != "" else None
    if args.core is not None:
        os.sched_setaffinity(0, {args.core})
    systems = args.systems.split(",")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    results = []
    for round_ in range(args.rounds):
        order = systems if round_ % 2 == 0 else systems[::-1]
        for system in order:
            with tempfile.TemporaryDirectory(prefix=f"ws-bench-{system}-") as tmp:
                result = measure(args, system, Path(tmp))
                for log in Path(tmp).glob("*.log"):
                    (out / f"{system}-round{round_ + 1}.log").write_bytes(log.read_bytes())
            result["round"] = round_ + 1
            results.append(result)
            t, lat, mem = result["throughput"], result["latency"], result["memory"]
            print(f"round {round_ + 1} {system:8} rt p50 {lat['p50_ms']:.3f} ms p99 {lat['p99_ms']:.3f} ms "
                  f"({lat['cpu_us_per_msg']:.1f} µs/msg) | {t['msgs_per_s']:,.0f} msg/s, "
                  f"server {t['cpu_us_per_msg']:.1f} µs/msg ({t['server_cores']:.2f} cores), "
                  f"client {t['client_cpu_us_per_msg']:.1f} µs/msg, others {t['others_cores'] * 100:.0f}% | "
                  f"idle socket {mem['per_socket'] / 1024:.1f} KiB "
                  f"(RSS {mem['rss_before'] / 2**20:.1f} -> {mem['rss_idle'] / 2**20:.1f} MiB)", flush=True)

    (out / "results.json").write_text(json.dumps(results, indent=2))
    table = markdown(summary(results, systems), round_ratios(results), args)
    print()
    print(table)
    if args.markdown:
        Path(args.markdown).write_text(table)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""A soak: one `edge node` under mixed good traffic, churn, abuse and failures, for DURATION.

  python3 benches/soak/run.py <edge binary> [--duration 600] [--hosts] [--json out.json]
      [--release-every 30] [--kill-every 60] [--write-results benches/RESULTS.md]

What runs at once, all on loopback:
- good traffic under `wrk` (one thread and CONNECTIONS connections each, `--latency`): the
  sample workers hello, json, stream (`/?chunks=3&delay=5`, a streamed body) and kv-counter
  (a KV write per request; not with `--hosts`, whose processes do not offer KV bindings yet),
  each deployed through the node's deploy API;
- every 30 s (`--release-every`) a deploy of a new version of `app`, every other time a
  rollback instead;
- every 3 s a CPU hog (`while (true) {}`, 503 expected) and a memory bomb (503 expected);
- `slowhttptest -H` slowloris clients (SLOW connections) for the whole run;
- with `--hosts`: isolates in isolate-host processes (`--recycle-hosts-after 200`), and one
  host SIGKILLed every 60 s (`--kill-every`; its workers are started again and in-flight GETs
  sent again).

`tests/tests/soak.rs` runs it for a minute with shorter intervals.

It reports the good requests sent and failed (wrk's non-2xx responses and socket errors; goal
0), their p99 (the worst of the four wrk runs), the node's RSS (its hosts' added) and open files
at the start and the end (goal: flat), and what the chaos saw. `--json` writes the figures for a
test to check; `--write-results` adds them to benches/RESULTS.md.
"""
import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "soak-token-0123456789abcdef"
CONNECTIONS = int(os.environ.get("CONNECTIONS", "4"))
SLOW = int(os.environ.get("SLOW", "150"))
GOOD = {
    "hello": "/",
    "json": "/items?page=2",
    "stream": "/?chunks=3&delay=5",
    "kv-counter": "/hits",
}
HOG = 'export default { fetch() { while (true) {} } };\n'
BOMB = "export default { fetch() { const keep = []; while (true) keep.push(new Uint8Array(1 << 20)); } };\n"


def write_workers(root):
    (root / "hog").mkdir()
    (root / "hog" / "worker.js").write_text(HOG)
    (root / "hog" / "edge.toml").write_text('name = "hog"\n[limits]\ncpu_ms = 50\n')
    (root / "bomb").mkdir()
    (root / "bomb" / "worker.js").write_text(BOMB)
    (root / "bomb" / "edge.toml").write_text('name = "bomb"\n[limits]\nmemory_mb = 64\ncpu_ms = 5000\nwall_ms = 10000\n')
    app(root, 0)


def app(root, n):
    folder = root / "app"
    folder.mkdir(exist_ok=True)
    (folder / "worker.js").write_text("export default { fetch: (r, env) => new Response(env.VERSION) };\n")
    (folder / "edge.toml").write_text(f'name = "app"\n[vars]\nVERSION = "v{n}"\n')
    return folder


def start_node(edge, data, hosts):
    args = [edge, "node", "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0",
            "--data-dir", str(data), "--admin-token", TOKEN]
    if hosts:
        args += ["--recycle-hosts-after", "200"]
    node = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "EDGE_LOG": "warn,edge_node::isolates::cache=info"})
    urls = []
    while len(urls) < 2:
        line = node.stdout.readline()
        if not line:
            sys.exit("the node did not start:\n" + node.stderr.read())
        if "http://" in line:
            urls.append(line.split("http://")[1].split()[0])
    log = []
    threading.Thread(target=lambda: log.extend(node.stderr), daemon=True).start()
    threading.Thread(target=lambda: [None for _ in node.stdout], daemon=True).start()
    return node, urls[0], urls[1], log


def edge_cli(edge, admin, *args):
    done = subprocess.run([edge, *args, "--node", f"http://{admin}", "--token", TOKEN],
                          capture_output=True, text=True, timeout=120)
    return done.returncode, done.stdout + done.stderr


def ask(address, host, path="/", timeout=30):
    request = urllib.request.Request(f"http://{address}{path}", headers={"host": f"{host}.edge.localhost"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as reply:
            return reply.status, reply.read().decode(errors="replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")
    except OSError as e:
        return 0, str(e)


def processes(pid):
    """The node and its isolate hosts."""
    found = [pid]
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return found


def hosts_of(pid):
    found = []
    for child in processes(pid)[1:]:
        try:
            if b"isolate-host" in Path(f"/proc/{child}/cmdline").read_bytes():
                found.append(child)
        except OSError:
            pass
    return found


def figures(pid):
    rss, files = 0, 0
    for process in processes(pid):
        try:
            rss += int(Path(f"/proc/{process}/status").read_text().split("VmRSS:")[1].split()[0]) * 1024
            files += len(os.listdir(f"/proc/{process}/fd"))
        except (OSError, IndexError):
            pass
    return rss, files


def parse_wrk(text):
    def count(pattern):
        m = re.search(pattern, text)
        return int(m.group(1)) if m else 0
    requests = count(r"(\d+) requests in")
    non2xx = count(r"Non-2xx or 3xx responses: (\d+)")
    errors_line = text.split("Socket errors:")[1].splitlines()[0] if "Socket errors:" in text else ""
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", errors_line))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", text)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    return {"requests": requests, "failed": non2xx + errors,
            "p99_ms": float(p99.group(1)) * scale[p99.group(2)] if p99 else None, "raw": text}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("edge")
    parser.add_argument("--duration", type=int, default=600)
    parser.add_argument("--hosts", action="store_true")
    parser.add_argument("--release-every", type=int, default=30, help="seconds between deploys/rollbacks")
    parser.add_argument("--kill-every", type=int, default=60, help="seconds between host kills (--hosts)")
    parser.add_argument("--json")
    parser.add_argument("--write-results")
    options = parser.parse_args()
    edge = str(Path(options.edge).resolve())
    duration = options.duration
    good = dict(GOOD)
    if options.hosts:
        # Isolate hosts do not offer KV bindings yet: the KV worker runs only in process.
        del good["kv-counter"]

    root = Path(tempfile.mkdtemp(prefix="edge-soak-"))
    write_workers(root)
    node, address, admin, log = start_node(edge, root / "data", options.hosts)
    for name in good:
        # A copy of the sample, named (a deployed worker needs an edge.toml with its name).
        folder = root / name
        shutil.copytree(ROOT / "sample-workers" / name, folder)
        if not (folder / "edge.toml").exists():
            (folder / "edge.toml").write_text(f'name = "{name}"\n')
        code, out = edge_cli(edge, admin, "deploy", str(folder))
        assert code == 0, out
    for name in ["hog", "bomb", "app"]:
        code, out = edge_cli(edge, admin, "deploy", str(root / name))
        assert code == 0, out
    for name, path in good.items():
        status, body = ask(address, name, path)
        assert status == 200, f"{name}: {status} {body}"

    rss_start, files_start = figures(node.pid)
    wrks = {}
    for name, path in good.items():
        wrks[name] = subprocess.Popen(
            ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{duration}s", "--timeout", "10s", "--latency",
             "-H", f"Host: {name}.edge.localhost", f"http://{address}{path}"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    slow = subprocess.Popen(
        ["slowhttptest", "-H", "-c", str(SLOW), "-r", "50", "-i", "10", "-l", str(duration),
         "-u", f"http://{address}/", "-x", "24", "-p", "3"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    chaos = {"hogs": 0, "bombs": 0, "stopped_with_503": 0, "unexpected": [], "deploys": 0,
             "rollbacks": 0, "release_errors": [], "hosts_killed": 0}
    began = time.monotonic()
    release_every, kill_every = options.release_every, options.kill_every
    next_release, next_kill, version = began + release_every, began + kill_every, 0
    while time.monotonic() - began < duration - 3:
        for name in ["hog", "bomb"]:
            status, body = ask(address, name)
            chaos[name + "s"] += 1
            if status == 503:
                chaos["stopped_with_503"] += 1
            else:
                chaos["unexpected"].append(f"{name}: {status} {body[:120]}")
        now = time.monotonic()
        if now >= next_release:
            next_release += release_every
            if chaos["deploys"] > chaos["rollbacks"]:
                code, out = edge_cli(edge, admin, "rollback", "app")
                chaos["rollbacks"] += 1
            else:
                version += 1
                code, out = edge_cli(edge, admin, "deploy", str(app(root, version)))
                chaos["deploys"] += 1
            if code != 0:
                chaos["release_errors"].append(out.strip())
        if options.hosts and now >= next_kill:
            next_kill += kill_every
            hosts = hosts_of(node.pid)
            if hosts:
                os.kill(hosts[0], signal.SIGKILL)
                chaos["hosts_killed"] += 1
        time.sleep(3)

    results = {name: parse_wrk(w.communicate()[0]) for name, w in wrks.items()}
    slow.wait(timeout=60)
    # The slowloris connections are gone once their header timeout has passed.
    time.sleep(1)
    rss_end, files_end = figures(node.pid)
    app_status, app_body = ask(address, "app")
    node.send_signal(signal.SIGTERM)
    node.wait(timeout=60)

    summary = {
        "duration_s": duration,
        "mode": "isolate hosts" if options.hosts else "in process",
        "good_requests": sum(r["requests"] for r in results.values()),
        "good_failed": sum(r["failed"] for r in results.values()),
        "p99_ms": max((r["p99_ms"] for r in results.values() if r["p99_ms"] is not None), default=None),
        "by_worker": {name: {k: r[k] for k in ("requests", "failed", "p99_ms")} for name, r in results.items()},
        "rss_start_mib": round(rss_start / 2**20, 1),
        "rss_end_mib": round(rss_end / 2**20, 1),
        "open_files_start": files_start,
        "open_files_end": files_end,
        "app_at_end": f"{app_status} {app_body}",
        "chaos": chaos,
        # Besides the host deaths the soak causes.
        "node_errors": [line.strip() for line in log if " ERROR " in line and "an isolate host died" not in line][:20],
        "hosts_died": sum("an isolate host died" in line for line in log),
        # From each death noticed to its workers running on a new host, as the node logs it.
        "recovery_ms": [float(m.group(1)) for m in
                        (re.search(r'ms="?([\d.]+)', line) for line in log
                         if "recovered from an isolate host's death" in line) if m],
    }
    for name, r in results.items():
        if r["failed"] or r["p99_ms"] is None:
            summary.setdefault("wrk_output", {})[name] = r["raw"]
    print(json.dumps(summary, indent=2))
    if options.json:
        Path(options.json).write_text(json.dumps(summary))
    if options.write_results:
        write_results(Path(options.write_results), summary)


def write_results(path, s):
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    c = s["chaos"]
    section = f"""## {time.strftime('%Y-%m-%d')} — soak, {s['duration_s'] // 60} min, {s['mode']} (`benches/soak/run.py`)

2-vCPU AMD EPYC VM (shared), release build of {commit}. One `edge node`; wrk (1 thread, {CONNECTIONS}
connections each) on {', '.join(s['by_worker'])}; a deploy or a rollback every 30 s; a
CPU hog and a memory bomb every 3 s; {SLOW} slowloris connections (`slowhttptest -H`){'; one isolate host SIGKILLed every 60 s' if s['mode'] == 'isolate hosts' else ''}.

| good requests | failed | p99 (worst worker) | RSS start → end | open files start → end |
|---|---|---|---|---|
| {s['good_requests']:,} | {s['good_failed']} | {s['p99_ms']:.1f} ms | {s['rss_start_mib']} → {s['rss_end_mib']} MiB | {s['open_files_start']} → {s['open_files_end']} |

Hogs and bombs: {c['hogs'] + c['bombs']} sent, {c['stopped_with_503']} stopped with 503; {c['deploys']} deploys and
{c['rollbacks']} rollbacks ({len(c['release_errors'])} failed){f"; {c['hosts_killed']} hosts killed" if s['mode'] == 'isolate hosts' else ''}.
By worker: {'; '.join(f"{name} {w['requests']:,} requests, {w['failed']} failed, p99 {w['p99_ms']} ms" for name, w in s['by_worker'].items())}.{f" Workers running again after each host death (ms): {s['recovery_ms']}." if s.get('recovery_ms') else ''}

"""
    text = path.read_text()
    head, marker, rest = text.partition("\n## ")
    path.write_text(head + "\n" + section + "## " + rest if marker else text + "\n" + section)


if __name__ == "__main__":
    main()

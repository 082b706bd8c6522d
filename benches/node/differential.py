"""Serves the wrangler bundle in dist/ with workerd and with `edge dev`, asks both the same
requests, and prints a table of which answers are the same. Called by differential.sh, which
installs the project, bundles it and passes the binaries.

Each path answers a JSON object of named checks (src/report.js); a difference is reported by
check, with both answers. The /als path is also asked by CONCURRENT requests at once, each with
its own id and delay, so that their awaits and timers interleave in one isolate: each answer must
still see its own store, and must equal workerd's answer for the same id.

With --node, Node.js answers the same requests too (node_reference.mjs runs the worker's source
without wrangler): not compared, but each difference says which side Node agrees with, which is
how a difference is told to be ours or workerd's own.

Writes the answers of each runtime to out/ (ignored by git) and, with --markdown FILE, the table
as Markdown. Exits 1 when any answer differs.
"""

import argparse
import concurrent.futures
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import tomllib
import urllib.error
import urllib.request
from pathlib import Path

PATHS = ["/", "/als?id=solo&delay=2", "/buffer", "/crypto", "/stream", "/events", "/util", "/legacy", "/globals",
         "/missing"]
CONCURRENT = 8  # simultaneous /als requests, per round
ROUNDS = 3
START_TIMEOUT = 30.0


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(base, path):
    """(status, parsed body): JSON when it parses, else the text."""
    try:
        with urllib.request.urlopen(base + path, timeout=30) as response:
            status, body = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, body = error.code, error.read()
    except OSError as error:
        return None, f"request failed: {error}"
    text = body.decode("utf-8", "replace")
    try:
        return status, json.loads(text)
    except ValueError:
        return status, text


def wait_http(base, process, name):
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"{name} exited with {process.returncode} before serving; see out/{name}.log")
        status, _ = get(base, "/")
        if status is not None:
            return
        time.sleep(0.1)
    sys.exit(f"{name} did not serve within {START_TIMEOUT} s")


def settings(project):
    config = tomllib.loads((project / "wrangler.toml").read_text())
    return config["compatibility_date"], config.get("compatibility_flags", [])


def bundle_modules(dist):
    """The bundle's modules, the entry (index.js) first, as wrangler wrote them."""
    names = sorted(p.name for p in dist.iterdir() if p.suffix in (".js", ".mjs"))
    if "index.js" not in names:
        sys.exit(f"no index.js in {dist}: did wrangler bundle?")
    names.remove("index.js")
    return ["index.js"] + names


def start_workerd(workerd, dist, date, flags, folder):
    port = free_port()
    names = bundle_modules(dist)
    for name in names:
        shutil.copy(dist / name, folder / name)
    modules = ", ".join(f'(name = "{name}", esModule = embed "{name}")' for name in names)
    (folder / "config.capnp").write_text(f"""using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "main", worker = (
      modules = [{modules}],
      compatibilityDate = "{date}",
      compatibilityFlags = {json.dumps(flags)},
    )),
  ],
  sockets = [(name = "http", address = "127.0.0.1:{port}", http = (), service = "main")],
);
""")
    log = open(folder / "workerd.log", "wb")
    process = subprocess.Popen([str(workerd), "serve", str(folder / "config.capnp")], cwd=folder,
                               stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    wait_http(base, process, "workerd")
    return process, base


def start_edge(edge, dist, date, flags, folder):
    worker = folder / "node-differential"
    worker.mkdir()
    for name in os.listdir(dist):
        if name.endswith((".js", ".mjs", ".map")):
            shutil.copy(dist / name, worker / name)
    (worker / "edge.toml").write_text(
        f'main = "index.js"\ncompatibility_date = "{date}"\ncompatibility_flags = {json.dumps(flags)}\n')
    # One isolate, so that the concurrent requests interleave in it as they do in workerd's; a
    # CPU limit as loose as workerd's local one (none), since QuickJS is slower than V8.
    command = [str(edge), "dev", "--listen", "127.0.0.1:0", "--isolates-per-worker", "1", "--warm-isolates", "1",
               "--cpu-ms", "10000", "--startup-cpu-ms", "10000", str(worker)]
    log = open(folder / "edge.log", "wb")
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log, env=dict(os.environ, EDGE_LOG="warn"))
    deadline = time.monotonic() + START_TIMEOUT
    base = None
    while time.monotonic() < deadline:
        line = process.stdout.readline().decode()
        if not line:
            sys.exit(f"edge dev exited with {process.wait()} before serving; see {folder / 'edge.log'}")
        found = re.search(r"serving worker .* on (http://\S+)", line)
        if found:
            base = found.group(1).rstrip("/")
            break
    if base is None:
        sys.exit(f"edge dev did not serve within {START_TIMEOUT} s")
    wait_http(base, process, "edge")
    return process, base


def concurrent_paths():
    """Groups of /als paths asked at once: CONCURRENT requests, ROUNDS times, each with its own id.
    The first request of a group waits longest, so that their continuations run in reverse order."""
    return [[f"/als?id=r{round_}c{i}&delay={(CONCURRENT - i) * 3}" for i in range(CONCURRENT)]
            for round_ in range(ROUNDS)]


def ask(base):
    """The answers of the server at `base` to PATHS, one after the other, then to each group of
    concurrent_paths() at once."""
    answers = {path: get(base, path) for path in PATHS}
    with concurrent.futures.ThreadPoolExecutor(CONCURRENT) as pool:
        for group in concurrent_paths():
            answers.update(zip(group, pool.map(lambda path: get(base, path), group)))
    return answers


def ask_node(node, project):
    """Node.js's answers to the same requests (node_reference.mjs), or {} without a node."""
    if node is None:
        return {}
    groups = [[path] for path in PATHS] + concurrent_paths()
    result = subprocess.run([str(node), "node_reference.mjs", json.dumps(groups)], cwd=project,
                            capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        print(f"node reference failed: {result.stderr.strip()[-2000:]}", file=sys.stderr)
        return {}
    return {path: tuple(answer) for path, answer in json.loads(result.stdout).items()}


def leaks(path, answer):
    """For a concurrent /als answer: whether it names another request's id (a store seen by the
    wrong request)."""
    found = re.search(r"id=(r\d+c\d+)", path)
    return bool(found) and not set(re.findall(r"r\d+c\d+", json.dumps(answer))) <= {found.group(1)}


ABSENT = "<absent>"


def differences(a, b, prefix=""):
    """The dotted names of the checks whose answers differ, descending into the bodies of two
    answers (status, body) and into objects; "" when the two differ as a whole (their status, or
    bodies that are not both objects)."""
    if a == b:
        return []
    if isinstance(a, tuple) and isinstance(b, tuple):
        return differences(a[1], b[1]) if a[0] == b[0] else [""]
    if isinstance(a, dict) and isinstance(b, dict):
        keys = list(a) + [k for k in b if k not in a]
        found = []
        for key in keys:
            found += differences(a.get(key, ABSENT), b.get(key, ABSENT), f"{prefix}.{key}" if prefix else key)
        return found
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        found = []
        for index, (x, y) in enumerate(zip(a, b)):
            found += differences(x, y, f"{prefix}[{index}]")
        return found
    return [prefix]


def tally(a, b):
    """(checks the same, checks) of two answers: a check is a leaf of the answers' objects."""
    if isinstance(a, tuple) and isinstance(b, tuple):
        return tally(a[1], b[1]) if a[0] == b[0] else (0, 1)
    if isinstance(a, dict) and isinstance(b, dict):
        counts = [tally(a.get(k, ABSENT), b.get(k, ABSENT)) for k in list(a) + [k for k in b if k not in a]]
        return sum(same for same, _ in counts), sum(total for _, total in counts)
    return int(a == b), 1


def pick(answer, name):
    """The part of an answer (status, body) that `differences` named."""
    if answer is None:
        return ABSENT
    if name == "":
        return answer
    value = answer[1]
    for key, index in re.findall(r"([^.\[\]]+)|\[(\d+)\]", name):
        if key:
            value = value.get(key, ABSENT) if isinstance(value, dict) else ABSENT
        else:
            value = value[int(index)] if isinstance(value, list) and int(index) < len(value) else ABSENT
    return value


def short(value, width=1500):
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= width else text[:width] + f"… ({len(text)} chars)"


def label(path):
    """The row of a path: the concurrent /als requests share one."""
    return f"/als, {CONCURRENT} concurrent × {ROUNDS}" if re.search(r"id=r\d+c\d+", path) else path


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--edge", type=Path, required=True)
    parser.add_argument("--workerd", type=Path, required=True)
    parser.add_argument("--node", type=Path, help="a Node.js to ask too, for reference (not compared)")
    parser.add_argument("--project", type=Path, required=True)
    parser.add_argument("--markdown", type=Path, help="also write the result table here, as Markdown")
    args = parser.parse_args()
    dist = args.project / "dist"
    date, flags = settings(args.project)
    out = args.project / "out"
    out.mkdir(exist_ok=True)

    answers = {}
    with tempfile.TemporaryDirectory(prefix="node-differential-") as tmp:
        tmp = Path(tmp)
        servers = {}
        try:
            for name, start in [("workerd", start_workerd), ("edge", start_edge)]:
                folder = tmp / name
                folder.mkdir()
                servers[name] = start(getattr(args, name), dist, date, flags, folder)
            for name, (_, base) in servers.items():
                answers[name] = ask(base)
        finally:
            for process, _ in servers.values():
                process.terminate()
                process.wait(timeout=10)
            for log in tmp.glob("*/*.log"):
                shutil.copy(log, out / log.name)
    answers["node"] = ask_node(args.node, args.project)
    for name, by_path in answers.items():
        (out / f"{name}.json").write_text(json.dumps(by_path, indent=2, ensure_ascii=False) + "\n")

    # One row per path (the concurrent /als requests folded into one): which checks differ.
    rows = {}
    details = {}
    for path, theirs in answers["workerd"].items():
        ours, node = answers["edge"][path], answers["node"].get(path)
        row = rows.setdefault(label(path), {"asked": 0, "differing": 0, "checks": [], "leaks": [], "same": 0, "total": 0})
        row["asked"] += 1
        same, total = tally(theirs, ours)
        row["same"] += same
        row["total"] += total
        names = differences(theirs, ours)
        leaked = [name for name in ("workerd", "edge") if leaks(path, answers[name][path])]
        row["leaks"] += [name for name in leaked if name not in row["leaks"]]
        if names or leaked:
            row["differing"] += 1
        for name in names:
            if name not in row["checks"]:
                row["checks"].append(name)
                details[(label(path), name)] = (path, pick(theirs, name), pick(ours, name), pick(node, name))

    def verdict(workerd, edge, node):
        if not answers["node"]:
            return ""
        return {(True, False): "edge = Node", (False, True): "workerd = Node",
                (False, False): "neither = Node"}.get((edge == node, workerd == node), "")

    table = ["| path | result | checks the same | checks that differ (which side Node.js agrees with) |",
             "|---|---|---|---|"]
    for row_label, row in rows.items():
        result = "differs" if row["differing"] else "same"
        notes = [f"`{name or '(whole answer)'}` ({verdict(*details[(row_label, name)][1:])})".replace(" ()", "")
                 for name in row["checks"]]
        if row["leaks"]:
            notes.append(f"a store of another request seen by {', '.join(row['leaks'])}")
        counts = f"{row['same']}/{row['total']}"
        if row["asked"] > 1:
            counts += f" (in {row['asked']} answers)"
        table.append(f"| `{row_label}` | {result} | {counts} | {'; '.join(notes)} |")
    print("\n".join(table))
    for (row_label, name), (path, theirs, ours, node) in details.items():
        print(f"\n{path} → {name or '(whole answer)'}")
        print(f"  workerd: {short(theirs)}\n  edge:    {short(ours)}")
        if answers["node"]:
            print(f"  node:    {short(node)}")
    differing = sum(1 for row in rows.values() if row["differing"])
    print(f"\n{len(rows) - differing} paths same, {differing} differ (answers of each runtime in {out})")
    if args.markdown:
        args.markdown.write_text("\n".join(table) + "\n")
    return 1 if differing else 0


if __name__ == "__main__":
    sys.exit(main())

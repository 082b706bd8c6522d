"""Runs a selection of Node.js's own test files (test/parallel) as workers under `edge dev`
and prints, per module, how many apply, pass and fail, with each failure's first error.
Called by run.sh; see README.md.

Each test file becomes one worker folder (package.json, edge.toml, worker.js, the test as
test/parallel/test.cjs, our own `common` shim in test/common), bundled by edge with the
project's esbuild; many folders are served by one `edge dev`, each at <name>.localhost.
Nothing of Node's is kept: the folders live in a temporary directory.
"""

import argparse
import concurrent.futures
import fnmatch
import hashlib
import json
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent

# glob[:N] — N: an evenly spaced sample of N of the matching files.
DEFAULT_PATTERNS = [
    "test-buffer-*.js", "test-events-*.js", "test-event-emitter-*.js", "test-path-*.js", "test-path.js",
    "test-querystring*.js", "test-url-*.js", "test-string-decoder*.js", "test-util-format*.js",
    "test-util-inspect*.js", "test-util-promisify*.js", "test-assert*.js", "test-zlib*.js",
    "test-crypto-hash*.js", "test-crypto-hmac*.js", "test-stream-*.js:60", "test-async-local-storage-*.js",
    "test-timers-*.js:25", "test-diagnostics-channel-*.js",
]

MANIFEST = """compatibility_flags = ["nodejs_compat"]
main = "worker.js"
[limits]
cpu_ms = 30000
startup_cpu_ms = 10000
"""

# "Not applicable": what a worker cannot have by design. A file is N/A when its text matches
# one of these (the first match is the reason shown).
NOT_APPLICABLE = [
    (r"^//\s*Flags:", "// Flags: line (needs node command-line flags)"),
    (r"require\(['\"](?:node:)?(child_process|fs|fs/promises|net|http|https|http2|tls|dgram|cluster|"
     r"worker_threads|inspector|repl|readline|v8|vm|tty|dns|dns/promises|os|module|wasi|trace_events)['\"]\)",
     "requires node:{0}"),
    (r"require\(['\"](?:node:)?internal/", "requires internals"),
    (r"require\(['\"]\.\./common/(?!index|countdown|tick|arraystream|duplexpair)([\w-]+)",
     "requires common/{0} (fixtures, tmpdir, child processes, ...)"),
    (r"\bcommon\.fixtures\b", "uses common.fixtures"),
    (r"process\.binding|internalBinding", "uses process.binding"),
    (r"\bcommon\.spawnPromisified\b|process\.execPath", "spawns node"),
    (r"require\(['\"]\.\./\.\./|require\(['\"]\./", "requires other files of Node's tree"),
    (r"\bglobal(This)?\.gc\b", "needs --expose-gc"),
]

MODULE_OF = [
    ("test-buffer", "buffer"), ("test-events", "events"), ("test-event-emitter", "events"),
    ("test-path", "path"), ("test-querystring", "querystring"), ("test-url", "url"),
    ("test-string-decoder", "string_decoder"), ("test-util", "util"), ("test-assert", "assert"),
    ("test-zlib", "zlib"), ("test-crypto", "crypto"), ("test-stream", "stream"),
    ("test-async-local-storage", "async_hooks"), ("test-timers", "timers"),
    ("test-diagnostics-channel", "diagnostics_channel"),
]


def module_of(name):
    for prefix, module in MODULE_OF:
        if name.startswith(prefix):
            return module
    return "other"


class Source:
    """Node's test/parallel from a checkout folder or a git dir (at a revision)."""

    def __init__(self, path, rev):
        path = Path(path)
        self.git = None
        if (path / "test" / "parallel").is_dir():
            self.root = path
        else:
            self.git = str(path)
            self.rev = rev
            self.commit = self._git("rev-parse", f"{rev}^{{commit}}").strip()
            listing = self._git("ls-tree", "--name-only", f"{self.commit}:test/parallel")
            self.names = sorted(listing.split())

    def _git(self, *args):
        return subprocess.run(["git", f"--git-dir={self.git}", *args], check=True, capture_output=True,
                              text=True).stdout

    def describe(self):
        if self.git:
            return f"{self.git} at {self.commit}"
        head = subprocess.run(["git", "-C", str(self.root), "rev-parse", "HEAD"], capture_output=True, text=True)
        return f"{self.root}" + (f" at {head.stdout.strip()}" if head.returncode == 0 else "")

    def list(self):
        if self.git:
            return self.names
        return sorted(p.name for p in (self.root / "test" / "parallel").iterdir())

    def read(self, name):
        if self.git:
            return self._git("show", f"{self.commit}:test/parallel/{name}")
        return (self.root / "test" / "parallel" / name).read_text()


def select(names, patterns):
    chosen = []
    for pattern in patterns:
        glob, _, count = pattern.partition(":")
        matches = [n for n in names if fnmatch.fnmatchcase(n, glob) and n.endswith(".js")]
        if count:
            n = int(count)
            if len(matches) > n:
                matches = [matches[i * len(matches) // n] for i in range(n)]
        chosen += [m for m in matches if m not in chosen]
    return chosen


def not_applicable(text):
    for pattern, reason in NOT_APPLICABLE:
        match = re.search(pattern, text, re.MULTILINE)
        if match:
            return reason.format(*match.groups())
    return None


def worker_name(test):
    return re.sub(r"[^a-z0-9]+", "-", test.removesuffix(".js").lower()).strip("-")


def with_filename(text, test):
    """The test with Node's CommonJS `__filename` and `__dirname` (which a bundle for workers
    does not define), declared on its first line so that line numbers stay."""
    names = f'var __filename = "/node/test/parallel/{test}", __dirname = "/node/test/parallel";'
    strict = re.match(r"\s*(?://[^\n]*\n\s*)*(['\"])use strict\1;?", text)
    if strict:
        return text[:strict.end()] + " " + names + text[strict.end():]
    return names + " " + text


def make_worker(root, test, text, node_modules):
    folder = root / worker_name(test)
    (folder / "test" / "parallel").mkdir(parents=True)
    shutil.copytree(HERE / "harness" / "common", folder / "test" / "common")
    shutil.copy(HERE / "harness" / "worker.js", folder / "worker.js")
    (folder / "test" / "parallel" / "test.cjs").write_text(with_filename(text, test))
    (folder / "package.json").write_text(json.dumps({"name": folder.name, "private": True}))
    (folder / "edge.toml").write_text(MANIFEST)
    (folder / "node_modules").symlink_to(node_modules)
    return folder


class Edge:
    """One `edge dev` serving several worker folders."""

    def __init__(self, edge, folders, log_path):
        self.log = open(log_path, "w")
        self.process = subprocess.Popen(
            [edge, "dev", *map(str, folders), "--listen", "127.0.0.1:0"], stdout=subprocess.PIPE,
            stderr=self.log, stdin=subprocess.DEVNULL, text=True, env={"EDGE_LOG": "warn", "PATH": "/usr/bin:/bin"})
        self.url = None
        found = threading.Event()

        def read():
            for line in self.process.stdout:
                match = re.search(r"http://[\w.:]+", line)
                if match and not self.url:
                    self.url = match.group(0)
                    found.set()
            found.set()

        threading.Thread(target=read, daemon=True).start()
        found.wait(600)
        if not self.url:
            self.stop()
            raise RuntimeError(f"edge dev did not start; see {log_path}")

    def ask(self, name, timeout):
        request = urllib.request.Request(self.url + "/", headers={"Host": f"{name}.localhost"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                status, body = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, body = error.code, error.read()
        except OSError as error:
            return {"ok": False, "error": f"request failed: {error}"}
        text = body.decode("utf-8", "replace")
        try:
            answer = json.loads(text)
            if isinstance(answer, dict) and "ok" in answer:
                return answer
        except ValueError:
            pass
        first = next((l for l in text.splitlines() if l.strip()), "")
        return {"ok": False, "error": f"worker answered {status}: {first[:300]}"}

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("node", help="a Node.js checkout, or its git dir")
    parser.add_argument("patterns", nargs="*", help="file globs in test/parallel (glob:N samples N)")
    parser.add_argument("--rev", default="HEAD", help="the revision, for a git dir")
    parser.add_argument("--edge", default=str(Path.home() / ".cache/edge-runtime-target/release/edge"))
    parser.add_argument("--batch", type=int, default=60, help="workers per edge dev process")
    parser.add_argument("--jobs", type=int, default=2, help="requests at once")
    parser.add_argument("--timeout", type=float, default=60)
    parser.add_argument("--json", help="write every result to this file")
    parser.add_argument("--markdown", help="write the tables to this file")
    args = parser.parse_intermixed_args()

    node_modules = REPO / "tests" / "npm" / "node_modules"
    if not (node_modules / ".bin" / "esbuild").exists():
        sys.exit(f"{node_modules}/.bin/esbuild is missing: run bash .ci/setup")
    source = Source(args.node, args.rev)
    tests = select(source.list(), args.patterns or DEFAULT_PATTERNS)
    print(f"Node tests: {source.describe()}; {len(tests)} files selected", file=sys.stderr)

    results = {}
    applicable = []
    texts = {}
    for test in tests:
        text = source.read(test)
        reason = not_applicable(text)
        if reason:
            results[test] = {"status": "n/a", "reason": reason}
        else:
            applicable.append(test)
            texts[test] = text

    with tempfile.TemporaryDirectory(prefix="node-tests-") as tmp:
        root = Path(tmp)
        # One binary for the whole run, though others may rebuild it meanwhile.
        edge_bin = root / "edge"
        shutil.copy2(args.edge, edge_bin)
        digest = hashlib.sha256(edge_bin.read_bytes()).hexdigest()[:12]
        built = time.strftime("%Y-%m-%d %H:%M", time.localtime(edge_bin.stat().st_mtime))
        print(f"edge: {args.edge} (built {built}, sha256 {digest})", file=sys.stderr)
        for start in range(0, len(applicable), args.batch):
            batch = applicable[start:start + args.batch]
            folders = [make_worker(root, t, texts[t], node_modules) for t in batch]
            began = time.time()
            edge = Edge(str(edge_bin), folders, root / f"edge-{start}.log")
            try:
                with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
                    answers = pool.map(lambda t: (t, edge.ask(worker_name(t), args.timeout)), batch)
                    for test, answer in answers:
                        if answer.get("skipped") is not None:
                            results[test] = {"status": "skipped", "reason": answer["skipped"]}
                        elif answer.get("ok"):
                            results[test] = {"status": "pass"}
                        else:
                            error = str(answer.get("error"))
                            status = "harness" if "is not provided by the shim" in error else "fail"
                            results[test] = {"status": status, "error": error, "errors": answer.get("errors")}
            finally:
                edge.stop()
            log = (root / f"edge-{start}.log").read_text()
            print(f"batch {start // args.batch + 1}: {len(batch)} tests in {time.time() - began:.0f} s", file=sys.stderr)
            if "panicked" in log:
                print(f"edge panicked in this batch:\n{log[-2000:]}", file=sys.stderr)

    report = render(source, tests, results, f"edge built {built}, sha256 {digest}")
    print(report)
    if args.markdown:
        Path(args.markdown).write_text(report)
    if args.json:
        Path(args.json).write_text(json.dumps({"source": source.describe(), "results": results}, indent=1))


def render(source, tests, results, binary):
    modules = {}
    for test in tests:
        modules.setdefault(module_of(test), []).append(test)
    lines = [f"Node.js tests from {source.describe()}; {binary}", "",
             "| module | selected | n/a | applicable | passed | failed | harness gap | skipped |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    totals = [0] * 7
    for module, names in modules.items():
        count = lambda s: sum(1 for n in names if results[n]["status"] == s)
        row = [len(names), count("n/a"), len(names) - count("n/a"), count("pass"), count("fail"), count("harness"),
               count("skipped")]
        totals = [a + b for a, b in zip(totals, row)]
        lines.append(f"| {module} | " + " | ".join(map(str, row)) + " |")
    lines.append("| **total** | " + " | ".join(f"**{t}**" for t in totals) + " |")
    lines += ["", "Failures (first error):", ""]
    for test in tests:
        r = results[test]
        if r["status"] in ("fail", "harness"):
            lines.append(f"- {test}{' (harness)' if r['status'] == 'harness' else ''}: {r['error'][:300]}")
    lines += ["", "Skipped by the test itself (common.skip):", ""]
    lines += [f"- {t}: {results[t]['reason']}" for t in tests if results[t]["status"] == "skipped"]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()

// node --enable-source-maps bench.mjs (run.sh runs it) — bundles each project with esbuild and rolldown,
// checks the bundles under node, then times RUNS (env, default 20) alternating CLI spawns; prints markdown.
import { spawnSync } from "node:child_process";
import { appendFileSync, copyFileSync, existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import { fileURLToPath, pathToFileURL } from "node:url";

const HERE = fileURLToPath(new URL(".", import.meta.url)).replace(/\/$/, "");
const RUNS = Number(process.env.RUNS ?? 20);
const BIN = `${HERE}/node_modules/.bin`;
// Exactly edge-node/src/manifest/bundle.rs's options, then its default loaders (Rules::esbuild_loaders).
const ESBUILD_ARGS = [
  "--bundle", "--format=esm", "--target=es2022", "--platform=neutral",
  "--conditions=workerd,worker,browser", "--main-fields=workerd,worker,browser,module,main",
  "--resolve-extensions=.tsx,.ts,.jsx,.mjs,.js,.cjs,.json", "--external:node:*", "--external:cloudflare:*",
  "--asset-names=[name]-[hash]", "--sourcemap=external", "--keep-names", "--charset=utf8",
  "--log-level=error", "--color=false",
  "--loader:.bin=copy", "--loader:.html=text", "--loader:.sql=text", "--loader:.txt=text", "--loader:.wasm=copy",
];
const BUNDLERS = {
  esbuild: (t, outfile) => [`${BIN}/esbuild`, [t.entry, ...ESBUILD_ARGS, `--outfile=${outfile}`], {}],
  rolldown: (t, outfile) => [`${BIN}/rolldown`, ["-c", `${HERE}/rolldown.config.mjs`], { ENTRY: t.entry, OUTFILE: outfile }],
};
const PICKS = { condpkg: "workerd", "cond-node-first": "workerd", "cond-import-first": "import", "cond-node-default": "default", "cond-req (require)": "require" };
// fetch: [path, status, body]; trace: where /boom's throw must map; assets: text inlined, data copied; fails: must not bundle.
const TARGETS = [
  { name: "hono", proj: "hono", entry: "src/index.ts", fetch: [["/", 200, "hi: served by Hono"], ["/items/42", 200, '{"id":"42","ok":true}']] },
  { name: "hono-jsx", proj: "hono", entry: "src/page.tsx", fetch: [["/", 200, "<h1>Hello JSX</h1>"]] },
  { name: "jsx-tsconfig", proj: "jsx", entry: "src/index.tsx", fetch: [["/", 200, "<h1>Hello JSX</h1>"]] },
  { name: "cjs-ms", proj: "cjs", entry: "src/index.ts", fetch: [["/", 200, "172800000"]] },
  { name: "cond", proj: "cond", entry: "src/index.js", fetch: [["/", 200, JSON.stringify(PICKS)]] },
  { name: "trace", proj: "cjs", entry: "src/throws.ts", fetch: [["/", 200, "ok"]], trace: "cjs/src/throws.ts:7" },
  { name: "assets", proj: "assets", entry: "src/index.ts", assets: true },
  { name: "missing", proj: "cjs", entry: "src/missing.ts", fails: true },
];

const since = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;
function spawn(cmd, args, cwd, env = {}) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { cwd, env: { ...process.env, ...env }, stdio: ["ignore", "ignore", "pipe"] });
  return { ms: since(t0), ok: r.status === 0, stderr: String(r.stderr).trim() };
}
function bundle(bundler, t) {
  const outfile = `${HERE}/out/${bundler}/${t.name}.js`;
  const [cmd, args, env] = BUNDLERS[bundler](t, outfile);
  return { ...spawn(cmd, args, `${HERE}/projects/${t.proj}`, env), outfile };
}

async function check(bundler, t) {
  const b = bundle(bundler, t);
  if (t.fails) return b.ok ? "bundled (must fail)" : `fails: ${b.stderr.split("\n").find((l) => /not-installed/.test(l))?.trim() ?? b.stderr.slice(0, 80)}` +
    (existsSync(b.outfile) ? " (yet it writes a bundle, the import left external)" : "");
  if (!b.ok) return `BUNDLE FAILED: ${b.stderr.slice(0, 200)}`;
  const bad = [];
  const ctx = { waitUntil() {}, passThroughOnException() {} };
  if (t.fetch) {
    const worker = (await import(pathToFileURL(b.outfile).href)).default;
    for (const [path, status, body] of t.fetch) {
      const logged = [], consoleError = console.error; // Hono logs a handler's error, then answers 500
      console.error = (e) => logged.push(String(e).split("\n")[0]);
      try {
        const r = await worker.fetch(new Request(`http://x${path}`), {}, ctx);
        const text = await r.text();
        if (r.status !== status || text !== body) bad.push(`${path} -> ${r.status} ${text}${logged.length ? ` (logged: ${logged[0]})` : ""}`);
      } catch (e) { bad.push(`${path} threw ${e}`); } finally { console.error = consoleError; }
    }
  }
  if (t.trace) { // the bundle has no sourceMappingURL comment (as both were told): a copy gets one
    const copy = b.outfile.replace(/\.js$/, ".traced.js");
    copyFileSync(b.outfile, copy);
    appendFileSync(copy, `\n//# sourceMappingURL=${t.name}.js.map\n`);
    const worker = (await import(pathToFileURL(copy).href)).default;
    try { await worker.fetch(new Request("http://x/boom"), {}, ctx); bad.push("/boom did not throw"); } catch (e) {
      const at = e.stack.split("\n")[1].trim();
      if (!at.includes(`/projects/${t.trace}:`)) bad.push(`/boom at ${at.replace(`${HERE}/`, "")}`);
    }
  }
  if (t.assets) {
    const code = readFileSync(b.outfile, "utf8");
    if (!code.includes('"a note inlined as text\\n"')) bad.push("note.txt not inlined as text");
    const copied = code.match(/from "\.\/(data-[^"]+\.bin)"/)?.[1];
    const same = copied && readFileSync(`${HERE}/out/${bundler}/${copied}`).equals(readFileSync(`${HERE}/projects/${t.proj}/src/data.bin`));
    bad.push(...(same ? [] : [`data.bin not imported from a copy beside the bundle (${copied ?? "no import"})`]));
    if (same) return `ok (${copied})`;
  }
  return bad.length ? bad.join("; ") : "ok";
}
const want = (t) => t.fails ? "bundling fails" : t.assets ? "text inlined, ./data-HASH.bin copied + imported"
  : t.fetch.map(([p, s, b]) => `${p} ${s} \`${b}\``).join(", ") + (t.trace ? `; /boom throws at ${t.trace.replace(/^\w+\//, "")}` : "");

const loadBefore = os.loadavg().map((x) => x.toFixed(2)).join(" ");
const correctness = [];
for (const t of TARGETS) correctness.push([t.name, want(t), await check("esbuild", t), await check("rolldown", t)]);

const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const median = s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  return { median, p90: s[Math.ceil(0.9 * s.length) - 1], min: s[0] };
};
const fmt = ({ median, p90, min }) => `${median.toFixed(1)} / ${p90.toFixed(1)} / ${min.toFixed(1)}`;
const timing = [];
const nodeStart = [];
for (const t of TARGETS.filter((t) => !t.fails)) {
  const ms = { esbuild: [], rolldown: [] };
  for (let i = 0; i < RUNS; i++) {
    for (const b of i % 2 ? ["rolldown", "esbuild"] : ["esbuild", "rolldown"]) {
      const r = bundle(b, t);
      if (!r.ok) throw new Error(`${b} failed on ${t.name}: ${r.stderr}`);
      ms[b].push(r.ms);
    }
    if (t === TARGETS[0]) nodeStart.push(spawn(process.execPath, ["-e", "0"], HERE).ms);
  }
  const [e, r] = [stats(ms.esbuild), stats(ms.rolldown)];
  const size = (b) => statSync(`${HERE}/out/${b}/${t.name}.js`).size;
  timing.push([t.name, fmt(e), fmt(r), (r.median / e.median).toFixed(1) + "×", `${size("esbuild")} / ${size("rolldown")}`]);
}

const table = (head, rows) => [head, head.map(() => "---"), ...rows].map((r) => `| ${r.join(" | ")} |`).join("\n");
const esbuildExe = readFileSync(`${HERE}/node_modules/esbuild/bin/esbuild`).subarray(0, 4).toString("latin1") === "\x7fELF" ? "native binary" : "node wrapper";
const version = (p) => JSON.parse(readFileSync(`${HERE}/node_modules/${p}/package.json`, "utf8")).version;
const md = `Machine: nproc ${os.availableParallelism()}, ${os.cpus()[0].model}; node ${process.version}; ${new Date().toISOString()}; ` +
  `esbuild ${version("esbuild")} (CLI: ${esbuildExe}), rolldown ${version("rolldown")}; load average before ${loadBefore}, after ${os.loadavg().map((x) => x.toFixed(2)).join(" ")}.\n` +
  `${RUNS} runs each, CLI spawn to exit, esbuild and rolldown alternating; ms median / p90 / min. \`node -e 0\`: ${fmt(stats(nodeStart))}.\n\n` +
  table(["target", "esbuild CLI", "rolldown CLI", "rolldown/esbuild (median)", "bundle bytes esbuild / rolldown"], timing) +
  "\n\nCorrectness (each bundle's fetch run under node):\n\n" + table(["target", "want", "esbuild", "rolldown"], correctness) + "\n";
writeFileSync(`${HERE}/out/results.md`, md);
console.log(md);

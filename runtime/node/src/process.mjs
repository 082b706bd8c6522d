// node:process: what a worker's `process` can mean on an edge node: `env` (the worker's
// string variables and secrets), `nextTick` (deno_core's tick queue, which keeps the async
// context), `hrtime`, the version and platform, and an EventEmitter for the rest. Nothing
// here reaches the machine: there is no file system, no child process, no exit.

import { core } from "ext:core/mod.js";
import { op_edge_env } from "ext:core/ops";
import { EventEmitter } from "node:events";

const env = {};
for (const [name, value] of Object.entries(JSON.parse(op_edge_env()))) {
  if (typeof value === "string") {
    env[name] = value;
  }
}

const process = new EventEmitter();
const started = performance.now();

function hrtime(previous) {
  const now = BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));
  let seconds = Number(now / 1_000_000_000n);
  let nanos = Number(now % 1_000_000_000n);
  if (Array.isArray(previous)) {
    seconds -= previous[0];
    nanos -= previous[1];
    if (nanos < 0) {
      seconds -= 1;
      nanos += 1e9;
    }
  }
  return [seconds, nanos];
}
hrtime.bigint = () => BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));

Object.assign(process, {
  env,
  argv: [],
  argv0: "",
  execArgv: [],
  execPath: "",
  exitCode: undefined,
  pid: 1,
  ppid: 0,
  platform: "linux",
  arch: "x64",
  release: { name: "node" },
  title: "edge-worker",
  version: "v22.14.0",
  versions: { node: "22.14.0" },
  features: {},
  config: {},
  hrtime,
  nextTick(callback, ...args) {
    if (typeof callback !== "function") {
      throw new TypeError('The "callback" argument must be of type function');
    }
    // A tick keeps the async context it was queued in (deno_core restores it).
    core.queueNextTick({ callback, args: args.length > 0 ? args : undefined, snapshot: core.getAsyncContext() });
  },
  cwd() {
    return "/";
  },
  chdir() {
    throw new Error("process.chdir() is not supported in a worker");
  },
  umask() {
    return 0o22;
  },
  uptime() {
    return (performance.now() - started) / 1000;
  },
  memoryUsage() {
    return { rss: 0, heapTotal: 0, heapUsed: 0, external: 0, arrayBuffers: 0 };
  },
  cpuUsage() {
    return { user: 0, system: 0 };
  },
  emitWarning(warning, type) {
    const text = warning instanceof Error ? `${warning.name}: ${warning.message}` : `${type ?? "Warning"}: ${warning}`;
    console.warn(text);
  },
  exit(code) {
    throw new Error(`process.exit(${code ?? ""}) is not supported in a worker`);
  },
  abort() {
    throw new Error("process.abort() is not supported in a worker");
  },
  kill() {
    throw new Error("process.kill() is not supported in a worker");
  },
  getBuiltinModule(name) {
    return getBuiltinModule(name);
  },
});
process.memoryUsage.rss = () => 0;

/** A built-in module's namespace, loaded at once (for `process.getBuiltinModule`). */
function getBuiltinModule(name) {
  const specifier = String(name).startsWith("node:") ? String(name) : `node:${name}`;
  try {
    return core.createLazyLoader(specifier)().default;
  } catch {
    return undefined;
  }
}

export const {
  argv,
  arch,
  cwd,
  emitWarning,
  execArgv,
  exit,
  nextTick,
  pid,
  platform,
  release,
  uptime,
  version,
  versions,
} = process;
export { env, hrtime };
export default process;

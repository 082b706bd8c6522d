// node:process: what a worker's `process` can mean on an edge node: `env` (the worker's
// string variables and secrets), `nextTick` (deno_core's tick queue, which keeps the async
// context), `hrtime`, the version and platform, and an EventEmitter for the rest. Nothing
// here reaches the machine: there is no file system, no child process, no exit.

import { core } from "ext:core/mod.js";
import { op_edge_env } from "ext:core/ops";
import { EventEmitter } from "node:events";
import { invalidArgType, outOfRange } from "node:internal/errors";

const env = {};
for (const [name, value] of Object.entries(JSON.parse(op_edge_env()))) {
  if (typeof value === "string") {
    env[name] = value;
  }
}

const process = new EventEmitter();
const started = performance.now();

function hrtime(previous) {
  if (previous !== undefined) {
    if (!Array.isArray(previous)) throw invalidArgType("time", "Array", previous);
    if (previous.length !== 2) throw outOfRange("time", 2, previous.length);
  }
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
    if (typeof callback !== "function") throw invalidArgType("callback", "function", callback);
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
  emitWarning,
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

/**
 * Node's process.emitWarning(warning[, type[, code]][, ctor]) or (warning, { type, code,
 * detail }): a 'warning' event (an Error named after the type) on the next tick, also written
 * to the worker's log as Node writes it to stderr.
 */
function emitWarning(warning, type, code, ctor) {
  let detail;
  if (type !== null && typeof type === "object" && !Array.isArray(type)) {
    ctor = type.ctor;
    code = type.code;
    if (typeof type.detail === "string") detail = type.detail;
    type = type.type || "Warning";
  } else if (typeof type === "function") {
    ctor = type;
    code = undefined;
    type = "Warning";
  }
  if (type !== undefined && typeof type !== "string") throw invalidArgType("type", "string", type);
  if (typeof code === "function") {
    ctor = code;
    code = undefined;
  } else if (code !== undefined && typeof code !== "string") {
    throw invalidArgType("code", "string", code);
  }
  if (typeof warning === "string") {
    const message = warning;
    warning = new Error(message);
    warning.name = String(type || "Warning");
    if (code !== undefined) warning.code = code;
    if (detail !== undefined) warning.detail = detail;
    Error.captureStackTrace?.(warning, ctor || emitWarning);
  } else if (!(warning instanceof Error)) {
    throw invalidArgType("warning", ["Error", "string"], warning);
  }
  if (warning.name === "DeprecationWarning") {
    if (process.noDeprecation) return;
    if (process.throwDeprecation) throw warning;
  }
  process.nextTick(() => {
    process.emit("warning", warning);
    const prefix = warning.code ? `[${warning.code}] ` : "";
    console.warn(`(node:${process.pid}) ${prefix}${warning.name}: ${warning.message}`);
  });
}

/** process.stdout or process.stderr: a stream-like object whose writes go to the worker's log. */
function logStream(fd, log) {
  const stream = new EventEmitter();
  let pending = "";
  return Object.assign(stream, {
    fd,
    isTTY: false,
    writable: true,
    write(chunk, encoding, callback) {
      if (typeof encoding === "function") callback = encoding;
      const text = typeof chunk === "string" ? chunk : new TextDecoder().decode(chunk);
      // Whole lines, as the log takes them; a partial line waits for its end.
      const lines = (pending + text).split("\n");
      pending = lines.pop();
      for (const line of lines) log(line);
      if (typeof callback === "function") process.nextTick(callback);
      return true;
    },
    end(chunk, encoding, callback) {
      if (typeof chunk === "function") callback = chunk;
      else if (chunk !== undefined && chunk !== null) stream.write(chunk, encoding);
      if (pending !== "") log(pending);
      pending = "";
      if (typeof callback === "function") process.nextTick(callback);
      return stream;
    },
    cork() {},
    uncork() {},
    setDefaultEncoding() {
      return stream;
    },
    getColorDepth() {
      return 1;
    },
    hasColors() {
      return false;
    },
  });
}
process.stdout = logStream(1, (line) => console.log(line));
process.stderr = logStream(2, (line) => console.error(line));

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
export { emitWarning, env, hrtime };
export default process;

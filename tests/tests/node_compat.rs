//! Node.js compatibility (`compatibility_flags = ["nodejs_compat"]`, or a compatibility date of
//! 2026-08-04 or later): the `node:*` modules a worker imports, the globals `Buffer`,
//! `process` and `global`, AsyncLocalStorage's context across `await`, timers, microtasks and
//! ticks (and never from one request into the next), and the refusals when it is off.
//! Expected values are what Node.js itself gives for the same calls.

use edge_tests::*;

/// Uses every module there is so far; answers what each gave.
const WORKER: &str = r#"
import { Buffer } from "node:buffer";
import { EventEmitter, once, on, errorMonitor } from "node:events";
import path, { posix } from "node:path";
import { basename } from "node:path/posix";
import { StringDecoder } from "node:string_decoder";
import { AsyncLocalStorage, AsyncResource } from "node:async_hooks";
import process from "node:process";
import bare from "buffer";

const als = new AsyncLocalStorage();

export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === "/leak") {
      // Entered without a scope: must not reach the next request.
      als.enterWith("leaked");
      return new Response("entered");
    }
    if (url.pathname === "/store") return new Response(String(als.getStore()));
    return als.run(url.searchParams.get("id"), async () => {
      const out = {};
      out.base64url = Buffer.from("hello??>>").toString("base64url");
      out.fromBase64url = Buffer.from("aGVsbG8_Pz4-", "base64url").toString();
      out.hex = Buffer.from([1, 2, 255]).toString("hex");
      out.concat = Buffer.concat([Buffer.from("ab"), Buffer.alloc(2, 0x63)]).toString("latin1");
      out.readUInt32BE = Buffer.from([0xde, 0xad, 0xbe, 0xef]).readUInt32BE(0);
      out.bufferGlobal = globalThis.Buffer === Buffer && bare.Buffer === Buffer;
      const emitter = new EventEmitter();
      setTimeout(() => emitter.emit("go", 42), 1);
      out.once = (await once(emitter, "go"))[0];
      const seen = [];
      emitter.on(errorMonitor, (e) => seen.push(`monitor ${e.message}`));
      emitter.on("error", (e) => seen.push(`error ${e.message}`));
      emitter.emit("error", new Error("boom"));
      out.errorMonitor = seen;
      const ticks = on(emitter, "tick");
      queueMicrotask(() => { emitter.emit("tick", 1); emitter.emit("tick", 2); });
      const got = [];
      for await (const [n] of ticks) { got.push(n); if (got.length === 2) break; }
      out.on = got;
      out.join = path.join("/a/b", "../c", "d.txt");
      out.relative = path.relative("/data/a/b", "/data/c");
      out.parse = posix.parse("/home/u/file.tar.gz");
      out.basename = basename("/x/y.js", ".js");
      const decoder = new StringDecoder("utf8");
      out.decoder = decoder.write(Buffer.from([0xe2, 0x82])) + decoder.end(Buffer.from([0xac]));
      await new Promise((resolve) => setTimeout(resolve, 5));
      out.afterTimer = als.getStore();
      out.afterMicrotask = await new Promise((resolve) => queueMicrotask(() => resolve(als.getStore())));
      out.afterTick = await new Promise((resolve) => process.nextTick(() => resolve(als.getStore())));
      const resource = als.run("other", () => new AsyncResource("job"));
      out.resource = resource.runInAsyncScope(() => als.getStore());
      out.afterResource = als.getStore();
      out.env = process.env.GREETING;
      out.process = [globalThis.process === process, process.platform, typeof process.version, process.cwd()];
      out.global = global === globalThis;
      return Response.json(out);
    });
  },
};
"#;

async fn check_everything(server: &DevServer, host: &str) {
  let reply = get_on(server, host, "/?id=first").await;
  assert_eq!(reply.status, 200, "{}\n{}", reply.body, server.log.text());
  let out = reply.json();
  assert_eq!(out["base64url"], "aGVsbG8_Pz4-");
  assert_eq!(out["fromBase64url"], "hello??>>");
  assert_eq!(out["hex"], "0102ff");
  assert_eq!(out["concat"], "abcc");
  assert_eq!(out["readUInt32BE"], 3735928559u64);
  assert_eq!(out["bufferGlobal"], true);
  assert_eq!(out["once"], 42);
  assert_eq!(out["errorMonitor"], serde_json::json!(["monitor boom", "error boom"]));
  assert_eq!(out["on"], serde_json::json!([1, 2]));
  assert_eq!(out["join"], "/a/c/d.txt");
  assert_eq!(out["relative"], "../../c");
  assert_eq!(
    out["parse"],
    serde_json::json!({"root": "/", "dir": "/home/u", "base": "file.tar.gz", "ext": ".gz", "name": "file.tar"})
  );
  assert_eq!(out["basename"], "y");
  assert_eq!(out["decoder"], "€");
  for after in ["afterTimer", "afterMicrotask", "afterTick", "afterResource"] {
    assert_eq!(out[after], "first", "the store after {after}: {out}");
  }
  assert_eq!(out["resource"], "other", "an AsyncResource runs in the context it was made in");
  assert_eq!(out["env"], "hi");
  assert_eq!(out["process"], serde_json::json!([true, "linux", "string", "/"]));
  assert_eq!(out["global"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_with_nodejs_compat_uses_node_modules() {
  let root = tempfile::tempdir().unwrap();
  let dir = node_worker(root.path(), "node", WORKER, NODE_MANIFEST);
  let server = DevServer::start(&dir);
  check_everything(&server, "node.localhost").await;

  // Concurrent requests each keep their own store across their awaits.
  let requests: Vec<_> = (0..8)
    .map(|i| {
      let url = server.at(&format!("/?id=r{i}"));
      tokio::spawn(async move { get(&url).await })
    })
    .collect();
  for (i, request) in requests.into_iter().enumerate() {
    let out = request.await.unwrap().json();
    assert_eq!(out["afterTimer"], format!("r{i}"), "{out}");
    assert_eq!(out["afterTick"], format!("r{i}"), "{out}");
  }

  // A store entered without a scope stays in its request.
  assert_eq!(get(&server.at("/leak")).await.body, "entered");
  assert_eq!(get(&server.at("/store")).await.body, "undefined");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn isolate_hosts_give_node_modules_too() {
  let root = tempfile::tempdir().unwrap();
  node_worker(root.path(), "node", WORKER, NODE_MANIFEST);
  let server = DevServer::node(root.path(), &["--recycle-hosts-after", "10"]);
  check_everything(&server, "node.edge.localhost").await;
}

#[test]
fn node_modules_are_refused_with_the_reason_when_compatibility_is_off() {
  let root = tempfile::tempdir().unwrap();
  let source = "import { Buffer } from \"node:buffer\";\nexport default { fetch() { return new Response(Buffer.from('x')); } };\n";
  for manifest in [
    "",
    "compatibility_date = \"2025-06-01\"\n",
    "compatibility_date = \"2027-01-01\"\ncompatibility_flags = [\"no_nodejs_compat\"]\n",
  ] {
    let dir = node_worker(root.path(), "off", source, manifest);
    let failed = DevServer::try_start(&dir).err().expect("node:buffer is refused without Node compatibility");
    assert!(
      failed.stderr.contains("cannot import \"node:buffer\"")
        && failed.stderr.contains("Node.js compatibility is off"),
      "{manifest}: {}",
      failed.stderr
    );
  }
  // A bare built-in name says the same; another bare name is an ordinary import.
  let bare = "import b from \"buffer\";\nexport default { fetch() { return new Response(''); } };\n";
  let failed =
    DevServer::try_start(&node_worker(root.path(), "bare", bare, "")).err().expect("\"buffer\" is refused");
  assert!(failed.stderr.contains("Node.js compatibility is off"), "{}", failed.stderr);
  let other = "import l from \"lodash\";\nexport default { fetch() { return new Response(''); } };\n";
  let failed = DevServer::try_start(&node_worker(root.path(), "lodash", other, NODE_MANIFEST))
    .err()
    .expect("\"lodash\" is no module");
  assert!(failed.stderr.contains("\"lodash\""), "{}", failed.stderr);
  // A module this runtime does not have is named.
  let dir = node_worker(
    root.path(),
    "none",
    "import \"node:nonexistent\";\nexport default { fetch() { return new Response(''); } };\n",
    NODE_MANIFEST,
  );
  let failed = DevServer::try_start(&dir).err().expect("node:nonexistent is refused");
  assert!(failed.stderr.contains("no Node.js module \"node:nonexistent\""), "{}", failed.stderr);
  // A worker cannot reach the runtime's internals.
  let dir = node_worker(root.path(), "internal", "import { core } from \"ext:core/mod.js\";\nexport default { fetch() { return new Response(typeof core); } };\n", NODE_MANIFEST);
  let failed = DevServer::try_start(&dir).err().expect("ext: modules are internal");
  assert!(failed.stderr.contains("ext:core/mod.js"), "{}", failed.stderr);
  // Contradicting flags are refused at once.
  let dir = node_worker(
    root.path(),
    "both",
    source,
    "compatibility_flags = [\"nodejs_compat\", \"no_nodejs_compat\"]\n",
  );
  let failed = DevServer::try_start(&dir).err().expect("contradicting flags are refused");
  assert!(failed.stderr.contains("contradict"), "{}", failed.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recent_compatibility_date_turns_node_on_and_globals_are_absent_without_it() {
  let root = tempfile::tempdir().unwrap();
  let probe =
    "export default { fetch() { return Response.json([typeof Buffer, typeof process, typeof global]); } };\n";
  let dated = node_worker(root.path(), "dated", probe, "compatibility_date = \"2026-08-04\"\n");
  let server = DevServer::start(&dated);
  assert_eq!(get(&server.at("/")).await.json(), serde_json::json!(["function", "object", "object"]));
  let plain = node_worker(root.path(), "plain", probe, "compatibility_date = \"2026-08-03\"\n");
  let server = DevServer::start(&plain);
  assert_eq!(get(&server.at("/")).await.json(), serde_json::json!(["undefined", "undefined", "undefined"]));
}

/// node:util, node:util/types, node:timers (+promises) and node:diagnostics_channel.
const UTIL_WORKER: &str = r#"import util, { promisify, inspect, format, types, inherits, callbackify, isDeepStrictEqual } from "node:util";
import { isUint8Array } from "node:util/types";
import timers, { setTimeout as later } from "node:timers";
import { setTimeout as sleep, setInterval as every } from "node:timers/promises";
import dc from "node:diagnostics_channel";
import { AsyncLocalStorage } from "node:async_hooks";
import { EventEmitter } from "node:events";

export default {
  async fetch() {
    const out = {};
    out.inspect = inspect(new Map([[1, { a: [1, 2, { b: "x" }] }]]));
    out.format = format("%s=%d %j %o", "a", 42, { j: 1 }, [1]);
    out.types = [types.isDate(new Date()), isUint8Array(new Uint8Array(1)), types.isPromise(Promise.resolve()), types.isAsyncFunction(async () => {}), types.isRegExp(/x/)];
    const cb = (x, done) => later(() => done(null, x * 2), 1);
    out.promisify = await promisify(cb)(21);
    out.callbackify = await new Promise((r) => callbackify(async (x) => x + 1)(1, (e, v) => r(v)));
    function Child() { EventEmitter.call(this); }
    inherits(Child, EventEmitter);
    out.inherits = new Child() instanceof EventEmitter && Child.super_ === EventEmitter;
    out.deep = [isDeepStrictEqual({ a: [1, { b: 2 }] }, { a: [1, { b: 2 }] }), isDeepStrictEqual({ a: 1 }, { a: "1" })];
    const t = later(() => {}, 1000);
    out.timeout = [typeof t.ref, typeof t.unref, typeof +t, t.hasRef()];
    timers.clearTimeout(t);
    out.sleep = await sleep(2, "slept");
    const ticks = [];
    for await (const v of every(1, "tick")) { ticks.push(v); if (ticks.length === 3) break; }
    out.every = ticks;
    const ch = dc.channel("edge:test");
    const seen = [];
    ch.subscribe((m, name) => seen.push([m.n, name]));
    ch.publish({ n: 1 });
    out.channel = [seen, dc.hasSubscribers("edge:test")];
    const store = new AsyncLocalStorage();
    ch.bindStore(store, (m) => `store ${m.n}`);
    out.runStores = ch.runStores({ n: 2 }, () => store.getStore());
    const tc = dc.tracingChannel("edge:trace");
    const events = [];
    tc.subscribe({ start: () => events.push("start"), end: () => events.push("end"), asyncEnd: () => events.push("asyncEnd") });
    await tc.tracePromise(async () => 1);
    out.tracing = events;
    out.defaultInspect = util.inspect("x");
    return Response.json(out);
  },
};
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn util_timers_and_diagnostics_channel_answer_as_node_does() {
  let out = node_answer("util", UTIL_WORKER).await;
  // What Node.js 20 prints for the same calls.
  assert_eq!(out["inspect"], "Map(1) { 1 => { a: [ 1, 2, [Object] ] } }");
  assert_eq!(out["format"], "a=42 {\"j\":1} [ 1, [length]: 1 ]");
  assert_eq!(out["defaultInspect"], "'x'");
  assert_eq!(out["types"], serde_json::json!([true, true, true, true, true]));
  assert_eq!(out["promisify"], 42);
  assert_eq!(out["callbackify"], 2);
  assert_eq!(out["inherits"], true);
  assert_eq!(out["deep"], serde_json::json!([true, false]));
  assert_eq!(out["timeout"], serde_json::json!(["function", "function", "number", true]));
  assert_eq!(out["sleep"], "slept");
  assert_eq!(out["every"], serde_json::json!(["tick", "tick", "tick"]));
  assert_eq!(out["channel"], serde_json::json!([[[1, "edge:test"], [2, "edge:test"]], true]));
  assert_eq!(out["runStores"], "store 2");
  assert_eq!(out["tracing"], serde_json::json!(["start", "end", "asyncEnd"]));
}

/// node:stream (a pipeline through a Transform, with the async context kept), stream/promises,
/// stream/web, and the conversions to and from Web streams.
const STREAM_WORKER: &str = r#"import { Readable, Writable, Transform, PassThrough, pipeline, finished, Duplex } from "node:stream";
import { pipeline as pipelineP } from "node:stream/promises";
import { ReadableStream as RS } from "node:stream/web";
import { AsyncLocalStorage } from "node:async_hooks";

const als = new AsyncLocalStorage();

export default {
  async fetch() {
    return als.run("ctx", async () => {
      const out = {};
      const chunks = [];
      await pipelineP(
        Readable.from(["a", "b", "c"]),
        new Transform({ transform(chunk, enc, cb) { cb(null, chunk.toString().toUpperCase()); } }),
        new Writable({ write(chunk, enc, cb) { chunks.push(chunk.toString() + ":" + als.getStore()); cb(); } }),
      );
      out.pipeline = chunks;
      out.cb = await new Promise((resolve) => {
        const pass = new PassThrough();
        let data = "";
        pass.on("data", (d) => (data += d));
        pipeline(Readable.from(["x", "y"]), pass, (err) => resolve([err ?? null, data]));
      });
      const web = Readable.toWeb(Readable.from([new TextEncoder().encode("web!")]));
      out.toWeb = await new Response(web).text();
      const node = Readable.fromWeb(new Response("from web").body);
      let text = "";
      for await (const c of node) text += Buffer.from(c).toString();
      out.fromWeb = text;
      out.webSame = RS === ReadableStream;
      out.finished = await new Promise((r) => { const s = Readable.from(["1"]); finished(s, (e) => r(e ?? "done")); s.resume(); });
      const body = Readable.toWeb(Readable.from(["streamed ", "body"]));
      out.response = await new Response(body).text();
      return Response.json(out);
    });
  },
};
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_pipe_and_convert_to_and_from_web_streams() {
  let out = node_answer("stream", STREAM_WORKER).await;
  assert_eq!(
    out,
    serde_json::json!({
      "pipeline": ["A:ctx", "B:ctx", "C:ctx"],
      "cb": [null, "xy"],
      "toWeb": "web!",
      "fromWeb": "from web",
      "webSame": true,
      "finished": "done",
      "response": "streamed body",
    })
  );
}

//! Node's node:events and node:util beyond the basics (`nodejs_compat`), as the Node.js
//! differential (benches/node) found them missing: events.once/on with an AbortSignal,
//! captureRejections, ERR_UNHANDLED_ERROR, EventEmitterAsyncResource and get/setMaxListeners;
//! util.inspect of promises, Map/Set iterators and proxies (what only the engine knows),
//! types.isProxy, inherits' errors, parseArgs, styleText, the system error names, parseEnv and
//! the smaller helpers; node:stream's high-water-mark functions, the globals setImmediate and
//! clearImmediate, and AsyncResource without a `type`.
//!
//! Each worker's `run()` was also run under Node.js 20.20.2 (`node worker.mjs` prints what it
//! gave: the last line of each worker); the expected values are that output, pasted.

use edge_tests::*;

/// node:events: abortable once/on, captured rejections, unhandled errors, the async resource.
const EVENTS: &str = r##"
import * as events from "node:events";
import { EventEmitter, EventEmitterAsyncResource, captureRejectionSymbol, errorMonitor, getMaxListeners, setMaxListeners, once, on } from "node:events";

const error = (e) => [e.name, e.code, e.message];
const thrown = (f) => { try { f(); return "no error"; } catch (e) { return error(e); } };

async function run() {
  const out = {};
  const e = new EventEmitter();
  const controller = new AbortController();
  const waiting = once(e, "never", { signal: controller.signal });
  const during = [e.listenerCount("never"), e.listenerCount("error")];
  controller.abort();
  out.onceAbort = await waiting.then(() => "resolved", (x) => [error(x), x.cause.name, Object.keys(x), during,
    e.listenerCount("never"), e.listenerCount("error")]);
  const aborted = AbortSignal.abort("why");
  out.onceAborted = await once(e, "x", { signal: aborted }).catch((x) => [error(x), x.cause]);
  out.onceBadSignal = await once(e, "x", { signal: 1 }).catch(error);
  const target = new EventTarget();
  const fromTarget = once(target, "ping");
  target.dispatchEvent(new Event("ping"));
  out.onceTarget = (await fromTarget)[0].type;
  const iterated = new AbortController();
  const iterator = on(e, "tick", { signal: iterated.signal });
  e.emit("tick", 1);
  const first = await iterator.next();
  iterated.abort();
  out.onAbort = await iterator.next().catch((x) => [first.value, error(x), e.listenerCount("tick")]);

  const capturing = new EventEmitter({ captureRejections: true });
  const rejected = new Promise((resolve) => capturing.on("error", (x) => resolve(x.message)));
  capturing.on("x", async () => { throw new Error("rejected listener"); });
  capturing.emit("x");
  out.captureRejections = await rejected;
  const toSymbol = new EventEmitter({ captureRejections: true });
  const bySymbol = new Promise((resolve) => { toSymbol[captureRejectionSymbol] = (x, type, ...args) => resolve([x.message, type, args]); });
  toSymbol.on("x", async () => { throw new Error("to symbol"); });
  toSymbol.emit("x", 1, 2);
  out.captureRejectionSymbol = await bySymbol;
  EventEmitter.captureRejections = true;
  const byDefault = new EventEmitter();
  EventEmitter.captureRejections = false;
  const defaulted = new Promise((resolve) => byDefault.on("error", (x) => resolve(x.message)));
  byDefault.on("x", () => Promise.reject(new Error("by default")));
  byDefault.emit("x");
  out.captureByDefault = [await defaulted, EventEmitter.captureRejections, Object.getOwnPropertySymbols(new EventEmitter()).map(String)];
  out.captureNotBoolean = thrown(() => new EventEmitter({ captureRejections: 1 }));

  out.unhandledString = (() => { try { new EventEmitter().emit("error", "not an Error"); } catch (x) { return [error(x), x.context, Object.keys(x), String(x)]; } })();
  out.unhandledNothing = thrown(() => new EventEmitter().emit("error"));
  out.unhandledObject = thrown(() => new EventEmitter().emit("error", { a: 1 }));
  const monitored = new EventEmitter();
  const seen = [];
  monitored.on(errorMonitor, (x) => seen.push(`monitor ${x.message}`));
  seen.push(thrown(() => monitored.emit("error", new Error("m")))[2]);
  out.errorMonitor = seen;

  const resource = new EventEmitterAsyncResource({ name: "X" });
  let heard;
  resource.on("a", function (v) { heard = [this === resource, v]; });
  resource.emit("a", 1);
  class Sub extends EventEmitterAsyncResource {}
  out.asyncResource = [heard, typeof resource.asyncId, resource.asyncResource.constructor.name,
    resource.asyncResource.eventEmitter === resource, thrown(() => new EventEmitterAsyncResource()),
    resource instanceof EventEmitter, Object.getOwnPropertyNames(EventEmitterAsyncResource.prototype), new Sub() instanceof EventEmitter];
  const limited = new EventTarget();
  const before = getMaxListeners(limited);
  setMaxListeners(3, limited);
  out.maxListeners = [before, getMaxListeners(limited), getMaxListeners(new EventEmitter().setMaxListeners(7)),
    thrown(() => getMaxListeners({})), thrown(() => setMaxListeners(-1))];
  function Old() { EventEmitter.call(this); }
  Object.setPrototypeOf(Old.prototype, EventEmitter.prototype);
  const old = new Old();
  old.on("x", (v) => (heard = v));
  old.emit("x", 5);
  out.oldStyle = [heard, old instanceof EventEmitter];
  out.statics = [EventEmitter.usingDomains, typeof EventEmitter.init, EventEmitter.EventEmitterAsyncResource === EventEmitterAsyncResource,
    EventEmitter.EventEmitter === EventEmitter, events.default === EventEmitter, EventEmitter.prototype.constructor === EventEmitter, EventEmitter.name];
  out.exports = ["once", "on", "errorMonitor", "captureRejectionSymbol", "getEventListeners", "setMaxListeners", "EventEmitterAsyncResource",
    "listenerCount", "addAbortListener", "getMaxListeners", "usingDomains", "captureRejections", "defaultMaxListeners", "init"].map((k) => [k, typeof events[k]]);
  return out;
}
"##;

/// What Node 20.20.2 printed for [`EVENTS`].
const EVENTS_FROM_NODE: &str = r##"{
  "onceAbort": [["AbortError","ABORT_ERR","The operation was aborted"],"AbortError",["code","name"],[1,1],0,0],
  "onceAborted": [["AbortError","ABORT_ERR","The operation was aborted"],"why"],
  "onceBadSignal": ["TypeError","ERR_INVALID_ARG_TYPE","The \"options.signal\" property must be an instance of AbortSignal. Received type number (1)"],
  "onceTarget": "ping",
  "onAbort": [[1],["AbortError","ABORT_ERR","The operation was aborted"],0],
  "captureRejections": "rejected listener",
  "captureRejectionSymbol": ["to symbol","x",[1,2]],
  "captureByDefault": ["by default",false,["Symbol(shapeMode)","Symbol(kCapture)"]],
  "captureNotBoolean": ["TypeError","ERR_INVALID_ARG_TYPE","The \"options.captureRejections\" property must be of type boolean. Received type number (1)"],
  "unhandledString": [["Error","ERR_UNHANDLED_ERROR","Unhandled error. ('not an Error')"],"not an Error",["code","context"],"Error [ERR_UNHANDLED_ERROR]: Unhandled error. ('not an Error')"],
  "unhandledNothing": ["Error","ERR_UNHANDLED_ERROR","Unhandled error. (undefined)"],
  "unhandledObject": ["Error","ERR_UNHANDLED_ERROR","Unhandled error. ({ a: 1 })"],
  "errorMonitor": ["monitor m","m"],
  "asyncResource": [[true,1],"number","EventEmitterReferencingAsyncResource",true,["TypeError","ERR_INVALID_ARG_TYPE","The \"options.name\" property must be of type string. Received undefined"],true,["constructor","emit","emitDestroy","asyncId","triggerAsyncId","asyncResource"],true],
  "maxListeners": [10,3,7,["TypeError","ERR_INVALID_ARG_TYPE","The \"emitter\" argument must be an instance of EventEmitter or EventTarget. Received an instance of Object"],["RangeError","ERR_OUT_OF_RANGE","The value of \"setMaxListeners\" is out of range. It must be >= 0. Received -1"]],
  "oldStyle": [5,true],
  "statics": [false,"function",true,true,true,true,"EventEmitter"],
  "exports": [["once","function"],["on","function"],["errorMonitor","symbol"],["captureRejectionSymbol","symbol"],["getEventListeners","function"],["setMaxListeners","function"],["EventEmitterAsyncResource","function"],["listenerCount","function"],["addAbortListener","function"],["getMaxListeners","function"],["usingDomains","boolean"],["captureRejections","boolean"],["defaultMaxListeners","number"],["init","function"]]
}"##;

/// util.inspect of what the engine knows: promise states, iterator entries, proxies.
const INSPECT: &str = r##"
import util, { inspect, format, types } from "node:util";

class MyPromise extends Promise {}

async function run() {
  const out = {};
  const map = new Map([[1, 2], ["a", { b: [1, 2] }]]);
  const partly = map.entries();
  partly.next();
  const exhausted = new Set([1]).values();
  exhausted.next();
  const hundred = new Set(Array.from({ length: 120 }, (_, i) => i));
  out.iterators = [
    inspect(new Map([[1, 2]]).entries()),
    inspect(map.keys()),
    inspect(map.values()),
    inspect(partly),
    inspect(map[Symbol.iterator]()),
    inspect(new Set([5]).values()),
    inspect(new Set([5, "x"]).entries()),
    inspect(exhausted),
    inspect(hundred.values(), { maxArrayLength: 3 }),
    inspect({ it: new Set([[1, { a: { b: { c: 1 } } }]]).values() }),
    inspect({ it: new Set([1]).values(), p: Promise.resolve(1) }, { depth: 0 }),
  ];
  // Inspecting an iterator does not consume it.
  const kept = new Set([7, 8]).values();
  inspect(kept);
  out.iteratorKept = [...kept];
  const rejected = Promise.reject(new RangeError("no"));
  rejected.catch(() => {});
  const rejectedString = Promise.reject("why");
  rejectedString.catch(() => {});
  out.promises = [
    inspect(Promise.resolve(4)),
    inspect(new Promise(() => {})),
    inspect(rejected).split("\n")[0],
    inspect(rejected).split("\n")[1].trim(),
    inspect(rejectedString),
    inspect(Promise.resolve({ a: [1, { b: 2 }] })),
    inspect(MyPromise.resolve(1)),
    inspect(Object.assign(Promise.resolve(1), { extra: true })),
    inspect({ p: Promise.resolve("x"), q: [Promise.resolve(1)] }),
    inspect(Promise.resolve("x".repeat(100))),
    inspect(Promise.resolve(1), { colors: true }),
    inspect(new Promise(() => {}), { colors: true }),
    format("%s and %O", Promise.resolve(1), new Map([[1, 2]]).keys()),
    util.formatWithOptions({ depth: 0 }, "%O", { p: Promise.resolve(1) }),
  ];
  const revocable = Proxy.revocable({}, {});
  revocable.revoke();
  out.proxies = [
    inspect(new Proxy({ a: 1 }, {})),
    inspect(new Proxy({ a: 1 }, {}), { showProxy: true }),
    inspect({ x: new Proxy([1], {}) }, { showProxy: true }),
    inspect(new Proxy(function f() {}, {}), { showProxy: true }),
    inspect(new Proxy(Promise.resolve(2), {})),
    inspect(revocable.proxy),
    inspect(revocable.proxy, { showProxy: true }),
    inspect({ a: { b: new Proxy({}, {}) } }, { showProxy: true, depth: 0 }),
    types.isProxy(new Proxy({}, {})),
    types.isProxy({}),
    types.isProxy(revocable.proxy),
  ];
  // Nothing is left on the prototypes once inspect has returned.
  out.prototypesAfter = [Promise.prototype, Object.getPrototypeOf(new Map().keys()), Object.prototype]
    .map((prototype) => Object.getOwnPropertySymbols(prototype).map(String));
  out.statics = [inspect.name, inspect.length, format.name, typeof inspect.custom, inspect.defaultOptions.depth,
    typeof inspect.colors.red, util.inspect === inspect];
  return out;
}
"##;

/// What Node 20.20.2 printed for [`INSPECT`].
const INSPECT_FROM_NODE: &str = r##"{
  "iterators": ["[Map Entries] { [ 1, 2 ] }","[Map Iterator] { 1, 'a' }","[Map Iterator] { 2, { b: [ 1, 2 ] } }","[Map Entries] { [ 'a', { b: [ 1, 2 ] } ] }","[Map Entries] { [ 1, 2 ], [ 'a', { b: [ 1, 2 ] } ] }","[Set Iterator] { 5 }","[Set Entries] { [ 5, 5 ], [ 'x', 'x' ] }","[Set Iterator] {  }","[Set Iterator] { 0, 1, 2, ... 117 more items }","{ it: [Set Iterator] { [ 1, [Object] ] } }","{ it: [Object [Set Iterator]], p: [Promise] }"],
  "iteratorKept": [7,8],
  "promises": ["Promise { 4 }","Promise { <pending> }","Promise {","<rejected> RangeError: no","Promise { <rejected> 'why' }","Promise { { a: [ 1, [Object] ] } }","MyPromise [Promise] { 1 }","Promise { 1, extra: true }","{ p: Promise { 'x' }, q: [ Promise { 1 } ] }","Promise {\n  'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'\n}","Promise { \u001b[33m1\u001b[39m }","Promise { \u001b[36m<pending>\u001b[39m }","Promise { 1 } and [Map Iterator] { 1 }","{ p: [Promise] }"],
  "proxies": ["{ a: 1 }","Proxy [ { a: 1 }, {} ]","{ x: Proxy [ [ 1 ], {} ] }","Proxy [ [Function: f], {} ]","Promise { 2 }","<Revoked Proxy>","<Revoked Proxy>","{ a: [Object] }",true,false,true],
  "prototypesAfter": [["Symbol(Symbol.toStringTag)"],["Symbol(Symbol.toStringTag)"],[]],
  "statics": ["inspect",2,"format","symbol",2,"object",true]
}"##;

/// The rest of node:util, node:stream's additions, setImmediate and AsyncResource.
const HELPERS: &str = r##"
import util from "node:util";
import * as stream from "node:stream";
import { AsyncResource } from "node:async_hooks";

const error = (e) => [e.name, e.code, e.message];
const thrown = (f) => { try { f(); return "no error"; } catch (e) { return error(e); } };

async function run() {
  const out = {};
  out.inherits = [null, undefined, {}].map((parent) => thrown(() => util.inherits(function Child() {}, parent)))
    .concat([thrown(() => util.inherits(null, function Parent() {}))]);
  const options = { foo: { type: "boolean", short: "f" }, bar: { type: "string" }, n: { type: "string", default: "d" } };
  out.parseArgs = [
    util.parseArgs({ args: ["-f", "--bar", "b", "pos"], options, allowPositionals: true }),
    util.parseArgs({ args: ["-ff", "--", "x"], options: { foo: { ...options.foo, multiple: true } }, allowPositionals: true, tokens: true }),
    thrown(() => util.parseArgs({ args: ["--nope"], options: {} })),
    thrown(() => util.parseArgs({ args: ["pos"], options: {} })),
    thrown(() => util.parseArgs({ args: ["--bar"], options })),
  ];
  const plain = { validateStream: false };
  out.styleText = [
    util.styleText("red", "x", plain),
    util.styleText(["bold", "underline"], "y", plain),
    // A worker has no terminal: by default, no colours.
    util.styleText("red", "uncoloured"),
    thrown(() => util.styleText("nope", "x")),
    thrown(() => util.styleText("red", 1)),
    thrown(() => util.styleText("red", "x", { validateStream: 1 })),
  ];
  const errors = util.getSystemErrorMap();
  out.systemErrors = [
    util.getSystemErrorName(-2), util.getSystemErrorName(-3008), util.getSystemErrorName(-4095), util.getSystemErrorName(-99999),
    thrown(() => util.getSystemErrorName(2)), thrown(() => util.getSystemErrorName("x")), thrown(() => util.getSystemErrorName(-1.5)),
    errors.size, errors.get(-13), errors.get(-110), [...errors.keys()].slice(0, 5), util.getSystemErrorMap() !== errors,
  ];
  const errno = util._errnoException(-2, "open", "/x");
  const hostPort = util._exceptionWithHostPort(-111, "connect", "1.2.3.4", 80);
  out.errnoExceptions = [error(errno), errno.errno, errno.syscall, error(hostPort), hostPort.address, hostPort.port];
  out.extend = [util._extend({ a: 1 }, { b: 2, a: 3 }), util._extend({ a: 1 }, null)];
  out.parseEnv = util.parseEnv("A=1\nB=\"x\\ny\"\n# comment\nexport C=3\nD='q' # note\nE=\nF=`b`\nG=a=b\n");
  out.transferable = [util.transferableAbortSignal(AbortSignal.abort()).aborted, util.transferableAbortController() instanceof AbortController,
    thrown(() => util.transferableAbortSignal({}))];
  out.stripVTControlCharacters = util.stripVTControlCharacters("\u001b[31mred\u001b[39m");
  out.toUSVString = util.toUSVString("a\ud800b");
  out.utilKeys = ["_errnoException", "_exceptionWithHostPort", "_extend", "callbackify", "debuglog", "deprecate", "format",
    "formatWithOptions", "getSystemErrorMap", "getSystemErrorName", "inherits", "inspect", "isDeepStrictEqual", "log",
    "parseArgs", "parseEnv", "promisify", "stripVTControlCharacters", "styleText", "toUSVString", "transferableAbortController",
    "transferableAbortSignal", "aborted", "types", "TextDecoder", "TextEncoder"].map((key) => [key, typeof util[key]]);
  out.stream = [typeof stream.getDefaultHighWaterMark, typeof stream.setDefaultHighWaterMark, stream.getDefaultHighWaterMark(false),
    stream.getDefaultHighWaterMark(true), typeof stream.isDestroyed, typeof stream.isWritable, stream.default.getDefaultHighWaterMark === stream.getDefaultHighWaterMark];
  out.globals = [typeof setImmediate, typeof clearImmediate];
  out.immediate = await new Promise((resolve) => {
    const seen = [];
    clearImmediate(setImmediate(() => seen.push("cleared")));
    setImmediate((value) => resolve([...seen, value]), "ran");
  });
  const resource = new AsyncResource("Bench");
  out.asyncResource = [resource.type, Object.getOwnPropertyNames(AsyncResource.prototype), thrown(() => new AsyncResource()),
    typeof resource.asyncId(), typeof AsyncResource.bind];
  return out;
}
"##;

/// What Node 20.20.2 printed for [`HELPERS`] (styleText with the options of a non-terminal
/// stdout, as a worker has none; nested styles left out, as Node 22 handles them differently).
const HELPERS_FROM_NODE: &str = r##"{
  "inherits": [["TypeError","ERR_INVALID_ARG_TYPE","The \"superCtor\" argument must be of type function. Received null"],["TypeError","ERR_INVALID_ARG_TYPE","The \"superCtor\" argument must be of type function. Received undefined"],["TypeError","ERR_INVALID_ARG_TYPE","The \"superCtor.prototype\" property must be of type object. Received undefined"],["TypeError","ERR_INVALID_ARG_TYPE","The \"ctor\" argument must be of type function. Received null"]],
  "parseArgs": [{"values":{"foo":true,"bar":"b","n":"d"},"positionals":["pos"]},{"values":{"foo":[true,true]},"positionals":["x"],"tokens":[{"kind":"option","name":"foo","rawName":"-f","index":0},{"kind":"option","name":"foo","rawName":"-f","index":0},{"kind":"option-terminator","index":1},{"kind":"positional","index":2,"value":"x"}]},["TypeError","ERR_PARSE_ARGS_UNKNOWN_OPTION","Unknown option '--nope'"],["TypeError","ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL","Unexpected argument 'pos'. This command does not take positional arguments"],["TypeError","ERR_PARSE_ARGS_INVALID_OPTION_VALUE","Option '--bar <value>' argument missing"]],
  "styleText": ["\u001b[31mx\u001b[39m","\u001b[1m\u001b[4my\u001b[24m\u001b[22m","uncoloured",["TypeError","ERR_INVALID_ARG_VALUE","The argument 'format' must be one of: 'reset', 'bold', 'dim', 'italic', 'underline', 'blink', 'inverse', 'hidden', 'strikethrough', 'doubleunderline', 'black', 'red', 'green', 'yellow', 'blue', 'magenta', 'cyan', 'white', 'bgBlack', 'bgRed', 'bgGreen', 'bgYellow', 'bgBlue', 'bgMagenta', 'bgCyan', 'bgWhite', 'framed', 'overlined', 'gray', 'redBright', 'greenBright', 'yellowBright', 'blueBright', 'magentaBright', 'cyanBright', 'whiteBright', 'bgGray', 'bgRedBright', 'bgGreenBright', 'bgYellowBright', 'bgBlueBright', 'bgMagentaBright', 'bgCyanBright', 'bgWhiteBright'. Received 'nope'"],["TypeError","ERR_INVALID_ARG_TYPE","The \"text\" argument must be of type string. Received type number (1)"],["TypeError","ERR_INVALID_ARG_TYPE","The \"options.validateStream\" property must be of type boolean. Received type number (1)"]],
  "systemErrors": ["ENOENT","EAI_NONAME","EOF","Unknown system error -99999",["RangeError","ERR_OUT_OF_RANGE","The value of \"err\" is out of range. It must be a negative integer. Received 2"],["TypeError","ERR_INVALID_ARG_TYPE","The \"err\" argument must be of type number. Received type string ('x')"],["RangeError","ERR_OUT_OF_RANGE","The value of \"err\" is out of range. It must be a negative integer. Received -1.5"],84,["EACCES","permission denied"],["ETIMEDOUT","connection timed out"],[-7,-13,-98,-99,-97],true],
  "errnoExceptions": [["Error","ENOENT","open ENOENT /x"],-2,"open",["Error","ECONNREFUSED","connect ECONNREFUSED 1.2.3.4:80"],"1.2.3.4",80],
  "extend": [{"a":3,"b":2},{"a":1}],
  "parseEnv": {"A":"1","B":"x\ny","C":"3","D":"q","E":"","F":"b","G":"a=b"},
  "transferable": [true,true,["TypeError","ERR_INVALID_ARG_TYPE","The \"signal\" argument must be an instance of AbortSignal. Received an instance of Object"]],
  "stripVTControlCharacters": "red",
  "toUSVString": "a�b",
  "utilKeys": [["_errnoException","function"],["_exceptionWithHostPort","function"],["_extend","function"],["callbackify","function"],["debuglog","function"],["deprecate","function"],["format","function"],["formatWithOptions","function"],["getSystemErrorMap","function"],["getSystemErrorName","function"],["inherits","function"],["inspect","function"],["isDeepStrictEqual","function"],["log","function"],["parseArgs","function"],["parseEnv","function"],["promisify","function"],["stripVTControlCharacters","function"],["styleText","function"],["toUSVString","function"],["transferableAbortController","function"],["transferableAbortSignal","function"],["aborted","function"],["types","object"],["TextDecoder","function"],["TextEncoder","function"]],
  "stream": ["function","function",16384,16,"function","function",true],
  "globals": ["function","function"],
  "immediate": ["ran"],
  "asyncResource": [null,["constructor","runInAsyncScope","emitDestroy","asyncId","triggerAsyncId","bind"],["TypeError","ERR_INVALID_ARG_TYPE","The \"type\" argument must be of type string. Received undefined"],"number","function"]
}"##;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_abort_capture_rejections_and_report_errors_as_node_does() {
  let out = node_run_answer("events", EVENTS).await;
  assert_like_node(&out, EVENTS_FROM_NODE);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inspect_shows_promises_iterators_and_proxies_as_node_does() {
  let out = node_run_answer("inspect", INSPECT).await;
  assert_like_node(&out, INSPECT_FROM_NODE);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn util_helpers_stream_globals_and_async_resource_answer_as_node_does() {
  let out = node_run_answer("helpers", HELPERS).await;
  assert_like_node(&out, HELPERS_FROM_NODE);
}

/// Node's errors as node:internal/errors makes them (how a received value is described, the shape of an error,
/// an Object.prototype with a `get`), and the argument checks of node:events, node:util, node:async_hooks and
/// node:diagnostics_channel that use them.
const NODE_ERRORS: &str = r##"
import { Buffer } from "node:buffer";
import events, { EventEmitter, setMaxListeners } from "node:events";
import util from "node:util";
import { AsyncLocalStorage, AsyncResource } from "node:async_hooks";
import dc from "node:diagnostics_channel";

const error = (e) => [e.name, e.code, e.message];
const thrown = (f) => { try { f(); return "no error"; } catch (e) { return error(e); } };

async function run() {
  const out = {};
  // How a received value is described (node:internal/errors' determineSpecificType).
  out.received = [function () {}, () => {}, function named() {}, Object.create(null), { constructor: { name: "" } },
    "x".repeat(40), "it's", `it's "q"`, 12n, Symbol("s"), true, null, undefined, [1], new Map()]
    .map((v) => thrown(() => Buffer.alloc(v))[2]);
  out.outOfRange = [-1, 2 ** 40, 1.5].map((v) => thrown(() => Buffer.alloc(1).readUInt8(v))[2]);
  // The shape of Node's errors: `code` alone enumerable, toString and the stack naming it.
  const shape = (() => { try { new EventEmitter().setMaxListeners(-1); } catch (e) { return e; } })();
  out.shape = [Object.keys(shape), shape.toString(), shape.stack.split("\n")[0], Object.prototype.hasOwnProperty.call(shape, "name")];
  // An Object.prototype with a `get` (as some tests and packages leave it) breaks no error.
  Object.prototype.get = () => 1;
  try {
    out.polluted = [thrown(() => Buffer.alloc(-1))[1], util.inspect(Promise.resolve(1)), thrown(() => new EventEmitter().on("x", 1))[1]];
  } finally {
    delete Object.prototype.get;
  }

  // node:events: listeners checked, limits, listenerCount(type, listener), removeAllListeners().
  const e = new EventEmitter();
  out.listenerChecks = ["on", "once", "prependListener", "prependOnceListener", "removeListener", "off"].map((m) => thrown(() => e[m]("x", null)));
  out.maxListeners = [thrown(() => e.setMaxListeners(-1)), thrown(() => e.setMaxListeners("a")), thrown(() => { events.defaultMaxListeners = NaN; }),
    thrown(() => setMaxListeners(1, "nope")), thrown(() => events.getMaxListeners(1))];
  const f = () => {};
  e.on("x", f); e.on("x", () => {}); e.once("x", f);
  out.listenerCount = [e.listenerCount("x"), e.listenerCount("x", f), e.listenerCount("y", f)];
  const symbol = Symbol("s");
  const removed = [];
  const r = new EventEmitter();
  r.on(symbol, f); r.on("a", f);
  r.on("removeListener", (name) => removed.push(String(name)));
  r.removeAllListeners();
  out.removeAll = [removed, r.eventNames().length];
  const proto = EventEmitter.prototype;
  out.methodNames = Object.getOwnPropertyNames(proto).filter((n) => typeof proto[n] === "function" && n !== "constructor" && proto[n].name !== n);
  out.unhandled = [thrown(() => new EventEmitter().emit("error")), thrown(() => new EventEmitter().emit("error", { a: 1 }))];

  // node:util.
  out.util = [thrown(() => util.promisify(1)), thrown(() => util.callbackify(async () => 1)(1)), thrown(() => util.deprecate(() => 1, "m", 1)),
    thrown(() => util.inherits(function () {}, {}))];
  out.falsy = await new Promise((resolve) => util.callbackify(() => Promise.reject(null))((x) => resolve([error(x), Object.keys(x), x.reason])));
  out.aborted = await Promise.all([util.aborted(undefined, {}), util.aborted(new AbortController().signal, null), util.aborted(AbortSignal.abort(), [])]
    .map((p) => p.then(() => "resolved", error)));

  // node:async_hooks: bind keeps the caller's `this`; its checks.
  const resource = new AsyncResource("X");
  const bound = resource.bind(function () { return this; });
  const holder = { bound };
  out.asyncHooks = [holder.bound() === holder, bound.length, thrown(() => resource.bind(1)), thrown(() => AsyncLocalStorage.bind(1)),
    typeof new AsyncLocalStorage()._propagate];

  // node:diagnostics_channel's checks.
  out.diagnosticsChannel = [thrown(() => dc.channel(null)), thrown(() => dc.subscribe("x", null)), thrown(() => dc.channel("x").subscribe(1)),
    thrown(() => dc.tracingChannel(0)), thrown(() => dc.tracingChannel({ start: "" })), typeof dc.channel(Symbol("s")).name];
  return out;
}
"##;

/// What Node 20.20.2 printed for [`NODE_ERRORS`].
const NODE_ERRORS_FROM_NODE: &str = r##"{
  "received": ["The \"size\" argument must be of type number. Received function ","The \"size\" argument must be of type number. Received function ","The \"size\" argument must be of type number. Received function named","The \"size\" argument must be of type number. Received [Object: null prototype] {}","The \"size\" argument must be of type number. Received an instance of ","The \"size\" argument must be of type number. Received type string ('xxxxxxxxxxxxxxxxxxxxxxxxx...')","The \"size\" argument must be of type number. Received type string (\"it's\")","The \"size\" argument must be of type number. Received type string (\"it's \\\"q\\\"\")","The \"size\" argument must be of type number. Received type bigint (12n)","The \"size\" argument must be of type number. Received type symbol (Symbol(s))","The \"size\" argument must be of type number. Received type boolean (true)","The \"size\" argument must be of type number. Received null","The \"size\" argument must be of type number. Received undefined","The \"size\" argument must be of type number. Received an instance of Array","The \"size\" argument must be of type number. Received an instance of Map"],
  "outOfRange": ["The value of \"offset\" is out of range. It must be >= 0 and <= 0. Received -1","The value of \"offset\" is out of range. It must be >= 0 and <= 0. Received 1_099_511_627_776","The value of \"offset\" is out of range. It must be an integer. Received 1.5"],
  "shape": [["code"],"RangeError [ERR_OUT_OF_RANGE]: The value of \"setMaxListeners\" is out of range. It must be >= 0. Received -1","RangeError [ERR_OUT_OF_RANGE]: The value of \"setMaxListeners\" is out of range. It must be >= 0. Received -1",false],
  "polluted": ["ERR_OUT_OF_RANGE","Promise { 1 }","ERR_INVALID_ARG_TYPE"],
  "listenerChecks": [["TypeError","ERR_INVALID_ARG_TYPE","The \"listener\" argument must be of type function. Received null"],["TypeError","ERR_INVALID_ARG_TYPE","The \"listener\" argument must be of type function. Received null"],["TypeError","ERR_INVALID_ARG_TYPE","The \"listener\" argument must be of type function. Received null"],["TypeError","ERR_INVALID_ARG_TYPE","The \"listener\" argument must be of type function. Received null"],["TypeError","ERR_INVALID_ARG_TYPE","The \"listener\" argument must be of type function. Received null"],["TypeError","ERR_INVALID_ARG_TYPE","The \"listener\" argument must be of type function. Received null"]],
  "maxListeners": [["RangeError","ERR_OUT_OF_RANGE","The value of \"setMaxListeners\" is out of range. It must be >= 0. Received -1"],["TypeError","ERR_INVALID_ARG_TYPE","The \"setMaxListeners\" argument must be of type number. Received type string ('a')"],["RangeError","ERR_OUT_OF_RANGE","The value of \"defaultMaxListeners\" is out of range. It must be >= 0. Received NaN"],["TypeError","ERR_INVALID_ARG_TYPE","The \"eventTargets\" argument must be an instance of EventEmitter or EventTarget. Received type string ('nope')"],["TypeError","ERR_INVALID_ARG_TYPE","The \"emitter\" argument must be an instance of EventEmitter or EventTarget. Received type number (1)"]],
  "listenerCount": [3,2,0],
  "removeAll": [["a","Symbol(s)"],0],
  "methodNames": ["on","off"],
  "unhandled": [["Error","ERR_UNHANDLED_ERROR","Unhandled error. (undefined)"],["Error","ERR_UNHANDLED_ERROR","Unhandled error. ({ a: 1 })"]],
  "util": [["TypeError","ERR_INVALID_ARG_TYPE","The \"original\" argument must be of type function. Received type number (1)"],["TypeError","ERR_INVALID_ARG_TYPE","The last argument must be of type function. Received type number (1)"],["TypeError","ERR_INVALID_ARG_TYPE","The \"code\" argument must be of type string. Received type number (1)"],["TypeError","ERR_INVALID_ARG_TYPE","The \"superCtor.prototype\" property must be of type object. Received undefined"]],
  "falsy": [["Error","ERR_FALSY_VALUE_REJECTION","Promise was rejected with falsy value"],["code","reason"],null],
  "aborted": [["TypeError","ERR_INVALID_ARG_TYPE","The \"signal\" argument must be an instance of AbortSignal. Received undefined"],["TypeError","ERR_INVALID_ARG_TYPE","The \"resource\" argument must be of type object. Received null"],"resolved"],
  "asyncHooks": [true,0,["TypeError","ERR_INVALID_ARG_TYPE","The \"fn\" argument must be of type function. Received type number (1)"],["TypeError","ERR_INVALID_ARG_TYPE","The \"fn\" argument must be of type function. Received type number (1)"],"function"],
  "diagnosticsChannel": [["TypeError","ERR_INVALID_ARG_TYPE","The \"channel\" argument must be one of type string or symbol. Received null"],["TypeError","ERR_INVALID_ARG_TYPE","The \"subscription\" argument must be of type function. Received null"],["TypeError","ERR_INVALID_ARG_TYPE","The \"subscription\" argument must be of type function. Received type number (1)"],["TypeError","ERR_INVALID_ARG_TYPE","The \"nameOrChannels\" argument must be of type string or an instance of TracingChannel or Object. Received type number (0)"],["TypeError","ERR_INVALID_ARG_TYPE","The \"nameOrChannels.start\" property must be an instance of Channel. Received type string ('')"],"symbol"]
}"##;

/// Node's error messages and checks, key by key as Node 20 gives them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_and_argument_checks_are_nodes() {
  let out = node_run_answer("errors", NODE_ERRORS).await;
  assert_like_node(&out, NODE_ERRORS_FROM_NODE);
}

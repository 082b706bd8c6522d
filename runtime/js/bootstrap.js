// The worker's global scope and its request loop.
//
// Evaluated once, while the startup snapshot is built: it loads the Web API scripts of
// Deno's crates (deno_web, deno_fetch, deno_crypto) and defines the WinterTC globals from
// them. At isolate start the Rust side calls `__edgeInit` (which hides everything a worker
// must not see, such as `Deno`) and later, with the worker's module namespace, `start`,
// which runs the request loop: `op_edge_next_request` delivers requests, the handler's
// Response goes back through the `op_edge_respond_*` and `op_edge_body_*` ops.

import { core, primordials } from "ext:core/mod.js";
import {
  attach as attachWebSocket,
  closeAll as closeWebSockets,
  fetchWebSocket,
  makeResponse,
  responseWebSocket,
  WebSocket,
  WebSocketPair,
} from "ext:edge_runtime/websocket.js";

const {
  ArrayFrom,
  ArrayIsArray,
  ArrayPrototypeMap,
  ArrayPrototypePush,
  ArrayPrototypeSplice,
  ArrayPrototypeIndexOf,
  Error,
  JSONParse,
  JSONStringify,
  ObjectDefineProperties,
  ObjectDefineProperty,
  ObjectFreeze,
  ObjectGetOwnPropertyDescriptor,
  ObjectKeys,
  ObjectPrototypeIsPrototypeOf,
  ObjectSetPrototypeOf,
  ReflectApply,
  ReflectOwnKeys,
  MapPrototypeForEach,
  SetPrototypeForEach,
  PromiseAllSettled,
  PromisePrototypeCatch,
  PromiseReject,
  RegExpPrototypeExec,
  PromisePrototypeThen,
  PromiseResolve,
  SafeSet,
  SetPrototypeAdd,
  SetPrototypeDelete,
  String,
  StringPrototypeSlice,
  StringPrototypeSplit,
  StringPrototypeToLowerCase,
  TypeError,
  Uint8Array,
} = primordials;

const {
  op_edge_next_request,
  op_edge_request_read,
  op_edge_request_cancel,
  op_edge_respond_text,
  op_edge_respond_bytes,
  op_edge_respond_empty,
  op_edge_respond_stream,
  op_edge_body_write,
  op_edge_body_close,
  op_edge_fail,
  op_edge_respond_websocket,
  op_edge_env,
  op_edge_bindings,
  op_edge_binding,
  op_edge_subrequest,
  op_edge_tcp_close_all,
  op_edge_trace,
  op_edge_print,
} = core.ops;

const load = (specifier) => core.loadExtScript(specifier);
const webidl = load("ext:deno_webidl/00_webidl.js");
const url = load("ext:deno_web/00_url.js");
const urlPattern = load("ext:deno_web/01_urlpattern.js");
const consoleScript = load("ext:deno_web/01_console.js");
const domException = load("ext:deno_web/01_dom_exception.js");
const event = load("ext:deno_web/02_event.js");
const structuredCloneScript = load("ext:deno_web/02_structured_clone.js");
const timers = load("ext:deno_web/02_timers.js");
const abortSignal = load("ext:deno_web/03_abort_signal.js");
const base64 = load("ext:deno_web/05_base64.js");
const streams = load("ext:deno_web/06_streams.js");
const encoding = load("ext:deno_web/08_text_encoding.js");
const file = load("ext:deno_web/09_file.js");
const compression = load("ext:deno_web/14_compression.js");
const performance = load("ext:deno_web/15_performance.js");
const headers = load("ext:deno_fetch/20_headers.js");
const formData = load("ext:deno_fetch/21_formdata.js");
const body = load("ext:deno_fetch/22_body.js");
const request = load("ext:deno_fetch/23_request.js");
const response = load("ext:deno_fetch/23_response.js");
const fetch = load("ext:deno_fetch/26_fetch.js");
const crypto = load("ext:deno_crypto/00_crypto.js");

// Every outbound fetch counts against the open requests' subrequest limit; an undeclared host
// or a denied address (see permissions.rs) surfaces as a TypeError that says what was refused.
function limitedFetch(input, init = undefined) {
  if (asksForWebSocket(input, init)) {
    // An outbound WebSocket (it counts as a subrequest there): the answer is a 101 whose
    // `webSocket` the worker accept()s.
    return fetchWebSocket(new Request(input, init), () => {
      const answer = new response.Response(null);
      response.toInnerResponse(answer).status = 101;
      return answer;
    });
  }
  if (!op_edge_subrequest()) {
    return PromiseReject(new TypeError("too many subrequests: the worker exceeded its subrequest limit"));
  }
  const trace = op_edge_trace();
  if (trace !== "") {
    input = traced(new Request(input, init), trace);
    init = undefined;
  }
  return PromisePrototypeCatch(fetch.fetch(input, init), (e) => {
    const address = refusedAddress(e);
    if (address !== null) {
      throw new TypeError(
        `fetch refused: ${address} is not a host this worker may reach: declare it in its edge.toml under [outbound] hosts (a private address under [outbound] allow)`,
      );
    }
    throw e;
  });
}

// Whether a fetch asks for `Upgrade: websocket` (looked for without building a Request).
function asksForWebSocket(input, init) {
  const isWebSocket = (value) => typeof value === "string" && StringPrototypeToLowerCase(value) === "websocket";
  const given = init?.headers;
  if (given !== undefined && given !== null) {
    if (ObjectPrototypeIsPrototypeOf(headers.Headers.prototype, given)) return isWebSocket(given.get("upgrade"));
    if (ArrayIsArray(given)) {
      for (const pair of given) if (StringPrototypeToLowerCase(String(pair?.[0])) === "upgrade" && isWebSocket(pair[1])) return true;
      return false;
    }
    if (typeof given === "object") {
      for (const name of ObjectKeys(given)) if (StringPrototypeToLowerCase(name) === "upgrade" && isWebSocket(given[name])) return true;
      return false;
    }
  }
  return ObjectPrototypeIsPrototypeOf(request.RequestPrototype, input) && isWebSocket(input.headers.get("upgrade"));
}

// A subrequest carries on the W3C trace context of the request it is made for (the node's
// span is its parent), unless the worker set its own `traceparent`.
function traced(req, trace) {
  if (!req.headers.has("traceparent")) {
    const lines = StringPrototypeSplit(trace, "\n");
    req.headers.set("traceparent", lines[0]);
    if (lines[1]) req.headers.set("tracestate", lines[1]);
  }
  return req;
}

// deno_fetch reports a permission denial (before connecting, or for an address a host name
// resolved to) in Deno CLI words; find the address it names.
const DENIED = /Requires net access to "([^"]+)"/;
function refusedAddress(e) {
  for (const error of [e, e?.cause]) {
    const match = typeof error?.message === "string" ? RegExpPrototypeExec(DENIED, error.message) : null;
    if (match !== null) return match[1];
  }
  return null;
}

// Deno's crates raise some failures as DOMExceptions, by class name (`DOMExceptionOperationError`
// for a tampered AES-GCM ciphertext): deno_core builds the JS error from a builder registered
// for the name, and without one the engine was handed no object ("TypeError: not an object").
for (
  const name of [
    "AbortError",
    "DataError",
    "InvalidAccessError",
    "InvalidCharacterError",
    "InvalidStateError",
    "NetworkError",
    "NotFoundError",
    "NotSupportedError",
    "OperationError",
    "QuotaExceededError",
    "SyntaxError",
    "TimeoutError",
    "TypeMismatchError",
  ]
) {
  core.registerErrorBuilder(`DOMException${name}`, (message) => new domException.DOMException(message, name));
}

// Classes and constants: non-enumerable, like on the web. Functions: writable.
const classes = {
  AbortController: abortSignal.AbortController,
  AbortSignal: abortSignal.AbortSignal,
  Blob: file.Blob,
  ByteLengthQueuingStrategy: streams.ByteLengthQueuingStrategy,
  CompressionStream: compression.CompressionStream,
  CountQueuingStrategy: streams.CountQueuingStrategy,
  Crypto: crypto.Crypto,
  CryptoKey: crypto.CryptoKey,
  CustomEvent: event.CustomEvent,
  DecompressionStream: compression.DecompressionStream,
  DOMException: domException.DOMException,
  CloseEvent: event.CloseEvent,
  ErrorEvent: event.ErrorEvent,
  Event: event.Event,
  EventTarget: event.EventTarget,
  File: file.File,
  FormData: formData.FormData,
  Headers: headers.Headers,
  MessageEvent: event.MessageEvent,
  Performance: performance.Performance,
  PerformanceEntry: performance.PerformanceEntry,
  PerformanceMark: performance.PerformanceMark,
  PerformanceMeasure: performance.PerformanceMeasure,
  PromiseRejectionEvent: event.PromiseRejectionEvent,
  ReadableByteStreamController: streams.ReadableByteStreamController,
  ReadableStream: streams.ReadableStream,
  ReadableStreamBYOBReader: streams.ReadableStreamBYOBReader,
  ReadableStreamBYOBRequest: streams.ReadableStreamBYOBRequest,
  ReadableStreamDefaultController: streams.ReadableStreamDefaultController,
  ReadableStreamDefaultReader: streams.ReadableStreamDefaultReader,
  Request: request.Request,
  // deno_fetch's, which also takes `{ status: 101, webSocket }` (websocket.js).
  Response: makeResponse(response.Response, response.toInnerResponse),
  SubtleCrypto: crypto.SubtleCrypto,
  TextDecoder: encoding.TextDecoder,
  TextDecoderStream: encoding.TextDecoderStream,
  TextEncoder: encoding.TextEncoder,
  TextEncoderStream: encoding.TextEncoderStream,
  TransformStream: streams.TransformStream,
  TransformStreamDefaultController: streams.TransformStreamDefaultController,
  URL: url.URL,
  URLPattern: urlPattern.URLPattern,
  URLSearchParams: url.URLSearchParams,
  WebSocket,
  WebSocketPair,
  WritableStream: streams.WritableStream,
  WritableStreamDefaultController: streams.WritableStreamDefaultController,
  WritableStreamDefaultWriter: streams.WritableStreamDefaultWriter,
};
const functions = {
  atob: base64.atob,
  btoa: base64.btoa,
  clearInterval: timers.clearInterval,
  clearTimeout: timers.clearTimeout,
  fetch: limitedFetch,
  reportError: event.reportError,
  setInterval: timers.setInterval,
  setTimeout: timers.setTimeout,
  structuredClone: structuredCloneScript.structuredClone,
};

// The console formats values in Rust (deno_web), and with the QuickJS engine a revoked Proxy
// there aborts the whole process (v8x's `Proxy::get_target` has no target, and the call
// cannot unwind). Until the engine answers, a console call's arguments are looked through
// first (a revoked proxy, or one within the first levels of arrays, plain objects, maps and
// sets, without running getters or proxy traps) and such an argument prints as a note instead.
const REVOKED = "[a value holding a revoked Proxy]";
const GUARD_DEPTH = 6;
const GUARD_BUDGET = 4096;

function holdsRevokedProxy(value, depth, budget) {
  if (value === null || (typeof value !== "object" && typeof value !== "function")) return false;
  if (core.isProxy(value)) {
    try {
      ArrayIsArray(value);
      return false;
    } catch {
      return true;
    }
  }
  if (depth === 0 || --budget.left < 0) return false;
  let found = false;
  const visit = (item) => {
    found = found || holdsRevokedProxy(item, depth - 1, budget);
  };
  try {
    MapPrototypeForEach(value, (item, key) => {
      visit(key);
      visit(item);
    });
  } catch {
    // Not a Map.
  }
  try {
    SetPrototypeForEach(value, visit);
  } catch {
    // Not a Set.
  }
  for (const key of ReflectOwnKeys(value)) {
    if (found || budget.left < 0) break;
    const descriptor = ObjectGetOwnPropertyDescriptor(value, key);
    if (descriptor !== undefined && "value" in descriptor) visit(descriptor.value);
  }
  return found;
}

function guardConsole(target) {
  const methods = ["log", "info", "debug", "warn", "error", "dir", "dirxml", "table", "trace", "assert", "group", "groupCollapsed", "timeLog"];
  for (const name of methods) {
    const method = target[name];
    if (typeof method !== "function") continue;
    target[name] = {
      [name](...args) {
        const safe = ArrayPrototypeMap(args, (arg) =>
          holdsRevokedProxy(arg, GUARD_DEPTH, { left: GUARD_BUDGET }) ? REVOKED : arg
        );
        return ReflectApply(method, target, safe);
      },
    }[name];
  }
}

const descriptors = {};
for (const name in classes) {
  if (classes[name] === undefined) throw new Error(`bootstrap: ${name} is missing`);
  descriptors[name] = core.propNonEnumerable(classes[name]);
}
for (const name in functions) {
  if (functions[name] === undefined) throw new Error(`bootstrap: ${name} is missing`);
  descriptors[name] = core.propWritable(functions[name]);
}
// Worker output goes to logs, never to a terminal: no ANSI colours.
consoleScript.setNoColorFns(() => true, () => true);
const workerConsole = new consoleScript.Console((text, level) => op_edge_print(level, text));
guardConsole(workerConsole);
descriptors.console = core.propNonEnumerable(workerConsole);
descriptors.crypto = core.propGetterOnly(() => crypto.crypto);
descriptors.performance = core.propWritable(performance.performance);
descriptors.self = core.propGetterOnly(() => globalThis);
ObjectDefineProperties(globalThis, descriptors);

// The global scope is an EventTarget (as in a service worker), so that
// `addEventListener("fetch", ...)` works; fetch listeners are kept here and called by the
// request loop itself, so that a throwing listener becomes a 500, never a dead isolate.
// It is one for Web IDL too (an EventTarget's prototype and brand), as workerd's and Deno's
// global scopes are: otherwise an exception in any event listener, which deno_web reports by
// dispatching an `error` event on the global scope, would fail that check and stop the isolate.
event.saveGlobalThisReference(globalThis);
event.setEventTargetData(globalThis);
const fetchListeners = [];
const EventTargetPrototype = event.EventTarget.prototype;
ObjectSetPrototypeOf(globalThis, EventTargetPrototype);
ObjectDefineProperty(globalThis, webidl.brand, { value: webidl.brand });
// An exception in an event listener (a WebSocket's `message` handler, an AbortSignal's) is
// reported as an `error` event on the global scope; unhandled, deno_core would end the event
// loop with it. It is logged instead, and the isolate goes on (after the worker's own
// listeners, if any, have seen it).
EventTargetPrototype.addEventListener.call(globalThis, "error", (e) => {
  e.preventDefault();
  op_edge_print(3, `Uncaught ${errorText(e.error ?? e.message)}\n`);
});
ObjectDefineProperties(globalThis, {
  addEventListener: core.propWritable(function addEventListener(type, listener, options) {
    if (type === "fetch") {
      if (typeof listener === "function" || typeof listener?.handleEvent === "function") {
        ArrayPrototypePush(fetchListeners, listener);
      }
      return;
    }
    return EventTargetPrototype.addEventListener.call(globalThis, type, listener, options);
  }),
  removeEventListener: core.propWritable(function removeEventListener(type, listener, options) {
    if (type === "fetch") {
      const at = ArrayPrototypeIndexOf(fetchListeners, listener);
      if (at !== -1) ArrayPrototypeSplice(fetchListeners, at, 1);
      return;
    }
    return EventTargetPrototype.removeEventListener.call(globalThis, type, listener, options);
  }),
  dispatchEvent: core.propWritable(function dispatchEvent(e) {
    return EventTargetPrototype.dispatchEvent.call(globalThis, e);
  }),
});

// The worker's view of one request: `ctx` in module syntax, the event in service-worker syntax.
const pending = new SafeSet();
function waitUntil(promise) {
  const p = PromiseResolve(promise);
  SetPrototypeAdd(pending, p);
  PromisePrototypeThen(
    p,
    () => SetPrototypeDelete(pending, p),
    (e) => {
      SetPrototypeDelete(pending, p);
      op_edge_print(3, `Uncaught (in waitUntil) ${errorText(e)}\n`);
    },
  );
}

class ExecutionContext {
  waitUntil(promise) {
    waitUntil(promise);
  }
  // Accepted for compatibility. A node has no origin to fall back to, so an exception still
  // answers 500; a router in front of an origin can use this later.
  passThroughOnException() {}
}

class FetchEvent extends event.Event {
  #request;
  #response = null;
  constructor(request) {
    super("fetch");
    this.#request = request;
  }
  get request() {
    return this.#request;
  }
  respondWith(response) {
    if (this.#response !== null) throw new TypeError("respondWith() was already called");
    this.#response = PromiseResolve(response);
  }
  waitUntil(promise) {
    waitUntil(promise);
  }
  passThroughOnException() {}
  get responded() {
    return this.#response;
  }
}
ObjectDefineProperty(globalThis, "FetchEvent", core.propNonEnumerable(FetchEvent));

function errorText(e) {
  if (ObjectPrototypeIsPrototypeOf(Error.prototype, e)) return e.stack ?? `${e.name}: ${e.message}`;
  try {
    return String(e);
  } catch {
    return "(an unprintable value)";
  }
}

function describe(value) {
  if (value === null) return "null";
  if (typeof value !== "object") return `${typeof value} ${typeof value === "string" ? StringPrototypeSlice(JSONStringify(value), 0, 60) : String(value)}`;
  const name = value?.constructor?.name;
  return name ? `an object (${name})` : "an object";
}

function requestBody(id) {
  const stream = new streams.ReadableStream(
    {
      async pull(controller) {
        const chunk = await op_edge_request_read(id);
        if (chunk === null) controller.close();
        else controller.enqueue(chunk);
      },
      cancel() {
        op_edge_request_cancel(id);
      },
    },
    { highWaterMark: 0 },
  );
  return new body.InnerBody(stream);
}

// The geo data a node checked (its signature) comes as this header; the worker sees it as
// `request.cf`, never as a header.
const CF_HEADER = "x-edge-cf";

// A scheduled event from the node's scheduler: `{cron, scheduledTime}`.
const SCHEDULED_HEADER = "x-edge-scheduled";

// Removes the internal header `name` and returns its value parsed as JSON, if it was there.
function takeInternal(headerList, name) {
  for (let i = 0; i < headerList.length; i++) {
    if (headerList[i][0] === name) {
      const { 1: json } = ArrayPrototypeSplice(headerList, i, 1)[0];
      return JSONParse(json);
    }
  }
  return undefined;
}

let scheduledHandler = null;

// A batch of queue messages from the node's queue consumer: the request's body is
// `{queue, messages: [{id, timestamp, contentType, body, attempts}]}`. The answer says, per
// message, whether it is done (`ack`) or to be delivered again (`retry`, with a delay), and
// the handler's error if it threw: what was decided explicitly (`ack()`, `retry()`,
// `ackAll()`, `retryAll()`) stands; the rest is acked when the handler returns and retried
// when it throws.
const QUEUE_HEADER = "x-edge-queue";
let queueHandler = null;

function queueBody(message) {
  switch (message.contentType) {
    case "text":
      return message.body;
    case "bytes": {
      const text = base64.atob(message.body);
      const bytes = new Uint8Array(text.length);
      for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
      return bytes.buffer;
    }
    default:
      return JSONParse(message.body);
  }
}

async function runQueue(incoming) {
  if (queueHandler === null) {
    throw new TypeError("the worker has no queue handler: export default { queue(batch, env, ctx) { ... } }");
  }
  const delivered = JSONParse(await incoming.text());
  const explicit = new Map();
  let all = null;
  const decide = (choice) => (choice.retry ? { retry: true, delaySeconds: choice.delaySeconds } : { ack: true });
  const messages = delivered.messages.map((raw) => {
    const message = {
      id: raw.id,
      timestamp: new Date(raw.timestamp),
      body: queueBody(raw),
      attempts: raw.attempts,
      ack() {
        if (!explicit.has(raw.id)) explicit.set(raw.id, { ack: true });
      },
      retry(options) {
        if (!explicit.has(raw.id)) explicit.set(raw.id, { retry: true, delaySeconds: options?.delaySeconds });
      },
    };
    return ObjectFreeze(message);
  });
  const batch = ObjectFreeze({
    queue: delivered.queue,
    messages: ObjectFreeze(messages),
    ackAll() {
      all ??= { ack: true };
    },
    retryAll(options) {
      all ??= { retry: true, delaySeconds: options?.delaySeconds };
    },
  });
  let error = null;
  try {
    await queueHandler(batch);
  } catch (e) {
    error = errorText(e);
  }
  const outcomes = delivered.messages.map((raw) => {
    const choice = explicit.get(raw.id) ?? all ?? (error === null ? { ack: true } : { retry: true });
    return { id: raw.id, ...decide(choice) };
  });
  return new Response(JSONStringify({ outcomes, error }), {
    status: 200,
    headers: { "content-type": "application/json" },
  });
}

async function runScheduled(event) {
  if (scheduledHandler === null) {
    throw new TypeError(
      "the worker has no scheduled handler: export default { scheduled(controller, env, ctx) { ... } }",
    );
  }
  const controller = { cron: event.cron, scheduledTime: event.scheduledTime, type: "scheduled", noRetry() {} };
  await scheduledHandler(controller);
  return new Response(null, { status: 204 });
}

async function handle(handler, head) {
  const { 0: id, 1: method, 2: href, 3: headerList, 4: hasBody } = head;
  let result;
  try {
    const scheduled = takeInternal(headerList, SCHEDULED_HEADER);
    const queued = takeInternal(headerList, QUEUE_HEADER);
    if (scheduled !== undefined) {
      result = await runScheduled(scheduled);
    } else if (queued !== undefined) {
      const inner = request.newInnerRequest(method, href, () => headerList, hasBody ? requestBody(id) : null, false);
      result = await runQueue(request.fromInnerRequest(inner, "immutable"));
    } else {
      const cf = takeInternal(headerList, CF_HEADER);
      const inner = request.newInnerRequest(
        method,
        href,
        () => headerList,
        hasBody ? requestBody(id) : null,
        false,
      );
      const incoming = request.fromInnerRequest(inner, "immutable");
      if (cf !== undefined) ObjectDefineProperty(incoming, "cf", { value: cf, enumerable: true });
      result = await handler(incoming);
    }
  } catch (e) {
    const message = ObjectPrototypeIsPrototypeOf(Error.prototype, e) ? `${e.name}: ${e.message}` : errorText(e);
    fail(id, 0, message, errorText(e));
    return;
  }
  if (!ObjectPrototypeIsPrototypeOf(response.ResponsePrototype, result)) {
    fail(id, 1, describe(result), "");
    return;
  }
  const inner = response.toInnerResponse(result);
  if (inner.type === "error" || inner.status === 0) {
    fail(id, 0, "TypeError: the handler returned Response.error()", "");
    return;
  }
  if (inner.status === 101) {
    // The other end of a WebSocketPair: the host upgrades the connection.
    const end = responseWebSocket(result);
    try {
      attachWebSocket(end, op_edge_respond_websocket(id, inner.headerList));
    } catch (e) {
      op_edge_print(3, `Uncaught (while accepting the WebSocket) ${errorText(e)}\n`);
    }
    return;
  }
  try {
    await send(id, inner);
  } catch (e) {
    // The exchange may be gone (client disconnected); nothing else can be done for it.
    op_edge_print(3, `Uncaught (while sending the response) ${errorText(e)}\n`);
  }
}

function fail(id, kind, message, detail) {
  try {
    op_edge_fail(id, kind, message, detail);
  } catch {
    // The caller has gone away.
  }
}

async function send(id, inner) {
  const { status, headerList } = inner;
  const innerBody = inner.body;
  if (innerBody === null) {
    op_edge_respond_empty(id, status, headerList);
    return;
  }
  const source = innerBody.streamOrStatic;
  if (!ObjectPrototypeIsPrototypeOf(streams.ReadableStreamPrototype, source) && !source.consumed) {
    // A body given as a string or bytes goes out in one piece, without a stream.
    source.consumed = true;
    if (typeof source.body === "string") op_edge_respond_text(id, status, headerList, source.body);
    else op_edge_respond_bytes(id, status, headerList, source.body);
    return;
  }
  const reader = innerBody.stream.getReader();
  op_edge_respond_stream(id, status, headerList);
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!ObjectPrototypeIsPrototypeOf(Uint8Array.prototype, value)) {
        throw new TypeError(`a response body chunk must be a Uint8Array, got ${describe(value)}`);
      }
      if (!(await op_edge_body_write(id, value))) {
        // The client has gone: stop the producer.
        await reader.cancel("the client disconnected");
        op_edge_body_close(id, "");
        return;
      }
    }
    op_edge_body_close(id, "");
  } catch (e) {
    op_edge_print(3, `Uncaught (in response body) ${errorText(e)}\n`);
    op_edge_body_close(id, errorText(e));
  }
}

let env = {};

function moduleHandler(worker) {
  return (req) => worker.fetch(req, env, new ExecutionContext());
}

async function serviceWorkerHandler(req) {
  const e = new FetchEvent(req);
  for (const listener of ArrayFrom(fetchListeners)) {
    if (typeof listener === "function") listener.call(globalThis, e);
    else listener.handleEvent(e);
  }
  if (e.responded === null) {
    throw new TypeError("the fetch event listener did not call event.respondWith()");
  }
  return await e.responded;
}

async function serve(handler) {
  try {
    while (true) {
      const head = await op_edge_next_request();
      if (head === null) break;
      // Each request starts with no async context: a store a handler entered without a
      // scope (AsyncLocalStorage.enterWith) must not reach the next request. (Checked first:
      // the engine starts tracking contexts at the first set.)
      if (core.getAsyncContext() !== undefined) core.setAsyncContext(undefined);
      handle(handler, head);
    }
    // Shutting down: WebSockets still open are told to reconnect (1012, service restart),
    // and ctx.waitUntil() work may finish.
    closeWebSockets(1012, "the worker was restarted or stopped: reconnect");
    while (pending.size > 0) await PromiseAllSettled(ArrayFrom(pending));
    // Then the TCP sockets it still holds (cloudflare:sockets) are closed.
    op_edge_tcp_close_all();
  } catch (e) {
    op_edge_print(3, `the request loop failed: ${errorText(e)}\n`);
  }
}

// Platform bindings: objects on `env` whose calls the host answers (op_edge_binding).
async function bindingCall(name, method, args, bytes) {
  const { 0: json, 1: out } = await op_edge_binding(name, method, JSONStringify(args), bytes ?? new Uint8Array(0));
  return [JSONParse(json), out];
}

async function toBytes(value) {
  if (typeof value === "string") return core.encode(value);
  if (value instanceof ArrayBuffer) return new Uint8Array(value.slice(0));
  if (ArrayBuffer.isView(value)) {
    return new Uint8Array(value.buffer.slice(value.byteOffset, value.byteOffset + value.byteLength));
  }
  if (value instanceof ReadableStream) return new Uint8Array(await new Response(value).arrayBuffer());
  throw new TypeError("put() takes a string, an ArrayBuffer, an ArrayBufferView or a ReadableStream");
}

const KV_TYPES = ["text", "json", "arrayBuffer", "stream"];

function fromBytes(bytes, type) {
  switch (type) {
    case "text":
      return core.decode(bytes);
    case "json":
      return JSONParse(core.decode(bytes));
    case "arrayBuffer":
      return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    default:
      return new Response(bytes).body;
  }
}

// Cloudflare's KVNamespace: get, getWithMetadata, put, delete, list.
class KVNamespace {
  #name;
  constructor(name) {
    this.#name = name;
  }
  async get(key, options) {
    return (await this.getWithMetadata(key, options)).value;
  }
  async getWithMetadata(key, options) {
    const type = typeof options === "string" ? options : (options?.type ?? "text");
    if (ArrayPrototypeIndexOf(KV_TYPES, type) === -1) {
      throw new TypeError(`unknown type "${type}": use text, json, arrayBuffer or stream`);
    }
    const { 0: found, 1: bytes } = await bindingCall(this.#name, "get", { key: String(key) });
    if (!found.found) return { value: null, metadata: null };
    return { value: fromBytes(bytes ?? new Uint8Array(0), type), metadata: found.metadata ?? null };
  }
  async put(key, value, options) {
    const bytes = await toBytes(value);
    const { expiration, expirationTtl, metadata } = options ?? {};
    await bindingCall(this.#name, "put", { key: String(key), expiration, expirationTtl, metadata }, bytes);
  }
  async delete(key) {
    await bindingCall(this.#name, "delete", { key: String(key) });
  }
  async list(options) {
    const { prefix = "", limit = 1000, cursor = null } = options ?? {};
    return (await bindingCall(this.#name, "list", { prefix, limit, cursor }))[0];
  }
}

const NULL_BODY_STATUS = [101, 103, 204, 205, 304];

// A queue producer: `env.ORDERS.send(body, {contentType})` and `sendBatch([{body,
// contentType}])`; resolves once the node has stored the messages durably. Content types:
// `json` (the default), `text`, `bytes`.
function queueMessage(body, options) {
  const contentType = options?.contentType ?? "json";
  if (options?.delaySeconds !== undefined) {
    throw new TypeError("delaySeconds on send is not supported: delay a message with message.retry({ delaySeconds })");
  }
  switch (contentType) {
    case "json": {
      const text = JSONStringify(body);
      if (text === undefined) throw new TypeError("a json message body must be serialisable with JSON.stringify");
      return { contentType, body: text };
    }
    case "text":
      if (typeof body !== "string") throw new TypeError("a text message body must be a string");
      return { contentType, body };
    case "bytes": {
      let bytes;
      if (body instanceof ArrayBuffer) bytes = new Uint8Array(body);
      else if (ArrayBuffer.isView(body)) bytes = new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
      else throw new TypeError("a bytes message body must be an ArrayBuffer or an ArrayBufferView");
      let text = "";
      for (let i = 0; i < bytes.length; i++) text += String.fromCharCode(bytes[i]);
      return { contentType, body: base64.btoa(text) };
    }
    default:
      throw new TypeError(`unknown contentType "${contentType}": use json, text or bytes`);
  }
}

class Queue {
  #name;
  constructor(name) {
    this.#name = name;
  }
  async send(body, options) {
    await bindingCall(this.#name, "send", { messages: [queueMessage(body, options)] });
  }
  async sendBatch(messages, options) {
    const list = ArrayFrom(messages ?? [], (m) => queueMessage(m?.body, { ...options, ...m }));
    await bindingCall(this.#name, "send", { messages: list });
  }
}

// A service binding: `env.AUTH.fetch(request)` calls another worker on the same node, without
// a network hop. Bodies travel whole.
class Fetcher {
  #name;
  constructor(name) {
    this.#name = name;
  }
  async fetch(input, init) {
    if (!op_edge_subrequest()) {
      throw new TypeError("too many subrequests: the worker exceeded its subrequest limit");
    }
    const trace = op_edge_trace();
    const req = new Request(input, init);
    if (trace !== "") traced(req, trace);
    const body = req.body === null ? null : new Uint8Array(await req.arrayBuffer());
    const head = { method: req.method, url: req.url, headers: ArrayFrom(req.headers), hasBody: body !== null };
    const { 0: answer, 1: bytes } = await bindingCall(this.#name, "fetch", head, body);
    const nullBody = ArrayPrototypeIndexOf(NULL_BODY_STATUS, answer.status) !== -1;
    return new Response(nullBody ? null : (bytes ?? new Uint8Array(0)), {
      status: answer.status,
      headers: answer.headers,
    });
  }
}

// The Cache API: `caches.default` and `await caches.open(name)`, kept by the host (the
// node keeps each worker's apart), honouring Cache-Control and Vary.
const CACHE_BINDING = "__cache";

function cacheRequest(input) {
  return ObjectPrototypeIsPrototypeOf(request.RequestPrototype, input) ? input : new Request(input);
}

class Cache {
  #name;
  constructor(name) {
    this.#name = name;
  }
  async match(input, options) {
    const req = cacheRequest(input);
    if (req.method !== "GET" && !options?.ignoreMethod) return undefined;
    const args = { cache: this.#name, url: req.url, headers: ArrayFrom(req.headers) };
    const { 0: found, 1: bytes } = await bindingCall(CACHE_BINDING, "match", args);
    if (!found.found) return undefined;
    const nullBody = ArrayPrototypeIndexOf(NULL_BODY_STATUS, found.status) !== -1;
    return new Response(nullBody ? null : (bytes ?? new Uint8Array(0)), { status: found.status, headers: found.headers });
  }
  async put(input, answer) {
    const req = cacheRequest(input);
    if (req.method !== "GET") throw new TypeError("Cache.put() takes only GET requests");
    if (!ObjectPrototypeIsPrototypeOf(response.ResponsePrototype, answer)) {
      throw new TypeError("Cache.put() needs a Response");
    }
    if (answer.status === 206) throw new TypeError("Cache.put() cannot keep a partial (206) response");
    if (answer.headers.get("vary")?.trim() === "*") throw new TypeError("Cache.put() cannot keep a response with Vary: *");
    const body = new Uint8Array(await answer.arrayBuffer());
    const args = {
      cache: this.#name,
      url: req.url,
      requestHeaders: ArrayFrom(req.headers),
      status: answer.status,
      headers: ArrayFrom(answer.headers),
    };
    await bindingCall(CACHE_BINDING, "put", args, body);
  }
  async delete(input, options) {
    const req = cacheRequest(input);
    if (req.method !== "GET" && !options?.ignoreMethod) return false;
    return (await bindingCall(CACHE_BINDING, "delete", { cache: this.#name, url: req.url }))[0].deleted;
  }
}

class CacheStorage {
  #default = new Cache("default");
  get default() {
    return this.#default;
  }
  async open(name) {
    return new Cache(`named:${name}`);
  }
}

function bindings() {
  const made = {};
  for (const { 0: name, 1: kind } of JSONParse(op_edge_bindings())) {
    if (kind === "kv") made[name] = new KVNamespace(name);
    else if (kind === "service") made[name] = new Fetcher(name);
    else if (kind === "queue") made[name] = new Queue(name);
  }
  return made;
}

// Starts serving with the evaluated worker module. Returns null, or why it cannot serve.
function start(namespace) {
  env = { ...JSONParse(op_edge_env()), ...bindings() };
  const worker = namespace?.default;
  if (worker != null && typeof worker.scheduled === "function") {
    scheduledHandler = (controller) => worker.scheduled(controller, env, new ExecutionContext());
  }
  if (worker != null && typeof worker.queue === "function") {
    queueHandler = (batch) => worker.queue(batch, env, new ExecutionContext());
  }
  let handler;
  if (worker != null && typeof worker.fetch === "function") {
    handler = moduleHandler(worker);
  } else if (scheduledHandler !== null || queueHandler !== null) {
    // A worker that only runs on a schedule or consumes a queue.
    const what = scheduledHandler === null ? "consumes a queue" : "runs on a schedule";
    handler = () => new Response(`this worker has no fetch handler: it ${what}\n`, { status: 404 });
  } else if (fetchListeners.length > 0) {
    handler = serviceWorkerHandler;
  } else {
    return "the worker has no fetch handler: export default { fetch(request, env, ctx) { ... } }, or call addEventListener(\"fetch\", ...)";
  }
  serve(handler);
  return null;
}

// Called once per isolate, before any worker code: per-isolate set-up, then hide the
// embedder's internals. Returns `start`.
function init(userAgent) {
  delete globalThis.__edgeInit;
  performance.setTimeOrigin();
  class Navigator {
    get userAgent() {
      return userAgent;
    }
  }
  ObjectDefineProperty(globalThis, "navigator", core.propGetterOnly(() => navigatorInstance));
  const navigatorInstance = new Navigator();
  ObjectDefineProperty(globalThis, "caches", {
    value: new CacheStorage(),
    writable: true,
    configurable: true,
    enumerable: false,
  });
  core.setUnhandledPromiseRejectionHandler((_promise, reason) => {
    op_edge_print(3, `Uncaught (in promise) ${errorText(reason)}\n`);
    return true;
  });
  core.setReportExceptionCallback((error) => {
    op_edge_print(3, `Uncaught ${errorText(error)}\n`);
  });
  delete globalThis.Deno;
  delete globalThis.__bootstrap;
  return start;
}
ObjectDefineProperty(globalThis, "__edgeInit", {
  value: init,
  writable: false,
  enumerable: false,
  configurable: true,
});

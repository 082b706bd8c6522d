// WebSockets as Cloudflare's workers have them: `new WebSocketPair()` gives two connected
// `WebSocket`s; the worker keeps one (`server.accept()`, then `send`, `close` and the
// `message`, `close` and `error` events) and returns the other in
// `new Response(null, { status: 101, webSocket: client })`. From then on the returned end is
// the client across the network: the host speaks the protocol and the ops `op_edge_ws_*`
// carry the messages (runtime/src/ops/websocket.rs). Two ends kept in the isolate talk to
// each other directly.
//
// Events received before `accept()` wait for it, as in workerd (delivered after the turn that
// accepts, so listeners added right after see them); a close from the other side is answered at
// once (workerd's behaviour since its 2026-04-07 compatibility date).
//
// Outbound: `new WebSocket(url)` and `fetch()` with `Upgrade: websocket` (`fetchWebSocket`)
// connect through `op_edge_ws_connect` (runtime/src/outbound.rs); the network is then a hidden
// peer end attached to the socket, exactly as a returned pair end is.

import { core, primordials } from "ext:core/mod.js";

const {
  ArrayBufferIsView,
  ArrayBufferPrototype,
  ArrayBufferPrototypeGetByteLength,
  ArrayPrototypeMap,
  ArrayPrototypePush,
  ArrayPrototypeShift,
  ObjectDefineProperty,
  ObjectGetOwnPropertyDescriptor,
  ObjectGetPrototypeOf,
  ObjectPrototypeIsPrototypeOf,
  ObjectSetPrototypeOf,
  PromisePrototypeThen,
  PromiseResolve,
  RangeError,
  ReflectConstruct,
  SafeSet,
  SafeWeakMap,
  SetPrototypeAdd,
  SetPrototypeDelete,
  SetPrototypeForEach,
  String,
  StringPrototypeSplit,
  StringPrototypeTrim,
  Symbol,
  SymbolIterator,
  TypeError,
  TypedArrayPrototypeGetBuffer,
  TypedArrayPrototypeGetByteLength,
  TypedArrayPrototypeGetByteOffset,
  TypedArrayPrototypeSlice,
  Uint8Array,
  WeakMapPrototypeGet,
  WeakMapPrototypeSet,
} = primordials;

const {
  op_edge_ws_connect,
  op_edge_ws_send_text,
  op_edge_ws_send_bytes,
  op_edge_ws_close,
  op_edge_ws_next,
  op_edge_ws_release,
} = core.ops;

const event = core.loadExtScript("ext:deno_web/02_event.js");
const file = core.loadExtScript("ext:deno_web/09_file.js");
const domException = core.loadExtScript("ext:deno_web/01_dom_exception.js");

const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;

// Made only here: `new WebSocket(url)` is a client WebSocket, which workers cannot open yet.
const kPairEnd = Symbol("WebSocketPair end");

// The ends handed to the network whose sockets are open: closed when the worker stops.
const attached = new SafeSet();

let linkEnds;
let handOff;
let attach;
let deliver;
let detach;
let closeAll;
let connected;
let failed;
let fetchedEnds;

class WebSocket extends event.EventTarget {
  #state = OPEN;
  #accepted = false;
  // The other end of the pair.
  #peer = null;
  // This end was returned in a Response: the network's client stands for it.
  #handedOff = false;
  // The network socket's id, once the Response went out.
  #socketId = null;
  // Messages and the close for the network that came before the Response went out.
  #outbox = [];
  // Events that came before accept().
  #waiting = [];
  #binaryType = "arraybuffer";

  // A client WebSocket's URL and agreed subprotocol and extensions.
  #url = null;
  #protocol = "";
  #extensions = "";

  constructor(url, protocols = undefined) {
    super();
    if (url === kPairEnd) return;
    // A client WebSocket: the network end is a hidden peer, attached once connected.
    const href = webSocketUrl(url);
    protocols = protocols === undefined ? [] : typeof protocols === "string" ? [protocols] : [...protocols];
    this.#url = href;
    this.#state = CONNECTING;
    this.#accepted = true;
    const network = new WebSocket(kPairEnd);
    network.#peer = this;
    network.#handedOff = true;
    this.#peer = network;
    // A failure is the socket's error and close events.
    PromisePrototypeThen(dialFor(this, network, href, protocols, []), undefined, () => {});
  }

  get readyState() {
    return this.#state;
  }
  get url() {
    return this.#url;
  }
  get protocol() {
    return this.#protocol;
  }
  get extensions() {
    return this.#extensions;
  }
  get binaryType() {
    return this.#binaryType;
  }
  set binaryType(value) {
    if (value === "arraybuffer" || value === "blob") this.#binaryType = value;
  }

  /** Starts delivering events to this end (events received before wait for it). */
  accept() {
    if (this.#handedOff) {
      throw new TypeError("Can't accept() WebSocket that was already used in a response.");
    }
    if (this.#accepted) return;
    this.#accepted = true;
    // What came before is delivered after this turn, so that listeners added right after
    // accept() see it (and in order with what comes meanwhile).
    if (this.#waiting.length > 0) PromisePrototypeThen(PromiseResolve(), () => this.#drain());
  }

  #drain() {
    while (this.#waiting.length > 0) this.#dispatch(ArrayPrototypeShift(this.#waiting));
  }

  send(message) {
    if (this.#handedOff) {
      throw new TypeError("Can't call send() on a WebSocket that was returned in a Response.");
    }
    if (!this.#accepted) {
      throw new TypeError("You must call accept() on this WebSocket before sending messages.");
    }
    if (this.#state === CONNECTING) {
      throw new domException.DOMException("Still in CONNECTING state.", "InvalidStateError");
    }
    if (this.#state !== OPEN) {
      throw new TypeError("Can't call WebSocket send() after close().");
    }
    this.#peer.#carry(toMessage(message));
  }

  close(code = undefined, reason = undefined) {
    if (this.#handedOff) {
      throw new TypeError("Can't call close() on a WebSocket that was returned in a Response.");
    }
    if (code !== undefined) {
      code = code | 0;
      if (code !== 1000 && (code < 3000 || code > 4999) && !(code >= 1001 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006)) {
        throw new domException.DOMException(`The close code must be 1000 or in the range 3000-4999 (got ${code}).`, "InvalidAccessError");
      }
    }
    reason = reason === undefined ? "" : String(reason);
    if (core.encode(reason).byteLength > 123) {
      throw new domException.DOMException("The close reason must be at most 123 bytes of UTF-8.", "SyntaxError");
    }
    if (this.#state === CLOSING || this.#state === CLOSED) return;
    this.#state = CLOSING;
    this.#peer.#carry({ close: true, code: code ?? 1000, reason });
  }

  // A message or close this end's peer sent, to be carried to this end: across the network
  // once this end was returned in a Response, or straight to it within the isolate.
  #carry(message) {
    if (this.#socketId !== null) {
      toNetwork(this.#socketId, message);
    } else if (this.#handedOff) {
      ArrayPrototypePush(this.#outbox, message);
    } else {
      PromisePrototypeThen(PromiseResolve(), () => this.#receive(message));
    }
  }

  // A message or close that reached this end.
  #receive(message) {
    if (this.#handedOff) {
      // Sent before this end went out in a Response: it is the network's now.
      this.#carry(message);
      return;
    }
    if (message.close) {
      const initiatedHere = this.#state === CLOSING;
      this.#state = CLOSED;
      // Answer a close from the other side (a local peer; the host answers the network's).
      if (!initiatedHere && this.#peer !== null && this.#peer.#state !== CLOSED && this.#socketId === null && !message.lost) {
        this.#peer.#state = CLOSED;
        const answer = { close: true, code: message.code, reason: message.reason };
        PromisePrototypeThen(PromiseResolve(), () => this.#peer.#receive(answer));
      }
    }
    if (this.#accepted && this.#waiting.length === 0) this.#dispatch(message);
    else ArrayPrototypePush(this.#waiting, message);
  }

  #dispatch(message) {
    if (message.close) {
      this.#state = CLOSED;
      if (message.lost) {
        this.dispatchEvent(new event.ErrorEvent("error", { message: message.message ?? "the WebSocket connection was lost" }));
      }
      this.dispatchEvent(
        new event.CloseEvent("close", { code: message.code, reason: message.reason, wasClean: !message.lost }),
      );
      return;
    }
    let data = message.data;
    if (typeof data !== "string" && this.#binaryType === "blob") data = new file.Blob([data]);
    this.dispatchEvent(new event.MessageEvent("message", { data }));
  }

  // What the rest of this module may do with an end's private state; worker code cannot.
  static {
    linkEnds = (a, b) => {
      a.#peer = b;
      b.#peer = a;
    };
    // This end is returned in a Response: it may not be used in the isolate any more.
    handOff = (end) => {
      if (!(#peer in end) || end.#peer === null) {
        throw new TypeError("webSocket must be one end of a WebSocketPair");
      }
      if (end.#handedOff) throw new TypeError("this WebSocket was already returned in a Response");
      if (end.#accepted) throw new TypeError("a WebSocket that was accept()ed cannot be returned in a Response");
      end.#handedOff = true;
      // What its peer sent it so far goes to the network's client first.
      end.#outbox = end.#waiting;
      end.#waiting = [];
    };
    // The Response went out as socket `id`: the network's client is this end from now on.
    attach = (end, id) => {
      end.#socketId = id;
      SetPrototypeAdd(attached, end);
      const outbox = end.#outbox;
      end.#outbox = [];
      for (let i = 0; i < outbox.length; i++) toNetwork(id, outbox[i]);
      receiveLoop(end, end.#peer, id);
    };
    deliver = (end, message) => end.#receive(message);
    // An outbound socket connected as `id`: `socket` is the worker's end, `network` its peer.
    connected = (socket, network, id, protocol, extensions) => {
      socket.#protocol = protocol;
      socket.#extensions = extensions;
      if (socket.#state === CONNECTING) socket.#state = OPEN;
      attach(network, id);
      if (socket.#accepted) socket.dispatchEvent(new event.Event("open"));
    };
    // An outbound socket that could not connect.
    failed = (socket, message) => {
      socket.#state = CLOSED;
      const lost = { close: true, code: 1006, reason: "", lost: true, message };
      if (socket.#accepted) socket.#dispatch(lost);
      else ArrayPrototypePush(socket.#waiting, lost);
    };
    // A socket `fetch` gives back: the worker accept()s it.
    fetchedEnds = () => {
      const socket = new WebSocket(kPairEnd);
      const network = new WebSocket(kPairEnd);
      linkEnds(network, socket);
      network.#handedOff = true;
      return [socket, network];
    };
    detach = (end) => SetPrototypeDelete(attached, end);
    // The worker is stopping: close every socket still open on the network.
    closeAll = (code, reason) => {
      // (A copy made with `new SafeSet(attached)` never ends iterating on QuickJS.)
      const ends = [];
      SetPrototypeForEach(attached, (end) => ArrayPrototypePush(ends, end));
      for (let i = 0; i < ends.length; i++) {
        const end = ends[i];
        const server = end.#peer;
        if (server.#state === OPEN) {
          server.#state = CLOSING;
          toNetwork(end.#socketId, { close: true, code, reason });
        }
      }
    };
  }
}
const WebSocketPrototype = WebSocket.prototype;

for (const name of ["open", "message", "close", "error"]) event.defineEventHandler(WebSocketPrototype, name);
for (const [name, value] of [["CONNECTING", CONNECTING], ["OPEN", OPEN], ["CLOSING", CLOSING], ["CLOSED", CLOSED]]) {
  ObjectDefineProperty(WebSocket, name, { value, enumerable: true });
  ObjectDefineProperty(WebSocketPrototype, name, { value, enumerable: true });
}

function toNetwork(id, message) {
  try {
    if (message.close) op_edge_ws_close(id, message.code, message.reason);
    else if (typeof message.data === "string") op_edge_ws_send_text(id, message.data);
    else op_edge_ws_send_bytes(id, new Uint8Array(message.data));
  } catch (e) {
    // The socket is gone: its close event follows from the receive loop. A message over the
    // size limit, or a client that reads nothing, is the sender's error.
    if (ObjectPrototypeIsPrototypeOf(RangeError.prototype, e)) throw e;
  }
}

// Delivers what the network's client sends to `server`, until the socket closes.
async function receiveLoop(end, server, id) {
  try {
    while (true) {
      const { 0: kind, 1: text, 2: bytes, 3: code } = await op_edge_ws_next(id);
      if (kind === 0) {
        deliver(server, { data: text });
      } else if (kind === 1) {
        const buffer = TypedArrayPrototypeGetBuffer(bytes);
        const whole = TypedArrayPrototypeGetByteOffset(bytes) === 0 &&
          TypedArrayPrototypeGetByteLength(bytes) === ArrayBufferPrototypeGetByteLength(buffer);
        deliver(server, { data: whole ? buffer : TypedArrayPrototypeGetBuffer(TypedArrayPrototypeSlice(bytes)) });
      } else {
        deliver(server, { close: true, code, reason: text ?? "", lost: kind === 3 });
        break;
      }
    }
  } finally {
    detach(end);
    op_edge_ws_release(id);
  }
}

// A client WebSocket's URL: ws: or wss: (http: and https: are taken as them), no fragment.
function webSocketUrl(url) {
  let parsed;
  try {
    parsed = new URL(String(url));
  } catch {
    throw new domException.DOMException(`Failed to construct 'WebSocket': The URL '${url}' is invalid.`, "SyntaxError");
  }
  if (parsed.protocol === "http:") parsed.protocol = "ws:";
  if (parsed.protocol === "https:") parsed.protocol = "wss:";
  if (parsed.protocol !== "ws:" && parsed.protocol !== "wss:") {
    throw new domException.DOMException(
      `Failed to construct 'WebSocket': The URL's scheme must be either 'http', 'https', 'ws', or 'wss'. '${parsed.protocol}' is not allowed.`,
      "SyntaxError",
    );
  }
  if (parsed.hash !== "") {
    throw new domException.DOMException("Failed to construct 'WebSocket': The URL contains a fragment identifier.", "SyntaxError");
  }
  return parsed.href;
}

// Connects an outbound socket; it counts as a subrequest, under the outbound policy.
async function dialFor(socket, network, href, protocols, headers) {
  try {
    if (!core.ops.op_edge_subrequest()) {
      throw new TypeError("too many subrequests: the worker exceeded its subrequest limit");
    }
    const { 0: id, 1: protocol, 2: extensions } = await op_edge_ws_connect(href, protocols, headers);
    connected(socket, network, id, protocol, extensions);
  } catch (e) {
    failed(socket, e?.message ?? String(e));
    throw e;
  }
}

/**
 * `fetch(url, { headers: { Upgrade: "websocket" } })`: connects, and answers a `101` whose
 * `webSocket` the worker accept()s.
 */
async function fetchWebSocket(request, makeInner) {
  const href = webSocketUrl(request.url);
  const headers = [];
  let protocols = [];
  for (const { 0: name, 1: value } of request.headers) {
    if (name === "sec-websocket-protocol") protocols = ArrayPrototypeMap(StringPrototypeSplit(value, ","), (p) => StringPrototypeTrim(p));
    else if (!SKIPPED_HEADERS.has(name)) ArrayPrototypePush(headers, [name, value]);
  }
  const { 0: socket, 1: network } = fetchedEnds();
  await dialFor(socket, network, href, protocols, headers);
  const response = makeInner();
  WeakMapPrototypeSet(responseSockets, response, socket);
  return response;
}

// Request headers a WebSocket handshake sets itself.
const SKIPPED_HEADERS = new SafeSet([
  "upgrade",
  "connection",
  "sec-websocket-key",
  "sec-websocket-version",
  "sec-websocket-extensions",
  "host",
  "content-length",
]);

// A message as send() takes it: a string, or the bytes of an ArrayBuffer or a view (copied).
function toMessage(message) {
  if (typeof message === "string") return { data: message };
  if (ObjectPrototypeIsPrototypeOf(ArrayBufferPrototype, message)) return { data: message.slice(0) };
  if (ArrayBufferIsView(message)) {
    const view = new Uint8Array(message.buffer, message.byteOffset, message.byteLength);
    return { data: TypedArrayPrototypeGetBuffer(TypedArrayPrototypeSlice(view)) };
  }
  throw new TypeError("send() takes a string, an ArrayBuffer or an ArrayBufferView");
}

/** Two connected WebSockets: `0` to return in a Response (the client), `1` to keep. */
class WebSocketPair {
  constructor() {
    const client = new WebSocket(kPairEnd);
    const server = new WebSocket(kPairEnd);
    linkEnds(client, server);
    this[0] = client;
    this[1] = server;
  }

  *[SymbolIterator]() {
    yield this[0];
    yield this[1];
  }
}

/** The end a Response carries (`init.webSocket`), per Response. */
const responseSockets = new SafeWeakMap();

/**
 * The global `Response`: deno_fetch's, which also takes `{ status: 101, webSocket }`.
 * Instances are deno_fetch's Responses (same prototype, same statics), so `instanceof` and
 * the body methods are unchanged.
 */
function makeResponse(Base, toInnerResponse) {
  function Response(body = null, init = undefined) {
    if (new.target === undefined) {
      throw new TypeError("Failed to construct 'Response': Please use the 'new' operator.");
    }
    const webSocket = init?.webSocket;
    if (webSocket === undefined || webSocket === null) {
      if (init?.status === 101) {
        throw new RangeError("a Response with status 101 needs a webSocket: one end of a WebSocketPair");
      }
      return ReflectConstruct(Base, [body, init], new.target);
    }
    if (init.status !== 101) {
      throw new RangeError("a Response with a webSocket must have status 101");
    }
    if (body !== null) throw new TypeError("a Response with a webSocket cannot have a body");
    handOff(webSocket);
    const response = ReflectConstruct(Base, [null, { headers: init.headers, statusText: init.statusText }], new.target);
    toInnerResponse(response).status = 101;
    WeakMapPrototypeSet(responseSockets, response, webSocket);
    return response;
  }
  Response.prototype = Base.prototype;
  ObjectDefineProperty(Base.prototype, "constructor", { value: Response, writable: true, configurable: true });
  ObjectDefineProperty(Base.prototype, "webSocket", {
    get() {
      return WeakMapPrototypeGet(responseSockets, this) ?? null;
    },
    enumerable: true,
    configurable: true,
  });
  ObjectSetPrototypeOf(Response, ObjectGetPrototypeOf(Base));
  for (const name of ["error", "json", "redirect"]) {
    ObjectDefineProperty(Response, name, ObjectGetOwnPropertyDescriptor(Base, name));
  }
  return Response;
}

/** The WebSocket `response` returned, if any. */
function responseWebSocket(response) {
  return WeakMapPrototypeGet(responseSockets, response);
}

export { attach, closeAll, fetchWebSocket, makeResponse, responseWebSocket, WebSocket, WebSocketPair };

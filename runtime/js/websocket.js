// WebSockets as Cloudflare's workers have them: `new WebSocketPair()` gives two connected
// `WebSocket`s; the worker keeps one (`server.accept()`, then `send`, `close` and the
// `message`, `close` and `error` events) and returns the other in
// `new Response(null, { status: 101, webSocket: client })`. From then on the returned end is
// the client across the network: the host speaks the protocol and the ops `op_edge_ws_*`
// carry the messages (runtime/src/ops/websocket.rs). Two ends kept in the isolate talk to
// each other directly.
//
// Events received before `accept()` wait for it, as in workerd; a close from the other side
// is answered at once (workerd's behaviour since its 2026-04-07 compatibility date).

import { core, primordials } from "ext:core/mod.js";

const {
  ArrayBufferIsView,
  ArrayBufferPrototype,
  ArrayBufferPrototypeGetByteLength,
  ArrayPrototypePush,
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

  constructor(url, protocols = undefined) {
    super();
    if (url !== kPairEnd) {
      void protocols;
      throw new TypeError(
        "new WebSocket(url): outbound WebSockets are not available to workers on this platform yet; a worker can accept WebSockets with new WebSocketPair()",
      );
    }
  }

  get readyState() {
    return this.#state;
  }
  get url() {
    return null;
  }
  get protocol() {
    return null;
  }
  get extensions() {
    return null;
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
    const waiting = this.#waiting;
    this.#waiting = [];
    for (let i = 0; i < waiting.length; i++) this.#dispatch(waiting[i]);
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
    if (this.#accepted) this.#dispatch(message);
    else ArrayPrototypePush(this.#waiting, message);
  }

  #dispatch(message) {
    if (message.close) {
      this.#state = CLOSED;
      if (message.lost) {
        this.dispatchEvent(new event.ErrorEvent("error", { message: "the WebSocket connection was lost" }));
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

export { attach, closeAll, makeResponse, responseWebSocket, WebSocket, WebSocketPair };

// node:internal/sockets (exported as cloudflare:sockets, which may not import ext: modules
// itself): outbound TCP, Cloudflare's API. `connect(address, options)` returns a
// Socket at once; `opened` resolves with its addresses once connected, `readable` is a byte
// stream of what the server sends, `writable` takes bytes (and strings, as UTF-8), `closed`
// resolves when both directions are done, `close()` ends it at once, and `startTls()`
// upgrades a `secureTransport: "starttls"` socket to TLS.
//
// As in workerd: an invalid address or option throws a TypeError; a refused or failed
// connection rejects `opened` and `closed` and errors both streams; with `allowHalfOpen:
// false` (the default) the writable closes when the readable reaches its end; `startTls()`
// waits for the write in flight, detaches the old streams, resolves the old `closed`, and
// returns the new socket, whose `opened` resolves after the handshake.
//
// Each connection counts as a subrequest, goes through the worker's outbound policy, and
// counts against `limits.tcp_sockets` while open (runtime/src/ops/tcp.rs). A socket belongs
// to the isolate, so a worker may keep one for its next requests.

import { core } from "ext:core/mod.js";
import {
  op_edge_subrequest,
  op_edge_tcp_close,
  op_edge_tcp_connect,
  op_edge_tcp_read,
  op_edge_tcp_shutdown,
  op_edge_tcp_start_tls,
  op_edge_tcp_write,
} from "ext:core/ops";

const TRANSPORTS = ["off", "on", "starttls"];

function noop() {}

/** A promise and what settles it; rejections are marked handled (the caller may ignore them). */
function deferred() {
  let resolve;
  let reject;
  const promise = new Promise((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.then(undefined, noop);
  return { promise, resolve, reject };
}

function parsePort(value) {
  const port = typeof value === "string" && /^\d+$/.test(value) ? Number(value) : value;
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new TypeError(`connect(): the port must be a whole number from 1 to 65535 (got ${String(value)})`);
  }
  return port;
}

/** `{ hostname, port }` from an address: that object, or "host:port" ("[::1]:5432"). */
function parseAddress(address) {
  if (typeof address === "string") {
    const bracketed = /^\[([^\]]+)\]:(\d+)$/.exec(address);
    const plain = /^([^:[\]]+):(\d+)$/.exec(address);
    const match = bracketed ?? plain;
    if (match === null) {
      throw new TypeError(`connect(): the address must be "host:port" (got ${JSON.stringify(address)})`);
    }
    return { hostname: match[1], port: parsePort(match[2]) };
  }
  if (address === null || typeof address !== "object") {
    throw new TypeError('connect(): the address must be "host:port" or { hostname, port }');
  }
  const hostname = address.hostname;
  if (typeof hostname !== "string" || hostname === "") {
    throw new TypeError("connect(): the address needs a hostname");
  }
  const bare = hostname.startsWith("[") && hostname.endsWith("]") ? hostname.slice(1, -1) : hostname;
  return { hostname: bare, port: parsePort(address.port) };
}

function parseOptions(options) {
  if (options === undefined || options === null) return { secureTransport: "off", allowHalfOpen: false };
  if (typeof options !== "object") throw new TypeError("connect(): the options must be an object");
  const secureTransport = options.secureTransport === undefined ? "off" : options.secureTransport;
  if (!TRANSPORTS.includes(secureTransport)) {
    throw new TypeError(
      `connect(): secureTransport must be "off", "on" or "starttls" (got ${JSON.stringify(secureTransport)})`,
    );
  }
  return { secureTransport, allowHalfOpen: Boolean(options.allowHalfOpen) };
}

function toBytes(chunk) {
  if (typeof chunk === "string") return core.encode(chunk);
  if (chunk instanceof ArrayBuffer) return new Uint8Array(chunk);
  if (ArrayBuffer.isView(chunk)) return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  throw new TypeError("a socket's writable takes an ArrayBuffer, an ArrayBufferView or a string");
}

function closedError() {
  return new TypeError("the socket is closed");
}

// The state behind one Socket. `rid` settles once the connection (or the TLS handshake) is
// made.
class Connection {
  constructor(rid, info, settings) {
    this.settings = settings;
    this.rid = rid;
    this.rid.then(undefined, noop);
    this.opened = deferred();
    this.closed = deferred();
    this.done = false;
    this.readDone = false;
    this.writeDone = false;
    // The write in flight, which startTls() lets finish.
    this.writing = Promise.resolve();
    this.readController = undefined;
    this.writeController = undefined;
    this.readable = new ReadableStream(
      {
        type: "bytes",
        start: (controller) => {
          this.readController = controller;
        },
        pull: (controller) => this.pull(controller),
        cancel: () => {
          this.readDone = true;
          this.settleIfDone();
        },
      },
      { highWaterMark: 0 },
    );
    this.writable = new WritableStream({
      start: (controller) => {
        this.writeController = controller;
      },
      write: (chunk) => {
        const bytes = toBytes(chunk);
        const write = this.rid.then((rid) => (this.done ? Promise.reject(closedError()) : op_edge_tcp_write(rid, bytes)));
        this.writing = write.then(noop, noop);
        return write.catch((error) => this.fail(error));
      },
      close: () => this.endWrites(),
      abort: () => {
        this.writeDone = true;
        this.close();
      },
    });
    rid.then(
      () => this.opened.resolve(info()),
      (error) => this.fail(error),
    );
  }

  async pull(controller) {
    let chunk;
    try {
      const rid = await this.rid;
      chunk = this.done ? null : await op_edge_tcp_read(rid);
    } catch (error) {
      if (!this.done) this.fail(error);
      return;
    }
    if (this.done) return;
    if (chunk === null) {
      this.readDone = true;
      closeReadable(controller);
      if (!this.settings.allowHalfOpen && !this.writeDone) {
        this.writeDone = true;
        this.writeController.error(new TypeError("the server closed the connection"));
        await this.writing;
      }
      this.settleIfDone();
      return;
    }
    controller.enqueue(chunk);
  }

  async endWrites() {
    this.writeDone = true;
    try {
      const rid = await this.rid;
      if (!this.done) await op_edge_tcp_shutdown(rid);
    } catch (error) {
      this.fail(error);
      throw error;
    }
    this.settleIfDone();
  }

  // Both directions done: the connection ends, and `closed` resolves.
  settleIfDone() {
    if (this.readDone && this.writeDone) this.close();
  }

  /** Ends the connection; `closed` resolves. */
  close() {
    if (this.done) return;
    this.done = true;
    this.rid.then(op_edge_tcp_close, noop);
    closeReadable(this.readController);
    errorWritable(this.writeController, closedError());
    this.opened.reject(closedError());
    this.closed.resolve(undefined);
  }

  /** Ends the connection with `error`: `opened` and `closed` reject, the streams error. */
  fail(error) {
    if (this.done) return;
    this.done = true;
    this.rid.then(op_edge_tcp_close, noop);
    try {
      this.readController.error(error);
    } catch {
      // Closed already.
    }
    errorWritable(this.writeController, error);
    this.opened.reject(error);
    this.closed.reject(error);
  }

  /** Hands the connection to a TLS socket: the old streams are detached, `closed` resolves. */
  detach() {
    this.done = true;
    closeReadable(this.readController);
    errorWritable(this.writeController, new TypeError("the socket was upgraded to TLS: use the socket startTls() returned"));
    this.closed.resolve(undefined);
  }
}

function closeReadable(controller) {
  try {
    controller.close();
    controller.byobRequest?.respond(0);
  } catch {
    // Closed or errored already.
  }
}

function errorWritable(controller, error) {
  try {
    controller.error(error);
  } catch {
    // Errored already.
  }
}

const connections = new WeakMap();

function connection(socket) {
  const state = connections.get(socket);
  if (state === undefined) throw new TypeError("Illegal invocation");
  return state;
}

export class Socket {
  constructor() {
    throw new TypeError("Illegal constructor: sockets come from connect()");
  }

  get readable() {
    return connection(this).readable;
  }

  get writable() {
    return connection(this).writable;
  }

  /** Resolves with `{ remoteAddress, localAddress }` once connected. */
  get opened() {
    return connection(this).opened.promise;
  }

  /** Resolves once the socket is closed, rejects when it failed. */
  get closed() {
    return connection(this).closed.promise;
  }

  /** Whether this socket is the TLS one `startTls()` returned. */
  get upgraded() {
    return connection(this).settings.upgraded;
  }

  get secureTransport() {
    return connection(this).settings.secureTransport;
  }

  /** Closes the socket at once; resolves as `closed` does. */
  close() {
    const state = connection(this);
    state.close();
    return state.closed.promise;
  }

  /** Upgrades a `secureTransport: "starttls"` socket to TLS: the new socket. */
  startTls(options) {
    const state = connection(this);
    const { settings } = state;
    if (settings.secureTransport !== "starttls") {
      throw new TypeError('startTls() needs a socket connected with secureTransport: "starttls"');
    }
    if (settings.upgraded || settings.startedTls) {
      throw new TypeError("startTls() can be called only once");
    }
    if (state.done) throw closedError();
    settings.startedTls = true;
    const servername = options?.expectedServerHostname ?? settings.hostname;
    const rid = (async () => {
      const old = await state.rid;
      await state.writing;
      state.detach();
      return await op_edge_tcp_start_tls(old, servername);
    })();
    let info;
    state.opened.promise.then((value) => {
      info = value;
    }, noop);
    return makeSocket(rid, () => info, { ...settings, upgraded: true, secureTransport: "on" });
  }
}

function makeSocket(rid, info, settings) {
  const socket = Object.create(Socket.prototype);
  connections.set(socket, new Connection(rid, info, settings));
  return socket;
}

/** Opens a TCP connection to `address` ("host:port", or `{ hostname, port }`). */
export function connect(address, options) {
  const { hostname, port } = parseAddress(address);
  const { secureTransport, allowHalfOpen } = parseOptions(options);
  if (!op_edge_subrequest()) {
    throw new TypeError("too many subrequests: the worker exceeded its subrequest limit");
  }
  let info;
  let connecting;
  try {
    connecting = op_edge_tcp_connect(hostname, port, secureTransport === "on");
  } catch (error) {
    // Refused before connecting (too many open sockets): as a failed connection.
    connecting = Promise.reject(error);
  }
  const rid = connecting.then(({ 0: rid, 1: remote, 2: local }) => {
    info = { remoteAddress: remote, localAddress: local };
    return rid;
  });
  return makeSocket(rid, () => info, { hostname, secureTransport, allowHalfOpen, upgraded: false, startedTls: false });
}

export default { connect };

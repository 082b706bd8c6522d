// node:net: client sockets (`net.connect`, `createConnection`, `new Socket().connect()`) on
// the worker's outbound TCP (`connect()` of cloudflare:sockets, under its outbound policy and
// limits), as Duplex streams of node:stream with Node's events (`connect`, `ready`, `data`,
// `end`, `close`, `error`, `timeout`), addresses and counters; `tls.connect` (node:tls) builds
// on them, upgrading a socket in place (`{ socket }`) as database drivers do after their TLS
// request. isIP, isIPv4 and isIPv6 work, the auto-select-family settings are kept (and change
// nothing); servers, Unix domain sockets, BlockList and SocketAddress throw
// ERR_METHOD_NOT_IMPLEMENTED (node:internal/unsupported).

import { connect as connectTcp } from "node:internal/sockets";
import { Buffer } from "node:buffer";
import process from "node:process";
import { Duplex } from "node:stream";
import { invalidArgType, nodeError, validateFunction, validateNumber } from "node:internal/errors";
import { IN_A_WORKER, unsupportedError, unsupportedModule } from "node:internal/unsupported";

const OCTET = "(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]\\d|\\d)";
const IPV4 = new RegExp(`^(?:${OCTET}\\.){3}${OCTET}$`);

function testIPv4(input) {
  return IPV4.test(`${input}`);
}

function testIPv6(input) {
  // An optional zone (`%eth0`) after an address the WHATWG host parser takes in brackets.
  const [address, zone] = `${input}`.split(/%(.*)/s);
  if (!/^[0-9a-fA-F:.]+$/.test(address) || !address.includes(":")) return false;
  if (zone !== undefined && !/^[0-9a-zA-Z\-.:]+$/.test(zone)) return false;
  try {
    new URL(`http://[${address}]/`);
    return true;
  } catch {
    return false;
  }
}


const kSocket = Symbol("kSocket");

/** `[options, callback]` from connect()'s forms: (options[, cb]), (port[, host][, cb]), (path[, cb]). */
function normalizeArgs(args) {
  let options = {};
  if (args.length === 0) return [options, null];
  const [first] = args;
  if (first !== null && typeof first === "object") options = { ...first };
  else if (typeof first === "string" && !/^\d+$/.test(first)) options = { path: first };
  else {
    options = { port: first };
    if (args.length > 1 && typeof args[1] === "string") options.host = args[1];
  }
  const last = args[args.length - 1];
  return [options, typeof last === "function" ? last : null];
}

function validatePort(port) {
  const number = typeof port === "string" && port.trim() !== "" ? Number(port) : port;
  if ((typeof number !== "number" && typeof number !== "string") || !Number.isInteger(number) || number < 0 || number > 65535) {
    const shown = typeof port === "string" ? `type string ('${port}')` : `type ${typeof port} (${String(port)})`;
    throw nodeError(RangeError, "ERR_SOCKET_BAD_PORT", `options.port should be >= 0 and < 65536. Received ${shown}.`);
  }
  return number;
}

/** Node's error for a connection that failed: a code where the cause has one. */
function connectError(error, host, port) {
  const message = String(error?.message ?? error);
  const codes = [
    [/refused \(os error/i, "ECONNREFUSED"],
    [/Connection refused/i, "ECONNREFUSED"],
    [/timed out/i, "ETIMEDOUT"],
    [/cannot resolve/i, "ENOTFOUND"],
    [/not a host this worker may reach/, "EACCES"],
  ];
  const code = codes.find(([pattern]) => pattern.test(message))?.[1];
  if (code === undefined) return error;
  const described = code === "EACCES" ? message : `connect ${code} ${host}:${port}`;
  const failure = new Error(described, { cause: error });
  failure.code = code;
  failure.syscall = code === "ENOTFOUND" ? "getaddrinfo" : "connect";
  failure.address = host;
  failure.port = port;
  if (code === "ENOTFOUND") failure.hostname = host;
  return failure;
}

function splitAddress(text) {
  const match = /^\[?(.*?)\]?:(\d+)$/.exec(text ?? "");
  if (match === null) return [undefined, undefined, undefined];
  return [match[1], Number(match[2]), match[1].includes(":") ? "IPv6" : "IPv4"];
}

/** A TCP client socket (a Duplex stream). */
class NetSocket extends Duplex {
  constructor(options = {}) {
    if (options !== null && typeof options !== "object") throw invalidArgType("options", "Object", options);
    super({
      allowHalfOpen: Boolean(options?.allowHalfOpen),
      // `close` is emitted by _destroy, with Node's `hadError`.
      emitClose: false,
      autoDestroy: true,
      decodeStrings: true,
      readableHighWaterMark: options?.readableHighWaterMark,
      writableHighWaterMark: options?.writableHighWaterMark,
    });
    this[kSocket] = null;
    this.connecting = false;
    this.bytesRead = 0;
    this._bytesWritten = 0;
    this._reader = null;
    this._writer = null;
    this._reading = false;
    this._wantsData = false;
    this._handedOver = false;
    this._idle = 0;
    this._timer = null;
    this._host = null;
    this.remoteAddress = undefined;
    this.remotePort = undefined;
    this.remoteFamily = undefined;
    this.localAddress = undefined;
    this.localPort = undefined;
    this.localFamily = undefined;
  }

  /** Connects: (options[, listener]), (port[, host][, listener]). */
  connect(...args) {
    const [options, listener] = Array.isArray(args[0]) ? args[0] : normalizeArgs(args);
    if (options.path !== undefined) {
      throw unsupportedError("net", "connect with a path (Unix domain sockets)", IN_A_WORKER);
    }
    if (this[kSocket] !== null) throw nodeError(Error, "ERR_SOCKET_CONNECTING", "Socket is already connecting or connected");
    const port = validatePort(options.port);
    const host = options.host === undefined || options.host === null ? "localhost" : String(options.host);
    if (listener !== null) {
      validateFunction(listener, "listener");
      this.once(this._connectEvent(), listener);
    }
    if (options.timeout !== undefined) this.setTimeout(options.timeout);
    this._host = host;
    this.connecting = true;
    let socket;
    try {
      socket = this._open(host, port, options);
    } catch (error) {
      queueMicrotask(() => this.destroy(error));
      return this;
    }
    this._attach(socket, host, port);
    return this;
  }

  // A plain socket, which TLS may still be started on (`tls.connect({ socket })`).
  _open(host, port) {
    return connectTcp({ hostname: host, port }, { secureTransport: "starttls", allowHalfOpen: true });
  }

  _connectEvent() {
    return "connect";
  }

  _attach(socket, host, port) {
    this[kSocket] = socket;
    socket.opened.then(
      (info) => {
        if (this.destroyed) return;
        this.connecting = false;
        [this.remoteAddress, this.remotePort, this.remoteFamily] = splitAddress(info?.remoteAddress);
        [this.localAddress, this.localPort, this.localFamily] = splitAddress(info?.localAddress);
        this._reader = socket.readable.getReader();
        this._writer = socket.writable.getWriter();
        this._active();
        this._connected();
        if (this._wantsData) this._pump();
      },
      (error) => {
        if (!this._handedOver) this.destroy(connectError(error, host, port));
      },
    );
  }

  _connected() {
    this.emit("connect");
    this.emit("ready");
  }

  _pump() {
    if (this._reading || this._reader === null) return;
    this._reading = true;
    this._reader.read().then(
      ({ value, done }) => {
        this._reading = false;
        if (this._handedOver) return;
        if (done) {
          this.push(null);
          return;
        }
        this.bytesRead += value.byteLength;
        this._active();
        if (this.push(Buffer.from(value.buffer, value.byteOffset, value.byteLength))) this._pump();
      },
      (error) => {
        this._reading = false;
        if (!this._handedOver) this.destroy(error);
      },
    );
  }

  _read() {
    this._wantsData = true;
    this._pump();
  }

  _whenConnected(then, callback) {
    if (this._writer !== null) return then();
    this.once(this._connectEvent(), then);
    this.once("close", () => this.off(this._connectEvent(), then));
    void callback;
  }

  _write(chunk, encoding, callback) {
    this._whenConnected(() => {
      this._writer.write(chunk).then(
        () => {
          this._bytesWritten += chunk.length;
          this._active();
          callback();
        },
        (error) => callback(error),
      );
    }, callback);
  }

  _final(callback) {
    this._whenConnected(() => {
      this._writer.close().then(() => callback(), (error) => callback(error));
    }, callback);
  }

  _destroy(error, callback) {
    clearTimeout(this._timer);
    this.connecting = false;
    const socket = this[kSocket];
    if (socket !== null && !this._handedOver) socket.close().catch(() => {});
    callback(error);
    // After the `error` event the stream emits on the next tick.
    process.nextTick(() => this.emit("close", Boolean(error)));
  }

  /** Hands the connection to TLS (node:tls): the TLS socket of `cloudflare:sockets`. */
  _startTls(servername) {
    const socket = this[kSocket];
    if (socket === null || this.connecting) {
      throw nodeError(Error, "ERR_SOCKET_CLOSED", "tls.connect({ socket }) needs a connected socket");
    }
    this._handedOver = true;
    try {
      this._reader.releaseLock();
      this._writer.releaseLock();
    } catch {
      // Released already.
    }
    clearTimeout(this._timer);
    return socket.startTls({ expectedServerHostname: servername });
  }

  get bytesWritten() {
    return this._bytesWritten;
  }

  get pending() {
    return this[kSocket] === null || this.connecting;
  }

  get readyState() {
    if (this.connecting) return "opening";
    if (this.destroyed || this[kSocket] === null) return "closed";
    if (this.readable && this.writable) return "open";
    if (this.readable) return "readOnly";
    if (this.writable) return "writeOnly";
    return "closed";
  }

  address() {
    if (this.localAddress === undefined) return {};
    return { address: this.localAddress, family: this.localFamily, port: this.localPort };
  }

  _active() {
    if (this._idle > 0) {
      clearTimeout(this._timer);
      this._timer = setTimeout(() => this.emit("timeout"), this._idle);
    }
  }

  /** Emits `timeout` after `ms` without activity (0 turns it off). */
  setTimeout(ms, callback) {
    validateNumber(ms, "msecs", 0);
    this._idle = ms;
    clearTimeout(this._timer);
    if (callback !== undefined) {
      validateFunction(callback, "callback");
      if (ms === 0) this.off("timeout", callback);
      else this.once("timeout", callback);
    }
    if (ms > 0 && !this.connecting) this._active();
    return this;
  }

  // TCP_NODELAY is always on; keep-alive and event loop references mean nothing here.
  setNoDelay() {
    return this;
  }

  setKeepAlive() {
    return this;
  }

  ref() {
    return this;
  }

  unref() {
    return this;
  }

  destroySoon() {
    this.end();
  }

  resetAndDestroy() {
    return this.destroy();
  }
}

Object.defineProperty(NetSocket, "name", { value: "Socket" });

/** A connected Socket: (options[, listener]), (port[, host][, listener]). */
function connectSocket(...args) {
  const [options, listener] = normalizeArgs(args);
  const socket = new NetSocket(options);
  return socket.connect(options, listener);
}

let autoSelectFamily = true;
let autoSelectFamilyAttemptTimeout = 250;

const net = unsupportedModule(
  "net",
  {
    _normalizeArgs: normalizeArgs,
    connect: connectSocket,
    createConnection: connectSocket,
    Socket: NetSocket,
    Stream: NetSocket,
    isIP(input) {
      if (testIPv4(input)) return 4;
      if (testIPv6(input)) return 6;
      return 0;
    },
    isIPv4(input) {
      return testIPv4(input);
    },
    isIPv6(input) {
      return testIPv6(input);
    },
    getDefaultAutoSelectFamily: () => autoSelectFamily,
    setDefaultAutoSelectFamily(value) {
      autoSelectFamily = Boolean(value);
    },
    getDefaultAutoSelectFamilyAttemptTimeout: () => autoSelectFamilyAttemptTimeout,
    setDefaultAutoSelectFamilyAttemptTimeout(value) {
      // Node takes at least 10 ms.
      autoSelectFamilyAttemptTimeout = Math.max(10, Number(value));
    },
  },
  { reason: "is not supported in an edge worker: a worker can open connections, not accept them" },
);
export const {
  _createServerHandle, _normalizeArgs, _setSimultaneousAccepts, BlockList, SocketAddress, connect,
  createConnection, createServer, isIP, isIPv4, isIPv6, Server, Socket, Stream, getDefaultAutoSelectFamily,
  setDefaultAutoSelectFamily, getDefaultAutoSelectFamilyAttemptTimeout,
  setDefaultAutoSelectFamilyAttemptTimeout,
} = net.names;
export default net.exports;

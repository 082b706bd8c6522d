// node:tls: TLS client sockets on node:net's, through the worker's outbound TCP
// (cloudflare:sockets): `tls.connect(options)` connects with TLS from the start, and
// `tls.connect({ socket })` upgrades a connected node:net socket in place (startTls), as
// database drivers do after their TLS request. The server's certificate is always checked,
// against the roots the node trusts (webpki's and its `trusted_roots`), for `servername`
// (else the host): `ca`, `cert`/`key` and `rejectUnauthorized: false` are not honoured.
// Node's defaults are data (DEFAULT_CIPHERS...), `rootCertificates` an empty list; servers
// and secure contexts throw ERR_METHOD_NOT_IMPLEMENTED (node:internal/unsupported).

import { tls as defaults } from "node:internal/constants";
import { validateFunction } from "node:internal/errors";
import { IN_A_WORKER, unsupportedModule } from "node:internal/unsupported";
import { connect as connectTcp } from "node:internal/sockets";
import net from "node:net";

/** A TLS client socket. */
class TlsSocket extends net.Socket {
  constructor(socket, options = {}) {
    super(options ?? {});
    this.encrypted = true;
    this.authorized = false;
    this.authorizationError = null;
    this.alpnProtocol = false;
    this.servername = options?.servername;
    this._upgrading = false;
    if (socket instanceof net.Socket) this._upgrade(socket, options?.servername ?? socket._host);
  }

  _open(host, port) {
    return connectTcp({ hostname: host, port }, { secureTransport: "on", allowHalfOpen: true });
  }

  _connectEvent() {
    return "secureConnect";
  }

  _connected() {
    this.authorized = true;
    if (!this._upgrading) this.emit("connect");
    this.emit("secureConnect");
    this.emit("ready");
  }

  // Starts TLS over the connected (or connecting) node:net socket `socket`.
  _upgrade(socket, servername) {
    this._upgrading = true;
    this.connecting = true;
    this._host = servername;
    this.servername = servername;
    const start = () => {
      let secured;
      try {
        secured = socket._startTls(servername);
      } catch (error) {
        this.destroy(error);
        return;
      }
      this._attach(secured, servername, socket.remotePort);
    };
    if (socket.connecting) socket.once("connect", start);
    else queueMicrotask(start);
  }

  getPeerCertificate() {
    return {};
  }

  getProtocol() {
    return null;
  }

  getCipher() {
    return null;
  }

  getSession() {
    return undefined;
  }

  isSessionReused() {
    return false;
  }

  setServername(name) {
    this.servername = name;
  }

  setMaxSendFragment() {
    return true;
  }

  enableTrace() {}
}

Object.defineProperty(TlsSocket, "name", { value: "TLSSocket" });

/** A TLS connection: (options[, listener]), (port[, host][, options][, listener]). */
function tlsConnect(...args) {
  const listener = typeof args.at(-1) === "function" ? args.pop() : undefined;
  let options = {};
  if (args[0] !== null && typeof args[0] === "object") options = { ...args[0] };
  else {
    options.port = args[0];
    if (typeof args[1] === "string") {
      options.host = args[1];
      Object.assign(options, args[2] ?? {});
    } else Object.assign(options, args[1] ?? {});
  }
  const host = options.host ?? "localhost";
  const servername = options.servername ?? (net.isIP(host) === 0 ? host : undefined) ?? host;
  const socket = new TlsSocket(null, options);
  socket.servername = servername;
  if (listener !== undefined) {
    validateFunction(listener, "callback");
    socket.once("secureConnect", listener);
  }
  if (options.socket !== undefined && options.socket !== null) {
    socket._upgrade(options.socket, servername);
    return socket;
  }
  return socket.connect({ ...options, host, port: options.port });
}

function serverIdentity() {
  // The handshake has checked the name already.
  return undefined;
}

const tls = unsupportedModule(
  "tls",
  {
    ...defaults,
    rootCertificates: Object.freeze([]),
    connect: tlsConnect,
    TLSSocket: TlsSocket,
    checkServerIdentity: serverIdentity,
    getCiphers: () => ["tls_aes_128_gcm_sha256", "tls_aes_256_gcm_sha384", "tls_chacha20_poly1305_sha256"],
  },
  { reason: `${IN_A_WORKER}: a worker can open TLS connections (tls.connect), not accept them or configure their certificates` },
);
export const {
  CLIENT_RENEG_LIMIT, CLIENT_RENEG_WINDOW, DEFAULT_CIPHERS, DEFAULT_ECDH_CURVE, DEFAULT_MIN_VERSION,
  DEFAULT_MAX_VERSION, getCiphers, rootCertificates, convertALPNProtocols, checkServerIdentity,
  createSecureContext, SecureContext, TLSSocket, Server, createServer, connect, createSecurePair,
} = tls.names;
export default tls.exports;

// node:tls: sockets (and so TLS over them) come with a later release. Every export Node 20
// has: its defaults as data (DEFAULT_CIPHERS...), `rootCertificates` an empty list, the rest
// throwing `node:tls.connect is not supported yet` (node:internal/unsupported).

import { tls as defaults } from "node:internal/constants";
import { NO_SOCKETS_YET, unsupportedModule } from "node:internal/unsupported";

const tls = unsupportedModule(
  "tls",
  { ...defaults, rootCertificates: Object.freeze([]) },
  { reason: NO_SOCKETS_YET },
);
export const {
  CLIENT_RENEG_LIMIT, CLIENT_RENEG_WINDOW, DEFAULT_CIPHERS, DEFAULT_ECDH_CURVE, DEFAULT_MIN_VERSION,
  DEFAULT_MAX_VERSION, getCiphers, rootCertificates, convertALPNProtocols, checkServerIdentity,
  createSecureContext, SecureContext, TLSSocket, Server, createServer, connect, createSecurePair,
} = tls.names;
export default tls.exports;

// node:http2: an edge worker makes requests with fetch() (which speaks HTTP/2 where it can)
// and serves from its fetch handler. Every export Node 20 has: `constants` as data,
// `sensitiveHeaders` a symbol, the rest throwing when used (node:internal/unsupported).

import { http2 as http2Constants } from "node:internal/constants";
import { USE_FETCH, unsupportedModule } from "node:internal/unsupported";

const http2 = unsupportedModule(
  "http2",
  { constants: http2Constants, sensitiveHeaders: Symbol("sensitiveHeaders") },
  { reason: USE_FETCH },
);
export const {
  connect, constants, createServer, createSecureServer, getDefaultSettings, getPackedSettings,
  getUnpackedSettings, performServerHandshake, sensitiveHeaders, Http2ServerRequest, Http2ServerResponse,
} = http2.names;
export default http2.exports;

// node:http: an edge worker makes requests with fetch() and serves from its fetch handler.
// Every export Node 20 has: METHODS and STATUS_CODES as data, validateHeaderName and
// validateHeaderValue working, `globalAgent` an object that is an `instanceof Agent`, and the
// rest throwing when used (node:internal/unsupported).

import { httpMethods, httpStatusCodes } from "node:internal/constants";
import { USE_FETCH, unsupportedClass, unsupportedModule } from "node:internal/unsupported";

const TOKEN = /^[\^_`a-zA-Z\-0-9!#$%&'*+.|~]+$/;
const INVALID_VALUE_CHAR = /[^\t\x20-\x7e\x80-\xff]/;

function typeError(code, message) {
  const error = new TypeError(message);
  error.code = code;
  return error;
}

const HttpAgent = unsupportedClass("http", "Agent", USE_FETCH);
const http = unsupportedModule(
  "http",
  {
    METHODS: httpMethods,
    STATUS_CODES: httpStatusCodes,
    Agent: HttpAgent,
    validateHeaderName(name) {
      if (typeof name !== "string" || !TOKEN.test(name)) {
        throw typeError("ERR_INVALID_HTTP_TOKEN", `Header name must be a valid HTTP token ["${name}"]`);
      }
    },
    validateHeaderValue(name, value) {
      if (value === undefined) {
        throw typeError("ERR_HTTP_INVALID_HEADER_VALUE", `Invalid value "${value}" for header "${name}"`);
      }
      if (INVALID_VALUE_CHAR.test(String(value))) {
        throw typeError("ERR_INVALID_CHAR", `Invalid character in header content ["${name}"]`);
      }
    },
    maxHeaderSize: 16384,
    globalAgent: Object.assign(Object.create(HttpAgent.prototype), { defaultPort: 80, protocol: "http:" }),
  },
  { reason: USE_FETCH },
);
export const {
  _connectionListener, METHODS, STATUS_CODES, Agent, ClientRequest, IncomingMessage, OutgoingMessage, Server,
  ServerResponse, createServer, validateHeaderName, validateHeaderValue, get, request, setMaxIdleHTTPParsers,
  maxHeaderSize, globalAgent,
} = http.names;
export default http.exports;

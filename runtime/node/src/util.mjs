// node:util: inspect and format from `node-inspect-extracted` (Node's own util.inspect,
// extracted for the Web) taught what only the engine knows (promise states, Map/Set iterator
// entries, proxies), parseArgs from `@pkgjs/parseargs` (Node's own polyfill of it), and the
// rest of Node's util written here: promisify, callbackify, inherits, deprecate, debuglog,
// isDeepStrictEqual, styleText, the system error names, parseEnv, types, TextEncoder/Decoder.

import extracted from "node-inspect-extracted";
import { core } from "ext:core/mod.js";
import { op_preview_entries } from "ext:core/ops";
import types from "node:util/types";
import {
  invalidArgType,
  invalidArgValue,
  kValidateObjectAllowArray,
  kValidateObjectAllowFunction,
  nodeError,
  outOfRange,
  validateAbortSignal,
  validateBoolean,
  validateFunction,
  validateNumber,
  validateObject,
  validateString,
} from "node:internal/errors";

const { stripVTControlCharacters } = extracted;

// ---------------------------------------------------------------------------------------
// What the engine knows and node-inspect-extracted cannot see.
//
// The package's stand-ins for V8's internals (getPromiseDetails, previewEntries,
// getProxyDetails) are stubs it captures when it loads: promises print as pending, Map/Set
// iterators as empty, proxies as their targets, and nothing outside can replace them. What
// it does honour is `[inspect.custom]`, looked up on every object it formats, nested ones
// included. So while one of the functions below runs, Promise.prototype and the Map and Set
// iterator prototypes (and, with `showProxy`, Object.prototype, which a proxy's lookup
// reaches through its target) carry a custom inspector that asks the engine (deno_core's
// `core.getPromiseDetails`/`getProxyDetails`, deno_web's `op_preview_entries`) and formats
// as Node does. They are removed when the outermost call returns. The inspectors only see
// the options, not the package's indentation, so a line may break where Node's would not.
// ---------------------------------------------------------------------------------------

const kInspect = Symbol.for("nodejs.util.inspect.custom");
const MapIteratorPrototype = Object.getPrototypeOf(new Map()[Symbol.iterator]());
const SetIteratorPrototype = Object.getPrototypeOf(new Set()[Symbol.iterator]());
let installedDepth = 0;
let installed = [];

function install(showProxy) {
  const hooks = [
    [Promise.prototype, inspectPromise],
    [MapIteratorPrototype, inspectIterator],
    [SetIteratorPrototype, inspectIterator],
  ];
  if (showProxy) hooks.push([Object.prototype, inspectProxy]);
  for (const [prototype, hook] of hooks) {
    // A prototype with its own inspector (or a frozen one) keeps it.
    if (Object.hasOwn(prototype, kInspect) || !Object.isExtensible(prototype)) continue;
    Object.defineProperty(prototype, kInspect, { __proto__: null, value: hook, writable: true, configurable: true });
    installed.push(prototype);
  }
}

/** `fn` with the inspectors installed while it runs; `showProxy(args)` says whether proxies show. */
function withEngineDetails(name, fn, showProxy) {
  const wrapped = function (...args) {
    if (installedDepth++ === 0) install(showProxy(args));
    try {
      return Reflect.apply(fn, this, args);
    } finally {
      if (--installedDepth === 0) {
        for (const prototype of installed) delete prototype[kInspect];
        installed = [];
      }
    }
  };
  return Object.defineProperties(wrapped, {
    name: { value: name, configurable: true },
    length: { value: fn.length, configurable: true },
  });
}

/** The options a nested value is formatted with: one level deeper. */
function nested(options, depth) {
  return { ...options, depth: depth === null ? null : depth - 1 };
}

function indent(text) {
  return text.replaceAll("\n", "\n  ");
}

/** Node's reduceToSingleString, without the package's indentation (which it does not tell). */
function reduce(output, open, close, options) {
  const { compact = 3, breakLength = 80, colors = false } = options;
  const width = (text) => (colors ? stripVTControlCharacters(text) : text).length;
  const fits = (start) => {
    let total = output.length + start;
    if (total + output.length > breakLength) return false;
    for (const entry of output) {
      total += width(entry);
      if (total > breakLength) return false;
    }
    return true;
  };
  if (compact === true) {
    if (fits(0)) return `${open} ${output.join(", ")} ${close}`;
    const gap = open.length === 1 ? " " : "\n  ";
    return `${open}${gap}${output.join(",\n  ")} ${close}`;
  }
  if (typeof compact === "number" && compact >= 1 && fits(output.length + open.length + 10)) {
    const joined = output.join(", ");
    if (!joined.includes("\n")) return `${open} ${joined} ${close}`;
  }
  return `${open}\n  ${output.join(",\n  ")}\n${close}`;
}

/** The name of the nearest constructor on the prototype chain (Node's getConstructorName). */
function constructorName(value) {
  for (let object = value; object !== null; object = Object.getPrototypeOf(object)) {
    const descriptor = Object.getOwnPropertyDescriptor(object, "constructor");
    if (typeof descriptor?.value === "function" && descriptor.value.name !== "") return descriptor.value.name;
  }
  return null;
}

/** `key: value` for each own enumerable property, as the package prints them. */
function ownEntries(value, options) {
  const entries = [];
  for (const key of Reflect.ownKeys(value)) {
    if (!Object.prototype.propertyIsEnumerable.call(value, key)) continue;
    const holder = Object.defineProperty({}, key, Object.getOwnPropertyDescriptor(value, key));
    const depth = options.depth === null ? null : options.depth + 1;
    const shown = extracted.inspect(holder, { ...options, depth });
    // `{ key: value }`, or `{\n  key: value\n}` and then the lines between the braces.
    if (!shown.startsWith("{\n")) entries.push(shown.slice(2, -2));
    else entries.push(shown.split("\n").slice(1, -1).map((line) => line.slice(2)).join("\n"));
  }
  return entries;
}

function inspectPromise(depth, options) {
  if (core.isProxy(this)) return inspectProxy.call(this, depth, options);
  if (!core.isPromise(this)) return this;
  const name = constructorName(this);
  const prefix = name === "Promise" ? "Promise" : `${name} [Promise]`;
  if (depth !== null && depth < 0) return options.stylize(`[${prefix}]`, "special");
  const inner = nested(options, depth);
  const [state, result] = core.getPromiseDetails(this);
  let shown;
  if (state === 0) {
    shown = options.stylize("<pending>", "special");
  } else {
    shown = indent(extracted.inspect(result, inner));
    if (state === 2) shown = `${options.stylize("<rejected>", "special")} ${shown}`;
  }
  return reduce([shown, ...ownEntries(this, inner)], `${prefix} {`, "}", options);
}

function inspectIterator(depth, options) {
  if (core.isProxy(this)) return inspectProxy.call(this, depth, options);
  const kind = core.isMapIterator(this) ? "Map" : core.isSetIterator(this) ? "Set" : null;
  if (kind === null) return this;
  if (depth !== null && depth < 0) return options.stylize(`[Object [${kind} Iterator]]`, "special");
  const inner = nested(options, depth);
  const [entries, isKeyValue] = op_preview_entries(this, true) ?? [[], false];
  const maxLength = Math.max(options.maxArrayLength ?? 100, 0);
  const count = isKeyValue ? entries.length / 2 : entries.length;
  const output = [];
  for (let i = 0; i < Math.min(maxLength, count); i++) {
    if (isKeyValue) {
      const pair = [extracted.inspect(entries[2 * i], inner), extracted.inspect(entries[2 * i + 1], inner)];
      output.push(indent(reduce(pair.map(indent), "[", "]", options)));
    } else {
      output.push(indent(extracted.inspect(entries[i], inner)));
    }
  }
  if (count > maxLength) output.push(`... ${count - maxLength} more item${count - maxLength > 1 ? "s" : ""}`);
  output.push(...ownEntries(this, inner));
  return reduce(output, `[${kind} ${isKeyValue ? "Entries" : "Iterator"}] {`, "}", options);
}

/**
 * The [target, handler] of a proxy, or null once it is revoked. Asking the engine about a
 * revoked proxy would abort the process (v8x's `Proxy::get_target` then has nothing to give
 * and deno_core unwraps it), so first `Array.isArray`, which throws on a revoked proxy and
 * runs no trap on a live one.
 */
function proxyDetails(proxy) {
  try {
    Array.isArray(proxy);
  } catch {
    return null;
  }
  return core.getProxyDetails(proxy);
}

/** With `showProxy`: `Proxy [ target, handler ]`; without, the target, past its traps. */
function inspectProxy(depth, options) {
  if (!core.isProxy(this)) return this;
  const details = proxyDetails(this);
  if (details === null) return options.stylize("<Revoked Proxy>", "special");
  const [target, handler] = details;
  if (!options.showProxy) return target;
  if (depth !== null && depth < 0) return options.stylize("Proxy [Array]", "special");
  const inner = nested(options, depth);
  const parts = [target, handler].map((part) => indent(extracted.inspect(part, inner)));
  return reduce(parts, "Proxy [", "]", options);
}

const proxiesShown = (options) =>
  (typeof options === "object" && options !== null ? options.showProxy : undefined) ??
  extracted.inspect.defaultOptions.showProxy;

/** Node's util.inspect. */
export const inspect = withEngineDetails("inspect", function (value, options) {
  // A revoked proxy throws on any lookup, the package's included.
  if (core.isProxy(value) && proxyDetails(value) === null) return "<Revoked Proxy>";
  return Reflect.apply(extracted.inspect, this, [value, options]);
}, ([, options]) => proxiesShown(options));
for (const key of Reflect.ownKeys(extracted.inspect)) {
  if (key !== "length" && key !== "name" && key !== "prototype") {
    Object.defineProperty(inspect, key, Object.getOwnPropertyDescriptor(extracted.inspect, key));
  }
}

export const format = withEngineDetails("format", extracted.format, () => proxiesShown());
export const formatWithOptions = withEngineDetails(
  "formatWithOptions",
  extracted.formatWithOptions,
  ([options]) => proxiesShown(options),
);

const kCustomPromisify = Symbol.for("nodejs.util.promisify.custom");

export function promisify(original) {
  validateFunction(original, "original");
  if (original[kCustomPromisify]) {
    const fn = original[kCustomPromisify];
    return Object.defineProperty(fn, kCustomPromisify, { __proto__: null, value: fn, enumerable: false, configurable: true });
  }
  function promisified(...args) {
    return new Promise((resolve, reject) => {
      Reflect.apply(original, this, [...args, (error, ...values) => {
        if (error) reject(error);
        else resolve(values.length > 1 ? values : values[0]);
      }]);
    });
  }
  Object.setPrototypeOf(promisified, Object.getPrototypeOf(original));
  Object.defineProperty(promisified, kCustomPromisify, { __proto__: null, value: promisified, enumerable: false, configurable: true });
  return Object.defineProperties(promisified, Object.getOwnPropertyDescriptors(original));
}
promisify.custom = kCustomPromisify;

export function callbackify(original) {
  validateFunction(original, "original");
  function callbackified(...args) {
    const callback = args.pop();
    validateFunction(callback, "last argument");
    const settle = (error, value) => queueMicrotask(() => callback(error, value));
    Reflect.apply(original, this, args).then(
      (value) => settle(null, value),
      (reason) => {
        if (!reason) {
          const wrapped = nodeError(Error, "ERR_FALSY_VALUE_REJECTION", "Promise was rejected with falsy value");
          wrapped.reason = reason;
          reason = wrapped;
        }
        settle(reason);
      },
    );
  }
  return callbackified;
}

export function inherits(ctor, superCtor) {
  if (ctor === undefined || ctor === null) throw invalidArgType("ctor", "Function", ctor);
  if (superCtor === undefined || superCtor === null) throw invalidArgType("superCtor", "Function", superCtor);
  if (superCtor.prototype === undefined) {
    throw invalidArgType("superCtor.prototype", "Object", superCtor.prototype);
  }
  Object.defineProperty(ctor, "super_", { __proto__: null, value: superCtor, writable: true, configurable: true });
  Object.setPrototypeOf(ctor.prototype, superCtor.prototype);
}

const warned = new Set();

export function deprecate(fn, message, code) {
  if (code !== undefined) validateString(code, "code");
  function deprecated(...args) {
    const key = code ?? message;
    if (!warned.has(key)) {
      warned.add(key);
      console.warn(`${code ? `[${code}] ` : ""}DeprecationWarning: ${message}`);
    }
    return new.target ? Reflect.construct(fn, args, new.target) : Reflect.apply(fn, this, args);
  }
  Object.setPrototypeOf(deprecated, fn);
  if (fn.prototype) deprecated.prototype = fn.prototype;
  return deprecated;
}

/** A logger that prints when `NODE_DEBUG` names its section (never, here: there is none). */
export function debuglog(section, callback) {
  const log = () => {};
  log.enabled = false;
  if (typeof callback === "function") callback(log);
  return log;
}
export const debug = debuglog;

export function isDeepStrictEqual(a, b) {
  return deepEqual(a, b, new Map());
}

function deepEqual(a, b, seen) {
  if (Object.is(a, b)) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  if (Object.prototype.toString.call(a) !== Object.prototype.toString.call(b)) return false;
  if (seen.get(a) === b) return true;
  seen.set(a, b);
  if (a instanceof Date) return Object.is(a.getTime(), b.getTime());
  if (a instanceof RegExp) return String(a) === String(b) && a.lastIndex === b.lastIndex;
  if (ArrayBuffer.isView(a)) {
    if (a.byteLength !== b.byteLength) return false;
    const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    const y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    if (!x.every((byte, i) => byte === y[i])) return false;
  }
  if (a instanceof Map) {
    if (a.size !== b.size) return false;
    for (const [key, value] of a) if (!b.has(key) || !deepEqual(value, b.get(key), seen)) return false;
  }
  if (a instanceof Set) {
    if (a.size !== b.size) return false;
    for (const value of a) if (!b.has(value)) return false;
  }
  if ((a instanceof Error) && (a.message !== b.message || a.name !== b.name)) return false;
  const keys = Reflect.ownKeys(a).filter((k) => Object.prototype.propertyIsEnumerable.call(a, k));
  const other = Reflect.ownKeys(b).filter((k) => Object.prototype.propertyIsEnumerable.call(b, k));
  if (keys.length !== other.length) return false;
  return keys.every((key) => Object.prototype.propertyIsEnumerable.call(b, key) && deepEqual(a[key], b[key], seen));
}

/** Resolves when `signal` aborts (`resource`, an object, would let it be collected in Node). */
export async function aborted(signal, resource) {
  if (signal === undefined) throw invalidArgType("signal", "AbortSignal", signal);
  validateAbortSignal(signal, "signal");
  validateObject(resource, "resource", kValidateObjectAllowArray | kValidateObjectAllowFunction);
  if (signal.aborted) return;
  await new Promise((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
}

export function toUSVString(string) {
  const text = String(string);
  return typeof text.toWellFormed === "function" ? text.toWellFormed() : text;
}

export function stripTypeScriptTypes() {
  throw new Error("util.stripTypeScriptTypes is not supported in a worker");
}

/**
 * Node's parseArgs: the polyfill, whose parse errors are Errors where Node's are TypeErrors.
 * Loaded on the first call (esbuild turns this `require` into a call of the bundled package):
 * its primordials make some hundreds of bound functions, which a worker that never parses
 * arguments should not pay for.
 */
export function parseArgs(config) {
  const { parseArgs: parse } = require("@pkgjs/parseargs");
  try {
    return parse(config);
  } catch (error) {
    const code = error?.code;
    if (typeof code !== "string" || !code.startsWith("ERR_PARSE_ARGS_") || error instanceof TypeError) throw error;
    throw nodeError(TypeError, error.code, error.message);
  }
}

/** `text` in the styles of `format` (names of inspect.colors), when `stream` shows colours. */
export function styleText(format, text, { validateStream = true, stream = globalThis.process?.stdout } = {}) {
  validateString(text, "text");
  validateBoolean(validateStream, "options.validateStream");
  let plain = false;
  if (validateStream) {
    // A worker has no stdout of its own: without a stream to ask, no colours.
    if (stream !== undefined && typeof stream?.on !== "function" && !(stream instanceof ReadableStream) &&
      !(stream instanceof WritableStream)) {
      throw invalidArgType("stream", ["ReadableStream", "WritableStream", "Stream"], stream);
    }
    plain = !shouldColorize(stream);
  }
  const codes = [];
  for (const key of Array.isArray(format) ? format : [format]) {
    if (key === "none") continue;
    const pair = inspect.colors[key];
    if (pair === undefined || pair === null) {
      const allowed = Object.keys(inspect.colors).map((name) => `'${name}'`).join(", ");
      throw invalidArgValue("format", key, `must be one of: ${allowed}`);
    }
    codes.push(pair);
  }
  if (plain) return text;
  // A style closed inside `text` is opened again after it (bold and dim close each other).
  let styled = text;
  for (const [open, close] of codes) {
    styled = styled.replace(new RegExp(`\\u001b\\[${close}m`, "g"), (match, offset, whole) => {
      if (offset + match.length >= whole.length) return match;
      const again = `\u001b[${open}m`;
      return open === inspect.colors.dim[0] || open === inspect.colors.bold[0] ? `${match}${again}` : again;
    });
  }
  const opening = codes.map(([open]) => `\u001b[${open}m`).join("");
  const closing = codes.map(([, close]) => `\u001b[${close}m`).reverse().join("");
  return `${opening}${styled}${closing}`;
}

function shouldColorize(stream) {
  const force = globalThis.process?.env?.FORCE_COLOR;
  if (force !== undefined) return ["", "1", "true", "2", "3"].includes(force);
  if (!stream?.isTTY) return false;
  return typeof stream.getColorDepth === "function" ? stream.getColorDepth() > 2 : true;
}

// libuv's error names and messages on Linux, as Node 20 (x64) lists them: "name errno message".
const SYSTEM_ERRORS = `E2BIG 7 argument list too long
EACCES 13 permission denied
EADDRINUSE 98 address already in use
EADDRNOTAVAIL 99 address not available
EAFNOSUPPORT 97 address family not supported
EAGAIN 11 resource temporarily unavailable
EAI_ADDRFAMILY 3000 address family not supported
EAI_AGAIN 3001 temporary failure
EAI_BADFLAGS 3002 bad ai_flags value
EAI_BADHINTS 3013 invalid value for hints
EAI_CANCELED 3003 request canceled
EAI_FAIL 3004 permanent failure
EAI_FAMILY 3005 ai_family not supported
EAI_MEMORY 3006 out of memory
EAI_NODATA 3007 no address
EAI_NONAME 3008 unknown node or service
EAI_OVERFLOW 3009 argument buffer overflow
EAI_PROTOCOL 3014 resolved protocol is unknown
EAI_SERVICE 3010 service not available for socket type
EAI_SOCKTYPE 3011 socket type not supported
EALREADY 114 connection already in progress
EBADF 9 bad file descriptor
EBUSY 16 resource busy or locked
ECANCELED 125 operation canceled
ECHARSET 4080 invalid Unicode character
ECONNABORTED 103 software caused connection abort
ECONNREFUSED 111 connection refused
ECONNRESET 104 connection reset by peer
EDESTADDRREQ 89 destination address required
EEXIST 17 file already exists
EFAULT 14 bad address in system call argument
EFBIG 27 file too large
EHOSTUNREACH 113 host is unreachable
EINTR 4 interrupted system call
EINVAL 22 invalid argument
EIO 5 i/o error
EISCONN 106 socket is already connected
EISDIR 21 illegal operation on a directory
ELOOP 40 too many symbolic links encountered
EMFILE 24 too many open files
EMSGSIZE 90 message too long
ENAMETOOLONG 36 name too long
ENETDOWN 100 network is down
ENETUNREACH 101 network is unreachable
ENFILE 23 file table overflow
ENOBUFS 105 no buffer space available
ENODEV 19 no such device
ENOENT 2 no such file or directory
ENOMEM 12 not enough memory
ENONET 64 machine is not on the network
ENOPROTOOPT 92 protocol not available
ENOSPC 28 no space left on device
ENOSYS 38 function not implemented
ENOTCONN 107 socket is not connected
ENOTDIR 20 not a directory
ENOTEMPTY 39 directory not empty
ENOTSOCK 88 socket operation on non-socket
ENOTSUP 95 operation not supported on socket
EOVERFLOW 75 value too large for defined data type
EPERM 1 operation not permitted
EPIPE 32 broken pipe
EPROTO 71 protocol error
EPROTONOSUPPORT 93 protocol not supported
EPROTOTYPE 91 protocol wrong type for socket
ERANGE 34 result too large
EROFS 30 read-only file system
ESHUTDOWN 108 cannot send after transport endpoint shutdown
ESPIPE 29 invalid seek
ESRCH 3 no such process
ETIMEDOUT 110 connection timed out
ETXTBSY 26 text file is busy
EXDEV 18 cross-device link not permitted
UNKNOWN 4094 unknown error
EOF 4095 end of file
ENXIO 6 no such device or address
EMLINK 31 too many links
EHOSTDOWN 112 host is down
EREMOTEIO 121 remote I/O error
ENOTTY 25 inappropriate ioctl for device
EFTYPE 4028 inappropriate file type or format
EILSEQ 84 illegal byte sequence
ESOCKTNOSUPPORT 94 socket type not supported
ENODATA 61 no data available
EUNATCH 49 protocol driver not attached`;

let systemErrors;

/** A new Map of each (negative) system error number to its [name, message]. */
export function getSystemErrorMap() {
  systemErrors ??= SYSTEM_ERRORS.split("\n").map((line) => {
    const [name, errno, ...message] = line.split(" ");
    return [-Number(errno), [name, message.join(" ")]];
  });
  return new Map(systemErrors);
}

/** The name of the (negative) system error number `err`, such as ENOENT for -2. */
export function getSystemErrorName(err) {
  validateNumber(err, "err");
  if (err >= 0 || !Number.isSafeInteger(err)) throw outOfRange("err", "a negative integer", err);
  return getSystemErrorMap().get(err)?.[0] ?? `Unknown system error ${err}`;
}

function systemErrorName(err) {
  return getSystemErrorMap().get(err)?.[0] ?? `Unknown system error ${err}`;
}

/** The error Node makes of a failed system call (internal, but exported by Node). */
export function _errnoException(err, syscall, original) {
  const code = systemErrorName(err);
  const error = new Error(original ? `${syscall} ${code} ${original}` : `${syscall} ${code}`);
  error.errno = err;
  error.code = code;
  error.syscall = syscall;
  return error;
}

/** The error Node makes of a failed network call (internal, but exported by Node). */
export function _exceptionWithHostPort(err, syscall, address, port, additional) {
  const code = systemErrorName(err);
  let details = port && port > 0 ? ` ${address}:${port}` : address ? ` ${address}` : "";
  if (additional) details += ` - Local (${additional})`;
  const error = new Error(`${syscall} ${code}${details}`);
  error.errno = err;
  error.code = code;
  error.syscall = syscall;
  error.address = address;
  if (port) error.port = port;
  return error;
}

/** Copies the own enumerable properties of `source` onto `target` (Node's old `_extend`). */
export function _extend(target, source) {
  if (source === null || typeof source !== "object") return target;
  const keys = Object.keys(source);
  for (let i = keys.length - 1; i >= 0; i--) target[keys[i]] = source[keys[i]];
  return target;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** console.log with a timestamp, as `26 Feb 16:19:34 - message`. */
export function log(...args) {
  const d = new Date();
  const pad = (n) => String(n).padStart(2, "0");
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  console.log("%s - %s", `${d.getDate()} ${MONTHS[d.getMonth()]} ${time}`, format(...args));
}

/** Marks `signal` transferable to a worker; there are no worker threads here, so it is as it was. */
export function transferableAbortSignal(signal) {
  if (!(signal instanceof AbortSignal)) throw invalidArgType("signal", "AbortSignal", signal);
  return signal;
}

export function transferableAbortController() {
  return new AbortController();
}

/** The variables of a dotenv file's `content`, parsed as Node 22's `--env-file` does (20's had bugs). */
export function parseEnv(content) {
  validateString(content, "content");
  const store = {};
  let rest = content.replaceAll("\r", "").trim();
  // Drops `rest` up to and including the next newline (or all of it).
  const skipLine = (from = 0) => {
    const newline = rest.indexOf("\n", from);
    rest = newline === -1 ? "" : rest.slice(newline + 1);
  };
  while (rest !== "") {
    if (rest[0] === "\n" || rest[0] === "#") {
      skipLine();
      continue;
    }
    const equals = rest.search(/[=\n]/);
    if (equals === -1 || rest[equals] === "\n") {
      skipLine();
      rest = rest.trim();
      continue;
    }
    let key = rest.slice(0, equals).trim();
    rest = rest.slice(equals + 1);
    if (rest === "" || rest[0] === "\n") {
      store[key] = "";
      continue;
    }
    rest = rest.trim();
    if (key === "") {
      skipLine();
      rest = rest.trim();
      continue;
    }
    if (key.startsWith("export ")) key = key.slice(7).trim();
    const quote = rest[0];
    const closing = quote === '"' || quote === "'" || quote === "`" ? rest.indexOf(quote, 1) : -1;
    if (closing !== -1) {
      const value = rest.slice(1, closing);
      // Only double quotes turn `\n` into a newline.
      store[key] = quote === '"' ? value.replaceAll("\\n", "\n") : value;
      skipLine(closing + 1);
    } else {
      // Unquoted (or an unclosed quote, kept): the rest of the line, less a `#` comment.
      const newline = rest.indexOf("\n");
      let value = newline === -1 ? rest : rest.slice(0, newline);
      if (quote !== '"' && quote !== "'" && quote !== "`") {
        const hash = value.indexOf("#");
        if (hash !== -1) value = value.slice(0, hash);
        value = value.trim();
      }
      store[key] = value;
      rest = newline === -1 ? "" : rest.slice(newline + 1);
    }
    rest = rest.trim();
  }
  return store;
}

export const TextEncoder = globalThis.TextEncoder;
export const TextDecoder = globalThis.TextDecoder;

// Node's old type checks, still used by older packages.
export const isArray = Array.isArray;
export const isBoolean = (v) => typeof v === "boolean";
export const isBuffer = (v) => globalThis.Buffer?.isBuffer?.(v) ?? false;
export const isDate = (v) => types.isDate(v);
export const isError = (v) => types.isNativeError(v) || v instanceof Error;
export const isFunction = (v) => typeof v === "function";
export const isNull = (v) => v === null;
export const isNullOrUndefined = (v) => v === null || v === undefined;
export const isNumber = (v) => typeof v === "number";
export const isObject = (v) => v !== null && typeof v === "object";
export const isPrimitive = (v) => v === null || (typeof v !== "object" && typeof v !== "function");
export const isRegExp = (v) => types.isRegExp(v);
export const isString = (v) => typeof v === "string";
export const isSymbol = (v) => typeof v === "symbol";
export const isUndefined = (v) => v === undefined;

export { stripVTControlCharacters, types };

export default {
  _errnoException,
  _exceptionWithHostPort,
  _extend,
  aborted,
  callbackify,
  debug,
  debuglog,
  deprecate,
  format,
  formatWithOptions,
  getSystemErrorMap,
  getSystemErrorName,
  inherits,
  inspect,
  isArray,
  isBoolean,
  isBuffer,
  isDate,
  isDeepStrictEqual,
  isError,
  isFunction,
  isNull,
  isNullOrUndefined,
  isNumber,
  isObject,
  isPrimitive,
  isRegExp,
  isString,
  isSymbol,
  isUndefined,
  log,
  parseArgs,
  parseEnv,
  promisify,
  stripVTControlCharacters,
  styleText,
  TextDecoder,
  TextEncoder,
  toUSVString,
  transferableAbortController,
  transferableAbortSignal,
  types,
};

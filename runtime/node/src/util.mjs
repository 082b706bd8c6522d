// node:util: inspect and format from `node-inspect-extracted` (Node's own util.inspect,
// extracted for the Web), and the rest of Node's util written here: promisify, callbackify,
// inherits, deprecate, debuglog, isDeepStrictEqual, types, TextEncoder/TextDecoder.

import extracted from "node-inspect-extracted";
import types from "node:util/types";

const { inspect, format, formatWithOptions, stripVTControlCharacters } = extracted;

const kCustomPromisify = Symbol.for("nodejs.util.promisify.custom");

export function promisify(original) {
  if (typeof original !== "function") {
    throw new TypeError('The "original" argument must be of type function');
  }
  if (original[kCustomPromisify]) {
    const fn = original[kCustomPromisify];
    return Object.defineProperty(fn, kCustomPromisify, { value: fn, enumerable: false, configurable: true });
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
  Object.defineProperty(promisified, kCustomPromisify, { value: promisified, enumerable: false, configurable: true });
  return Object.defineProperties(promisified, Object.getOwnPropertyDescriptors(original));
}
promisify.custom = kCustomPromisify;

export function callbackify(original) {
  if (typeof original !== "function") {
    throw new TypeError('The "original" argument must be of type function');
  }
  function callbackified(...args) {
    const callback = args.pop();
    if (typeof callback !== "function") {
      throw new TypeError("The last argument must be of type function");
    }
    const settle = (error, value) => queueMicrotask(() => callback(error, value));
    Reflect.apply(original, this, args).then(
      (value) => settle(null, value),
      (reason) => {
        if (!reason) {
          const wrapped = new Error("Promise was rejected with a falsy value");
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
  if (ctor === undefined || ctor === null) throw new TypeError('The "ctor" argument must be of type function');
  if (superCtor === undefined || superCtor === null) {
    throw new TypeError('The "superCtor" argument must be of type function');
  }
  if (superCtor.prototype === undefined) throw new TypeError('The "superCtor.prototype" property must be of type object');
  Object.defineProperty(ctor, "super_", { value: superCtor, writable: true, configurable: true });
  Object.setPrototypeOf(ctor.prototype, superCtor.prototype);
}

const warned = new Set();

export function deprecate(fn, message, code) {
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

export function aborted(signal, _resource) {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener("abort", () => resolve(), { once: true });
  });
}

export function toUSVString(string) {
  const text = String(string);
  return typeof text.toWellFormed === "function" ? text.toWellFormed() : text;
}

export function stripTypeScriptTypes() {
  throw new Error("util.stripTypeScriptTypes is not supported in a worker");
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

export { format, formatWithOptions, inspect, stripVTControlCharacters, types };

export default {
  aborted,
  callbackify,
  debug,
  debuglog,
  deprecate,
  format,
  formatWithOptions,
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
  promisify,
  stripVTControlCharacters,
  TextDecoder,
  TextEncoder,
  toUSVString,
  types,
};

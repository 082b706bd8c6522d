// node:internal/errors: Node's error helpers (lib/internal/errors.js and the argument checks of
// lib/internal/validators.js), shared by every node:* module here: errors with Node's `code`
// and messages (ERR_INVALID_ARG_TYPE, ERR_OUT_OF_RANGE, ERR_INVALID_ARG_VALUE, ...), built as
// Node builds them (`code` the only enumerable property, `toString` and the stack's first line
// `TypeError [CODE]: message`), and how Node describes a received value. Packages match on
// `code`, and Node's own tests on the messages, so both follow Node 20 (20.20).

import { core } from "ext:core/mod.js";

// node:util (its `inspect`) is loaded only when a message shows a value that needs it.
const loadUtil = core.createLazyLoader("node:util");
const inspect = (value, options) => loadUtil().inspect(value, options);

/**
 * An error of `Class` with Node's `code`: an own, enumerable property, as Node sets it, an own
 * `toString` giving `Name [CODE]: message`, and a stack that starts so. The stack leaves out
 * `hide` and the frames above it (this module's helpers pass themselves, as Node hides its own).
 */
export function nodeError(Class, code, message, hide = nodeError) {
  const limit = Error.stackTraceLimit;
  // No stack for the construction: it is taken below, with the code in its first line.
  Error.stackTraceLimit = 0;
  const error = new Class(message);
  Error.stackTraceLimit = limit;
  Object.defineProperty(error, "toString", {
    __proto__: null,
    value() {
      return `${this.name} [${code}]: ${this.message}`;
    },
    writable: true,
    configurable: true,
  });
  Object.defineProperty(error, "name", {
    __proto__: null,
    value: `${error.name} [${code}]`,
    writable: true,
    configurable: true,
  });
  Error.captureStackTrace?.(error, hide);
  void error.stack;
  delete error.name;
  error.code = code;
  return error;
}

/** How Node describes an unexpected value after "Received" (determineSpecificType). */
export function determineSpecificType(value) {
  if (value === null) return "null";
  if (value === undefined) return "undefined";
  const type = typeof value;
  switch (type) {
    case "bigint":
      return `type bigint (${value}n)`;
    case "number":
      return `type number (${Object.is(value, -0) ? "-0" : String(value)})`;
    case "boolean":
    case "symbol":
      return `type ${type} (${String(value)})`;
    case "function":
      return `function ${value.name}`;
    case "object": {
      const constructor = value.constructor;
      if (constructor && (typeof constructor === "object" || typeof constructor === "function") && "name" in constructor) {
        return `an instance of ${constructor.name}`;
      }
      return inspect(value, { depth: -1 });
    }
    case "string": {
      const shown = value.length > 28 ? `${value.slice(0, 25)}...` : value;
      return shown.includes("'") ? `type string (${JSON.stringify(shown)})` : `type string ('${shown}')`;
    }
    default: {
      let shown = inspect(value, { colors: false });
      if (shown.length > 28) shown = `${shown.slice(0, 25)}...`;
      return `type ${type} (${shown})`;
    }
  }
}

// The names Node prints as "of type x" (lowercased); class names ("Buffer") as "an instance of
// X"; anything else ("Array-like Object") as it is.
const TYPES = new Set(["string", "function", "number", "object", "Function", "Object", "boolean", "bigint", "symbol"]);
const CLASS_NAME = /^([A-Z][a-z0-9]*)+$/;

/** "a", "a or b", "a, b, or c". */
function listed(names) {
  if (names.length > 2) return `${names.slice(0, -1).join(", ")}, or ${names[names.length - 1]}`;
  return names.join(" or ");
}

/** ERR_INVALID_ARG_TYPE: `expected` lists type names ("number") and class names ("Buffer"). */
export function invalidArgType(name, expected, actual) {
  const list = Array.isArray(expected) ? expected : [expected];
  const types = [];
  const instances = [];
  const other = [];
  for (const entry of list) {
    if (TYPES.has(entry)) types.push(entry.toLowerCase());
    else if (CLASS_NAME.test(entry)) instances.push(entry);
    else other.push(entry);
  }
  // With classes allowed too, "object" reads as one of them.
  if (instances.length > 0 && types.includes("object")) {
    types.splice(types.indexOf("object"), 1);
    instances.push("Object");
  }
  let message = name.endsWith(" argument")
    ? `The ${name} must be `
    : `The "${name}" ${name.includes(".") ? "property" : "argument"} must be `;
  if (types.length > 0) {
    message += types.length > 1 ? `one of type ${listed(types)}` : `of type ${types[0]}`;
    if (instances.length > 0 || other.length > 0) message += " or ";
  }
  if (instances.length > 0) {
    message += `an instance of ${listed(instances)}`;
    if (other.length > 0) message += " or ";
  }
  if (other.length > 1) message += `one of ${listed(other)}`;
  if (other.length === 1) message += `${other[0].toLowerCase() === other[0] ? "" : "an "}${other[0]}`;
  return nodeError(
    TypeError,
    "ERR_INVALID_ARG_TYPE",
    `${message}. Received ${determineSpecificType(actual)}`,
    invalidArgType,
  );
}

// 1234567 -> "1_234_567", as Node prints large numbers in range errors.
function withSeparators(digits) {
  let grouped = "";
  let i = digits.length;
  const start = digits[0] === "-" ? 1 : 0;
  for (; i >= start + 4; i -= 3) grouped = `_${digits.slice(i - 3, i)}${grouped}`;
  return `${digits.slice(0, i)}${grouped}`;
}

/** A value as util.inspect shows it; numbers and the like without loading node:util. */
function shown(value) {
  if (typeof value === "number") return Object.is(value, -0) ? "-0" : String(value);
  if (value === null || value === undefined || typeof value === "boolean") return String(value);
  if (typeof value === "bigint") return `${value}n`;
  return inspect(value);
}

/**
 * ERR_OUT_OF_RANGE: `The value of "name" is out of range. It must be <range>. Received <value>`
 * (with `replaceDefault`, `name` is the whole first sentence).
 */
export function outOfRange(name, range, value, replaceDefault = false) {
  let received;
  if (Number.isInteger(value) && Math.abs(value) > 2 ** 32) {
    received = withSeparators(String(value));
  } else if (typeof value === "bigint") {
    received = String(value);
    if (value > 2n ** 32n || value < -(2n ** 32n)) received = withSeparators(received);
    received += "n";
  } else {
    received = shown(value);
  }
  const head = replaceDefault ? name : `The value of "${name}" is out of range.`;
  return nodeError(RangeError, "ERR_OUT_OF_RANGE", `${head} It must be ${range}. Received ${received}`, outOfRange);
}

/**
 * ERR_INVALID_ARG_VALUE: `The argument 'name' is invalid. Received <inspected>`, or another
 * `reason`; a TypeError unless `Class` says otherwise (Node throws a RangeError for some).
 */
export function invalidArgValue(name, value, reason = "is invalid", Class = TypeError) {
  let received;
  try {
    received = inspect(value);
  } catch {
    received = Object.prototype.toString.call(value);
  }
  if (received.length > 128) received = `${received.slice(0, 128)}...`;
  const kind = name.includes(".") ? "property" : "argument";
  return nodeError(
    Class,
    "ERR_INVALID_ARG_VALUE",
    `The ${kind} '${name}' ${reason}. Received ${received}`,
    invalidArgValue,
  );
}

/** ERR_MISSING_ARGS: `The "a" and "b" arguments must be specified` (an array: "a" or "b"). */
export function missingArgs(...names) {
  const quoted = names.map((n) => (Array.isArray(n) ? n.map((a) => `"${a}"`).join(" or ") : `"${n}"`));
  let list;
  if (quoted.length === 1) list = `${quoted[0]} argument`;
  else if (quoted.length === 2) list = `${quoted[0]} and ${quoted[1]} arguments`;
  else list = `${quoted.slice(0, -1).join(", ")}, and ${quoted[quoted.length - 1]} arguments`;
  return nodeError(TypeError, "ERR_MISSING_ARGS", `The ${list} must be specified`, missingArgs);
}

/** ERR_INVALID_RETURN_VALUE: `Expected <input> to be returned from the "name" function but got ...`. */
export function invalidReturnValue(input, name, value, Class = TypeError) {
  return nodeError(
    Class,
    "ERR_INVALID_RETURN_VALUE",
    `Expected ${input} to be returned from the "${name}" function but got ${determineSpecificType(value)}.`,
    invalidReturnValue,
  );
}

/** ERR_METHOD_NOT_IMPLEMENTED: `The <method> method is not implemented`. */
export function methodNotImplemented(method) {
  return nodeError(Error, "ERR_METHOD_NOT_IMPLEMENTED", `The ${method} method is not implemented`, methodNotImplemented);
}

/** ERR_UNHANDLED_ERROR: an "error" event nobody listens to, with what it carried (`shownError`). */
export function unhandledError(shownError = undefined) {
  const message = shownError === undefined ? "Unhandled error." : `Unhandled error. (${shownError})`;
  return nodeError(Error, "ERR_UNHANDLED_ERROR", message, unhandledError);
}

/** Node's AbortError (not a DOMException): what aborted operations reject with. */
export class AbortError extends Error {
  constructor(message = "The operation was aborted", options = undefined) {
    if (options !== undefined && (options === null || typeof options !== "object")) {
      throw invalidArgType("options", "Object", options);
    }
    super(message, options);
    this.code = "ABORT_ERR";
    this.name = "AbortError";
  }
}

// ---------------------------------------------------------------------------------------
// lib/internal/validators.js: the checks, with the errors Node throws for each.
// ---------------------------------------------------------------------------------------

export function validateString(value, name) {
  if (typeof value !== "string") throw invalidArgType(name, "string", value);
}

export function validateBoolean(value, name) {
  if (typeof value !== "boolean") throw invalidArgType(name, "boolean", value);
}

export function validateFunction(value, name) {
  if (typeof value !== "function") throw invalidArgType(name, "Function", value);
}

/** A number, within [min, max] when they are given (NaN is then out of range). */
export function validateNumber(value, name, min = undefined, max = undefined) {
  if (typeof value !== "number") throw invalidArgType(name, "number", value);
  if (
    (min != null && value < min) ||
    (max != null && value > max) ||
    ((min != null || max != null) && Number.isNaN(value))
  ) {
    const range = `${min != null ? `>= ${min}` : ""}${min != null && max != null ? " && " : ""}${max != null ? `<= ${max}` : ""}`;
    throw outOfRange(name, range, value);
  }
}

export function validateInteger(value, name, min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER) {
  if (typeof value !== "number") throw invalidArgType(name, "number", value);
  if (!Number.isInteger(value)) throw outOfRange(name, "an integer", value);
  if (value < min || value > max) throw outOfRange(name, `>= ${min} && <= ${max}`, value);
}

export function validateInt32(value, name, min = -2147483648, max = 2147483647) {
  validateInteger(value, name, min, max);
}

export function validateUint32(value, name, positive = false) {
  validateInteger(value, name, positive ? 1 : 0, 4294967295);
}

export const kValidateObjectNone = 0;
export const kValidateObjectAllowNullable = 1;
export const kValidateObjectAllowArray = 2;
export const kValidateObjectAllowFunction = 4;

/** An object (not null, not an array, not a function, unless `flags` allow them). */
export function validateObject(value, name, flags = kValidateObjectNone) {
  if (
    (value === null && (flags & kValidateObjectAllowNullable) === 0) ||
    (Array.isArray(value) && (flags & kValidateObjectAllowArray) === 0) ||
    (value !== null &&
      typeof value !== "object" &&
      (typeof value !== "function" || (flags & kValidateObjectAllowFunction) === 0))
  ) {
    throw invalidArgType(name, "Object", value);
  }
}

export function validateArray(value, name, minLength = 0) {
  if (!Array.isArray(value)) throw invalidArgType(name, "Array", value);
  if (value.length < minLength) throw invalidArgValue(name, value, `must be longer than ${minLength}`);
}

export function validateOneOf(value, name, oneOf) {
  if (!oneOf.includes(value)) {
    const allowed = oneOf.map((v) => (typeof v === "string" ? `'${v}'` : String(v))).join(", ");
    throw invalidArgValue(name, value, `must be one of: ${allowed}`);
  }
}

/** An AbortSignal, or undefined. */
export function validateAbortSignal(signal, name) {
  if (signal !== undefined && (signal === null || typeof signal !== "object" || !("aborted" in signal))) {
    throw invalidArgType(name, "AbortSignal", signal);
  }
}

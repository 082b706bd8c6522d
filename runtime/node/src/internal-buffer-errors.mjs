// node:internal/buffer/errors: the errors node:buffer throws, with Node's codes and messages
// (lib/internal/errors.js: ERR_INVALID_ARG_TYPE, ERR_OUT_OF_RANGE, ERR_BUFFER_OUT_OF_BOUNDS,
// ERR_UNKNOWN_ENCODING, ...), and the argument checks of Node's lib/internal/buffer.js that
// raise them. Packages match on `code`, and tests on the messages, so both follow Node 20.

/** An error of `Class` with Node's `code` (an own, enumerable property, as Node sets it). */
export function nodeError(Class, code, message) {
  const error = new Class(message);
  error.code = code;
  return error;
}

// The names Node prints as "of type x"; class names ("Buffer") as "an instance of X"; anything
// else ("Array-like Object") as it is.
const PRIMITIVES = new Set(["string", "function", "number", "object", "boolean", "bigint", "symbol"]);
const CLASS_NAME = /^([A-Z][a-z0-9]*)+$/;

// A string as Node quotes it in these messages: in single quotes, or double ones (escaped
// inside) when it holds a single quote.
function quote(text) {
  return text.includes("'") ? `"${text.replace(/"/g, '\\"')}"` : `'${text}'`;
}

/** How Node describes an unexpected value after "Received" (determineSpecificType). */
function describe(value) {
  if (value == null) return String(value);
  if (typeof value === "function" && value.name) return `function ${value.name}`;
  if (typeof value === "object") {
    if (value.constructor?.name) return `an instance of ${value.constructor.name}`;
    return String(value);
  }
  let shown = typeof value === "string" ? quote(value) : typeof value === "bigint" ? `${value}n` : String(value);
  if (Object.is(value, -0)) shown = "-0";
  if (shown.length > 28) shown = `${shown.slice(0, 25)}...`;
  return `type ${typeof value} (${shown})`;
}

function oneOf(names) {
  if (names.length > 2) return `${names.slice(0, -1).join(", ")}, or ${names[names.length - 1]}`;
  return names.join(" or ");
}

/** ERR_INVALID_ARG_TYPE: `expected` lists type names ("number") and class names ("Buffer"). */
export function invalidArgType(name, expected, actual) {
  const list = Array.isArray(expected) ? expected : [expected];
  const types = list.filter((e) => PRIMITIVES.has(e));
  const instances = list.filter((e) => !PRIMITIVES.has(e) && CLASS_NAME.test(e));
  const other = list.filter((e) => !PRIMITIVES.has(e) && !CLASS_NAME.test(e));
  let message = name.endsWith(" argument")
    ? `The ${name} must be `
    : `The "${name}" ${name.includes(".") ? "property" : "argument"} must be `;
  if (types.length > 0) {
    message += types.length > 1 ? `one of type ${oneOf(types)}` : `of type ${types[0]}`;
    if (instances.length > 0 || other.length > 0) message += " or ";
  }
  if (instances.length > 0) {
    message += `an instance of ${oneOf(instances)}`;
    if (other.length > 0) message += " or ";
  }
  if (other.length > 1) message += `one of ${oneOf(other)}`;
  if (other.length === 1) message += `${other[0].toLowerCase() === other[0] ? "" : "an "}${other[0]}`;
  return nodeError(TypeError, "ERR_INVALID_ARG_TYPE", `${message}. Received ${describe(actual)}`);
}

// 1234567 -> "1_234_567", as Node prints large numbers in range errors.
function withSeparators(digits) {
  let grouped = "";
  let i = digits.length;
  const start = digits[0] === "-" ? 1 : 0;
  for (; i >= start + 4; i -= 3) grouped = `_${digits.slice(i - 3, i)}${grouped}`;
  return `${digits.slice(0, i)}${grouped}`;
}

/** ERR_OUT_OF_RANGE: `The value of "name" is out of range. It must be <range>. Received <value>`. */
export function outOfRange(name, range, value) {
  let shown;
  if (Number.isInteger(value) && Math.abs(value) > 2 ** 32) {
    shown = withSeparators(String(value));
  } else if (typeof value === "bigint") {
    shown = String(value);
    if (value > 2n ** 32n || value < -(2n ** 32n)) shown = withSeparators(shown);
    shown += "n";
  } else {
    shown = Object.is(value, -0) ? "-0" : typeof value === "string" ? quote(value) : String(value);
  }
  return nodeError(
    RangeError,
    "ERR_OUT_OF_RANGE",
    `The value of "${name}" is out of range. It must be ${range}. Received ${shown}`,
  );
}

/** ERR_BUFFER_OUT_OF_BOUNDS, naming the argument when there is one. */
export function outOfBounds(name) {
  return nodeError(
    RangeError,
    "ERR_BUFFER_OUT_OF_BOUNDS",
    name ? `"${name}" is outside of buffer bounds` : "Attempt to access memory outside buffer bounds",
  );
}

export function unknownEncoding(encoding) {
  return nodeError(TypeError, "ERR_UNKNOWN_ENCODING", `Unknown encoding: ${encoding}`);
}

export function validateNumber(value, name) {
  if (typeof value !== "number") throw invalidArgType(name, "number", value);
}

/** Node's validateOffset: an integer number within [min, max] (max: the package's kMaxLength). */
export function validateOffset(value, name, min = 0, max = 0x7fffffff) {
  if (typeof value !== "number") throw invalidArgType(name, "number", value);
  if (!Number.isInteger(value)) throw outOfRange(name, "an integer", value);
  if (value < min || value > max) throw outOfRange(name, `>= ${min} && <= ${max}`, value);
}

/** Node's boundsError: why `value` (an offset, or a byteLength when `name` says so) does not fit. */
export function boundsError(value, length, name) {
  if (Math.floor(value) !== value) {
    validateNumber(value, name);
    throw outOfRange(name || "offset", "an integer", value);
  }
  if (length < 0) throw outOfBounds();
  throw outOfRange(name || "offset", `>= ${name ? 1 : 0} and <= ${length}`, value);
}

/** Node's checkBounds: `byteLength + 1` bytes from `offset` are inside `buf`. */
export function checkBounds(buf, offset, byteLength) {
  validateNumber(offset, "offset");
  if (buf[offset] === undefined || buf[offset + byteLength] === undefined) {
    boundsError(offset, buf.length - (byteLength + 1));
  }
}

/** Node's checkInt: `value` in [min, max] (numbers or bigints), then checkBounds. */
export function checkInt(value, min, max, buf, offset, byteLength) {
  if (value > max || value < min) {
    const n = typeof min === "bigint" ? "n" : "";
    let range;
    if (byteLength > 3) {
      const bits = (byteLength + 1) * 8;
      range =
        min === 0 || min === 0n
          ? `>= 0${n} and < 2${n} ** ${bits}${n}`
          : `>= -(2${n} ** ${bits - 1}${n}) and < 2${n} ** ${bits - 1}${n}`;
    } else {
      range = `>= ${min}${n} and <= ${max}${n}`;
    }
    throw outOfRange("value", range, value);
  }
  checkBounds(buf, offset, byteLength);
}

const typedArrayTag = Object.getOwnPropertyDescriptor(
  Object.getPrototypeOf(Uint8Array.prototype),
  Symbol.toStringTag,
).get;

/** Whether `value` is a Uint8Array (a Buffer included), as Node's isUint8Array. */
export function isUint8Array(value) {
  return typedArrayTag.call(value) === "Uint8Array";
}

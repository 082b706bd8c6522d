// node:internal/buffer/errors: the errors node:buffer throws, with Node's codes and messages
// (ERR_BUFFER_OUT_OF_BOUNDS, ERR_UNKNOWN_ENCODING, ...), and the argument checks of Node's
// lib/internal/buffer.js that raise them. The general helpers (ERR_INVALID_ARG_TYPE,
// ERR_OUT_OF_RANGE, validateNumber) are node:internal/errors', re-exported here.

import { invalidArgType, nodeError, outOfRange, validateNumber } from "node:internal/errors";

export {
  determineSpecificType,
  invalidArgType,
  nodeError,
  outOfRange,
  validateNumber,
} from "node:internal/errors";

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

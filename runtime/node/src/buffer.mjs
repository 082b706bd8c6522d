// node:buffer: the `buffer` package (Node's Buffer for browsers) as the Buffer class, with
// most of its methods replaced by ones that answer as Node 20 does and run at native speed:
// - strings in and out (from, toString, write, byteLength, the per-encoding `*Slice`/`*Write`
//   methods) go through node:internal/buffer/codec, which uses the runtime's TextEncoder/
//   TextDecoder and base64 ops instead of the package's per-character JavaScript loops;
// - the fixed-width readers and writers are node:internal/buffer/numbers;
// - compare/equals (any Uint8Array), indexOf with encodings, fill, copy, concat, slice, swap*
//   and util.inspect's view follow Node's lib/buffer.js, and every argument error carries
//   Node's code and message (node:internal/buffer/errors).
// The package's Buffer object itself stays: bundled packages (readable-stream, string_decoder)
// share it, so a Buffer made anywhere has these methods once this module has loaded.
// Beyond the package there are also the base64url encoding, isUtf8/isAscii, constants and
// the Web globals Node re-exports.

import buffer from "buffer/index.js";
import {
  byteLength as encodedLength,
  decode,
  encode,
  getEncoding,
  isAsciiBytes,
  normalizeEncoding,
  write as writeEncoded,
} from "node:internal/buffer/codec";
import {
  invalidArgType,
  isUint8Array,
  nodeError,
  outOfBounds,
  outOfRange,
  unknownEncoding,
  validateNumber,
  validateOffset,
} from "node:internal/buffer/errors";
import { defineNumberMethods } from "node:internal/buffer/numbers";
import { bidirectionalIndexOf } from "node:internal/buffer/search";

const { Buffer, SlowBuffer, kMaxLength } = buffer;
const proto = Buffer.prototype;

/** `bytes` (a Uint8Array of its own, not shared with the caller) as a Buffer. */
function asBuffer(bytes) {
  return Object.setPrototypeOf(bytes, proto);
}

function isAnyArrayBuffer(value) {
  const tag = Object.prototype.toString.call(value);
  return tag === "[object ArrayBuffer]" || tag === "[object SharedArrayBuffer]";
}

// ---- making buffers ----

function fromString(string, encoding) {
  let canonical = "utf8";
  if (typeof encoding === "string" && encoding.length !== 0) {
    canonical = getEncoding(encoding);
    if (canonical === undefined) throw unknownEncoding(encoding);
  }
  return asBuffer(encode(string, canonical));
}

function fromArrayBuffer(arrayBuffer, byteOffset, length) {
  byteOffset = byteOffset === undefined ? 0 : +byteOffset || 0;
  const maxLength = arrayBuffer.byteLength - byteOffset;
  if (maxLength < 0) throw outOfBounds("offset");
  if (length === undefined) {
    length = maxLength;
  } else {
    length = +length;
    if (length > 0) {
      if (length > maxLength) throw outOfBounds("length");
    } else {
      length = 0;
    }
  }
  return asBuffer(new Uint8Array(arrayBuffer, byteOffset, length));
}

function fromArrayLike(values) {
  return asBuffer(values.length <= 0 ? new Uint8Array(0) : new Uint8Array(values));
}

function fromObject(value) {
  if (value.length !== undefined || isAnyArrayBuffer(value.buffer)) {
    return typeof value.length === "number" ? fromArrayLike(value) : asBuffer(new Uint8Array(0));
  }
  if (value.type === "Buffer" && Array.isArray(value.data)) return fromArrayLike(value.data);
}

Buffer.from = function from(value, encodingOrOffset, length) {
  if (typeof value === "string") return fromString(value, encodingOrOffset);
  if (typeof value === "object" && value !== null) {
    if (isAnyArrayBuffer(value)) return fromArrayBuffer(value, encodingOrOffset, length);
    const valueOf = value.valueOf && value.valueOf();
    if (valueOf != null && valueOf !== value && (typeof valueOf === "string" || typeof valueOf === "object")) {
      return from(valueOf, encodingOrOffset, length);
    }
    const made = fromObject(value);
    if (made) return made;
    if (typeof value[Symbol.toPrimitive] === "function") {
      const primitive = value[Symbol.toPrimitive]("string");
      if (typeof primitive === "string") return fromString(primitive, encodingOrOffset);
    }
  }
  throw invalidArgType("first argument", ["string", "Buffer", "ArrayBuffer", "Array", "Array-like Object"], value);
};

function validateSize(size) {
  validateNumber(size, "size");
  if (!(size >= 0 && size <= kMaxLength)) throw outOfRange("size", `>= 0 && <= ${kMaxLength}`, size);
}

Buffer.alloc = function alloc(size, fill, encoding) {
  validateSize(size);
  const made = asBuffer(new Uint8Array(size));
  return fill !== undefined && fill !== 0 && size > 0 ? fillBuffer(made, fill, 0, made.length, encoding) : made;
};
// Not pooled, and zeroed: typed arrays are, and Node's contents are unspecified anyway.
Buffer.allocUnsafe = function allocUnsafe(size) {
  validateSize(size);
  return asBuffer(new Uint8Array(size));
};
Buffer.allocUnsafeSlow = function allocUnsafeSlow(size) {
  validateSize(size);
  return asBuffer(new Uint8Array(size));
};

Buffer.byteLength = function byteLength(string, encoding) {
  if (typeof string !== "string") {
    if (ArrayBuffer.isView(string) || isAnyArrayBuffer(string)) return string.byteLength;
    throw invalidArgType("string", ["string", "Buffer", "ArrayBuffer"], string);
  }
  const mustMatch = arguments.length > 2 && arguments[2] === true;
  if (!mustMatch && string.length === 0) return 0;
  const canonical = encoding ? getEncoding(encoding) : undefined;
  if (canonical === undefined) return mustMatch ? -1 : encodedLength(string, "utf8");
  return encodedLength(string, canonical);
};

Buffer.isEncoding = function isEncoding(encoding) {
  return typeof encoding === "string" && encoding.length !== 0 && normalizeEncoding(encoding) !== undefined;
};

// ---- comparing ----

// Byte order, then length. Past a few bytes, as Latin-1 strings: the engine compares those
// natively, and in the same order.
function compareBytes(a, aStart, aEnd, b, bStart, bEnd) {
  const aLength = aEnd - aStart;
  const bLength = bEnd - bStart;
  const common = Math.min(aLength, bLength);
  if (common > 64) {
    const left = decode(a, aStart, aStart + common, "latin1");
    const right = decode(b, bStart, bStart + common, "latin1");
    if (left !== right) return left < right ? -1 : 1;
  } else {
    for (var i = 0; i < common; i++) {
      var x = a[aStart + i];
      var y = b[bStart + i];
      if (x !== y) return x < y ? -1 : 1;
    }
  }
  return aLength < bLength ? -1 : aLength > bLength ? 1 : 0;
}

Buffer.compare = function compare(buf1, buf2) {
  if (!isUint8Array(buf1)) throw invalidArgType("buf1", ["Buffer", "Uint8Array"], buf1);
  if (!isUint8Array(buf2)) throw invalidArgType("buf2", ["Buffer", "Uint8Array"], buf2);
  return buf1 === buf2 ? 0 : compareBytes(buf1, 0, buf1.length, buf2, 0, buf2.length);
};

proto.equals = function equals(otherBuffer) {
  if (!isUint8Array(otherBuffer)) throw invalidArgType("otherBuffer", ["Buffer", "Uint8Array"], otherBuffer);
  if (this === otherBuffer) return true;
  const length = this.byteLength;
  if (length !== otherBuffer.byteLength) return false;
  return length === 0 || compareBytes(this, 0, length, otherBuffer, 0, length) === 0;
};

proto.compare = function compare(target, targetStart, targetEnd, sourceStart, sourceEnd) {
  if (!isUint8Array(target)) throw invalidArgType("target", ["Buffer", "Uint8Array"], target);
  if (arguments.length === 1) return compareBytes(this, 0, this.length, target, 0, target.length);
  if (targetStart === undefined) targetStart = 0;
  else validateOffset(targetStart, "targetStart");
  if (targetEnd === undefined) targetEnd = target.length;
  else validateOffset(targetEnd, "targetEnd", 0, target.length);
  if (sourceStart === undefined) sourceStart = 0;
  else validateOffset(sourceStart, "sourceStart");
  if (sourceEnd === undefined) sourceEnd = this.length;
  else validateOffset(sourceEnd, "sourceEnd", 0, this.length);
  if (sourceStart >= sourceEnd) return targetStart >= targetEnd ? 0 : -1;
  if (targetStart >= targetEnd) return 1;
  return compareBytes(this, sourceStart, sourceEnd, target, targetStart, targetEnd);
};

// ---- searching (node:internal/buffer/search) ----

proto.indexOf = function indexOf(value, byteOffset, encoding) {
  return bidirectionalIndexOf(this, value, byteOffset, encoding, true);
};
proto.lastIndexOf = function lastIndexOf(value, byteOffset, encoding) {
  return bidirectionalIndexOf(this, value, byteOffset, encoding, false);
};
proto.includes = function includes(value, byteOffset, encoding) {
  return this.indexOf(value, byteOffset, encoding) !== -1;
};

// ---- strings ----

proto.toString = function toString(encoding, start, end) {
  if (arguments.length === 0) return decode(this, 0, this.length, "utf8");
  const length = this.length;
  if (start <= 0) start = 0;
  else if (start >= length) return "";
  else start = Math.trunc(start) || 0;
  if (end === undefined || end > length) end = length;
  else end = Math.trunc(end) || 0;
  if (end <= start) return "";
  if (encoding === undefined) return decode(this, start, end, "utf8");
  const canonical = getEncoding(encoding);
  if (canonical === undefined) throw unknownEncoding(encoding);
  return decode(this, start, end, canonical);
};
proto.toLocaleString = proto.toString;

function writeString(buf, string, offset, length, encoding) {
  if (typeof string !== "string") throw nodeError(TypeError, "ERR_INVALID_ARG_TYPE", "argument must be a string");
  return writeEncoded(buf, string, offset, length, encoding);
}

proto.write = function write(string, offset, length, encoding) {
  if (offset === undefined) return writeString(this, string, 0, this.length, "utf8");
  if (length === undefined && typeof offset === "string") {
    encoding = offset;
    length = this.length;
    offset = 0;
  } else {
    validateOffset(offset, "offset", 0, this.length);
    const remaining = this.length - offset;
    if (length === undefined) {
      length = remaining;
    } else if (typeof length === "string") {
      encoding = length;
      length = remaining;
    } else {
      validateOffset(length, "length", 0, this.length);
      if (length > remaining) length = remaining;
    }
  }
  let canonical = "utf8";
  if (encoding && encoding !== "utf8") {
    canonical = getEncoding(encoding);
    if (canonical === undefined) throw unknownEncoding(encoding);
  }
  return writeString(this, string, offset, length, canonical);
};

// Node's per-encoding methods (`buf.latin1Slice(start, end)`, `buf.utf8Write(string, offset,
// length)`), which packages such as busboy call directly. Like Node's native ones they take
// indexes, not clamped ranges.
const indexOutOfRange = () => nodeError(RangeError, "ERR_OUT_OF_RANGE", "Index out of range");
const toIndex = (value, fallback) => (value === undefined ? fallback : Math.trunc(+value) || 0);
for (const [name, encoding] of [
  ["ascii", "ascii"],
  ["base64", "base64"],
  ["base64url", "base64url"],
  ["latin1", "latin1"],
  ["hex", "hex"],
  ["ucs2", "utf16le"],
  ["utf8", "utf8"],
]) {
  Object.defineProperty(proto, `${name}Slice`, {
    value(start, end) {
      if (this.length === 0) return "";
      start = toIndex(start, 0);
      end = toIndex(end, this.length);
      if (start < 0 || end < 0) throw indexOutOfRange();
      if (end < start) end = start;
      if (end > this.length) throw indexOutOfRange();
      return decode(this, start, end, encoding);
    },
    writable: true,
    configurable: true,
  });
  Object.defineProperty(proto, `${name}Write`, {
    value(string, offset, length) {
      if (typeof string !== "string") throw nodeError(TypeError, "ERR_INVALID_ARG_TYPE", "argument must be a string");
      offset = toIndex(offset, 0);
      if (offset < 0) throw indexOutOfRange();
      if (offset > this.length) throw outOfBounds("offset");
      length = toIndex(length, this.length - offset);
      if (length < 0) throw indexOutOfRange();
      return writeEncoded(this, string, offset, Math.min(this.length - offset, length), encoding);
    },
    writable: true,
    configurable: true,
  });
}

// ---- filling, copying, slicing ----

function fillBuffer(buf, value, offset, end, encoding) {
  let canonical;
  if (typeof value === "string") {
    if (offset === undefined || typeof offset === "string") {
      encoding = offset;
      offset = 0;
      end = buf.length;
    } else if (typeof end === "string") {
      encoding = end;
      end = buf.length;
    }
    canonical = normalizeEncoding(encoding);
    if (canonical === undefined) {
      if (typeof encoding !== "string") throw invalidArgType("encoding", "string", encoding);
      throw unknownEncoding(encoding);
    }
    if (value.length === 0) {
      value = 0;
    } else if (value.length === 1) {
      // One character that is one byte: a plain byte fill.
      const code = value.charCodeAt(0);
      if ((canonical === "utf8" && code < 128) || canonical === "latin1") value = code;
    }
  }
  if (offset === undefined) {
    offset = 0;
    end = buf.length;
  } else {
    validateOffset(offset, "offset");
    if (end === undefined) end = buf.length;
    else validateOffset(end, "end", 0, buf.length);
    if (offset >= end) return buf;
  }
  if (offset > end || end > buf.length) throw outOfBounds();
  let pattern;
  if (typeof value === "string") {
    pattern = encode(value, canonical);
  } else if (ArrayBuffer.isView(value)) {
    pattern = new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  } else {
    // A number as a typed array stores it; anything else as Node's binding takes it, the low
    // byte of it as a 32-bit unsigned number.
    Uint8Array.prototype.fill.call(buf, typeof value === "number" ? value : (value >>> 0) & 0xff, offset, end);
    return buf;
  }
  const length = end - offset;
  if (pattern.length === 0) {
    throw nodeError(TypeError, "ERR_INVALID_ARG_VALUE", `The argument 'value' is invalid. Received ${inspectValue(value)}`);
  }
  // The pattern once, then doubling copies of what is there.
  let filled = Math.min(pattern.length, length);
  buf.set(filled === pattern.length ? pattern : pattern.subarray(0, filled), offset);
  while (filled < length) {
    const more = Math.min(filled, length - filled);
    buf.copyWithin(offset + filled, offset, offset + more);
    filled += more;
  }
  return buf;
}

function inspectValue(value) {
  if (typeof value === "string") return `'${value}'`;
  if (Buffer.isBuffer(value)) return inspect.call(value);
  if (isUint8Array(value)) return `${value.constructor.name}(${value.length}) []`;
  return String(value);
}

proto.fill = function fill(value, offset, end, encoding) {
  return fillBuffer(this, value, offset, end, encoding);
};

// Node's toInteger for copy's arguments: integral, or the default when not a safe number.
function toInteger(value, fallback) {
  value = +value;
  if (!Number.isNaN(value) && value >= Number.MIN_SAFE_INTEGER && value <= Number.MAX_SAFE_INTEGER) {
    return value % 1 === 0 ? value : Math.floor(value);
  }
  return fallback;
}

function copyActual(source, target, targetStart, sourceStart, sourceEnd) {
  if (sourceEnd - sourceStart > target.length - targetStart) sourceEnd = sourceStart + target.length - targetStart;
  let count = sourceEnd - sourceStart;
  if (count > source.length - sourceStart) count = source.length - sourceStart;
  if (sourceStart !== 0 || sourceEnd < source.length) {
    source = new Uint8Array(source.buffer, source.byteOffset + sourceStart, count);
  }
  // TypedArray#set copies as if through a temporary, so overlapping ranges are safe.
  Uint8Array.prototype.set.call(target, source, targetStart);
  return count;
}

proto.copy = function copy(target, targetStart, sourceStart, sourceEnd) {
  if (!isUint8Array(this)) throw invalidArgType("source", ["Buffer", "Uint8Array"], this);
  if (!isUint8Array(target)) throw invalidArgType("target", ["Buffer", "Uint8Array"], target);
  if (targetStart === undefined) {
    targetStart = 0;
  } else {
    targetStart = toInteger(targetStart, 0);
    if (targetStart < 0) throw outOfRange("targetStart", ">= 0", targetStart);
  }
  if (sourceStart === undefined) {
    sourceStart = 0;
  } else {
    sourceStart = toInteger(sourceStart, 0);
    if (sourceStart < 0 || sourceStart > this.length) {
      throw outOfRange("sourceStart", `>= 0 && <= ${this.length}`, sourceStart);
    }
  }
  if (sourceEnd === undefined) {
    sourceEnd = this.length;
  } else {
    sourceEnd = toInteger(sourceEnd, 0);
    if (sourceEnd < 0) throw outOfRange("sourceEnd", ">= 0", sourceEnd);
  }
  if (targetStart >= target.length || sourceStart >= sourceEnd) return 0;
  return copyActual(this, target, targetStart, sourceStart, sourceEnd);
};

Buffer.concat = function concat(list, length) {
  if (!Array.isArray(list)) throw invalidArgType("list", "Array", list);
  if (list.length === 0) return asBuffer(new Uint8Array(0));
  if (length === undefined) {
    length = 0;
    for (let i = 0; i < list.length; i++) if (list[i].length) length += list[i].length;
  } else {
    validateOffset(length, "length");
  }
  const joined = asBuffer(new Uint8Array(length));
  let position = 0;
  for (let i = 0; i < list.length; i++) {
    const item = list[i];
    if (!isUint8Array(item)) throw invalidArgType(`list[${i}]`, ["Buffer", "Uint8Array"], item);
    position += copyActual(item, joined, position, 0, item.length);
  }
  return joined;
};

// Node's slice: a view, with negative and out-of-range ends clamped (not int32-truncated).
function adjustOffset(offset, length) {
  offset = Math.trunc(offset);
  if (offset === 0) return 0;
  if (offset < 0) return Math.max(offset + length, 0);
  if (offset < length) return offset;
  return Number.isNaN(offset) ? 0 : length;
}

proto.slice = function slice(start, end) {
  const length = this.length;
  start = adjustOffset(start, length);
  end = end !== undefined ? adjustOffset(end, length) : length;
  return asBuffer(new Uint8Array(this.buffer, this.byteOffset + start, end > start ? end - start : 0));
};

for (const size of [2, 4, 8]) {
  proto[`swap${size * 8}`] = function () {
    const length = this.length;
    if (length % size !== 0) {
      throw nodeError(RangeError, "ERR_INVALID_BUFFER_SIZE", `Buffer size must be a multiple of ${size * 8}-bits`);
    }
    for (var at = 0; at < length; at += size) {
      for (var i = at, j = at + size - 1; i < j; i++, j--) {
        var byte = this[i];
        this[i] = this[j];
        this[j] = byte;
      }
    }
    return this;
  };
}

defineNumberMethods(proto);

// util.inspect's view: `<Buffer 68 69>`, at most INSPECT_MAX_BYTES (read from the module's
// default export, which Node lets programs change) and how many more.
function inspect() {
  const max = exported.INSPECT_MAX_BYTES;
  const remaining = this.length - max;
  let text = decode(this, 0, Math.min(max, this.length), "hex")
    .replace(/(.{2})/g, "$1 ")
    .trim();
  if (remaining > 0) text += ` ... ${remaining} more byte${remaining > 1 ? "s" : ""}`;
  return `<${this.constructor === Buffer ? "Buffer" : this.constructor.name} ${text}>`;
}
proto.inspect = inspect;
proto[Symbol.for("nodejs.util.inspect.custom")] = inspect;

// ---- the rest of the module ----

function bytesOf(input) {
  if (ArrayBuffer.isView(input)) return new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  if (isAnyArrayBuffer(input)) return new Uint8Array(input);
  throw invalidArgType("input", ["ArrayBuffer", "Buffer", "TypedArray"], input);
}

const fatal = new TextDecoder("utf-8", { fatal: true });

export function isUtf8(input) {
  const bytes = bytesOf(input);
  try {
    fatal.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

export function isAscii(input) {
  return isAsciiBytes(bytesOf(input));
}

export const INSPECT_MAX_BYTES = 50;
export const kStringMaxLength = 2 ** 29 - 24;
export const constants = Object.freeze({ MAX_LENGTH: kMaxLength, MAX_STRING_LENGTH: kStringMaxLength });
export const atob = globalThis.atob;
export const btoa = globalThis.btoa;
export const Blob = globalThis.Blob;
export const File = globalThis.File;
export { Buffer, kMaxLength, SlowBuffer };

const exported = {
  atob,
  Blob,
  btoa,
  Buffer,
  constants,
  File,
  INSPECT_MAX_BYTES,
  isAscii,
  isUtf8,
  kMaxLength,
  kStringMaxLength,
  SlowBuffer,
};
export default exported;

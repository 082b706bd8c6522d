// node:internal/buffer/numbers: Buffer's fixed-width readers and writers (readUInt8 ...
// writeDoubleBE, the BigInt ones, readUIntLE/writeIntBE of 1 to 6 bytes, and the `Uint`
// aliases), checked as Node's lib/internal/buffer.js checks them, so that a bad offset or value
// throws Node's ERR_OUT_OF_RANGE / ERR_BUFFER_OUT_OF_BOUNDS / ERR_INVALID_ARG_TYPE with its
// message. Bytes are stored as Node stores them (a value's low 32 bits by `>>>`, the rest by
// division), so out-of-the-way values such as fractions write the same bytes.

import {
  boundsError,
  checkBounds,
  checkInt,
  invalidArgType,
  outOfRange,
  validateNumber,
} from "node:internal/buffer/errors";

// ---- integers of 1 to 6 bytes ----
// The common widths (1, 2, 4 bytes) check in line and leave the exact error to the general
// checks only when something is off; parsers call these in loops.

function checkRead(buf, offset, size) {
  validateNumber(offset, "offset");
  if (buf[offset] === undefined || buf[offset + size - 1] === undefined) {
    boundsError(offset, buf.length - size);
  }
}

function read8(buf, offset, signed) {
  if (typeof offset !== "number") throw invalidArgType("offset", "number", offset);
  const value = buf[offset];
  if (value === undefined) boundsError(offset, buf.length - 1);
  return signed && value > 0x7f ? value - 0x100 : value;
}

function read16(buf, offset, signed, littleEndian) {
  if (typeof offset !== "number") throw invalidArgType("offset", "number", offset);
  const first = buf[offset];
  const last = buf[offset + 1];
  if (first === undefined || last === undefined) boundsError(offset, buf.length - 2);
  const value = littleEndian ? first + last * 0x100 : first * 0x100 + last;
  return signed && value > 0x7fff ? value - 0x10000 : value;
}

function read32(buf, offset, signed, littleEndian) {
  if (typeof offset !== "number") throw invalidArgType("offset", "number", offset);
  const first = buf[offset];
  const last = buf[offset + 3];
  if (first === undefined || last === undefined) boundsError(offset, buf.length - 4);
  const value = littleEndian
    ? first + buf[offset + 1] * 0x100 + buf[offset + 2] * 0x10000 + last * 0x1000000
    : first * 0x1000000 + buf[offset + 1] * 0x10000 + buf[offset + 2] * 0x100 + last;
  return signed ? value | 0 : value;
}

function readInteger(buf, offset, size, signed, littleEndian) {
  checkRead(buf, offset, size);
  return readUnchecked(buf, offset, size, signed, littleEndian);
}

function readUnchecked(buf, offset, size, signed, littleEndian) {
  var value = 0;
  for (var i = 0, scale = 1; i < size; i++, scale *= 256) {
    value += buf[littleEndian ? offset + i : offset + size - 1 - i] * scale;
  }
  if (signed && value >= 2 ** (8 * size - 1)) value -= 2 ** (8 * size);
  return value;
}

function writeInteger(buf, value, offset, size, min, max, littleEndian) {
  value = +value;
  if (size === 1) {
    // One byte: Node checks the value before the offset, and only one entry.
    if (value > max || value < min || typeof offset !== "number" || buf[offset] === undefined) {
      validateNumber(offset, "offset");
      if (value > max || value < min) throw outOfRange("value", `>= ${min} and <= ${max}`, value);
      boundsError(offset, buf.length - 1);
    }
    buf[offset] = value;
    return offset + 1;
  }
  if (value > max || value < min || typeof offset !== "number" || buf[offset] === undefined || buf[offset + size - 1] === undefined) {
    checkInt(value, min, max, buf, offset, size - 1); // throws Node's error for what is off
  }
  // Node's stores: the low 32 bits through `>>>`, the rest by division.
  if (size === 2) {
    buf[littleEndian ? offset : offset + 1] = value;
    buf[littleEndian ? offset + 1 : offset] = value >>> 8;
  } else if (size === 4) {
    buf[littleEndian ? offset : offset + 3] = value;
    buf[littleEndian ? offset + 1 : offset + 2] = value >>> 8;
    buf[littleEndian ? offset + 2 : offset + 1] = value >>> 16;
    buf[littleEndian ? offset + 3 : offset] = value >>> 24;
  } else {
    const high = size > 4 ? Math.floor(value * 2 ** -32) : 0;
    for (var i = 0; i < size; i++) {
      buf[littleEndian ? offset + i : offset + size - 1 - i] = i < 4 ? value >>> (8 * i) : i === 4 ? high : high >>> 8;
    }
  }
  return offset + size;
}

// ---- floats, through a scratch array in the host's byte order ----

const float32 = new Float32Array(1);
const float64 = new Float64Array(1);
const float32Bytes = new Uint8Array(float32.buffer);
const float64Bytes = new Uint8Array(float64.buffer);
const hostLittleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function readFloat(buf, offset, size, littleEndian) {
  checkRead(buf, offset, size);
  const scratch = size === 4 ? float32Bytes : float64Bytes;
  const same = littleEndian === hostLittleEndian;
  for (let i = 0; i < size; i++) scratch[same ? i : size - 1 - i] = buf[offset + i];
  return size === 4 ? float32[0] : float64[0];
}

function writeFloat(buf, value, offset, size, littleEndian) {
  value = +value;
  checkBounds(buf, offset, size - 1);
  let scratch;
  if (size === 4) {
    float32[0] = value;
    scratch = float32Bytes;
  } else {
    float64[0] = value;
    scratch = float64Bytes;
  }
  const same = littleEndian === hostLittleEndian;
  for (let i = 0; i < size; i++) buf[offset + i] = scratch[same ? i : size - 1 - i];
  return offset + size;
}

// ---- 64-bit integers as BigInt ----

function readBig(buf, offset, signed, littleEndian) {
  checkRead(buf, offset, 8);
  const low = readUnchecked(buf, littleEndian ? offset : offset + 4, 4, false, littleEndian);
  const high = readUnchecked(buf, littleEndian ? offset + 4 : offset, 4, signed, littleEndian);
  return (BigInt(high) << 32n) + BigInt(low);
}

function writeBig(buf, value, offset, min, max, littleEndian) {
  checkInt(value, min, max, buf, offset, 7);
  const low = Number(value & 0xffffffffn);
  const high = Number((value >> 32n) & 0xffffffffn);
  for (let i = 0; i < 4; i++) {
    buf[littleEndian ? offset + i : offset + 7 - i] = low >>> (8 * i);
    buf[littleEndian ? offset + 4 + i : offset + 3 - i] = high >>> (8 * i);
  }
  return offset + 8;
}

// ---- the methods ----

const INTEGERS = [
  // [name, bytes, signed]
  ["UInt8", 1, false],
  ["UInt16", 2, false],
  ["UInt32", 4, false],
  ["Int8", 1, true],
  ["Int16", 2, true],
  ["Int32", 4, true],
];

function limits(size, signed) {
  return signed ? [-(2 ** (8 * size - 1)), 2 ** (8 * size - 1) - 1] : [0, 2 ** (8 * size) - 1];
}

// readUIntLE(offset, byteLength) and friends: Node requires the offset, and a byteLength of 1-6.
function variableWidth(signed, littleEndian, isWrite) {
  if (isWrite) {
    return function (value, offset, byteLength) {
      if (byteLength >= 1 && byteLength <= 6 && Number.isInteger(byteLength)) {
        const [min, max] = limits(byteLength, signed);
        return writeInteger(this, value, offset, byteLength, min, max, littleEndian);
      }
      boundsError(byteLength, 6, "byteLength");
    };
  }
  return function (offset, byteLength) {
    if (offset === undefined) throw invalidArgType("offset", "number", offset);
    if (byteLength >= 1 && byteLength <= 6 && Number.isInteger(byteLength)) {
      return readInteger(this, offset, byteLength, signed, littleEndian);
    }
    boundsError(byteLength, 6, "byteLength");
  };
}

/** Defines the readers and writers on `proto` (Buffer.prototype), replacing the package's. */
export function defineNumberMethods(proto) {
  const methods = {};
  for (const [name, size, signed] of INTEGERS) {
    const [min, max] = limits(size, signed);
    for (const [suffix, littleEndian] of size === 1 ? [["", true]] : [["LE", true], ["BE", false]]) {
      methods[`read${name}${suffix}`] =
        size === 1
          ? function (offset = 0) {
              return read8(this, offset, signed);
            }
          : size === 2
            ? function (offset = 0) {
                return read16(this, offset, signed, littleEndian);
              }
            : function (offset = 0) {
                return read32(this, offset, signed, littleEndian);
              };
      methods[`write${name}${suffix}`] = function (value, offset = 0) {
        return writeInteger(this, value, offset, size, min, max, littleEndian);
      };
    }
  }
  for (const [suffix, littleEndian] of [["LE", true], ["BE", false]]) {
    methods[`readUInt${suffix}`] = variableWidth(false, littleEndian, false);
    methods[`readInt${suffix}`] = variableWidth(true, littleEndian, false);
    methods[`writeUInt${suffix}`] = variableWidth(false, littleEndian, true);
    methods[`writeInt${suffix}`] = variableWidth(true, littleEndian, true);
    methods[`readFloat${suffix}`] = function (offset = 0) {
      return readFloat(this, offset, 4, littleEndian);
    };
    methods[`readDouble${suffix}`] = function (offset = 0) {
      return readFloat(this, offset, 8, littleEndian);
    };
    methods[`writeFloat${suffix}`] = function (value, offset = 0) {
      return writeFloat(this, value, offset, 4, littleEndian);
    };
    methods[`writeDouble${suffix}`] = function (value, offset = 0) {
      return writeFloat(this, value, offset, 8, littleEndian);
    };
    methods[`readBigUInt64${suffix}`] = function (offset = 0) {
      return readBig(this, offset, false, littleEndian);
    };
    methods[`readBigInt64${suffix}`] = function (offset = 0) {
      return readBig(this, offset, true, littleEndian);
    };
    methods[`writeBigUInt64${suffix}`] = function (value, offset = 0) {
      return writeBig(this, value, offset, 0n, 0xffffffffffffffffn, littleEndian);
    };
    methods[`writeBigInt64${suffix}`] = function (value, offset = 0) {
      return writeBig(this, value, offset, -(2n ** 63n), 2n ** 63n - 1n, littleEndian);
    };
  }
  for (const [name, method] of Object.entries(methods)) {
    Object.defineProperty(method, "name", { value: name });
    proto[name] = method;
    // Node's lower-case aliases: readUint8, writeBigUint64LE, ...
    if (name.includes("UInt")) proto[name.replace("UInt", "Uint")] = method;
  }
}

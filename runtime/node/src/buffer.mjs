// node:buffer: the `buffer` package (Node's Buffer for browsers), with what Node has beyond
// it: the base64url encoding, isUtf8/isAscii, constants, and the Web globals Node re-exports.

import buffer from "buffer/index.js";

const { Buffer, SlowBuffer, INSPECT_MAX_BYTES, kMaxLength } = buffer;

// base64url (RFC 4648 §5) is not in the package: it goes through base64.
const toBase64 = (text) => {
  const standard = String(text).replace(/-/g, "+").replace(/_/g, "/");
  return standard + "=".repeat((4 - (standard.length % 4)) % 4);
};
const isBase64Url = (encoding) => typeof encoding === "string" && encoding.toLowerCase() === "base64url";
const { from, byteLength, isEncoding } = Buffer;
const { toString, write } = Buffer.prototype;
Buffer.from = function (value, encodingOrOffset, length) {
  if (typeof value === "string" && isBase64Url(encodingOrOffset)) {
    return from.call(this, toBase64(value), "base64");
  }
  return from.call(this, value, encodingOrOffset, length);
};
Buffer.byteLength = function (value, encoding) {
  if (typeof value === "string" && isBase64Url(encoding)) {
    return byteLength.call(this, toBase64(value), "base64");
  }
  return byteLength.call(this, value, encoding);
};
Buffer.isEncoding = (encoding) => isBase64Url(encoding) || isEncoding(encoding);
Buffer.prototype.toString = function (encoding, start, end) {
  if (isBase64Url(encoding)) {
    return toString.call(this, "base64", start, end).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  return Reflect.apply(toString, this, arguments);
};
Buffer.prototype.write = function (string, offset, length, encoding) {
  if (isBase64Url(encoding)) {
    return write.call(this, toBase64(string), offset, length, "base64");
  }
  if (isBase64Url(offset)) {
    return write.call(this, toBase64(string), "base64");
  }
  if (isBase64Url(length)) {
    return write.call(this, toBase64(string), offset, "base64");
  }
  return Reflect.apply(write, this, arguments);
};

const fatal = new TextDecoder("utf-8", { fatal: true });

export function isUtf8(input) {
  try {
    fatal.decode(input);
    return true;
  } catch {
    return false;
  }
}

export function isAscii(input) {
  const bytes = ArrayBuffer.isView(input)
    ? new Uint8Array(input.buffer, input.byteOffset, input.byteLength)
    : new Uint8Array(input);
  return bytes.every((byte) => byte < 0x80);
}

export const kStringMaxLength = 2 ** 29 - 24;
export const constants = Object.freeze({ MAX_LENGTH: kMaxLength, MAX_STRING_LENGTH: kStringMaxLength });
export const atob = globalThis.atob;
export const btoa = globalThis.btoa;
export const Blob = globalThis.Blob;
export const File = globalThis.File;
export { Buffer, INSPECT_MAX_BYTES, kMaxLength, SlowBuffer };

export default {
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

// node:internal/crypto/util: what the parts of node:crypto share. Turning arguments into
// bytes as Node does, Node's errors (node:internal/errors', with the expected types worded
// here), and the codes of the errors the runtime's crypto ops raise
// (runtime/src/node_ops/crypto/), which carry Node's (OpenSSL's) messages but no code.

import { Buffer } from "node:buffer";
import { determineSpecificType, nodeError } from "node:internal/errors";

export { invalidArgValue, nodeError } from "node:internal/errors";

/** How Node describes a value it did not expect (" Received ..."). */
export function received(value) {
  return ` Received ${determineSpecificType(value)}`;
}

/**
 * ERR_INVALID_ARG_TYPE with the expectation already worded (`"of type string or an instance
 * of Buffer"`), as the crypto modules keep theirs; node:internal/errors' own takes a list.
 */
export function invalidArgType(name, expected, value) {
  const what = name.includes(".") ? `"${name}" property` : `"${name}" argument`;
  return nodeError(TypeError, "ERR_INVALID_ARG_TYPE", `The ${what} must be ${expected}.${received(value)}`, invalidArgType);
}

/**
 * `Class` as a function, Node's way: callable without `new` (`crypto.Hmac(...)`), and a
 * constructor for subclasses; `instanceof` either answers the same.
 */
export function callable(Class, name) {
  const constructor = function (...args) {
    return Reflect.construct(Class, args, new.target ?? constructor);
  };
  Object.defineProperty(constructor, "name", { value: name, configurable: true });
  Object.defineProperty(constructor, "length", { value: Class.length, configurable: true });
  constructor.prototype = Class.prototype;
  Object.defineProperty(Class.prototype, "constructor", { value: constructor, writable: true, configurable: true });
  Object.setPrototypeOf(constructor, Object.getPrototypeOf(Class));
  return constructor;
}

const BYTES = "of type string or an instance of Buffer, TypedArray, or DataView";

/** `data` as a Buffer over the same memory (a string through `encoding`, utf8 by default). */
export function toBuffer(data, encoding, name = "data", expected = BYTES) {
  if (typeof data === "string") {
    if (!expected.includes("string")) throw invalidArgType(name, expected, data);
    return Buffer.from(data, encoding === "buffer" || !encoding ? "utf8" : encoding);
  }
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (data instanceof ArrayBuffer || data instanceof SharedArrayBuffer) return Buffer.from(data);
  throw invalidArgType(name, expected, data);
}

/** A Buffer over an op's result (no copy). */
export function fromOp(bytes) {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** `buffer` in `encoding`, or itself for none or "buffer". */
export function encode(buffer, encoding) {
  return encoding === undefined || encoding === null || encoding === "buffer"
    ? buffer
    : buffer.toString(encoding);
}

// OpenSSL's library names, as Node turns them into the prefix of an ERR_OSSL_ code.
const LIBRARIES = {
  "rsa routines": "RSA_",
  "asn1 encoding routines": "ASN1_",
  "common libcrypto routines": "CRYPTO_",
  "digital envelope routines": "EVP_",
  "elliptic curve routines": "EC_",
  "PEM routines": "PEM_",
};

// The ops' messages that are Node's own errors, and Node's code for each.
const CODES = [
  [/^Invalid key length$/, "ERR_CRYPTO_INVALID_KEYLEN"],
  [/^Invalid initialization vector$/, "ERR_CRYPTO_INVALID_IV"],
  [/^Unknown cipher/, "ERR_CRYPTO_UNKNOWN_CIPHER"],
  [/^Invalid authentication tag length/, "ERR_CRYPTO_INVALID_AUTH_TAG"],
  [/^Invalid state for operation/, "ERR_CRYPTO_INVALID_STATE"],
  [/^Invalid digest/, "ERR_CRYPTO_INVALID_DIGEST"],
  [/^Invalid scrypt params/, "ERR_CRYPTO_INVALID_SCRYPT_PARAMS"],
  [/^The selected key encoding/, "ERR_CRYPTO_INCOMPATIBLE_KEY_OPTIONS"],
  [/^Invalid EC curve name$/, "ERR_CRYPTO_INVALID_CURVE"],
  [/^Unsupported JWK EC curve/, "ERR_CRYPTO_JWK_UNSUPPORTED_CURVE"],
  [/^Invalid JWK/, "ERR_CRYPTO_INVALID_JWK"],
  [/^The "/, "ERR_INVALID_ARG_TYPE"],
  [/^(The property|The argument|RSA_PKCS1_PADDING is no longer)/, "ERR_INVALID_ARG_VALUE"],
];

/** Gives an error from a crypto op the `code` Node gives the same error. */
export function withCode(error) {
  if (error?.code !== undefined || typeof error?.message !== "string") return error;
  const openssl = /^error:[0-9A-F]+:([^:]*):[^:]*:(.+)$/.exec(error.message);
  if (openssl) {
    error.code = `ERR_OSSL_${LIBRARIES[openssl[1]] ?? ""}${openssl[2].toUpperCase().replace(/ /g, "_")}`;
  } else {
    const found = CODES.find(([pattern]) => pattern.test(error.message));
    if (found) error.code = found[1];
  }
  return error;
}

/** Runs `fn` (which calls a crypto op), giving its errors Node's codes. */
export function guard(fn) {
  try {
    return fn();
  } catch (error) {
    throw withCode(error);
  }
}

/** Calls `callback(error, ...results)` later, with what `fn` gives or throws now. */
export function later(callback, fn) {
  if (typeof callback !== "function") throw invalidArgType("callback", "of type function", callback);
  let results;
  try {
    results = [null, ...fn()];
  } catch (error) {
    results = [withCode(error)];
  }
  setTimeout(() => callback(...results), 0);
}

// The digests of signatures and key derivation (runtime/src/node_ops/crypto/digest.rs), by
// the names OpenSSL knows them under.
const DIGESTS = new Set(["md5", "sha1", "sha224", "sha256", "sha384", "sha512"]);

/** The digest `name` names ("RSA-SHA256", "sha256WithRSAEncryption", "SHA-256"), or undefined. */
export function digestName(name) {
  if (typeof name !== "string") return undefined;
  let plain = name
    .toLowerCase()
    .replace(/^rsa-/, "")
    .replace(/withrsaencryption$/, "");
  plain = plain.replace(/^sha2?-(\d+)$/, "sha$1").replace(/^(ssl3-sha1|sha1-2)$/, "sha1");
  return DIGESTS.has(plain) ? plain : undefined;
}

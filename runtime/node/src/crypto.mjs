// node:crypto: hashes and HMACs, random values, timingSafeEqual and key derivation (PBKDF2,
// scrypt, HKDF) here; ciphers (node:internal/crypto/cipher), keys (.../keys) and signatures
// (.../sig) in the modules beside it. The cryptography is the runtime's ops on RustCrypto
// and ring (runtime/src/node_ops/); these modules give it Node's API, arguments, encodings
// and errors. Diffie-Hellman, ECDH and X509Certificate are not here: they throw, naming
// themselves.

import {
  op_edge_node_digest,
  op_edge_node_hkdf,
  op_edge_node_hmac,
  op_edge_node_pbkdf2,
  op_edge_node_scrypt,
} from "ext:core/ops";
import { Buffer } from "node:buffer";
import { LazyTransform } from "node:internal/streams/lazy";
import { crypto as CONSTANTS } from "node:internal/constants";
import {
  Cipheriv,
  createCipheriv,
  createDecipheriv,
  Decipheriv,
  getCiphers,
} from "node:internal/crypto/cipher";
import {
  createPrivateKey,
  createPublicKey,
  createSecretKey,
  generateKey,
  generateKeyPair,
  generateKeyPairSync,
  generateKeySync,
  KeyObject,
} from "node:internal/crypto/keys";
import {
  createSign,
  createVerify,
  privateDecrypt,
  privateEncrypt,
  publicDecrypt,
  publicEncrypt,
  sign,
  Sign,
  verify,
  Verify,
} from "node:internal/crypto/sig";
import { callable, fromOp, guard, invalidArgType, later, nodeError, toBuffer } from "node:internal/crypto/util";

export {
  Cipheriv,
  createCipheriv,
  createDecipheriv,
  createPrivateKey,
  createPublicKey,
  createSecretKey,
  createSign,
  createVerify,
  Decipheriv,
  generateKey,
  generateKeyPair,
  generateKeyPairSync,
  generateKeySync,
  getCiphers,
  KeyObject,
  privateDecrypt,
  privateEncrypt,
  publicDecrypt,
  publicEncrypt,
  sign,
  Sign,
  verify,
  Verify,
};

const HASHES = ["md5", "sha1", "sha224", "sha256", "sha384", "sha512"];

function bytes(data, encoding, what) {
  if (typeof data === "string") return Buffer.from(data, encoding ?? "utf8");
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  if (data instanceof KeyObject && data.type === "secret") return data.export();
  if (what === "key") throw invalidArgType(what, HMAC_KEY, data);
  throw invalidArgType(what, "of type string or an instance of Buffer, TypedArray, or DataView", data);
}

const HMAC_KEY =
  "of type string or an instance of ArrayBuffer, Buffer, TypedArray, DataView, KeyObject, or CryptoKey";

/** `buffer` in `encoding` (Node's: any value, made a string; a Buffer without one). */
function output(buffer, encoding) {
  encoding = `${encoding || "buffer"}`;
  return encoding === "buffer" ? buffer : buffer.toString(encoding);
}

/** Whether a Hash or Hmac has given its digest. */
const DIGESTED = Symbol("digested");

class Digesting extends LazyTransform {
  #chunks = [];
  #done = false;

  _transform(chunk, encoding, callback) {
    this.update(chunk, encoding);
    callback();
  }

  _flush(callback) {
    this.push(this.digest());
    callback();
  }

  get [DIGESTED]() {
    return this.#done;
  }

  update(data, inputEncoding) {
    if (this.#done) {
      const error = new Error("Digest already called");
      error.code = "ERR_CRYPTO_HASH_FINALIZED";
      throw error;
    }
    this.#chunks.push(bytes(data, inputEncoding, "data"));
    return this;
  }

  /** The data so far, once, in one buffer. */
  finish() {
    if (this.#done) {
      const error = new Error("Digest already called");
      error.code = "ERR_CRYPTO_HASH_FINALIZED";
      throw error;
    }
    this.#done = true;
    return Buffer.concat(this.#chunks);
  }

  chunks() {
    return [...this.#chunks];
  }
}

class HashClass extends Digesting {
  #algorithm;

  constructor(algorithm, options) {
    if (typeof algorithm !== "string") throw invalidArgType("algorithm", "of type string", algorithm);
    super(options);
    op_edge_node_digest(String(algorithm), new Uint8Array(0));
    this.#algorithm = String(algorithm);
  }

  copy() {
    const copy = new HashClass(this.#algorithm);
    for (const chunk of this.chunks()) copy.update(chunk);
    return copy;
  }

  digest(encoding) {
    return output(Buffer.from(op_edge_node_digest(this.#algorithm, this.finish())), encoding);
  }
}

class HmacClass extends Digesting {
  #algorithm;
  #key;

  constructor(algorithm, key, options) {
    if (typeof algorithm !== "string") throw invalidArgType("hmac", "of type string", algorithm);
    super(options);
    this.#key = bytes(key, undefined, "key");
    try {
      op_edge_node_hmac(String(algorithm), this.#key, new Uint8Array(0));
    } catch {
      throw nodeError(TypeError, "ERR_CRYPTO_INVALID_DIGEST", `Invalid digest: ${algorithm}`);
    }
    this.#algorithm = String(algorithm);
  }

  digest(encoding) {
    // A second digest of an Hmac is empty (a Hash's throws), as in Node.
    if (this[DIGESTED]) return output(Buffer.alloc(0), encoding);
    return output(Buffer.from(op_edge_node_hmac(this.#algorithm, this.#key, this.finish())), encoding);
  }
}

export const Hash = callable(HashClass, "Hash");
export const Hmac = callable(HmacClass, "Hmac");

export function createHash(algorithm, options) {
  return new Hash(algorithm, options);
}

export function createHmac(algorithm, key, options) {
  return new Hmac(algorithm, key, options);
}

/** One-shot digest (Node 21's crypto.hash): hex unless another encoding is asked for. */
export function hash(algorithm, data, outputEncoding = "hex") {
  return output(
    Buffer.from(op_edge_node_digest(String(algorithm), bytes(data, undefined, "data"))),
    outputEncoding,
  );
}

export function getHashes() {
  return [...HASHES.map((name) => `RSA-${name.toUpperCase()}`), ...HASHES];
}

/** The curves of EC keys here (generateKeyPair's `namedCurve`). */
export function getCurves() {
  return ["prime256v1", "secp384r1", "secp521r1"];
}

export function getFips() {
  return 0;
}

export const webcrypto = globalThis.crypto;
export const subtle = globalThis.crypto.subtle;

export function getRandomValues(array) {
  return globalThis.crypto.getRandomValues(array);
}

export function randomUUID() {
  return globalThis.crypto.randomUUID();
}

function fill(view) {
  // getRandomValues takes at most 65,536 bytes at a time.
  for (let at = 0; at < view.length; at += 65536) {
    globalThis.crypto.getRandomValues(view.subarray(at, Math.min(view.length, at + 65536)));
  }
  return view;
}

export function randomBytes(size, callback) {
  if (!Number.isInteger(size) || size < 0) {
    throw new RangeError(
      `The value of "size" is out of range. It must be >= 0 && <= 2147483647. Received ${size}`,
    );
  }
  const buffer = fill(Buffer.alloc(size));
  if (typeof callback === "function") {
    queueMicrotask(() => callback(null, buffer));
    return undefined;
  }
  return buffer;
}

export function randomFillSync(buffer, offset = 0, size) {
  const view = new Uint8Array(buffer.buffer ?? buffer, buffer.byteOffset ?? 0, buffer.byteLength);
  const end = size === undefined ? view.length : offset + size;
  fill(view.subarray(offset, end));
  return buffer;
}

export function randomFill(buffer, offset, size, callback) {
  if (typeof offset === "function") [callback, offset, size] = [offset, 0, undefined];
  else if (typeof size === "function") [callback, size] = [size, undefined];
  randomFillSync(buffer, offset, size);
  queueMicrotask(() => callback(null, buffer));
}

export function randomInt(min, max, callback) {
  if (max === undefined || typeof max === "function") [min, max, callback] = [0, min, max];
  if (!Number.isSafeInteger(min) || !Number.isSafeInteger(max) || max <= min) {
    throw new RangeError(
      `The value of "max" is out of range. It must be greater than the value of "min" (${min}). Received ${max}`,
    );
  }
  const range = max - min;
  // Rejection sampling over 48 random bits: no bias.
  const limit = 2 ** 48 - (2 ** 48 % range);
  let value;
  do {
    const six = fill(new Uint8Array(6));
    value = six.reduce((acc, byte) => acc * 256 + byte, 0);
  } while (value >= limit);
  const result = min + (value % range);
  if (typeof callback === "function") {
    queueMicrotask(() => callback(null, result));
    return undefined;
  }
  return result;
}

export function timingSafeEqual(a, b) {
  const x = bytes(a, undefined, "buf1");
  const y = bytes(b, undefined, "buf2");
  if (x.length !== y.length) {
    const error = new RangeError("Input buffers must have the same byte length");
    error.code = "ERR_CRYPTO_TIMING_SAFE_EQUAL_LENGTH";
    throw error;
  }
  let difference = 0;
  for (let i = 0; i < x.length; i++) difference |= x[i] ^ y[i];
  return difference === 0;
}

function checkInteger(name, value, min, max = 2147483647) {
  if (typeof value !== "number") throw invalidArgType(name, "of type number", value);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw nodeError(
      RangeError,
      "ERR_OUT_OF_RANGE",
      `The value of "${name}" is out of range. It must be >= ${min} && <= ${max}. Received ${value}`,
    );
  }
}

function checkDigest(digest) {
  if (typeof digest !== "string") throw invalidArgType("digest", "of type string", digest);
}

/** Password-like arguments: strings or bytes. */
function secret(value, name) {
  return toBuffer(
    value,
    "utf8",
    name,
    "of type string or an instance of ArrayBuffer, Buffer, TypedArray, or DataView",
  );
}

export function pbkdf2Sync(password, salt, iterations, keylen, digest) {
  const passwordBytes = secret(password, "password");
  const saltBytes = secret(salt, "salt");
  checkInteger("iterations", iterations, 1);
  checkInteger("keylen", keylen, 0);
  checkDigest(digest);
  return fromOp(guard(() => op_edge_node_pbkdf2(passwordBytes, saltBytes, iterations, keylen, digest)));
}

export function pbkdf2(password, salt, iterations, keylen, digest, callback) {
  if (typeof callback !== "function") throw invalidArgType("callback", "of type function", callback);
  // Derived now (Node would in its thread pool), so bad arguments throw here as in Node.
  const key = pbkdf2Sync(password, salt, iterations, keylen, digest);
  later(callback, () => [key]);
}

export function hkdfSync(digest, ikm, salt, info, keylen) {
  checkDigest(digest);
  const key = ikm instanceof KeyObject && ikm.type === "secret" ? ikm.export() : secret(ikm, "ikm");
  const saltBytes = secret(salt, "salt");
  const infoBytes = secret(info, "info");
  if (infoBytes.length > 1024) {
    throw nodeError(
      RangeError,
      "ERR_OUT_OF_RANGE",
      `The value of "info" is out of range. It must be <= 1024 bytes. Received ${infoBytes.length}`,
    );
  }
  checkInteger("length", keylen, 0);
  const bytes = fromOp(guard(() => op_edge_node_hkdf(digest, key, saltBytes, infoBytes, keylen)));
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
}

export function hkdf(digest, ikm, salt, info, keylen, callback) {
  const key = hkdfSync(digest, ikm, salt, info, keylen);
  later(callback, () => [key]);
}

const SCRYPT_DEFAULTS = { N: 16384, r: 8, p: 1, maxmem: 32 << 20 };

function scryptParams(options = {}) {
  const pick = (a, b) => options[a] ?? options[b];
  const params = {
    n: pick("N", "cost") ?? SCRYPT_DEFAULTS.N,
    r: pick("r", "blockSize") ?? SCRYPT_DEFAULTS.r,
    p: pick("p", "parallelization") ?? SCRYPT_DEFAULTS.p,
    maxmem: options.maxmem ?? SCRYPT_DEFAULTS.maxmem,
  };
  for (const [name, value] of Object.entries(params)) {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw nodeError(RangeError, "ERR_CRYPTO_INVALID_SCRYPT_PARAMS", "Invalid scrypt params");
    }
    if (name !== "maxmem" && name !== "n" && value > 2 ** 32 - 1) {
      throw nodeError(RangeError, "ERR_CRYPTO_INVALID_SCRYPT_PARAMS", "Invalid scrypt params");
    }
  }
  return params;
}

export function scryptSync(password, salt, keylen, options) {
  const passwordBytes = secret(password, "password");
  const saltBytes = secret(salt, "salt");
  checkInteger("keylen", keylen, 0);
  const params = scryptParams(options);
  return fromOp(guard(() => op_edge_node_scrypt(passwordBytes, saltBytes, keylen, params)));
}

export function scrypt(password, salt, keylen, options, callback) {
  if (typeof options === "function") [options, callback] = [undefined, options];
  if (typeof callback !== "function") throw invalidArgType("callback", "of type function", callback);
  const key = scryptSync(password, salt, keylen, options);
  later(callback, () => [key]);
}

export const constants = CONSTANTS;

function notYet(name) {
  return () => {
    throw new Error(`crypto.${name} is not supported here yet`);
  };
}

export const createDiffieHellman = notYet("createDiffieHellman");
export const createDiffieHellmanGroup = notYet("createDiffieHellmanGroup");
export const getDiffieHellman = notYet("getDiffieHellman");
export const createECDH = notYet("createECDH");
export const diffieHellman = notYet("diffieHellman");

export class X509Certificate {
  constructor() {
    throw new Error("crypto.X509Certificate is not supported here yet");
  }
}

export default {
  Cipheriv,
  constants,
  createCipheriv,
  createDecipheriv,
  createDiffieHellman,
  createDiffieHellmanGroup,
  createECDH,
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  createSecretKey,
  createSign,
  createVerify,
  Decipheriv,
  diffieHellman,
  generateKey,
  generateKeyPair,
  generateKeyPairSync,
  generateKeySync,
  getCiphers,
  getCurves,
  getDiffieHellman,
  getFips,
  getHashes,
  getRandomValues,
  hash,
  Hash,
  hkdf,
  hkdfSync,
  Hmac,
  KeyObject,
  pbkdf2,
  pbkdf2Sync,
  privateDecrypt,
  privateEncrypt,
  publicDecrypt,
  publicEncrypt,
  randomBytes,
  randomFill,
  randomFillSync,
  randomInt,
  randomUUID,
  scrypt,
  scryptSync,
  sign,
  Sign,
  subtle,
  timingSafeEqual,
  verify,
  Verify,
  webcrypto,
  X509Certificate,
};

// node:crypto, first part: hashes and HMACs (synchronous, through the runtime's ops on
// RustCrypto), random values, timingSafeEqual, pbkdf2 and hkdf (asynchronous, through
// WebCrypto), and `webcrypto` itself. Ciphers, signatures and KeyObject come next; what is
// not here yet throws, naming itself.

import { op_edge_node_digest, op_edge_node_hmac } from "ext:core/ops";
import { Buffer } from "node:buffer";

const HASHES = ["md5", "sha1", "sha224", "sha256", "sha384", "sha512"];

function bytes(data, encoding, what) {
  if (typeof data === "string") return Buffer.from(data, encoding ?? "utf8");
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  if (data?.constructor?.name === "KeyObject" && data.type === "secret") return data.export();
  throw new TypeError(`The "${what}" argument must be of type string or an instance of Buffer, TypedArray, or DataView`);
}

function output(buffer, encoding) {
  return encoding === undefined || encoding === "buffer" ? buffer : buffer.toString(encoding);
}

class Digesting {
  #chunks = [];
  #done = false;

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

export class Hash extends Digesting {
  #algorithm;

  constructor(algorithm, _options) {
    super();
    op_edge_node_digest(String(algorithm), new Uint8Array(0));
    this.#algorithm = String(algorithm);
  }

  copy() {
    const copy = new Hash(this.#algorithm);
    for (const chunk of this.chunks()) copy.update(chunk);
    return copy;
  }

  digest(encoding) {
    return output(Buffer.from(op_edge_node_digest(this.#algorithm, this.finish())), encoding);
  }
}

export class Hmac extends Digesting {
  #algorithm;
  #key;

  constructor(algorithm, key, _options) {
    super();
    this.#key = bytes(key, undefined, "key");
    op_edge_node_hmac(String(algorithm), this.#key, new Uint8Array(0));
    this.#algorithm = String(algorithm);
  }

  digest(encoding) {
    return output(Buffer.from(op_edge_node_hmac(this.#algorithm, this.#key, this.finish())), encoding);
  }
}

export function createHash(algorithm, options) {
  return new Hash(algorithm, options);
}

export function createHmac(algorithm, key, options) {
  return new Hmac(algorithm, key, options);
}

/** One-shot digest (Node 21's crypto.hash): hex unless another encoding is asked for. */
export function hash(algorithm, data, outputEncoding = "hex") {
  return output(Buffer.from(op_edge_node_digest(String(algorithm), bytes(data, undefined, "data"))), outputEncoding);
}

export function getHashes() {
  return [...HASHES];
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
    throw new RangeError(`The value of "size" is out of range. It must be >= 0 && <= 2147483647. Received ${size}`);
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
    throw new RangeError(`The value of "max" is out of range. It must be greater than the value of "min" (${min}). Received ${max}`);
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

const WEB_HASH = { sha1: "SHA-1", sha256: "SHA-256", sha384: "SHA-384", sha512: "SHA-512" };

function webHash(digest) {
  const name = WEB_HASH[String(digest).toLowerCase().replace("-", "")];
  if (!name) throw new TypeError(`Invalid digest: ${digest}`);
  return name;
}

export function pbkdf2(password, salt, iterations, keylen, digest, callback) {
  const run = async () => {
    const key = await subtle.importKey("raw", bytes(password, undefined, "password"), "PBKDF2", false, ["deriveBits"]);
    const bits = await subtle.deriveBits(
      { name: "PBKDF2", hash: webHash(digest), salt: bytes(salt, undefined, "salt"), iterations },
      key,
      keylen * 8,
    );
    return Buffer.from(bits);
  };
  run().then((key) => callback(null, key), (error) => callback(error));
}

export function hkdf(digest, ikm, salt, info, keylen, callback) {
  const run = async () => {
    const key = await subtle.importKey("raw", bytes(ikm, undefined, "ikm"), "HKDF", false, ["deriveBits"]);
    const bits = await subtle.deriveBits(
      { name: "HKDF", hash: webHash(digest), salt: bytes(salt, undefined, "salt"), info: bytes(info, undefined, "info") },
      key,
      keylen * 8,
    );
    return bits;
  };
  run().then((key) => callback(null, key), (error) => callback(error));
}

function notYet(name) {
  return () => {
    throw new Error(`crypto.${name} is not supported here yet`);
  };
}

export const pbkdf2Sync = notYet("pbkdf2Sync");
export const hkdfSync = notYet("hkdfSync");
export const scrypt = notYet("scrypt");
export const scryptSync = notYet("scryptSync");
export const createCipheriv = notYet("createCipheriv");
export const createDecipheriv = notYet("createDecipheriv");
export const createSign = notYet("createSign");
export const createVerify = notYet("createVerify");
export const sign = notYet("sign");
export const verify = notYet("verify");
export const createSecretKey = notYet("createSecretKey");
export const createPublicKey = notYet("createPublicKey");
export const createPrivateKey = notYet("createPrivateKey");
export const generateKeyPair = notYet("generateKeyPair");
export const generateKeyPairSync = notYet("generateKeyPairSync");
export const constants = {};

export default {
  constants, createCipheriv, createDecipheriv, createHash, createHmac, createPrivateKey,
  createPublicKey, createSecretKey, createSign, createVerify, generateKeyPair,
  generateKeyPairSync, getHashes, getRandomValues, hash, Hash, hkdf, hkdfSync, Hmac, pbkdf2,
  pbkdf2Sync, randomBytes, randomFill, randomFillSync, randomInt, randomUUID, scrypt,
  scryptSync, sign, subtle, timingSafeEqual, verify, webcrypto,
};

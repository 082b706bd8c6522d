// node:internal/crypto/cipher: createCipheriv / createDecipheriv (AES-CBC, -ECB, -CTR, -GCM)
// and getCiphers. The cipher itself is an object of the runtime's ops
// (op_edge_node_cipher_*, runtime/src/node_ops/crypto/cipher.rs) that keeps its state across
// `update` calls; this side gives it Node's API: encodings, the order of calls, the tag.
// Unlike Node's, these objects are not streams (no pipe/write): update and final only.

import {
  op_edge_node_cipher_final,
  op_edge_node_cipher_new,
  op_edge_node_cipher_set,
  op_edge_node_cipher_update,
} from "ext:core/ops";
import { Buffer } from "node:buffer";
import { KeyObject } from "node:internal/crypto/keys";
import { callable, fromOp, guard, invalidArgType, nodeError, toBuffer } from "node:internal/crypto/util";
import { StringDecoder } from "node:string_decoder";

const CIPHERS = [
  "aes-128-cbc",
  "aes-128-ctr",
  "aes-128-ecb",
  "aes-128-gcm",
  "aes-192-cbc",
  "aes-192-ctr",
  "aes-192-ecb",
  "aes-192-gcm",
  "aes-256-cbc",
  "aes-256-ctr",
  "aes-256-ecb",
  "aes-256-gcm",
  "aes128",
  "aes192",
  "aes256",
  "id-aes128-GCM",
  "id-aes192-GCM",
  "id-aes256-GCM",
];

export function getCiphers() {
  return [...CIPHERS];
}

const KEY_TYPES =
  "of type string or an instance of ArrayBuffer, Buffer, TypedArray, DataView, KeyObject, or CryptoKey";

function secretBytes(key, encoding) {
  if (key instanceof globalThis.CryptoKey) key = KeyObject.from(key);
  if (key instanceof KeyObject) {
    if (key.type !== "secret") {
      throw nodeError(
        TypeError,
        "ERR_CRYPTO_INVALID_KEY_OBJECT_TYPE",
        `Invalid key object type ${key.type}, expected secret.`,
      );
    }
    return key.export();
  }
  return toBuffer(key, encoding, "key", KEY_TYPES);
}

// The parts of a cipher its two subclasses use, out of the worker's sight.
const kTag = Symbol("tag");
const kSetTag = Symbol("setTag");

function invalidState(operation) {
  return nodeError(Error, "ERR_CRYPTO_INVALID_STATE", `Invalid state for operation ${operation}`);
}

class CipherBase {
  #cipher;
  #decoder;
  #finished = false;
  #decrypt;
  /** GCM's tag length (authTagLength, 16 by default), 0 for the other modes. */
  #tagLength;

  constructor(name, key, iv, options, decrypt) {
    if (typeof name !== "string") throw invalidArgType("cipher", "of type string", name);
    const keyBytes = secretBytes(key, options?.encoding);
    const ivBytes =
      iv === null || iv === undefined
        ? Buffer.alloc(0)
        : toBuffer(
            iv,
            options?.encoding,
            "iv",
            "of type string or an instance of Buffer, TypedArray, or DataView",
          );
    const tagLength = options?.authTagLength;
    if (tagLength !== undefined && (!Number.isInteger(tagLength) || tagLength < 0)) {
      throw nodeError(
        TypeError,
        "ERR_CRYPTO_INVALID_AUTH_TAG",
        `Invalid authentication tag length: ${tagLength}`,
      );
    }
    this.#cipher = guard(() => op_edge_node_cipher_new(name, keyBytes, ivBytes, decrypt, tagLength ?? 0));
    this.#tagLength = /gcm$/i.test(name) ? (tagLength ?? 16) : 0;
    this.#decrypt = decrypt;
  }

  #output(bytes, encoding) {
    const buffer = fromOp(bytes);
    if (encoding === undefined || encoding === null || encoding === "buffer") return buffer;
    this.#decoder ??= new StringDecoder(encoding);
    return this.#decoder.write(buffer);
  }

  update(data, inputEncoding, outputEncoding) {
    if (this.#finished) throw new Error("Trying to add data in unsupported state");
    const bytes = toBuffer(data, inputEncoding);
    return this.#output(
      guard(() => op_edge_node_cipher_update(this.#cipher, bytes)),
      outputEncoding,
    );
  }

  final(outputEncoding) {
    if (this.#finished) throw nodeError(Error, "ERR_CRYPTO_INVALID_STATE", "Invalid state");
    this.#finished = true;
    let out = fromOp(guard(() => op_edge_node_cipher_final(this.#cipher)));
    if (this.#tagLength && !this.#decrypt) {
      this[kTag] = Buffer.from(out.subarray(out.length - this.#tagLength));
      out = out.subarray(0, out.length - this.#tagLength);
    }
    if (outputEncoding === undefined || outputEncoding === null || outputEncoding === "buffer") return out;
    this.#decoder ??= new StringDecoder(outputEncoding);
    return this.#decoder.end(out);
  }

  setAutoPadding(autoPadding = true) {
    if (this.#finished) throw invalidState("setAutoPadding");
    op_edge_node_cipher_set(this.#cipher, "autoPadding", new Uint8Array([autoPadding ? 1 : 0]));
    return this;
  }

  setAAD(buffer, _options) {
    if (this.#finished) throw invalidState("setAAD");
    const bytes = toBuffer(buffer, undefined, "buffer");
    guard(() => op_edge_node_cipher_set(this.#cipher, "aad", bytes));
    return this;
  }

  [kSetTag](tag, encoding) {
    if (this.#finished) throw invalidState("setAuthTag");
    const bytes = toBuffer(tag, encoding, "buffer");
    guard(() => op_edge_node_cipher_set(this.#cipher, "authTag", bytes));
    return this;
  }
}

class CipherivClass extends CipherBase {
  constructor(cipher, key, iv, options) {
    super(cipher, key, iv, options, false);
  }

  getAuthTag() {
    if (this[kTag] === undefined) throw invalidState("getAuthTag");
    return this[kTag];
  }
}

class DecipherivClass extends CipherBase {
  constructor(cipher, key, iv, options) {
    super(cipher, key, iv, options, true);
  }

  setAuthTag(tagbuf, encoding) {
    return this[kSetTag](tagbuf, encoding);
  }
}

export const Cipheriv = callable(CipherivClass, "Cipheriv");
export const Decipheriv = callable(DecipherivClass, "Decipheriv");

export function createCipheriv(cipher, key, iv, options) {
  return new Cipheriv(cipher, key, iv, options);
}

export function createDecipheriv(cipher, key, iv, options) {
  return new Decipheriv(cipher, key, iv, options);
}

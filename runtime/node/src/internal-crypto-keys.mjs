// node:internal/crypto/keys: KeyObject and what makes keys. createSecretKey, createPublicKey,
// createPrivateKey, generateKeyPair(Sync), generateKey(Sync), and `prepareKey`, which takes a
// key in any form Node accepts where a key is asked for (PEM, DER, JWK, KeyObject, CryptoKey,
// `{ key, passphrase, ... }`).
//
// An asymmetric KeyObject holds its key as DER (PKCS#8 if private, SPKI if public), which
// the runtime's ops read and write (op_edge_node_key_*, runtime/src/node_ops/crypto/keys.rs);
// a secret one holds its bytes.

import { op_edge_node_key_export, op_edge_node_key_generate, op_edge_node_key_import } from "ext:core/ops";
import { Buffer } from "node:buffer";
import {
  fromOp,
  guard,
  invalidArgType,
  invalidArgValue,
  later,
  nodeError,
  toBuffer,
} from "node:internal/crypto/util";

const KEY_DATA = "of type string or an instance of ArrayBuffer, Buffer, TypedArray, or DataView";
const SECRET_DATA = "an instance of ArrayBuffer, Buffer, TypedArray, or DataView";
const ANY_KEY =
  "of type string or an instance of ArrayBuffer, Buffer, TypedArray, DataView, KeyObject, or CryptoKey";

// What a KeyObject holds, out of reach of the worker's code.
const material = new WeakMap();
let constructing = false;

export class KeyObject {
  constructor(type, handle) {
    if (!constructing) throw invalidArgType("handle", "of type object", handle);
    constructing = false;
    material.set(this, { type, ...handle });
  }

  /** The KeyObject of a WebCrypto key. */
  static from(key) {
    if (!(key instanceof globalThis.CryptoKey)) throw invalidArgType("key", "an instance of CryptoKey", key);
    const { type, data } = globalThis.CryptoKey.exportNodeMaterial(key);
    if (type === "secret") return createSecretKey(data);
    return importKey(type, {
      key: Buffer.from(data),
      format: "der",
      type: type === "private" ? "pkcs8" : "spki",
    });
  }

  get type() {
    return material.get(this).type;
  }

  equals(otherKeyObject) {
    if (!(otherKeyObject instanceof KeyObject)) {
      throw invalidArgType("otherKeyObject", "an instance of KeyObject", otherKeyObject);
    }
    const mine = material.get(this);
    const theirs = material.get(otherKeyObject);
    return mine.type === theirs.type && Buffer.compare(mine.bytes, theirs.bytes) === 0;
  }

  get [Symbol.toStringTag]() {
    return "KeyObject";
  }
}

export class SecretKeyObject extends KeyObject {
  get symmetricKeySize() {
    return material.get(this).bytes.length;
  }

  export(options) {
    const { bytes } = material.get(this);
    if (options !== undefined && (options === null || typeof options !== "object")) {
      throw invalidArgType("options", "of type object", options);
    }
    if (options?.format === "jwk") return { kty: "oct", k: bytes.toString("base64url") };
    if (options?.format !== undefined && options.format !== "buffer") {
      throw nodeError(
        TypeError,
        "ERR_INVALID_ARG_VALUE",
        `The property 'options.format' must be one of: undefined, 'buffer', 'jwk'. Received '${options.format}'`,
      );
    }
    return Buffer.from(bytes);
  }
}

// Node's member order of JWKs, per key type.
const JWK_ORDER = {
  RSA: ["kty", "n", "e", "d", "p", "q", "dp", "dq", "qi"],
  EC: ["kty", "x", "y", "crv", "d"],
  OKP: ["crv", "d", "x", "kty"],
};

class AsymmetricKeyObject extends KeyObject {
  get asymmetricKeyType() {
    return material.get(this).asymmetricKeyType;
  }

  get asymmetricKeyDetails() {
    const { asymmetricKeyType, modulusLength, publicExponent, namedCurve } = material.get(this);
    switch (asymmetricKeyType) {
      case "rsa":
        return { modulusLength, publicExponent: BigInt(publicExponent) };
      case "ec":
        return { namedCurve };
      default:
        return {};
    }
  }

  export(options) {
    if (options === null || typeof options !== "object")
      throw invalidArgType("options", "of type object", options);
    const { type, bytes } = material.get(this);
    const format = options.format ?? "pem";
    if (format !== "jwk" && typeof options.type !== "string") {
      throw invalidArgValue("options.type", options.type);
    }
    const passphrase =
      options.passphrase === undefined
        ? undefined
        : toBuffer(options.passphrase, "utf8", "options.passphrase");
    const out = guard(() =>
      op_edge_node_key_export(type === "private", bytes, {
        format,
        type: options.type,
        cipher: options.cipher,
        passphrase,
      }),
    );
    if (typeof out === "string") return out;
    if (ArrayBuffer.isView(out)) return fromOp(out);
    const jwk = {};
    for (const name of JWK_ORDER[out.kty]) if (out[name] !== undefined) jwk[name] = out[name];
    return jwk;
  }
}

export class PublicKeyObject extends AsymmetricKeyObject {}
export class PrivateKeyObject extends AsymmetricKeyObject {}

function makeKey(Class, type, handle) {
  constructing = true;
  return new Class(type, handle);
}

/** The KeyObject of an op's key description (runtime/src/node_ops/crypto/keys.rs). */
function fromDescription(description) {
  const { type, der, ...rest } = description;
  return makeKey(type === "private" ? PrivateKeyObject : PublicKeyObject, type, {
    bytes: fromOp(der),
    ...rest,
  });
}

/** A key's DER in its normal form: for the other parts of node:crypto. */
export function keyBytes(key) {
  return material.get(key).bytes;
}

/**
 * Reads `input` (a string or bytes: PEM, or DER with `type`; or a JWK with format "jwk") as a
 * private key (`want` "private") or a public key (`want` "public", which also takes a
 * private key and gives its public half).
 */
function importKey(want, { key, format = "pem", type, passphrase, encoding }) {
  if (format === "jwk") {
    if (key === null || typeof key !== "object") throw invalidArgType("key.key", "of type object", key);
    if (want === "private" && ["RSA", "EC", "OKP"].includes(key.kty) && typeof key.d !== "string") {
      throw invalidArgType("key.d", "of type string", key.d);
    }
    return fromDescription(
      guard(() => op_edge_node_key_import({ want, format, jwk: key }, new Uint8Array(0))),
    );
  }
  if (format !== "pem" && format !== "der") {
    throw nodeError(
      TypeError,
      "ERR_INVALID_ARG_VALUE",
      `The property 'key.format' is invalid. Received '${format}'`,
    );
  }
  const data = toBuffer(key, encoding, "key", KEY_DATA);
  if (format === "der" && typeof type !== "string") {
    throw invalidArgValue("options.type", type);
  }
  const secret =
    passphrase === undefined || passphrase === null ? undefined : toBuffer(passphrase, "utf8", "passphrase");
  return fromDescription(
    guard(() => op_edge_node_key_import({ want, format, type, passphrase: secret }, data)),
  );
}

function isKeyData(key) {
  return typeof key === "string" || ArrayBuffer.isView(key) || key instanceof ArrayBuffer;
}

/** `{ key, ...options }` of a key given alone or with options (undefined for neither). */
function keyOptions(key) {
  if (isKeyData(key)) return { key };
  if (
    key !== null &&
    typeof key === "object" &&
    !(key instanceof KeyObject) &&
    !(key instanceof globalThis.CryptoKey)
  ) {
    if (key.key === undefined) throw invalidArgType("key.key", ANY_KEY, undefined);
    return key;
  }
  return undefined;
}

export function createPrivateKey(key) {
  const options = keyOptions(key);
  if (!options) throw invalidArgType("key", KEY_DATA, key);
  if (options.format !== "jwk" && !isKeyData(options.key)) {
    throw invalidArgType(options === key ? "key.key" : "key", KEY_DATA, options.key);
  }
  return importKey("private", options);
}

export function createPublicKey(key) {
  if (key instanceof globalThis.CryptoKey) key = KeyObject.from(key);
  if (key instanceof KeyObject) return publicOf(key);
  const options = keyOptions(key);
  if (!options) throw invalidArgType("key", ANY_KEY, key);
  if (options.key instanceof KeyObject) return publicOf(options.key);
  if (options.key instanceof globalThis.CryptoKey) return publicOf(KeyObject.from(options.key));
  return importKey("public", options);
}

function publicOf(key) {
  if (key.type === "public") return key;
  if (key.type !== "private") {
    throw nodeError(
      TypeError,
      "ERR_CRYPTO_INVALID_KEY_OBJECT_TYPE",
      `Invalid key object type ${key.type}, expected private.`,
    );
  }
  return importKey("public", { key: keyBytes(key), format: "der", type: "pkcs8" });
}

export function createSecretKey(key, encoding) {
  const bytes =
    typeof key === "string"
      ? Buffer.from(key, encoding ?? "utf8")
      : toBuffer(key, undefined, "key", SECRET_DATA);
  return makeKey(SecretKeyObject, "secret", { bytes: Buffer.from(bytes) });
}

/**
 * The KeyObject `key` names (any form Node takes where a key is asked for), and the options
 * given with it. `want` is "private" (signing, decrypting) or "public" (verifying,
 * encrypting: a private key gives its public half).
 */
export function prepareKey(key, want) {
  let options = {};
  if (!(key instanceof KeyObject) && !(key instanceof globalThis.CryptoKey)) {
    options = keyOptions(key);
    if (!options) throw invalidArgType("key", ANY_KEY, key);
    key = options.key;
  }
  if (key instanceof globalThis.CryptoKey) key = KeyObject.from(key);
  if (key instanceof KeyObject) {
    const allowed = want === "private" ? ["private"] : ["private", "public"];
    if (!allowed.includes(key.type)) {
      const expected = want === "private" ? "private" : "private or public";
      throw nodeError(
        TypeError,
        "ERR_CRYPTO_INVALID_KEY_OBJECT_TYPE",
        `Invalid key object type ${key.type}, expected ${expected}.`,
      );
    }
    return { key, options };
  }
  if (!isKeyData(key) && options.format !== "jwk") throw invalidArgType("key.key", ANY_KEY, key);
  return { key: importKey(want, { ...options, key }), options };
}

function encodeKey(key, encoding) {
  return encoding === undefined ? key : key.export(encoding);
}

export function generateKeyPairSync(type, options = {}) {
  if (type === "rsa" && typeof options.modulusLength !== "number") {
    throw invalidArgType("options.modulusLength", "of type number", options.modulusLength);
  }
  if (type === "ec" && typeof options.namedCurve !== "string") {
    throw invalidArgType("options.namedCurve", "of type string", options.namedCurve);
  }
  if (!["rsa", "ec", "ed25519"].includes(type)) {
    throw invalidArgValue("type", type, "must be a supported key type");
  }
  const { modulusLength, publicExponent, namedCurve, publicKeyEncoding, privateKeyEncoding } = options;
  const privateKey = fromDescription(
    guard(() => op_edge_node_key_generate(type, { modulusLength, publicExponent, namedCurve })),
  );
  const publicKey = publicOf(privateKey);
  return {
    publicKey: encodeKey(publicKey, publicKeyEncoding),
    privateKey: encodeKey(privateKey, privateKeyEncoding),
  };
}

export function generateKeyPair(type, options, callback) {
  if (typeof options === "function") [options, callback] = [undefined, options];
  later(callback, () => {
    const { publicKey, privateKey } = generateKeyPairSync(type, options);
    return [publicKey, privateKey];
  });
}

export function generateKeySync(type, options) {
  const length = options?.length;
  if (type !== "hmac" && type !== "aes") {
    throw nodeError(
      TypeError,
      "ERR_INVALID_ARG_VALUE",
      `The argument 'type' must be one of: 'hmac', 'aes'. Received '${type}'`,
    );
  }
  if (type === "aes" && ![128, 192, 256].includes(length)) {
    throw nodeError(
      TypeError,
      "ERR_INVALID_ARG_VALUE",
      `The property 'options.length' must be one of: 128, 192, 256. Received ${length}`,
    );
  }
  if (!Number.isInteger(length) || length < 8 || length > 2 ** 31 - 1) {
    throw nodeError(
      RangeError,
      "ERR_OUT_OF_RANGE",
      `The value of "options.length" is out of range. It must be >= 8 && <= 2147483647. Received ${length}`,
    );
  }
  const bytes = Buffer.alloc(length >> 3);
  globalThis.crypto.getRandomValues(bytes);
  return createSecretKey(bytes);
}

export function generateKey(type, options, callback) {
  later(callback, () => [generateKeySync(type, options)]);
}

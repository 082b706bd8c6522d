// node:internal/crypto/sig: signatures (createSign, createVerify, sign, verify) and RSA
// encryption (publicEncrypt, privateDecrypt, privateEncrypt, publicDecrypt), over the runtime's
// ops (op_edge_node_sign / _verify / _rsa_crypt, runtime/src/node_ops/crypto/sign.rs).
// RSA PKCS#1 v1.5 and PSS, ECDSA (P-256, P-384, P-521; DER or IEEE P1363 signatures) and
// Ed25519. Like the Hash objects, Sign and Verify gather their data until the end and are not
// streams.

import { op_edge_node_rsa_crypt, op_edge_node_sign, op_edge_node_verify } from "ext:core/ops";
import { Buffer } from "node:buffer";
import { keyBytes, prepareKey } from "node:internal/crypto/keys";
import {
  callable,
  digestName,
  encode,
  fromOp,
  guard,
  invalidArgType,
  later,
  nodeError,
  toBuffer,
} from "node:internal/crypto/util";

/** The options of a signature with `key` (the object a key came in, if any). */
function signOptions(digest, options) {
  const { padding, saltLength, dsaEncoding } = options;
  if (dsaEncoding !== undefined && dsaEncoding !== "der" && dsaEncoding !== "ieee-p1363") {
    throw nodeError(
      TypeError,
      "ERR_INVALID_ARG_VALUE",
      `The property 'options.dsaEncoding' is invalid. Received '${dsaEncoding}'`,
    );
  }
  for (const [name, value] of [
    ["padding", padding],
    ["saltLength", saltLength],
  ]) {
    if (value !== undefined && !Number.isInteger(value)) {
      throw nodeError(
        TypeError,
        "ERR_INVALID_ARG_VALUE",
        `The property 'options.${name}' is invalid. Received ${String(value)}`,
      );
    }
  }
  return { digest, padding, saltLength, dsaEncoding };
}

/** The digest `algorithm` names, checked; undefined for null (each key type's own default). */
function digestOf(algorithm) {
  if (algorithm === null || algorithm === undefined) return undefined;
  const name = digestName(algorithm);
  if (!name) throw nodeError(TypeError, "ERR_CRYPTO_INVALID_DIGEST", "Invalid digest");
  return name;
}

function unsupportedForEd25519(key) {
  if (key.asymmetricKeyType === "ed25519") {
    throw nodeError(Error, "ERR_CRYPTO_UNSUPPORTED_OPERATION", "Unsupported crypto operation");
  }
}

/** The signature of `data` with a prepared key (`prepareKey`'s `{ key, options }`). */
function signWith(digest, data, { key, options }) {
  return fromOp(guard(() => op_edge_node_sign(keyBytes(key), data, signOptions(digest, options))));
}

function verifyWith(digest, data, { key, options }, signature) {
  return guard(() =>
    op_edge_node_verify(key.type === "private", keyBytes(key), data, signature, signOptions(digest, options)),
  );
}

/** What Sign and Verify share: the digest, and the data gathered so far. */
class Gathering {
  #digest;
  #chunks = [];

  constructor(algorithm, _options) {
    if (typeof algorithm !== "string") throw invalidArgType("algorithm", "of type string", algorithm);
    this.#digest = digestOf(algorithm);
  }

  update(data, inputEncoding) {
    this.#chunks.push(toBuffer(data, inputEncoding));
    return this;
  }

  /** The digest's name and the data gathered. */
  gathered() {
    return [this.#digest, this.#chunks.length === 1 ? this.#chunks[0] : Buffer.concat(this.#chunks)];
  }
}

class SignClass extends Gathering {
  sign(privateKey, outputEncoding) {
    if (privateKey === null || privateKey === undefined) {
      throw nodeError(Error, "ERR_CRYPTO_SIGN_KEY_REQUIRED", "No key provided to sign");
    }
    const prepared = prepareKey(privateKey, "private");
    unsupportedForEd25519(prepared.key);
    const [digest, data] = this.gathered();
    return encode(signWith(digest, data, prepared), outputEncoding);
  }
}

class VerifyClass extends Gathering {
  verify(object, signature, signatureEncoding) {
    const prepared = prepareKey(object, "public");
    unsupportedForEd25519(prepared.key);
    const [digest, data] = this.gathered();
    return verifyWith(digest, data, prepared, toBuffer(signature, signatureEncoding, "signature"));
  }
}

export const Sign = callable(SignClass, "Sign");
export const Verify = callable(VerifyClass, "Verify");

export function createSign(algorithm, options) {
  return new Sign(algorithm, options);
}

export function createVerify(algorithm, options) {
  return new Verify(algorithm, options);
}

/** One-shot signature (`algorithm` null for Ed25519, or each key type's default). */
export function sign(algorithm, data, key, callback) {
  const run = () =>
    signWith(digestOf(algorithm), toBuffer(data, undefined, "data"), prepareKey(key, "private"));
  if (callback === undefined) return run();
  later(callback, () => [run()]);
}

export function verify(algorithm, data, key, signature, callback) {
  const run = () =>
    verifyWith(
      digestOf(algorithm),
      toBuffer(data, undefined, "data"),
      prepareKey(key, "public"),
      toBuffer(signature, undefined, "signature"),
    );
  if (callback === undefined) return run();
  later(callback, () => [run()]);
}

function rsaCrypt(operation, want, key, buffer) {
  const prepared = prepareKey(key, want);
  const { padding, oaepHash, oaepLabel } = prepared.options;
  if (oaepHash !== undefined && typeof oaepHash !== "string") {
    throw invalidArgType("key.oaepHash", "of type string", oaepHash);
  }
  const label = oaepLabel === undefined ? undefined : toBuffer(oaepLabel, undefined, "key.oaepLabel");
  const data = toBuffer(buffer, undefined, "buffer");
  const isPrivate = prepared.key.type === "private";
  return fromOp(
    guard(() =>
      op_edge_node_rsa_crypt(operation, isPrivate, keyBytes(prepared.key), data, {
        padding,
        oaepHash,
        oaepLabel: label,
      }),
    ),
  );
}

export function publicEncrypt(key, buffer) {
  return rsaCrypt("publicEncrypt", "public", key, buffer);
}

export function publicDecrypt(key, buffer) {
  return rsaCrypt("publicDecrypt", "public", key, buffer);
}

export function privateEncrypt(key, buffer) {
  return rsaCrypt("privateEncrypt", "private", key, buffer);
}

export function privateDecrypt(key, buffer) {
  return rsaCrypt("privateDecrypt", "private", key, buffer);
}

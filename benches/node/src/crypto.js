// node:crypto hashes and HMACs: md5, sha1, the sha2 family, one and several updates, inputs in
// several encodings, every digest encoding, copy(), keys shorter and longer than a block, and the
// errors of a finished hash or an unknown algorithm.

import * as crypto from "node:crypto";
import { Buffer } from "node:buffer";
import { run } from "./report.js";

const algorithms = ["md5", "sha1", "sha224", "sha256", "sha384", "sha512"];
const digestEncodings = ["hex", "base64", "base64url", "latin1", "binary"];
const message = "The quick brown fox jumps over the lazy dog ✓";
const big = "a".repeat(100_000);

function each(f) {
  return Object.fromEntries(algorithms.map((a) => [a, f(a)]));
}

export function cryptoChecks() {
  return run({
    hashEmpty: () => each((a) => crypto.createHash(a).digest("hex")),
    hashOneUpdate: () => each((a) => crypto.createHash(a).update(message).digest("hex")),
    hashManyUpdates: () =>
      each((a) => {
        const hash = crypto.createHash(a);
        for (const part of message.split(" ")) hash.update(part).update(" ");
        return hash.digest("hex");
      }),
    hashBig: () => each((a) => crypto.createHash(a).update(big).digest("base64")),
    hashInputs: () =>
      each((a) => [
        crypto.createHash(a).update("68656c6c6f", "hex").digest("hex"),
        crypto.createHash(a).update("aGVsbG8=", "base64").digest("hex"),
        crypto.createHash(a).update("héllo", "latin1").digest("hex"),
        crypto.createHash(a).update(Buffer.from("hello")).digest("hex"),
        crypto.createHash(a).update(new Uint8Array([104, 101, 108, 108, 111])).digest("hex"),
        crypto.createHash(a).update(new DataView(new Uint8Array([104, 105]).buffer)).digest("hex"),
      ]),
    digestEncodings: () =>
      Object.fromEntries(digestEncodings.map((e) => [e, crypto.createHash("sha256").update(message).digest(e)])),
    digestBuffer: () => {
      const digest = crypto.createHash("sha1").update(message).digest();
      return [Buffer.isBuffer(digest), digest.length, digest.toString("hex")];
    },
    algorithmCase: () => [crypto.createHash("SHA256").update("x").digest("hex"), crypto.createHash("RSA-SHA256").update("x").digest("hex")],
    copy: () => {
      const hash = crypto.createHash("sha256").update("part one ");
      const copy = hash.copy();
      hash.update("A");
      copy.update("B");
      return [hash.digest("hex"), copy.digest("hex")];
    },
    digestTwice: () => {
      const hash = crypto.createHash("md5").update("x");
      hash.digest();
      return hash.digest("hex");
    },
    updateAfterDigest: () => {
      const hash = crypto.createHash("md5");
      hash.digest();
      return hash.update("x");
    },
    unknownAlgorithm: () => crypto.createHash("sha999"),
    hmac: () => each((a) => crypto.createHmac(a, "secret").update(message).digest("hex")),
    hmacKeys: () =>
      each((a) => [
        crypto.createHmac(a, "").update(message).digest("hex"),
        crypto.createHmac(a, Buffer.alloc(200, 7)).update(message).digest("base64"),
        crypto.createHmac(a, new Uint8Array([1, 2, 3])).update("x").digest("base64url"),
        crypto.createHmac(a, crypto.createSecretKey(Buffer.from("kk"))).update("x").digest("hex"),
      ]),
    hmacManyUpdates: () =>
      each((a) => {
        const hmac = crypto.createHmac(a, "key");
        for (let i = 0; i < 10; i += 1) hmac.update(String(i)).update(Buffer.from([i]));
        return hmac.digest("latin1");
      }),
    hmacDigestTwice: () => {
      const hmac = crypto.createHmac("sha256", "k");
      hmac.digest();
      return hmac.digest("hex");
    },
    hashAsStream: () =>
      new Promise((resolve, reject) => {
        const hash = crypto.createHash("sha256");
        hash.on("readable", () => {
          const data = hash.read();
          if (data) resolve(data.toString("hex"));
        });
        hash.on("error", reject);
        hash.write("streamed ");
        hash.end("input");
      }),
    hmacAsStream: () =>
      new Promise((resolve, reject) => {
        const hmac = crypto.createHmac("sha512", "key");
        hmac.setEncoding("hex");
        let out = "";
        hmac.on("data", (chunk) => (out += chunk));
        hmac.on("end", () => resolve(out));
        hmac.on("error", reject);
        hmac.end("streamed input");
      }),
    oneShotHash: () => [crypto.hash?.("sha1", "abc"), crypto.hash?.("md5", "abc", "base64")],
    hashesListed: () => algorithms.map((a) => crypto.getHashes().includes(a)),
    timingSafeEqual: () => [crypto.timingSafeEqual(Buffer.from("abc"), Buffer.from("abc")),
      crypto.timingSafeEqual(Buffer.from("abc"), Buffer.from("abd"))],
    timingSafeEqualLengths: () => crypto.timingSafeEqual(Buffer.from("a"), Buffer.from("ab")),
    webcryptoSame: async () => {
      const digest = await crypto.webcrypto.subtle.digest("SHA-256", new TextEncoder().encode(message));
      return Buffer.from(digest).toString("hex") === crypto.createHash("sha256").update(message).digest("hex");
    },
    pbkdf2Sync: () => crypto.pbkdf2Sync("password", "salt", 1000, 32, "sha256").toString("hex"),
  });
}

//! `node:crypto` in a worker: hashes and HMACs, ciphers, keys, signatures, RSA encryption, key
//! derivation and key generation.
//!
//! Each worker below runs a table of cases and answers, per case, its result (bytes as hex) or
//! its error's name, `code` and message. The expected values are Node.js 20's answers to the
//! very same worker source (`PRELUDE`, `KEYS` and the cases, run as an ES module under `node`,
//! whose `fetch` gives the same JSON). ECDSA, PSS and OAEP are randomized, so for them a worker
//! checks round trips and what Node made; RSA PKCS#1 v1.5 and Ed25519 signatures are compared
//! as they are. Long outputs are compared by a prefix of their SHA-256 (`short`).

// serde_json's json! recurses once per member, and the tables below are long.
#![recursion_limit = "256"]

use edge_tests::*;

/// node:crypto's hashes, HMACs, random values and pbkdf2.
const CRYPTO_WORKER: &str = r#"import crypto, { createHash, createHmac, randomBytes, randomUUID, randomInt, timingSafeEqual, pbkdf2, webcrypto } from "node:crypto";

export default {
  async fetch() {
    const out = {};
    out.md5 = createHash("md5").update("abc").digest("hex");
    out.sha1 = createHash("sha1").update("a").update(Buffer.from("bc")).digest("base64");
    out.sha256 = createHash("sha256").update("hello").digest("hex");
    out.sha512 = createHash("SHA512").update("").digest("base64url");
    out.hmac = createHmac("sha256", "key").update("The quick brown fox jumps over the lazy dog").digest("hex");
    out.copy = (() => { const h = createHash("sha256").update("ab"); const c = h.copy(); c.update("c"); return [h.digest("hex").slice(0, 8), c.digest("hex").slice(0, 8)]; })();
    out.oneshot = crypto.hash("sha1", "abc");
    try { createHash("whirlpool"); } catch (e) { out.unsupported = e.message; }
    try { const h = createHash("md5"); h.digest(); h.digest(); } catch (e) { out.twice = e.code; }
    out.random = [randomBytes(16).length, randomUUID().length, (() => { const n = randomInt(10, 20); return n >= 10 && n < 20; })()];
    out.safe = [timingSafeEqual(Buffer.from("ab"), Buffer.from("ab")), timingSafeEqual(Buffer.from("ab"), Buffer.from("ac"))];
    out.pbkdf2 = await new Promise((r) => pbkdf2("password", "salt", 1, 20, "sha1", (e, k) => r(e ? e.message : k.toString("hex"))));
    out.webcrypto = webcrypto === globalThis.crypto;
    // A Hash is a stream too, and a second digest of an Hmac is empty.
    out.piped = await new Promise((resolve) => {
      const hash = createHash("sha256");
      hash.setEncoding("hex");
      let text = "";
      hash.on("data", (d) => (text += d));
      hash.on("end", () => resolve(text));
      hash.write("hel");
      hash.end("lo");
    });
    out.hmacTwice = (() => { const h = createHmac("sha1", "k").update("x"); h.digest(); return h.digest("hex"); })();
    return Response.json(out);
  },
};
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crypto_hashes_and_hmacs_answer_as_node_does() {
  let out = node_answer("crypto", CRYPTO_WORKER).await;
  // What Node.js 20 gives for the same calls.
  assert_eq!(
    out,
    serde_json::json!({
      "md5": "900150983cd24fb0d6963f7d28e17f72",
      "sha1": "qZk+NkcGgWq6PiVxeFDCbJzQ2J0=",
      "sha256": "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",
      "sha512": "z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg_SpIdNs6c5H0NE8XYXysP-DGNKHfuwvY7kxvUdBeoGlODJ6-SfaPg",
      "hmac": "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8",
      "copy": ["fb8e20fc", "ba7816bf"],
      "oneshot": "a9993e364706816aba3e25717850c26c9cd0d89d",
      "unsupported": "Digest method not supported",
      "twice": "ERR_CRYPTO_HASH_FINALIZED",
      "random": [16, 36, true],
      "safe": [true, false],
      "pbkdf2": "0c60c80f961f0e71f3a9b524af6012062fe037a6",
      "webcrypto": true,
      "piped": "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",
      "hmacTwice": "",
    })
  );
}

/// What the workers below share: the answering loop, `short`, and a fixed key and IVs.
const PRELUDE: &str = r##"import crypto from "node:crypto";
import { Buffer } from "node:buffer";

/** Each case's answer (bytes as hex) or its error's name, code and message. */
async function answers(cases) {
  const out = {};
  for (const [name, run] of Object.entries(cases)) {
    try {
      const value = await run();
      out[name] = Buffer.isBuffer(value) ? value.toString("hex") : value;
    } catch (e) {
      out[name] = `${e.name} ${e.code} ${e.message}`;
    }
  }
  return out;
}
const short = (text) => crypto.createHash("sha256").update(text).digest("hex").slice(0, 16);
const key = Buffer.alloc(32, 1), iv12 = Buffer.alloc(12, 2), iv16 = Buffer.alloc(16, 3);
"##;

/// Keys made by Node 20 (`generateKeyPairSync`, exported as PEM), and what Node 20 made with
/// them: an ECDSA and a PSS signature of "x", and an OAEP encryption of "made by node".
const KEYS: &str = r##"const K = {
  rsaPriv: `-----BEGIN PRIVATE KEY-----
MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQDq3V46XAs8JUDl
x3PsZk9hPrBF1jfaoAcVls9qWi6xD/w2wIizZ0EnhR/u7D1dZz9L/LYgvKxx2EYG
ile/YwtRXJKdP+ojRr22nlay1cfbZj2aztIf/UzTCsldx9andAjN2rFgL8z18Eb3
tpTm12VnAmCeVq90mrHuykqVBt6T8fYjLQqFqpbPLfkSVQ8lpeJac6k+xv1FxE5K
2RlFRq/Ei6+DR3drWk2nF7/Ow2qrYzoYU6oYdhALyK+NrcTN7fqQ8El5LVSHgCW/
Hvjaoe01CEzn/WFKuxc+2id13NoCjHYQBtVsHfvCuHIq8shY35AdCeN241OivGZe
Mq0NuXuPAgMBAAECggEAO0/dOIK/KZjE22Jz0YsC1+2TaYeQQmtwbpDP361XpkqB
qLgVrazRRPA3IMjTNG/bCc8PlZPgPr3d7U/pmgEivhDRS9n0wKTgSyqQfYhEeRFI
VHyPjxmSWaebM85AVLiWcpocekyIB8H+whb/Yo6Z4po0mTgOBjX84m9+x0TdV+Hi
q5wH7p3lEem31ZzHdUBiKeuPDGaJMXChZLc3MWywF8TDaBlGSpVnMs/w/0O8jC67
HL2i25pQ0+BGLMUnpEvmWR8Xp3T67EBFaxsk65RYXmrwDCIfIGpnd8l3GLJ5dNHJ
PmUC6B1saa9uTycXFDwjITA8ZjgXC0U3v8m5PdPxQQKBgQD23KFYUsH8LC+BkJe3
NK8Y8+ySmUeTgQtcYc40xjYvbwyUfsSrwHMopOCAD0nvq2YNGl74YC9QP897MTqS
NIvH2dw7bYu61Z6Ofgwx0GuTjU3RQJQJfWltZyW9bI+tI/xT2Ve9EZtbba2b938U
HcnchDWr/SItBv6a/OV/YI3/wQKBgQDzjwxFiQNKdld68XoyWKWuvK4RXWaj17ww
I8OwGs3Pwwi2UwXRPvUxVUqQQy/jNTWbAduMvYZme4/94AWWHLBumy7dMoPnbreL
9PSNkNcLzTe59wWOXTkqC2onsT/2oICeUxQ0G8x0J4nXzu+a94KivWGpJjSNVQ6i
/F3gHrtPTwKBgQDgAFu3lYDInh+NZfMFHx0ze0NT0xqL0jDI50cBxEouyImVxWIY
p0zXuKSuDzF79P9pLGC46C6GlyBiHM2VFXExK5MXqdN8+ZIiomXWXdT/0tyl3/90
jQQ5bbtlIzlMVrcELtfajDt4vxEl0XLSgiVFoAJDyjJUwWAOqyRkbOztAQKBgHSn
FeyUBAR9C8cxsyI7/Rbk/cYJYyikIlk4N/i3zc1tj1WsDAQ9UDiRrkXMODpteMBG
Mn6FI8Mf+UZSLrrIAOTo5JhDIpQNHlIlP6AyOB1J7B/gpUObeM6faveZ2JXqJ9As
4GdYzSLw8P9w+KfTVjlV1Vmrl839aCY+E0RN087XAoGBAOqRhbPjByKSameMsbZm
swBuz3N2w19p1d4x/z+7ty8acJerkMDilSauoCJc31fEwFio2I0swGCQtkGLkrnv
0lIYEsj95vnvGqT9x7UQmD2i5o0XZiM5lHhoHLXWWTHRx8T7Bvu8Ir4c5CXUBO+e
z3vDwBD7s0Yjk5Po8SZNV3dy
-----END PRIVATE KEY-----
`,
  rsaPub: `-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA6t1eOlwLPCVA5cdz7GZP
YT6wRdY32qAHFZbPalousQ/8NsCIs2dBJ4Uf7uw9XWc/S/y2ILyscdhGBopXv2ML
UVySnT/qI0a9tp5WstXH22Y9ms7SH/1M0wrJXcfWp3QIzdqxYC/M9fBG97aU5tdl
ZwJgnlavdJqx7spKlQbek/H2Iy0KhaqWzy35ElUPJaXiWnOpPsb9RcROStkZRUav
xIuvg0d3a1pNpxe/zsNqq2M6GFOqGHYQC8ivja3Eze36kPBJeS1Uh4Alvx742qHt
NQhM5/1hSrsXPtonddzaAox2EAbVbB37wrhyKvLIWN+QHQnjduNTorxmXjKtDbl7
jwIDAQAB
-----END PUBLIC KEY-----
`,
  ecPriv: `-----BEGIN EC PRIVATE KEY-----
MHcCAQEEIIvHu4BnN8RF8uNy01jIs117IE7F2IV5fA2yt85shw2SoAoGCCqGSM49
AwEHoUQDQgAE0MKIwSPIQEB7WCBPlDmonqyoqgc/5Ox22GpDIiYpZy1M/uSZeEcl
cLxtTmpPdSjZxa8cibvjxeevmmXy0PUMbQ==
-----END EC PRIVATE KEY-----
`,
  ec384Priv: `-----BEGIN PRIVATE KEY-----
MIG2AgEAMBAGByqGSM49AgEGBSuBBAAiBIGeMIGbAgEBBDAL4PnjILlCtqxlNItI
hJjZDAIkCBVxPvcMYgVSS95wh/6mgNYfUq5JCcrxSrbXBNmhZANiAASTqrR6Er/y
uf+7XUAHzcCXmx+UUOMrjzOMrMDRNP0+kFTZaNlMr8+nY9ULnCBvbouIaKgf3FGl
qp59z6tOEeGnM3rr/9GcxfZ8HYxuiGGTw5wPa1d19juT/SJyo9HmX2E=
-----END PRIVATE KEY-----
`,
  edPriv: `-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIDshIfkN5xg79QfvKvLlhIOWRCL9Ngu9a+0E5yh2xnlJ
-----END PRIVATE KEY-----
`,
  nodeEcdsa: `MEUCIHtdLPO1G7n3ngzNC1uP5BoCuURB9INLFEfaCZULbuw8AiEAziLLmCn+jYhEhKqAkL7ElXiyR7JF6uftrScQE6AKYY4=`,
  nodePss: `znzSk5qLTWSxuVx/GtPXhgx38YWmi/78MwjvqTL13xtt9wQ3BY3hkXoajp48ZXVUVxCiiVz3uCQ+FllwSJF30vGm2Yofme1Pv3PIfSiGzfTP8QO864mBJgrYu0IbOzW5Q+HNcSLaqQ13KiJyWmXOx3N0lEKZsANDjuq9IHs3gErVglrk4JnFVXyZuVwUKT2kfnhj9KigChJXUePKXPJ8bux/kUSZfMOXeZ8KpwGlVlD8qpIrOI2i4uZyDFvBMkry4TsxiCb0oRaYxiAPfAsjjQ+YAMAcpCSudCGlcBfGakYzGFpSk6b6GNBRMDAqQFUBg/Gn5fxHQDHHt0PsTEqNHQ==`,
  nodeOaep: `Pt3pX7el6anX3astPvpy5UXYMOF3xPOipTQX+ylWDkSWyaj8vTTCqY3YQ0fIMuAwx01ajhF63SGyz8naDv+6+DGH/QQKDjL4u6DitajKOIbeXmoQOl0OOF3vpjpNPgUre40SxqfQ4LMlzh5RY730q9P16/4Gtl4Zm6Vf2uQqOwNSUD+3M1a/pt/j+v/24hl8AbT40XE5HWG5I5FWNID/eTKLF/ryGkJ69/XvRTv4N4KCGzzGa0mfz3Y6UakyxzBrc8Lfocip31W40dwUDXlz3ki7aNNgNuZkkCcWH8sL6vZ3+Zb8qyNNsruX/hNSE7ljujzNgsa/LppLZlx7B2LArA==`,
};
"##;

/// `edge.toml`: RSA key generation and scrypt at Node's default cost take longer than the
/// default CPU limit of a request.
const MANIFEST: &str = "compatibility_flags = [\"nodejs_compat\"]\n[limits]\ncpu_ms = 10000\n";

/// What the worker of `cases` answers to `GET /`.
async fn answers(name: &str, cases: &str) -> serde_json::Value {
  let root = tempfile::tempdir().unwrap();
  let source = format!("{PRELUDE}{KEYS}{cases}");
  let server = DevServer::start(&node_worker(root.path(), name, &source, MANIFEST));
  let reply = get(&server.at("/")).await;
  assert_eq!(reply.status, 200, "{}\n{}", reply.body, server.log.text());
  reply.json()
}

/// AES in CBC, ECB, CTR and GCM: output across `update` calls and encodings, tags, padding, and
/// Node's errors.
const CIPHERS_CASES: &str = r##"const sealed = (name, k, iv, plain, options) => {
  const c = crypto.createCipheriv(name, k, iv, options);
  return [Buffer.concat([c.update(plain), c.final()]), /gcm/i.test(name) ? c.getAuthTag() : undefined];
};
const cases = {
  cbcHex: () => { const c = crypto.createCipheriv("aes-256-cbc", key, iv16); return c.update("hello world, this is more than a block", "utf8", "hex") + c.final("hex"); },
  cbcBase64Chunks: () => { const c = crypto.createCipheriv("aes-256-cbc", key, iv16); return [c.update("a".repeat(20), "utf8", "base64"), c.update("b".repeat(20), "utf8", "base64"), c.final("base64")]; },
  cbcOutputSizes: () => { const c = crypto.createCipheriv("aes-128-cbc", key.subarray(0, 16), iv16); const d = crypto.createDecipheriv("aes-128-cbc", key.subarray(0, 16), iv16); return [c.update("abc").length, c.update(Buffer.alloc(29)).length, d.update(Buffer.alloc(32)).length]; },
  cbcRoundTrip: () => { const [ct] = sealed("aes-128-cbc", key.subarray(0, 16), iv16, "round trip"); const d = crypto.createDecipheriv("aes-128-cbc", key.subarray(0, 16), iv16); return d.update(ct.subarray(0, 5), undefined, "utf8") + d.update(ct.subarray(5), undefined, "utf8") + d.final("utf8"); },
  cbcNoPadding: () => { const c = crypto.createCipheriv("aes-192-cbc", key.subarray(0, 24), iv16); c.setAutoPadding(false); return Buffer.concat([c.update(Buffer.alloc(32, 7)), c.final()]); },
  cbcNoPaddingShort: () => { const c = crypto.createCipheriv("aes-256-cbc", key, iv16); c.setAutoPadding(false); c.update(Buffer.alloc(15)); return c.final(); },
  cbcBadDecrypt: () => { const d = crypto.createDecipheriv("aes-256-cbc", key, iv16); d.update(Buffer.alloc(16)); return d.final(); },
  cbcWrongLength: () => { const d = crypto.createDecipheriv("aes-256-cbc", key, iv16); d.update(Buffer.alloc(15)); return d.final(); },
  aes256Alias: () => sealed("aes256", key, iv16, "x")[0],
  ecb: () => sealed("aes-256-ecb", key, null, "abc")[0],
  ctrAcrossTheCounter: () => { const c = crypto.createCipheriv("aes-128-ctr", Buffer.alloc(16, 9), Buffer.from("ff".repeat(16), "hex")); return Buffer.concat([c.update(Buffer.alloc(20)), c.update(Buffer.alloc(20)), c.final()]); },
  gcm: () => { const c = crypto.createCipheriv("aes-256-gcm", key, iv12); c.setAAD(Buffer.from("header")); return [Buffer.concat([c.update("secret message"), c.final()]).toString("hex"), c.getAuthTag().toString("hex")]; },
  gcmIvOf7: () => { const c = crypto.createCipheriv("aes-256-gcm", key, Buffer.alloc(7, 1)); c.setAAD(Buffer.from("hello")); return Buffer.concat([c.update("secret text here!"), c.final(), c.getAuthTag()]); },
  gcmIvOf40TwoAads: () => { const c = crypto.createCipheriv("id-aes256-GCM", key, Buffer.alloc(40, 1)); c.setAAD(Buffer.from("hello")); c.setAAD(Buffer.from("world, and more")); return Buffer.concat([c.update("secret text here!"), c.update("x"), c.final(), c.getAuthTag()]); },
  gcmTag12: () => { const c = crypto.createCipheriv("aes-128-gcm", Buffer.alloc(16, 5), iv12, { authTagLength: 12 }); return Buffer.concat([c.update(""), c.final(), c.getAuthTag()]); },
  gcmRoundTrip: () => { const [ct, tag] = sealed("aes-192-gcm", key.subarray(0, 24), iv12, "open me"); const d = crypto.createDecipheriv("aes-192-gcm", key.subarray(0, 24), iv12); d.setAuthTag(tag); return d.update(ct, undefined, "utf8") + d.final("utf8"); },
  gcmTampered: () => { const [ct, tag] = sealed("aes-256-gcm", key, iv12, "open me"); ct[0] ^= 1; const d = crypto.createDecipheriv("aes-256-gcm", key, iv12); d.setAuthTag(tag); d.update(ct); return d.final(); },
  gcmWithoutTag: () => { const d = crypto.createDecipheriv("aes-256-gcm", key, iv12); d.update("00", "hex"); return d.final(); },
  gcmTagTwice: () => { const d = crypto.createDecipheriv("aes-256-gcm", key, iv12); d.setAuthTag(Buffer.alloc(16)); d.setAuthTag(Buffer.alloc(16)); },
  gcmTagOfWrongLength: () => crypto.createDecipheriv("aes-256-gcm", key, iv12).setAuthTag(Buffer.alloc(3)),
  gcmTagLengthOption: () => crypto.createCipheriv("aes-256-gcm", key, iv12, { authTagLength: 7 }),
  gcmAadAfterData: () => { const c = crypto.createCipheriv("aes-256-gcm", key, iv12); c.update("a"); c.setAAD(Buffer.from("a")); },
  tagBeforeFinal: () => crypto.createCipheriv("aes-256-gcm", key, iv12).getAuthTag(),
  aadOnCbc: () => crypto.createCipheriv("aes-256-cbc", key, iv16).setAAD(Buffer.from("a")),
  decipherHasNoGetAuthTag: () => typeof crypto.createDecipheriv("aes-256-gcm", key, iv12).getAuthTag,
  badKeyLength: () => crypto.createCipheriv("aes-256-gcm", Buffer.alloc(5), iv12),
  badIv: () => crypto.createCipheriv("aes-256-cbc", key, Buffer.alloc(5)),
  emptyGcmIv: () => crypto.createCipheriv("aes-256-gcm", key, Buffer.alloc(0)),
  unknownCipher: () => crypto.createCipheriv("aes-256-xyz", key, iv12),
  finalTwice: () => { const c = crypto.createCipheriv("aes-256-cbc", key, iv16); c.final(); c.final(); },
  updateAfterFinal: () => { const c = crypto.createCipheriv("aes-256-cbc", key, iv16); c.final(); c.update("a"); },
  paddingAfterFinal: () => { const c = crypto.createCipheriv("aes-256-cbc", key, iv16); c.final(); c.setAutoPadding(false); },
  notBytes: () => crypto.createCipheriv("aes-256-cbc", key, iv16).update(123),
  stringKeyAndIv: () => crypto.createCipheriv("aes-256-cbc", "k".repeat(32), "i".repeat(16)).final("hex"),
  secretKeyObject: () => crypto.createCipheriv("AES-256-CBC", crypto.createSecretKey(key), iv16).final("hex"),
  chaining: () => { const c = crypto.createCipheriv("aes-256-cbc", key, iv16); return c.setAutoPadding(false) === c && c.setAutoPadding() === c; },
  getCiphers: () => ["aes-256-gcm", "aes-128-cbc", "id-aes128-GCM", "aes-192-ctr", "aes-256-ecb"].every((n) => crypto.getCiphers().includes(n)),
};
export default { async fetch() { return Response.json(await answers(cases)); } };
"##;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ciphers_answer_as_node_does() {
  let out = answers("ciphers", CIPHERS_CASES).await;
  // What Node.js 20 answers to the same worker.
  assert_eq!(
    out,
    serde_json::json!({
      "cbcHex": "0f3ceb3aa8d6242ebf1c3f07fdb6c6391fac708619371269a6d37545a70430d00bb5864a92b57a51a3bfe353c133e96b",
      "cbcBase64Chunks": ["EgTlbdQUg3fn5k32dhN8", "PbQ6xKqN5dZLvJYc7zvf", "863R2lGFZvyd7JDinZf8/Gh4"],
      "cbcOutputSizes": [0, 32, 16],
      "cbcRoundTrip": "round trip",
      "cbcNoPadding": "659f2ef76156c8478a5164b07674e38afbd3c5258926afd55e86a9a1a5521e1f",
      "cbcNoPaddingShort": "Error ERR_OSSL_WRONG_FINAL_BLOCK_LENGTH error:1C80006B:Provider routines::wrong final block length",
      "cbcBadDecrypt": "Error ERR_OSSL_BAD_DECRYPT error:1C800064:Provider routines::bad decrypt",
      "cbcWrongLength": "Error ERR_OSSL_WRONG_FINAL_BLOCK_LENGTH error:1C80006B:Provider routines::wrong final block length",
      "aes256Alias": "c31c7a8e0a73a1f3f802fcb40ee8d9b4",
      "ecb": "6fa9f44631088fbe73251589b26c7d6f",
      "ctrAcrossTheCounter": "3d42c12e28fe6be1df2238792a98204884f9c20e614f8607bc13efeb594bdf5a3352700f8432bfa4",
      "gcm": ["74b3aa3b2f23e190b6bfcfa93bc2", "72441a2607c597dcd75ace657f8169e3"],
      "gcmIvOf7": "f16f5842da23798d3d5d202310dea3d0f3667c15a64b8bd2843f09305d0869abb4",
      "gcmIvOf40TwoAads": "e60c2d345c8fb667e327bb1037f3e54395c0eb81a230efe766949a8af0d7cc66e71d",
      "gcmTag12": "54b1eb426b7cfa8351d6d136",
      "gcmRoundTrip": "open me",
      "gcmTampered": "Error undefined Unsupported state or unable to authenticate data",
      "gcmWithoutTag": "Error undefined Unsupported state or unable to authenticate data",
      "gcmTagTwice": "Error ERR_CRYPTO_INVALID_STATE Invalid state for operation setAuthTag",
      "gcmTagOfWrongLength": "TypeError ERR_CRYPTO_INVALID_AUTH_TAG Invalid authentication tag length: 3",
      "gcmTagLengthOption": "TypeError ERR_CRYPTO_INVALID_AUTH_TAG Invalid authentication tag length: 7",
      "gcmAadAfterData": "Error ERR_CRYPTO_INVALID_STATE Invalid state for operation setAAD",
      "tagBeforeFinal": "Error ERR_CRYPTO_INVALID_STATE Invalid state for operation getAuthTag",
      "aadOnCbc": "Error ERR_CRYPTO_INVALID_STATE Invalid state for operation setAAD",
      "decipherHasNoGetAuthTag": "undefined",
      "badKeyLength": "RangeError ERR_CRYPTO_INVALID_KEYLEN Invalid key length",
      "badIv": "TypeError ERR_CRYPTO_INVALID_IV Invalid initialization vector",
      "emptyGcmIv": "TypeError ERR_CRYPTO_INVALID_IV Invalid initialization vector",
      "unknownCipher": "Error ERR_CRYPTO_UNKNOWN_CIPHER Unknown cipher",
      "finalTwice": "Error ERR_CRYPTO_INVALID_STATE Invalid state",
      "updateAfterFinal": "Error undefined Trying to add data in unsupported state",
      "paddingAfterFinal": "Error ERR_CRYPTO_INVALID_STATE Invalid state for operation setAutoPadding",
      "notBytes": "TypeError ERR_INVALID_ARG_TYPE The \"data\" argument must be of type string or an instance of Buffer, TypedArray, or DataView. Received type number (123)",
      "stringKeyAndIv": "5d11c49af18b4b3e482508362bd2c857",
      "secretKeyObject": "7c7c2d7fcdcfcf7577eae5e3f7ff4894",
      "chaining": true,
      "getCiphers": true,
    })
  );
}

/// KeyObject: PEM, DER, JWK, certificates and encrypted PKCS#8 in; PEM, DER and JWK out;
/// public halves, details, equality, CryptoKeys.
const KEYS_CASES: &str = r##"const rsa = crypto.createPrivateKey(K.rsaPriv);
const rsaPub = crypto.createPublicKey(K.rsaPub);
const ec = crypto.createPrivateKey(K.ecPriv);
const ec384 = crypto.createPrivateKey(K.ec384Priv);
const ed = crypto.createPrivateKey(K.edPriv);
// A self-signed certificate of a P-256 key, made by OpenSSL 3.
const CERT = `-----BEGIN CERTIFICATE-----
MIIBdjCCARugAwIBAgIUbauBnt2h8RnBPfatCTm7nCwW49IwCgYIKoZIzj0EAwIw
EDEOMAwGA1UEAwwFdGVzdDIwHhcNMjYxMjA1MjIxMDU5WhcNMjcwMTA0MjIxMDU5
WjAQMQ4wDAYDVQQDDAV0ZXN0MjBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABFBi
VlS002zNsJFMipI1NCrDEcPsG2Oq1wuhxIjvUbC1SAI7hWOknj9VA85/CjFlT8HG
qR64qpdPTSsm+yW1ynWjUzBRMB0GA1UdDgQWBBRGTaTeVxJgO0cm7k8cRtkmNAZD
jDAfBgNVHSMEGDAWgBRGTaTeVxJgO0cm7k8cRtkmNAZDjDAPBgNVHRMBAf8EBTAD
AQH/MAoGCCqGSM49BAMCA0kAMEYCIQDrH3R7RN1QVNvTgwIzGWxlAxzo1U66+qVm
iMEq1YCd6AIhAPIotJoFKIPDMdcoafYQH8ocM/IOoCMwDATHaWmj4xu0
-----END CERTIFICATE-----
`;
const jwk = (k) => JSON.stringify(k.export({ format: "jwk" }));
const encrypted = rsa.export({ type: "pkcs8", format: "pem", cipher: "aes-256-cbc", passphrase: "top secret" });
const cases = {
  types: () => [rsa, rsaPub, ec, ec384, ed].map((k) => `${k.type} ${k.asymmetricKeyType}`),
  rsaDetails: () => { const d = rsa.asymmetricKeyDetails; return [d.modulusLength, typeof d.publicExponent, String(d.publicExponent)]; },
  otherDetails: () => [ec, ec384, ed].map((k) => JSON.stringify(k.asymmetricKeyDetails)),
  keyObject: () => [rsa instanceof crypto.KeyObject, Object.prototype.toString.call(rsa), rsa.symmetricKeySize === undefined],
  publicFromPrivatePem: () => crypto.createPublicKey(K.rsaPriv).export({ type: "spki", format: "pem" }) === K.rsaPub,
  publicFromKeyObject: () => crypto.createPublicKey(rsa).equals(rsaPub),
  pkcs8AsRead: () => [rsa.export({ type: "pkcs8", format: "pem" }) === K.rsaPriv, ec384.export({ type: "pkcs8", format: "pem" }) === K.ec384Priv, ed.export({ type: "pkcs8", format: "pem" }) === K.edPriv],
  sec1AsRead: () => ec.export({ type: "sec1", format: "pem" }) === K.ecPriv,
  rsaPkcs1: () => short(rsa.export({ type: "pkcs1", format: "pem" })),
  rsaPkcs1Public: () => short(rsaPub.export({ type: "pkcs1", format: "der" })),
  ecPkcs8: () => short(ec.export({ type: "pkcs8", format: "pem" })),
  ecSpki: () => crypto.createPublicKey(ec).export({ type: "spki", format: "der" }).toString("base64"),
  ec384Sec1: () => short(ec384.export({ type: "sec1", format: "pem" })),
  ed25519Spki: () => crypto.createPublicKey(ed).export({ type: "spki", format: "pem" }),
  jwkRsa: () => short(jwk(rsa)),
  jwkRsaPublic: () => short(jwk(rsaPub)),
  jwkEc: () => jwk(ec),
  jwkEcPublic: () => jwk(crypto.createPublicKey(ec384)),
  jwkEd25519: () => jwk(ed),
  jwkEd25519Public: () => jwk(crypto.createPublicKey(ed)),
  jwkRoundTrip: () => [rsa, ec, ec384, ed].map((k) => crypto.createPrivateKey({ key: k.export({ format: "jwk" }), format: "jwk" }).equals(k)),
  jwkPublicRoundTrip: () => [rsa, ec, ed].map((k) => crypto.createPublicKey({ key: k.export({ format: "jwk" }), format: "jwk" }).equals(crypto.createPublicKey(k))),
  jwkOct: () => crypto.createPrivateKey({ key: { kty: "oct", k: "abc" }, format: "jwk" }),
  jwkWithoutD: () => crypto.createPrivateKey({ key: { kty: "RSA", n: "abc", e: "AQAB" }, format: "jwk" }),
  derPkcs1: () => crypto.createPrivateKey({ key: rsa.export({ type: "pkcs1", format: "der" }), format: "der", type: "pkcs1" }).equals(rsa),
  derSec1: () => crypto.createPrivateKey({ key: ec.export({ type: "sec1", format: "der" }), format: "der", type: "sec1" }).equals(ec),
  derSpki: () => crypto.createPublicKey({ key: rsaPub.export({ type: "spki", format: "der" }), format: "der", type: "spki" }).equals(rsaPub),
  derWithoutType: () => crypto.createPrivateKey({ key: Buffer.alloc(10), format: "der" }),
  pkcs1PublicPem: () => crypto.createPublicKey(rsaPub.export({ type: "pkcs1", format: "pem" })).equals(rsaPub),
  encryptedPem: () => [encrypted.split("\n")[0], crypto.createPrivateKey({ key: encrypted, passphrase: "top secret" }).equals(rsa)],
  encryptedWrongPassphrase: () => crypto.createPrivateKey({ key: encrypted, passphrase: "wrong" }),
  encryptedNoPassphrase: () => crypto.createPrivateKey(encrypted),
  privateFromPublic: () => crypto.createPrivateKey(K.rsaPub),
  privateFromSecretText: () => crypto.createPrivateKey("my-secret"),
  privateFromNumber: () => crypto.createPrivateKey(123),
  privateFromKeyObject: () => crypto.createPrivateKey(rsa),
  publicFromSecret: () => crypto.createPublicKey(crypto.createSecretKey(Buffer.alloc(3))),
  publicFromEmptyObject: () => crypto.createPublicKey({}),
  pkcs1OfEc: () => ec.export({ type: "pkcs1", format: "pem" }),
  sec1OfEd25519: () => ed.export({ type: "sec1", format: "der" }),
  pkcs8OfPublic: () => rsaPub.export({ type: "pkcs8", format: "pem" }),
  exportWithoutOptions: () => ec.export(),
  exportWithoutType: () => ec.export({ format: "pem" }),
  secret: () => { const s = crypto.createSecretKey("hello", "utf8"); return [s.type, s.symmetricKeySize, s.asymmetricKeyType === undefined, s.export().toString(), JSON.stringify(s.export({ format: "jwk" }))]; },
  secretEquals: () => [crypto.createSecretKey(Buffer.alloc(3)).equals(crypto.createSecretKey(Buffer.alloc(3))), crypto.createSecretKey(Buffer.alloc(3)).equals(crypto.createSecretKey(Buffer.alloc(4)))],
  secretFromNumber: () => crypto.createSecretKey(123),
  equalsNotAKey: () => crypto.createSecretKey(Buffer.alloc(3)).equals("x"),
  privateEqualsPublic: () => rsa.equals(rsaPub),
  constructor: () => new crypto.KeyObject("secret", {}),
  certificate: () => { const k = crypto.createPublicKey(CERT); return [k.type, k.asymmetricKeyType, k.export({ type: "spki", format: "pem" })]; },
  certificateCrlf: () => crypto.createPublicKey(CERT.replace(/\n/g, "\r\n")).equals(crypto.createPublicKey(CERT)),
  certificateAsPrivate: () => crypto.createPrivateKey(CERT),
  fromCryptoKey: async () => {
    const aes = await crypto.webcrypto.subtle.importKey("raw", key, "AES-GCM", true, ["encrypt"]);
    const k = crypto.KeyObject.from(aes);
    return [k.type, k.symmetricKeySize, k.export().equals(key)];
  },
  fromCryptoKeyPair: async () => {
    const pair = await crypto.webcrypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]);
    const k = crypto.KeyObject.from(pair.privateKey);
    return [k.type, k.asymmetricKeyType, k.asymmetricKeyDetails.namedCurve, crypto.verify("sha256", Buffer.from("x"), pair.publicKey, crypto.sign("sha256", Buffer.from("x"), k))];
  },
  fromNotACryptoKey: () => crypto.KeyObject.from({}),
};
export default { async fetch() { return Response.json(await answers(cases)); } };
"##;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_are_read_and_written_as_node_does() {
  let out = answers("keys", KEYS_CASES).await;
  // What Node.js 20 answers to the same worker.
  assert_eq!(
    out,
    serde_json::json!({
      "types": ["private rsa", "public rsa", "private ec", "private ec", "private ed25519"],
      "rsaDetails": [2048, "bigint", "65537"],
      "otherDetails": ["{\"namedCurve\":\"prime256v1\"}", "{\"namedCurve\":\"secp384r1\"}", "{}"],
      "keyObject": [true, "[object KeyObject]", true],
      "publicFromPrivatePem": true,
      "publicFromKeyObject": true,
      "pkcs8AsRead": [true, true, true],
      "sec1AsRead": true,
      "rsaPkcs1": "a8a2d4060780503d",
      "rsaPkcs1Public": "cb89a95c52e772ff",
      "ecPkcs8": "6fb11ab8567ac93e",
      "ecSpki": "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE0MKIwSPIQEB7WCBPlDmonqyoqgc/5Ox22GpDIiYpZy1M/uSZeEclcLxtTmpPdSjZxa8cibvjxeevmmXy0PUMbQ==",
      "ec384Sec1": "cccae633905588f8",
      "ed25519Spki": "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAp9pvVgS7f6NjSuUc6kyj9F1G9WBAxXKLnnZZvckZgs0=\n-----END PUBLIC KEY-----\n",
      "jwkRsa": "1042ca57c58661c0",
      "jwkRsaPublic": "2a7235d458c868be",
      "jwkEc": "{\"kty\":\"EC\",\"x\":\"0MKIwSPIQEB7WCBPlDmonqyoqgc_5Ox22GpDIiYpZy0\",\"y\":\"TP7kmXhHJXC8bU5qT3Uo2cWvHIm748Xnr5pl8tD1DG0\",\"crv\":\"P-256\",\"d\":\"i8e7gGc3xEXy43LTWMizXXsgTsXYhXl8DbK3zmyHDZI\"}",
      "jwkEcPublic": "{\"kty\":\"EC\",\"x\":\"k6q0ehK_8rn_u11AB83Al5sflFDjK48zjKzA0TT9PpBU2WjZTK_Pp2PVC5wgb26L\",\"y\":\"iGioH9xRpaqefc-rThHhpzN66__RnMX2fB2Mbohhk8OcD2tXdfY7k_0icqPR5l9h\",\"crv\":\"P-384\"}",
      "jwkEd25519": "{\"crv\":\"Ed25519\",\"d\":\"OyEh-Q3nGDv1B-8q8uWEg5ZEIv02C71r7QTnKHbGeUk\",\"x\":\"p9pvVgS7f6NjSuUc6kyj9F1G9WBAxXKLnnZZvckZgs0\",\"kty\":\"OKP\"}",
      "jwkEd25519Public": "{\"crv\":\"Ed25519\",\"x\":\"p9pvVgS7f6NjSuUc6kyj9F1G9WBAxXKLnnZZvckZgs0\",\"kty\":\"OKP\"}",
      "jwkRoundTrip": [true, true, true, true],
      "jwkPublicRoundTrip": [true, true, true],
      "jwkOct": "TypeError ERR_INVALID_ARG_VALUE The property 'key.kty' must be one of: 'RSA', 'EC', 'OKP'. Received 'oct'",
      "jwkWithoutD": "TypeError ERR_INVALID_ARG_TYPE The \"key.d\" property must be of type string. Received undefined",
      "derPkcs1": true,
      "derSec1": true,
      "derSpki": true,
      "derWithoutType": "TypeError ERR_INVALID_ARG_VALUE The property 'options.type' is invalid. Received undefined",
      "pkcs1PublicPem": true,
      "encryptedPem": ["-----BEGIN ENCRYPTED PRIVATE KEY-----", true],
      "encryptedWrongPassphrase": "Error ERR_OSSL_BAD_DECRYPT error:1C800064:Provider routines::bad decrypt",
      "encryptedNoPassphrase": "Error ERR_OSSL_CRYPTO_INTERRUPTED_OR_CANCELLED error:07880109:common libcrypto routines::interrupted or cancelled",
      "privateFromPublic": "Error ERR_OSSL_UNSUPPORTED error:1E08010C:DECODER routines::unsupported",
      "privateFromSecretText": "Error ERR_OSSL_UNSUPPORTED error:1E08010C:DECODER routines::unsupported",
      "privateFromNumber": "TypeError ERR_INVALID_ARG_TYPE The \"key\" argument must be of type string or an instance of ArrayBuffer, Buffer, TypedArray, or DataView. Received type number (123)",
      "privateFromKeyObject": "TypeError ERR_INVALID_ARG_TYPE The \"key\" argument must be of type string or an instance of ArrayBuffer, Buffer, TypedArray, or DataView. Received an instance of PrivateKeyObject",
      "publicFromSecret": "TypeError ERR_CRYPTO_INVALID_KEY_OBJECT_TYPE Invalid key object type secret, expected private.",
      "publicFromEmptyObject": "TypeError ERR_INVALID_ARG_TYPE The \"key.key\" property must be of type string or an instance of ArrayBuffer, Buffer, TypedArray, DataView, KeyObject, or CryptoKey. Received undefined",
      "pkcs1OfEc": "Error ERR_CRYPTO_INCOMPATIBLE_KEY_OPTIONS The selected key encoding pkcs1 can only be used for RSA keys.",
      "sec1OfEd25519": "Error ERR_CRYPTO_INCOMPATIBLE_KEY_OPTIONS The selected key encoding sec1 can only be used for EC keys.",
      "pkcs8OfPublic": "TypeError ERR_INVALID_ARG_VALUE The property 'options.type' is invalid. Received 'pkcs8'",
      "exportWithoutOptions": "TypeError ERR_INVALID_ARG_TYPE The \"options\" argument must be of type object. Received undefined",
      "exportWithoutType": "TypeError ERR_INVALID_ARG_VALUE The property 'options.type' is invalid. Received undefined",
      "secret": ["secret", 5, true, "hello", "{\"kty\":\"oct\",\"k\":\"aGVsbG8\"}"],
      "secretEquals": [true, false],
      "secretFromNumber": "TypeError ERR_INVALID_ARG_TYPE The \"key\" argument must be an instance of ArrayBuffer, Buffer, TypedArray, or DataView. Received type number (123)",
      "equalsNotAKey": "TypeError ERR_INVALID_ARG_TYPE The \"otherKeyObject\" argument must be an instance of KeyObject. Received type string ('x')",
      "privateEqualsPublic": false,
      "constructor": "TypeError ERR_INVALID_ARG_TYPE The \"handle\" argument must be of type object. Received an instance of Object",
      "certificate": [
        "public",
        "ec",
        "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEUGJWVLTTbM2wkUyKkjU0KsMRw+wb\nY6rXC6HEiO9RsLVIAjuFY6SeP1UDzn8KMWVPwcapHriql09NKyb7JbXKdQ==\n-----END PUBLIC KEY-----\n",
      ],
      "certificateCrlf": true,
      "certificateAsPrivate": "Error ERR_OSSL_UNSUPPORTED error:1E08010C:DECODER routines::unsupported",
      "fromCryptoKey": ["secret", 32, true],
      "fromCryptoKeyPair": ["private", "ec", "prime256v1", true],
      "fromNotACryptoKey": "TypeError ERR_INVALID_ARG_TYPE The \"key\" argument must be an instance of CryptoKey. Received an instance of Object",
    })
  );
}

/// RSA PKCS#1 v1.5 and PSS, ECDSA, Ed25519, RSA encryption, and the calls the `jsonwebtoken`
/// package makes (`jwt*`: its key handling and its RS256, ES256 and HS256 paths).
const SIGNATURES_CASES: &str = r##"const rsa = crypto.createPrivateKey(K.rsaPriv);
const rsaPub = crypto.createPublicKey(K.rsaPub);
const ec = crypto.createPrivateKey(K.ecPriv);
const ec384 = crypto.createPrivateKey(K.ec384Priv);
const ed = crypto.createPrivateKey(K.edPriv);
const x = Buffer.from("x");
const PSS = crypto.constants.RSA_PKCS1_PSS_PADDING;
/** What jsonwebtoken (9) does with a key it is given, and how it signs and verifies RS256/ES256. */
function jwtKey(material, create) {
  if (material instanceof crypto.KeyObject) return material;
  try {
    return create(material);
  } catch {
    return crypto.createSecretKey(typeof material === "string" ? Buffer.from(material) : material);
  }
}
const cases = {
  rsaSha256: () => crypto.createSign("RSA-SHA256").update("hello ").update("world").sign(rsa, "base64"),
  rsaSha512Pem: () => short(crypto.createSign("sha512").update("hello").sign(K.rsaPriv)),
  rsaMd5: () => short(crypto.sign("md5", x, K.rsaPriv)),
  rsaSha1Options: () => short(crypto.sign("sha1", x, { key: K.rsaPriv })),
  rsaDefaultDigest: () => crypto.sign(null, x, rsa).equals(crypto.sign("sha256", x, rsa)),
  rsaStringData: () => short(crypto.sign("sha256", "x", rsa)),
  rsaVerify: () => crypto.createVerify("RSA-SHA256").update("hello world").verify(rsaPub, crypto.createSign("RSA-SHA256").update("hello world").sign(rsa)),
  rsaVerifyWithPrivate: () => crypto.createVerify("sha256").update("x").verify(K.rsaPriv, crypto.sign("sha256", x, rsa)),
  rsaVerifyOther: () => crypto.createVerify("sha256").update("y").verify(rsaPub, crypto.sign("sha256", x, rsa)),
  rsaVerifyGarbage: () => crypto.createVerify("sha256").update("x").verify(rsaPub, Buffer.alloc(3)),
  rsaVerifyEncoded: () => crypto.createVerify("sha256").update("x").verify(rsaPub, crypto.sign("sha256", x, rsa).toString("base64"), "base64"),
  pss: () => { const sig = crypto.sign("sha256", x, { key: rsa, padding: PSS }); return [sig.length, crypto.verify("sha256", x, { key: rsaPub, padding: PSS }, sig), crypto.verify("sha256", x, { key: rsaPub, padding: PSS, saltLength: 32 }, sig), crypto.verify("sha256", x, rsaPub, sig)]; },
  pssDigestSalt: () => { const sig = crypto.createSign("sha256").update("x").sign({ key: rsa, padding: PSS, saltLength: crypto.constants.RSA_PSS_SALTLEN_DIGEST }); return [crypto.verify("sha256", x, { key: rsaPub, padding: PSS }, sig), crypto.verify("sha256", x, { key: rsaPub, padding: PSS, saltLength: 32 }, sig), crypto.verify("sha256", x, { key: rsaPub, padding: PSS, saltLength: 20 }, sig)]; },
  pssByNode: () => [crypto.verify("sha256", x, { key: rsaPub, padding: PSS }, Buffer.from(K.nodePss, "base64")), crypto.verify("sha256", x, { key: rsaPub, padding: PSS, saltLength: 222 }, Buffer.from(K.nodePss, "base64"))],
  pssSaltTooLong: () => crypto.sign("sha256", x, { key: rsa, padding: PSS, saltLength: 300 }),
  unsupportedPadding: () => crypto.sign("sha256", x, { key: rsa, padding: 4 }),
  ecdsa: () => { const sig = crypto.createSign("SHA256").update("x").sign(ec); return [sig[0], crypto.createVerify("SHA256").update("x").verify(crypto.createPublicKey(ec), sig), crypto.createVerify("SHA256").update("y").verify(ec, sig)]; },
  ecdsaByNode: () => [crypto.verify("sha256", x, ec, Buffer.from(K.nodeEcdsa, "base64")), crypto.verify("sha256", Buffer.from("y"), ec, Buffer.from(K.nodeEcdsa, "base64"))],
  ecdsaP1363: () => { const sig = crypto.sign("sha384", x, { key: ec384, dsaEncoding: "ieee-p1363" }); return [sig.length, crypto.verify("sha384", x, { key: ec384, dsaEncoding: "ieee-p1363" }, sig), crypto.verify("sha384", x, ec384, sig)]; },
  ecdsaShortDigest: () => crypto.verify("sha1", x, ec384, crypto.sign("sha1", x, ec384)),
  ecdsaBadEncoding: () => crypto.sign("sha256", x, { key: ec, dsaEncoding: "foo" }),
  ed25519: () => crypto.sign(null, Buffer.from("hello"), ed).toString("base64"),
  ed25519Verify: () => { const sig = crypto.sign(null, Buffer.from("hello"), ed); return [crypto.verify(null, Buffer.from("hello"), crypto.createPublicKey(ed), sig), crypto.verify(undefined, Buffer.from("hellO"), ed, sig)]; },
  ed25519WithDigest: () => crypto.sign("sha256", x, ed),
  ed25519CreateSign: () => crypto.createSign("sha256").update("x").sign(ed),
  signWithSecret: () => crypto.createSign("sha256").update("x").sign(crypto.createSecretKey(Buffer.alloc(3))),
  verifyWithSecret: () => crypto.verify("sha256", x, crypto.createSecretKey(Buffer.alloc(3)), Buffer.alloc(3)),
  signWithPublic: () => crypto.createSign("sha256").update("x").sign(K.rsaPub),
  unknownDigest: () => crypto.createSign("foo"),
  keyMissing: () => crypto.sign("sha256", x, {}),
  keyOfNumber: () => crypto.sign("sha256", x, 12),
  callback: () => new Promise((resolve) => crypto.sign(null, Buffer.from("hello"), ed, (error, sig) => resolve([error, sig.length]))),
  oaep: () => crypto.privateDecrypt(rsa, crypto.publicEncrypt(K.rsaPub, Buffer.from("hello"))).toString(),
  oaepSha256Label: () => crypto.privateDecrypt({ key: K.rsaPriv, oaepHash: "sha256", oaepLabel: Buffer.from("lbl") }, crypto.publicEncrypt({ key: rsaPub, oaepHash: "sha256", oaepLabel: Buffer.from("lbl") }, x)).toString(),
  oaepByNode: () => crypto.privateDecrypt(rsa, Buffer.from(K.nodeOaep, "base64")).toString(),
  oaepGarbage: () => crypto.privateDecrypt(rsa, Buffer.alloc(256, 1)),
  pkcs1Decrypt: () => crypto.privateDecrypt({ key: rsa, padding: crypto.constants.RSA_PKCS1_PADDING }, Buffer.alloc(256, 1)),
  privateEncrypt: () => short(crypto.privateEncrypt(rsa, Buffer.from("hi"))),
  publicDecrypt: () => crypto.publicDecrypt(rsaPub, crypto.privateEncrypt(rsa, Buffer.from("hi"))).toString(),
  tooLarge: () => crypto.publicEncrypt(rsaPub, Buffer.alloc(300)),
  jwtKeys: () => {
    const hs = jwtKey("shhh", crypto.createPrivateKey);
    const rs = jwtKey(K.rsaPriv, crypto.createPrivateKey);
    const es = jwtKey(K.ecPriv, crypto.createPrivateKey);
    const verifying = jwtKey(K.rsaPriv, crypto.createPublicKey);
    return [hs.type, rs.type, rs.asymmetricKeyType, rs.asymmetricKeyDetails.modulusLength, es.asymmetricKeyDetails.namedCurve, verifying.type, typeof verifying.export];
  },
  jwtRs256: () => {
    const signature = crypto.createSign("RSA-SHA256").update("header.payload").sign(jwtKey(K.rsaPriv, crypto.createPrivateKey), "base64");
    return [signature.slice(0, 16), crypto.createVerify("RSA-SHA256").update("header.payload").verify(jwtKey(K.rsaPub, crypto.createPublicKey), signature, "base64")];
  },
  jwtEs256: () => {
    const signature = crypto.createSign("RSA-SHA256").update("header.payload").sign(jwtKey(K.ecPriv, crypto.createPrivateKey), "base64");
    return crypto.createVerify("RSA-SHA256").update("header.payload").verify(jwtKey(K.ecPriv, crypto.createPublicKey), signature, "base64");
  },
  jwtHs256: () => crypto.createHmac("sha256", jwtKey("shhh", crypto.createPrivateKey)).update("header.payload").digest("base64url"),
};
export default { async fetch() { return Response.json(await answers(cases)); } };
"##;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signatures_and_rsa_encryption_answer_as_node_does() {
  let out = answers("signatures", SIGNATURES_CASES).await;
  // What Node.js 20 answers to the same worker.
  assert_eq!(
    out,
    serde_json::json!({
      "rsaSha256": "RIXFQg4RpXxD56eh5phlDf3d+uRsXp20lEp8YOsAsSPClIXRfS6xJjdfmH0ojVKtQIDyZYC3CeBHqe5uRm/qBru7O3q02HHGYKkrtjGYHBJdE55jwXQhg2/HWHLl6HNg/78HTSo9UcuPCCSRqZHXvMDaO6OYYl8R/Dplqh7iDkl5ZBJ97AfL9FfcTQk44C6MCnmJsnVUJOWs2RsotDhsoUDZz+0Tu+kbeLMmF/eZ7eQjoKesLBe5pus8K20buyulkc6oSHRemGX2mgyaoVRcbXbwHVHc2Mz6BMdJb/QZ25gC5uNzFRLbVLhE/Sb9IlgaIbSqIQFmFApzII8AcdwyZQ==",
      "rsaSha512Pem": "077636b6e7af4f1f",
      "rsaMd5": "b479979133bdb299",
      "rsaSha1Options": "9fcfa7bc40cd94bb",
      "rsaDefaultDigest": true,
      "rsaStringData": "a591b319c115c416",
      "rsaVerify": true,
      "rsaVerifyWithPrivate": true,
      "rsaVerifyOther": false,
      "rsaVerifyGarbage": false,
      "rsaVerifyEncoded": true,
      "pss": [256, true, false, false],
      "pssDigestSalt": [true, true, false],
      "pssByNode": [true, true],
      "pssSaltTooLong": "Error ERR_OSSL_RSA_DATA_TOO_LARGE_FOR_KEY_SIZE error:0200006E:rsa routines::data too large for key size",
      "unsupportedPadding": "Error ERR_OSSL_ILLEGAL_OR_UNSUPPORTED_PADDING_MODE error:1C8000A5:Provider routines::illegal or unsupported padding mode",
      "ecdsa": [48, true, false],
      "ecdsaByNode": [true, false],
      "ecdsaP1363": [96, true, false],
      "ecdsaShortDigest": true,
      "ecdsaBadEncoding": "TypeError ERR_INVALID_ARG_VALUE The property 'options.dsaEncoding' is invalid. Received 'foo'",
      "ed25519": "XvOi9a84V9hSNUDXdofrb+gfaHeLh4sRxsRSFu8OPdStvBnV/WVjU1r7e3TYkmFqwM+dzDHX7TgNh7FVrDNAAQ==",
      "ed25519Verify": [true, false],
      "ed25519WithDigest": "Error ERR_OSSL_INVALID_DIGEST error:1C80007A:Provider routines::invalid digest",
      "ed25519CreateSign": "Error ERR_CRYPTO_UNSUPPORTED_OPERATION Unsupported crypto operation",
      "signWithSecret": "TypeError ERR_CRYPTO_INVALID_KEY_OBJECT_TYPE Invalid key object type secret, expected private.",
      "verifyWithSecret": "TypeError ERR_CRYPTO_INVALID_KEY_OBJECT_TYPE Invalid key object type secret, expected private or public.",
      "signWithPublic": "Error ERR_OSSL_UNSUPPORTED error:1E08010C:DECODER routines::unsupported",
      "unknownDigest": "TypeError ERR_CRYPTO_INVALID_DIGEST Invalid digest",
      "keyMissing": "TypeError ERR_INVALID_ARG_TYPE The \"key.key\" property must be of type string or an instance of ArrayBuffer, Buffer, TypedArray, DataView, KeyObject, or CryptoKey. Received undefined",
      "keyOfNumber": "TypeError ERR_INVALID_ARG_TYPE The \"key\" argument must be of type string or an instance of ArrayBuffer, Buffer, TypedArray, DataView, KeyObject, or CryptoKey. Received type number (12)",
      "callback": [null, 64],
      "oaep": "hello",
      "oaepSha256Label": "x",
      "oaepByNode": "made by node",
      "oaepGarbage": "Error ERR_OSSL_RSA_OAEP_DECODING_ERROR error:02000079:rsa routines::oaep decoding error",
      "pkcs1Decrypt": "TypeError ERR_INVALID_ARG_VALUE RSA_PKCS1_PADDING is no longer supported for private decryption, this can be reverted with --security-revert=CVE-2023-46809",
      "privateEncrypt": "a9369dee69f348d2",
      "publicDecrypt": "hi",
      "tooLarge": "Error ERR_OSSL_RSA_DATA_TOO_LARGE_FOR_KEY_SIZE error:0200006E:rsa routines::data too large for key size",
      "jwtKeys": ["secret", "private", "rsa", 2048, "prime256v1", "public", "function"],
      "jwtRs256": ["ZgGF6MJOTCiRksXA", true],
      "jwtEs256": true,
      "jwtHs256": "LW6HuAvowczeKPLh20dMYKyJLMTG6nAYUa1AS--UP8A",
    })
  );
}

/// PBKDF2, scrypt and HKDF (synchronous and with callbacks), key pair generation, constants.
const KDF_CASES: &str = r##"const later = (start) => new Promise((resolve) => start((error, ...results) => resolve(error ? `${error.name} ${error.code} ${error.message}` : results)));
const hex = (bytes) => Buffer.from(bytes).toString("hex");
const cases = {
  pbkdf2Sync: () => [["sha1", 1, 20], ["sha256", 2, 32], ["md5", 3, 16], ["sha512", 3, 80], ["sha224", 1, 8], ["sha384", 1, 8]].map(([digest, rounds, length]) => crypto.pbkdf2Sync("password", "salt", rounds, length, digest).toString("hex")),
  pbkdf2SecretKey: () => crypto.pbkdf2Sync(crypto.createSecretKey(Buffer.from("password")), Buffer.from("salt"), 1, 8, "RSA-SHA256").toString("hex"),
  pbkdf2UnknownDigest: () => crypto.pbkdf2Sync("a", "b", 1, 10, "foo"),
  pbkdf2NoIterations: () => crypto.pbkdf2Sync("a", "b", 0, 10, "sha1"),
  pbkdf2NoDigest: () => crypto.pbkdf2Sync("a", "b", 1, 10),
  pbkdf2Callback: () => later((done) => crypto.pbkdf2("password", "salt", 1, 20, "sha512", (e, k) => done(e, k.toString("hex")))),
  scryptSync: () => [crypto.scryptSync("password", "salt", 32).toString("hex"), crypto.scryptSync("", "", 64, { N: 16, r: 1, p: 1 }).toString("hex"), crypto.scryptSync("password", "NaCl", 64, { cost: 1024, blockSize: 8, parallelization: 16 }).toString("hex")],
  scryptEmpty: () => crypto.scryptSync("a", "b", 0).length,
  scryptNotPowerOfTwo: () => crypto.scryptSync("a", "b", 10, { N: 3 }),
  scryptOverMaxmem: () => crypto.scryptSync("a", "b", 10, { N: 2 ** 20 }),
  scryptCallback: () => later((done) => crypto.scrypt("password", "salt", 16, { N: 1024 }, (e, k) => done(e, k.toString("hex")))),
  hkdfSync: () => { const k = crypto.hkdfSync("sha256", "key", "salt", "info", 42); return [k.constructor.name, hex(k)]; },
  hkdfSha512Empty: () => hex(crypto.hkdfSync("sha512", Buffer.alloc(0), "", "", 16)),
  hkdfTooLong: () => crypto.hkdfSync("sha256", "a", "b", "c", 255 * 32 + 1),
  hkdfUnknownDigest: () => crypto.hkdfSync("foo", "a", "b", "c", 10),
  hkdfCallback: () => later((done) => crypto.hkdf("sha1", "key", "salt", "", 10, (e, k) => done(e, hex(k)))),
  generateRsa: () => {
    const { publicKey, privateKey } = crypto.generateKeyPairSync("rsa", { modulusLength: 1024 });
    const d = privateKey.asymmetricKeyDetails;
    return [publicKey.type, d.modulusLength, String(d.publicExponent), crypto.verify("sha256", Buffer.from("x"), publicKey, crypto.sign("sha256", Buffer.from("x"), privateKey))];
  },
  generateEcEncoded: () => {
    const { publicKey, privateKey } = crypto.generateKeyPairSync("ec", { namedCurve: "P-384", publicKeyEncoding: { type: "spki", format: "pem" }, privateKeyEncoding: { type: "sec1", format: "pem" } });
    return [publicKey.split("\n")[0], privateKey.split("\n")[0], crypto.createPrivateKey(privateKey).asymmetricKeyDetails.namedCurve];
  },
  generateEd25519Der: () => { const { publicKey, privateKey } = crypto.generateKeyPairSync("ed25519", { privateKeyEncoding: { type: "pkcs8", format: "der" } }); return [publicKey.asymmetricKeyType, privateKey.length]; },
  generateCallback: () => later((done) => crypto.generateKeyPair("ec", { namedCurve: "prime256v1" }, (e, pub, priv) => done(e, pub.type, priv.type, priv.asymmetricKeyDetails.namedCurve))),
  generateUnknownType: () => crypto.generateKeyPairSync("foo"),
  generateRsaWithoutLength: () => crypto.generateKeyPairSync("rsa", {}),
  generateEcWithoutCurve: () => crypto.generateKeyPairSync("ec", {}),
  generateUnknownCurve: () => crypto.generateKeyPairSync("ec", { namedCurve: "foo" }),
  generateSecret: () => { const k = crypto.generateKeySync("hmac", { length: 64 }); return [k.type, k.symmetricKeySize]; },
  constants: () => [crypto.constants.RSA_PKCS1_PADDING, crypto.constants.RSA_PKCS1_OAEP_PADDING, crypto.constants.RSA_PKCS1_PSS_PADDING, crypto.constants.RSA_PSS_SALTLEN_DIGEST, crypto.constants.RSA_PSS_SALTLEN_MAX_SIGN],
  getHashes: () => ["sha256", "RSA-SHA256", "md5", "sha512"].every((name) => crypto.getHashes().includes(name)),
  getCurves: () => ["prime256v1", "secp384r1", "secp521r1"].every((name) => crypto.getCurves().includes(name)),
};
export default { async fetch() { return Response.json(await answers(cases)); } };
"##;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_derivation_and_generation_answer_as_node_does() {
  let out = answers("kdf", KDF_CASES).await;
  // What Node.js 20 answers to the same worker.
  assert_eq!(
    out,
    serde_json::json!({
      "pbkdf2Sync": [
        "0c60c80f961f0e71f3a9b524af6012062fe037a6",
        "ae4d0c95af6b46d32d0adff928f06dd02a303f8ef3c251dfd6e2d85a95474c43",
        "f6acd4bda3e4d3d831a5f61da9ca9d5c",
        "b6b07cb2cebf4ad84468391a543824fccffe0e0769dbe6bddf10a65673c4b648e612d44918f9ce9a19a1294cf5140628084ba994c3b21a4ef4741220b811c633cfc0641fccbcc4164f1bbfcb1f33f595",
        "3c198cbdb9464b78",
        "c0e14f06e49e32d7",
      ],
      "pbkdf2SecretKey": "TypeError ERR_INVALID_ARG_TYPE The \"password\" argument must be of type string or an instance of ArrayBuffer, Buffer, TypedArray, or DataView. Received an instance of SecretKeyObject",
      "pbkdf2UnknownDigest": "TypeError ERR_CRYPTO_INVALID_DIGEST Invalid digest: foo",
      "pbkdf2NoIterations": "RangeError ERR_OUT_OF_RANGE The value of \"iterations\" is out of range. It must be >= 1 && <= 2147483647. Received 0",
      "pbkdf2NoDigest": "TypeError ERR_INVALID_ARG_TYPE The \"digest\" argument must be of type string. Received undefined",
      "pbkdf2Callback": ["867f70cf1ade02cff3752599a3a53dc4af34c7a6"],
      "scryptSync": [
        "745731af4484f323968969eda289aeee005b5903ac561e64a5aca121797bf773",
        "77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442fcd0069ded0948f8326a753a0fc81f17e8d3e0fb2e0d3628cf35e20c38d18906",
        "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b3731622eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640",
      ],
      "scryptEmpty": 0,
      "scryptNotPowerOfTwo": "RangeError ERR_CRYPTO_INVALID_SCRYPT_PARAMS Invalid scrypt params",
      "scryptOverMaxmem": "RangeError ERR_CRYPTO_INVALID_SCRYPT_PARAMS Invalid scrypt params: error:030000AC:digital envelope routines::memory limit exceeded",
      "scryptCallback": ["16dbc8906763c7f048977a68f9d305f7"],
      "hkdfSync": [
        "ArrayBuffer",
        "9ca0d662557439e3b83365f2da4626d35da195c6d9d1779f09838cf9e408966ece99106e2585ace6f083",
      ],
      "hkdfSha512Empty": "9d73c98e791e80ebe5b4cb45693aa32f",
      "hkdfTooLong": "RangeError ERR_CRYPTO_INVALID_KEYLEN Invalid key length",
      "hkdfUnknownDigest": "TypeError ERR_CRYPTO_INVALID_DIGEST Invalid digest: foo",
      "hkdfCallback": ["6c3fcbb59e40086f3d93"],
      "generateRsa": ["public", 1024, "65537", true],
      "generateEcEncoded": ["-----BEGIN PUBLIC KEY-----", "-----BEGIN EC PRIVATE KEY-----", "secp384r1"],
      "generateEd25519Der": ["ed25519", 48],
      "generateCallback": ["public", "private", "prime256v1"],
      "generateUnknownType": "TypeError ERR_INVALID_ARG_VALUE The argument 'type' must be a supported key type. Received 'foo'",
      "generateRsaWithoutLength": "TypeError ERR_INVALID_ARG_TYPE The \"options.modulusLength\" property must be of type number. Received undefined",
      "generateEcWithoutCurve": "TypeError ERR_INVALID_ARG_TYPE The \"options.namedCurve\" property must be of type string. Received undefined",
      "generateUnknownCurve": "TypeError ERR_CRYPTO_INVALID_CURVE Invalid EC curve name",
      "generateSecret": ["secret", 8],
      "constants": [1, 4, 6, -1, -2],
      "getHashes": true,
      "getCurves": true,
    })
  );
}

/// crypto.Hash and crypto.Hmac callable without `new`, and their argument errors.
const CLASSES: &str = r##"
import crypto from "node:crypto";

const error = (e) => [e.name, e.code, e.message];
const thrown = (f) => { try { f(); return "no error"; } catch (e) { return error(e); } };

async function run() {
  const out = {};
  // The classes are are callable without `new`, as Node's.
  out.classes = [crypto.Hmac("sha256", "k") instanceof crypto.Hmac, crypto.Hash("sha1") instanceof crypto.Hash,
    crypto.Hmac("sha256", "k").update("x").digest("hex") === crypto.createHmac("sha256", "k").update("x").digest("hex")];
  out.errors = [thrown(() => crypto.createHmac(null)), thrown(() => crypto.createHmac("sha1", null)), thrown(() => crypto.createHash(1)),
    thrown(() => crypto.createHmac("nope", "k")), thrown(() => crypto.createHmac("sha256", "k").digest({ toString() { throw new Error("boom"); } }))];
  return out;
}
"##;

/// What Node 20.20.2 printed for [`CLASSES`].
const CLASSES_FROM_NODE: &str = r##"{
  "classes": [true,true,true],
  "errors": [["TypeError","ERR_INVALID_ARG_TYPE","The \"hmac\" argument must be of type string. Received null"],["TypeError","ERR_INVALID_ARG_TYPE","The \"key\" argument must be of type string or an instance of ArrayBuffer, Buffer, TypedArray, DataView, KeyObject, or CryptoKey. Received null"],["TypeError","ERR_INVALID_ARG_TYPE","The \"algorithm\" argument must be of type string. Received type number (1)"],["TypeError","ERR_CRYPTO_INVALID_DIGEST","Invalid digest: nope"],["Error",null,"boom"]]
}"##;

/// Hash and Hmac without `new`, and their errors, as Node 20 gives them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hash_and_hmac_classes_are_nodes() {
  let out = node_run_answer("cryptoclasses", CLASSES).await;
  assert_like_node(&out, CLASSES_FROM_NODE);
}

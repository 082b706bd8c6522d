//! `node:zlib` through a worker with Node.js compatibility: data Node.js compressed
//! decompresses to the same text, what the worker compresses Node.js decompresses (checked
//! here by the worker's own decompression and by the formats' magic bytes), the one-shot
//! functions in their three forms (sync, callback, promisified), streams in a pipeline with a
//! flush, `unzip` telling gzip from deflate, crc32, and Node's errors for bad input. Expected
//! values are what Node.js 20 gives for the same calls.

use edge_tests::*;

const TEXT: &str = "hello hello hello hello, node zlib!";

const WORKER: &str = r#"import zlib, { gzipSync, gunzipSync, inflateSync, inflateRawSync, brotliDecompressSync, createGzip, createGunzip, constants } from "node:zlib";
import { promisify } from "node:util";
import { pipeline } from "node:stream/promises";
import { Readable, Writable } from "node:stream";

const TEXT = "hello hello hello hello, node zlib!";
// What Node.js 20 gives for TEXT.
const NODE = {
  gzip: "H4sIAAAAAAAAA8tIzcnJV8hAJ3UU8vJTUhWqcjKTFAEvCR80IwAAAA==",
  deflate: "eJzLSM3JyVfIQCd1FPLyU1IVqnIykxQB6McMlQ==",
  deflateRaw: "y0jNyclXyEAndRTy8lNSFapyMpMUAQ==",
  brotli: "GyIA+B2pU587XqHpNYhYGZsOSWN7k4KoIk8dcNHWDWl1BQ==",
};
const b64 = (s) => Buffer.from(s, "base64");
const failure = (f) => { try { f(); return null; } catch (e) { return [e.message, e.code, e.errno ?? null]; } };

export default {
  async fetch() {
    const out = {};
    out.fromNode = [
      gunzipSync(b64(NODE.gzip)).toString(),
      inflateSync(b64(NODE.deflate)).toString(),
      inflateRawSync(b64(NODE.deflateRaw)).toString(),
      brotliDecompressSync(b64(NODE.brotli)).toString(),
      zlib.unzipSync(b64(NODE.gzip)).toString(),
      zlib.unzipSync(b64(NODE.deflate)).toString(),
    ];
    const big = TEXT.repeat(200);
    const gz = gzipSync(big, { level: 9 });
    out.gzipMagic = [gz[0], gz[1], gz.length < big.length / 10];
    out.roundTrips = [
      gunzipSync(gz).toString() === big,
      zlib.inflateSync(zlib.deflateSync(big)).toString() === big,
      zlib.inflateRawSync(zlib.deflateRawSync(big)).toString() === big,
      zlib.brotliDecompressSync(zlib.brotliCompressSync(big, { params: { [constants.BROTLI_PARAM_QUALITY]: 4 } })).toString() === big,
      zlib.gunzipSync(zlib.gzipSync(new Uint8Array([1, 2, 3]).buffer)).toString("hex"),
    ];
    out.callback = await new Promise((resolve) => zlib.deflate(TEXT, (error, data) => resolve(error ? error.message : zlib.inflateSync(data).toString())));
    out.promisified = (await promisify(zlib.brotliDecompress)(b64(NODE.brotli))).toString();
    // Two gzip members one after the other read as one text, as Node reads them.
    out.members = gunzipSync(Buffer.concat([gzipSync("one,"), gzipSync("two")])).toString();

    // A stream: what the gzip stream gives after a flush is readable before the end.
    const gzip = createGzip();
    const chunks = [];
    gzip.on("data", (c) => chunks.push(c));
    gzip.write("first part;");
    await new Promise((resolve) => gzip.flush(resolve));
    const flushed = Buffer.concat(chunks);
    const partial = createGunzip();
    let seen = "";
    partial.on("data", (c) => (seen += c));
    await new Promise((resolve) => partial.write(flushed, resolve));
    out.afterFlush = seen;
    gzip.end("second part");
    await new Promise((resolve) => gzip.on("end", resolve));
    out.flushedWhole = gunzipSync(Buffer.concat(chunks)).toString();

    // A pipeline through gzip and gunzip.
    let piped = "";
    await pipeline(
      Readable.from(["a", "b", "c"].map((x) => x.repeat(1000))),
      createGzip(),
      createGunzip(),
      new Writable({ write(c, e, cb) { piped += c; cb(); } }),
    );
    out.pipeline = [piped.length, piped.slice(999, 1001)];
    out.streamError = await new Promise((resolve) => {
      const s = createGunzip();
      s.on("error", (e) => resolve([e.message, e.code, e.errno]));
      s.end(Buffer.from("plain text, not gzip"));
    });

    out.crc32 = [zlib.crc32("hello"), zlib.crc32("world", zlib.crc32("hello ")), zlib.crc32(Buffer.from("hello world"))];
    out.errors = [
      failure(() => inflateSync(Buffer.from("not zlib data"))),
      failure(() => gunzipSync(b64(NODE.gzip).subarray(0, 10))),
      failure(() => brotliDecompressSync(Buffer.from("garbage!!"))),
      failure(() => gzipSync(123)),
    ];
    out.constants = [zlib.Z_SYNC_FLUSH, constants.BROTLI_PARAM_QUALITY, typeof zlib.Gzip, Object.keys(zlib).length];
    return Response.json(out);
  },
};
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zlib_compresses_and_decompresses_as_node_does() {
  let out = node_answer("zlib", WORKER).await;
  assert_eq!(out["fromNode"], serde_json::json!([TEXT, TEXT, TEXT, TEXT, TEXT, TEXT]));
  assert_eq!(out["gzipMagic"], serde_json::json!([0x1f, 0x8b, true]));
  assert_eq!(out["roundTrips"], serde_json::json!([true, true, true, true, "010203"]));
  assert_eq!(out["callback"], TEXT);
  assert_eq!(out["promisified"], TEXT);
  assert_eq!(out["members"], "one,two");
  assert_eq!(out["afterFlush"], "first part;", "a flush makes what was written so far decompressible");
  assert_eq!(out["flushedWhole"], "first part;second part");
  assert_eq!(out["pipeline"], serde_json::json!([3000, "ab"]));
  assert_eq!(out["streamError"], serde_json::json!(["incorrect header check", "Z_DATA_ERROR", -3]));
  // What Node.js 20 gives for the same calls.
  assert_eq!(out["crc32"], serde_json::json!([907060870u32, 222957957u32, 222957957u32]));
  assert_eq!(
    out["errors"],
    serde_json::json!([
      ["incorrect header check", "Z_DATA_ERROR", -3],
      ["unexpected end of file", "Z_BUF_ERROR", -5],
      ["Decompression failed", "ERR__ERROR_FORMAT_PADDING_1", -14],
      ["The \"buffer\" argument must be of type string or an instance of Buffer, TypedArray, DataView, or ArrayBuffer. Received type number (123)", "ERR_INVALID_ARG_TYPE", null],
    ])
  );
  assert_eq!(out["constants"], serde_json::json!([2, 1, "function", 39]));
}

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

/// node:zlib as Node's own tests use it: classes callable without `new`, options checked with Node's errors,
/// `_processChunk`, output in pieces of `chunkSize`, a flush's output readable in its callback, partial
/// decompression with `finishFlush`, and the state after an error or `destroy()`.
const NODE_WAYS: &str = r##"
import zlib from "node:zlib";
import { Buffer } from "node:buffer";

const error = (e) => [e.name, e.code, e.message];
const thrown = (f) => { try { f(); return "no error"; } catch (e) { return error(e); } };

async function run() {
  const out = {};
  // Node's classes are functions: callable without `new`, and subclassable the old way.
  out.constructors = [zlib.Gzip() instanceof zlib.Gzip, zlib.BrotliCompress() instanceof zlib.BrotliCompress, zlib.Gzip.name, zlib.Gzip.length];
  function Mine(options) { zlib.DeflateRaw.call(this, options); this.mine = true; }
  Object.setPrototypeOf(Mine.prototype, zlib.DeflateRaw.prototype);
  Object.setPrototypeOf(Mine, zlib.DeflateRaw);
  const mine = new Mine();
  out.inherited = await new Promise((resolve) => {
    const chunks = [];
    mine.on("data", (c) => chunks.push(c));
    mine.on("end", () => resolve([mine.mine, zlib.inflateRawSync(Buffer.concat(chunks)).toString()]));
    mine.end("inherited");
  });
  // The options, checked with Node's errors.
  out.options = [{ chunkSize: "test" }, { chunkSize: -Infinity }, { chunkSize: 0 }, { windowBits: 0 }, { windowBits: 100 }, { level: -2 }, { level: "x" },
    { memLevel: 0 }, { strategy: 5 }, { flush: 6 }, { finishFlush: -1 }, { dictionary: "not a buffer" }]
    .map((options) => thrown(() => new zlib.Deflate(options)));
  out.gzipWindow = [thrown(() => zlib.createGzip({ windowBits: 8 })), thrown(() => zlib.createInflate({ windowBits: 0 }))];
  out.brotliParams = [thrown(() => zlib.createBrotliCompress({ params: { [zlib.constants.BROTLI_PARAM_MODE]: "lol" } })),
    thrown(() => zlib.createBrotliCompress({ params: { 9: 1 } })), thrown(() => zlib.createBrotliCompress({ params: { a: 1 } })),
    thrown(() => zlib.createBrotliDecompress({ params: { 2: 1 } }))];
  const defaults = zlib.createGzip({ level: NaN, strategy: NaN });
  out.defaults = [defaults._level, defaults._strategy, defaults._chunkSize, defaults._defaultFlushFlag, defaults._finishFlushFlag, defaults._closed];
  out.params = [thrown(() => zlib.createDeflate().params("x")), thrown(() => zlib.createDeflate().params(0, Infinity))];
  out.oneShot = [thrown(() => zlib.gzipSync(1)), thrown(() => zlib.gzip("x")), thrown(() => zlib.gzip({ a: 1 }, () => {})), thrown(() => zlib.gzipSync("x", { level: 10 }))];
  out.crc32 = [thrown(() => zlib.crc32(1)), thrown(() => zlib.crc32("a", -1)), thrown(() => zlib.crc32(new ArrayBuffer(2)))];
  // _processChunk: the output of one chunk at once, without the stream.
  const zipper = new zlib.Gzip();
  const zipped = zipper._processChunk(Buffer.from("Come on, Fhqwhgads."), zlib.constants.Z_FINISH);
  out.processChunk = new zlib.Gunzip()._processChunk(zipped, zlib.constants.Z_FINISH).toString();
  // Output comes in pieces of chunkSize; each flush's output is readable in its callback.
  out.pieces = await new Promise((resolve) => {
    const sizes = [];
    const unzip = zlib.createGunzip();
    unzip.on("data", (c) => sizes.push(c.length));
    unzip.on("end", () => resolve(sizes));
    unzip.end(zlib.gzipSync("A".repeat(17000)));
  });
  out.flushes = await new Promise((resolve) => {
    const compress = zlib.createGzip();
    const events = [];
    for (const chunk of ["abc", "def"]) {
      compress.write(chunk, () => events.push(`written ${chunk}`));
      compress.flush(zlib.constants.Z_PARTIAL_FLUSH, () => events.push(`flushed ${compress.read() !== null}`));
    }
    compress.end(() => resolve(events));
  });
  // A truncated stream read with finishFlush Z_SYNC_FLUSH gives what it has, without an error.
  const whole = zlib.gzipSync("partial data, and more of it");
  out.partial = await new Promise((resolve) => {
    const chunks = [];
    const unzip = zlib.createGunzip({ finishFlush: zlib.constants.Z_SYNC_FLUSH });
    unzip.on("data", (c) => chunks.push(c));
    unzip.on("error", (e) => resolve(error(e)));
    unzip.on("end", () => resolve(Buffer.concat(chunks).toString()));
    unzip.end(whole.subarray(0, whole.length - 8));
  });
  out.afterError = await new Promise((resolve) => {
    const unzip = zlib.createGunzip();
    const before = unzip._closed;
    unzip.on("error", (e) => resolve([before, unzip._closed, e.code]));
    unzip.write("something invalid");
  });
  const destroyed = zlib.createGzip();
  destroyed.destroy();
  out.destroyed = [destroyed._handle, destroyed._closed];
  return out;
}
"##;

/// What Node 20.20.2 printed for [`NODE_WAYS`] (`maxOutputLength` is left out: its limit is
/// node:buffer's kMaxLength, 2^31-1 here and 2^32 in Node).
const NODE_WAYS_FROM_NODE: &str = r##"{
  "constructors": [true,true,"Gzip",1],
  "inherited": [true,"inherited"],
  "options": [["TypeError","ERR_INVALID_ARG_TYPE","The \"options.chunkSize\" property must be of type number. Received type string ('test')"],["RangeError","ERR_OUT_OF_RANGE","The value of \"options.chunkSize\" is out of range. It must be a finite number. Received -Infinity"],["RangeError","ERR_OUT_OF_RANGE","The value of \"options.chunkSize\" is out of range. It must be >= 64. Received 0"],["RangeError","ERR_OUT_OF_RANGE","The value of \"options.windowBits\" is out of range. It must be >= 8 and <= 15. Received 0"],["RangeError","ERR_OUT_OF_RANGE","The value of \"options.windowBits\" is out of range. It must be >= 8 and <= 15. Received 100"],["RangeError","ERR_OUT_OF_RANGE","The value of \"options.level\" is out of range. It must be >= -1 and <= 9. Received -2"],["TypeError","ERR_INVALID_ARG_TYPE","The \"options.level\" property must be of type number. Received type string ('x')"],["RangeError","ERR_OUT_OF_RANGE","The value of \"options.memLevel\" is out of range. It must be >= 1 and <= 9. Received 0"],["RangeError","ERR_OUT_OF_RANGE","The value of \"options.strategy\" is out of range. It must be >= 0 and <= 4. Received 5"],["RangeError","ERR_OUT_OF_RANGE","The value of \"options.flush\" is out of range. It must be >= 0 and <= 5. Received 6"],["RangeError","ERR_OUT_OF_RANGE","The value of \"options.finishFlush\" is out of range. It must be >= 0 and <= 5. Received -1"],["TypeError","ERR_INVALID_ARG_TYPE","The \"options.dictionary\" property must be an instance of Buffer, TypedArray, DataView, or ArrayBuffer. Received type string ('not a buffer')"]],
  "gzipWindow": [["RangeError","ERR_OUT_OF_RANGE","The value of \"options.windowBits\" is out of range. It must be >= 9 and <= 15. Received 8"],"no error"],
  "brotliParams": [["TypeError","ERR_INVALID_ARG_TYPE","The \"options.params[key]\" property must be of type number. Received type string ('lol')"],["RangeError","ERR_BROTLI_INVALID_PARAM","9 is not a valid Brotli parameter"],["RangeError","ERR_BROTLI_INVALID_PARAM","a is not a valid Brotli parameter"],["Error","ERR_ZLIB_INITIALIZATION_FAILED","Initialization failed"]],
  "defaults": [-1,0,16384,0,4,false],
  "params": [["TypeError","ERR_INVALID_ARG_TYPE","The \"level\" argument must be of type number. Received type string ('x')"],["RangeError","ERR_OUT_OF_RANGE","The value of \"strategy\" is out of range. It must be a finite number. Received Infinity"]],
  "oneShot": [["TypeError","ERR_INVALID_ARG_TYPE","The \"buffer\" argument must be of type string or an instance of Buffer, TypedArray, DataView, or ArrayBuffer. Received type number (1)"],["TypeError","ERR_INVALID_ARG_TYPE","The \"callback\" argument must be of type function. Received undefined"],["TypeError","ERR_INVALID_ARG_TYPE","The \"chunk\" argument must be of type string or an instance of Buffer, TypedArray, or DataView. Received an instance of Object"],["RangeError","ERR_OUT_OF_RANGE","The value of \"options.level\" is out of range. It must be >= -1 and <= 9. Received 10"]],
  "crc32": [["TypeError","ERR_INVALID_ARG_TYPE","The \"data\" argument must be of type string or an instance of Buffer, TypedArray, or DataView. Received type number (1)"],["RangeError","ERR_OUT_OF_RANGE","The value of \"value\" is out of range. It must be >= 0 && <= 4294967295. Received -1"],["TypeError","ERR_INVALID_ARG_TYPE","The \"data\" argument must be of type string or an instance of Buffer, TypedArray, or DataView. Received an instance of ArrayBuffer"]],
  "processChunk": "Come on, Fhqwhgads.",
  "pieces": [16384,616],
  "flushes": ["written abc","flushed true","written def","flushed true"],
  "partial": "partial data, and more of it",
  "afterError": [false,true,"Z_DATA_ERROR"],
  "destroyed": [null,true]
}"##;

/// zlib's classes, option checks and stream behaviour, key by key as Node 20 gives them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zlib_classes_options_and_streams_are_nodes() {
  let out = node_run_answer("zlibways", NODE_WAYS).await;
  assert_like_node(&out, NODE_WAYS_FROM_NODE);
}

// node:zlib: gzip, deflate, raw deflate and brotli, both ways, and unzip (gzip or deflate by
// its header): the one-shot functions (sync, callback, and so promisify), the streams
// (Transform streams of node:stream, loaded on first use, with flush), crc32, constants and
// codes. The work is done by three ops on flate2 and brotli (runtime/src/node_ops/zlib.rs);
// the compressed bytes are those crates' (decompressed, they are what Node's give;
// compressed, they differ, as two zlib builds may).

import { op_edge_zlib_finish, op_edge_zlib_new, op_edge_zlib_write } from "ext:core/ops";
import { Buffer } from "node:buffer";
import { LazyTransform } from "node:internal/streams/lazy";

export const constants = Object.freeze({
  Z_NO_FLUSH: 0,
  Z_PARTIAL_FLUSH: 1,
  Z_SYNC_FLUSH: 2,
  Z_FULL_FLUSH: 3,
  Z_FINISH: 4,
  Z_BLOCK: 5,
  Z_OK: 0,
  Z_STREAM_END: 1,
  Z_NEED_DICT: 2,
  Z_ERRNO: -1,
  Z_STREAM_ERROR: -2,
  Z_DATA_ERROR: -3,
  Z_MEM_ERROR: -4,
  Z_BUF_ERROR: -5,
  Z_VERSION_ERROR: -6,
  Z_NO_COMPRESSION: 0,
  Z_BEST_SPEED: 1,
  Z_BEST_COMPRESSION: 9,
  Z_DEFAULT_COMPRESSION: -1,
  Z_FILTERED: 1,
  Z_HUFFMAN_ONLY: 2,
  Z_RLE: 3,
  Z_FIXED: 4,
  Z_DEFAULT_STRATEGY: 0,
  ZLIB_VERNUM: 4880,
  DEFLATE: 1,
  INFLATE: 2,
  GZIP: 3,
  GUNZIP: 4,
  DEFLATERAW: 5,
  INFLATERAW: 6,
  UNZIP: 7,
  BROTLI_DECODE: 8,
  BROTLI_ENCODE: 9,
  Z_MIN_WINDOWBITS: 8,
  Z_MAX_WINDOWBITS: 15,
  Z_DEFAULT_WINDOWBITS: 15,
  Z_MIN_CHUNK: 64,
  Z_MAX_CHUNK: Infinity,
  Z_DEFAULT_CHUNK: 16384,
  Z_MIN_MEMLEVEL: 1,
  Z_MAX_MEMLEVEL: 9,
  Z_DEFAULT_MEMLEVEL: 8,
  Z_MIN_LEVEL: -1,
  Z_MAX_LEVEL: 9,
  Z_DEFAULT_LEVEL: -1,
  BROTLI_OPERATION_PROCESS: 0,
  BROTLI_OPERATION_FLUSH: 1,
  BROTLI_OPERATION_FINISH: 2,
  BROTLI_OPERATION_EMIT_METADATA: 3,
  BROTLI_PARAM_MODE: 0,
  BROTLI_MODE_GENERIC: 0,
  BROTLI_MODE_TEXT: 1,
  BROTLI_MODE_FONT: 2,
  BROTLI_DEFAULT_MODE: 0,
  BROTLI_PARAM_QUALITY: 1,
  BROTLI_MIN_QUALITY: 0,
  BROTLI_MAX_QUALITY: 11,
  BROTLI_DEFAULT_QUALITY: 11,
  BROTLI_PARAM_LGWIN: 2,
  BROTLI_MIN_WINDOW_BITS: 10,
  BROTLI_MAX_WINDOW_BITS: 24,
  BROTLI_LARGE_MAX_WINDOW_BITS: 30,
  BROTLI_DEFAULT_WINDOW: 22,
  BROTLI_PARAM_LGBLOCK: 3,
  BROTLI_MIN_INPUT_BLOCK_BITS: 16,
  BROTLI_MAX_INPUT_BLOCK_BITS: 24,
  BROTLI_PARAM_DISABLE_LITERAL_CONTEXT_MODELING: 4,
  BROTLI_PARAM_SIZE_HINT: 5,
  BROTLI_PARAM_LARGE_WINDOW: 6,
  BROTLI_PARAM_NPOSTFIX: 7,
  BROTLI_PARAM_NDIRECT: 8,
  BROTLI_DECODER_RESULT_ERROR: 0,
  BROTLI_DECODER_RESULT_SUCCESS: 1,
  BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT: 2,
  BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT: 3,
  BROTLI_DECODER_PARAM_DISABLE_RING_BUFFER_REALLOCATION: 0,
  BROTLI_DECODER_PARAM_LARGE_WINDOW: 1,
  BROTLI_DECODER_NO_ERROR: 0,
  BROTLI_DECODER_SUCCESS: 1,
  BROTLI_DECODER_NEEDS_MORE_INPUT: 2,
  BROTLI_DECODER_NEEDS_MORE_OUTPUT: 3,
  BROTLI_DECODER_ERROR_FORMAT_EXUBERANT_NIBBLE: -1,
  BROTLI_DECODER_ERROR_FORMAT_RESERVED: -2,
  BROTLI_DECODER_ERROR_FORMAT_EXUBERANT_META_NIBBLE: -3,
  BROTLI_DECODER_ERROR_FORMAT_SIMPLE_HUFFMAN_ALPHABET: -4,
  BROTLI_DECODER_ERROR_FORMAT_SIMPLE_HUFFMAN_SAME: -5,
  BROTLI_DECODER_ERROR_FORMAT_CL_SPACE: -6,
  BROTLI_DECODER_ERROR_FORMAT_HUFFMAN_SPACE: -7,
  BROTLI_DECODER_ERROR_FORMAT_CONTEXT_MAP_REPEAT: -8,
  BROTLI_DECODER_ERROR_FORMAT_BLOCK_LENGTH_1: -9,
  BROTLI_DECODER_ERROR_FORMAT_BLOCK_LENGTH_2: -10,
  BROTLI_DECODER_ERROR_FORMAT_TRANSFORM: -11,
  BROTLI_DECODER_ERROR_FORMAT_DICTIONARY: -12,
  BROTLI_DECODER_ERROR_FORMAT_WINDOW_BITS: -13,
  BROTLI_DECODER_ERROR_FORMAT_PADDING_1: -14,
  BROTLI_DECODER_ERROR_FORMAT_PADDING_2: -15,
  BROTLI_DECODER_ERROR_FORMAT_DISTANCE: -16,
  BROTLI_DECODER_ERROR_DICTIONARY_NOT_SET: -19,
  BROTLI_DECODER_ERROR_INVALID_ARGUMENTS: -20,
  BROTLI_DECODER_ERROR_ALLOC_CONTEXT_MODES: -21,
  BROTLI_DECODER_ERROR_ALLOC_TREE_GROUPS: -22,
  BROTLI_DECODER_ERROR_ALLOC_CONTEXT_MAP: -25,
  BROTLI_DECODER_ERROR_ALLOC_RING_BUFFER_1: -26,
  BROTLI_DECODER_ERROR_ALLOC_RING_BUFFER_2: -27,
  BROTLI_DECODER_ERROR_ALLOC_BLOCK_TYPE_TREES: -30,
  BROTLI_DECODER_ERROR_UNREACHABLE: -31,
});

export const codes = Object.freeze({
  Z_OK: 0, Z_STREAM_END: 1, Z_NEED_DICT: 2, Z_ERRNO: -1, Z_STREAM_ERROR: -2, Z_DATA_ERROR: -3,
  Z_MEM_ERROR: -4, Z_BUF_ERROR: -5, Z_VERSION_ERROR: -6,
  0: "Z_OK", 1: "Z_STREAM_END", 2: "Z_NEED_DICT", [-1]: "Z_ERRNO", [-2]: "Z_STREAM_ERROR",
  [-3]: "Z_DATA_ERROR", [-4]: "Z_MEM_ERROR", [-5]: "Z_BUF_ERROR", [-6]: "Z_VERSION_ERROR",
});

/** Node's words for what was passed instead (`type number (123)`, `an instance of Object`). */
function received(value) {
  if (value == null) return String(value);
  if (typeof value === "function") return `function ${value.name}`;
  if (typeof value === "object") return `an instance of ${value.constructor?.name ?? "Object"}`;
  const shown = String(value).length > 25 ? `${String(value).slice(0, 25)}...` : String(value);
  return `type ${typeof value} (${typeof value === "string" ? `'${shown}'` : shown})`;
}

function invalidType(name, value) {
  const error = new TypeError(
    `The "${name}" argument must be of type string or an instance of Buffer, TypedArray, DataView, or ArrayBuffer. Received ${received(value)}`,
  );
  error.code = "ERR_INVALID_ARG_TYPE";
  return error;
}

function input(data, name = "buffer") {
  if (typeof data === "string") return Buffer.from(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (data instanceof ArrayBuffer || data instanceof SharedArrayBuffer) return new Uint8Array(data);
  throw invalidType(name, data);
}

function outputBuffer(bytes) {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** A failure of the op as Node's zlib reports it: with `errno` and `code`. */
function zlibError(kind, error, started) {
  if (kind === "brotliDecompress") {
    const e = new Error("Decompression failed");
    e.errno = -14;
    e.code = "ERR__ERROR_FORMAT_PADDING_1";
    return e;
  }
  const truncated = error.message === "unexpected end of file";
  // zlib's words for input that is not in the format at all.
  const message = truncated ? error.message : started ? `invalid data: ${error.message}` : "incorrect header check";
  const e = new Error(message);
  e.errno = truncated ? -5 : -3;
  e.code = truncated ? "Z_BUF_ERROR" : "Z_DATA_ERROR";
  return e;
}

function brotliParam(options, param, fallback) {
  const value = options?.params?.[param];
  return typeof value === "number" ? value : fallback;
}

function handle(kind, options) {
  const level = typeof options?.level === "number" ? options.level : -1;
  if (level < -1 || level > 9) {
    const error = new RangeError(`The value of "options.level" is out of range. It must be >= -1 and <= 9. Received ${level}`);
    error.code = "ERR_OUT_OF_RANGE";
    throw error;
  }
  return op_edge_zlib_new(
    kind,
    level,
    brotliParam(options, constants.BROTLI_PARAM_QUALITY, -1),
    brotliParam(options, constants.BROTLI_PARAM_LGWIN, -1),
  );
}

function tooLarge(max) {
  const error = new RangeError(`Cannot create a Buffer larger than ${max} bytes`);
  error.code = "ERR_BUFFER_TOO_LARGE";
  return error;
}

/** The whole of `data` through a `kind` stream, at once. */
function processSync(kind, data, options) {
  const bytes = input(data);
  const stream = handle(kind, options);
  let started = false;
  try {
    const first = op_edge_zlib_write(stream, bytes, false);
    started = true;
    const rest = op_edge_zlib_finish(stream);
    const out = Buffer.concat([outputBuffer(first), outputBuffer(rest)]);
    const max = options?.maxOutputLength;
    if (typeof max === "number" && out.length > max) throw tooLarge(max);
    return options?.info ? { buffer: out, engine: new ZLIBS[kind](options) } : out;
  } catch (error) {
    if (error.code) throw error;
    throw zlibError(kind, error, started);
  }
}

function callbackForm(kind) {
  return function (data, options, callback) {
    if (typeof options === "function") [options, callback] = [{}, options];
    if (typeof callback !== "function") {
      const error = new TypeError(`The "callback" argument must be of type function. Received ${typeof callback}`);
      error.code = "ERR_INVALID_ARG_TYPE";
      throw error;
    }
    const bytes = input(data);
    queueMicrotask(() => {
      let result;
      try {
        result = processSync(kind, bytes, options);
      } catch (error) {
        callback(error);
        return;
      }
      callback(null, result);
    });
  };
}

const FLUSH = Buffer.alloc(0);

/** A Node zlib stream: a Transform (node:stream loaded on first use) over one op stream. */
class Zlib extends LazyTransform {
  #kind;
  #handle;
  #started = false;
  #options;

  constructor(kind, options = {}) {
    super({ ...options, objectMode: false, readableObjectMode: false, writableObjectMode: false });
    this.#kind = kind;
    this.#options = options ?? {};
    this.#handle = handle(kind, this.#options);
    this.bytesWritten = 0;
    this._finishFlushFlag = this.#options.finishFlush ?? constants.Z_FINISH;
    this._defaultFlushFlag = this.#options.flush ?? constants.Z_NO_FLUSH;
  }

  get _handle() {
    return this.#handle;
  }

  #push(bytes) {
    if (bytes.byteLength > 0) this.push(outputBuffer(bytes));
  }

  _transform(chunk, encoding, callback) {
    const flush = chunk === FLUSH || this._defaultFlushFlag !== constants.Z_NO_FLUSH;
    try {
      const bytes = typeof chunk === "string" ? Buffer.from(chunk, encoding) : chunk;
      this.#push(op_edge_zlib_write(this.#handle, bytes, flush));
      this.#started = this.#started || bytes.byteLength > 0;
      this.bytesWritten += bytes.byteLength;
    } catch (error) {
      callback(zlibError(this.#kind, error, this.bytesWritten > 0));
      return;
    }
    callback();
  }

  _flush(callback) {
    try {
      this.#push(op_edge_zlib_finish(this.#handle));
    } catch (error) {
      callback(zlibError(this.#kind, error, this.#started));
      return;
    }
    callback();
  }

  /** Emits everything written so far (a sync flush), then calls `callback`. */
  flush(kind, callback) {
    if (typeof kind === "function") callback = kind;
    this.write(FLUSH, () => callback?.());
  }

  /** Changes the level and strategy for what follows; here they are fixed at construction. */
  params(level, strategy, callback) {
    queueMicrotask(() => callback?.());
  }

  reset() {}

  close(callback) {
    if (callback) this.once("close", callback);
    this.destroy();
  }
}

export class Deflate extends Zlib { constructor(options) { super("deflate", options); } }
export class Inflate extends Zlib { constructor(options) { super("inflate", options); } }
export class Gzip extends Zlib { constructor(options) { super("gzip", options); } }
export class Gunzip extends Zlib { constructor(options) { super("gunzip", options); } }
export class DeflateRaw extends Zlib { constructor(options) { super("deflateRaw", options); } }
export class InflateRaw extends Zlib { constructor(options) { super("inflateRaw", options); } }
export class Unzip extends Zlib { constructor(options) { super("unzip", options); } }
export class BrotliCompress extends Zlib { constructor(options) { super("brotliCompress", options); } }
export class BrotliDecompress extends Zlib { constructor(options) { super("brotliDecompress", options); } }

const ZLIBS = {
  deflate: Deflate, inflate: Inflate, gzip: Gzip, gunzip: Gunzip, deflateRaw: DeflateRaw,
  inflateRaw: InflateRaw, unzip: Unzip, brotliCompress: BrotliCompress, brotliDecompress: BrotliDecompress,
};

export const createDeflate = (options) => new Deflate(options);
export const createInflate = (options) => new Inflate(options);
export const createGzip = (options) => new Gzip(options);
export const createGunzip = (options) => new Gunzip(options);
export const createDeflateRaw = (options) => new DeflateRaw(options);
export const createInflateRaw = (options) => new InflateRaw(options);
export const createUnzip = (options) => new Unzip(options);
export const createBrotliCompress = (options) => new BrotliCompress(options);
export const createBrotliDecompress = (options) => new BrotliDecompress(options);

export const deflate = callbackForm("deflate");
export const inflate = callbackForm("inflate");
export const gzip = callbackForm("gzip");
export const gunzip = callbackForm("gunzip");
export const deflateRaw = callbackForm("deflateRaw");
export const inflateRaw = callbackForm("inflateRaw");
export const unzip = callbackForm("unzip");
export const brotliCompress = callbackForm("brotliCompress");
export const brotliDecompress = callbackForm("brotliDecompress");

export const deflateSync = (data, options) => processSync("deflate", data, options);
export const inflateSync = (data, options) => processSync("inflate", data, options);
export const gzipSync = (data, options) => processSync("gzip", data, options);
export const gunzipSync = (data, options) => processSync("gunzip", data, options);
export const deflateRawSync = (data, options) => processSync("deflateRaw", data, options);
export const inflateRawSync = (data, options) => processSync("inflateRaw", data, options);
export const unzipSync = (data, options) => processSync("unzip", data, options);
export const brotliCompressSync = (data, options) => processSync("brotliCompress", data, options);
export const brotliDecompressSync = (data, options) => processSync("brotliDecompress", data, options);

let CRC_TABLE;

/** The CRC-32 of `data`, continuing from `value` (Node's `zlib.crc32`). */
export function crc32(data, value = 0) {
  if (!CRC_TABLE) {
    CRC_TABLE = new Int32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      CRC_TABLE[n] = c;
    }
  }
  const bytes = typeof data === "string" ? Buffer.from(data) : input(data, "data");
  let crc = ~value;
  for (let i = 0; i < bytes.length; i++) crc = CRC_TABLE[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return ~crc >>> 0;
}

const zlib = {
  constants, codes, crc32,
  Deflate, Inflate, Gzip, Gunzip, DeflateRaw, InflateRaw, Unzip, BrotliCompress, BrotliDecompress,
  createDeflate, createInflate, createGzip, createGunzip, createDeflateRaw, createInflateRaw,
  createUnzip, createBrotliCompress, createBrotliDecompress,
  deflate, inflate, gzip, gunzip, deflateRaw, inflateRaw, unzip, brotliCompress, brotliDecompress,
  deflateSync, inflateSync, gzipSync, gunzipSync, deflateRawSync, inflateRawSync, unzipSync,
  brotliCompressSync, brotliDecompressSync,
};
// Node's legacy names for the zlib constants (`zlib.Z_SYNC_FLUSH`), not enumerable as there.
for (const [name, value] of Object.entries(constants)) {
  if (!name.startsWith("BROTLI_")) Object.defineProperty(zlib, name, { value, enumerable: false });
}

export default zlib;

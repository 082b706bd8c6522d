// node:zlib: gzip, deflate, raw deflate and brotli, both ways, and unzip (gzip or deflate by
// its header): the one-shot functions (sync, callback, and so promisify), the streams
// (Transform streams of node:stream, loaded on first use, with flush), crc32, constants and
// codes. The work is done by three ops on flate2 and brotli (runtime/src/node_ops/zlib.rs);
// the compressed bytes are those crates' (decompressed, they are what Node's give;
// compressed, they differ, as two zlib builds may).

import { op_edge_zlib_finish, op_edge_zlib_new, op_edge_zlib_write } from "ext:core/ops";
import { core } from "ext:core/mod.js";
import { Buffer, kMaxLength } from "node:buffer";
import {
  invalidArgType,
  nodeError,
  outOfRange,
  validateFunction,
  validateNumber,
  validateUint32,
} from "node:internal/errors";
import { LazyTransform } from "node:internal/streams/lazy";

const loadStream = core.createLazyLoader("node:stream");

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

const BYTES = ["string", "Buffer", "TypedArray", "DataView", "ArrayBuffer"];

function input(data, name = "buffer") {
  if (typeof data === "string") return Buffer.from(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (data instanceof ArrayBuffer || data instanceof SharedArrayBuffer) return new Uint8Array(data);
  throw invalidArgType(name, BYTES, data);
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

// Node's checks of the options (lib/zlib.js): a number that is not given, or NaN, means the
// default; any other that is not a finite number in range is an error.
function validateFiniteNumber(number, name) {
  if (number === undefined) return false;
  if (Number.isFinite(number)) return true;
  if (Number.isNaN(number)) return false;
  validateNumber(number, name);
  throw outOfRange(name, "a finite number", number);
}

function checkRangesOrGetDefault(number, name, lower, upper, fallback) {
  if (!validateFiniteNumber(number, name)) return fallback;
  if (number < lower || number > upper) throw outOfRange(name, `>= ${lower} and <= ${upper}`, number);
  return number;
}

const MODES = {
  deflate: constants.DEFLATE, inflate: constants.INFLATE, gzip: constants.GZIP, gunzip: constants.GUNZIP,
  deflateRaw: constants.DEFLATERAW, inflateRaw: constants.INFLATERAW, unzip: constants.UNZIP,
  brotliDecompress: constants.BROTLI_DECODE, brotliCompress: constants.BROTLI_ENCODE,
};
const isBrotli = (kind) => kind === "brotliCompress" || kind === "brotliDecompress";
// The highest BROTLI_PARAM_ number, and the parameters a decoder takes.
const MAX_BROTLI_PARAM = 8;
const BROTLI_DECODER_PARAMS = new Set([0, 1]);

/**
 * The checked options of a `kind` stream: zlib's level, strategy, window and memory level, or
 * brotli's parameters (Node's errors for each).
 */
function checkOptions(kind, opts) {
  const checked = { level: constants.Z_DEFAULT_COMPRESSION, strategy: constants.Z_DEFAULT_STRATEGY, params: [] };
  if (isBrotli(kind)) {
    if (opts?.params) {
      for (const key of Object.keys(opts.params)) {
        const param = +key;
        if (Number.isNaN(param) || param < 0 || param > MAX_BROTLI_PARAM || checked.params[param] !== undefined) {
          throw nodeError(RangeError, "ERR_BROTLI_INVALID_PARAM", `${key} is not a valid Brotli parameter`);
        }
        const value = opts.params[key];
        if (typeof value !== "number" && typeof value !== "boolean") {
          throw invalidArgType("options.params[key]", "number", value);
        }
        // What brotli's decoder does not know, it refuses.
        if (kind === "brotliDecompress" && !BROTLI_DECODER_PARAMS.has(param)) {
          throw nodeError(Error, "ERR_ZLIB_INITIALIZATION_FAILED", "Initialization failed");
        }
        checked.params[param] = Number(value);
      }
    }
    return checked;
  }
  if (!opts) return checked;
  const mode = MODES[kind];
  if (
    !((opts.windowBits == null || opts.windowBits === 0) &&
      (mode === constants.INFLATE || mode === constants.GUNZIP || mode === constants.UNZIP))
  ) {
    // `{ windowBits: 8 }` is valid for deflate, not gzip.
    const min = constants.Z_MIN_WINDOWBITS + (mode === constants.GZIP ? 1 : 0);
    checkRangesOrGetDefault(opts.windowBits, "options.windowBits", min, constants.Z_MAX_WINDOWBITS);
  }
  checked.level = checkRangesOrGetDefault(
    opts.level, "options.level", constants.Z_MIN_LEVEL, constants.Z_MAX_LEVEL, constants.Z_DEFAULT_COMPRESSION,
  );
  checkRangesOrGetDefault(opts.memLevel, "options.memLevel", constants.Z_MIN_MEMLEVEL, constants.Z_MAX_MEMLEVEL);
  checked.strategy = checkRangesOrGetDefault(
    opts.strategy, "options.strategy", constants.Z_DEFAULT_STRATEGY, constants.Z_FIXED, constants.Z_DEFAULT_STRATEGY,
  );
  const dictionary = opts.dictionary;
  if (dictionary !== undefined && !ArrayBuffer.isView(dictionary) &&
    !(dictionary instanceof ArrayBuffer || dictionary instanceof SharedArrayBuffer)) {
    throw invalidArgType("options.dictionary", ["Buffer", "TypedArray", "DataView", "ArrayBuffer"], dictionary);
  }
  return checked;
}

/** A new op stream of `kind`, with `checked` options. */
function handle(kind, checked) {
  const param = (p) => checked.params[p] ?? -1;
  return op_edge_zlib_new(kind, checked.level, param(constants.BROTLI_PARAM_QUALITY), param(constants.BROTLI_PARAM_LGWIN));
}

function tooLarge(max) {
  return nodeError(RangeError, "ERR_BUFFER_TOO_LARGE", `Cannot create a Buffer larger than ${max} bytes`);
}

/** The whole of `data` through a `kind` stream, at once. */
function processSync(kind, data, options) {
  const bytes = input(data);
  const checked = checkOptions(kind, options);
  const max = checkRangesOrGetDefault(options?.maxOutputLength, "options.maxOutputLength", 1, kMaxLength, kMaxLength);
  const stream = handle(kind, checked);
  let started = false;
  try {
    const first = op_edge_zlib_write(stream, bytes, false);
    started = true;
    const rest = op_edge_zlib_finish(stream);
    if (first.byteLength + rest.byteLength > max) throw tooLarge(max);
    const out = Buffer.concat([outputBuffer(first), outputBuffer(rest)]);
    return options?.info ? { buffer: out, engine: new ZLIBS[kind](options) } : out;
  } catch (error) {
    if (error.code) throw error;
    throw zlibError(kind, error, started);
  }
}

function callbackForm(kind) {
  return function (data, options, callback) {
    if (typeof options === "function") [options, callback] = [{}, options];
    validateFunction(callback, "callback");
    // Node writes the data to a stream: a stream's words for what is not bytes.
    if (!(typeof data === "string" || ArrayBuffer.isView(data) || data instanceof ArrayBuffer ||
      data instanceof SharedArrayBuffer)) {
      throw invalidArgType("chunk", ["string", "Buffer", "TypedArray", "DataView"], data);
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

// Zero-length chunks that carry a flush through the stream to `_transform` (Node's
// kFlushBuffers), one per flush kind.
const kFlushFlag = Symbol("kFlushFlag");
const FLUSH_BUFFERS = [];
for (let flag = 0; flag <= constants.Z_BLOCK; flag++) {
  FLUSH_BUFFERS[flag] = Buffer.alloc(0);
  FLUSH_BUFFERS[flag][kFlushFlag] = flag;
}
const kKind = Symbol("kKind");
const kChecked = Symbol("kChecked");
const kStarted = Symbol("kStarted");
const kPending = Symbol("kPending");
const kFinished = Symbol("kFinished");
const COMPRESSORS = new Set(["deflate", "gzip", "deflateRaw", "brotliCompress"]);
const ZLIB_FLUSHES = { flush: constants.Z_NO_FLUSH, finishFlush: constants.Z_FINISH, fullFlush: constants.Z_FULL_FLUSH };
const BROTLI_FLUSHES = {
  flush: constants.BROTLI_OPERATION_PROCESS,
  finishFlush: constants.BROTLI_OPERATION_FINISH,
  fullFlush: constants.BROTLI_OPERATION_FLUSH,
};

/** Whether `flag` ends the stream (Z_FINISH, or brotli's FINISH) or flushes it (any other). */
function finishes(kind, flag) {
  return isBrotli(kind) ? flag === constants.BROTLI_OPERATION_FINISH : flag === constants.Z_FINISH;
}
function flushes(kind, flag) {
  return isBrotli(kind) ? flag !== constants.BROTLI_OPERATION_PROCESS : flag !== constants.Z_NO_FLUSH;
}

/**
 * Node's zlib stream (lib/zlib.js's ZlibBase, Zlib and Brotli in one): a Transform
 * (node:stream loaded on first use) over one op stream. A constructor function, as Node's:
 * `zlib.Gzip()` works without `new`, and `Gzip.call(this)` from a subclass.
 */
function ZlibBase(opts, kind) {
  const checked = checkOptions(kind, opts);
  const defaults = isBrotli(kind) ? BROTLI_FLUSHES : ZLIB_FLUSHES;
  let chunkSize = constants.Z_DEFAULT_CHUNK;
  let flush = defaults.flush;
  let finishFlush = defaults.finishFlush;
  let maxOutputLength = kMaxLength;
  if (opts) {
    chunkSize = opts.chunkSize;
    if (!validateFiniteNumber(chunkSize, "options.chunkSize")) {
      chunkSize = constants.Z_DEFAULT_CHUNK;
    } else if (chunkSize < constants.Z_MIN_CHUNK) {
      throw outOfRange("options.chunkSize", `>= ${constants.Z_MIN_CHUNK}`, chunkSize);
    }
    const highest = isBrotli(kind) ? constants.BROTLI_OPERATION_EMIT_METADATA : constants.Z_BLOCK;
    flush = checkRangesOrGetDefault(opts.flush, "options.flush", 0, highest, flush);
    finishFlush = checkRangesOrGetDefault(opts.finishFlush, "options.finishFlush", 0, highest, finishFlush);
    maxOutputLength = checkRangesOrGetDefault(opts.maxOutputLength, "options.maxOutputLength", 1, kMaxLength, kMaxLength);
    if (opts.encoding || opts.objectMode || opts.writableObjectMode) {
      opts = { ...opts, encoding: null, objectMode: false, writableObjectMode: false };
    }
  }
  LazyTransform.call(this, { autoDestroy: true, ...opts });
  this[kKind] = kind;
  this[kChecked] = checked;
  this[kStarted] = false;
  this.bytesWritten = 0;
  this._handle = handle(kind, checked);
  this._outOffset = 0;
  this._chunkSize = chunkSize;
  this._defaultFlushFlag = flush;
  this._finishFlushFlag = finishFlush;
  this._defaultFullFlushFlag = defaults.fullFlush;
  this._info = opts && opts.info;
  this._maxOutputLength = maxOutputLength;
  if (!isBrotli(kind)) {
    this._level = checked.level;
    this._strategy = checked.strategy;
  }
}
Object.setPrototypeOf(ZlibBase.prototype, LazyTransform.prototype);
Object.setPrototypeOf(ZlibBase, LazyTransform);

/**
 * Feeds `chunk` to the op stream with `flushFlag`: what comes out, or the error (Node's zlib
 * error) it raised. The op stream ends with a finishing flag.
 */
function runChunk(self, chunk, flushFlag) {
  const kind = self[kKind];
  try {
    if (!self._handle) throw new Error("zlib binding closed");
    const bytes = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
    // Finished already (the last chunk carried the finishing flag): nothing more comes.
    if (self[kFinished] && bytes.byteLength === 0) return { parts: [] };
    const parts = [op_edge_zlib_write(self._handle, bytes, flushes(kind, flushFlag))];
    self[kStarted] = self[kStarted] || bytes.byteLength > 0;
    self.bytesWritten += bytes.byteLength;
    if (finishes(kind, flushFlag)) {
      parts.push(op_edge_zlib_finish(self._handle));
      self[kFinished] = true;
    }
    return { parts };
  } catch (error) {
    if (error.message === "zlib binding closed") return { error };
    return { error: zlibError(kind, error, self[kStarted]) };
  }
}

/**
 * Pushes `parts` in pieces of `_chunkSize`, as Node's zlib gives its output: a compressor's
 * output waits until it fills a piece or is flushed (`flushed`); when the readable side is
 * full, the rest waits for the next read; nothing more comes once destroyed. Then `callback`.
 */
function pushOutput(self, parts, flushed, callback) {
  let all = parts.length === 1 ? outputBuffer(parts[0]) : Buffer.concat(parts.map(outputBuffer));
  if (self[kPending]) {
    all = Buffer.concat([self[kPending], all]);
    self[kPending] = null;
  }
  let end = all.byteLength;
  if (!flushed && COMPRESSORS.has(self[kKind])) {
    end -= end % self._chunkSize;
    if (end < all.byteLength) self[kPending] = all.subarray(end);
  }
  const pieces = [];
  for (let at = 0; at < end; at += self._chunkSize) {
    pieces.push(all.subarray(at, Math.min(at + self._chunkSize, end)));
  }
  const next = () => {
    while (pieces.length > 0) {
      if (self.destroyed) return;
      const more = self.push(pieces.shift());
      if (!more && pieces.length > 0) {
        const read = self._read;
        self._read = (n) => {
          self._read = read;
          next();
          self._read(n);
        };
        return;
      }
    }
    callback();
  };
  next();
}

Object.defineProperties(ZlibBase.prototype, {
  _closed: {
    get() {
      return !this._handle;
    },
    configurable: true,
    enumerable: true,
  },
});

Object.assign(ZlibBase.prototype, {
  /** Starts over with a new op stream and the same options. */
  reset() {
    if (!this._handle) throw new Error("zlib binding closed");
    this._handle = handle(this[kKind], this[kChecked]);
    this[kStarted] = false;
    this[kPending] = null;
    this[kFinished] = false;
  },

  // The last chunk was written: finish (or, with another `finishFlush`, flush) the op stream.
  _flush(callback) {
    this._transform(Buffer.alloc(0), "", callback);
  },

  _final(callback) {
    callback();
  },

  /** Emits everything written so far (`kind`: a flush flag, a full flush by default). */
  flush(kind, callback) {
    if (typeof kind === "function" || (kind === undefined && !callback)) {
      callback = kind;
      kind = this._defaultFullFlushFlag;
    }
    if (this.writableFinished) {
      if (callback) queueMicrotask(callback);
    } else if (this.writableEnded) {
      if (callback) this.once("end", callback);
    } else {
      this.write(FLUSH_BUFFERS[kind], "", callback);
    }
  },

  close(callback) {
    if (callback) loadStream().finished(this, callback);
    this.destroy();
  },

  _destroy(error, callback) {
    this._handle = null;
    callback(error);
  },

  _transform(chunk, encoding, callback) {
    let flushFlag = this._defaultFlushFlag;
    if (typeof chunk[kFlushFlag] === "number") flushFlag = chunk[kFlushFlag];
    // The last chunk (the empty one of `_flush`) carries the finishing flag.
    if (this.writableEnded && this.writableLength === chunk.byteLength) {
      flushFlag = Math.max(flushFlag, this._finishFlushFlag);
    }
    // Later, as Node's zlib works off the thread: a write's output and callback never come
    // within the write (a flush's callback reads that flush's output, and no more).
    queueMicrotask(() => {
      if (this.destroyed) return;
      const { parts, error } = runChunk(this, chunk, flushFlag);
      if (error) {
        callback(error);
        return;
      }
      pushOutput(this, parts, flushes(this[kKind], flushFlag), callback);
    });
  },

  /** Node's older way in: with `callback`, as a stream write; without, the output at once. */
  _processChunk(chunk, flushFlag, callback) {
    if (typeof callback === "function") {
      this._transform(chunk, "", callback);
      return undefined;
    }
    const { parts, error } = runChunk(this, chunk, flushFlag);
    if (error) {
      this._handle = null;
      throw error;
    }
    const size = parts.reduce((sum, part) => sum + part.byteLength, 0);
    if (size > this._maxOutputLength) throw tooLarge(this._maxOutputLength);
    return Buffer.concat(parts.map(outputBuffer), size);
  },

  /** Changes the level and strategy for what follows (here they stay as they were made). */
  params(level, strategy, callback) {
    checkRangesOrGetDefault(level, "level", constants.Z_MIN_LEVEL, constants.Z_MAX_LEVEL);
    checkRangesOrGetDefault(strategy, "strategy", constants.Z_DEFAULT_STRATEGY, constants.Z_FIXED);
    if (this._level !== level || this._strategy !== strategy) {
      this.flush(constants.Z_SYNC_FLUSH, () => {
        if (this.destroyed) return;
        this._level = level;
        this._strategy = strategy;
        callback?.();
      });
    } else if (callback) {
      queueMicrotask(callback);
    }
  },
});

/** Node's zlib class `name` of `kind`: callable with or without `new`. */
function zlibClass(name, kind) {
  const constructor = function (options) {
    if (!(this instanceof constructor)) return new constructor(options);
    ZlibBase.call(this, options, kind);
  };
  Object.defineProperty(constructor, "name", { value: name, configurable: true });
  Object.setPrototypeOf(constructor.prototype, ZlibBase.prototype);
  Object.setPrototypeOf(constructor, ZlibBase);
  return constructor;
}

export const Deflate = zlibClass("Deflate", "deflate");
export const Inflate = zlibClass("Inflate", "inflate");
export const Gzip = zlibClass("Gzip", "gzip");
export const Gunzip = zlibClass("Gunzip", "gunzip");
export const DeflateRaw = zlibClass("DeflateRaw", "deflateRaw");
export const InflateRaw = zlibClass("InflateRaw", "inflateRaw");
export const Unzip = zlibClass("Unzip", "unzip");
export const BrotliCompress = zlibClass("BrotliCompress", "brotliCompress");
export const BrotliDecompress = zlibClass("BrotliDecompress", "brotliDecompress");

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
  if (typeof data !== "string" && !ArrayBuffer.isView(data)) {
    throw invalidArgType("data", ["string", "Buffer", "TypedArray", "DataView"], data);
  }
  validateUint32(value, "value");
  const bytes = input(data, "data");
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

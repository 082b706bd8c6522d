// node:string_decoder: Node 20's StringDecoder, written here over node:buffer. A character
// split between two writes is held back (up to 4 bytes) until the bytes it lacks arrive, and
// what cannot become a character turns into U+FFFD exactly where Node's decoder puts one: an
// incomplete UTF-8 sequence ends as soon as a byte that cannot continue it arrives, and a
// lone UTF-16 half or odd byte is given out or dropped as Node does. base64 and base64url hold
// back a partial group of three bytes; hex, latin1 and ascii need no holding back.

import { Buffer } from "node:buffer";
import { invalidArgType, nodeError } from "node:internal/errors";

const kState = Symbol("kNativeDecoder");

// The names Node accepts (any case) and the one each stands for.
const ENCODINGS = {
  utf8: "utf8",
  "utf-8": "utf8",
  ucs2: "utf16le",
  "ucs-2": "utf16le",
  utf16le: "utf16le",
  "utf-16le": "utf16le",
  latin1: "latin1",
  binary: "latin1",
  base64: "base64",
  base64url: "base64url",
  hex: "hex",
  ascii: "ascii",
};

function normalizeEncoding(encoding) {
  if (encoding === undefined || encoding === null || encoding === "") return "utf8";
  const name = typeof encoding === "string" ? ENCODINGS[encoding] ?? ENCODINGS[encoding.toLowerCase()] : undefined;
  if (name === undefined) {
    throw nodeError(TypeError, "ERR_UNKNOWN_ENCODING", `Unknown encoding: ${String(encoding)}`);
  }
  return name;
}

function invalidThis() {
  return nodeError(TypeError, "ERR_INVALID_THIS", 'Value of "this" must be of type StringDecoder');
}

/** A Buffer over the bytes of any ArrayBufferView (no copy). */
function bytesOf(view) {
  return Buffer.isBuffer(view) ? view : Buffer.from(view.buffer, view.byteOffset, view.byteLength);
}

/** Whether `byte` is a UTF-8 continuation byte (10xxxxxx). */
function isContinuation(byte) {
  return (byte & 0xc0) === 0x80;
}

/** How long a UTF-8 character that starts with `lead` is, or 0 for no valid lead byte. */
function utf8Length(lead) {
  if ((lead & 0xe0) === 0xc0) return 2;
  if ((lead & 0xf0) === 0xe0) return 3;
  if ((lead & 0xf8) === 0xf0) return 4;
  return 0;
}

/** How many bytes at the end of `bytes` (of `length`) start a character the next write ends. */
function heldBack(state, bytes, length) {
  const { encoding } = state;
  if (encoding === "utf8") {
    if ((bytes[length - 1] & 0x80) === 0) return 0;
    // Back to the byte that starts the last character, through at most three continuations.
    for (let i = length - 1, count = 1; ; i--, count++) {
      if (isContinuation(bytes[i])) {
        if (count >= 4 || i === 0) return 0;
        continue;
      }
      const total = utf8Length(bytes[i]);
      if (total === 0 || count >= total) return 0;
      state.missing = total - count;
      return count;
    }
  }
  if (encoding === "utf16le") {
    if (length % 2 === 1) {
      state.missing = 1;
      return 1;
    }
    // The first half of a surrogate pair.
    if ((bytes[length - 1] & 0xfc) === 0xd8) {
      state.missing = 2;
      return 2;
    }
    return 0;
  }
  // base64, base64url: whole groups of three bytes.
  const rest = length % 3;
  if (rest > 0) state.missing = 3 - rest;
  return rest;
}

/** Decodes one write's bytes, finishing the held-back character first. */
function decode(state, bytes) {
  const { encoding } = state;
  if (encoding === "hex" || encoding === "latin1" || encoding === "ascii") {
    return bytes.toString(encoding);
  }
  let start = 0;
  let length = bytes.length;
  let prefix = "";
  if (state.missing > 0) {
    if (encoding === "utf8") {
      // A byte that cannot continue the held-back character ends it (as invalid) and starts
      // the next one.
      for (let i = 0; i < length && i < state.missing; i++) {
        if (!isContinuation(bytes[i])) {
          state.held.set(bytes.subarray(0, i), state.buffered);
          state.buffered += i;
          state.missing = 0;
          start = i;
          break;
        }
      }
    }
    const taken = Math.min(length - start, state.missing);
    state.held.set(bytes.subarray(start, start + taken), state.buffered);
    start += taken;
    state.missing -= taken;
    state.buffered += taken;
    if (state.missing === 0) {
      prefix = state.held.toString(encoding, 0, state.buffered);
      state.buffered = 0;
    }
  }
  if (start === length) return prefix;
  const kept = heldBack(state, bytes.subarray(start), length - start);
  if (kept > 0) {
    length -= kept;
    state.held.set(bytes.subarray(length, length + kept), 0);
    state.buffered = kept;
  }
  return start < length ? prefix + bytes.toString(encoding, start, length) : prefix;
}

/** What is held back at the end, decoded as it is. */
function flush(state) {
  if (state.encoding === "utf16le" && state.buffered % 2 === 1) {
    // A single trailing byte is dropped.
    state.missing--;
    state.buffered--;
  }
  if (state.buffered === 0) return "";
  const text = state.held.toString(state.encoding, 0, state.buffered);
  state.missing = 0;
  state.buffered = 0;
  return text;
}

function stateOf(decoder) {
  const state = decoder?.[kState];
  if (state === undefined) throw invalidThis();
  return state;
}

export function StringDecoder(encoding) {
  this.encoding = normalizeEncoding(encoding);
  this[kState] = { encoding: this.encoding, held: Buffer.alloc(4), missing: 0, buffered: 0 };
}

StringDecoder.prototype.write = function write(buf) {
  if (typeof buf === "string") return buf;
  if (!ArrayBuffer.isView(buf)) throw invalidArgType("buf", ["Buffer", "TypedArray", "DataView"], buf);
  return decode(stateOf(this), bytesOf(buf));
};

StringDecoder.prototype.end = function end(buf) {
  let text = "";
  if (buf !== undefined) text = this.write(buf);
  const state = stateOf(this);
  if (state.buffered > 0) text += flush(state);
  return text;
};

/** Decodes `buf` from `offset` on, forgetting any held-back character first. */
StringDecoder.prototype.text = function text(buf, offset) {
  const state = stateOf(this);
  state.missing = 0;
  state.buffered = 0;
  return this.write(buf.slice(offset));
};

Object.defineProperties(StringDecoder.prototype, {
  // The held-back bytes (four, the unused ones as they were).
  lastChar: {
    configurable: true,
    enumerable: true,
    get() {
      return stateOf(this).held;
    },
  },
  // How many bytes the held-back character still lacks.
  lastNeed: {
    configurable: true,
    enumerable: true,
    get() {
      return stateOf(this).missing;
    },
  },
  // How many bytes the held-back character has in all.
  lastTotal: {
    configurable: true,
    enumerable: true,
    get() {
      const state = stateOf(this);
      return state.buffered + state.missing;
    },
  },
});

export default { StringDecoder };

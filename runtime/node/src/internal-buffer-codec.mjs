// node:internal/buffer/codec: Buffer's encodings (utf8, utf16le, latin1, ascii, hex, base64,
// base64url) between strings and bytes, with Node's semantics, through native code wherever
// the runtime has some. Under QuickJS a JavaScript loop over characters runs at a few MB/s,
// against hundreds for the ops, so:
// - UTF-8 goes through TextEncoder and TextDecoder's op (both replace invalid input as WHATWG
//   says, which is what Node does; encodeInto writes only whole characters, as Node does);
// - base64 and base64url through deno_web's simdutf ops, Latin-1 through deno_core's
//   binary-string op (and ASCII text through the UTF-8 encoder, which writes the same bytes);
// - what has no op (hex, UTF-16 out, text outside Latin-1) loops over typed arrays, a word at a
//   time where it can.
//
// Every function takes bytes as a Uint8Array (a Buffer is one) and a canonical encoding name,
// as `getEncoding`/`normalizeEncoding` give.

import {
  op_base64_btoa,
  op_base64_decode,
  op_base64_encode_from_buffer,
  op_base64url_decode,
  op_base64url_encode_from_buffer,
  op_encode_binary_string,
  op_encoding_decode_utf8,
  op_encoding_decode_utf8_ascii_only,
} from "ext:core/ops";

const encoder = new TextEncoder();
// Strict, so that lone surrogates (which Node keeps and this decoder would replace) fail.
const utf16Decoder = new TextDecoder("utf-16le", { fatal: true, ignoreBOM: true });
const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

// Node's spellings of each encoding, lower-cased.
const NAMES = {
  __proto__: null,
  utf8: "utf8",
  "utf-8": "utf8",
  ucs2: "utf16le",
  "ucs-2": "utf16le",
  utf16le: "utf16le",
  "utf-16le": "utf16le",
  latin1: "latin1",
  binary: "latin1",
  ascii: "ascii",
  hex: "hex",
  base64: "base64",
  base64url: "base64url",
};

/** The encoding `toString`/`write`/`byteLength` mean by `encoding` (any case), or undefined. */
export function getEncoding(encoding) {
  if (typeof encoding === "string") {
    const exact = NAMES[encoding];
    if (exact !== undefined) return exact;
  }
  return NAMES[`${encoding}`.toLowerCase()];
}

/** Node's normalizeEncoding (Buffer.isEncoding, fill): also null/undefined/"" for utf8. */
export function normalizeEncoding(encoding) {
  if (encoding == null || encoding === "") return "utf8";
  return typeof encoding === "string" ? getEncoding(encoding) : undefined;
}

/** A plain Uint8Array over `bytes[start, end)`, for the ops and decoders. */
function view(bytes, start, end) {
  return new Uint8Array(bytes.buffer, bytes.byteOffset + start, end - start);
}

// ---- byte lengths ----

// The hot loops here declare `var`s: QuickJS checks a `let`'s temporal dead zone on every
// access, which makes a tight loop over `let`s about three times slower.

function utf8Length(string) {
  var length = string.length;
  // Long strings: the native encoder beats any loop here.
  if (length > 128) return encoder.encode(string).length;
  var bytes = length;
  for (var i = 0; i < length; i++) {
    var code = string.charCodeAt(i);
    if (code < 0x80) continue;
    if (code < 0x800) {
      bytes += 1;
    } else if (code >= 0xd800 && code <= 0xdbff && (string.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 2; // a surrogate pair: 4 bytes for 2 code units
      i++;
    } else {
      bytes += 2; // 3 bytes, lone surrogates included (written as U+FFFD)
    }
  }
  return bytes;
}

// Node estimates base64 from the length (less up to two trailing "="), without decoding.
function base64Length(string) {
  let length = string.length;
  if (string.charCodeAt(length - 1) === 0x3d) length--;
  if (length > 1 && string.charCodeAt(length - 1) === 0x3d) length--;
  return (length * 3) >>> 2;
}

/** Node's Buffer.byteLength of a string in `encoding` (canonical). */
export function byteLength(string, encoding) {
  switch (encoding) {
    case "utf8":
      return utf8Length(string);
    case "utf16le":
      return string.length * 2;
    case "latin1":
    case "ascii":
      return string.length;
    case "hex":
      return string.length >>> 1;
    default:
      return base64Length(string);
  }
}

// ---- bytes to strings ----

const HEX = "0123456789abcdef";
// Each byte's two hex digits as one 16-bit unit whose bytes, in memory, are the two characters.
const HEX_PAIRS = new Uint16Array(256);
{
  const chars = new Uint8Array(HEX_PAIRS.buffer);
  for (let i = 0; i < 256; i++) {
    chars[2 * i] = HEX.charCodeAt(i >> 4);
    chars[2 * i + 1] = HEX.charCodeAt(i & 15);
  }
}

// Four bytes a word at a time into two words of digits (little-endian hosts).
function hexWords(source, target, count) {
  var pairs = HEX_PAIRS;
  var j = 0;
  for (var i = 0; i < count; i++) {
    var word = source[i];
    target[j++] = pairs[word & 255] | (pairs[(word >>> 8) & 255] << 16);
    target[j++] = pairs[(word >>> 16) & 255] | (pairs[word >>> 24] << 16);
  }
}

// Short input: joining two-digit strings costs less than setting up typed arrays.
const HEX_STRINGS = Array.from({ length: 256 }, (_, i) => HEX[i >> 4] + HEX[i & 15]);

function hexSlice(bytes, start, end) {
  var length = end - start;
  if (length < 48) {
    var text = "";
    for (var k = start; k < end; k++) text += HEX_STRINGS[bytes[k]];
    return text;
  }
  var digits = new Uint16Array(length);
  var done = 0;
  if (littleEndian) {
    var words = length >>> 2;
    var at = bytes.byteOffset + start;
    var source;
    if (at % 4 === 0) {
      source = new Uint32Array(bytes.buffer, at, words);
    } else {
      source = new Uint32Array(words);
      new Uint8Array(source.buffer).set(view(bytes, start, start + words * 4));
    }
    hexWords(source, new Uint32Array(digits.buffer, 0, words * 2), words);
    done = words * 4;
  }
  for (var i = done; i < length; i++) digits[i] = HEX_PAIRS[bytes[start + i]];
  return op_encode_binary_string(new Uint8Array(digits.buffer));
}

function asciiSlice(bytes, start, end) {
  const part = view(bytes, start, end);
  const ascii = op_encoding_decode_utf8_ascii_only(part);
  if (ascii !== null) return ascii;
  // Node drops the high bit of each byte.
  var masked = new Uint8Array(part.length);
  for (var i = 0; i < part.length; i++) masked[i] = part[i] & 0x7f;
  return op_encode_binary_string(masked);
}

function utf16Slice(bytes, start, end) {
  const length = (end - start) & ~1; // an odd last byte is ignored, as Node does
  if (length === 0) return "";
  const part = view(bytes, start, start + length);
  try {
    return utf16Decoder.decode(part);
  } catch {
    // Lone surrogates, which Node keeps as they are: build the string from the code units.
  }
  let units;
  if (littleEndian && part.byteOffset % 2 === 0) {
    units = new Uint16Array(part.buffer, part.byteOffset, length / 2);
  } else {
    units = new Uint16Array(length / 2);
    const copy = new Uint8Array(units.buffer);
    for (let i = 0; i < length; i += 2) {
      copy[littleEndian ? i : i + 1] = part[i];
      copy[littleEndian ? i + 1 : i] = part[i + 1];
    }
  }
  let text = "";
  for (let i = 0; i < units.length; i += 8192) {
    text += String.fromCharCode.apply(null, units.subarray(i, i + 8192));
  }
  return text;
}

/** `bytes[start, end)` as a string in `encoding` (canonical); 0 <= start <= end <= length. */
export function decode(bytes, start, end, encoding) {
  if (start >= end) return "";
  switch (encoding) {
    case "utf8":
      // TextDecoder's own op (true: keep a byte order mark), without the decoder's checks.
      return op_encoding_decode_utf8(start === 0 && end === bytes.length ? bytes : view(bytes, start, end), true);
    case "latin1":
      return op_encode_binary_string(view(bytes, start, end));
    case "ascii":
      return asciiSlice(bytes, start, end);
    case "hex":
      return hexSlice(bytes, start, end);
    case "base64":
      return op_base64_encode_from_buffer(bytes, start, end - start);
    case "base64url":
      return op_base64url_encode_from_buffer(bytes, start, end - start);
    default:
      return utf16Slice(bytes, start, end);
  }
}

// ---- strings to bytes ----

// Node's base64 decoder takes both alphabets, skips what is in neither, and stops at the first
// "=". The simdutf ops take one alphabet (and whitespace) each; anything else is cleaned here
// first. Node reads only the low byte of each UTF-16 code unit, so this does too.
function cleanBase64(string) {
  let text = string;
  if (/[^\x00-\xff]/.test(text)) {
    const low = new Uint8Array(text.length);
    lowBytes(text, low, text.length);
    text = op_encode_binary_string(low);
  }
  const padding = text.indexOf("=");
  if (padding !== -1) text = text.slice(0, padding);
  text = text.replace(/[^A-Za-z0-9+/\-_]/g, "").replace(/-/g, "+").replace(/_/g, "/");
  // A single character left over makes no byte.
  return text.length % 4 === 1 ? text.slice(0, -1) : text;
}

function base64Decode(string) {
  try {
    return op_base64_decode(string);
  } catch {
    // Not plain base64: base64url, or something to clean.
  }
  try {
    return op_base64url_decode(string);
  } catch {
    return op_base64_decode(cleanBase64(string));
  }
}

// Each code unit's low byte (Node reads only that of text it takes as single bytes).
function lowBytes(string, target, count) {
  for (var i = 0; i < count; i++) target[i] = string.charCodeAt(i);
}

// Two hex digits, as the 16-bit unit their bytes make in memory, to the byte they spell; 256
// for a pair that is not one. Made on first use (128 KB).
let hexDigitPairs;
function digitPairs() {
  if (hexDigitPairs === undefined) {
    hexDigitPairs = new Uint16Array(65536).fill(256);
    const digits = "0123456789abcdefABCDEF";
    for (let i = 0; i < digits.length; i++) {
      for (let j = 0; j < digits.length; j++) {
        const first = digits.charCodeAt(i);
        const second = digits.charCodeAt(j);
        const unit = littleEndian ? first | (second << 8) : (first << 8) | second;
        hexDigitPairs[unit] = (parseInt(digits[i], 16) << 4) | parseInt(digits[j], 16);
      }
    }
  }
  return hexDigitPairs;
}

// `chars` (a fresh Uint8Array of 2 * count digits) decoded into `target`: four digits a word at
// a time on little-endian hosts, then (or where a pair is bad) two at a time.
function hexPairs(chars, target, offset, count) {
  var pairs = digitPairs();
  var i = 0;
  if (littleEndian) {
    var words = new Uint32Array(chars.buffer, 0, count >>> 1);
    for (var w = 0; w < words.length; w++) {
      var word = words[w];
      var first = pairs[word & 0xffff];
      var second = pairs[word >>> 16];
      if ((first | second) > 255) break;
      target[offset + i] = first;
      target[offset + i + 1] = second;
      i += 2;
    }
  }
  var units = new Uint16Array(chars.buffer);
  for (; i < count; i++) {
    var byte = pairs[units[i]];
    if (byte > 255) break;
    target[offset + i] = byte;
  }
  return i;
}

// Pairs of hex digits up to the first that is not one (Node's hex_decode).
function hexWrite(target, string, offset, length) {
  const count = Math.min(length, string.length >>> 1);
  if (count === 0) return 0;
  const digits = count * 2;
  const chars = new Uint8Array(digits);
  // ASCII text: its bytes natively; anything else code unit by code unit, as Node reads it.
  const text = digits === string.length ? string : string.slice(0, digits);
  const { read, written } = encoder.encodeInto(text, chars);
  if (read !== digits || written !== digits) lowBytes(text, chars, digits);
  return hexPairs(chars, target, offset, count);
}

// Latin-1 (and Node's "ascii", which writes the same bytes): the low byte of each code unit.
function latin1Write(target, string, offset, length) {
  const count = Math.min(length, string.length);
  if (count === 0) return 0;
  const part = view(target, offset, offset + count);
  const text = count === string.length ? string : string.slice(0, count);
  // ASCII text: UTF-8 is the same bytes, and the encoder is native.
  const { read, written } = encoder.encodeInto(text, part);
  if (read === count && written === count) return count;
  // Latin-1 text: through base64, both ways native; beyond Latin-1 (which the op refuses), a loop.
  try {
    part.set(op_base64_decode(op_base64_btoa(text)));
  } catch {
    lowBytes(text, part, count);
  }
  return count;
}

function utf16Units(string, target, count) {
  for (var i = 0; i < count; i++) target[i] = string.charCodeAt(i);
}

function utf16Write(target, string, offset, length) {
  var count = Math.min(string.length, length >>> 1);
  if (littleEndian && (target.byteOffset + offset) % 2 === 0) {
    utf16Units(string, new Uint16Array(target.buffer, target.byteOffset + offset, count), count);
  } else {
    for (var i = 0, j = offset; i < count; i++, j += 2) {
      var unit = string.charCodeAt(i);
      target[j] = unit;
      target[j + 1] = unit >>> 8;
    }
  }
  return count * 2;
}

/**
 * Writes `string` in `encoding` (canonical) into `target` at `offset`, at most `length` bytes
 * (which the caller has clamped to the target), and returns how many it wrote. UTF-8 writes
 * whole characters only, as Node does.
 */
export function write(target, string, offset, length, encoding) {
  if (length <= 0) return 0;
  switch (encoding) {
    case "utf8":
      return encoder.encodeInto(string, view(target, offset, offset + length)).written;
    case "latin1":
    case "ascii":
      return latin1Write(target, string, offset, length);
    case "hex":
      return hexWrite(target, string, offset, length);
    case "base64":
    case "base64url": {
      const bytes = base64Decode(string);
      const count = Math.min(bytes.length, length);
      target.set(count === bytes.length ? bytes : bytes.subarray(0, count), offset);
      return count;
    }
    default:
      return utf16Write(target, string, offset, length);
  }
}

/** `string` in `encoding` (canonical) as a new Uint8Array of exactly its bytes. */
export function encode(string, encoding) {
  switch (encoding) {
    case "utf8":
      return encoder.encode(string);
    case "base64":
    case "base64url":
      return base64Decode(string);
    default: {
      const bytes = new Uint8Array(byteLength(string, encoding));
      const written = write(bytes, string, 0, bytes.length, encoding);
      return written === bytes.length ? bytes : bytes.subarray(0, written);
    }
  }
}

/** Whether every byte of `bytes` (a Uint8Array) is below 0x80. */
export function isAsciiBytes(bytes) {
  return op_encoding_decode_utf8_ascii_only(bytes) !== null;
}

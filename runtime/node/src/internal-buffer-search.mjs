// node:internal/buffer/search: Buffer's indexOf/lastIndexOf/includes, with Node's rules
// (lib/buffer.js bidirectionalIndexOf and src/node_buffer.cc IndexOf*): where a search starts
// for a given offset, what an empty needle finds, strings in any encoding, and UTF-16 needles
// found only at even positions. The search itself jumps between occurrences of the needle's
// first byte natively (TypedArray#indexOf); where those are dense, it switches to the engine's
// string search over Latin-1 windows of the buffer, so that a search costs native time, not a
// JavaScript loop over each byte.

import { decode, encode, getEncoding } from "node:internal/buffer/codec";
import { invalidArgType, isUint8Array, unknownEncoding } from "node:internal/buffer/errors";

const { indexOf: indexOfByte, lastIndexOf: lastIndexOfByte } = Uint8Array.prototype;

/**
 * Every this many false starts (places where the first byte matched and the rest did not),
 * the search looks at how far apart they were; closer than SPARSE bytes on average, it goes
 * on natively. (A false start costs about a microsecond under QuickJS, the native search about
 * 10 ns a byte.)
 */
const FALSE_STARTS = 16;
const SPARSE = 128;
/** Bytes of the buffer per native search (even, so that UTF-16 positions stay even). */
const WINDOW = 65536;

// Where a search of `needleLength` bytes starts, or -1 for none (Node's IndexOfOffset).
function searchStart(length, offset, needleLength, forward) {
  if (offset < 0) {
    if (offset + length >= 0) return length + offset;
    return forward || needleLength === 0 ? 0 : -1;
  }
  if (offset + needleLength <= length) return offset;
  if (needleLength === 0) return length;
  return forward ? -1 : length - 1;
}

// (`var`, not `let`, in this loop: QuickJS checks a `let` for its dead zone at every use.)
function matchesAt(haystack, at, needle, length) {
  for (var i = 1; i < length; i++) if (haystack[at + i] !== needle[i]) return false;
  return true;
}

function textForward(haystack, needle, length, at, last, step) {
  const pattern = decode(needle, 0, length, "latin1");
  for (; at <= last; at += WINDOW) {
    const text = decode(haystack, at, Math.min(at + WINDOW, last + 1) + length - 1, "latin1");
    for (let found = text.indexOf(pattern); found !== -1; found = text.indexOf(pattern, found + 1)) {
      if (found % step === 0) return at + found;
    }
  }
  return -1;
}

function textBackward(haystack, needle, length, at, step) {
  const pattern = decode(needle, 0, length, "latin1");
  while (at >= 0) {
    const begin = Math.max(at - WINDOW + step, 0);
    const text = decode(haystack, begin, at + length, "latin1");
    for (let found = text.lastIndexOf(pattern); found !== -1; found = found > 0 ? text.lastIndexOf(pattern, found - 1) : -1) {
      if (found % step === 0) return begin + found;
    }
    at = begin - step;
  }
  return -1;
}

// The first match at `at` or after (up to `last`), on multiples of `step` from `at`.
function forwardFrom(haystack, needle, length, at, last, step) {
  const first = needle[0];
  for (let tries = 0, since = at; at <= last; at += step) {
    if (haystack[at] !== first && step === 1) {
      at = indexOfByte.call(haystack, first, at);
      if (at === -1 || at > last) return -1;
    }
    if (haystack[at] === first && matchesAt(haystack, at, needle, length)) return at;
    if (++tries === FALSE_STARTS) {
      if (at - since < FALSE_STARTS * SPARSE) return textForward(haystack, needle, length, at + step, last, step);
      tries = 0;
      since = at;
    }
  }
  return -1;
}

// The last match at `at` or before.
function backwardFrom(haystack, needle, length, at, step) {
  const first = needle[0];
  for (let tries = 0, since = at; at >= 0; at -= step) {
    if (haystack[at] !== first && step === 1) {
      at = lastIndexOfByte.call(haystack, first, at);
      if (at === -1) return -1;
    }
    if (haystack[at] === first && matchesAt(haystack, at, needle, length)) return at;
    if (++tries === FALSE_STARTS) {
      if (since - at < FALSE_STARTS * SPARSE) return textBackward(haystack, needle, length, at - step, step);
      tries = 0;
      since = at;
    }
  }
  return -1;
}

function indexOfBytes(haystack, needle, offset, utf16, forward) {
  const length = haystack.length;
  let needleLength = needle.length;
  const start = searchStart(length, offset, needleLength, forward);
  if (needleLength === 0) return start;
  if (length === 0 || start <= -1) return -1;
  if ((forward && needleLength + start > length) || needleLength > length) return -1;
  let from = start;
  let step = 1;
  if (utf16) {
    // Node searches 16-bit units: whole ones of the needle, from the unit the offset is in.
    if (length < 2 || needleLength < 2) return -1;
    needleLength &= ~1;
    from &= ~1;
    step = 2;
  }
  const last = (utf16 ? length & ~1 : length) - needleLength;
  if (forward) return forwardFrom(haystack, needle, needleLength, from, last, step);
  return backwardFrom(haystack, needle, needleLength, Math.min(from, last), step);
}

/** `buf.indexOf(value, byteOffset, encoding)` (forward) or `buf.lastIndexOf(...)`. */
export function bidirectionalIndexOf(buf, value, byteOffset, encoding, forward) {
  if (typeof byteOffset === "string") {
    encoding = byteOffset;
    byteOffset = undefined;
  } else if (byteOffset > 0x7fffffff) {
    byteOffset = 0x7fffffff;
  } else if (byteOffset < -0x80000000) {
    byteOffset = -0x80000000;
  }
  byteOffset = +byteOffset;
  byteOffset = Number.isNaN(byteOffset) ? (forward ? 0 : buf.length) : Math.trunc(byteOffset);

  if (typeof value === "number") {
    const start = searchStart(buf.length, byteOffset, 1, forward);
    if (start <= -1 || buf.length === 0) return -1;
    return (forward ? indexOfByte : lastIndexOfByte).call(buf, (value >>> 0) & 0xff, start);
  }
  const canonical = encoding === undefined ? "utf8" : getEncoding(encoding);
  if (typeof value === "string") {
    if (canonical === undefined) throw unknownEncoding(encoding);
    return indexOfBytes(buf, encode(value, canonical), byteOffset, canonical === "utf16le", forward);
  }
  if (isUint8Array(value)) return indexOfBytes(buf, value, byteOffset, canonical === "utf16le", forward);
  throw invalidArgType("value", ["number", "string", "Buffer", "Uint8Array"], value);
}

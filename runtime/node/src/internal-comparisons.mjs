// node:internal/comparisons: the deep equality of node:assert, written here to Node's rules.
// Strict (`deepStrictEqual`): primitives by Object.is, the same prototype and type tag,
// enumerable own symbol keys too. Loose (`deepEqual`): primitives by `==` (and NaN equals
// NaN), prototypes ignored. Both: Dates by time, RegExps by source, flags and lastIndex, boxed
// primitives by value, Errors by name and message (not enumerable), typed arrays and buffers
// by bytes, Maps and Sets whatever their order (an object member matched deeply against each
// candidate), arrays by length, and cycles by the pairs already being compared.

const { getPrototypeOf, is } = Object;
const tagOf = (value) => Object.prototype.toString.call(value);
const isEnumerable = (object, key) => Object.prototype.propertyIsEnumerable.call(object, key);
const isObject = (value) => (typeof value === "object" && value !== null) || typeof value === "function";

/** Whether `a` and `b` are deeply equal: `strict` as deepStrictEqual, else as deepEqual. */
export function isDeepEqual(a, b, strict) {
  return compare(a, b, strict, { a: new Map(), b: new Map() });
}

function compare(a, b, strict, memo) {
  if (a === b) return a !== 0 || !strict || is(a, b);
  if (!isObject(a) || !isObject(b)) {
    if (strict) return is(a, b);
    if (isObject(a) || isObject(b)) return false;
    // Loose: `==`, where NaN equals NaN.
    return a == b || (a !== a && b !== b);
  }
  if (typeof a === "function" || typeof b === "function") return false;
  if (strict && getPrototypeOf(a) !== getPrototypeOf(b)) return false;
  const tag = tagOf(a);
  if (tag !== tagOf(b)) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  // A pair already under comparison is taken as equal (cycles); a value that meets another
  // partner than before is not.
  const seenA = memo.a.get(a);
  const seenB = memo.b.get(b);
  if (seenA !== undefined || seenB !== undefined) return seenA === b && seenB === a;
  memo.a.set(a, b);
  memo.b.set(b, a);
  try {
    return compareObjects(a, b, tag, strict, memo);
  } finally {
    memo.a.delete(a);
    memo.b.delete(b);
  }
}

function compareObjects(a, b, tag, strict, memo) {
  if (Array.isArray(a) && a.length !== b.length) return false;
  if (tag === "[object Date]" && !is(a.getTime(), b.getTime())) return false;
  if (a instanceof RegExp) {
    if (a.source !== b.source || a.flags !== b.flags || a.lastIndex !== b.lastIndex) return false;
  }
  if (!sameBoxedValue(a, b, tag)) return false;
  if (a instanceof Error || b instanceof Error) {
    if (a.message !== b.message || a.name !== b.name) return false;
    if ("cause" in a !== "cause" in b || !compare(a.cause, b.cause, strict, memo)) return false;
  }
  if (ArrayBuffer.isView(a) || tag === "[object ArrayBuffer]" || tag === "[object SharedArrayBuffer]") {
    if (!sameBytes(a, b, strict)) return false;
  }
  if (a instanceof Map || a instanceof Set) {
    if (!(b instanceof Map || b instanceof Set) || a.size !== b.size) return false;
  }
  if (!sameKeys(a, b, strict, memo)) return false;
  if (a instanceof Set) return sameSet(a, b, strict, memo);
  if (a instanceof Map) return sameMap(a, b, strict, memo);
  return true;
}

function sameBoxedValue(a, b, tag) {
  const unbox = {
    "[object Number]": Number.prototype.valueOf,
    "[object String]": String.prototype.valueOf,
    "[object Boolean]": Boolean.prototype.valueOf,
    "[object BigInt]": BigInt.prototype.valueOf,
    "[object Symbol]": Symbol.prototype.valueOf,
  }[tag];
  if (!unbox) return true;
  let x;
  let y;
  try {
    x = unbox.call(a);
    y = unbox.call(b);
  } catch {
    // An object whose Symbol.toStringTag only imitates a primitive's.
    return true;
  }
  return is(x, y);
}

function sameBytes(a, b, strict) {
  const bytes = (v) =>
    ArrayBuffer.isView(v) ? new Uint8Array(v.buffer, v.byteOffset, v.byteLength) : new Uint8Array(v);
  // Loose mode compares float arrays by value (so 0 equals -0, NaN never equals NaN).
  if (!strict && (a instanceof Float32Array || a instanceof Float64Array)) {
    return a.length === b.length && a.every((value, i) => value === b[i]);
  }
  const x = bytes(a);
  const y = bytes(b);
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

/** The keys deep equality looks at: enumerable own ones (and symbols when strict). */
function keysOf(object, strict) {
  const keys = Object.keys(object);
  if (ArrayBuffer.isView(object)) {
    // The elements were compared as bytes.
    return keys.filter((key) => !/^\d+$/.test(key));
  }
  if (strict)
    for (const symbol of Object.getOwnPropertySymbols(object))
      if (isEnumerable(object, symbol)) keys.push(symbol);
  return keys;
}

function sameKeys(a, b, strict, memo) {
  const keys = keysOf(a, strict);
  if (keys.length !== keysOf(b, strict).length) return false;
  for (const key of keys) {
    if (!isEnumerable(b, key)) return false;
    if (!compare(a[key], b[key], strict, memo)) return false;
  }
  return true;
}

function sameSet(a, b, strict, memo) {
  // Members both hold as such match; the rest needs a deep partner in `b`, each used once
  // (in loose mode a primitive can have one too: 1 and '1').
  const pending = [...a].filter((value) => isObject(value) || !b.has(value));
  if (pending.length === 0) return true;
  if (strict && !pending.every(isObject)) return false;
  const free = [...b].filter((value) => isObject(value) || !a.has(value));
  return pending.every((value) => takePartner(free, (candidate) => compare(value, candidate, strict, memo)));
}

function sameMap(a, b, strict, memo) {
  const pending = [];
  for (const [key, value] of a) {
    if (isObject(key)) pending.push([key, value]);
    else if (b.has(key)) {
      if (!compare(value, b.get(key), strict, memo)) return false;
    } else if (strict) return false;
    else pending.push([key, value]);
  }
  if (pending.length === 0) return true;
  const free = [...b].filter(([key]) => isObject(key) || !a.has(key));
  return pending.every(([key, value]) =>
    takePartner(free, ([k, v]) => compare(key, k, strict, memo) && compare(value, v, strict, memo)),
  );
}

/** Removes and reports the first of `candidates` that `matches`. */
function takePartner(candidates, matches) {
  const index = candidates.findIndex(matches);
  if (index === -1) return false;
  candidates.splice(index, 1);
  return true;
}

// node:assert: written here over node:util's `inspect` and the deep equality of
// node:internal/comparisons. (The `assert` npm package bundles to 165 KB of ES5 with a second
// copy of util and a dozen polyfill packages; unenv's compares deeply by JSON.stringify.)
// AssertionError carries what Node's does (code ERR_ASSERTION, actual, expected, operator,
// generatedMessage) and Node's messages, including a line diff of the two values for
// strictEqual and deepStrictEqual. Two differences: `assert.ok(value)` cannot quote the
// caller's source, so it says `false == true` (as Node does for code it has no file of), and the
// diff pairs lines by their longest common sequence, which for larger values can print other
// lines of context than Node's.

import { inspect } from "node:util";
import { isDeepEqual } from "node:internal/comparisons";
import { core } from "ext:core/mod.js";
import {
  invalidArgType,
  invalidArgValue,
  invalidReturnValue,
  nodeError,
  validateFunction,
  validateObject,
  validateUint32,
} from "node:internal/errors";

const loadProcess = core.createLazyLoader("node:process");

const HEADERS = {
  deepStrictEqual: "Expected values to be strictly deep-equal:",
  strictEqual: "Expected values to be strictly equal:",
  strictEqualObject: 'Expected "actual" to be reference-equal to "expected":',
  deepEqual: "Expected values to be loosely deep-equal:",
  notDeepStrictEqual: 'Expected "actual" not to be strictly deep-equal to:',
  notStrictEqual: 'Expected "actual" to be strictly unequal to:',
  notStrictEqualObject: 'Expected "actual" not to be reference-equal to "expected":',
  notDeepEqual: 'Expected "actual" not to be loosely deep-equal to:',
  notIdentical: "Values have same structure but are not reference-equal:",
  notDeepEqualUnequal: "Expected values not to be loosely deep-equal:",
};

/** How a value appears in a message: every property on its own line, keys sorted. */
function inspectValue(value) {
  return inspect(value, {
    compact: false,
    customInspect: false,
    depth: 1000,
    maxArrayLength: Infinity,
    showHidden: false,
    showProxy: false,
    sorted: true,
    getters: true,
  });
}

const isObjectLike = (value) => (typeof value === "object" && value !== null) || typeof value === "function";

export class AssertionError extends Error {
  constructor(options) {
    validateObject(options, "options");
    const { message, operator, actual, expected, details } = options;
    super(
      message != null && !isDiffOperator(operator)
        ? String(message)
        : describe(actual, expected, operator, message),
    );
    // The stack starts `AssertionError [ERR_ASSERTION]: message`, as Node's does: it is taken
    // while the name says so.
    Object.defineProperty(this, "name", {
      __proto__: null,
      value: "AssertionError [ERR_ASSERTION]",
      writable: true,
      configurable: true,
    });
    this.generatedMessage = message == null;
    this.code = "ERR_ASSERTION";
    if (details) {
      // CallTracker's: one set of properties per function called too often or too rarely.
      this.actual = undefined;
      this.expected = undefined;
      this.operator = undefined;
      for (let i = 0; i < details.length; i++) {
        this[`message ${i}`] = details[i].message;
        this[`actual ${i}`] = details[i].actual;
        this[`expected ${i}`] = details[i].expected;
        this[`operator ${i}`] = details[i].operator;
        this[`stack trace ${i}`] = details[i].stack;
      }
    } else {
      this.actual = actual;
      this.expected = expected;
      this.operator = operator;
    }
    Error.captureStackTrace?.(this, options.stackStartFn || options.stackStartFunction);
    void this.stack;
    this.name = "AssertionError";
  }

  toString() {
    return `${this.name} [${this.code}]: ${this.message}`;
  }
}

const isDiffOperator = (operator) => operator === "strictEqual" || operator === "deepStrictEqual";

/** The generated message for a failed comparison (`message`, if any, heads a diff). */
function describe(actual, expected, operator, message) {
  if (isDiffOperator(operator)) return diffMessage(actual, expected, operator, message);
  if (operator === "notStrictEqual" || operator === "notDeepStrictEqual") {
    const header =
      operator === "notStrictEqual" && isObjectLike(actual)
        ? HEADERS.notStrictEqualObject
        : HEADERS[operator];
    const lines = inspectValue(actual).split("\n");
    if (lines.length === 1) return `${header}${lines[0].length > 5 ? "\n\n" : " "}${lines[0]}`;
    return `${header}\n\n${lines.join("\n")}\n`;
  }
  const shown = inspectValue(actual);
  const other = inspectValue(expected);
  if (operator === "deepEqual")
    return `${HEADERS.deepEqual}\n\n${shown}\n\nshould loosely deep-equal\n\n${other}`;
  if (operator === "notDeepEqual") {
    if (shown === other) return `${HEADERS.notDeepEqual}\n\n${shown}`;
    return `${HEADERS.notDeepEqualUnequal}\n\n${shown}\n\nshould not loosely deep-equal\n\n${other}`;
  }
  return `${shown} ${operator} ${other}`;
}

function diffMessage(actual, expected, operator, message) {
  const objects =
    (isObjectLike(actual) && isObjectLike(expected) && typeof actual === typeof expected) ||
    (typeof actual === "function" && typeof expected === "function");
  if (operator === "strictEqual" && objects) operator = "strictEqualObject";
  const header = message ?? HEADERS[operator];
  const shown = inspectValue(actual);
  const other = inspectValue(expected);
  if (shown === other) return `${HEADERS.notIdentical}\n\n${shown}\n`;
  const actualLines = shown.split("\n");
  const expectedLines = other.split("\n");
  let pointer = "";
  if (actualLines.length === 1 && expectedLines.length === 1) {
    const length = shown.length + other.length;
    const primitives = !isObjectLike(actual) && !isObjectLike(expected);
    if (length <= 12 && primitives && (actual !== 0 || expected !== 0))
      return `${header}\n\n${shown} !== ${other}\n`;
    if (length > 12 && length < 80 && operator !== "strictEqualObject") {
      // A caret under the first difference of two short lines.
      let i = 0;
      while (shown[i] === other[i]) i++;
      if (i > 2) pointer = `\n  ${" ".repeat(i)}^`;
    }
  }
  const { lines, skipped } = lineDiff(actualLines, expectedLines);
  const legend = `+ actual - expected${skipped ? " ... Lines skipped" : ""}`;
  return `${header}\n${legend}\n\n${lines.join("\n")}${pointer}`;
}

/**
 * The lines of `a` and `b` as a diff: `  ` shared, `+ ` only in `a`, `- ` only in `b`, the
 * additions of a change before its removals. Lines that differ by a trailing comma count as
 * shared. Long runs of shared lines are cut to their ends around a `...`.
 */
function lineDiff(a, b) {
  const same = (x, y) => x === y || x === `${y},` || `${x},` === y;
  // Longest common subsequence lengths from the end; large inputs pair lines by position.
  const n = a.length;
  const m = b.length;
  const ops = [];
  if (n * m <= 1_000_000) {
    const table = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
    for (let i = n - 1; i >= 0; i--) {
      for (let j = m - 1; j >= 0; j--) {
        table[i][j] = same(a[i], b[j]) ? table[i + 1][j + 1] + 1 : Math.max(table[i + 1][j], table[i][j + 1]);
      }
    }
    let i = 0;
    let j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && same(a[i], b[j])) {
        ops.push([" ", a[i].length > b[j].length ? a[i] : b[j]]);
        i++;
        j++;
      } else if (j >= m || (i < n && table[i + 1][j] >= table[i][j + 1])) ops.push(["+", a[i++]]);
      else ops.push(["-", b[j++]]);
    }
  } else {
    for (let i = 0; i < Math.max(n, m); i++) {
      if (i < n && i < m && same(a[i], b[i])) ops.push([" ", a[i]]);
      else {
        if (i < n) ops.push(["+", a[i]]);
        if (i < m) ops.push(["-", b[i]]);
      }
    }
  }
  const lines = [];
  let skipped = false;
  let k = 0;
  while (k < ops.length) {
    if (ops[k][0] === " ") {
      let end = k;
      while (end < ops.length && ops[end][0] === " ") end++;
      const run = ops.slice(k, end).map(([, line]) => `  ${line}`);
      const last = end === ops.length;
      // A run of six or more before a change keeps two lines at each end; a final run of five
      // or more, its first line and its last three.
      const [head, tail] = last ? [1, 3] : [2, 2];
      if (run.length >= (last ? 5 : 6)) {
        lines.push(...run.slice(0, head), "...", ...run.slice(run.length - tail));
        skipped = true;
      } else lines.push(...run);
      k = end;
    } else {
      let end = k;
      while (end < ops.length && ops[end][0] !== " ") end++;
      const change = ops.slice(k, end);
      for (const sign of ["+", "-"])
        for (const [op, line] of change) if (op === sign) lines.push(`${sign} ${line}`);
      k = end;
    }
  }
  return { lines, skipped };
}

/** Throws the AssertionError of a failed check (or the Error given as its message). */
function fail_(actual, expected, message, operator, stackStartFn) {
  if (message instanceof Error) throw message;
  throw new AssertionError({ actual, expected, message, operator, stackStartFn });
}

function okCheck(stackStartFn, args) {
  if (args.length === 0) {
    const error = new AssertionError({
      actual: undefined,
      expected: true,
      operator: "==",
      message: "No value argument passed to `assert.ok()`",
      stackStartFn,
    });
    error.generatedMessage = true;
    throw error;
  }
  const [value, message] = args;
  if (!value) fail_(value, true, message, "==", stackStartFn);
}

export function ok(...args) {
  okCheck(ok, args);
}

export function fail(...args) {
  const [actual, expected, message, operator, stackStartFn] = args;
  if (args.length === 0) {
    const error = new AssertionError({ message: "Failed", operator: "fail", stackStartFn: fail });
    error.generatedMessage = true;
    throw error;
  }
  if (args.length === 1) fail_(undefined, undefined, actual, "fail", fail);
  fail_(actual, expected, message, operator ?? (args.length === 2 ? "!=" : "fail"), stackStartFn || fail);
}

export function equal(actual, expected, message) {
  if (!(actual == expected || (actual !== actual && expected !== expected)))
    fail_(actual, expected, message, "==", equal);
}

export function notEqual(actual, expected, message) {
  if (actual == expected || (actual !== actual && expected !== expected))
    fail_(actual, expected, message, "!=", notEqual);
}

export function strictEqual(actual, expected, message) {
  if (!Object.is(actual, expected)) fail_(actual, expected, message, "strictEqual", strictEqual);
}

export function notStrictEqual(actual, expected, message) {
  if (Object.is(actual, expected)) fail_(actual, expected, message, "notStrictEqual", notStrictEqual);
}

export function deepEqual(actual, expected, message) {
  if (!isDeepEqual(actual, expected, false)) fail_(actual, expected, message, "deepEqual", deepEqual);
}

export function notDeepEqual(actual, expected, message) {
  if (isDeepEqual(actual, expected, false)) fail_(actual, expected, message, "notDeepEqual", notDeepEqual);
}

export function deepStrictEqual(actual, expected, message) {
  if (!isDeepEqual(actual, expected, true))
    fail_(actual, expected, message, "deepStrictEqual", deepStrictEqual);
}

export function notDeepStrictEqual(actual, expected, message) {
  if (isDeepEqual(actual, expected, true))
    fail_(actual, expected, message, "notDeepStrictEqual", notDeepStrictEqual);
}

function matchCheck(string, regexp, message, stackStartFn, wanted) {
  if (!(regexp instanceof RegExp)) throw invalidArgType("regexp", "RegExp", regexp);
  if (typeof string === "string" && regexp.test(string) === wanted) return;
  if (message instanceof Error) throw message;
  const generated =
    typeof string !== "string"
      ? `The "string" argument must be of type string. Received type ${typeof string} (${inspect(string)})`
      : `The input ${wanted ? "did not match" : "was expected to not match"} the regular expression ` +
        `${inspect(regexp)}. Input:\n\n${inspect(string)}\n`;
  const error = new AssertionError({
    actual: string,
    expected: regexp,
    message: message ?? generated,
    operator: stackStartFn.name,
    stackStartFn,
  });
  error.generatedMessage = !message;
  throw error;
}

export function match(string, regexp, message) {
  matchCheck(string, regexp, message, match, true);
}

export function doesNotMatch(string, regexp, message) {
  matchCheck(string, regexp, message, doesNotMatch, false);
}

export function ifError(value) {
  if (value === null || value === undefined) return;
  let message = "ifError got unwanted exception: ";
  if (typeof value === "object" && typeof value.message === "string") {
    message += value.message.length === 0 && value.constructor ? value.constructor.name : value.message;
  } else message += inspect(value);
  throw new AssertionError({
    actual: value,
    expected: null,
    operator: "ifError",
    message,
    stackStartFn: ifError,
  });
}

// throws, rejects, doesNotThrow, doesNotReject.

const NOTHING = Symbol("nothing thrown");

function caught(fn) {
  validateFunction(fn, "fn");
  try {
    fn();
  } catch (error) {
    return error;
  }
  return NOTHING;
}

/** A promise, or an object with `then` and `catch` (Node's checkIsPromise). */
function isPromise(value) {
  return (
    value instanceof Promise ||
    (value !== null &&
      typeof value === "object" &&
      typeof value.then === "function" &&
      typeof value.catch === "function")
  );
}

async function rejected(promiseFn) {
  let promise = promiseFn;
  if (typeof promiseFn === "function") {
    promise = promiseFn();
    if (!isPromise(promise)) throw invalidReturnValue("instance of Promise", "promiseFn", promise);
  } else if (!isPromise(promise)) {
    throw invalidArgType("promiseFn", ["Function", "Promise"], promiseFn);
  }
  try {
    await promise;
  } catch (error) {
    return error;
  }
  return NOTHING;
}

/** Node's "Comparison" objects: the keys of an expected-error object, for the diff. */
class Comparison {
  constructor(source, keys, actual) {
    for (const key of keys) {
      if (!(key in source)) continue;
      const value = source[key];
      // A RegExp that matched the actual string shows as that string (no difference).
      this[key] =
        actual !== undefined &&
        value instanceof RegExp &&
        typeof actual[key] === "string" &&
        value.test(actual[key])
          ? actual[key]
          : value;
    }
  }
}

/** Checks a thrown `error` against `expected` (RegExp, class, validation function or object). */
function checkError(error, expected, message, stackStartFn) {
  if (typeof expected === "function") {
    if (expected.prototype !== undefined && error instanceof expected) return;
    if (Object.prototype.isPrototypeOf.call(Error, expected)) {
      const received = error?.constructor?.name
        ? `Received "${error.constructor.name}"`
        : `Received ${inspect(error)}`;
      const said = error?.message !== undefined ? `\n\nError message:\n\n${error.message}` : "";
      const text = `The error is expected to be an instance of "${expected.name}". ${received}${said}`;
      throwGenerated(error, expected, message, text, stackStartFn);
    }
    const result = expected.call({}, error);
    if (result !== true) {
      const name = expected.name ? `"${expected.name}" ` : "";
      const text =
        `The ${name}validation function is expected to return "true". ` +
        `Received ${inspect(result)}\n\nCaught error:\n\n${error}`;
      throwGenerated(error, expected, message, text, stackStartFn);
    }
    return;
  }
  if (expected instanceof RegExp) {
    if (expected.test(String(error))) return;
    const text =
      `The input did not match the regular expression ${inspect(expected)}. ` +
      `Input:\n\n${inspect(String(error))}\n`;
    throwGenerated(error, expected, message, text, stackStartFn);
  }
  if (typeof expected !== "object" || expected === null) {
    throw invalidArgType("expected", ["Function", "RegExp"], expected);
  }
  const keys = Object.keys(expected);
  if (expected instanceof Error) keys.push("name", "message");
  for (const key of keys) {
    const want = expected[key];
    const have = error?.[key];
    const good =
      want instanceof RegExp && typeof have === "string"
        ? want.test(have)
        : key in Object(error) && isDeepEqual(have, want, true);
    if (!good) {
      const diff = new AssertionError({
        actual: new Comparison(Object(error), keys),
        expected: new Comparison(expected, keys, Object(error)),
        operator: "deepStrictEqual",
        message,
        stackStartFn,
      });
      diff.actual = error;
      diff.expected = expected;
      diff.operator = stackStartFn.name;
      throw diff;
    }
  }
}

function throwGenerated(actual, expected, message, text, stackStartFn) {
  const error = new AssertionError({
    actual,
    expected,
    message: message ?? text,
    operator: stackStartFn.name,
    stackStartFn,
  });
  error.generatedMessage = !message;
  throw error;
}

function expectError(error, expected, message, stackStartFn, kind) {
  if (expected != null && typeof expected !== "object" && typeof expected !== "function" && typeof expected !== "string") {
    throw invalidArgType("error", ["Object", "Error", "Function", "RegExp"], expected);
  }
  if (typeof expected === "string") {
    message = expected;
    expected = undefined;
  }
  if (error === NOTHING) {
    let details = expected?.name ? ` (${expected.name})` : "";
    details += message ? `: ${message}` : ".";
    fail_(undefined, expected, `Missing expected ${kind}${details}`, stackStartFn.name, stackStartFn);
  }
  if (expected !== undefined) checkError(error, expected, message, stackStartFn);
}

function matchesExpected(error, expected) {
  if (expected instanceof RegExp) return expected.test(String(error));
  if (expected.prototype !== undefined && error instanceof expected) return true;
  if (Object.prototype.isPrototypeOf.call(Error, expected)) return false;
  return expected.call({}, error) === true;
}

function expectNoError(error, expected, message, stackStartFn, kind) {
  if (error === NOTHING) return;
  if (typeof expected === "string") {
    message = expected;
    expected = undefined;
  }
  if (expected === undefined || matchesExpected(error, expected)) {
    let details = expected?.name ? ` (${expected.name})` : "";
    details += message ? `: ${message}` : ".";
    const said = error?.message !== undefined ? `\nActual message: "${error.message}"` : "";
    fail_(error, expected, `Got unwanted ${kind}${details}${said}`, stackStartFn.name, stackStartFn);
  }
  throw error;
}

export function throws(fn, expected, message) {
  expectError(caught(fn), expected, message, throws, "exception");
}

export async function rejects(promiseFn, expected, message) {
  expectError(await rejected(promiseFn), expected, message, rejects, "rejection");
}

export function doesNotThrow(fn, expected, message) {
  expectNoError(caught(fn), expected, message, doesNotThrow, "exception");
}

export async function doesNotReject(promiseFn, expected, message) {
  expectNoError(await rejected(promiseFn), expected, message, doesNotReject, "rejection");
}

// CallTracker (deprecated in Node 20.1, still there): functions that count their calls.

/** What a tracker knows of one tracked function. */
class CallTrackerContext {
  #expected;
  #calls = [];
  #name;
  #stackTrace;

  constructor(expected, stackTrace, name) {
    this.#expected = expected;
    this.#stackTrace = stackTrace;
    this.#name = name;
  }

  track(thisArg, args) {
    this.#calls.push(Object.freeze({ thisArg, arguments: Object.freeze(Array.prototype.slice.call(args)) }));
  }

  get delta() {
    return this.#calls.length - this.#expected;
  }

  reset() {
    this.#calls = [];
  }

  getCalls() {
    return this.#calls.slice();
  }

  report() {
    if (this.delta === 0) return undefined;
    return {
      message:
        `Expected the ${this.#name} function to be executed ${this.#expected} time(s) ` +
        `but was executed ${this.#calls.length} time(s).`,
      actual: this.#calls.length,
      expected: this.#expected,
      operator: this.#name,
      stack: this.#stackTrace,
    };
  }
}

const noop = () => {};
let callTrackerWarned = false;

export class CallTracker {
  #contexts = new Set();
  #tracked = new WeakMap();

  constructor() {
    if (!callTrackerWarned) {
      callTrackerWarned = true;
      loadProcess().default.emitWarning?.("assert.CallTracker is deprecated.", "DeprecationWarning", "DEP0173");
    }
  }

  #context(tracked) {
    const context = this.#tracked.get(tracked);
    if (context === undefined) throw invalidArgValue("tracked", tracked, "is not a tracked function");
    return context;
  }

  reset(tracked) {
    if (tracked === undefined) {
      for (const context of this.#contexts) context.reset();
      return;
    }
    this.#context(tracked).reset();
  }

  getCalls(tracked) {
    return this.#context(tracked).getCalls();
  }

  /** `fn` (a no-op by default), counting its calls: `expected` of them by `verify()`. */
  calls(fn, expected = 1) {
    if (loadProcess().default._exiting) {
      throw nodeError(Error, "ERR_UNAVAILABLE_DURING_EXIT", "Cannot call function in process exit handler");
    }
    if (typeof fn === "number") {
      expected = fn;
      fn = noop;
    } else if (fn === undefined) {
      fn = noop;
    }
    validateUint32(expected, "expected", true);
    const context = new CallTrackerContext(expected, new Error(), fn.name || "calls");
    const tracked = new Proxy(fn, {
      __proto__: null,
      apply(target, thisArg, args) {
        context.track(thisArg, args);
        return Reflect.apply(target, thisArg, args);
      },
    });
    this.#contexts.add(context);
    this.#tracked.set(tracked, context);
    return tracked;
  }

  /** What each tracked function called too often or too rarely would tell. */
  report() {
    const errors = [];
    for (const context of this.#contexts) {
      const report = context.report();
      if (report !== undefined) errors.push(report);
    }
    return errors;
  }

  verify() {
    const errors = this.report();
    if (errors.length === 0) return;
    const message =
      errors.length === 1 ? errors[0].message : "Functions were not called the expected number of times";
    throw new AssertionError({ message, details: errors });
  }
}

const members = {
  fail,
  AssertionError,
  ok,
  equal,
  notEqual,
  deepEqual,
  notDeepEqual,
  deepStrictEqual,
  notDeepStrictEqual,
  strictEqual,
  notStrictEqual,
  throws,
  rejects,
  doesNotThrow,
  doesNotReject,
  ifError,
  match,
  doesNotMatch,
  CallTracker,
};

/** `assert.strict`: assert whose equal/deepEqual/notEqual/notDeepEqual are the strict ones. */
export function strict(...args) {
  okCheck(strict, args);
}
Object.assign(strict, members, {
  equal: strictEqual,
  deepEqual: deepStrictEqual,
  notEqual: notStrictEqual,
  notDeepEqual: notDeepStrictEqual,
});
strict.strict = strict;

/** `assert(value, message)`: assert.ok. */
function assert(...args) {
  okCheck(assert, args);
}
Object.assign(assert, members, { strict });

export default assert;

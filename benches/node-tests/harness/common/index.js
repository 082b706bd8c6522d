'use strict';
// Our own minimal stand-in for Node's test/common/index.js, for running Node's test files
// inside a worker (see ../../README.md). It provides the helpers the selected tests use
// most; a helper it lacks throws "common.X is not provided by the shim", which the driver
// reports as a harness gap rather than a runtime failure. `__harness` runs the test and
// checks, after the event loop went quiet, what Node checks at process exit.
const assert = require('assert');
const util = require('util');

const expectations = []; // { name, exact | minimum, calls, stack }
const asyncErrors = [];

class Skip extends Error {}

function mustCallWith(fn, field, count) {
  if (typeof fn === 'number') {
    count = fn;
    fn = () => {};
  } else if (fn === undefined) {
    fn = () => {};
  }
  const entry = { name: fn.name || '<anonymous>', [field]: count, calls: 0, stack: new Error().stack };
  expectations.push(entry);
  const wrapped = function(...args) {
    entry.calls += 1;
    return fn.apply(this, args);
  };
  Object.defineProperty(wrapped, 'length', { value: fn.length });
  Object.defineProperty(wrapped, 'name', { value: fn.name });
  return wrapped;
}

function mustCall(fn, exact = 1) {
  return mustCallWith(fn, 'exact', exact);
}

function mustCallAtLeast(fn, minimum = 1) {
  return mustCallWith(fn, 'minimum', minimum);
}

function mustNotCall(message = 'function should not have been called') {
  return function mustNotCall(...args) {
    const shown = args.map((a) => util.inspect(a)).join(', ');
    assert.fail(`${message}${shown ? ` (called with ${shown})` : ''}`);
  };
}

function mustSucceed(fn, exact) {
  return mustCall(function(err, ...args) {
    assert.ifError(err);
    if (typeof fn === 'function') return fn.apply(this, args);
  }, exact);
}

function expectsError(validator, exact) {
  return mustCall((...args) => {
    if (args.length !== 1) assert.fail(`expectsError: expected one argument, got ${args.length}`);
    const error = args[0];
    const message = Object.getOwnPropertyDescriptor(error, 'message');
    assert.strictEqual(message && message.enumerable, false, 'the error message should not be enumerable');
    assert.throws(() => { throw error; }, validator);
    return true;
  }, exact);
}

// The tail Node's ERR_INVALID_ARG_TYPE messages end with (" Received ...").
function invalidArgTypeHelper(input) {
  if (input == null) return ` Received ${input}`;
  if (typeof input === 'function') return ` Received function ${input.name}`;
  if (typeof input === 'object') {
    if (input.constructor && input.constructor.name) {
      return ` Received an instance of ${input.constructor.name}`;
    }
    return ` Received ${util.inspect(input, { depth: -1 })}`;
  }
  let shown = util.inspect(input, { colors: false });
  if (shown.length > 28) shown = `${shown.slice(0, 25)}...`;
  return ` Received type ${typeof input} (${shown})`;
}

function expectWarning(nameOrMap, expected, code) {
  // Node's form: (name, message[, code]), ({ name: message | [[message, code], ...] }).
  const wanted = [];
  if (typeof nameOrMap === 'string') {
    const list = Array.isArray(expected) && Array.isArray(expected[0]) ? expected : [[expected, code]];
    for (const [message, c] of list) wanted.push({ name: nameOrMap, message, code: c });
  } else {
    for (const [name, value] of Object.entries(nameOrMap)) {
      const list = Array.isArray(value) ? (Array.isArray(value[0]) ? value : [value]) : [[value]];
      for (const [message, c] of list) wanted.push({ name, message, code: c });
    }
  }
  process.on('warning', mustCall((warning) => {
    const index = wanted.findIndex((w) => w.name === warning.name &&
      (w.message instanceof RegExp ? w.message.test(warning.message) : w.message === warning.message));
    assert.notStrictEqual(index, -1, `unexpected warning ${warning.name}: ${warning.message}`);
    const [found] = wanted.splice(index, 1);
    if (found.code !== undefined) assert.strictEqual(warning.code, found.code);
  }, wanted.length));
}

const viewTypes = [Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array,
  Uint32Array, Float32Array, Float64Array, BigInt64Array, BigUint64Array, DataView];

function getArrayBufferViews(buf) {
  const { buffer, byteOffset, byteLength } = buf;
  const views = [];
  for (const Type of viewTypes) {
    const size = Type.BYTES_PER_ELEMENT || 1;
    if (byteLength % size === 0) views.push(new Type(buffer, byteOffset, byteLength / size));
  }
  return views;
}

function getBufferSources(buf) {
  return [...getArrayBufferViews(buf), new Uint8Array(buf).buffer];
}

function skip(reason) {
  throw new Skip(reason);
}

function describe(error) {
  if (error instanceof Error) {
    const first = String(error.stack || '').split('\n').find((l) => l.trim() && !l.startsWith(error.name)) || '';
    let text = `${error.name}: ${error.message}`.split('\n')[0];
    if (error.name === 'AssertionError' && ('actual' in error || 'expected' in error)) {
      const short = (v) => (v instanceof Error ? `${v.name}${v.code ? ` [${v.code}]` : ''}: ${v.message}`
        : util.inspect(v, { depth: 1, breakLength: Infinity })).replace(/\s*\n\s*/g, ' ').slice(0, 140);
      text += ` actual ${short(error.actual)}, expected ${short(error.expected)}`;
    }
    return text + (first.includes('at ') ? ` [${first.trim()}]` : '');
  }
  return `thrown non-error: ${util.inspect(error)}`.split('\n')[0];
}

const turn = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const pending = () => expectations.filter((e) => e.exact !== undefined ? e.calls < e.exact : e.calls < e.minimum);

async function run(load) {
  const record = (kind) => (error) => asyncErrors.push(`${kind}: ${describe(error)}`);
  // Errors no caller sees (thrown in a timer, rejected and never handled), where the
  // runtime reports them to listeners.
  try {
    globalThis.addEventListener('error', (e) => { record('uncaught')(e.error ?? e.message); e.preventDefault?.(); });
    globalThis.addEventListener('unhandledrejection', (e) => { record('unhandled rejection')(e.reason); e.preventDefault?.(); });
  } catch {
    // Not an EventTarget here.
  }
  try {
    await load();
  } catch (error) {
    if (error instanceof Skip) return { ok: true, skipped: String(error.message) };
    return { ok: false, error: `at load: ${describe(error)}` };
  }
  // Let the event loop go quiet: until every mustCall has its calls (or 10 s passed), then
  // a few more turns for timers and ticks that should (not) run.
  const deadline = Date.now() + 10_000;
  let quiet = 0;
  while (Date.now() < deadline && quiet < 10) {
    await turn(quiet < 5 ? 0 : 5);
    quiet = pending().length === 0 && asyncErrors.length === 0 ? quiet + 1 : 0;
    if (asyncErrors.length > 0) break;
  }
  if (asyncErrors.length === 0) {
    try {
      process.emit('exit', process.exitCode ?? 0);
    } catch (error) {
      if (error instanceof Skip) return { ok: true, skipped: String(error.message) };
      asyncErrors.push(`at exit: ${describe(error)}`);
    }
  }
  const errors = [...asyncErrors];
  for (const e of pending()) {
    const want = e.exact !== undefined ? `exactly ${e.exact}` : `at least ${e.minimum}`;
    errors.push(`mustCall: mismatched ${e.name} function calls. Expected ${want}, actual ${e.calls}.`);
  }
  for (const e of expectations) {
    if (e.exact !== undefined && e.calls > e.exact) {
      errors.push(`mustCall: mismatched ${e.name} function calls. Expected exactly ${e.exact}, actual ${e.calls}.`);
    }
  }
  return errors.length === 0 ? { ok: true } : { ok: false, error: errors[0], errors: errors.slice(0, 5) };
}

const provided = {
  mustCall,
  mustCallAtLeast,
  mustNotCall,
  mustSucceed,
  expectsError,
  expectWarning,
  invalidArgTypeHelper,
  getArrayBufferViews,
  getBufferSources,
  skip,
  printSkipMessage() {},
  platformTimeout: (ms) => ms,
  allowGlobals() {},
  isWindows: false,
  isLinux: true,
  isOSX: false,
  isMacOS: false,
  isAIX: false,
  isIBMi: false,
  isSunOS: false,
  isFreeBSD: false,
  isOpenBSD: false,
  isMainThread: true,
  isDumbTerminal: false,
  hasCrypto: true,
  hasFipsCrypto: false,
  hasOpenSSL3: true,
  hasIntl: typeof Intl === 'object',
  hasIPv6: false,
  enoughTestMem: false,
  buildType: 'Release',
  localIPv6Hosts: [],
  PORT: 12346,
  __harness: { run },
};

// A helper the shim lacks fails loudly, so that the driver can tell harness gaps apart.
module.exports = new Proxy(provided, {
  get(target, name) {
    if (name in target || typeof name === 'symbol' || name === 'then' || name === 'default' || name === '__esModule') {
      return name === 'default' ? target : target[name];
    }
    throw new Error(`common.${String(name)} is not provided by the shim`);
  },
});

// node:util: format, inspect (nested objects, Map/Set, class instances, circular references,
// options), promisify/callbackify, types.*, isDeepStrictEqual, inherits, deprecate and the
// smaller helpers.

import * as util from "node:util";
import { Buffer } from "node:buffer";
import { run } from "./report.js";

class Point {
  constructor(x, y) {
    this.x = x;
    this.y = y;
  }
}

class Temperature {
  #celsius = 21;
  get celsius() {
    return this.#celsius;
  }
  [util.inspect.custom](depth, options) {
    return `Temperature<${this.#celsius}°C depth=${depth} compact=${options.compact}>`;
  }
}

const nested = {
  name: "root",
  list: [1, "two", { three: [3, [4, [5, [6]]]] }],
  map: new Map([["k", { v: new Set([1, 2]) }], [{ o: 1 }, "object key"]]),
  set: new Set(["a", ["b"], new Map()]),
  point: new Point(1, 2),
  when: new Date(Date.UTC(2020, 1, 29, 12, 0, 0)),
  pattern: /ab+c/gi,
  sym: Symbol("s"),
  [Symbol("key")]: "symbol keyed",
  big: 10n,
  neg: -0,
  nothing: null,
  missing: undefined,
  fn: function named() {},
  arrow: () => {},
  klass: Point,
  bytes: new Uint8Array([1, 2, 3]),
  "needs quotes": true,
};

export function utilChecks() {
  return run({
    format: () => [
      util.format("%s is %d years and %i days, %f%%", "Bob", 42.5, 3.9, 1.25),
      util.format("%j", { a: [1, "x"] }),
      util.format("%o", { a: 1 }),
      util.format("%O", { a: { b: { c: { d: 1 } } } }),
      util.format("%s", { a: 1 }, "extra", 5),
      util.format("%s %s", "only one"),
      util.format("%c styled", "color: red"),
      util.format(1, 2, "3"),
      util.format("%s", 10n, Symbol("x")),
      util.format("%d", "not a number"),
      util.format("%s", null, undefined),
      util.format("%s", new Point(1, 2)),
      util.format("%s", [1, [2, [3]]]),
      util.format(),
    ],
    formatWithOptions: () => util.formatWithOptions({ compact: false }, "%O", { a: [1] }),
    inspectNested: () => util.inspect(nested),
    inspectDepth: () => [util.inspect(nested, { depth: 0 }), util.inspect(nested.list, { depth: 1 }),
      util.inspect(nested.list, { depth: Infinity })],
    inspectOptions: () => [
      util.inspect(nested.list, { compact: false }),
      util.inspect({ b: 1, a: 2, c: { z: 1, y: 2 } }, { sorted: true }),
      util.inspect({ a: "x".repeat(30), b: "y".repeat(30), c: "z".repeat(30) }, { breakLength: 40 }),
      util.inspect("str", { colors: true }),
      util.inspect(nested.list, { showHidden: true }),
      util.inspect(Array.from({ length: 120 }, (_, i) => i), { maxArrayLength: 5 }),
      util.inspect("s".repeat(50), { maxStringLength: 10 }),
    ],
    inspectCollections: () => [
      util.inspect(new Map([[1, "a"], ["b", { c: 2 }]])),
      util.inspect(new Set([1, "a", [2]])),
      util.inspect(new Map()),
      util.inspect(new Set()),
      util.inspect(new Map([[1, 2]]).entries()),
      util.inspect(new Set([5]).values()),
      util.inspect([1, , 3]),
      util.inspect(Array.from({ length: 150 }, (_, i) => i)),
      util.inspect(new WeakMap()),
      util.inspect(new WeakSet()),
    ],
    inspectInstances: () => [
      util.inspect(new Point(1, { z: [3] })),
      util.inspect(new Temperature()),
      util.inspect({ t: new Temperature() }),
      util.inspect(Object.create(null)),
      util.inspect(Object.assign(Object.create(null), { a: 1 })),
      util.inspect(new (class extends Map {})([[1, 2]])),
      util.inspect(new (class Foo extends Array {})(1, 2)),
      util.inspect(Object.create(Point.prototype)),
      util.inspect({ get g() { return 1; }, set s(v) {}, get gs() { return 2; }, set gs(v) {} }),
      util.inspect({ get g() { return { x: 1 }; } }, { getters: true }),
    ],
    inspectPrimitives: () => [
      util.inspect("it's \"quoted\""),
      util.inspect("new\nline"),
      util.inspect(-0),
      util.inspect(10n),
      util.inspect(Symbol("desc")),
      util.inspect(null),
      util.inspect(undefined),
      util.inspect(NaN),
      util.inspect(123456789.123),
      util.inspect(1_000_000, { numericSeparator: true }),
      util.inspect(Object(1)),
      util.inspect(Object("boxed")),
      util.inspect(Object(Symbol("boxed"))),
    ],
    inspectFunctions: () => [
      util.inspect(function named() {}),
      util.inspect(() => {}),
      util.inspect(async function af() {}),
      util.inspect(function* gen() {}),
      util.inspect(async function* agen() {}),
      util.inspect(Point),
      util.inspect(class extends Point {}),
      util.inspect(Object.assign(function withProps() {}, { extra: 1 })),
      util.inspect(Math.max),
    ],
    inspectBuiltins: () => [
      util.inspect(new Date(Date.UTC(2020, 1, 29, 12, 0, 0))),
      util.inspect(new Date(NaN)),
      util.inspect(/re/g),
      util.inspect(new Uint8Array([1, 2, 3])),
      util.inspect(new Float64Array([0.5, -1])),
      util.inspect(new ArrayBuffer(3)),
      util.inspect(new DataView(new ArrayBuffer(2))),
      util.inspect(Buffer.from("buf")),
      util.inspect(new URL("https://example.com/a?b=c")),
      util.inspect(new URLSearchParams("a=1&b=2")),
      util.inspect(Promise.resolve(4)),
      util.inspect(new Promise(() => {})),
      util.inspect(new Proxy({ a: 1 }, {})),
      util.inspect(new Proxy({ a: 1 }, {}), { showProxy: true }),
      util.inspect(globalThis.Math),
      util.inspect(JSON),
    ],
    inspectCircular: () => {
      const a = { name: "a" };
      a.self = a;
      a.list = [a, { back: a }];
      const m = new Map();
      m.set("m", m);
      return [util.inspect(a), util.inspect(m)];
    },
    inspectErrorShape: () => {
      const error = new RangeError("out");
      error.code = "E_OUT";
      const shown = util.inspect(error);
      return [shown.split("\n")[0], shown.includes("code: 'E_OUT'")];
    },
    promisify: async () => {
      const callbackStyle = (a, b, cb) => setTimeout(() => cb(null, a + b), 1);
      const failing = (cb) => cb(new Error("cb failure"));
      const custom = () => {};
      custom[util.promisify.custom] = () => Promise.resolve("custom");
      const sum = await util.promisify(callbackStyle)(2, 3);
      let failed;
      try {
        await util.promisify(failing)();
      } catch (error) {
        failed = error.message;
      }
      return [sum, failed, await util.promisify(custom)(), util.promisify(custom) === custom[util.promisify.custom],
        typeof util.promisify.custom];
    },
    callbackify: () =>
      new Promise((resolve) => {
        util.callbackify(async (x) => x * 2)(21, (error, value) => {
          util.callbackify(async () => {
            throw new Error("cbfy");
          })((error2) => resolve([error, value, error2.message]));
        });
      }),
    types: () => {
      const t = util.types;
      const checks = {
        isPromise: [Promise.resolve(), { then() {} }],
        isRegExp: [/x/, "x"],
        isDate: [new Date(0), 0],
        isMap: [new Map(), {}],
        isSet: [new Set(), []],
        isWeakMap: [new WeakMap(), new Map()],
        isTypedArray: [new Int8Array(1), new ArrayBuffer(1)],
        isUint8Array: [Buffer.alloc(1), new Uint16Array(1)],
        isArrayBuffer: [new ArrayBuffer(1), new Uint8Array(1)],
        isAnyArrayBuffer: [new ArrayBuffer(1), {}],
        isArrayBufferView: [new DataView(new ArrayBuffer(1)), new ArrayBuffer(1)],
        isDataView: [new DataView(new ArrayBuffer(1)), new Uint8Array(1)],
        isAsyncFunction: [async () => {}, () => {}],
        isGeneratorFunction: [function* () {}, function () {}],
        isGeneratorObject: [(function* () {})(), {}],
        isBoxedPrimitive: [Object(1), 1],
        isNumberObject: [Object(1), 1],
        isStringObject: [Object("s"), "s"],
        isSymbolObject: [Object(Symbol()), Symbol()],
        isBigIntObject: [Object(1n), 1n],
        isNativeError: [new TypeError(), { name: "Error", message: "" }],
        isMapIterator: [new Map().keys(), [].keys()],
        isSetIterator: [new Set().values(), new Map().values()],
        isProxy: [new Proxy({}, {}), {}],
        isArgumentsObject: [(function () { return arguments; })(), []],
        isKeyObject: [{}, {}],
        isCryptoKey: [{}, {}],
      };
      return Object.fromEntries(Object.entries(checks).map(([name, [yes, no]]) =>
        [name, typeof t[name] === "function" ? [t[name](yes), t[name](no)] : "missing"]));
    },
    isDeepStrictEqual: () => [
      util.isDeepStrictEqual({ a: [1, { b: 2 }] }, { a: [1, { b: 2 }] }),
      util.isDeepStrictEqual({ a: 1 }, { a: "1" }),
      util.isDeepStrictEqual(new Map([[1, { x: 1 }]]), new Map([[1, { x: 1 }]])),
      util.isDeepStrictEqual(new Set([1, 2]), new Set([2, 1])),
      util.isDeepStrictEqual([1, 2], [2, 1]),
      util.isDeepStrictEqual(NaN, NaN),
      util.isDeepStrictEqual(0, -0),
      util.isDeepStrictEqual(new Point(1, 2), { x: 1, y: 2 }),
      util.isDeepStrictEqual(new Date(5), new Date(5)),
      util.isDeepStrictEqual(Buffer.from("a"), new Uint8Array([97])),
      util.isDeepStrictEqual([1, , 3], [1, undefined, 3]),
      util.isDeepStrictEqual(/a/g, /a/i),
    ],
    inherits: () => {
      function Base() {
        this.base = true;
      }
      Base.prototype.hello = function () {
        return "hello from base";
      };
      function Child() {
        Base.call(this);
      }
      util.inherits(Child, Base);
      const child = new Child();
      let bad;
      try {
        util.inherits(Child, null);
      } catch (error) {
        bad = [error.name, error.code];
      }
      return [child.hello(), child instanceof Base, Child.super_ === Base, child.base, bad];
    },
    deprecate: () => {
      const wrapped = util.deprecate((x) => x + 1, "old API", "DEP_BENCH");
      return [wrapped(1), wrapped(2), wrapped.name];
    },
    helpers: () => [
      util.isArray([]),
      typeof util.TextEncoder,
      new util.TextDecoder().decode(new util.TextEncoder().encode("ü")),
      util.stripVTControlCharacters?.("\u001b[31mred\u001b[39m"),
      util.toUSVString?.("a\ud800b"),
      typeof util.debuglog,
      util.inspect.defaultOptions.depth,
      typeof util.parseArgs,
      typeof util.styleText,
      typeof util.getSystemErrorName,
      typeof util.aborted,
    ],
  });
}

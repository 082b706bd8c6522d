//! node:assert and node:assert/strict (`nodejs_compat`): passing checks, and what failing ones
//! throw — AssertionError with code ERR_ASSERTION, actual, expected, operator and Node's
//! message (diffs included) — for throws/rejects/doesNotThrow/doesNotReject as well. Expected
//! values are what Node.js 20 printed for the same calls (the worker's `run()`, run under `node`).

use edge_tests::*;

/// Passes every kind of check, then fails each one; answers what each failure threw.
const WORKER: &str = r##"
import assert, { AssertionError, strict, ok, equal, notEqual, strictEqual, notStrictEqual, deepEqual, deepStrictEqual, notDeepStrictEqual, throws, rejects, doesNotThrow, doesNotReject, match, doesNotMatch, fail, ifError } from "node:assert";
import strictAssert, { equal as strictEqualAlias, deepEqual as strictDeepAlias } from "node:assert/strict";

/** What a failing call threw: its class, code, message and comparison. */
function caught(fn) {
  try {
    fn();
    return "no throw";
  } catch (e) {
    return { ae: e instanceof AssertionError, name: e.name, code: e.code, message: e.message, actual: e.actual, expected: e.expected, operator: e.operator, generated: e.generatedMessage };
  }
}

async function caughtAsync(fn) {
  try {
    await fn();
    return "no throw";
  } catch (e) {
    return { ae: e instanceof AssertionError, code: e.code, message: e.message, operator: e.operator };
  }
}

async function run() {
  const out = {};
  // Passing checks throw nothing.
  assert(1);
  ok(true);
  equal(1, "1");
  notEqual(1, 2);
  strictEqual(NaN, NaN);
  notStrictEqual(1, "1");
  deepEqual({ a: [1, 2], b: new Date(0) }, { a: ["1", 2], b: new Date(0) });
  deepStrictEqual(new Map([[1, { x: new Set([1, 2]) }]]), new Map([[1, { x: new Set([2, 1]) }]]));
  notDeepStrictEqual({ a: 1 }, { a: "1" });
  match("abc", /b/);
  doesNotMatch("abc", /x/);
  ifError(null);
  doesNotThrow(() => {});
  await doesNotReject(Promise.resolve(1));
  throws(() => { throw new TypeError("bad thing"); }, TypeError);
  throws(() => { throw new TypeError("bad thing"); }, /bad/);
  throws(() => { throw new TypeError("bad thing"); }, { name: "TypeError", message: /thing/ });
  throws(() => { throw new Error("x"); }, (e) => e.message === "x");
  await rejects(async () => { throw new RangeError("late"); }, RangeError);
  await rejects(Promise.reject(new Error("p")), { message: "p" });
  out.passed = true;

  out.ok = caught(() => assert.ok(0));
  out.okMessage = caught(() => assert(false, "custom"));
  out.okNoArgument = caught(() => ok());
  out.equal = caught(() => equal(1, 2));
  out.notEqual = caught(() => notEqual(1, "1"));
  out.strictEqual = caught(() => strictEqual(1, 2));
  out.strictEqualStrings = caught(() => strictEqual("hello", "world"));
  out.strictEqualPointer = caught(() => strictEqual("hello world foo", "hello world bar"));
  out.strictEqualObjects = caught(() => strictEqual({ a: 1 }, { a: 1 }));
  out.strictEqualMessage = caught(() => strictEqual(1, 2, "my message"));
  out.notStrictEqual = caught(() => notStrictEqual(1, 1));
  out.deepEqual = caught(() => deepEqual({ a: 1 }, { a: 2 }));
  out.deepStrictEqual = caught(() => deepStrictEqual({ a: 1, b: [1, 2] }, { a: 1, b: [1, 3] }));
  out.deepStrictEqualLong = caught(() => deepStrictEqual({ name: "x", list: [1, 2, 3], nested: { deep: true } }, { name: "y", list: [1, 2, 3], nested: { deep: false } }));
  out.deepStrictEqualExtra = caught(() => deepStrictEqual([1, 2], [1, 2, 3]));
  out.notDeepStrictEqual = caught(() => notDeepStrictEqual({ a: 1 }, { a: 1 }));
  out.throwsNothing = caught(() => throws(() => {}));
  out.throwsWrongClass = caught(() => throws(() => { throw new TypeError("boom"); }, RangeError));
  out.throwsWrongObject = caught(() => throws(() => { throw new TypeError("boom"); }, { name: "RangeError" }));
  out.throwsWrongRegExp = caught(() => throws(() => { throw new Error("boom"); }, /bang/));
  out.doesNotThrow = caught(() => doesNotThrow(() => { throw new Error("boom"); }, "nope"));
  out.match = caught(() => match("abc", /x/));
  out.doesNotMatch = caught(() => doesNotMatch("abc", /b/));
  out.fail = caught(() => fail());
  out.failMessage = caught(() => fail("boom"));
  out.failError = caught(() => fail(new TypeError("own")));
  out.ifError = caught(() => ifError(new Error("inner")));
  out.rejectsNothing = await caughtAsync(() => rejects(Promise.resolve(1)));
  out.rejectsWrong = await caughtAsync(() => rejects(Promise.reject(new TypeError("t")), RangeError));
  out.doesNotReject = await caughtAsync(() => doesNotReject(Promise.reject(new Error("r"))));
  out.strictLoose = caught(() => strict.deepEqual({ a: 1 }, { a: "1" }));
  out.strictModule = [
    strictAssert === strict, strictEqualAlias === strictEqual, strictDeepAlias === deepStrictEqual, strict.strict === strict,
    assert.strict === strict, assert.AssertionError === AssertionError, typeof assert,
  ];
  const error = new AssertionError({ actual: 1, expected: 2, operator: "strictEqual" });
  out.constructed = [error.message, error.code, error.name, String(error), error.generatedMessage, Object.keys(error)];
  out.stack = error.stack.split("\n")[0];
  return out;
}
"##;

/// `JSON.stringify(await run())` under Node 20.20.2, but for one message: Node quotes the
/// source of a failed `assert.ok(0)` when it can read the caller's file, and says `0 == true`
/// when it cannot (as `node -e "assert.ok(0)"` shows); a worker's source is not a file.
const FROM_NODE: &str = r##"{
  "passed": true,
  "ok": {
    "ae": true,
    "name": "AssertionError",
    "code": "ERR_ASSERTION",
    "message": "0 == true",
    "actual": 0,
    "expected": true,
    "operator": "==",
    "generated": true
  },
  "okMessage": {
    "ae": true,
    "name": "AssertionError",
    "code": "ERR_ASSERTION",
    "message": "custom",
    "actual": false,
    "expected": true,
    "operator": "==",
    "generated": false
  },
  "okNoArgument": {
    "ae": true,
    "name": "AssertionError",
    "code": "ERR_ASSERTION",
    "message": "No value argument passed to `assert.ok()`",
    "expected": true,
    "operator": "==",
    "generated": true
  },
  "equal": {
    "ae": true,
    "name": "AssertionError",
    "code": "ERR_ASSERTION",
    "message": "1 == 2",
    "actual": 1,
    "expected": 2,
    "operator": "==",
    "generated": true
  },
  "notEqual": {
    "ae": true,
    "name": "AssertionError",
    "code": "ERR_ASSERTION",
    "message": "1 != '1'",
    "actual": 1,
    "expected": "1",
    "operator": "!=",
    "generated": true
  },
  "strictEqual": {
    "ae": true,
    "name": "AssertionError",
    "code": "ERR_ASSERTION",
    "message": "Expected values to be strictly equal:\n\n1 !== 2\n",
    "actual": 1,
    "expected": 2,
    "operator": "strictEqual",
    "generated": true
  },
  "strictEqualStrings": {
    "ae": true,
    "name": "AssertionError",
    "code": "ERR_ASSERTION",
    "message": "Expected values to be strictly equal:\n+ actual - expected\n\n+ 'hello'\n- 'world'",
    "actual": "hello",
    "expected": "world",
    "operator": "strictEqual",
    "generated": true
  },
  "strictEqualPointer": {
    "ae": true,
    "name": "AssertionError",
    "code": "ERR_ASSERTION",
    "message": "Expected values to be strictly equal:\n+ actual - expected\n\n+ 'hello world foo'\n- 'hello world bar'\n               ^",
    "actual": "hello world foo",
    "expected": "hello world bar",
    "operator": "strictEqual",
    "generated": true
  },
  "strictEqualObjects": {
    "ae": true,
    "name": "AssertionError",
    "code": "ERR_ASSERTION",
    "message": "Values have same structure but are not reference-equal:\n\n{\n  a: 1\n}\n",
    "actual": {
      "a": 1
    },
    "expected": {
      "a": 1
    },
    "operator": "strictEqual",
    "generated": true
  },
  "strictEqualMessage": {
    "ae": true,
    "name": "AssertionError",
    "code": "ERR_ASSERTION",
    "message": "my message\n\n1 !== 2\n",
    "actual": 1,
    "expected": 2,
    "operator": "strictEqual",
    "generated": false
  },
  "notStrictEqual": {
    "ae": true,
    "name": "AssertionError",
    "code": "ERR_ASSERTION",
    "message": "Expected \"actual\" to be strictly unequal to: 1",
    "actual": 1,
    "expected": 1,
    "operator": "notStrictEqual",
    "generated": true
  },
  "deepEqual": {
    "ae": true,
    "name": "AssertionError",
    "code": "ERR_ASSERTION",
    "message": "Expected values to be loosely deep-equal:\n\n{\n  a: 1\n}\n\nshould loosely deep-equal\n\n{\n  a: 2\n}",
    "actual": {
      "a": 1
    },
    "expected": {
      "a": 2
    },
    "operator": "deepEqual",
    "generated": true
  },
  "deepStrictEqual": {
    "ae": true,
    "name": "AssertionError",
    "code": "ERR_ASSERTION",
    "message": "Expected values to be strictly deep-equal:\n+ actual - expected\n\n  {\n    a: 1,\n    b: [\n      1,\n+     2\n-     3\n    ]\n  }",
    "actual": {
      "a": 1,
      "b": [
        1,
        2
      ]
    },
    "expected": {
      "a": 1,
      "b": [
        1,
        3
      ]
    },
    "operator": "deepStrictEqual",
    "generated": true
  },
  "deepStrictEqualLong": {
    "ae": true,
    "name": "AssertionError",
    "code": "ERR_ASSERTION",
    "message": "Expected values to be strictly deep-equal:\n+ actual - expected ... Lines skipped\n\n  {\n    list: [\n...\n      3\n    ],\n+   name: 'x',\n-   name: 'y',\n    nested: {\n+     deep: true\n-     deep: false\n    }\n  }",
    "actual": {
      "name": "x",
      "list": [
        1,
        2,
        3
      ],
      "nested": {
        "deep": true
      }
    },
    "expected": {
      "name": "y",
      "list": [
        1,
        2,
        3
      ],
      "nested": {
        "deep": false
      }
    },
    "operator": "deepStrictEqual",
    "generated": true
  },
  "deepStrictEqualExtra": {
    "ae": true,
    "name": "AssertionError",
    "code": "ERR_ASSERTION",
    "message": "Expected values to be strictly deep-equal:\n+ actual - expected\n\n  [\n    1,\n    2,\n-   3\n  ]",
    "actual": [
      1,
      2
    ],
    "expected": [
      1,
      2,
      3
    ],
    "operator": "deepStrictEqual",
    "generated": true
  },
  "notDeepStrictEqual": {
    "ae": true,
    "name": "AssertionError",
    "code": "ERR_ASSERTION",
    "message": "Expected \"actual\" not to be strictly deep-equal to:\n\n{\n  a: 1\n}\n",
    "actual": {
      "a": 1
    },
    "expected": {
      "a": 1
    },
    "operator": "notDeepStrictEqual",
    "generated": true
  },
  "throwsNothing": {
    "ae": true,
    "name": "AssertionError",
    "code": "ERR_ASSERTION",
    "message": "Missing expected exception.",
    "operator": "throws",
    "generated": false
  },
  "throwsWrongClass": {
    "ae": true,
    "name": "AssertionError",
    "code": "ERR_ASSERTION",
    "message": "The error is expected to be an instance of \"RangeError\". Received \"TypeError\"\n\nError message:\n\nboom",
    "actual": {},
    "operator": "throws",
    "generated": true
  },
  "throwsWrongObject": {
    "ae": true,
    "name": "AssertionError",
    "code": "ERR_ASSERTION",
    "message": "Expected values to be strictly deep-equal:\n+ actual - expected\n\n  Comparison {\n+   name: 'TypeError'\n-   name: 'RangeError'\n  }",
    "actual": {},
    "expected": {
      "name": "RangeError"
    },
    "operator": "throws",
    "generated": true
  },
  "throwsWrongRegExp": {
    "ae": true,
    "name": "AssertionError",
    "code": "ERR_ASSERTION",
    "message": "The input did not match the regular expression /bang/. Input:\n\n'Error: boom'\n",
    "actual": {},
    "expected": {},
    "operator": "throws",
    "generated": true
  },
  "doesNotThrow": {
    "ae": true,
    "name": "AssertionError",
    "code": "ERR_ASSERTION",
    "message": "Got unwanted exception: nope\nActual message: \"boom\"",
    "actual": {},
    "operator": "doesNotThrow",
    "generated": false
  },
  "match": {
    "ae": true,
    "name": "AssertionError",
    "code": "ERR_ASSERTION",
    "message": "The input did not match the regular expression /x/. Input:\n\n'abc'\n",
    "actual": "abc",
    "expected": {},
    "operator": "match",
    "generated": true
  },
  "doesNotMatch": {
    "ae": true,
    "name": "AssertionError",
    "code": "ERR_ASSERTION",
    "message": "The input was expected to not match the regular expression /b/. Input:\n\n'abc'\n",
    "actual": "abc",
    "expected": {},
    "operator": "doesNotMatch",
    "generated": true
  },
  "fail": {
    "ae": true,
    "name": "AssertionError",
    "code": "ERR_ASSERTION",
    "message": "Failed",
    "operator": "fail",
    "generated": true
  },
  "failMessage": {
    "ae": true,
    "name": "AssertionError",
    "code": "ERR_ASSERTION",
    "message": "boom",
    "operator": "fail",
    "generated": false
  },
  "failError": {"ae": false, "name": "TypeError", "message": "own"},
  "ifError": {
    "ae": true,
    "name": "AssertionError",
    "code": "ERR_ASSERTION",
    "message": "ifError got unwanted exception: inner",
    "actual": {},
    "expected": null,
    "operator": "ifError",
    "generated": false
  },
  "rejectsNothing": {
    "ae": true,
    "code": "ERR_ASSERTION",
    "message": "Missing expected rejection.",
    "operator": "rejects"
  },
  "rejectsWrong": {
    "ae": true,
    "code": "ERR_ASSERTION",
    "message": "The error is expected to be an instance of \"RangeError\". Received \"TypeError\"\n\nError message:\n\nt",
    "operator": "rejects"
  },
  "doesNotReject": {
    "ae": true,
    "code": "ERR_ASSERTION",
    "message": "Got unwanted rejection.\nActual message: \"r\"",
    "operator": "doesNotReject"
  },
  "strictLoose": {
    "ae": true,
    "name": "AssertionError",
    "code": "ERR_ASSERTION",
    "message": "Expected values to be strictly deep-equal:\n+ actual - expected\n\n  {\n+   a: 1\n-   a: '1'\n  }",
    "actual": {
      "a": 1
    },
    "expected": {
      "a": "1"
    },
    "operator": "deepStrictEqual",
    "generated": true
  },
  "strictModule": [true, true, true, true, true, true, "function"],
  "constructed": [
    "Expected values to be strictly equal:\n\n1 !== 2\n",
    "ERR_ASSERTION",
    "AssertionError",
    "AssertionError [ERR_ASSERTION]: Expected values to be strictly equal:\n\n1 !== 2\n",
    true,
    [
      "generatedMessage",
      "code",
      "actual",
      "expected",
      "operator"
    ]
  ],
  "stack": "AssertionError [ERR_ASSERTION]: Expected values to be strictly equal:"
}"##;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assert_passes_and_fails_as_node_does() {
  let out = node_run_answer("assert", WORKER).await;
  assert_like_node(&out, FROM_NODE);
}

/// assert.CallTracker (deprecated in Node 20.1, still there: Node's tests and some packages use it), and the
/// argument errors of assert's functions.
const CALL_TRACKER: &str = r##"
import assert from "node:assert";

const error = (e) => [e.name, e.code, e.message];
const thrown = (f) => { try { f(); return "no error"; } catch (e) { return error(e); } };

async function run() {
  const out = {};
  // assert.CallTracker (deprecated in Node 20, still there).
  const tracker = new assert.CallTracker();
  function foo(a, b) { return a + b; }
  const calls = tracker.calls(foo, 2);
  out.trackerCall = [calls(1, 2), calls.length, calls.name];
  out.report = tracker.report().map((r) => [r.message, r.actual, r.expected, r.operator, typeof r.stack]);
  const failed = (() => { try { tracker.verify(); } catch (e) { return e; } })();
  out.verify = [error(failed), Object.keys(failed), failed["operator 0"]];
  calls(3, 4);
  out.verified = [thrown(() => tracker.verify()), tracker.getCalls(calls).map((c) => c.arguments)];
  tracker.reset(calls);
  out.reset = tracker.getCalls(calls).length;
  out.trackerErrors = [thrown(() => tracker.calls(foo, 0)), thrown(() => tracker.calls(foo, "1")), thrown(() => tracker.getCalls(() => {}))];
  const two = new assert.CallTracker();
  two.calls(); two.calls(() => {});
  out.several = thrown(() => two.verify());
  out.assertErrors = [thrown(() => new assert.AssertionError(1)), thrown(() => assert.match("a", "a")), thrown(() => assert.throws(1)),
    await assert.rejects(() => 1).catch(error), await assert.rejects(1).catch(error), thrown(() => assert.throws(() => { throw new Error(); }, 1))];
  return out;
}
"##;

/// What Node 20.20.2 printed for [`CALL_TRACKER`].
const CALL_TRACKER_FROM_NODE: &str = r##"{
  "trackerCall": [3,2,"foo"],
  "report": [["Expected the foo function to be executed 2 time(s) but was executed 1 time(s).",1,2,"foo","object"]],
  "verify": [["AssertionError","ERR_ASSERTION","Expected the foo function to be executed 2 time(s) but was executed 1 time(s)."],["generatedMessage","code","actual","expected","operator","message 0","actual 0","expected 0","operator 0","stack trace 0"],"foo"],
  "verified": ["no error",[[1,2],[3,4]]],
  "reset": 0,
  "trackerErrors": [["RangeError","ERR_OUT_OF_RANGE","The value of \"expected\" is out of range. It must be >= 1 && <= 4294967295. Received 0"],["TypeError","ERR_INVALID_ARG_TYPE","The \"expected\" argument must be of type number. Received type string ('1')"],["TypeError","ERR_INVALID_ARG_VALUE","The argument 'tracked' is not a tracked function. Received [Function (anonymous)]"]],
  "several": ["AssertionError","ERR_ASSERTION","Functions were not called the expected number of times"],
  "assertErrors": [["TypeError","ERR_INVALID_ARG_TYPE","The \"options\" argument must be of type object. Received type number (1)"],["TypeError","ERR_INVALID_ARG_TYPE","The \"regexp\" argument must be an instance of RegExp. Received type string ('a')"],["TypeError","ERR_INVALID_ARG_TYPE","The \"fn\" argument must be of type function. Received type number (1)"],["TypeError","ERR_INVALID_RETURN_VALUE","Expected instance of Promise to be returned from the \"promiseFn\" function but got type number (1)."],["TypeError","ERR_INVALID_ARG_TYPE","The \"promiseFn\" argument must be of type function or an instance of Promise. Received type number (1)"],["TypeError","ERR_INVALID_ARG_TYPE","The \"error\" argument must be of type function or an instance of Error, RegExp, or Object. Received type number (1)"]]
}"##;

/// CallTracker and assert's argument errors, key by key as Node 20 gives them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn call_tracker_and_argument_errors_are_nodes() {
  let out = node_run_answer("calltracker", CALL_TRACKER).await;
  assert_like_node(&out, CALL_TRACKER_FROM_NODE);
}

//! node:timers and node:timers/promises answering as Node.js 20's do: Timeout objects (their
//! fields, ref/unref/hasRef, the number that clears them, refresh() inside the callback, `_repeat`
//! set in the callback), the deprecated enroll/active/unenroll and their DeprecationWarnings, the
//! overflow warning, uncaughtException for a throwing callback, the promises' interval iterator,
//! scheduler, AbortError and option checks. Expected values are what Node.js 20 printed for the
//! same calls (the worker's `run()`, run under `node`).

use edge_tests::*;

/// Calls the module the way packages do; answers what each call gave.
const WORKER: &str = r##"
import timers, { setTimeout as later, setInterval as every, clearTimeout as cancel, setImmediate as soon, enroll, active, unenroll } from "node:timers";
import { setInterval as ticks, setTimeout as sleep, scheduler } from "node:timers/promises";
import process from "node:process";

const code = (f) => {
  try {
    f();
    return null;
  } catch (e) {
    return [e.name, e.code, e.message];
  }
};

async function run() {
  const out = {};
  const warnings = [];
  const onWarning = (w) => warnings.push([w.name, w.code ?? null, w.message]);
  process.on("warning", onWarning);
  out.invalid = [code(() => later("nope", 1)), code(() => every(null)), code(() => soon()), code(() => enroll({}, "1")), code(() => enroll({}, -1))];

  // A Timeout: its Node fields and methods, and the number that clears it.
  const t = later(() => {}, 50, "x");
  const numeric = +t;
  out.timeout = [t.constructor.name, t._idleTimeout, t._repeat, t._destroyed, t.hasRef(), t.unref() === t, t.hasRef(), t.ref().hasRef(), typeof numeric, `${t}` === String(numeric), typeof t.refresh, typeof t[Symbol.dispose]];
  cancel(numeric);
  out.clearedByNumber = [t._destroyed, t._idleTimeout];

  // refresh() inside the callback runs it again; _repeat set inside turns it into an interval.
  out.refreshed = await new Promise((resolve) => {
    let calls = 0;
    const timer = later(() => {
      calls++;
      if (calls === 1) timer.refresh();
      else resolve([calls, timer._destroyed]);
    }, 1);
  });
  out.toInterval = await new Promise((resolve) => {
    let calls = 0;
    const timer = later(() => {
      calls++;
      if (timer._repeat) {
        timers.clearInterval(timer);
        resolve([calls, timer._destroyed]);
      }
      timer._repeat = 1;
    }, 1);
  });

  // The legacy API on a plain object.
  out.enrolled = await new Promise((resolve) => {
    const item = { _onTimeout() { resolve(["fired", item._idleTimeout, typeof item._idleStart]); } };
    enroll(item, 5);
    active(item);
  });
  const gone = { _onTimeout() {} };
  enroll(gone, 5);
  active(gone);
  unenroll(gone);
  out.unenrolled = [gone._idleTimeout, gone._destroyed];

  // An overflowing delay warns and becomes 1 ms.
  const overflow = later(() => {}, 2 ** 31);
  out.overflow = overflow._idleTimeout;
  cancel(overflow);

  // A throwing callback reaches uncaughtException listeners.
  out.uncaught = await new Promise((resolve) => {
    const listener = (error, origin) => {
      process.off("uncaughtException", listener);
      resolve([error.message, origin]);
    };
    process.on("uncaughtException", listener);
    later(() => {
      throw new Error("boom");
    }, 1);
  });

  // Callbacks run through Reflect.apply, with their arguments.
  out.args = await new Promise((resolve) => {
    const fn = (...args) => resolve(args);
    fn.call = "not a function";
    soon(fn, 1, "two");
  });

  // timers/promises: the interval's iterator, scheduler, AbortError and option checks.
  const seen = [];
  for await (const value of ticks(1, "tick")) {
    seen.push(value);
    if (seen.length === 3) break;
  }
  out.iterator = seen;
  out.slept = await sleep(1, "v");
  out.scheduler = [await scheduler.wait(1), await scheduler.yield()];
  const aborted = await scheduler.wait(1e6, { signal: AbortSignal.abort("why") }).catch((e) => [e.name, e.code, e.message, e.cause]);
  out.aborted = aborted;
  const controller = new AbortController();
  const iterating = (async () => {
    for await (const _ of ticks(1e6, undefined, { signal: controller.signal }));
  })().catch((e) => [e.name, e.code]);
  controller.abort();
  out.iteratorAborted = await iterating;
  out.badOptions = [await sleep(1, 1, null).catch((e) => [e.code, e.message]), await sleep(1, 1, { ref: 1 }).catch((e) => [e.code, e.message]), await sleep(1, 1, { signal: {} }).catch((e) => [e.code, e.message])];

  await new Promise((resolve) => later(resolve, 1));
  process.off("warning", onWarning);
  out.warnings = warnings;
  return out;
}
"##;

/// `JSON.stringify(await run())` under Node 20.20.2.
const FROM_NODE: &str = r##"{
  "invalid": [
    [
      "TypeError",
      "ERR_INVALID_ARG_TYPE",
      "The \"callback\" argument must be of type function. Received type string ('nope')"
    ],
    [
      "TypeError",
      "ERR_INVALID_ARG_TYPE",
      "The \"callback\" argument must be of type function. Received null"
    ],
    [
      "TypeError",
      "ERR_INVALID_ARG_TYPE",
      "The \"callback\" argument must be of type function. Received undefined"
    ],
    [
      "TypeError",
      "ERR_INVALID_ARG_TYPE",
      "The \"msecs\" argument must be of type number. Received type string ('1')"
    ],
    [
      "RangeError",
      "ERR_OUT_OF_RANGE",
      "The value of \"msecs\" is out of range. It must be a non-negative finite number. Received -1"
    ]
  ],
  "timeout": [
    "Timeout",
    50,
    null,
    false,
    true,
    true,
    false,
    true,
    "number",
    true,
    "function",
    "function"
  ],
  "clearedByNumber": [
    true,
    -1
  ],
  "refreshed": [
    2,
    false
  ],
  "toInterval": [
    2,
    true
  ],
  "enrolled": [
    "fired",
    5,
    "number"
  ],
  "unenrolled": [
    -1,
    true
  ],
  "overflow": 1,
  "uncaught": [
    "boom",
    "uncaughtException"
  ],
  "args": [
    1,
    "two"
  ],
  "iterator": [
    "tick",
    "tick",
    "tick"
  ],
  "slept": "v",
  "scheduler": [
    null,
    null
  ],
  "aborted": [
    "AbortError",
    "ABORT_ERR",
    "The operation was aborted",
    "why"
  ],
  "iteratorAborted": [
    "AbortError",
    "ABORT_ERR"
  ],
  "badOptions": [
    [
      "ERR_INVALID_ARG_TYPE",
      "The \"options\" argument must be of type object. Received null"
    ],
    [
      "ERR_INVALID_ARG_TYPE",
      "The \"options.ref\" property must be of type boolean. Received type number (1)"
    ],
    [
      "ERR_INVALID_ARG_TYPE",
      "The \"options.signal\" property must be an instance of AbortSignal. Received an instance of Object"
    ]
  ],
  "warnings": [
    [
      "DeprecationWarning",
      "DEP0095",
      "timers.enroll() is deprecated. Please use setTimeout instead."
    ],
    [
      "DeprecationWarning",
      "DEP0126",
      "timers.active() is deprecated. Please use timeout.refresh() instead."
    ],
    [
      "DeprecationWarning",
      "DEP0096",
      "timers.unenroll() is deprecated. Please use clearTimeout instead."
    ],
    [
      "TimeoutOverflowWarning",
      null,
      "2147483648 does not fit into a 32-bit signed integer.\nTimeout duration was set to 1."
    ]
  ]
}"##;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timers_answer_as_node_does() {
  let out = node_run_answer("timers", WORKER).await;
  assert_like_node(&out, FROM_NODE);
}

//! node:process answering as Node.js 20's does: emitWarning's 'warning' events (Errors named after
//! their type, with code and detail) on the next tick, Node's argument errors of nextTick, hrtime
//! and emitWarning, and process.stdout/stderr (writes go to the worker's log; isTTY false, as in
//! workerd). Expected values are what Node.js 20 printed for the same calls (the worker's `run()`,
//! run under `node`).

use edge_tests::*;

/// Calls the module the way packages do; answers what each call gave.
const WORKER: &str = r##"
import process, { emitWarning, nextTick, hrtime } from "node:process";

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
  const onWarning = (w) => warnings.push([w instanceof Error, w.name, w.code ?? null, w.message, w.detail ?? null]);
  process.on("warning", onWarning);
  emitWarning("plain");
  emitWarning("typed", "CustomWarning", "CODE1");
  emitWarning("with options", { type: "OtherWarning", code: "CODE2", detail: "more" });
  emitWarning(new RangeError("an error"));
  out.syncWarnings = warnings.length;
  await new Promise((resolve) => nextTick(resolve));
  process.off("warning", onWarning);
  out.warnings = warnings;
  out.errors = [code(() => nextTick(1)), code(() => hrtime(1)), code(() => hrtime([1])), code(() => emitWarning(5)), code(() => emitWarning("x", 5))];
  const diff = hrtime(hrtime());
  out.hrtime = [diff.length, diff[0], typeof hrtime.bigint()];
  out.args = await new Promise((resolve) => nextTick((...args) => resolve(args), "a", 2));
  out.isTTY = [process.stdout.isTTY, process.stderr.isTTY];
  out.streams = [process.stdout.fd, process.stderr.fd, process.stdout.write("to the log\n"), typeof process.stderr.write, typeof process.stdout.on];
  return out;
}
"##;

/// `JSON.stringify(await run())` under Node 20.20.2 (but for `isTTY`, which Node leaves
/// undefined for a pipe and a worker sets false).
const FROM_NODE: &str = r##"{
  "syncWarnings": 0,
  "warnings": [
    [
      true,
      "Warning",
      null,
      "plain",
      null
    ],
    [
      true,
      "CustomWarning",
      "CODE1",
      "typed",
      null
    ],
    [
      true,
      "OtherWarning",
      "CODE2",
      "with options",
      "more"
    ],
    [
      true,
      "RangeError",
      null,
      "an error",
      null
    ]
  ],
  "errors": [
    [
      "TypeError",
      "ERR_INVALID_ARG_TYPE",
      "The \"callback\" argument must be of type function. Received type number (1)"
    ],
    [
      "TypeError",
      "ERR_INVALID_ARG_TYPE",
      "The \"time\" argument must be an instance of Array. Received type number (1)"
    ],
    [
      "RangeError",
      "ERR_OUT_OF_RANGE",
      "The value of \"time\" is out of range. It must be 2. Received 1"
    ],
    [
      "TypeError",
      "ERR_INVALID_ARG_TYPE",
      "The \"warning\" argument must be of type string or an instance of Error. Received type number (5)"
    ],
    [
      "TypeError",
      "ERR_INVALID_ARG_TYPE",
      "The \"type\" argument must be of type string. Received type number (5)"
    ]
  ],
  "hrtime": [
    2,
    0,
    "bigint"
  ],
  "args": [
    "a",
    2
  ],
  "streams": [
    1,
    2,
    true,
    "function",
    "function"
  ]
}"##;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn process_answers_as_node_does() {
  let out = node_run_answer("process", WORKER).await;
  assert_like_node(&out, FROM_NODE);
  assert_eq!(
    out["isTTY"],
    serde_json::json!([false, false]),
    "a worker's stdout and stderr are no terminals"
  );
}

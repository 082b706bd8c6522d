//! npm projects with Node.js compatibility, bundled as wrangler bundles them with
//! `nodejs_compat`: built-in imports stay external whether they say `node:events` or
//! `events`, CommonJS code that `require`s a built-in gets Node's `module.exports` for it (and
//! `MODULE_NOT_FOUND` for a module the runtime does not have, when it asks), and without
//! compatibility the bundler's refusal says how to turn it on.

use edge_tests::*;

/// CommonJS, as packages on npm are: requires built-ins by both names, at load and later.
const LEGACY: &str = r#"const { EventEmitter } = require("events");
const { Buffer } = require("node:buffer");
const util = require("util");

class Greeter extends EventEmitter {
  greet(name) {
    const text = util.format("hello %s", name);
    this.emit("greeted", text);
    return Buffer.from(text).toString("base64");
  }
}

module.exports = {
  Greeter,
  later: () => require("node:path").join("/a", "b"),
  missing: () => require("node:nonexistent-module"),
};
"#;

const ENTRY: &str = r#"import { Greeter, later, missing } from "./legacy.cjs";
import { EventEmitter } from "events";
import { createHash } from "node:crypto";

export default {
  fetch() {
    const greeter = new Greeter();
    const heard = [];
    greeter.on("greeted", (text) => heard.push(text));
    const out = {
      greeted: greeter.greet("edge"),
      heard,
      sameClass: greeter instanceof EventEmitter,
      later: later(),
      hash: createHash("sha1").update("x").digest("hex"),
    };
    try { missing(); } catch (e) { out.missing = [e.message, e.code]; }
    return Response.json(out);
  },
};
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commonjs_requires_of_builtins_reach_the_node_modules() {
  let root = tempfile::tempdir().unwrap();
  let dir = npm_project(
    root.path(),
    "legacy",
    &[
      ("src/index.js", ENTRY),
      ("src/legacy.cjs", LEGACY),
      ("edge.toml", "main = \"src/index.js\"\ncompatibility_flags = [\"nodejs_compat\"]\n"),
    ],
  );
  let server = DevServer::start(&dir);
  let reply = get(&server.at("/")).await;
  assert_eq!(reply.status, 200, "{}\n{}", reply.body, server.log.text());
  assert_eq!(
    reply.json(),
    serde_json::json!({
      "greeted": "aGVsbG8gZWRnZQ==",
      "heard": ["hello edge"],
      "sameClass": true,
      "later": "/a/b",
      "hash": "11f6ad8ec52a2984abaafd7c3b516503785c2072",
      "missing": ["Cannot find module 'node:nonexistent-module': neither bundled nor a Node.js built-in this runtime has", "MODULE_NOT_FOUND"],
    })
  );
}

#[test]
fn without_compatibility_the_bundler_says_how_to_turn_it_on() {
  let root = tempfile::tempdir().unwrap();
  let entry =
    "import { spawn } from \"child_process\";\nexport default { fetch: () => new Response(typeof spawn) };\n";
  let dir =
    npm_project(root.path(), "plain", &[("src/index.js", entry), ("edge.toml", "main = \"src/index.js\"\n")]);
  let failed =
    DevServer::try_start(&dir).err().expect("built-ins do not resolve without Node.js compatibility");
  assert!(failed.stderr.contains("Could not resolve \"child_process\""), "{}", failed.stderr);
  assert!(failed.stderr.contains("compatibility_flags = [\"nodejs_compat\"]"), "{}", failed.stderr);
}

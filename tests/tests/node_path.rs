//! node:path — POSIX as Node's on Linux, with `path.win32` (and node:path/posix, node:path/win32) —
//! answering as Node.js 20 does: the paths, the namespaces' identities, `format`'s dot before an
//! `ext`, and Node's ERR_INVALID_ARG_TYPE for what is not a string. Expected values are what
//! Node.js 20 printed for the same calls (the worker's `run()`, run under `node`).

use edge_tests::*;

/// Calls the module the way packages do; answers what each call gave.
const WORKER: &str = r##"
import path, { posix, win32, join, resolve, format } from "node:path";
import posixModule from "node:path/posix";
import win32Module, { basename as winBasename } from "node:path/win32";

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
  out.identity = [path === posix, path.posix === posix, posix.win32 === win32, win32.posix === posix, win32.win32 === win32, posixModule === posix, win32Module === win32, path._makeLong === path.toNamespacedPath];
  out.posix = [join("/a/b", "../c", "./d.txt"), resolve("/x", "y", "..", "z"), posix.relative("/data/a/b", "/data/c"), posix.parse("/home/u/file.tar.gz"), posix.normalize("a//b/../c/."), posix.isAbsolute("./x"), posix.dirname("/a/b/"), posix.extname(".bashrc"), posix.basename("/a/b.js", ".js")];
  out.win32 = [win32.join("C:\\a", "..\\b", "c.txt"), win32.resolve("C:\\x", "y", "..\\z"), win32.relative("C:\\orandea\\test\\aaa", "C:\\orandea\\impl\\bbb"), win32.parse("C:\\path\\dir\\file.txt"), win32.normalize("C:/a//b\\..\\c"), win32.isAbsolute("//server/share"), win32.isAbsolute("C:foo"), win32.dirname("\\\\srv\\share\\x"), win32.toNamespacedPath("C:\\a\\b"), winBasename("C:\\temp\\x.html", ".html"), win32.sep, win32.delimiter, win32.format({ root: "C:\\", name: "f", ext: "txt" })];
  out.format = [format({ name: "x", ext: "png" }), format({ dir: "/d", name: "x", ext: ".png" }), format({ root: "/", base: "b.txt", ext: "ignored" })];
  out.errors = [code(() => join("a", 1)), code(() => resolve(null)), code(() => win32.relative("a", {})), code(() => path.basename("a", 5)), code(() => format(null)), code(() => path.parse(true)), path.toNamespacedPath(7)];
  return out;
}
"##;

/// `JSON.stringify(await run())` under Node 20.20.2.
const FROM_NODE: &str = r##"{
  "identity": [
    true,
    true,
    true,
    true,
    true,
    true,
    true,
    true
  ],
  "posix": [
    "/a/c/d.txt",
    "/x/z",
    "../../c",
    {
      "root": "/",
      "dir": "/home/u",
      "base": "file.tar.gz",
      "ext": ".gz",
      "name": "file.tar"
    },
    "a/c",
    false,
    "/a",
    "",
    "b"
  ],
  "win32": [
    "C:\\b\\c.txt",
    "C:\\x\\z",
    "..\\..\\impl\\bbb",
    {
      "root": "C:\\",
      "dir": "C:\\path\\dir",
      "base": "file.txt",
      "ext": ".txt",
      "name": "file"
    },
    "C:\\a\\c",
    true,
    false,
    "\\\\srv\\share\\",
    "\\\\?\\C:\\a\\b",
    "x",
    "\\",
    ";",
    "C:\\f.txt"
  ],
  "format": [
    "x.png",
    "/d/x.png",
    "/b.txt"
  ],
  "errors": [
    [
      "TypeError",
      "ERR_INVALID_ARG_TYPE",
      "The \"path\" argument must be of type string. Received type number (1)"
    ],
    [
      "TypeError",
      "ERR_INVALID_ARG_TYPE",
      "The \"paths[0]\" argument must be of type string. Received null"
    ],
    [
      "TypeError",
      "ERR_INVALID_ARG_TYPE",
      "The \"to\" argument must be of type string. Received an instance of Object"
    ],
    [
      "TypeError",
      "ERR_INVALID_ARG_TYPE",
      "The \"suffix\" argument must be of type string. Received type number (5)"
    ],
    [
      "TypeError",
      "ERR_INVALID_ARG_TYPE",
      "The \"pathObject\" argument must be of type object. Received null"
    ],
    [
      "TypeError",
      "ERR_INVALID_ARG_TYPE",
      "The \"path\" argument must be of type string. Received type boolean (true)"
    ],
    7
  ]
}"##;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn path_posix_and_win32_answer_as_node_does() {
  let out = node_run_answer("path", WORKER).await;
  assert_like_node(&out, FROM_NODE);
}

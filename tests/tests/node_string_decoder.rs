//! node:string_decoder answering as Node.js 20's does: characters split between writes, U+FFFD
//! where Node puts it for invalid or unfinished UTF-8 and UTF-16, base64 and base64url groups, the
//! undocumented lastChar/lastNeed/lastTotal, and Node's errors (ERR_UNKNOWN_ENCODING,
//! ERR_INVALID_ARG_TYPE, ERR_INVALID_THIS). Expected values are what Node.js 20 printed for the
//! same calls (the worker's `run()`, run under `node`).

use edge_tests::*;

/// Calls the module the way packages do; answers what each call gave.
const WORKER: &str = r##"
import { StringDecoder } from "node:string_decoder";

const code = (f) => {
  try {
    f();
    return null;
  } catch (e) {
    return [e.name, e.code, e.message];
  }
};

// UTF-16 code units: a lone surrogate cannot travel in JSON.
const units = (text) => Array.from({ length: text.length }, (_, i) => text.charCodeAt(i));

const chunks = (encoding, ...parts) => {
  const d = new StringDecoder(encoding);
  return parts.map((p) => d.write(Buffer.from(p, "hex"))).concat([d.end()]);
};

async function run() {
  const out = {};
  out.encodings = ["utf-8", "UCS2", "binary", "base64url", "Latin1", undefined].map((e) => new StringDecoder(e).encoding);
  out.utf8Split = chunks("utf8", "e282", "ac41", "f09f", "98", "80");
  out.utf8Invalid = [chunks("utf8", "e2", "41"), chunks("utf8", "c9b5a941"), chunks("utf8", "f0b841"), chunks("utf8", "e2fbcc01"), chunks("utf8", "eda0b5edb08d"), chunks("utf8", "f69b", "d1"), chunks("utf8", "e1")];
  out.utf16 = [chunks("utf16le", "3dd8", "4d", "dc"), chunks("utf16le", "3dd8"), chunks("utf16le", "3dd84d"), chunks("utf16le", "61")].map((c) => c.map(units));
  out.base64 = [chunks("base64", "61", "6161"), chunks("base64url", "fbff", "fe"), chunks("base64url", "61"), chunks("hex", "abcd")];
  const d = new StringDecoder("utf8");
  d.write(Buffer.from([0xe1]));
  out.state = [Array.from(d.lastChar), d.lastNeed, d.lastTotal, d.end(), d.write("as is"), d.write(new Uint16Array([0x6968])), d.end(Buffer.from("!"))];
  out.errors = [code(() => new StringDecoder("nope")), code(() => new StringDecoder(1)), code(() => new StringDecoder().write(null)), code(() => new StringDecoder().write(5)), code(() => StringDecoder.prototype.write.call({}, Buffer.from("x")))];
  const plain = {};
  StringDecoder.call(plain, "hex");
  out.withoutNew = plain.encoding;
  return out;
}
"##;

/// `JSON.stringify(await run())` under Node 20.20.2.
const FROM_NODE: &str = r##"{
  "encodings": [
    "utf8",
    "utf16le",
    "latin1",
    "base64url",
    "latin1",
    "utf8"
  ],
  "utf8Split": [
    "",
    "€A",
    "",
    "",
    "😀",
    ""
  ],
  "utf8Invalid": [
    [
      "",
      "�A",
      ""
    ],
    [
      "ɵ�A",
      ""
    ],
    [
      "�A",
      ""
    ],
    [
      "���\u0001",
      ""
    ],
    [
      "������",
      ""
    ],
    [
      "",
      "��",
      "�"
    ],
    [
      "",
      "�"
    ]
  ],
  "utf16": [
    [
      [],
      [],
      [
        55357,
        56397
      ],
      []
    ],
    [
      [],
      [
        55357
      ]
    ],
    [
      [
        55357
      ],
      []
    ],
    [
      [],
      []
    ]
  ],
  "base64": [
    [
      "",
      "YWFh",
      ""
    ],
    [
      "",
      "-__-",
      ""
    ],
    [
      "",
      "YQ"
    ],
    [
      "abcd",
      ""
    ]
  ],
  "state": [
    [
      225,
      0,
      0,
      0
    ],
    2,
    3,
    "�",
    "as is",
    "hi",
    "!"
  ],
  "errors": [
    [
      "TypeError",
      "ERR_UNKNOWN_ENCODING",
      "Unknown encoding: nope"
    ],
    [
      "TypeError",
      "ERR_UNKNOWN_ENCODING",
      "Unknown encoding: 1"
    ],
    [
      "TypeError",
      "ERR_INVALID_ARG_TYPE",
      "The \"buf\" argument must be an instance of Buffer, TypedArray, or DataView. Received null"
    ],
    [
      "TypeError",
      "ERR_INVALID_ARG_TYPE",
      "The \"buf\" argument must be an instance of Buffer, TypedArray, or DataView. Received type number (5)"
    ],
    [
      "TypeError",
      "ERR_INVALID_THIS",
      "Value of \"this\" must be of type StringDecoder"
    ]
  ],
  "withoutNew": "hex"
}"##;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn string_decoder_answers_as_node_does() {
  let out = node_run_answer("string-decoder", WORKER).await;
  assert_like_node(&out, FROM_NODE);
}

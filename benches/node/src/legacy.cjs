// A CommonJS dependency that `require`s built-ins, bare and with the `node:` prefix, the way old
// npm packages do: wrangler has to turn these calls into imports of the runtime's modules.

"use strict";

const EventEmitter = require("events");
const { Buffer } = require("node:buffer");
const util = require("util");
const crypto = require("node:crypto");
const { Readable } = require("stream");
const path = require("path");
const querystring = require("querystring");
const { StringDecoder } = require("string_decoder");
const assert = require("assert");

class Job extends EventEmitter {
  run(input) {
    this.emit("start", input);
    const digest = crypto.createHash("sha256").update(input).digest("hex");
    this.emit("done", digest);
    return digest;
  }
}

function describe() {
  const job = new Job();
  const seen = [];
  job.on("start", (input) => seen.push(`start:${input}`));
  job.on("done", (digest) => seen.push(`done:${digest.slice(0, 16)}`));
  job.run("legacy");
  const decoder = new StringDecoder("utf8");
  const euro = Buffer.from("€");
  let assertion;
  try {
    assert.deepStrictEqual({ a: 1 }, { a: 1 });
    assert.strictEqual(1, 2);
  } catch (error) {
    assertion = [error.name, error.code, error.actual, error.expected, error.operator];
  }
  return {
    seen,
    eventEmitterIsDefault: EventEmitter === EventEmitter.EventEmitter,
    requireShapes: [typeof EventEmitter, typeof Buffer.from, typeof util.inspect, typeof crypto.createHmac,
      typeof Readable.from, typeof path.join],
    hmac: crypto.createHmac("sha1", "legacy key").update("message").digest("base64"),
    inspect: util.inspect({ job: { name: "legacy", tags: new Set(["cjs"]) } }),
    format: util.format("%s:%d", "cjs", 7),
    path: [path.join("/a/b", "../c", "./d.js"), path.extname("x.tar.gz"), path.relative("/a/b/c", "/a/d"),
      path.parse("/home/u/file.txt")],
    querystring: [querystring.stringify({ a: [1, 2], b: "x y", c: "é" }), querystring.parse("a=1&a=2&b=%20")],
    decoder: [decoder.write(euro.subarray(0, 1)), decoder.write(euro.subarray(1)), decoder.end()],
    assertion,
    bufferFromRequire: Buffer.from("cjs").toString("base64"),
  };
}

async function readAll() {
  const chunks = [];
  for await (const chunk of Readable.from(["c", "j", "s"])) chunks.push(chunk);
  return chunks.join("");
}

module.exports = { describe, readAll, Job };

// node:stream: Readable.from → Transform → Writable with pipeline (callback and promise forms),
// the order of a stream's events, object mode, back-pressure, errors through a pipeline, async
// iteration, finished, PassThrough/Duplex, and the Web stream bridges where the runtime has them.

import * as stream from "node:stream";
import * as streamPromises from "node:stream/promises";
import * as consumers from "node:stream/consumers";
import { Buffer } from "node:buffer";
import { run } from "./report.js";

const { Readable, Writable, Transform, PassThrough, Duplex } = stream;

function upper() {
  return new Transform({
    transform(chunk, encoding, callback) {
      callback(null, chunk.toString().toUpperCase());
    },
  });
}

function collector(into, objectMode = false) {
  return new Writable({
    objectMode,
    write(chunk, encoding, callback) {
      into.push(objectMode ? chunk : [encoding, chunk.toString()]);
      callback();
    },
  });
}

export function streamChecks() {
  return run({
    pipelineCallback: () =>
      new Promise((resolve) => {
        const out = [];
        stream.pipeline(Readable.from(["alpha ", "beta ", "gamma"]), upper(), collector(out), (error) =>
          resolve([error ?? null, out]));
      }),
    pipelinePromise: async () => {
      const out = [];
      const result = await streamPromises.pipeline(Readable.from(["one", "two", "three"]), upper(), collector(out));
      return [result, out];
    },
    pipelineGenerators: async () => {
      const out = [];
      await streamPromises.pipeline(
        Readable.from([1, 2, 3, 4]),
        async function* (source) {
          for await (const n of source) yield n * 10;
        },
        collector(out, true),
      );
      return out;
    },
    pipelineError: async () => {
      const failing = new Transform({
        transform(chunk, encoding, callback) {
          callback(chunk.toString() === "bad" ? new Error("bad chunk") : null, chunk);
        },
      });
      const out = [];
      try {
        await streamPromises.pipeline(Readable.from(["ok", "bad", "never"]), failing, collector(out));
        return "resolved";
      } catch (error) {
        return [error.message, out];
      }
    },
    eventOrder: () =>
      new Promise((resolve) => {
        const events = [];
        const source = Readable.from(["a", "b"]);
        const sink = collector([]);
        for (const name of ["data", "end", "close"]) source.on(name, () => events.push(`source:${name}`));
        for (const name of ["pipe", "finish", "close"]) sink.on(name, () => events.push(`sink:${name}`));
        // A copy: what comes after the sink closed is not part of the answer.
        sink.on("close", () => resolve([...events]));
        source.pipe(sink);
      }),
    objectMode: async () => {
      const seen = [];
      for await (const item of Readable.from([{ a: 1 }, [2], "three", 4])) seen.push(item);
      return [seen, Readable.from([]).readableObjectMode];
    },
    bytesMode: async () => {
      const chunks = [];
      for await (const chunk of Readable.from(Buffer.from("bytes!"), { objectMode: false })) chunks.push(chunk.toString());
      return chunks;
    },
    backpressure: () => {
      const sink = new Writable({
        highWaterMark: 4,
        write(chunk, encoding, callback) {
          setTimeout(callback, 1);
        },
      });
      const accepted = [sink.write("ab"), sink.write("cd"), sink.write("ef")];
      return [accepted, sink.writableLength, sink.writableHighWaterMark, sink.writableNeedDrain];
    },
    readableRead: () => {
      const r = new Readable({ read() {} });
      r.push("abc");
      r.push("def");
      r.push(null);
      return [r.read(2)?.toString(), r.read()?.toString(), r.readableLength];
    },
    setEncoding: async () => {
      const r = Readable.from([Buffer.from([0xe2, 0x82]), Buffer.from([0xac, 0x41])], { objectMode: false });
      r.setEncoding("utf8");
      const parts = [];
      for await (const part of r) parts.push(part);
      return parts;
    },
    finished: () =>
      new Promise((resolve) => {
        const r = Readable.from(["x"]);
        stream.finished(r, (error) => resolve(["finished", error ?? null, r.readableEnded]));
        r.resume();
      }),
    finishedPromise: async () => {
      const w = collector([]);
      w.end("last");
      await streamPromises.finished(w);
      return [w.writableFinished, w.writableEnded];
    },
    passThrough: async () => {
      const p = new PassThrough();
      p.end("through");
      const chunks = [];
      for await (const c of p) chunks.push(c.toString());
      return chunks;
    },
    duplex: () =>
      new Promise((resolve) => {
        const written = [];
        const d = new Duplex({
          read() {
            this.push("from duplex");
            this.push(null);
          },
          write(chunk, encoding, callback) {
            written.push(chunk.toString());
            callback();
          },
        });
        d.on("data", (c) => written.push(`read:${c}`));
        d.on("finish", () => resolve([...written]));
        d.write("to duplex");
        d.end();
      }),
    destroy: () =>
      new Promise((resolve) => {
        const r = new Readable({ read() {} });
        r.on("error", (error) => resolve(["error", error.message, r.destroyed]));
        r.on("close", () => resolve(["close", r.destroyed]));
        r.destroy(new Error("destroyed"));
      }),
    consumers: async () => {
      return [await consumers.text(Readable.from(["a", "b"])), await consumers.json(Readable.from(['{"k":', "1}"]))];
    },
    toWeb: async () => {
      if (typeof Readable.toWeb !== "function") return "no Readable.toWeb";
      const web = Readable.toWeb(Readable.from(["web ", "stream"]));
      const reader = web.getReader();
      const parts = [];
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        parts.push(typeof value === "string" ? value : Buffer.from(value).toString());
      }
      return [web instanceof ReadableStream, parts];
    },
    fromWeb: async () => {
      if (typeof Readable.fromWeb !== "function") return "no Readable.fromWeb";
      const web = new ReadableStream({
        start(controller) {
          controller.enqueue(new TextEncoder().encode("from "));
          controller.enqueue(new TextEncoder().encode("web"));
          controller.close();
        },
      });
      const parts = [];
      for await (const chunk of Readable.fromWeb(web)) parts.push(Buffer.from(chunk).toString());
      return parts;
    },
    writableToWeb: async () => {
      if (typeof Writable.toWeb !== "function") return "no Writable.toWeb";
      const out = [];
      const web = Writable.toWeb(collector(out));
      const writer = web.getWriter();
      await writer.write(new TextEncoder().encode("into node"));
      await writer.close();
      return out;
    },
    exports: () => ["Readable", "Writable", "Duplex", "Transform", "PassThrough", "pipeline", "finished", "compose",
      "addAbortSignal", "isReadable", "isErrored", "getDefaultHighWaterMark"].map((k) => [k, typeof stream[k]]),
  });
}

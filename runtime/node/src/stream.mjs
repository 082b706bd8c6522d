// node:stream: the `readable-stream` package (Node's own streams, for browsers), with
// Readable.fromWeb/toWeb and Writable.fromWeb/toWeb over the Web streams of the runtime. The
// module is what Node's `require("stream")` is: the legacy `Stream` constructor with the
// classes on it (the package's browser entry is `Readable`, whose read-only `readable`
// breaks packages that subclass `Stream`, as jws does).

// node:buffer first: it gives the package's Buffer Node's encodings and their native speed.
import "node:buffer";
import stream from "readable-stream/lib/stream.js";

const { Readable, Writable, Duplex } = stream;

Readable.fromWeb = function fromWeb(readableStream, options = {}) {
  const reader = readableStream.getReader();
  return new Readable({
    ...options,
    async read() {
      try {
        const { value, done } = await reader.read();
        this.push(done ? null : value);
      } catch (error) {
        this.destroy(error);
      }
    },
    destroy(error, callback) {
      reader.cancel(error ?? undefined).then(() => callback(error), callback);
    },
  });
};

Readable.toWeb = function toWeb(readable) {
  const iterator = readable[Symbol.asyncIterator]();
  return new ReadableStream({
    async pull(controller) {
      try {
        const { value, done } = await iterator.next();
        if (done) controller.close();
        else controller.enqueue(typeof value === "string" ? new TextEncoder().encode(value) : value);
      } catch (error) {
        controller.error(error);
      }
    },
    cancel(reason) {
      readable.destroy(reason);
    },
  });
};

Writable.fromWeb = function fromWeb(writableStream, options = {}) {
  const writer = writableStream.getWriter();
  return new Writable({
    ...options,
    write(chunk, _encoding, callback) {
      writer.write(chunk).then(() => callback(), callback);
    },
    final(callback) {
      writer.close().then(() => callback(), callback);
    },
    destroy(error, callback) {
      writer.abort(error ?? undefined).then(() => callback(error), callback);
    },
  });
};

Writable.toWeb = function toWeb(writable) {
  return new WritableStream({
    write(chunk) {
      return new Promise((resolve, reject) => {
        writable.write(chunk, (error) => (error ? reject(error) : resolve()));
      });
    },
    close() {
      return new Promise((resolve) => writable.end(resolve));
    },
    abort(reason) {
      writable.destroy(reason);
    },
  });
};

Duplex.fromWeb = function fromWeb(pair, options = {}) {
  const readable = Readable.fromWeb(pair.readable, options);
  const writable = Writable.fromWeb(pair.writable, options);
  return Duplex.from({ readable, writable });
};

export const {
  _isUint8Array,
  _uint8ArrayToBuffer,
  addAbortSignal,
  compose,
  destroy,
  finished,
  getDefaultHighWaterMark,
  isDestroyed,
  isDisturbed,
  isErrored,
  isReadable,
  isWritable,
  PassThrough,
  pipeline,
  setDefaultHighWaterMark,
  Stream,
  Transform,
} = stream;
export const promises = stream.promises;
export { Duplex, Readable, Writable };
export default stream;

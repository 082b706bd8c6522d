// node:internal/streams/lazy: Node's LazyTransform, lazier. node:crypto's Hash and Hmac and
// node:zlib's objects are Transform streams, but node:stream (readable-stream, the largest
// part of the cold start of a worker that imports it) is loaded, and an object's stream state
// made, only when one is first used as a stream: `createHash(...).update()` and `gzipSync`
// never load it. Until that first use, `instanceof stream.Transform` is false.

import { core } from "ext:core/mod.js";

/** A Transform stream whose stream half arrives on first use (see above). */
export function LazyTransform(options) {
  this._options = options;
}
const loadStream = core.createLazyLoader("node:stream");
let Transform;
/** What answers only as a stream: the first call of one makes every LazyTransform a stream. */
const STREAM_MEMBERS = [
  "on", "once", "addListener", "prependListener", "prependOnceListener", "off", "removeListener",
  "removeAllListeners", "emit", "listeners", "rawListeners", "listenerCount", "eventNames",
  "setMaxListeners", "getMaxListeners", "pipe", "unpipe", "read", "push", "unshift", "resume",
  "pause", "isPaused", "setEncoding", "wrap", "write", "end", "cork", "uncork",
  "setDefaultEncoding", "destroy", Symbol.asyncIterator,
];

function becomeStreams() {
  if (Transform !== undefined) return;
  Transform = loadStream().Transform;
  for (const member of STREAM_MEMBERS) delete LazyTransform.prototype[member];
  Object.setPrototypeOf(LazyTransform.prototype, Transform.prototype);
  Object.setPrototypeOf(LazyTransform, Transform);
}

for (const member of STREAM_MEMBERS) {
  Object.defineProperty(LazyTransform.prototype, member, {
    value(...args) {
      becomeStreams();
      return this[member](...args);
    },
    writable: true,
    configurable: true,
  });
}
for (const state of ["_readableState", "_writableState", "_transformState"]) {
  Object.defineProperty(LazyTransform.prototype, state, {
    get() {
      becomeStreams();
      Transform.call(this, this._options);
      return this[state];
    },
    set(value) {
      Object.defineProperty(this, state, { value, enumerable: true, configurable: true, writable: true });
    },
    configurable: true,
    enumerable: true,
  });
}

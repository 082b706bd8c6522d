// node:events: the `events` package (Node's EventEmitter for browsers; a function
// constructor, so that `EventEmitter.call(this)` in older packages works), with what Node
// has beyond it: `on`, `errorMonitor`, `getEventListeners`, `setMaxListeners`,
// `addAbortListener` and `captureRejectionSymbol`.

import events from "events/events.js";

const { EventEmitter, once } = events;

export const errorMonitor = Symbol("events.errorMonitor");
export const captureRejectionSymbol = Symbol.for("nodejs.rejection");

// `errorMonitor` listeners see an "error" before the ordinary listeners do.
const { emit } = EventEmitter.prototype;
EventEmitter.prototype.emit = function (type, ...args) {
  if (type === "error" && this._events !== undefined && this._events[errorMonitor] !== undefined) {
    Reflect.apply(emit, this, [errorMonitor, ...args]);
  }
  return Reflect.apply(emit, this, [type, ...args]);
};
EventEmitter.errorMonitor = errorMonitor;
EventEmitter.captureRejectionSymbol = captureRejectionSymbol;

/** The listeners of `type` on an EventEmitter or an EventTarget. */
export function getEventListeners(emitter, type) {
  if (typeof emitter.listeners === "function") {
    return emitter.listeners(type);
  }
  return [];
}

/** Sets the listener limit of each emitter, or the default one when none is given. */
export function setMaxListeners(n = EventEmitter.defaultMaxListeners, ...emitters) {
  if (emitters.length === 0) {
    EventEmitter.defaultMaxListeners = n;
  }
  for (const emitter of emitters) {
    if (typeof emitter.setMaxListeners === "function") {
      emitter.setMaxListeners(n);
    }
  }
}

/** Listens once for `abort` on `signal`; returns a disposable that removes the listener. */
export function addAbortListener(signal, listener) {
  if (signal.aborted) {
    queueMicrotask(() => listener());
  } else {
    signal.addEventListener("abort", listener, { once: true });
  }
  return { [Symbol.dispose ?? Symbol.for("Symbol.dispose")]: () => signal.removeEventListener("abort", listener) };
}

/** An async iterator over the `type` events of `emitter` (rejects on "error"). */
export function on(emitter, type, options = {}) {
  const pending = [];
  const waiting = [];
  let failure = null;
  let done = false;
  const listener = (...args) => {
    const next = waiting.shift();
    if (next) next.resolve({ value: args, done: false });
    else pending.push(args);
  };
  const onError = (error) => {
    const next = waiting.shift();
    if (next) next.reject(error);
    else failure = error;
    finish();
  };
  const finish = () => {
    done = true;
    emitter.removeListener(type, listener);
    emitter.removeListener("error", onError);
    for (const next of waiting.splice(0)) next.resolve({ value: undefined, done: true });
  };
  emitter.on(type, listener);
  if (type !== "error") emitter.on("error", onError);
  options.signal?.addEventListener("abort", () => onError(options.signal.reason), { once: true });
  return {
    next() {
      if (pending.length > 0) return Promise.resolve({ value: pending.shift(), done: false });
      if (failure !== null) {
        const error = failure;
        failure = null;
        return Promise.reject(error);
      }
      if (done) return Promise.resolve({ value: undefined, done: true });
      return new Promise((resolve, reject) => waiting.push({ resolve, reject }));
    },
    return() {
      finish();
      return Promise.resolve({ value: undefined, done: true });
    },
    throw(error) {
      onError(error);
      return Promise.reject(error);
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

EventEmitter.on = on;
EventEmitter.getEventListeners = getEventListeners;
EventEmitter.setMaxListeners = setMaxListeners;
EventEmitter.addAbortListener = addAbortListener;

export const listenerCount = EventEmitter.listenerCount;
export { EventEmitter, once };
export default EventEmitter;

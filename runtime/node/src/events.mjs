// node:events: the `events` package (Node's EventEmitter for browsers; a function
// constructor, so that `EventEmitter.call(this)` in older packages works), with what Node
// has beyond it: a constructor taking options (`captureRejections`), Node's `emit` (the
// `errorMonitor`, an unhandled "error" as ERR_UNHANDLED_ERROR, rejections of async listeners
// sent to "error"), `once` and `on` with an AbortSignal, `getEventListeners`,
// `get/setMaxListeners`, `addAbortListener` and `EventEmitterAsyncResource`.

import events from "events/events.js";
import { core } from "ext:core/mod.js";
import { AsyncResource } from "node:async_hooks";
import {
  AbortError,
  invalidArgType,
  unhandledError,
  validateAbortSignal,
  validateBoolean,
  validateFunction,
  validateNumber,
  validateObject,
  validateString,
} from "node:internal/errors";

/** The package's constructor: packages bundled here (readable-stream) construct with it. */
const PackageEmitter = events;

export const errorMonitor = Symbol("events.errorMonitor");
export const captureRejectionSymbol = Symbol.for("nodejs.rejection");
const kCapture = Symbol("kCapture");
const kShapeMode = Symbol("shapeMode");
const kMaxEventTargetListeners = Symbol("events.maxEventTargetListeners");

// node:process (for captured rejections and warnings) is loaded only when an emitter needs it.
const loadUtil = core.createLazyLoader("node:util");
const loadProcess = core.createLazyLoader("node:process");

/** Node's EventEmitter constructor; its prototype is the package's. */
export function EventEmitter(opts) {
  EventEmitter.init.call(this, opts);
}
EventEmitter.prototype = PackageEmitter.prototype;
Object.defineProperty(EventEmitter.prototype, "constructor", {
  value: EventEmitter,
  writable: true,
  configurable: true,
});
EventEmitter.prototype[kCapture] = false;
// The listener limit lives in the package (its `addListener` warns by it; its property cannot
// be redefined); set here, it is checked as Node checks it.
const packageDefaultMax = Object.getOwnPropertyDescriptor(PackageEmitter, "defaultMaxListeners");
Object.defineProperty(EventEmitter, "defaultMaxListeners", {
  get: packageDefaultMax.get,
  set(value) {
    validateNumber(value, "defaultMaxListeners", 0);
    packageDefaultMax.set.call(PackageEmitter, value);
  },
  enumerable: true,
  configurable: true,
});

// Node's methods where the package's differ: listeners checked with Node's error, the limit
// checked as Node does, `listenerCount(type, listener)`, and `removeAllListeners()` reaching
// symbol-named events too. (Written as methods, so that each keeps its name in the bundle.)
const packageMethods = { ...PackageEmitter.prototype };
Object.assign(PackageEmitter.prototype, {
  setMaxListeners(n) {
    validateNumber(n, "setMaxListeners", 0);
    this._maxListeners = n;
    return this;
  },
  addListener(type, listener) {
    validateFunction(listener, "listener");
    return packageMethods.addListener.call(this, type, listener);
  },
  prependListener(type, listener) {
    validateFunction(listener, "listener");
    return packageMethods.prependListener.call(this, type, listener);
  },
  once(type, listener) {
    validateFunction(listener, "listener");
    return packageMethods.once.call(this, type, listener);
  },
  prependOnceListener(type, listener) {
    validateFunction(listener, "listener");
    return packageMethods.prependOnceListener.call(this, type, listener);
  },
  removeListener(type, listener) {
    validateFunction(listener, "listener");
    return packageMethods.removeListener.call(this, type, listener);
  },
  listenerCount(type, listener) {
    const found = this._events?.[type];
    if (found === undefined) return 0;
    const all = typeof found === "function" ? [found] : found;
    if (listener == null) return all.length;
    return all.filter((l) => l === listener || l.listener === listener).length;
  },
  removeAllListeners(type) {
    const events = this._events;
    if (events === undefined) return this;
    if (events.removeListener === undefined) {
      if (arguments.length === 0) {
        this._events = Object.create(null);
        this._eventsCount = 0;
      } else if (events[type] !== undefined) {
        if (--this._eventsCount === 0) this._events = Object.create(null);
        else delete events[type];
      }
      this[kShapeMode] = false;
      return this;
    }
    // Emit "removeListener" for each one, that listener's own last.
    if (arguments.length === 0) {
      for (const key of Reflect.ownKeys(events)) {
        if (key !== "removeListener") this.removeAllListeners(key);
      }
      this.removeAllListeners("removeListener");
      this._events = Object.create(null);
      this._eventsCount = 0;
      this[kShapeMode] = false;
      return this;
    }
    const listeners = events[type];
    if (typeof listeners === "function") {
      this.removeListener(type, listeners);
    } else if (listeners !== undefined) {
      // Last in, first out.
      for (let i = listeners.length - 1; i >= 0; i--) this.removeListener(type, listeners[i]);
    }
    return this;
  },
});
PackageEmitter.prototype.on = PackageEmitter.prototype.addListener;
PackageEmitter.prototype.off = PackageEmitter.prototype.removeListener;

EventEmitter.init = function init(opts) {
  if (this._events === undefined || this._events === Object.getPrototypeOf(this)._events) {
    this._events = Object.create(null);
    this._eventsCount = 0;
    this[kShapeMode] = false;
  } else {
    this[kShapeMode] = true;
  }
  this._maxListeners = this._maxListeners || undefined;
  if (opts?.captureRejections) {
    validateBoolean(opts.captureRejections, "options.captureRejections");
    this[kCapture] = true;
  } else {
    // Own, as in Node, so that changing the default later does not change this emitter.
    this[kCapture] = EventEmitter.prototype[kCapture];
  }
};
PackageEmitter.init = EventEmitter.init;

Object.defineProperty(EventEmitter, "captureRejections", {
  get() {
    return EventEmitter.prototype[kCapture];
  },
  set(value) {
    validateBoolean(value, "EventEmitter.captureRejections");
    EventEmitter.prototype[kCapture] = value;
  },
  enumerable: true,
});

/** Node's emit: the package's, plus errorMonitor, ERR_UNHANDLED_ERROR and captured rejections. */
EventEmitter.prototype.emit = function emit(type, ...args) {
  let doError = type === "error";
  const events = this._events;
  if (events !== undefined) {
    if (doError && events[errorMonitor] !== undefined) this.emit(errorMonitor, ...args);
    doError = doError && events.error === undefined;
  } else if (!doError) {
    return false;
  }
  if (doError) {
    const er = args.length > 0 ? args[0] : undefined;
    if (er instanceof Error) {
      throw er; // Unhandled 'error' event
    }
    let shown;
    try {
      shown = loadUtil().inspect(er);
    } catch {
      shown = er;
    }
    const error = unhandledError(shown);
    error.context = er;
    throw error; // Unhandled 'error' event
  }
  const handler = events[type];
  if (handler === undefined) return false;
  if (typeof handler === "function") {
    const result = Reflect.apply(handler, this, args);
    if (result !== undefined && result !== null) addCatch(this, result, type, args);
  } else {
    // A copy: a listener may add or remove listeners while they run.
    for (const listener of [...handler]) {
      const result = Reflect.apply(listener, this, args);
      if (result !== undefined && result !== null) addCatch(this, result, type, args);
    }
  }
  return true;
};

/** With captureRejections, a listener's rejected promise becomes an "error" (on the next tick). */
function addCatch(emitter, promise, type, args) {
  if (!emitter[kCapture]) return;
  try {
    const then = promise.then;
    if (typeof then === "function") {
      Reflect.apply(then, promise, [
        undefined,
        (error) => loadProcess().default.nextTick(emitRejection, emitter, error, type, args),
      ]);
    }
  } catch (error) {
    emitter.emit("error", error);
  }
}

function emitRejection(emitter, error, type, args) {
  if (typeof emitter[captureRejectionSymbol] === "function") {
    emitter[captureRejectionSymbol](error, type, ...args);
    return;
  }
  const before = emitter[kCapture];
  // An "error" listener that rejects too must not loop.
  try {
    emitter[kCapture] = false;
    emitter.emit("error", error);
  } finally {
    emitter[kCapture] = before;
  }
}

/** The listeners of `type` on an EventEmitter or an EventTarget. */
export function getEventListeners(emitter, type) {
  if (typeof emitter.listeners === "function") {
    return emitter.listeners(type);
  }
  return [];
}

/** The listener limit of an EventEmitter or an EventTarget. */
export function getMaxListeners(emitterOrTarget) {
  if (typeof emitterOrTarget?.getMaxListeners === "function") {
    return emitterOrTarget.getMaxListeners();
  }
  if (emitterOrTarget instanceof EventTarget) {
    return emitterOrTarget[kMaxEventTargetListeners] ?? EventEmitter.defaultMaxListeners;
  }
  throw invalidArgType("emitter", ["EventEmitter", "EventTarget"], emitterOrTarget);
}

/** Sets the listener limit of each emitter, or the default one when none is given. */
export function setMaxListeners(n = EventEmitter.defaultMaxListeners, ...emitters) {
  validateNumber(n, "setMaxListeners", 0);
  if (emitters.length === 0) {
    EventEmitter.defaultMaxListeners = n;
  }
  for (const emitter of emitters) {
    if (typeof emitter?.setMaxListeners === "function") {
      emitter.setMaxListeners(n);
    } else if (emitter instanceof EventTarget) {
      const descriptor = { __proto__: null, value: n, writable: true, configurable: true };
      Object.defineProperty(emitter, kMaxEventTargetListeners, descriptor);
    } else {
      throw invalidArgType("eventTargets", ["EventEmitter", "EventTarget"], emitter);
    }
  }
}

/** Listens once for `abort` on `signal`; returns a disposable that removes the listener. */
export function addAbortListener(signal, listener) {
  if (signal === undefined) throw invalidArgType("signal", "AbortSignal", signal);
  validateAbortSignal(signal, "signal");
  validateFunction(listener, "listener");
  if (signal.aborted) {
    queueMicrotask(() => listener());
  } else {
    signal.addEventListener("abort", listener, { once: true });
  }
  const dispose = () => signal.removeEventListener("abort", listener);
  return { __proto__: null, [Symbol.dispose ?? Symbol.for("Symbol.dispose")]: dispose };
}

function addListener(emitter, name, listener, flags) {
  if (typeof emitter.on === "function") {
    if (flags?.once) emitter.once(name, listener);
    else emitter.on(name, listener);
  } else if (typeof emitter.addEventListener === "function") {
    emitter.addEventListener(name, listener, flags);
  } else {
    throw invalidArgType("emitter", ["EventEmitter", "EventTarget"], emitter);
  }
}

function removeListener(emitter, name, listener) {
  if (typeof emitter.removeListener === "function") {
    emitter.removeListener(name, listener);
  } else if (typeof emitter.removeEventListener === "function") {
    emitter.removeEventListener(name, listener);
  }
}

/**
 * The arguments of the next `name` event of `emitter` (an EventEmitter or an EventTarget);
 * rejects on an "error" event, or with an AbortError when `options.signal` aborts.
 */
export async function once(emitter, name, options = {}) {
  validateObject(options, "options");
  const signal = options.signal;
  validateAbortSignal(signal, "options.signal");
  if (signal?.aborted) throw new AbortError(undefined, { cause: signal.reason });
  return new Promise((resolve, reject) => {
    const errorListener = (error) => {
      removeListener(emitter, name, resolver);
      signal?.removeEventListener("abort", abortListener);
      reject(error);
    };
    const resolver = (...args) => {
      if (typeof emitter.removeListener === "function") emitter.removeListener("error", errorListener);
      signal?.removeEventListener("abort", abortListener);
      resolve(args);
    };
    const abortListener = () => {
      removeListener(emitter, name, resolver);
      removeListener(emitter, "error", errorListener);
      reject(new AbortError(undefined, { cause: signal?.reason }));
    };
    addListener(emitter, name, resolver, { once: true });
    // EventTargets have no "error" semantics: only an EventEmitter's "error" rejects.
    if (name !== "error" && typeof emitter.once === "function") emitter.once("error", errorListener);
    signal?.addEventListener("abort", abortListener, { once: true });
  });
}

/**
 * An async iterator over the `type` events of `emitter` (rejects on "error", or with an
 * AbortError when `options.signal` aborts).
 */
export function on(emitter, type, options = {}) {
  const signal = options?.signal;
  validateAbortSignal(signal, "options.signal");
  if (signal?.aborted) throw new AbortError(undefined, { cause: signal.reason });
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
  const onAbort = () => onError(new AbortError(undefined, { cause: signal?.reason }));
  const finish = () => {
    done = true;
    removeListener(emitter, type, listener);
    removeListener(emitter, "error", onError);
    signal?.removeEventListener("abort", onAbort);
    for (const next of waiting.splice(0)) next.resolve({ value: undefined, done: true });
  };
  addListener(emitter, type, listener);
  if (type !== "error" && typeof emitter.on === "function") emitter.on("error", onError);
  signal?.addEventListener("abort", onAbort, { once: true });
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

/** The AsyncResource of an EventEmitterAsyncResource; `eventEmitter` leads back to it. */
class EventEmitterReferencingAsyncResource extends AsyncResource {
  #eventEmitter;

  constructor(emitter, type, options) {
    super(type, options);
    this.#eventEmitter = emitter;
  }

  get eventEmitter() {
    return this.#eventEmitter;
  }
}

/** An EventEmitter whose listeners run in the async context it was made in. */
export class EventEmitterAsyncResource extends EventEmitter {
  #asyncResource;

  constructor(options = undefined) {
    let name;
    if (typeof options === "string") {
      name = options;
      options = undefined;
    } else {
      if (new.target === EventEmitterAsyncResource) validateString(options?.name, "options.name");
      name = options?.name || new.target.name;
    }
    super(options);
    this.#asyncResource = new EventEmitterReferencingAsyncResource(this, name, options);
  }

  emit(event, ...args) {
    const resource = this.#asyncResource;
    return resource.runInAsyncScope(super.emit, this, event, ...args);
  }

  emitDestroy() {
    this.#asyncResource.emitDestroy();
  }

  get asyncId() {
    return this.#asyncResource.asyncId();
  }

  get triggerAsyncId() {
    return this.#asyncResource.triggerAsyncId();
  }

  get asyncResource() {
    return this.#asyncResource;
  }
}

export const listenerCount = PackageEmitter.listenerCount;
export const usingDomains = false;
// As Node's named exports: the values when the module was loaded.
export const captureRejections = EventEmitter.captureRejections;
export const defaultMaxListeners = EventEmitter.defaultMaxListeners;
export const init = EventEmitter.init;

Object.assign(EventEmitter, {
  EventEmitter,
  EventEmitterAsyncResource,
  addAbortListener,
  captureRejectionSymbol,
  errorMonitor,
  getEventListeners,
  getMaxListeners,
  listenerCount,
  on,
  once,
  setMaxListeners,
  usingDomains,
});
// The package's constructor carries the same statics, for code that reaches it instead.
Object.assign(PackageEmitter, { captureRejectionSymbol, errorMonitor, on, once });

export default EventEmitter;

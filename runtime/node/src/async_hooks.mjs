// node:async_hooks: AsyncLocalStorage and AsyncResource on deno_core's async context (the
// engine carries it across promise continuations; deno_web's timers and deno_core's
// nextTick queue restore it around their callbacks). The hooks API of Node's async_hooks
// (createHook, async ids) has no meaning here: it is present and inert, as in workerd.

import { core } from "ext:core/mod.js";

const { AsyncVariable, getAsyncContext, setAsyncContext } = core;

/** Runs `fn` with the async context `context`, then puts the one before back. */
function within(context, fn, thisArg, args) {
  const before = getAsyncContext();
  setAsyncContext(context);
  try {
    return Reflect.apply(fn, thisArg, args);
  } finally {
    setAsyncContext(before);
  }
}

export class AsyncLocalStorage {
  #variable = new AsyncVariable();
  #enabled = false;

  /** `fn` bound to the async context of the caller. */
  static bind(fn) {
    return AsyncResource.bind(fn);
  }

  /** A function that runs any function in the async context of this call. */
  static snapshot() {
    const context = getAsyncContext();
    return (fn, ...args) => within(context, fn, undefined, args);
  }

  getStore() {
    return this.#enabled ? this.#variable.get() : undefined;
  }

  run(store, fn, ...args) {
    this.#enabled = true;
    const before = this.#variable.enter(store);
    try {
      return Reflect.apply(fn, undefined, args);
    } finally {
      setAsyncContext(before);
    }
  }

  exit(fn, ...args) {
    const before = this.#variable.enter(undefined);
    try {
      return Reflect.apply(fn, undefined, args);
    } finally {
      setAsyncContext(before);
    }
  }

  enterWith(store) {
    this.#enabled = true;
    this.#variable.enter(store);
  }

  disable() {
    this.#enabled = false;
  }
}

export class AsyncResource {
  #context = getAsyncContext();
  #type;

  constructor(type, _options) {
    if (typeof type !== "string") {
      throw new TypeError('The "type" argument must be of type string');
    }
    this.#type = type;
  }

  get type() {
    return this.#type;
  }

  runInAsyncScope(fn, thisArg, ...args) {
    return within(this.#context, fn, thisArg, args);
  }

  bind(fn, thisArg) {
    if (typeof fn !== "function") {
      throw new TypeError('The "fn" argument must be of type function');
    }
    const bound = (...args) => this.runInAsyncScope(fn, thisArg === undefined ? this : thisArg, ...args);
    Object.defineProperties(bound, {
      length: { value: fn.length, configurable: true },
      asyncResource: { value: this, configurable: true, enumerable: true, writable: true },
    });
    return bound;
  }

  static bind(fn, type, thisArg) {
    return new AsyncResource(type || fn.name || "bound-anonymous-fn").bind(fn, thisArg);
  }

  emitDestroy() {
    return this;
  }

  asyncId() {
    return 0;
  }

  triggerAsyncId() {
    return 0;
  }
}

const inert = { enable() { return this; }, disable() { return this; } };

export function createHook(_callbacks) {
  return inert;
}

export function executionAsyncId() {
  return 0;
}

export function triggerAsyncId() {
  return 0;
}

export function executionAsyncResource() {
  return {};
}

export const asyncWrapProviders = Object.freeze({ __proto__: null });

export default {
  AsyncLocalStorage,
  AsyncResource,
  asyncWrapProviders,
  createHook,
  executionAsyncId,
  executionAsyncResource,
  triggerAsyncId,
};

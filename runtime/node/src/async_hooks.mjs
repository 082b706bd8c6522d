// node:async_hooks: AsyncLocalStorage and AsyncResource on deno_core's async context (the
// engine carries it across promise continuations; deno_web's timers and deno_core's
// nextTick queue restore it around their callbacks). The hooks API of Node's async_hooks
// (createHook, async ids) has no meaning here: it is present and inert, as in workerd.

import { core } from "ext:core/mod.js";
import { validateFunction, validateString } from "node:internal/errors";

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

  // Node's stores propagate through its hooks; here the engine carries them, and nothing calls
  // this (some tests check that it exists, and is not called).
  _propagate(_resource, _triggerResource, _type) {}
}

export class AsyncResource {
  #context = getAsyncContext();

  // Node keeps `type` only for its hooks, which are inert here: an instance has no `type`.
  constructor(type, _options) {
    validateString(type, "type");
  }

  runInAsyncScope(fn, thisArg, ...args) {
    return within(this.#context, fn, thisArg, args);
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

  bind(fn, thisArg) {
    validateFunction(fn, "fn");
    const resource = this;
    // Without `thisArg`, `fn` gets the `this` the bound function is called with.
    const bound =
      thisArg === undefined
        ? function (...args) {
            return resource.runInAsyncScope(fn, this, ...args);
          }
        : (...args) => resource.runInAsyncScope(fn, thisArg, ...args);
    Object.defineProperties(bound, {
      length: { __proto__: null, value: fn.length, configurable: true },
      asyncResource: { __proto__: null, value: this, configurable: true, enumerable: true, writable: true },
    });
    return bound;
  }

  static bind(fn, type, thisArg) {
    return new AsyncResource(type || fn.name || "bound-anonymous-fn").bind(fn, thisArg);
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

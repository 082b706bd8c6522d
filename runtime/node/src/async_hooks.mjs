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

/** How Node's ERR_INVALID_ARG_TYPE describes the value it got. */
function received(value) {
  if (value === null || value === undefined) return ` Received ${value}`;
  if (typeof value === "function") return ` Received function ${value.name}`;
  if (typeof value === "object") return ` Received an instance of ${value.constructor?.name ?? "Object"}`;
  return ` Received type ${typeof value} (${String(value)})`;
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

  // Node keeps `type` only for its hooks, which are inert here: an instance has no `type`.
  constructor(type, _options) {
    if (typeof type !== "string") {
      const error = new TypeError(`The "type" argument must be of type string.${received(type)}`);
      error.code = "ERR_INVALID_ARG_TYPE";
      throw error;
    }
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

// node:timers: Node's Timeout and Immediate objects, and the legacy enroll/active/unenroll of
// any object with `_onTimeout` and `_idleTimeout`, each firing through one Web timer of the
// worker (which keeps the async context across the callback). The fields Node's code and
// packages read are Node's: `_idleTimeout`, `_idleStart`, `_onTimeout`, `_repeat` (set it in
// the callback and a timeout repeats), `_destroyed`, `_idleNext`/`_idlePrev` (set while the
// timer is scheduled). `refresh()` works inside the callback too; a Timeout turned into a
// number (`+timeout`) can be cleared by that number. An exception thrown by a callback goes to
// `process.on("uncaughtException")` listeners when there are some (an interval keeps going),
// and is reported by the runtime otherwise. `ref`/`unref` are recorded, and change nothing
// else: a worker's isolate does not exit when its timers are done.

import process from "node:process";
import { invalidArgType, outOfRange } from "node:internal/errors";

// The worker's Web timers, taken before anything can replace the globals.
const webSetTimeout = globalThis.setTimeout;
const webClearTimeout = globalThis.clearTimeout;

const TIMEOUT_MAX = 2 ** 31 - 1;
const kRefed = Symbol("refed");
const kHasPrimitive = Symbol("kHasPrimitive");
const kId = Symbol("asyncId");

// The Web timer behind each scheduled item (a Timeout or an enrolled object).
const handles = new WeakMap();
// Timeouts turned into their number, for clearTimeout(number).
const knownTimersById = Object.create(null);
let lastId = 0;

const now = () => Math.floor(performance.now());

function validateFunction(value, name) {
  if (typeof value !== "function") throw invalidArgType(name, "function", value);
}

/** A delay as Node takes it: a number of 1 to 2^31-1 ms, else 1 (with a warning above). */
function delayOf(after) {
  after *= 1;
  if (!(after >= 1 && after <= TIMEOUT_MAX)) {
    if (after > TIMEOUT_MAX) {
      process.emitWarning(
        `${after} does not fit into a 32-bit signed integer.\nTimeout duration was set to 1.`,
        "TimeoutOverflowWarning",
      );
    }
    after = 1;
  }
  return after;
}

/** Hands an exception thrown by a timer's callback to `uncaughtException` listeners. */
function uncaught(error) {
  if (process.listenerCount("uncaughtException") > 0) {
    process.emit("uncaughtException", error, "uncaughtException");
  } else {
    // The runtime reports it, as it does any error thrown by a timer.
    webSetTimeout(() => {
      throw error;
    }, 0);
  }
}

/** Takes `item` off its Web timer (Node's L.remove). */
function remove(item) {
  const handle = handles.get(item);
  if (handle !== undefined) {
    webClearTimeout(handle);
    handles.delete(item);
  }
  item._idleNext = null;
  item._idlePrev = null;
}

/** Schedules `item` to fire `msecs` from now (Node's insert). */
function insert(item, msecs) {
  const handle = handles.get(item);
  if (handle !== undefined) webClearTimeout(handle);
  item._idleStart = now();
  item._idleNext = item;
  item._idlePrev = item;
  handles.set(
    item,
    webSetTimeout(() => fire(item), msecs),
  );
}

function fire(item) {
  handles.delete(item);
  item._idleNext = null;
  item._idlePrev = null;
  const callback = item._onTimeout;
  if (typeof callback !== "function") {
    if (!item._destroyed) destroy(item);
    return;
  }
  try {
    // Reflect.apply: a callback's own `call`/`apply` properties are not what runs it.
    Reflect.apply(callback, item, item._timerArgs ?? []);
  } catch (error) {
    uncaught(error);
  } finally {
    if (item._repeat && item._idleTimeout !== -1) {
      item._idleTimeout = item._repeat;
      if (!handles.has(item)) insert(item, item._idleTimeout);
    } else if (!handles.has(item) && !item._destroyed) {
      destroy(item);
    }
  }
}

function destroy(item) {
  item._destroyed = true;
  if (item[kHasPrimitive]) delete knownTimersById[item[kId]];
}

/** Schedules an enrolled item or a Timeout again (Node's insertGuarded). */
function insertGuarded(item, refed) {
  const msecs = item._idleTimeout;
  if (msecs < 0 || msecs === undefined) return;
  insert(item, msecs);
  if (item._destroyed || item[kId] === undefined) {
    item._destroyed = false;
    if (item[kId] === undefined) item[kId] = ++lastId;
  }
  item[kRefed] = refed;
}

export class Timeout {
  constructor(callback, after, args, isRepeat, isRefed) {
    after = delayOf(after);
    this._idleTimeout = after;
    this._idlePrev = this;
    this._idleNext = this;
    this._idleStart = null;
    this._onTimeout = callback;
    this._timerArgs = args;
    this._repeat = isRepeat ? after : null;
    this._destroyed = false;
    this[kRefed] = isRefed;
    this[kHasPrimitive] = false;
    this[kId] = ++lastId;
  }

  refresh() {
    if (this[kRefed]) active(this);
    else unrefActive(this);
    return this;
  }

  unref() {
    this[kRefed] = false;
    return this;
  }

  ref() {
    this[kRefed] = true;
    return this;
  }

  hasRef() {
    return this[kRefed] === true;
  }

  close() {
    clearTimeout(this);
    return this;
  }

  [Symbol.toPrimitive]() {
    const id = this[kId];
    if (!this[kHasPrimitive]) {
      this[kHasPrimitive] = true;
      knownTimersById[id] = this;
    }
    return id;
  }

  [Symbol.dispose]() {
    clearTimeout(this);
  }
}

export class Immediate {
  constructor(callback, args) {
    this._idleNext = null;
    this._idlePrev = null;
    this._onImmediate = callback;
    this._argv = args;
    this._destroyed = false;
    this[kRefed] = true;
    // An immediate runs as a Web timer of no delay, after the timers already due.
    handles.set(
      this,
      webSetTimeout(() => {
        handles.delete(this);
        if (this._destroyed) return;
        this._destroyed = true;
        const run = this._onImmediate;
        this._onImmediate = null;
        try {
          Reflect.apply(run, this, args ?? []);
        } catch (error) {
          uncaught(error);
        }
      }, 0),
    );
  }

  ref() {
    this[kRefed] = true;
    return this;
  }

  unref() {
    this[kRefed] = false;
    return this;
  }

  hasRef() {
    return this[kRefed] === true;
  }

  [Symbol.dispose]() {
    clearImmediate(this);
  }
}

export function setTimeout(callback, after, ...args) {
  validateFunction(callback, "callback");
  const timeout = new Timeout(callback, after, args.length > 0 ? args : undefined, false, true);
  insert(timeout, timeout._idleTimeout);
  return timeout;
}

export function setInterval(callback, repeat, ...args) {
  validateFunction(callback, "callback");
  const timeout = new Timeout(callback, repeat, args.length > 0 ? args : undefined, true, true);
  insert(timeout, timeout._idleTimeout);
  return timeout;
}

export function setImmediate(callback, ...args) {
  validateFunction(callback, "callback");
  return new Immediate(callback, args.length > 0 ? args : undefined);
}

export function clearTimeout(timer) {
  if (timer && timer._onTimeout) {
    timer._onTimeout = null;
    unenroll(timer);
    return;
  }
  if (typeof timer === "number" || typeof timer === "string") {
    const known = knownTimersById[timer];
    if (known !== undefined) {
      known._idleTimeout = -1;
      unenroll(known);
    } else if (typeof timer === "number") {
      // A Web timer's id.
      webClearTimeout(timer);
    }
  }
}

export function clearInterval(timer) {
  // Timeouts and intervals are the same objects.
  clearTimeout(timer);
}

export function clearImmediate(immediate) {
  if (!immediate || immediate._destroyed || !(immediate instanceof Immediate)) return;
  immediate._destroyed = true;
  immediate._onImmediate = null;
  const handle = handles.get(immediate);
  if (handle !== undefined) {
    webClearTimeout(handle);
    handles.delete(immediate);
  }
}

/** Takes `item` off its schedule for good (Node's unenroll). */
function unenroll(item) {
  if (item._destroyed) return;
  item._destroyed = true;
  if (item[kHasPrimitive]) delete knownTimersById[item[kId]];
  remove(item);
  item[kRefed] = null;
  item._idleTimeout = -1;
}

function active(item) {
  insertGuarded(item, true);
}

function unrefActive(item) {
  insertGuarded(item, false);
}

function enroll(item, msecs) {
  if (typeof msecs !== "number") throw invalidArgType("msecs", "number", msecs);
  if (!(msecs >= 0 && Number.isFinite(msecs))) {
    throw outOfRange("msecs", "a non-negative finite number", msecs);
  }
  if (msecs > TIMEOUT_MAX) {
    process.emitWarning(
      `${msecs} does not fit into a 32-bit signed integer.\nTimer duration was truncated to ${TIMEOUT_MAX}.`,
      "TimeoutOverflowWarning",
    );
    msecs = TIMEOUT_MAX;
  }
  if (item._idleNext) unenroll(item);
  item._idleNext = item;
  item._idlePrev = item;
  item._idleTimeout = msecs;
}

/** `fn`, which emits its DeprecationWarning the first time it is called, as Node's does. */
function deprecated(fn, message, code) {
  let warned = false;
  return {
    [fn.name](...args) {
      if (!warned) {
        warned = true;
        process.emitWarning(message, "DeprecationWarning", code);
      }
      return fn.apply(this, args);
    },
  }[fn.name];
}

// The legacy API on any object with `_onTimeout` and `_idleTimeout` (deprecated in Node).
const enrollDeprecated = deprecated(enroll, "timers.enroll() is deprecated. Please use setTimeout instead.", "DEP0095");
const unenrollDeprecated = deprecated(
  unenroll,
  "timers.unenroll() is deprecated. Please use clearTimeout instead.",
  "DEP0096",
);
const activeDeprecated = deprecated(
  active,
  "timers.active() is deprecated. Please use timeout.refresh() instead.",
  "DEP0126",
);
const unrefActiveDeprecated = deprecated(
  unrefActive,
  "timers._unrefActive() is deprecated. Please use timeout.refresh() instead.",
  "DEP0127",
);
export {
  activeDeprecated as active,
  enrollDeprecated as enroll,
  unenrollDeprecated as unenroll,
  unrefActiveDeprecated as _unrefActive,
};

export const promises = {};

export default {
  _unrefActive: unrefActiveDeprecated,
  active: activeDeprecated,
  clearImmediate,
  clearInterval,
  clearTimeout,
  enroll: enrollDeprecated,
  Immediate,
  promises,
  setImmediate,
  setInterval,
  setTimeout,
  Timeout,
  unenroll: unenrollDeprecated,
};

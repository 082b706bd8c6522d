// node:timers/promises: setTimeout and setImmediate as promises, setInterval as an async
// iterator (ticks that come while the loop body runs are not lost, as in Node), and
// `scheduler.wait`/`scheduler.yield`; each cancelled by an AbortSignal with Node's AbortError
// (code ABORT_ERR, the signal's reason as its cause) and checking its options as Node does.

import timers from "node:timers";
import { invalidArgType } from "node:internal/errors";

class AbortError extends Error {
  constructor(message = "The operation was aborted", options = undefined) {
    super(message, options);
    this.code = "ABORT_ERR";
    this.name = "AbortError";
  }
}

const abortError = (signal) => new AbortError(undefined, { cause: signal?.reason });

/** Node's checks of `options`: an object, `signal` an AbortSignal, `ref` a boolean. */
function checkOptions(options, expected) {
  if (options == null || typeof options !== "object") throw invalidArgType("options", expected, options);
  const { signal, ref = true } = options;
  if (signal !== undefined && (signal === null || typeof signal !== "object" || !("aborted" in signal))) {
    throw invalidArgType("options.signal", "AbortSignal", signal);
  }
  if (typeof ref !== "boolean") throw invalidArgType("options.ref", "boolean", ref);
  return { signal, ref };
}

/** A promise of `value` once `schedule(resolve)` has fired, cancelled by `signal`. */
function cancellable(schedule, clear, value, options) {
  let signal;
  let ref;
  try {
    ({ signal, ref } = checkOptions(options, "Object"));
  } catch (error) {
    return Promise.reject(error);
  }
  if (signal?.aborted) return Promise.reject(abortError(signal));
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clear(timer);
      reject(abortError(signal));
    };
    const timer = schedule(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve(value);
    });
    if (!ref) timer.unref();
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

export function setTimeout(after, value, options = {}) {
  return cancellable((done) => timers.setTimeout(done, after), timers.clearTimeout, value, options);
}

export function setImmediate(value, options = {}) {
  return cancellable((done) => timers.setImmediate(done), timers.clearImmediate, value, options);
}

export async function* setInterval(after, value, options = {}) {
  const { signal, ref } = checkOptions(options, "object");
  if (signal?.aborted) throw abortError(signal);
  let pending = 0;
  let wake;
  let onAbort;
  const interval = timers.setInterval(() => {
    pending++;
    wake?.();
    wake = undefined;
  }, after);
  if (!ref) interval.unref();
  try {
    if (signal) {
      onAbort = () => {
        timers.clearInterval(interval);
        wake?.(Promise.reject(abortError(signal)));
        wake = undefined;
      };
      signal.addEventListener("abort", onAbort, { once: true });
    }
    while (!signal?.aborted) {
      if (pending === 0) {
        await new Promise((resolve) => {
          wake = resolve;
        });
      }
      for (; pending > 0; pending--) yield value;
    }
    throw abortError(signal);
  } finally {
    timers.clearInterval(interval);
    if (onAbort) signal.removeEventListener("abort", onAbort);
  }
}

class Scheduler {
  /** A promise resolved after `delay` ms (cancelled by `options.signal`). */
  wait(delay, options) {
    return setTimeout(delay, undefined, { signal: options?.signal });
  }

  /** A promise resolved at the next turn of the event loop. */
  yield() {
    return setImmediate();
  }
}

export const scheduler = new Scheduler();

const promises = { scheduler, setImmediate, setInterval, setTimeout };
Object.assign(timers.promises, promises);

export default promises;

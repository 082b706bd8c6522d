// node:timers/promises: setTimeout, setImmediate and setInterval as promises and an async
// iterator, cancelled by an AbortSignal as in Node.

import timers from "node:timers";

function abortError(signal) {
  const error = new DOMException("The operation was aborted", "AbortError");
  error.cause = signal?.reason;
  error.code = "ABORT_ERR";
  return error;
}

export function setTimeout(delay, value, options = {}) {
  const { signal } = options;
  if (signal?.aborted) return Promise.reject(abortError(signal));
  return new Promise((resolve, reject) => {
    const timer = globalThis.setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve(value);
    }, delay);
    const onAbort = () => {
      globalThis.clearTimeout(timer);
      reject(abortError(signal));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

export function setImmediate(value, options = {}) {
  return setTimeout(0, value, options);
}

export async function* setInterval(delay, value, options = {}) {
  const { signal } = options;
  while (true) {
    yield await setTimeout(delay, value, { signal });
  }
}

export const scheduler = {
  wait: (delay, options) => setTimeout(delay, undefined, options),
  yield: () => setImmediate(),
};

const promises = { scheduler, setImmediate, setInterval, setTimeout };
Object.assign(timers.promises, promises);

export default promises;

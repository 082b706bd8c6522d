// node:internal/unsupported: the stand-ins of the node:* modules (and members) that have no
// meaning in an edge worker, or none yet. Such a module still imports with every named export
// Node 20 has, so a package that imports it links and runs as long as it never calls one;
// a call (or a `new` of a class) throws an Error with code ERR_METHOD_NOT_IMPLEMENTED that
// names the module and the member: `node:child_process.spawn is not supported in an edge
// worker`. A class can still be extended or tested with `instanceof`.

export const CODE = "ERR_METHOD_NOT_IMPLEMENTED";

/** Why a member of most modules does not work. */
export const IN_A_WORKER = "is not supported in an edge worker";
/** Why a member of node:http or node:https does not work. */
export const USE_FETCH =
  "is not supported in an edge worker: make requests with fetch(), serve from the fetch handler";

export function unsupportedError(module, name, reason = IN_A_WORKER) {
  const error = new Error(`node:${module}.${name} ${reason}`);
  error.code = CODE;
  return error;
}

/** A function that throws when called. */
export function unsupported(module, name, reason) {
  return {
    [name]() {
      throw unsupportedError(module, name, reason);
    },
  }[name];
}

/** A function that returns a promise rejected with that error (for the promise APIs). */
export function unsupportedAsync(module, name, reason) {
  return {
    [name]() {
      return Promise.reject(unsupportedError(module, name, reason));
    },
  }[name];
}

/** A class that throws when constructed (or called). */
export function unsupportedClass(module, name, reason) {
  // A plain function: `class X extends Stub {}` still evaluates, its `new` throws.
  return {
    [name]: function () {
      throw unsupportedError(module, name, reason);
    },
  }[name];
}

/**
 * The exports of an unsupported module. `names` is a proxy to destructure the module's named
 * exports from, in Node's order: a name found in `values` (or already on `into`) is that
 * value, any other becomes a stand-in (a class if it starts with a capital, else a function
 * that throws, or rejects if `promises`). `exports`, the default export (`into`, or a new
 * object), gathers them in the same order.
 *
 *     const dgram = unsupportedModule("dgram");
 *     export const { _createSocketHandle, createSocket, Socket } = dgram.names;
 *     export default dgram.exports;
 */
export function unsupportedModule(module, values = {}, options = {}) {
  const { reason = IN_A_WORKER, into: exports = {}, promises = false } = options;
  const stub = promises ? unsupportedAsync : unsupported;
  const names = new Proxy(exports, {
    get(target, name) {
      if (typeof name !== "string") return undefined;
      if (!Object.hasOwn(target, name)) {
        if (Object.hasOwn(values, name)) target[name] = values[name];
        else if (/^[A-Z]/.test(name)) target[name] = unsupportedClass(module, name, reason);
        else target[name] = stub(module, name, reason);
      }
      return target[name];
    },
  });
  return { names, exports };
}

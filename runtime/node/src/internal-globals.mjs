// node:internal/globals: the globals of Node compatibility — `Buffer`, `process`, `global`,
// `setImmediate` and `clearImmediate` — evaluated before a worker's module when its
// compatibility settings turn Node on. Each module behind them is loaded the first time the
// global is read, so a worker that never touches `Buffer` never evaluates node:buffer.

import { core } from "ext:core/mod.js";

function lazyGlobal(name, specifier, pick) {
  const load = core.createLazyLoader(specifier);
  let value;
  let loaded = false;
  Object.defineProperty(globalThis, name, {
    get() {
      if (!loaded) {
        value = pick(load());
        loaded = true;
      }
      return value;
    },
    set(replacement) {
      value = replacement;
      loaded = true;
    },
    enumerable: false,
    configurable: true,
  });
}

lazyGlobal("Buffer", "node:buffer", (module) => module.Buffer);
lazyGlobal("process", "node:process", (module) => module.default);
lazyGlobal("setImmediate", "node:timers", (module) => module.setImmediate);
lazyGlobal("clearImmediate", "node:timers", (module) => module.clearImmediate);
Object.defineProperty(globalThis, "global", {
  value: globalThis,
  writable: true,
  enumerable: false,
  configurable: true,
});

// AsyncLocalStorage across the ways a request's work is continued: await (of promises, of native
// operations and of body reads), timers, microtasks, promise chains, thenables, Web stream
// callbacks, event listeners, AsyncResource, bind/snapshot, timers/promises and async generators.
// Run with `?id=N&delay=MS` from several concurrent requests: every answer must name its own id
// (the driver checks that, and compares each answer between runtimes).

import { AsyncLocalStorage, AsyncResource } from "node:async_hooks";
import { EventEmitter } from "node:events";
import { setImmediate } from "node:timers";
import { setTimeout as sleep } from "node:timers/promises";
import { run } from "./report.js";

const als = new AsyncLocalStorage();
const other = new AsyncLocalStorage();

// Module-scope objects shared by every request: what a listener or a continuation sees must still
// be the context of whoever triggered it, not of the request that created the object.
const shared = new EventEmitter();
shared.on("ping", (reply) => reply(als.getStore()?.id ?? null));
const resolvedAtLoad = Promise.resolve("load");

const store = () => als.getStore()?.id ?? null;
const wait = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export async function alsChecks(id, delay) {
  const outside = store();
  const inside = await als.run({ id }, () =>
    run({
      sync: () => store(),
      afterAwait: async () => {
        await null;
        await Promise.resolve();
        return store();
      },
      afterTimeout: async () => {
        await wait(delay);
        return store();
      },
      afterNativeOp: async () => {
        await crypto.subtle.digest("SHA-256", new Uint8Array(8));
        return store();
      },
      afterBodyRead: async () => {
        const text = await new Response("body").text();
        return [text, store()];
      },
      inStreamPull: async () => {
        const seen = [];
        const body = new ReadableStream({
          async pull(controller) {
            await wait(1);
            seen.push(store());
            if (seen.length === 2) controller.close();
            else controller.enqueue(new Uint8Array([seen.length]));
          },
        });
        await new Response(body).arrayBuffer();
        return seen;
      },
      inSetTimeout: () => new Promise((resolve) => setTimeout(() => resolve(store()), delay)),
      inSetTimeoutWithArgs: () => new Promise((resolve) => setTimeout((a, b) => resolve([store(), a, b]), 1, "a", "b")),
      inSetInterval: () =>
        new Promise((resolve) => {
          const handle = setInterval(() => {
            clearInterval(handle);
            resolve(store());
          }, 1);
        }),
      inSetImmediate: () => new Promise((resolve) => setImmediate(() => resolve(store()))),
      inQueueMicrotask: () => new Promise((resolve) => queueMicrotask(() => resolve(store()))),
      inNextTick: () => new Promise((resolve) => process.nextTick(() => resolve(store()))),
      promiseChain: () =>
        Promise.resolve(1)
          .then((n) => [n, store()])
          .then(async (seen) => {
            await wait(1);
            return [...seen, store()];
          })
          .catch(() => "unreachable")
          .finally(() => {})
          .then((seen) => [...seen, store()]),
      rejectionChain: () =>
        Promise.reject(new Error("boom"))
          .then(() => "unreachable")
          .catch((error) => [error.message, store()]),
      thenable: async () => {
        const seen = await { then: (resolve) => resolve(store()) };
        return [seen, store()];
      },
      promiseFromLoad: () => resolvedAtLoad.then((from) => [from, store()]),
      timersPromises: async () => {
        const value = await sleep(delay, "slept");
        return [value, store()];
      },
      eventListenerShared: () => new Promise((resolve) => shared.emit("ping", resolve)),
      eventListenerAfterTimer: () =>
        new Promise((resolve) => {
          const emitter = new EventEmitter();
          emitter.on("tick", () => resolve(store()));
          setTimeout(() => emitter.emit("tick"), delay);
        }),
      eventsOnce: async () => {
        const emitter = new EventEmitter();
        setTimeout(() => emitter.emit("ready", 42), 1);
        const args = await EventEmitter.once(emitter, "ready");
        return [args, store()];
      },
      nested: () => {
        const seen = [store()];
        als.run({ id: `${id}-inner` }, () => seen.push(store()));
        seen.push(store());
        als.exit(() => seen.push(store()));
        seen.push(store());
        return seen;
      },
      nestedAsync: () =>
        als.run({ id: `${id}-inner` }, async () => {
          await wait(1);
          return store();
        }),
      twoStorages: () =>
        other.run("second", async () => {
          await wait(1);
          return [store(), other.getStore()];
        }),
      asyncResource: () => {
        const resource = new AsyncResource("Bench");
        return als.run({ id: "elsewhere" }, () => [
          store(),
          resource.runInAsyncScope(() => store()),
          resource.type,
        ]);
      },
      asyncResourceBind: () => {
        const bound = AsyncResource.bind(() => store());
        return als.run({ id: "elsewhere" }, () => bound());
      },
      alsBind: () => {
        const bound = AsyncLocalStorage.bind(() => store());
        return als.run({ id: "elsewhere" }, () => bound());
      },
      alsSnapshot: () => {
        const snapshot = AsyncLocalStorage.snapshot();
        return als.run({ id: "elsewhere" }, () => [store(), snapshot(() => store())]);
      },
      thenRegisteredElsewhere: async () => {
        let resolveIt;
        const gate = new Promise((resolve) => (resolveIt = resolve));
        const seen = als.run({ id: "registered" }, () => gate.then(() => store()));
        await wait(1);
        resolveIt();
        return seen;
      },
      asyncGenerator: async () => {
        async function* numbers() {
          for (let i = 0; i < 3; i += 1) {
            await wait(1);
            yield [i, store()];
          }
        }
        const seen = [];
        for await (const item of numbers()) seen.push(item);
        return seen;
      },
      promiseAll: () =>
        Promise.all([1, 2, 3].map(async (n) => {
          await wait(n);
          return [n, store()];
        })),
      storeIdentity: () => {
        const first = als.getStore();
        return Promise.resolve().then(() => als.getStore() === first);
      },
    }),
  );
  const after = store();
  return { id, outside, inside, after };
}

// node:events: on/once/off and their order, prepend, newListener/removeListener, errorMonitor,
// an 'error' with no listener, listenerCount, max listeners, events.once / events.on, and
// EventTarget helpers.

import * as events from "node:events";
import { run } from "./report.js";

const { EventEmitter } = events;

export function eventsChecks() {
  return run({
    order: () => {
      const e = new EventEmitter();
      const seen = [];
      e.on("x", (v) => seen.push(`on:${v}`));
      e.once("x", (v) => seen.push(`once:${v}`));
      e.prependListener("x", (v) => seen.push(`prepend:${v}`));
      e.prependOnceListener("x", (v) => seen.push(`prependOnce:${v}`));
      const returned = [e.emit("x", 1), e.emit("x", 2), e.emit("nothing")];
      return [seen, returned];
    },
    argsAndThis: () => {
      const e = new EventEmitter();
      let seen;
      e.on("x", function (...args) {
        seen = [this === e, args];
      });
      e.emit("x", 1, "two", [3]);
      return seen;
    },
    meta: () => {
      const e = new EventEmitter();
      const seen = [];
      e.on("newListener", (name) => seen.push(`new:${String(name)}`));
      e.on("removeListener", (name) => seen.push(`removed:${String(name)}`));
      const f = () => {};
      e.on("a", f);
      e.on(Symbol.for("s"), f);
      e.off("a", f);
      e.removeAllListeners(Symbol.for("s"));
      return [seen, e.eventNames().map(String)];
    },
    listenerCount: () => {
      const e = new EventEmitter();
      const f = () => {};
      e.on("a", f);
      e.on("a", f);
      e.once("a", () => {});
      e.on("b", f);
      return [e.listenerCount("a"), e.listenerCount("a", f), e.listenerCount("none"), events.listenerCount(e, "b"),
        e.listeners("a").length, e.rawListeners("a").length, e.listeners("a").includes(f)];
    },
    errorMonitor: () => {
      const e = new EventEmitter();
      const seen = [];
      e.on(events.errorMonitor, (error) => seen.push(`monitor:${error.message}`));
      try {
        e.emit("error", new Error("first"));
      } catch (error) {
        seen.push(`thrown:${error.message}`);
      }
      e.on("error", (error) => seen.push(`handled:${error.message}`));
      e.emit("error", new Error("second"));
      return [seen, typeof events.errorMonitor];
    },
    errorWithoutListener: () => {
      const e = new EventEmitter();
      e.emit("error", "not an Error");
    },
    errorObjectWithoutListener: () => {
      const e = new EventEmitter();
      e.emit("error", new TypeError("typed"));
    },
    maxListeners: () => {
      const e = new EventEmitter();
      const before = e.getMaxListeners();
      e.setMaxListeners(1);
      e.on("a", () => {});
      e.on("a", () => {});
      return [before, e.getMaxListeners(), EventEmitter.defaultMaxListeners, e.listenerCount("a")];
    },
    onceAwait: async () => {
      const e = new EventEmitter();
      setTimeout(() => e.emit("ready", 1, 2), 1);
      return events.once(e, "ready");
    },
    onceRejects: async () => {
      const e = new EventEmitter();
      setTimeout(() => e.emit("error", new Error("failed while waiting")), 1);
      try {
        await events.once(e, "ready");
        return "resolved";
      } catch (error) {
        return error.message;
      }
    },
    onceAbort: async () => {
      const e = new EventEmitter();
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 1);
      try {
        await events.once(e, "never", { signal: controller.signal });
        return "resolved";
      } catch (error) {
        return [error.name, error.code];
      }
    },
    onIterator: async () => {
      const e = new EventEmitter();
      setTimeout(() => {
        e.emit("item", "a");
        e.emit("item", "b", "c");
        e.emit("item", "d");
      }, 1);
      const seen = [];
      for await (const args of events.on(e, "item")) {
        seen.push(args);
        if (seen.length === 3) break;
      }
      return [seen, e.listenerCount("item")];
    },
    subclass: () => {
      class Clock extends EventEmitter {
        tick() {
          this.emit("tick", this.constructor.name);
        }
      }
      const clock = new Clock();
      let seen;
      clock.on("tick", (name) => (seen = name));
      clock.tick();
      return [seen, clock instanceof EventEmitter, events.EventEmitter === events.default];
    },
    captureRejections: async () => {
      const e = new EventEmitter({ captureRejections: true });
      const seen = new Promise((resolve) => e.on("error", (error) => resolve(error.message)));
      e.on("x", async () => {
        throw new Error("rejected listener");
      });
      e.emit("x");
      return seen;
    },
    eventTargetHelpers: () => {
      const target = new EventTarget();
      const f = () => {};
      target.addEventListener("foo", f);
      return [typeof events.getEventListeners, events.getEventListeners?.(target, "foo").length];
    },
    exports: () => ["once", "on", "errorMonitor", "captureRejectionSymbol", "getEventListeners", "setMaxListeners",
      "EventEmitterAsyncResource", "listenerCount", "addAbortListener", "getMaxListeners"].map((k) => [k, typeof events[k]]),
  });
}

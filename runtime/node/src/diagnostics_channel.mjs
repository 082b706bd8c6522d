// node:diagnostics_channel: named channels that publish to their subscribers, with stores
// bound to AsyncLocalStorage (bindStore, runStores) and tracing channels, as in Node.

import { invalidArgType, validateFunction } from "node:internal/errors";

const channels = new Map();

export class Channel {
  #subscribers = [];
  #stores = new Map();

  constructor(name) {
    this.name = name;
  }

  get hasSubscribers() {
    return this.#subscribers.length > 0 || this.#stores.size > 0;
  }

  subscribe(onMessage) {
    validateFunction(onMessage, "subscription");
    this.#subscribers = [...this.#subscribers, onMessage];
  }

  unsubscribe(onMessage) {
    const at = this.#subscribers.indexOf(onMessage);
    if (at === -1) return false;
    this.#subscribers = this.#subscribers.filter((_, i) => i !== at);
    return true;
  }

  publish(message) {
    for (const onMessage of this.#subscribers) {
      try {
        onMessage(message, this.name);
      } catch (error) {
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }

  bindStore(store, transform) {
    this.#stores.set(store, transform);
  }

  unbindStore(store) {
    return this.#stores.delete(store);
  }

  runStores(data, fn, thisArg, ...args) {
    let run = () => {
      this.publish(data);
      return Reflect.apply(fn, thisArg, args);
    };
    for (const [store, transform] of this.#stores) {
      const inner = run;
      const value = transform ? transform(data) : data;
      run = () => store.run(value, inner);
    }
    return run();
  }
}

export function channel(name) {
  if (typeof name !== "string" && typeof name !== "symbol") throw invalidArgType("channel", ["string", "symbol"], name);
  let found = channels.get(name);
  if (found === undefined) {
    found = new Channel(name);
    channels.set(name, found);
  }
  return found;
}

export function hasSubscribers(name) {
  return channels.get(name)?.hasSubscribers ?? false;
}

export function subscribe(name, onMessage) {
  channel(name).subscribe(onMessage);
}

export function unsubscribe(name, onMessage) {
  return channel(name).unsubscribe(onMessage);
}

const EVENTS = ["start", "end", "asyncStart", "asyncEnd", "error"];

export class TracingChannel {
  constructor(nameOrChannels) {
    if (typeof nameOrChannels !== "string" && (typeof nameOrChannels !== "object" || nameOrChannels === null)) {
      throw invalidArgType("nameOrChannels", ["string", "object", "TracingChannel"], nameOrChannels);
    }
    for (const event of EVENTS) {
      if (typeof nameOrChannels === "string") {
        this[event] = channel(`tracing:${nameOrChannels}:${event}`);
        continue;
      }
      const given = nameOrChannels[event];
      // Node's words when a channel is missing altogether.
      if (given == null) throw new TypeError("Cannot convert undefined or null to object");
      if (!(given instanceof Channel)) throw invalidArgType(`nameOrChannels.${event}`, ["Channel"], given);
      this[event] = given;
    }
  }

  get hasSubscribers() {
    return EVENTS.some((event) => this[event].hasSubscribers);
  }

  subscribe(handlers) {
    for (const event of EVENTS) if (handlers[event]) this[event].subscribe(handlers[event]);
  }

  unsubscribe(handlers) {
    let all = true;
    for (const event of EVENTS) if (handlers[event]) all = this[event].unsubscribe(handlers[event]) && all;
    return all;
  }

  traceSync(fn, context = {}, thisArg, ...args) {
    return this.start.runStores(context, () => {
      try {
        context.result = Reflect.apply(fn, thisArg, args);
        return context.result;
      } catch (error) {
        context.error = error;
        this.error.publish(context);
        throw error;
      } finally {
        this.end.publish(context);
      }
    });
  }

  tracePromise(fn, context = {}, thisArg, ...args) {
    return this.start.runStores(context, () => {
      try {
        const promise = Promise.resolve(Reflect.apply(fn, thisArg, args));
        return promise.then(
          (result) => {
            context.result = result;
            this.asyncStart.publish(context);
            this.asyncEnd.publish(context);
            return result;
          },
          (error) => {
            context.error = error;
            this.error.publish(context);
            this.asyncStart.publish(context);
            this.asyncEnd.publish(context);
            throw error;
          },
        );
      } catch (error) {
        context.error = error;
        this.error.publish(context);
        throw error;
      } finally {
        this.end.publish(context);
      }
    });
  }

  traceCallback(fn, position = -1, context = {}, thisArg, ...args) {
    const at = position < 0 ? args.length + position : position;
    const callback = args[at];
    args[at] = (error, result) => {
      if (error) {
        context.error = error;
        this.error.publish(context);
      } else {
        context.result = result;
      }
      return this.asyncStart.runStores(context, () => {
        try {
          return Reflect.apply(callback, this, [error, result]);
        } finally {
          this.asyncEnd.publish(context);
        }
      });
    };
    return this.traceSync(fn, context, thisArg, ...args);
  }
}

export function tracingChannel(nameOrChannels) {
  return new TracingChannel(nameOrChannels);
}

export default {
  Channel,
  channel,
  hasSubscribers,
  subscribe,
  tracingChannel,
  unsubscribe,
};

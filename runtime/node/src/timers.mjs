// node:timers: Node's Timeout and Immediate objects over the Web timers (which keep the async
// context across their callbacks). `ref`/`unref` change nothing here: a worker's isolate does
// not exit when its timers are done. An immediate runs as a timer of no delay.

const kId = Symbol("id");

export class Timeout {
  #callback;
  #delay;
  #args;
  #repeat;

  constructor(callback, delay, args, repeat) {
    if (typeof callback !== "function") {
      throw new TypeError('The "callback" argument must be of type function');
    }
    this.#callback = callback;
    this.#delay = delay;
    this.#args = args;
    this.#repeat = repeat;
    this.#start();
  }

  #start() {
    const schedule = this.#repeat ? globalThis.setInterval : globalThis.setTimeout;
    this[kId] = schedule(this.#callback, this.#delay, ...this.#args);
  }

  ref() {
    return this;
  }

  unref() {
    return this;
  }

  hasRef() {
    return true;
  }

  refresh() {
    this.close();
    this.#start();
    return this;
  }

  close() {
    globalThis.clearTimeout(this[kId]);
    return this;
  }

  [Symbol.toPrimitive]() {
    return this[kId];
  }
}

export class Immediate extends Timeout {
  constructor(callback, args) {
    super(callback, 0, args, false);
  }
}

export function setTimeout(callback, delay, ...args) {
  return new Timeout(callback, delay, args, false);
}

export function setInterval(callback, delay, ...args) {
  return new Timeout(callback, delay, args, true);
}

export function setImmediate(callback, ...args) {
  return new Immediate(callback, args);
}

function clear(timer) {
  if (timer instanceof Timeout) timer.close();
  else if (timer !== undefined && timer !== null) globalThis.clearTimeout(timer);
}

export { clear as clearImmediate, clear as clearInterval, clear as clearTimeout };

export const promises = {};

export default {
  clearImmediate: clear,
  clearInterval: clear,
  clearTimeout: clear,
  Immediate,
  promises,
  setImmediate,
  setInterval,
  setTimeout,
  Timeout,
};

'use strict';
// Our stand-in for Node's test/common/countdown.js: calls `callback` once dec() reached zero.
const common = require('./index.js');

class Countdown {
  constructor(limit, callback) {
    this.remaining = limit;
    this.callback = common.mustCall(callback);
  }
  dec() {
    if (this.remaining <= 0) throw new Error('Countdown: dec() called too often');
    this.remaining -= 1;
    if (this.remaining === 0) this.callback();
    return this.remaining;
  }
  get remaining() { return this._remaining; }
  set remaining(value) { this._remaining = value; }
}
module.exports = Countdown;

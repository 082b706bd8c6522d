'use strict';
// Our stand-in for Node's test/common/arraystream.js: a Stream that emits each item of an
// array as 'data' on run(), and accepts writes.
const { Stream } = require('stream');

class ArrayStream extends Stream {
  run(items) {
    for (const item of items) this.emit('data', `${item}\n`);
  }
}
ArrayStream.prototype.readable = true;
ArrayStream.prototype.writable = true;
ArrayStream.prototype.pause = function() {};
ArrayStream.prototype.resume = function() {};
ArrayStream.prototype.write = function() { return true; };
module.exports = ArrayStream;

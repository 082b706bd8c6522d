'use strict';
// Our stand-in for Node's test/common/tick.js: `callback` after `count` setImmediate turns.
module.exports = function tick(count, callback) {
  let left = count;
  (function next() {
    left -= 1;
    if (left > 0) setImmediate(next);
    else setImmediate(callback);
  })();
};

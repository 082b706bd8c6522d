'use strict';
// Our stand-in for Node's test/common/duplexpair.js: two connected Duplex streams; what one
// side writes, the other side reads, and ending one side ends the other's readable half.
const { Duplex } = require('stream');

function makeDuplexPair() {
  let clientSide = null;
  let serverSide = null;
  const side = (peer) => new Duplex({
    read() {},
    write(chunk, encoding, callback) {
      peer().push(chunk);
      process.nextTick(callback);
    },
    final(callback) {
      peer().push(null);
      callback();
    },
  });
  clientSide = side(() => serverSide);
  serverSide = side(() => clientSide);
  return { clientSide, serverSide };
}
module.exports = makeDuplexPair;

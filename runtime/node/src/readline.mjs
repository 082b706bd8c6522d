// node:readline: no terminal in an edge worker. Every export Node 20 has, each throwing when
// used (node:internal/unsupported); `promises` is node:readline/promises.

import { unsupportedModule } from "node:internal/unsupported";
import readlinePromises from "node:readline/promises";

const readline = unsupportedModule("readline", { promises: readlinePromises });
export const {
  Interface, clearLine, clearScreenDown, createInterface, cursorTo, emitKeypressEvents, moveCursor, promises,
} = readline.names;
export default readline.exports;

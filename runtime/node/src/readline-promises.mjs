// node:readline/promises: no terminal in an edge worker. Every export Node 20 has, each
// throwing when used (node:internal/unsupported).

import { unsupportedModule } from "node:internal/unsupported";

const promises = unsupportedModule("readline/promises");
export const { Interface, Readline, createInterface } = promises.names;
export default promises.exports;

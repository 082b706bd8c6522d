// node:tty: an edge worker has no terminal: `isatty()` is false for every descriptor (as
// packages that choose colours ask at import), and the streams throw when constructed
// (node:internal/unsupported).

import { unsupportedModule } from "node:internal/unsupported";

const tty = unsupportedModule("tty", { isatty: () => false });
export const { isatty, ReadStream, WriteStream } = tty.names;
export default tty.exports;

// node:_stream_readable (Node's old name for it): node:stream's Readable, and its static members as
// named exports.

import { Readable } from "node:stream";

export const { ReadableState, _fromList, from, fromWeb, toWeb, wrap } = Readable;
export default Readable;

// node:_stream_writable (Node's old name for it): node:stream's Writable, and its static members as
// named exports.

import { Writable } from "node:stream";

export const { WritableState, fromWeb, toWeb } = Writable;
export default Writable;

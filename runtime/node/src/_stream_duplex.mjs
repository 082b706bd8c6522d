// node:_stream_duplex (Node's old name for it): node:stream's Duplex, and its static members as
// named exports.

import { Duplex } from "node:stream";

export const { fromWeb, toWeb, from } = Duplex;
export default Duplex;

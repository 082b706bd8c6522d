// node:dgram: no UDP sockets in an edge worker. Every export Node 20 has, each throwing when
// used (node:internal/unsupported).

import { unsupportedModule } from "node:internal/unsupported";

const dgram = unsupportedModule("dgram");
export const { _createSocketHandle, createSocket, Socket } = dgram.names;
export default dgram.exports;

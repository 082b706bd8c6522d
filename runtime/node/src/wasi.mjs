// node:wasi: no WASI host in an edge worker (WebAssembly itself works). `WASI` throws when
// constructed (node:internal/unsupported).

import { unsupportedModule } from "node:internal/unsupported";

const wasi = unsupportedModule("wasi");
export const { WASI } = wasi.names;
export default wasi.exports;

// node:inspector: no inspector in an edge worker. Every export Node 20 has: `url()` is
// undefined (no inspector is open), `console` is the worker's console, the rest throws when
// used (node:internal/unsupported).

import { unsupported, unsupportedModule } from "node:internal/unsupported";

const network = ["requestWillBeSent", "responseReceived", "loadingFinished", "loadingFailed"];
const inspector = unsupportedModule("inspector", {
  url: () => undefined,
  console: globalThis.console,
  Network: Object.fromEntries(network.map((name) => [name, unsupported("inspector", `Network.${name}`)])),
});
export const { open, close, url, waitForDebugger, console, Session, Network } = inspector.names;
export default inspector.exports;

// node:https: an edge worker makes requests with fetch() and serves from its fetch handler.
// Every export Node 20 has, each throwing when used (node:internal/unsupported); `globalAgent`
// is an object that is an `instanceof Agent`.

import { USE_FETCH, unsupportedClass, unsupportedModule } from "node:internal/unsupported";

const HttpsAgent = unsupportedClass("https", "Agent", USE_FETCH);
const https = unsupportedModule(
  "https",
  {
    Agent: HttpsAgent,
    globalAgent: Object.assign(Object.create(HttpsAgent.prototype), { defaultPort: 443, protocol: "https:" }),
  },
  { reason: USE_FETCH },
);
export const { Agent, globalAgent, Server, createServer, get, request } = https.names;
export default https.exports;

// node:domain (deprecated in Node): no domains in an edge worker. Every export Node 20 has;
// creating a domain throws (node:internal/unsupported).

import { unsupportedModule } from "node:internal/unsupported";

const domain = unsupportedModule("domain", { _stack: [], active: null });
export const { _stack, Domain, createDomain, create, active } = domain.names;
export default domain.exports;

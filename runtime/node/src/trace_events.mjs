// node:trace_events: no V8 tracing in an edge worker. Every export Node 20 has, each
// throwing when used (node:internal/unsupported).

import { unsupportedModule } from "node:internal/unsupported";

const traceEvents = unsupportedModule("trace_events");
export const { createTracing, getEnabledCategories } = traceEvents.names;
export default traceEvents.exports;

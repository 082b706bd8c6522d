// node:cluster: an edge worker forks no processes. Every export Node 20 has: the default
// export is an EventEmitter with the facts of a primary that has no workers (isPrimary,
// workers {}, the scheduling constants), and forking throws (node:internal/unsupported).

import { EventEmitter } from "node:events";
import { unsupportedModule } from "node:internal/unsupported";

const cluster = unsupportedModule(
  "cluster",
  {
    isWorker: false,
    isMaster: true,
    isPrimary: true,
    workers: {},
    settings: {},
    SCHED_NONE: 1,
    SCHED_RR: 2,
    schedulingPolicy: 2,
  },
  { into: new EventEmitter() },
);
export const {
  _events, _eventsCount, _maxListeners, isWorker, isMaster, isPrimary, Worker, workers, settings, SCHED_NONE,
  SCHED_RR, schedulingPolicy, setupPrimary, setupMaster, fork, disconnect,
} = cluster.names;
export default cluster.exports;

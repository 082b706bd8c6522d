// node:worker_threads: an edge worker is one thread, the main one. Every export Node 20 has:
// the facts of a main thread (isMainThread, threadId 0, parentPort and workerData null), the
// runtime's MessageChannel, MessagePort and BroadcastChannel where it has them, environment
// data kept per worker, and the rest throwing when used (node:internal/unsupported).

import { unsupportedModule } from "node:internal/unsupported";

const environmentData = new Map();
const globals = Object.fromEntries(
  ["MessagePort", "MessageChannel", "BroadcastChannel"]
    .filter((name) => typeof globalThis[name] === "function")
    .map((name) => [name, globalThis[name]]),
);
const workerThreads = unsupportedModule("worker_threads", {
  ...globals,
  isMainThread: true,
  markAsUntransferable() {},
  resourceLimits: {},
  threadId: 0,
  SHARE_ENV: Symbol.for("nodejs.worker_threads.SHARE_ENV"),
  parentPort: null,
  workerData: null,
  setEnvironmentData(key, value) {
    if (value === undefined) environmentData.delete(key);
    else environmentData.set(key, value);
  },
  getEnvironmentData(key) {
    return environmentData.get(key);
  },
});
export const {
  isMainThread, MessagePort, MessageChannel, markAsUntransferable, moveMessagePortToContext,
  receiveMessageOnPort, resourceLimits, postMessageToThread, threadId, SHARE_ENV, Worker, parentPort,
  workerData, BroadcastChannel, setEnvironmentData, getEnvironmentData,
} = workerThreads.names;
export default workerThreads.exports;

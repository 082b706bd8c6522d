// node:v8: the engine's own interface, which an edge worker does not reach (and whose engine
// need not be V8). Every export Node 20 has, each throwing when used
// (node:internal/unsupported); `startupSnapshot.isBuildingSnapshot()` is false.

import { unsupported, unsupportedModule } from "node:internal/unsupported";

const members = (object, names) =>
  Object.fromEntries(names.map((name) => [name, unsupported("v8", `${object}.${name}`)]));
const v8 = unsupportedModule("v8", {
  promiseHooks: members("promiseHooks", ["createHook", "onInit", "onBefore", "onAfter", "onSettled"]),
  startupSnapshot: {
    ...members("startupSnapshot", [
      "addDeserializeCallback",
      "addSerializeCallback",
      "setDeserializeMainFunction",
    ]),
    isBuildingSnapshot: () => false,
  },
});
export const {
  cachedDataVersionTag, getHeapSnapshot, getHeapStatistics, getHeapSpaceStatistics, getHeapCodeStatistics,
  setFlagsFromString, Serializer, Deserializer, DefaultSerializer, DefaultDeserializer, deserialize,
  takeCoverage, stopCoverage, serialize, writeHeapSnapshot, promiseHooks, queryObjects, startupSnapshot,
  setHeapSnapshotNearHeapLimit, GCProfiler,
} = v8.names;
export default v8.exports;

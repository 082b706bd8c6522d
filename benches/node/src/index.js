// The worker of the differential (see ../README.md): one path per area of Node.js compatibility,
// each answering JSON that depends on nothing but the code (no random values, no clocks), so that
// workerd's answer and edge's can be compared byte for byte.

import legacy from "./legacy.cjs";
import { alsChecks } from "./als.js";
import { bufferChecks } from "./buffer.js";
import { cryptoChecks } from "./crypto.js";
import { eventsChecks } from "./events.js";
import { streamChecks } from "./stream.js";
import { utilChecks } from "./util.js";
import { run } from "./report.js";

function globalsChecks() {
  return run({
    types: () => [typeof Buffer, typeof process, typeof global, global === globalThis, typeof setImmediate],
    bufferGlobalIsModule: async () => {
      const { Buffer: imported } = await import("node:buffer");
      return Buffer === imported;
    },
    nextTickOrder: () =>
      new Promise((resolve) => {
        const order = [];
        setTimeout(() => {
          order.push("timeout");
          resolve(order);
        }, 1);
        Promise.resolve().then(() => order.push("promise"));
        process.nextTick(() => order.push("nextTick"));
        queueMicrotask(() => order.push("microtask"));
        order.push("sync");
      }),
    processShape: () => [typeof process.env, typeof process.nextTick, typeof process.hrtime, typeof process.version,
      typeof process.versions, process.platform === "linux", typeof process.cwd],
  });
}

const routes = {
  "/als": (url) => alsChecks(url.searchParams.get("id") ?? "0", Number(url.searchParams.get("delay") ?? "1")),
  "/buffer": bufferChecks,
  "/crypto": cryptoChecks,
  "/stream": streamChecks,
  "/events": eventsChecks,
  "/util": utilChecks,
  "/legacy": async () => ({ ...legacy.describe(), readAll: await legacy.readAll() }),
  "/globals": globalsChecks,
};

export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === "/") return Response.json(Object.keys(routes));
    const route = routes[url.pathname];
    if (!route) return new Response("no such path\n", { status: 404 });
    return Response.json(await route(url));
  },
};

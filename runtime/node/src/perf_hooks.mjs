// node:perf_hooks: `performance` is the global one (and its classes the runtime's, where it
// has them). A PerformanceObserver here observes nothing: entries reach no observer, so its
// callback is never called. `constants` is Node 20's; histograms and the event-loop delay
// monitor throw when used (node:internal/unsupported).

import { perfHooks as perfConstants } from "node:internal/constants";
import { unsupported, unsupportedClass } from "node:internal/unsupported";

/** What a PerformanceObserver's callback would receive: here always empty. */
class InertEntryList {
  getEntries() {
    return [];
  }
  getEntriesByType() {
    return [];
  }
  getEntriesByName() {
    return [];
  }
}

class InertObserver {
  static supportedEntryTypes = Object.freeze([]);

  constructor(callback) {
    if (typeof callback !== "function") {
      const error = new TypeError(
        `The "callback" argument must be of type function. Received ${typeof callback}`,
      );
      error.code = "ERR_INVALID_ARG_TYPE";
      throw error;
    }
  }
  observe() {}
  disconnect() {}
  takeRecords() {
    return [];
  }
}

const own = (name, fallback) => (typeof globalThis[name] === "function" ? globalThis[name] : fallback);

export const Performance = own("Performance", unsupportedClass("perf_hooks", "Performance"));
export const PerformanceEntry = own("PerformanceEntry", unsupportedClass("perf_hooks", "PerformanceEntry"));
export const PerformanceMark = own("PerformanceMark", unsupportedClass("perf_hooks", "PerformanceMark"));
export const PerformanceMeasure = own(
  "PerformanceMeasure",
  unsupportedClass("perf_hooks", "PerformanceMeasure"),
);
export const PerformanceObserver = own("PerformanceObserver", InertObserver);
export const PerformanceObserverEntryList = own("PerformanceObserverEntryList", InertEntryList);
export const PerformanceResourceTiming = own(
  "PerformanceResourceTiming",
  unsupportedClass("perf_hooks", "PerformanceResourceTiming"),
);
export const monitorEventLoopDelay = unsupported("perf_hooks", "monitorEventLoopDelay");
export const createHistogram = unsupported("perf_hooks", "createHistogram");
export const performance = globalThis.performance;
export const constants = perfConstants;

export default {
  Performance,
  PerformanceEntry,
  PerformanceMark,
  PerformanceMeasure,
  PerformanceObserver,
  PerformanceObserverEntryList,
  PerformanceResourceTiming,
  monitorEventLoopDelay,
  createHistogram,
  performance,
  constants,
};

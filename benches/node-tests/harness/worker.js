// The worker around one Node.js test file (copied in as test/parallel/test.cjs by driver.py).
// On any request it loads the test (a CommonJS test runs as it loads), lets the event loop go
// quiet, emits process 'exit' and checks every common.mustCall, then answers JSON.
import common from "./test/common/index.js";

export default {
  async fetch() {
    const report = await common.__harness.run(() => import("./test/parallel/test.cjs"));
    return Response.json(report);
  },
};

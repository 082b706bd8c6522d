// What the npm packages bundled here get for `require("process")`: the worker's own
// `process` (node:process, through the global Node compatibility defines), whose nextTick
// keeps the async context, instead of the npm `process` shim's setTimeout-based one.
module.exports = globalThis.process;

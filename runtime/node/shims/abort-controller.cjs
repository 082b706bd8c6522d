// `require("abort-controller")` in the packages bundled here: the Web's own.
module.exports = { AbortController: globalThis.AbortController, AbortSignal: globalThis.AbortSignal };

// node:punycode (deprecated in Node, still imported by older packages): unenv's (pinned in
// package.json), which is punycode.js 2.3.1, the library Node itself ships as punycode.

export * from "unenv/node/punycode";
export { default } from "unenv/node/punycode";

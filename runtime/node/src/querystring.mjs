// node:querystring: unenv's (pinned in package.json), a port of Node's own lib/querystring.js,
// so `parse` and `stringify` give what Node gives (see url.mjs for why unenv).

export * from "unenv/node/querystring";
export { default } from "unenv/node/querystring";

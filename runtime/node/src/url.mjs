// node:url: the WHATWG `URL` and `URLSearchParams` of the runtime, and Node's legacy API
// (`parse`, `format`, `resolve`, `resolveObject`, `Url`, `fileURLToPath`, `pathToFileURL`,
// `urlToHttpOptions`) from `unenv` (pinned in package.json). unenv@2.0.0-rc.24 is what
// Cloudflare's wrangler bundles for nodejs_compat; its url.mjs is a port of Node's own
// lib/url.js, so `parse` gives what Node 20 gives (the `url` npm package is an older port that
// parses queries with `qs`, which differs). Three things are ours, to match Node:
// - `domainToASCII`/`domainToUnicode` go through the WHATWG host parser (as Node's do) instead
//   of plain punycode, so they lowercase, map and answer '' for an invalid domain;
// - `parse` builds its `Url` with the fields in Node's order (what `console.log` and
//   `JSON.stringify` show), and never prints unenv's DEP0169 warning, which Node 20 does not;
// - `format(url, { unicode: true })` of a WHATWG URL gives its host in Unicode.

import unenv from "unenv/node/url";
import { decode as punycodeDecode } from "unenv/node/punycode";

export const URL = globalThis.URL;
export const URLSearchParams = globalThis.URLSearchParams;
export const { fileURLToPath, pathToFileURL, resolve, resolveObject, urlToHttpOptions } = unenv;

// unenv's parse prints DEP0169 on its first call (its `resolve` and `format` call it too):
// spend that first call here, with the warning silenced.
{
  const warn = console.warn;
  console.warn = () => {};
  try {
    unenv.parse("");
  } finally {
    console.warn = warn;
  }
}

/** Node's `Url`: every field null, in the order Node's constructor sets them. */
export function Url() {
  this.protocol = null;
  this.slashes = null;
  this.auth = null;
  this.host = null;
  this.port = null;
  this.hostname = null;
  this.hash = null;
  this.search = null;
  this.query = null;
  this.pathname = null;
  this.path = null;
  this.href = null;
}
// The same prototype as unenv's class: its methods, and `instanceof` either way.
Url.prototype = unenv.Url.prototype;

export function parse(url, parseQueryString, slashesDenoteHost) {
  if (url instanceof Url) return url;
  const parsed = new Url();
  parsed.parse(url, parseQueryString, slashesDenoteHost);
  return parsed;
}

export function format(urlObject, options) {
  if (!(urlObject instanceof URL) || !options?.unicode) return unenv.format(urlObject, options);
  const href = unenv.format(urlObject, { ...options, unicode: false });
  const url = new URL(href);
  const userinfo =
    url.username || url.password ? `${url.username}${url.password ? `:${url.password}` : ""}@` : "";
  const before = `${url.protocol}//${userinfo}`;
  if (!url.hostname || !href.startsWith(before + url.hostname)) return href;
  return before + domainToUnicode(url.hostname) + href.slice(before.length + url.hostname.length);
}

/** The ASCII form of a domain as the WHATWG host parser gives it, or '' if it is invalid. */
export function domainToASCII(domain) {
  // The hostname setter ignores an invalid host: two URLs that start with different hosts
  // agree afterwards only if it took.
  const a = new URL("ws://a");
  const b = new URL("ws://b");
  a.hostname = b.hostname = `${domain}`;
  return a.hostname === b.hostname ? a.hostname : "";
}

/** The Unicode form of a domain (its `xn--` labels decoded), or '' if it is invalid. */
export function domainToUnicode(domain) {
  return domainToASCII(domain)
    .split(".")
    .map((label) => {
      if (!label.startsWith("xn--")) return label;
      try {
        return punycodeDecode(label.slice(4));
      } catch {
        return label;
      }
    })
    .join(".");
}

export default {
  Url,
  parse,
  resolve,
  resolveObject,
  format,
  URL,
  URLSearchParams,
  domainToASCII,
  domainToUnicode,
  pathToFileURL,
  fileURLToPath,
  urlToHttpOptions,
};

//! Node's URL modules (`nodejs_compat`): node:url — the WHATWG URL and URLSearchParams, and the
//! legacy parse/format/resolve with `Url` — node:querystring and node:punycode. Expected values
//! are what Node.js 20 printed for the same calls (the worker's `run()`, run under `node`).

use edge_tests::*;

/// Calls each module the way packages do; answers what each gave.
const WORKER: &str = r##"
import url, { URL as NodeURL, URLSearchParams as NodeParams, parse, format, resolve, resolveObject, Url, fileURLToPath, pathToFileURL, domainToASCII, domainToUnicode, urlToHttpOptions } from "node:url";
import querystring, { escape, unescape, stringify, decode, encode } from "node:querystring";
import punycode from "node:punycode";

async function run() {
  const out = {};
  const full = parse("http://user:pass@host.com:8080/p/a/t/h?query=string&a=1&a=2#hash", true);
  out.parse = { ...full, query: { ...full.query } };
  out.parseKeys = Object.keys(full);
  out.parseIsUrl = full instanceof Url;
  out.parseNoQuery = parse("https://EXAMPLE.com/A?b=1#C");
  out.parseSlashes = parse("//foo/bar", false, true);
  out.parseRelative = parse("/relative/path?x=1");
  out.parseIdn = parse("http://münchen.de/ä?ö=ü");
  out.parseIpv6 = parse("http://[::1]:3000/x").host;
  out.parseBackslash = parse("http://x.com\\back\\slash?q=\\").href;
  out.format = format({ protocol: "https", hostname: "example.com", pathname: "/some/path", query: { page: 1, format: "json" } });
  out.formatParsed = format(parse("http://a.com/x?y#z"));
  out.formatWhatwg = format(new URL("https://u:p@測試.com/?a=b#c"), { unicode: true, auth: false, fragment: false });
  out.resolve = ["g", "../g", "//g", "?y", "../../../../g", "http://x/y"].map((to) => resolve("http://a/b/c/d;p?q", to));
  out.resolveRelative = resolve("/one/two/three", "four");
  out.resolveObject = resolveObject("http://example.com/one", "/two").href;
  out.fileURLToPath = fileURLToPath("file:///tmp/a%20b");
  out.pathToFileURL = pathToFileURL("/tmp/a b#c?.txt").href;
  out.domainToASCII = ["español.com", "EXAMPLE.com", "xn--iñvalid.com", "faß.de"].map(domainToASCII);
  out.domainToUnicode = ["xn--espaol-zwa.com", "xn--mnchen-3ya.de", "a:b"].map(domainToUnicode);
  out.httpOptions = { ...urlToHttpOptions(new URL("https://a:b@x.com:8443/p?q#h")) };
  out.globals = NodeURL === globalThis.URL && NodeParams === globalThis.URLSearchParams && url.parse === parse;
  out.qsParse = { ...querystring.parse("a=1&b=2&a=3&c=%E2%82%AC&d=x+y&e") };
  out.qsParseOptions = { ...decode("a:1;b:2", ";", ":") };
  out.qsStringify = stringify({ a: [1, 2], b: "x y", c: true, d: null, e: undefined, f: "€" });
  out.qsEncode = encode({ w: "ü" }, ";", ":");
  out.qsEscape = [escape("a b&c/ü"), unescape("a%20b%zz")];
  out.punycode = [punycode.toASCII("mañana.com"), punycode.toUnicode("xn--maana-pta.com"), punycode.encode("mañana"), punycode.decode("maana-pta"), punycode.ucs2.decode("\ud83d\ude00")];
  return out;
}
"##;

/// `JSON.stringify(await run())` under Node 20.20.2 (punycode.version left out: Node ships
/// punycode.js 2.1.0, node:punycode here is 2.3.1).
const FROM_NODE: &str = r##"{
  "parse": {
    "protocol": "http:",
    "slashes": true,
    "auth": "user:pass",
    "host": "host.com:8080",
    "port": "8080",
    "hostname": "host.com",
    "hash": "#hash",
    "search": "?query=string&a=1&a=2",
    "query": {
      "query": "string",
      "a": [
        "1",
        "2"
      ]
    },
    "pathname": "/p/a/t/h",
    "path": "/p/a/t/h?query=string&a=1&a=2",
    "href": "http://user:pass@host.com:8080/p/a/t/h?query=string&a=1&a=2#hash"
  },
  "parseKeys": [
    "protocol",
    "slashes",
    "auth",
    "host",
    "port",
    "hostname",
    "hash",
    "search",
    "query",
    "pathname",
    "path",
    "href"
  ],
  "parseIsUrl": true,
  "parseNoQuery": {
    "protocol": "https:",
    "slashes": true,
    "auth": null,
    "host": "example.com",
    "port": null,
    "hostname": "example.com",
    "hash": "#C",
    "search": "?b=1",
    "query": "b=1",
    "pathname": "/A",
    "path": "/A?b=1",
    "href": "https://example.com/A?b=1#C"
  },
  "parseSlashes": {
    "protocol": null,
    "slashes": true,
    "auth": null,
    "host": "foo",
    "port": null,
    "hostname": "foo",
    "hash": null,
    "search": null,
    "query": null,
    "pathname": "/bar",
    "path": "/bar",
    "href": "//foo/bar"
  },
  "parseRelative": {
    "protocol": null,
    "slashes": null,
    "auth": null,
    "host": null,
    "port": null,
    "hostname": null,
    "hash": null,
    "search": "?x=1",
    "query": "x=1",
    "pathname": "/relative/path",
    "path": "/relative/path?x=1",
    "href": "/relative/path?x=1"
  },
  "parseIdn": {
    "protocol": "http:",
    "slashes": true,
    "auth": null,
    "host": "xn--mnchen-3ya.de",
    "port": null,
    "hostname": "xn--mnchen-3ya.de",
    "hash": null,
    "search": "?ö=ü",
    "query": "ö=ü",
    "pathname": "/ä",
    "path": "/ä?ö=ü",
    "href": "http://xn--mnchen-3ya.de/ä?ö=ü"
  },
  "parseIpv6": "[::1]:3000",
  "parseBackslash": "http://x.com/back/slash?q=%5C",
  "format": "https://example.com/some/path?page=1&format=json",
  "formatParsed": "http://a.com/x?y#z",
  "formatWhatwg": "https://測試.com/?a=b",
  "resolve": [
    "http://a/b/c/g",
    "http://a/b/g",
    "http://g/",
    "http://a/b/c/d;p?y",
    "http://a/g",
    "http://x/y"
  ],
  "resolveRelative": "/one/two/four",
  "resolveObject": "http://example.com/two",
  "fileURLToPath": "/tmp/a b",
  "pathToFileURL": "file:///tmp/a%20b%23c%3F.txt",
  "domainToASCII": ["xn--espaol-zwa.com", "example.com", "", "xn--fa-hia.de"],
  "domainToUnicode": ["español.com", "münchen.de", ""],
  "httpOptions": {
    "protocol": "https:",
    "hostname": "x.com",
    "hash": "#h",
    "search": "?q",
    "pathname": "/p",
    "path": "/p?q",
    "href": "https://a:b@x.com:8443/p?q#h",
    "port": 8443,
    "auth": "a:b"
  },
  "globals": true,
  "qsParse": {"a": ["1", "3"], "b": "2", "c": "€", "d": "x y", "e": ""},
  "qsParseOptions": {"a": "1", "b": "2"},
  "qsStringify": "a=1&a=2&b=x%20y&c=true&d=&e=&f=%E2%82%AC",
  "qsEncode": "w:%C3%BC",
  "qsEscape": ["a%20b%26c%2F%C3%BC", "a b%zz"],
  "punycode": ["xn--maana-pta.com", "mañana.com", "maana-pta", "mañana", [128512]]
}"##;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn url_querystring_and_punycode_answer_as_node_does() {
  let out = node_run_answer("url", WORKER).await;
  assert_like_node(&out, FROM_NODE);
}

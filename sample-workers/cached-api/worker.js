// An API answered from the Cache API when it can: /time is kept for 60 s (`cf-cache-status: HIT`
// on the answers that came from the cache); ?policy=no-store or ?policy=private is never kept;
// /greeting varies by Accept-Language; DELETE forgets a path; /named uses caches.open("named").
let generated = 0;

export default {
  async fetch(request) {
    const url = new URL(request.url);
    const cache = url.pathname === "/named" ? await caches.open("named") : caches.default;
    if (request.method === "DELETE") {
      const deleted = await cache.delete(new Request(url.origin + url.pathname + url.search));
      return Response.json({ deleted });
    }
    const hit = await cache.match(request);
    if (hit) return hit;
    generated += 1;
    const policy = url.searchParams.get("policy") ?? "public, max-age=60";
    const headers = { "cache-control": policy };
    let body = { path: url.pathname, generated };
    if (url.pathname === "/greeting") {
      headers.vary = "accept-language";
      body.greeting = request.headers.get("accept-language")?.startsWith("de") ? "Hallo" : "Hello";
    }
    const response = Response.json(body, { headers });
    await cache.put(request, response.clone());
    return response;
  },
};

// Counts visits per path in a KV namespace: GET /home → {"name":"home","count":3}.
export default {
  async fetch(request, env) {
    const name = new URL(request.url).pathname.slice(1) || "visits";
    const count = Number((await env.COUNTER.get(name)) ?? 0) + 1;
    await env.COUNTER.put(name, String(count), { metadata: { updated: Date.now() } });
    return Response.json({ name, count });
  },
};

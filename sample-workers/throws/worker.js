export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === "/ok") return new Response("still serving\n");
    if (url.pathname === "/not-a-response") return { hello: "world" };
    await null;
    throw new Error(`secret-token-123 broke at ${url.pathname}`);
  },
};

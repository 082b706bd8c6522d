export default {
  async fetch(request) {
    if (new URL(request.url).pathname === "/pipe") {
      // Streams the request body back, upper-cased, chunk by chunk as it arrives.
      const upper = new TransformStream({
        transform(chunk, controller) {
          const text = new TextDecoder().decode(chunk);
          controller.enqueue(new TextEncoder().encode(text.toUpperCase()));
        },
      });
      return new Response(request.body.pipeThrough(upper));
    }
    const body = await request.text();
    return Response.json({
      method: request.method,
      url: request.url,
      headers: Object.fromEntries(request.headers),
      body,
      bytes: new TextEncoder().encode(body).length,
    });
  },
};

// A body written chunk by chunk. `/?chunks=5&delay=20` writes five chunks 20 ms apart.
// `/?gate=ID` writes one chunk, then waits until `POST /release?gate=ID` arrives before
// finishing: that lets a client prove it saw the first chunk while the stream was still open.
const gates = new Map();

export default {
  fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === "/release") {
      const gate = url.searchParams.get("gate");
      const release = gates.get(gate);
      if (!release) return new Response(`no stream waits on gate ${gate}\n`, { status: 404 });
      gates.delete(gate);
      release();
      return new Response("released\n");
    }
    const chunks = Number(url.searchParams.get("chunks") ?? 5);
    const delay = Number(url.searchParams.get("delay") ?? 10);
    const gate = url.searchParams.get("gate");
    const encoder = new TextEncoder();
    const stream = new ReadableStream({
      async start(controller) {
        if (gate) {
          controller.enqueue(encoder.encode("first chunk\n"));
          await new Promise((resolve) => gates.set(gate, resolve));
          controller.enqueue(encoder.encode("last chunk\n"));
          controller.close();
          return;
        }
        for (let i = 0; i < chunks; i++) {
          controller.enqueue(encoder.encode(`chunk ${i}\n`));
          await new Promise((resolve) => setTimeout(resolve, delay));
        }
        controller.close();
      },
    });
    return new Response(stream, { headers: { "content-type": "text/plain; charset=utf-8" } });
  },
};

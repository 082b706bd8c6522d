// The WebSocket echo worker of the benchmark (run.sh): a module worker that accepts a WebSocket
// with Cloudflare's API and sends every message back as it came. The same file is served,
// unchanged, by `edge dev` and by workerd.
export default {
  fetch(request) {
    if (request.headers.get("upgrade") !== "websocket") {
      return new Response("echo: connect with a WebSocket\n");
    }
    const [client, server] = Object.values(new WebSocketPair());
    server.accept();
    server.addEventListener("message", (event) => server.send(event.data));
    return new Response(null, { status: 101, webSocket: client });
  },
};

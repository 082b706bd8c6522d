// A chat room over WebSockets: every message a member sends reaches every member of the room,
// with its name; joins and leaves are announced. Open it in two browser tabs, or connect with
// any WebSocket client to ws://chat.edge.localhost:8787/<room>?name=<you>.
//
// The rooms live in this isolate's memory (a worker with many isolates keeps a room per
// isolate; Cloudflare would put a room in a Durable Object).

const rooms = new Map();

function broadcast(room, message) {
  for (const member of room) {
    try {
      member.send(message);
    } catch {
      // Closing already: its close event removes it.
    }
  }
}

export default {
  fetch(request) {
    const url = new URL(request.url);
    if (request.headers.get("upgrade") !== "websocket") {
      return new Response(PAGE, { headers: { "content-type": "text/html; charset=utf-8" } });
    }
    const roomName = url.pathname.slice(1) || "lobby";
    const name = (url.searchParams.get("name") || "anonymous").slice(0, 32);
    const room = rooms.get(roomName) ?? new Set();
    rooms.set(roomName, room);

    const [client, server] = Object.values(new WebSocketPair());
    server.accept();
    // Behind `edge router`, request.cf says where the member connects from.
    const from = request.cf?.city ?? null;
    server.send(JSON.stringify({ type: "welcome", room: roomName, members: room.size, from }));
    room.add(server);
    broadcast(room, JSON.stringify({ type: "join", name }));

    server.addEventListener("message", (event) => {
      if (typeof event.data !== "string") return;
      broadcast(room, JSON.stringify({ type: "message", name, text: event.data.slice(0, 4096) }));
    });
    server.addEventListener("close", () => {
      room.delete(server);
      if (room.size === 0) rooms.delete(roomName);
      else broadcast(room, JSON.stringify({ type: "leave", name }));
    });
    return new Response(null, { status: 101, webSocket: client });
  },
};

const PAGE = `<!doctype html>
<meta charset="utf-8">
<title>Edge chat</title>
<form id="f"><input id="text" autocomplete="off" placeholder="Say something"><button>Send</button></form>
<ul id="log"></ul>
<script>
  const name = "guest-" + Math.floor(Math.random() * 1000);
  const socket = new WebSocket(location.origin.replace(/^http/, "ws") + "/lobby?name=" + name);
  const log = (text) => { const li = document.createElement("li"); li.textContent = text; document.getElementById("log").append(li); };
  socket.onopen = () => { document.title = "connected"; };
  socket.onmessage = (event) => {
    const m = JSON.parse(event.data);
    log(m.type === "message" ? m.name + ": " + m.text : m.type === "welcome" ? "welcome to " + m.room : m.name + " " + m.type + "s");
  };
  socket.onclose = (event) => log("closed: " + event.code);
  document.getElementById("f").onsubmit = (e) => { e.preventDefault(); const t = document.getElementById("text"); socket.send(t.value); t.value = ""; };
</script>
`;

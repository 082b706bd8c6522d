// cloudflare:sockets: `connect()`, for every worker (node:internal/sockets has the code: only
// node: modules may import the runtime's ext: modules).
export { connect, default } from "node:internal/sockets";

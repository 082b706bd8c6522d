// A TypeScript worker: its types are stripped when it is read (by `edge dev` or a deploy),
// every line staying where it is, so errors point at this file's lines.
import { greet, type Greeting } from "./greet.ts";

interface Env {
  GREETING: string;
}

export default {
  fetch(request: Request, env: Env): Response {
    const url = new URL(request.url);
    if (url.pathname === "/boom") {
      throw new Error("boom from TypeScript");
    }
    const greeting: Greeting = greet(env.GREETING, url.searchParams.get("name") ?? "edge");
    return Response.json(greeting);
  },
} satisfies ExportedHandler<Env>;

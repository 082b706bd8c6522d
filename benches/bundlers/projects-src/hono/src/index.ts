// Bench project: a Hono app with the logger and cors middleware, a TypeScript entry.
import { Hono } from "hono";
import { logger } from "hono/logger";
import { cors } from "hono/cors";

type Bindings = { GREETING?: string };
const app = new Hono<{ Bindings: Bindings }>();
app.use("*", logger(() => {}), cors());
app.get("/", (c) => c.text(`${c.env?.GREETING ?? "hi"}: served by Hono`));
app.get("/items/:id", (c) => c.json({ id: c.req.param("id"), ok: true as const }));
export default app;

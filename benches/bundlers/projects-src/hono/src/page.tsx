/** @jsxImportSource hono/jsx */
// Bench project: hono/jsx chosen by the pragma above only (no tsconfig in this project).
import { Hono } from "hono";
const Page = ({ name }: { name: string }) => <h1>Hello {name}</h1>;
const app = new Hono();
app.get("/", (c) => c.html(<Page name="JSX" />));
export default app;

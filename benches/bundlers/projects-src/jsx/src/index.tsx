// Bench project: hono/jsx chosen by tsconfig.json (jsx: react-jsx, jsxImportSource), no pragma.
import { Hono } from "hono";
const Page = ({ name }: { name: string }) => <h1>Hello {name}</h1>;
const app = new Hono();
app.get("/", (c) => c.html(<Page name="JSX" />));
export default app;

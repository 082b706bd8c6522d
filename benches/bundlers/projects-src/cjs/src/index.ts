// Bench project: `ms` is CommonJS only, imported as an ES module.
import ms from "ms";
export default { fetch: (_req: Request): Response => new Response(String(ms("2 days"))) };

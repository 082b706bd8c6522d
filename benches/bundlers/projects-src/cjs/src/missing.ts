// Bench project: an import no node_modules has; bundling must fail, not leave it external.
import { nothing } from "not-installed";
export default { fetch: () => new Response(nothing) };

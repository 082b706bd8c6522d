// Bench project: which `exports` condition each package resolves to (packages made by run.sh).
import condpkg from "condpkg";
import nodeFirst from "cond-node-first";
import importFirst from "cond-import-first";
import nodeDefault from "cond-node-default";
import viaRequire from "./req.cjs";
const picks = { condpkg, "cond-node-first": nodeFirst, "cond-import-first": importFirst, "cond-node-default": nodeDefault, "cond-req (require)": viaRequire };
export default { fetch: () => new Response(JSON.stringify(picks)) };

// node:repl: no REPL in an edge worker. Every export Node 20 has: the mode symbols and
// `builtinModules` as data, the rest throwing when used (node:internal/unsupported).

import { builtinModules as all } from "node:internal/constants";
import { unsupportedModule } from "node:internal/unsupported";

const repl = unsupportedModule("repl", {
  REPL_MODE_SLOPPY: Symbol("repl-sloppy"),
  REPL_MODE_STRICT: Symbol("repl-strict"),
  // The REPL lists the public ones.
  builtinModules: all.filter((name) => !name.startsWith("_")),
});
export const {
  start, writer, REPLServer, REPL_MODE_SLOPPY, REPL_MODE_STRICT, Recoverable, isValidSyntax, builtinModules,
} = repl.names;
export default repl.exports;

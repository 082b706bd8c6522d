// node:vm: an edge worker compiles no code at run time. Every export Node 20 has: `constants`
// as data, the rest throwing when used (node:internal/unsupported).

import { unsupportedModule } from "node:internal/unsupported";

const vm = unsupportedModule("vm", {
  constants: {
    __proto__: null,
    USE_MAIN_CONTEXT_DEFAULT_LOADER: Symbol("vm_dynamic_import_main_context_default"),
    DONT_CONTEXTIFY: Symbol("vm_context_no_contextify"),
  },
});
export const {
  Script, createContext, createScript, runInContext, runInNewContext, runInThisContext, isContext,
  compileFunction, measureMemory, constants,
} = vm.names;
export default vm.exports;

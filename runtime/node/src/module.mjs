// node:module: an edge worker is one bundle, so nothing loads modules at run time. What
// packages use at import still works: `createRequire(url)` gives a `require` that returns the
// built-in modules (`require("node:buffer")`) and throws MODULE_NOT_FOUND for anything else,
// `isBuiltin` and `builtinModules` answer as Node 20 does. The default export is `Module`,
// which throws when constructed, as do the loader's internals (node:internal/unsupported).

import process from "node:process";
import { builtinModules as builtins } from "node:internal/constants";
import { unsupportedClass, unsupportedModule } from "node:internal/unsupported";

const withoutScheme = (id) => (id.startsWith("node:") ? id.slice(5) : id);

function notFound(id) {
  const error = new Error(
    `Cannot find module '${id}': in an edge worker, require() (from node:module.createRequire) ` +
      "loads only the built-in modules; bundle the others",
  );
  error.code = "MODULE_NOT_FOUND";
  return error;
}

const ModuleClass = unsupportedClass("module", "Module");
const module = unsupportedModule(
  "module",
  {
    _cache: { __proto__: null },
    _pathCache: { __proto__: null },
    _extensions: { __proto__: null },
    globalPaths: [],
    _debug() {},
    isBuiltin(id) {
      return typeof id === "string" && builtins.includes(withoutScheme(id));
    },
    createRequire(_filename) {
      const require = (id) => {
        const loaded = ModuleClass.isBuiltin(id) ? process.getBuiltinModule(withoutScheme(id)) : undefined;
        if (loaded === undefined) throw notFound(id);
        return loaded;
      };
      require.resolve = (id) => {
        if (!ModuleClass.isBuiltin(id)) throw notFound(id);
        return id;
      };
      require.resolve.paths = () => null;
      require.cache = { __proto__: null };
      require.main = undefined;
      return require;
    },
    syncBuiltinESMExports() {},
    Module: ModuleClass,
    builtinModules: builtins,
    findSourceMap() {
      return undefined;
    },
  },
  { into: ModuleClass },
);
export const {
  _cache, _pathCache, _extensions, globalPaths, _debug, isBuiltin, _findPath, _nodeModulePaths,
  _resolveLookupPaths, _load, _resolveFilename, createRequire, _initPaths, _preloadModules,
  syncBuiltinESMExports, Module, builtinModules, runMain, findSourceMap, register, SourceMap,
} = module.names;
export default module.exports;

// node:path: POSIX on an edge node (as Node's on Linux), with `path.win32` beside it. The paths
// themselves are the `@file-services/path` package's (Node's lib/path.js for the web, POSIX and
// Windows); this file gives each function Node 20's argument checks, which throw Node's
// ERR_INVALID_ARG_TYPE (the package's errors carry no `code`), and builds the two namespaces as
// Node has them: `path === path.posix`, `path.posix.win32 === path.win32`, and so on.

import { posix as posixPaths, win32 as win32Paths } from "@file-services/path";
import { invalidArgType } from "node:internal/errors";

function validateString(value, name) {
  if (typeof value !== "string") throw invalidArgType(name, "string", value);
}

/** One namespace (`path.posix` or `path.win32`) over the package's functions of that kind. */
function namespace(paths, sep, delimiter) {
  return {
    resolve(...args) {
      for (let i = 0; i < args.length; i++) validateString(args[i], `paths[${i}]`);
      return paths.resolve(...args);
    },
    normalize(path) {
      validateString(path, "path");
      return paths.normalize(path);
    },
    isAbsolute(path) {
      validateString(path, "path");
      return paths.isAbsolute(path);
    },
    join(...args) {
      for (const arg of args) validateString(arg, "path");
      return paths.join(...args);
    },
    relative(from, to) {
      validateString(from, "from");
      validateString(to, "to");
      return paths.relative(from, to);
    },
    toNamespacedPath(path) {
      return paths.toNamespacedPath(path);
    },
    dirname(path) {
      validateString(path, "path");
      return paths.dirname(path);
    },
    basename(path, suffix) {
      if (suffix !== undefined) validateString(suffix, "suffix");
      validateString(path, "path");
      return paths.basename(path, suffix);
    },
    extname(path) {
      validateString(path, "path");
      return paths.extname(path);
    },
    format(pathObject) {
      if (pathObject === null || typeof pathObject !== "object") {
        throw invalidArgType("pathObject", "object", pathObject);
      }
      // Node 20 puts the dot before an `ext` that lacks it ({ name: "x", ext: "png" } is x.png).
      const { ext } = pathObject;
      if (!pathObject.base && ext && ext[0] !== ".") return paths.format({ ...pathObject, ext: `.${ext}` });
      return paths.format(pathObject);
    },
    parse(path) {
      validateString(path, "path");
      return paths.parse(path);
    },
    sep,
    delimiter,
    win32: null,
    posix: null,
    _makeLong: null,
  };
}

export const posix = namespace(posixPaths, "/", ":");
export const win32 = namespace(win32Paths, "\\", ";");
posix.win32 = win32.win32 = win32;
posix.posix = win32.posix = posix;
// The legacy name Node keeps (DEP0080).
posix._makeLong = posix.toNamespacedPath;
win32._makeLong = win32.toNamespacedPath;

export const {
  basename,
  delimiter,
  dirname,
  extname,
  format,
  isAbsolute,
  join,
  normalize,
  parse,
  relative,
  resolve,
  sep,
  toNamespacedPath,
  _makeLong,
} = posix;
export default posix;

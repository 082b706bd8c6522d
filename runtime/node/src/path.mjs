// node:path (POSIX, as in workerd): the `path-browserify` package, Node's posix path module.

import path from "path-browserify/index.js";

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
} = path;
export const posix = path;
export default path;

// node:path/posix: node:path itself (it is POSIX).

import path from "node:path";

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

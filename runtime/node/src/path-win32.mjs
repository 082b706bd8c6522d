// node:path/win32: the Windows paths of node:path (`require("path/win32") === path.win32`).

import { win32 } from "node:path";

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
  posix,
  relative,
  resolve,
  sep,
  toNamespacedPath,
  _makeLong,
} = win32;
export { win32 };
export default win32;

// node:fs/promises: no file system in an edge worker. Every export Node 20 has: `constants`
// as data (the same object as node:fs's), reads rejected as an empty file system rejects them
// (ENOENT, node:internal/fs/empty), every other function rejecting as unsupported
// (node:internal/unsupported).

import { fs as fsConstants } from "node:internal/constants";
import { promisedReads } from "node:internal/fs/empty";
import { unsupportedModule } from "node:internal/unsupported";

const promises = unsupportedModule("fs/promises", { ...promisedReads, constants: fsConstants }, { promises: true });
export const {
  access, copyFile, cp, open, opendir, rename, truncate, rm, rmdir, mkdir, readdir, readlink, symlink, lstat,
  stat, statfs, link, unlink, chmod, lchmod, lchown, chown, utimes, lutimes, realpath, mkdtemp, writeFile,
  appendFile, readFile, watch, constants,
} = promises.names;
export default promises.exports;

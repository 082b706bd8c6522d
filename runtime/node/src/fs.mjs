// node:fs: no file system in an edge worker. Every export Node 20 has: the constants as data
// (fs.constants, F_OK...), `promises` as node:fs/promises, reads answering as an empty file
// system does (ENOENT, node:internal/fs/empty), and every other function and class throwing
// when used (node:internal/unsupported). `lchmod` is undefined, as on Linux.

import { fs as fsConstants } from "node:internal/constants";
import { unsupportedModule } from "node:internal/unsupported";
import fsPromises from "node:fs/promises";
import { reads } from "node:internal/fs/empty";

const fs = unsupportedModule("fs", {
  ...reads,
  lchmod: undefined,
  lchmodSync: undefined,
  F_OK: fsConstants.F_OK,
  R_OK: fsConstants.R_OK,
  W_OK: fsConstants.W_OK,
  X_OK: fsConstants.X_OK,
  constants: fsConstants,
  promises: fsPromises,
});
export const {
  appendFile, appendFileSync, access, accessSync, chown, chownSync, chmod, chmodSync, close, closeSync,
  copyFile, copyFileSync, cp, cpSync, createReadStream, createWriteStream, exists, existsSync, fchown,
  fchownSync, fchmod, fchmodSync, fdatasync, fdatasyncSync, fstat, fstatSync, fsync, fsyncSync, ftruncate,
  ftruncateSync, futimes, futimesSync, lchown, lchownSync, lchmod, lchmodSync, link, linkSync, lstat,
  lstatSync, lutimes, lutimesSync, mkdir, mkdirSync, mkdtemp, mkdtempSync, open, openSync, openAsBlob,
  readdir, readdirSync, read, readSync, readv, readvSync, readFile, readFileSync, readlink, readlinkSync,
  realpath, realpathSync, rename, renameSync, rm, rmSync, rmdir, rmdirSync, stat, statfs, statSync,
  statfsSync, symlink, symlinkSync, truncate, truncateSync, unwatchFile, unlink, unlinkSync, utimes,
  utimesSync, watch, watchFile, writeFile, writeFileSync, write, writeSync, writev, writevSync, Dirent, Stats,
  ReadStream, WriteStream, FileReadStream, FileWriteStream, _toUnixTimestamp, Dir, opendir, opendirSync, F_OK,
  R_OK, W_OK, X_OK, constants, promises,
} = fs.names;
export default fs.exports;

// node:child_process: no processes in an edge worker. Every export Node 20 has, each
// throwing when used (node:internal/unsupported).

import { unsupportedModule } from "node:internal/unsupported";

const childProcess = unsupportedModule("child_process");
export const {
  _forkChild, ChildProcess, exec, execFile, execFileSync, execSync, fork, spawn, spawnSync,
} = childProcess.names;
export default childProcess.exports;

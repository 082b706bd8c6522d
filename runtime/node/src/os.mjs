// node:os: answers with fixed values, as workerd and unenv do: an edge worker has no machine
// of its own to describe. Linux (so EOL is "\n"), the architecture node:process reports, host
// "localhost", no CPUs, network interfaces or load, home "/" and temporary files in "/tmp".
// `constants` is Node 20's on Linux; setPriority throws (node:internal/unsupported).

import process from "node:process";
import { os as osConstants } from "node:internal/constants";
import { unsupported } from "node:internal/unsupported";

const MACHINES = { x64: "x86_64", arm64: "aarch64", ia32: "i686", arm: "armv7l" };

export const arch = () => process.arch;
export const availableParallelism = () => 1;
export const cpus = () => [];
export const endianness = () => "LE";
export const freemem = () => 0;
export const getPriority = () => 0;
export const homedir = () => "/";
export const hostname = () => "localhost";
export const loadavg = () => [0, 0, 0];
export const networkInterfaces = () => ({});
export const platform = () => "linux";
export const release = () => "";
export const setPriority = unsupported("os", "setPriority");
export const tmpdir = () => "/tmp";
export const totalmem = () => 0;
export const type = () => "Linux";
export const userInfo = () => ({ uid: -1, gid: -1, username: "", homedir: "/", shell: null });
export const uptime = () => 0;
export const version = () => "";
export const machine = () => MACHINES[process.arch] ?? process.arch;
export const constants = osConstants;
export const EOL = "\n";
export const devNull = "/dev/null";

export default {
  arch,
  availableParallelism,
  cpus,
  endianness,
  freemem,
  getPriority,
  homedir,
  hostname,
  loadavg,
  networkInterfaces,
  platform,
  release,
  setPriority,
  tmpdir,
  totalmem,
  type,
  userInfo,
  uptime,
  version,
  machine,
  constants,
  EOL,
  devNull,
};

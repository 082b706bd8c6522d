// node:internal/fs/empty: what node:fs and node:fs/promises answer for reads, as an empty file
// system would: no path exists. `existsSync` is false, and reading, listing or looking at a
// path fails with Node's own ENOENT error (`ENOENT: no such file or directory, open '.env'`,
// errno -2), which packages that look for an optional file (dotenv, config loaders) expect and
// handle. What would change a file stays unsupported (node:internal/unsupported).

function pathOf(path) {
  if (path instanceof URL) return decodeURIComponent(path.pathname);
  if (ArrayBuffer.isView(path)) return new TextDecoder().decode(path);
  return String(path);
}

/** Node's error for `syscall` on a `path` that does not exist. */
export function enoent(syscall, path) {
  const shown = pathOf(path);
  const error = new Error(`ENOENT: no such file or directory, ${syscall} '${shown}'`);
  return Object.assign(error, { errno: -2, code: "ENOENT", syscall, path: shown });
}

/** The synchronous read: throws. `statSync(path, { throwIfNoEntry: false })` is undefined. */
function sync(name, syscall) {
  return {
    [name](path, options) {
      if ((name === "statSync" || name === "lstatSync") && options?.throwIfNoEntry === false) return undefined;
      throw enoent(syscall, path);
    },
  }[name];
}

/** The callback form: the callback (its last argument) gets the error, later. */
function callback(name, syscall) {
  return {
    [name](path, ...rest) {
      const done = rest.findLast((argument) => typeof argument === "function");
      if (typeof done !== "function") {
        const error = new TypeError(`The "cb" argument must be of type function. Received ${typeof done}`);
        error.code = "ERR_INVALID_ARG_TYPE";
        throw error;
      }
      const error = enoent(syscall, path);
      queueMicrotask(() => done(error));
    },
  }[name];
}

/** The promise form: rejected. */
function promised(name, syscall) {
  return {
    [name](path) {
      return Promise.reject(enoent(syscall, path));
    },
  }[name];
}

/** node:fs's reads. */
export const reads = {
  access: callback("access", "access"),
  accessSync: sync("accessSync", "access"),
  exists: {
    exists(path, done) {
      queueMicrotask(() => done(false));
    },
  }.exists,
  existsSync: () => false,
  lstat: callback("lstat", "lstat"),
  lstatSync: sync("lstatSync", "lstat"),
  open: callback("open", "open"),
  openSync: sync("openSync", "open"),
  opendir: callback("opendir", "opendir"),
  opendirSync: sync("opendirSync", "opendir"),
  readFile: callback("readFile", "open"),
  readFileSync: sync("readFileSync", "open"),
  readdir: callback("readdir", "scandir"),
  readdirSync: sync("readdirSync", "scandir"),
  readlink: callback("readlink", "readlink"),
  readlinkSync: sync("readlinkSync", "readlink"),
  realpath: callback("realpath", "lstat"),
  realpathSync: sync("realpathSync", "lstat"),
  stat: callback("stat", "stat"),
  statSync: sync("statSync", "stat"),
};

/** node:fs/promises' reads. */
export const promisedReads = {
  access: promised("access", "access"),
  lstat: promised("lstat", "lstat"),
  open: promised("open", "open"),
  opendir: promised("opendir", "opendir"),
  readFile: promised("readFile", "open"),
  readdir: promised("readdir", "scandir"),
  readlink: promised("readlink", "readlink"),
  realpath: promised("realpath", "realpath"),
  stat: promised("stat", "stat"),
};

//! The node:* modules that cannot work in an edge worker (`nodejs_compat`) still import, with
//! every named export Node 20 has, and throw on use with an error that names the module and
//! the member (node:fs's reads answer as an empty file system does: ENOENT, as Node says it);
//! the ones that answer with fixed values or data (os, constants, perf_hooks,
//! console, tty, module, worker_threads, the data of http, fs and dns) answer as Node does;
//! and node:stream/consumers and the old node:_stream_* names. Expected values are what
//! Node.js 20 printed for the same calls (the worker's `run()`, run under `node`), except what
//! the stand-ins do (`standIns()`), which is this runtime's own behaviour.

use edge_tests::*;
use serde_json::json;

/// Imports each module and uses what works; `standIns()` calls what cannot.
const WORKER: &str = r##"
import { spawn, ChildProcess } from "node:child_process";
import { readFileSync, writeFileSync, existsSync, statSync, promises as fsPromises, constants as fsConstants, ReadStream } from "node:fs";
import { readFile } from "node:fs/promises";
import { createServer, isIP, Server } from "node:net";
import { request, Agent, globalAgent, METHODS, STATUS_CODES, validateHeaderName } from "node:http";
import os from "node:os";
import { performance, PerformanceObserver } from "node:perf_hooks";
import nodeConsole, { log } from "node:console";
import constants from "node:constants";
import sys from "node:sys";
import util from "node:util";
import { isatty } from "node:tty";
import { createRequire, isBuiltin } from "node:module";
import { isMainThread, getEnvironmentData, setEnvironmentData } from "node:worker_threads";
import dns from "node:dns";
import { Buffer } from "node:buffer";
import { Readable, Writable, Duplex, Transform, PassThrough } from "node:stream";
import { text, json, buffer, arrayBuffer, blob } from "node:stream/consumers";
import OldReadable, { from as oldFrom } from "node:_stream_readable";
import OldWritable from "node:_stream_writable";
import OldDuplex from "node:_stream_duplex";
import OldTransform from "node:_stream_transform";
import OldPassThrough from "node:_stream_passthrough";

const MODULES = [
  "child_process", "cluster", "dgram", "dns", "dns/promises", "fs", "fs/promises", "http", "https", "http2",
  "inspector", "inspector/promises", "module", "net", "tls", "readline", "readline/promises", "repl",
  "trace_events", "tty", "v8", "vm", "wasi", "worker_threads", "domain", "os", "perf_hooks", "console",
  "constants", "stream/consumers", "_stream_readable", "_stream_writable", "_stream_duplex",
  "_stream_transform", "_stream_passthrough",
];

/** What calling `fn` threw: message and code. */
function thrown(fn) {
  try {
    fn();
    return "no throw";
  } catch (e) {
    return [e.message, e.code];
  }
}

/** What the stand-ins do: ours, where Node would run the call or describe its machine. */
async function standIns() {
  const calls = [
    thrown(() => spawn("ls")),
    thrown(() => new ChildProcess()),
    thrown(() => readFileSync("/etc/hosts")),
    thrown(() => new ReadStream()),
    thrown(() => createServer()),
    thrown(() => new Server()),
    thrown(() => request("http://example.com")),
    thrown(() => new Agent()),
    thrown(() => dns.lookup("example.com", () => {})),
    thrown(() => writeFileSync("/tmp/x", "y")),
    [existsSync("/etc/hosts"), statSync("/etc/hosts", { throwIfNoEntry: false }) ?? null],
  ];
  const rejected = await readFile("/etc/hosts").then(() => "resolved", (e) => [e.message, e.code]);
  const osFixed = [os.hostname(), os.cpus(), os.homedir(), os.arch(), os.loadavg(), os.networkInterfaces(), os.availableParallelism(), os.uptime(), os.userInfo()];
  return { calls, rejected, osFixed };
}

async function run() {
  const out = {};
  // Every module imports, with Node 20's named exports.
  out.exports = {};
  for (const name of MODULES) {
    const namespace = await import(`node:${name}`);
    out.exports[name] = Object.keys(namespace).filter((key) => key !== "default").sort().join(" ");
  }
  out.fsData = [fsPromises === (await import("node:fs/promises")).default, fsConstants.O_RDONLY, fsConstants.S_IFMT, fsConstants.COPYFILE_EXCL];
  out.http = [METHODS.length, METHODS.slice(0, 3), STATUS_CODES[418], globalAgent instanceof Agent, validateHeaderName("x-ok") ?? null, thrown(() => validateHeaderName("bad name"))];
  out.netIsIP = [isIP("127.0.0.1"), isIP("::1"), isIP("fe80::1%eth0"), isIP("1.2.3"), isIP("example.com")];
  out.os = [os.platform(), os.type(), os.EOL, os.devNull, os.endianness(), os.constants.signals.SIGTERM, os.constants.errno.ENOENT, os.constants.priority.PRIORITY_HIGH, os.tmpdir()];
  out.constants = [Object.keys(constants).length, constants.O_CREAT, constants.SIGKILL, constants.EACCES, constants.RSA_PKCS1_PADDING, Object.isFrozen(constants)];
  out.perf = [performance === globalThis.performance, typeof performance.now()];
  const observer = new PerformanceObserver(() => {});
  observer.observe({ entryTypes: ["mark"] });
  observer.disconnect();
  out.console = [nodeConsole === globalThis.console, typeof log];
  out.sys = sys === util;
  out.tty = isatty(1);
  out.module = [isBuiltin("fs"), isBuiltin("node:path"), isBuiltin("left-pad"), createRequire("file:///x.js")("node:path").join("a", "b"), thrown(() => createRequire("file:///x.js")("left-pad"))[1]];
  setEnvironmentData("k", 1);
  out.workerThreads = [isMainThread, getEnvironmentData("k")];
  out.dnsOrder = [dns.getDefaultResultOrder(), dns.NOTFOUND, dns.ADDRCONFIG];
  out.consumers = [
    await text(Readable.from(["a", "é"])),
    await json(Readable.from(['{"x":', "1}"])),
    (await buffer(Readable.from([Buffer.from("hi"), "yo"]))).toString("hex"),
    (await arrayBuffer(Readable.from([new Uint8Array([1, 2, 3])]))).byteLength,
    await (await blob(Readable.from(["zz"]))).text(),
    await text(new Blob(["web ", "stream"]).stream()),
    await text((async function* () {
      // A character split between two chunks.
      const bytes = new TextEncoder().encode("€");
      yield bytes.slice(0, 1);
      yield bytes.slice(1);
    })()),
  ];
  out.oldStreamNames = [
    OldReadable === Readable, OldWritable === Writable, OldDuplex === Duplex, OldTransform === Transform,
    OldPassThrough === PassThrough, oldFrom === Readable.from,
  ];
  return out;
}

export default {
  async fetch() {
    return Response.json({ ...(await run()), standIns: await standIns() });
  },
};
"##;

/// Node 20.20.2's named exports of each module: `Object.keys(await import("node:<name>"))`,
/// without `default`, sorted. (node:sys is node:util, whose exports are node:util's business.)
const NODE_EXPORTS: &[(&str, &str)] = &[
  ("child_process", "ChildProcess _forkChild exec execFile execFileSync execSync fork spawn spawnSync"),
  (
    "cluster",
    "SCHED_NONE SCHED_RR Worker _events _eventsCount _maxListeners disconnect fork isMaster isPrimary \
     isWorker schedulingPolicy settings setupMaster setupPrimary workers",
  ),
  ("dgram", "Socket _createSocketHandle createSocket"),
  (
    "dns",
    "ADDRCONFIG ADDRGETNETWORKPARAMS ALL BADFAMILY BADFLAGS BADHINTS BADNAME BADQUERY BADRESP BADSTR \
     CANCELLED CONNREFUSED DESTRUCTION EOF FILE FORMERR LOADIPHLPAPI NODATA NOMEM NONAME NOTFOUND \
     NOTIMP NOTINITIALIZED REFUSED Resolver SERVFAIL TIMEOUT V4MAPPED getDefaultResultOrder \
     getServers lookup lookupService promises resolve resolve4 resolve6 resolveAny resolveCaa \
     resolveCname resolveMx resolveNaptr resolveNs resolvePtr resolveSoa resolveSrv resolveTxt \
     reverse setDefaultResultOrder setServers",
  ),
  (
    "dns/promises",
    "ADDRGETNETWORKPARAMS BADFAMILY BADFLAGS BADHINTS BADNAME BADQUERY BADRESP BADSTR CANCELLED \
     CONNREFUSED DESTRUCTION EOF FILE FORMERR LOADIPHLPAPI NODATA NOMEM NONAME NOTFOUND NOTIMP \
     NOTINITIALIZED REFUSED Resolver SERVFAIL TIMEOUT getDefaultResultOrder getServers lookup \
     lookupService resolve resolve4 resolve6 resolveAny resolveCaa resolveCname resolveMx \
     resolveNaptr resolveNs resolvePtr resolveSoa resolveSrv resolveTxt reverse setDefaultResultOrder \
     setServers",
  ),
  (
    "fs",
    "Dir Dirent F_OK FileReadStream FileWriteStream R_OK ReadStream Stats W_OK WriteStream X_OK \
     _toUnixTimestamp access accessSync appendFile appendFileSync chmod chmodSync chown chownSync \
     close closeSync constants copyFile copyFileSync cp cpSync createReadStream createWriteStream \
     exists existsSync fchmod fchmodSync fchown fchownSync fdatasync fdatasyncSync fstat fstatSync \
     fsync fsyncSync ftruncate ftruncateSync futimes futimesSync lchmod lchmodSync lchown lchownSync \
     link linkSync lstat lstatSync lutimes lutimesSync mkdir mkdirSync mkdtemp mkdtempSync open \
     openAsBlob openSync opendir opendirSync promises read readFile readFileSync readSync readdir \
     readdirSync readlink readlinkSync readv readvSync realpath realpathSync rename renameSync rm \
     rmSync rmdir rmdirSync stat statSync statfs statfsSync symlink symlinkSync truncate truncateSync \
     unlink unlinkSync unwatchFile utimes utimesSync watch watchFile write writeFile writeFileSync \
     writeSync writev writevSync",
  ),
  (
    "fs/promises",
    "access appendFile chmod chown constants copyFile cp lchmod lchown link lstat lutimes mkdir \
     mkdtemp open opendir readFile readdir readlink realpath rename rm rmdir stat statfs symlink \
     truncate unlink utimes watch writeFile",
  ),
  (
    "http",
    "Agent ClientRequest IncomingMessage METHODS OutgoingMessage STATUS_CODES Server ServerResponse \
     _connectionListener createServer get globalAgent maxHeaderSize request setMaxIdleHTTPParsers \
     validateHeaderName validateHeaderValue",
  ),
  ("https", "Agent Server createServer get globalAgent request"),
  (
    "http2",
    "Http2ServerRequest Http2ServerResponse connect constants createSecureServer createServer \
     getDefaultSettings getPackedSettings getUnpackedSettings performServerHandshake sensitiveHeaders",
  ),
  ("inspector", "Network Session close console open url waitForDebugger"),
  ("inspector/promises", "Network Session close console open url waitForDebugger"),
  (
    "module",
    "Module SourceMap _cache _debug _extensions _findPath _initPaths _load _nodeModulePaths \
     _pathCache _preloadModules _resolveFilename _resolveLookupPaths builtinModules createRequire \
     findSourceMap globalPaths isBuiltin register runMain syncBuiltinESMExports",
  ),
  (
    "net",
    "BlockList Server Socket SocketAddress Stream _createServerHandle _normalizeArgs \
     _setSimultaneousAccepts connect createConnection createServer getDefaultAutoSelectFamily \
     getDefaultAutoSelectFamilyAttemptTimeout isIP isIPv4 isIPv6 setDefaultAutoSelectFamily \
     setDefaultAutoSelectFamilyAttemptTimeout",
  ),
  (
    "tls",
    "CLIENT_RENEG_LIMIT CLIENT_RENEG_WINDOW DEFAULT_CIPHERS DEFAULT_ECDH_CURVE DEFAULT_MAX_VERSION \
     DEFAULT_MIN_VERSION SecureContext Server TLSSocket checkServerIdentity connect \
     convertALPNProtocols createSecureContext createSecurePair createServer getCiphers \
     rootCertificates",
  ),
  (
    "readline",
    "Interface clearLine clearScreenDown createInterface cursorTo emitKeypressEvents moveCursor \
     promises",
  ),
  ("readline/promises", "Interface Readline createInterface"),
  (
    "repl",
    "REPLServer REPL_MODE_SLOPPY REPL_MODE_STRICT Recoverable builtinModules isValidSyntax start \
     writer",
  ),
  ("trace_events", "createTracing getEnabledCategories"),
  ("tty", "ReadStream WriteStream isatty"),
  (
    "v8",
    "DefaultDeserializer DefaultSerializer Deserializer GCProfiler Serializer cachedDataVersionTag \
     deserialize getHeapCodeStatistics getHeapSnapshot getHeapSpaceStatistics getHeapStatistics \
     promiseHooks queryObjects serialize setFlagsFromString setHeapSnapshotNearHeapLimit \
     startupSnapshot stopCoverage takeCoverage writeHeapSnapshot",
  ),
  (
    "vm",
    "Script compileFunction constants createContext createScript isContext measureMemory runInContext \
     runInNewContext runInThisContext",
  ),
  ("wasi", "WASI"),
  (
    "worker_threads",
    "BroadcastChannel MessageChannel MessagePort SHARE_ENV Worker getEnvironmentData isMainThread \
     markAsUntransferable moveMessagePortToContext parentPort postMessageToThread \
     receiveMessageOnPort resourceLimits setEnvironmentData threadId workerData",
  ),
  ("domain", "Domain _stack active create createDomain"),
  (
    "os",
    "EOL arch availableParallelism constants cpus devNull endianness freemem getPriority homedir \
     hostname loadavg machine networkInterfaces platform release setPriority tmpdir totalmem type \
     uptime userInfo version",
  ),
  (
    "perf_hooks",
    "Performance PerformanceEntry PerformanceMark PerformanceMeasure PerformanceObserver \
     PerformanceObserverEntryList PerformanceResourceTiming constants createHistogram \
     monitorEventLoopDelay performance",
  ),
  (
    "console",
    "Console assert clear context count countReset createTask debug dir dirxml error group \
     groupCollapsed groupEnd info log profile profileEnd table time timeEnd timeLog timeStamp trace \
     warn",
  ),
  (
    "constants",
    "COPYFILE_EXCL COPYFILE_FICLONE COPYFILE_FICLONE_FORCE DH_CHECK_P_NOT_PRIME \
     DH_CHECK_P_NOT_SAFE_PRIME DH_NOT_SUITABLE_GENERATOR DH_UNABLE_TO_CHECK_GENERATOR E2BIG EACCES \
     EADDRINUSE EADDRNOTAVAIL EAFNOSUPPORT EAGAIN EALREADY EBADF EBADMSG EBUSY ECANCELED ECHILD \
     ECONNABORTED ECONNREFUSED ECONNRESET EDEADLK EDESTADDRREQ EDOM EDQUOT EEXIST EFAULT EFBIG \
     EHOSTUNREACH EIDRM EILSEQ EINPROGRESS EINTR EINVAL EIO EISCONN EISDIR ELOOP EMFILE EMLINK \
     EMSGSIZE EMULTIHOP ENAMETOOLONG ENETDOWN ENETRESET ENETUNREACH ENFILE ENGINE_METHOD_ALL \
     ENGINE_METHOD_CIPHERS ENGINE_METHOD_DH ENGINE_METHOD_DIGESTS ENGINE_METHOD_DSA ENGINE_METHOD_EC \
     ENGINE_METHOD_NONE ENGINE_METHOD_PKEY_ASN1_METHS ENGINE_METHOD_PKEY_METHS ENGINE_METHOD_RAND \
     ENGINE_METHOD_RSA ENOBUFS ENODATA ENODEV ENOENT ENOEXEC ENOLCK ENOLINK ENOMEM ENOMSG ENOPROTOOPT \
     ENOSPC ENOSR ENOSTR ENOSYS ENOTCONN ENOTDIR ENOTEMPTY ENOTSOCK ENOTSUP ENOTTY ENXIO EOPNOTSUPP \
     EOVERFLOW EPERM EPIPE EPROTO EPROTONOSUPPORT EPROTOTYPE ERANGE EROFS ESPIPE ESRCH ESTALE ETIME \
     ETIMEDOUT ETXTBSY EWOULDBLOCK EXDEV EXTENSIONLESS_FORMAT_JAVASCRIPT EXTENSIONLESS_FORMAT_WASM \
     F_OK OPENSSL_VERSION_NUMBER O_APPEND O_CREAT O_DIRECT O_DIRECTORY O_DSYNC O_EXCL O_NOATIME \
     O_NOCTTY O_NOFOLLOW O_NONBLOCK O_RDONLY O_RDWR O_SYNC O_TRUNC O_WRONLY \
     POINT_CONVERSION_COMPRESSED POINT_CONVERSION_HYBRID POINT_CONVERSION_UNCOMPRESSED \
     PRIORITY_ABOVE_NORMAL PRIORITY_BELOW_NORMAL PRIORITY_HIGH PRIORITY_HIGHEST PRIORITY_LOW \
     PRIORITY_NORMAL RSA_NO_PADDING RSA_PKCS1_OAEP_PADDING RSA_PKCS1_PADDING RSA_PKCS1_PSS_PADDING \
     RSA_PSS_SALTLEN_AUTO RSA_PSS_SALTLEN_DIGEST RSA_PSS_SALTLEN_MAX_SIGN RSA_X931_PADDING \
     RTLD_DEEPBIND RTLD_GLOBAL RTLD_LAZY RTLD_LOCAL RTLD_NOW R_OK SIGABRT SIGALRM SIGBUS SIGCHLD \
     SIGCONT SIGFPE SIGHUP SIGILL SIGINT SIGIO SIGIOT SIGKILL SIGPIPE SIGPOLL SIGPROF SIGPWR SIGQUIT \
     SIGSEGV SIGSTKFLT SIGSTOP SIGSYS SIGTERM SIGTRAP SIGTSTP SIGTTIN SIGTTOU SIGURG SIGUSR1 SIGUSR2 \
     SIGVTALRM SIGWINCH SIGXCPU SIGXFSZ SSL_OP_ALL SSL_OP_ALLOW_NO_DHE_KEX \
     SSL_OP_ALLOW_UNSAFE_LEGACY_RENEGOTIATION SSL_OP_CIPHER_SERVER_PREFERENCE SSL_OP_CISCO_ANYCONNECT \
     SSL_OP_COOKIE_EXCHANGE SSL_OP_CRYPTOPRO_TLSEXT_BUG SSL_OP_DONT_INSERT_EMPTY_FRAGMENTS \
     SSL_OP_LEGACY_SERVER_CONNECT SSL_OP_NO_COMPRESSION SSL_OP_NO_ENCRYPT_THEN_MAC \
     SSL_OP_NO_QUERY_MTU SSL_OP_NO_RENEGOTIATION SSL_OP_NO_SESSION_RESUMPTION_ON_RENEGOTIATION \
     SSL_OP_NO_SSLv2 SSL_OP_NO_SSLv3 SSL_OP_NO_TICKET SSL_OP_NO_TLSv1 SSL_OP_NO_TLSv1_1 \
     SSL_OP_NO_TLSv1_2 SSL_OP_NO_TLSv1_3 SSL_OP_PRIORITIZE_CHACHA SSL_OP_TLS_ROLLBACK_BUG S_IFBLK \
     S_IFCHR S_IFDIR S_IFIFO S_IFLNK S_IFMT S_IFREG S_IFSOCK S_IRGRP S_IROTH S_IRUSR S_IRWXG S_IRWXO \
     S_IRWXU S_IWGRP S_IWOTH S_IWUSR S_IXGRP S_IXOTH S_IXUSR TLS1_1_VERSION TLS1_2_VERSION \
     TLS1_3_VERSION TLS1_VERSION UV_DIRENT_BLOCK UV_DIRENT_CHAR UV_DIRENT_DIR UV_DIRENT_FIFO \
     UV_DIRENT_FILE UV_DIRENT_LINK UV_DIRENT_SOCKET UV_DIRENT_UNKNOWN UV_FS_COPYFILE_EXCL \
     UV_FS_COPYFILE_FICLONE UV_FS_COPYFILE_FICLONE_FORCE UV_FS_O_FILEMAP UV_FS_SYMLINK_DIR \
     UV_FS_SYMLINK_JUNCTION W_OK X_OK defaultCoreCipherList",
  ),
  ("stream/consumers", "arrayBuffer blob buffer json text"),
  ("_stream_readable", "ReadableState _fromList from fromWeb toWeb wrap"),
  ("_stream_writable", "WritableState fromWeb toWeb"),
  ("_stream_duplex", "from fromWeb toWeb"),
  ("_stream_transform", ""),
  ("_stream_passthrough", ""),
];

/// `JSON.stringify(await run())` under Node 20.20.2, without `exports`.
const FROM_NODE: &str = r##"{
  "fsData": [true, 0, 61440, 1],
  "http": [35, ["ACL", "BIND", "CHECKOUT"], "I'm a Teapot", true, null, ["Header name must be a valid HTTP token [\"bad name\"]", "ERR_INVALID_HTTP_TOKEN"]],
  "netIsIP": [4, 6, 6, 0, 0],
  "os": ["linux", "Linux", "\n", "/dev/null", "LE", 15, 2, -14, "/tmp"],
  "constants": [236, 64, 9, 13, 1, true],
  "perf": [true, "number"],
  "console": [true, "function"],
  "sys": true,
  "tty": false,
  "module": [true, true, false, "a/b", "MODULE_NOT_FOUND"],
  "workerThreads": [true, 1],
  "dnsOrder": ["verbatim", "ENOTFOUND", 32],
  "consumers": ["aé", {"x": 1}, "6869796f", 3, "zz", "web stream", "€"],
  "oldStreamNames": [true, true, true, true, true, true]
}"##;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_module_imports_with_node_exports_and_data() {
  let out = node_answer("modules", WORKER).await;
  assert_eq!(out["exports"].as_object().unwrap().len(), NODE_EXPORTS.len());
  for (module, names) in NODE_EXPORTS {
    assert_eq!(out["exports"][module], *names, "the named exports of node:{module}");
  }
  assert_like_node(&out, FROM_NODE);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_cannot_work_throws_naming_module_and_member() {
  let out = node_answer("stand-ins", WORKER).await;
  let unsupported = |member: &str| {
    json!([format!("node:{member} is not supported in an edge worker"), "ERR_METHOD_NOT_IMPLEMENTED"])
  };
  let no_servers = |member: &str| {
    json!([
      format!(
        "node:{member} is not supported in an edge worker: a worker can open connections, not accept them"
      ),
      "ERR_METHOD_NOT_IMPLEMENTED"
    ])
  };
  let use_fetch = |member: &str| {
    json!([
      format!("node:{member} is not supported in an edge worker: make requests with fetch(), serve from the fetch handler"),
      "ERR_METHOD_NOT_IMPLEMENTED"
    ])
  };
  let calls = &out["standIns"]["calls"];
  assert_eq!(calls[0], unsupported("child_process.spawn"));
  assert_eq!(calls[1], unsupported("child_process.ChildProcess"), "a class throws when constructed");
  // Reads answer as an empty file system does, with Node's own error.
  let enoent = json!(["ENOENT: no such file or directory, open '/etc/hosts'", "ENOENT"]);
  assert_eq!(calls[2], enoent);
  assert_eq!(calls[9], unsupported("fs.writeFileSync"));
  assert_eq!(calls[10], json!([false, null]));
  assert_eq!(calls[3], unsupported("fs.ReadStream"));
  assert_eq!(calls[4], no_servers("net.createServer"));
  assert_eq!(calls[5], no_servers("net.Server"));
  assert_eq!(calls[6], use_fetch("http.request"));
  assert_eq!(calls[7], use_fetch("http.Agent"));
  assert_eq!(calls[8], unsupported("dns.lookup"));
  assert_eq!(out["standIns"]["rejected"], enoent, "a promise API rejects");
  // os describes no machine: [hostname, cpus, homedir, arch, loadavg, networkInterfaces,
  // availableParallelism, uptime, userInfo].
  assert_eq!(
    out["standIns"]["osFixed"],
    json!(["localhost", [], "/", "x64", [0, 0, 0], {}, 1, 0, {"uid": -1, "gid": -1, "username": "", "homedir": "/", "shell": null}])
  );
}

// node:path/posix: node:path itself (it is POSIX, as Node's on Linux).

export * from "node:path";
export { default } from "node:path";

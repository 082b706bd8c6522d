// node:path/posix: node:path itself (it is POSIX).

export * from "node:path";
export { default } from "node:path";

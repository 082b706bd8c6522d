// node:inspector/promises: node:inspector (whose `Session` throws when constructed here).

export * from "node:inspector";
export { default } from "node:inspector";

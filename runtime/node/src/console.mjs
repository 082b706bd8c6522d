// node:console: the worker's global console. The methods Node has and the runtime's console
// lacks do nothing; `Console` (a console over streams of one's own) throws when constructed
// (node:internal/unsupported).

import { unsupportedClass } from "node:internal/unsupported";

const global = globalThis.console;
const method = (name) => (typeof global[name] === "function" ? global[name].bind(global) : () => {});

export const log = method("log");
export const warn = method("warn");
export const dir = method("dir");
export const time = method("time");
export const timeEnd = method("timeEnd");
export const timeLog = method("timeLog");
export const trace = method("trace");
export const assert = method("assert");
export const clear = method("clear");
export const count = method("count");
export const countReset = method("countReset");
export const group = method("group");
export const groupEnd = method("groupEnd");
export const table = method("table");
export const debug = method("debug");
export const info = method("info");
export const dirxml = method("dirxml");
export const error = method("error");
export const groupCollapsed = method("groupCollapsed");
export const Console = unsupportedClass("console", "Console");
export const profile = method("profile");
export const profileEnd = method("profileEnd");
export const timeStamp = method("timeStamp");
export const context = method("context");
export const createTask = method("createTask");

export default global;

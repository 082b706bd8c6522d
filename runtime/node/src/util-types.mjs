// node:util/types: what a value is, by the engine's own tag of it (Object.prototype.toString
// reads the internal slots for these built-ins) where Node asks V8, or by asking the engine
// through deno_core where no tag tells (a proxy).

import { core } from "ext:core/mod.js";

const tag = (value) => Object.prototype.toString.call(value).slice(8, -1);
const tagged = (name) => (value) => typeof value === "object" && value !== null && tag(value) === name;
const typedArray = (name) => (value) => ArrayBuffer.isView(value) && tag(value) === name;
const TypedArray = Object.getPrototypeOf(Uint8Array);

export const isAnyArrayBuffer = (v) => v instanceof ArrayBuffer || (typeof SharedArrayBuffer !== "undefined" && v instanceof SharedArrayBuffer);
export const isArrayBuffer = (v) => v instanceof ArrayBuffer;
export const isSharedArrayBuffer = (v) => typeof SharedArrayBuffer !== "undefined" && v instanceof SharedArrayBuffer;
export const isArrayBufferView = (v) => ArrayBuffer.isView(v);
export const isTypedArray = (v) => v instanceof TypedArray;
export const isDataView = (v) => v instanceof DataView;
export const isUint8Array = typedArray("Uint8Array");
export const isUint8ClampedArray = typedArray("Uint8ClampedArray");
export const isUint16Array = typedArray("Uint16Array");
export const isUint32Array = typedArray("Uint32Array");
export const isInt8Array = typedArray("Int8Array");
export const isInt16Array = typedArray("Int16Array");
export const isInt32Array = typedArray("Int32Array");
export const isFloat32Array = typedArray("Float32Array");
export const isFloat64Array = typedArray("Float64Array");
export const isBigInt64Array = typedArray("BigInt64Array");
export const isBigUint64Array = typedArray("BigUint64Array");
export const isDate = (v) => v instanceof Date;
export const isRegExp = (v) => v instanceof RegExp;
export const isMap = (v) => v instanceof Map;
export const isSet = (v) => v instanceof Set;
export const isWeakMap = (v) => v instanceof WeakMap;
export const isWeakSet = (v) => v instanceof WeakSet;
export const isPromise = (v) => v instanceof Promise;
export const isProxy = (v) => core.isProxy(v);
export const isNativeError = (v) => v instanceof Error && tag(v) === "Error";
export const isGeneratorFunction = (v) => typeof v === "function" && /^(async )?function\s*\*/.test(Function.prototype.toString.call(v));
export const isAsyncFunction = (v) =>
  typeof v === "function" && (tag(v) === "AsyncFunction" || tag(v) === "AsyncGeneratorFunction");
export const isGeneratorObject = tagged("Generator");
export const isMapIterator = tagged("Map Iterator");
export const isSetIterator = tagged("Set Iterator");
export const isModuleNamespaceObject = tagged("Module");
export const isArgumentsObject = tagged("Arguments");
export const isBooleanObject = (v) => v instanceof Boolean;
export const isNumberObject = (v) => v instanceof Number;
export const isStringObject = (v) => v instanceof String;
export const isSymbolObject = (v) => typeof v === "object" && v !== null && tag(v) === "Symbol";
export const isBigIntObject = (v) => typeof v === "object" && v !== null && tag(v) === "BigInt";
export const isBoxedPrimitive = (v) =>
  isBooleanObject(v) || isNumberObject(v) || isStringObject(v) || isSymbolObject(v) || isBigIntObject(v);
export const isExternal = (_v) => false;
export const isKeyObject = (v) => v?.constructor?.name === "KeyObject";
export const isCryptoKey = (v) => typeof CryptoKey !== "undefined" && v instanceof CryptoKey;

export default {
  isAnyArrayBuffer, isArrayBuffer, isSharedArrayBuffer, isArrayBufferView, isTypedArray, isDataView,
  isUint8Array, isUint8ClampedArray, isUint16Array, isUint32Array, isInt8Array, isInt16Array,
  isInt32Array, isFloat32Array, isFloat64Array, isBigInt64Array, isBigUint64Array, isDate, isRegExp,
  isMap, isSet, isWeakMap, isWeakSet, isPromise, isProxy, isNativeError, isGeneratorFunction,
  isAsyncFunction, isGeneratorObject, isMapIterator, isSetIterator, isModuleNamespaceObject,
  isArgumentsObject, isBooleanObject, isNumberObject, isStringObject, isSymbolObject, isBigIntObject,
  isBoxedPrimitive, isExternal, isKeyObject, isCryptoKey,
};

// node:assert/strict: node:assert's `strict`, whose equal, deepEqual, notEqual and
// notDeepEqual are the strict comparisons.

import { strict } from "node:assert";

export const {
  fail,
  AssertionError,
  ok,
  equal,
  notEqual,
  deepEqual,
  notDeepEqual,
  deepStrictEqual,
  notDeepStrictEqual,
  strictEqual,
  notStrictEqual,
  throws,
  rejects,
  doesNotThrow,
  doesNotReject,
  ifError,
  match,
  doesNotMatch,
  CallTracker,
} = strict;
export { strict };
export default strict;

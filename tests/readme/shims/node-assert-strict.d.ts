// Stand-in for node:assert/strict (see node-test.d.ts), with @types/node's
// signatures for what the README calls.
declare function assert(value: unknown, message?: string): asserts value;
declare namespace assert {
  function ok(value: unknown, message?: string): asserts value;
  function equal<T>(actual: unknown, expected: T, message?: string): asserts actual is T;
  function notEqual(actual: unknown, expected: unknown, message?: string): void;
  function deepEqual<T>(actual: unknown, expected: T, message?: string): asserts actual is T;
  function match(value: string, regexp: RegExp, message?: string): void;
  function throws(fn: () => unknown, error?: RegExp | ((e: unknown) => boolean) | object, message?: string): void;
  function rejects(promise: Promise<unknown> | (() => Promise<unknown>), error?: RegExp | object, message?: string): Promise<void>;
}
export default assert;

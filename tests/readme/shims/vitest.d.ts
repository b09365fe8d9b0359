// Stand-in for vitest's types (not installed here): what the README calls.
type AnyFn = (...args: any[]) => any;

export interface Mock<T extends AnyFn> {
  (...args: Parameters<T>): ReturnType<T>;
  mock: { calls: Parameters<T>[] };
}

export interface Vi {
  fn<T extends AnyFn>(impl?: T): Mock<T>;
  stubGlobal(name: string, value: unknown): Vi;
  unstubAllGlobals(): Vi;
  useFakeTimers(): Vi;
  useRealTimers(): Vi;
}
export const vi: Vi;

export interface Assertion {
  toBe(expected: unknown): void;
  toEqual(expected: unknown): void;
  toBeNull(): void;
  toHaveBeenCalled(): void;
  toHaveBeenCalledTimes(times: number): void;
  not: Assertion;
}
export function expect(actual: unknown): Assertion;

export function test(name: string, fn: () => void | Promise<void>, timeout?: number): void;
export const it: typeof test;
export function describe(name: string, fn: () => void): void;
export function beforeEach(fn: () => void | Promise<void>): void;
export function afterEach(fn: () => void | Promise<void>): void;

// Stand-in for @jest/globals' types (not installed here): what the README calls.
type AnyFn = (...args: any[]) => any;

export interface Mock<T extends AnyFn> {
  (...args: Parameters<T>): ReturnType<T>;
  mock: { calls: Parameters<T>[] };
}

export interface Jest {
  fn<T extends AnyFn>(impl?: T): Mock<T>;
  useFakeTimers(config?: { doNotFake?: string[] }): Jest;
  useRealTimers(): Jest;
  advanceTimersByTimeAsync(ms: number): Promise<void>;
}
export const jest: Jest;

export interface Assertion {
  toBe(expected: unknown): void;
  toEqual(expected: unknown): void;
  toHaveLength(length: number): void;
  not: Assertion;
}
export function expect(actual: unknown): Assertion;

export function test(name: string, fn: () => void | Promise<void>, timeout?: number): void;
export function afterEach(fn: () => void | Promise<void>): void;

// Stand-in for @testing-library/react's types (not installed here): what
// the README calls.
export interface RenderHookResult<R> {
  result: { readonly current: R };
  rerender(): void;
  unmount(): void;
}

export function renderHook<R>(callback: () => R): RenderHookResult<R>;
export function waitFor<T>(callback: () => T | Promise<T>, options?: { timeout?: number; interval?: number }): Promise<T>;
export function act(callback: () => void | Promise<void>): Promise<void>;

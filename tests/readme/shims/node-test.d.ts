// Stand-in for node:test (the repository installs no @types/node): what the
// README's test examples call.
type Body = (t: TestContext) => void | Promise<void>;
type Hook = () => void | Promise<void>;

export interface TestContext {
  test(name: string, fn: Body): Promise<void>;
  after(fn: Hook): void;
}

export function test(name: string, fn: Body): Promise<void>;
export function test(name: string, options: { timeout?: number; skip?: boolean | string }, fn: Body): Promise<void>;
export function describe(name: string, fn: () => void | Promise<void>): void;
export const it: typeof test;
export function before(fn: Hook): void;
export function after(fn: Hook): void;
export function beforeEach(fn: Hook): void;
export function afterEach(fn: Hook): void;
export default test;

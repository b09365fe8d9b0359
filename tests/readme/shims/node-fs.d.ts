// Stand-in for node:fs: what the README's server examples call.
export function readFileSync(path: string): Uint8Array;

// Stand-in for node:path: what the README's server examples call.
export function join(...parts: string[]): string;

// Stand-in for Vite's types, for the README's snippets only: Vite's own
// declarations need @types/node, which this repository does not install.
// It lists the options the README names, so a misspelt one still fails.
export interface Plugin {
  name: string;
}

export interface UserConfig {
  plugins?: Array<Plugin | Plugin[] | false | null | undefined>;
  optimizeDeps?: { exclude?: string[]; include?: string[] };
  build?: { target?: string | string[]; assetsInlineLimit?: number };
  resolve?: { preserveSymlinks?: boolean; dedupe?: string[] };
  server?: { fs?: { allow?: string[] }; proxy?: Record<string, string> };
}

export function defineConfig(config: UserConfig): UserConfig;

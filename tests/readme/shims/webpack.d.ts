// Stand-in for webpack's types, for the README's snippets only (webpack is
// not a dependency of this repository). It lists the options the README
// names, so a misspelt one still fails.
export interface Configuration {
  performance?: {
    hints?: false | "warning" | "error";
    assetFilter?: (assetFilename: string) => boolean;
  };
  output?: { publicPath?: string };
}

#!/usr/bin/env bash
# Every test tier, in order; stops at the first failure. Run through `npm test`,
# which sets the machine up first.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PWD/node_modules/.bin:$PATH"
step() { printf '\n== %s\n' "$*"; }

step "format"
cargo fmt --check
step "clippy: core, tests, examples (native)"
cargo clippy --all-targets -- -D warnings
step "clippy: browser layer (wasm32)"
cargo clippy --target wasm32-unknown-unknown --lib -- -D warnings
cargo clippy --target wasm32-unknown-unknown --tests --features std -- -D warnings
step "native tests (core, fake clock, properties)"
cargo test
step "release build of pkg/"
npm run build
step "browser tests (Chromium and Firefox, headless)"
wasm-pack test --headless --chrome --firefox -- --test web --features std
if [ -f e2e/run.mjs ]; then
  step "end-to-end (demo server + Chromium)"
  node e2e/run.mjs
fi
step "all tiers passed"

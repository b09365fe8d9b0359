#!/usr/bin/env bash
# Every test tier, in order; stops at the first failure. Run through `npm test`,
# which sets the machine up first.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PWD/node_modules/.bin:$PATH"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
t0=$SECONDS
# Each step says how long the run has taken so far.
step() { printf '\n== %s (at %d s)\n' "$*" "$((SECONDS - t0))"; }
run() { "$@" 2>&1 | tee -a "$log"; }

step "format"
cargo fmt --check
step "clippy: core, tests, examples (native)"
cargo clippy --all-targets -- -D warnings
step "clippy: browser layer and browser tests (wasm32)"
cargo clippy --target wasm32-unknown-unknown --lib --tests -- -D warnings
step "native tests (core with a fake clock, property tests)"
run cargo test
step "release build of pkg/"
npm run build
step "the shipped package in Node (the packed tarball by name, a mocked fetch, the hooks rendered on the server and in happy-dom; polling, lifecycle, GC, churn)"
run node --expose-gc --test --test-reporter=tap tests/node/
step "types: pkg/index.d.ts, react/usePolling.ts and the demo (tsc)"
tsc -p .
step "the users' manual (npm/README.md): every snippet compiles against pkg/*.d.ts, no relative links"
run node --test --test-reporter=tap tests/readme/
step "browser tests (Chromium and Firefox, headless; the shipping crate and features, debug profile)"
# wasm-bindgen-test-runner gives a whole test file 20 s by default; web.rs
# alone takes about 20 s of real waits, more on a loaded machine.
export WASM_BINDGEN_TEST_TIMEOUT="${WASM_BINDGEN_TEST_TIMEOUT:-300}"
run wasm-pack test --headless --chrome --firefox -- --test web --test drop_in --test network
if [ -d e2e ]; then
  step "demo build and end-to-end tests (demo server + Chromium)"
  npm run build:www
  run node --test --test-reporter=tap e2e/
fi
if [ -d bench ]; then
  step "browser benchmark, smoke run (every workload and phase produces numbers)"
  run node --test --test-reporter=tap bench/
fi
if [ -d server/test ]; then
  step "demo server tests"
  run node --test --test-reporter=tap server/test/
fi

# One closing line over every tier.
sum() { { grep -oE "$1" "$log" || true; } | { grep -oE '[0-9]+' || true; } | awk '{ s += $1 } END { print s + 0 }'; }
passed=$(sum '(test result: ok\. [0-9]+ passed|^# pass [0-9]+)')
failed=$(sum '(; [0-9]+ failed|^# fail [0-9]+)')
step "all tiers passed"
echo "$passed passed, $failed failed, in $((SECONDS - t0)) s"

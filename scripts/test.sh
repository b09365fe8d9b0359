#!/usr/bin/env bash
# Every test tier, in order; stops at the first failure. Run through `npm test`,
# which sets the machine up first.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh # kill_tree
export PATH="$HOME/.cargo/bin:$PWD/node_modules/.bin:$PATH"
log=$(mktemp) e2e_out=$(mktemp) gecko_log=$(mktemp)
gecko_pid= e2e_pid=
# On the way out after a failed tier: stop what still runs in the background
# (the end-to-end tests, geckodriver's compile), and show the end-to-end
# tests' output if they had finished unseen.
cleanup() {
  local status=$? p e2e_running=false
  for p in $(jobs -rp); do
    [ "$p" = "$e2e_pid" ] && e2e_running=true
    kill_tree "$p"
  done
  if [ "$status" != 0 ] && [ -n "$e2e_pid" ] && ! $e2e_running && [ -s "$e2e_out" ]; then
    echo "== the end-to-end tests had finished; their output:"
    cat "$e2e_out"
  fi
  rm -f "$log" "$e2e_out" "$gecko_log"
}
trap cleanup EXIT
t0=$SECONDS
# Each step says how long the run has taken so far.
step() { printf '\n== %s (at %d s)\n' "$*" "$((SECONDS - t0))"; }
run() { "$@" 2>&1 | tee -a "$log"; }

# geckodriver serves the Firefox tier only, which runs last: a machine
# without it compiles it (`setup.sh geckodriver`) while the tiers before run.
if ! command -v geckodriver >/dev/null; then
  echo "geckodriver: compiling in the background (for the Firefox tier)"
  bash scripts/setup.sh geckodriver >"$gecko_log" 2>&1 &
  gecko_pid=$!
fi

step "format"
cargo fmt --check
step "release build of pkg/ and of the demo"
npm run build
npm run build:www

# The end-to-end tests mostly wait (on the demo server's clock, on pages):
# they run in the background, beside every tier below (compiles included),
# and print when done. So the release build comes before clippy.
step "end-to-end tests (demo server + Chromium), in the background; their output follows the other tiers"
node --test --test-reporter=tap e2e/ >"$e2e_out" 2>&1 &
e2e_pid=$!

step "clippy: core, tests, examples (native)"
cargo clippy --all-targets -- -D warnings
step "clippy: browser layer and browser tests (wasm32)"
cargo clippy --target wasm32-unknown-unknown --lib --tests -- -D warnings
step "native tests (core with a fake clock, property tests)"
run cargo test
step "the shipped package in Node (the packed tarball by name, a mocked fetch, the hooks rendered on the server and in happy-dom; polling, lifecycle, GC, churn)"
run node --expose-gc --test --test-reporter=tap tests/node/
step "the package under vitest's fake timers (with and without a faked performance)"
NO_COLOR=1 run vitest run tests/vitest
step "types: pkg/index.d.ts, the hooks in react/ and the demo (tsc); the types again with an ES2020 lib, and under the strictest settings"
tsc -p .
tsc -p tsconfig.es2020.json
tsc -p tsconfig.strictest.json
step "the users' manual (npm/README.md): every snippet compiles against pkg/*.d.ts, no relative links"
run node --test --test-reporter=tap tests/readme/
# wasm-bindgen-test-runner gives a whole test file 20 s by default; web.rs
# alone takes about 20 s of real waits, more on a loaded machine.
export WASM_BINDGEN_TEST_TIMEOUT="${WASM_BINDGEN_TEST_TIMEOUT:-300}"
browser_tests=(-- --test web --test drop_in --test network)
step "browser tests in Chromium (headless; the shipping crate and features, debug profile)"
run wasm-pack test --headless --chrome "${browser_tests[@]}"
step "browser benchmark, smoke run (every workload and phase produces numbers)"
run node --test --test-reporter=tap bench/
step "demo server tests"
run node --test --test-reporter=tap server/test/
if [ -n "$gecko_pid" ]; then
  step "waiting for geckodriver to compile"
  if ! wait "$gecko_pid"; then
    cat "$gecko_log"
    echo "geckodriver could not be installed (setup's output above)"
    exit 1
  fi
  gecko_pid=
fi
step "browser tests in Firefox (headless; the same tests)"
run wasm-pack test --headless --firefox "${browser_tests[@]}"

step "end-to-end tests: waiting for them to finish"
e2e_ok=true
wait "$e2e_pid" || e2e_ok=false
e2e_pid=
tee -a "$log" <"$e2e_out"
if ! $e2e_ok; then
  echo "the end-to-end tests failed (their output above)"
  exit 1
fi

# One closing line over every tier.
sum() { { grep -oE "$1" "$log" || true; } | { grep -oE '[0-9]+' || true; } | awk '{ s += $1 } END { print s + 0 }'; }
passed=$(sum '(test result: ok\. [0-9]+ passed|^# pass [0-9]+|^ +Tests +[0-9]+ passed)')
failed=$(sum '(; [0-9]+ failed|^# fail [0-9]+|^ +Tests +[0-9]+ failed)')
step "all tiers passed"
echo "$passed passed, $failed failed, in $((SECONDS - t0)) s"

#!/usr/bin/env bash
# The proof of issue 19: the browser, Node, e2e and server tiers, each run
# N times (default 5) pinned to one core (`taskset -c 0`) while other work
# runs on the rest, so every wait in them meets a slow machine. Prints one
# line per run (tier, pass/FAIL, seconds, load) and keeps each log in
# target/saturated/. Not part of `npm test`: it takes about 8 minutes a round.
# With BUSY=1 a busy loop shares that core, so the tests get half of it.
#   [BUSY=1] bash scripts/saturated.sh [N] [CORE]
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PWD/node_modules/.bin:$PATH"
export WASM_BINDGEN_TEST_TIMEOUT="${WASM_BINDGEN_TEST_TIMEOUT:-300}"
n="${1:-5}"
core="${2:-0}"
out=target/saturated
mkdir -p "$out"
npm run build >"$out/build.log" 2>&1 && npm run build:www >>"$out/build.log" 2>&1 || {
  echo "build failed: see $out/build.log"
  exit 1
}
cargo test --no-run --target wasm32-unknown-unknown --test web --test drop_in --test network >>"$out/build.log" 2>&1
declare -A cmd=(
  [node]="node --expose-gc --test tests/node/"
  [browser]="wasm-pack test --headless --chrome --firefox -- --test web --test drop_in --test network"
  [e2e]="node --test e2e/"
  [server]="node --test server/test/"
)
if [ "${BUSY:-0}" = 1 ]; then
  taskset -c "$core" bash -c 'while :; do :; done' &
  busy=$!
  trap 'kill "$busy"' EXIT
fi
failed=0
for i in $(seq 1 "$n"); do
  for tier in node browser e2e server; do
    start=$(date +%s)
    if taskset -c "$core" bash -c "${cmd[$tier]}" >"$out/$tier.$i.log" 2>&1; then r=pass; else r=FAIL; failed=$((failed + 1)); fi
    echo "run $i $tier $r $(($(date +%s) - start)) s, load $(cut -d' ' -f1 /proc/loadavg)"
  done
done
echo "$failed failed runs"
[ "$failed" -eq 0 ]

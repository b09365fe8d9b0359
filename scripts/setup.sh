#!/usr/bin/env bash
# One idempotent set-up for a fresh machine that reaches only the package
# registries. `setup.sh build` installs what building pkg/ and the demo needs;
# `setup.sh test` adds the browsers and their drivers. Installed pieces are
# skipped, so a warm run takes seconds.
set -euo pipefail
mode=${1:-build}
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
say() { printf 'setup: %s (at %d s)\n' "$*" "$SECONDS"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# `cargo install --locked` can fail when the registry lacks a locked version;
# then resolve afresh (same crate version, newer compatible dependencies).
cargo_install() {
  cargo install --locked "$@" || cargo install "$@"
}

# The browsers come from apt (network and disk) while cargo compiles the
# tools below (CPU): on a bare machine they install side by side.
apt_pid=
apt_log=$(mktemp)
if [ "$mode" = test ]; then
  missing=()
  command -v chromium >/dev/null || missing+=(chromium)
  command -v chromedriver >/dev/null || missing+=(chromium-driver)
  command -v firefox >/dev/null || missing+=(firefox-esr)
  if [ ${#missing[@]} -gt 0 ]; then
    say "installing ${missing[*]} (in the background)"
    (as_root apt-get update -qq &&
      as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}") >"$apt_log" 2>&1 &
    apt_pid=$!
  fi
fi

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32 target"
  rustup target add wasm32-unknown-unknown
fi

if ! command -v wasm-pack >/dev/null; then
  say "installing wasm-pack (a few minutes, once)"
  cargo_install wasm-pack
fi

# wasm-pack cannot download wasm-bindgen here: install the CLI at exactly the
# version of the wasm-bindgen crate in Cargo.lock.
want=$(awk '$0 == "name = \"wasm-bindgen\"" { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
have=$(wasm-bindgen --version 2>/dev/null | awk '{ print $2 }' || true)
if [ "$have" != "$want" ]; then
  say "installing wasm-bindgen-cli $want (a few minutes, once)"
  cargo_install wasm-bindgen-cli --version "=$want" --force
fi

# npm dependencies (wasm-opt comes from the npm package binaryen: Debian's is too old).
npm_ci() { # $1 = folder
  local stamp="$1/node_modules/.setup-stamp"
  if [ ! -f "$stamp" ] || [ "$1/package-lock.json" -nt "$stamp" ]; then
    say "npm ci in $1"
    (cd "$1" && npm ci --no-audit --no-fund --loglevel=error)
    touch "$stamp"
  fi
}
npm_ci .
[ -f www/package-lock.json ] && npm_ci www

if [ "$mode" = test ]; then
  if ! command -v geckodriver >/dev/null; then
    say "installing geckodriver"
    cargo_install geckodriver
  fi
fi
if [ -n "$apt_pid" ]; then
  say "waiting for the browsers' install"
  if ! wait "$apt_pid"; then
    cat "$apt_log"
    say "installing the browsers failed (apt-get output above)"
    exit 1
  fi
fi
rm -f "$apt_log"
say "ready ($mode)"

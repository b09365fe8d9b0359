#!/usr/bin/env bash
# One idempotent set-up for a fresh machine that reaches only the package
# registries. `setup.sh build` installs what building pkg/ and the demo needs;
# `setup.sh test` adds the browsers and their drivers; `setup.sh geckodriver`
# installs that driver alone. Installed pieces are skipped, so a warm run
# takes seconds.
set -euo pipefail
mode=${1:-build}
cd "$(dirname "$0")/.."
. scripts/lib.sh # kill_tree
export PATH="$HOME/.cargo/bin:$PATH"
say() { printf 'setup: %s (at %d s)\n' "$*" "$SECONDS"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# `cargo install --locked` can fail when the registry lacks a locked version;
# then resolve afresh (same crate version, newer compatible dependencies).
# (Not after a signal: a killed or interrupted install stays stopped.)
cargo_install() {
  cargo install --locked "$@" || {
    local status=$?
    [ "$status" -gt 128 ] && return "$status"
    cargo install "$@"
  }
}

# The tools are compiled once, at opt-level 1 and without LTO: that compiles
# about a fifth faster than their release profiles, and what they do here
# (drive cargo, rewrite a few .wasm files, relay WebDriver) takes about as
# long (BENCHMARKS.md, "Test time"). Set in the environment, the same
# variables replace these defaults.
tool_profile=(
  CARGO_PROFILE_RELEASE_OPT_LEVEL="${CARGO_PROFILE_RELEASE_OPT_LEVEL:-1}"
  CARGO_PROFILE_RELEASE_LTO="${CARGO_PROFILE_RELEASE_LTO:-false}"
  CARGO_PROFILE_RELEASE_CODEGEN_UNITS="${CARGO_PROFILE_RELEASE_CODEGEN_UNITS:-16}"
  CARGO_PROFILE_RELEASE_DEBUG="${CARGO_PROFILE_RELEASE_DEBUG:-0}"
)
# A tool compiles in the background, its output in target/setup/NAME.log;
# `finish NAME` waits for it and shows the log if it failed. If set-up stops
# early (a failure, Ctrl-C), the compiles still running are stopped.
logs=target/setup
mkdir -p "$logs"
compiling=() # pids
pid_var() { printf 'pid_%s' "${1//-/_}"; }
compile() { # NAME cargo-install-arguments...
  local name=$1
  shift
  say "compiling $name (a few minutes, once; log: $logs/$name.log)"
  (export "${tool_profile[@]}" && cargo_install "$@") >"$logs/$name.log" 2>&1 &
  printf -v "$(pid_var "$name")" %s $!
  compiling+=($!)
}
finish() { # NAME
  local name=$1 var
  var=$(pid_var "$name")
  local pid=${!var:-}
  [ -n "$pid" ] || return 0
  printf -v "$var" %s ""
  if ! wait "$pid"; then
    tail -n 80 "$logs/$name.log"
    say "compiling $name failed (the end of its log above; the whole log: $logs/$name.log). Run the command again: what was installed is kept"
    exit 1
  fi
  say "$name compiled"
}
stop_compiles() {
  local p
  for p in $(jobs -rp); do
    case " ${compiling[*]-} " in *" $p "*) kill_tree "$p" ;; esac
  done
}
trap stop_compiles EXIT

# `setup.sh geckodriver`: only the Firefox tier's driver (scripts/test.sh runs
# this in the background while the first tiers run).
if [ "$mode" = geckodriver ]; then
  command -v geckodriver >/dev/null || compile geckodriver geckodriver
  finish geckodriver
  exit 0
fi

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

# wasm-pack cannot download wasm-bindgen here: install the CLI at exactly the
# version of the wasm-bindgen crate in Cargo.lock. The two compile side by side.
command -v wasm-pack >/dev/null || compile wasm-pack wasm-pack
want=$(awk '$0 == "name = \"wasm-bindgen\"" { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
have=$(wasm-bindgen --version 2>/dev/null | awk '{ print $2 }' || true)
[ "$have" = "$want" ] || compile wasm-bindgen-cli wasm-bindgen-cli --version "=$want" --force

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

finish wasm-pack
finish wasm-bindgen-cli

# geckodriver is needed by the Firefox tier only, which `npm test` runs last:
# with SETUP_GECKODRIVER=later (set by `npm test`) it is left to
# scripts/test.sh, which compiles it while the first tiers run
# (`setup.sh geckodriver`).
if [ "$mode" = test ] && [ "${SETUP_GECKODRIVER:-now}" != later ]; then
  command -v geckodriver >/dev/null || compile geckodriver geckodriver
  finish geckodriver
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

# Shell helpers that scripts/setup.sh and scripts/test.sh share (sourced).

# Stops a process and everything under it: frozen first, so a parent cannot
# react to its children's end (cargo_install's retry, a next test file)
# before it is killed.
kill_tree() {
  local c
  kill -STOP "$1" 2>/dev/null || return 0
  for c in $(pgrep -P "$1" || true); do kill_tree "$c"; done
  kill -TERM "$1" 2>/dev/null
  kill -CONT "$1" 2>/dev/null || true
}

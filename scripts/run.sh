#!/usr/bin/env bash
# Quick start: set up, then open the app (with a display) or run the headless demo (without one).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/setup.sh"
if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] || [ "$(uname)" = "Darwin" ]; then
  exec "$root/.venv/bin/latentcut" "$@"
else
  exec "$root/.venv/bin/latentcut" demo "$@"
fi

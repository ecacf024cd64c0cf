#!/usr/bin/env bash
# Quick start: set up, then run the whole test suite (Qt offscreen, CPU only).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/setup.sh"
cd "$root"
export QT_QPA_PLATFORM=offscreen
exec "$root/.venv/bin/python" -m pytest "$@"

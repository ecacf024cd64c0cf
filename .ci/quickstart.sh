#!/usr/bin/env bash
# The README's quick start exactly as a new user runs it: a fresh clone, no display, then
# `bash scripts/run.sh` with the default --out and with a relative one; the outputs must open.
set -euo pipefail
src="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
git clone -q "$src" "$work/latentcut"
cd "$work/latentcut"
unset DISPLAY WAYLAND_DISPLAY
bash scripts/run.sh                        # the default: ./latentcut-demo
bash scripts/run.sh --out demos/first      # a relative --out
bash scripts/run.sh --out demos/first      # again: it replaces the last demo
cd /   # the outputs must open from anywhere
"$work/latentcut/.venv/bin/python" "$src/.ci/check_demo.py" "$work/latentcut/latentcut-demo" \
  "$work/latentcut/demos/first"

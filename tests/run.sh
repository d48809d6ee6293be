#!/usr/bin/env bash
# Set up everything the suite needs on Debian/Ubuntu (apt + a .venv), then run ruff and pytest
# on real services: Xvfb, a private D-Bus, dunst, gnome-keyring, tray hosts, a private apt world.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
bash installer/linux/setup-dev.sh --test
echo "== ruff"
.venv/bin/ruff check .
echo "== pytest"
# Two workers, one scope each (tests/conftest.py: the Wine lane beside the rest);
# VIGIE_TEST_WORKERS=0 runs everything in one process.
workers=${VIGIE_TEST_WORKERS:-2}
parallel=()
if [[ "$workers" != 0 ]]; then parallel=(-n "$workers"); fi
# --durations: the slowest tests in every run's output, to keep the whole CI run under 30 minutes.
exec .venv/bin/python -m pytest -p no:cacheprovider --durations=25 "${parallel[@]}" "$@"

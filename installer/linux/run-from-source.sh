#!/usr/bin/env bash
# Set up Vigie from this checkout (apt + .venv), then show the security report of this computer.
# `vigie check` needs no screen. Extra arguments go to `vigie check` (for example --json).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
bash installer/linux/setup-dev.sh
set +e
.venv/bin/vigie check "$@"
status=$?
set -e
echo
echo "Vigie est installé dans $ROOT/.venv : lancez « .venv/bin/vigie check » à tout moment."
# 0 OK, 1 warning, 2 critical, 3 a check could not run: all are a successful report.
[[ $status -le 3 ]]

#!/usr/bin/env bash
# Set up Vigie from this checkout (apt + .venv), show the security report of this computer, then,
# in a desktop session, start the agent (icon next to the clock). `vigie check` needs no screen.
# Extra arguments go to `vigie check` (for example --json).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
bash installer/linux/setup-dev.sh
set +e
.venv/bin/vigie check "$@"
status=$?
set -e
# 0 OK, 1 warning, 2 critical, 3 a check could not run: all are a successful report.
[[ $status -le 3 ]] || exit "$status"
echo
if [[ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]]; then
  echo "Vigie démarre : son icône apparaît près de l’horloge (menu : clic droit). Ctrl+C pour l’arrêter."
  echo "Pour qu’il démarre à chaque ouverture de session : .venv/bin/vigie autostart enable"
  exec .venv/bin/vigie
fi
echo "Pas de session graphique ici : le bilan ci-dessus est disponible à tout moment avec « .venv/bin/vigie check »."

#!/usr/bin/env bash
# Extract message ids from the code, merge them into the catalogues, compile the .mo files.
# Run after changing any T(...) / TN(...) text; then translate the new entries in the .po files.
set -euo pipefail
cd "$(dirname "$0")/.."
BABEL=${BABEL:-.venv/bin/pybabel}
LOCALE=agent/vigie/locale
"$BABEL" extract --no-default-keywords -k T -k TN:1,2 --sort-by-file --no-location \
  --project=Vigie --copyright-holder=Vigie -o "$LOCALE/vigie.pot" agent/vigie >/dev/null
for lang in fr; do
  if [[ -f "$LOCALE/$lang/LC_MESSAGES/vigie.po" ]]; then
    "$BABEL" update --no-fuzzy-matching -i "$LOCALE/vigie.pot" -d "$LOCALE" -D vigie -l "$lang" >/dev/null
  else
    "$BABEL" init -i "$LOCALE/vigie.pot" -d "$LOCALE" -D vigie -l "$lang" >/dev/null
  fi
done
"$BABEL" compile --statistics -d "$LOCALE" -D vigie

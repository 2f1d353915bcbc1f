#!/usr/bin/env bash
# Installs tradefleet into ./.venv and starts it: API, engine and web UI on
# http://127.0.0.1:8000, paper trading, embedded SQLite under ./data/.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e .
exec .venv/bin/tradefleet serve --host "${HOST:-127.0.0.1}" --port "${PORT:-8000}" "$@"

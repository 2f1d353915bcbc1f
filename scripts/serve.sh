#!/usr/bin/env bash
# Installs tradefleet into ./.venv and starts it: API, engine and web UI on
# http://127.0.0.1:8000, paper trading, embedded SQLite under ./data/.
set -euo pipefail
cd "$(dirname "$0")/.."

# pip runs only on the first start and after pyproject.toml changes (see ensure_venv.sh)
source scripts/ensure_venv.sh .
exec .venv/bin/tradefleet serve --host "${HOST:-127.0.0.1}" --port "${PORT:-8000}" "$@"

#!/usr/bin/env bash
# Installs everything the tests need into ./.venv and runs the whole suite:
# lint (ruff), types (mypy), then pytest (SQLite always; PostgreSQL when
# TRADEFLEET_TEST_DATABASE_URL names a server).
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/ensure_venv.sh ".[test]"

echo "== ruff"
.venv/bin/ruff check src tests bench
.venv/bin/ruff format --check src tests bench
echo "== mypy"
.venv/bin/mypy
echo "== file sizes"
.venv/bin/python scripts/check_file_sizes.py
echo "== pytest"
if [ -z "${TRADEFLEET_TEST_DATABASE_URL:-}" ]; then
  echo "note: TRADEFLEET_TEST_DATABASE_URL is unset: the PostgreSQL run will be skipped (SQLite only)."
fi
.venv/bin/python -m pytest -q "$@"

#!/usr/bin/env bash
# Sourced by serve.sh and test.sh: makes ./.venv hold tradefleet installed (editable)
# from this checkout with the pip target given as $1 ("." or ".[test]").
#
# pip runs only when something it would change did: the stamp file in .venv holds a hash
# of pyproject.toml, the venv's Python, this folder's path and the target, written after
# a successful install. A fresh clone (no venv, no stamp), an edited pyproject.toml, a
# moved checkout, another target or a missing `tradefleet` entry point installs again;
# a changed source file needs nothing (the install is editable).
set -euo pipefail

target=${1:-.}
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
stamp=".venv/.tradefleet-install-$(printf '%s' "$target" | tr -c 'a-z' '_')"
wanted=$(.venv/bin/python - "$target" <<'PY'
import hashlib, os, sys
digest = hashlib.sha256()
with open("pyproject.toml", "rb") as project:
    digest.update(project.read())
for part in (sys.version, sys.executable, os.getcwd(), sys.argv[1]):
    digest.update(b"\0" + part.encode())
print(digest.hexdigest())
PY
)
if [ ! -x .venv/bin/tradefleet ] || [ "$(cat "$stamp" 2>/dev/null || true)" != "$wanted" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e "$target"
  printf '%s\n' "$wanted" > "$stamp"
fi

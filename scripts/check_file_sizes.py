"""Fails when a source file grows past 500 lines: split it by responsibility instead."""

from __future__ import annotations

import sys
from pathlib import Path

LIMIT = 500
ROOTS = ("src", "tests", "bench", "scripts")
SKIP_PARTS = {"versions", "node_modules", "__pycache__"}


def main() -> int:
    root = Path(__file__).resolve().parent.parent
    too_long = []
    for top in ROOTS:
        for path in sorted((root / top).rglob("*.py")):
            if SKIP_PARTS.intersection(path.parts):
                continue
            lines = len(path.read_text(encoding="utf-8").splitlines())
            if lines > LIMIT:
                too_long.append(f"{path.relative_to(root)}: {lines} lines")
    for line in too_long:
        print(f"over {LIMIT} lines: {line}", file=sys.stderr)
    return 1 if too_long else 0


if __name__ == "__main__":
    sys.exit(main())

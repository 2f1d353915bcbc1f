"""Constants shared by the market tests."""

from __future__ import annotations

NOW = 1_750_000_000  # 2025-06-15 15:06:40 UTC, 100 s into a 5-minute candle

"""One typed settings object, read from ``TRADEFLEET_*`` environment variables and ``.env``.

Secrets (exchange key, admin password) are ``SecretStr`` so they never show in a repr,
a log line or an API answer.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Mode(StrEnum):
    PAPER = "paper"
    LIVE = "live"


class MarketKind(StrEnum):
    EXCHANGE = "exchange"
    SIMULATED = "simulated"
    REPLAY = "replay"


DEFAULT_PAPER_BALANCES = {"USD": Decimal(10000), "BTC": Decimal(1), "ETH": Decimal(10)}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="TRADEFLEET_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        secrets_dir=None,
    )

    database_url: str = Field(
        default="sqlite:///./data/tradefleet.db",
        description="SQLAlchemy URL; SQLite under ./data by default, postgresql+psycopg://…",
    )
    mode: Mode = Mode.PAPER
    market: MarketKind = MarketKind.EXCHANGE
    replay_dir: Path = Path("./data/replay")
    candle_dir: Path = Field(
        default=Path("./data/candles"),
        description="local candle store: PRODUCT_TIMEFRAME.csv files for backtests",
    )
    speed: float = Field(default=1.0, gt=0, description="clock multiplier (simulated, replay)")
    exchange: str = "coinbase"
    exchange_api_url: str | None = None
    api_key: SecretStr | None = None
    api_secret: SecretStr | None = None
    admin_password: SecretStr | None = None
    jwt_secret: SecretStr | None = Field(
        default=None, description="token signing key; generated and stored when unset"
    )
    token_minutes: int = Field(default=720, gt=0)
    fee_taker: Decimal = Field(default=Decimal("0.006"), ge=0, lt=1)
    fee_maker: Decimal = Field(default=Decimal("0.004"), ge=0, lt=1)
    slippage: Decimal = Field(default=Decimal(0), ge=0, lt=1)
    paper_balances: dict[str, Decimal] = Field(default_factory=lambda: dict(DEFAULT_PAPER_BALANCES))
    simulated_seed: int = 42
    log_level: str = "INFO"

    @field_validator("paper_balances")
    @classmethod
    def _balances_not_negative(cls, value: dict[str, Decimal]) -> dict[str, Decimal]:
        for currency, amount in value.items():
            if amount < 0:
                raise ValueError(f"starting balance of {currency} must not be negative")
        return {currency.upper(): amount for currency, amount in value.items()}


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()

"""One typed settings object, read from ``TRADEFLEET_*`` environment variables and ``.env``.

Secrets (exchange key, admin password) are ``SecretStr`` so they never show in a repr,
a log line or an API answer.
"""

from __future__ import annotations

import ipaddress
from decimal import Decimal
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Mode(StrEnum):
    PAPER = "paper"
    LIVE = "live"


class MarketKind(StrEnum):
    EXCHANGE = "exchange"
    SIMULATED = "simulated"
    REPLAY = "replay"


DEFAULT_PAPER_BALANCES = {"USD": Decimal(10000), "BTC": Decimal(1), "ETH": Decimal(10)}
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


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
    api_key_file: Path | None = Field(
        default=None, description="the JSON key file Coinbase offers when a key is created"
    )
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
    log_level: str = Field(
        default="INFO", description="DEBUG, INFO, WARNING, ERROR or CRITICAL (the access log too)"
    )
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="reverse proxies whose X-Forwarded-For/-Proto are believed: comma-"
        "separated IPs or CIDR networks; none by default (the peer address is the client)",
    )

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.strip().upper()
        if level not in LOG_LEVELS:
            raise ValueError(f"unknown log level {value!r}: use one of {', '.join(LOG_LEVELS)}")
        return level

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_proxies(cls, value: object) -> object:
        """``"10.0.0.1, 192.168.0.0/24"`` as the environment gives it, or a list."""
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_addresses(cls, value: list[str]) -> list[str]:
        for item in value:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"{item!r} is not an IP address or CIDR network") from None
        return value

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

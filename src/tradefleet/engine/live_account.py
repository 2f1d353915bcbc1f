"""The exchange account that live bots trade, as the engine holds it.

A server started with ``TRADEFLEET_MODE=live`` builds one from the configured key: one
signed ccxt client, one gateway (one rate limiter for every live bot) and one order
service. It is usable once the exchange has answered for the key: its permissions (it
must be allowed to trade) and the account's fee rates. Until then, and whenever the
exchange later refuses it, ``problem`` says why in words a user can act on: bots cannot
be given the live account, live bots do not step, and ``/api/health`` shows it.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from tradefleet.brokers.credentials import CredentialsError, load_credentials
from tradefleet.brokers.exchange_check import CheckFailedError, trading_key_problems
from tradefleet.brokers.exchange_client import private_client
from tradefleet.brokers.live.gateway import ExchangeGateway
from tradefleet.brokers.live.orders import LiveOrders
from tradefleet.brokers.live.profiles import profile_for
from tradefleet.brokers.live.reconcile import Reconciliation
from tradefleet.config import Settings
from tradefleet.domain import FeeSchedule
from tradefleet.redact import said

log = logging.getLogger(__name__)

NO_KEY = (
    "no exchange key: set TRADEFLEET_API_KEY and TRADEFLEET_API_SECRET, or "
    "TRADEFLEET_API_KEY_FILE (the JSON file Coinbase offers when a key is created)"
)
NOT_CHECKED = "the exchange has not answered for the key yet"


class LiveAccount:
    """The live account's order service, whether it works now, and the last check."""

    def __init__(self, settings: Settings, sessions: sessionmaker[Session]) -> None:
        """``sessions``: a writer's factory (``LiveOrders``)."""
        self.exchange = settings.exchange
        self.orders: LiveOrders | None = None
        self.fees: FeeSchedule | None = None
        self.problem: str | None = NOT_CHECKED
        self.reconciled: Reconciliation | None = None  # the newest reconciliation
        try:
            credentials = load_credentials(settings)
            profile = profile_for(settings.exchange)
        except (CredentialsError, ValueError) as error:
            self.problem = str(error)
            return
        if credentials is None:
            self.problem = NO_KEY
            return
        self._client: Any = private_client(
            settings.exchange, settings.exchange_api_url, credentials
        )
        self.orders = LiveOrders(sessions, ExchangeGateway(self._client, profile))

    @property
    def usable(self) -> bool:
        return self.problem is None and self.orders is not None and self.fees is not None

    async def connect(self) -> bool:
        """Ask the exchange about the key and the fee rates (again after a failure, and
        the rates daily); True when live bots may trade."""
        if self.orders is None:
            return False
        try:
            problems = await trading_key_problems(self._client)
            fees = await self.orders.gateway.fees()
        except CheckFailedError as error:
            return self._refused(str(error))
        except Exception as error:  # the exchange down, a 5xx: said, retried next cycle
            return self._refused(f"the exchange could not be asked about the key: {said(error)}")
        if problems:
            return self._refused("; ".join(problems))
        if self.problem is not None:
            log.info("live account usable: %s", self.exchange)
        self.fees, self.problem = fees, None
        return True

    def _refused(self, problem: str) -> bool:
        if problem != self.problem:
            log.warning("live account unusable: %s", problem)
        self.problem = problem
        return False

    def health(self) -> dict[str, Any]:
        reconciled = self.reconciled
        return {
            "exchange": self.exchange,
            "usable": self.usable,
            "problem": self.problem,
            "fees": None if self.fees is None else {
                "taker": str(self.fees.taker), "maker": str(self.fees.maker)},
            "reconciliation": None if reconciled is None else {
                "checked": reconciled.checked, "read": reconciled.read,
                "new_fills": reconciled.new_fills, "problems": reconciled.problems},
        }  # fmt: skip

    async def close(self) -> None:
        if self.orders is not None:
            await self.orders.gateway.close()

"""The signed ccxt client of the live account, set up the same way wherever it is used.

Exchange differences live here as data (``PRIVATE_OPTIONS``), not as branches in the
broker: what Coinbase needs is written down once (see ``COINBASE.md``'s ccxt pitfalls).
"""

from __future__ import annotations

from typing import Any

from tradefleet.brokers.credentials import ExchangeCredentials
from tradefleet.market.exchange import make_client

PRIVATE_OPTIONS: dict[str, dict[str, Any]] = {
    "coinbase": {
        # a market buy is sent by quote amount, with no price to multiply by
        "createMarketBuyOrderRequiresPrice": False,
        # /v2/accounts has no holds: free would equal total while orders rest
        "fetchBalance": "v3PrivateGetBrokerageAccounts",
    },
}


def private_client(
    exchange_id: str,
    api_url: str | None,
    credentials: ExchangeCredentials,
    *,
    rate_limit: bool = True,
) -> Any:
    """An async ccxt client that signs with ``credentials`` (ccxt builds the JWTs)."""
    client = make_client(exchange_id, api_url, rate_limit=rate_limit)
    for name, value in credentials.ccxt_credentials().items():
        setattr(client, name, value)
    client.options.update(PRIVATE_OPTIONS.get(exchange_id, {}))
    return client

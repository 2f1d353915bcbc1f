"""The paper account: balances per currency with holds, kept exact and persisted.

Buys reserve their quote when placed and release it when they fill or are cancelled, and
the base a deal bought stays on hold until the deal sells it: so no bot can ever spend
funds another bot's order or deal holds (an ETH-BTC bot cannot buy with the BTC a
BTC-USD deal owns). A fill moves base and quote by exactly the fill's amounts and fee, so
balances always equal starting balances + fills - fees.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from tradefleet.db.models import PaperBalance
from tradefleet.domain import Fill, ProductSpec, Side
from tradefleet.money import ZERO


class InsufficientFundsError(Exception):
    """The paper account cannot cover an order; the order is rejected, nothing changes."""


@dataclass(slots=True)
class Balance:
    total: Decimal
    hold: Decimal
    starting: Decimal

    @property
    def available(self) -> Decimal:
        return self.total - self.hold


@dataclass(frozen=True, slots=True)
class AccountSnapshot:
    balances: dict[str, Balance]
    stored: frozenset[str]


class PaperAccount:
    """In-memory balances mirrored to ``paper_balances`` rows by ``flush``."""

    def __init__(self, balances: dict[str, Balance]) -> None:
        self._balances = balances
        self._dirty: set[str] = set()
        self._stored: set[str] = set(balances)  # currencies that have a row

    @classmethod
    def load(cls, session: Session, starting: dict[str, Decimal]) -> PaperAccount:
        """Read the stored balances, seeding currencies never seen with their start amount."""
        rows = {row.currency: row for row in session.scalars(select(PaperBalance))}
        for currency, amount in starting.items():
            if currency not in rows:
                row = PaperBalance(currency=currency, total=amount, hold=ZERO, starting=amount)
                session.add(row)
                rows[currency] = row
        session.flush()
        balances = {
            currency: Balance(total=row.total, hold=row.hold, starting=row.starting)
            for currency, row in rows.items()
        }
        return cls(balances)

    def balance(self, currency: str) -> Balance:
        existing = self._balances.get(currency)
        if existing is None:
            existing = Balance(total=ZERO, hold=ZERO, starting=ZERO)
            self._balances[currency] = existing
        return existing

    def snapshot(self) -> AccountSnapshot:
        balances = {c: Balance(b.total, b.hold, b.starting) for c, b in self._balances.items()}
        return AccountSnapshot(balances, frozenset(self._stored))

    def restore(self, snapshot: AccountSnapshot) -> None:
        """Undo in-memory changes after a failed bot step (its transaction rolled back).
        What is marked changed stays marked: an engine cycle writes the balances once, at
        its end, so the steps before the failed one still need theirs written (writing a
        restored balance again is harmless)."""
        self._balances = dict(snapshot.balances)
        self._stored = set(snapshot.stored)

    def reserve(self, currency: str, amount: Decimal) -> None:
        balance = self.balance(currency)
        if amount > balance.available:
            raise InsufficientFundsError(
                f"insufficient {currency}: need {amount}, available {balance.available}"
            )
        balance.hold += amount
        self._dirty.add(currency)

    def release(self, currency: str, amount: Decimal) -> None:
        balance = self.balance(currency)
        balance.hold = max(ZERO, balance.hold - amount)
        self._dirty.add(currency)

    def check_fill(self, product: ProductSpec, fill: Fill, reserved: Decimal) -> None:
        """Raise InsufficientFundsError if the fill cannot be settled (nothing is changed).

        ``reserved`` is what the order's own side holds: its quote for a buy, the deal's
        base for a sell.
        """
        if fill.side is Side.BUY:
            quote = self.balance(product.quote_currency)
            cost = fill.quote_amount + fill.fee
            if cost > quote.available + reserved:
                raise InsufficientFundsError(
                    f"insufficient {product.quote_currency}: need {cost}, "
                    f"available {quote.available + reserved}"
                )
        else:
            base = self.balance(product.base_currency)
            if fill.base_amount > base.available + reserved:
                raise InsufficientFundsError(
                    f"insufficient {product.base_currency}: need {fill.base_amount}, "
                    f"available {base.available + reserved}"
                )

    def settle(self, product: ProductSpec, fill: Fill, reserved: Decimal) -> None:
        """Move the fill's amounts. A buy releases the quote its order held and puts the
        base it bought on hold for its deal; a sell releases the deal's base (``reserved``)."""
        self.check_fill(product, fill, reserved)
        base = self.balance(product.base_currency)
        quote = self.balance(product.quote_currency)
        if fill.side is Side.BUY:
            quote.hold = max(ZERO, quote.hold - reserved)
            quote.total -= fill.quote_amount + fill.fee
            base.total += fill.base_amount
            base.hold += fill.base_amount
        else:
            base.hold = max(ZERO, base.hold - reserved)
            base.total -= fill.base_amount
            quote.total += fill.quote_amount - fill.fee
        self._dirty.update({product.base_currency, product.quote_currency})

    def flush(self, session: Session) -> None:
        """Write changed balances into the caller's transaction (no read-back)."""
        if not self._dirty:
            return
        for currency in sorted(self._dirty):
            balance = self._balances[currency]
            if currency in self._stored:
                session.execute(
                    update(PaperBalance)
                    .where(PaperBalance.currency == currency)
                    .values(total=balance.total, hold=balance.hold)
                )
            else:
                session.execute(
                    insert(PaperBalance).values(
                        currency=currency,
                        total=balance.total,
                        hold=balance.hold,
                        starting=balance.starting,
                    )
                )
                self._stored.add(currency)
        self._dirty.clear()

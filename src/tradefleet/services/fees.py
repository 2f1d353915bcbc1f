"""Fee rates changed at run time: the ``settings`` row ``"fees"`` overrides the env defaults.

The row holds ``{"taker": "0.006", "maker": "0.004", "slippage": "0"}`` as decimal strings
(JSON numbers would pass through floats). The engine reads it with ``load_fees`` on
``reload_settings``.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from sqlalchemy.orm import Session

from tradefleet.config import Settings
from tradefleet.db.models import Setting
from tradefleet.domain import FeeSchedule
from tradefleet.money import canonical
from tradefleet.services.errors import InvalidInputError

FEES_KEY = "fees"
FEE_FIELDS = ("taker", "maker", "slippage")


def default_fees(settings: Settings) -> FeeSchedule:
    return FeeSchedule(
        taker=settings.fee_taker, maker=settings.fee_maker, slippage=settings.slippage
    )


def load_fees(session: Session, settings: Settings) -> FeeSchedule:
    """The effective fees: stored values where present, the settings' defaults otherwise."""
    defaults = default_fees(settings)
    row = session.get(Setting, FEES_KEY)
    stored = row.value if row is not None and isinstance(row.value, dict) else {}
    rates = {name: getattr(defaults, name) for name in FEE_FIELDS}
    for name in FEE_FIELDS:
        if name in stored:
            rates[name] = _parse(name, stored[name])
    return FeeSchedule(**rates)


def save_fees(session: Session, fees: FeeSchedule) -> FeeSchedule:
    """Validate (0 <= rate < 1) and store all three rates; commits."""
    problems = [
        (f"fees.{name}", "must be at least 0 and less than 1")
        for name in FEE_FIELDS
        if not _valid_rate(getattr(fees, name))
    ]
    if problems:
        raise InvalidInputError.of(problems)
    value = {name: format(canonical(getattr(fees, name)), "f") for name in FEE_FIELDS}
    row = session.get(Setting, FEES_KEY)
    if row is None:
        session.add(Setting(key=FEES_KEY, value=value))
    else:
        row.value = value
    session.commit()
    return FeeSchedule(**{name: Decimal(value[name]) for name in FEE_FIELDS})


def _valid_rate(rate: Decimal) -> bool:
    return rate.is_finite() and 0 <= rate < 1


def _parse(name: str, raw: object) -> Decimal:
    """A stored rate; a corrupt row is an error to see, not a silent fallback."""
    try:
        rate = Decimal(str(raw))
    except InvalidOperation:
        raise ValueError(f"settings row {FEES_KEY!r}: {name} is not a number: {raw!r}") from None
    if not _valid_rate(rate):
        raise ValueError(f"settings row {FEES_KEY!r}: {name} out of range: {raw!r}")
    return canonical(rate)

"""Exact money arithmetic: parsing, canonical form and rounding to exchange increments."""

from __future__ import annotations

from decimal import (
    MAX_EMAX,
    MAX_PREC,
    MIN_EMIN,
    ROUND_DOWN,
    ROUND_HALF_UP,
    ROUND_UP,
    Context,
    Decimal,
    localcontext,
)

ZERO = Decimal(0)
_ONE = Decimal(1)
FEE_QUANTUM = Decimal("1e-12")  # fees are kept to 12 decimals, well below any quote increment


def to_decimal(value: Decimal | float | int | str) -> Decimal:
    """Decimal from any number; floats go through ``repr`` so 0.1 stays 0.1."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(value)


# Wide enough that normalising or quantising never rounds, whatever the amount's size.
_EXACT = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN)


def canonical(value: Decimal) -> Decimal:
    """Strip trailing zeros without switching to exponent form ("10", not "1E+1")."""
    if not value:
        return ZERO
    if not value.is_finite():  # NaN or infinity: nothing to strip
        return value
    normal = value.normalize(_EXACT)
    exponent = normal.as_tuple().exponent
    if isinstance(exponent, int) and exponent > 0:
        return normal.quantize(_ONE, context=_EXACT)
    return normal


def round_down(value: Decimal, increment: Decimal) -> Decimal:
    """Largest multiple of ``increment`` not above ``value`` (sizes: never over-spend)."""
    return (value / increment).to_integral_value(rounding=ROUND_DOWN) * increment


def round_up(value: Decimal, increment: Decimal) -> Decimal:
    return (value / increment).to_integral_value(rounding=ROUND_UP) * increment


def round_nearest(value: Decimal, increment: Decimal) -> Decimal:
    """Nearest multiple of ``increment``, halves away from zero (prices)."""
    return (value / increment).to_integral_value(rounding=ROUND_HALF_UP) * increment


def fee_for(quote_amount: Decimal, rate: Decimal) -> Decimal:
    """The fee charged on a gross quote amount, to ``FEE_QUANTUM``, halves up."""
    return (quote_amount * rate).quantize(FEE_QUANTUM, rounding=ROUND_HALF_UP)


AMOUNT_QUANTUM = Decimal("1e-18")  # Money columns keep 18 places (NUMERIC(38, 18))


def quantize_amount(value: Decimal) -> Decimal:
    """``value`` to 18 places, halves up: exactly what a Money column stores.

    Computed amounts (a fill's price x size, an average entry price) are kept at this
    precision so a deal rebuilt from the database after a restart is identical.
    """
    with localcontext() as context:
        context.prec = 60
        return value.quantize(AMOUNT_QUANTUM, rounding=ROUND_HALF_UP)

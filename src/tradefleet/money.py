"""Exact money arithmetic: parsing, canonical form and rounding to exchange increments."""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_UP, ROUND_UP, Decimal

ZERO = Decimal(0)
FEE_QUANTUM = Decimal("1e-12")  # fees are kept to 12 decimals, well below any quote increment


def to_decimal(value: Decimal | float | int | str) -> Decimal:
    """Decimal from any number; floats go through ``repr`` so 0.1 stays 0.1."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(value)


def canonical(value: Decimal) -> Decimal:
    """Strip trailing zeros without switching to exponent form ("10", not "1E+1")."""
    if not value:
        return Decimal(0)
    normal = value.normalize()
    exponent = normal.as_tuple().exponent
    if isinstance(exponent, int) and exponent > 0:
        return normal.quantize(Decimal(1))
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

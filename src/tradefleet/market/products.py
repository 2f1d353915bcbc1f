"""Popular products with Coinbase-like increments, and a synthetic catalogue for simulations.

The increments are DEFAULTS modelled on Coinbase Advanced Trade's listings (approximate,
they change over time): the exchange source always uses the live values it downloads.
They matter for the simulated and replay markets, where orders are rounded to them
exactly as Coinbase would round them.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import Decimal

from tradefleet.domain import ProductSpec

DEFAULT_INCREMENT = Decimal("0.00000001")


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    """A product the simulator can trade: its spec, a typical start price, relative volatility."""

    spec: ProductSpec
    start_price: float
    volatility: float = 1.0  # multiplies the simulator's daily volatility regimes


def _spec(product_id: str, base: str, price: str, base_min: str, quote_min: str) -> ProductSpec:
    """A spec whose quote and price increments are equal, as on most Coinbase products."""
    base_currency, quote_currency = product_id.split("-")
    return ProductSpec(
        product_id=product_id,
        base_currency=base_currency,
        quote_currency=quote_currency,
        base_increment=Decimal(base),
        quote_increment=Decimal(price),
        price_increment=Decimal(price),
        base_min_size=Decimal(base_min),
        quote_min_size=Decimal(quote_min),
    )


_SAT = "0.00000001"
_BTC_MIN = "0.00001"  # Coinbase's minimum order value on X-BTC books, in BTC

POPULAR: tuple[CatalogEntry, ...] = (
    CatalogEntry(_spec("ETH-BTC", _SAT, "0.00001", "0.00022", _BTC_MIN), 0.05),
    CatalogEntry(_spec("SOL-BTC", _SAT, "0.0000001", "0.004", _BTC_MIN), 0.0022),
    CatalogEntry(_spec("LINK-BTC", "0.01", _SAT, "0.05", _BTC_MIN), 0.00022, 1.2),
    CatalogEntry(_spec("MATIC-BTC", "0.1", _SAT, "1.6", _BTC_MIN), 0.0000055, 1.3),
    CatalogEntry(_spec("AVAX-BTC", "0.001", "0.0000001", "0.02", _BTC_MIN), 0.00038, 1.3),
    CatalogEntry(_spec("DOT-BTC", "0.001", _SAT, "0.1", _BTC_MIN), 0.000075, 1.2),
    CatalogEntry(_spec("UNI-BTC", "0.001", "0.0000001", "0.08", _BTC_MIN), 0.0001, 1.3),
    CatalogEntry(_spec("ATOM-BTC", "0.001", "0.0000001", "0.1", _BTC_MIN), 0.00007, 1.2),
    CatalogEntry(_spec("LTC-BTC", _SAT, "0.000001", "0.01", _BTC_MIN), 0.0013, 0.9),
    CatalogEntry(_spec("XLM-BTC", "1", _SAT, "4", _BTC_MIN), 0.0000036, 1.1),
    CatalogEntry(_spec("BTC-USD", _SAT, "0.01", _SAT, "1"), 65000.0, 0.8),
    CatalogEntry(_spec("ETH-USD", _SAT, "0.01", _SAT, "1"), 3200.0, 1.0),
    CatalogEntry(_spec("SOL-USD", _SAT, "0.01", _SAT, "1"), 145.0, 1.3),
    CatalogEntry(_spec("USDC-USD", "0.01", "0.0001", "1", "1"), 1.0, 0.01),
)
"""10 X-BTC and 4 USD products: (base increment, price/quote increment, base min, quote min)."""

POPULAR_PRODUCTS: tuple[ProductSpec, ...] = tuple(entry.spec for entry in POPULAR)
POPULAR_SPECS: dict[str, ProductSpec] = {spec.product_id: spec for spec in POPULAR_PRODUCTS}


CURRENCY_MAX_LENGTH = 12  # the database's currency columns (fees, balances) hold 12
PRODUCT_ID_PATTERN = f"^[A-Z0-9]{{1,{CURRENCY_MAX_LENGTH}}}-[A-Z0-9]{{1,{CURRENCY_MAX_LENGTH}}}$"
"""BASE-QUOTE in capitals and digits, as Coinbase names its products ("ETH-BTC",
"1INCH-USD"). Product ids name candle files, so nothing else (no dot, slash, backslash
or NUL) may pass: a product id can never point outside the candle store."""
_PRODUCT_ID = re.compile(PRODUCT_ID_PATTERN.removeprefix("^").removesuffix("$"))
_SHOWN = 30  # characters of a rejected id repeated in the message


def split_product_id(product_id: str) -> tuple[str, str]:
    """("ETH", "BTC") from "ETH-BTC"; ValueError for anything not BASE-QUOTE."""
    if _PRODUCT_ID.fullmatch(product_id) is None:
        shown = product_id if len(product_id) <= _SHOWN else product_id[:_SHOWN] + "…"
        raise ValueError(
            "product id must look like 'ETH-BTC' (BASE-QUOTE: capital letters and digits, "
            f"at most {CURRENCY_MAX_LENGTH} each), got {shown!r}"
        )
    base, quote = product_id.split("-")
    return base, quote


def default_spec(product_id: str) -> ProductSpec:
    """The known spec of a popular product, else 1e-8 increments and no minimum size."""
    known = POPULAR_SPECS.get(product_id)
    if known is not None:
        return known
    base, quote = split_product_id(product_id)
    return ProductSpec(
        product_id=product_id,
        base_currency=base,
        quote_currency=quote,
        base_increment=DEFAULT_INCREMENT,
        quote_increment=DEFAULT_INCREMENT,
        price_increment=DEFAULT_INCREMENT,
        base_min_size=DEFAULT_INCREMENT,
        quote_min_size=DEFAULT_INCREMENT,
    )


def _price_increment(price: float) -> Decimal:
    """A tick giving about five significant digits at ``price``, as Coinbase books do."""
    exponent = math.floor(math.log10(price)) - 4
    return Decimal(1).scaleb(max(exponent, -8))


def synthetic_entry(number: int) -> CatalogEntry:
    """Synthetic product ``SIMnn``: odd numbers quoted in USD, even ones in BTC."""
    quote = "USD" if number % 2 else "BTC"
    # Spread start prices over several decades, deterministically per number.
    decade = (number * 7) % 5
    price = (1.0 + (number % 9)) * (
        10.0 ** (decade - 1) if quote == "USD" else 10.0 ** -(decade + 2)
    )
    tick = _price_increment(price)
    spec = ProductSpec(
        product_id=f"SIM{number:02d}-{quote}",
        base_currency=f"SIM{number:02d}",
        quote_currency=quote,
        base_increment=DEFAULT_INCREMENT,
        quote_increment=tick,
        price_increment=tick,
        base_min_size=DEFAULT_INCREMENT,
        quote_min_size=Decimal(1) if quote == "USD" else Decimal(_BTC_MIN),
    )
    return CatalogEntry(spec, price, 0.8 + (number % 5) * 0.15)


DEFAULT_SIMULATED_COUNT = 50


def simulated_catalog(count: int = DEFAULT_SIMULATED_COUNT) -> list[CatalogEntry]:
    """The popular products first, then synthetic ``SIMnn`` ones up to ``count`` in all."""
    if count < 1:
        raise ValueError(f"a simulated market needs at least one product, got {count}")
    entries = list(POPULAR[:count])
    entries.extend(synthetic_entry(n) for n in range(1, count - len(entries) + 1))
    return entries

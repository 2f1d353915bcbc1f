"""Bot schemas. Field limits come from ``services.bot_rules`` so the API and the CLI agree;
rules that need the registry or the market (strategy config, product, timeframe) are checked
by the service and reported in the same 422 form."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from tradefleet.api.schemas.common import FreeText, PlainText, PositiveAmount, Timeframe
from tradefleet.db.models import Bot
from tradefleet.market.products import PRODUCT_ID_PATTERN, split_product_id
from tradefleet.services.bot_rules import (
    CONFIG_MAX_PARAMETERS,
    DESCRIPTION_MAX_LENGTH,
    NAME_MAX_LENGTH,
    text_problem,
)

# What the strip leaves must be 1-100 characters of plain text, so the schema cannot say
# minLength/maxLength: the pattern says it, surrounding whitespace included (the strip
# takes Unicode's White_Space; inside, a name may hold spaces but no control character).
_BLANK = r"\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_EDGE = r"[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
_INNER = r"[^\x00-\x1f\x7f-\x9f]"
NAME_PATTERN = rf"^[{_BLANK}]*{_EDGE}(?:{_INNER}{{0,{NAME_MAX_LENGTH - 2}}}{_EDGE})?[{_BLANK}]*$"
BotName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=NAME_MAX_LENGTH),
    PlainText,
    WithJsonSchema({"type": "string", "pattern": NAME_PATTERN}),
]
Description = Annotated[str, Field(max_length=DESCRIPTION_MAX_LENGTH), FreeText]
Budget = Annotated[
    PositiveAmount,
    Field(
        description="in the product's quote currency: a JSON number or a decimal string "
        "(digits, at most one point), greater than 0, below 1E+20, at most 18 decimal places",
        examples=["0.05"],
    ),
]
StrategyType = Annotated[str, Field(min_length=1, max_length=50, examples=["rsi"]), PlainText]
_ACCOUNT_HELP = (
    "whose money the bot trades: paper (the simulated account) or live (the exchange "
    "account). It changes only while the bot has no open deals"
)
Account = Annotated[Literal["paper", "live"], Field(description=_ACCOUNT_HELP)]


# Live is refused by the service (422 naming ``account``) unless the server trades live
# with keys that work: the schema cannot say which server it describes.
AccountInput = Annotated[
    Literal["paper", "live"],
    Field(
        description=_ACCOUNT_HELP + "; live only on a server started with TRADEFLEET_MODE=live "
        "whose exchange keys work"
    ),
]


def _product_id(product_id: str) -> str:
    """The product form; a backtest turns the id into a candle file name."""
    try:
        split_product_id(product_id)
    except ValueError as error:
        raise PydanticCustomError("value_error", str(error)) from None
    return product_id


ProductId = Annotated[
    str,
    Field(
        min_length=1,
        max_length=40,
        examples=["ETH-BTC"],
        json_schema_extra={"pattern": PRODUCT_ID_PATTERN},
    ),
    AfterValidator(_product_id),
]


def _config_text(config: dict[str, Any]) -> dict[str, Any]:
    """Parameter names and text values are stored and repeated in errors: plain text only."""
    for name, value in config.items():
        problem = text_problem(name)
        if problem is not None:
            raise PydanticCustomError("value_error", f"a parameter name {problem}")
        if isinstance(value, str) and (problem := text_problem(value)) is not None:
            raise PydanticCustomError("value_error", f"a parameter value {problem}")
    return config


StrategyConfig = Annotated[
    dict[str, Any],
    Field(max_length=CONFIG_MAX_PARAMETERS),
    AfterValidator(_config_text),
]


class BotBase(BaseModel):
    name: BotName
    description: Description = ""
    strategy_type: StrategyType
    strategy_config: StrategyConfig = Field(
        default_factory=dict, description="parameters; omitted ones take their defaults"
    )
    product_id: ProductId
    timeframe: Timeframe
    budget: Budget


class BotCreate(BotBase):
    model_config = ConfigDict(extra="forbid")

    account: AccountInput = "paper"


class BotUpdate(BaseModel):
    """A partial update: omitted (or null) fields stay as they are.

    ``strategy_config`` is merged into the stored config: the parameters it names change,
    a parameter given as null goes back to its default, the others keep their values. With
    a new ``strategy_type`` the config starts from that strategy's defaults instead.
    """

    model_config = ConfigDict(extra="forbid")

    name: BotName | None = None
    description: Description | None = None
    strategy_type: StrategyType | None = None
    strategy_config: StrategyConfig | None = Field(
        default=None,
        description="parameters to change; the others keep their stored values, and a "
        "parameter given as null goes back to its default",
        examples=[{"oversold": 25, "take_profit_pct": None}],
    )
    product_id: ProductId | None = None
    timeframe: Timeframe | None = None
    budget: Budget | None = None
    account: AccountInput | None = None


class BotPublic(BotBase):
    """A bot as stored: the input rules are not applied again to what is already stored
    (a row written before a rule existed must still show, not fail with a 500)."""

    name: str
    description: str
    strategy_type: str
    strategy_config: dict[str, Any]
    product_id: str
    account: Account
    id: int
    is_active: bool
    created_at: datetime
    updated_at: datetime
    last_signal_check: datetime | None
    last_error: str | None
    halted_at: datetime | None = Field(
        description="when an emergency stop halted the bot: it places nothing until it is "
        "started again, which puts its deals' exits back"
    )
    open_positions: int = Field(description="deals open now")

    @classmethod
    def from_bot(cls, bot: Bot, open_positions: int) -> BotPublic:
        """Built without validation: the row is what the API itself stored (a list of a
        thousand bots spent most of its time validating them again)."""
        fields = {name: getattr(bot, name) for name in cls.model_fields if name != "open_positions"}
        return cls.model_construct(**fields, open_positions=open_positions)


class BotsPublic(BaseModel):
    data: list[BotPublic]
    count: int

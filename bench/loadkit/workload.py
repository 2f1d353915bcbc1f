"""Concurrent API clients with a model of what each client's writes must have done.

Each client owns the bots it creates, so its writes to them are sequential and its model
of them is exact: after a 2xx the answer must show the change; after a 4xx a read must
show nothing changed; an answer never received (a killed server) or a 503 leaves the
bot in its state before or after the write, never in between, which the next read
settles. Reads go everywhere, the trading bots included.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

import httpx

BUSY_RSI = {"rsi_period": 7, "oversold": 40, "overbought": 60, "profit_target_pct": 0.2}
WRITES = ("create", "update", "start", "stop", "delete")
READS = ("bots", "bot", "positions", "trades", "stats", "bot_stats", "signals")
REQUEST_TIMEOUT = 30.0  # an answer slower than this counts as a hang


@dataclass(frozen=True)
class BotModel:
    id: int
    name: str
    description: str
    budget: Decimal
    is_active: bool
    deleted: bool = False

    def matches(self, body: dict[str, Any]) -> bool:
        return (
            body["name"] == self.name
            and body["description"] == self.description
            and Decimal(body["budget"]) == self.budget
            and body["is_active"] == self.is_active
        )


@dataclass
class Tally:
    """What the clients saw: every status, every latency, and every broken promise."""

    statuses: Counter[str] = field(default_factory=Counter)
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    problems: list[str] = field(default_factory=list)
    unanswered: int = 0  # writes whose answer never came (connection lost)
    hangs: int = 0
    bare_503: int = 0  # 503 without Retry-After
    created_names: set[str] = field(default_factory=set)
    failed: Counter[str] = field(default_factory=Counter)  # 5xx and no answer, by kind

    def seen(self, kind: str, status: str, seconds: float) -> None:
        self.statuses[status] += 1
        self.latencies[kind].append(seconds)


class Client:
    """One of the concurrent users; ``prefix`` names the bots it owns."""

    def __init__(
        self, http: httpx.AsyncClient, prefix: str, seed: int, trading: list[int], tally: Tally
    ) -> None:
        self.http, self.prefix, self.tally = http, prefix, tally
        self.rng = random.Random(seed)
        self.trading = trading
        self.bots: dict[int, BotModel] = {}
        # bots whose last write has no known outcome: their state before and after it
        self.doubtful: dict[int, tuple[BotModel, BotModel]] = {}
        self.doubtful_creates: list[str] = []
        self.names = 0
        self.history: dict[int, list[str]] = defaultdict(list)  # per bot: what was sent, seen

    def _name(self) -> str:
        self.names += 1
        return f"{self.prefix}-{self.names}"

    async def _call(self, kind: str, method: str, url: str, **kw: Any) -> httpx.Response | None:
        started = time.monotonic()
        try:
            answer = await self.http.request(method, url, timeout=REQUEST_TIMEOUT, **kw)
        except httpx.TimeoutException:
            self.tally.hangs += 1
            self.tally.seen(kind, "timeout", time.monotonic() - started)
            return None
        except httpx.TransportError as error:
            self.tally.seen(kind, "no answer", time.monotonic() - started)
            self.tally.failed[f"{kind} {type(error).__name__}"] += 1
            return None
        self.tally.seen(kind, str(answer.status_code), time.monotonic() - started)
        if answer.status_code >= 500:
            self.tally.failed[f"{kind} {answer.status_code}"] += 1
        if answer.status_code == 503 and "retry-after" not in answer.headers:
            self.tally.bare_503 += 1
        return answer

    async def step(self) -> None:
        """One request (after ``settle`` has resolved every write without an answer)."""
        live = [bot for bot in self.bots.values() if not bot.deleted]
        if self.rng.random() < 0.5:
            await self.read(self.rng.choice(READS))
        elif not live or self.rng.random() < 0.2:
            await self.create(live)
        else:
            bot = self.rng.choice(live)
            await getattr(self, self.rng.choice(WRITES[1:]))(bot)

    # ---- writes --------------------------------------------------------------------

    async def create(self, live: list[BotModel]) -> None:
        roll = self.rng.random()
        name = live[0].name if live and roll < 0.1 else self._name()  # taken: 409
        config = {**BUSY_RSI, "oversold": 150} if 0.1 <= roll < 0.15 else BUSY_RSI  # 422
        body = {
            "name": name,
            "strategy_type": "rsi",
            "strategy_config": config,
            "product_id": "ETH-BTC",
            "timeframe": "1m",
            "budget": "0.05",
        }
        answer = await self._call("create", "POST", "/api/bots", json=body)
        if answer is None or answer.status_code >= 500:
            if name not in {bot.name for bot in live}:  # else it could only be refused
                self.doubtful_creates.append(name)
        elif answer.status_code == 201:
            data = answer.json()
            bot = BotModel(data["id"], name, "", Decimal("0.05"), False)
            self.tally.created_names.add(name)
            self._expect(bot, data, "create")
            self.bots[bot.id] = bot
        elif roll >= 0.15 or answer.status_code not in (409, 422):
            self.tally.problems.append(f"create {name}: unexpected {answer.status_code}")

    async def update(self, bot: BotModel) -> None:
        roll = self.rng.random()
        if roll < 0.4:
            change: dict[str, Any] = {"name": self._name()}
            after = replace(bot, name=change["name"])
        elif roll < 0.7:
            change = {"description": f"note {self.rng.randrange(10**6)}"}
            after = replace(bot, description=change["description"])
        elif roll < 0.9:
            budget = Decimal(self.rng.randrange(1, 200)) / 1000
            change, after = {"budget": str(budget)}, replace(bot, budget=budget)
        else:
            change, after = {"budget": "-1"}, bot  # refused: 422
        answer = await self._call("update", "PUT", f"/api/bots/{bot.id}", json=change)
        await self._settle_write(bot, after, answer, "update")

    async def start(self, bot: BotModel) -> None:
        answer = await self._call("start", "POST", f"/api/bots/{bot.id}/start")
        await self._settle_write(bot, replace(bot, is_active=True), answer, "start")

    async def stop(self, bot: BotModel) -> None:
        answer = await self._call("stop", "POST", f"/api/bots/{bot.id}/stop")
        await self._settle_write(bot, replace(bot, is_active=False), answer, "stop")

    async def delete(self, bot: BotModel) -> None:
        answer = await self._call("delete", "DELETE", f"/api/bots/{bot.id}")
        after = replace(bot, deleted=True, is_active=False)
        await self._settle_write(bot, after, answer, "delete")

    async def _settle_write(
        self, before: BotModel, after: BotModel, answer: httpx.Response | None, what: str
    ) -> None:
        seen = "no answer" if answer is None else str(answer.status_code)
        self.history[before.id].append(f"{what}: {seen}")
        if answer is None or answer.status_code >= 500:
            self.bots[before.id] = before
            self.doubtful[before.id] = (before, after)
            return
        if answer.is_success:
            if not after.deleted:
                self._expect(after, answer.json(), what)
            self.bots[before.id] = after
            return
        if answer.status_code not in (404, 409, 422):
            self.tally.problems.append(f"{what} bot {before.id}: unexpected {answer.status_code}")
        await self._check_unchanged(before, what)

    def _expect(self, bot: BotModel, body: dict[str, Any], what: str) -> None:
        if not bot.matches(body):
            self.tally.problems.append(f"{what} bot {bot.id}: answered {body}, expected {bot}")

    async def _check_unchanged(self, bot: BotModel, what: str) -> None:
        answer = await self._call("bot", "GET", f"/api/bots/{bot.id}")
        if answer is None or answer.status_code >= 500:
            self.doubtful[bot.id] = (bot, bot)
        elif answer.status_code != 200 or not bot.matches(answer.json()):
            body = answer.text[:300]
            self.tally.problems.append(f"refused {what} changed bot {bot.id}: {body}")

    # ---- unknown outcomes ----------------------------------------------------------

    async def settle(self) -> None:
        """Read back what a write without an answer did: all of it or none of it."""
        for name in list(self.doubtful_creates):
            answer = await self._call("read back", "GET", "/api/bots")
            if answer is None or answer.status_code != 200:
                await asyncio.sleep(0.2)
                return
            found = [b for b in answer.json()["data"] if b["name"] == name]
            if found:
                data = found[0]
                self.bots[data["id"]] = BotModel(data["id"], name, "", Decimal("0.05"), False)
                self._expect(self.bots[data["id"]], data, "unanswered create")
                self.tally.created_names.add(name)
            self.doubtful_creates.remove(name)
        for bot_id, (before, after) in list(self.doubtful.items()):
            answer = await self._call("read back", "GET", f"/api/bots/{bot_id}")
            if answer is None or answer.status_code >= 500:
                await asyncio.sleep(0.2)
                return
            self.history[bot_id].append(f"read back: {answer.status_code}")
            body = answer.json() if answer.status_code == 200 else None
            if (body is None and answer.status_code == 404 and after.deleted) or (
                body is not None and not after.deleted and after.matches(body)
            ):
                self.bots[bot_id] = after
            elif body is not None and before.matches(body):  # before: never deleted
                self.bots[bot_id] = before
            else:
                self.tally.problems.append(
                    f"bot {bot_id} half written: {answer.status_code} {answer.text[:300]}"
                )
            del self.doubtful[bot_id]

    # ---- reads ---------------------------------------------------------------------

    async def read(self, kind: str) -> None:
        bot_id = self.rng.choice(self.trading)
        url, params = {
            "bots": ("/api/bots", {}),
            "bot": (f"/api/bots/{bot_id}", {}),
            "positions": ("/api/positions", {"limit": 50}),
            "trades": ("/api/trades", {"limit": 50}),
            "stats": ("/api/stats", {}),
            "bot_stats": (f"/api/bots/{bot_id}/stats", {}),
            "signals": ("/api/signals", {"limit": 50}),
        }[kind]
        answer = await self._call(kind, "GET", url, params=params)
        if answer is not None and answer.status_code not in (200, 503):
            self.tally.problems.append(f"GET {url}: {answer.status_code} {answer.text[:200]}")

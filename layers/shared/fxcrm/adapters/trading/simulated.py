"""A simulated MT4/MT5 server: the TradingPlatform port for demos and tests.

Account state (balance, credit, password hashes) lives in DynamoDB; balance
operations are written once per operation id in the same transaction as the
balance change. Trading activity is generated, not stored: each account's
trades for a day come from a random generator seeded by (server, login, day),
so every call, process and test sees the same history.

The numbers are a real server's: profit, swap and margin are in the account's
currency (USD; the only one accounts open in), converted at the close price;
a deal exists only once its time has passed (a trade still open is a position,
valued at the price it has reached); equity is balance + credit + the open
positions' floating profit and swap. An account that was never funded has no
trades, and one without money has no positions or orders.
"""

import hashlib
import random
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from fxcrm.adapters.trading.port import (
    AccountState,
    Deal,
    NewAccount,
    Order,
    PasswordKind,
    PlatformInsufficientFunds,
    PlatformNotFound,
    Position,
)
from fxcrm.core.passwords import hash_password
from fxcrm.dal import trading as dal

ACCOUNT_CURRENCY = "USD"


@dataclass(frozen=True)
class Symbol:
    base: str  # what a lot is of: a currency, a metal, an index
    quote: str  # the currency its price, and so its profit, is in
    price: Decimal  # typical price
    contract: int  # units of `base` per lot
    digits: int


SYMBOLS = {
    "EURUSD": Symbol("EUR", "USD", Decimal("1.0850"), 100000, 5),
    "GBPUSD": Symbol("GBP", "USD", Decimal("1.2700"), 100000, 5),
    "USDJPY": Symbol("USD", "JPY", Decimal("151.20"), 100000, 3),
    "EURGBP": Symbol("EUR", "GBP", Decimal("0.8540"), 100000, 5),
    "XAUUSD": Symbol("XAU", "USD", Decimal("2650.00"), 100, 2),
    "US30": Symbol("US30", "USD", Decimal("43000.0"), 1, 1),
}
# What one unit of a quote currency is worth in USD, for crosses (EURGBP: GBP -> USD),
# from the USD pairs' typical prices.
USD_PER = {"USD": Decimal(1), "GBP": Decimal("1.2700"), "EUR": Decimal("1.0850"), "JPY": 1 / Decimal("151.20")}
COMMISSION_PER_LOT = Decimal("-7.00")
CENT = Decimal("0.01")
FIRST_LOGIN = {"MT4-Demo": 2_000_000, "MT4-Live": 1_000_000, "MT5-Demo": 20_000_000, "MT5-Live": 10_000_000}
# Trades open within the first 20 hours of their day; most close within 3 hours, a swing
# trade within 3 days. A window's deals can so come from trades opened up to 4 days before.
LONGEST_HOLD = timedelta(days=4)
SWING_SHARE = 0.3


def _ticket(*parts: object) -> int:
    digest = hashlib.sha256(":".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:6], "big")  # 48 bits: JavaScript-safe


def _price(base: Decimal, rng: random.Random, digits: int) -> Decimal:
    return (base * Decimal(1 + rng.uniform(-0.01, 0.01))).quantize(Decimal(1).scaleb(-digits))


def to_account_currency(amount: Decimal, symbol: str, price: Decimal) -> Decimal:
    """An amount in the symbol's quote currency, in USD at `price` (the symbol's
    price then): X/USD is USD already, USD/X is divided by the price, a cross
    goes through its quote currency's USD rate."""
    spec = SYMBOLS[symbol]
    if spec.quote == ACCOUNT_CURRENCY:
        return amount
    if spec.base == ACCOUNT_CURRENCY:
        return amount / price
    return amount * USD_PER[spec.quote]


def _midnight(at: datetime) -> datetime:
    return at.replace(hour=0, minute=0, second=0, microsecond=0)


@dataclass(frozen=True)
class _Trade:
    position: int
    symbol: str
    direction: int  # 0 buy, 1 sell
    lots: Decimal
    opened: datetime
    closed: datetime
    open_price: Decimal
    close_price: Decimal
    swap_per_night: Decimal  # in USD per lot

    def price_at(self, at: datetime) -> Decimal:
        """The price it has reached: on the way from its open to its close price."""
        share = Decimal((at - self.opened) / (self.closed - self.opened))
        moved = self.open_price + (self.close_price - self.open_price) * min(max(share, Decimal(0)), Decimal(1))
        return moved.quantize(Decimal(1).scaleb(-SYMBOLS[self.symbol].digits))

    def profit_at(self, price: Decimal) -> Decimal:
        sign = 1 if self.direction == 0 else -1
        in_quote = (price - self.open_price) * sign * self.lots * SYMBOLS[self.symbol].contract
        return to_account_currency(in_quote, self.symbol, price).quantize(CENT)

    def swap_until(self, at: datetime) -> Decimal:
        nights = (_midnight(min(at, self.closed)) - _midnight(self.opened)).days  # rolled over at midnight
        return (self.swap_per_night * self.lots * nights).quantize(CENT)

    def margin(self, leverage: int) -> Decimal:
        spec = SYMBOLS[self.symbol]
        notional = self.lots * spec.contract * self.open_price  # in the quote currency
        return to_account_currency(notional, self.symbol, self.open_price) / max(leverage, 1)


class SimulatedPlatform:
    # Its generated trades illustrate reports and rebates; they do not move its balances.
    balance_includes_trading = False

    def __init__(self, server: str, clock: Callable[[], datetime] | None = None) -> None:
        self.server = server
        self._clock = clock or (lambda: datetime.now(tz=UTC))  # tests pass a fixed one

    def _state(self, login: int) -> dict[str, Any]:
        state = dal.get_sim_account(self.server, login)
        if state is None:
            raise PlatformNotFound(f"no account {login} on {self.server}")
        return state

    def create_account(self, account: NewAccount) -> int:
        login = dal.next_login(self.server, FIRST_LOGIN.get(self.server, 5_000_000))
        dal.create_sim_account(
            {
                "server": self.server,
                "login": login,
                "group": account.group,
                "name": account.name,
                "leverage": account.leverage,
                "balance": Decimal(0),
                "credit": Decimal(0),
                "funded": False,  # no balance operation yet (apply_sim_balance keeps it)
                "main_password_hash": hash_password(account.main_password),
                "investor_password_hash": hash_password(account.investor_password),
            }
        )
        return login

    def change_password(self, login: int, kind: PasswordKind, password: str) -> None:
        self._state(login)
        field = "main_password_hash" if kind == "main" else "investor_password_hash"
        dal.set_sim_password(self.server, login, field, hash_password(password))

    def balance(self, login: int, amount: Decimal, operation_id: str) -> int:
        ticket = _ticket(self.server, login, "balance", operation_id)
        try:
            dal.apply_sim_balance(self.server, login, amount, operation_id, ticket, int(self._clock().timestamp()))
        except dal.OperationExists:
            existing = dal.get_sim_operation(self.server, login, operation_id)
            return int(existing["ticket"]) if existing else ticket
        except dal.InsufficientBalance as error:
            self._state(login)  # a missing account is "not found", not "no money"
            raise PlatformInsufficientFunds("not enough balance") from error
        return ticket

    def account_state(self, login: int) -> AccountState:
        state = self._state(login)
        balance = Decimal(str(state["balance"])).quantize(CENT)
        credit = Decimal(str(state["credit"])).quantize(CENT)
        now = self._clock()
        trades = self._open_trades(login, now) if _holds_money(state) else []
        floating = sum((t.profit_at(t.price_at(now)) + t.swap_until(now) for t in trades), Decimal(0))
        margin = sum((t.margin(int(state.get("leverage") or 100)) for t in trades), Decimal(0)).quantize(CENT)
        equity = (balance + credit + floating).quantize(CENT)
        level = (equity / margin * 100).quantize(CENT) if margin else Decimal(0)
        return AccountState(login, balance, credit, equity, margin, (equity - margin).quantize(CENT), level)

    # ------------------------------------------------------------------ generated activity
    def _day_trades(self, login: int, day: datetime) -> list[_Trade]:
        rng = random.Random(f"{self.server}:{login}:{day.date().isoformat()}")  # noqa: S311 - demo data
        trades = []
        for index in range(rng.randint(0, 4)):
            symbol = rng.choice(sorted(SYMBOLS))
            spec = SYMBOLS[symbol]
            lots = Decimal(rng.choice([1, 2, 5, 10, 20, 50, 100])) / 100
            opened = day + timedelta(seconds=rng.randint(0, 20 * 3600))
            held = rng.randint(4 * 3600, 3 * 86400) if rng.random() < SWING_SHARE else rng.randint(30, 3 * 3600)
            trades.append(
                _Trade(
                    position=_ticket(self.server, login, day.date(), index, "position"),
                    symbol=symbol,
                    direction=rng.choice([0, 1]),
                    lots=lots,
                    opened=opened,
                    closed=opened + timedelta(seconds=held),
                    open_price=_price(spec.price, rng, spec.digits),
                    close_price=_price(spec.price, rng, spec.digits),
                    swap_per_night=Decimal(rng.choice([-3, -2, -1, 1])) / 2,
                )
            )
        return trades

    def _trades_around(self, login: int, start: datetime, end: datetime) -> list[_Trade]:
        """Every trade open at some moment of [start, end]."""
        found: list[_Trade] = []
        day = _midnight(start - LONGEST_HOLD)
        while day <= end:
            found.extend(t for t in self._day_trades(login, day) if t.opened <= end and t.closed >= start)
            day += timedelta(days=1)
        return found

    def _open_trades(self, login: int, now: datetime) -> list[_Trade]:
        return [t for t in self._trades_around(login, now, now) if t.opened <= now < t.closed]

    def deals(self, login: int, start: datetime, end: datetime) -> list[Deal]:
        return self._deals(login, self._state(login), start, end)

    def positions(self, login: int) -> list[Position]:
        return self._positions(login, self._state(login))

    def orders(self, login: int) -> list[Order]:
        return self._orders(login, self._state(login))

    # Batches: the accounts' states in one BatchGetItem; an account not on the server is left out.
    def deals_batch(self, logins: Sequence[int], start: datetime, end: datetime) -> dict[int, list[Deal]]:
        states = dal.get_sim_accounts(self.server, list(logins))
        return {login: self._deals(login, state, start, end) for login, state in states.items()}

    def positions_batch(self, logins: Sequence[int]) -> dict[int, list[Position]]:
        states = dal.get_sim_accounts(self.server, list(logins))
        return {login: self._positions(login, state) for login, state in states.items()}

    def orders_batch(self, logins: Sequence[int]) -> dict[int, list[Order]]:
        states = dal.get_sim_accounts(self.server, list(logins))
        return {login: self._orders(login, state) for login, state in states.items()}

    def _deals(self, login: int, state: dict[str, Any], start: datetime, end: datetime) -> list[Deal]:
        end = min(end, self._clock())  # a server has no deals from the future
        found: list[Deal] = []
        # The operations are read only if the window may hold one, or the account
        # predates the markers that say so (no `funded`).
        at = state.get("last_op_at")
        if "funded" not in state or (at is not None and int(at) >= int(start.timestamp())):
            operations = dal.list_sim_operations(self.server, login)
        else:
            operations = []
        funded = state["funded"] if "funded" in state else any(Decimal(str(op["amount"])) > 0 for op in operations)
        if funded:  # a never-funded account never traded
            for trade in self._trades_around(login, start, end):
                found.extend(d for d in _deals_of(login, trade) if start <= d.time <= end)
        for op in operations:
            at = datetime.fromtimestamp(int(op["time"]), tz=UTC)
            if start <= at <= end:
                amount = Decimal(str(op["amount"]))
                found.append(
                    Deal(
                        int(op["ticket"]),
                        login,
                        at,
                        2,
                        0,
                        "",
                        Decimal(0),
                        Decimal(0),
                        amount,
                        Decimal(0),
                        Decimal(0),
                        0,
                        f"fx:{op['operation_id']}",
                    )
                )
        return sorted(found, key=lambda d: (d.time, d.ticket))

    def _positions(self, login: int, state: dict[str, Any]) -> list[Position]:
        if not _holds_money(state):
            return []
        now = self._clock()
        out = []
        for trade in self._open_trades(login, now):
            price = trade.price_at(now)
            out.append(
                Position(
                    trade.position,
                    login,
                    trade.symbol,
                    trade.direction,
                    trade.lots,
                    trade.opened,
                    trade.open_price,
                    price,
                    Decimal(0),
                    Decimal(0),
                    trade.profit_at(price),
                    trade.swap_until(now),
                )
            )
        return sorted(out, key=lambda p: (p.open_time, p.ticket))

    def _orders(self, login: int, state: dict[str, Any]) -> list[Order]:
        if not _holds_money(state):
            return []
        rng = random.Random(f"{self.server}:{login}:orders")  # noqa: S311 - demo data
        placed = _midnight(self._clock())  # placed before today began: never in the future
        out = []
        for index, order_type in enumerate((2, 3, 4, 5)[: rng.randint(0, 4)]):  # buy/sell limit, buy/sell stop
            symbol = rng.choice(sorted(SYMBOLS))
            spec = SYMBOLS[symbol]
            out.append(
                Order(
                    _ticket(self.server, login, "order", index),
                    login,
                    symbol,
                    order_type,
                    Decimal(rng.choice([1, 10, 50])) / 100,
                    placed - timedelta(seconds=rng.randint(3600, 5 * 86400)),
                    _price(spec.price, rng, spec.digits),
                    Decimal(0),
                    Decimal(0),
                )
            )
        return out


def _holds_money(state: dict[str, Any]) -> bool:
    return Decimal(str(state["balance"])) + Decimal(str(state["credit"])) > 0


def _deals_of(login: int, trade: _Trade) -> tuple[Deal, Deal]:
    """A trade's opening and closing deals (MT5: entry in, then out with the result)."""
    commission = (COMMISSION_PER_LOT * trade.lots / 2).quantize(CENT)  # charged half on each side
    opening = Deal(
        _ticket(trade.position, "in"),
        login,
        trade.opened,
        trade.direction,
        0,
        trade.symbol,
        trade.lots,
        trade.open_price,
        Decimal(0),
        commission,
        Decimal(0),
        trade.position,
        "",
    )
    closing = Deal(
        _ticket(trade.position, "out"),
        login,
        trade.closed,
        1 - trade.direction,
        1,
        trade.symbol,
        trade.lots,
        trade.close_price,
        trade.profit_at(trade.close_price),
        commission,
        trade.swap_until(trade.closed),
        trade.position,
        "",
    )
    return opening, closing


def random_investor_password() -> str:
    """An investor password meeting MT5's rules, for accounts opened without one."""
    return f"Ob{secrets.token_hex(4)}#9"

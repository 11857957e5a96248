"""A simulated MT4/MT5 server: the TradingPlatform port for demos and tests.

Account state (balance, credit, password hashes) lives in DynamoDB; balance
operations are written once per operation id in the same transaction as the
balance change. Trading activity is generated, not stored: each account's
trades for a day come from a random generator seeded by (server, login, day),
so every call, process and test sees the same history.
"""

import hashlib
import random
import secrets
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from fxcrm.auth.passwords import hash_password
from fxcrm.dal import trading as dal
from fxcrm.trading.platform import (
    AccountState,
    Deal,
    NewAccount,
    Order,
    PasswordKind,
    PlatformInsufficientFunds,
    PlatformNotFound,
    Position,
)

# symbol: (typical price, contract size, price digits)
SYMBOLS = {
    "EURUSD": (Decimal("1.0850"), 100000, 5),
    "GBPUSD": (Decimal("1.2700"), 100000, 5),
    "USDJPY": (Decimal("151.20"), 100000, 3),
    "XAUUSD": (Decimal("2650.00"), 100, 2),
    "US30": (Decimal("43000.0"), 1, 1),
}
COMMISSION_PER_LOT = Decimal("-7.00")
CENT = Decimal("0.01")
FIRST_LOGIN = {"MT4-Demo": 2_000_000, "MT4-Live": 1_000_000, "MT5-Demo": 20_000_000, "MT5-Live": 10_000_000}


def _ticket(*parts: object) -> int:
    digest = hashlib.sha256(":".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:6], "big")  # 48 bits: JavaScript-safe


def _price(base: Decimal, rng: random.Random, digits: int) -> Decimal:
    return (base * Decimal(1 + rng.uniform(-0.01, 0.01))).quantize(Decimal(1).scaleb(-digits))


class SimulatedPlatform:
    # Its generated trades illustrate reports and rebates; they do not move its balances.
    balance_includes_trading = False

    def __init__(self, server: str) -> None:
        self.server = server

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
            dal.apply_sim_balance(
                self.server, login, amount, operation_id, ticket, int(datetime.now(tz=UTC).timestamp())
            )
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
        positions = self.positions(login)
        floating = sum((p.profit + p.swap for p in positions), Decimal(0))
        margin = sum((p.volume_lots * 1000 for p in positions), Decimal(0)).quantize(CENT)
        equity = (balance + credit + floating).quantize(CENT)
        level = (equity / margin * 100).quantize(CENT) if margin else Decimal(0)
        return AccountState(login, balance, credit, equity, margin, (equity - margin).quantize(CENT), level)

    # ------------------------------------------------------------------ generated activity
    def _day_trades(self, login: int, day: datetime) -> list[tuple[Deal, Deal]]:
        rng = random.Random(f"{self.server}:{login}:{day.date().isoformat()}")  # noqa: S311 - demo data
        trades = []
        for index in range(rng.randint(0, 4)):
            symbol = rng.choice(sorted(SYMBOLS))
            base, contract, digits = SYMBOLS[symbol]
            lots = Decimal(rng.choice([1, 2, 5, 10, 20, 50, 100])) / 100
            opened = day + timedelta(seconds=rng.randint(0, 20 * 3600))
            closed = opened + timedelta(seconds=rng.randint(30, 3 * 3600))
            direction = rng.choice([0, 1])  # 0 buy, 1 sell
            open_price, close_price = _price(base, rng, digits), _price(base, rng, digits)
            sign = 1 if direction == 0 else -1
            profit = ((close_price - open_price) * sign * lots * contract).quantize(CENT)
            commission = (COMMISSION_PER_LOT * lots / 2).quantize(CENT)
            swap = Decimal(rng.choice([0, 0, -1, -2, 1])) * lots
            position = _ticket(self.server, login, day.date(), index, "position")
            trades.append(
                (
                    Deal(
                        _ticket(position, "in"),
                        login,
                        opened,
                        direction,
                        0,
                        symbol,
                        lots,
                        open_price,
                        Decimal(0),
                        commission,
                        Decimal(0),
                        position,
                        "",
                    ),
                    Deal(
                        _ticket(position, "out"),
                        login,
                        closed,
                        1 - direction,
                        1,
                        symbol,
                        lots,
                        close_price,
                        profit,
                        commission,
                        swap.quantize(CENT),
                        position,
                        "",
                    ),
                )
            )
        return trades

    def deals(self, login: int, start: datetime, end: datetime) -> list[Deal]:
        self._state(login)
        found: list[Deal] = []
        day = start.replace(hour=0, minute=0, second=0, microsecond=0)
        today = datetime.now(tz=UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        while day <= end and day < today:  # today's trades are still open: see positions()
            found.extend(d for pair in self._day_trades(login, day) for d in pair if start <= d.time <= end)
            day += timedelta(days=1)
        for op in dal.list_sim_operations(self.server, login):
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

    def positions(self, login: int) -> list[Position]:
        today = datetime.now(tz=UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        out = []
        for opened, closed in self._day_trades(login, today):
            # today's trades are open positions, valued at their would-be close price
            out.append(
                Position(
                    opened.position_id,
                    login,
                    opened.symbol,
                    opened.action,
                    opened.volume_lots,
                    opened.time,
                    opened.price,
                    closed.price,
                    Decimal(0),
                    Decimal(0),
                    closed.profit,
                    Decimal(0),
                )
            )
        return out

    def orders(self, login: int) -> list[Order]:
        rng = random.Random(f"{self.server}:{login}:orders")  # noqa: S311 - demo data
        out = []
        for index, order_type in enumerate((2, 3, 4, 5)[: rng.randint(0, 4)]):  # buy/sell limit, buy/sell stop
            symbol = rng.choice(sorted(SYMBOLS))
            base, _, digits = SYMBOLS[symbol]
            out.append(
                Order(
                    _ticket(self.server, login, "order", index),
                    login,
                    symbol,
                    order_type,
                    Decimal(rng.choice([1, 10, 50])) / 100,
                    datetime(2026, 1, 5, tzinfo=UTC),
                    _price(base, rng, digits),
                    Decimal(0),
                    Decimal(0),
                )
            )
        return out


def random_investor_password() -> str:
    """An investor password meeting MT5's rules, for accounts opened without one."""
    return f"Ob{secrets.token_hex(4)}#9"

"""The TradingPlatform port: what fxcrm needs from an MT4/MT5 server.

Adapters: `fxcrm.adapters.trading.mt5_webapi` (a real MT5 server through the
Manager Web API). Amounts are Decimal; passwords go to the platform and are
never stored by fxcrm.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Literal, Protocol

PasswordKind = Literal["main", "investor"]


class PlatformError(Exception):
    """The platform refused or failed; `retcode` is its own code when it gave one."""

    def __init__(self, message: str, retcode: str | None = None) -> None:
        super().__init__(message)
        self.retcode = retcode


class PlatformAuthFailed(PlatformError):
    pass


class PlatformNotFound(PlatformError):
    pass


class PlatformInvalidRequest(PlatformError):
    pass


class PlatformInsufficientFunds(PlatformError):
    pass


class PlatformUnavailable(PlatformError):
    pass


@dataclass(frozen=True)
class NewAccount:
    group: str
    name: str
    email: str
    leverage: int
    main_password: str
    investor_password: str


@dataclass(frozen=True)
class AccountState:
    login: int
    balance: Decimal
    credit: Decimal
    equity: Decimal
    margin: Decimal
    margin_free: Decimal
    margin_level: Decimal


@dataclass(frozen=True)
class Deal:
    ticket: int
    login: int
    time: datetime
    action: int  # MT5 deal action: 0 buy, 1 sell, 2 balance, 3 credit, ...
    entry: int  # 0 in, 1 out, 2 in/out, 3 out by
    symbol: str
    volume_lots: Decimal
    price: Decimal
    profit: Decimal
    commission: Decimal
    swap: Decimal
    position_id: int
    comment: str


@dataclass(frozen=True)
class Position:
    ticket: int
    login: int
    symbol: str
    action: int  # 0 buy, 1 sell
    volume_lots: Decimal
    open_time: datetime
    open_price: Decimal
    current_price: Decimal
    sl: Decimal
    tp: Decimal
    profit: Decimal
    swap: Decimal


@dataclass(frozen=True)
class Order:
    ticket: int
    login: int
    symbol: str
    type: int  # MT5 order type: 2 buy limit, 3 sell limit, 4 buy stop, 5 sell stop, ...
    volume_lots: Decimal
    setup_time: datetime
    price: Decimal
    sl: Decimal
    tp: Decimal


class TradingPlatform(Protocol):
    # Whether trading results move the account's balance on this server (a real MT
    # server: yes). TradeSync then posts them to the ledger, which mirrors the balance.
    balance_includes_trading: bool

    def create_account(self, account: NewAccount) -> int: ...

    def change_password(self, login: int, kind: PasswordKind, password: str) -> None: ...

    def balance(self, login: int, amount: Decimal, operation_id: str) -> int:
        """Post a balance operation once per `operation_id`; returns its deal ticket."""
        ...

    def account_state(self, login: int) -> AccountState: ...

    def deals(self, login: int, start: datetime, end: datetime) -> list[Deal]: ...

    def positions(self, login: int) -> list[Position]: ...

    def orders(self, login: int) -> list[Order]: ...

    # Batch reads for TradeSync: many accounts in one platform call where the platform's
    # API offers it (MT5's get_batch takes a list of logins). Keyed by login; an account
    # with nothing to report may be missing.
    def deals_batch(self, logins: Sequence[int], start: datetime, end: datetime) -> dict[int, list[Deal]]: ...

    def positions_batch(self, logins: Sequence[int]) -> dict[int, list[Position]]: ...

    def orders_batch(self, logins: Sequence[int]) -> dict[int, list[Order]]: ...

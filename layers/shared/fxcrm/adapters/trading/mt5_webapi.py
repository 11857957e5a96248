"""MT5 Manager Web API client (the TradingPlatform port on a real MT5 server).

Authentication is the documented challenge: GET /api/auth/start gives
`srv_rand`; we answer MD5(password_hash + srv_rand) with our own `cli_rand`,
and the server must prove it knows the password too by answering
MD5(password_hash + cli_rand), where password_hash =
MD5(MD5(password as UTF-16LE) + "WebAPI"). The session belongs to the
connection, so one keep-alive connection is used and re-authenticated when
the server drops it.
"""

import hashlib
import hmac
import secrets
import threading
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeVar

from fxcrm.adapters.trading.port import (
    AccountState,
    Deal,
    NewAccount,
    Order,
    PasswordKind,
    PlatformAuthFailed,
    PlatformError,
    PlatformInsufficientFunds,
    PlatformInvalidRequest,
    PlatformNotFound,
    PlatformUnavailable,
    Position,
)

# MT5 return codes (MT_RET_*) that callers can act on; anything else is a PlatformError.
_RETCODE_ERRORS: dict[int, type[PlatformError]] = {
    3: PlatformInvalidRequest,  # invalid parameters
    8: PlatformAuthFailed,  # not enough permissions
    13: PlatformNotFound,  # not found
    1001: PlatformAuthFailed,  # invalid account
    1002: PlatformAuthFailed,  # account disabled
    1007: PlatformAuthFailed,  # invalid password
    3006: PlatformInvalidRequest,  # password does not meet the group's rules
    10019: PlatformInsufficientFunds,  # no money
}
DEAL_BALANCE = 2
_Row = TypeVar("_Row", Deal, Position, Order)
VOLUME_PER_LOT = Decimal(10000)  # MT5 volumes are in 1/10000 lot
COMMENT_PREFIX = "fx:"  # balance comments are limited to 31 characters


def password_hash(password: str) -> bytes:
    return hashlib.md5(hashlib.md5(password.encode("utf-16-le")).digest() + b"WebAPI").digest()  # noqa: S324 - MT5's protocol


def challenge_answer(pw_hash: bytes, rand_hex: str) -> str:
    return hashlib.md5(pw_hash + bytes.fromhex(rand_hex)).hexdigest()  # noqa: S324 - MT5's protocol


def _retcode(answer: Mapping[str, Any]) -> tuple[int, str]:
    text = str(answer.get("retcode", ""))
    number, _, message = text.partition(" ")
    try:
        return int(number), message or text
    except ValueError:
        return -1, text


def _decimal(value: Any) -> Decimal:
    return Decimal(str(value if value not in (None, "") else "0"))


def _time(value: Any) -> datetime:
    return datetime.fromtimestamp(int(value or 0), tz=UTC)


class Mt5WebApi:
    balance_includes_trading = True

    def __init__(
        self,
        base_url: str,
        manager_login: int,
        manager_password: str,
        *,
        agent: str = "fxcrm",
        version: int = 3470,
        timeout: float = 10.0,
        verify: bool | str = True,
    ) -> None:
        import httpx  # here, not at module import: httpx is ~4% of each function's cold start

        self._login = manager_login
        self._password_hash = password_hash(manager_password)
        self._agent = agent
        self._version = version
        self._lock = threading.Lock()
        self._authenticated = False
        # One connection: the MT5 session is bound to it.
        self._http = httpx.Client(
            base_url=base_url,
            timeout=timeout,
            verify=verify,
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
        )

    def close(self) -> None:
        self._http.close()

    # ------------------------------------------------------------------ transport
    def _send(
        self, method: str, path: str, params: Mapping[str, Any] | None = None, body: Any = None
    ) -> dict[str, Any]:
        import httpx  # here, not at module import: httpx is ~4% of each function's cold start

        try:
            response = self._http.request(method, path, params=params, json=body)
        except httpx.HTTPError as error:
            self._authenticated = False
            raise PlatformUnavailable(f"MT5 server unreachable: {error.__class__.__name__}") from error
        if response.status_code == 403:
            self._authenticated = False
            raise PlatformAuthFailed("MT5 session not authorised", "403")
        if response.status_code >= 400:
            raise PlatformUnavailable(f"MT5 server answered HTTP {response.status_code}")
        try:
            answer = response.json()
        except ValueError as error:
            raise PlatformUnavailable("MT5 server sent a malformed answer") from error
        if not isinstance(answer, dict):
            raise PlatformUnavailable("MT5 server sent a malformed answer")
        return answer

    def _authenticate(self) -> None:
        start = self._send(
            "GET",
            "/api/auth/start",
            {"version": self._version, "agent": self._agent, "login": self._login, "type": "manager"},
        )
        code, message = _retcode(start)
        if code != 0 or "srv_rand" not in start:
            raise PlatformAuthFailed(f"MT5 refused the manager login: {message}", str(start.get("retcode")))
        cli_rand = secrets.token_hex(16)
        answer = self._send(
            "GET",
            "/api/auth/answer",
            {"srv_rand_answer": challenge_answer(self._password_hash, str(start["srv_rand"])), "cli_rand": cli_rand},
        )
        code, message = _retcode(answer)
        if code != 0:
            raise PlatformAuthFailed(f"MT5 refused the manager password: {message}", str(answer.get("retcode")))
        expected = challenge_answer(self._password_hash, cli_rand)
        if not hmac.compare_digest(expected, str(answer.get("cli_rand_answer", "")).lower()):
            # The server does not know our password: not the MT5 server we meant to talk to.
            raise PlatformAuthFailed("the MT5 server failed to prove its identity")
        self._authenticated = True

    def _call(self, method: str, path: str, params: Mapping[str, Any] | None = None, body: Any = None) -> Any:
        with self._lock:
            for attempt in (1, 2):
                if not self._authenticated:
                    self._authenticate()
                try:
                    answer = self._send(method, path, params, body)
                except PlatformAuthFailed:
                    if attempt == 2:
                        raise
                    continue  # the session was dropped: authenticate again once
                code, message = _retcode(answer)
                if code != 0:
                    raise _RETCODE_ERRORS.get(code, PlatformError)(f"MT5: {message}", str(answer.get("retcode")))
                return answer.get("answer")
        raise PlatformAuthFailed("MT5 session could not be established")  # pragma: no cover

    # ------------------------------------------------------------------ the port
    def create_account(self, account: NewAccount) -> int:
        answer = self._call(
            "POST",
            "/api/user/add",
            {"pass_main": account.main_password, "pass_investor": account.investor_password},
            {"Group": account.group, "Name": account.name, "EMail": account.email, "Leverage": account.leverage},
        )
        return int(answer["Login"])

    def change_password(self, login: int, kind: PasswordKind, password: str) -> None:
        self._call("POST", "/api/user/change_password", {"login": login, "type": kind, "password": password})

    def balance(self, login: int, amount: Decimal, operation_id: str) -> int:
        comment = f"{COMMENT_PREFIX}{operation_id}"
        if len(comment) > 31:
            raise PlatformInvalidRequest("operation id too long for an MT5 comment")
        # Idempotent by comment: a retried operation finds the deal it already made.
        for deal in self._balance_deals(login):
            if deal.comment == comment:
                return deal.ticket
        answer = self._call(
            "GET",
            "/api/trade/balance",
            {
                "login": login,
                "type": DEAL_BALANCE,
                "balance": f"{amount:f}",
                "comment": comment,
                "check_margin": 1 if amount < 0 else 0,
            },
        )
        return int(answer["ticket"])

    def _balance_deals(self, login: int) -> list[Deal]:
        now = int(datetime.now(tz=UTC).timestamp())
        return [d for d in self.deals(login, _time(now - 90 * 86400), _time(now + 86400)) if d.action == DEAL_BALANCE]

    def account_state(self, login: int) -> AccountState:
        a = self._call("GET", "/api/user/account/get", {"login": login})
        return AccountState(
            int(a["Login"]),
            _decimal(a.get("Balance")),
            _decimal(a.get("Credit")),
            _decimal(a.get("Equity")),
            _decimal(a.get("Margin")),
            _decimal(a.get("MarginFree")),
            _decimal(a.get("MarginLevel")),
        )

    def deals(self, login: int, start: datetime, end: datetime) -> list[Deal]:
        return self.deals_batch([login], start, end).get(login, [])

    def positions(self, login: int) -> list[Position]:
        return self.positions_batch([login]).get(login, [])

    def orders(self, login: int) -> list[Order]:
        return self.orders_batch([login]).get(login, [])

    # get_batch takes a comma-separated list of logins: one request for many accounts
    def deals_batch(self, logins: Sequence[int], start: datetime, end: datetime) -> dict[int, list[Deal]]:
        params = {"login": _logins(logins), "from": int(start.timestamp()), "to": int(end.timestamp())}
        return _by_login(_deal(r) for r in self._call("GET", "/api/deal/get_batch", params) or [])

    def positions_batch(self, logins: Sequence[int]) -> dict[int, list[Position]]:
        rows = self._call("GET", "/api/position/get_batch", {"login": _logins(logins)}) or []
        return _by_login(_position(r) for r in rows)

    def orders_batch(self, logins: Sequence[int]) -> dict[int, list[Order]]:
        rows = self._call("GET", "/api/order/get_batch", {"login": _logins(logins)}) or []
        return _by_login(_order(r) for r in rows)


def _logins(logins: Sequence[int]) -> str:
    return ",".join(str(int(login)) for login in logins)


def _by_login(rows: Iterable[_Row]) -> dict[int, list[_Row]]:
    found: dict[int, list[_Row]] = defaultdict(list)
    for row in rows:
        found[row.login].append(row)
    return dict(found)


def _deal(r: Mapping[str, Any]) -> Deal:
    return Deal(
        int(r["Deal"]),
        int(r["Login"]),
        _time(r.get("Time")),
        int(r.get("Action", 0)),
        int(r.get("Entry", 0)),
        str(r.get("Symbol", "")),
        _decimal(r.get("Volume")) / VOLUME_PER_LOT,
        _decimal(r.get("Price")),
        _decimal(r.get("Profit")),
        _decimal(r.get("Commission")),
        _decimal(r.get("Storage")),
        int(r.get("PositionID", 0) or 0),
        str(r.get("Comment", "")),
    )


def _position(r: Mapping[str, Any]) -> Position:
    return Position(
        int(r["Position"]),
        int(r["Login"]),
        str(r["Symbol"]),
        int(r.get("Action", 0)),
        _decimal(r.get("Volume")) / VOLUME_PER_LOT,
        _time(r.get("TimeCreate")),
        _decimal(r.get("PriceOpen")),
        _decimal(r.get("PriceCurrent")),
        _decimal(r.get("PriceSL")),
        _decimal(r.get("PriceTP")),
        _decimal(r.get("Profit")),
        _decimal(r.get("Storage")),
    )


def _order(r: Mapping[str, Any]) -> Order:
    return Order(
        int(r["Order"]),
        int(r["Login"]),
        str(r["Symbol"]),
        int(r.get("Type", 0)),
        _decimal(r.get("VolumeCurrent") or r.get("VolumeInitial")) / VOLUME_PER_LOT,
        _time(r.get("TimeSetup")),
        _decimal(r.get("PriceOrder")),
        _decimal(r.get("PriceSL")),
        _decimal(r.get("PriceTP")),
    )

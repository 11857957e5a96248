"""Reports through the real handlers: each filter changes the rows as it
should, the scope comes from the token (staff everyone, an IB its whole
downline, a client its own), and exports hold exactly the report's rows
(CSV parsed, XLSX read back with openpyxl), written inline or by a
background job.

The world: a master IB, a sub-IB under it (moved there through the back
office), a client of each, and an outsider; orders stored as the funding
flows store them, trades synced from the simulated server by TradeSync."""

import csv
import io
import os
import secrets
import time
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import openpyxl
import pytest
import requests

from tests.support.api import ApiClient
from tests.support.demo import ADMIN, SUPPORT
from tests.support.journeys import create_ib, login, open_demo_account, register, staff_token, unique_email

DAY = 86400
NOW = int(time.time())
T0 = NOW - 20 * DAY  # the orders' times: T0 + n hours


def show(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S")


class World:
    def __init__(self, api: ApiClient) -> None:
        self.api = api
        self.admin = staff_token(api, *ADMIN)
        code = f"M{secrets.token_hex(3).upper()}"
        master = create_ib("master", "Master-pass-1", NOW, first_name="Mia", last_name="Master", code=code)
        sub = create_ib("sub", "Sub-pass-1", NOW, first_name="Sol", last_name="Sub", code=code + "S")
        moved = api.put(
            f"/admin/users/{sub['id']}/ib", {"ib_id": master["id"], "reason": "sub-IB of the master"}, token=self.admin
        )
        assert moved.status == 200, moved.body
        self.master = {"id": master["id"], "token": login(api, master["email"], "Master-pass-1").json()["token"]}
        self.sub = {"id": sub["id"], "token": login(api, sub["email"], "Sub-pass-1").json()["token"]}
        self.a = self._client(invite_code=code)
        self.b = self._client(invite_code=code + "S")
        self.c = self._client()
        self.numbers: dict[str, list[str]] = {}

    def _client(self, invite_code: str | None = None) -> dict[str, Any]:
        registered = register(self.api, unique_email("rep"), invite_code=invite_code)
        return {"id": int(registered["user_info"]["id"]), "token": registered["token"]}

    def order(
        self, owner: dict[str, Any], kind: str, status: str, hours: int, amount: str = "100.00", **extra: Any
    ) -> str:
        from fxcrm.core import ids
        from fxcrm.dal import funding
        from fxcrm.dal.models.orders import order_from_item
        from fxcrm.funding.orders import order_number

        order_id = ids.new_id()
        number = order_number(kind, order_id)
        account = {"account": "1001", "id": 1, "server_name": "fxcrm-MT5-Live", "server_type": "MT5-Live"}
        fee, method = Decimal("1.50"), extra.pop("method", "bank_transfer")
        channel = {"channel_id": 1, "channel_name": "Bank", "method": method}
        per_kind: dict[str, dict[str, Any]] = {
            "deposit": channel | {"fee": fee},
            "withdrawal": channel
            | {
                "fee": fee,
                "exchange_rate": Decimal(1),
                "remittance_amount": Decimal(amount) - fee,
                "remittance_currency": "USD",
                "details": {},
            },
            "transfer": {"target_account_id": 2, "target_account": account | {"id": 2, "account": "1002"}},
        }
        funding.create_order(
            order_from_item(
                {
                    "id": order_id,
                    "order_number": number,
                    "kind": kind,
                    "user_id": owner["id"],
                    "email": "x@example.com",
                    "status": status,
                    "amount": Decimal(amount),
                    "currency": "USD",
                    "account_id": 1,
                    "account": account,
                    "created_at": T0 + hours * 3600,
                    "submit_time": T0 + hours * 3600,
                    **per_kind[kind],
                    **extra,
                }
            )
        )
        self.numbers.setdefault(kind, []).append(number)
        return number


@pytest.fixture(scope="module")
def world(api: ApiClient) -> World:
    w = World(api)
    w.order(w.a, "deposit", "approved", 1, auditor_name="Ada Admin")
    w.order(w.a, "deposit", "disapproved", 2)
    w.order(w.a, "deposit", "auditing", 3)
    w.order(w.a, "deposit", "pending", 4)  # a draft: never in "all"
    w.order(w.b, "deposit", "approved", 5)
    w.order(w.sub, "deposit", "approved", 6)
    w.order(w.master, "deposit", "approved", 7)
    w.order(w.c, "deposit", "approved", 8)
    w.order(w.a, "withdrawal", "approved", 9, method="cryptocurrency")
    w.order(w.a, "withdrawal", "approved", 10, method="bank_transfer")
    w.order(w.a, "transfer", "pending", 11)
    w.order(w.a, "transfer", "approved", 12)
    return w


def get(api: ApiClient, path: str, token: str, **query: Any) -> Any:
    text = "&".join(f"{k}={requests.utils.quote(str(v))}" for k, v in query.items())
    return api.get(f"{path}?{text}" if text else path, token=token)


def numbers(reply: Any) -> list[str]:
    assert reply.status == 200, reply.body
    return [row["order_number"] for row in reply.json()["list"]]


WINDOW = {"start_time": show(T0), "end_time": show(T0 + 24 * 3600)}


# ---------------------------------------------------------------- money reports


def test_deposit_status_filter(api: ApiClient, world: World) -> None:
    mine = world.numbers["deposit"]
    token = world.a["token"]
    assert numbers(get(api, "/reports/deposits", token, status="all", **WINDOW)) == [mine[2], mine[1], mine[0]]
    assert numbers(get(api, "/reports/deposits", token, status="approved", **WINDOW)) == [mine[0]]
    assert numbers(get(api, "/reports/deposits", token, status="disapproved", **WINDOW)) == [mine[1]]
    assert numbers(get(api, "/reports/deposits", token, status="auditing", **WINDOW)) == [mine[2]]
    row = get(api, "/reports/deposits", token, status="approved", **WINDOW).json()["list"][0]
    assert row == {
        "id": row["id"],
        "order_number": mine[0],
        "account": "1001",
        "amount": "100.00",
        "currency": "USD",
        "fee": "1.50",
        "method": "bank_transfer",
        "server_name": "fxcrm-MT5-Live",
        "server_type": "MT5-Live",
        "status": "approved",
        "submit_time": show(T0 + 3600),
        "auditor_name": "Ada Admin",
        "user_name": row["user_name"],
    }


def test_time_window_and_paging(api: ApiClient, world: World) -> None:
    mine = world.numbers["deposit"]
    token = world.a["token"]
    narrow = {"start_time": show(T0 + 2 * 3600), "end_time": show(T0 + 2 * 3600 + 60)}
    assert numbers(get(api, "/reports/deposits", token, status="all", **narrow)) == [mine[1]]
    first = get(api, "/reports/deposits", token, status="all", page=1, size=2, **WINDOW).json()
    second = get(api, "/reports/deposits", token, status="all", page=2, size=2, **WINDOW).json()
    assert (first["total"], second["total"]) == (3, 3)
    assert [r["order_number"] for r in first["list"] + second["list"]] == [mine[2], mine[1], mine[0]]
    assert get(api, "/reports/deposits", token, status="all", size=101).status == 422
    bad = get(api, "/reports/deposits", token, status="all", start_time="yesterday")
    assert (bad.status, bad.json()["field"]) == (422, "start_time")
    assert get(api, "/reports/deposits", token, status="rejected").json()["field"] == "status"


def test_withdrawal_method_and_transfer_filters(api: ApiClient, world: World) -> None:
    token = world.a["token"]
    withdrawals = world.numbers["withdrawal"]
    assert numbers(get(api, "/reports/withdrawals", token, status="all", method="cryptocurrency", **WINDOW)) == [
        withdrawals[0]
    ]
    assert numbers(get(api, "/reports/withdrawals", token, status="all", **WINDOW)) == [withdrawals[1], withdrawals[0]]
    # the seed's request: `method` given as `all`, meaning every method
    assert numbers(get(api, "/reports/withdrawals", token, status="all", method="all", **WINDOW)) == [
        withdrawals[1],
        withdrawals[0],
    ]
    exported = api.post("/reports/withdrawals/export", {"status": "all", "method": "all", **WINDOW}, token=token)
    assert exported.status == 200, exported.body
    parsed = csv.DictReader(
        io.StringIO(requests.get(exported.json()["download_url"], timeout=10).content.decode("utf-8-sig"))
    )
    assert [p["order_number"] for p in parsed] == [withdrawals[1], withdrawals[0]]
    transfers = world.numbers["transfer"]
    assert numbers(get(api, "/reports/transfers", token, status="all", **WINDOW)) == [transfers[1], transfers[0]]
    assert numbers(get(api, "/reports/transfers", token, status="pending", **WINDOW)) == [transfers[0]]
    assert numbers(get(api, "/reports/transfers", token, status="all", order_number=transfers[1], **WINDOW)) == [
        transfers[1]
    ]
    row = get(api, "/reports/transfers", token, status="approved", **WINDOW).json()["list"][0]
    assert row["source_trading_account"]["account"] == "1001" and row["target_trading_account"]["account"] == "1002"


def test_scope_comes_from_the_token(api: ApiClient, world: World) -> None:
    d = world.numbers["deposit"]  # a: 0-3, b: 4, sub: 5, master: 6, c: 7
    seen = {
        "master": set(numbers(get(api, "/reports/deposits", world.master["token"], status="all", **WINDOW))),
        "sub": set(numbers(get(api, "/reports/deposits", world.sub["token"], status="all", **WINDOW))),
        "b": set(numbers(get(api, "/reports/deposits", world.b["token"], status="all", **WINDOW))),
        "admin": set(numbers(get(api, "/reports/deposits", world.admin, status="all", size=100, **WINDOW))),
    }
    assert seen["master"] == {d[0], d[1], d[2], d[4], d[5], d[6]}  # own, its client, its sub-IB and the sub's client
    assert seen["sub"] == {d[4], d[5]}  # its client and itself, not the master's
    assert seen["b"] == {d[4]}
    assert {d[0], d[4], d[5], d[6], d[7]} <= seen["admin"]
    assert d[7] not in seen["master"]  # an outsider is nobody's downline
    support = staff_token(api, *SUPPORT)
    assert get(api, "/reports/deposits", support, status="all").status == 403
    assert api.get("/reports/deposits?status=all").status == 401


# ---------------------------------------------------------------- trading reports


@pytest.fixture(scope="module")
def traded(api: ApiClient, world: World) -> dict[str, Any]:
    """A demo account for client a and one for b, synced from the simulated server."""
    from fxcrm.core.settings import get_settings
    from fxcrm.dal import trading
    from fxcrm.trading import sync

    accounts = {}
    for name, who in (("a", world.a), ("b", world.b)):
        account = trading.get_trading_account(open_demo_account(api, who["token"]))
        assert account is not None
        with pytest.MonkeyPatch.context() as patch:  # the server as it was at NOW: positions come and go
            patch.setattr(sync, "platform_for", lambda settings, server: _simulated({"server": server}))
            sync.sync_account(get_settings(), account, NOW, initial_days=10)
        accounts[name] = account
    return accounts


def _simulated(account: dict[str, Any]) -> Any:
    from fxcrm.adapters.trading.simulated import SimulatedPlatform

    return SimulatedPlatform(str(account["server"]), clock=lambda: datetime.fromtimestamp(NOW, UTC))


def _closed_trades(account: dict[str, Any]) -> list[Any]:
    start = datetime.fromtimestamp(int(account["created_at"]) - 10 * DAY, UTC)
    deals = _simulated(account).deals(int(account["login"]), start, datetime.fromtimestamp(NOW, UTC))
    return [d for d in deals if d.action in (0, 1) and d.entry == 1]


def test_history_orders_are_the_servers_closed_trades(api: ApiClient, world: World, traded: dict[str, Any]) -> None:
    account = traded["a"]
    expected = _closed_trades(account)
    assert expected, "the simulator generated no trades for this account"
    whole = {"start_time": show(NOW - 40 * DAY), "end_time": show(NOW)}
    reply = get(
        api, "/reports/history-orders", world.a["token"], trading_type="all", time_type="close", size=100, **whole
    ).json()
    assert reply["total"] == len(expected)
    by_number = {row["order_number"]: row for row in reply["list"]}
    for deal in expected:
        row = by_number[str(deal.position_id)]
        assert row["profit"] == f"{deal.profit:.2f}" and row["symbol"] == deal.symbol
        assert row["close_time"] == show(int(deal.time.timestamp()))
        assert row["trading_account"]["account"] == str(account["login"])
    closes = [row["close_time"] for row in reply["list"]]
    assert closes == sorted(closes, reverse=True)
    # every profit is in the account's currency (USD), converted at the close price
    contract = {"EURUSD": 100000, "GBPUSD": 100000, "USDJPY": 100000, "EURGBP": 100000, "XAUUSD": 100, "US30": 1}
    for row in (r for r in reply["list"] if r["open_price"]):
        sign = 1 if row["trading_type"] == "BUY" else -1
        close = Decimal(row["close_price"])
        in_quote = (close - Decimal(row["open_price"])) * sign * Decimal(row["volume"]) * contract[row["symbol"]]
        usd = {"USDJPY": in_quote / close, "EURGBP": in_quote * Decimal("1.2700")}.get(row["symbol"], in_quote)
        assert (row["currency"], row["profit"]) == ("USD", f"{usd.quantize(Decimal('0.01'))}"), row
    buys = get(
        api, "/reports/history-orders", world.a["token"], trading_type="BUY", time_type="close", size=100, **whole
    ).json()
    assert {r["trading_type"] for r in buys["list"]} <= {"BUY"} and buys["total"] == sum(
        1 for d in expected if d.action == 1
    )
    symbol = expected[0].symbol
    only = get(
        api,
        "/reports/history-orders",
        world.a["token"],
        trading_type="all",
        symbol=symbol,
        time_type="close",
        size=100,
        **whole,
    ).json()
    assert only["total"] == sum(1 for d in expected if d.symbol == symbol)


def test_history_time_type_open_or_close(api: ApiClient, world: World, traded: dict[str, Any]) -> None:
    expected = _closed_trades(traded["a"])
    cut = int(expected[len(expected) // 2].time.timestamp())
    window = {"start_time": show(cut - 6 * 3600), "end_time": show(cut)}
    token = world.a["token"]
    by_close = get(
        api, "/reports/history-orders", token, trading_type="all", time_type="close", size=100, **window
    ).json()
    by_open = get(
        api, "/reports/history-orders", token, trading_type="all", time_type="open", size=100, **window
    ).json()
    assert all(window["start_time"] <= r["close_time"] <= window["end_time"] for r in by_close["list"])
    assert all(window["start_time"] <= r["open_time"] <= window["end_time"] for r in by_open["list"])
    assert by_close["total"] == sum(1 for d in expected if cut - 6 * 3600 <= d.time.timestamp() <= cut)


def test_trading_scope_and_account_filters(api: ApiClient, world: World, traded: dict[str, Any]) -> None:
    whole = {
        "start_time": show(NOW - 40 * DAY),
        "end_time": show(NOW),
        "trading_type": "all",
        "time_type": "close",
        "size": 100,
    }
    b_account = traded["b"]
    b_total = len(_closed_trades(b_account))
    # a client naming another's account sees nothing of it
    assert (
        get(api, "/reports/history-orders", world.a["token"], trading_account_id=b_account["id"], **whole).json()[
            "total"
        ]
        == 0
    )
    # the master IB sees its sub-IB's client's trades; the sub-IB too; an outsider IB does not
    for token in (world.master["token"], world.sub["token"]):
        seen = get(api, "/reports/history-orders", token, trading_account_id=b_account["id"], **whole).json()
        assert seen["total"] == b_total
    assert (
        get(api, "/reports/history-orders", world.sub["token"], trading_account_id=traded["a"]["id"], **whole).json()[
            "total"
        ]
        == 0
    )
    assert get(api, "/reports/history-orders", world.a["token"], account=str(traded["a"]["login"]), **whole).json()[
        "total"
    ] == len(_closed_trades(traded["a"]))
    assert get(api, "/reports/history-orders", world.a["token"], server_id=1, **whole).json()["total"] == 0  # MT4-Demo
    staff = get(api, "/reports/history-orders", world.admin, trading_account_id=b_account["id"], **whole).json()
    assert staff["total"] == b_total


def test_positions_and_pending_orders(api: ApiClient, world: World, traded: dict[str, Any]) -> None:
    account = traded["a"]
    platform = _simulated(account)
    positions = platform.positions(int(account["login"]))
    pending = platform.orders(int(account["login"]))
    whole = {"start_time": show(0), "end_time": show(NOW + DAY), "trading_type": "all", "size": 100}
    shown = get(api, "/reports/positions", world.a["token"], **whole).json()
    assert sorted(r["order_number"] for r in shown["list"]) == sorted(str(p.ticket) for p in positions)
    assert all(r["leverage"] == 100 for r in shown["list"])
    orders = get(api, "/reports/pending-orders", world.a["token"], **whole).json()
    assert sorted(r["order_number"] for r in orders["list"]) == sorted(str(o.ticket) for o in pending)
    if pending:
        kind = orders["list"][0]["trading_type"]
        only = get(api, "/reports/pending-orders", world.a["token"], **(whole | {"trading_type": kind})).json()
        assert only["total"] >= 1 and {r["trading_type"] for r in only["list"]} == {kind}
    assert get(api, "/reports/positions", world.c["token"], **whole).json()["total"] == 0


# ---------------------------------------------------------------- exports


def lifetime(link: str) -> int:
    """Seconds a presigned link stays valid (SigV4's X-Amz-Expires or SigV2's Expires)."""
    from urllib.parse import parse_qs, urlparse

    query = parse_qs(urlparse(link).query)
    if "X-Amz-Expires" in query:
        return int(query["X-Amz-Expires"][0])
    return int(query["Expires"][0]) - int(time.time())


def _all_rows(api: ApiClient, path: str, token: str, **query: Any) -> list[dict[str, Any]]:
    reply = get(api, path, token, size=100, **query).json()
    assert reply["total"] <= 100
    return list(reply["list"])


def test_csv_and_xlsx_exports_hold_the_reports_rows(api: ApiClient, world: World, traded: dict[str, Any]) -> None:
    query = {"trading_type": "all", "time_type": "close", "start_time": show(NOW - 40 * DAY), "end_time": show(NOW)}
    rows = _all_rows(api, "/reports/history-orders", world.a["token"], **query)
    flat = [
        [r["order_number"], r["trading_account"]["account"], r["symbol"], r["profit"], r["close_time"]] for r in rows
    ]

    answer = api.post("/reports/history-orders/export", query | {"format": "csv"}, token=world.a["token"])
    assert answer.status == 200, answer.body
    link = answer.json()["download_url"]
    assert lifetime(link) <= 900 and "history-order-report_" in requests.utils.unquote(link)
    got = requests.get(link, timeout=10)
    parsed = list(csv.DictReader(io.StringIO(got.content.decode("utf-8-sig"))))
    assert [
        [p["order_number"], p["trading_account.account"], p["symbol"], p["profit"], p["close_time"]] for p in parsed
    ] == flat

    answer = api.post("/reports/history-orders/export", query | {"format": "xlsx"}, token=world.a["token"])
    book = openpyxl.load_workbook(
        io.BytesIO(requests.get(answer.json()["download_url"], timeout=10).content), read_only=True
    )
    sheet = list(book.active.iter_rows(values_only=True))
    header = list(sheet[0])
    picked = [
        [row[header.index(c)] for c in ("order_number", "trading_account.account", "symbol", "profit", "close_time")]
        for row in sheet[1:]
    ]
    assert picked == flat
    assert answer.json()["rows"] == len(rows)


def test_exports_show_formula_leading_values_as_text(api: ApiClient, world: World) -> None:
    """A client whose (valid) email is a formula, an auditor name starting with `@`:
    the CSV and XLSX show them as text with a leading quote, never as formulas;
    numbers, negative ones too, stay as they are."""
    email = f"=cmd|'/ccalc'!a0+{secrets.token_hex(3)}@x.example"  # stored lower-cased
    registered = register(api, email)
    owner = {"id": int(registered["user_info"]["id"]), "token": registered["token"]}
    world.order(owner, "deposit", "approved", 13, amount="-25.00", auditor_name="@SUM(1+9)*cmd|'/C calc'!A0")
    expected = {"user_name": "'" + email, "auditor_name": "'@SUM(1+9)*cmd|'/C calc'!A0", "amount": "-25.00"}

    answer = api.post("/reports/deposits/export", {"status": "all", **WINDOW, "format": "csv"}, token=owner["token"])
    assert answer.status == 200, answer.body
    text = requests.get(answer.json()["download_url"], timeout=10).content.decode("utf-8-sig")
    (parsed,) = list(csv.DictReader(io.StringIO(text)))
    assert {k: parsed[k] for k in expected} == expected and parsed["fee"] == "1.50"
    assert f'"\'{email}"' in text  # quoted, as OWASP says, so no separator inside can start a cell

    answer = api.post("/reports/deposits/export", {"status": "all", **WINDOW, "format": "xlsx"}, token=owner["token"])
    book = openpyxl.load_workbook(io.BytesIO(requests.get(answer.json()["download_url"], timeout=10).content))
    cells = [c for row in book.active.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f" or str(c.value or "").startswith("=")]
    header, values = ([c.value for c in row] for row in book.active.iter_rows())
    assert {k: values[header.index(k)] for k in expected} == expected


def test_money_exports_and_their_scope(api: ApiClient, world: World) -> None:
    answer = api.post("/reports/deposits/export", {"status": "all", **WINDOW}, token=world.sub["token"]).json()
    parsed = list(
        csv.DictReader(io.StringIO(requests.get(answer["download_url"], timeout=10).content.decode("utf-8-sig")))
    )
    assert {p["order_number"] for p in parsed} == {world.numbers["deposit"][4], world.numbers["deposit"][5]}
    assert "deposit-report_" in requests.utils.unquote(answer["download_url"])


def test_a_large_export_runs_in_the_background(api: ApiClient, world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    from fxcrm.core.settings import get_settings

    monkeypatch.setenv("EXPORT_INLINE_ROWS", "2")
    get_settings.cache_clear()
    try:
        started = api.post("/reports/deposits/export", {"status": "all", **WINDOW}, token=world.a["token"])
        assert started.status == 202, started.body
        job = started.json()
        assert (job["status"], job["download_url"]) == ("running", "")
        deadline = time.monotonic() + 20
        while (state := api.get(f"/reports/exports/{job['job_id']}", token=world.a["token"]).json())[
            "status"
        ] == "running":
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert state["status"] == "done" and state["rows"] == 3
        parsed = list(
            csv.DictReader(io.StringIO(requests.get(state["download_url"], timeout=10).content.decode("utf-8-sig")))
        )
        assert [p["order_number"] for p in parsed] == [world.numbers["deposit"][i] for i in (2, 1, 0)]
        assert api.get(f"/reports/exports/{job['job_id']}", token=world.b["token"]).status == 404
    finally:
        monkeypatch.delenv("EXPORT_INLINE_ROWS")
        get_settings.cache_clear()
        os.environ.pop("EXPORT_INLINE_ROWS", None)


def _seed_all_filters() -> list[tuple[int, str, str]]:
    """Every seed operation with an `all` in a filter enum (save-module's `all`
    is not a filter: tests/component/test_kyc.py)."""
    from tests.contract.test_seed_contract import SEED_ENUMS, SERVED

    return [
        (int(n), *SERVED[int(n)])
        for n, fields in sorted(SEED_ENUMS.items(), key=lambda kv: int(kv[0]))
        if n != "30" and any("all" in values for values in fields.values())
    ]


@pytest.mark.parametrize(("number", "method", "path"), _seed_all_filters())
def test_every_seed_all_filter_is_accepted_as_no_filter(
    api: ApiClient, world: World, number: int, method: str, path: str
) -> None:
    """Each operation answers the seed's `all` as it answers no filter (or every value)."""
    from tests.contract.test_seed_contract import SEED_ENUMS

    fields = SEED_ENUMS[str(number)]
    seeded = {name: "all" for name, values in fields.items() if "all" in values}
    token = world.admin
    if method == "get":
        reply = get(api, path, token, **seeded)
        assert reply.status == 200, reply.body
        for name in seeded:
            each = [get(api, path, token, **(seeded | {name: value})).json() for value in fields[name][1:]]
            if path.startswith("/reports/"):
                # the single values partition the rows: `all` holds every one of them
                assert reply.json()["total"] == sum(answer["total"] for answer in each)
            else:
                union = {str(row) for answer in each for row in answer["list"]}
                assert {str(row) for row in reply.json()["list"]} == union
    else:
        reply = api.post(path, seeded, token=token)
        assert reply.status == 200, reply.body
        assert reply.json()["status"] == "done"

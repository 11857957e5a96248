"""An IB's downline views cost their page, however many clients, sub-IBs and
levels the downline has: a master IB over 300 clients on three levels asks for
page 1 and a deep page of each list, and the AWS calls and the items DynamoDB
read are held. A list that went back to one Query per downline client (or a
read of every row before slicing) fails here."""

import time
from typing import Any

import pytest

from tests.support.api import ApiClient
from tests.support.aws_calls import AwsCalls
from tests.support.journeys import create_ib, login, unique_email

PER_LEVEL = 100
PASSWORD = "Ib-pass-2026"
NOW = int(time.time())
SIZE = 10
DEEP = 25  # rows 241-250 of 300
CLOSED = NOW - 2 * 86400  # client n's one trade closes n minutes after


def _client(template: dict[str, Any], ib_id: int, created_at: int, first_name: str) -> dict[str, Any]:
    from fxcrm.core import ids
    from fxcrm.core.caller import person_name
    from fxcrm.dal import users

    user = template | {
        "id": ids.new_id(),
        "email": unique_email("down"),
        "ib_id": ib_id,
        "created_at": created_at,
        **person_name(first_name, "Budget"),
    }
    users.create_user(user)
    return user


def _account(user: dict[str, Any], created_at: int) -> tuple[int, int]:
    from fxcrm.core import ids
    from fxcrm.core.settings import get_settings
    from fxcrm.dal import trading
    from fxcrm.trading import accounts
    from fxcrm.trading.accounts import Application

    account_type = trading.get_account_type("MT5", 201, True)
    assert account_type is not None
    application = Application("MT5", 201, 100, "USD", "Trade-Pass1", None)
    server = accounts.server_for("MT5", True)
    login_no = accounts.create_on_platform(get_settings(), server, account_type, user["email"], application)
    account_id = ids.new_id()
    accounts.record_account(account_id, int(user["id"]), application, account_type, server, login_no, True, created_at)
    return account_id, login_no


def _trade(user: dict[str, Any], account_id: int, login_no: int, n: int) -> dict[str, Any]:
    from decimal import Decimal

    close = CLOSED + n * 60
    return {
        "ticket": 7_000_000 + n,
        "position_id": 6_000_000 + n,
        "account_id": account_id,
        "user_id": int(user["id"]),
        "server": "MT5-Demo",
        "login": login_no,
        "symbol": "EURUSD",
        "side": n % 2,
        "volume_lots": Decimal("0.10"),
        "open_time": close - 600,
        "open_price": Decimal("1.1"),
        "close_time": close,
        "close_price": Decimal("1.2"),
        "profit": Decimal("1.50"),
        "commission": Decimal("-0.70"),
        "swap": Decimal(0),
    }


@pytest.fixture(scope="module")
def downline(api: ApiClient) -> dict[str, Any]:
    """Master > sub > sub-sub, 100 clients under each, one demo account each;
    half of each level's clients with KYC approved. Clients are created one
    second apart, newest last."""
    from fxcrm.adapters.trading import simulated
    from fxcrm.auth.accounts import new_user
    from fxcrm.dal import kyc, trading

    master = create_ib("bud", PASSWORD, NOW - 9 * 86400, first_name="Master")
    sub = create_ib("bud", PASSWORD, NOW - 9 * 86400, int(master["id"]), first_name="Sub")
    subsub = create_ib("bud", PASSWORD, NOW - 9 * 86400, int(sub["id"]), first_name="Deep")
    template = new_user("template@x.example", "Client-pass-1", "client", "client", NOW)  # one hash for all
    one_hash = str(template["password_hash"])
    clients: list[dict[str, Any]] = []
    logins: dict[int, int] = {}
    trades: list[dict[str, Any]] = []
    with pytest.MonkeyPatch.context() as patch:
        # the platform's password hashes are not what is measured: one for all
        patch.setattr(simulated, "hash_password", lambda _: one_hash)
        for n in range(3 * PER_LEVEL):
            parent = (master, sub, subsub)[n % 3]
            created = NOW - 8 * 86400 + n
            user = _client(template, int(parent["id"]), created, f"Budget{n:03d}")
            account_id, login_no = _account(user, created)
            logins[int(user["id"])] = login_no
            trades.append(_trade(user, account_id, login_no, n))
            if _approved(n):
                kyc.set_kyc_status(int(user["id"]), "approved", NOW)
            clients.append(user | {"via": int(parent["id"]), "n": n})
    trading.put_history_orders(trades, CLOSED + 86400)  # as TradeSync records them
    token = login(api, master["email"], PASSWORD).json()["token"]
    return {"master": master, "sub": sub, "subsub": subsub, "clients": clients, "logins": logins, "token": token}


def _approved(n: int) -> bool:
    return (n // 3) % 2 == 0  # 50 of each level's 100


def _newest_first(clients: list[dict[str, Any]]) -> list[int]:
    return [int(c["id"]) for c in sorted(clients, key=lambda c: int(c["created_at"]), reverse=True)]


def _measured(api: ApiClient, path: str, token: str) -> tuple[dict[str, Any], AwsCalls]:
    with AwsCalls() as calls:
        reply = api.get(path, token=token)
    assert reply.status == 200, reply.body
    return reply.json(), calls


def test_the_clients_list_costs_its_page_over_three_levels(api: ApiClient, downline: dict[str, Any]) -> None:
    expected = _newest_first(downline["clients"])
    first, calls = _measured(api, f"/ib/clients?page=1&size={SIZE}", downline["token"])
    assert first["total"] == 300
    assert [r["client_user_id"] for r in first["list"]] == expected[:SIZE]
    # the newest is a sub-sub-IB's client, shown through the sub-IB it signed with
    assert first["list"][0]["source"] == f"sub_ib:{downline['subsub']['id']}"
    # per row: its accounts (Query + BatchGetItem) and its newest trade (one item per account)
    assert calls.total <= 10 + 3 * SIZE, calls.counts
    assert calls.items_read <= 4 * SIZE + 5 * SIZE + 10, calls.items_read

    deep, calls = _measured(api, f"/ib/clients?page={DEEP}&size={SIZE}", downline["token"])
    assert [r["client_user_id"] for r in deep["list"]] == expected[(DEEP - 1) * SIZE : DEEP * SIZE]
    # the merge of the four flag partitions reads up to the page, a chunk at a time
    assert calls.items_read <= DEEP * SIZE + 4 * SIZE + 5 * SIZE + 10, calls.items_read
    assert calls.counts["dynamodb.Query"] <= DEEP * SIZE // SIZE + 4 + 2 * SIZE, calls.counts


def test_the_kyc_and_status_filters_read_only_their_partitions(api: ApiClient, downline: dict[str, Any]) -> None:
    approved = [c for c in downline["clients"] if _approved(c["n"])]
    shown, calls = _measured(api, f"/ib/clients?kyc_status=approved&size={SIZE}", downline["token"])
    assert shown["total"] == 150
    assert [r["client_user_id"] for r in shown["list"]] == _newest_first(approved)[:SIZE]
    assert {r["kyc_status"] for r in shown["list"]} == {"approved"}
    assert calls.items_read <= 2 * SIZE + 5 * SIZE + 10, calls.items_read
    others = api.get(f"/ib/clients?kyc_status=disapproved&status=enabled&size={SIZE}", token=downline["token"]).json()
    assert others["total"] == 150 and "approved" not in {r["kyc_status"] for r in others["list"]}
    assert api.get("/ib/clients?status=disabled", token=downline["token"]).json()["total"] == 0
    # the sub-IB sees its own two levels only
    sub_token = login(api, downline["sub"]["email"], PASSWORD).json()["token"]
    assert api.get("/ib/clients?size=1", token=sub_token).json()["total"] == 200


def test_one_client_by_id_is_one_read(api: ApiClient, downline: dict[str, Any]) -> None:
    deepest = downline["clients"][2]  # under the sub-sub-IB: level 3 from the master
    shown, calls = _measured(api, f"/ib/clients?client_user_id={deepest['id']}", downline["token"])
    assert [r["client_user_id"] for r in shown["list"]] == [int(deepest["id"])] and shown["total"] == 1
    assert calls.total <= 10, calls.counts
    # a user outside the downline is not found through its id
    outsider = create_ib("bud", PASSWORD, NOW - 86400, first_name="Out")
    assert api.get(f"/ib/clients?client_user_id={outsider['id']}", token=downline["token"]).json()["total"] == 0


def test_the_client_accounts_list_costs_its_page(api: ApiClient, downline: dict[str, Any]) -> None:
    by_age = sorted(downline["clients"], key=lambda c: int(c["created_at"]), reverse=True)
    expected = [str(downline["logins"][int(c["id"])]) for c in by_age]
    first, calls = _measured(api, f"/ib/client-accounts?size={SIZE}", downline["token"])
    assert first["total"] == 300
    assert [r["account_id"] for r in first["list"]] == expected[:SIZE]
    assert first["list"][0]["user_name"] == f"{by_age[0]['first_name']} Budget"
    # the page's accounts and owners in one BatchGetItem each; each row's balance from the (simulated) platform
    assert calls.items_read <= SIZE + 3 * SIZE + 10, calls.items_read
    assert calls.total <= 8 + 2 * SIZE, calls.counts

    deep, calls = _measured(api, f"/ib/client-accounts?page={DEEP}&size={SIZE}", downline["token"])
    assert [r["account_id"] for r in deep["list"]] == expected[(DEEP - 1) * SIZE : DEEP * SIZE]
    # one partition, read in chunks of up to 100 until the page's last row
    assert calls.items_read <= DEEP * SIZE + 100 + 3 * SIZE + 10, calls.items_read

    one, calls = _measured(api, f"/ib/client-accounts?account_id={expected[7]}", downline["token"])
    assert [r["account_id"] for r in one["list"]] == [expected[7]] and one["total"] == 1
    assert calls.items_read <= 5, calls.items_read


def test_a_name_filter_reads_the_ibs_own_entries_once(api: ApiClient, downline: dict[str, Any]) -> None:
    wanted = downline["clients"][123]
    shown, calls = _measured(api, f"/ib/clients?client_name={wanted['first_name'].upper()}", downline["token"])
    assert [r["client_user_id"] for r in shown["list"]] == [int(wanted["id"])] and shown["total"] == 1
    # one pass over the IB's 300 entries (four partitions), not one Query per client
    assert calls.counts["dynamodb.Query"] <= 4 + 3, calls.counts
    assert calls.items_read <= 300 + 10, calls.items_read
    accounts = api.get(f"/ib/client-accounts?user_name={wanted['first_name'].lower()}", token=downline["token"]).json()
    assert [r["account_id"] for r in accounts["list"]] == [str(downline["logins"][int(wanted["id"])])]


def test_the_ibs_history_order_report_costs_its_page(api: ApiClient, downline: dict[str, Any]) -> None:
    newest = [7_000_000 + n for n in reversed(range(3 * PER_LEVEL))]
    first, calls = _measured(api, f"/reports/history-orders?trading_type=all&size={SIZE}", downline["token"])
    assert first["total"] == 300
    assert [int(r["order_number"]) - 6_000_000 for r in first["list"]] == [t - 7_000_000 for t in newest[:SIZE]]
    assert first["list"][0]["user_name"] == "Budget299 Budget"
    # one Query per month of the window, the day counters and two edge days' counts, the page's names
    assert calls.total <= 60 + SIZE, calls.counts
    assert calls.items_read <= 5 * SIZE + 3 * 300 // 100 + 40, calls.items_read

    deep, calls = _measured(api, f"/reports/history-orders?trading_type=all&page={DEEP}&size={SIZE}", downline["token"])
    want = newest[(DEEP - 1) * SIZE : DEEP * SIZE]
    assert [int(r["order_number"]) - 6_000_000 for r in deep["list"]] == [t - 7_000_000 for t in want]
    assert deep["total"] == 300
    assert calls.items_read <= DEEP * SIZE + 5 * SIZE + 40, calls.items_read
    # a filter the counters cannot answer counts what it reads (the IB's window, not per client)
    sells, calls = _measured(api, f"/reports/history-orders?trading_type=SELL&size={SIZE}", downline["token"])
    assert sells["total"] == 150 and {r["trading_type"] for r in sells["list"]} == {"SELL"}
    assert calls.counts["dynamodb.Query"] <= 60, calls.counts
    sub_token = login(api, downline["sub"]["email"], PASSWORD).json()["token"]
    assert api.get("/reports/history-orders?trading_type=all&size=1", token=sub_token).json()["total"] == 200


def test_the_ibs_position_report_reads_its_accounts_from_its_index(api: ApiClient, downline: dict[str, Any]) -> None:
    """Open positions are per account snapshots: the IB's 300 accounts come
    from one partition of its index and their snapshots in batches, not from
    a Query per client."""
    shown, calls = _measured(api, "/reports/positions?trading_type=all", downline["token"])
    assert shown == {"list": [], "total": 0}  # nothing synced for these accounts
    assert calls.counts["dynamodb.Query"] <= 3, calls.counts
    assert calls.total <= 3 + 2 * (300 // 100 + 1), calls.counts


def test_moving_a_sub_ib_moves_its_whole_downline(api: ApiClient, downline: dict[str, Any], admin: str) -> None:
    """The sub-sub-IB and its 100 clients leave the master's tree for another
    IB's: the lists and totals of every IB involved follow at once."""
    other = create_ib("bud", PASSWORD, NOW - 9 * 86400, first_name="Other")
    other_token = login(api, other["email"], PASSWORD).json()["token"]
    subsub = int(downline["subsub"]["id"])
    # effective from the 150th client's trade: the trades closed since go with the move
    effective = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(CLOSED + 150 * 60))
    body = {"ib_id": int(other["id"]), "reason": "left", "effective_at": effective}
    moved = api.put(f"/admin/users/{subsub}/ib", body, token=admin)
    assert moved.status == 200, moved.body
    try:
        theirs = [c for c in downline["clients"] if c["via"] == subsub]
        mine = [c for c in downline["clients"] if c["via"] != subsub]
        shown = api.get(f"/ib/clients?size={SIZE}", token=downline["token"]).json()
        assert shown["total"] == 200 and [r["client_user_id"] for r in shown["list"]] == _newest_first(mine)[:SIZE]
        taken = api.get(f"/ib/clients?size={SIZE}&kyc_status=approved", token=other_token).json()
        approved = [c for c in theirs if _approved(c["n"])]
        assert taken["total"] == len(approved) == 50
        assert [r["client_user_id"] for r in taken["list"]] == _newest_first(approved)[:SIZE]
        assert {r["source"] for r in taken["list"]} == {f"sub_ib:{subsub}"}
        assert api.get("/ib/client-accounts?size=1", token=other_token).json()["total"] == 100
        assert api.get("/ib/client-accounts?size=1", token=downline["token"]).json()["total"] == 200
        sub_token = login(api, downline["sub"]["email"], PASSWORD).json()["token"]
        assert api.get("/ib/clients?size=1", token=sub_token).json()["total"] == 100
        # the sub-sub-IB's clients' trades since the effective time moved; those before stay history
        later = [7_000_000 + c["n"] for c in theirs if c["n"] >= 150]
        report = api.get(f"/reports/history-orders?trading_type=all&size={SIZE}", token=other_token).json()
        assert report["total"] == len(later) == 50
        assert [int(r["order_number"]) - 6_000_000 for r in report["list"]] == [
            t - 7_000_000 for t in sorted(later, reverse=True)[:SIZE]
        ]
        assert (
            api.get("/reports/history-orders?trading_type=all&size=1", token=downline["token"]).json()["total"] == 250
        )
    finally:
        back = api.put(
            f"/admin/users/{subsub}/ib", {"ib_id": int(downline["sub"]["id"]), "reason": "back"}, token=admin
        )
        assert back.status == 200, back.body
    assert api.get("/ib/clients?size=1", token=downline["token"]).json()["total"] == 300
    assert api.get("/ib/clients?size=1", token=other_token).json()["total"] == 0

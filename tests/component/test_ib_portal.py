"""The IB portal through the real handlers: profile with referral link and QR
code, clients attributed by invite code (and through a sub-IB), their
accounts, rebate records and the commission reports with an export, each
limited to the caller's own downline or records."""

import csv
import io
import time
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import pytest
import requests
import segno

from tests.component.test_rebates import Trades, settle_until
from tests.support.api import ApiClient
from tests.support.demo import ADMIN
from tests.support.journeys import create_ib, login, open_demo_account, register, staff_token, unique_email

NOW = int(time.time())


def new_ib(api: ApiClient, parent: int | None = None, name: str = "Ira") -> dict[str, Any]:
    """An IB (its last name its referral code), logged in."""
    user = create_ib("pib", "Ib-pass-2026", NOW - 40 * 86400, parent, first_name=name)
    token = login(api, user["email"], "Ib-pass-2026").json()["token"]
    return {"id": int(user["id"]), "code": user["referral_code"], "token": token}


@pytest.fixture(scope="module")
def tree(api: ApiClient) -> dict[str, Any]:
    master = new_ib(api, name="Master")
    sub = new_ib(api, master["id"], name="Sub")
    outsider = new_ib(api, name="Other")
    direct = register(api, unique_email("direct"), invite_code=master["code"])
    indirect = register(api, unique_email("indirect"), invite_code=sub["code"])
    stranger = register(api, unique_email("stranger"))
    return {
        "master": master,
        "sub": sub,
        "outsider": outsider,
        "direct": {
            "id": int(direct["user_info"]["id"]),
            "token": direct["token"],
            "email": direct["user_info"]["email"],
        },
        "indirect": {
            "id": int(indirect["user_info"]["id"]),
            "token": indirect["token"],
            "email": indirect["user_info"]["email"],
        },
        "stranger": {"id": int(stranger["user_info"]["id"]), "token": stranger["token"]},
    }


def test_profile_has_the_referral_link_and_its_qr_code(api: ApiClient, tree: dict[str, Any]) -> None:
    from fxcrm.core.settings import get_settings

    master = tree["master"]
    reply = api.get("/ib/profile", token=master["token"])
    assert reply.status == 200, reply.body
    shown = reply.json()
    link = f"{get_settings().portal_url}/register?invite_code={master['code']}"
    assert (shown["ReferralCode"], shown["ReferralLink"]) == (master["code"], link)
    assert shown["kyc_status"] == "filling"
    image = requests.get(shown["QRCodeURL"], timeout=10).content
    expected = io.BytesIO()
    segno.make(link, error="m").save(expected, kind="png", scale=8, border=2)
    assert image == expected.getvalue()  # the code of exactly this link
    assert api.get("/ib/profile", token=tree["direct"]["token"]).status == 403


def test_clients_of_the_whole_downline_with_filters(api: ApiClient, tree: dict[str, Any]) -> None:
    master = tree["master"]["token"]
    rows = api.get("/ib/clients", token=master).json()
    by_id = {r["client_user_id"]: r for r in rows["list"]}
    assert set(by_id) == {tree["direct"]["id"], tree["indirect"]["id"]}
    assert by_id[tree["direct"]["id"]]["source"] == "direct"
    assert by_id[tree["indirect"]["id"]]["source"] == f"sub_ib:{tree['sub']['id']}"
    only = api.get(f"/ib/clients?email={tree['indirect']['email'][:12].upper()}", token=master).json()
    assert [r["client_user_id"] for r in only["list"]] == [tree["indirect"]["id"]]
    assert api.get(f"/ib/clients?client_user_id={tree['direct']['id']}", token=master).json()["total"] == 1
    assert api.get("/ib/clients?kyc_status=approved", token=master).json()["total"] == 0
    assert api.get("/ib/clients?status=enabled", token=master).json()["total"] == 2
    assert api.get("/ib/clients?status=disabled", token=master).json()["total"] == 0
    sub = api.get("/ib/clients", token=tree["sub"]["token"]).json()
    assert [r["client_user_id"] for r in sub["list"]] == [tree["indirect"]["id"]]
    assert api.get("/ib/clients", token=tree["outsider"]["token"]).json()["total"] == 0


def test_client_accounts_with_balances(api: ApiClient, tree: dict[str, Any]) -> None:
    demo = {
        "currency": "USD",
        "is_demo": True,
        "leverage": 200,
        "password": "Trade-Pass1",
        "trading_account_type_id": 201,
        "trading_platform": "MT5",
    }
    opened = api.post("/trading-accounts", demo, token=tree["indirect"]["token"])
    assert opened.status == 201, opened.body
    login_no = api.get(f"/trading-accounts/{opened.json()['id']}", token=tree["indirect"]["token"]).json()["account"]
    rows = api.get("/ib/client-accounts", token=tree["master"]["token"]).json()
    assert rows["total"] == 1
    row = rows["list"][0]
    assert (row["account_id"], row["leverage"], row["balance"]) == (login_no, 200, "10000.00")
    assert api.get(f"/ib/client-accounts?account_id={login_no}", token=tree["sub"]["token"]).json()["total"] == 1
    assert api.get("/ib/client-accounts?account_id=1", token=tree["master"]["token"]).json()["total"] == 0
    assert api.get("/ib/client-accounts", token=tree["outsider"]["token"]).json()["total"] == 0


def test_rebates_and_commission_reports(api: ApiClient, tree: dict[str, Any]) -> None:
    clean_slate = NOW - 3 * 86400
    client = Trades(tree["indirect"]["id"])
    t = clean_slate + 30 * 3600
    client.close("EURUSD", "1.00", t, t + 3600, profit="25.50")  # sub: 5.00 (level 1), master: 2.00 (level 2)
    settle_until(clean_slate + 34 * 3600)

    sub_rebates = api.get("/ib/rebates", token=tree["sub"]["token"]).json()
    assert sub_rebates["total"] == 1
    rebate = sub_rebates["list"][0]
    assert (rebate["symbol"], rebate["trade_profit"], rebate["rebate_type"]) == ("EURUSD", "25.50", "per_lot")
    assert rebate["payment_time"] != ""

    records = api.get("/ib/commissions", token=tree["master"]["token"]).json()
    assert records["total"] == 1 and records["list"][0]["total_amount"] == "2.00"
    record_id = records["list"][0]["id"]
    details = api.get(f"/ib/commission-details?rebate_aggregation_id={record_id}", token=tree["master"]["token"]).json()
    assert details["total"] == 1
    detail = details["list"][0]
    assert detail["amount"] == "2.00" and detail["volume"] == 1.0
    assert detail["sub_ib_user_name"].startswith("Sub") and detail["ib_user_name"].startswith("Master")
    assert "rule forex-2, level 2" in detail["trigger_event"] and "1 lots x 2 USD/lot" in detail["trigger_event"]
    # another IB's record id shows nothing
    assert (
        api.get(f"/ib/commission-details?rebate_aggregation_id={record_id}", token=tree["outsider"]["token"]).json()[
            "total"
        ]
        == 0
    )
    assert api.get("/ib/commissions", token=tree["outsider"]["token"]).json()["total"] == 0
    assert api.get("/ib/commissions", token=tree["direct"]["token"]).status == 403

    exported = api.post(
        "/ib/commission-details/export", {"rebate_aggregation_id": str(record_id)}, token=tree["master"]["token"]
    ).json()
    parsed = list(
        csv.DictReader(io.StringIO(requests.get(exported["download_url"], timeout=10).content.decode("utf-8-sig")))
    )
    assert [(p["mt_order_number"], p["amount"]) for p in parsed] == [(detail["mt_order_number"], "2.00")]
    exported = api.post(
        "/ib/commissions/export", {"time_search_type": "grant_at"}, token=tree["master"]["token"]
    ).json()
    parsed = list(
        csv.DictReader(io.StringIO(requests.get(exported["download_url"], timeout=10).content.decode("utf-8-sig")))
    )
    assert [p["id"] for p in parsed] == [str(record_id)]
    day = time.strftime("%Y-%m-%d", time.gmtime(NOW + 86400))
    later = api.get(f"/ib/commission-details?start_time={day}", token=tree["master"]["token"]).json()
    assert later["total"] == 0  # calculated today, not tomorrow
    assert Decimal(records["list"][0]["total_amount"]) == Decimal("2.00")


def test_staff_see_the_rebates_by_ib(api: ApiClient, tree: dict[str, Any]) -> None:
    admin = staff_token(api, *ADMIN)
    rows = api.get(f"/admin/rebates?ib_id={tree['sub']['id']}", token=admin).json()
    assert rows["total"] == 1 and rows["list"][0]["total_amount"] == "5.00"


def test_the_kyc_name_is_the_clients_name_everywhere(api: ApiClient) -> None:
    """The name a client gives in KYC is the user's name at login, in the IB's
    lists, rebate records and reports and in the back office; each name filter
    finds it as a user would type it (any case, part of it, without accents)."""
    from tests.component.test_kyc import IDENTITY, save

    ib = new_ib(api, name="Nora")
    email = unique_email("named")
    registered = register(api, email, invite_code=ib["code"])
    client_id, token = int(registered["user_info"]["id"]), registered["token"]
    assert registered["user_info"]["full_name"] == ""  # no name before KYC
    identity = IDENTITY | {"first_name": "Zoë", "last_name": "Ångström", "full_name": "Zoë Ångström"}
    assert save(api, token, "identity", identity).status == 200

    info = login(api, email, "Secret-pass-1").json()["user_info"]
    assert (info["first_name"], info["last_name"], info["full_name"]) == ("Zoë", "Ångström", "Zoë Ångström")

    for typed in ("angst", "ZOË ÅNG", "ström zo"):
        found = api.get(f"/ib/clients?{urlencode({'client_name': typed})}", token=ib["token"]).json()
        assert [(r["client_user_id"], r["full_name"]) for r in found["list"]] == [(client_id, "Zoë Ångström")], typed
    assert api.get("/ib/clients?client_name=smith", token=ib["token"]).json()["total"] == 0

    open_demo_account(api, token)
    accounts_found = api.get("/ib/client-accounts?user_name=zoe", token=ib["token"]).json()
    assert [r["user_name"] for r in accounts_found["list"]] == ["Zoë Ångström"]
    assert api.get("/ib/client-accounts?user_name=nobody", token=ib["token"]).json()["total"] == 0

    clean_slate = NOW - 3 * 86400
    t = clean_slate + 45 * 3600
    Trades(client_id).close("EURUSD", "1.00", t, t + 3600)
    settle_until(clean_slate + 48 * 3600)
    rebate = api.get("/ib/rebates", token=ib["token"]).json()["list"][0]
    assert (rebate["client_user_name"], rebate["ib_user_name"]) == ("Zoë Ångström", f"Nora {ib['code']}")
    typed = urlencode({"client_user_name": "ÅNGSTRÖM"})
    details = api.get(f"/ib/commission-details?{typed}", token=ib["token"]).json()
    assert [d["client_user_name"] for d in details["list"]] == ["Zoë Ångström"]
    assert api.get("/ib/commission-details?client_user_name=nobody", token=ib["token"]).json()["total"] == 0

    admin = staff_token(api, *ADMIN)
    shown = api.get(f"/admin/users/{client_id}", token=admin).json()["user"]
    assert (shown["first_name"], shown["full_name"]) == ("Zoë", "Zoë Ångström")


def test_each_rebate_record_says_what_the_ib_earned_on_one_trade(api: ApiClient) -> None:
    """A rebate record is one trade at one level: its own rebate_id, the
    client's trade result as trade_profit, and the IB's rebate with its currency."""
    master = new_ib(api, name="Mara")
    sub = new_ib(api, master["id"], name="Sami")
    registered = register(api, unique_email("earner"), invite_code=sub["code"])
    client = Trades(int(registered["user_info"]["id"]))
    clean_slate = NOW - 3 * 86400
    t = clean_slate + 52 * 3600
    client.close("EURUSD", "1.00", t, t + 3600, profit="-12.30")  # sub 5.00, master 2.00
    client.close("EURUSD", "0.50", t, t + 1800, profit="40.00")  # sub 2.50, master 1.00
    settle_until(clean_slate + 60 * 3600)

    def rows(ib: dict[str, Any]) -> list[dict[str, Any]]:
        found = api.get("/ib/rebates", token=ib["token"]).json()["list"]
        return sorted(found, key=lambda r: r["trade_profit"])

    earned = rows(sub)
    assert [(r["trade_profit"], r["rebate_amount"], r["rebate_currency"]) for r in earned] == [
        ("-12.30", "5.00", "USD"),
        ("40.00", "2.50", "USD"),
    ]
    [record] = api.get("/ib/commissions", token=sub["token"]).json()["list"]
    assert record["total_amount"] == "7.50"
    assert {r["rebate_aggregation_id"] for r in earned} == {record["id"]}  # one run paid both
    above = rows(master)
    assert [r["rebate_amount"] for r in above] == ["2.00", "1.00"]
    ids = [r["rebate_id"] for r in earned + above]
    assert len(set(ids)) == 4  # each trade and level is its own row, not the run
    assert earned == rows(sub)  # and keeps its id

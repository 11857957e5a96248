"""The Partner API's GetCommissionRecords answers one page of records in a
window, each with one page of its balance records and how many it has, so an
IB with years of records and tens of thousands of details gets an answer far
below Lambda's 6 MB limit, at the cost of its page."""

import time
from typing import Any

from tests.component.test_client_api import API_PASSWORD, call, request_token
from tests.component.test_ib_portal import new_ib
from tests.component.test_rebates import Trades, settle_until
from tests.support.api import ApiClient
from tests.support.aws_calls import AwsCalls
from tests.support.journeys import register, unique_email

HOUR = 3600


def test_commission_records_come_a_page_at_a_time(api: ApiClient) -> None:
    ib = new_ib(api)
    client = Trades(int(register(api, unique_email("pp"), invite_code=ib["code"])["user_info"]["id"]))
    start = int(time.time()) - 3 * 86400 + 70 * HOUR
    for run in range(3):  # three runs: three records, of 1, 2 and 3 trades
        t = start + run * 4 * HOUR
        for n in range(run + 1):
            client.close("EURUSD", "1.00", t + n * 60, t + n * 60 + 600)
        settle_until(t + 2 * HOUR, since=t - 1)
    assert api.put("/ib/api-access", {"enabled": True, "level": "closed", "password": API_PASSWORD}, token=ib["token"])
    token = request_token(api, ib["id"], kind="Partner").body.decode()

    def records(query: str = "") -> Any:
        return call(api, "GetCommissionRecords", ib["id"], token, kind="partner", query=query)

    every = records().json()
    portal = api.get("/ib/commissions", token=ib["token"]).json()["list"]
    assert [r["Id"] for r in every] == [p["id"] for p in portal]  # the portal's records, in its order
    assert sorted(r["TotalDetails"] for r in every) == [1, 2, 3]
    assert [len(r["BalanceRecords"]) for r in every] == [r["TotalDetails"] for r in every]
    biggest = max(every, key=lambda r: r["TotalDetails"])
    with AwsCalls() as calls:
        second = records("?page=2&size=1&details_size=1").json()
    assert [r["Id"] for r in second] == [every[1]["Id"]]
    assert [b["Id"] for b in second[0]["BalanceRecords"]] == [every[1]["BalanceRecords"][0]["Id"]]
    # the caller's checks, then one Query of the records' page and one of the details' page
    assert calls.counts["dynamodb.Query"] == 2 and calls.items_read <= 3 + 2 + 3, (calls.counts, calls.items_read)
    page = every.index(biggest) + 1
    next_details = records(f"?page={page}&size=1&details_page=2&details_size=2").json()
    assert [b["Id"] for b in next_details[0]["BalanceRecords"]] == [biggest["BalanceRecords"][2]["Id"]]
    assert records("?page=4&size=1").json() == []

    # the window: by default the last 30 days, at most 366 days
    old = time.strftime("%Y-%m-%d", time.gmtime(time.time() - 20 * 86400))
    assert records(f"?to={old}").json() == []
    wide = records("?from=2020-01-01&to=2021-06-01")
    assert (wide.status, wide.json()["field"]) == (422, "from")
    too_many = records("?size=100&details_size=1000")
    assert (too_many.status, too_many.json()["field"]) == (422, "details_size")
    assert records("?size=101").status == 422


def test_the_ibs_rebates_read_only_their_page(api: ApiClient) -> None:
    """`/ib/rebates` reads its page's details (and their names in one batch),
    not every detail the IB ever earned; the total is counted, not read."""
    ib = new_ib(api)
    clients = [
        Trades(int(register(api, unique_email("rb"), invite_code=ib["code"])["user_info"]["id"])) for _ in range(3)
    ]
    t = int(time.time()) - 3 * 86400 + 90 * HOUR
    for n, client in enumerate(clients):
        client.close("EURUSD", "1.00", t + n * 60, t + n * 60 + 600)
    settle_until(t + 2 * HOUR, since=t - 1)
    every = api.get("/ib/rebates", token=ib["token"]).json()
    assert every["total"] == 3
    with AwsCalls() as calls:
        second = api.get("/ib/rebates?page=2&size=1", token=ib["token"]).json()
    assert second["total"] == 3 and [r["rebate_id"] for r in second["list"]] == [every["list"][1]["rebate_id"]]
    assert second["list"][0]["client_user_name"] == every["list"][1]["client_user_name"]
    # the caller, the IB's name and the row's record: GetItems; the names: one BatchGetItem
    assert calls.counts["dynamodb.GetItem"] <= 3 and calls.counts["dynamodb.BatchGetItem"] == 1, calls.counts
    # one Query up to the page's last row, one Select=COUNT
    assert calls.counts["dynamodb.Query"] == 2, calls.counts

"""AWS-call budgets of the lists (issue #20): with 300 rows in one scope, page 1
and a deep page read about their page and the total reads counters, so a
change that reads the whole list again fails here. Each list's rows and total
are checked against the seeded data too, filters included.

The rows sit in a window of their own, months before anything else the
session writes, so the staff-wide lists hold exactly these rows there."""

import time
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
import requests

from tests.support.api import ApiClient
from tests.support.aws_calls import AwsCalls
from tests.support.journeys import register, unique_email

DAY = 86400
ROWS = 300
# Whole days (UTC, the broker's zone here) from 300 days ago, two orders a day.
FIRST_DAY = (int(time.time()) // DAY - 300) * DAY
STATUSES = ("pending", "auditing", "disapproved", "approved", "approved", "approved", "approved")
METHODS = ("bank_transfer", "international_wire_transfer", "cryptocurrency")


def show(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S")


WINDOW = {"start_time": show(FIRST_DAY), "end_time": show(FIRST_DAY + (ROWS // 2) * DAY - 1)}


class Seeded:
    def __init__(self, api: ApiClient) -> None:
        from fxcrm.core import ids
        from fxcrm.dal import funding
        from fxcrm.funding.orders import order_number

        registered = register(api, unique_email("budget"))
        self.user_id, self.token = int(registered["user_info"]["id"]), registered["token"]
        self.orders: dict[str, list[dict[str, Any]]] = {"deposit": [], "withdrawal": []}
        account = {"account": "1001", "id": 1, "server_name": "fxcrm-MT5-Live", "server_type": "MT5-Live"}
        for kind in self.orders:
            for i in range(ROWS):
                order_id = ids.new_id()
                order = {
                    "id": order_id,
                    "order_number": order_number(kind, order_id),
                    "kind": kind,
                    "user_id": self.user_id,
                    "email": "budget@example.com",
                    "status": STATUSES[i % len(STATUSES)],
                    "amount": Decimal("10.00"),
                    "currency": "USD",
                    "account_id": 1,
                    "account": account,
                    "method": METHODS[i % 3],
                    "channel_name": "Bank",
                    "fee": Decimal("0"),
                    "created_at": FIRST_DAY + (i // 2) * DAY + 3600 * (1 + i % 2),
                }
                funding.create_order(order)
                self.orders[kind].append(order)

    def expected(self, kind: str, statuses: set[str], methods: set[str] | None = None) -> list[str]:
        rows = [o for o in self.orders[kind] if o["status"] in statuses and (not methods or o["method"] in methods)]
        return [o["order_number"] for o in sorted(rows, key=lambda o: (o["created_at"], o["order_number"]))][::-1]


@pytest.fixture(scope="module")
def seeded(api: ApiClient) -> Seeded:
    return Seeded(api)


def _get(api: ApiClient, path: str, token: str, **query: Any) -> tuple[dict[str, Any], AwsCalls]:
    text = "&".join(f"{k}={requests.utils.quote(str(v))}" for k, v in query.items())
    with AwsCalls() as calls:
        reply = api.get(f"{path}?{text}", token=token)
    assert reply.status == 200, reply.body
    assert not any(name.endswith(".Scan") for name in calls.counts)
    return reply.json(), calls


def _numbers(body: dict[str, Any]) -> list[str]:
    return [row["order_number"] for row in body["list"]]


EVERY = {"pending", "auditing", "approved", "disapproved"}
REPORTED = EVERY - {"pending"}  # the deposit report's `all`


def test_a_clients_history_reads_its_page(api: ApiClient, seeded: Seeded) -> None:
    expected = seeded.expected("deposit", EVERY)
    body, calls = _get(api, "/funding/deposits", seeded.token, page=1, size=10, **WINDOW)
    assert (_numbers(body), body["total"]) == (expected[:10], ROWS)
    # the caller, one Query per status, the total from the counters: not the 300 orders
    assert (calls.counts["dynamodb.GetItem"], calls.counts["dynamodb.BatchGetItem"]) == (1, 1)
    assert 4 <= calls.counts["dynamodb.Query"] <= 6  # a part read on grows its next Query
    assert calls.items_read - _counter_items(calls) <= 10 + 4 * 4  # the page, one small Query per status
    body, calls = _get(api, "/funding/deposits", seeded.token, page=8, size=10, **WINDOW)
    assert (_numbers(body), body["total"]) == (expected[70:80], ROWS)
    assert calls.items_read - _counter_items(calls) <= 2 * 80 + 4 * 4
    assert calls.counts["dynamodb.Query"] <= 12


def test_a_partial_day_at_the_edge_is_counted_by_a_query_of_that_day(api: ApiClient, seeded: Seeded) -> None:
    # from 02:00 on the first day (its second order) to 01:30 on the fourth (its first)
    start, end = FIRST_DAY + 2 * 3600, FIRST_DAY + 3 * DAY + 5400
    expected = [o for o in seeded.expected("deposit", EVERY) if start <= _created(seeded, o) <= end]
    body, calls = _get(api, "/funding/deposits", seeded.token, start_time=show(start), end_time=show(end))
    assert (_numbers(body), body["total"]) == (expected, 6)
    assert calls.items_read - _counter_items(calls) <= 6 + 4 * 2 * 2 + 4 * 4  # the page; each status on each edge day


def _created(seeded: Seeded, number: str) -> int:
    return next(int(o["created_at"]) for kind in seeded.orders.values() for o in kind if o["order_number"] == number)


def test_the_staff_deposit_report_reads_its_page_and_skips_the_months_before_it(
    api: ApiClient, admin: str, seeded: Seeded
) -> None:
    expected = seeded.expected("deposit", REPORTED)
    body, calls = _get(api, "/reports/deposits", admin, status="all", page=1, size=10, **WINDOW)
    assert (_numbers(body), body["total"]) == (expected[:10], len(expected))
    # statuses by shards of a month; the page starts in the window's last month, which holds a few rows
    parts = 2 * 3 * 2
    assert calls.counts["dynamodb.BatchGetItem"] == 1 and calls.counts["dynamodb.Query"] <= parts + 6
    assert calls.items_read - _counter_items(calls) <= 10 + parts * 3 + 10  # the page, first Queries, growth
    body, calls = _get(api, "/reports/deposits", admin, status="all", page=20, size=10, **WINDOW)
    assert (_numbers(body), body["total"]) == (expected[190:200], len(expected))
    # months wholly before the page are skipped unread: fewer items than the 200 rows before it
    assert calls.items_read - _counter_items(calls) < 190
    body, _ = _get(api, "/reports/deposits", admin, status="auditing", page=2, size=10, **WINDOW)
    assert (_numbers(body), body["total"]) == (seeded.expected("deposit", {"auditing"})[10:20], ROWS // 7 + 1)


def _counter_items(calls: AwsCalls) -> int:
    # what the BatchGetItem of the counters read is not the list's rows
    return calls.items_read_by.get("dynamodb.BatchGetItem", 0) + calls.items_read_by.get("dynamodb.GetItem", 0)


def test_the_withdrawal_report_filters_by_method_and_status_through_the_keys(
    api: ApiClient, admin: str, seeded: Seeded
) -> None:
    crypto = seeded.expected("withdrawal", {"approved"}, {"cryptocurrency"})
    body, calls = _get(
        api, "/reports/withdrawals", admin, status="approved", method="cryptocurrency", size=10, **WINDOW
    )
    assert (_numbers(body), body["total"]) == (crypto[:10], len(crypto))
    # only approved crypto withdrawals are read: two shards a month, no filter discarding others
    assert calls.items_read - _counter_items(calls) <= 10 + 2 * 3 + 10
    every = seeded.expected("withdrawal", REPORTED)
    body, _ = _get(api, "/reports/withdrawals", admin, status="all", method="all", page=3, size=25, **WINDOW)
    assert (_numbers(body), body["total"]) == (every[50:75], len(every))


def test_a_clients_own_report_reads_its_page(api: ApiClient, seeded: Seeded) -> None:
    approved = seeded.expected("deposit", {"approved"})
    body, calls = _get(api, "/reports/deposits", seeded.token, status="approved", page=3, size=10, **WINDOW)
    assert (_numbers(body), body["total"]) == (approved[20:30], len(approved))
    assert calls.items_read - _counter_items(calls) <= 2 * 30 + 5


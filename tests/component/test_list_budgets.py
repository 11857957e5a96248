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
        from fxcrm.dal.models.orders import order_from_item
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
                    "channel_id": 1,
                    "channel_name": "Bank",
                    "fee": Decimal("0"),
                    "created_at": FIRST_DAY + (i // 2) * DAY + 3600 * (1 + i % 2),
                }
                if kind == "withdrawal":  # what a withdrawal order carries (fxcrm.dal.models.orders)
                    order |= {
                        "exchange_rate": Decimal(1),
                        "remittance_amount": Decimal("10.00"),
                        "remittance_currency": "USD",
                        "details": {},
                    }
                funding.create_order(order_from_item(order))
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


# ---------------------------------------------------------------- the approval queue


APPLICATION = {
    "trading_platform": "MT5",
    "trading_account_type_name": "Standard",
    "leverage": 100,
    "currency": "USD",
}


@pytest.fixture(scope="module")
def queued(seeded: Seeded) -> int:
    """300 expired transfer items of the budget client's (besides whatever
    else the session queued), and three live applications of theirs."""
    from fxcrm.core import ids
    from fxcrm.dal import approvals
    from fxcrm.dal.models.approvals import ApprovalItem

    now = int(time.time())
    for i in range(ROWS + 3):
        approvals.create_approval(
            ApprovalItem(
                id=ids.new_id(),
                kind="transfer" if i < ROWS else "account_opening",
                status="expired",
                user_id=seeded.user_id,
                email="budget@example.com",
                summary={} if i < ROWS else APPLICATION,
                created_at=now - 100_000 + i,
                updated_at=now,
            )
        )
    return ROWS


def test_the_approval_queue_reads_its_page_and_counts_its_total(api: ApiClient, admin: str, queued: int) -> None:
    from fxcrm.dal import approvals

    every = [int(a["id"]) for a in approvals.list_queue("expired", "transfer")]  # the whole queue, read once
    assert len(every) >= queued
    for number in (1, 20):
        body, calls = _get(api, "/admin/approvals", admin, status="expired", kind="transfer", page=number, size=10)
        assert ([int(r["id"]) for r in body["list"]], body["total"]) == (
            every[(number - 1) * 10 : number * 10],
            len(every),
        )
        # the shards' Queries reach the page's end, not the queue's; the total is the counters' BatchGetItem
        assert calls.counts["dynamodb.BatchGetItem"] == 1
        assert calls.items_read - _counter_items(calls) <= number * 10 + 4 * 10
    body, _ = _get(api, "/admin/approvals", admin, status="expired", page=1, size=5)
    assert body["total"] == len(approvals.list_queue("expired", None))


# ---------------------------------------------------------------- the audit log

AUDIT_DAY = FIRST_DAY - 10 * DAY  # a day of its own, before anything the session audits


@pytest.fixture(scope="module")
def audited() -> list[dict[str, Any]]:
    """300 entries on one day: three actors, ten targets, two kinds of action."""
    from fxcrm.core import ids
    from fxcrm.dal import audit

    entries = []
    day = datetime.fromtimestamp(AUDIT_DAY, UTC).strftime("%Y-%m-%d")
    for i in range(ROWS):
        entry = {
            "id": ids.new_id(),
            "at": AUDIT_DAY + 60 * i,
            "actor_id": i % 3,
            "actor_email": f"staff{i % 3}@example.com",
            "actor_role": "admin",
            "action": "funding.settings" if i % 2 else "approvals.decide",
            "target": f"budget:{i % 10}",
            "before": {},
            "after": {},
            "source_ip": "203.0.113.9",
        }
        audit.append(entry, day)
        entries.append(entry)
    return entries[::-1]  # newest first


def test_the_audit_log_reads_its_page_by_day_target_and_actor(
    api: ApiClient, admin: str, audited: list[dict[str, Any]]
) -> None:
    day = datetime.fromtimestamp(AUDIT_DAY, UTC).strftime("%Y-%m-%d")

    def at(body: dict[str, Any]) -> list[str]:
        return [row["at"] for row in body["list"]]

    for number in (1, 15):
        body, calls = _get(api, "/admin/audit", admin, day=day, page=number, size=10)
        assert (at(body), body["total"]) == ([show(e["at"]) for e in audited][(number - 1) * 10 : number * 10], ROWS)
        assert calls.items_read - _counter_items(calls) <= number * 10  # one Query to the page's end
        assert calls.counts["dynamodb.BatchGetItem"] == 1  # the day's counter
    target = [e for e in audited if e["target"] == "budget:3"]
    body, calls = _get(api, "/admin/audit", admin, day=day, target="budget:3", size=10)
    assert (at(body), body["total"]) == ([show(e["at"]) for e in target][:10], len(target))
    # the target's trail of the day: the page, then a count of that trail's day (30 entries), not the day's 300
    assert calls.items_read - _counter_items(calls) <= 10 + len(target)
    mine = [e for e in audited if e["actor_email"] == "staff1@example.com" and e["action"].startswith("funding")]
    body, calls = _get(
        api, "/admin/audit", admin, day=day, actor="Staff1@example.com", action="funding", page=2, size=10
    )
    assert (at(body), body["total"]) == ([show(e["at"]) for e in mine][10:20], len(mine))
    assert calls.items_read - _counter_items(calls) <= 2 * (20 + ROWS // 3)  # within the actor's day only


# ---------------------------------------------------------------- back-office users


@pytest.fixture(scope="module")
def many_clients() -> int:
    from fxcrm.core import ids
    from fxcrm.dal import users

    for _ in range(ROWS):
        user_id = ids.new_id()
        users.create_user(
            {
                "id": user_id,
                "email": unique_email("budget-user"),
                "user_type": "client",
                "role": "client",
                "status": "enabled",
                "token_version": 0,
                "created_at": int(time.time()),
            }
        )
    return ROWS


def test_the_users_of_a_type_read_their_page_and_count_from_the_counter(
    api: ApiClient, admin: str, many_clients: int
) -> None:
    from fxcrm.dal import users
    from fxcrm.dal.table import Table

    every = sorted(
        (
            int(u["id"])
            for shard in range(users.SHARDS)
            for u in Table().query("gsi2pk = :pk", {":pk": f"USERS#client#{shard}"}, index="gsi2")
        ),
        reverse=True,
    )  # the whole type, read once for the expectation
    assert len(every) >= many_clients
    for number in (1, 20):
        body, calls = _get(api, "/admin/users", admin, user_type="client", page=number, size=10)
        shown = [int(u["id"]) for u in body["list"]]
        assert (shown, body["total"]) == (every[(number - 1) * 10 : number * 10], len(every))
        assert calls.counts["dynamodb.BatchGetItem"] == 1  # the type's counter
        assert calls.items_read - _counter_items(calls) <= number * 10 + users.SHARDS * 10


def test_a_clients_applications_read_only_their_kind(api: ApiClient, seeded: Seeded, queued: int) -> None:
    body, calls = _get(api, "/trading-accounts/applications", seeded.token, page=1, size=2)
    assert (len(body["list"]), body["total"]) == (2, 3)
    assert body["list"][0]["application_account_id"] > body["list"][1]["application_account_id"]  # newest first
    # the caller, two owner entries and their items, a count of three entries: not the 300 transfer entries
    assert calls.items_read <= 1 + 2 + 2 + 3
    assert dict(calls.counts) == {"dynamodb.GetItem": 1, "dynamodb.Query": 2, "dynamodb.BatchGetItem": 1}


def test_a_status_change_moves_the_order_between_lists_and_counts(api: ApiClient, admin: str, seeded: Seeded) -> None:
    from fxcrm.core import ids
    from fxcrm.dal import funding
    from fxcrm.dal.models.orders import order_from_item
    from fxcrm.funding.orders import order_number

    day = FIRST_DAY - 20 * DAY  # a day with nothing else on it
    window = {"start_time": show(day), "end_time": show(day + DAY - 1)}
    order_id = ids.new_id()
    number = order_number("transfer", order_id)
    account = {"account": "1001", "id": 1, "server_name": "fxcrm-MT5-Live", "server_type": "MT5-Live"}
    funding.create_order(
        order_from_item(
            {
                "id": order_id,
                "order_number": number,
                "kind": "transfer",
                "user_id": seeded.user_id,
                "email": "budget@example.com",
                "status": "pending",
                "amount": Decimal("5.00"),
                "currency": "USD",
                "account_id": 1,
                "account": account,
                "target_account_id": 2,
                "target_account": account | {"id": 2, "account": "1002"},
                "created_at": day + 600,
            }
        )
    )

    def seen(token: str) -> dict[str, tuple[list[str], int]]:
        found = {}
        for status in ("all", "pending", "auditing", "approved"):
            body, _ = _get(api, "/reports/transfers", token, status=status, **window)
            found[status] = (_numbers(body), body["total"])
        return found

    for token in (admin, seeded.token):  # staff-wide and the client's own
        assert seen(token) == {"all": ([number], 1), "pending": ([number], 1), "auditing": ([], 0), "approved": ([], 0)}
    funding.update_order(number, {"status": "auditing"}, ("pending",))
    for token in (admin, seeded.token):
        assert seen(token) == {"all": ([number], 1), "pending": ([], 0), "auditing": ([number], 1), "approved": ([], 0)}
    funding.update_order(number, {"status": "approved", "decided_at": day + 900}, ("auditing",))
    for token in (admin, seeded.token):
        assert seen(token) == {"all": ([number], 1), "pending": ([], 0), "auditing": ([], 0), "approved": ([number], 1)}
    with pytest.raises(funding.StatusChanged):  # no longer auditing: refused, nothing moves
        funding.update_order(number, {"status": "disapproved"}, ("pending", "auditing"))
    assert seen(admin)["approved"] == ([number], 1)

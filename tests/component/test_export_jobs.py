"""Exports that stream and background exports that always end.

- A background export whose worker never started, or died mid-way (a timeout,
  out of memory), shows `failed` with its reason once the worker's deadline has
  passed, never `running` for ever; a worker that arrives after that writes
  nothing. Lambda's on-failure record of the invocation fails the job too.
- An export reads its users' names in batches (BatchGetItem), not one GetItem
  per user, and reads Query pages as it consumes them."""

import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from localcloud.functions import Dispatcher
from tests.support.api import ApiClient
from tests.support.aws_calls import AwsCalls
from tests.support.journeys import register, unique_email

NOW = int(time.time())
# within the longest window a report takes (366 days; docs/api.md)
WINDOW = {
    "status": "all",
    "start_time": time.strftime("%Y-%m-%d 00:00:00", time.gmtime(NOW - 30 * 86400)),
    "end_time": time.strftime("%Y-%m-%d 23:59:59", time.gmtime(NOW + 86400)),
}


def _deposit(user_id: int, hours_ago: int) -> None:
    from fxcrm.core import ids
    from fxcrm.dal import funding
    from fxcrm.dal.models.orders import order_from_item
    from fxcrm.funding.orders import order_number

    order_id = ids.new_id()
    account = {"account": "1001", "id": 1, "server_name": "fxcrm-MT5-Live", "server_type": "MT5-Live"}
    funding.create_order(
        order_from_item(
            {
                "id": order_id,
                "order_number": order_number("deposit", order_id),
                "kind": "deposit",
                "user_id": user_id,
                "email": "x@example.com",
                "status": "approved",
                "amount": Decimal("10.00"),
                "currency": "USD",
                "account_id": 1,
                "account": account,
                "method": "bank_transfer",
                "channel_id": 1,
                "channel_name": "Bank",
                "fee": Decimal(0),
                "created_at": NOW - hours_ago * 3600,
                "submit_time": NOW - hours_ago * 3600,
            }
        )
    )


@pytest.fixture
def owner(api: ApiClient) -> dict[str, Any]:
    """A client with three deposits."""
    registered = register(api, unique_email("export"))
    user_id = int(registered["user_info"]["id"])
    for hours in (1, 2, 3):
        _deposit(user_id, hours)
    return {"id": user_id, "token": registered["token"]}


@pytest.fixture
def background(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, Any]]]:
    """Exports above two rows go to the background; the invocations are held here
    (as if Lambda had not run them yet) instead of running at once."""
    from fxcrm.adapters import functions
    from fxcrm.core.settings import get_settings

    held: list[dict[str, Any]] = []
    monkeypatch.setenv("EXPORT_INLINE_ROWS", "2")
    monkeypatch.setattr(functions, "invoke_async", lambda name, payload: held.append(payload))
    get_settings.cache_clear()
    yield held
    monkeypatch.delenv("EXPORT_INLINE_ROWS")
    get_settings.cache_clear()


def _start(api: ApiClient, owner: dict[str, Any]) -> str:
    started = api.post("/reports/deposits/export", WINDOW, token=owner["token"])
    assert started.status == 202, started.body
    assert started.json()["status"] == "running"
    return str(started.json()["job_id"])


def _state(api: ApiClient, owner: dict[str, Any], job_id: str) -> dict[str, Any]:
    reply = api.get(f"/reports/exports/{job_id}", token=owner["token"])
    assert reply.status == 200, reply.body
    return dict(reply.json())


def _later(monkeypatch: pytest.MonkeyPatch, seconds: int) -> None:
    from fxcrm.core import clock

    monkeypatch.setattr(clock, "now", lambda: int(time.time()) + seconds)


def test_a_job_no_worker_started_fails_after_the_start_allowance(
    api: ApiClient, owner: dict[str, Any], background: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    from fxcrm.core.settings import get_settings
    from fxcrm.reports import exports

    job_id = _start(api, owner)
    assert background == [{"export_job": job_id}]
    assert _state(api, owner, job_id)["status"] == "running"
    _later(monkeypatch, exports.START_SECONDS + 5)
    state = _state(api, owner, job_id)
    assert (state["status"], state["download_url"], state["error"]) == ("failed", "", exports.OVERDUE)
    # the event Lambda delivers late finds the job failed and writes nothing
    assert exports.run_job(get_settings(), job_id, int(time.time()), 900) == {"status": "nothing to do"}
    assert _state(api, owner, job_id)["status"] == "failed"


def test_a_worker_that_dies_mid_way_leaves_a_job_that_fails_at_its_deadline(
    api: ApiClient, owner: dict[str, Any], background: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    from fxcrm.core.settings import get_settings
    from fxcrm.reports import exports

    job_id = _start(api, owner)

    def killed(*_: Any) -> int:
        raise KeyboardInterrupt  # the runtime gone (timeout, out of memory): no except clause runs

    with monkeypatch.context() as patch:
        patch.setattr(exports, "_write", killed)
        with pytest.raises(KeyboardInterrupt):
            exports.run_job(get_settings(), job_id, int(time.time()), 60)
    assert _state(api, owner, job_id)["status"] == "running"  # the worker's invocation may still be going
    _later(monkeypatch, 61)
    state = _state(api, owner, job_id)
    assert (state["status"], state["error"]) == ("failed", exports.OVERDUE)


def test_an_export_that_raises_ends_failed_with_its_reason(
    api: ApiClient, owner: dict[str, Any], background: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    from fxcrm.core.settings import get_settings
    from fxcrm.reports import exports

    job_id = _start(api, owner)

    def broken(*_: Any) -> int:
        raise RuntimeError("S3 refused the part")

    monkeypatch.setattr(exports, "_write", broken)
    with pytest.raises(RuntimeError):
        exports.run_job(get_settings(), job_id, int(time.time()), 900)
    state = _state(api, owner, job_id)
    assert (state["status"], state["error"], state["rows"]) == ("failed", exports.FAILED, 0)


def test_the_on_failure_record_of_the_invocation_fails_the_job(
    api: ApiClient, dispatcher: Dispatcher, owner: dict[str, Any], background: list[dict[str, Any]]
) -> None:
    from fxcrm.core.settings import get_settings
    from fxcrm.reports import exports

    job_id = _start(api, owner)
    record = {  # what Lambda sends an on-failure destination once its retries are spent
        "version": "1.0",
        "requestContext": {"condition": "RetriesExhausted", "approximateInvokeCount": 3},
        "requestPayload": {"export_job": job_id},
        "responseContext": {"statusCode": 200, "functionError": "Unhandled"},
        "responsePayload": {"errorMessage": "Task timed out after 900.00 seconds"},
    }
    assert dispatcher.invoke(get_settings().reports_function_name, record) == {"status": "failed"}
    state = _state(api, owner, job_id)
    assert (state["status"], state["error"]) == ("failed", exports.FAILED)


def test_a_background_export_still_finishes_done(
    api: ApiClient, dispatcher: Dispatcher, owner: dict[str, Any], background: list[dict[str, Any]]
) -> None:
    from fxcrm.core.settings import get_settings

    job_id = _start(api, owner)
    assert dispatcher.invoke(get_settings().reports_function_name, background[0]) == {"status": "done", "rows": 3}
    state = _state(api, owner, job_id)
    assert (state["status"], state["rows"], state["error"]) == ("done", 3, "")
    assert state["download_url"].startswith("http")


def test_an_export_reads_user_names_in_batches(api: ApiClient, admin: str) -> None:
    """150 users' deposits: their names come from BatchGetItem, not a GetItem each."""
    from fxcrm.auth.accounts import new_user
    from fxcrm.core import passwords
    from fxcrm.dal import users

    made = []
    for n in range(150):
        with pytest.MonkeyPatch.context() as patch:  # one hash for all: hashing is not what is tested
            patch.setattr(passwords, "hash_password", lambda _password: "-")
            user = new_user(unique_email(f"named{n}"), "Secret-pass-1", "client", "client", NOW, first_name=f"N{n}")
        users.create_user(user)
        _deposit(int(user["id"]), 1)
        made.append(user)
    with AwsCalls() as calls:
        reply = api.post("/reports/deposits/export", WINDOW | {"format": "csv"}, token=admin)
    assert reply.status == 200, reply.body
    assert reply.json()["rows"] >= 150
    assert calls.counts["dynamodb.BatchGetItem"] >= 2  # 100 users to a request
    assert calls.counts["dynamodb.GetItem"] <= 3  # the caller (and settings), whatever the number of users


def test_a_stream_asks_for_the_next_page_only_when_this_one_is_consumed(api: ApiClient) -> None:
    from fxcrm.dal.table import Table

    table = Table()
    partition = f"STREAMTEST#{time.time_ns()}"
    table.batch_put([{"pk": partition, "sk": f"{n:03d}"} for n in range(5)])
    with AwsCalls() as calls:
        items = table.stream("pk = :pk", {":pk": partition}, page_items=2)
        assert calls.total == 0  # nothing read before the first item is asked for
        assert [next(items)["sk"], next(items)["sk"]] == ["000", "001"]
        assert calls.counts["dynamodb.Query"] == 1
        assert next(items)["sk"] == "002"
        assert calls.counts["dynamodb.Query"] == 2
        assert [i["sk"] for i in items] == ["003", "004"]
    assert calls.counts["dynamodb.Query"] == 3

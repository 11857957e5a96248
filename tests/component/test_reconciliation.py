"""Reconciliation: each finding kind is produced by breaking that thing on
purpose in the local cloud, and shows in `GET /admin/reconciliation/findings`
(and in the metrics the alarms watch)."""

import json
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import boto3
import pytest

from fxcrm.core import ids
from fxcrm.core.settings import get_settings
from localcloud.functions import Dispatcher
from localcloud.provision import Stack
from tests.component.test_funding_failures import Injected, Tasks, fail_task
from tests.component.test_funding_failures import tasks as tasks  # the fixture
from tests.support.api import ApiClient
from tests.support.aws_calls import AwsCalls
from tests.support.demo import CONTROLLER, SUPPORT
from tests.support.journeys import (
    Client,
    approval_waiting,
    decide,
    deposit,
    deposit_waiting,
    platform_balance,
    request_withdrawal,
    staff_token,
    wait_for,
)

HOUR = 3600
FINDINGS = "/admin/reconciliation/findings"


def listed(api: ApiClient, staff: str, **query: Any) -> Any:
    return api.get(f"{FINDINGS}?{urlencode(query)}", token=staff)


Reconcile = Callable[..., dict[str, Any]]


@pytest.fixture
def reconcile(stack: Stack, dispatcher: Dispatcher, monkeypatch: pytest.MonkeyPatch) -> Reconcile:
    """One run of the Reconciliation function (with its IAM role), as of `at` (default now)."""

    def run(at: int | None = None) -> dict[str, Any]:
        from fxcrm.core import clock

        with monkeypatch.context() as patched:
            if at is not None:
                patched.setattr(clock, "now", lambda: at)
            summary: dict[str, Any] = dispatcher.invoke(stack.functions["ReconciliationFunction"], {})
        return summary

    return run


def findings(api: ApiClient, staff: str, kind: str, run_id: int) -> list[dict[str, Any]]:
    """Every finding of a kind in the run, page by page."""
    rows: list[dict[str, Any]] = []
    page = 1
    while True:
        answer = listed(api, staff, kind=kind, run_id=run_id, page=page, size=100)
        assert answer.status == 200, answer.body
        body = answer.json()
        rows += body["list"]
        if len(rows) >= body["total"]:
            return rows
        page += 1


def the_finding(rows: list[dict[str, Any]], subject: str) -> dict[str, Any]:
    matching = [r for r in rows if r["subject"] == subject]
    assert len(matching) == 1, rows
    return matching[0]


def _table() -> Any:
    return boto3.resource("dynamodb").Table(get_settings().table_name)


def trading_account(account_id: int) -> dict[str, Any]:
    from fxcrm.dal import trading

    account = trading.get_trading_account(account_id)
    assert account is not None
    return dict(account)


def change_on_the_server(account_id: int, amount: int) -> dict[str, Any]:
    """Change the simulated server's balance behind the ledger's back (as a manager would
    in the MT5 manager): the account."""
    account = trading_account(account_id)
    key = {"pk": f"SIMACCT#{account['server']}#{account['login']}", "sk": "STATE"}
    _table().update_item(Key=key, UpdateExpression="ADD balance :gift", ExpressionAttributeValues={":gift": amount})
    return account


def test_a_balance_changed_behind_the_ledgers_back_is_found(
    api: ApiClient, admin: str, client: Client, reconcile: Reconcile
) -> None:
    account_id = client.accounts[0]
    account = change_on_the_server(account_id, 100)

    summary = reconcile()

    found = the_finding(findings(api, admin, "balance_mismatch", summary["id"]), str(account_id))
    assert (found["ledger_balance"], found["platform_balance"], found["difference"]) == ("0.00", "100.00", "100.00")
    assert (found["account_id"], found["login"], found["server"]) == (account_id, account["login"], "MT5-Live")
    # the untouched account agrees with its ledger
    assert str(client.accounts[1]) not in {
        r["subject"] for r in findings(api, admin, "balance_mismatch", summary["id"])
    }
    # a later run that still sees it keeps the first run's time
    again = reconcile(at=int(time.time()) + HOUR)
    assert (
        the_finding(findings(api, admin, "balance_mismatch", again["id"]), str(account_id))["since"] == found["since"]
    )


def test_money_in_flight_is_explained_by_the_ledger(
    api: ApiClient, admin: str, client: Client, reconcile: Reconcile
) -> None:
    """Deposited, then a withdrawal held on the server while it waits for staff: the
    server shows less than the ledger's posted balance, which its reservation explains."""
    account_id = client.accounts[0]
    deposit(api, admin, client, account_id, "200.00")
    number = request_withdrawal(api, client, account_id, "50.00")
    approval_waiting(api, admin, int(number[1:]))
    assert platform_balance(api, client, account_id) == Decimal("150.00")

    summary = reconcile()

    assert str(account_id) not in {r["subject"] for r in findings(api, admin, "balance_mismatch", summary["id"])}


def test_a_deposit_whose_flow_ended_in_needs_attention_is_found_and_counted(
    api: ApiClient,
    admin: str,
    client: Client,
    reconcile: Reconcile,
    tasks: Tasks,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The credit fails and so does every attempt to undo it: the execution ends
    in NeedsAttention (FAILED) while the order is still auditing."""
    fail_task(tasks, "deposit.credit", 99, Injected)
    fail_task(tasks, "deposit.compensate", 99, Injected)
    number = deposit_waiting(api, admin, client, "75.00")
    capsys.readouterr()
    assert decide(api, admin, number[1:], "approve").status == 200
    arn = get_settings().workflow_arn("deposit").replace(":stateMachine:", ":execution:") + f":deposit-{number[1:]}"
    sfn = boto3.client("stepfunctions")
    wait_for(lambda: sfn.describe_execution(executionArn=arn), "FAILED", timeout=120)
    assert emf(capsys.readouterr().out)["NeedsAttention"] == [1.0]

    summary = reconcile(at=int(time.time()) + 10 * 60)

    found = the_finding(findings(api, admin, "stalled_flow", summary["id"]), number)
    assert (found["order_number"], found["approval_kind"], found["amount"]) == (number, "deposit", "75.00")
    assert (found["execution_status"], found["account_id"]) == ("FAILED", client.accounts[0])


def test_a_deposit_whose_flow_still_runs_is_not_a_finding(
    api: ApiClient, admin: str, client: Client, reconcile: Reconcile
) -> None:
    number = deposit_waiting(api, admin, client, "76.00")
    summary = reconcile(at=int(time.time()) + 10 * 60)
    assert number not in {r["subject"] for r in findings(api, admin, "stalled_flow", summary["id"])}


def test_a_trade_left_unsettled_past_the_lag_is_found(
    api: ApiClient, admin: str, client: Client, reconcile: Reconcile
) -> None:
    from fxcrm.dal import rebates, trading

    account_id = client.accounts[1]
    account = trading_account(account_id)
    # recorded after whatever the session's settlement tests already settled up to
    now = max(int(time.time()), (rebates.get_watermark() or 0) + 1)
    trade = {
        "account_id": account_id,
        "user_id": client.id,
        "server": account["server"],
        "login": account["login"],
        "ticket": ids.new_id(),
        "position_id": ids.new_id(),
        "symbol": "EURUSD",
        "side": 0,
        "volume_lots": Decimal("1.5"),
        "open_time": now - 600,
        "open_price": Decimal("1.1"),
        "close_time": now - 60,
        "close_price": Decimal("1.2"),
        "profit": Decimal("150"),
        "commission": Decimal("-7"),
        "swap": Decimal(0),
    }
    trading.put_history_orders([trade], now)  # as TradeSync records it; no settlement run follows

    within_lag = reconcile(at=now + HOUR)
    assert str(account_id) not in {r["subject"] for r in findings(api, admin, "unsettled_trades", within_lag["id"])}

    lag = get_settings().settlement_lag_hours * HOUR
    summary = reconcile(at=now + lag + HOUR)
    found = the_finding(findings(api, admin, "unsettled_trades", summary["id"]), str(account_id))
    assert (found["trades"], found["lots"], found["login"]) == (1, "1.5", account["login"])


def test_an_approval_waiting_past_its_sla_is_found_and_counted_in_the_metric(
    api: ApiClient,
    admin: str,
    client: Client,
    reconcile: Reconcile,
    capsys: pytest.CaptureFixture[str],
) -> None:
    number = deposit_waiting(api, admin, client, "80.00")
    approval_id = int(number[1:])
    aged = int(time.time()) - (get_settings().approval_sla_hours + 1) * HOUR
    _table().update_item(
        Key={"pk": f"APPROVAL#{approval_id}", "sk": "APPROVAL"},
        UpdateExpression="SET created_at = :aged",
        ExpressionAttributeValues={":aged": aged},
    )
    capsys.readouterr()

    summary = reconcile()

    found = the_finding(findings(api, admin, "approval_past_sla", summary["id"]), str(approval_id))
    assert (found["approval_kind"], found["order_number"], found["amount"]) == ("deposit", number, "80.00")
    emitted = emf(capsys.readouterr().out)
    assert (
        emitted["ApprovalsPastSla"] == [float(summary["counts"]["approval_past_sla"])]
        and emitted["ApprovalsPastSla"][0] >= 1
    )
    assert "ReconciliationFindings" in emitted


def emf(output: str) -> dict[str, Any]:
    """The metrics of the EMF lines Powertools printed (name -> values), with their dimensions checked."""
    metrics: dict[str, Any] = {}
    for line in output.splitlines():
        if not line.startswith("{") or '"_aws"' not in line:
            continue
        record = json.loads(line)
        for directive in record["_aws"]["CloudWatchMetrics"]:
            # The template's namespace, which the alarms watch (tests/template), or the
            # tests' own: the process's one Metrics object takes whichever was set when
            # it was first imported, which depends on the tests that ran before.
            assert directive["Namespace"] in ("fxcrm", "fxcrm-test")
            for metric in directive["Metrics"]:
                metrics[metric["Name"]] = record[metric["Name"]]
                metrics[f"{metric['Name']}.dimensions"] = {d: record[d] for d in directive["Dimensions"][0]}
    return metrics


def test_a_server_that_does_not_answer_is_counted_and_compared_next_run(
    api: ApiClient,
    admin: str,
    client: Client,
    reconcile: Reconcile,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from fxcrm.adapters.trading.port import PlatformUnavailable
    from fxcrm.adapters.trading.simulated import SimulatedPlatform

    change_on_the_server(client.accounts[0], 7)

    def down(self: SimulatedPlatform, login: int) -> None:
        raise PlatformUnavailable("the server is down")

    with monkeypatch.context() as patched:
        patched.setattr(SimulatedPlatform, "account_state", down)
        capsys.readouterr()
        summary = reconcile()
    assert summary["accounts_checked"] == 0 and summary["accounts_unreachable"] >= 2
    assert emf(capsys.readouterr().out)["ReconciliationUnreachableAccounts"] == [float(summary["accounts_unreachable"])]
    assert str(client.accounts[0]) not in {
        r["subject"] for r in findings(api, admin, "balance_mismatch", summary["id"])
    }
    # back up: the difference shows
    later = reconcile()
    assert str(client.accounts[0]) in {r["subject"] for r in findings(api, admin, "balance_mismatch", later["id"])}


def test_findings_are_for_reconciliation_staff_and_name_a_bad_field(
    api: ApiClient, admin: str, reconcile: Reconcile
) -> None:
    reconcile()
    refused = api.get(FINDINGS, token=staff_token(api, *SUPPORT))
    assert refused.status == 403 and refused.json()["code"] == "permission_denied"
    assert api.get(FINDINGS, token=staff_token(api, *CONTROLLER)).status == 200  # who watches the money controls
    menus = {
        who: {m["key"] for m in api.get("/auth/menus", token=staff_token(api, *who)).json()["list"]}
        for who in (SUPPORT, CONTROLLER)
    }
    assert "admin.reconciliation" in menus[CONTROLLER] and "admin.reconciliation" not in menus[SUPPORT]
    bad = listed(api, admin, kind="everything")
    assert bad.status == 422 and bad.json()["field"] == "kind"
    unknown = listed(api, admin, run_id=12345)
    assert unknown.status == 404 and unknown.json()["field"] == "run_id"


def test_a_page_costs_its_own_rows_and_the_totals_are_the_runs_counts(
    api: ApiClient, admin: str, client: Client, reconcile: Reconcile
) -> None:
    for account_id in client.accounts:  # two findings at least
        change_on_the_server(account_id, 5)
    summary = reconcile()
    assert summary["total"] >= 2

    with AwsCalls() as calls:
        first = listed(api, admin, run_id=summary["id"], size=1, page=1).json()
    second = listed(api, admin, run_id=summary["id"], size=1, page=2).json()
    assert (first["total"], first["counts"]) == (summary["total"], summary["counts"])
    assert len(first["list"]) == len(second["list"]) == 1 and first["list"] != second["list"]
    # the caller, the run, one page: no count of items, no read beyond the page
    assert calls.counts == {"dynamodb.GetItem": 2, "dynamodb.Query": 1}, calls.counts
    past = listed(api, admin, run_id=summary["id"], size=1, page=10_000).json()
    assert past["list"] == [] and past["total"] == summary["total"]

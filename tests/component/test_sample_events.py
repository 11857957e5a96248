"""Every sample event in events/<group>/ is a valid API Gateway payload-2.0
event for its function: the handler answers it without a server error."""

import json
from pathlib import Path

import pytest

from localcloud.events import LocalContext
from localcloud.functions import load_function
from localcloud.provision import Stack
from localcloud.template import ROOT

EVENTS = sorted((ROOT / "events").glob("*/*.json"))
HTTP_EVENTS = [p for p in EVENTS if json.loads(p.read_text()).get("version") == "2.0"]


def _function_of(path: Path) -> str:
    """events/trade_sync/x.json belongs to TradeSyncFunction."""
    return "".join(part.capitalize() for part in path.parent.name.split("_")) + "Function"


@pytest.mark.parametrize("path", HTTP_EVENTS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_sample_event_is_answered(stack: Stack, path: Path) -> None:
    logical_id = _function_of(path)
    handler, _ = load_function(logical_id, stack.resolver.template["Resources"][logical_id]["Properties"])
    response = handler(json.loads(path.read_text()), LocalContext(stack.functions[logical_id]))
    assert 200 <= response["statusCode"] < 500
    if response["headers"].get("content-type", "").startswith("text/html"):  # the console page
        assert "<title>fxcrm" in response["body"]
        return
    body = json.loads(response["body"])
    assert isinstance(body, dict)
    if response["statusCode"] >= 400:
        assert {"code", "message"} <= set(body)  # the stable error shape


def test_there_is_a_sample_for_every_route() -> None:
    from localcloud.template import http_routes, load_template

    sampled = {
        (e["requestContext"]["http"]["method"], e["rawPath"]) for e in (json.loads(p.read_text()) for p in HTTP_EVENTS)
    }
    # every GET and POST route without path parameters has one (the PUTs need a staff token)
    routes = {(m, p) for m, p, _ in http_routes(load_template()) if m in ("GET", "POST") and "{" not in p}
    assert routes <= sampled


def test_scheduled_sample_event_runs_its_function(stack: Stack) -> None:
    import time

    from tests.component.test_trade_sync import bring_every_account_up_to

    bring_every_account_up_to(int(time.time()))
    path = ROOT / "events" / "trade_sync" / "scheduled.json"
    handler, _ = load_function(
        _function_of(path), stack.resolver.template["Resources"]["TradeSyncFunction"]["Properties"]
    )
    summary = handler(json.loads(path.read_text()), LocalContext(stack.functions["TradeSyncFunction"]))
    assert set(summary) == {"accounts", "deals", "positions", "orders", "failed_accounts", "demo_not_due"}
    assert summary["failed_accounts"] == 0


def test_scheduled_settlement_sample_runs_the_settlement(stack: Stack) -> None:
    path = ROOT / "events" / "settlement" / "scheduled.json"
    properties = stack.resolver.template["Resources"]["SettlementFunction"]["Properties"]
    handler, _ = load_function(_function_of(path), properties)
    summary = handler(json.loads(path.read_text()), LocalContext(stack.functions["SettlementFunction"]))
    assert summary["status"] in ("settled", "nothing to settle")


TASK_EVENTS = sorted((ROOT / "events" / "approval_tasks").glob("*.json"))


@pytest.mark.parametrize("path", TASK_EVENTS, ids=lambda p: p.stem)
def test_approval_task_samples_reach_their_task(stack: Stack, path: Path) -> None:
    """Each sample names a task the handler knows; for an approval id that does
    not exist the task reports NotFound (the error name Step Functions sees)."""
    from fxcrm.core.errors import NotFound

    properties = stack.resolver.template["Resources"]["ApprovalTasksFunction"]["Properties"]
    handler, module = load_function("ApprovalTasksFunction", properties)
    event = json.loads(path.read_text())
    assert event["task"] in module.TASKS
    with pytest.raises(NotFound):
        handler(event, LocalContext(stack.functions["ApprovalTasksFunction"]))
    with pytest.raises(ValueError, match="unknown task"):
        handler(event | {"task": "no_such_task"}, LocalContext(stack.functions["ApprovalTasksFunction"]))

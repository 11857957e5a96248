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


@pytest.mark.parametrize("path", EVENTS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_sample_event_is_answered(stack: Stack, path: Path) -> None:
    logical_id = f"{path.parent.name.capitalize()}Function"
    handler, _ = load_function(logical_id, stack.resolver.template["Resources"][logical_id]["Properties"])
    response = handler(json.loads(path.read_text()), LocalContext(stack.functions[logical_id]))
    assert 200 <= response["statusCode"] < 500
    body = json.loads(response["body"])
    assert isinstance(body, dict)
    if response["statusCode"] >= 400:
        assert {"code", "message"} <= set(body)  # the stable error shape


def test_there_is_a_sample_for_every_route() -> None:
    from localcloud.template import http_routes, load_template

    sampled = {
        (e["requestContext"]["http"]["method"], e["rawPath"]) for e in (json.loads(p.read_text()) for p in EVENTS)
    }
    # every GET and POST route without path parameters has one (the PUTs need a staff token)
    routes = {(m, p) for m, p, _ in http_routes(load_template()) if m in ("GET", "POST") and "{" not in p}
    assert routes <= sampled

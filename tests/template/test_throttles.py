"""The HTTP API's throttles per route group (docs/operations.md, Throttles):
login and other secret checks, money writes and public reads each have their
own per-route limit; every other route keeps the stage default."""

from typing import Any

import pytest

LOGIN = {
    "POST /auth/login",
    "POST /auth/register",
    "POST /auth/password",
    "POST /auth/email-codes",
    "POST /auth/captcha/verify",
    "POST /auth/totp/verification",
    "POST /api/Authentication/RequestClientApiToken",
    "POST /api/Authentication/RequestPartnerApiToken",
}
MONEY = {
    "POST /funding/deposits",
    "POST /funding/deposits/submit",
    "POST /funding/withdrawals",
    "POST /funding/transfers",
    "POST /admin/approvals/{approval_id}/decision",
    "POST /admin/funding/withdrawals/{order_number}/payout-status",
    "POST /admin/rebates/{aggregation_id}/grant",
    "POST /admin/rebates/settlement",
    "POST /admin/rebates/recompute",
}
PUBLIC_READS = {
    "GET /site/branding",
    "GET /site/login-page",
    "GET /platforms/downloads",
    "GET /platforms/downloads/ib",
}
DEFAULT = {"ThrottlingBurstLimit": 200, "ThrottlingRateLimit": 100}


def _stage(cloudformation: dict[str, Any]) -> dict[str, Any]:
    (stage,) = (
        r["Properties"] for r in cloudformation["Resources"].values() if r["Type"] == "AWS::ApiGatewayV2::Stage"
    )
    return dict(stage)


def _routes(cloudformation: dict[str, Any]) -> set[str]:
    body = cloudformation["Resources"]["HttpApi"]["Properties"]["Body"]
    return {
        f"{method.upper()} {path}"
        for path, ops in body["paths"].items()
        for method in ops
        if method != "x-amazon-apigateway-any-method"
    }


def test_each_route_group_has_its_own_limit_and_the_rest_keep_the_default(cloudformation: dict[str, Any]) -> None:
    stage = _stage(cloudformation)
    settings = stage["RouteSettings"]
    assert stage["DefaultRouteSettings"] == DEFAULT
    assert set(settings) == LOGIN | MONEY | PUBLIC_READS
    for key in LOGIN:
        assert settings[key] == {"ThrottlingBurstLimit": 20, "ThrottlingRateLimit": 10}, key
    for key in MONEY:
        assert settings[key] == {"ThrottlingBurstLimit": 40, "ThrottlingRateLimit": 20}, key
    for key in PUBLIC_READS:
        assert settings[key] == {"ThrottlingBurstLimit": 400, "ThrottlingRateLimit": 200}, key


def test_every_throttled_route_key_is_a_route_of_the_api(cloudformation: dict[str, Any]) -> None:
    # API Gateway refuses a stage whose route settings name a route it lacks
    assert set(_stage(cloudformation)["RouteSettings"]) <= _routes(cloudformation)


@pytest.mark.parametrize("prefix", ["POST /funding/withdrawals", "POST /funding/transfers", "POST /admin/rebates/"])
def test_no_money_write_is_left_on_the_default(cloudformation: dict[str, Any], prefix: str) -> None:
    """A new money route under these paths must join the money group."""
    writes = {r for r in _routes(cloudformation) if r.startswith(prefix)}
    assert writes and writes <= MONEY

"""The auth flow as a client, an IB and staff use it, over HTTP."""

import json
import re
import secrets
import shutil
import subprocess
import sys
import time
from pathlib import Path

import boto3
import httpx
import pytest

from localcloud.events import http_event
from tests.support.demo import ADMIN, CLIENT1, CLIENT2
from tests.support.http_journeys import RunningCloud, bearer, open_demo_account, start_cloud, stop_cloud

pytestmark = pytest.mark.e2e


def test_demo_login_answers_within_a_minute_of_starting() -> None:
    started = time.monotonic()
    cloud = start_cloud("startup")
    try:
        reply = cloud.login("admin@broker.example.com", "Admin-demo-2026")
        assert reply.status_code == 200
        assert reply.json()["user_info"]["user_type"] == "staff"
        assert time.monotonic() - started < 60
        banner = cloud.log.read_text()
        assert "admin@broker.example.com" in banner and "/openapi.json" in banner
    finally:
        stop_cloud(cloud)
    assert cloud.process.returncode == 0  # SIGTERM stops it cleanly
    assert "stopping" in cloud.log.read_text()


def test_register_read_code_login_change_password_old_token_refused(cloud: RunningCloud) -> None:
    email = f"e2e-{secrets.token_hex(4)}@example.com"
    with cloud.client() as http:
        sent = http.post(
            "/auth/email-codes", json={"email": email, "received_at": int(time.time()), "scene": "register"}
        )
        assert sent.status_code == 200, sent.text
        registered = http.post(
            "/auth/register",
            json={
                "email": email,
                "email_code": cloud.code_for(email),
                "password": "First-pass-1",
                "invite_code": "DEMOIB",
            },
        )
        assert registered.status_code == 201, registered.text
        assert registered.json()["user_info"]["email"] == email

        token = cloud.login(email, "First-pass-1").json()["token"]
        auth = bearer(token)
        assert http.get("/auth/permissions", headers=auth).status_code == 200

        changed = http.post(
            "/auth/password", headers=auth, json={"old_password": "First-pass-1", "new_password": "Second-pass-2"}
        )
        assert changed.status_code == 200, changed.text

        refused = http.get("/auth/permissions", headers=auth)
        assert refused.status_code == 401
        assert refused.json()["code"] == "token_revoked"
        assert cloud.login(email, "First-pass-1").status_code == 401
        assert cloud.login(email, "Second-pass-2").status_code == 200


def test_public_site_settings_and_unknown_routes(cloud: RunningCloud) -> None:
    with cloud.client() as http:
        branding = http.get("/site/branding")
        assert branding.status_code == 200 and "broker_name_i18n" in branding.json()
        assert http.get("/site/login-page").json()["admin_login_layout"]
        # every error in the documented shape, naming what is at fault
        for path in ("/no/such/route", "/kyc/no-such-route"):
            missing = http.get(path)
            assert missing.status_code == 404
            assert missing.json() == {"code": "not_found", "message": f"no such path: {path}", "field": "path"}
        wrong = http.delete("/site/branding")
        assert (wrong.status_code, wrong.json()["code"], wrong.json()["field"]) == (405, "method_not_allowed", "method")
        broken = http.post("/auth/login", content=b'{"email": ', headers={"Content-Type": "application/json"})
        assert broken.status_code == 422
        assert (broken.json()["code"], broken.json()["field"]) == ("validation_error", "body")
        assert http.get("/openapi.json").json()["paths"]["/auth/login"]["post"]
        assert "swagger-ui" in http.get("/docs").text


def test_staff_route_refuses_a_client_and_takes_an_admin(cloud: RunningCloud) -> None:
    client = cloud.login(*CLIENT2).json()["token"]
    admin = cloud.staff_token(*ADMIN)
    with cloud.client() as http:
        body = {"client_login_layout": "center"}
        assert http.put("/site/login-page", json=body, headers=bearer(client)).status_code == 403
        assert http.put("/site/login-page", json=body, headers=bearer(admin)).status_code == 200
        assert http.get("/site/login-page").json()["client_login_layout"] == "center"


def test_lambda_invokes_are_answered_by_the_templates_handler(cloud: RunningCloud) -> None:
    """What Step Functions does: invoke the function through moto's Lambda API."""
    moto_url = next(line.split()[2] for line in cloud.log.read_text().splitlines() if "AWS (moto)" in line)
    lam = boto3.client("lambda", endpoint_url=moto_url, region_name="us-east-1")
    functions = [f["FunctionName"] for f in lam.list_functions()["Functions"]]
    assert "fxcrm-local-AuthFunction" in functions
    event = http_event("GET", "/site/branding", "GET /site/branding", {"User-Agent": "test"})
    answer = json.loads(
        lam.invoke(FunctionName="fxcrm-local-AuthFunction", Payload=json.dumps(event))["Payload"].read()
    )
    assert answer["statusCode"] == 200
    assert "broker_name_i18n" in json.loads(answer["body"])


WALKTHROUGH = Path(__file__).parents[2] / "docs" / "walkthrough.sh"


def test_the_readme_shows_the_walkthrough_script_verbatim() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    blocks = re.findall(r"^```sh\n(.*?)^```$", readme, flags=re.S | re.M)
    assert WALKTHROUGH.read_text() in blocks


def test_readme_curl_walkthrough_runs_again_and_again(cloud: RunningCloud, tmp_path: Path) -> None:
    """The README's shell walk-through, run twice against the same cloud, with
    nothing on PATH but what its prerequisites name (curl, python3) and the
    shell's own tools."""
    tools = tmp_path / "bin"
    tools.mkdir()
    for name in ("bash", "curl", "grep", "date"):
        (tools / name).symlink_to(shutil.which(name) or name)
    (tools / "python3").symlink_to(sys.executable)
    registered = []
    for _ in range(2):
        result = subprocess.run(
            ["bash", str(WALKTHROUGH)],
            env={"API": cloud.url, "PATH": str(tools)},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert result.stdout.rstrip().endswith("old token refused: 401"), result.stdout
        registered.append(result.stdout.splitlines()[0])
    assert registered[0] != registered[1]  # each run is a new client


def test_http_client_errors_have_the_stable_shape(cloud: RunningCloud) -> None:
    reply = httpx.post(f"{cloud.url}/auth/login", content=b"{not json", headers={"Content-Type": "application/json"})
    assert reply.status_code == 422
    assert set(reply.json()) >= {"code", "message", "field"}
    assert "Traceback" not in reply.text


def test_client_opens_a_demo_account_and_sees_it_with_its_balance(cloud: RunningCloud) -> None:
    token = cloud.login(*CLIENT1).json()["token"]
    auth = bearer(token)
    with cloud.client() as http:
        types = http.get(
            "/trading-accounts/types", params={"trading_platform": "MT4", "is_demo": "true"}, headers=auth
        ).json()["list"]
        opened = http.post(
            "/trading-accounts",
            headers=auth,
            json={
                "currency": "USD",
                "is_demo": True,
                "leverage": types[0]["leverage_options"][-1]["value"],
                "password": "Trade-Pass1",
                "trading_account_type_id": types[0]["id"],
                "trading_platform": "MT4",
            },
        )
        assert opened.status_code == 201, opened.text
        listed = http.get("/trading-accounts", headers=auth).json()["list"]
        mine = next(a for a in listed if a["id"] == opened.json()["id"])
        assert mine["balance"] == "10000.00" and mine["server_name"] == "fxcrm-MT4-Demo"
        other = cloud.login(*CLIENT2).json()["token"]
        assert http.get(f"/trading-accounts/{mine['id']}", headers=bearer(other)).status_code == 404


def test_trade_sync_runs_on_demand(cloud: RunningCloud) -> None:
    with cloud.client() as http:
        open_demo_account(http, cloud.headers(*CLIENT2))
        first = http.post("/_dev/schedules/run", params={"function": "TradeSyncFlow"}).json()
        assert first["accounts"] >= 1 and first["deals"] > 0 and first["failed_accounts"] == 0
        assert http.post("/_dev/schedules/run", params={"function": "NoSuchFunction"}).status_code == 400


def test_step_functions_run_real_asl_that_invokes_our_handler(cloud: RunningCloud) -> None:
    """moto's interpreter executes the ASL and its lambda:invoke reaches the handler in process."""
    from pathlib import Path

    moto_url = next(line.split()[2] for line in cloud.log.read_text().splitlines() if "AWS (moto)" in line)
    sfn = boto3.client("stepfunctions", endpoint_url=moto_url, region_name="us-east-1")
    lam = boto3.client("lambda", endpoint_url=moto_url, region_name="us-east-1")
    auth_arn = lam.get_function(FunctionName="fxcrm-local-AuthFunction")["Configuration"]["FunctionArn"]
    asl = (Path(__file__).parents[1] / "support" / "asl" / "invoke_auth.asl.json").read_text()
    machine = sfn.create_state_machine(
        name=f"invoke-auth-{secrets.token_hex(3)}",
        definition=asl.replace("${AuthFunctionArn}", auth_arn),
        roleArn="arn:aws:iam::123456789012:role/test",
    )["stateMachineArn"]
    event = http_event("GET", "/site/branding", "GET /site/branding", {"User-Agent": "test"})
    execution = sfn.start_execution(stateMachineArn=machine, name="order-1001", input=json.dumps({"event": event}))[
        "executionArn"
    ]
    deadline = time.monotonic() + 30
    while (described := sfn.describe_execution(executionArn=execution))["status"] == "RUNNING":
        assert time.monotonic() < deadline, "the execution did not finish"
        time.sleep(0.2)
    assert described["status"] == "SUCCEEDED", described
    output = json.loads(described["output"])
    assert output["statusCode"] == 200 and "broker_name_i18n" in json.loads(output["body"])
    # an execution name is unique: a retried start cannot start a second flow
    with pytest.raises(sfn.exceptions.ExecutionAlreadyExists):
        sfn.start_execution(stateMachineArn=machine, name="order-1001", input=json.dumps({"event": {}}))

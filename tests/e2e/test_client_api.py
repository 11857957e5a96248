"""The seed's PHP example over HTTP on the local cloud: POST the login and API
password as JSON for a token (the whole body), then GET a method with
`passkey: <token>`."""

import json

import httpx

from tests.support.demo import CLIENT2
from tests.support.http_journeys import RunningCloud, open_demo_account


def test_php_example_against_the_local_cloud(cloud: RunningCloud) -> None:
    client = cloud.headers(*CLIENT2)
    with cloud.client() as http:
        account_id = open_demo_account(http, client)
        login = int(http.get(f"/trading-accounts/{account_id}", headers=client).json()["account"])
        settings = {"enabled": True, "level": "closed", "password": "Api-pass-2026", "ip_masks": ["127.0.0.0/8"]}
        assert http.put(f"/trading-accounts/{account_id}/api-access", json=settings, headers=client).status_code == 200

    # $data_string = json_encode($data); curl POST with Content-Type and Content-Length
    data_string = json.dumps({"Login": login, "Password": "Api-pass-2026"})
    token = httpx.post(
        f"{cloud.url}/api/Authentication/RequestClientApiToken",
        content=data_string,
        headers={"Content-Type": "application/json", "Content-Length": str(len(data_string))},
        timeout=30,
    ).text
    # curl GET .../client/<method>/$Login with 'passkey: '.$token
    result = httpx.get(f"{cloud.url}/client/GetAccountSummary/{login}", headers={"passkey": token}, timeout=30)
    assert result.status_code == 200, result.text
    assert result.json()["Login"] == login and result.json()["Balance"] == "10000.00"
    wrong = httpx.post(
        f"{cloud.url}/api/Authentication/RequestClientApiToken", json={"Login": login, "Password": "nope"}, timeout=30
    )
    assert wrong.status_code == 401

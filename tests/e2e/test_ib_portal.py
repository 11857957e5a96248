"""The IB portal over HTTP on the local cloud: the demo IB's profile and QR
code, its downline (a direct client and the client of its sub-IB), and the
settlement run started on demand through the local scheduler (amounts are
tested in tests/component/test_rebates.py)."""

import httpx

from tests.support.demo import IB
from tests.support.http_journeys import RunningCloud


def test_demo_ib_profile_downline_and_an_on_demand_settlement(cloud: RunningCloud) -> None:
    ib = cloud.headers(*IB)
    with cloud.client() as http:
        profile = http.get("/ib/profile", headers=ib).json()
        assert profile["ReferralCode"] == "DEMOIB" and profile["ReferralLink"].endswith("invite_code=DEMOIB")
        assert httpx.get(profile["QRCodeURL"], timeout=30).content.startswith(b"\x89PNG")
        clients = http.get("/ib/clients", headers=ib).json()
        sources = {row["email"]: row["source"] for row in clients["list"]}
        assert sources["client1@broker.example.com"] == "direct"
        assert sources["client3@broker.example.com"].startswith("sub_ib:")
        ran = http.post("/_dev/schedules/run", params={"function": "SettlementFunction"})
        assert ran.status_code == 200, ran.text
        assert ran.json()["status"] in ("settled", "nothing to settle")
        assert http.get("/ib/rebates", headers=ib).status_code == 200

"""Reconciliation over HTTP in the running local cloud: the scheduled function
(on demand at /_dev/schedules/run) with its IAM role, and its findings for staff."""

from tests.support.demo import ADMIN, SUPPORT
from tests.support.http_journeys import RunningCloud


def test_a_scheduled_run_is_listed_for_staff(cloud: RunningCloud) -> None:
    with cloud.client() as http:
        summary = http.get("/_dev/schedules/run", params={"function": "ReconciliationFunction"}, timeout=120)
        assert summary.status_code == 200, summary.text
        run = summary.json()
        listed = http.get("/admin/reconciliation/findings", headers=cloud.staff_headers(*ADMIN))
        assert listed.status_code == 200, listed.text
        body = listed.json()
        assert (body["run_id"], body["total"], body["counts"]) == (run["id"], run["total"], run["counts"])
        refused = http.get("/admin/reconciliation/findings", headers=cloud.staff_headers(*SUPPORT))
        assert refused.status_code == 403 and refused.json()["code"] == "permission_denied"

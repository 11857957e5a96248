"""Reports over HTTP on the local cloud: a client's demo account is synced by
the TradeSync schedule (run on demand), the history-order report lists its
closed trades, the client's IB sees them too and another client does not,
and both export formats download from S3 with the report's rows."""

import csv
import io

import httpx
import openpyxl

from tests.support.demo import CLIENT1, CLIENT2, IB
from tests.support.http_journeys import RunningCloud, open_demo_account

WINDOW = {"start_time": "2020-01-01 00:00:00", "trading_type": "all", "time_type": "close", "size": 100}


def test_history_report_scope_and_exports(cloud: RunningCloud) -> None:
    client, ib, other = cloud.headers(*CLIENT1), cloud.headers(*IB), cloud.headers(*CLIENT2)
    with cloud.client() as http:
        account_id = open_demo_account(http, client)
        ran = http.post("/_dev/schedules/run", params={"function": "TradeSyncFlow"})
        assert ran.status_code == 200, ran.text
        query = WINDOW | {"trading_account_id": account_id}
        mine = http.get("/reports/history-orders", params=query, headers=client).json()
        assert mine["total"] > 0
        assert http.get("/reports/history-orders", params=query, headers=ib).json()["total"] == mine["total"]
        assert http.get("/reports/history-orders", params=query, headers=other).json()["total"] == 0

        body = {k: v for k, v in query.items() if k != "size"}
        exported = http.post("/reports/history-orders/export", json=body | {"format": "csv"}, headers=client).json()
        text = httpx.get(exported["download_url"], timeout=30).content.decode("utf-8-sig")
        parsed = list(csv.DictReader(io.StringIO(text)))
        assert [p["order_number"] for p in parsed] == [r["order_number"] for r in mine["list"]]

        exported = http.post("/reports/history-orders/export", json=body | {"format": "xlsx"}, headers=client).json()
        sheet = openpyxl.load_workbook(io.BytesIO(httpx.get(exported["download_url"], timeout=30).content)).active
        values = list(sheet.iter_rows(values_only=True))
        assert [str(v[values[0].index("profit")]) for v in values[1:]] == [r["profit"] for r in mine["list"]]
        assert exported["rows"] == mine["total"]

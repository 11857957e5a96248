"""Export benchmark: a one-million-row history-order report written by the
export machinery (row formatting → CSV → S3 multipart upload to a moto
server in its own process), against the same rows written with the standard
`csv` module alone to a local file, in the same run.

Each phase runs in a fresh interpreter, so its peak memory (ru_maxrss) is
its own: the growth is the peak after the phase minus the peak after
warm-up. Results go to docs/performance.md by hand.

    python bench/export_report.py [--rows 1000000] [--xlsx-rows 200000]
"""

import argparse
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "layers" / "shared"), str(ROOT)]

BUCKET = "bench-exports"
SYMBOLS = ("EURUSD", "GBPUSD", "USDJPY", "XAUUSD", "US30", "BTCUSD")


def raw_items(count: int) -> Iterator[dict[str, Any]]:
    """History-order items as TradeSync stores them, generated on the fly."""
    start = 1_760_000_000
    for n in range(count):
        close = start + n * 7
        yield {
            "ticket": 90_000_000 + n,
            "position_id": 80_000_000 + n,
            "account_id": 373_000_000_000 + n % 5000,
            "user_id": 1 + n % 5000,
            "server": "MT5-Live",
            "login": 500_000 + n % 5000,
            "symbol": SYMBOLS[n % len(SYMBOLS)],
            "side": n % 2,
            "volume_lots": Decimal("0.10") * (1 + n % 7),
            "open_time": close - 3600,
            "open_price": Decimal("1.08231") + Decimal(n % 97) / 100000,
            "close_time": close,
            "close_price": Decimal("1.08412") + Decimal(n % 89) / 100000,
            "profit": Decimal(n % 4001 - 2000) / 100,
            "commission": Decimal("-0.70"),
            "swap": Decimal(n % 5 - 2) / 10,
        }


def rows(count: int) -> Iterator[list[Any]]:
    """The report's formatted rows, flattened to the export's columns."""
    from fxcrm.reports import catalog, descriptors, exports
    from fxcrm.reports.schemas import HistoryFilters
    from fxcrm.reports.scope import Scope
    from fxcrm.settings import Settings

    run = catalog.start(Settings(), Scope(True), HistoryFilters(trading_type="all"), int(time.time()))
    run.names._known = {u: f"Client {u}" for u in range(1, 5001)}  # names are looked up once per user anyway
    report = descriptors.REPORTS["history-order"]
    header = exports.columns(report)
    return (exports.flatten(report.row(run, item), header) for item in raw_items(count))


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def phase(name: str, count: int) -> dict[str, Any]:
    from fxcrm.reports import descriptors, exports

    header = exports.columns(descriptors.REPORTS["history-order"])
    list(rows(1000))  # warm-up: imports, the first clients
    if name != "baseline":
        import boto3

        boto3.client("s3").head_bucket(Bucket=BUCKET)
    before = peak_mib()
    started = time.perf_counter()
    if name == "baseline":
        import csv

        with tempfile.TemporaryFile("w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            writer.writerow(header)
            written = 0
            for row in rows(count):
                writer.writerow(row)
                written += 1  # noqa: SIM113 - the count is the result
    elif name == "csv":
        written = exports.write_csv(BUCKET, "bench/history.csv", header, rows(count))
    else:
        written = exports.write_xlsx(BUCKET, "bench/history.xlsx", header, rows(count))
    elapsed = time.perf_counter() - started
    return {"phase": name, "rows": written, "seconds": elapsed, "growth_mib": peak_mib() - before}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--xlsx-rows", type=int, default=200_000)
    parser.add_argument("--phase")
    args = parser.parse_args()
    if args.phase:
        print(json.dumps(phase(args.phase, args.rows)))
        return

    port = free_port()
    # the local moto server's dummy credentials
    os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION="us-east-1")  # noqa: S106
    os.environ["AWS_ENDPOINT_URL"] = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    results = {}
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        import boto3

        boto3.client("s3").create_bucket(Bucket=BUCKET)
        for name, count in (("baseline", args.rows), ("csv", args.rows), ("xlsx", args.xlsx_rows)):
            out = subprocess.run(
                [sys.executable, __file__, "--phase", name, "--rows", str(count)],
                capture_output=True,
                text=True,
                check=True,
            )
            results[name] = json.loads(out.stdout.strip().splitlines()[-1])
            print(json.dumps(results[name]))
    finally:
        server.terminate()
        server.wait(timeout=10)
    base, ours, xlsx = results["baseline"], results["csv"], results["xlsx"]
    ratio = (ours["rows"] / ours["seconds"]) / (base["rows"] / base["seconds"])
    print(
        f"csv export: {ours['rows'] / ours['seconds']:,.0f} rows/s,"
        f" baseline {base['rows'] / base['seconds']:,.0f} rows/s,"
        f" ratio {ratio:.2f} (target >= 0.5); peak memory growth {ours['growth_mib']:.1f} MiB (target <= 64)"
    )
    print(f"xlsx export: {xlsx['rows'] / xlsx['seconds']:,.0f} rows/s, peak memory growth {xlsx['growth_mib']:.1f} MiB")


if __name__ == "__main__":
    main()

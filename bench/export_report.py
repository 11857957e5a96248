"""Export benchmark through the real read path: closed trades and their users
seeded into DynamoDB (a moto server in its own process, every resource from
template.yaml) with the project's own keys, then exported as the background
job does it (`fxcrm.reports.exports.run_job`: the history-order report's
source streams Query pages, names are read 100 users to a BatchGetItem, rows
are formatted and written as CSV into an S3 multipart upload), against the same
rows generated and formatted the same way and written with the standard `csv`
module alone to a local file.

Each export runs in a fresh interpreter, so its peak memory (ru_maxrss) is its
own: the growth is the peak after the export minus the peak after a warm-up
export. `--sizes` exports windows of that many trades (the first ones seeded),
so one seeding gives the memory curve. Results go to docs/performance.md by
hand.

    python bench/export_report.py [--sizes 25000,50000,100000] [--users 5000]
"""

import argparse
import contextlib
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "layers" / "shared"), str(ROOT)]

SYMBOLS = ("EURUSD", "GBPUSD", "USDJPY", "XAUUSD", "US30", "BTCUSD")
START = 1_760_000_000  # the first trade's close time; one every 7 seconds
STEP = 7
STAFF_ID = 1  # the exporting staff member's user id


def raw_items(count: int, users: int) -> Iterator[dict[str, Any]]:
    """History-order items as TradeSync stores them."""
    for n in range(count):
        close = START + n * STEP
        yield {
            "ticket": 90_000_000 + n,
            "position_id": 80_000_000 + n,
            "account_id": 373_000_000_000 + n % users,
            "user_id": 1000 + n % users,
            "server": "MT5-Live",
            "login": 500_000 + n % users,
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


def _user(user_id: int, user_type: str = "client") -> dict[str, Any]:
    return {
        "id": user_id,
        "email": f"user{user_id}@bench.example",
        "password_hash": "-",  # nobody logs in here
        "user_type": user_type,
        "role": "admin" if user_type == "staff" else user_type,
        "status": "active",
        "token_version": 1,
        "created_at": START,
        "first_name": "Client",
        "last_name": str(user_id),
    }


def seed(rows: int, users: int) -> None:
    """Users (one transaction each, as sign-up writes them) and trades (BatchWriteItem)
    under the keys TradeSync gives them (`history_order_keys`)."""
    from fxcrm.dal import trading
    from fxcrm.dal import users as users_dal
    from fxcrm.dal.table import Table

    for user in [_user(STAFF_ID, "staff")] + [_user(u) for u in range(1000, 1000 + users)]:
        # a request the emulator answered late is retried and finds its user written
        with contextlib.suppress(users_dal.EmailTaken):
            users_dal.create_user(user)
    table, batch = Table(), []
    for item in raw_items(rows, users):
        batch.append({**item, **trading.history_order_keys(item)})
        if len(batch) == 1000:
            table.batch_put(batch)
            batch = []
    table.batch_put(batch)


def _filters(count: int) -> dict[str, Any]:
    """The first `count` trades: a close-time window in the broker's time zone."""
    from fxcrm.core import times
    from fxcrm.core.settings import get_settings

    zone = get_settings().broker_timezone
    last = START + (count - 1) * STEP
    return {
        "trading_type": "all",
        "time_type": "close",
        "start_time": times.show(START, zone),
        "end_time": times.show(last, zone),
    }


def export(count: int) -> int:
    """The background export job, as the Reports function runs it."""
    from fxcrm.core.settings import get_settings
    from fxcrm.dal import exports as jobs
    from fxcrm.reports import exports

    job_id = uuid.uuid4().hex
    jobs.put_job(
        {
            "id": job_id,
            "user_id": STAFF_ID,
            "report": "history-order",
            "filters": json.dumps(_filters(count), sort_keys=True),
            "format": "csv",
            "key": f"exports/{STAFF_ID}/{job_id}/bench.csv",
            "file_name": "bench.csv",
            "created_at": int(time.time()),
            "ttl": int(time.time()) + 86400,
            "status": "running",
            "rows": 0,
            "deadline": int(time.time()) + 3600,
        }
    )
    outcome = exports.run_job(get_settings(), job_id, int(time.time()), 3600)
    assert outcome["status"] == "done", outcome
    return int(outcome["rows"])


def baseline(count: int, users: int) -> int:
    """The same rows, generated and formatted as the report formats them, csv module alone."""
    import csv

    from fxcrm.core.settings import get_settings
    from fxcrm.reports import catalog, descriptors, exports
    from fxcrm.reports.schemas import HistoryFilters
    from fxcrm.reports.scope import Scope

    report = descriptors.REPORTS["history-order"]
    run = catalog.start(get_settings(), Scope(True), HistoryFilters(trading_type="all"), int(time.time()))
    run.names.prefetch([])  # names known, as a cache would have them:
    for user_id in range(1000, 1000 + users):
        run.names._keep(user_id, _user(user_id))
    header = exports.columns(report)
    with tempfile.TemporaryFile("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        written = 0
        for item in raw_items(count, users):
            writer.writerow(exports.flatten(report.row(run, item), header))
            written += 1
    return written


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def phase(name: str, count: int, users: int) -> dict[str, Any]:
    if name == "baseline":
        baseline(1000, users)  # warm-up: imports
    else:
        export(1000)  # warm-up: imports, clients, the first names
    before = peak_mib()
    started = time.perf_counter()
    written = baseline(count, users) if name == "baseline" else export(count)
    elapsed = time.perf_counter() - started
    return {"phase": name, "rows": written, "seconds": elapsed, "growth_mib": peak_mib() - before}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


SERVER = """
from moto.core.config import default_user_config
default_user_config["lambda"] = {{"use_docker": False}}
from moto.server import ThreadedMotoServer
ThreadedMotoServer(ip_address="127.0.0.1", port={port}, verbose=False).start()
import time
while True:
    time.sleep(3600)
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="25000,50000,100000")
    parser.add_argument("--users", type=int, default=5000)
    parser.add_argument("--phase")
    parser.add_argument("--rows", type=int)
    args = parser.parse_args()
    if args.phase:
        print(json.dumps(phase(args.phase, args.rows, args.users)))
        return

    sizes = [int(s) for s in args.sizes.split(",")]
    port = free_port()
    # the local moto server's dummy credentials
    os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION="us-east-1")  # noqa: S106
    os.environ["AWS_ENDPOINT_URL"] = f"http://127.0.0.1:{port}"
    os.environ["POWERTOOLS_TRACE_DISABLED"] = "true"
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER.format(port=port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    results = []
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        import boto3

        from localcloud.provision import provision

        os.environ.update(provision(boto3.Session()).environment())
        started = time.perf_counter()
        seed(max(sizes), args.users)
        print(f"seeded {max(sizes):,} trades, {args.users:,} users in {time.perf_counter() - started:.0f} s")
        for count in sizes:
            for name in ("baseline", "csv"):
                out = subprocess.run(
                    [sys.executable, __file__, "--phase", name, "--rows", str(count), "--users", str(args.users)],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                results.append(json.loads(out.stdout.strip().splitlines()[-1]))
                print(json.dumps(results[-1]))
    finally:
        server.terminate()
        server.wait(timeout=10)
    for count in sizes:
        base, ours = (r for r in results if r["rows"] == count)
        ratio = (ours["rows"] / ours["seconds"]) / (base["rows"] / base["seconds"])
        print(
            f"{count:,} rows: export {ours['rows'] / ours['seconds']:,.0f} rows/s,"
            f" csv alone {base['rows'] / base['seconds']:,.0f} rows/s, ratio {ratio:.2f} (target >= 0.5);"
            f" peak memory growth {ours['growth_mib']:.1f} MiB (target <= 64)"
        )


if __name__ == "__main__":
    main()

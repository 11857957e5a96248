"""TradeSync benchmark: N funded accounts on the simulated MT5-Live server, spread
over the shards as the data model stores them, on the local emulator (moto in
process, tables from template.yaml). After an untimed first sync, one scheduled
run (a 15-minute window, what every run after the first does) is timed shard
by shard with the sharded worker (`sync_shard`), with its AWS calls counted;
a sample is also synced the old way, one account at a time (`sync_account`),
for comparison. Prints the per-account cost and what it means for 100,000
accounts at the flow's concurrency. Results go to docs/performance.md by hand.

    python bench/trade_sync.py [--accounts 2000] [--sample 200]
"""

import argparse
import os
import sys
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "layers" / "shared"), str(ROOT)]

SERVER = "MT5-Live"
INTERVAL = 900  # the schedule: rate(15 minutes)
CONCURRENCY = 8  # TradeSyncFlow's MaxConcurrency
TARGET = 100_000


def seed(accounts: int, created: int) -> list[dict[str, Any]]:
    """Accounts written as opening one writes them, funded on the simulated server."""
    from fxcrm.adapters.trading.simulated import FIRST_LOGIN
    from fxcrm.core import ids
    from fxcrm.dal import trading

    made = []
    for n in range(accounts):
        login = FIRST_LOGIN[SERVER] + 500_000 + n
        trading.create_sim_account(
            {
                "server": SERVER,
                "login": login,
                "group": "real\\standard",
                "name": f"bench {n}",
                "leverage": 100,
                "balance": Decimal(0),
                "credit": Decimal(0),
                "funded": False,
                "main_password_hash": "-",  # hashing passwords is not what this measures
                "investor_password_hash": "-",
            }
        )
        trading.apply_sim_balance(SERVER, login, Decimal(1000), f"bench-{n}", 9_000_000 + n, created)
        account = {
            "id": ids.new_id(),
            "user_id": 1,
            "trading_platform": "MT5",
            "server": SERVER,
            "login": login,
            "currency": "USD",
            "leverage": 100,
            "is_demo": False,
            "type_id": 202,
            "type_name": "bench",
            "record_type": "normal",
            "created_at": created,
        }
        trading.create_trading_account(account)
        made.append(account)
    return made


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=2000)
    parser.add_argument("--sample", type=int, default=200)
    args = parser.parse_args()

    import boto3
    from moto import mock_aws

    from localcloud.moto_patches import make_dynamodb_atomic
    from localcloud.provision import provision

    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench")  # noqa: S106 - moto's dummy keys
    os.environ.pop("AWS_ENDPOINT_URL", None)
    make_dynamodb_atomic()
    with mock_aws(config={"lambda": {"use_docker": False}}):
        os.environ.update(provision(boto3.Session()).environment())
        from fxcrm.adapters.trading.simulated import SimulatedPlatform
        from fxcrm.core.settings import get_settings
        from fxcrm.dal import trading
        from fxcrm.trading import sync
        from tests.support.aws_calls import AwsCalls

        get_settings.cache_clear()
        settings = get_settings()
        now = int(time.time())
        clock = {"at": now - INTERVAL}
        # the simulated server at the run's moment, so that the runs' windows are the schedule's
        sync.platform_for = lambda _settings, server: SimulatedPlatform(  # type: ignore[assignment]
            server, clock=lambda: datetime.fromtimestamp(clock["at"], tz=UTC)
        )

        started = time.perf_counter()
        accounts = seed(args.accounts, now - 2 * 86400)
        print(f"seeded {len(accounts):,} funded accounts in {time.perf_counter() - started:.0f} s")
        started = time.perf_counter()
        for shard in range(trading.SERVER_SHARDS):  # the first sync (two days back), untimed
            while not sync.sync_shard(settings, SERVER, shard, clock["at"], initial_days=2).done:
                pass
        print(f"first sync in {time.perf_counter() - started:.0f} s")

        clock["at"] = now
        per_shard = []
        total = sync.SyncResult()
        with AwsCalls() as calls:
            started = time.perf_counter()
            for shard in range(trading.SERVER_SHARDS):
                began = time.perf_counter()
                while True:
                    run = sync.sync_shard(settings, SERVER, shard, now)
                    total.add(run.result)
                    if run.done:
                        break
                per_shard.append(time.perf_counter() - began)
            sharded = time.perf_counter() - started
        assert total.accounts == len(accounts) and total.failed_accounts == 0, total
        per_account = sharded / len(accounts)
        print(
            f"scheduled run, sharded: {len(accounts):,} accounts in {sharded:.1f} s "
            f"({per_account * 1000:.1f} ms per account; shards {min(per_shard):.1f}-{max(per_shard):.1f} s); "
            f"{total.deals:,} deals, {total.positions:,} positions, {total.orders:,} orders"
        )
        print(f"  AWS calls: {calls.total / len(accounts):.2f} per account {dict(calls.counts)}")

        sample = accounts[: args.sample]
        clock["at"] = now + INTERVAL
        with AwsCalls() as calls:
            started = time.perf_counter()
            for account in sample:
                sync.sync_account(settings, account, now + INTERVAL, 30)
            single = time.perf_counter() - started
        print(
            f"one account at a time (the old path), {len(sample):,} accounts: "
            f"{single / len(sample) * 1000:.1f} ms per account, {calls.total / len(sample):.2f} AWS calls per account"
        )
    seconds = TARGET * per_account / CONCURRENCY
    print(
        f"{TARGET:,} accounts at {CONCURRENCY} workers: {TARGET:,} x {per_account * 1000:.1f} ms / {CONCURRENCY} "
        f"= {seconds:.0f} s, {'within' if seconds <= INTERVAL else 'PAST'} the {INTERVAL} s interval"
    )


if __name__ == "__main__":
    main()

"""Settlement benchmark: 100,000 generated trades under a three-level IB tree,
settled on the local emulator (moto in process, tables from template.yaml),
checked against amounts computed here independently, and timed against
writing the same number of records with plain BatchWriteItem on the same
emulator. Results go to docs/performance.md by hand.

    python bench/settlement.py [--trades 100000]
"""

import argparse
import os
import random
import sys
import time
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "layers" / "shared"), str(ROOT)]

DAY = 86400
# the default rules (layers/shared/fxcrm/rebates/default_rules.json), restated to check the engine
PER_LOT = {
    ("forex", 1): Decimal(5),
    ("forex", 2): Decimal(2),
    ("forex", 3): Decimal(1),
    ("metals", 1): Decimal(8),
    ("metals", 2): Decimal(3),
}
SHARE = {("indices", 1): Decimal("0.30")}
SYMBOLS = {
    "EURUSD": "forex",
    "GBPUSD.m": "forex",
    "USDJPY": "forex",
    "XAUUSD": "metals",
    "US30": "indices",
    "FOO": None,
}


def build(trades: int, now: int) -> tuple[dict[int, list[int]], list[dict[str, Any]]]:
    """20 top IBs, 4 sub-IBs each, clients under both; one live account per client."""
    from fxcrm.auth.accounts import new_user
    from fxcrm.dal import trading, users

    def user(kind: str, parent: int | None) -> int:
        made = new_user(
            f"{kind}-{random.random()}@bench.example", "Bench-pass-1", kind, kind, now - 90 * DAY, ib_id=parent
        )
        made["password_hash"] = "-"  # noqa: S105 - hashing 1,000 passwords is not what this measures
        users.create_user(made)
        return int(made["id"])

    chains: dict[int, list[int]] = {}
    for _ in range(20):
        top = user("ib", None)
        for _ in range(5):
            chains[user("client", top)] = [top]
        for _ in range(4):
            sub = user("ib", top)
            for _ in range(10):
                chains[user("client", sub)] = [sub, top]
    clients = sorted(chains)
    rng = random.Random(20261122)
    start = now - 2 * DAY
    rows = []
    per_client = trades // len(clients) + 1
    for n in range(trades):
        client = clients[n % len(clients)]
        slot = n // len(clients)  # trades of an account follow each other: none overlap
        opened = start + slot * (DAY // per_client)
        held = 30 if n % 50 == 0 else rng.randint(120, DAY // per_client - 10)
        symbol = rng.choice(list(SYMBOLS))
        rows.append(
            {
                "ticket": 5_000_000_000 + n,
                "position_id": 4_000_000_000 + n,
                "account_id": client,  # one account per client, numbered like its owner
                "user_id": client,
                "server": "MT5-Live",
                "login": 10_000_000 + n % len(clients),
                "symbol": symbol,
                "side": rng.choice([0, 1]),
                "volume_lots": Decimal(rng.choice([1, 2, 5, 10, 50, 100])) / 100,
                "open_time": opened,
                "open_price": Decimal("1.1"),
                "close_time": opened + held,
                "close_price": Decimal("1.2"),
                "profit": Decimal(rng.randint(-500, 500)),
                "commission": Decimal("-7.00") * Decimal(rng.choice([1, 2])),
                "swap": Decimal(0),
            }
        )
    for first in range(0, len(rows), 1000):
        trading.put_history_orders(rows[first : first + 1000], now)  # as one TradeSync run records them
    return chains, rows


def expected_totals(chains: dict[int, list[int]], rows: list[dict[str, Any]]) -> tuple[dict[int, Decimal], int]:
    totals: dict[int, Decimal] = defaultdict(Decimal)
    details = 0
    for row in rows:
        group = SYMBOLS[row["symbol"]]
        if group is None or row["close_time"] - row["open_time"] < 60:
            continue
        for level, ib in enumerate(chains[row["user_id"]], start=1):
            if (group, level) in PER_LOT:
                amount = (row["volume_lots"] * PER_LOT[(group, level)]).quantize(Decimal("0.01"))
            elif (group, level) in SHARE:
                amount = (abs(row["commission"]) * SHARE[(group, level)]).quantize(Decimal("0.01"))
            else:
                continue
            totals[ib] += amount
            details += 1
    return totals, details


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trades", type=int, default=100_000)
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
        from fxcrm.core.settings import get_settings
        from fxcrm.dal import ledger as ledger_dal
        from fxcrm.dal.table import Table
        from fxcrm.rebates import settlement

        get_settings.cache_clear()
        now = int(time.time())
        started = time.perf_counter()
        chains, rows = build(args.trades, now)
        print(f"generated {len(rows):,} trades for {len(chains):,} clients in {time.perf_counter() - started:.0f} s")

        started = time.perf_counter()
        outcome = settlement.settle_window(get_settings(), (now - 3 * DAY, now), "bench", now)
        settle_seconds = time.perf_counter() - started

        totals, details = expected_totals(chains, rows)
        paid = {
            ib: found.posted if (found := ledger_dal.get_balance(settlement.ib_account(ib))) else Decimal(0)
            for ib in totals
        }
        assert outcome.details == details, (outcome.details, details)
        assert paid == totals, "an IB's rebate differs from the independent computation"
        print(f"settled: {outcome.summary()}")
        print(f"every IB's credit matches: {len(totals)} IBs, {sum(totals.values())} USD, {details:,} details")

        # the same records, under other keys, written plainly
        from fxcrm.dal import rebates as rebates_dal

        stored = rebates_dal.list_aggregation_details(settlement.aggregation_id(next(iter(totals)), "bench"))
        template = stored[0]
        records = [
            template | {"pk": f"BENCH#{n}", "gsi1pk": f"BENCH#{n}", "gsi2pk": f"BENCH#{n}"} for n in range(details)
        ]
        started = time.perf_counter()
        Table().batch_put(records)
        batch_seconds = time.perf_counter() - started
    settle_rate, batch_rate = details / settle_seconds, details / batch_seconds
    print(
        f"settlement: {len(rows) / settle_seconds:,.0f} trades/s, {settle_rate:,.0f} details/s ({settle_seconds:.1f} s)"
    )
    ratio = settle_rate / batch_rate
    print(f"plain BatchWriteItem: {batch_rate:,.0f} records/s ({batch_seconds:.1f} s); ratio {ratio:.2f}")


if __name__ == "__main__":
    main()

"""Growth benchmark: what one page of each list costs as the broker grows.

For each N (default 100 and 1,000; `BENCH_N=10000` adds 10,000) a fresh
emulator (moto in process, every resource from template.yaml, each function
held to its IAM role) is seeded through the project's own code: a
three-level IB tree (a master IB, sub-IBs, sub-sub-IBs) with N clients under
it, each with KYC, a live account, two deposits, a withdrawal, a transfer,
two closed trades, an approval waiting and an audit entry; a settlement run
then pays the tree its rebates. Then page 1 and a deep page (the last) of
every list are requested through the HTTP API, in process, as staff, as the
master IB and as a client, and for each request the AWS calls, the items
DynamoDB read and the time are recorded. Only the HTTP API is called, so the
benchmark measures whatever the list functions do today.

    python bench/growth.py [--sizes 100,1000] [--json results.json]

Each N runs in its own interpreter (a clean emulator); results go to
docs/performance.md by hand.
"""

import argparse
import json
import math
import os
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "layers" / "shared"), str(ROOT)]

DAY = 86400
SIZE = 10  # the page size asked for
PASSWORD = "Bench-pass-1"  # noqa: S105 - the emulator's throwaway users


# ---------------------------------------------------------------- counting what a request costs


@dataclass
class Cost:
    calls: Counter[str] = field(default_factory=Counter)
    items: int = 0

    def before(self, model: Any, **_: Any) -> None:
        self.calls[f"{model.service_model.service_name}.{model.name}"] += 1

    def after(self, model: Any, parsed: Any, **_: Any) -> None:
        """Items DynamoDB read for the call (what a Query examined, not only what it returned)."""
        if model.service_model.service_name != "dynamodb" or not isinstance(parsed, dict):
            return
        if model.name in ("Query", "Scan"):
            self.items += int(parsed.get("ScannedCount", parsed.get("Count", 0)))
        elif model.name == "GetItem":
            self.items += 1 if parsed.get("Item") else 0
        elif model.name == "BatchGetItem":
            self.items += sum(len(found) for found in parsed.get("Responses", {}).values())


class Meter:
    """Hooks every fxcrm boto3 client (fxcrm.dal.aws) once; `measure` resets the cost."""

    def __init__(self) -> None:
        from fxcrm.dal import aws

        self.cost = Cost()
        aws.on_client(self._hook)

    def _hook(self, client: Any) -> None:
        client.meta.events.register("before-call", lambda **kw: self.cost.before(**kw), unique_id="bench-growth-b")
        client.meta.events.register("after-call", lambda **kw: self.cost.after(**kw), unique_id="bench-growth-a")

    def reset(self) -> Cost:
        self.cost = Cost()
        return self.cost


# ---------------------------------------------------------------- seeding through the project's code


@dataclass
class World:
    admin: str
    ib: str
    ib_id: int
    client: str
    client_id: int
    clients: list[int]


def _user(kind: str, parent: int | None, now: int, n: int, password_hash: str | None) -> dict[str, Any]:
    from fxcrm.auth.accounts import new_user
    from fxcrm.core import passwords

    real = password_hash is None
    if not real:  # hashing N passwords is not what this measures: the same hash for all
        original = passwords.hash_password
        passwords.hash_password = lambda _password: password_hash  # type: ignore[assignment]
    try:
        user = new_user(
            f"{kind}-{n}-{time.time_ns()}@bench.example",
            PASSWORD,
            kind,
            kind,
            now - 60 * DAY,
            first_name=f"{kind.title()}{n}",
            last_name="Bench",
            ib_id=parent,
            **({"referral_code": f"B{n}{time.time_ns() % 100000}"} if kind == "ib" else {}),
        )
    finally:
        if not real:
            passwords.hash_password = original
    from fxcrm.dal import users

    users.create_user(user)
    return user


def _orders(client: dict[str, Any], account: dict[str, Any], at: int) -> None:
    from fxcrm.core import ids
    from fxcrm.dal import funding
    from fxcrm.funding.orders import order_number

    ref = {"account": str(account["login"]), "id": account["id"], "server_name": "MT5-Live", "server_type": "MT5-Live"}
    for n, (kind, status) in enumerate(
        (("deposit", "approved"), ("deposit", "auditing"), ("withdrawal", "approved"), ("transfer", "approved"))
    ):
        order_id = ids.new_id()
        funding.create_order(
            {
                "id": order_id,
                "order_number": order_number(kind, order_id),
                "kind": kind,
                "user_id": client["id"],
                "email": client["email"],
                "status": status,
                "amount": Decimal("100.00"),
                "currency": "USD",
                "account_id": account["id"],
                "account": ref,
                "target_account": ref,
                "method": "bank_transfer",
                "channel_id": 1,
                "channel_name": "Bank transfer",
                "fee": Decimal("1.50"),
                "created_at": at + n * 60,
                "submit_time": at + n * 60,
            }
        )


def _trades(client: dict[str, Any], account: dict[str, Any], n: int, at: int) -> list[dict[str, Any]]:
    return [
        {
            "ticket": 7_000_000_000 + 2 * n + k,
            "position_id": 6_000_000_000 + 2 * n + k,
            "account_id": account["id"],
            "user_id": client["id"],
            "server": "MT5-Live",
            "login": account["login"],
            "symbol": ("EURUSD", "XAUUSD")[k],
            "side": k,
            "volume_lots": Decimal("0.10"),
            "open_time": at - 3600,
            "open_price": Decimal("1.1"),
            "close_time": at + k * 60,
            "close_price": Decimal("1.2"),
            "profit": Decimal("12.50"),
            "commission": Decimal("-7.00"),
            "swap": Decimal(0),
        }
        for k in range(2)
    ]


def seed(api: Any, clients: int, now: int) -> World:
    from fxcrm.approvals.workflow import submit
    from fxcrm.audit import record
    from fxcrm.core import ids, passwords
    from fxcrm.core.caller import Principal
    from fxcrm.core.settings import get_settings
    from fxcrm.dal import kyc, trading
    from fxcrm.rebates import settlement
    from fxcrm.trading.accounts import Application, create_on_platform, record_account
    from tests.support.demo import ADMIN
    from tests.support.journeys import login, staff_token

    settings = get_settings()
    shared_hash = passwords.hash_password(PASSWORD)
    admin_token = staff_token(api, *ADMIN)
    admin = Principal(0, "staff", "admin", ADMIN[0])
    master = _user("ib", None, now, 0, None)
    subs = [_user("ib", master["id"], now, n, shared_hash) for n in range(1, max(2, clients // 200) + 1)]
    subsubs = [_user("ib", subs[n % len(subs)]["id"], now, 1000 + n, shared_hash) for n in range(max(4, clients // 50))]
    account_type = trading.get_account_type("MT5", 202, False)
    assert account_type is not None
    application = Application("MT5", 202, 100, "USD", "Live-Pass1", None)
    start = now - 20 * DAY
    made: list[dict[str, Any]] = []
    rows: list[dict[str, Any]] = []
    for n in range(clients):
        client = _user("client", subsubs[n % len(subsubs)]["id"], now, 10_000 + n, None if n == 0 else shared_hash)
        at = start + n * (18 * DAY // clients)
        kyc.set_kyc_status(int(client["id"]), "approved" if n % 2 == 0 else "disapproved", at)
        account_id = ids.new_id()
        login_number = create_on_platform(settings, "MT5-Live", account_type, str(client["email"]), application)
        record_account(account_id, int(client["id"]), application, account_type, "MT5-Live", login_number, False, at)
        account = {"id": account_id, "login": login_number}
        _orders(client, account, at)
        rows.extend(_trades(client, account, n, at))
        owner = Principal(int(client["id"]), "client", "client", str(client["email"]))
        submit(settings, "deposit", ids.new_id(), owner, {"amount": "100.00", "currency": "USD"}, at)
        record(admin, "bench.seeded", f"user:{client['id']}", "203.0.113.1", at)
        made.append(client)
    for first in range(0, len(rows), 1000):
        trading.put_history_orders(rows[first : first + 1000], now - 2 * 3600)
    settlement.settle_window(settings, (now - 3 * 3600, now - 3600), "bench", now)
    ib_token = login(api, master["email"], PASSWORD).json()["token"]
    client_token = login(api, made[0]["email"], PASSWORD).json()["token"]
    opened = api.put("/ib/api-access", {"enabled": True, "level": "open"}, token=ib_token)
    assert opened.status == 200, opened.body
    return World(admin_token, ib_token, int(master["id"]), client_token, int(made[0]["id"]), [c["id"] for c in made])


# ---------------------------------------------------------------- the lists


def requests_of(world: World, now: int) -> list[tuple[str, str, str, dict[str, Any]]]:
    """(caller, label, path, query) of every list of issue #20's table."""
    from datetime import UTC, datetime

    day = lambda t: datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d")  # noqa: E731
    window = {"start_time": f"{day(now - 30 * DAY)} 00:00:00", "end_time": f"{day(now)} 23:59:59"}
    days = {"start_time": day(now - 30 * DAY), "end_time": day(now)}  # the IB commission details take dates
    money = {"status": "all", **window}
    trades = {"trading_type": "all", **window}
    staff, ib, client = world.admin, world.ib, world.client
    return [
        (staff, "staff deposit report", "/reports/deposits", money),
        (staff, "staff withdrawal report", "/reports/withdrawals", money),
        (staff, "staff transfer report", "/reports/transfers", money),
        (staff, "staff history-order report", "/reports/history-orders", trades),
        (staff, "staff approval queue", "/admin/approvals", {"status": "pending"}),  # no flow runs here: still pending
        (staff, "staff audit log", "/admin/audit", {"day": day(now - 10 * DAY)}),
        (staff, "staff client list", "/admin/users", {"user_type": "client"}),
        (staff, "staff commission records", "/admin/rebates", {}),
        (ib, "IB history-order report", "/reports/history-orders", trades),
        (ib, "IB deposit report", "/reports/deposits", money),
        (ib, "IB position report", "/reports/positions", trades),
        (ib, "IB client accounts", "/ib/client-accounts", {}),
        (ib, "IB clients, KYC filter", "/ib/clients", {"kyc_status": "approved"}),
        (ib, "IB commission records", "/ib/commissions", window),
        (ib, "IB commission details", "/ib/commission-details", days),
        (ib, "IB rebates", "/ib/rebates", {}),
        ("", "partner GetCommissionRecords", f"/partner/GetCommissionRecords/{world.ib_id}", {}),
        (client, "client deposit history", "/funding/deposits", {}),
        (client, "client history-order report", "/reports/history-orders", trades),
    ]


def _path(path: str, query: dict[str, Any]) -> str:
    from urllib.parse import urlencode

    return f"{path}?{urlencode(query)}" if query else path


def _total(body: Any) -> int | None:
    if isinstance(body, list):  # the Partner API answers its records unpaged
        return len(body)
    if isinstance(body, dict):
        if isinstance(body.get("total"), int):
            return int(body["total"])
        for value in body.values():  # the Partner API wraps its answer
            if (found := _total(value)) is not None:
                return found
    return None


def measure(api: Any, meter: Meter, caller: str, path: str, query: dict[str, Any]) -> dict[str, Any]:
    cost = meter.reset()
    started = time.perf_counter()
    reply = api.get(_path(path, query), token=caller or None)
    seconds = time.perf_counter() - started
    body = reply.json() if reply.body[:1] in (b"{", b"[") else None
    return {
        "status": reply.status,
        "calls": sum(cost.calls.values()),
        "items": cost.items,
        "seconds": round(seconds, 3),
        "total": _total(body),
        "by_call": dict(cost.calls),
        **({"error": reply.body[:300].decode(errors="replace")} if reply.status != 200 else {}),
    }


def run(clients: int) -> list[dict[str, Any]]:
    import boto3
    from moto import mock_aws

    from localcloud.functions import load_stack
    from localcloud.moto_patches import make_dynamodb_atomic
    from localcloud.provision import provision
    from tests.support.api import ApiClient

    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench")  # noqa: S106 - moto's dummy keys
    os.environ.pop("AWS_ENDPOINT_URL", None)
    make_dynamodb_atomic()
    config: Any = {"lambda": {"use_docker": False}, "stepfunctions": {"execute_state_machine": False}}
    with mock_aws(config=config):
        stack = provision(boto3.Session())
        os.environ.update(stack.environment())
        from fxcrm.adapters import secrets
        from fxcrm.core.settings import get_settings
        from fxcrm.dal import aws
        from localcloud.seed import seed_demo_data

        get_settings.cache_clear()
        aws.reset_clients()
        secrets.clear_cache()
        now = int(time.time())
        seed_demo_data(now)
        loaded, _ = load_stack(stack)
        loaded.install_into_moto()
        api = ApiClient(stack.resolver.template, stack.functions, loaded.handlers)
        started = time.perf_counter()
        world = seed(api, clients, now)
        print(f"growth: N={clients:,} seeded in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        meter = Meter()
        results = []
        for caller, label, path, query in requests_of(world, now):
            measure(api, meter, caller, path, {**query, "page": 1, "size": SIZE})  # warm: first-use caches
            first = measure(api, meter, caller, path, {**query, "page": 1, "size": SIZE})
            last_page = max(1, math.ceil((first["total"] or 0) / SIZE))
            deep = measure(api, meter, caller, path, {**query, "page": last_page, "size": SIZE})
            results.append({"n": clients, "request": label, "path": path, "page_1": first, "deep_page": deep})
            deep["page"] = last_page
            print(f"growth: N={clients:,} {label}: {first['calls']} calls, {first['items']} items", file=sys.stderr)
        return results


# ---------------------------------------------------------------- the table


def table(results: list[dict[str, Any]]) -> str:
    sizes = sorted({r["n"] for r in results})
    head = "| request | page | " + " | ".join(f"N = {n:,}" for n in sizes) + " | growth (calls, items) |"
    lines = [head, "|" + "---|" * (len(sizes) + 3)]
    by = {(r["request"], r["n"]): r for r in results}
    for label in dict.fromkeys(r["request"] for r in results):
        for page in ("page_1", "deep_page"):
            cells = []
            for n in sizes:
                m = by[(label, n)][page]
                status = "" if m["status"] == 200 else f" (HTTP {m['status']})"
                cells.append(f"{m['calls']} calls, {m['items']:,} items, {m['seconds']:.2f} s{status}")
            low, high = by[(label, sizes[0])][page], by[(label, sizes[-1])][page]
            growth = f"{high['calls'] / max(low['calls'], 1):.1f}x, {high['items'] / max(low['items'], 1):.1f}x"
            lines.append(f"| {label} | {'1' if page == 'page_1' else 'last'} | " + " | ".join(cells) + f" | {growth} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    default = "100,1000,10000" if os.environ.get("BENCH_N") == "10000" else "100,1000"
    parser.add_argument("--sizes", default=os.environ.get("BENCH_SIZES", default))
    parser.add_argument("--one", type=int, help="run one size in this interpreter (used by the driver)")
    parser.add_argument("--json", help="also write every measurement to this file")
    args = parser.parse_args()
    if args.one is not None:
        print(json.dumps(run(args.one)))
        return
    results: list[dict[str, Any]] = []
    for n in (int(s) for s in args.sizes.split(",")):
        # the handlers' own logs go to the child's stderr; only its progress lines are shown
        child = subprocess.Popen(
            [sys.executable, __file__, "--one", str(n)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        assert child.stderr is not None
        errors = []
        for line in child.stderr:
            if line.startswith("growth: "):
                print(line.rstrip(), file=sys.stderr)
            else:
                errors = [*errors[-40:], line]
        out = child.stdout.read() if child.stdout else ""
        if child.wait() != 0:
            raise SystemExit(f"N={n} failed:\n{''.join(errors)}")
        results.extend(json.loads(out.strip().splitlines()[-1]))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    print(table(results))


if __name__ == "__main__":
    main()

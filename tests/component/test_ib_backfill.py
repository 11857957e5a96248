"""Data stored before the IB ancestor index existed gets its entries from the
backfill (`python -m fxcrm.ib.backfill`): the IB's lists then show it, with
the right totals, and a second run changes nothing."""

import secrets
import time
from decimal import Decimal
from typing import Any

from tests.support.api import ApiClient
from tests.support.journeys import create_ib, login, unique_email

NOW = int(time.time())


def _stored_the_old_way() -> tuple[dict[str, Any], dict[str, Any]]:
    """An IB with a client, its account and a closed trade, written as before the index (no entries)."""
    from fxcrm.core import ids
    from fxcrm.dal import trading
    from fxcrm.dal.table import Table
    from fxcrm.dal.users import downline_keys

    table = Table()
    login_no = 9_000_000 + secrets.randbelow(10**6)
    trading.create_sim_account(
        {
            "server": "MT5-Live",
            "login": login_no,
            "group": "real\\standard",
            "name": "Early Bird",
            "leverage": 100,
            "balance": Decimal("250"),
            "credit": Decimal(0),
            "main_password_hash": "-",
            "investor_password_hash": "-",
        }
    )
    ib = create_ib("old", "Ib-pass-2026", NOW - 9 * 86400, first_name="Olde")
    client_id, account_id = ids.new_id(), ids.new_id()
    client = {
        "id": client_id,
        "email": unique_email("oldclient"),
        "user_type": "client",
        "role": "client",
        "status": "active",
        "token_version": 1,
        "created_at": NOW - 5 * 86400,
        "ib_id": int(ib["id"]),
        "first_name": "Early",
        "last_name": "Bird",
        "full_name": "Early Bird",
        "name_search": "early bird",
    }
    table.put(
        client
        | {"pk": f"USER#{client_id}", "sk": "PROFILE", "gsi2pk": "USERS#client", "gsi2sk": f"{client_id:016d}"}
        | downline_keys(int(ib["id"]), client_id)
    )
    account = {
        "id": account_id,
        "user_id": client_id,
        "trading_platform": "MT5",
        "server": "MT5-Live",
        "login": login_no,
        "currency": "USD",
        "leverage": 100,
        "is_demo": False,
        "type_id": 202,
        "type_name": "Standard",
        "record_type": "normal",
        "created_at": NOW - 4 * 86400,
    }
    table.put(account | {"pk": f"TACCT#{account_id}", "sk": "ACCOUNT"})
    table.put({"pk": f"USER#{client_id}", "sk": f"TACCT#{account_id}", "account_id": account_id, "is_demo": False})
    close = NOW - 2 * 86400
    trade = {
        "ticket": 5_500_001,
        "position_id": 5_500_000,
        "account_id": account_id,
        "user_id": client_id,
        "server": "MT5-Live",
        "login": login_no,
        "symbol": "EURUSD",
        "side": 0,
        "volume_lots": Decimal("1"),
        "open_time": close - 600,
        "open_price": Decimal("1.1"),
        "close_time": close,
        "close_price": Decimal("1.2"),
        "profit": Decimal("3"),
        "commission": Decimal("-1"),
        "swap": Decimal(0),
        "recorded_at": close,
    }
    table.put(trade | trading.history_order_keys(trade))
    return ib, client


def test_the_backfill_indexes_what_was_stored_before(api: ApiClient) -> None:
    from fxcrm.ib.backfill import backfill

    ib, client = _stored_the_old_way()
    token = login(api, ib["email"], "Ib-pass-2026").json()["token"]

    def totals() -> tuple[int, int, int]:
        return (
            api.get("/ib/clients", token=token).json()["total"],
            api.get("/ib/client-accounts", token=token).json()["total"],
            api.get("/reports/history-orders?trading_type=all&time_type=close", token=token).json()["total"],
        )

    assert totals() == (0, 0, 0)  # the index knows nothing of it yet
    seen = backfill()
    assert seen["users"] >= 1 and seen["trades"] >= 1
    assert totals() == (1, 1, 1)
    assert api.get("/ib/client-accounts", token=token).json()["list"][0]["balance"] == "250.00"
    [row] = api.get("/ib/clients?client_name=bird", token=token).json()["list"]
    assert (row["client_user_id"], row["full_name"], row["source"]) == (client["id"], "Early Bird", "direct")
    backfill()  # again: nothing twice
    assert totals() == (1, 1, 1)

"""Write the IB ancestor index (`fxcrm.dal.ib_index`) for data stored before
it existed: every user under an IB, its trading accounts and its closed
trades, under every IB above it now. Run once after deploying the index
(`python -m fxcrm.ib.backfill`, docs/operations.md); running it again changes
nothing, since each entry is written only where it is missing, with its count.

It reads the users of each type by age (gsi2 `USERS#<type>`, no Scan), and per
user under an IB its accounts and their trades: a one-off cost in proportion
to the data, paid outside any request."""

from typing import Any

from fxcrm.dal import ib_index
from fxcrm.dal import kyc as kyc_dal
from fxcrm.dal import trading as trading_dal
from fxcrm.dal.table import Table


def _users(table: Table, user_type: str) -> list[dict[str, Any]]:
    return table.query("gsi2pk = :pk", {":pk": f"USERS#{user_type}"}, index="gsi2")


def backfill(table: Table | None = None) -> dict[str, int]:
    """Index every user under an IB, its accounts and trades; returns how many of each were looked at."""
    table = table or Table()
    seen = {"users": 0, "accounts": 0, "trades": 0}
    for user_type in ("client", "ib"):
        for user in _users(table, user_type):
            if user.get("ib_id") is None:
                continue
            seen["users"] += 1
            tree = ib_index.chain(int(user["ib_id"]), table)
            kyc = kyc_dal.get_kyc_status(int(user["id"]), table)
            accounts = trading_dal.get_trading_accounts(
                [int(e["account_id"]) for e in trading_dal.list_user_account_ids(int(user["id"]), table)], table
            )
            for ib, level in tree:
                ib_index.put_missing(table, ib_index.user_entry(ib, level, user, kyc))
                for account in accounts:
                    ib_index.put_missing(table, ib_index.account_entry(ib, level, account, user))
            seen["accounts"] += len(accounts)
            for account in accounts:
                trades = trading_dal.list_account_history(int(account["id"]), 0, 2**31 - 1, table)
                ib_index.record_trades(trades, table)
                seen["trades"] += len(trades)
    return seen


if __name__ == "__main__":
    print(backfill())

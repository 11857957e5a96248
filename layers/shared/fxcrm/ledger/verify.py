"""Recompute every ledger balance from its postings and report differences.

Each balance item (a house account's shards each) is checked against the
postings under it; each posted transaction's postings sum to zero, and a
pending one's are exactly its debits (its credits wait for the settlement).

Run it with `make verify-ledger` (the local cloud) or, against a deployed
stack, `make verify-ledger TABLE=<table>` with AWS credentials."""

import json
import sys
from collections import defaultdict
from decimal import Decimal
from typing import Any

from fxcrm.dal import ledger as dal


def verify() -> dict[str, Any]:
    differences: list[dict[str, Any]] = []
    per_txn: dict[str, Decimal] = defaultdict(Decimal)
    pending: set[str] = set()
    seen: set[str] = set()
    accounts = dal.list_accounts()
    for balance in accounts:
        account = balance.account
        posted, pending_out = Decimal(0), Decimal(0)
        for posting in dal.list_postings(account, balance.shard):
            amount = posting.amount
            seen.add(posting.txn_id)
            if posting.status != "voided":
                per_txn[posting.txn_id] += amount
            if posting.status == "pending":
                pending.add(posting.txn_id)
            if posting.status == "posted":
                posted += amount
            elif posting.status == "pending" and amount < 0:
                pending_out -= amount
        expected = {"posted": posted, "pending_out": pending_out, "available": posted - pending_out}
        stored = {"posted": balance.posted, "pending_out": balance.pending_out, "available": balance.available}
        for field, value in expected.items():
            if stored[field] != value:
                differences.append(
                    {"account": account, "field": field, "stored": str(stored[field]), "computed": str(value)}
                )
        if balance.guarded and posted - pending_out < 0:
            differences.append({"account": account, "field": "available", "problem": "negative"})
    for txn_id, total in sorted(per_txn.items()):
        due = _reserved(txn_id) if txn_id in pending else Decimal(0)
        if total != due:
            problem = "postings are not its debits" if txn_id in pending else "legs do not sum to zero"
            differences.append({"transaction": txn_id, "problem": problem, "sum": str(total), "expected": str(due)})
    return {"accounts": len({b.account for b in accounts}), "transactions": len(seen), "differences": differences}


def _reserved(txn_id: str) -> Decimal:
    """What a pending transaction's postings must sum to: its debits alone."""
    txn = dal.get_transaction(txn_id)
    return sum((leg.amount for leg in txn.legs if leg.amount < 0), Decimal(0)) if txn else Decimal(0)


def main() -> int:
    report = verify()
    print(json.dumps(report, indent=2))
    return 1 if report["differences"] else 0


if __name__ == "__main__":
    sys.exit(main())

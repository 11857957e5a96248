"""The reconciliation checks that need no AWS: the months a trade window reads,
and which waiting items are past the SLA."""

from datetime import UTC, datetime

from fxcrm.core.settings import Settings
from fxcrm.reconciliation import checks


def _at(text: str) -> int:
    return int(datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=UTC).timestamp())


def test_a_window_reads_each_month_it_touches_across_a_year_end() -> None:
    assert checks._months(_at("2025-11-30 23:00"), _at("2026-01-01 01:00")) == ["2025-11", "2025-12", "2026-01"]
    assert checks._months(_at("2026-03-05 00:00"), _at("2026-03-06 00:00")) == ["2026-03"]


def test_only_items_waiting_longer_than_the_sla_are_findings() -> None:
    settings = Settings(approval_sla_hours=24)
    now = _at("2026-03-10 12:00")
    item = {"user_id": 7, "kind": "withdrawal", "summary": {"order_number": "W42", "amount": "50.00"}}
    waiting = [
        item | {"id": 1, "created_at": now - 24 * 3600 - 1},  # past it by a second
        item | {"id": 2, "created_at": now - 24 * 3600},  # exactly at it: not yet
        {"id": 3, "user_id": 8, "kind": "kyc", "summary": {}, "created_at": now - 30 * 24 * 3600},
    ]
    found = checks.approvals_past_sla(settings, waiting, now)
    assert [(f["subject"], f["order_number"], f["amount"], f["since"]) for f in found] == [
        ("1", "W42", "50.00", now - 24 * 3600 - 1),
        ("3", None, None, now - 30 * 24 * 3600),
    ]

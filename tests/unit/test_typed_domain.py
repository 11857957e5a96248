"""The domain's money boundaries are typed, so mypy strict (which `make lint`
runs) refuses a caller that passes the wrong shape: a withdrawal is the
request model, not a dict; a ledger leg is a `Leg`; an item needs one or two
approvals; and a misspelt request field is an error, not a KeyError at run time."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

MISUSES = """
from decimal import Decimal

from fxcrm import ledger
from fxcrm.core.caller import Principal
from fxcrm.core.settings import get_settings
from fxcrm.funding import orders, withdrawals
from fxcrm.funding.schemas import WithdrawalRequest


def misuse(principal: Principal, body: WithdrawalRequest) -> None:
    withdrawals.request(get_settings(), principal, {"withdrawal_amount": "10.00"}, 0)  # WRONG: a dict
    ledger.post("t", "deposit", "D", "USD", [("TA:1", Decimal(5)), ("FEES:USD", Decimal(-5))], 0)  # WRONG: tuples
    orders.submit_or_release(get_settings(), "withdrawal", {}, principal, {}, 0, required_approvals=3)  # WRONG
    print(body.withdrawal_amonut)  # WRONG: misspelt


def use(principal: Principal, body: WithdrawalRequest) -> None:
    withdrawals.request(get_settings(), principal, body, 0)
    ledger.post("t", "deposit", "D", "USD", [ledger.Leg("TA:1", Decimal(5)), ledger.Leg("FEES:USD", Decimal(-5))], 0)
    orders.submit_or_release(get_settings(), "withdrawal", {}, principal, {}, 0, required_approvals=2)
    print(body.withdrawal_amount)
"""


def test_mypy_refuses_each_wrongly_shaped_call_and_accepts_the_typed_ones(tmp_path: Path) -> None:
    snippet = tmp_path / "callers.py"
    snippet.write_text(MISUSES)
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"), str(snippet)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    wrong = {number for number, line in enumerate(MISUSES.splitlines(), 1) if "# WRONG" in line}
    flagged = {int(n) for n in re.findall(rf"{re.escape(snippet.name)}:(\d+): error", result.stdout)}
    assert len(wrong) == 4
    assert flagged == wrong, result.stdout

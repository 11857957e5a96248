"""Paying a withdrawal out to the client's bank, wire or wallet.

The port takes an idempotency reference (the order number): asking twice pays
once. `LocalPayouts`, the stand-in used locally and until a payment provider
is configured, records each payout instruction in the domain table for the
finance team, who execute it by hand; its reference is the record's id."""

from decimal import Decimal
from typing import Any, Protocol

from botocore.exceptions import ClientError

from fxcrm.dal.table import Table, is_condition_failure


class PayoutFailed(Exception):
    """The provider refused the payout (details invalid, limits): not worth retrying."""


class Payouts(Protocol):
    def pay(self, reference: str, method: str, details: dict[str, Any], amount: Decimal, currency: str) -> str: ...


class LocalPayouts:
    """PAYOUT#<reference> / PAYOUT: the instruction, written once."""

    def pay(self, reference: str, method: str, details: dict[str, Any], amount: Decimal, currency: str) -> str:
        table = Table()
        item = {
            "pk": f"PAYOUT#{reference}",
            "sk": "PAYOUT",
            "reference": reference,
            "method": method,
            "details": details,
            "amount": amount,
            "currency": currency,
            "status": "instructed",
        }
        try:
            table.put(item, condition="attribute_not_exists(pk)")
        except ClientError as error:
            if not is_condition_failure(error):
                raise
        return f"local-{reference}"


def payouts_for(provider: str) -> Payouts:
    if provider == "local":
        return LocalPayouts()
    raise ValueError(f"unknown payout provider {provider!r}")

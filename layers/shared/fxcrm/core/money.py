"""Amounts as Decimal, quantised per currency; parsed from the seed's strings."""

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from fxcrm.core.errors import InvalidInput

# Minor units per currency; anything else uses two places.
PLACES = {"JPY": 0, "BTC": 8, "ETH": 8, "USDT": 2, "USDC": 2}
MAX_AMOUNT = Decimal("1000000000")
# ASCII digits only: Decimal() also reads other scripts' digits (Arabic-Indic, fullwidth).
DECIMAL_TEXT = re.compile(r"[0-9]+(\.[0-9]+)?")


def places(currency: str) -> int:
    return PLACES.get(currency, 2)


def quantum(currency: str) -> Decimal:
    return Decimal(1).scaleb(-places(currency))


def quantise(amount: Decimal, currency: str) -> Decimal:
    return amount.quantize(quantum(currency), rounding=ROUND_HALF_UP)


def parse_decimal(text: str, field: str) -> Decimal:
    """A non-negative decimal written in ASCII digits, e.g. "100.50"."""
    if not isinstance(text, str) or not DECIMAL_TEXT.fullmatch(text.strip()):
        raise InvalidInput("must be a decimal number such as 100.00", field, "invalid_amount")
    try:
        return Decimal(text.strip())
    except InvalidOperation as error:
        raise InvalidInput("must be a decimal number such as 100.00", field, "invalid_amount") from error


def parse_amount(text: str, currency: str, field: str) -> Decimal:
    """A positive amount with at most the currency's places, e.g. "100.50" for USD."""
    amount = parse_decimal(text, field)
    if not amount.is_finite() or amount <= 0:
        raise InvalidInput("must be greater than zero", field, "invalid_amount")
    if amount >= MAX_AMOUNT:
        raise InvalidInput("is too large", field, "invalid_amount")
    if amount != quantise(amount, currency):
        raise InvalidInput(f"has more than {places(currency)} decimal places for {currency}", field, "invalid_amount")
    return quantise(amount, currency)


def show(amount: Decimal, currency: str) -> str:
    return f"{quantise(amount, currency)}"

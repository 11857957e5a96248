"""The shared input rules: free text without control or bidi characters, and
amounts, times and codes in ASCII digits only."""

import pytest
from pydantic import BaseModel, ValidationError

from fxcrm.core import money, times
from fxcrm.core.errors import InvalidInput
from fxcrm.core.text import FreeText, check_free_text
from fxcrm.funding.schemas import AMOUNT, TransferRequest


class Note(BaseModel):
    text: FreeText


@pytest.mark.parametrize(
    "bad",
    ["\x00", "\t", "\n", "\r", "\x1b", "\x7f", "\x85", "\x9f", "\u2028", "\u2029"]
    + [chr(c) for c in range(0x202A, 0x202F)]
    + [chr(c) for c in range(0x2066, 0x206A)],
)
def test_free_text_refuses_each_control_and_bidi_character(bad: str) -> None:
    with pytest.raises(ValueError, match=f"U\\+{ord(bad):04X}"):
        check_free_text(f"Chen{bad}Li")
    with pytest.raises(ValidationError) as refused:
        Note(text=f"Chen{bad}Li")
    assert refused.value.errors()[0]["loc"] == ("text",)


@pytest.mark.parametrize(
    "good", ["Chen Li", "Łucja O'Brien-Smith", "陈立", "محمد", "Müller & Söhne, 1 Rue de l'Église", ""]
)
def test_free_text_keeps_printable_text_of_any_script(good: str) -> None:
    assert Note(text=good).text == good


@pytest.mark.parametrize("text", ["\u0663\u0660", "\uff13\uff10", "3\u0660.00", "\u0660.5", "1e3", "30.", "-30"])
def test_amounts_take_ascii_digits_only(text: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        money.parse_amount(text, "USD", "amount")
    assert refused.value.field == "amount"


def test_an_ascii_amount_parses() -> None:
    assert str(money.parse_amount("30.00", "USD", "amount")) == "30.00"


def test_patterns_and_times_refuse_other_scripts_digits() -> None:
    import re

    assert re.fullmatch(AMOUNT, "30.00") and not re.fullmatch(AMOUNT, "\u0663\u0660")
    with pytest.raises(ValidationError) as refused:
        TransferRequest(
            amount="10.00",
            email_code="\u0661\u0662\u0663\u0664\u0665\u0666",
            remark="",
            source_trading_account_id=1,
            target_trading_account_id=2,
        )
    assert refused.value.errors()[0]["loc"] == ("email_code",)
    with pytest.raises(InvalidInput) as bad_time:
        times.parse("\u0662\u0660\u0662\u0666-01-01 00:00:00", "start_time", "UTC", 0)
    assert bad_time.value.field == "start_time"

"""Messages as subject, text and HTML, in one of the three languages.

The words are in `locales/<language>.json` (one file per language, the same
message names and placeholders in each); the layout is `templates/message.html`
and `templates/message.txt` (Jinja2: autoescape on for HTML, so every value a
person typed — the broker's name, a staff reason, a channel's name — is escaped,
and strict about undefined names). A line that is exactly `{code}` is shown as
the code itself, large in HTML and indented in text."""

import json
import string
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from fxcrm.core.branding import Branding
from fxcrm.core.languages import Language

HERE = Path(__file__).parent
# Every message and the values it takes; each language's lines use exactly these
# (plus `broker`), which tests/unit/test_mail_templates.py holds.
MESSAGES: dict[str, frozenset[str]] = {
    "code_register": frozenset({"code", "minutes"}),
    "code_withdrawal": frozenset({"code", "minutes"}),
    "code_transfer": frozenset({"code", "minutes"}),
    "code_password_change": frozenset({"code", "minutes"}),
    "live_account_opened": frozenset({"application", "platform", "login", "server"}),
    "live_account_rejected": frozenset({"application", "reason"}),
    "live_account_expired": frozenset({"application"}),
    "live_account_failed": frozenset({"application"}),
    "kyc_approved": frozenset(),
    "kyc_returned": frozenset({"reason"}),
    "deposit_credited": frozenset({"number", "amount", "currency", "account"}),
    "deposit_declined": frozenset({"number", "reason"}),
    "withdrawal_sent": frozenset({"number", "amount", "currency", "channel"}),
    "withdrawal_declined": frozenset({"number", "reason"}),
    "withdrawal_payout_failed": frozenset({"number", "channel"}),
    "transfer_completed": frozenset({"number", "amount", "currency", "source", "target"}),
    "transfer_declined": frozenset({"number", "reason"}),
    # staff: the bootstrap's first admin (fxcrm.ops); the code is the one-time password
    "staff_access": frozenset({"email", "code", "console_url"}),
}
COMMON = frozenset({"broker"})  # every line may name the broker
CODE_LINE = "{code}"


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str
    language: Language


@dataclass(frozen=True)
class Line:
    text: str
    code: bool = False


@cache
def catalogue(language: Language) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((HERE / "locales" / f"{language}.json").read_text(encoding="utf-8"))
    return loaded


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


@cache
def _environment() -> Any:
    # Imported on first use: no function pays for Jinja2 before it sends mail.
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    return Environment(
        loader=FileSystemLoader(HERE / "templates"),
        # .txt is the text part (no escaping there); anything else is escaped
        autoescape=select_autoescape(["html"], ["txt"], default_for_string=True, default=True),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=False,
    )


def reason_in(language: Language, outcome: str, staff_reason: str) -> str:
    """What a declined item's mail gives as the reason: the staff member's
    words for a rejection, else the outcome in the reader's language."""
    reasons: dict[str, str] = catalogue(language)["reasons"]
    if outcome == "rejected":
        return staff_reason or reasons["declined"]
    return reasons.get(outcome, reasons["failed"])


def _safe_logo(url: str) -> str:
    # Only an https image: a javascript: or data: URL has no place in a mail.
    return url if url.startswith("https://") else ""


def render(message: str, values: dict[str, Any], language: Language, branding: Branding) -> Rendered:
    """The message in `language`. Raises KeyError for an unknown message and
    ValueError when `values` are not exactly what the message takes."""
    wanted = MESSAGES[message]
    if set(values) != wanted:
        raise ValueError(f"{message} takes {sorted(wanted)}, got {sorted(values)}")
    words = catalogue(language)
    broker = branding.broker_name(language)
    fill = {name: str(value) for name, value in values.items()} | {"broker": broker}
    entry = words["messages"][message]
    lines = [
        Line(fill["code"], code=True) if text == CODE_LINE else Line(text.format_map(fill)) for text in entry["lines"]
    ]
    layout = {key: text.format_map(fill) for key, text in words["layout"].items()}
    context = {
        "language": language,
        "subject": entry["subject"].format_map(fill),
        "broker": broker,
        "logo_url": _safe_logo(branding.company_logo_url),
        "support_email": branding.email,
        "support_phone": branding.support_phone,
        "layout": layout,
        "lines": lines,
    }
    environment = _environment()
    return Rendered(
        context["subject"],
        environment.get_template("message.txt").render(context),
        environment.get_template("message.html").render(context),
        language,
    )

"""Reference data of funding: currencies, exchange rates, channels and the
transfer-approval threshold. Staff edit them; each edit is audited."""

from decimal import Decimal
from typing import Any

from fxcrm import audit
from fxcrm.auth import permissions
from fxcrm.core import choices
from fxcrm.core.caller import Principal
from fxcrm.core.errors import InvalidInput, NotFound
from fxcrm.core.money import quantise
from fxcrm.core.paging import page_of
from fxcrm.dal import funding as dal
from fxcrm.dal import settings_items
from fxcrm.dal.table import plain
from fxcrm.funding.schemas import MethodFilter

METHODS = ("bank_transfer", "international_wire_transfer", "cryptocurrency")
ACCOUNT_CURRENCY = "USD"  # trading accounts are in USD (the seed's only account currency)


def currencies(method: str) -> dict[str, Any]:
    rows = (settings_items.get_setting("currencies") or {}).get("list", [])
    wanted = choices.selected(method, MethodFilter)
    shown = [{"code": c["code"], "name": c["name"]} for c in rows if wanted & set(c["methods"])]
    return {"list": shown, "total": len(shown)}


def exchange_rate(currency: str) -> Decimal:
    """Units of `currency` per one USD."""
    rates = (settings_items.get_setting("exchange_rates") or {}).get("rates", {})
    if currency not in rates:
        raise InvalidInput(f"{currency} is not paid out", "currency", "currency_not_supported")
    return Decimal(str(rates[currency]))


def transfer_threshold() -> Decimal:
    value = (settings_items.get_setting("funding") or {}).get("transfer_approval_threshold", "1000.00")
    return Decimal(str(value))


def two_approvals_above() -> Decimal:
    """Withdrawals above this amount need a second approver (maker-checker)."""
    value = (settings_items.get_setting("funding") or {}).get("two_approvals_above", "5000.00")
    return Decimal(str(value))


def email_code_required(kind: str) -> bool:
    """Whether a withdrawal or transfer must carry the emailed code (staff setting, default yes)."""
    value = (settings_items.get_setting("funding") or {}).get(f"{kind}_email_code_required", True)
    return bool(value)


def fee_for(channel: dict[str, Any], amount: Decimal) -> Decimal:
    fixed = Decimal(str(channel.get("fee_fixed", "0")))
    percent = Decimal(str(channel.get("fee_percent", "0")))
    return quantise(fixed + amount * percent / 100, ACCOUNT_CURRENCY)


def _fee_text(channel: dict[str, Any]) -> str:
    fixed = Decimal(str(channel.get("fee_fixed", "0")))
    percent = Decimal(str(channel.get("fee_percent", "0")))
    parts = ([f"{percent.normalize():f}%"] if percent else []) + ([f"{fixed:.2f} {ACCOUNT_CURRENCY}"] if fixed else [])
    return " + ".join(parts) if parts else "0"


def channel_view(channel: dict[str, Any], direction: str) -> dict[str, Any]:
    view = {
        "id": int(channel["id"]),
        "name": channel["name"],
        "method": channel["method"],
        "min_amount": f"{Decimal(str(channel['min_amount'])):.2f}",
        "max_amount": f"{Decimal(str(channel['max_amount'])):.2f}",
        "fee": _fee_text(channel),
        "allowed_currencies": list(channel.get("allowed_currencies", [])),
        "account_info": channel.get("account_info", ""),
        "icon_url": channel.get("icon_url", ""),
    }
    if direction == "deposit":
        view["allowed_countries"] = list(channel.get("allowed_countries", []))
    return view


def channels(direction: str, page: int, size: int) -> dict[str, Any]:
    rows = [c for c in dal.list_channels(direction) if c.get("enabled", True)]
    shown = [channel_view(c, direction) for c in page_of(rows, page, size)]
    return {"list": shown, "total": len(rows)}


def channel(direction: str, channel_id: int, field: str = "remittance_id") -> dict[str, Any]:
    """An enabled channel, or a 422 naming the field that chose it."""
    found = dal.get_channel(direction, channel_id)
    if found is None or not found.get("enabled", True):
        raise InvalidInput(f"no such {direction} channel", field, "channel_not_found")
    return dict(plain(found))


def check_limits(channel: dict[str, Any], amount: Decimal, field: str) -> None:
    low, high = Decimal(str(channel["min_amount"])), Decimal(str(channel["max_amount"]))
    if not low <= amount <= high:
        raise InvalidInput(
            f"must be between {low:.2f} and {high:.2f} for {channel['name']}", field, "amount_out_of_range"
        )


# ---------------------------------------------------------------- staff edits


def save_channel(
    staff: Principal, direction: str, channel_id: int, config: dict[str, Any], source_ip: str, now: int
) -> dict[str, Any]:
    permissions.require_money_controls(staff)
    if Decimal(str(config["min_amount"])) > Decimal(str(config["max_amount"])):
        raise InvalidInput("must not be above max_amount", "min_amount")
    before = dal.get_channel(direction, channel_id)
    saved = {**config, "id": channel_id, "updated_at": now, "updated_by": staff.user_id}
    dal.put_channel(direction, saved)
    audit.record(
        staff,
        f"funding.channel.{direction}",
        f"channel:{direction}:{channel_id}",
        source_ip,
        now,
        before=plain(before) if before else {},
        after=plain(saved),
    )
    return channel_view(saved, direction) | {"enabled": bool(saved.get("enabled", True))}


def save_setting(staff: Principal, name: str, value: dict[str, Any], source_ip: str, now: int) -> dict[str, Any]:
    """Exchange rates or the funding settings (transfer-approval threshold)."""
    permissions.require_money_controls(staff)
    if name not in ("exchange_rates", "funding"):
        raise NotFound("no such setting", "name")
    before = plain(settings_items.get_setting(name) or {})
    settings_items.put_setting(name, value, staff.user_id, now)
    audit.record(staff, f"funding.setting.{name}", f"setting:{name}", source_ip, now, before=before, after=value)
    return value

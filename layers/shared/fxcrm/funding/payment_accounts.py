"""Payment (receiving) accounts for withdrawals: bank, wire or crypto details
kept per user, with one default per method. They live under the user's own
partition, so another user's id is simply not found."""

from typing import Any

from fxcrm.auth import permissions
from fxcrm.core import ids, times
from fxcrm.core.caller import Principal, full_name
from fxcrm.core.errors import InvalidInput, NotFound
from fxcrm.core.settings import Settings
from fxcrm.dal import funding as dal
from fxcrm.dal import kyc as kyc_dal
from fxcrm.dal import users
from fxcrm.dal.table import plain

# Which info object carries the details of each method.
INFO_FIELD = {
    "bank_transfer": "bank_transfer_info",
    "international_wire_transfer": "international_wire_info",
    "cryptocurrency": "cryptocurrency_info",
}


def check_details(method: str, infos: dict[str, dict[str, Any] | None]) -> dict[str, Any]:
    """The details of `method`; any other method's object is a mistake."""
    wanted = INFO_FIELD[method]
    for field, value in infos.items():
        if field != wanted and value is not None:
            raise InvalidInput(f"does not belong to a {method} account", field, "wrong_method_details")
    details = infos.get(wanted)
    if details is None:
        raise InvalidInput(f"required for {method}", wanted, "missing_details")
    _check_wallet(details, wanted)
    return details


def _check_wallet(details: dict[str, Any], field: str) -> None:
    network, address = details.get("network"), str(details.get("wallet_address", ""))
    valid = {
        "TRC20": address.startswith("T") and len(address) == 34,
        "ERC20": address.startswith("0x") and len(address) == 42,
        "BTC": address[:1] in ("1", "3") or address.startswith("bc1"),
    }
    if network is not None and not valid.get(str(network), False):
        raise InvalidInput(f"is not a {network} address", f"{field}.wallet_address", "invalid_wallet_address")


def create(principal: Principal, method: str, infos: dict[str, Any], remark: str, now: int) -> int:
    permissions.require(principal, "funding.withdraw")
    details = check_details(method, infos)
    account_id = ids.new_id()
    dal.put_payment_account(
        principal.user_id,
        {
            "id": account_id,
            "method": method,
            "details": details,
            "remark": remark,
            "created_at": now,
            "updated_at": now,
        },
    )
    return account_id


def get_owned(principal: Principal, account_id: int) -> dict[str, Any]:
    permissions.require(principal, "funding.withdraw")
    found = dal.get_payment_account(principal.user_id, account_id)
    if found is None:
        raise NotFound("no such payment account", "id")
    return dict(plain(found))


def _defaults(items: list[dict[str, Any]]) -> dict[str, int]:
    return {
        i["sk"].removeprefix("PAYDEFAULT#"): int(i["account_id"]) for i in items if i["sk"].startswith("PAYDEFAULT#")
    }


def holder_name(user_id: int) -> str:
    """Whose a saved payment account is: the client's name as entered in its
    KYC identity (the name on its document), else its profile's name. The seed's
    payment accounts take no holder name: payouts go to the client's own name."""
    identity = plain(kyc_dal.get_module(user_id, "identity")) or {}
    entered = str(identity.get("full_name") or "").strip()
    return entered or full_name(users.get_user(user_id) or {})


def detail(settings: Settings, principal: Principal, account_id: int) -> dict[str, Any]:
    account = get_owned(principal, account_id)
    view: dict[str, Any] = dict.fromkeys(INFO_FIELD.values())
    view[INFO_FIELD[account["method"]]] = account["details"]
    return view | {
        "id": account_id,
        "account_holder_name": holder_name(principal.user_id),
        "payment_method": account["method"],
        "remark": account.get("remark", ""),
        "created_at": times.show(int(account["created_at"]), settings.broker_timezone),
        "updated_at": times.show(int(account["updated_at"]), settings.broker_timezone),
    }


def list_grouped(
    settings: Settings, principal: Principal, method: str | None, start: str | None, end: str | None
) -> dict[str, Any]:
    permissions.require(principal, "funding.withdraw")
    first, last = times.window(start, end, settings.broker_timezone)
    items = [plain(i) for i in dal.list_payment_items(principal.user_id)]
    defaults = _defaults(items)
    grouped: dict[str, list[dict[str, Any]]] = {m: [] for m in INFO_FIELD}
    for account in sorted((i for i in items if i["sk"].startswith("PAYACCT#")), key=lambda a: -int(a["id"])):
        if (method and account["method"] != method) or not first <= int(account["created_at"]) <= last:
            continue
        grouped[account["method"]].append(
            {
                **account["details"],
                "id": int(account["id"]),
                "is_default": defaults.get(account["method"]) == int(account["id"]),
                "remark": account.get("remark", ""),
                "created_at": times.show(int(account["created_at"]), settings.broker_timezone),
            }
        )
    return {**grouped, "total": sum(len(rows) for rows in grouped.values())}


def update(
    principal: Principal,
    account_id: int,
    infos: dict[str, Any],
    is_default: bool | None,
    remark: str | None,
    now: int,
) -> None:
    account = get_owned(principal, account_id)
    method = account["method"]
    given = {field: value for field, value in infos.items() if value is not None}
    if given:
        account["details"] = check_details(method, infos)
    if remark is not None:
        account["remark"] = remark
    account["updated_at"] = now
    dal.put_payment_account(principal.user_id, {k: v for k, v in account.items() if k not in ("pk", "sk")})
    # One default per method: a pointer item, so setting one replaces the other at once.
    if is_default is True:
        dal.set_default(principal.user_id, method, account_id)
    elif is_default is False:
        dal.clear_default_if(principal.user_id, method, account_id)


def details_for_withdrawal(principal: Principal, account_id: int, method: str) -> dict[str, Any]:
    account = get_owned(principal, account_id)
    if account["method"] != method:
        raise InvalidInput(
            f"is a {account['method']} account, not {method}", "payment_account_id", "wrong_method_details"
        )
    holder = {} if method == "cryptocurrency" else {"account_holder_name": holder_name(principal.user_id)}
    return dict(account["details"]) | holder

"""Bootstrap a fresh stack: the first staff admin and the default catalogue.

Everything is written only where nothing is yet (a conditional put per item),
so a second run, or a run after staff changed the defaults, changes nothing
and says so. The admin gets a one-time password (mailed, or handed back to be
printed once): every staff route answers 403 `password_change_required` until
it is replaced, and `mfa_required` until two-factor login is set up."""

import secrets
import string
from dataclasses import dataclass, field
from typing import Any

from fxcrm import audit
from fxcrm.auth import permissions
from fxcrm.auth.accounts import new_user, normalise_email
from fxcrm.core.caller import STAFF
from fxcrm.core.errors import InvalidInput
from fxcrm.core.passwords import check_rule
from fxcrm.core.settings import Settings
from fxcrm.dal import funding, settings_items, trading
from fxcrm.dal import users as users_dal
from fxcrm.dal.table import Table
from fxcrm.kyc import forms
from fxcrm.mail import sender as mail
from fxcrm.ops import catalogue
from fxcrm.site.config import Branding, LoginPages

ADMIN_ROLE = "admin"
BOOTSTRAP = 0  # `changed_by` of what the bootstrap wrote (no staff member yet)


@dataclass
class Part:
    name: str
    created: int = 0
    found: int = 0
    note: str = ""

    def line(self) -> str:
        counts = [f"{n} {word}" for n, word in ((self.created, "created"), (self.found, "found")) if n]
        return f"  {self.name:<22} {', '.join(counts) or 'nothing'}" + (f"  ({self.note})" if self.note else "")


@dataclass
class Report:
    table: str
    parts: list[Part] = field(default_factory=list)
    # the admin's one-time password when it was not mailed; shown once, never stored in clear
    one_time_password: str | None = None

    @property
    def changed(self) -> bool:
        return any(part.created for part in self.parts)

    def text(self) -> str:
        lines = [f"fxcrm bootstrap of table {self.table}", *(part.line() for part in self.parts)]
        lines.append("Done: created what was missing." if self.changed else "Nothing to change: everything was there.")
        return "\n".join(lines)


@dataclass(frozen=True)
class Admin:
    email: str
    first_name: str = "Admin"
    last_name: str = ""
    # None: a one-time password is generated (the command never takes one); the demo passes its own
    password: str | None = None
    must_change_password: bool = True


def one_time_password() -> str:
    alphabet = string.ascii_letters + string.digits
    while True:
        candidate = "".join(secrets.choice(alphabet) for _ in range(20))
        try:
            check_rule(candidate)
        except InvalidInput:  # no digit or no letter in this draw
            continue
        return candidate


def run(
    settings: Settings,
    admin: Admin,
    now: int,
    *,
    mail_password: bool = False,
    console_url: str = "",
    branding: dict[str, Any] | None = None,
) -> Report:
    table = Table()
    report = Report(table.name)
    report.parts.append(_admin(settings, admin, now, mail_password, console_url, report))
    report.parts += _catalogue(table, settings, now, branding or {})
    return report


def _admin(settings: Settings, admin: Admin, now: int, mail_password: bool, console_url: str, report: Report) -> Part:
    part = Part("first admin")
    email = normalise_email(admin.email)
    existing = users_dal.find_user_id_by_email(email)
    if existing is not None:
        user = users_dal.get_user(existing) or {}
        part.found, part.note = 1, f"{email}, {user.get('user_type')} {user.get('role')}; not changed"
        return part
    password = admin.password or one_time_password()
    user = new_user(email, password, STAFF, ADMIN_ROLE, now, first_name=admin.first_name, last_name=admin.last_name)
    if admin.must_change_password:
        user["must_change_password"] = True
    try:
        users_dal.create_user(user)
    except users_dal.EmailTaken:  # another run created it meanwhile
        part.found, part.note = 1, f"{email}; not changed"
        return part
    audit.security_event(user, "staff.bootstrap", "bootstrap", now, {"role": ADMIN_ROLE})
    part.created, part.note = 1, email
    if admin.password is not None:
        return part
    refused = _mail(settings, email, password, console_url) if mail_password else "not mailed"
    if refused is None:
        part.note += f"; one-time password mailed from {settings.ses_sender}"
    else:
        part.note += f"; one-time password printed below ({refused})"
        report.one_time_password = password
    return part


def _mail(settings: Settings, email: str, password: str, console_url: str) -> str | None:
    """Mail the one-time password: None when sent, else why not."""
    values = {"email": email, "code": password, "console_url": console_url or "the back office"}
    try:
        mail.send(settings, email, "staff_access", values)
    except Exception as error:  # SES sandbox, an unverified sender, no permission: printed instead
        return f"SES refused: {error}"
    return None


def _catalogue(table: Table, settings: Settings, now: int, branding: dict[str, Any]) -> list[Part]:
    def put(part: Part, item: dict[str, Any]) -> None:
        if table.put_new(item):
            part.created += 1
        else:
            part.found += 1

    def setting(name: str, part_name: str, value: dict[str, Any]) -> Part:
        part = Part(part_name)
        put(part, settings_items.setting_item(name, value, BOOTSTRAP, now))
        return part

    types = Part("account types")
    for account_type in catalogue.account_types():
        put(types, trading.account_type_item(account_type))
    channels = Part("funding channels", note="created disabled: a controller adds the details and enables them")
    for direction, channel in catalogue.channels():
        put(channels, funding.channel_item(direction, channel))
    packaged = permissions.summary()
    return [
        types,
        setting("currencies", "currencies", catalogue.currencies()),
        setting("exchange_rates", "exchange rates", {"rates": catalogue.EXCHANGE_RATES}),
        setting("funding", "funding thresholds", dict(catalogue.FUNDING)),
        channels,
        setting(forms.SETTING, "KYC form", forms.default_form().model_dump()),
        Part(
            "permissions and menus",
            found=1,
            note=f"packaged with the code: {packaged['roles']} roles, {packaged['actions']} actions, "
            f"{packaged['menus']} menus",
        ),
        setting(
            "branding",
            "branding",
            Branding.model_validate({"timezone": settings.broker_timezone, **branding}).model_dump(by_alias=True),
        ),
        setting("login_pages", "login pages", LoginPages().model_dump(by_alias=True)),
    ]

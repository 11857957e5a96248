"""Demo data for the local cloud, built on the bootstrap (`fxcrm.ops.bootstrap`: the
first admin and the default catalogue): a support agent, a controller, IBs and
clients (client1 has approved KYC, so it can apply for live accounts)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class DemoUser:
    email: str
    password: str
    user_type: str
    role: str
    first_name: str
    last_name: str
    referral_code: str | None = None
    invited_by: str | None = None  # the referral code the user registered with
    kyc_approved: bool = False  # until the KYC module seeds real reviews


DEMO_USERS = [
    DemoUser("admin@broker.example.com", "Admin-demo-2026", "staff", "admin", "Ada", "Admin"),
    DemoUser("support@broker.example.com", "Support-demo-2026", "staff", "support", "Sam", "Support"),
    # Sets the money controls (channels, rates, thresholds) and approves nothing.
    DemoUser("controller@broker.example.com", "Controller-demo-2026", "staff", "controller", "Cora", "Controller"),
    DemoUser("ib@broker.example.com", "Ib-demo-2026", "ib", "ib", "Ivan", "Broker", referral_code="DEMOIB"),
    DemoUser(
        "client1@broker.example.com",
        "Client-demo-2026",
        "client",
        "client",
        "Chen",
        "Li",
        invited_by="DEMOIB",
        kyc_approved=True,
    ),
    DemoUser("client2@broker.example.com", "Client-demo-2026", "client", "client", "Maria", "Garcia"),
    # a sub-IB under the demo IB, with a client of its own: a two-level tree for rebates
    DemoUser(
        "subib@broker.example.com",
        "Subib-demo-2026",
        "ib",
        "ib",
        "Sara",
        "Sub",
        referral_code="DEMOSUB",
        invited_by="DEMOIB",
    ),
    DemoUser(
        "client3@broker.example.com", "Client-demo-2026", "client", "client", "Omar", "Haddad", invited_by="DEMOSUB"
    ),
]


DOWNLOADS = {
    "client": [("MetaTrader 4", "The classic forex terminal"), ("MetaTrader 5", "Multi-asset terminal")],
    "ib": [("MetaTrader 5", "Multi-asset terminal"), ("MT5 Manager", "For partners who manage client accounts")],
}

# What the demo broker's controller entered on the bootstrap's channels: payment details, countries, icons.
BANK_INFO = "Beneficiary: Broker Ltd · IBAN GB33BUKB20201555555555 · SWIFT BUKBGB22 · quote the order number"
DEPOSIT_DETAILS = {1: BANK_INFO, 2: BANK_INFO, 3: "TQn9Y2khEsLJW1ChVWFMSMeRDow5KcbLSE", 4: ""}
DEPOSIT_COUNTRIES = ["GB", "DE", "FR", "SG", "AE", "TH"]


def enable_demo_channels() -> None:
    """Every bootstrap channel, enabled with the demo broker's details."""
    from fxcrm.dal import funding
    from fxcrm.ops import catalogue

    for direction, channel in catalogue.channels():
        deposit = direction == "deposit"
        funding.put_channel(
            direction,
            channel
            | {
                "account_info": DEPOSIT_DETAILS.get(channel["id"], "") if deposit else "",
                "allowed_countries": DEPOSIT_COUNTRIES if deposit else [],
                "icon_url": f"https://static.broker.example.com/channels/{channel['method']}.svg",
                "enabled": True,
            },
        )


def _slug(name: str) -> str:
    return name.lower().replace(" ", "-")


def seed_downloads(now: int) -> None:
    """Platform downloads, as staff would configure them (not part of the bootstrap: they are the broker's own)."""
    from datetime import UTC, datetime

    from fxcrm.dal import settings_items

    stamp = datetime.fromtimestamp(now, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")
    for portal, rows in DOWNLOADS.items():
        listing = [
            {
                "id": i + 1,
                "name": name,
                "description": text,
                "created_at": stamp,
                "updated_at": stamp,
                "icon_url": f"https://downloads.broker.example.com/{_slug(name)}/icon.png",
                "logo_url": f"https://downloads.broker.example.com/{_slug(name)}/logo.png",
                "windows_download_url": f"https://downloads.broker.example.com/{_slug(name)}/setup.exe",
                "macos_download_url": f"https://downloads.broker.example.com/{_slug(name)}/setup.dmg",
                "android_download_url": f"https://play.example.com/{_slug(name)}",
                "ios_download_url": f"https://apps.example.com/{_slug(name)}",
            }
            for i, (name, text) in enumerate(rows)
        ]
        settings_items.put_setting(f"platform_downloads_{portal}", {"list": listing}, 0, now)


def seed_demo_data(now: int) -> list[DemoUser]:
    """The bootstrap (`python -m fxcrm.ops bootstrap`, with the demo admin as its first
    admin and a known password), then the demo on top: channel details, downloads and
    the other demo users that do not exist yet. Returns the users created."""
    from fxcrm.auth.accounts import new_user
    from fxcrm.core.settings import get_settings
    from fxcrm.dal import kyc, users
    from fxcrm.ops import bootstrap

    first, *others = DEMO_USERS
    # the demo's logins are printed, so its admin has no one-time password to replace
    admin = bootstrap.Admin(first.email, first.first_name, first.last_name, first.password, must_change_password=False)
    report = bootstrap.run(get_settings(), admin, now)
    enable_demo_channels()
    seed_downloads(now)

    created = [first] if report.parts[0].created else []
    for demo in others:
        if users.find_user_id_by_email(demo.email) is not None:
            continue
        ib_id = users.find_ib_by_referral_code(demo.invited_by) if demo.invited_by else None
        user = new_user(
            demo.email,
            demo.password,
            demo.user_type,
            demo.role,
            now,
            first_name=demo.first_name,
            last_name=demo.last_name,
            referral_code=demo.referral_code,
            invite_code=demo.invited_by,
            ib_id=ib_id,
        )
        users.create_user(user)
        if demo.kyc_approved:
            kyc.set_kyc_status(int(user["id"]), "approved", now)
        created.append(demo)
    return created

"""Demo data for the local cloud: a staff admin, a support agent, an IB and two clients
(client1 has approved KYC, so it can apply for live accounts)."""

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


LEVERAGES = [50, 100, 200, 500]

# (id, name, demo?, record type, MT group) per platform; ids are 1xx for MT4, 2xx for MT5.
ACCOUNT_TYPES = [
    (1, "Standard", True, "normal", "demo\\standard"),
    (2, "Standard", False, "normal", "real\\standard"),
    (3, "ECN", False, "normal", "real\\ecn"),
    (4, "Bonus", False, "deposit_only", "real\\bonus"),
]

DOWNLOADS = {
    "client": [("MetaTrader 4", "The classic forex terminal"), ("MetaTrader 5", "Multi-asset terminal")],
    "ib": [("MetaTrader 5", "Multi-asset terminal"), ("MT5 Manager", "For partners who manage client accounts")],
}


CURRENCIES = [
    ("USD", "US Dollar", "美元", ["bank_transfer", "international_wire_transfer"]),
    ("EUR", "Euro", "欧元", ["bank_transfer", "international_wire_transfer"]),
    ("GBP", "Pound Sterling", "英镑", ["international_wire_transfer"]),
    ("USDT", "Tether", "泰达币", ["cryptocurrency"]),
    ("BTC", "Bitcoin", "比特币", ["cryptocurrency"]),
]
EXCHANGE_RATES = {"USD": "1", "EUR": "0.92", "GBP": "0.79", "USDT": "1", "BTC": "0.0000105"}
BANK_INFO = "Beneficiary: Broker Ltd · IBAN GB33BUKB20201555555555 · SWIFT BUKBGB22 · quote the order number"
# (id, name, method, min, max, fixed fee, percent fee, currencies, account info)
DEPOSIT_CHANNELS = [
    (1, "Bank transfer", "bank_transfer", "50", "50000", "0", "0", ["USD", "EUR"], BANK_INFO),
    (
        2,
        "International wire",
        "international_wire_transfer",
        "500",
        "100000",
        "0",
        "0",
        ["USD", "EUR", "GBP"],
        BANK_INFO,
    ),
    (
        3,
        "USDT (TRC20)",
        "cryptocurrency",
        "10",
        "100000",
        "0",
        "0",
        ["USD", "USDT"],
        "TQn9Y2khEsLJW1ChVWFMSMeRDow5KcbLSE",
    ),
    (4, "Crypto (online)", "cryptocurrency", "10", "20000", "0", "0", ["USD"], ""),
]
# Paid through the payment provider (PAYMENT_PROVIDER; locally the stand-in page), credited
# on its callback; staff review an online deposit above this amount.
ONLINE_DEPOSIT_CHANNELS = {4: {"kind": "online", "review_above": "10000.00"}}
WITHDRAWAL_CHANNELS = [
    (11, "Bank transfer", "bank_transfer", "50", "20000", "0", "1", ["USD", "EUR"], ""),
    (12, "International wire", "international_wire_transfer", "200", "50000", "25", "0", ["USD", "EUR", "GBP"], ""),
    (13, "Crypto", "cryptocurrency", "10", "50000", "1", "0", ["USDT", "BTC"], ""),
    (14, "Crypto (online)", "cryptocurrency", "10", "20000", "1", "0", ["USDT"], ""),
]
ONLINE_WITHDRAWAL_CHANNELS = {14: {"kind": "online"}}  # paid out through the payment provider


def seed_funding() -> None:
    """Currencies, exchange rates, channels and the transfer threshold."""
    from fxcrm.dal import funding, settings_items

    settings_items.put_setting(
        "currencies",
        {"list": [{"code": c, "name": {"en": en, "zh": zh}, "methods": m} for c, en, zh, m in CURRENCIES]},
        0,
        0,
    )
    settings_items.put_setting("exchange_rates", {"rates": EXCHANGE_RATES}, 0, 0)
    settings_items.put_setting(
        "funding", {"transfer_approval_threshold": "1000.00", "two_approvals_above": "5000.00"}, 0, 0
    )
    for direction, rows in (("deposit", DEPOSIT_CHANNELS), ("withdrawal", WITHDRAWAL_CHANNELS)):
        for channel_id, name, method, low, high, fixed, percent, currencies, info in rows:
            funding.put_channel(
                direction,
                {
                    "id": channel_id,
                    "name": name,
                    "method": method,
                    "min_amount": low,
                    "max_amount": high,
                    "fee_fixed": fixed,
                    "fee_percent": percent,
                    "allowed_currencies": currencies,
                    "allowed_countries": [] if direction == "withdrawal" else ["GB", "DE", "FR", "SG", "AE", "TH"],
                    "account_info": info,
                    "icon_url": f"https://static.broker.example.com/channels/{method}.svg",
                    "enabled": True,
                }
                | (ONLINE_DEPOSIT_CHANNELS if direction == "deposit" else ONLINE_WITHDRAWAL_CHANNELS).get(
                    channel_id, {}
                ),
            )


def _slug(name: str) -> str:
    return name.lower().replace(" ", "-")


def seed_catalogue(now: int) -> None:
    """Account types, platform downloads and funding reference data, as staff would configure them."""
    from datetime import UTC, datetime

    from fxcrm.dal import settings_items, trading

    for offset, platform in ((100, "MT4"), (200, "MT5")):
        for number, name, is_demo, record_type, group in ACCOUNT_TYPES:
            trading.put_account_type(
                {
                    "id": offset + number,
                    "name": name,
                    "is_demo": is_demo,
                    "trading_platform": platform,
                    "record_type": record_type,
                    "group": group,
                    "leverage_options": [{"id": i + 1, "value": v} for i, v in enumerate(LEVERAGES)],
                }
            )
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
    seed_funding()


def seed_demo_data(now: int) -> list[DemoUser]:
    """Create the demo users that do not exist yet, and the catalogue; returns the users created."""
    from fxcrm.auth.accounts import new_user
    from fxcrm.dal import kyc, users

    seed_catalogue(now)

    created = []
    for demo in DEMO_USERS:
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

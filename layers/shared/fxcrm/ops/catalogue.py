"""The default catalogue a fresh stack is bootstrapped with: what a broker
needs before anyone can log in and work, all editable by staff afterwards.

Channels are created disabled and without payment details: a client must
never be shown a bank account or wallet the broker has not entered itself
(a `controller` fills them in and enables them, `PUT /admin/funding/channels/...`)."""

from typing import Any

LEVERAGES = [50, 100, 200, 500]

# (id, name, demo?, record type, MT group) per platform; ids are 1xx for MT4, 2xx for MT5.
ACCOUNT_TYPES = [
    (1, "Standard", True, "normal", "demo\\standard"),
    (2, "Standard", False, "normal", "real\\standard"),
    (3, "ECN", False, "normal", "real\\ecn"),
    (4, "Bonus", False, "deposit_only", "real\\bonus"),
]
PLATFORMS = ((100, "MT4"), (200, "MT5"))

CURRENCIES = [
    ("USD", "US Dollar", "美元", ["bank_transfer", "international_wire_transfer"]),
    ("EUR", "Euro", "欧元", ["bank_transfer", "international_wire_transfer"]),
    ("GBP", "Pound Sterling", "英镑", ["international_wire_transfer"]),
    ("USDT", "Tether", "泰达币", ["cryptocurrency"]),
    ("BTC", "Bitcoin", "比特币", ["cryptocurrency"]),
]
# Units per USD; staff keep them current (`PUT /admin/funding/exchange-rates`).
EXCHANGE_RATES = {"USD": "1", "EUR": "0.92", "GBP": "0.79", "USDT": "1", "BTC": "0.0000105"}
FUNDING = {"transfer_approval_threshold": "1000.00", "two_approvals_above": "5000.00"}

# (id, name, method, min, max, fixed fee, percent fee, currencies)
DEPOSIT_CHANNELS = [
    (1, "Bank transfer", "bank_transfer", "50", "50000", "0", "0", ["USD", "EUR"]),
    (2, "International wire", "international_wire_transfer", "500", "100000", "0", "0", ["USD", "EUR", "GBP"]),
    (3, "USDT (TRC20)", "cryptocurrency", "10", "100000", "0", "0", ["USD", "USDT"]),
    (4, "Crypto (online)", "cryptocurrency", "10", "20000", "0", "0", ["USD"]),
]
WITHDRAWAL_CHANNELS = [
    (11, "Bank transfer", "bank_transfer", "50", "20000", "0", "1", ["USD", "EUR"]),
    (12, "International wire", "international_wire_transfer", "200", "50000", "25", "0", ["USD", "EUR", "GBP"]),
    (13, "Crypto", "cryptocurrency", "10", "50000", "1", "0", ["USDT", "BTC"]),
    (14, "Crypto (online)", "cryptocurrency", "10", "20000", "1", "0", ["USDT"]),
]
# Paid through the payment provider (PaymentProvider); staff review an online deposit above this amount.
ONLINE = {
    ("deposit", 4): {"kind": "online", "review_above": "10000.00"},
    ("withdrawal", 14): {"kind": "online"},
}


def account_types() -> list[dict[str, Any]]:
    return [
        {
            "id": offset + number,
            "name": name,
            "is_demo": is_demo,
            "trading_platform": platform,
            "record_type": record_type,
            "group": group,
            "leverage_options": [{"id": i + 1, "value": v} for i, v in enumerate(LEVERAGES)],
        }
        for offset, platform in PLATFORMS
        for number, name, is_demo, record_type, group in ACCOUNT_TYPES
    ]


def channels() -> list[tuple[str, dict[str, Any]]]:
    """(direction, channel) for every default channel: disabled, with no payment details."""
    rows = [("deposit", row) for row in DEPOSIT_CHANNELS] + [("withdrawal", row) for row in WITHDRAWAL_CHANNELS]
    return [
        (
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
                "allowed_countries": [],
                "account_info": "",
                "icon_url": "",
                "enabled": False,
            }
            | ONLINE.get((direction, channel_id), {}),
        )
        for direction, (channel_id, name, method, low, high, fixed, percent, currencies) in rows
    ]


def currencies() -> dict[str, Any]:
    return {"list": [{"code": c, "name": {"en": en, "zh": zh}, "methods": m} for c, en, zh, m in CURRENCIES]}

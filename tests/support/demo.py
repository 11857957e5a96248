"""What every tier's tests use of the seeded demo system (localcloud/seed.py):
its users' credentials and the request bodies that open accounts."""

from typing import Any

# (email, password) of the seeded users
ADMIN = ("admin@broker.example.com", "Admin-demo-2026")
SUPPORT = ("support@broker.example.com", "Support-demo-2026")
CONTROLLER = ("controller@broker.example.com", "Controller-demo-2026")
CLIENT1 = ("client1@broker.example.com", "Client-demo-2026")  # KYC approved, a client of the demo IB
CLIENT2 = ("client2@broker.example.com", "Client-demo-2026")
IB = ("ib@broker.example.com", "Ib-demo-2026")

# `POST /trading-accounts`: a demo account (MT5 Standard, 10,000.00 demo funds)
DEMO_ACCOUNT: dict[str, Any] = {
    "currency": "USD",
    "is_demo": True,
    "leverage": 100,
    "password": "Trade-Pass1",
    "trading_account_type_id": 201,
    "trading_platform": "MT5",
}
# `POST /trading-accounts/applications`: a live account (MT5 Standard), opened once staff approve
LIVE_APPLICATION: dict[str, Any] = {
    "currency": "USD",
    "leverage": 100,
    "password": "Live-Pass1",
    "trading_account_type_id": 202,
    "trading_platform": "MT5",
}
